//! The local dev inbox (`GET /__dev/mail`): the emails to an address, their
//! headers and links, waits for one to arrive; and the fake provider's
//! faults (`PUT /__dev/mail/faults`).
use super::{MAIL_DEADLINE, poll, query_escape};
use crate::{Stack, Value, json};

/// Every email of the local inbox to `address`, newest first.
pub fn inbox(stack: &Stack, address: &str) -> Vec<Value> {
    let reply = stack.get(&format!("/__dev/mail?to={}", query_escape(address)));
    assert_eq!(reply.status, 200, "GET /__dev/mail?to={address}: {reply}");
    let body = reply.json();
    let mails = body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("GET /__dev/mail: no data[]: {reply}"))
        .clone();
    for mail in &mails {
        assert_eq!(
            mail["to"],
            json!(address),
            "an email to someone else: {mail:#}"
        );
    }
    mails
}

/// The `subject` of an email.
pub fn subject_of(mail: &Value) -> &str {
    mail["subject"].as_str().unwrap_or_default()
}

/// Header `name` of an email (case-insensitive), from its `headers` object.
pub fn mail_header(mail: &Value, name: &str) -> Option<String> {
    mail["headers"]
        .as_object()?
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str().map(str::to_owned))
}

/// Waits for the newest email to `address` that `pred` accepts.
pub fn wait_for_mail(
    stack: &Stack,
    address: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    poll(
        MAIL_DEADLINE,
        &format!("{what} to {address}"),
        || {
            let mails = inbox(stack, address);
            mails
                .iter()
                .find(|m| pred(m))
                .cloned()
                .ok_or_else(|| format!("{} emails: {:?}", mails.len(), subjects(&mails)))
        },
        || {},
    )
}

pub(super) fn subjects(mails: &[Value]) -> Vec<&str> {
    mails.iter().map(subject_of).collect()
}

/// The token of the first `{path}?token=…` link in an email's text (or
/// HTML), if any.
pub fn link_token(mail: &Value, path: &str) -> Option<String> {
    let needle = format!("{path}?token=");
    ["text", "html"].iter().find_map(|part| {
        let body = mail[*part].as_str()?;
        let at = body.find(&needle)? + needle.len();
        let token: String = body[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '%'))
            .collect();
        (!token.is_empty()).then_some(token)
    })
}

/// Waits for a confirmation email to `address` and returns its token.
pub fn confirmation_token(stack: &Stack, address: &str) -> String {
    let mail = wait_for_mail(stack, address, "a confirmation email", |m| {
        link_token(m, "/subscribe/confirm").is_some()
    });
    link_token(&mail, "/subscribe/confirm").expect("a confirmation link")
}

/// The path and query of an email's `List-Unsubscribe` URL
/// (`<BASE_URL/unsubscribe?token=…>`), to call on the local gateway.
/// Asserts the https (or local gateway) URL and RFC 8058's `List-Unsubscribe-Post`.
#[track_caller]
pub fn unsubscribe_path(mail: &Value) -> String {
    let header = mail_header(mail, "List-Unsubscribe")
        .unwrap_or_else(|| panic!("no List-Unsubscribe header: {mail:#}"));
    let url = header
        .trim()
        .strip_prefix('<')
        .and_then(|h| h.strip_suffix('>'))
        .unwrap_or_else(|| panic!("List-Unsubscribe is not <URL>: {header:?}"));
    // Deployed, an https URL; the local stack's base URL is its gateway,
    // http://127.0.0.1:PORT (docs/adr/0016).
    let rest = url
        .strip_prefix("https://")
        .or_else(|| {
            url.strip_prefix("http://")
                .filter(|r| r.starts_with("127.0.0.1:"))
        })
        .unwrap_or_else(|| {
            panic!("List-Unsubscribe is neither https nor the local gateway: {url:?}")
        });
    let path = &rest[rest
        .find('/')
        .unwrap_or_else(|| panic!("no path in {url:?}"))..];
    assert!(
        path.starts_with("/unsubscribe?token="),
        "List-Unsubscribe does not point at /unsubscribe?token=: {url:?}"
    );
    assert_eq!(
        mail_header(mail, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click"),
        "{mail:#}"
    );
    path.to_owned()
}

// ---------------------------------------------------------------- dev hooks

/// `PUT /__dev/mail/faults`: the fake provider fails `count` times (`kind`
/// `5xx`, `429`, `timeout`, `crash`) for batches with a recipient containing
/// `matching`; count 0 clears.
pub fn set_fault(stack: &Stack, kind: &str, matching: &str, count: u32) {
    let reply = stack
        .request("PUT", "/__dev/mail/faults")
        .json(&json!({"kind": kind, "match": matching, "count": count}))
        .send();
    assert_eq!(reply.status, 200, "PUT /__dev/mail/faults {kind}: {reply}");
    assert_eq!(reply.json()["success"], json!(true), "{reply}");
}

/// Clears every fault kind on `matching`.
pub fn clear_faults(stack: &Stack, matching: &str) {
    for kind in ["5xx", "429", "timeout", "crash"] {
        set_fault(stack, kind, matching, 0);
    }
}

/// The emails to `address` with exactly `subject`.
pub fn mails_with_subject(stack: &Stack, address: &str, subject: &str) -> Vec<Value> {
    inbox(stack, address)
        .into_iter()
        .filter(|m| subject_of(m) == subject)
        .collect()
}
