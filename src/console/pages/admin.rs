//! The administrators' pages: people's accounts (created with a one-time password, their role changed, disabled or
//! enabled, their password reset) and partner-portal clients (created, renamed, their scopes changed, disabled or
//! enabled, their secret rotated). A password or a secret is shown once, in the answer to the form that made it,
//! and never again: only its hash is kept. The same use-cases as `/v1/users` and `/v1/clients`, which audit them,
//! with the same rules (the API's own parsers read the forms).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::app::accounts::{self, NewPassword};
use crate::app::{AppError, members};
use crate::auth::{ClientScope, Role};
use crate::console::form::Posted;
use crate::console::query::{self, param};
use crate::console::render::{see_other, text};
use crate::console::{Access, ConsoleError, Ctx, Page, page};
use crate::domain::FieldError;
use crate::domain::parse::ApiEnum as _;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::{clients as client_fields, users as user_fields};

pub const PAGES: &[Page] = &[
    page!("GET", "/console/admin", Access::Admin, overview),
    page!("GET", "/console/admin/users/new", Access::Admin, new_user_form),
    page!("POST", "/console/admin/users", Access::Admin, create_user),
    page!("GET", "/console/admin/users/{id}", Access::Admin, user_page),
    page!("POST", "/console/admin/users/{id}/role", Access::Admin, change_role),
    page!("POST", "/console/admin/users/{id}/disabled", Access::Admin, set_user_disabled),
    page!("POST", "/console/admin/users/{id}/password-reset", Access::Admin, reset_password),
    page!("GET", "/console/admin/clients/new", Access::Admin, new_client_form),
    page!("POST", "/console/admin/clients", Access::Admin, create_client),
    page!("GET", "/console/admin/clients/{id}", Access::Admin, client_page),
    page!("POST", "/console/admin/clients/{id}", Access::Admin, update_client),
    page!("POST", "/console/admin/clients/{id}/secret", Access::Admin, rotate_secret),
];

/// Accounts a page of the list shows.
pub const USERS_PAGE: i64 = 50;
/// Clients a page of the list shows.
pub const CLIENTS_PAGE: i64 = 50;
/// The linked members a client's page names (the others are counted).
pub const MEMBERS_SHOWN: i64 = 100;

/// The fields of the account forms, and of the client forms: an error about any other goes above the form.
const USER_FIELDS: &[&str] = &["email", "role", "member_id"];
const CLIENT_FIELDS: &[&str] = &["name", "scopes"];

fn overview_link(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs.iter().copied().filter(|(_, v)| !v.is_empty()).collect();
    if kept.is_empty() {
        return "/console/admin".to_owned();
    }
    format!("/console/admin?{}", url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish())
}

fn roles() -> Vec<&'static str> {
    Role::ALL.iter().map(|r| r.as_str()).collect()
}

fn scopes() -> Vec<&'static str> {
    ClientScope::ALL.iter().map(|s| s.as_str()).collect()
}

/// Field errors by the form field they are about (`/scopes/1` is about `scopes`); errors about anything else go to
/// `general`, with the field's name.
fn by_field(errors: &[FieldError], fields: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for e in errors {
        let name = e.pointer.trim_start_matches('/').split('/').next().unwrap_or("");
        let (key, detail) = if fields.contains(&name) {
            (name, e.detail.clone())
        } else if name.is_empty() {
            ("general", e.detail.clone())
        } else {
            ("general", format!("{name}: {}", e.detail))
        };
        match out.get_mut(key) {
            Some(Value::String(all)) => {
                all.push_str("; ");
                all.push_str(&detail);
            }
            _ => {
                out.insert(key.to_owned(), Value::String(detail));
            }
        }
    }
    out
}

/// What a form's fields say is wrong, by field; anything but a validation failure is a bad request.
fn invalid_fields(e: ApiError, fields: &[&str]) -> Result<Map<String, Value>, ConsoleError> {
    match e {
        ApiError::Validation { errors, .. } => Ok(by_field(&errors, fields)),
        other => Err(ConsoleError::BadRequest(other.to_string())),
    }
}

fn one_error(key: &str, message: String) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(key.to_owned(), Value::String(message));
    out
}

fn user_id(ctx: &Ctx, raw: &str) -> Result<Uuid, ConsoleError> {
    Uuid::parse_str(raw).map_err(|_| ConsoleError::NotFound(text(ctx.lang, "admin.no_account")))
}

/// A yes/no field of a form (`true` or `false`).
fn flag(ctx: &Ctx, form: &Posted, name: &str) -> Result<bool, ConsoleError> {
    match form.get(name) {
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        _ => Err(ConsoleError::BadRequest(text(ctx.lang, "admin.bad_form"))),
    }
}

