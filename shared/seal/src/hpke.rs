//! HPKE base mode (RFC 9180) for DHKEM(P-256, HKDF-SHA256) and HKDF-SHA256,
//! with AES-256-GCM (the suite edge-seal uses) and AES-128-GCM (only so the
//! RFC's own appendix A.3 vectors can be checked).
//!
//! Hand-written on RustCrypto primitives: `LabeledExtract`/`LabeledExpand`
//! (§4), `DeriveKeyPair`/`Encap`/`Decap` of DHKEM (§4.1, §7.1.3), the mode-0
//! `KeySchedule` (§5.1) and a single-shot context: one `Seal` or `Open` at
//! sequence number 0, and any number of `Export`s. A [`Context`] refuses a
//! second `Seal`/`Open`, so a nonce can never be reused.
//!
//! Every secret this module holds (derived keys, nonces, exporter secrets,
//! DH outputs, PRKs) is wiped on drop; the transient HMAC states inside `hkdf`
//! are not (that crate offers no zeroize).
//!
//! Most callers want the envelope functions of the crate root instead.

use std::marker::PhantomData;

use aes_gcm::aead::{Aead as _, Payload};
use aes_gcm::{KeyInit, Nonce};
use hkdf::{Hkdf, HkdfExtract};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{KDF_ID, KEM_ID, POINT_BYTES, PublicKey, SealError, SecretKey};

/// The version label of every labeled HKDF call (RFC 9180 §4).
const HPKE_V1: &[u8] = b"HPKE-v1";
/// `suite_id` of the KEM: `"KEM" || I2OSP(kem_id, 2)`.
pub const KEM_SUITE_ID: [u8; 5] = [b'K', b'E', b'M', (KEM_ID >> 8) as u8, KEM_ID as u8];
/// Length of the KEM shared secret and of the KDF output (`Nsecret` = `Nh` = 32).
pub const NH: usize = 32;
/// Length of an AEAD nonce (`Nn`).
pub const NN: usize = 12;

/// An AEAD of the suite, as a type: only the AEADs a program names are compiled
/// in (the envelope code names AES-256-GCM alone; AES-128-GCM is there for the
/// RFC's appendix A.3 vectors and costs nothing unless used).
pub trait Aead {
    /// The IANA id.
    const ID: u16;
    /// Key length `Nk` (at most 32).
    const NK: usize;
    /// The RustCrypto cipher.
    type Cipher: KeyInit + aes_gcm::aead::Aead;

    /// `suite_id` of the full HPKE suite: `"HPKE" || kem_id || kdf_id || aead_id`.
    fn suite_id() -> [u8; 10] {
        [
            b'H',
            b'P',
            b'K',
            b'E',
            (KEM_ID >> 8) as u8,
            KEM_ID as u8,
            (KDF_ID >> 8) as u8,
            KDF_ID as u8,
            (Self::ID >> 8) as u8,
            Self::ID as u8,
        ]
    }

    /// One AEAD encryption (`Seal(key, nonce, aad, pt)`).
    fn seal(key: &[u8], nonce: &[u8; NN], aad: &[u8], pt: &[u8]) -> Result<Vec<u8>, SealError> {
        Self::Cipher::new_from_slice(key)
            .map_err(|_| SealError::Crypto)?
            .encrypt(Nonce::from_slice(nonce), Payload { msg: pt, aad })
            .map_err(|_| SealError::Crypto)
    }

    /// One AEAD decryption (`Open(key, nonce, aad, ct)`); the tag is checked in
    /// constant time. Any failure is [`SealError::Invalid`].
    fn open(
        key: &[u8],
        nonce: &[u8; NN],
        aad: &[u8],
        ct: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        Self::Cipher::new_from_slice(key)
            .map_err(|_| SealError::Crypto)?
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| SealError::Invalid)
    }
}

/// AES-128-GCM (0x0001): only for RFC 9180's appendix A.3 vectors.
#[derive(Debug, Clone, Copy)]
pub enum Aes128Gcm {}

impl Aead for Aes128Gcm {
    const ID: u16 = 0x0001;
    const NK: usize = 16;
    type Cipher = aes_gcm::Aes128Gcm;
}

/// AES-256-GCM (0x0002): the edge-seal suite.
#[derive(Debug, Clone, Copy)]
pub enum Aes256Gcm {}

impl Aead for Aes256Gcm {
    const ID: u16 = 0x0002;
    const NK: usize = 32;
    type Cipher = aes_gcm::Aes256Gcm;
}

/// `HKDF-Extract(salt, ikm)` with SHA-256 (RFC 5869); `ikm` given in parts.
pub fn hkdf_extract(salt: &[u8], ikm: &[&[u8]]) -> Zeroizing<[u8; NH]> {
    let mut ext = HkdfExtract::<Sha256>::new(Some(salt));
    for part in ikm {
        ext.input_ikm(part);
    }
    let (mut prk, _) = ext.finalize();
    let mut out = Zeroizing::new([0u8; NH]);
    out.copy_from_slice(&prk);
    prk.zeroize();
    out
}

