//! Weekly digests: what each member receives, rendered, kept in an outbox and sent over SMTP exactly once a week
//! (up to the one window no sender can close: see `outbox`). `compose` writes a member's digest, `send` hands it to
//! the SMTP server, and `outbox` leases the rows in between.

pub mod compose;
pub mod outbox;
pub mod render;
pub mod send;
pub mod token;

use uuid::Uuid;

use crate::config::MailSettings;
pub use crate::domain::digest::{Digest, DigestStatus, IsoWeek};
pub use crate::domain::member::mail_language;
use token::UnsubscribeKey;

/// Everything composing and sending needs besides a connection.
#[derive(Debug, Clone)]
pub struct Mailer {
    pub settings: MailSettings,
    pub key: UnsubscribeKey,
    pub time_zone: chrono_tz::Tz,
}

impl Mailer {
    /// The one-click unsubscribe address of a member (RFC 8058: GET shows a confirmation, POST unsubscribes).
    pub fn unsubscribe_url(&self, member: Uuid) -> String {
        self.page_url("unsubscribe", &self.key.token(member))
    }

    /// `<public URL>/v1/<page>?token=<token>`: the pages a member reaches from a digest without signing in.
    fn page_url(&self, page: &str, token: &str) -> String {
        format!("{}/v1/{page}?token={token}", self.settings.public_url)
    }

    /// The page of one of `member`'s suggestions, where it can answer (`purpose`: react, or say what came of it)
    /// without signing in, until `expires` (GET shows the page, POST records the answer).
    pub fn suggestion_url(
        &self,
        purpose: token::LinkPurpose,
        suggestion: Uuid,
        member: Uuid,
        expires: chrono::DateTime<chrono::Utc>,
    ) -> String {
        self.page_url("suggestion-page", &self.key.suggestion_token(purpose, suggestion, member, expires))
    }

    /// The page where `member`, the other side of `introduction`, consents to it or declines, without signing in,
    /// until `expires`.
    pub fn consent_url(&self, introduction: Uuid, member: Uuid, expires: chrono::DateTime<chrono::Utc>) -> String {
        let token = self.key.suggestion_token(token::LinkPurpose::Consent, introduction, member, expires);
        format!("{}/v1/introduction-page?token={token}", self.settings.public_url)
    }
}

/// Name the concepts of a suggestion's explanation (as `review::view::for_member` shows it) in `lang`, the language
/// of the mail or page it goes into, so that no sentence mixes two languages (a Luxembourgish reader's explanation
/// was made with Luxembourgish labels; the mail is German). A concept the shipped vocabulary does not know keeps
/// its label.
pub fn label_in(view: &mut serde_json::Value, lang: &str) {
    let (Some(lang), Ok(vocab)) =
        (crate::matching::vocabulary::Lang::parse(lang), crate::matching::Vocabulary::shipped_shared())
    else {
        return;
    };
    for list in ["matched", "missing"] {
        let Some(rows) = view["explanation"][list].as_array_mut() else { continue };
        for row in rows {
            let Some(concept) = row["concept"].as_str().and_then(|id| vocab.find(id)) else { continue };
            row["label"] = serde_json::Value::from(vocab.concept(concept).label(lang));
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use crate::domain::member::PreferredLanguage;

    use super::*;

    #[test]
    fn iso_weeks() {
        let t = DateTime::parse_from_rfc3339("2026-11-23T07:30:00Z").unwrap().to_utc();
        assert_eq!(IsoWeek::of(t, chrono_tz::Europe::Luxembourg).to_string(), "2026-W48");
        // Sunday 23:30 UTC is already Monday in Luxembourg.
        let t = DateTime::parse_from_rfc3339("2026-11-29T23:30:00Z").unwrap().to_utc();
        assert_eq!(IsoWeek::of(t, chrono_tz::Europe::Luxembourg).to_string(), "2026-W49");
        assert_eq!(IsoWeek::parse("2026-W48"), Some(IsoWeek { year: 2026, week: 48 }));
        assert_eq!(IsoWeek::parse("2026-W53"), Some(IsoWeek { year: 2026, week: 53 }));
        assert_eq!(IsoWeek::parse("2027-W53"), None);
        assert_eq!(IsoWeek::parse("2026-48"), None);
        assert_eq!(IsoWeek::parse("2026-W0"), None);
    }

    #[test]
    fn explanations_are_labelled_in_the_mail_language() {
        let vocab = crate::matching::Vocabulary::shipped_shared().unwrap();
        let id = vocab.concept(vocab.normalise("sound design").concept.unwrap()).id.clone();
        let lb = vocab.concept(vocab.find(&id).unwrap()).label(crate::matching::vocabulary::Lang::Lb).to_owned();
        let mut view = serde_json::json!({"explanation": {
            "matched": [{"concept": id, "label": lb}, {"concept": null, "label": "3d scanning"}],
            "missing": [{"concept": "no:such", "label": "kept"}],
        }});
        label_in(&mut view, "de");
        let de = vocab.concept(vocab.find(&id).unwrap()).label(crate::matching::vocabulary::Lang::De);
        assert_eq!(view["explanation"]["matched"][0]["label"], de);
        assert_eq!(view["explanation"]["matched"][1]["label"], "3d scanning", "a shared free term keeps its words");
        assert_eq!(view["explanation"]["missing"][0]["label"], "kept");
    }

    #[test]
    fn luxembourgish_falls_back_on_german_or_french() {
        let langs = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(mail_language(PreferredLanguage::Lb, &langs(&["lb", "de", "fr"])), "de");
        assert_eq!(mail_language(PreferredLanguage::Lb, &langs(&["lb", "fr", "en"])), "fr");
        assert_eq!(mail_language(PreferredLanguage::Lb, &langs(&["lb"])), "de");
        assert_eq!(mail_language(PreferredLanguage::Fr, &langs(&["de"])), "fr");
    }
}
