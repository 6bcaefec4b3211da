//! Roles and the admin tables: the admin role and second factor every
//! `/admin/*` route needs, the paged and searchable user list, role changes
//! (revoking older tokens, audited), and the last admin keeping its role.
use std::collections::HashSet;

use sealpost_e2e::auth::{
    admin_get, admin_with_mfa, assert_mutation, assert_validation, bearer_get, bearer_request,
    claims, enable_totp, login, login_with_totp, new_member, refreshed, signup, strong_password,
    try_signup,
};
use sealpost_e2e::{
    ADMIN_EMAIL, Reply, Stack, Value, json, parse_rfc3339_utc, random_hex, unique_ip,
};

use super::{
    USER_FIELDS, admin_user_item, assert_me_refused, assert_offset_page, audit_events, me_ok,
    sorted_keys,
};

/// Asserts `items` are newest first by `createdAt` (whole seconds).
#[track_caller]
fn assert_newest_first(items: &[Value]) {
    let times: Vec<i64> = items
        .iter()
        .map(|u| {
            u["createdAt"]
                .as_str()
                .and_then(parse_rfc3339_utc)
                .unwrap_or_else(|| panic!("createdAt: {u:#}"))
        })
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "not newest first: {times:?}"
    );
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(super) fn admin_routes_need_the_admin_role_and_a_second_factor(stack: &Stack) {
    let member = new_member(stack, "not-staff");
    let routes = ["/admin/users", "/admin/audit"];
    for path in routes {
        stack.get(path).assert_error(401, "AUTH_REQUIRED");
        bearer_get(stack, path, &member.access).assert_error(403, "FORBIDDEN");
    }
    bearer_request(
        stack,
        "PUT",
        &format!("/admin/users/{}/roles", member.user_id()),
        &member.access,
    )
    .json(&json!({"roles": ["admin"]}))
    .send()
    .assert_error(403, "FORBIDDEN");
    // A second factor alone is not the role.
    let mut totp = enable_totp(stack, &member);
    let with_otp = login_with_totp(stack, &member.email, &member.password, &mut totp);
    for path in routes {
        bearer_get(stack, path, &with_otp.access).assert_error(403, "FORBIDDEN");
    }
    assert_eq!(me_ok(stack, &with_otp.access)["roles"], json!(["member"]));

    // The seeded admin with its password only was refused; with TOTP it is in.
    let admin = admin_with_mfa(stack);
    let pwd_only = admin
        .pwd_only
        .as_ref()
        .expect("the password-only view is recorded when the admin enrols");
    assert_eq!(pwd_only.amr, json!(["pwd"]));
    assert_eq!(
        (pwd_only.status, pwd_only.code.as_deref()),
        (403, Some("FORBIDDEN")),
        "GET /admin/users as the seeded admin with amr [\"pwd\"]"
    );
    assert_eq!(admin.session.amr(), json!(["pwd", "otp"]));
    for path in routes {
        let reply = bearer_get(stack, path, &admin.session.access);
        assert_eq!(reply.status, 200, "{path}: {reply}");
        assert_offset_page(&reply.json(), 1, 20);
    }
}