/// `HKDF-Expand(prk, info, L)` with SHA-256 (RFC 5869); `info` given in parts.
/// `out.len()` must be at most 255 × 32.
pub fn hkdf_expand(prk: &[u8; NH], info: &[&[u8]], out: &mut [u8]) -> Result<(), SealError> {
    let hk = Hkdf::<Sha256>::from_prk(prk).map_err(|_| SealError::Crypto)?;
    hk.expand_multi_info(info, out)
        .map_err(|_| SealError::Crypto)
}

/// `LabeledExtract(salt, label, ikm)` = `Extract(salt, "HPKE-v1" || suite_id || label || ikm)`.
pub fn labeled_extract(
    suite_id: &[u8],
    salt: &[u8],
    label: &[u8],
    ikm: &[u8],
) -> Zeroizing<[u8; NH]> {
    hkdf_extract(salt, &[HPKE_V1, suite_id, label, ikm])
}

/// `LabeledExpand(prk, label, info, L)` =
/// `Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)`, `L = out.len()`.
pub fn labeled_expand(
    suite_id: &[u8],
    prk: &[u8; NH],
    label: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), SealError> {
    let len = u16::try_from(out.len())
        .map_err(|_| SealError::Crypto)?
        .to_be_bytes();
    hkdf_expand(prk, &[&len, HPKE_V1, suite_id, label, info], out)
}

/// `DeriveKeyPair(ikm)` of DHKEM(P-256, HKDF-SHA256) (RFC 9180 §7.1.3): rejection
/// sampling over `LabeledExpand(dkp_prk, "candidate", counter, 32)`.
pub fn derive_key_pair(ikm: &[u8]) -> Result<SecretKey, SealError> {
    let dkp_prk = labeled_extract(&KEM_SUITE_ID, b"", b"dkp_prk", ikm);
    for counter in 0u8..=255 {
        let mut bytes = Zeroizing::new([0u8; 32]);
        labeled_expand(
            &KEM_SUITE_ID,
            &dkp_prk,
            b"candidate",
            &[counter],
            bytes.as_mut(),
        )?;
        // The bitmask for P-256 is 0xff: nothing to clear.
        if let Ok(sk) = SecretKey::from_bytes(bytes.as_ref()) {
            return Ok(sk);
        }
    }
    Err(SealError::Crypto)
}

/// `DH(sk, pk)`: the x-coordinate of `sk · pk` (32 bytes).
fn dh(sk: &SecretKey, pk: &PublicKey) -> Zeroizing<[u8; 32]> {
    let shared = p256::ecdh::diffie_hellman(sk.inner().to_nonzero_scalar(), pk.inner().as_affine());
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(shared.raw_secret_bytes());
    out
}

/// `ExtractAndExpand(dh, kem_context)` of DHKEM, with the KEM suite id.
fn extract_and_expand(dh: &[u8; 32], kem_context: &[u8]) -> Result<Zeroizing<[u8; NH]>, SealError> {
    let eae_prk = labeled_extract(&KEM_SUITE_ID, b"", b"eae_prk", dh);
    let mut shared_secret = Zeroizing::new([0u8; NH]);
    labeled_expand(
        &KEM_SUITE_ID,
        &eae_prk,
        b"shared_secret",
        kem_context,
        shared_secret.as_mut(),
    )?;
    Ok(shared_secret)
}

/// `Encap(pkR)` with the ephemeral key given (`skE`, deterministic: the caller
/// draws it at random): returns `(shared_secret, enc)`.
pub fn encap(
    pk_r: &PublicKey,
    sk_e: &SecretKey,
) -> Result<(Zeroizing<[u8; NH]>, [u8; POINT_BYTES]), SealError> {
    let enc = sk_e.public_ref().to_sec1();
    let dh = dh(sk_e, pk_r);
    let mut kem_context = [0u8; 2 * POINT_BYTES];
    kem_context[..POINT_BYTES].copy_from_slice(&enc);
    kem_context[POINT_BYTES..].copy_from_slice(&pk_r.to_sec1());
    Ok((extract_and_expand(&dh, &kem_context)?, enc))
}

/// `Decap(enc, skR)`: `enc` must be a valid uncompressed point
/// ([`SealError::InvalidPoint`] otherwise).
pub fn decap(enc: &[u8], sk_r: &SecretKey) -> Result<Zeroizing<[u8; NH]>, SealError> {
    let pk_e = PublicKey::from_sec1(enc)?;
    let dh = dh(sk_r, &pk_e);
    let mut kem_context = [0u8; 2 * POINT_BYTES];
    kem_context[..POINT_BYTES].copy_from_slice(enc);
    kem_context[POINT_BYTES..].copy_from_slice(&sk_r.public_ref().to_sec1());
    extract_and_expand(&dh, &kem_context)
}

