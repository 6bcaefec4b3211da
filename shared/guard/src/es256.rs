//! The process-wide `jsonwebtoken` crypto provider: ES256 (ECDSA over P-256
//! with SHA-256, RustCrypto `p256`) and nothing else.
//!
//! `jsonwebtoken` picks its signer and verifier at run time from the token's
//! `alg`, so its `rust_crypto` backend links every algorithm (RSA, Ed25519,
//! P-384, HMAC) into each worker that signs or verifies: 330 KB of the auth
//! worker's wasm (138 KB gzipped) for code that can never run (docs/perf.md,
//! "Auth worker size"). The crate is therefore built without a backend, and
//! this module owns the provider that replaces it:
//!
//! - [`install`]: makes it the process default (idempotent); the guard calls it
//!   before every verification. It verifies ES256 and signs nothing.
//! - [`install_with_signing`]: the same, plus ES256 signing; only the issuer
//!   (auth) calls it, so the signing code (RFC 6979, PKCS#8) is linked into
//!   the auth worker alone.
//!
//! Every other algorithm is refused with `InvalidAlgorithm`, never a panic.
//! Keys follow `jsonwebtoken`'s conventions: `EncodingKey::from_ec_der` takes a
//! PKCS#8 DER private key, `DecodingKey::from_ec_der` a SEC1 public point.
//! Signatures are JWS's raw `r || s` (64 bytes, RFC 7518 §3.4), never DER.
//!
//! `jsonwebtoken` latches its provider on first use: an `encode`/`decode`
//! before any install fixes a provider that panics. Hence both install
//! functions report whether this provider is the one in force, and callers
//! fail closed when it is not.
use std::sync::OnceLock;

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result, new_error};
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::signature;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

type SignerFactory = fn(&EncodingKey) -> Result<Box<dyn JwtSigner>>;

/// Set by [`install_with_signing`]; while unset the provider cannot sign, and
/// builds that never call it do not link the signer.
static SIGNER: OnceLock<SignerFactory> = OnceLock::new();

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(unsupported()),
        rsa_pub_components_from_public_key: |_| Err(unsupported()),
        ec_pub_components_from_private_key: |_, _| Err(unsupported()),
        ed_pub_components_from_private_key: |_, _| Err(unsupported()),
        compute_digest,
    },
};

/// Makes the ES256 verification provider `jsonwebtoken`'s process default.
/// Idempotent; `true` when this provider is the one in force (`false` only if
/// something used `jsonwebtoken` earlier, or installed another provider).
#[must_use]
pub fn install() -> bool {
    // `jsonwebtoken` keeps the first provider for good and has no getter (its
    // `install_default` hands back the provider it was given, not the one in
    // force), so our first attempt decides, and its answer is kept.
    static IN_FORCE: OnceLock<bool> = OnceLock::new();
    *IN_FORCE.get_or_init(|| PROVIDER.install_default().is_ok())
}

/// [`install`], and enables ES256 signing with `EncodingKey::from_ec_der`
/// (PKCS#8) keys. Idempotent; same answer as [`install`].
#[must_use]
pub fn install_with_signing() -> bool {
    // A second call finds the same function already set.
    let _ = SIGNER.set(Es256Signer::boxed);
    install()
}

fn unsupported() -> jsonwebtoken::errors::Error {
    new_error(ErrorKind::InvalidAlgorithm)
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    match (algorithm, SIGNER.get()) {
        (Algorithm::ES256, Some(factory)) => factory(key),
        _ => Err(unsupported()),
    }
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if *algorithm != Algorithm::ES256 || key.family() != AlgorithmFamily::Ec {
        return Err(unsupported());
    }
    let key = VerifyingKey::from_sec1_bytes(key.try_get_as_bytes()?)
        .map_err(|_| new_error(ErrorKind::InvalidEcdsaKey))?;
    Ok(Box::new(Es256Verifier(key)))
}

/// JWK thumbprints (RFC 7638) with SHA-256 only.
fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>> {
    match hash {
        ThumbprintHash::SHA256 => Ok(Sha256::digest(data).to_vec()),
        _ => Err(unsupported()),
    }
}

struct Es256Signer(SigningKey);

impl Es256Signer {
    fn boxed(key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
        use p256::pkcs8::DecodePrivateKey as _;
        if key.family() != AlgorithmFamily::Ec {
            return Err(unsupported());
        }
        let key = SigningKey::from_pkcs8_der(key.as_bytes())
            .map_err(|_| new_error(ErrorKind::InvalidEcdsaKey))?;
        Ok(Box::new(Es256Signer(key)))
    }
}

impl signature::Signer<Vec<u8>> for Es256Signer {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        // Deterministic (RFC 6979), SHA-256 of `msg`; `to_bytes` is r || s.
        let sig: Signature = signature::Signer::try_sign(&self.0, msg)?;
        Ok(sig.to_bytes().to_vec())
    }
}

impl JwtSigner for Es256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}

struct Es256Verifier(VerifyingKey);

impl signature::Verifier<Vec<u8>> for Es256Verifier {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        // `from_slice` takes exactly 64 bytes (r || s, each in 1..n): a DER
        // signature is refused here.
        let sig = Signature::from_slice(sig)?;
        signature::Verifier::verify(&self.0, msg, &sig)
    }
}

impl JwtVerifier for Es256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}
