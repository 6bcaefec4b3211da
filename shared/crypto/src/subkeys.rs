//! One master secret, many keys: HKDF-SHA-256 (RFC 5869) with a salt naming
//! the service and one label per purpose, so that no key serves two
//! purposes; and the text form of a 32-byte secret (base64url, no padding).
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The 32-byte keys HKDF-SHA-256 derives from `master` under `salt`, one per
/// label, in the order of `labels`.
pub fn derive_keys<const N: usize>(
    master: &[u8],
    salt: &[u8],
    labels: [&[u8]; N],
) -> [Zeroizing<[u8; 32]>; N] {
    let hk = Hkdf::<Sha256>::new(Some(salt), master);
    labels.map(|label| {
        let mut out = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA-256's 8,160-byte limit.
        let _ = hk.expand(label, out.as_mut());
        out
    })
}

/// A 32-byte secret written as base64url without padding (surrounding
/// whitespace ignored); `None` for anything else.
pub fn decode_secret(secret: &str) -> Option<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(secret.trim()).ok()?);
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != key.len() {
        return None;
    }
    key.copy_from_slice(&bytes);
    Some(key)
}
