//! Fuzz target: the form and multipart bodies of the one-click unsubscribe
//! and the confirmation form (`api::body::parse_form`,
//! `campaigns_core::subscribers::{form_token, multipart_one_click}`) and the
//! `FormOrJson` body policy as the edge applies it
//! (`edge::body::{check_declared, check_body}`). Input: one byte
//! choosing the part under test, then bytes. Oracle: no panic; decoded form
//! pairs round-trip through re-encoding; a form token is accepted only from
//! a body that is exactly one `token` pair; a well-formed multipart body
//! built from the input, with the `List-Unsubscribe: One-Click` part among
//! others, is recognised, and without it is not; the policy verdict follows
//! the media type, the size limit and JSON well-formedness.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpost_api::ErrorCode;
use sealpost_api::body::parse_form;
use sealpost_api::routes::BodyPolicy;
use sealpost_campaigns_core::subscribers::{form_token, multipart_one_click};
use sealpost_edge::body::{check_body, check_declared};

fn form(bytes: &[u8]) {
    let pairs = parse_form(bytes);
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    assert_eq!(
        parse_form(encoded.as_bytes()),
        pairs,
        "pairs round-trip via {encoded:?}"
    );
    match form_token(bytes) {
        Ok(Some(t)) => assert_eq!(pairs, vec![("token".to_owned(), t)]),
        Ok(None) => assert!(pairs.is_empty(), "pairs ignored: {pairs:?}"),
        Err(e) => {
            assert_eq!(e.code, ErrorCode::ValidationFailed);
            assert!(!pairs.is_empty());
        }
    }
}

/// Printable text without CR/LF or quotes, for part names and values.
fn clean(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b'a' + b % 26)).collect()
}

fn multipart(bytes: &[u8]) {
    // The raw body: no panic, whatever it holds.
    let _ = multipart_one_click(bytes);
    // A well-formed body: the boundary and the other parts come from the input.
    let mut chunks = bytes.split(|b| *b == 0xff);
    let boundary = format!("b{}", clean(chunks.next().unwrap_or(b"")));
    let lf = bytes.first().is_some_and(|b| b % 2 == 1);
    let nl = if lf { "\n" } else { "\r\n" };
    let others: Vec<(String, String)> = chunks
        .map(|c| {
            let (n, v) = c.split_at(c.len() / 2);
            (format!("f{}", clean(n)), clean(v))
        })
        .collect();
    let at = bytes.len() % (others.len() + 1);
    let build = |with: bool| {
        let mut body = String::new();
        for (i, (name, value)) in others.iter().enumerate() {
            if with && i == at {
                body.push_str(&format!(
                    "--{boundary}{nl}Content-Disposition: form-data; name=\"List-Unsubscribe\"{nl}{nl}One-Click{nl}"
                ));
            }
            body.push_str(&format!(
                "--{boundary}{nl}Content-Disposition: form-data; name=\"{name}\"{nl}{nl}{value}{nl}"
            ));
        }
        if with && at == others.len() {
            body.push_str(&format!(
                "--{boundary}{nl}Content-Disposition: form-data; name=\"List-Unsubscribe\"{nl}{nl}One-Click{nl}"
            ));
        }
        body.push_str(&format!("--{boundary}--{nl}"));
        body
    };
    let with = build(true);
    assert!(
        multipart_one_click(with.as_bytes()),
        "one-click part not found in {with:?}"
    );
    let without = build(false);
    assert!(
        !multipart_one_click(without.as_bytes()),
        "one-click found in {without:?}"
    );
}

fn policy(bytes: &[u8]) {
    let Some((&ct, body)) = bytes.split_first() else {
        return;
    };
    let content_type = match ct % 6 {
        0 => None,
        1 => Some("application/json"),
        2 => Some("APPLICATION/JSON; charset=utf-8"),
        3 => Some("application/x-www-form-urlencoded"),
        4 => Some("text/plain"),
        _ => Some("multipart/form-data; boundary=x"),
    };
    let max_bytes = 64 + usize::from(ct / 6) * 8;
    let p = BodyPolicy::FormOrJson { max_bytes };
    let got = check_declared(p, content_type, Some(body.len() as u64))
        .and_then(|()| check_body(p, content_type, body));
    let json = matches!(ct % 6, 1 | 2);
    let want = if body.len() > max_bytes {
        Some(ErrorCode::PayloadTooLarge)
    } else if ct % 6 == 4 || (ct % 6 == 0 && !body.is_empty()) {
        // Another media type, or none with a body.
        Some(ErrorCode::UnsupportedMediaType)
    } else if json {
        // JSON, even empty, must be well-formed JSON.
        serde_json::from_slice::<serde::de::IgnoredAny>(body)
            .err()
            .map(|_| ErrorCode::MalformedJson)
    } else {
        None
    };
    assert_eq!(
        got.as_ref().err().map(|e| e.code),
        want,
        "{content_type:?} {got:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    match pick % 3 {
        0 => form(rest),
        1 => multipart(rest),
        _ => policy(rest),
    }
});
