//! HTTP layer: one route table that registration, the 405 answers and the contract test all read.

pub mod extract;
pub mod health;
pub mod members;

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, Route, web};

use crate::error::ApiError;

/// One route: method, path template (the same syntax as the OpenAPI document) and handler.
#[derive(Debug, Clone, Copy)]
pub struct RouteDef {
    pub method: &'static str,
    pub path: &'static str,
    /// The OpenAPI `operationId`.
    pub operation: &'static str,
    handler: fn() -> Route,
}

/// Every route the service serves. Adding one here without describing it in `api-spec/openapi.yaml` fails the
/// contract test.
pub const ROUTES: &[RouteDef] = &[
    RouteDef {
        method: "GET",
        path: "/health/live",
        operation: "getLiveness",
        handler: || web::route().to(health::live),
    },
    RouteDef {
        method: "GET",
        path: "/health/ready",
        operation: "getReadiness",
        handler: || web::route().to(health::ready),
    },
    RouteDef {
        method: "GET",
        path: "/v1/members",
        operation: "listMembers",
        handler: || web::route().to(members::list),
    },
    RouteDef {
        method: "POST",
        path: "/v1/members",
        operation: "createMember",
        handler: || web::route().to(members::create),
    },
    RouteDef {
        method: "GET",
        path: "/v1/members/{id}",
        operation: "getMember",
        handler: || web::route().to(members::get),
    },
    RouteDef {
        method: "PATCH",
        path: "/v1/members/{id}",
        operation: "updateMember",
        handler: || web::route().to(members::update),
    },
    RouteDef {
        method: "DELETE",
        path: "/v1/members/{id}",
        operation: "deleteMember",
        handler: || web::route().to(members::delete),
    },
];

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap_or(Method::GET)
}

/// Register every route of [`ROUTES`]; a known path with an unknown method answers 405 with `Allow`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for r in ROUTES {
        if !paths.contains(&r.path) {
            paths.push(r.path);
        }
    }
    for path in paths {
        let routes: Vec<&RouteDef> = ROUTES.iter().filter(|r| r.path == path).collect();
        let mut allow: Vec<Method> = routes.iter().map(|r| method(r.method)).collect();
        if allow.contains(&Method::GET) {
            allow.push(Method::HEAD);
        }
        let mut resource = web::resource(path);
        for r in &routes {
            resource = resource.route((r.handler)().method(method(r.method)));
            if r.method == "GET" {
                resource = resource.route((r.handler)().method(Method::HEAD));
            }
        }
        let resource = resource.default_service(web::to(move |req: HttpRequest| {
            let allow = allow.clone();
            async move {
                Err::<HttpResponse, _>(ApiError::MethodNotAllowed {
                    method: req.method().clone(),
                    allow,
                })
            }
        }));
        cfg.service(resource);
    }
}

/// Anything that matched no route.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "there is nothing at {}",
        req.path()
    )))
}
