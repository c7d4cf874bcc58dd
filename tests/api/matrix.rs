//! The authorisation matrix: every route of the route table, called by every kind of caller, each time against
//! fresh fixtures, on both backends. The expected statuses are written out here rather than read from the code's own
//! table, and no successful answer to a member or a portal may mention another member (a project another member
//! leads included: its `lead_member_id` is shown only to staff, the lead and the lead's portals).

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use matchmaker::auth::{ClientScope, Role};
use matchmaker::http::ROUTES;
use matchmaker::matching::Vocabulary;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::contract;
use crate::helpers::{Account, FIXTURE_PASSWORD, Portal, Reply, TestApp, studio};
use crate::matching::{GRAPHIC_DESIGN, MODELING_3D};
use crate::on_both_backends;

on_both_backends!(every_route_answers_every_caller_as_the_matrix_says);

/// The kinds of caller, in the column order of [`EXPECTED`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anon,
    /// Role member, tied to member A.
    MemberA,
    /// Role member, tied to member B.
    MemberB,
    /// A portal linked to A, with members:read, members:write, suggestions:read, suggestions:react and
    /// webhooks:manage.
    PortalA,
    /// A portal with the same five scopes, linked to a third member C only.
    PortalOther,
    /// A portal linked to A with suggestions:read only.
    PortalANoScope,
    Staff,
    Admin,
}

const CALLERS: [Caller; 8] = [
    Caller::Anon,
    Caller::MemberA,
    Caller::MemberB,
    Caller::PortalA,
    Caller::PortalOther,
    Caller::PortalANoScope,
    Caller::Staff,
    Caller::Admin,
];

impl Caller {
    fn name(self) -> &'static str {
        match self {
            Self::Anon => "anon",
            Self::MemberA => "member_a",
            Self::MemberB => "member_b",
            Self::PortalA => "portal_a",
            Self::PortalOther => "portal_other",
            Self::PortalANoScope => "portal_a_noscope",
            Self::Staff => "staff",
            Self::Admin => "admin",
        }
    }
}

