//! Passwords: Argon2id hashes (the `argon2` crate's defaults), a policy, and one-time passwords.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::secret::random_token;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 256;

/// Hash a password (Argon2id, random salt, PHC string). Slow on purpose: call it off the async executor.
pub fn hash(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// A hash of nothing anyone knows, verified against when an account does not exist, so that an unknown e-mail costs
/// the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash(&random_token(24).unwrap_or_else(|_| "unguessable-placeholder-secret".to_owned())).unwrap_or_default()
});

/// Compute the dummy hash now (at start-up) rather than during the first sign-in.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

/// Check a password against a stored hash; with no hash, run the same work against the dummy and fail.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    let ok = Argon2::default().verify_password(password.as_bytes(), hash).is_ok();
    ok && real
}

/// Why a new password is refused.
pub fn policy_problem(password: &str, user_inputs: &[&str]) -> Option<String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Some(format!("must have at least {MIN_LENGTH} characters"));
    }
    if length > MAX_LENGTH {
        return Some(format!("must have at most {MAX_LENGTH} characters"));
    }
    // zxcvbn knows the common-password lists, keyboard walks, dates and repeats, and the user's own e-mail.
    let estimate = zxcvbn::zxcvbn(password, user_inputs);
    if (estimate.score() as u8) < 3 {
        return Some("is too common or too easy to guess; a few unrelated words make a good password".to_owned());
    }
    None
}

/// A one-time password for first run and admin resets: 144 random bits.
pub fn one_time() -> anyhow::Result<String> {
    random_token(18)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_unknown_accounts_fail() {
        let h = hash("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery staple", Some(&h)));
        assert!(!verify("wrong horse battery staple", Some(&h)));
        assert!(!verify("correct horse battery staple", None));
    }

    #[test]
    fn policy_refuses_short_and_common_passwords() {
        assert!(policy_problem("short", &[]).is_some());
        assert!(policy_problem("password1234", &[]).is_some());
        assert!(policy_problem("qwertyuiop123", &[]).is_some());
        assert!(policy_problem("anna.muller@studio.lu", &["anna.muller@studio.lu"]).is_some());
        assert!(policy_problem("velvet-otter-grazes-quietly", &[]).is_none());
        assert!(policy_problem(&one_time().unwrap(), &[]).is_none());
    }
}
