//! The administrators' console pages over HTTP, on both backends: accounts (created with a one-time password shown
//! once, role changes and disabling that end the person's sessions, password resets, an administrator's own account
//! protected, bad input refused with nothing changed) and partner-portal clients (created with a secret shown once
//! that works at the token endpoint, scopes and name changed, disabled, the secret rotated).

use matchmaker::auth::{ClientScope, Role};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::console::{Console, attrs, texts};
use crate::helpers::{ADMIN_EMAIL, FIXTURE_PASSWORD, Reply, TestApp, studio};
use crate::on_both_backends;

on_both_backends!(
    an_account_is_created_with_a_one_time_password_shown_once,
    bad_account_forms_are_refused_and_create_nothing,
    the_accounts_list_filters_by_role_and_pages,
    a_role_change_or_disabling_ends_the_persons_sessions,
    an_administrator_cannot_lock_themselves_out,
    a_password_reset_shows_a_new_one_time_password_that_works,
    a_portal_client_gets_a_secret_shown_once_that_works,
    a_portal_clients_name_scopes_and_state_change_and_its_secret_rotates,
    the_clients_list_pages,
    staff_see_no_accounts_pages,
);

/// Every account, through the API.
async fn users(app: &TestApp) -> Vec<Value> {
    app.all_pages("/v1/users").await
}

/// Every portal client, through the API.
async fn clients(app: &TestApp) -> Vec<Value> {
    app.all_pages("/v1/clients").await
}

fn one(html: &str, selector: &str) -> String {
    let found = texts(html, selector);
    assert_eq!(found.len(), 1, "one {selector} in {html}");
    found[0].clone()
}

async fn client_token(app: &TestApp, client_id: &str, secret: &str) -> Reply {
    app.token_request(&[("grant_type", "client_credentials"), ("client_id", client_id), ("client_secret", secret)])
        .await
}

fn location(reply: &Reply) -> String {
    reply.header("location").unwrap_or_default()
}

