//! Unsubscribe links: an HMAC-SHA256 over (purpose, member) with a key kept like the signing keys, so a link works
//! signed out and after a restart, and a token made for one member fails for any other.

use std::path::{Path, PathBuf};

use anyhow::Context;
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

#[cfg(test)]
mod tests {
    use super::*;

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
