#![deny(clippy::too_many_lines)]
//! HTTP layer: one route table that registration, authorisation, the 405 answers, the contract test and the
//! authorisation-matrix test all read.

pub mod audit;
pub mod auth;
pub mod clients;
pub mod digests;
pub mod error;
pub mod extract;
pub mod health;
pub mod introductions;
pub mod limits;
pub mod matches;
pub mod members;
pub mod portals;
pub mod projects;
pub mod review;
pub mod users;
pub mod vocabulary;
pub mod webhooks;

use std::net::IpAddr;

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, Route, web};
use uuid::Uuid;

use crate::app;
use crate::auth::policy::{Access, Decision, Record, decide};
use crate::auth::service::{AuthError, authenticate};
use crate::auth::{Caller, ClientScope};
use crate::http::error::ApiError;

/// What every handler can reach: the use-cases' services.
pub type AppState = crate::app::Services;

/// One route: method, path template (the same syntax as the OpenAPI document), who may call it, and its handler.
#[derive(Debug, Clone, Copy)]
pub struct RouteDef {
    pub method: &'static str,
    pub path: &'static str,
    /// The OpenAPI `operationId`.
    pub operation: &'static str,
    pub access: Access,
    handler: fn() -> Route,
}

const READ: Option<ClientScope> = Some(ClientScope::MembersRead);
const WRITE: Option<ClientScope> = Some(ClientScope::MembersWrite);

macro_rules! route {
    ($method:literal, $path:literal, $operation:literal, $access:expr, $handler:path) => {
        RouteDef {
            method: $method,
            path: $path,
            operation: $operation,
            access: $access,
            handler: || web::route().to($handler),
        }
    };
}

