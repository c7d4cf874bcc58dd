//! Random secrets and their storage form.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// `bytes` random bytes from the operating system's CSPRNG, base64url without padding.
pub fn random_token(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0_u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// Client secrets are 256 random bits, so a fast hash is as strong as a slow one here (nothing to brute-force);
/// SHA-256 keeps client sign-in cheap.
pub fn hash_client_secret(secret: &str) -> String {
    format!("sha256:{:x}", Sha256::digest(secret.as_bytes()))
}

/// Compare a presented secret with the stored hash in constant time.
pub fn client_secret_matches(secret: &str, stored_hash: &str) -> bool {
    verify_slices_are_equal(hash_client_secret(secret).as_bytes(), stored_hash.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_verify() {
        let a = random_token(32).unwrap();
        let b = random_token(32).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let stored = hash_client_secret(&a);
        assert!(client_secret_matches(&a, &stored));
        assert!(!client_secret_matches(&b, &stored));
    }
}
