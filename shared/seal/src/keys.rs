//! P-256 key pairs of the KEM: the server's long-lived keys and the client's
//! ephemeral ones. Public keys travel as 65-byte uncompressed SEC1 points and
//! are validated on the way in (on the curve, not the identity); secret keys are
//! 32-byte big-endian scalars in `[1, n)` and are wiped on drop.

use p256::elliptic_curve::sec1::ToEncodedPoint;
use zeroize::Zeroizing;

use crate::{POINT_BYTES, SealError};

/// A P-256 secret key (a KEM private key), with its public key computed once.
/// Wiped on drop; `Debug` shows nothing of it.
#[derive(Clone)]
pub struct SecretKey {
    sk: p256::SecretKey,
    pk: PublicKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// A fresh random key.
    pub fn generate(rng: &mut impl rand_core::CryptoRngCore) -> SecretKey {
        SecretKey::new(p256::SecretKey::random(rng))
    }

    fn new(sk: p256::SecretKey) -> SecretKey {
        let pk = PublicKey(sk.public_key());
        SecretKey { sk, pk }
    }

    /// From the 32-byte big-endian scalar (`SerializePrivateKey`). Wrong length,
    /// zero, or not below the group order → [`SealError::Malformed`].
    pub fn from_bytes(b: &[u8]) -> Result<SecretKey, SealError> {
        if b.len() != 32 {
            return Err(SealError::Malformed);
        }
        p256::SecretKey::from_slice(b)
            .map(SecretKey::new)
            .map_err(|_| SealError::Malformed)
    }

    /// The 32-byte big-endian scalar.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        let mut fb = self.sk.to_bytes();
        out.copy_from_slice(&fb);
        zeroize::Zeroize::zeroize(fb.as_mut_slice());
        out
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        self.pk.clone()
    }

    pub(crate) fn inner(&self) -> &p256::SecretKey {
        &self.sk
    }

    pub(crate) fn public_ref(&self) -> &PublicKey {
        &self.pk
    }
}

/// A validated P-256 public key: on the curve, not the identity.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(p256::PublicKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", crate::b64(&self.to_sec1()))
    }
}

impl PublicKey {
    /// From the 65-byte uncompressed SEC1 encoding (`0x04 || x || y`). Any other
    /// length or form (compressed, identity, hybrid), coordinates not below the
    /// field prime, or a point off the curve → [`SealError::InvalidPoint`].
    pub fn from_sec1(b: &[u8]) -> Result<PublicKey, SealError> {
        if b.len() != POINT_BYTES || b[0] != 0x04 {
            return Err(SealError::InvalidPoint);
        }
        p256::PublicKey::from_sec1_bytes(b)
            .map(PublicKey)
            .map_err(|_| SealError::InvalidPoint)
    }

    /// The 65-byte uncompressed SEC1 encoding.
    pub fn to_sec1(&self) -> [u8; POINT_BYTES] {
        let mut out = [0u8; POINT_BYTES];
        out.copy_from_slice(self.0.to_encoded_point(false).as_bytes());
        out
    }

    pub(crate) fn inner(&self) -> &p256::PublicKey {
        &self.0
    }
}