/// Every route the service serves, with who may call it. Adding one here without describing it in
/// `api-spec/openapi.yaml`, or without rows in the authorisation-matrix test, fails the test suite.
pub const ROUTES: &[RouteDef] = &[
    route!("GET", "/health/live", "getLiveness", Access::Public, health::live),
    route!("GET", "/health/ready", "getReadiness", Access::Public, health::ready),
    route!("POST", "/v1/auth/token", "issueToken", Access::Public, auth::token),
    route!("GET", "/.well-known/jwks.json", "getJwks", Access::Public, auth::jwks),
    route!("POST", "/v1/auth/password", "changePassword", Access::PasswordChange, auth::change_password),
    route!("POST", "/v1/auth/logout", "logout", Access::SignedIn, auth::logout),
    route!(
        "GET",
        "/v1/members",
        "listMembers",
        Access::MemberDirectory { portal_scope: ClientScope::MembersRead },
        members::list
    ),
    route!(
        "POST",
        "/v1/members",
        "createMember",
        Access::MemberCreate { portal_scope: ClientScope::MembersWrite },
        members::create
    ),
    route!("GET", "/v1/members/{id}", "getMember", Access::OwnMember { portal_scope: READ }, members::get),
    route!("GET", "/v1/members/{id}/export", "exportMember", Access::OwnMember { portal_scope: READ }, members::export),
    route!("PATCH", "/v1/members/{id}", "updateMember", Access::OwnMember { portal_scope: WRITE }, members::update),
    route!("DELETE", "/v1/members/{id}", "deleteMember", Access::OwnMember { portal_scope: None }, members::delete),
    route!(
        "GET",
        "/v1/members/{id}/portals",
        "listMemberPortals",
        Access::OwnMember { portal_scope: None },
        portals::list
    ),
    route!(
        "PUT",
        "/v1/members/{id}/portals/{client_id}",
        "linkPortal",
        Access::OwnMember { portal_scope: None },
        portals::link
    ),
    route!(
        "DELETE",
        "/v1/members/{id}/portals/{client_id}",
        "unlinkPortal",
        Access::OwnMember { portal_scope: None },
        portals::unlink
    ),
    route!("GET", "/v1/users", "listUsers", Access::Admin, users::list),
    route!("POST", "/v1/users", "createUser", Access::Admin, users::create),
    route!("GET", "/v1/users/{id}", "getUser", Access::Admin, users::get),
    route!("PATCH", "/v1/users/{id}", "updateUser", Access::Admin, users::update),
    route!("POST", "/v1/users/{id}/password-reset", "resetUserPassword", Access::Admin, users::reset_password),
    route!("GET", "/v1/clients", "listClients", Access::Admin, clients::list),
    route!("POST", "/v1/clients", "createClient", Access::Admin, clients::create),
    route!("GET", "/v1/clients/{id}", "getClient", Access::Admin, clients::get),
    route!("PATCH", "/v1/clients/{id}", "updateClient", Access::Admin, clients::update),
    route!("POST", "/v1/clients/{id}/secret", "rotateClientSecret", Access::Admin, clients::rotate_secret),
    route!("GET", "/v1/audit", "listAudit", Access::Staff, audit::list),
    route!(
        "GET",
        "/v1/members/{id}/matches/projects",
        "matchProjectsForMember",
        Access::OwnMember { portal_scope: READ },
        matches::projects_for_member
    ),
    route!(
        "GET",
        "/v1/members/{id}/matches/partners",
        "matchPartnersForMember",
        Access::Staff,
        matches::partners_for_member
    ),
    route!(
        "GET",
        "/v1/projects",
        "listProjects",
        Access::Catalogue { portal_scope: ClientScope::MembersRead },
        projects::list
    ),
    route!(
        "POST",
        "/v1/projects",
        "createProject",
        Access::ProjectWrite { portal_scope: ClientScope::MembersWrite },
        projects::create
    ),
    route!("POST", "/v1/projects/import", "importCalls", Access::Staff, projects::import),
    route!("GET", "/v1/imports", "listImports", Access::Staff, projects::imports),
    route!("POST", "/v1/imports/sync", "syncCalls", Access::Staff, projects::sync),
    route!("GET", "/v1/imports/{id}", "getImport", Access::Staff, projects::get_import),
    route!(
        "GET",
        "/v1/projects/{id}",
        "getProject",
        Access::Catalogue { portal_scope: ClientScope::MembersRead },
        projects::get
    ),
    route!(
        "PATCH",
        "/v1/projects/{id}",
        "updateProject",
        Access::ProjectWrite { portal_scope: ClientScope::MembersWrite },
        projects::update
    ),
    route!(
        "DELETE",
        "/v1/projects/{id}",
        "deleteProject",
        Access::ProjectWrite { portal_scope: ClientScope::MembersWrite },
        projects::delete
    ),
    route!(
        "GET",
        "/v1/projects/{id}/matches/members",
        "matchMembersForProject",
        Access::Staff,
        matches::members_for_project
    ),
    route!("GET", "/v1/projects/{id}/consortia", "proposeConsortia", Access::Staff, matches::consortia),
    route!("POST", "/v1/projects/{id}/let-in", "letCallIn", Access::Staff, projects::let_in),
    route!("POST", "/v1/projects/{id}/follow-import", "followImport", Access::Staff, projects::follow_import),
    route!(
        "GET",
        "/v1/vocabulary/search",
        "searchVocabulary",
        Access::Catalogue { portal_scope: ClientScope::MembersRead },
        vocabulary::search
    ),
    route!(
        "GET",
        "/v1/vocabulary/concept",
        "getConcept",
        Access::Catalogue { portal_scope: ClientScope::MembersRead },
        vocabulary::concept
    ),
    route!("GET", "/v1/vocabulary/unmapped", "listUnmappedTerms", Access::Staff, vocabulary::unmapped),
    route!("GET", "/v1/vocabulary/synonyms", "listSynonyms", Access::Staff, vocabulary::synonyms),
    route!("POST", "/v1/vocabulary/synonyms", "addSynonym", Access::Staff, vocabulary::add_synonym),
    route!("DELETE", "/v1/vocabulary/synonyms/{id}", "removeSynonym", Access::Staff, vocabulary::remove_synonym),
    route!("GET", "/v1/vocabulary/merges", "listMerges", Access::Staff, vocabulary::merges),
    route!("POST", "/v1/vocabulary/merges", "mergeConcepts", Access::Staff, vocabulary::merge),
    route!("DELETE", "/v1/vocabulary/merges", "undoMerge", Access::Staff, vocabulary::unmerge),
    route!("POST", "/v1/matching/runs", "startMatchingRun", Access::Staff, review::start_run),
    route!("GET", "/v1/matching/runs/{id}", "getMatchingRun", Access::Staff, review::get_run),
    route!("GET", "/v1/review/queue", "listReviewQueue", Access::Staff, review::queue),
    route!("POST", "/v1/suggestions/decisions", "decideSuggestions", Access::Staff, review::decide_bulk),
    route!("GET", "/v1/suggestions/{id}", "getSuggestion", SUGGESTION_READ, review::get),
    route!("POST", "/v1/suggestions/{id}/decision", "decideSuggestion", Access::Staff, review::decide),
    route!("POST", "/v1/suggestions/{id}/reaction", "reactToSuggestion", SUGGESTION_REACT, review::react),
    route!("DELETE", "/v1/suggestions/{id}/reaction", "undoReaction", SUGGESTION_REACT, review::undo_reaction),
    route!("POST", "/v1/suggestions/{id}/outcomes", "recordOutcome", SUGGESTION_OUTCOME, review::record_outcome),
    route!(
        "POST",
        "/v1/suggestions/{id}/introduction",
        "requestIntroduction",
        SUGGESTION_REACT,
        introductions::request
    ),
    route!("GET", "/v1/introductions", "listIntroductions", Access::Staff, introductions::list),
    route!("GET", "/v1/introductions/{id}", "getIntroduction", Access::Staff, introductions::get),
    route!("POST", "/v1/introductions/{id}/introduce", "introduce", Access::Staff, introductions::introduce),
    route!("POST", "/v1/introductions/{id}/close", "closeIntroduction", Access::Staff, introductions::close),
    route!("POST", "/v1/messages/{id}/retry", "retryMessage", Access::Staff, introductions::retry_message),
    route!("GET", "/v1/reactions", "listReactions", Access::Staff, review::reactions),
    route!("GET", "/v1/stats/suggestions", "suggestionFunnel", Access::Staff, review::funnel),
    route!(
        "GET",
        "/v1/members/{id}/suggestions",
        "listMemberSuggestions",
        Access::OwnMember { portal_scope: Some(ClientScope::SuggestionsRead) },
        review::for_member
    ),
    route!(
        "GET",
        "/v1/members/{id}/digests",
        "listMemberDigests",
        Access::OwnMember { portal_scope: Some(ClientScope::SuggestionsRead) },
        digests::for_member
    ),
    route!("GET", "/v1/members/{id}/digest-preview", "previewDigest", Access::Staff, digests::preview),
    route!("GET", "/v1/digests", "listDigests", Access::Staff, digests::list),
    route!("GET", "/v1/digests/{id}", "getDigest", DIGEST_READ, digests::get),
    route!("POST", "/v1/digests/{id}/retry", "retryDigest", Access::Staff, digests::retry),
    route!("GET", "/v1/unsubscribe", "showUnsubscribe", Access::Public, digests::confirm_unsubscribe),
    route!("POST", "/v1/unsubscribe", "unsubscribe", Access::Public, digests::unsubscribe),
    route!("GET", "/v1/suggestion-page", "showSuggestionPage", Access::Public, digests::show_suggestion_page),
    route!("POST", "/v1/suggestion-page", "answerSuggestionPage", Access::Public, digests::answer_suggestion_page),
    route!("GET", "/v1/webhooks", "listWebhooks", Access::Webhooks, webhooks::list),
    route!("POST", "/v1/webhooks", "createWebhook", Access::Webhooks, webhooks::create),
    route!("GET", "/v1/webhooks/{id}", "getWebhook", Access::Webhooks, webhooks::get),
    route!("PATCH", "/v1/webhooks/{id}", "updateWebhook", Access::Webhooks, webhooks::update),
    route!("POST", "/v1/webhooks/{id}/secret", "rotateWebhookSecret", Access::Webhooks, webhooks::rotate_secret),
    route!("GET", "/v1/webhooks/{id}/deliveries", "listWebhookDeliveries", Access::Webhooks, webhooks::deliveries),
    route!(
        "POST",
        "/v1/webhooks/{id}/deliveries/{delivery_id}/resend",
        "resendWebhookDelivery",
        Access::Webhooks,
        webhooks::resend
    ),
    route!("GET", "/v1/introduction-page", "showConsentPage", Access::Public, introductions::show_consent_page),
    route!("POST", "/v1/introduction-page", "answerConsentPage", Access::Public, introductions::answer_consent_page),
];

