//! Access and refresh tokens.
//!
//! Access tokens are ES256 JWTs (`jsonwebtoken` with the ES256-only provider
//! of `sealpost_guard::es256`, installed with signing by [`SigningKey`]; ECDSA
//! signatures are deterministic, RFC 6979, so signing needs no randomness)
//! with a `kid` header and the claims of [`AccessClaims`], valid
//! [`ACCESS_TTL_SECS`] (15 minutes). The claim types, `iss`/`aud` and the
//! `kid` derivation live in `sealpost-guard`, which every worker uses to
//! verify; only auth holds a [`SigningKey`].
//!
//! The signing key is the secret `JWT_SIGNING_KEY`: a raw P-256 private
//! scalar, 32 bytes, base64url without padding (generate 32 random bytes;
//! the odds that they are not a valid scalar are ≈ 2⁻³²). Its `kid` is
//! `sealpost_guard::kid_for` the public point, so it changes with the key.
//! `GET /auth/jwks` serves [`jwks`].
//!
//! Refresh tokens are 256 random bits, base64url (43 characters); only
//! their SHA-256 (hex) is stored. No salt or slow hash is needed: the input
//! has full entropy.
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::EncodePrivateKey as _;
use sealpost_ports::{PortError, Rng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use sealpost_guard::{AMR_OTP, AMR_PWD, AUDIENCE, AccessClaims, ISSUER, Role, kid_for};

/// Lifetime of an access token, in seconds (the contract's 15 minutes).
pub const ACCESS_TTL_SECS: i64 = 15 * 60;

/// Why a token could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The signing-key secret is not base64url of a valid P-256 scalar.
    BadKey,
    /// Signing failed (cannot happen with a valid key).
    Signing,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::BadKey => f.write_str("JWT_SIGNING_KEY is not a P-256 private key"),
            TokenError::Signing => f.write_str("signing the access token failed"),
        }
    }
}

impl std::error::Error for TokenError {}

/// The ES256 private key that signs access tokens. `Debug` shows the `kid`
/// only.
pub struct SigningKey {
    secret: p256::SecretKey,
    encoding: EncodingKey,
    public_point: Vec<u8>,
    kid: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// From the `JWT_SIGNING_KEY` secret: a 32-byte scalar, base64url
    /// without padding.
    pub fn from_secret(secret: &str) -> Result<SigningKey, TokenError> {
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(secret.trim())
                .map_err(|_| TokenError::BadKey)?,
        );
        SigningKey::from_scalar(&bytes)
    }

    /// From a raw 32-byte big-endian scalar in `1..n`.
    pub fn from_scalar(scalar: &[u8]) -> Result<SigningKey, TokenError> {
        if scalar.len() != 32 {
            return Err(TokenError::BadKey);
        }
        // Before any token is made (see `sealpost_guard::es256`); `issue`
        // checks it again.
        let _ = sealpost_guard::es256::install_with_signing();
        let secret = p256::SecretKey::from_slice(scalar).map_err(|_| TokenError::BadKey)?;
        let der = secret.to_pkcs8_der().map_err(|_| TokenError::BadKey)?;
        let public_point = secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        Ok(SigningKey {
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            kid: kid_for(&public_point),
            public_point,
            secret,
        })
    }

    /// A fresh random key (dev seeding, tests).
    pub fn generate(rng: &impl Rng) -> Result<SigningKey, PortError> {
        loop {
            let mut scalar = Zeroizing::new([0u8; 32]);
            rng.fill(scalar.as_mut())?;
            if let Ok(key) = SigningKey::from_scalar(scalar.as_ref()) {
                return Ok(key);
            }
        }
    }

    /// The secret form ([`SigningKey::from_secret`] reads it back), for
    /// writing `.dev.vars`. Never log it.
    pub fn to_secret(&self) -> Zeroizing<String> {
        let bytes = self.secret.to_bytes();
        Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_slice()))
    }

    /// The key id in every token's header and in the JWK.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key, uncompressed SEC1 (65 bytes) —
    /// `sealpost_guard::Verifier::from_sec1_points` takes it.
    pub fn public_sec1(&self) -> &[u8] {
        &self.public_point
    }

    /// The public key as a JWK (RFC 7517/7518).
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&self.public_point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&self.public_point[33..65]),
            "kid": self.kid,
            "alg": "ES256",
            "use": "sig",
        })
    }
}

/// The claims of a new access token issued at `now_secs`: `iss`/`aud` ours,
/// `exp = now + 15 min`. `jti` should be `Rng::id()`; `amr` is
/// `[AMR_PWD]` or `[AMR_PWD, AMR_OTP]`.
pub fn access_claims(
    user_id: &str,
    session_id: &str,
    jti: &str,
    roles: &[Role],
    amr: &[&str],
    now_secs: i64,
) -> AccessClaims {
    AccessClaims {
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        sub: user_id.to_owned(),
        sid: session_id.to_owned(),
        jti: jti.to_owned(),
        roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
        amr: amr.iter().map(|m| (*m).to_owned()).collect(),
        iat: now_secs,
        exp: now_secs + ACCESS_TTL_SECS,
    }
}

/// Signs `claims` as an ES256 JWT with `key`'s `kid` in the header.
pub fn issue(claims: &AccessClaims, key: &SigningKey) -> Result<String, TokenError> {
    if !sealpost_guard::es256::install_with_signing() {
        return Err(TokenError::Signing);
    }
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).map_err(|_| TokenError::Signing)
}

/// The JWK set of `GET /auth/jwks`: `{"keys":[…]}` (the current key first;
/// list a retiring key too while tokens it signed are still alive).
pub fn jwks(keys: &[&SigningKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
}

/// Bytes of randomness in a refresh token (256 bits).
pub const REFRESH_TOKEN_BYTES: usize = 32;

/// A new refresh token and the hash to store: `(token, sha256_hex(token))`.
/// The token is base64url without padding (43 characters).
pub fn new_refresh_token(rng: &impl Rng) -> Result<(String, String), PortError> {
    let mut raw = Zeroizing::new([0u8; REFRESH_TOKEN_BYTES]);
    rng.fill(raw.as_mut())?;
    let token = URL_SAFE_NO_PAD.encode(raw.as_ref());
    let hash = hash_refresh_token(&token);
    Ok((token, hash))
}

/// The stored form of a refresh token: lower-case hex SHA-256 of its text.
pub fn hash_refresh_token(token: &str) -> String {
    crate::totp::hex(&Sha256::digest(token.as_bytes()))
}
