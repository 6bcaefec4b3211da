//! The suite's own TOTP generator, independent of the code under test:
//! RFC 6238 time-based codes over RFC 4226 HOTP (HMAC-SHA-1, 30-second steps
//! from the Unix epoch, 6 digits), and the RFC 4648 base32 the server sends
//! secrets in.
use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per time step (RFC 6238's default, what the server uses).
pub const STEP_SECS: u64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;

/// Decodes an RFC 4648 base32 secret (upper case, without padding, as the
/// server sends it); `None` when it is not one.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    BASE32_NOPAD.decode(text.as_bytes()).ok()
}

/// The RFC 4226 HOTP code of `secret` for `counter`: HMAC-SHA-1, dynamic
/// truncation, the last `digits` (1–9) decimal digits, zero-padded.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    let digits = digits.clamp(1, 9);
    format!(
        "{:0width$}",
        binary % 10_u32.pow(digits),
        width = digits as usize
    )
}

/// The 6-digit TOTP code of `secret` at Unix time `unix_secs`.
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    hotp(secret, unix_secs / STEP_SECS, DIGITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 seed and its 8-digit codes.
    const RFC_SECRET: &[u8] = b"12345678901234567890";
    const RFC_VECTORS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn eight_digit_codes_match_the_rfc_6238_sha1_test_vectors() {
        for (time, expected) in RFC_VECTORS {
            assert_eq!(hotp(RFC_SECRET, time / STEP_SECS, 8), expected, "T={time}");
        }
    }

    #[test]
    fn six_digit_codes_are_the_last_six_digits_of_the_rfc_6238_vectors() {
        for (time, expected) in RFC_VECTORS {
            assert_eq!(code_at(RFC_SECRET, time), expected[2..], "T={time}");
        }
    }

    #[test]
    fn the_base32_of_the_rfc_seed_decodes_to_the_seed() {
        assert_eq!(
            base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").as_deref(),
            Some(RFC_SECRET)
        );
    }

    #[test]
    fn text_outside_the_base32_alphabet_does_not_decode() {
        assert_eq!(base32_decode("GEZDGNBV1"), None);
        assert_eq!(base32_decode("GEZDGNB!"), None);
    }
}
