//! The campaigns' keys, all derived with HKDF-SHA-256 from the one secret
//! `CAMPAIGNS_KEY` (32 bytes, base64url), and what they protect:
//! addresses at rest (AES-256-GCM), the blind index of addresses
//! (HMAC-SHA-256), confirmation links (HMAC, expiring) and the contract's
//! stateless unsubscribe token. Every comparison of a MAC is constant-time.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sealpost_api::Failure;
use sealpost_crypto::{AtRestError, AtRestKey, at_rest};
use sealpost_ports::Rng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// How long a confirmation link works.
pub const CONFIRM_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The secret is missing or not 32 bytes of base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyError;

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CAMPAIGNS_KEY is missing or not 32 bytes of base64url")
    }
}

impl std::error::Error for KeyError {}

/// The derived keys. Never printed.
pub struct CampaignKeys {
    address: AtRestKey,
    index: Zeroizing<[u8; 32]>,
    confirm: Zeroizing<[u8; 32]>,
    unsubscribe: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for CampaignKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CampaignKeys(..)")
    }
}

/// A confirmation link's content, once its MAC and expiry checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmClaim {
    pub subscriber_id: String,
    pub nonce: String,
}

impl CampaignKeys {
    /// From the `CAMPAIGNS_KEY` secret.
    pub fn from_secret(secret: &str) -> Result<CampaignKeys, KeyError> {
        let raw = sealpost_crypto::decode_secret(secret).ok_or(KeyError)?;
        Ok(Self::from_bytes(raw.as_ref()))
    }

    pub fn from_bytes(master: &[u8]) -> CampaignKeys {
        let [address, index, confirm, unsubscribe] = sealpost_crypto::derive_keys(
            master,
            b"sealpost-campaigns v1",
            [
                b"address-encryption",
                b"address-index",
                b"confirm-link",
                b"unsubscribe",
            ],
        );
        CampaignKeys {
            address: AtRestKey::from(address),
            index,
            confirm,
            unsubscribe,
        }
    }

    /// The blind index of a normalised address: HMAC-SHA-256, hex (64).
    pub fn blind_index(&self, normalised_email: &str) -> String {
        hex(&mac(self.index.as_ref(), normalised_email.as_bytes()))
    }

    /// Encrypts an address for storage: base64url(nonce ‖ ciphertext ‖ tag),
    /// bound to its site and subscriber id (the AAD), so a sealed address
    /// copied to another row does not open.
    pub fn seal_email(
        &self,
        rng: &impl Rng,
        site: &str,
        subscriber_id: &str,
        email: &str,
    ) -> Result<String, Failure> {
        at_rest::seal_to_text(
            &self.address,
            &aad(site, subscriber_id),
            email.as_bytes(),
            rng,
        )
        .map_err(|e| match e {
            AtRestError::Nonce(e) => Failure::Port(e),
            _ => Failure::Crypto("address encryption failed".into()),
        })
    }

    /// Decrypts a stored address; `None` if it does not open (another key,
    /// another row, damaged).
    pub fn open_email(&self, site: &str, subscriber_id: &str, sealed: &str) -> Option<String> {
        let plain = at_rest::open_text(&self.address, &aad(site, subscriber_id), sealed).ok()?;
        std::str::from_utf8(&plain).ok().map(str::to_owned)
    }

