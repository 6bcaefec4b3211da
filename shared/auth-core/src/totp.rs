//! TOTP second factor (RFC 6238 over RFC 4226 HOTP): HMAC-SHA-1, 6 digits,
//! 30 s steps, ±1 step accepted; a code works once (the caller stores the
//! matched step and passes it back as `last_used_step`). Also: 160-bit
//! secrets, RFC 4648 base32, the `otpauth://` URI for authenticator apps,
//! AES-256-GCM sealing of the secret at rest, and single-use recovery codes
//! stored as HMAC-SHA-256.
//!
//! Time comes in as an argument (`now_secs`, from the `Clock` port),
//! randomness through the `Rng` port.
use std::fmt;

use base32ct::{Base32UpperUnpadded, Encoding as _};
use hmac::{Hmac, Mac};
use sealpost_api::Failure;
use sealpost_crypto::{AtRestError, AtRestKey, at_rest};
use sealpost_ports::{PortError, Rng};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Seconds per time step.
pub const STEP_SECS: u64 = 30;
/// Steps accepted either side of the current one.
pub const WINDOW: u64 = 1;
/// Secret length in bytes (160 bits, RFC 4226's recommendation for SHA-1).
pub const SECRET_LEN: usize = 20;

/// A fresh random secret.
pub fn generate_secret(rng: &impl Rng) -> Result<[u8; SECRET_LEN], PortError> {
    let mut secret = [0u8; SECRET_LEN];
    rng.fill(&mut secret)?;
    Ok(secret)
}

/// RFC 4648 base32, upper case, without padding (what authenticator apps
/// expect in `secret=`).
pub fn base32_encode(bytes: &[u8]) -> String {
    Base32UpperUnpadded::encode_string(bytes)
}

/// Decodes RFC 4648 base32: case-insensitive, trailing `=` padding and
/// spaces ignored. `None` for any other character or an impossible length.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let symbols: String = text
        .trim_end_matches(['=', ' '])
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    // Whole bytes end a group after 0, 2, 4, 5 or 7 symbols.
    if !matches!(symbols.len() % 8, 0 | 2 | 4 | 5 | 7) {
        return None;
    }
    Base32UpperUnpadded::decode_vec(&symbols).ok()
}

/// The provisioning URI for authenticator apps (Key Uri Format):
/// `otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30`,
/// issuer and account percent-encoded (RFC 3986 unreserved characters kept).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let issuer = sealpost_api::query::encode_component(issuer);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        account = sealpost_api::query::encode_component(account),
        secret = base32_encode(secret),
    )
}

/// RFC 4226 HOTP with HMAC-SHA-1: the dynamically truncated code for
/// `counter`, reduced to `digits` (1–9) decimal digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret) else {
        return u32::MAX; // unreachable: HMAC takes keys of any length
    };
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    binary % 10u32.pow(digits.clamp(1, 9))
}

/// The 6-digit code of `secret` at Unix time `unix_secs`, zero-padded.
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    format!(
        "{:0width$}",
        hotp(secret, unix_secs / STEP_SECS, DIGITS),
        width = DIGITS as usize
    )
}

fn parse_code(code: &str) -> Option<u32> {
    let ok = code.len() == DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit());
    if ok { code.parse().ok() } else { None }
}

/// Checks a 6-digit `code` at `now_secs` against the steps `now-1 ..= now+1`.
/// Returns the matched step — store it and pass it as `last_used_step` next
/// time: steps `<= last_used_step` are refused, so each code works once.
/// Anything but exactly six ASCII digits is refused. Codes are compared in
/// constant time; all three steps are always computed.
pub fn verify(
    secret: &[u8],
    code: &str,
    now_secs: i64,
    last_used_step: Option<u64>,
) -> Option<u64> {
    let given = parse_code(code)?;
    let now = u64::try_from(now_secs).ok()?;
    let current = now / STEP_SECS;
    let mut matched = None;
    for step in current.saturating_sub(WINDOW)..=current + WINDOW {
        let equal: bool = hotp(secret, step, DIGITS).ct_eq(&given).into();
        let fresh = last_used_step.is_none_or(|last| step > last);
        if equal && fresh && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

/// The data key that encrypts TOTP secrets at rest (32 bytes).
pub struct DataKey(AtRestKey);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl From<AtRestKey> for DataKey {
    fn from(key: AtRestKey) -> DataKey {
        DataKey(key)
    }
}

impl DataKey {
    /// From raw bytes.
    pub fn new(bytes: [u8; 32]) -> DataKey {
        DataKey(AtRestKey::new(bytes))
    }

    /// From a secret: 32 bytes, base64url without padding (like
    /// `SEAL_KEY_WRAP`).
    pub fn from_secret(secret: &str) -> Option<DataKey> {
        AtRestKey::from_base64url(secret).map(DataKey)
    }
}

fn secret_aad(user_id: &str) -> Vec<u8> {
    format!("totp:{user_id}").into_bytes()
}

/// Encrypts a TOTP secret for storage: base64url(nonce ‖ ciphertext ‖ tag)
/// without padding, AES-256-GCM with a random 96-bit nonce and the AAD
/// `"totp:" + user_id` (a sealed secret copied to another user won't open).
pub fn seal_secret(
    key: &DataKey,
    user_id: &str,
    secret: &[u8],
    rng: &impl Rng,
) -> Result<String, Failure> {
    at_rest::seal_to_text(&key.0, &secret_aad(user_id), secret, rng).map_err(|e| match e {
        AtRestError::Nonce(e) => Failure::Port(e),
        _ => Failure::Crypto("totp secret encryption failed".into()),
    })
}

/// Decrypts what [`seal_secret`] stored for `user_id`; `None` when it was
/// tampered with, belongs to another user or another key.
pub fn open_secret(key: &DataKey, user_id: &str, sealed: &str) -> Option<Zeroizing<Vec<u8>>> {
    at_rest::open_text(&key.0, &secret_aad(user_id), sealed).ok()
}

/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;

/// Crockford's base32 alphabet, lower case: no `i`, `l`, `o`, `u`.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Ten distinct recovery codes `xxxx-xxxx` (40 random bits each), in
/// Crockford's lower-case base32. Show them once; store only
/// [`hash_recovery_code`] of each.
pub fn generate_recovery_codes(rng: &impl Rng) -> Result<Vec<String>, PortError> {
    let mut codes: Vec<String> = Vec::with_capacity(RECOVERY_CODES);
    while codes.len() < RECOVERY_CODES {
        let mut raw = [0u8; 8];
        rng.fill(&mut raw)?;
        let mut code = String::with_capacity(9);
        for (i, b) in raw.iter().enumerate() {
            if i == 4 {
                code.push('-');
            }
            code.push(char::from(RECOVERY_ALPHABET[usize::from(b & 31)]));
        }
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    Ok(codes)
}

/// The canonical form of a typed recovery code: spaces and dashes removed,
/// lower case, and Crockford's look-alikes folded (`o` → `0`, `i`/`l` → `1`).
pub fn normalize_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        })
        .collect()
}

/// The stored form of a recovery code: lower-case hex HMAC-SHA-256 under
/// `key` (a server secret, e.g. the pepper or a key derived from the data
/// key) of [`normalize_recovery_code`]. Look codes up by this value.
pub fn hash_recovery_code(key: &[u8], code: &str) -> String {
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key) else {
        return String::new(); // unreachable: HMAC takes keys of any length
    };
    mac.update(normalize_recovery_code(code).as_bytes());
    hex(&mac.finalize().into_bytes())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}
