//! Sending a digest: the e-mail built from its stored row (plain text and HTML, the one-click unsubscribe headers of
//! RFC 8058) and handed to the SMTP server over a connection of its own.

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Message, SmtpTransport, Transport};

use super::{Digest, Mailer};

/// Why a send failed, and whether trying again could help.
#[derive(Debug, Clone)]
pub struct SendError {
    pub message: String,
    pub permanent: bool,
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

impl Mailer {
    /// The e-mail of a stored digest.
    pub fn message(&self, digest: &Digest) -> Result<Message, SendError> {
        let bad =
            |what: &str, e: &dyn std::fmt::Display| SendError { message: format!("{what}: {e}"), permanent: true };
        let from: Mailbox = self.settings.from.parse().map_err(|e| bad("the sender address", &e))?;
        let to = Mailbox::new(
            None,
            crate::domain::email::parse_address(&digest.recipient).map_err(|e| bad("the recipient address", &e))?,
        );
        let raw = |name: &'static str, value: String| HeaderValue::new(HeaderName::new_from_ascii_str(name), value);
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(digest.subject.clone())
            .message_id(Some(digest.message_id.clone()))
            .header(ListUnsubscribe(format!("<{}>", self.unsubscribe_url(digest.member))))
            .header(ListUnsubscribePost)
            .raw_header(raw("Content-Language", digest.language.clone()))
            .raw_header(raw("List-Id", format!("Cluster Matchmaker digest <{}>", self.list_id())))
            .raw_header(raw("Auto-Submitted", "auto-generated".to_owned()));
        if let Some(reply_to) = &self.settings.reply_to {
            builder = builder.reply_to(reply_to.parse().map_err(|e| bad("the reply-to address", &e))?);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(digest.text.clone(), digest.html.clone()))
            .map_err(|e| bad("the message", &e))
    }

    /// Hand one digest to the SMTP server (a connection of its own: nothing is pooled across digests).
    pub fn send(&self, digest: &Digest) -> Result<(), SendError> {
        let Some(url) = &self.settings.smtp_url else {
            return Err(SendError {
                message: "no SMTP server is configured (MATCHMAKER_SMTP_URL)".into(),
                permanent: false,
            });
        };
        let message = self.message(digest)?;
        let transport = SmtpTransport::from_url(url)
            .map_err(|e| SendError { message: format!("MATCHMAKER_SMTP_URL: {e}"), permanent: false })?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| SendError { message: e.to_string(), permanent: e.is_permanent() })
    }
}