/// The notice a page shows after a change was made (`?done=`).
fn done(ctx: &Ctx, req: &HttpRequest, known: &[&str]) -> Option<String> {
    let pairs = query::pairs(req.query_string(), &[]);
    param(&pairs, "done").filter(|d| known.contains(d)).map(|d| text(ctx.lang, &format!("admin.done_{d}")))
}

/// `GET /console/admin`: the accounts (filtered by `role`, paged by `after`) and the portal clients (paged by
/// `clients_after`).
pub async fn overview(ctx: Ctx, state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let pairs = query::pairs(req.query_string(), &[]);
    let role = match param(&pairs, "role") {
        Some(r) => Some(Role::from_name(r).ok_or_else(|| ConsoleError::BadRequest(text(ctx.lang, "admin.bad_role")))?),
        None => None,
    };
    let after = match param(&pairs, "after") {
        Some(a) => Some(Uuid::parse_str(a).map_err(|_| ConsoleError::BadRequest(text(ctx.lang, "admin.bad_page")))?),
        None => None,
    };
    let clients_after = param(&pairs, "clients_after").map(str::to_owned);
    let mut users = accounts::users(&state, role, after, USERS_PAGE).await?;
    let more_users = users.len() as i64 > USERS_PAGE;
    users.truncate(USERS_PAGE as usize);
    let mut clients = accounts::clients(&state, clients_after.clone(), CLIENTS_PAGE).await?;
    let more_clients = clients.len() as i64 > CLIENTS_PAGE;
    clients.truncate(CLIENTS_PAGE as usize);
    let role_name = role.map(Role::as_str).unwrap_or("");
    let next_users = more_users
        .then(|| users.last().map(|u| overview_link(&[("role", role_name), ("after", &u.id.to_string())])))
        .flatten();
    let next_clients = more_clients
        .then(|| clients.last().map(|c| overview_link(&[("role", role_name), ("clients_after", &c.client.client_id)])))
        .flatten();
    ctx.page(
        "admin.html",
        json!({
            "users": users.iter().map(crate::db::accounts::User::to_json).collect::<Vec<_>>(),
            "clients": clients.iter().map(|v| v.client.to_json(&v.members)).collect::<Vec<_>>(),
            "roles": roles(),
            "role": role_name,
            "first_users": after.is_some().then(|| overview_link(&[("role", role_name)])),
            "next_users": next_users,
            "first_clients": clients_after.is_some().then(|| overview_link(&[("role", role_name)])),
            "next_clients": next_clients,
        }),
    )
}

fn new_user_page(
    ctx: &Ctx,
    status: StatusCode,
    values: &Value,
    errors: &Map<String, Value>,
) -> Result<HttpResponse, ConsoleError> {
    ctx.page_with_status(status, "admin_user_new.html", json!({"roles": roles(), "values": values, "errors": errors}))
}

/// `GET /console/admin/users/new`
pub async fn new_user_form(ctx: Ctx) -> Result<HttpResponse, ConsoleError> {
    new_user_page(&ctx, StatusCode::OK, &json!({"role": "staff"}), &Map::new())
}

/// `POST /console/admin/users`: `email`, `role`, `member_id` (a member account's organisation); the answer shows
/// the account's one-time password, this once.
pub async fn create_user(ctx: Ctx, state: web::Data<AppState>, form: Posted) -> Result<HttpResponse, ConsoleError> {
    let values = json!({
        "email": form.raw("email").unwrap_or(""),
        "role": form.get("role").unwrap_or(""),
        "member_id": form.get("member_id").unwrap_or(""),
    });
    let mut body = json!({"email": values["email"], "role": values["role"]});
    if let Some(member) = form.get("member_id") {
        body["member_id"] = json!(member);
    }
    let (email, role, member_id) = match user_fields::new_user(&body) {
        Ok(fields) => fields,
        Err(e) => {
            return new_user_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &values, &invalid_fields(e, USER_FIELDS)?);
        }
    };
    let actor = ctx.actor()?;
    match accounts::create_user(&state, &actor, email, role, member_id, NewPassword::OneTime).await {
        Ok((user, Some(password))) => ctx.page_with_status(
            StatusCode::CREATED,
            "admin_secret.html",
            json!({"kind": "user_created", "user": user.to_json(), "password": password}),
        ),
        Ok((_, None)) => Err(ConsoleError::Internal(anyhow::anyhow!("a new account came without a one-time password"))),
        Err(AppError::Invalid(errors)) => {
            new_user_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &values, &by_field(&errors, USER_FIELDS))
        }
        Err(AppError::Conflict(message)) => {
            new_user_page(&ctx, StatusCode::CONFLICT, &values, &one_error("email", message))
        }
        Err(e) => Err(e.into()),
    }
}

