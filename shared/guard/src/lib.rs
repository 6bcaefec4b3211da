//! The one access-token guard every worker uses. It holds public
//! keys only: auth signs access tokens, everyone else verifies them here.
//!
//! An access token is an ES256 JWT (`jsonwebtoken` with the ES256-only
//! provider of [`es256`]) with a `kid` header and the claims of
//! [`AccessClaims`]. [`Verifier::verify`] accepts exactly ES256 — `none`,
//! HMAC (`HS256` signed with the public key), RSA and every other algorithm
//! are refused before any key is touched — and answers `AUTH_TOKEN_INVALID`
//! for anything malformed, forged, foreign (unknown `kid`, wrong `iss`/`aud`)
//! or expired. Time is an argument, never read from a global clock.
//!
//! Clock skew: a token is accepted while `now < exp + LEEWAY_SECS` and while
//! `iat <= now + LEEWAY_SECS`; [`LEEWAY_SECS`] is 5 s (Workers' clocks are
//! NTP-synchronised; 5 s only absorbs the gap between the issuing and the
//! verifying isolate).
//!
//! Roles form a hierarchy, `admin ⊇ editor ⊇ member` ([`Role`]): a route that
//! needs `editor` admits an admin too, and every authenticated account is at
//! least a `member` even if its token lists no role. Every `/admin/*` route
//! also needs a second factor: [`require_staff`] = [`require_staff_mfa`]
//! (`amr` contains `"otp"`) + [`require_role`].
//!
//! Revocation is not decided here: a verified token is authentic and unexpired,
//! nothing more. A caller that must honour logout/revoked sessions passes a
//! [`RevocationCheck`] to [`Verifier::verify_live`]; the one over the shared
//! sessions table is [`SessionCheck`] ([`session`]).
#![forbid(unsafe_code)]

pub mod es256;
pub mod session;
pub use session::{SessionCheck, live_caller};

/// Whether a request needs the access-token keys before its core runs (a
/// worker other than auth fetches them from auth; each core says when).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyNeed {
    /// The route never reads a token, or the request carries none.
    None,
    /// The route refuses the request without the keys.
    Required,
    /// The route reads a token if it can; without keys it goes on as if
    /// there were none.
    BestEffort,
}

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sealpost_api::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `iss` of every access token.
pub const ISSUER: &str = "sealpost-auth";
/// The `aud` of every access token.
pub const AUDIENCE: &str = "sealpost";
/// Accepted clock skew between issuer and verifier, in seconds.
pub const LEEWAY_SECS: i64 = 5;
/// Tokens longer than this are refused unparsed (ours are ≈ 450 bytes).
pub const MAX_TOKEN_LEN: usize = 4096;
/// `amr` value: password.
pub const AMR_PWD: &str = "pwd";
/// `amr` value: a TOTP code (RFC 8176 "otp").
pub const AMR_OTP: &str = "otp";

/// A role, ordered by power: `Member < Editor < Admin`; a higher role
/// includes every lower one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Member,
    Editor,
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Member, Role::Editor, Role::Admin];

    /// The wire name: `"member"`, `"editor"`, `"admin"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// Parses a wire name (exact, lower-case); anything else is `None`.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether holding `self` satisfies a route that needs `required`.
    pub fn includes(self, required: Role) -> bool {
        self >= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims of an access token (the API contract, Auth).
///
/// `roles` and `amr` stay strings on the wire so that a role or method added
/// later does not make older guards refuse the whole token; unknown roles
/// grant nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The session (refresh-token family) id.
    pub sid: String,
    /// This token's id.
    pub jti: String,
    pub roles: Vec<String>,
    /// Authentication methods: `["pwd"]` or `["pwd","otp"]`.
    pub amr: Vec<String>,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
}

impl AccessClaims {
    /// The highest known role in `roles`; `Member` when none is listed (every
    /// authenticated account is a member).
    pub fn role(&self) -> Role {
        self.roles
            .iter()
            .filter_map(|r| Role::parse(r))
            .max()
            .unwrap_or(Role::Member)
    }

    /// Whether the token satisfies a route that needs `required` (hierarchy).
    pub fn has_role(&self, required: Role) -> bool {
        self.role().includes(required)
    }