pub(super) fn admin_users_is_paged_newest_first_and_searchable(stack: &Stack) {
    let tag = random_hex(5);
    let older = signup(
        stack,
        &format!("paging-{tag}-a@e2e.test"),
        &strong_password(),
    );
    let word = format!("Zyx{}", random_hex(3));
    let (reply, inner) = try_signup(
        stack,
        &json!({
            "email": format!("paging-{tag}-b@e2e.test"),
            "password": strong_password(),
            "displayName": format!("Dr {word} Smith"),
        }),
    );
    let newer = assert_mutation(&reply, &inner, 201)["user"].clone();

    // The whole table: the envelope, item shape.
    let body = admin_get(stack, "/admin/users");
    let all = assert_offset_page(&body, 1, 20);
    assert!(body["pagination"]["totalItems"].as_u64().unwrap_or(0) >= 3);
    for item in &all {
        let mut want: Vec<&str> = USER_FIELDS.to_vec();
        want.extend(["createdAt", "lockedUntil"]);
        want.sort_unstable();
        assert_eq!(sorted_keys(item), want, "{item:#}");
        assert!(
            item["createdAt"]
                .as_str()
                .and_then(parse_rfc3339_utc)
                .is_some(),
            "{item:#}"
        );
    }
    assert_newest_first(&all);
    // Search by part of the e-mail, case-insensitively, newest first
    // (`createdAt` has whole seconds: two accounts of one second may come
    // in either order).
    let both: HashSet<&Value> = [&newer["id"], &older.user["id"]].into_iter().collect();
    for q in [tag.clone(), tag.to_uppercase(), format!("paging-{tag}")] {
        let body = admin_get(stack, &format!("/admin/users?q={q}"));
        let found = assert_offset_page(&body, 1, 20);
        let ids: HashSet<&Value> = found.iter().map(|u| &u["id"]).collect();
        assert_eq!(ids, both, "q={q}: {body:#}");
        assert_eq!(body["pagination"]["totalItems"], 2, "q={q}: {body:#}");
        assert_newest_first(&found);
        for item in &found {
            assert_eq!(item["lockedUntil"], Value::Null, "{item:#}");
        }
        let old = found
            .iter()
            .find(|u| u["id"] == older.user["id"])
            .expect("found");
        assert_eq!(old["email"], older.email.as_str());
        assert_eq!(old["roles"], json!(["member"]));
    }
    // By display name.
    let body = admin_get(stack, &format!("/admin/users?q={}", word.to_lowercase()));
    let found = assert_offset_page(&body, 1, 20);
    assert_eq!(found.len(), 1, "{body:#}");
    assert_eq!(found[0]["id"], newer["id"]);
    // Paging: one per page, two pages, together both.
    let mut paged = HashSet::new();
    for page in 1..=2 {
        let body = admin_get(
            stack,
            &format!("/admin/users?q={tag}&pageSize=1&page={page}"),
        );
        let items = assert_offset_page(&body, page, 1);
        assert_eq!(items.len(), 1, "{body:#}");
        assert_eq!(body["pagination"]["totalPages"], 2, "{body:#}");
        paged.insert(items[0]["id"].clone());
    }
    assert_eq!(paged.iter().collect::<HashSet<_>>(), both);
    let body = admin_get(stack, &format!("/admin/users?q={tag}&page=3&pageSize=1"));
    assert!(assert_offset_page(&body, 3, 1).is_empty(), "{body:#}");
    // Out of range: validation errors naming the parameter.
    let admin = admin_with_mfa(stack);
    for (query, field) in [
        ("pageSize=0", "pageSize"),
        ("pageSize=101", "pageSize"),
        ("page=0", "page"),
        ("pageSize=abc", "pageSize"),
    ] {
        for path in ["/admin/users", "/admin/audit"] {
            let reply = bearer_get(stack, &format!("{path}?{query}"), &admin.session.access);
            let body = reply.json();
            assert_validation(&reply, &body, field);
        }
    }
    let reply = bearer_get(
        stack,
        &format!("/admin/users?q={}", "a".repeat(101)),
        &admin.session.access,
    );
    let body = reply.json();
    assert_validation(&reply, &body, "q");
    let body = admin_get(stack, "/admin/users?pageSize=100");
    assert_offset_page(&body, 1, 100);
}

