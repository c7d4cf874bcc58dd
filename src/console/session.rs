//! The console's guard: the request's origin, its session cookie, and who may open the page.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::ServiceRequest;
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};

use super::error::ConsoleError;
use super::render::{Ctx, lang_of, see_other, text};
use super::{Access, ConsoleConfig, Page};
use crate::app::sessions::{self, Ended};
use crate::http::AppState;

/// The session cookie's name: `__Host-` prefixed when it can be (https: `Secure`, no `Domain`, `Path=/`).
pub fn cookie_name(config: &ConsoleConfig) -> &'static str {
    if config.secure() { "__Host-mm_console" } else { "mm_console" }
}

/// The cookie that carries a new session (`HttpOnly`, `SameSite=Strict`, `Secure` over https; a browser session
/// cookie: the server ends the session on its own timeouts).
pub fn session_cookie(config: &ConsoleConfig, value: String) -> Cookie<'static> {
    Cookie::build(cookie_name(config), value)
        .path("/")
        .http_only(true)
        .secure(config.secure())
        .same_site(SameSite::Strict)
        .finish()
}

/// The cookie that ends the session in the browser.
pub fn cleared_cookie(config: &ConsoleConfig) -> Cookie<'static> {
    let mut c = session_cookie(config, String::new());
    c.set_max_age(CookieDuration::ZERO);
    c
}

/// The origins the console is served from: the public URL's and the one the request was addressed to.
fn same_origin(req: &HttpRequest, config: &ConsoleConfig) -> bool {
    let headers = req.headers();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match origin {
        Some(origin) => {
            let public = url::Url::parse(&config.public_url).ok().map(|u| u.origin().ascii_serialization());
            let info = req.connection_info();
            let addressed = format!("{}://{}", info.scheme(), info.host());
            public.as_deref() == Some(origin) || origin == addressed
        }
        // No Origin (older browsers on some requests): the Fetch metadata must not say cross-site.
        None => match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
            Some(site) => matches!(site, "same-origin" | "none"),
            None => true,
        },
    }
}

fn refuse(ctx: &Ctx, e: &ConsoleError) -> HttpResponse {
    let status = actix_web::ResponseError::status_code(e);
    ctx.page_with_status(
        status,
        "error.html",
        serde_json::json!({
            "status": status.as_u16(),
            "title": text(ctx.lang, &format!("error.{}", status.as_u16())),
            "detail": e.to_string(),
        }),
    )
    .unwrap_or_else(|_| actix_web::ResponseError::error_response(e))
}

/// Let a request through to its page, with its context, or answer it here: a cross-origin form is refused (403); no
/// session sends a GET to the sign-in form (and anything else gets 401); a password to change first sends there;
/// an administrators' page refuses staff (403).
pub async fn admit(page: &Page, req: &ServiceRequest) -> Result<Ctx, HttpResponse> {
    let lang = lang_of(req.request());
    let mut ctx = Ctx { lang, session: None, ip: None, path: path_and_query(req.request()) };
    let (Some(state), Some(config)) =
        (req.app_data::<web::Data<AppState>>().cloned(), req.app_data::<web::Data<ConsoleConfig>>().cloned())
    else {
        return Err(refuse(&ctx, &ConsoleError::Internal(anyhow::anyhow!("console state missing"))));
    };
    ctx.ip = crate::http::client_ip(req.request(), &state).map(|ip| ip.to_string());
    let reading = matches!(*req.method(), Method::GET | Method::HEAD);
    if !reading && !same_origin(req.request(), &config) {
        let e = ConsoleError::Forbidden(text(lang, "error.cross_origin"));
        return Err(refuse(&ctx, &e));
    }
    let ended = match req.cookie(cookie_name(&config)) {
        Some(c) if !c.value().is_empty() => match sessions::current(&state, &config.sessions, c.value()).await {
            Ok(Ok(current)) => {
                ctx.session = Some(current);
                None
            }
            Ok(Err(ended)) => Some(ended),
            Err(e) => return Err(refuse(&ctx, &e.into())),
        },
        _ => None,
    };
    if page.access == Access::Public {
        return Ok(ctx);
    }
    let Some(current) = ctx.session.as_ref() else {
        return Err(signed_out(&ctx, &config, reading, ended));
    };
    if current.user.must_change_password && !matches!(page.path, "/console/password" | "/console/sign-out") {
        return Err(see_other("/console/password"));
    }
    if page.access == Access::Admin && !current.caller.is_admin() {
        return Err(refuse(&ctx, &ConsoleError::Forbidden(text(lang, "error.admins_only"))));
    }
    Ok(ctx)
}

/// No session: a page asked for is sent to the sign-in form (which comes back to it); a form sent is refused.
fn signed_out(ctx: &Ctx, config: &ConsoleConfig, reading: bool, ended: Option<Ended>) -> HttpResponse {
    let why = match ended {
        Some(Ended::Expired) => "&ended=expired",
        Some(Ended::Revoked) => "&ended=revoked",
        Some(Ended::Unknown) | None => "",
    };
    let mut res = if reading {
        let next: String = url::form_urlencoded::byte_serialize(ctx.path.as_bytes()).collect();
        see_other(&format!("/console/sign-in?next={next}{why}"))
    } else {
        refuse(ctx, &ConsoleError::SignedOut)
    };
    if ended.is_some() {
        let _ = res.add_cookie(&cleared_cookie(config));
    }
    res
}

fn path_and_query(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    }
}

/// Where to go after signing in: a console path given in `next`, else the review queue (never another site).
pub fn after_sign_in(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console/") && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/console/queue".to_owned(),
    }
}

/// Open a session for a signed-in account: the response carrying its cookie.
pub fn with_session(config: &ConsoleConfig, mut res: HttpResponse, cookie: String) -> HttpResponse {
    let _ = res.add_cookie(&session_cookie(config, cookie));
    res
}