    /// Whether the session was opened with a second factor (`amr` has `otp`).
    pub fn has_otp(&self) -> bool {
        self.amr.iter().any(|m| m == AMR_OTP)
    }
}

/// The key id of a P-256 public key: base64url (no padding) of the first 8
/// bytes of SHA-256 over its uncompressed SEC1 encoding (11 characters).
/// Auth derives the `kid` header the same way.
pub fn kid_for(sec1_uncompressed: &[u8]) -> String {
    let digest = Sha256::digest(sec1_uncompressed);
    URL_SAFE_NO_PAD.encode(&digest[..8])
}

/// A public key set that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(&'static str);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unusable verification key: {}", self.0)
    }
}

impl std::error::Error for KeyError {}

struct PublicKey {
    kid: String,
    key: DecodingKey,
}

/// Verifies access tokens against one or more public keys (several during a
/// signing-key rotation), selected by the token's `kid`.
pub struct Verifier {
    keys: Vec<PublicKey>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("Verifier").field("kids", &kids).finish()
    }
}

fn invalid() -> ApiError {
    ApiError::new(ErrorCode::AuthTokenInvalid)
}

fn checked_point(sec1: &[u8]) -> Result<Vec<u8>, KeyError> {
    let key = p256::PublicKey::from_sec1_bytes(sec1).map_err(|_| KeyError("not a P-256 point"))?;
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    Ok(key.to_encoded_point(false).as_bytes().to_vec())
}

impl Verifier {
    /// From public keys as SEC1 points (compressed or not); each key's `kid`
    /// is [`kid_for`] its uncompressed encoding.
    pub fn from_sec1_points<P: AsRef<[u8]>>(points: &[P]) -> Result<Verifier, KeyError> {
        let mut keys = Vec::with_capacity(points.len());
        for point in points {
            let uncompressed = checked_point(point.as_ref())?;
            keys.push(PublicKey {
                kid: kid_for(&uncompressed),
                key: DecodingKey::from_ec_der(&uncompressed),
            });
        }
        Verifier::new(keys)
    }

    /// From a JWK set (`GET /auth/jwks`): every `EC`/`P-256` key with a `kid`
    /// whose `alg` (if given) is `ES256` and `use` (if given) is `sig`. Other
    /// keys are skipped; a malformed P-256 key is an error.
    pub fn from_jwks(jwks: &Value) -> Result<Verifier, KeyError> {
        let list = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(KeyError("no \"keys\" array"))?;
        let mut keys = Vec::new();
        for jwk in list {
            let field = |name: &str| jwk.get(name).and_then(Value::as_str);
            let usable = field("kty") == Some("EC")
                && field("crv") == Some("P-256")
                && field("alg").is_none_or(|a| a == "ES256")
                && field("use").is_none_or(|u| u == "sig");
            if !usable {
                continue;
            }
            let kid = field("kid").ok_or(KeyError("a key has no kid"))?;
            let coord = |name: &str| -> Result<Vec<u8>, KeyError> {
                let raw = URL_SAFE_NO_PAD
                    .decode(field(name).ok_or(KeyError("missing coordinate"))?)
                    .map_err(|_| KeyError("coordinate is not base64url"))?;
                if raw.len() == 32 {
                    Ok(raw)
                } else {
                    Err(KeyError("coordinate is not 32 bytes"))
                }
            };
            let mut point = vec![0x04];
            point.extend(coord("x")?);
            point.extend(coord("y")?);
            let point = checked_point(&point)?;
            keys.push(PublicKey {
                kid: kid.to_owned(),
                key: DecodingKey::from_ec_der(&point),
            });
        }
        Verifier::new(keys)
    }

    fn new(keys: Vec<PublicKey>) -> Result<Verifier, KeyError> {
        if keys.is_empty() {
            return Err(KeyError("no ES256 key"));
        }
        // As early as possible (see `es256`); `verify` checks it again.
        let _ = es256::install();
        Ok(Verifier { keys })
    }

