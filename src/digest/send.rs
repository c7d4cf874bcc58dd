//! Sending mail: the e-mail built from a stored row (plain text and HTML; for a digest, the one-click unsubscribe
//! headers of RFC 8058 and the list's) and handed to the SMTP server over a connection of its own.

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Message, SmtpTransport, Transport};

use uuid::Uuid;

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

/// One e-mail as the outboxes store it: who it goes to, its rendered parts, and whether it is a digest (with the
/// list's headers and its member's one-click unsubscribe).
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub to: &'a [&'a str],
    pub subject: &'a str,
    pub message_id: &'a str,
    pub language: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    /// The member a digest is for: its unsubscribe link and the list's headers go in.
    pub digest_of: Option<Uuid>,
    /// Made by the service on its own (`Auto-Submitted: auto-generated`), not written by the cluster team.
    pub automatic: bool,
}

impl Digest {
    fn envelope<'a>(&'a self, to: &'a [&'a str]) -> Envelope<'a> {
        Envelope {
            to,
            subject: &self.subject,
            message_id: &self.message_id,
            language: &self.language,
            text: &self.text,
            html: &self.html,
            digest_of: Some(self.member),
            automatic: true,
        }
    }
}

impl Mailer {
    /// The e-mail of a stored digest.
    pub fn message(&self, digest: &Digest) -> Result<Message, SendError> {
        self.build(&digest.envelope(&[digest.recipient.as_str()]))
    }

    /// The e-mail of an envelope.
    pub fn build(&self, e: &Envelope<'_>) -> Result<Message, SendError> {
        let bad =
            |what: &str, e: &dyn std::fmt::Display| SendError { message: format!("{what}: {e}"), permanent: true };
        let from: Mailbox = self.settings.from.parse().map_err(|e| bad("the sender address", &e))?;
        let raw = |name: &'static str, value: String| HeaderValue::new(HeaderName::new_from_ascii_str(name), value);
        let mut builder = Message::builder()
            .from(from)
            .subject(e.subject.to_owned())
            .message_id(Some(e.message_id.to_owned()))
            .raw_header(raw("Content-Language", e.language.to_owned()));
        for to in e.to {
            let address = crate::domain::email::parse_address(to).map_err(|e| bad("the recipient address", &e))?;
            builder = builder.to(Mailbox::new(None, address));
        }
        if let Some(member) = e.digest_of {
            builder = builder
                .header(ListUnsubscribe(format!("<{}>", self.unsubscribe_url(member))))
                .header(ListUnsubscribePost)
                .raw_header(raw("List-Id", format!("Cluster Matchmaker digest <{}>", self.list_id())));
        }
        if e.automatic {
            builder = builder.raw_header(raw("Auto-Submitted", "auto-generated".to_owned()));
        }
        if let Some(reply_to) = &self.settings.reply_to {
            builder = builder.reply_to(reply_to.parse().map_err(|e| bad("the reply-to address", &e))?);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(e.text.to_owned(), e.html.to_owned()))
            .map_err(|e| bad("the message", &e))
    }

    /// Hand one digest to the SMTP server.
    pub fn send(&self, digest: &Digest) -> Result<(), SendError> {
        self.send_envelope(&digest.envelope(&[digest.recipient.as_str()]))
    }

    /// Hand one e-mail to the SMTP server (a connection of its own: nothing is pooled across messages).
    pub fn send_envelope(&self, envelope: &Envelope<'_>) -> Result<(), SendError> {
        let Some(url) = &self.settings.smtp_url else {
            return Err(SendError {
                message: "no SMTP server is configured (MATCHMAKER_SMTP_URL)".into(),
                permanent: false,
            });
        };
        let message = self.build(envelope)?;
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
