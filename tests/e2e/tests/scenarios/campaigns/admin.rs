//! The admin side: the subscriber list (admin only, filtered, searched,
//! paged), creating campaigns (admin only, validated), listing them, and
//! changing, testing and cancelling one.
use std::thread;
use std::time::Duration;

use sealpost_e2e::auth::{bearer_request, new_member};
use sealpost_e2e::campaigns::{
    address, admin_request, all_subscribers, assert_offset_list, campaign_id, campaign_input,
    create_campaign, get_campaign, inbox, query_escape, scenario_domain, seed_confirmed, status_of,
    subject_of, subscribe, subscribe_then_unsubscribe, subscribers_page, try_create_campaign,
};
use sealpost_e2e::{Stack, Value, json, random_hex, rfc3339_utc, unix_now, unix_secs_of};

pub(super) fn campaigns_the_subscriber_list_is_admin_only_and_filters_searches_and_pages(
    stack: &Stack,
) {
    stack
        .get("/admin/subscribers")
        .assert_error(401, "AUTH_REQUIRED");
    let member = new_member(stack, "subscribers-member");
    bearer_request(stack, "GET", "/admin/subscribers", &member.access)
        .send()
        .assert_error(403, "FORBIDDEN");

    let domain = scenario_domain();
    let prefix = format!("list{}", random_hex(3));
    let seeded = seed_confirmed(stack, &prefix, 25, "en", &domain);
    let pending = [address("pa", &domain), address("pb", &domain)];
    for p in &pending {
        subscribe(stack, p, "vi");
    }
    let gone = address("gone", &domain);
    subscribe_then_unsubscribe(stack, &gone, "en");

    let at_domain = format!("@{domain}");
    let total = |query: &str| -> (Vec<Value>, Value) {
        assert_offset_list(&subscribers_page(stack, query))
    };
    let q = query_escape(&at_domain);
    for (status, expected) in [
        (None, 28),
        (Some("confirmed"), 25),
        (Some("pending"), 2),
        (Some("unsubscribed"), 1),
    ] {
        let query = match status {
            Some(s) => format!("q={q}&status={s}&pageSize=100"),
            None => format!("q={q}&pageSize=100"),
        };
        let (data, pagination) = total(&query);
        assert_eq!(
            pagination["totalItems"],
            json!(expected),
            "{query}: {pagination}"
        );
        assert_eq!(data.len(), expected, "{query}");
        assert!(
            data.iter()
                .all(|s| s["email"].as_str().is_some_and(|e| e.ends_with(&at_domain))),
            "{query}: {data:#?}"
        );
        if let Some(s) = status {
            assert!(data.iter().all(|x| x["status"] == s), "{query}: {data:#?}");
        }
    }

    // A full address is an exact match; a part matches case-insensitively.
    let (one, _) = total(&format!("q={}", query_escape(&pending[0])));
    assert_eq!(one.len(), 1, "{one:#?}");
    assert_eq!(one[0]["email"], json!(pending[0]));
    assert_eq!(one[0]["locale"], "vi");
    assert!(one[0]["confirmedAt"].is_null(), "{one:#?}");
    for part in [prefix.clone(), prefix.to_ascii_uppercase()] {
        let (_, pagination) = total(&format!("q={}", query_escape(&part)));
        assert_eq!(
            pagination["totalItems"],
            json!(25),
            "q={part}: {pagination}"
        );
    }
    assert_eq!(
        all_subscribers(stack, &seeded[3], None).len(),
        1,
        "{}",
        seeded[3]
    );

    // Pages of 10: 10, 10, 8, then nothing; newest first, no overlap.
    let mut ids = std::collections::HashSet::new();
    let mut created = Vec::new();
    for (page, size) in [(1, 10), (2, 10), (3, 8), (4, 0)] {
        let (data, pagination) = total(&format!("q={q}&pageSize=10&page={page}"));
        assert_eq!(data.len(), size, "page {page}");
        assert_eq!(
            pagination,
            json!({"page": page, "pageSize": 10, "totalItems": 28, "totalPages": 3}),
            "page {page}"
        );
        for s in &data {
            assert!(ids.insert(s["id"].clone()), "{} on two pages", s["id"]);
            created.push(
                s["createdAt"]
                    .as_str()
                    .map(unix_secs_of)
                    .expect("createdAt"),
            );
        }
    }
    assert_eq!(ids.len(), 28);
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "not newest first: {created:?}"
    );
    // The newest is the last one made here.
    let (first, _) = total(&format!("q={q}&pageSize=1"));
    assert_eq!(first[0]["email"], json!(gone), "{first:#?}");

    for query in [
        "pageSize=0",
        "pageSize=101",
        "page=0",
        "page=x",
        "status=bogus",
    ] {
        let reply = subscribers_page(stack, query);
        reply.assert_error(400, "VALIDATION_FAILED");
    }
}