    /// The key ids this verifier accepts.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.kid.as_str())
    }

    /// Verifies `token` at `now_secs` (Unix seconds): ES256 only, a known
    /// `kid`, a valid signature, `iss`/`aud` ours, not expired (with
    /// [`LEEWAY_SECS`]), not issued in the future. Every failure is
    /// `AUTH_TOKEN_INVALID`. Revocation is not checked (see
    /// [`Verifier::verify_live`]).
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<AccessClaims, ApiError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(invalid());
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != Algorithm::ES256 {
            return Err(invalid());
        }
        let kid = header.kid.as_deref().ok_or_else(invalid)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(invalid)?;

        // Our provider must be the one in force (see `es256`): fail closed.
        if !es256::install() {
            return Err(invalid());
        }
        // Time and audience are checked below against the injected clock;
        // jsonwebtoken would read the system clock.
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.key, &validation)
            .map_err(|_| invalid())?;
        let claims = data.claims;

        let fresh = now_secs < claims.exp.saturating_add(LEEWAY_SECS)
            && claims.iat <= now_secs.saturating_add(LEEWAY_SECS)
            && claims.iat < claims.exp;
        let ours = claims.iss == ISSUER && claims.aud == AUDIENCE;
        let complete = !claims.sub.is_empty() && !claims.sid.is_empty() && !claims.jti.is_empty();
        if fresh && ours && complete {
            Ok(claims)
        } else {
            Err(invalid())
        }
    }

    /// [`Verifier::verify`] from an `Authorization` header value: no usable
    /// bearer token is `AUTH_REQUIRED`, a bad one `AUTH_TOKEN_INVALID`.
    pub fn authenticate(
        &self,
        authorization: Option<&str>,
        now_secs: i64,
    ) -> Result<AccessClaims, ApiError> {
        self.verify(bearer(authorization)?, now_secs)
    }

    /// [`Verifier::verify`], then asks `revocation` whether the token's
    /// session was ended: `AUTH_TOKEN_REVOKED` if so.
    pub async fn verify_live<R: RevocationCheck + ?Sized>(
        &self,
        token: &str,
        now_secs: i64,
        revocation: &R,
    ) -> Result<AccessClaims, ApiError> {
        let claims = self.verify(token, now_secs)?;
        if revocation.is_revoked(&claims).await? {
            return Err(ApiError::new(ErrorCode::AuthTokenRevoked));
        }
        Ok(claims)
    }
}

/// Extension point for revocation (logout, revoked sessions, password
/// change): implemented by the caller over its session store, typically
/// keyed by `claims.sid`. An error (store unavailable) is returned as is:
/// the guard fails closed.
#[allow(async_fn_in_trait)]
pub trait RevocationCheck {
    /// `Ok(true)` when the token's session (or the token) has been revoked.
    async fn is_revoked(&self, claims: &AccessClaims) -> Result<bool, ApiError>;
}

/// A [`RevocationCheck`] that revokes nothing (stateless verification).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRevocation;

impl RevocationCheck for NoRevocation {
    async fn is_revoked(&self, _: &AccessClaims) -> Result<bool, ApiError> {
        Ok(false)
    }
}

/// The token of an `Authorization: Bearer <token>` header value (scheme
/// case-insensitive, RFC 7235). A missing header, another scheme or an empty
/// token is `AUTH_REQUIRED`.
pub fn bearer(authorization: Option<&str>) -> Result<&str, ApiError> {
    let required = || ApiError::new(ErrorCode::Unauthorized);
    let value = authorization.ok_or_else(required)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or_else(required)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(required());
    }
    Ok(token)
}

/// `FORBIDDEN` unless the token's role includes `required` (hierarchy
/// `admin ⊇ editor ⊇ member`).
pub fn require_role(claims: &AccessClaims, required: Role) -> Result<(), ApiError> {
    if claims.has_role(required) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::Forbidden))
    }
}

/// `FORBIDDEN` unless the session was opened with a second factor (`amr`
/// contains `"otp"`): mandatory for every `/admin/*` route.
pub fn require_staff_mfa(claims: &AccessClaims) -> Result<(), ApiError> {
    if claims.has_otp() {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::Forbidden))
    }
}

/// The rule of every `/admin/*` route: a second factor and the route's role.
pub fn require_staff(claims: &AccessClaims, required: Role) -> Result<(), ApiError> {
    require_staff_mfa(claims)?;
    require_role(claims, required)
}
