//! [`TokenMint`]: a throwaway P-256 key that signs ES256 access tokens the
//! way the auth worker does, so a domain's tests can call its routes as a
//! signed-in user without the auth crate. The claims type, `iss`/`aud`, the
//! `kid` rule and the ES256 signer are `sealpost-guard`'s; the mint only
//! holds a key and fills in the claims. Tests only: the key is public.
use std::fmt;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::EncodePrivateKey as _;
use sealpost_guard::{AUDIENCE, AccessClaims, ISSUER, Role, Verifier, kid_for};
use serde::Serialize;

/// How long an access token lives, as the auth worker issues them.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;

/// The `jti` of every token the mint makes.
pub const JTI: &str = "jti-1";

/// The claims of an access token for session `session_id` of `user_id`,
/// issued at `now_secs` and valid [`ACCESS_TTL_SECS`]. `roles` are wire
/// names, so a test can list unknown ones.
pub fn access_claims(
    user_id: &str,
    session_id: &str,
    roles: &[&str],
    amr: &[&str],
    now_secs: i64,
) -> AccessClaims {
    AccessClaims {
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        sub: user_id.to_owned(),
        sid: session_id.to_owned(),
        jti: JTI.to_owned(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        amr: amr.iter().map(|m| (*m).to_owned()).collect(),
        iat: now_secs,
        exp: now_secs + ACCESS_TTL_SECS,
    }
}

/// A signing key for tests: signs any claims under its `kid` (or another),
/// and hands out the [`Verifier`] that knows it.
pub struct TokenMint {
    encoding: EncodingKey,
    point: Vec<u8>,
    kid: String,
}

impl fmt::Debug for TokenMint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenMint")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Default for TokenMint {
    /// The key of scalar `[7; 32]`, the one the worlds of the tests sign with.
    fn default() -> Self {
        TokenMint::new(7)
    }
}

impl TokenMint {
    /// The key whose private scalar is 32 bytes of `seed`.
    ///
    /// # Panics
    /// If `seed` is 0 (not a valid scalar), or if `jsonwebtoken` was used
    /// before the guard's ES256 provider could be installed.
    pub fn new(seed: u8) -> TokenMint {
        assert!(
            sealpost_guard::es256::install_with_signing(),
            "the guard's ES256 provider is not the one in force"
        );
        let secret = p256::SecretKey::from_slice(&[seed; 32]).expect("a valid P-256 scalar");
        let der = secret.to_pkcs8_der().expect("PKCS#8");
        let point = secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        TokenMint {
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            kid: kid_for(&point),
            point,
        }
    }

    /// The `kid` of this key (the guard's rule over its public point).
    pub fn kid(&self) -> String {
        self.kid.clone()
    }

    /// The public key, uncompressed SEC1 (65 bytes).
    pub fn public_sec1(&self) -> &[u8] {
        &self.point
    }

    /// A verifier that knows this key only.
    ///
    /// # Panics
    /// Never for a key made by [`TokenMint::new`].
    pub fn verifier(&self) -> Verifier {
        Verifier::from_sec1_points(&[&self.point]).expect("a valid point")
    }

    /// `claims` as an ES256 JWT whose header carries `kid` (or none).
    ///
    /// # Panics
    /// If `claims` cannot be serialised.
    pub fn sign_as(&self, kid: Option<String>, claims: &impl Serialize) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid;
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing")
    }

    /// `claims` as an ES256 JWT under this key's `kid`.
    pub fn sign(&self, claims: &impl Serialize) -> String {
        self.sign_as(Some(self.kid()), claims)
    }

    /// An access token for session `session_id` of `user_id` with `roles`
    /// and `amr`, issued at `now_secs` ([`access_claims`]).
    pub fn access(
        &self,
        user_id: &str,
        session_id: &str,
        roles: &[Role],
        amr: &[&str],
        now_secs: i64,
    ) -> String {
        let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        self.sign(&access_claims(user_id, session_id, &roles, amr, now_secs))
    }
}
