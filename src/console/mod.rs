//! The staff console: server-rendered pages under `/console/` over the same use-cases as the API, for `staff` and
//! `admin` accounts signed in with a session cookie. One table of pages, like the API's route table: registration,
//! the session guard and the console's authorisation test all read it.
//!
//! Every state-changing form carries the session's CSRF token (checked when the form is read, see [`form::Posted`]),
//! and every request other than GET or HEAD must come from the console's own origin (`Origin`, else
//! `Sec-Fetch-Site`). Pages are HTML, so failures are HTML pages too (in the reader's language), not problem+json.

pub mod error;
pub mod form;
pub mod pages;
pub mod query;
pub mod render;
pub mod session;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpMessage, Route, web};

use crate::config::ConsoleSettings;
pub use error::ConsoleError;
pub use render::Ctx;

/// Who may open a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the sign-in form, the stylesheet).
    Public,
    /// Staff and administrators.
    Staff,
    /// Administrators only.
    Admin,
}

/// One page or form target: method, path (actix syntax), who may call it, and its handler.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    handler: fn() -> Route,
}

macro_rules! page {
    ($method:literal, $path:literal, $access:expr, $handler:path) => {
        $crate::console::Page {
            method: $method,
            path: $path,
            access: $access,
            handler: || actix_web::web::route().to($handler),
        }
    };
}
pub(crate) use page;

/// Every page of the console, by area.
pub const PAGES: &[&[Page]] = &[
    pages::signin::PAGES,
    pages::queue::PAGES,
    pages::members::PAGES,
    pages::projects::PAGES,
    pages::vocabulary::PAGES,
    pages::cluster::PAGES,
    pages::admin::PAGES,
];

/// Every page, flattened.
pub fn pages() -> impl Iterator<Item = &'static Page> {
    PAGES.iter().flat_map(|area| area.iter())
}

/// What the console needs besides the use-cases' services.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    pub sessions: ConsoleSettings,
    /// Where people reach the service (`MATCHMAKER_PUBLIC_URL`): its origin is the console's, and the session cookie
    /// is `Secure` (and `__Host-` prefixed) when it is https.
    pub public_url: String,
}

impl ConsoleConfig {
    pub fn secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap_or(Method::GET)
}

async fn guarded(
    page: &'static Page,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let (started, method) = (std::time::Instant::now(), req.method().to_string());
    let ctx = match session::admit(page, &req).await {
        Ok(ctx) => ctx,
        Err(refused) => {
            let res = req.into_response(refused);
            crate::metrics::request(page.path, &method, res.status().as_u16(), started.elapsed());
            return Ok(res);
        }
    };
    req.extensions_mut().insert(ctx.clone());
    let res = next.call(req).await?;
    let res = error::rendered(&ctx, res);
    crate::metrics::request(page.path, &method, res.status().as_u16(), started.elapsed());
    Ok(res)
}

/// Register every page of [`PAGES`] under `/console`; any other method on a page's path answers 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for p in pages() {
        if !paths.contains(&p.path) {
            paths.push(p.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path);
        for p in pages().filter(|p| p.path == path) {
            let mut methods = vec![method(p.method)];
            if p.method == "GET" {
                methods.push(Method::HEAD);
            }
            for m in methods {
                let route = (p.handler)()
                    .method(m)
                    .wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| guarded(p, req, next)));
                resource = resource.route(route);
            }
        }
        cfg.service(resource.default_service(web::to(error::method_not_allowed)));
    }
    cfg.service(web::resource("/console").route(web::get().to(pages::signin::home)));
}