/// `key_schedule_context` of mode 0 (`mode || psk_id_hash || info_hash`).
pub fn key_schedule_context<A: Aead>(info: &[u8]) -> [u8; 1 + 2 * NH] {
    let suite = A::suite_id();
    let psk_id_hash = labeled_extract(&suite, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract(&suite, b"", b"info_hash", info);
    let mut ctx = [0u8; 1 + 2 * NH];
    ctx[0] = 0x00; // mode_base
    ctx[1..1 + NH].copy_from_slice(psk_id_hash.as_ref());
    ctx[1 + NH..].copy_from_slice(info_hash.as_ref());
    ctx
}

/// The key schedule's `secret` = `LabeledExtract(shared_secret, "secret", psk = "")`.
pub fn schedule_secret<A: Aead>(shared_secret: &[u8; NH]) -> Zeroizing<[u8; NH]> {
    labeled_extract(&A::suite_id(), shared_secret, b"secret", b"")
}

/// A single-shot HPKE context: one `Seal` or `Open` (sequence number 0), any
/// number of `Export`s. Secrets are wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Context<A: Aead> {
    #[zeroize(skip)]
    aead: PhantomData<A>,
    key: [u8; 32],
    base_nonce: [u8; NN],
    exporter_secret: [u8; NH],
    used: bool,
}

impl<A: Aead> std::fmt::Debug for Context<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("aead", &A::ID)
            .finish_non_exhaustive()
    }
}

impl<A: Aead> Context<A> {
    /// `KeySchedule(mode_base, shared_secret, info, "", "")`.
    pub fn key_schedule(shared_secret: &[u8; NH], info: &[u8]) -> Result<Context<A>, SealError> {
        let suite = A::suite_id();
        let ksc = key_schedule_context::<A>(info);
        let secret = schedule_secret::<A>(shared_secret);
        let mut ctx = Context {
            aead: PhantomData,
            key: [0; 32],
            base_nonce: [0; NN],
            exporter_secret: [0; NH],
            used: false,
        };
        labeled_expand(&suite, &secret, b"key", &ksc, &mut ctx.key[..A::NK])?;
        labeled_expand(&suite, &secret, b"base_nonce", &ksc, &mut ctx.base_nonce)?;
        labeled_expand(&suite, &secret, b"exp", &ksc, &mut ctx.exporter_secret)?;
        Ok(ctx)
    }

    /// The AEAD key (`Nk` bytes).
    pub fn key(&self) -> &[u8] {
        &self.key[..A::NK]
    }

    /// The base nonce.
    pub fn base_nonce(&self) -> &[u8; NN] {
        &self.base_nonce
    }

    /// The exporter secret.
    pub fn exporter_secret(&self) -> &[u8; NH] {
        &self.exporter_secret
    }

    /// `ContextS.Seal(aad, pt)` at sequence number 0; a second call fails.
    pub fn seal(&mut self, aad: &[u8], pt: &[u8]) -> Result<Vec<u8>, SealError> {
        if std::mem::replace(&mut self.used, true) {
            return Err(SealError::Crypto);
        }
        A::seal(self.key(), &self.base_nonce, aad, pt)
    }

    /// `ContextR.Open(aad, ct)` at sequence number 0; a second call fails.
    pub fn open(&mut self, aad: &[u8], ct: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if std::mem::replace(&mut self.used, true) {
            return Err(SealError::Crypto);
        }
        A::open(self.key(), &self.base_nonce, aad, ct)
    }

    /// `Context.Export(exporter_context, L)`, `L = out.len()` ≤ 255 × 32.
    pub fn export(&self, exporter_context: &[u8], out: &mut [u8]) -> Result<(), SealError> {
        labeled_expand(
            &A::suite_id(),
            &self.exporter_secret,
            b"sec",
            exporter_context,
            out,
        )
    }
}

/// `SetupBaseS(pkR, info)` with the ephemeral key given: `(enc, context)`.
pub fn setup_base_s<A: Aead>(
    pk_r: &PublicKey,
    info: &[u8],
    sk_e: &SecretKey,
) -> Result<([u8; POINT_BYTES], Context<A>), SealError> {
    let (shared_secret, enc) = encap(pk_r, sk_e)?;
    Ok((enc, Context::key_schedule(&shared_secret, info)?))
}

/// `SetupBaseR(enc, skR, info)`.
pub fn setup_base_r<A: Aead>(
    enc: &[u8],
    sk_r: &SecretKey,
    info: &[u8],
) -> Result<Context<A>, SealError> {
    let shared_secret = decap(enc, sk_r)?;
    Context::key_schedule(&shared_secret, info)
}