const SUGGESTION_READ: Access =
    Access::OwnRecord { record: Record::Suggestion, portal_scope: ClientScope::SuggestionsRead, staff: true };
const SUGGESTION_REACT: Access =
    Access::OwnRecord { record: Record::Suggestion, portal_scope: ClientScope::SuggestionsReact, staff: false };
/// What came of a suggestion: the member's word, its portal's, or staff's.
const SUGGESTION_OUTCOME: Access =
    Access::OwnRecord { record: Record::Suggestion, portal_scope: ClientScope::SuggestionsReact, staff: true };
const DIGEST_READ: Access =
    Access::OwnRecord { record: Record::Digest, portal_scope: ClientScope::SuggestionsRead, staff: true };

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap_or(Method::GET)
}

/// The bearer token of a request; 401 without one.
fn bearer(headers: &actix_web::http::header::HeaderMap) -> Result<&str, ApiError> {
    let Some(value) = headers.get(actix_web::http::header::AUTHORIZATION) else { return Err(ApiError::no_token()) };
    let value = value.to_str().map_err(|_| ApiError::invalid_token("the Authorization header is malformed"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(ApiError::no_token()),
    }
}

/// The member the record of a route's `{id}` belongs to, where the route's access depends on it.
async fn owner_of(state: &AppState, access: Access, req: &ServiceRequest) -> Result<Option<Uuid>, ApiError> {
    let id = req.match_info().get("id");
    Ok(match (access, id) {
        (Access::OwnMember { .. }, Some(id)) => Uuid::parse_str(id).ok(),
        (Access::OwnRecord { record: Record::Suggestion, .. }, Some(id)) => {
            app::review::owner(state, id.to_owned()).await?
        }
        (Access::OwnRecord { record: Record::Digest, .. }, Some(id)) => {
            app::digests::owner(state, id.to_owned()).await?
        }
        _ => None,
    })
}

/// Whether a calling portal is linked to `member`.
async fn portal_linked(state: &AppState, caller: &Caller, member: Option<Uuid>) -> Result<bool, ApiError> {
    match (caller, member) {
        (Caller::Portal { client_id, .. }, Some(member)) => {
            Ok(app::accounts::is_linked(state, client_id.clone(), member).await?)
        }
        _ => Ok(false),
    }
}

/// Authenticate and authorise a request before its handler runs; the verified [`Caller`] is left in the request's
/// extensions for the handler.
async fn guard(
    access: Access,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("application state missing")))?;
    let token = bearer(req.headers())?;
    let caller = authenticate(&state.auth, &state.pool, &state.accounts, token, state.clock.now()).await.map_err(
        |e| match e {
            AuthError::Refused(why) => ApiError::invalid_token(why),
            AuthError::Storage(db) => ApiError::from(db),
        },
    )?;
    let member = owner_of(&state, access, &req).await?;
    let linked = portal_linked(&state, &caller, member).await?;
    match decide(access, &caller, member, linked) {
        Decision::Allow => {
            req.extensions_mut().insert(caller);
            next.call(req).await
        }
        Decision::NotFound => Err(ApiError::NotFound("there is nothing here for you".to_owned()).into()),
        Decision::Forbidden(why) => Err(ApiError::Forbidden(why.to_owned()).into()),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    /// The caller the route's guard verified. A handler on a public route asking for it gets 401.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(req.extensions().get::<Caller>().cloned().ok_or_else(ApiError::no_token))
    }
}

