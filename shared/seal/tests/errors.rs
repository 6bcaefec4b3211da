//! Every refusal gets the right `SealError`: bad points (off-curve, identity,
//! compressed, wrong length, coordinates ≥ p), malformed envelopes, truncated or
//! tampered ciphertexts, tampered responses, and the strict base64url.

use rand_core::OsRng;
use sealpost_seal::{
    Envelope, KeyConfig, MAX_ENVELOPE_BYTES, ParsedEnvelope, PublicKey, SealError, SealedResponse,
    SecretKey, b64, looks_sealed, open_request, outer_body, parse_envelope, seal_request, unb64,
    validate_enc,
};
use serde_json::{Value, json};

const METHOD: &str = "POST";
const PATH: &str = "/auth/login";
const PLAIN: &[u8] = br#"{"email":"a@example.com","password":"pw"}"#;

fn setup() -> (SecretKey, KeyConfig) {
    let sk = SecretKey::generate(&mut OsRng);
    let config = KeyConfig {
        kid: 3,
        kem: 0x10,
        kdf: 1,
        aead: 2,
        public_key: b64(&sk.public_key().to_sec1()),
        expires_at: "2030-01-01T00:00:00Z".into(),
    };
    (sk, config)
}

fn envelope_json(env: &Envelope) -> Value {
    serde_json::to_value(env).unwrap()
}

fn parse(v: &Value) -> Result<ParsedEnvelope, SealError> {
    parse_envelope(v.to_string().as_bytes())
}

/// P-256's field prime p, big-endian.
const P: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
];

#[test]
fn invalid_points() {
    let good = SecretKey::generate(&mut OsRng).public_key().to_sec1();
    assert!(PublicKey::from_sec1(&good).is_ok());
    assert!(validate_enc(&good).is_ok());
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("identity (SEC1 0x00)", vec![0x00]),
        ("all zero, 65 bytes", vec![0u8; 65]),
        (
            "0x04 then zeros: (0, 0) is not on the curve",
            [&[0x04][..], &[0u8; 64]].concat(),
        ),
        (
            "compressed",
            [&[0x02 | (good[64] & 1)][..], &good[1..33]].concat(),
        ),
        ("hybrid prefix 0x06", [&[0x06][..], &good[1..]].concat()),
        ("truncated", good[..64].to_vec()),
        ("one byte too long", [&good[..], &[0]].concat()),
    ];
    let mut off = good;
    off[64] ^= 1;
    cases.push(("y flipped: off the curve", off.to_vec()));
    let mut x_is_p = good;
    x_is_p[1..33].copy_from_slice(&P);
    cases.push(("x = p", x_is_p.to_vec()));
    let mut y_plus_p = good;
    y_plus_p[33..].copy_from_slice(&P);
    cases.push(("y = p", y_plus_p.to_vec()));
    for (what, bytes) in cases {
        assert_eq!(
            PublicKey::from_sec1(&bytes),
            Err(SealError::InvalidPoint),
            "{what}"
        );
        assert_eq!(
            validate_enc(&bytes).err(),
            Some(SealError::InvalidPoint),
            "{what}"
        );
    }
}

#[test]
fn open_request_refuses_a_bad_enc_as_invalid_point() {
    let (sk, config) = setup();
    let req = seal_request(&config, METHOD, PATH, PLAIN, 1_800_000_000, &mut OsRng).unwrap();
    let mut v = envelope_json(&req.envelope);
    v["enc"] = json!(b64(&[&[0x04][..], &[0u8; 64]].concat()));
    let env = parse(&v).unwrap(); // the shape is fine: row 1 passes
    assert_eq!(
        open_request(&sk, &env, METHOD, PATH).err(),
        Some(SealError::InvalidPoint)
    );
}

