//! Limits every request meets before any handler runs: a body must arrive in time, and a path may not carry a NUL.
//!
//! Slow headers are cut off by actix (`client_request_timeout`), but a body has no deadline of its own: a client
//! that declares a large `Content-Length` and then sends a byte every few seconds would hold its connection, and
//! the handler waiting for it, for ever. [`body_deadline`] gives every body a deadline in the manner of Apache's
//! `RequestReadTimeout body=…,MinRate=…`: an initial allowance, extended by one second for every `min_rate` bytes
//! received. When it passes, reading the body fails with a timeout (the handler answers 408) and the connection is
//! closed after the answer, as it is whenever a body was left unread.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, header};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, ResponseError};
use futures_core::Stream;
use tokio::time::{Instant, Sleep};

use crate::config::BodyDeadline;
use crate::http::error::ApiError;

/// The message of the I/O error a body stream fails with when its deadline passes.
const TIMED_OUT: &str = "the request body did not arrive in time";

/// True when reading a body failed because its deadline passed.
pub fn is_timeout(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// A body stream with a deadline; marks `complete` when the body was read to its end. The body itself is shared
/// with the middleware, which keeps an unfinished one alive until the answer is sent: actix closes a connection
/// whose body is unread and still held, but drains a chunked body that was dropped, and a client sending slowly
/// would keep that drain going.
struct DeadlineStream {
    inner: Rc<RefCell<Payload>>,
    started: Instant,
    limits: BodyDeadline,
    received: u64,
    sleep: Pin<Box<Sleep>>,
    complete: Arc<AtomicBool>,
    failed: bool,
}

impl DeadlineStream {
    fn deadline(&self) -> Instant {
        let earned = self.received.checked_div(self.limits.min_rate.max(1)).unwrap_or(0);
        self.started + self.limits.initial + Duration::from_secs(earned)
    }
}

impl Stream for DeadlineStream {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        let next = Pin::new(&mut *self.inner.borrow_mut()).poll_next(cx);
        match next {
            Poll::Ready(Some(Ok(bytes))) => {
                self.received = self.received.saturating_add(bytes.len() as u64);
                let deadline = self.deadline();
                self.sleep.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(None) => {
                self.complete.store(true, Ordering::Release);
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Pending => match self.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.failed = true;
                    let e = std::io::Error::new(std::io::ErrorKind::TimedOut, TIMED_OUT);
                    Poll::Ready(Some(Err(PayloadError::Io(e))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// An answer's body that also holds the request body left unread, so that the connection is closed once the
/// answer is sent.
struct WithUnreadBody {
    answer: BoxBody,
    _unread: Rc<RefCell<Payload>>,
}

impl MessageBody for WithUnreadBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.answer.size()
    }

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.answer).poll_next(cx)
    }
}

/// Whether the request says a body follows.
fn announces_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

/// Give the request's body a deadline, and close the connection after any answer that left a body unread (a client
/// still sending could otherwise keep it busy).
pub async fn body_deadline(
    limits: BodyDeadline,
    mut req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !announces_body(&req) {
        return next.call(req).await;
    }
    let complete = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let body = Rc::new(RefCell::new(req.take_payload()));
    let stream = DeadlineStream {
        inner: body.clone(),
        started,
        limits,
        received: 0,
        sleep: Box::pin(tokio::time::sleep_until(started + limits.initial)),
        complete: complete.clone(),
        failed: false,
    };
    let boxed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(stream);
    req.set_payload(Payload::from(boxed));
    let mut res = next.call(req).await?;
    if complete.load(Ordering::Acquire) {
        return Ok(res);
    }
    res.response_mut().head_mut().set_connection_type(ConnectionType::Close);
    // actix decides whether to close once the answer's body is written: the unread request body rides along with
    // it until then, so it is still held (not drained) at that moment.
    Ok(res.map_body(|_, answer| BoxBody::new(WithUnreadBody { answer, _unread: body })))
}

/// A path that carries a NUL (`%00`) names nothing: storage can't hold such a string, so it is refused here, once,
/// rather than by each route's database query.
pub async fn refuse_nul_in_path(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.path().to_ascii_lowercase().contains("%00") {
        let response = ApiError::NotFound(format!("there is nothing at {}", req.path())).error_response();
        return Ok(req.into_response(response));
    }
    next.call(req).await
}