pub(super) fn campaigns_creating_a_campaign_is_admin_only_and_validated(stack: &Stack) {
    let input = campaign_input(&random_hex(4));
    stack
        .request("POST", "/admin/campaigns")
        .json(&input)
        .send()
        .assert_error(401, "AUTH_REQUIRED");
    stack
        .get("/admin/campaigns/abc")
        .assert_error(401, "AUTH_REQUIRED");
    let member = new_member(stack, "campaigns-member");
    bearer_request(stack, "POST", "/admin/campaigns", &member.access)
        .json(&input)
        .send()
        .assert_error(403, "FORBIDDEN");
    bearer_request(stack, "GET", "/admin/campaigns/abc", &member.access)
        .send()
        .assert_error(403, "FORBIDDEN");
    bearer_request(stack, "POST", "/admin/campaigns/abc/send", &member.access)
        .send()
        .assert_error(403, "FORBIDDEN");

    let with = |path: &str, value: Value| {
        let mut body = input.clone();
        *body.pointer_mut(path).expect("a field of the input") = value;
        body
    };
    let mut no_vi = input.clone();
    no_vi["subject"]
        .as_object_mut()
        .expect("subject")
        .remove("vi");
    let mut extra = input.clone();
    extra["from"] = json!("evil@example.com");
    let past = rfc3339_utc(unix_now() - 3600);
    for (body, field) in [
        (no_vi, "subject.vi"),
        (
            with("/subject/en", json!("Hi\r\nBcc: x@evil.example")),
            "subject.en",
        ),
        (
            with("/subject/vi", json!("Chào\nBcc: x@evil.example")),
            "subject.vi",
        ),
        (with("/subject/en", json!("")), "subject.en"),
        (with("/subject/en", json!("x".repeat(201))), "subject.en"),
        (with("/body/en", json!("")), "body.en"),
        (
            {
                let mut b = input.clone();
                b["scheduledAt"] = json!(past);
                b
            },
            "scheduledAt",
        ),
        (
            {
                let mut b = input.clone();
                b["scheduledAt"] = json!("tomorrow");
                b
            },
            "scheduledAt",
        ),
    ] {
        try_create_campaign(stack, &body).assert_validation(field);
    }
    try_create_campaign(stack, &extra).assert_validation("from");

    let created = create_campaign(stack, &input);
    assert_eq!(status_of(&created), "draft", "{created:#}");
    let id = campaign_id(&created);
    let got = get_campaign(stack, &id);
    assert_eq!(got["id"], json!(id));
    assert_eq!(status_of(&got), "draft", "{got:#}");
    assert_eq!(got["subject"], input["subject"], "{got:#}");
    assert_eq!(got["body"], input["body"], "{got:#}");
    assert!(got["scheduledAt"].is_null(), "{got:#}");
    assert!(got["startedAt"].is_null(), "{got:#}");
    assert!(got["createdAt"].is_string(), "{got:#}");
    for k in ["total", "pending", "sent", "failed"] {
        assert_eq!(got["counts"][k], json!(0), "counts.{k}: {got:#}");
    }

    let unknown = random_hex(16);
    admin_request(stack, "GET", &format!("/admin/campaigns/{unknown}"))
        .send()
        .assert_error(404, "NOT_FOUND");
    admin_request(stack, "POST", &format!("/admin/campaigns/{unknown}/send"))
        .send()
        .assert_error(404, "NOT_FOUND");
}

