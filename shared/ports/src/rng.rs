//! The randomness port. Production uses the platform CSPRNG
//! (`crypto.getRandomValues`); tests use a seeded deterministic generator.
//!
//! [`Rng::id`] is 128 random bits as 32 lower-case hex characters (chosen over
//! base32: trivially validated, same alphabet as tokens, deliberately not
//! time-sortable).

use crate::error::PortError;

/// Random source port.
pub trait Rng {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), PortError>;

    /// `bytes` random bytes as lower-case hex (`2 * bytes` characters).
    fn token(&self, bytes: usize) -> Result<String, PortError> {
        let mut buf = vec![0_u8; bytes];
        self.fill(&mut buf)?;
        Ok(hex(&buf))
    }

    /// A 128-bit random id: 32 lower-case hex characters.
    fn id(&self) -> Result<String, PortError> {
        self.token(16)
    }
}

impl<T: Rng + ?Sized> Rng for &T {
    fn fill(&self, buf: &mut [u8]) -> Result<(), PortError> {
        (**self).fill(buf)
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counting;

    impl Rng for Counting {
        fn fill(&self, buf: &mut [u8]) -> Result<(), PortError> {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = u8::try_from(i * 17 % 256).unwrap_or(0);
            }
            Ok(())
        }
    }

    struct Broken;

    impl Rng for Broken {
        fn fill(&self, _: &mut [u8]) -> Result<(), PortError> {
            Err(PortError::Rng("no entropy".into()))
        }
    }

    #[test]
    fn token_is_lower_case_hex_of_the_requested_length() {
        assert_eq!(Counting.token(3).unwrap(), "001122");
        assert_eq!(Counting.token(0).unwrap(), "");
        assert_eq!(Counting.token(16).unwrap().len(), 32);
    }

    #[test]
    fn id_is_32_hex_chars() {
        let id = Counting.id().unwrap();
        assert_eq!(id.len(), 32);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn a_failing_source_fails_token_and_id() {
        assert!(matches!(Broken.token(8), Err(PortError::Rng(_))));
        assert!(matches!(Broken.id(), Err(PortError::Rng(_))));
    }
}