/// An account's page with its forms; `errors` by form (`role`, `member_id`, `disabled`, `password`).
async fn user_view(
    ctx: &Ctx,
    state: &AppState,
    id: Uuid,
    status: StatusCode,
    errors: Map<String, Value>,
    values: Value,
    done: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let user = accounts::user(state, id).await?;
    let member = match user.member_id {
        Some(m) => members::get(state, m).await.ok().map(|m| json!({"id": m.id, "name": m.profile.name})),
        None => None,
    };
    let own = ctx.current()?.user.id == id;
    ctx.page_with_status(
        status,
        "admin_user.html",
        json!({
            "u": user.to_json(),
            "member": member,
            "own": own,
            "roles": roles(),
            "errors": errors,
            "values": values,
            "done": done,
        }),
    )
}

/// `GET /console/admin/users/{id}`
pub async fn user_page(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ConsoleError> {
    let id = user_id(&ctx, &path)?;
    let done = done(&ctx, &req, &["role", "disabled", "enabled"]);
    user_view(&ctx, &state, id, StatusCode::OK, Map::new(), json!({}), done).await
}

/// `POST /console/admin/users/{id}/role`: `role`, and `member_id` for a member account (blank keeps the member an
/// account already has).
pub async fn change_role(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let id = user_id(&ctx, &path)?;
    let values = json!({"role": form.get("role").unwrap_or(""), "member_id": form.get("member_id").unwrap_or("")});
    let mut body = json!({"role": values["role"]});
    if let Some(member) = form.get("member_id") {
        body["member_id"] = json!(member);
    }
    let change = match user_fields::user_change(&body) {
        Ok(change) => change,
        Err(e) => {
            let errors = invalid_fields(e, USER_FIELDS)?;
            return user_view(&ctx, &state, id, StatusCode::UNPROCESSABLE_ENTITY, errors, values, None).await;
        }
    };
    match accounts::update_user(&state, &ctx.actor()?, id, change).await {
        Ok(_) => Ok(see_other(&format!("/console/admin/users/{id}?done=role"))),
        Err(AppError::Invalid(errors)) => {
            let errors = by_field(&errors, USER_FIELDS);
            user_view(&ctx, &state, id, StatusCode::UNPROCESSABLE_ENTITY, errors, values, None).await
        }
        Err(AppError::Conflict(message)) => {
            user_view(&ctx, &state, id, StatusCode::CONFLICT, one_error("role", message), values, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/admin/users/{id}/disabled`: `disabled` true or false. Disabling ends the account's sessions and
/// tokens.
pub async fn set_user_disabled(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let id = user_id(&ctx, &path)?;
    let disabled = flag(&ctx, &form, "disabled")?;
    let change = accounts::UserChange { disabled: Some(disabled), ..Default::default() };
    match accounts::update_user(&state, &ctx.actor()?, id, change).await {
        Ok(_) => {
            let done = if disabled { "disabled" } else { "enabled" };
            Ok(see_other(&format!("/console/admin/users/{id}?done={done}")))
        }
        Err(AppError::Conflict(message)) => {
            user_view(&ctx, &state, id, StatusCode::CONFLICT, one_error("disabled", message), json!({}), None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/admin/users/{id}/password-reset`: a new one-time password, shown this once; the account's
/// sessions and tokens end.
pub async fn reset_password(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let id = user_id(&ctx, &path)?;
    match accounts::reset_password(&state, &ctx.actor()?, id).await {
        Ok(password) => {
            let user = accounts::user(&state, id).await?;
            ctx.page("admin_secret.html", json!({"kind": "user_reset", "user": user.to_json(), "password": password}))
        }
        Err(AppError::Conflict(message)) => {
            user_view(&ctx, &state, id, StatusCode::CONFLICT, one_error("password", message), json!({}), None).await
        }
        Err(e) => Err(e.into()),
    }
}

fn new_client_page(
    ctx: &Ctx,
    status: StatusCode,
    values: &Value,
    errors: &Map<String, Value>,
) -> Result<HttpResponse, ConsoleError> {
    ctx.page_with_status(
        status,
        "admin_client_new.html",
        json!({"scopes": scopes(), "values": values, "errors": errors}),
    )
}

/// `GET /console/admin/clients/new`
/// The form carries the id the client will get, chosen when the form is shown: sent twice (a reload of the answer),
/// it creates one client.
pub async fn new_client_form(ctx: Ctx) -> Result<HttpResponse, ConsoleError> {
    let values = json!({"name": "", "scopes": [], "client_id": accounts::new_client_id()});
    new_client_page(&ctx, StatusCode::OK, &values, &Map::new())
}

/// The name and scopes a client form gives, as the API's body.
fn client_body(form: &Posted) -> (Value, Value) {
    let values = json!({"name": form.raw("name").unwrap_or(""), "scopes": form.all("scope")});
    let body = json!({"name": values["name"], "scopes": values["scopes"]});
    (values, body)
}

/// `POST /console/admin/clients`: `name`, each `scope` ticked and the `client_id` the form was shown with; the
/// answer shows the client's id and secret, the secret this once. The same form sent again (a reload) leads to the
/// client made the first time, whose secret is not shown again.
pub async fn create_client(ctx: Ctx, state: web::Data<AppState>, form: Posted) -> Result<HttpResponse, ConsoleError> {
    let chosen_id = form.raw("client_id").filter(|id| accounts::is_client_id(id)).map(str::to_owned);
    let (mut values, body) = client_body(&form);
    values["client_id"] = json!(chosen_id.clone().unwrap_or_else(accounts::new_client_id));
    let (name, chosen) = match client_fields::new_client(&body) {
        Ok(fields) => fields,
        Err(e) => {
            return new_client_page(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                &values,
                &invalid_fields(e, CLIENT_FIELDS)?,
            );
        }
    };
    let (client, secret) = match accounts::create_client(&state, &ctx.actor()?, chosen_id.clone(), name, chosen).await {
        Ok(made) => made,
        Err(AppError::Conflict(_)) if let Some(id) = chosen_id => {
            return Ok(see_other(&format!("/console/admin/clients/{id}?done=created_before")));
        }
        Err(e) => return Err(e.into()),
    };
    ctx.page_with_status(
        StatusCode::CREATED,
        "admin_secret.html",
        json!({"kind": "client_created", "client": client.to_json(&[]), "secret": secret}),
    )
}

/// A client's page with its linked members and its forms.
async fn client_view(
    ctx: &Ctx,
    state: &AppState,
    id: String,
    status: StatusCode,
    errors: Map<String, Value>,
    values: Option<Value>,
    done: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let view = accounts::client(state, id.clone()).await?;
    let linked = accounts::client_members(state, id, MEMBERS_SHOWN).await?;
    let linked: Vec<Value> = linked.iter().map(|m| json!({"id": m.id, "name": m.profile.name})).collect();
    let client = view.client.to_json(&view.members);
    let values = values.unwrap_or_else(|| json!({"name": client["name"], "scopes": client["scopes"]}));
    ctx.page_with_status(
        status,
        "admin_client.html",
        json!({
            "c": client,
            "linked": linked,
            "unnamed": view.members.len().saturating_sub(linked.len()),
            "scopes": scopes(),
            "values": values,
            "errors": errors,
            "done": done,
        }),
    )
}

/// `GET /console/admin/clients/{id}`
pub async fn client_page(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ConsoleError> {
    let done = done(&ctx, &req, &["saved", "disabled", "enabled", "created_before"]);
    client_view(&ctx, &state, path.into_inner(), StatusCode::OK, Map::new(), None, done).await
}

/// `POST /console/admin/clients/{id}`: either `disabled` (true or false), or `name` and each `scope` ticked. Narrower
/// scopes or disabling end the client's tokens.
pub async fn update_client(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let id = path.into_inner();
    let (values, body, done) = if form.raw("disabled").is_some() {
        let disabled = flag(&ctx, &form, "disabled")?;
        (None, json!({"disabled": disabled}), if disabled { "disabled" } else { "enabled" })
    } else {
        let (values, body) = client_body(&form);
        (Some(values), body, "saved")
    };
    let change = match client_fields::client_change(&body) {
        Ok(change) => change,
        Err(e) => {
            let errors = invalid_fields(e, CLIENT_FIELDS)?;
            return client_view(&ctx, &state, id, StatusCode::UNPROCESSABLE_ENTITY, errors, values, None).await;
        }
    };
    let view = accounts::update_client(&state, &ctx.actor()?, id, change).await?;
    Ok(see_other(&format!("/console/admin/clients/{}?done={done}", view.client.client_id)))
}

/// `POST /console/admin/clients/{id}/secret`: a new secret, shown this once; the old one stops working, and so do
/// the tokens issued with it.
pub async fn rotate_secret(
    ctx: Ctx,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let id = path.into_inner();
    let secret = accounts::rotate_secret(&state, &ctx.actor()?, id.clone()).await?;
    let view = accounts::client(&state, id).await?;
    ctx.page(
        "admin_secret.html",
        json!({"kind": "client_rotated", "client": view.client.to_json(&view.members), "secret": secret}),
    )
}
