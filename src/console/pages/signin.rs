//! Signing in and out, the one-time password's change, the reader's language, and the console's own stylesheet
//! and script.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::app::signin::SignInError;
use crate::app::{self, sessions};
use crate::console::form::{Posted, SIGN_IN_CSRF_COOKIE};
use crate::console::render::{LANGS, see_other, text};
use crate::console::session::{after_sign_in, cleared_cookie, with_session};
use crate::console::{Access, ConsoleConfig, ConsoleError, Ctx, Page, page};
use crate::http::AppState;

pub const PAGES: &[Page] = &[
    page!("GET", "/console/", Access::Public, home),
    page!("GET", "/console/sign-in", Access::Public, sign_in_form),
    page!("POST", "/console/sign-in", Access::Public, sign_in),
    page!("POST", "/console/sign-out", Access::Staff, sign_out),
    page!("GET", "/console/password", Access::Staff, password_form),
    page!("POST", "/console/password", Access::Staff, change_password),
    page!("POST", "/console/language", Access::Public, language),
    page!("GET", "/console/static/console.css", Access::Public, stylesheet),
    page!("GET", "/console/static/console.js", Access::Public, script),
];

/// `/console` and `/console/`: the review queue.
pub async fn home() -> HttpResponse {
    see_other("/console/queue")
}

fn sign_in_page(
    ctx: &Ctx,
    req: &HttpRequest,
    status: u16,
    error: Option<&str>,
    email: &str,
) -> Result<HttpResponse, ConsoleError> {
    // The form's CSRF token travels in a cookie too (no session holds it yet); an existing one is kept so that two
    // open tabs both work.
    let token = match req.cookie(SIGN_IN_CSRF_COOKIE) {
        Some(c) if c.value().len() >= 32 => c.value().to_owned(),
        _ => crate::auth::secret::random_token(32).map_err(ConsoleError::Internal)?,
    };
    let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let ended = query
        .get("ended")
        .map(|e| text(ctx.lang, &format!("signin.ended_{}", if e == "revoked" { "revoked" } else { "expired" })));
    let status = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK);
    let mut res = ctx.page_with_status(
        status,
        "sign_in.html",
        json!({"csrf": token, "next": query.get("next"), "error": error, "notice": ended, "email": email}),
    )?;
    let cookie = actix_web::cookie::Cookie::build(SIGN_IN_CSRF_COOKIE, token)
        .path("/console/")
        .http_only(true)
        .secure(req.app_data::<web::Data<ConsoleConfig>>().is_some_and(|c| c.secure()))
        .same_site(actix_web::cookie::SameSite::Strict)
        .finish();
    let _ = res.add_cookie(&cookie);
    Ok(res)
}

pub async fn sign_in_form(ctx: Ctx, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    if ctx.session.is_some() {
        return Ok(see_other("/console/queue"));
    }
    sign_in_page(&ctx, &req, 200, None, "")
}

pub async fn sign_in(
    ctx: Ctx,
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let email = form.get("email").unwrap_or("").to_owned();
    let password = form.raw("password").unwrap_or("").to_owned();
    let next = after_sign_in(form.get("next"));
    match sessions::sign_in(&state, &config.sessions, ctx.ip.clone(), &email, password).await {
        Ok(opened) => Ok(with_session(&config, see_other(&next), opened.cookie)),
        Err(SignInError::TooMany(wait)) => Err(ConsoleError::TooMany(wait)),
        Err(SignInError::NotStaff) => sign_in_page(&ctx, &req, 403, Some(&text(ctx.lang, "signin.not_staff")), &email),
        Err(SignInError::Failed(e)) => Err(e.into()),
        Err(_) => sign_in_page(&ctx, &req, 401, Some(&text(ctx.lang, "signin.wrong")), &email),
    }
}

pub async fn sign_out(
    ctx: Ctx,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    _form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    sessions::sign_out(&state, ctx.current()?, ctx.ip.clone()).await?;
    let mut res = see_other("/console/sign-in");
    let _ = res.add_cookie(&cleared_cookie(&config));
    Ok(res)
}

pub async fn password_form(ctx: Ctx) -> Result<HttpResponse, ConsoleError> {
    let first = ctx.current()?.user.must_change_password;
    ctx.page("password.html", json!({"first": first}))
}

pub async fn change_password(
    ctx: Ctx,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let current = ctx.current()?.clone();
    let (old, new, again) =
        (form.raw("current").unwrap_or(""), form.raw("new").unwrap_or(""), form.raw("again").unwrap_or(""));
    let first = current.user.must_change_password;
    if new != again {
        let error = text(ctx.lang, "password.mismatch");
        return ctx.page_with_status(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "password.html",
            json!({"first": first, "error": error}),
        );
    }
    let actor = ctx.actor()?;
    let user_id = current.user.id;
    match app::signin::change_password(&state, &actor, user_id, old.to_owned(), new.to_owned()).await {
        Ok(()) => {
            let opened = sessions::renew(&state, &config.sessions, &current).await?;
            Ok(with_session(&config, see_other("/console/queue?changed=password"), opened.cookie))
        }
        Err(app::AppError::Invalid(errors)) => {
            let error = errors.into_iter().map(|e| e.detail).collect::<Vec<_>>().join("; ");
            ctx.page_with_status(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                "password.html",
                json!({"first": first, "error": error}),
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// Choose the console's language (kept in a cookie for a year), then back to the page.
pub async fn language(form: Posted) -> HttpResponse {
    let lang = form.get("lang").filter(|l| LANGS.contains(l)).unwrap_or(LANGS[0]).to_owned();
    let back = after_sign_in(form.get("back"));
    let back = if form.get("back").is_some_and(|b| b.starts_with("/console/sign-in")) {
        "/console/sign-in".to_owned()
    } else {
        back
    };
    let mut res = see_other(&back);
    let cookie = actix_web::cookie::Cookie::build("mm_lang", lang)
        .path("/console/")
        .same_site(actix_web::cookie::SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish();
    let _ = res.add_cookie(&cookie);
    res
}

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

pub async fn stylesheet() -> HttpResponse {
    asset("text/css; charset=utf-8", include_str!("../../../assets/console/static/console.css"))
}

pub async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", include_str!("../../../assets/console/static/console.js"))
}
