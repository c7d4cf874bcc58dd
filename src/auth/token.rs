//! Access tokens: JWTs signed with the current key, checked against every key that still verifies. Time is the
//! application's clock (with 30 s leeway), not the library's, so tests and the rest of the service agree on "now".

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};

use super::keys::KeyRing;

/// Tolerance for clocks that disagree a little.
pub const LEEWAY_SECONDS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// `user:<uuid>` or `client:<client_id>`.
    pub sub: String,
    /// `member`, `staff`, `admin`, or `portal`.
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    pub scope: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub token_version: i64,
}

/// Why a token is refused; said in `WWW-Authenticate`'s `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    #[error("the token's signing key is unknown")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued for another issuer or audience")]
    WrongParty,
    #[error("the token has been revoked")]
    Revoked,
}

/// Who issues tokens and for whom.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub ttl_seconds: i64,
}

/// Sign `claims` with the current key; the header names it by `kid`.
pub fn issue(keys: &KeyRing, claims: &Claims) -> anyhow::Result<String> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(keys.signer.kid.clone());
    encode(&header, claims, &keys.signer.encoding).map_err(|e| anyhow::anyhow!("cannot sign a token: {e}"))
}

/// Verify signature, algorithm, key, issuer, audience and validity period. Whether the account still exists and the
/// token is not revoked is for the caller to check against the database.
pub fn verify(keys: &KeyRing, settings: &TokenSettings, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
    let claims = verify_signed(keys, settings, token)?;
    check_period(&claims, now)?;
    Ok(claims)
}

/// What [`verify`] checks that does not depend on the time: the same token always gets the same answer (the keys
/// and the issuer and audience are fixed for the life of the process).
pub fn verify_signed(keys: &KeyRing, settings: &TokenSettings, token: &str) -> Result<Claims, TokenError> {
    let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.alg != Algorithm::EdDSA {
        return Err(TokenError::Algorithm);
    }
    let key = header.kid.as_deref().and_then(|kid| keys.verifier(kid)).ok_or(TokenError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&settings.issuer]);
    validation.set_audience(&[&settings.audience]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    validation.required_spec_claims =
        ["exp", "nbf", "iat", "iss", "aud", "sub"].iter().map(|s| (*s).to_owned()).collect::<HashSet<_>>();
    let claims = decode::<Claims>(token, &key.decoding, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => TokenError::Signature,
            ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => TokenError::WrongParty,
            ErrorKind::InvalidAlgorithm => TokenError::Algorithm,
            _ => TokenError::Malformed,
        })?
        .claims;
    Ok(claims)
}

/// Whether `now` is within the token's validity period.
pub fn check_period(claims: &Claims, now: DateTime<Utc>) -> Result<(), TokenError> {
    let now = now.timestamp();
    if claims.nbf > now + LEEWAY_SECONDS || claims.iat > now + LEEWAY_SECONDS {
        return Err(TokenError::NotYetValid);
    }
    if now > claims.exp + LEEWAY_SECONDS {
        return Err(TokenError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::generate_pem;
    use chrono::TimeDelta;

    fn setup() -> (KeyRing, TokenSettings, Claims, DateTime<Utc>) {
        let keys = KeyRing::from_pems(&generate_pem().unwrap(), "").unwrap();
        let settings = TokenSettings { issuer: "mm".into(), audience: "mm-api".into(), ttl_seconds: 900 };
        let now = DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().to_utc();
        let claims = Claims {
            iss: "mm".into(),
            aud: "mm-api".into(),
            sub: "user:1".into(),
            role: "staff".into(),
            member_id: None,
            scope: String::new(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: now.timestamp() + 900,
            jti: "j".into(),
            token_version: 1,
        };
        (keys, settings, claims, now)
    }

    #[test]
    fn round_trip_and_time_window() {
        let (keys, settings, claims, now) = setup();
        let token = issue(&keys, &claims).unwrap();
        assert_eq!(verify(&keys, &settings, &token, now).unwrap(), claims);
        assert_eq!(verify(&keys, &settings, &token, now + TimeDelta::seconds(929)).unwrap(), claims, "leeway");
        assert_eq!(verify(&keys, &settings, &token, now + TimeDelta::seconds(931)), Err(TokenError::Expired));
        assert_eq!(verify(&keys, &settings, &token, now - TimeDelta::seconds(31)), Err(TokenError::NotYetValid));
    }

    #[test]
    fn other_keys_issuers_and_audiences_fail() {
        let (keys, settings, claims, now) = setup();
        let other = KeyRing::from_pems(&generate_pem().unwrap(), "").unwrap();
        let token = issue(&other, &claims).unwrap();
        assert_eq!(verify(&keys, &settings, &token, now), Err(TokenError::UnknownKey));
        let wrong_aud = Claims { aud: "elsewhere".into(), ..claims.clone() };
        assert_eq!(verify(&keys, &settings, &issue(&keys, &wrong_aud).unwrap(), now), Err(TokenError::WrongParty));
        let wrong_iss = Claims { iss: "elsewhere".into(), ..claims };
        assert_eq!(verify(&keys, &settings, &issue(&keys, &wrong_iss).unwrap(), now), Err(TokenError::WrongParty));
        assert_eq!(verify(&keys, &settings, "not.a.token", now), Err(TokenError::Malformed));
    }
}