    /// The contract's unsubscribe token:
    /// `subscriberId.base64url(HMAC-SHA256(key, "unsub:" + subscriberId))`.
    pub fn unsubscribe_token(&self, subscriber_id: &str) -> String {
        let tag = mac(
            self.unsubscribe.as_ref(),
            format!("unsub:{subscriber_id}").as_bytes(),
        );
        format!("{subscriber_id}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The subscriber id of a genuine unsubscribe token; `None` for a
    /// forged, altered or malformed one (compared in constant time).
    pub fn check_unsubscribe(&self, token: &str) -> Option<String> {
        let (id, tag) = token.trim().rsplit_once('.')?;
        if !is_id(id) {
            return None;
        }
        let expected = self.unsubscribe_token(id);
        let given = format!("{id}.{tag}");
        bool::from(expected.as_bytes().ct_eq(given.as_bytes())).then(|| id.to_owned())
    }

    /// A confirmation link token for one opt-in round, valid until
    /// `expires_ms`: `{id}.{nonce}.{expires_secs}.{base64url(HMAC)}`.
    pub fn confirm_token(&self, subscriber_id: &str, nonce: &str, expires_ms: i64) -> String {
        let body = format!("{subscriber_id}.{nonce}.{}", expires_ms.div_euclid(1000));
        let tag = mac(self.confirm.as_ref(), format!("confirm:{body}").as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Checks a confirmation token's MAC (constant-time) and expiry at
    /// `now_ms`; `None` for anything forged, altered, malformed or expired.
    pub fn check_confirm(&self, token: &str, now_ms: i64) -> Option<ConfirmClaim> {
        let token = token.trim();
        let (body, tag) = token.rsplit_once('.')?;
        let mut parts = body.split('.');
        let (id, nonce, expires) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !is_id(id) || !is_id(nonce) {
            return None;
        }
        let expires_secs: i64 = expires.parse().ok()?;
        let expected = URL_SAFE_NO_PAD.encode(mac(
            self.confirm.as_ref(),
            format!("confirm:{body}").as_bytes(),
        ));
        if !bool::from(expected.as_bytes().ct_eq(tag.as_bytes())) {
            return None;
        }
        if expires_secs.checked_mul(1000)? <= now_ms {
            return None;
        }
        Some(ConfirmClaim {
            subscriber_id: id.to_owned(),
            nonce: nonce.to_owned(),
        })
    }
}

/// Ids and nonces are lower-case hex (`Rng::id`, `Rng::token`).
fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn aad(site: &str, subscriber_id: &str) -> Vec<u8> {
    format!("subscriber:{site}:{subscriber_id}").into_bytes()
}

fn mac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let Ok(mut m) = <HmacSha256 as Mac>::new_from_slice(key) else {
        return [0; 32]; // unreachable: HMAC takes keys of any length
    };
    m.update(data);
    m.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(std::cell::Cell<u8>);
    impl Rng for Counter {
        fn fill(&self, buf: &mut [u8]) -> Result<(), sealpost_ports::PortError> {
            for b in buf {
                *b = self.0.get();
                self.0.set(self.0.get().wrapping_add(1));
            }
            Ok(())
        }
    }

    fn keys() -> CampaignKeys {
        CampaignKeys::from_bytes(&[7u8; 32])
    }

    #[test]
    fn the_secret_must_be_32_bytes_of_base64url() {
        assert!(CampaignKeys::from_secret(&URL_SAFE_NO_PAD.encode([1u8; 32])).is_ok());
        assert_eq!(
            CampaignKeys::from_secret(&URL_SAFE_NO_PAD.encode([1u8; 31])).err(),
            Some(KeyError)
        );
        assert_eq!(CampaignKeys::from_secret("").err(), Some(KeyError));
        assert_eq!(format!("{:?}", keys()), "CampaignKeys(..)");
    }

    #[test]
    fn a_sealed_address_opens_only_for_its_own_row() {
        let k = keys();
        let rng = Counter(std::cell::Cell::new(0));
        let sealed = k
            .seal_email(&rng, "default", "ab12", "a@example.com")
            .unwrap();
        assert!(!sealed.contains("example"));
        assert_eq!(
            k.open_email("default", "ab12", &sealed).as_deref(),
            Some("a@example.com")
        );
        assert_eq!(k.open_email("default", "ab13", &sealed), None);
        assert_eq!(k.open_email("other", "ab12", &sealed), None);
        assert_eq!(
            CampaignKeys::from_bytes(&[8u8; 32]).open_email("default", "ab12", &sealed),
            None
        );
        // A fresh nonce each time: equal addresses do not look equal.
        assert_ne!(
            sealed,
            k.seal_email(&rng, "default", "ab12", "a@example.com")
                .unwrap()
        );
    }

    /// `a@example.com` of row `default`/`ab12` under `keys()`, nonce
    /// `00 01 … 0b`, as an earlier release stored it.
    const STORED_ADDRESS: &str = "AAECAwQFBgcICQoLbMaHkiTZSbntFod2SG1Yy4ISip0VdYJT0AiQVzk";

    #[test]
    fn sealing_writes_base64url_of_nonce_ciphertext_and_tag_as_stored_rows_have_it() {
        let rng = Counter(std::cell::Cell::new(0));
        let sealed = keys()
            .seal_email(&rng, "default", "ab12", "a@example.com")
            .unwrap();
        assert_eq!(sealed, STORED_ADDRESS);
    }

    #[test]
    fn an_address_stored_by_an_earlier_release_still_opens() {
        assert_eq!(
            keys()
                .open_email("default", "ab12", STORED_ADDRESS)
                .as_deref(),
            Some("a@example.com")
        );
        let from_secret = CampaignKeys::from_secret(&URL_SAFE_NO_PAD.encode([1u8; 32])).unwrap();
        assert_eq!(
            from_secret
                .open_email(
                    "default",
                    "ab12",
                    "AAECAwQFBgcICQoLnnhLBT0jnbkrdRJaDhVn8NRIQN04Z58Arc1PbVU"
                )
                .as_deref(),
            Some("a@example.com")
        );
    }

    #[test]
    fn the_blind_index_is_keyed_and_deterministic() {
        let k = keys();
        assert_eq!(
            k.blind_index("a@example.com"),
            k.blind_index("a@example.com")
        );
        assert_ne!(
            k.blind_index("a@example.com"),
            k.blind_index("b@example.com")
        );
        assert_ne!(
            k.blind_index("a@example.com"),
            CampaignKeys::from_bytes(&[8u8; 32]).blind_index("a@example.com")
        );
        assert_eq!(k.blind_index("x").len(), 64);
    }

    #[test]
    fn unsubscribe_tokens_have_the_contract_shape_and_refuse_tampering() {
        let k = keys();
        let t = k.unsubscribe_token("0123abcd");
        let (id, tag) = t.split_once('.').unwrap();
        assert_eq!(id, "0123abcd");
        let expected = mac(k.unsubscribe.as_ref(), b"unsub:0123abcd");
        assert_eq!(tag, URL_SAFE_NO_PAD.encode(expected));
        assert_eq!(k.check_unsubscribe(&t).as_deref(), Some("0123abcd"));
        // Another id with the same tag, a flipped tag character, a foreign
        // key, garbage: all refused.
        assert_eq!(k.check_unsubscribe(&format!("0123abce.{tag}")), None);
        let mut bad = t.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(k.check_unsubscribe(&String::from_utf8(bad).unwrap()), None);
        assert_eq!(
            CampaignKeys::from_bytes(&[8u8; 32]).check_unsubscribe(&t),
            None
        );
        for junk in ["", ".", "abc", "abc.", ".abc", "not-hex.abc"] {
            assert_eq!(k.check_unsubscribe(junk), None, "{junk}");
        }
    }

    #[test]
    fn confirmation_tokens_expire_and_refuse_tampering() {
        let k = keys();
        let t = k.confirm_token("ab12", "cd34", 10_000_000);
        assert_eq!(
            k.check_confirm(&t, 9_999_999),
            Some(ConfirmClaim {
                subscriber_id: "ab12".into(),
                nonce: "cd34".into()
            })
        );
        assert_eq!(k.check_confirm(&t, 10_000_000), None, "expired");
        assert_eq!(k.check_confirm(&t.replace("ab12", "ab13"), 0), None);
        assert_eq!(k.check_confirm(&t.replace(".10000.", ".99999."), 0), None);
        assert_eq!(
            CampaignKeys::from_bytes(&[8u8; 32]).check_confirm(&t, 0),
            None
        );
        // An unsubscribe token is not a confirmation token.
        assert_eq!(k.check_confirm(&k.unsubscribe_token("ab12"), 0), None);
    }
}
