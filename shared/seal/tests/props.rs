//! Property tests: sealing then opening round-trips for any plaintext, method,
//! path, kid, ts and status; flipping any single bit of any authenticated input
//! (enc, nonce, ts, ct, kid, method, path; response nonce, ct, status) makes the
//! open fail.

use proptest::prelude::*;
use rand_core::OsRng;
use sealpost_seal::{
    ClientRequest, ParsedEnvelope, PublicKey, SealError, SecretKey, b64, open_request, outer_body,
    parse_envelope, seal_request_with, unb64,
};
use std::sync::OnceLock;

fn server_key() -> &'static (SecretKey, PublicKey) {
    static KEY: OnceLock<(SecretKey, PublicKey)> = OnceLock::new();
    KEY.get_or_init(|| {
        let sk = SecretKey::generate(&mut OsRng);
        let pk = sk.public_key();
        (sk, pk)
    })
}

#[derive(Debug, Clone)]
struct Input {
    kid: u8,
    method: String,
    path: String,
    plaintext: Vec<u8>,
    ts: i64,
    nonce: [u8; 16],
    eph: [u8; 32],
}

fn input() -> impl Strategy<Value = Input> {
    (
        any::<u8>(),
        "[A-Z]{1,10}",
        "/[A-Za-z0-9/_.~%-]{0,40}",
        proptest::collection::vec(any::<u8>(), 0..600),
        any::<i64>(),
        any::<[u8; 16]>(),
        any::<[u8; 32]>(),
    )
        .prop_filter("ephemeral key in range", |t| {
            SecretKey::from_bytes(&t.6).is_ok()
        })
        .prop_map(|(kid, method, path, plaintext, ts, nonce, eph)| Input {
            kid,
            method,
            path,
            plaintext,
            ts,
            nonce,
            eph,
        })
}

fn seal(i: &Input) -> ClientRequest {
    let eph = SecretKey::from_bytes(&i.eph).unwrap();
    seal_request_with(
        &server_key().1,
        i.kid,
        &i.method,
        &i.path,
        &i.plaintext,
        i.ts,
        i.nonce,
        &eph,
    )
    .unwrap()
}

fn parsed(req: &ClientRequest) -> ParsedEnvelope {
    parse_envelope(req.envelope.to_json().as_bytes()).unwrap()
}

fn flip(bytes: &mut [u8], bit: usize) {
    let bit = bit % (bytes.len() * 8);
    bytes[bit / 8] ^= 1 << (bit % 8);
}

/// An ASCII string with one of its bits 0–6 flipped (stays ASCII, so UTF-8).
fn flip_ascii(s: &str, bit: usize) -> String {
    let mut b = s.as_bytes().to_vec();
    let bit = bit % (b.len() * 7);
    b[bit / 7] ^= 1 << (bit % 7);
    String::from_utf8(b).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn round_trip(i in input(), status in 100u16..=599, inner in proptest::collection::vec(any::<u8>(), 0..600), rn in any::<[u8; 32]>()) {
        let req = seal(&i);
        let env = parsed(&req);
        prop_assert_eq!(env.kid, u64::from(i.kid));
        prop_assert_eq!(env.ts, i.ts);
        let (pt, sealer) = open_request(&server_key().0, &env, &i.method, &i.path).unwrap();
        prop_assert_eq!(pt.as_slice(), i.plaintext.as_slice());
        let sealed = sealer.seal(status, &inner, rn);
        prop_assert_eq!(req.opener.open_sealed(status, &sealed).unwrap(), inner.clone());
        // Through the outer body too, when the inner is a JSON envelope.
        let json = serde_json::json!({"success": status < 400, "data": b64(&inner)}).to_string();
        let sealed = sealer.seal(status, json.as_bytes(), rn);
        let body = outer_body(json.as_bytes(), &sealed);
        prop_assert_eq!(req.opener.open(status, &body).unwrap(), json.into_bytes());
    }

    #[test]
    fn any_request_bit_flip_fails(i in input(), field in 0usize..7, bit in any::<usize>()) {
        let req = seal(&i);
        let mut env = parsed(&req);
        let (mut method, mut path) = (i.method.clone(), i.path.clone());
        match field {
            0 => flip(&mut env.enc, bit),
            1 => { flip(&mut env.nonce, bit); env.nonce_b64 = b64(&env.nonce); }
            2 => { let mut b = env.ts.to_be_bytes(); flip(&mut b, bit); env.ts = i64::from_be_bytes(b); }
            3 => flip(&mut env.ct, bit),
            4 => { let mut b = [u8::try_from(env.kid).unwrap()]; flip(&mut b, bit); env.kid = u64::from(b[0]); }
            5 => method = flip_ascii(&method, bit),
            _ => path = flip_ascii(&path, bit),
        }
        let err = open_request(&server_key().0, &env, &method, &path).err();
        prop_assert!(matches!(err, Some(SealError::Invalid | SealError::InvalidPoint)), "{:?}", err);
        // And the envelope as sent on the wire: every flip is either refused by the
        // parser or by the open.
        let wire = serde_json::json!({"v": 1, "kid": env.kid, "enc": b64(&env.enc), "ts": env.ts,
                                      "nonce": env.nonce_b64, "ct": b64(&env.ct)}).to_string();
        let reparsed = parse_envelope(wire.as_bytes()).unwrap();
        prop_assert!(open_request(&server_key().0, &reparsed, &method, &path).is_err());
    }

    #[test]
    fn any_response_bit_flip_fails(i in input(), status in 100u16..=599, inner in proptest::collection::vec(any::<u8>(), 0..200),
                                   rn in any::<[u8; 32]>(), field in 0usize..3, bit in any::<usize>()) {
        let req = seal(&i);
        let (_, sealer) = open_request(&server_key().0, &parsed(&req), &i.method, &i.path).unwrap();
        let mut sealed = sealer.seal(status, &inner, rn);
        let mut status2 = status;
        match field {
            0 => { let mut n = unb64(&sealed.nonce).unwrap(); flip(&mut n, bit); sealed.nonce = b64(&n); }
            1 => { let mut c = unb64(&sealed.ct).unwrap(); flip(&mut c, bit); sealed.ct = b64(&c); }
            _ => { let mut b = status.to_be_bytes(); flip(&mut b, bit); status2 = u16::from_be_bytes(b); }
        }
        prop_assert_eq!(req.opener.open_sealed(status2, &sealed).err(), Some(SealError::Invalid));
    }
}