pub(super) fn a_role_change_revokes_older_tokens_and_is_audited(stack: &Stack) {
    let admin = admin_with_mfa(stack);
    let user = new_member(stack, "roles");
    let ip = unique_ip();
    let put = |id: &str, body: Value| -> Reply {
        bearer_request(
            stack,
            "PUT",
            &format!("/admin/users/{id}/roles"),
            &admin.session.access,
        )
        .client_ip(&ip)
        .json(&body)
        .send()
    };

    for (body, field) in [
        (json!({"roles": ["superuser"]}), "roles"),
        (json!({"roles": []}), "roles"),
        (json!({"roles": ["editor", "editor"]}), "roles"),
        (
            json!({"roles": ["admin", "editor", "member", "admin"]}),
            "roles",
        ),
        (json!({"roles": "editor"}), "roles"),
        (json!({}), "roles"),
        (json!({"roles": ["editor"], "why": "x"}), "why"),
    ] {
        let reply = put(&user.user_id(), body.clone());
        let inner = reply.json();
        assert_eq!(reply.status, 400, "{body} → {reply}");
        assert_eq!(
            inner["error"]["code"], "VALIDATION_FAILED",
            "{body} → {inner:#}"
        );
        let errors = inner["errors"].as_array().cloned().unwrap_or_default();
        assert!(
            errors.iter().any(|e| e["field"]
                .as_str()
                .is_some_and(|f| f == field || f.starts_with(&format!("{field}[")))),
            "{body}: no error for {field}: {inner:#}"
        );
    }
    put("no-such-user", json!({"roles": ["editor"]})).assert_error(404, "NOT_FOUND");
    // Refusals changed nothing.
    me_ok(stack, &user.access);

    let reply = put(&user.user_id(), json!({"roles": ["editor"]}));
    let body = reply.json();
    let item = assert_mutation(&reply, &body, 200);
    assert_eq!(item["id"], user.user["id"], "{item:#}");
    assert_eq!(item["roles"], json!(["editor"]), "{item:#}");
    assert_eq!(item["email"], user.email.as_str());
    let request_id = reply.header("x-request-id").unwrap_or_default().to_owned();

    // Older tokens are revoked; a refresh carries the new roles.
    assert_me_refused(stack, &user.access, "AUTH_TOKEN_REVOKED");
    let renewed = refreshed(stack, &user);
    assert_eq!(claims(&renewed.access)["roles"], json!(["editor"]));
    assert_eq!(me_ok(stack, &renewed.access)["roles"], json!(["editor"]));
    // An editor is not an admin.
    bearer_get(stack, "/admin/users", &renewed.access).assert_error(403, "FORBIDDEN");
    // New logins carry them too.
    assert_eq!(
        claims(&login(stack, &user.email, &user.password).access)["roles"],
        json!(["editor"])
    );

    // The audit log has it, with the request id and a keyed hash of the address.
    let (total, events) = audit_events(stack, "roles.changed", &user.user_id());
    assert_eq!(total, 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(
        sorted_keys(event),
        [
            "actorId",
            "at",
            "detail",
            "id",
            "ipHash",
            "requestId",
            "type",
            "userAgent",
            "userId"
        ],
        "{event:#}"
    );
    assert_eq!(event["actorId"], admin.session.user["id"], "{event:#}");
    assert_eq!(event["requestId"], request_id.as_str(), "{event:#}");
    let ip_hash = event["ipHash"].as_str().unwrap_or_default();
    assert!(
        is_hex(ip_hash, 32),
        "ipHash {ip_hash:?} is not 32 hex characters"
    );
    assert!(
        event["at"].as_str().and_then(parse_rfc3339_utc).is_some(),
        "{event:#}"
    );
    let text = event.to_string();
    for (what, secret) in [
        ("the client address", ip.as_str()),
        ("the admin's access token", admin.session.access.as_str()),
        ("the admin's refresh token", admin.session.refresh.as_str()),
        ("the admin's password", stack.admin_password()),
        ("the user's password", user.password.as_str()),
        ("the user's access token", user.access.as_str()),
        ("the user's refresh token", user.refresh.as_str()),
        ("a password hash", "$argon2"),
    ] {
        assert!(!text.contains(secret), "{what} is in the audit event");
    }
}

pub(super) fn the_last_admin_cannot_lose_the_admin_role(stack: &Stack) {
    let admin = admin_with_mfa(stack);
    let id = admin.session.user_id();
    let reply = bearer_request(
        stack,
        "PUT",
        &format!("/admin/users/{id}/roles"),
        &admin.session.access,
    )
    .json(&json!({"roles": ["member"]}))
    .send();
    reply.assert_error(409, "CONFLICT");
    // Still the admin, and its token still works.
    assert!(
        me_ok(stack, &admin.session.access)["roles"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("admin")))
    );
    let item = admin_user_item(stack, ADMIN_EMAIL, &id);
    assert!(
        item["roles"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("admin"))),
        "{item:#}"
    );
}