/// The client address: the peer, or the right-most untrusted `X-Forwarded-For` hop behind a trusted proxy.
pub fn client_ip(req: &HttpRequest, state: &AppState) -> Option<IpAddr> {
    let forwarded: Vec<&str> = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    crate::auth::address::client_address(req.peer_addr().map(|a| a.ip()), &forwarded, &state.auth.trusted_proxies)
}

/// One route of the table for one method, behind the guard unless it is public.
fn route(r: &RouteDef, m: Method) -> Route {
    let route = (r.handler)().method(m);
    let path = r.path;
    let route = if r.access == Access::Public {
        route
    } else {
        let access = r.access;
        route.wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| guard(access, req, next)))
    };
    route.wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| counted(path, req, next)))
}

/// Count the request in the metrics by its route template (refusals by the guard included).
async fn counted(
    path: &'static str,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let (started, method) = (std::time::Instant::now(), req.method().to_string());
    let answered = next.call(req).await;
    let status = match &answered {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    crate::metrics::request(path, &method, status.as_u16(), started.elapsed());
    answered
}

/// Every route of one path (GET also answers HEAD); another method answers 405 with `Allow`.
fn resource(path: &'static str) -> actix_web::Resource {
    let routes: Vec<&RouteDef> = ROUTES.iter().filter(|r| r.path == path).collect();
    let mut allow: Vec<Method> = Vec::new();
    let mut resource = web::resource(path);
    for r in routes {
        let mut methods = vec![method(r.method)];
        if r.method == "GET" {
            methods.push(Method::HEAD);
        }
        for m in methods {
            allow.push(m.clone());
            resource = resource.route(route(r, m));
        }
    }
    resource.default_service(web::to(move |req: HttpRequest| {
        let allow = allow.clone();
        async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed { method: req.method().clone(), allow }) }
    }))
}

/// Register every route of [`ROUTES`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for r in ROUTES {
        if !paths.contains(&r.path) {
            paths.push(r.path);
            cfg.service(resource(r.path));
        }
    }
}

/// Anything that matched no route.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!("there is nothing at {}", req.path())))
}
