//! The project's own vectors (tests/vectors/edge-seal-v1.json, generated with
//! pyhpke): fixed keys, nonce and time give exactly the stored envelope, the
//! server opens it, and fixed response nonces give exactly the stored sealed
//! responses and outer bodies, which the client opens.

mod common;

use common::{h, s, to_hex, vectors};
use sealpost_seal::hpke::{self, Aead as _, Aes256Gcm, hkdf_expand, hkdf_extract};
use sealpost_seal::{
    Envelope, KeyConfig, PublicKey, SealedResponse, SecretKey, open_request, outer_body,
    parse_envelope, request_aad, request_info, seal_request_with, validate_enc,
};

#[test]
fn request_and_responses_match_the_vectors() {
    let doc = vectors("edge-seal-v1.json");
    let req = &doc["request"];
    let exp = &req["expected"];
    let kid = u8::try_from(req["kid"].as_u64().unwrap()).unwrap();
    let (method, path) = (s(req, "method"), s(req, "path"));
    let ts = req["ts"].as_i64().unwrap();
    let nonce: [u8; 16] = h(req, "nonce").try_into().unwrap();
    let sk_r = SecretKey::from_bytes(&h(req, "skR")).unwrap();
    let sk_e = SecretKey::from_bytes(&h(req, "skE")).unwrap();
    let plaintext = s(req, "plaintext");

    // The key configuration as GET /auth/keys would list it.
    let config: KeyConfig = serde_json::from_value(doc["keyConfig"].clone()).unwrap();
    assert_eq!(
        config.public_key,
        sealpost_seal::b64(&sk_r.public_key().to_sec1())
    );
    assert_eq!(to_hex(&sk_r.public_key().to_sec1()), s(req, "pkR"));
    let pk_r = PublicKey::from_sec1(&sealpost_seal::unb64(&config.public_key).unwrap()).unwrap();

    // Steps 2–3.
    assert_eq!(to_hex(&request_info(kid, method, path)), s(exp, "info"));
    assert_eq!(
        request_aad(ts, &sealpost_seal::b64(&nonce)),
        s(exp, "aad").as_bytes()
    );

    // The key schedule's intermediates (pyhpke's values).
    let (shared, enc) = hpke::encap(&pk_r, &sk_e).unwrap();
    assert_eq!(to_hex(&enc), s(exp, "enc"));
    assert_eq!(to_hex(shared.as_ref()), s(exp, "sharedSecret"));
    let info = request_info(kid, method, path);
    assert_eq!(
        to_hex(&hpke::key_schedule_context::<Aes256Gcm>(&info)),
        s(exp, "keyScheduleContext")
    );
    let ctx = hpke::Context::<Aes256Gcm>::key_schedule(&shared, &info).unwrap();
    assert_eq!(to_hex(ctx.key()), s(exp, "key"));
    assert_eq!(to_hex(ctx.base_nonce()), s(exp, "baseNonce"));
    assert_eq!(to_hex(ctx.exporter_secret()), s(exp, "exporterSecret"));
    let mut secret = [0u8; 32];
    ctx.export(b"edge-seal v1 response", &mut secret).unwrap();
    assert_eq!(to_hex(&secret), s(exp, "responseSecret"));

    // Client: the exact envelope.
    let client = seal_request_with(
        &pk_r,
        kid,
        method,
        path,
        plaintext.as_bytes(),
        ts,
        nonce,
        &sk_e,
    )
    .unwrap();
    let want: Envelope = serde_json::from_value(exp["envelope"].clone()).unwrap();
    assert_eq!(client.envelope, want);
    assert_eq!(client.envelope.to_json(), s(exp, "body"));
    assert_eq!(
        to_hex(&sealpost_seal::unb64(&want.enc).unwrap()),
        s(exp, "enc")
    );
    assert_eq!(
        to_hex(&sealpost_seal::unb64(&want.ct).unwrap()),
        s(exp, "ct")
    );

    // Server: the stored body parses and opens to the plaintext.
    let parsed = parse_envelope(s(exp, "body").as_bytes()).unwrap();
    assert_eq!((parsed.v, parsed.kid, parsed.ts), (1, u64::from(kid), ts));
    validate_enc(&parsed.enc).unwrap();
    let (opened, sealer) = open_request(&sk_r, &parsed, method, path).unwrap();
    assert_eq!(opened.as_slice(), plaintext.as_bytes());

    // Responses: exact sealed form and outer body; the client opens them.
    let responses = doc["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 3);
    for r in responses {
        let status = u16::try_from(r["status"].as_u64().unwrap()).unwrap();
        let inner = s(r, "inner");
        let rexp = &r["expected"];
        assert_eq!(s(rexp, "secret"), s(exp, "responseSecret"));
        // The response key derivation, step by step (SEAL.md response steps 3–4).
        let salt = [h(exp, "enc"), h(r, "response_nonce")].concat();
        assert_eq!(to_hex(&salt), s(rexp, "salt"));
        let prk = hkdf_extract(&salt, &[&secret]);
        assert_eq!(to_hex(prk.as_ref()), s(rexp, "prk"));
        let (mut key, mut iv) = ([0u8; 32], [0u8; 12]);
        hkdf_expand(&prk, &[b"key"], &mut key).unwrap();
        hkdf_expand(&prk, &[b"nonce"], &mut iv).unwrap();
        assert_eq!(
            (to_hex(&key), to_hex(&iv)),
            (s(rexp, "key").to_owned(), s(rexp, "iv").to_owned())
        );
        assert_eq!(s(rexp, "aad"), format!("{}.{status}", s(exp, "aad")));
        let ct = Aes256Gcm::seal(&key, &iv, s(rexp, "aad").as_bytes(), inner.as_bytes()).unwrap();
        assert_eq!(to_hex(&ct), s(rexp, "ct"));
        let sealed = sealer.seal(
            status,
            inner.as_bytes(),
            h(r, "response_nonce").try_into().unwrap(),
        );
        let want: SealedResponse = serde_json::from_value(rexp["sealed"].clone()).unwrap();
        assert_eq!(sealed, want, "status {status}");
        assert_eq!(
            to_hex(&sealpost_seal::unb64(&sealed.ct).unwrap()),
            s(rexp, "ct")
        );
        let body = outer_body(inner.as_bytes(), &sealed);
        assert_eq!(String::from_utf8(body.clone()).unwrap(), s(rexp, "body"));
        assert_eq!(
            client
                .opener
                .open(status, s(rexp, "body").as_bytes())
                .unwrap(),
            inner.as_bytes()
        );
        assert_eq!(
            client.opener.open_sealed(status, &want).unwrap(),
            inner.as_bytes()
        );
        assert!(
            client.opener.open(status + 1, &body).is_err(),
            "status is authenticated"
        );
    }
}
