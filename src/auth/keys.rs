//! Signing keys for access tokens: Ed25519 (EdDSA), each named by its RFC 7638 thumbprint (`kid`).
//!
//! The current key signs; previous keys listed in the configuration still verify until their tokens have expired,
//! which is how a key is rotated without signing anyone out. `GET /.well-known/jwks.json` publishes the public halves.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use aws_lc_rs::signature::Ed25519KeyPair;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

/// A key that verifies.
#[derive(Clone)]
pub struct VerifyingKey {
    pub kid: String,
    pub decoding: DecodingKey,
    pub jwk: Jwk,
}

/// The key that signs.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
}

/// The signing key and every key that still verifies.
#[derive(Clone)]
pub struct KeyRing {
    pub signer: SigningKey,
    verifiers: HashMap<String, VerifyingKey>,
    order: Vec<String>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("signer", &self.signer.kid).field("verifiers", &self.order).finish()
    }
}

/// A new Ed25519 private key as PKCS#8 v1 PEM. (A v2 document signs, but `Jwk::from_encoding_key` refuses it.)
pub fn generate_pem() -> anyhow::Result<String> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let document =
        Ed25519KeyPair::generate_pkcs8v1(&rng).map_err(|_| anyhow::anyhow!("could not generate an Ed25519 key"))?;
    Ok(pem::encode(&pem::Pem::new("PRIVATE KEY", document.as_ref().to_vec())))
}

fn with_kid(mut jwk: Jwk) -> anyhow::Result<(String, Jwk)> {
    let kid = jwk.thumbprint(ThumbprintHash::SHA256).context("cannot compute the key's thumbprint")?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok((kid, jwk))
}

fn private_key(block: &pem::Pem) -> anyhow::Result<(SigningKey, VerifyingKey)> {
    let encoding = EncodingKey::from_ed_der(block.contents());
    let jwk = Jwk::from_encoding_key(&encoding, Algorithm::EdDSA)
        .context("not an Ed25519 private key in PKCS#8 v1 form (generate one with `matchmaker keys new`)")?;
    let (kid, jwk) = with_kid(jwk)?;
    let x = match &jwk.algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(p) => p.x.clone(),
        _ => anyhow::bail!("not an Ed25519 key"),
    };
    let decoding = DecodingKey::from_ed_components(&x).context("cannot derive the public key")?;
    Ok((SigningKey { kid: kid.clone(), encoding }, VerifyingKey { kid, decoding, jwk }))
}

fn public_key(block: &pem::Pem) -> anyhow::Result<VerifyingKey> {
    let decoding = DecodingKey::from_ed_pem(pem::encode(block).as_bytes()).context("not an Ed25519 public key")?;
    let jwk = Jwk::from_decoding_key(&decoding, Some(Algorithm::EdDSA)).context("not an Ed25519 public key")?;
    let (kid, jwk) = with_kid(jwk)?;
    Ok(VerifyingKey { kid, decoding, jwk })
}

impl KeyRing {
    /// `current`: one PEM private key. `previous`: any number of PEM keys (private or public) that still verify.
    pub fn from_pems(current: &str, previous: &str) -> anyhow::Result<Self> {
        let blocks = pem::parse_many(current).context("the signing key is not PEM")?;
        let [block] = blocks.as_slice() else {
            anyhow::bail!("the signing key must be exactly one PEM private key, found {} blocks", blocks.len());
        };
        anyhow::ensure!(
            block.tag() == "PRIVATE KEY",
            "the signing key must be a `PRIVATE KEY`, found `{}`",
            block.tag()
        );
        let (signer, own) = private_key(block)?;
        let mut ring = Self { signer, verifiers: HashMap::new(), order: Vec::new() };
        ring.add(own);
        for block in pem::parse_many(previous).context("the previous keys are not PEM")? {
            let key = match block.tag() {
                "PRIVATE KEY" => private_key(&block)?.1,
                "PUBLIC KEY" => public_key(&block)?,
                other => anyhow::bail!("a previous key must be a PRIVATE KEY or PUBLIC KEY, found `{other}`"),
            };
            ring.add(key);
        }
        Ok(ring)
    }

    fn add(&mut self, key: VerifyingKey) {
        if !self.verifiers.contains_key(&key.kid) {
            self.order.push(key.kid.clone());
            self.verifiers.insert(key.kid.clone(), key);
        }
    }

    pub fn verifier(&self, kid: &str) -> Option<&VerifyingKey> {
        self.verifiers.get(kid)
    }

    /// The public keys, signer first.
    pub fn jwks(&self) -> JwkSet {
        JwkSet { keys: self.order.iter().filter_map(|kid| self.verifiers.get(kid)).map(|k| k.jwk.clone()).collect() }
    }
}

/// Where the development key lives on SQLite: beside the database file.
pub fn dev_key_path(database_file: &Path) -> PathBuf {
    database_file.with_file_name("jwt-signing-key.pem")
}

/// Read the development key, creating it (mode 0600) on first use.
pub fn load_or_create_dev_key(path: &Path) -> anyhow::Result<String> {
    if path.exists() {
        return std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()));
    }
    let pem = generate_pem()?;
    crate::fsutil::write_private(path, pem.as_bytes())?;
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_publish_a_thumbprint_kid() {
        let current = generate_pem().unwrap();
        let ring = KeyRing::from_pems(&current, "").unwrap();
        assert_eq!(ring.signer.kid.len(), 43, "base64url SHA-256");
        let jwks = serde_json::to_value(ring.jwks()).unwrap();
        let key = &jwks["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["kid"], ring.signer.kid.as_str());
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none(), "no private part is published");
    }

    #[test]
    fn previous_keys_still_verify() {
        let old = generate_pem().unwrap();
        let new = generate_pem().unwrap();
        let old_ring = KeyRing::from_pems(&old, "").unwrap();
        let ring = KeyRing::from_pems(&new, &old).unwrap();
        assert_ne!(ring.signer.kid, old_ring.signer.kid);
        assert!(ring.verifier(&old_ring.signer.kid).is_some());
        assert_eq!(ring.jwks().keys.len(), 2);
        assert!(KeyRing::from_pems("nonsense", "").is_err());
        assert!(KeyRing::from_pems(&format!("{old}{new}"), "").is_err(), "one signing key only");
    }
}