#[test]
fn secret_keys() {
    assert_eq!(
        SecretKey::from_bytes(&[0u8; 32]).err(),
        Some(SealError::Malformed),
        "zero"
    );
    assert_eq!(
        SecretKey::from_bytes(&[0xff; 32]).err(),
        Some(SealError::Malformed),
        "≥ n"
    );
    assert_eq!(
        SecretKey::from_bytes(&[1u8; 31]).err(),
        Some(SealError::Malformed),
        "short"
    );
    assert_eq!(
        SecretKey::from_bytes(&[1u8; 33]).err(),
        Some(SealError::Malformed),
        "long"
    );
    let sk = SecretKey::generate(&mut OsRng);
    let again = SecretKey::from_bytes(sk.to_bytes().as_ref()).unwrap();
    assert_eq!(again.public_key(), sk.public_key());
    assert_eq!(format!("{sk:?}"), "SecretKey(..)");
}

#[test]
fn base64url_is_strict() {
    assert_eq!(unb64("AQID").unwrap(), [1, 2, 3]);
    assert_eq!(unb64("-_8").unwrap(), [0xfb, 0xff]);
    assert_eq!(b64(&[0xfb, 0xff]), "-_8");
    for bad in ["AQI=", "AQ==", "+/8", "AQ I", "AQ\n", "A", "AR", "-_9"] {
        assert_eq!(unb64(bad), Err(SealError::Malformed), "{bad:?}");
    }
    assert_eq!(unb64("").unwrap(), Vec::<u8>::new());
}

#[test]
fn envelope_shape() {
    let (sk, config) = setup();
    let req = seal_request(&config, METHOD, PATH, PLAIN, 1_800_000_000, &mut OsRng).unwrap();
    let good = envelope_json(&req.envelope);
    let env = parse(&good).unwrap();
    assert_eq!(env.v, 1);
    assert_eq!(env.kid, 3);
    assert_eq!(env.enc.len(), 65);
    assert_eq!(env.nonce_b64, req.envelope.nonce);
    let (pt, _) = open_request(&sk, &env, METHOD, PATH).unwrap();
    assert_eq!(pt.as_slice(), PLAIN);

    let with = |k: &str, val: Value| {
        let mut v = good.clone();
        v[k] = val;
        v
    };
    let without = |k: &str| {
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove(k);
        v
    };
    let ct = unb64(&req.envelope.ct).unwrap();
    let malformed = [
        ("missing v", without("v")),
        ("missing kid", without("kid")),
        ("missing enc", without("enc")),
        ("missing ts", without("ts")),
        ("missing nonce", without("nonce")),
        ("missing ct", without("ct")),
        ("extra field", with("extra", json!(1))),
        ("v negative", with("v", json!(-1))),
        ("v float", with("v", json!(1.0))),
        ("v string", with("v", json!("1"))),
        ("kid negative", with("kid", json!(-3))),
        ("kid null", with("kid", Value::Null)),
        ("ts float", with("ts", json!(1.8e9))),
        ("ts string", with("ts", json!("1800000000"))),
        ("enc 64 bytes", with("enc", json!(b64(&[4u8; 64])))),
        ("enc 66 bytes", with("enc", json!(b64(&[4u8; 66])))),
        (
            "enc padded",
            with("enc", json!(format!("{}=", req.envelope.enc))),
        ),
        (
            "enc standard alphabet",
            with(
                "enc",
                json!(req.envelope.enc.replace('-', "+").replace('_', "/") + "+"),
            ),
        ),
        ("nonce 15 bytes", with("nonce", json!(b64(&[0u8; 15])))),
        ("nonce 17 bytes", with("nonce", json!(b64(&[0u8; 17])))),
        (
            "nonce padded",
            with("nonce", json!(format!("{}==", req.envelope.nonce))),
        ),
        ("ct shorter than the tag", with("ct", json!(b64(&ct[..15])))),
        ("ct empty", with("ct", json!(""))),
        ("ct number", with("ct", json!(5))),
    ];
    for (what, v) in malformed {
        assert_eq!(parse(&v).err(), Some(SealError::Malformed), "{what}");
    }
    // Not range-checked here: rows 2 and 3 answer these.
    assert_eq!(parse(&with("v", json!(2))).unwrap().v, 2);
    assert_eq!(parse(&with("kid", json!(256))).unwrap().kid, 256);
    assert_eq!(parse(&with("v", json!(u64::MAX))).unwrap().v, u64::MAX);
    // ct of exactly the tag length parses (and fails to open).
    let tag_only = parse(&with("ct", json!(b64(&ct[..16])))).unwrap();
    assert_eq!(
        open_request(&sk, &tag_only, METHOD, PATH).err(),
        Some(SealError::Invalid)
    );

    let raw = |b: &[u8]| parse_envelope(b).err();
    let body = good.to_string();
    assert_eq!(raw(b""), Some(SealError::Malformed));
    assert_eq!(raw(b"null"), Some(SealError::Malformed));
    assert_eq!(raw(b"[1,3]"), Some(SealError::Malformed));
    let arr = format!(
        "[1,3,\"{}\",1800000000,\"{}\",\"{}\"]",
        req.envelope.enc, req.envelope.nonce, req.envelope.ct
    );
    assert_eq!(
        raw(arr.as_bytes()),
        Some(SealError::Malformed),
        "the envelope as an array"
    );
    assert_eq!(
        raw(format!("{body} x").as_bytes()),
        Some(SealError::Malformed),
        "trailing data"
    );
    let dup = body.replacen("{", "{\"v\":1,", 1);
    assert_eq!(
        raw(dup.as_bytes()),
        Some(SealError::Malformed),
        "duplicate field"
    );
    assert!(
        parse_envelope(format!(" \n{body}\n ").as_bytes()).is_ok(),
        "whitespace around is JSON"
    );
    // Size: at most MAX_ENVELOPE_BYTES.
    let mut big = body.clone().into_bytes();
    big.resize(MAX_ENVELOPE_BYTES, b' ');
    assert!(parse_envelope(&big).is_ok());
    big.push(b' ');
    assert_eq!(parse_envelope(&big).err(), Some(SealError::Malformed));
}

