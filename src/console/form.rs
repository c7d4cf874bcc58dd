//! A form sent to the console, read whole and checked: its CSRF token must be the session's (or, on the sign-in
//! form, the one the form was served with: its cookie and its field must agree).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use aws_lc_rs::constant_time::verify_slices_are_equal;

use super::error::ConsoleError;
use super::render::{Ctx, text};

/// Forms are small.
const FORM_LIMIT: usize = 64 * 1024;

/// The cookie the sign-in form's token also travels in (there is no session yet to hold it).
pub const SIGN_IN_CSRF_COOKIE: &str = "mm_console_csrf";

/// The fields of a form, in order; its CSRF token already checked.
#[derive(Debug, Clone, Default)]
pub struct Posted {
    fields: Vec<(String, String)>,
}

impl Posted {
    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The value of `name` as sent (not trimmed), for passwords.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Parse a form body.
    pub fn parse(body: &[u8]) -> Self {
        Self { fields: url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect() }
    }
}

fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

impl FromRequest for Posted {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let ctx = req.extensions().get::<Ctx>().cloned().ok_or(ConsoleError::SignedOut)?;
            let media = req.content_type().to_ascii_lowercase();
            if media != "application/x-www-form-urlencoded" {
                return Err(ConsoleError::BadRequest(text(ctx.lang, "error.not_a_form")));
            }
            let bytes = body.await.map_err(|_| ConsoleError::BadRequest(text(ctx.lang, "error.not_a_form")))?;
            if bytes.len() > FORM_LIMIT {
                return Err(ConsoleError::BadRequest(text(ctx.lang, "error.not_a_form")));
            }
            let form = Self::parse(&bytes);
            let sent = form.raw("csrf").unwrap_or("");
            let expected = match &ctx.session {
                Some(session) => session.csrf.clone(),
                None => req.cookie(SIGN_IN_CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default(),
            };
            if !same(sent, &expected) {
                return Err(ConsoleError::Forbidden(text(ctx.lang, "error.csrf")));
            }
            Ok(form)
        })
    }
}
