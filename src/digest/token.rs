//! Signed links in digests: an HMAC-SHA256 over the link's purpose and what it names, with a key kept like the
//! signing keys, so a link works signed out and after a restart, and a token made for one member (or one suggestion,
//! or one purpose) fails for any other. Unsubscribe links name a member and last as long as the key; a suggestion's
//! links name the suggestion and its member and carry their expiry under the MAC.

use std::path::{Path, PathBuf};

use anyhow::Context;
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::config::Settings;

const PURPOSE: &str = "unsubscribe:digest";

/// The key unsubscribe tokens are made with.
#[derive(Clone)]
pub struct UnsubscribeKey(hmac::Key);

impl std::fmt::Debug for UnsubscribeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnsubscribeKey(..)")
    }
}

/// Where a SQLite deployment keeps its generated key.
pub fn dev_key_path(database_file: &Path) -> PathBuf {
    database_file.with_file_name("unsubscribe.key")
}

/// A new random key, as text (base64url of 32 random bytes).
pub fn generate() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness for a new key"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

impl UnsubscribeKey {
    pub fn new(secret: &str) -> anyhow::Result<Self> {
        let secret = secret.trim();
        anyhow::ensure!(
            secret.len() >= 32,
            "MATCHMAKER_UNSUBSCRIBE_KEY must be at least 32 characters (generate one with `matchmaker keys new`)"
        );
        Ok(Self(hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes())))
    }

    /// The configured key; on SQLite without one, a key generated beside the database on first use.
    pub fn load(settings: &Settings) -> anyhow::Result<Self> {
        match (&settings.mail.unsubscribe_key, settings.database.sqlite_path()) {
            (Some(k), _) => Self::new(k),
            (None, Some(db)) => {
                let path = dev_key_path(db);
                let secret = if path.exists() {
                    std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?
                } else {
                    let secret = generate()?;
                    crate::fsutil::write_private(&path, secret.as_bytes())?;
                    secret
                };
                Self::new(&secret)
            }
            (None, None) => anyhow::bail!(
                "MATCHMAKER_UNSUBSCRIBE_KEY is not set. On PostgreSQL every instance must make unsubscribe links with \
                 the same key: generate one (e.g. `openssl rand -base64 32`) and give it to every instance as \
                 MATCHMAKER_UNSUBSCRIBE_KEY (or a file path in MATCHMAKER_UNSUBSCRIBE_KEY_FILE)"
            ),
        }
    }

    fn message(member: Uuid) -> String {
        format!("{PURPOSE}:{member}")
    }

    /// The token for `member`: its id and the MAC, both URL-safe.
    pub fn token(&self, member: Uuid) -> String {
        let tag = hmac::sign(&self.0, Self::message(member).as_bytes());
        format!("{}.{}", member.simple(), URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The member a token was made for, if it is genuine (compared in constant time).
    pub fn verify(&self, token: &str) -> Option<Uuid> {
        let (member, tag) = token.trim().split_once('.')?;
        let member = Uuid::try_parse(member).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        hmac::verify(&self.0, Self::message(member).as_bytes(), &tag).ok()?;
        Some(member)
    }
}

/// What a suggestion link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// See the suggestion and react to it (interested, not relevant, taken back).
    React,
    /// See the suggestion and say what came of it (met, applied together, funded, nothing).
    Outcome,
    /// The other side of an introduction: see who asks, and consent or decline (the link names the introduction and
    /// the member asked).
    Consent,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::React => "suggestion:react",
            Self::Outcome => "suggestion:outcome",
            Self::Consent => "introduction:consent",
        }
    }
}

/// What a genuine, unexpired suggestion link names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuggestionLink {
    pub suggestion: Uuid,
    pub member: Uuid,
    pub expires: DateTime<Utc>,
}

/// Why a suggestion link does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Not made with our key for this purpose (mistyped, forged, or for another purpose).
    Invalid,
    /// Genuine, but past its expiry.
    Expired,
}

impl UnsubscribeKey {
    fn link_message(purpose: LinkPurpose, suggestion: Uuid, member: Uuid, expires: i64) -> String {
        format!("{}:{suggestion}:{member}:{expires}", purpose.as_str())
    }