#[test]
fn looks_sealed_tells_required_from_malformed() {
    assert!(!looks_sealed(
        br#"{"email":"a@example.com","password":"pw"}"#
    ));
    assert!(!looks_sealed(b"{}"));
    assert!(!looks_sealed(b"[1,2]"));
    assert!(!looks_sealed(b"\"v\""));
    assert!(
        !looks_sealed(br#"{"data":{"v":1}}"#),
        "only top-level keys count"
    );
    for k in ["v", "kid", "enc", "ct", "nonce", "ts"] {
        assert!(looks_sealed(format!("{{\"{k}\":null}}").as_bytes()), "{k}");
    }
    assert!(looks_sealed(b"not json"));
    assert!(looks_sealed(b""));
    assert!(looks_sealed(b"{\"v\":1"));
}

#[test]
fn open_failures_are_invalid() {
    let (sk, config) = setup();
    let req = seal_request(&config, METHOD, PATH, PLAIN, 1_800_000_000, &mut OsRng).unwrap();
    let env = parse(&envelope_json(&req.envelope)).unwrap();
    assert!(open_request(&sk, &env, METHOD, PATH).is_ok());
    let other = SecretKey::generate(&mut OsRng);
    assert_eq!(
        open_request(&other, &env, METHOD, PATH).err(),
        Some(SealError::Invalid),
        "wrong key"
    );
    assert_eq!(
        open_request(&sk, &env, "PUT", PATH).err(),
        Some(SealError::Invalid),
        "method"
    );
    assert_eq!(
        open_request(&sk, &env, "post", PATH).err(),
        Some(SealError::Invalid),
        "method case"
    );
    assert_eq!(
        open_request(&sk, &env, METHOD, "/auth/signup").err(),
        Some(SealError::Invalid),
        "path"
    );
    assert!(
        open_request(&sk, &env, METHOD, "/auth/login?next=1").is_ok(),
        "query strings are not part of PATH"
    );
    let mut e = env.clone();
    e.ct.truncate(e.ct.len() - 1);
    assert_eq!(
        open_request(&sk, &e, METHOD, PATH).err(),
        Some(SealError::Invalid),
        "truncated ct"
    );
    let mut e = env.clone();
    e.ct.push(0);
    assert_eq!(
        open_request(&sk, &e, METHOD, PATH).err(),
        Some(SealError::Invalid),
        "extended ct"
    );
    let mut e = env.clone();
    e.ts += 1;
    assert_eq!(
        open_request(&sk, &e, METHOD, PATH).err(),
        Some(SealError::Invalid),
        "ts"
    );
    let mut e = env.clone();
    e.kid = 4;
    assert_eq!(
        open_request(&sk, &e, METHOD, PATH).err(),
        Some(SealError::Invalid),
        "kid"
    );
    let mut e = env.clone();
    e.nonce_b64 = b64(&[0u8; 16]);
    assert_eq!(
        open_request(&sk, &e, METHOD, PATH).err(),
        Some(SealError::Invalid),
        "nonce"
    );
    // Rows 2–3 are the caller's, but open_request does not go on regardless.
    let mut e = env.clone();
    e.v = 2;
    assert_eq!(
        open_request(&sk, &e, METHOD, PATH).err(),
        Some(SealError::UnsupportedVersion)
    );
    let mut e = env.clone();
    e.kid = 256 + 3;
    assert_eq!(
        open_request(&sk, &e, METHOD, PATH).err(),
        Some(SealError::UnknownKey)
    );
}

#[test]
fn response_refusals() {
    let (sk, config) = setup();
    let req = seal_request(&config, METHOD, PATH, PLAIN, 1_800_000_000, &mut OsRng).unwrap();
    let env = parse(&envelope_json(&req.envelope)).unwrap();
    let (_, sealer) = open_request(&sk, &env, METHOD, PATH).unwrap();
    let inner = br#"{"success":false,"message":"Invalid email or password","error":{"code":"AUTH_INVALID_CREDENTIALS"}}"#;
    let sealed = sealer.seal(401, inner, [9u8; 32]);
    let body = outer_body(inner, &sealed);
    assert!(body.starts_with(br#"{"success":false,"data":{"v":1,"nonce":""#));
    assert_eq!(req.opener.open(401, &body).unwrap(), inner);

    assert_eq!(
        req.opener.open(400, &body).err(),
        Some(SealError::Invalid),
        "status"
    );
    let mut s = sealed.clone();
    s.v = 2;
    assert_eq!(
        req.opener.open_sealed(401, &s).err(),
        Some(SealError::UnsupportedVersion)
    );
    let mut s = sealed.clone();
    s.nonce = b64(&[9u8; 31]);
    assert_eq!(
        req.opener.open_sealed(401, &s).err(),
        Some(SealError::Malformed),
        "short nonce"
    );
    let mut s = sealed.clone();
    s.nonce = b64(&[8u8; 32]);
    assert_eq!(
        req.opener.open_sealed(401, &s).err(),
        Some(SealError::Invalid),
        "other nonce"
    );
    let mut s = sealed.clone();
    s.ct = b64(&unb64(&sealed.ct).unwrap()[..15]);
    assert_eq!(
        req.opener.open_sealed(401, &s).err(),
        Some(SealError::Malformed),
        "ct under a tag"
    );
    let mut s = sealed.clone();
    let ct = unb64(&sealed.ct).unwrap();
    s.ct = b64(&ct[..ct.len() - 1]);
    assert_eq!(
        req.opener.open_sealed(401, &s).err(),
        Some(SealError::Invalid),
        "truncated ct"
    );

    // The outer `success` is checked against the inner one.
    let lying = String::from_utf8(body.clone())
        .unwrap()
        .replacen("false", "true", 1);
    assert_eq!(
        req.opener.open(401, lying.as_bytes()).err(),
        Some(SealError::Invalid)
    );
    // An unsealed error envelope is not a sealed response.
    let plain = br#"{"success":false,"message":"Stale","error":{"code":"SEAL_STALE"}}"#;
    assert_eq!(
        req.opener.open(400, plain).err(),
        Some(SealError::Malformed)
    );
    assert_eq!(
        req.opener.open(200, b"not json").err(),
        Some(SealError::Malformed)
    );
    let extra = br#"{"success":true,"data":{"v":1,"nonce":"","ct":"","x":1}}"#;
    assert_eq!(
        req.opener.open(200, extra).err(),
        Some(SealError::Malformed)
    );

    // Another request's opener cannot open this response.
    let req2 = seal_request(&config, METHOD, PATH, PLAIN, 1_800_000_000, &mut OsRng).unwrap();
    assert_eq!(req2.opener.open(401, &body).err(), Some(SealError::Invalid));
}

#[test]
fn outer_body_mirrors_success() {
    let sealed = SealedResponse {
        v: 1,
        nonce: "n".into(),
        ct: "c".into(),
    };
    let out = |inner: &[u8]| String::from_utf8(outer_body(inner, &sealed)).unwrap();
    assert_eq!(
        out(br#"{"success":true,"data":1}"#),
        r#"{"success":true,"data":{"v":1,"nonce":"n","ct":"c"}}"#
    );
    assert_eq!(
        out(br#"{"success":false}"#),
        r#"{"success":false,"data":{"v":1,"nonce":"n","ct":"c"}}"#
    );
    assert_eq!(
        out(br#"{"data":{"a":1}}"#),
        r#"{"success":true,"data":{"v":1,"nonce":"n","ct":"c"}}"#
    );
}

#[test]
fn seal_request_checks_the_config() {
    let (_, config) = setup();
    let other_suite = KeyConfig {
        aead: 1,
        ..config.clone()
    };
    assert_eq!(
        seal_request(&other_suite, METHOD, PATH, PLAIN, 0, &mut OsRng).err(),
        Some(SealError::UnsupportedVersion)
    );
    let bad_b64 = KeyConfig {
        public_key: format!("{}=", config.public_key),
        ..config.clone()
    };
    assert_eq!(
        seal_request(&bad_b64, METHOD, PATH, PLAIN, 0, &mut OsRng).err(),
        Some(SealError::Malformed)
    );
    let bad_point = KeyConfig {
        public_key: b64(&[4u8; 65]),
        ..config.clone()
    };
    assert_eq!(
        seal_request(&bad_point, METHOD, PATH, PLAIN, 0, &mut OsRng).err(),
        Some(SealError::InvalidPoint)
    );
    let too_big = vec![b'a'; MAX_ENVELOPE_BYTES];
    assert_eq!(
        seal_request(&config, METHOD, PATH, &too_big, 0, &mut OsRng).err(),
        Some(SealError::Malformed)
    );
    // Fresh randomness each time.
    let a = seal_request(&config, METHOD, PATH, PLAIN, 0, &mut OsRng).unwrap();
    let b = seal_request(&config, METHOD, PATH, PLAIN, 0, &mut OsRng).unwrap();
    assert_ne!(a.envelope.enc, b.envelope.enc);
    assert_ne!(a.envelope.nonce, b.envelope.nonce);
    // The key configuration's JSON form is the contract's.
    let v = serde_json::to_value(&config).unwrap();
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["aead", "expiresAt", "kdf", "kem", "kid", "publicKey"]
    );
}

#[test]
fn error_codes_and_messages() {
    use SealError::*;
    let all = [
        Malformed,
        UnsupportedVersion,
        UnknownKey,
        InvalidPoint,
        Stale,
        Invalid,
        Crypto,
    ];
    let codes: Vec<_> = all.iter().map(|e| e.code()).collect();
    assert_eq!(
        codes,
        [
            "SEAL_MALFORMED",
            "SEAL_UNSUPPORTED_VERSION",
            "SEAL_UNKNOWN_KEY",
            "SEAL_INVALID",
            "SEAL_STALE",
            "SEAL_INVALID",
            "INTERNAL"
        ]
    );
    // A bad point and a failed open read the same: no oracle.
    assert_eq!(InvalidPoint.to_string(), Invalid.to_string());
    assert!(
        all.iter()
            .all(|e| e.status() == if *e == Crypto { 500 } else { 400 })
    );
}