async fn an_account_is_created_with_a_one_time_password_shown_once(app: TestApp) {
    let mut admin = Console::admin(&app).await;
    let form = admin.get("/console/admin/users/new").await;
    assert_eq!(form.status, 200);
    let html = form.text();
    for field in ["email", "role", "member_id"] {
        assert_eq!(attrs(&html, &format!("label[for={field}]"), "for").len(), 1, "{field} has a label");
    }
    assert_eq!(attrs(&html, "select#role option", "value"), ["member", "staff", "admin"]);
    assert_eq!(attrs(&html, "select#role option[selected]", "value"), ["staff"]);

    let email = "nora.weber@luxinnovation.example";
    let created = admin.post("/console/admin/users", &[("email", email), ("role", "staff"), ("member_id", "")]).await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.header("cache-control").unwrap(), "no-store");
    let html = created.text();
    let password = one(&html, "#one-time-password");
    assert!(password.len() >= 12, "{password}");
    assert!(html.contains("by phone or in person"), "how to hand it over: {html}");
    assert!(html.contains("the only time it is shown"));

    // The account as the API sees it: staff, to change its password first; the creation audited as the admin's.
    let account = users(&app).await.into_iter().find(|u| u["email"] == email).expect("the account exists");
    assert_eq!((account["role"].as_str(), account["must_change_password"].as_bool()), (Some("staff"), Some(true)));
    let id = account["id"].as_str().unwrap().to_owned();
    let audit = app.get(&format!("/v1/audit?action=user.created&target=user:{id}")).await;
    let entries = audit.json()["items"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{}", audit.text());
    assert_eq!(entries[0]["actor"], format!("user:{}", app.admin.id));

    // The password is never shown again: not on the account's page, not in the list.
    let page = admin.get(&format!("/console/admin/users/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.text().contains(&password));
    assert!(texts(&page.text(), "dl.facts dd").contains(&"Yes".to_owned()), "must change the password");
    let list = admin.get("/console/admin").await;
    assert!(!list.text().contains(&password));
    assert!(texts(&list.text(), "table.accounts th[scope=row]").contains(&email.to_owned()));

    // The person signs in with it and is sent to choose their own password first.
    let mut person = Console::new(&app);
    let signed = person.sign_in(email, &password).await;
    assert_eq!(signed.status, 303, "{}", signed.text());
    let queue = person.get("/console/queue").await;
    assert_eq!(location(&queue), "/console/password");
    assert!(person.get("/console/password").await.text().contains("one-time password"));
    let new = "lantern-moss-harbour-31";
    let changed = person.post("/console/password", &[("current", &password), ("new", new), ("again", new)]).await;
    assert_eq!(changed.status, 303, "{}", changed.text());
    assert_eq!(person.get("/console/queue").await.status, 200);

    // A member account, for an existing member.
    let (member, _, _) = app.create_member(&studio("Atelier Lumen")).await;
    let member_id = member["id"].as_str().unwrap();
    let for_member = admin
        .post(
            "/console/admin/users",
            &[("email", "contact@lumen.example.lu"), ("role", "member"), ("member_id", member_id)],
        )
        .await;
    assert_eq!(for_member.status, 201, "{}", for_member.text());
    let account = users(&app).await.into_iter().find(|u| u["email"] == "contact@lumen.example.lu").unwrap();
    assert_eq!((account["role"].as_str(), account["member_id"].as_str()), (Some("member"), Some(member_id)));
    let page = admin.get(&format!("/console/admin/users/{}", account["id"].as_str().unwrap())).await;
    assert!(texts(&page.text(), "dl.facts dd a").contains(&"Atelier Lumen".to_owned()), "the member is named");
}

async fn bad_account_forms_are_refused_and_create_nothing(app: TestApp) {
    let mut admin = Console::admin(&app).await;
    admin.get("/console/admin/users/new").await;
    let before = users(&app).await.len();

    // Not an e-mail address: the form again, the error next to the field, what was typed kept.
    let bad = admin.post("/console/admin/users", &[("email", "nora at lux"), ("role", "staff")]).await;
    assert_eq!(bad.status, 422, "{}", bad.text());
    let html = bad.text();
    assert!(one(&html, "#email-error").contains("must be an e-mail address"), "{html}");
    assert_eq!(attrs(&html, "input#email", "aria-invalid"), ["true"]);
    assert_eq!(attrs(&html, "input#email", "aria-describedby"), ["email-error"]);
    assert_eq!(attrs(&html, "input#email", "value"), ["nora at lux"]);
    assert!(texts(&html, "[role=alert]").concat().contains("nothing was saved"));
    assert!(texts(&html, "#one-time-password").is_empty());

    // No role, or one that does not exist; a member account without its member; staff with a member.
    let no_role = admin.post("/console/admin/users", &[("email", "a@example.lu"), ("role", "chief")]).await;
    assert_eq!(no_role.status, 422);
    assert!(one(&no_role.text(), "#role-error").contains("must be one of member, staff, admin"));
    let no_member = admin.post("/console/admin/users", &[("email", "b@example.lu"), ("role", "member")]).await;
    assert_eq!(no_member.status, 422);
    assert!(one(&no_member.text(), "#member_id-error").contains("required for the member role"));
    let unknown = Uuid::new_v4().to_string();
    let gone = admin
        .post("/console/admin/users", &[("email", "c@example.lu"), ("role", "member"), ("member_id", &unknown)])
        .await;
    assert_eq!(gone.status, 422);
    assert!(one(&gone.text(), "#member_id-error").contains("no member has this id"));
    let not_uuid =
        admin.post("/console/admin/users", &[("email", "d@example.lu"), ("role", "member"), ("member_id", "12")]).await;
    assert_eq!(not_uuid.status, 422);
    assert!(one(&not_uuid.text(), "#member_id-error").contains("UUID"));
    let (member, _, _) = app.create_member(&studio("Atelier Nord")).await;
    let staff_with_member = admin
        .post(
            "/console/admin/users",
            &[("email", "e@example.lu"), ("role", "staff"), ("member_id", member["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(staff_with_member.status, 422);
    assert!(one(&staff_with_member.text(), "#member_id-error").contains("member role only"));

    // An address already taken (in any case): 409, said next to the field.
    let taken = admin.post("/console/admin/users", &[("email", &ADMIN_EMAIL.to_uppercase()), ("role", "staff")]).await;
    assert_eq!(taken.status, 409, "{}", taken.text());
    assert!(one(&taken.text(), "#email-error").contains("already exists"));

    assert_eq!(users(&app).await.len(), before, "nothing was created");
}

async fn the_accounts_list_filters_by_role_and_pages(app: TestApp) {
    let staff: Vec<String> = (0..52).map(|_| app.user(Role::Staff, None).email).collect();
    let (member, _, _) = app.create_member(&studio("Atelier Lumen")).await;
    let person = app.user(Role::Member, Some(member["id"].as_str().unwrap().parse().unwrap()));
    let mut admin = Console::admin(&app).await;

    let all = admin.get("/console/admin").await;
    assert_eq!(all.status, 200);
    let html = all.text();
    assert_eq!(one(&html, "h1"), "Accounts and portal clients");
    assert_eq!(texts(&html, "h2"), ["People's accounts", "Partner-portal clients"]);
    assert_eq!(texts(&html, "header nav a[aria-current=page]"), ["Accounts"]);
    assert_eq!(texts(&html, "table.accounts tbody tr").len(), 50, "a page of 50");
    assert_eq!(texts(&html, "table.accounts th[scope=row]")[0], ADMIN_EMAIL, "oldest first");
    assert!(texts(&html, "table.clients").is_empty());
    assert!(html.contains("No portal client yet."));

    // Members only; then staff over two pages.
    let members = admin.get("/console/admin?role=member").await;
    assert_eq!(texts(&members.text(), "table.accounts th[scope=row]"), vec![person.email]);
    assert_eq!(texts(&members.text(), "table.accounts tbody td")[0], "member");
    let first = admin.get("/console/admin?role=staff").await;
    let first_html = first.text();
    let shown = texts(&first_html, "table.accounts th[scope=row]");
    assert_eq!(shown.len(), 50);
    assert_eq!(shown, staff[..50]);
    let next = attrs(&first_html, "nav.pager a[rel=next]", "href");
    assert_eq!(next.len(), 1, "{first_html}");
    assert!(next[0].starts_with("/console/admin?role=staff&after="), "{next:?}");
    let second = admin.get(&next[0].replace("&amp;", "&")).await;
    assert_eq!(second.status, 200);
    assert_eq!(texts(&second.text(), "table.accounts th[scope=row]"), staff[50..]);
    assert_eq!(attrs(&second.text(), "nav.pager a", "href"), ["/console/admin?role=staff"], "back to the first");

    // A role that does not exist, or a page that is not one: said, not guessed.
    let bad = admin.get("/console/admin?role=chief").await;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("This is not a role"));
    assert_eq!(admin.get("/console/admin?after=nope").await.status, 400);

    // In French.
    let request = reqwest::Client::new()
        .get(app.url("/console/admin?role=member"))
        .header("cookie", format!("mm_console={}; mm_lang=fr", admin.cookie.clone().unwrap()));
    let page = request.send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Comptes et clients des portails") && page.contains("membre"), "{page}");
}

async fn a_role_change_or_disabling_ends_the_persons_sessions(app: TestApp) {
    let person = app.user(Role::Staff, None);
    let mut theirs = Console::signed_in(&app, &person.email).await;
    assert_eq!(theirs.get("/console/queue").await.status, 200);
    let mut admin = Console::admin(&app).await;
    let path = format!("/console/admin/users/{}", person.id);
    let page = admin.get(&path).await;
    assert_eq!(page.status, 200);
    assert_eq!(one(&page.text(), "h1"), format!("Account: {}", person.email));
    assert_eq!(attrs(&page.text(), "select#role option[selected]", "value"), ["staff"]);

    // To administrator: the API says so, the change is audited, and the person's session has ended.
    let changed = admin.post(&format!("{path}/role"), &[("role", "admin"), ("member_id", "")]).await;
    assert_eq!(changed.status, 303, "{}", changed.text());
    assert_eq!(location(&changed), format!("{path}?done=role"));
    let after = admin.get(&location(&changed)).await;
    assert!(one(&after.text(), "p.notice[role=status]").contains("The role was changed"));
    assert_eq!(app.get(&format!("/v1/users/{}", person.id)).await.json()["role"], "admin");
    let audit = app.get(&format!("/v1/audit?action=user.updated&target=user:{}", person.id)).await;
    assert_eq!(audit.json()["items"].as_array().unwrap().len(), 1, "{}", audit.text());
    let ended = theirs.get("/console/queue").await;
    assert_eq!(ended.status, 303);
    assert!(location(&ended).ends_with("&ended=revoked"), "{}", location(&ended));
    let mut again = Console::signed_in(&app, &person.email).await;
    let queue = again.get("/console/queue").await;
    assert_eq!(attrs(&queue.text(), "header nav a", "href").last().unwrap(), "/console/admin", "now an admin");

    // Disabled: the session ends, no sign-in; enabled: signing in works again.
    let disabled = admin.post(&format!("{path}/disabled"), &[("disabled", "true")]).await;
    assert_eq!(disabled.status, 303, "{}", disabled.text());
    assert_eq!(location(&disabled), format!("{path}?done=disabled"));
    assert_eq!(app.get(&format!("/v1/users/{}", person.id)).await.json()["disabled"], true);
    let out = again.get("/console/queue").await;
    assert!(location(&out).ends_with("&ended=revoked"), "{}", location(&out));
    let mut refused = Console::new(&app);
    assert_ne!(refused.sign_in(&person.email, FIXTURE_PASSWORD).await.status, 303);
    assert!(refused.cookie.is_none());
    let page = admin.get(&path).await;
    assert!(texts(&page.text(), "dl.facts dd").contains(&"disabled".to_owned()));
    assert_eq!(attrs(&page.text(), "input[name=disabled]", "value"), ["false"], "the form now enables");
    let enabled = admin.post(&format!("{path}/disabled"), &[("disabled", "false")]).await;
    assert_eq!(enabled.status, 303);
    assert_eq!(app.get(&format!("/v1/users/{}", person.id)).await.json()["disabled"], false);
    assert_eq!(Console::new(&app).sign_in(&person.email, FIXTURE_PASSWORD).await.status, 303);

    // Back to member needs the member; bad input changes nothing.
    let no_member = admin.post(&format!("{path}/role"), &[("role", "member")]).await;
    assert_eq!(no_member.status, 422, "{}", no_member.text());
    assert!(one(&no_member.text(), "#member_id-error").contains("required for the member role"));
    let no_role = admin.post(&format!("{path}/role"), &[("role", "chief")]).await;
    assert_eq!(no_role.status, 422);
    assert!(one(&no_role.text(), "#role-error").contains("must be one of"));
    assert_eq!(admin.post(&format!("{path}/disabled"), &[("disabled", "maybe")]).await.status, 400);
    let now = app.get(&format!("/v1/users/{}", person.id)).await.json();
    assert_eq!((now["role"].as_str(), now["disabled"].as_bool()), (Some("admin"), Some(false)));
    let (member, _, _) = app.create_member(&studio("Atelier Lumen")).await;
    let member_id = member["id"].as_str().unwrap();
    let to_member = admin.post(&format!("{path}/role"), &[("role", "member"), ("member_id", member_id)]).await;
    assert_eq!(to_member.status, 303, "{}", to_member.text());
    let now = app.get(&format!("/v1/users/{}", person.id)).await.json();
    assert_eq!((now["role"].as_str(), now["member_id"].as_str()), (Some("member"), Some(member_id)));

    // An account that does not exist.
    let nobody = Uuid::new_v4();
    assert_eq!(admin.get(&format!("/console/admin/users/{nobody}")).await.status, 404);
    let missing = admin.post(&format!("/console/admin/users/{nobody}/disabled"), &[("disabled", "true")]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(admin.get("/console/admin/users/not-a-uuid").await.status, 404);
}

async fn an_administrator_cannot_lock_themselves_out(app: TestApp) {
    let mut admin = Console::admin(&app).await;
    let path = format!("/console/admin/users/{}", app.admin.id);
    let page = admin.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("This is your own account"));

    let demoted = admin.post(&format!("{path}/role"), &[("role", "staff")]).await;
    assert_eq!(demoted.status, 409, "{}", demoted.text());
    assert!(one(&demoted.text(), "#role-error").contains("you cannot disable or demote your own account"));
    assert!(texts(&demoted.text(), "[role=alert]").concat().contains("Nothing was changed."));
    let disabled = admin.post(&format!("{path}/disabled"), &[("disabled", "true")]).await;
    assert_eq!(disabled.status, 409);
    assert!(one(&disabled.text(), "#disabled-error").contains("you cannot disable or demote your own account"));
    assert_eq!(
        attrs(&disabled.text(), "button[aria-describedby]", "aria-describedby")[0],
        "disabled-hint disabled-error"
    );
    let reset = admin.post(&format!("{path}/password-reset"), &[]).await;
    assert_eq!(reset.status, 409);
    assert!(one(&reset.text(), "#password-error").contains("you cannot reset your own password"));
    assert!(texts(&reset.text(), "#one-time-password").is_empty());

    let now = app.get(&format!("/v1/users/{}", app.admin.id)).await.json();
    assert_eq!((now["role"].as_str(), now["disabled"].as_bool()), (Some("admin"), Some(false)));
    assert_eq!(admin.get("/console/admin").await.status, 200, "still signed in, still an administrator");
}

async fn a_password_reset_shows_a_new_one_time_password_that_works(app: TestApp) {
    let person = app.user(Role::Staff, None);
    let mut theirs = Console::signed_in(&app, &person.email).await;
    let mut admin = Console::admin(&app).await;
    let path = format!("/console/admin/users/{}", person.id);
    admin.get(&path).await;
    let reset = admin.post(&format!("{path}/password-reset"), &[]).await;
    assert_eq!(reset.status, 200, "{}", reset.text());
    assert_eq!(reset.header("cache-control").unwrap(), "no-store");
    let html = reset.text();
    assert_eq!(one(&html, "h1"), "Password reset");
    let password = one(&html, "#one-time-password");
    assert!(password.len() >= 12 && password != FIXTURE_PASSWORD);
    assert!(html.contains(&person.email));
    let audit = app.get(&format!("/v1/audit?action=user.password_reset&target=user:{}", person.id)).await;
    assert_eq!(audit.json()["items"].as_array().unwrap().len(), 1, "{}", audit.text());

    // Their session has ended; the old password no longer works; the new one does, once, then a new one is chosen.
    assert!(location(&theirs.get("/console/queue").await).ends_with("&ended=revoked"));
    assert_eq!(Console::new(&app).sign_in(&person.email, FIXTURE_PASSWORD).await.status, 401);
    let mut back = Console::new(&app);
    assert_eq!(back.sign_in(&person.email, &password).await.status, 303);
    assert_eq!(location(&back.get("/console/queue").await), "/console/password");
    assert_eq!(app.get(&format!("/v1/users/{}", person.id)).await.json()["must_change_password"], true);
    assert!(!admin.get(&path).await.text().contains(&password), "never shown again");

    let nobody = Uuid::new_v4();
    assert_eq!(admin.post(&format!("/console/admin/users/{nobody}/password-reset"), &[]).await.status, 404);
}

async fn a_portal_client_gets_a_secret_shown_once_that_works(app: TestApp) {
    let mut admin = Console::admin(&app).await;
    let form = admin.get("/console/admin/clients/new").await;
    assert_eq!(form.status, 200);
    let html = form.text();
    let boxes = attrs(&html, "input[type=checkbox][name=scope]", "value");
    assert_eq!(boxes, ["members:read", "members:write", "suggestions:read", "suggestions:react", "webhooks:manage"]);
    for id in attrs(&html, "input[type=checkbox][name=scope]", "id") {
        assert_eq!(attrs(&html, &format!("label[for={id}]"), "for").len(), 1, "{id} has a label");
        assert!(!one(&html, &format!("#{id}-hint")).is_empty(), "{id} is explained");
    }
    assert!(one(&html, "#scope-5-hint").contains("webhook"));

    let created = admin
        .post(
            "/console/admin/clients",
            &[("name", "Creative Hub portal"), ("scope", "members:read"), ("scope", "suggestions:read")],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.header("cache-control").unwrap(), "no-store");
    let html = created.text();
    let client_id = one(&html, "#client-id");
    let secret = one(&html, "#client-secret");
    assert!(client_id.starts_with("mmc_") && secret.len() >= 32, "{client_id} {secret}");
    assert!(html.contains("over a secure channel"), "how to hand it over: {html}");

    // The secret works at the token endpoint, with the scopes ticked.
    let token = client_token(&app, &client_id, &secret).await;
    assert_eq!(token.status, 200, "{}", token.text());
    assert_eq!(token.json()["scope"], "members:read suggestions:read");
    let audit = app.get(&format!("/v1/audit?action=client.created&target=client:{client_id}")).await;
    assert_eq!(audit.json()["items"].as_array().unwrap().len(), 1, "{}", audit.text());

    // Its page and the list show it, never the secret.
    let page = admin.get(&format!("/console/admin/clients/{client_id}")).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(!html.contains(&secret));
    assert_eq!(one(&html, "h1"), "Portal client: Creative Hub portal");
    assert_eq!(attrs(&html, "input[name=scope][checked]", "value"), ["members:read", "suggestions:read"]);
    assert!(html.contains("No member is linked to this portal yet."));
    let list = admin.get("/console/admin").await;
    assert!(!list.text().contains(&secret));
    assert_eq!(texts(&list.text(), "table.clients th[scope=row]"), ["Creative Hub portal"]);
    assert!(texts(&list.text(), "table.clients td").contains(&"members:read, suggestions:read".to_owned()));

    // Bad forms: the form again with the error by the field, and no client made.
    let none = admin.post("/console/admin/clients", &[("name", "No scopes")]).await;
    assert_eq!(none.status, 422, "{}", none.text());
    assert!(one(&none.text(), "#scopes-error").contains("must name at least one of"));
    assert_eq!(attrs(&none.text(), "input#name", "value"), ["No scopes"]);
    let unnamed = admin.post("/console/admin/clients", &[("name", "  "), ("scope", "members:read")]).await;
    assert_eq!(unnamed.status, 422);
    assert_eq!(texts(&unnamed.text(), "#name-error").len(), 1);
    assert_eq!(attrs(&unnamed.text(), "input[name=scope][checked]", "value"), ["members:read"], "ticks kept");
    let strange = admin.post("/console/admin/clients", &[("name", "Odd"), ("scope", "admin")]).await;
    assert_eq!(strange.status, 422);
    assert!(one(&strange.text(), "#scopes-error").contains("must be one of"));
    assert_eq!(clients(&app).await.len(), 1, "nothing more was created");

    // The form sent twice (the answer reloaded) makes one client: the second time leads to it, no secret shown.
    let form = admin.get("/console/admin/clients/new").await.text();
    let chosen = attrs(&form, "input[name=client_id]", "value").remove(0);
    let fields = [("name", "Reloaded portal"), ("scope", "members:read"), ("client_id", chosen.as_str())];
    let first = admin.post("/console/admin/clients", &fields).await;
    assert_eq!((first.status, one(&first.text(), "#client-id")), (201, chosen.clone()));
    let again = admin.post("/console/admin/clients", &fields).await;
    assert_eq!(again.status, 303, "{}", again.text());
    assert_eq!(again.header("location").unwrap(), format!("/console/admin/clients/{chosen}?done=created_before"));
    let page = admin.get(&again.header("location").unwrap()).await.text();
    assert!(page.contains("was created when the form was first sent"), "{page}");
    assert!(!page.contains(&one(&first.text(), "#client-secret")));
    assert_eq!(clients(&app).await.len(), 2, "one client for the two sends");
    // An id the form could not have given is not taken.
    let odd = [("name", "Odd id"), ("scope", "members:read"), ("client_id", "mmc_../../x")];
    let made = admin.post("/console/admin/clients", &odd).await;
    assert_eq!(made.status, 201);
    assert!(matchmaker::db::accounts::is_client_id(&one(&made.text(), "#client-id")), "{}", made.text());
}

async fn a_portal_clients_name_scopes_and_state_change_and_its_secret_rotates(app: TestApp) {
    let mut admin = Console::admin(&app).await;
    admin.get("/console/admin/clients/new").await;
    let created = admin.post("/console/admin/clients", &[("name", "Atelier Net"), ("scope", "members:read")]).await;
    let (client_id, first) = (one(&created.text(), "#client-id"), one(&created.text(), "#client-secret"));
    let path = format!("/console/admin/clients/{client_id}");

    // Members it acts for are named on its page.
    let (member, _, _) = app.create_member(&studio("Atelier Lumen")).await;
    let member_id = member["id"].as_str().unwrap();
    let link = app.send(app.request(Method::PUT, &format!("/v1/members/{member_id}/portals/{client_id}"))).await;
    assert_eq!(link.status, 204, "{}", link.text());
    let page = admin.get(&path).await;
    assert_eq!(texts(&page.text(), "ul.linked li"), ["Atelier Lumen"]);
    assert_eq!(attrs(&page.text(), "ul.linked a", "href"), [format!("/console/members/{member_id}")]);

    // Renamed, with wider scopes.
    let saved = admin
        .post(&path, &[("name", "Atelier Net (2027)"), ("scope", "members:read"), ("scope", "members:write")])
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert_eq!(location(&saved), format!("{path}?done=saved"));
    let now = app.get(&format!("/v1/clients/{client_id}")).await.json();
    assert_eq!(now["name"], "Atelier Net (2027)");
    assert_eq!(now["scopes"], json!(["members:read", "members:write"]));
    assert_eq!(now["members"], json!([member_id]));
    assert!(one(&admin.get(&location(&saved)).await.text(), "p.notice").contains("saved"));
    // Every scope taken away: refused, nothing changed.
    let emptied = admin.post(&path, &[("name", "Atelier Net")]).await;
    assert_eq!(emptied.status, 422, "{}", emptied.text());
    assert!(one(&emptied.text(), "#scopes-error").contains("must name at least one of"));
    assert_eq!(app.get(&format!("/v1/clients/{client_id}")).await.json()["name"], "Atelier Net (2027)");

    // Rotated: the old secret is refused, the new one works, and is never shown again.
    let rotated = admin.post(&format!("{path}/secret"), &[]).await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    assert_eq!(rotated.header("cache-control").unwrap(), "no-store");
    assert_eq!(one(&rotated.text(), "h1"), "New client secret");
    assert_eq!(one(&rotated.text(), "#client-id"), client_id);
    let second = one(&rotated.text(), "#client-secret");
    assert_ne!(second, first);
    let old = client_token(&app, &client_id, &first).await;
    assert_eq!((old.status, old.json()["error"].as_str()), (401, Some("invalid_client")));
    let new = client_token(&app, &client_id, &second).await;
    assert_eq!(new.status, 200, "{}", new.text());
    assert_eq!(new.json()["scope"], "members:read members:write");
    assert!(!admin.get(&path).await.text().contains(&second));
    let audit = app.get(&format!("/v1/audit?action=client.secret_rotated&target=client:{client_id}")).await;
    assert_eq!(audit.json()["items"].as_array().unwrap().len(), 1, "{}", audit.text());

    // Disabled: no token, and its token stops working; enabled: tokens again.
    let portal_token = new.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.as_(&portal_token).get(&format!("/v1/members/{member_id}")).await.status, 200);
    let disabled = admin.post(&path, &[("disabled", "true")]).await;
    assert_eq!(disabled.status, 303, "{}", disabled.text());
    assert_eq!(location(&disabled), format!("{path}?done=disabled"));
    assert_eq!(app.get(&format!("/v1/clients/{client_id}")).await.json()["disabled"], true);
    assert_eq!(client_token(&app, &client_id, &second).await.status, 401);
    assert_eq!(app.as_(&portal_token).get(&format!("/v1/members/{member_id}")).await.status, 401);
    let page = admin.get(&path).await;
    assert_eq!(attrs(&page.text(), "input[name=disabled]", "value"), ["false"], "the form now enables");
    assert_eq!(admin.post(&path, &[("disabled", "perhaps")]).await.status, 400);
    let enabled = admin.post(&path, &[("disabled", "false")]).await;
    assert_eq!(enabled.status, 303);
    assert_eq!(client_token(&app, &client_id, &second).await.status, 200);

    // A client that does not exist.
    assert_eq!(admin.get("/console/admin/clients/mmc_nope").await.status, 404);
    assert_eq!(admin.post("/console/admin/clients/mmc_nope/secret", &[]).await.status, 404);
    assert_eq!(admin.post("/console/admin/clients/mmc_nope", &[("disabled", "true")]).await.status, 404);
}

async fn the_clients_list_pages(app: TestApp) {
    let made: Vec<String> = (0..52).map(|_| app.portal(&[ClientScope::MembersRead], &[]).client_id).collect();
    let mut admin = Console::admin(&app).await;
    let first = admin.get("/console/admin?role=admin").await;
    assert_eq!(first.status, 200);
    let html = first.text();
    let ids = texts(&html, "table.clients td code");
    assert_eq!(ids, made[..50], "oldest first, 50 a page");
    assert_eq!(texts(&html, "table.accounts th[scope=row]"), [ADMIN_EMAIL], "the accounts' filter still applies");
    let next = attrs(&html, "section[aria-labelledby=clients-heading] nav.pager a[rel=next]", "href");
    assert_eq!(next, [format!("/console/admin?role=admin&clients_after={}", made[49])]);
    let second = admin.get(&next[0]).await;
    assert_eq!(second.status, 200);
    assert_eq!(texts(&second.text(), "table.clients td code"), made[50..]);
    let back = attrs(&second.text(), "section[aria-labelledby=clients-heading] nav.pager a", "href");
    assert_eq!(back, ["/console/admin?role=admin"]);
}

async fn staff_see_no_accounts_pages(app: TestApp) {
    let (mut staff, _) = Console::staff(&app).await;
    let queue = staff.get("/console/queue").await;
    assert_eq!(queue.status, 200);
    let links = attrs(&queue.text(), "header nav a", "href");
    assert!(links.contains(&"/console/queue".to_owned()), "{links:?}");
    assert!(!links.iter().any(|l| l.starts_with("/console/admin")), "no Accounts link for staff: {links:?}");
    assert!(!texts(&queue.text(), "header nav").concat().contains("Accounts"));
    let refused = staff.get("/console/admin").await;
    assert_eq!(refused.status, 403);
    assert!(refused.text().contains("Only administrators may open this page."));
    let before = users(&app).await.len();
    let post = staff.post("/console/admin/users", &[("email", "sneaky@example.lu"), ("role", "admin")]).await;
    assert_eq!(post.status, 403);
    assert_eq!(users(&app).await.len(), before, "nothing created");

    let mut admin = Console::admin(&app).await;
    let links = attrs(&admin.get("/console/queue").await.text(), "header nav a", "href");
    assert!(links.contains(&"/console/admin".to_owned()), "{links:?}");
}