    /// A token for `purpose` on `suggestion` of `member`, valid until `expires`: the three and the MAC, URL-safe.
    pub fn suggestion_token(
        &self,
        purpose: LinkPurpose,
        suggestion: Uuid,
        member: Uuid,
        expires: DateTime<Utc>,
    ) -> String {
        let at = expires.timestamp();
        let tag = hmac::sign(&self.0, Self::link_message(purpose, suggestion, member, at).as_bytes());
        format!("{}.{}.{at}.{}", suggestion.simple(), member.simple(), URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// What a suggestion token names, if it is genuine for `purpose` (compared in constant time) and not expired at
    /// `now`. An expired token is told apart only once its MAC is checked.
    pub fn verify_suggestion(
        &self,
        purpose: LinkPurpose,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<SuggestionLink, LinkError> {
        let mut parts = token.trim().split('.');
        let (Some(s), Some(m), Some(at), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkError::Invalid);
        };
        let suggestion = Uuid::try_parse(s).map_err(|_| LinkError::Invalid)?;
        let member = Uuid::try_parse(m).map_err(|_| LinkError::Invalid)?;
        let at: i64 = at.parse().map_err(|_| LinkError::Invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| LinkError::Invalid)?;
        hmac::verify(&self.0, Self::link_message(purpose, suggestion, member, at).as_bytes(), &tag)
            .map_err(|_| LinkError::Invalid)?;
        let expires = DateTime::from_timestamp(at, 0).ok_or(LinkError::Invalid)?;
        if expires <= now {
            return Err(LinkError::Expired);
        }
        Ok(SuggestionLink { suggestion, member, expires })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestion_links_name_one_suggestion_one_member_and_expire() {
        let key = UnsubscribeKey::new(&generate().unwrap()).unwrap();
        let now = Utc::now();
        let (s, m, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let expires = now + chrono::TimeDelta::weeks(8);
        let t = key.suggestion_token(LinkPurpose::React, s, m, expires);
        let link = key.verify_suggestion(LinkPurpose::React, &t, now).unwrap();
        assert_eq!((link.suggestion, link.member, link.expires.timestamp()), (s, m, expires.timestamp()));
        let swapped = t.replacen(&m.simple().to_string(), &other.simple().to_string(), 1);
        assert_eq!(key.verify_suggestion(LinkPurpose::React, &swapped, now), Err(LinkError::Invalid));
        let later = t.replacen(&expires.timestamp().to_string(), &(expires.timestamp() + 86_400).to_string(), 1);
        assert_eq!(key.verify_suggestion(LinkPurpose::React, &later, now), Err(LinkError::Invalid), "expiry is signed");
        let after = expires + chrono::TimeDelta::seconds(1);
        assert_eq!(key.verify_suggestion(LinkPurpose::React, &t, after), Err(LinkError::Expired));
        let other_key = UnsubscribeKey::new(&generate().unwrap()).unwrap();
        assert_eq!(other_key.verify_suggestion(LinkPurpose::React, &t, now), Err(LinkError::Invalid));
        assert_eq!(key.verify(&t), None, "not an unsubscribe token");
        assert_eq!(key.verify_suggestion(LinkPurpose::Outcome, &t, now), Err(LinkError::Invalid), "another purpose");
        assert_eq!(key.verify_suggestion(LinkPurpose::Consent, &t, now), Err(LinkError::Invalid), "another purpose");
        assert_eq!(key.verify_suggestion(LinkPurpose::React, &key.token(m), now), Err(LinkError::Invalid));
    }

    #[test]
    fn tokens_name_one_member_and_one_key() {
        let key = UnsubscribeKey::new(&generate().unwrap()).unwrap();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let t = key.token(a);
        assert_eq!(key.verify(&t), Some(a));
        let (_, tag) = t.split_once('.').unwrap();
        assert_eq!(key.verify(&format!("{}.{tag}", b.simple())), None, "another member with A's MAC");
        let other = UnsubscribeKey::new(&generate().unwrap()).unwrap();
        assert_eq!(other.verify(&t), None, "another key");
        assert_eq!(key.verify("garbage"), None);
        assert!(UnsubscribeKey::new("short").is_err());
    }
}