pub(super) fn campaigns_the_campaign_list_is_admin_only_newest_first_with_counts_and_no_bodies(
    stack: &Stack,
) {
    let tag = random_hex(4);
    let older = campaign_id(&create_campaign(
        stack,
        &campaign_input(&format!("{tag}-a")),
    ));
    thread::sleep(Duration::from_millis(20));
    let newer = campaign_id(&create_campaign(
        stack,
        &campaign_input(&format!("{tag}-b")),
    ));
    let (items, pagination) = assert_offset_list(
        &admin_request(stack, "GET", "/admin/campaigns?status=draft&pageSize=100").send(),
    );
    let at = |id: &str| {
        items
            .iter()
            .position(|c| c["id"] == json!(id))
            .unwrap_or_else(|| panic!("{id} not in the list: {items:#?}"))
    };
    assert!(at(&newer) < at(&older), "newest first");
    let item = &items[at(&newer)];
    assert_eq!(item["status"], "draft");
    assert_eq!(
        item["subject"]["en"],
        json!(format!("Sealpost news {tag}-b"))
    );
    assert_eq!(item["counts"]["total"], 0);
    assert!(item.get("body").is_none(), "{item:#}");
    assert!(pagination["totalItems"].as_u64().unwrap_or_default() >= 2);
    admin_request(stack, "GET", "/admin/campaigns?status=archived")
        .send()
        .assert_validation("status");
    let member = new_member(stack, "campaigns-lister");
    bearer_request(stack, "GET", "/admin/campaigns", &member.access)
        .send()
        .assert_error(403, "FORBIDDEN");
    stack
        .get("/admin/campaigns")
        .assert_error(401, "AUTH_REQUIRED");
}

/// `PATCH`, `test` and `cancel` of one campaign through the gateway, in the
/// contract's envelope.
pub(super) fn campaigns_an_admin_changes_tests_schedules_and_cancels_a_campaign_that_then_sends_nothing(
    stack: &Stack,
) {
    let tag = random_hex(4);
    let domain = scenario_domain();
    let id = campaign_id(&create_campaign(stack, &campaign_input(&tag)));
    let path = format!("/admin/campaigns/{id}");
    let patch = |body: &Value| admin_request(stack, "PATCH", &path).json(body).send();

    let changed = patch(&json!({"subject": {"vi": format!("Tin mới {tag}")}}));
    assert_eq!(changed.status, 200, "{changed}");
    let data = changed.json()["data"].clone();
    assert_eq!(data["subject"]["vi"], json!(format!("Tin mới {tag}")));
    assert_eq!(data["subject"]["en"], json!(format!("Sealpost news {tag}")));
    patch(&json!({"subject": {"en": "Two\nlines"}, "colour": "red"}))
        .assert_error(400, "VALIDATION_FAILED");

    // A test reaches the one address named, in the language asked for.
    let tester = address(&format!("test{tag}"), &domain);
    let test = |body: &Value| {
        admin_request(stack, "POST", &format!("{path}/test"))
            .json(body)
            .send()
    };
    let tested = test(&json!({"email": tester, "locale": "vi"}));
    assert_eq!(tested.status, 202, "{tested}");
    let mails = inbox(stack, &tester);
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(subject_of(&mails[0]), format!("[Test] Tin mới {tag}"));
    test(&json!({"email": "not an address", "locale": "fr"}))
        .assert_error(400, "VALIDATION_FAILED");
    let member = new_member(stack, "campaign-test-member");
    bearer_request(stack, "POST", &format!("{path}/test"), &member.access)
        .json(&json!({"email": tester, "locale": "en"}))
        .send()
        .assert_error(403, "FORBIDDEN");

    // Scheduled an hour ahead, then cancelled: it stays cancelled, with no
    // recipient, whatever the cron does.
    let scheduled = patch(&json!({"scheduledAt": rfc3339_utc(unix_now() + 3600)}));
    assert_eq!(scheduled.status, 200, "{scheduled}");
    assert_eq!(status_of(&scheduled.json()["data"]), "scheduled");
    let cancel = || admin_request(stack, "POST", &format!("{path}/cancel")).send();
    let cancelled = cancel();
    assert_eq!(cancelled.status, 200, "{cancelled}");
    assert_eq!(status_of(&cancelled.json()["data"]), "cancelled");
    assert_eq!(cancel().json()["data"], cancelled.json()["data"]);
    patch(&json!({"scheduledAt": null})).assert_error(409, "CONFLICT");
    assert!(stack.cron("campaigns"), "the campaigns cron ran");
    let after = get_campaign(stack, &id);
    assert_eq!(status_of(&after), "cancelled", "{after:#}");
    assert_eq!(after["counts"]["total"], json!(0), "{after:#}");
    admin_request(stack, "POST", "/admin/campaigns/nope/cancel")
        .send()
        .assert_error(404, "NOT_FOUND");
}