/// What each caller gets, per route (method and path template exactly as in the route table).
#[rustfmt::skip]
const EXPECTED: &[(&str, &str, [u16; 8])] = &[
    //                                                        member  member  portal  portal  portal_a
    //                                                  anon  _a      _b      _a      _other  _noscope  staff  admin
    ("GET",    "/health/live",                         [200,  200,    200,    200,    200,    200,      200,   200]),
    ("GET",    "/health/ready",                        [200,  200,    200,    200,    200,    200,      200,   200]),
    ("POST",   "/v1/auth/token",                       [200,  200,    200,    200,    200,    200,      200,   200]),
    ("GET",    "/.well-known/jwks.json",               [200,  200,    200,    200,    200,    200,      200,   200]),
    ("POST",   "/v1/auth/password",                    [401,  204,    204,    403,    403,    403,      204,   204]),
    ("POST",   "/v1/auth/logout",                      [401,  204,    204,    204,    204,    204,      204,   204]),
    ("GET",    "/v1/members",                          [401,  200,    200,    200,    200,    403,      200,   200]),
    ("POST",   "/v1/members",                          [401,  403,    403,    201,    201,    403,      201,   201]),
    ("GET",    "/v1/members/{id}",                     [401,  200,    404,    200,    404,    403,      200,   200]),
    ("GET",    "/v1/members/{id}/export",              [401,  200,    404,    200,    404,    403,      200,   200]),
    ("PATCH",  "/v1/members/{id}",                     [401,  200,    404,    200,    404,    403,      200,   200]),
    ("DELETE", "/v1/members/{id}",                     [401,  204,    404,    403,    404,    403,      204,   204]),
    ("GET",    "/v1/members/{id}/portals",             [401,  200,    404,    403,    404,    403,      200,   200]),
    ("PUT",    "/v1/members/{id}/portals/{client_id}", [401,  204,    404,    403,    404,    403,      204,   204]),
    ("DELETE", "/v1/members/{id}/portals/{client_id}", [401,  204,    404,    403,    404,    403,      204,   204]),
    ("GET",    "/v1/users",                            [401,  403,    403,    403,    403,    403,      403,   200]),
    ("POST",   "/v1/users",                            [401,  403,    403,    403,    403,    403,      403,   201]),
    ("GET",    "/v1/users/{id}",                       [401,  403,    403,    403,    403,    403,      403,   200]),
    ("PATCH",  "/v1/users/{id}",                       [401,  403,    403,    403,    403,    403,      403,   200]),
    ("POST",   "/v1/users/{id}/password-reset",        [401,  403,    403,    403,    403,    403,      403,   200]),
    ("GET",    "/v1/clients",                          [401,  403,    403,    403,    403,    403,      403,   200]),
    ("POST",   "/v1/clients",                          [401,  403,    403,    403,    403,    403,      403,   201]),
    ("GET",    "/v1/clients/{id}",                     [401,  403,    403,    403,    403,    403,      403,   200]),
    ("PATCH",  "/v1/clients/{id}",                     [401,  403,    403,    403,    403,    403,      403,   200]),
    ("POST",   "/v1/clients/{id}/secret",              [401,  403,    403,    403,    403,    403,      403,   200]),
    ("GET",    "/v1/audit",                            [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/members/{id}/matches/projects",    [401,  200,    404,    200,    404,    403,      200,   200]),
    ("GET",    "/v1/members/{id}/matches/partners",    [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/projects",                         [401,  200,    200,    200,    200,    403,      200,   200]),
    ("POST",   "/v1/projects",                         [401,  201,    403,    201,    403,    403,      201,   201]),
    ("POST",   "/v1/projects/import",                  [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/imports",                          [401,  403,    403,    403,    403,    403,      200,   200]),
    ("POST",   "/v1/imports/sync",                     [401,  403,    403,    403,    403,    403,      202,   202]),
    ("GET",    "/v1/imports/{id}",                     [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/projects/{id}",                    [401,  200,    200,    200,    200,    403,      200,   200]),
    ("PATCH",  "/v1/projects/{id}",                    [401,  200,    403,    200,    403,    403,      200,   200]),
    ("DELETE", "/v1/projects/{id}",                    [401,  204,    403,    204,    403,    403,      204,   204]),
    ("GET",    "/v1/projects/{id}/matches/members",    [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/projects/{id}/consortia",          [401,  403,    403,    403,    403,    403,      200,   200]),
    ("POST",   "/v1/projects/{id}/let-in",             [401,  403,    403,    403,    403,    403,      200,   200]),
    ("POST",   "/v1/projects/{id}/follow-import",      [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/vocabulary/search",                [401,  200,    200,    200,    200,    403,      200,   200]),
    ("GET",    "/v1/vocabulary/concept",               [401,  200,    200,    200,    200,    403,      200,   200]),
    ("GET",    "/v1/vocabulary/unmapped",              [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/vocabulary/synonyms",              [401,  403,    403,    403,    403,    403,      200,   200]),
    ("POST",   "/v1/vocabulary/synonyms",              [401,  403,    403,    403,    403,    403,      201,   201]),
    ("DELETE", "/v1/vocabulary/synonyms/{id}",         [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/vocabulary/merges",                [401,  403,    403,    403,    403,    403,      200,   200]),
    ("POST",   "/v1/vocabulary/merges",                [401,  403,    403,    403,    403,    403,      200,   200]),
    ("DELETE", "/v1/vocabulary/merges",                [401,  403,    403,    403,    403,    403,      200,   200]),
    ("POST",   "/v1/matching/runs",                    [401,  403,    403,    403,    403,    403,      202,   202]),
    ("GET",    "/v1/matching/runs/{id}",               [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/review/queue",                     [401,  403,    403,    403,    403,    403,      200,   200]),
    ("POST",   "/v1/suggestions/decisions",            [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/suggestions/{id}",                 [401,  200,    404,    200,    404,    200,      200,   200]),
    ("POST",   "/v1/suggestions/{id}/decision",        [401,  403,    403,    403,    403,    403,      200,   200]),
    ("POST",   "/v1/suggestions/{id}/reaction",        [401,  200,    404,    200,    404,    403,      403,   403]),
    ("DELETE", "/v1/suggestions/{id}/reaction",        [401,  204,    404,    204,    404,    403,      403,   403]),
    ("POST",   "/v1/suggestions/{id}/outcomes",        [401,  201,    404,    201,    404,    403,      201,   201]),
    ("POST",   "/v1/suggestions/{id}/introduction",    [401,  201,    404,    201,    404,    403,      403,   403]),
    ("GET",    "/v1/introductions",                    [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/introductions/{id}",               [401,  403,    403,    403,    403,    403,      200,   200]),
    ("POST",   "/v1/introductions/{id}/introduce",     [401,  403,    403,    403,    403,    403,      200,   200]),
    ("POST",   "/v1/introductions/{id}/close",         [401,  403,    403,    403,    403,    403,      200,   200]),
    ("POST",   "/v1/messages/{id}/retry",              [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/reactions",                        [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/stats/suggestions",                [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/members/{id}/suggestions",         [401,  200,    404,    200,    404,    200,      200,   200]),
    ("GET",    "/v1/members/{id}/digests",             [401,  200,    404,    200,    404,    200,      200,   200]),
    ("GET",    "/v1/members/{id}/digest-preview",      [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/digests",                          [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/digests/{id}",                     [401,  200,    404,    200,    404,    200,      200,   200]),
    ("POST",   "/v1/digests/{id}/retry",               [401,  403,    403,    403,    403,    403,      200,   200]),
    ("GET",    "/v1/unsubscribe",                      [200,  200,    200,    200,    200,    200,      200,   200]),
    ("POST",   "/v1/unsubscribe",                      [200,  200,    200,    200,    200,    200,      200,   200]),
    ("GET",    "/v1/suggestion-page",                  [200,  200,    200,    200,    200,    200,      200,   200]),
    ("POST",   "/v1/suggestion-page",                  [200,  200,    200,    200,    200,    200,      200,   200]),
    ("GET",    "/v1/introduction-page",                [200,  200,    200,    200,    200,    200,      200,   200]),
    ("POST",   "/v1/introduction-page",                [200,  200,    200,    200,    200,    200,      200,   200]),
    ("GET",    "/v1/webhooks",                         [401,  403,    403,    200,    200,    403,      403,   200]),
    ("POST",   "/v1/webhooks",                         [401,  403,    403,    201,    201,    403,      403,   403]),
    ("GET",    "/v1/webhooks/{id}",                    [401,  403,    403,    200,    404,    403,      403,   200]),
    ("PATCH",  "/v1/webhooks/{id}",                    [401,  403,    403,    200,    404,    403,      403,   200]),
    ("POST",   "/v1/webhooks/{id}/secret",             [401,  403,    403,    200,    404,    403,      403,   403]),
    ("GET",    "/v1/webhooks/{id}/deliveries",         [401,  403,    403,    200,    404,    403,      403,   200]),
    ("POST",   "/v1/webhooks/{id}/deliveries/{delivery_id}/resend",
                                                       [401,  403,    403,    202,    404,    403,      403,   202]),
];

fn expected(method: &str, path: &str) -> Option<[u16; 8]> {
    EXPECTED.iter().find(|(m, p, _)| *m == method && *p == path).map(|(_, _, statuses)| *statuses)
}

#[test]
fn matrix_rows_and_route_table_name_the_same_routes() {
    let routes: BTreeSet<(&str, &str)> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
    let rows: BTreeSet<(&str, &str)> = EXPECTED.iter().map(|(m, p, _)| (*m, *p)).collect();
    assert_eq!(rows.len(), EXPECTED.len(), "the matrix has a route twice");
    let missing: Vec<_> = routes.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&routes).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the authorisation matrix and the route table disagree.\n\
         routes with no row in the matrix: {missing:?}\n\
         rows for routes the service no longer has: {stale:?}"
    );
}

/// A member organisation made for one cell, and the strings that would give it away.
struct Org {
    id: Uuid,
    contact_email: String,
    /// The e-mail of the member account tied to it, if any.
    account_email: Option<String>,
}

impl Org {
    fn secrets(&self, label: &str) -> Vec<(String, String)> {
        let mut out = vec![
            (format!("{label}'s member id"), self.id.to_string()),
            (format!("{label}'s contact e-mail"), self.contact_email.clone()),
        ];
        if let Some(email) = &self.account_email {
            out.push((format!("{label}'s account e-mail"), email.clone()));
        }
        out
    }
}

/// Everything one cell of the matrix needs, made fresh for it.
struct Fixtures {
    a: Org,
    b: Org,
    c: Org,
    member_a: Account,
    member_b: Account,
    portal_a: Portal,
    portal_other: Portal,
    portal_a_noscope: Portal,
    staff: Account,
    admin: Account,
    /// A staff account for the `/v1/users/{id}` routes to act on.
    bystander: Account,
    /// A project A leads, made by the seeded administrator, for the routes about projects (made for those only, as
    /// it takes a while).
    project: Option<Uuid>,
    /// Suggestions and digests of A, for the routes about review and digests (made for those only).
    review: Option<ReviewFixtures>,
    /// A synonym and a merge staff made, for the routes that take one back (made for those only).
    edits: Option<StaffEdits>,
    /// An import in the log, for the route that reads one (made for it only).
    import: Option<String>,
    /// An endpoint of portal A and a delivery to it about A that went out, for the routes about one endpoint (made
    /// for those only).
    webhook: Option<(String, String)>,
    tag: String,
}

/// A's records for the review and digest routes, written straight to the database.
struct ReviewFixtures {
    run: String,
    /// A → B, pending.
    pending: String,
    /// A → B, approved, with A's reaction (`contacted`).
    approved: String,
    /// A's digest of 2026-W48, sent.
    digest: String,
    /// A's digest of 2026-W47, failed.
    failed: String,
    /// A's unsubscribe token.
    token: String,
    /// The token of the page of A's approved suggestion.
    page: String,
    /// A's request to be introduced to B (from another approved suggestion), waiting for staff.
    introduction: String,
    /// The token of B's consent page for a third request of A, which B has not answered.
    consent: String,
    /// A consent request to B that failed for good.
    failed_message: String,
}

/// A synonym and a merge as staff would have made them, written straight to the database.
struct StaffEdits {
    synonym: Option<String>,
    merged_from: Option<String>,
}

/// Whether the cells of a route take back a staff edit.
fn about_staff_edits(method: &str, path: &str) -> bool {
    path == "/v1/vocabulary/synonyms/{id}" || (method == "DELETE" && path == "/v1/vocabulary/merges")
}

/// For a cell of `path`: a synonym of graphic design, or a merge of two spare concepts (not the pair `caller`'s
/// `POST /v1/vocabulary/merges` cell merges).
fn staff_edits(app: &TestApp, caller: Caller, path: &str, tag: &str) -> StaffEdits {
    use matchmaker::clock::Clock;
    use matchmaker::db::vocabulary;
    use matchmaker::matching::vocabulary::Lang;

    let now = app.clock.now();
    let mut conn = app.pool.get().unwrap();
    if path.starts_with("/v1/vocabulary/synonyms") {
        let label = format!("Matrixsynonym {tag}");
        let id = vocabulary::insert_label(&mut conn, GRAPHIC_DESIGN, Lang::De, &label, "user:matrix", now).unwrap();
        return StaffEdits { synonym: Some(id), merged_from: None };
    }
    let (from, into) = merge_pair(caller, CALLERS.len());
    vocabulary::insert_merge(&mut conn, &from, &into, "user:matrix", now).unwrap();
    StaffEdits { synonym: None, merged_from: Some(from) }
}

/// Whether the cells of a route need [`ReviewFixtures`].
fn about_review(path: &str) -> bool {
    [
        "/v1/matching",
        "/v1/review",
        "/v1/suggestions",
        "/v1/reactions",
        "/v1/digests",
        "/v1/unsubscribe",
        "/v1/suggestion-page",
        "/v1/introduction",
        "/v1/messages",
    ]
    .iter()
    .any(|p| path.starts_with(p))
        || path.ends_with("/suggestions")
        || path.ends_with("/export")
        || path.contains("/digest")
}

fn review_fixtures(app: &TestApp, a: Uuid, b: Uuid) -> ReviewFixtures {
    use diesel::RunQueryDsl;
    use matchmaker::clock::Clock;
    use matchmaker::db::digests::DigestRow;
    use matchmaker::db::suggestions::{self, SuggestionRow};
    use matchmaker::db::{introductions, runs};
    use matchmaker::domain::version::Precondition;
    use matchmaker::review::{Decision, Reaction, SuggestionKind};

    let now = app.clock.now();
    let mut conn = app.pool.get().unwrap();
    let run = Uuid::now_v7().to_string();
    runs::insert(&mut conn, &run, "user:matrix", now).unwrap();
    let suggestion = |target: String| {
        SuggestionRow::new_pending(
            SuggestionKind::Partner,
            a,
            target,
            None,
            Some(b),
            &run,
            77.0,
            json!({"components": [{"name": "their_offers_for_your_needs", "score": 77.0, "weight": 0.4}], "matched": [], "missing": []})
                .to_string(),
            "You complement each other.".to_owned(),
            now,
        )
    };
    let pending = suggestion(b.to_string());
    suggestions::insert(&mut conn, &pending, "run:matrix").unwrap();
    let approved = suggestion(format!("{}-approved", b));
    suggestions::insert(&mut conn, &approved, "run:matrix").unwrap();
    let yes = Decision { approve: true, reason: None, rationale: None };
    suggestions::decide(&mut conn, &approved.id, &Precondition::Any, &yes, "user:matrix", now).unwrap();
    suggestions::react(&mut conn, &approved.id, Reaction::Contacted, None, None, "user:matrix", now).unwrap();
    let mut digest = |week: &str, status: &str| {
        let id = Uuid::now_v7().to_string();
        let row = DigestRow {
            message_id: format!("<digest.{id}@matrix.example>"),
            id,
            member_id: a.to_string(),
            week: week.to_owned(),
            recipient: "matrix@example.org".to_owned(),
            language: "en".to_owned(),
            subject: "Your suggestions".to_owned(),
            html: "<p>Hello</p>".to_owned(),
            text: "Hello".to_owned(),
            status: status.to_owned(),
            attempts: 1,
            next_attempt_at: now.naive_utc(),
            lease_owner: None,
            lease_until: None,
            last_error: (status == "failed").then(|| "550 mailbox unavailable".to_owned()),
            sent_at: (status == "sent").then(|| now.naive_utc()),
            version: 1,
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        };
        diesel::insert_into(matchmaker::db::schema::digests::table).values(&row).execute(&mut conn).unwrap();
        row.id
    };
    let (digest, failed) = (digest("2026-W48", "sent"), digest("2026-W47", "failed"));
    let token = app.jobs.mailer.key.token(a);
    let expires = now + chrono::TimeDelta::weeks(8);
    let page = app.jobs.mailer.key.suggestion_token(
        matchmaker::digest::token::LinkPurpose::React,
        approved.id.parse().unwrap(),
        a,
        expires,
    );
    let mut introduction = |target: &str, status: &str| {
        let s = suggestion(format!("{b}-{target}"));
        suggestions::insert(&mut conn, &s, "run:matrix").unwrap();
        suggestions::decide(&mut conn, &s.id, &Precondition::Any, &yes, "user:matrix", now).unwrap();
        let row = introductions::IntroductionRow {
            id: Uuid::now_v7().to_string(),
            suggestion_id: s.id,
            member_id: a.to_string(),
            counterpart_id: Some(b.to_string()),
            status: status.to_owned(),
            note: Some("Shall we?".to_owned()),
            requested_by: format!("member:{a}"),
            requested_at: now.naive_utc(),
            consent_until: Some((now + chrono::TimeDelta::weeks(4)).naive_utc()),
            answered_at: None,
            done_by: None,
            done_at: None,
            staff_note: None,
            version: 1,
            updated_at: now.naive_utc(),
        };
        introductions::insert(&mut conn, &row).unwrap();
        row.id
    };
    let requested = introduction("introduce", "requested");
    let asked = introduction("consent", "awaiting_consent");
    let consent = app.jobs.mailer.key.suggestion_token(
        matchmaker::digest::token::LinkPurpose::Consent,
        asked.parse().unwrap(),
        b,
        now + chrono::TimeDelta::weeks(4),
    );
    let failed_message = Uuid::now_v7().to_string();
    let mut row = matchmaker::db::messages::MessageRow::queued(
        &failed_message,
        "consent_request",
        Some(&asked),
        "matrix.example",
        &["consent@matrix.example"],
        "en",
        ("Asked".to_owned(), "<p>Asked</p>".to_owned(), "Asked".to_owned()),
        now.naive_utc(),
        now.naive_utc(),
    );
    row.status = "failed".to_owned();
    row.last_error = Some("550 mailbox unavailable".to_owned());
    matchmaker::db::messages::insert(&mut conn, &row).unwrap();
    ReviewFixtures {
        failed_message,
        run,
        pending: pending.id,
        approved: approved.id,
        digest,
        failed,
        token,
        page,
        introduction: requested,
        consent,
    }
}

async fn organisation(app: &TestApp, name: &str, contact_email: &str) -> Uuid {
    let mut body = studio(name);
    body["contact_email"] = json!(contact_email);
    let (created, _, _) = app.create_member(&body).await;
    created["id"].as_str().unwrap().parse().unwrap()
}

/// A project `lead` leads, as the seeded administrator makes it.
async fn project_led_by(app: &TestApp, lead: Uuid, title: &str) -> Uuid {
    let reply = app.post("/v1/projects", &project_body(title, lead)).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()["id"].as_str().unwrap().parse().unwrap()
}

fn project_body(title: &str, lead: Uuid) -> Value {
    json!({
        "title": title,
        "scope": "european",
        "required_skills": [{"term": "graphic design", "weight": 3}],
        "lead_member_id": lead,
    })
}

/// Whether the cells of a route need the project P: the project routes, and the rankings, which list projects.
fn about_projects(path: &str) -> bool {
    path.starts_with("/v1/projects") || path.contains("/matches/")
}

impl Fixtures {
    async fn new(app: &TestApp, caller: Caller, (method, path): (&str, &str)) -> Self {
        let (with_project, with_review) = (about_projects(path), about_review(path));
        let tag = Uuid::new_v4().simple().to_string();
        let short = &tag[..12];
        let contact = |who: &str| format!("contact-{who}-{short}@studio-{who}.example.lu");
        let (a_mail, b_mail, c_mail) = (contact("a"), contact("b"), contact("c"));
        let names =
            [format!("Atelier Aurore {short}"), format!("Bureau Boréal {short}"), format!("Collectif Cendre {short}")];
        let (a, b, c) = tokio::join!(
            organisation(app, &names[0], &a_mail),
            organisation(app, &names[1], &b_mail),
            organisation(app, &names[2], &c_mail),
        );
        let all = [
            ClientScope::MembersRead,
            ClientScope::MembersWrite,
            ClientScope::SuggestionsRead,
            ClientScope::SuggestionsReact,
            ClientScope::WebhooksManage,
        ];
        let project =
            if with_project { Some(project_led_by(app, a, &format!("Projet phare {short}")).await) } else { None };
        if let (Some(id), true) = (project, path.ends_with("/follow-import")) {
            app.mark_imported(id, &format!("MATRIX-{short}"), &["title"]);
        }
        let member_a = app.user(Role::Member, Some(a));
        let member_b = app.user(Role::Member, Some(b));
        let review = with_review.then(|| review_fixtures(app, a, b));
        let edits = about_staff_edits(method, path).then(|| staff_edits(app, caller, path, short));
        let import = path.starts_with("/v1/imports/").then(|| {
            let now = matchmaker::clock::Clock::now(app.clock.as_ref());
            let row = matchmaker::db::imports::ImportRow::new("file", "cli", (now, now), Err("matrix".to_owned()));
            matchmaker::db::imports::insert(&mut app.pool.get().unwrap(), &row).unwrap();
            row.id
        });
        let portal_a = app.portal(&all, &[a]);
        let webhook = path.starts_with("/v1/webhooks/").then(|| webhook_fixture(app, &portal_a.client_id, a));
        Self {
            a: Org { id: a, contact_email: a_mail, account_email: Some(member_a.email.clone()) },
            b: Org { id: b, contact_email: b_mail, account_email: Some(member_b.email.clone()) },
            c: Org { id: c, contact_email: c_mail, account_email: None },
            member_a,
            member_b,
            portal_a,
            portal_other: app.portal(&all, &[c]),
            portal_a_noscope: app.portal(&[ClientScope::SuggestionsRead], &[a]),
            staff: app.user(Role::Staff, None),
            admin: app.user(Role::Admin, None),
            bystander: app.user(Role::Staff, None),
            project,
            review,
            edits,
            import,
            webhook,
            tag,
        }
    }

    fn webhook(&self) -> &(String, String) {
        self.webhook.as_ref().expect("the fixtures of a route about one endpoint include one")
    }

    fn review(&self) -> &ReviewFixtures {
        self.review.as_ref().expect("the fixtures of a route about review include its records")
    }

    fn edits(&self) -> &StaffEdits {
        self.edits.as_ref().expect("the fixtures of a route that takes back a staff edit include one")
    }

    fn project(&self) -> Uuid {
        self.project.expect("the fixtures of a route about projects include the project")
    }

    fn token(&self, caller: Caller) -> Option<&str> {
        match caller {
            Caller::Anon => None,
            Caller::MemberA => Some(&self.member_a.token),
            Caller::MemberB => Some(&self.member_b.token),
            Caller::PortalA => Some(&self.portal_a.token),
            Caller::PortalOther => Some(&self.portal_other.token),
            Caller::PortalANoScope => Some(&self.portal_a_noscope.token),
            Caller::Staff => Some(&self.staff.token),
            Caller::Admin => Some(&self.admin.token),
        }
    }

    /// What must not appear in a successful answer to `caller`: the members it has no business seeing.
    fn not_for(&self, caller: Caller) -> Vec<(String, String)> {
        let orgs: Vec<(&Org, &str)> = match caller {
            Caller::Anon => vec![(&self.a, "A"), (&self.b, "B"), (&self.c, "C")],
            Caller::MemberA | Caller::PortalA | Caller::PortalANoScope => vec![(&self.b, "B"), (&self.c, "C")],
            Caller::MemberB => vec![(&self.a, "A"), (&self.c, "C")],
            Caller::PortalOther => vec![(&self.a, "A"), (&self.b, "B")],
            Caller::Staff | Caller::Admin => vec![],
        };
        orgs.into_iter().flat_map(|(org, label)| org.secrets(label)).collect()
    }
}

enum Body {
    Empty,
    Json(Value),
    MergePatch(Value),
    Form(Vec<(&'static str, String)>),
    Csv(String),
}

/// One concrete request.
struct Call {
    method: Method,
    path: String,
    if_match: Option<&'static str>,
    body: Body,
}

impl Call {
    fn new(method: Method, path: String) -> Self {
        Self { method, path, if_match: None, body: Body::Empty }
    }

    fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    fn merge_patch(mut self, body: Value) -> Self {
        self.body = Body::MergePatch(body);
        self
    }

    fn if_match_any(mut self) -> Self {
        self.if_match = Some("*");
        self
    }
}

/// The header of a Funding & Tenders export.
const CALLS_HEADER: &str = "identifier,title,action_type,type_of_mga_description,submission_procedure,start_date,\
                            deadline,deadline2,budget_min,budget_max,project_number,path_id,reference,description,\
                            mission_details,destination_details,beneficiary_administration,further_information,duration";

/// Two concepts for `caller`'s merge (after `skip` pairs) that no other cell merges, no fixture names, and outside any hierarchy. A merge
/// changes the vocabulary every later cell of the same app sees, and the same merge a second time is refused, as both
/// ids then name one concept; so each column takes its own pair of the shipped vocabulary.
fn merge_pair(caller: Caller, skip: usize) -> (String, String) {
    let vocabulary = Vocabulary::shipped_shared().unwrap();
    let column = skip + CALLERS.iter().position(|c| *c == caller).unwrap();
    let mut spare = vocabulary
        .concept_ids()
        .filter(|(_, c)| c.broader.is_empty() && c.narrower.is_empty())
        .map(|(_, c)| c.id.as_str())
        .filter(|id| ![GRAPHIC_DESIGN, MODELING_3D].contains(id));
    let from = spare.nth(2 * column).unwrap().to_owned();
    let into = spare.next().unwrap().to_owned();
    (from, into)
}

/// An endpoint of `client` and a delivery to it about `member` that went out, written straight to the database.
fn webhook_fixture(app: &TestApp, client: &str, member: Uuid) -> (String, String) {
    use matchmaker::clock::Clock;
    use matchmaker::db::webhooks::{self, DeliveryRow, EndpointRow};

    let now = app.clock.now().naive_utc();
    let mut conn = app.pool.get().unwrap();
    let endpoint = EndpointRow::new(
        client,
        "https://portal-a.example.lu/hooks",
        "member.updated suggestion.delivered".to_owned(),
        matchmaker::webhook::sign::new_secret().unwrap(),
        now,
    );
    webhooks::insert_endpoint(&mut conn, &endpoint).unwrap();
    let body = json!({"type": "member.updated", "timestamp": "2026-11-27T08:00:00.000000Z",
                      "data": {"member_id": member, "changed": {"city": "Esch-sur-Alzette"}}});
    let mut delivery =
        DeliveryRow::queued(&endpoint.id, &member.to_string(), None, "member.updated", body.to_string(), now, now);
    delivery.status = "sent".to_owned();
    delivery.attempts = 1;
    delivery.sent_at = Some(now);
    delivery.last_status = Some(204);
    webhooks::insert_delivery(&mut conn, &delivery).unwrap();
    (endpoint.id, delivery.id)
}

/// The request that exercises a route: a valid one, so that only the caller decides the answer. (Only the merge
/// differs between callers, in the concepts it names.)
fn call_for(method: &str, path: &str, fx: &Fixtures, caller: Caller) -> Option<Call> {
    let a = fx.a.id;
    let tag = &fx.tag;
    let call = match (method, path) {
        (
            "GET",
            "/health/live"
            | "/health/ready"
            | "/.well-known/jwks.json"
            | "/v1/members"
            | "/v1/users"
            | "/v1/clients"
            | "/v1/audit"
            | "/v1/imports",
        ) => Call::new(Method::GET, path.to_owned()),
        // Narrowed to P (its title has the tag), which the first page would not show among the other cells' projects.
        ("GET", "/v1/projects") => Call::new(Method::GET, format!("/v1/projects?q={}", &tag[..12])),
        ("POST", "/v1/auth/token") => Call {
            body: Body::Form(vec![
                ("grant_type", "client_credentials".to_owned()),
                ("client_id", fx.portal_a.client_id.clone()),
                ("client_secret", fx.portal_a.secret.clone()),
            ]),
            ..Call::new(Method::POST, path.to_owned())
        },
        ("POST", "/v1/auth/password") => Call::new(Method::POST, path.to_owned())
            .json(json!({"current_password": FIXTURE_PASSWORD, "new_password": "Lantern-Quarry-Mosaic-Ferns-2031"})),
        ("POST", "/v1/auth/logout") => Call::new(Method::POST, path.to_owned()),
        ("POST", "/v1/members") => {
            let mut body = studio(&format!("Nouvelle Maison {}", &tag[..12]));
            body["contact_email"] = json!(format!("new-{}@nouvelle.example.lu", &tag[..12]));
            Call::new(Method::POST, path.to_owned()).json(body)
        }
        ("GET", "/v1/members/{id}") => Call::new(Method::GET, format!("/v1/members/{a}")),
        ("GET", "/v1/members/{id}/export") => Call::new(Method::GET, format!("/v1/members/{a}/export")),
        ("PATCH", "/v1/members/{id}") => Call::new(Method::PATCH, format!("/v1/members/{a}"))
            .merge_patch(json!({"description": "Réécrit pour la matrice des droits."}))
            .if_match_any(),
        ("DELETE", "/v1/members/{id}") => Call::new(Method::DELETE, format!("/v1/members/{a}")).if_match_any(),
        ("GET", "/v1/members/{id}/portals") => Call::new(Method::GET, format!("/v1/members/{a}/portals")),
        ("PUT", "/v1/members/{id}/portals/{client_id}") => {
            Call::new(Method::PUT, format!("/v1/members/{a}/portals/{}", fx.portal_other.client_id))
        }
        ("DELETE", "/v1/members/{id}/portals/{client_id}") => {
            Call::new(Method::DELETE, format!("/v1/members/{a}/portals/{}", fx.portal_a.client_id))
        }
        ("POST", "/v1/users") => Call::new(Method::POST, path.to_owned())
            .json(json!({"email": format!("new-staff-{tag}@example.org"), "role": "staff"})),
        ("GET", "/v1/users/{id}") => Call::new(Method::GET, format!("/v1/users/{}", fx.bystander.id)),
        ("PATCH", "/v1/users/{id}") => {
            Call::new(Method::PATCH, format!("/v1/users/{}", fx.bystander.id)).merge_patch(json!({"disabled": true}))
        }
        ("POST", "/v1/users/{id}/password-reset") => {
            Call::new(Method::POST, format!("/v1/users/{}/password-reset", fx.bystander.id))
        }
        ("GET", "/v1/webhooks") => Call::new(Method::GET, path.to_owned()),
        ("POST", "/v1/webhooks") => Call::new(Method::POST, path.to_owned())
            .json(json!({"url": format!("https://portal-{}.example.lu/hooks", &tag[..12]), "events": ["suggestion.delivered"]})),
        ("GET", "/v1/webhooks/{id}") => Call::new(Method::GET, format!("/v1/webhooks/{}", fx.webhook().0)),
        ("PATCH", "/v1/webhooks/{id}") => {
            Call::new(Method::PATCH, format!("/v1/webhooks/{}", fx.webhook().0)).merge_patch(json!({"enabled": false}))
        }
        ("POST", "/v1/webhooks/{id}/secret") => {
            Call::new(Method::POST, format!("/v1/webhooks/{}/secret", fx.webhook().0))
        }
        ("GET", "/v1/webhooks/{id}/deliveries") => {
            Call::new(Method::GET, format!("/v1/webhooks/{}/deliveries", fx.webhook().0))
        }
        ("POST", "/v1/webhooks/{id}/deliveries/{delivery_id}/resend") => {
            let (endpoint, delivery) = fx.webhook();
            Call::new(Method::POST, format!("/v1/webhooks/{endpoint}/deliveries/{delivery}/resend"))
        }
        ("POST", "/v1/clients") => Call::new(Method::POST, path.to_owned())
            .json(json!({"name": format!("Portail {}", &tag[..12]), "scopes": ["members:read"]})),
        ("GET", "/v1/clients/{id}") => Call::new(Method::GET, format!("/v1/clients/{}", fx.portal_a.client_id)),
        ("PATCH", "/v1/clients/{id}") => Call::new(Method::PATCH, format!("/v1/clients/{}", fx.portal_a.client_id))
            .merge_patch(json!({"name": "Renamed"})),
        ("POST", "/v1/clients/{id}/secret") => {
            Call::new(Method::POST, format!("/v1/clients/{}/secret", fx.portal_a.client_id))
        }
        ("GET", "/v1/members/{id}/matches/projects") => {
            Call::new(Method::GET, format!("/v1/members/{a}/matches/projects"))
        }
        ("GET", "/v1/members/{id}/matches/partners") => {
            Call::new(Method::GET, format!("/v1/members/{a}/matches/partners"))
        }
        ("POST", "/v1/projects") => {
            Call::new(Method::POST, path.to_owned()).json(project_body(&format!("Nouveau projet {}", &tag[..12]), a))
        }
        ("POST", "/v1/projects/import") => Call {
            body: Body::Csv(format!(
                "{CALLS_HEADER}\nCREA-MATRIX-{short},Matrix call {short},,,,,2026-12-15T17:00:00,,0,50000,,,\
                 matrix-{tag},<p>Graphic design for a matrix.</p>,,,,,\n",
                short = &tag[..12]
            )),
            ..Call::new(Method::POST, path.to_owned())
        },
        ("GET", "/v1/projects/{id}") => Call::new(Method::GET, format!("/v1/projects/{}", fx.project())),
        ("PATCH", "/v1/projects/{id}") => Call::new(Method::PATCH, format!("/v1/projects/{}", fx.project()))
            .merge_patch(json!({"description": "Réécrit pour la matrice des droits."}))
            .if_match_any(),
        ("DELETE", "/v1/projects/{id}") => {
            Call::new(Method::DELETE, format!("/v1/projects/{}", fx.project())).if_match_any()
        }
        ("GET", "/v1/projects/{id}/matches/members") => {
            Call::new(Method::GET, format!("/v1/projects/{}/matches/members", fx.project()))
        }
        ("POST", "/v1/projects/{id}/let-in") => {
            Call::new(Method::POST, format!("/v1/projects/{}/let-in", fx.project()))
        }
        ("POST", "/v1/projects/{id}/follow-import") => {
            Call::new(Method::POST, format!("/v1/projects/{}/follow-import", fx.project()))
        }
        ("GET", "/v1/projects/{id}/consortia") => {
            Call::new(Method::GET, format!("/v1/projects/{}/consortia", fx.project()))
        }
        ("GET", "/v1/vocabulary/search") => Call::new(Method::GET, format!("{path}?q=design")),
        ("GET", "/v1/vocabulary/concept") => {
            let id: String = url::form_urlencoded::byte_serialize(GRAPHIC_DESIGN.as_bytes()).collect();
            Call::new(Method::GET, format!("{path}?id={id}"))
        }
        ("POST", "/v1/vocabulary/synonyms") => Call::new(Method::POST, path.to_owned())
            .json(json!({"concept": GRAPHIC_DESIGN, "lang": "de", "label": format!("Matrixbegriff {tag}")})),
        ("POST", "/v1/vocabulary/merges") => {
            let (from, into) = merge_pair(caller, 0);
            Call::new(Method::POST, path.to_owned()).json(json!({"from": from, "into": into}))
        }
        ("GET", "/v1/vocabulary/unmapped" | "/v1/vocabulary/synonyms" | "/v1/vocabulary/merges") => {
            Call::new(Method::GET, path.to_owned())
        }
        ("DELETE", "/v1/vocabulary/synonyms/{id}") => {
            Call::new(Method::DELETE, format!("/v1/vocabulary/synonyms/{}", fx.edits().synonym.as_deref().unwrap()))
        }
        ("DELETE", "/v1/vocabulary/merges") => {
            let from: String =
                url::form_urlencoded::byte_serialize(fx.edits().merged_from.as_deref().unwrap().as_bytes()).collect();
            Call::new(Method::DELETE, format!("{path}?from={from}"))
        }
        ("POST", "/v1/matching/runs" | "/v1/imports/sync") => Call::new(Method::POST, path.to_owned()),
        ("GET", "/v1/imports/{id}") => {
            Call::new(Method::GET, format!("/v1/imports/{}", fx.import.as_deref().expect("an import was logged")))
        }
        ("GET", "/v1/matching/runs/{id}") => Call::new(Method::GET, format!("/v1/matching/runs/{}", fx.review().run)),
        ("GET", "/v1/review/queue" | "/v1/reactions" | "/v1/digests") => Call::new(Method::GET, path.to_owned()),
        ("POST", "/v1/suggestions/decisions") => Call::new(Method::POST, path.to_owned())
            .json(json!({"decisions": [{"id": fx.review().pending, "decision": "approve"}]})),
        ("GET", "/v1/suggestions/{id}") => Call::new(Method::GET, format!("/v1/suggestions/{}", fx.review().approved)),
        ("POST", "/v1/suggestions/{id}/decision") => {
            Call::new(Method::POST, format!("/v1/suggestions/{}/decision", fx.review().pending))
                .json(json!({"decision": "reject", "reason": "Not for this week."}))
                .if_match_any()
        }
        ("POST", "/v1/suggestions/{id}/reaction") => {
            Call::new(Method::POST, format!("/v1/suggestions/{}/reaction", fx.review().approved))
                .json(json!({"reaction": "contacted"}))
        }
        ("POST", "/v1/suggestions/{id}/outcomes") => {
            Call::new(Method::POST, format!("/v1/suggestions/{}/outcomes", fx.review().approved))
                .json(json!({"outcome": "met"}))
        }
        ("GET", "/v1/stats/suggestions") => Call::new(Method::GET, "/v1/stats/suggestions".to_owned()),
        ("POST", "/v1/suggestions/{id}/introduction") => {
            Call::new(Method::POST, format!("/v1/suggestions/{}/introduction", fx.review().approved))
                .json(json!({"note": "We would like to meet."}))
        }
        ("GET", "/v1/introductions") => Call::new(Method::GET, "/v1/introductions?status=requested".to_owned()),
        ("GET", "/v1/introductions/{id}") => {
            Call::new(Method::GET, format!("/v1/introductions/{}", fx.review().introduction))
        }
        ("POST", "/v1/introductions/{id}/introduce") => {
            Call::new(Method::POST, format!("/v1/introductions/{}/introduce", fx.review().introduction))
                .json(json!({"message": "Meet each other."}))
        }
        ("POST", "/v1/introductions/{id}/close") => {
            Call::new(Method::POST, format!("/v1/introductions/{}/close", fx.review().introduction))
                .json(json!({"reason": "The call closed."}))
        }
        ("POST", "/v1/messages/{id}/retry") => {
            Call::new(Method::POST, format!("/v1/messages/{}/retry", fx.review().failed_message))
        }
        ("GET", "/v1/introduction-page") => {
            Call::new(Method::GET, format!("/v1/introduction-page?token={}", fx.review().consent))
        }
        ("POST", "/v1/introduction-page") => Call {
            body: Body::Form(vec![("action", "accept".to_owned())]),
            ..Call::new(Method::POST, format!("/v1/introduction-page?token={}", fx.review().consent))
        },
        ("DELETE", "/v1/suggestions/{id}/reaction") => {
            Call::new(Method::DELETE, format!("/v1/suggestions/{}/reaction", fx.review().approved))
        }
        ("GET", "/v1/members/{id}/suggestions" | "/v1/members/{id}/digests" | "/v1/members/{id}/digest-preview") => {
            Call::new(Method::GET, path.replace("{id}", &a.to_string()))
        }
        ("GET", "/v1/digests/{id}") => Call::new(Method::GET, format!("/v1/digests/{}", fx.review().digest)),
        ("POST", "/v1/digests/{id}/retry") => {
            Call::new(Method::POST, format!("/v1/digests/{}/retry", fx.review().failed))
        }
        ("GET", "/v1/unsubscribe") => Call::new(Method::GET, format!("/v1/unsubscribe?token={}", fx.review().token)),
        ("POST", "/v1/unsubscribe") => Call {
            body: Body::Form(vec![("List-Unsubscribe", "One-Click".to_owned())]),
            ..Call::new(Method::POST, format!("/v1/unsubscribe?token={}", fx.review().token))
        },
        ("GET", "/v1/suggestion-page") => {
            Call::new(Method::GET, format!("/v1/suggestion-page?token={}", fx.review().page))
        }
        ("POST", "/v1/suggestion-page") => Call {
            body: Body::Form(vec![("action", "interested".to_owned())]),
            ..Call::new(Method::POST, format!("/v1/suggestion-page?token={}", fx.review().page))
        },
        _ => return None,
    };
    Some(call)
}

/// Send `call` as the holder of `token`; the answer, and what the published contract says is wrong with it, if
/// anything (collected rather than raised, so that one bad cell does not hide the others).
async fn send(app: &TestApp, token: Option<&str>, call: &Call) -> (Reply, Option<String>) {
    let session = match token {
        Some(t) => app.as_(t),
        None => app.anonymous(),
    };
    let mut request = session.request(call.method.clone(), &call.path);
    if let Some(tag) = call.if_match {
        request = request.header("if-match", tag);
    }
    request = match &call.body {
        Body::Empty => request,
        Body::Json(body) => request.json(body),
        Body::MergePatch(body) => request.header("content-type", "application/merge-patch+json").body(body.to_string()),
        Body::Form(fields) => request.form(fields),
        Body::Csv(text) => request.header("content-type", "text/csv").body(text.clone()),
    };
    let request = request.build().unwrap();
    // The contract knows paths, not query strings.
    let path = request.url().path().to_owned();
    let response = app.client.execute(request).await.unwrap();
    let reply = Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.unwrap().to_vec(),
    };
    let checked = catch_unwind(AssertUnwindSafe(|| contract::check_response(&call.method, &path, &reply)));
    let problem = checked.err().map(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "the contract check failed".to_owned())
    });
    (reply, problem)
}

/// The first characters of a body, for a report.
fn excerpt(reply: &Reply) -> String {
    let text = reply.text();
    let cut: String = text.chars().take(600).collect();
    if cut.len() < text.len() { format!("{cut}…") } else { cut }
}

async fn every_route_answers_every_caller_as_the_matrix_says(app: TestApp) {
    let started = Instant::now();
    let mut failures: Vec<String> = Vec::new();
    let mut cells = 0;
    for route in ROUTES {
        let what = format!("{} {}", route.method, route.path);
        let Some(statuses) = expected(route.method, route.path) else {
            failures.push(format!("{what}: no row in the matrix"));
            continue;
        };
        for (caller, want) in CALLERS.into_iter().zip(statuses) {
            let fx = Fixtures::new(&app, caller, (route.method, route.path)).await;
            let Some(call) = call_for(route.method, route.path, &fx, caller) else {
                failures.push(format!("{what}: the matrix does not know how to call it"));
                break;
            };
            cells += 1;
            let (reply, contract_problem) = send(&app, fx.token(caller), &call).await;
            let cell = format!("{what} as {}", caller.name());
            if reply.status != want {
                failures.push(format!("{cell}: expected {want}, got {}\n    body: {}", reply.status, excerpt(&reply)));
            }
            if let Some(problem) = contract_problem {
                failures.push(format!("{cell}: breaks the published contract: {problem}"));
            }
            if (200..300).contains(&reply.status) {
                let body = reply.text().to_lowercase();
                for (label, secret) in fx.not_for(caller) {
                    if body.contains(&secret.to_lowercase()) {
                        failures.push(format!(
                            "{cell}: the {} answer shows {label} ({secret})\n    body: {}",
                            reply.status,
                            excerpt(&reply)
                        ));
                    }
                }
            }
        }
    }
    eprintln!("{:?}: {cells} cells of the authorisation matrix in {:.1?}", app.backend, started.elapsed());
    assert!(
        failures.is_empty(),
        "{} problem(s) in the authorisation matrix on {:?}:\n\n{}",
        failures.len(),
        app.backend,
        failures.join("\n\n")
    );
}
