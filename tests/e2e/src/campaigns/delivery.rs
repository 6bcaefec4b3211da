//! Campaigns: creating, sending and reading them as the shared admin,
//! waiting until one is sent (running the cron meanwhile), and what each
//! recipient got.
use std::time::Instant;

use super::inbox::{inbox, subject_of, subjects, unsubscribe_path};
use super::subscribers::admin_request;
use super::{CRON_EVERY, DELIVERY_DEADLINE, poll};
use crate::{Reply, Stack, Value, json};

/// A campaign body whose subjects carry `tag` (so its emails are told apart).
pub fn campaign_input(tag: &str) -> Value {
    json!({
        "subject": {"en": format!("Sealpost news {tag}"), "vi": format!("Bản tin Sealpost {tag}")},
        "body": {
            "en": format!("# Hello\n\nNews **{tag}** <script>alert(1)</script>"),
            "vi": format!("# Xin chào\n\nTin **{tag}**"),
        },
    })
}

/// The subject of `campaign` in `locale` (`en`, `vi`).
pub fn campaign_subject(campaign: &Value, locale: &str) -> String {
    campaign["subject"][locale]
        .as_str()
        .unwrap_or_else(|| panic!("no subject.{locale}: {campaign:#}"))
        .to_owned()
}

/// `POST /admin/campaigns` as the shared admin.
pub fn try_create_campaign(stack: &Stack, input: &Value) -> Reply {
    admin_request(stack, "POST", "/admin/campaigns")
        .json(input)
        .send()
}

/// Creates a campaign; asserts 201 and returns the campaign.
pub fn create_campaign(stack: &Stack, input: &Value) -> Value {
    let reply = try_create_campaign(stack, input);
    assert_eq!(reply.status, 201, "POST /admin/campaigns: {reply}");
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{reply}");
    assert!(body["data"]["id"].is_string(), "{reply}");
    body["data"].clone()
}

/// The id of a campaign.
pub fn campaign_id(campaign: &Value) -> String {
    campaign["id"].as_str().expect("campaign id").to_owned()
}

/// `POST /admin/campaigns/{id}/send`; asserts 202 and returns the campaign.
pub fn send_campaign(stack: &Stack, id: &str) -> Value {
    let reply = admin_request(stack, "POST", &format!("/admin/campaigns/{id}/send")).send();
    assert_eq!(reply.status, 202, "send {id}: {reply}");
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{reply}");
    assert_eq!(body["data"]["id"], json!(id), "{reply}");
    body["data"].clone()
}

/// `GET /admin/campaigns/{id}`; asserts 200 and returns `data`.
pub fn get_campaign(stack: &Stack, id: &str) -> Value {
    let reply = admin_request(stack, "GET", &format!("/admin/campaigns/{id}")).send();
    assert_eq!(reply.status, 200, "GET campaign {id}: {reply}");
    reply.json()["data"].clone()
}

/// The status of a campaign.
pub fn status_of(campaign: &Value) -> &str {
    campaign["status"].as_str().unwrap_or_default()
}

/// Waits until campaign `id` is `sent`, running the campaigns cron every
/// [`CRON_EVERY`] (leases expire, paused campaigns resume, stale work is
/// enqueued again only through it). Returns the campaign and every status
/// it was seen in, in order.
pub fn wait_until_sent(stack: &Stack, id: &str) -> (Value, Vec<String>) {
    let mut seen: Vec<String> = Vec::new();
    let mut last_cron = Instant::now();
    let campaign = poll(
        DELIVERY_DEADLINE,
        &format!("campaign {id} to be sent"),
        || {
            let c = get_campaign(stack, id);
            let status = status_of(&c).to_owned();
            if seen.last() != Some(&status) {
                eprintln!("e2e: campaign {id}: {status} {}", c["counts"]);
                seen.push(status.clone());
            }
            if status == "sent" {
                Ok(c)
            } else {
                Err(format!("{c:#}"))
            }
        },
        || {
            if last_cron.elapsed() >= CRON_EVERY {
                assert!(stack.cron("campaigns"), "scripts/cron campaigns failed");
                last_cron = Instant::now();
            }
        },
    );
    (campaign, seen)
}

/// Asserts that each `(address, locale)` got exactly one email of
/// `campaign`, with the subject of its locale and the list headers (an https
/// List-Unsubscribe and the RFC 8058 one-click header); returns the emails.
#[track_caller]
pub fn assert_delivered_once(
    stack: &Stack,
    campaign: &Value,
    recipients: &[(String, &str)],
) -> Vec<Value> {
    recipients
        .iter()
        .map(|(address, locale)| {
            let subject = campaign_subject(campaign, locale);
            let other = campaign_subject(campaign, if *locale == "vi" { "en" } else { "vi" });
            let all = inbox(stack, address);
            let mine: Vec<&Value> = all.iter().filter(|m| subject_of(m) == subject).collect();
            assert_eq!(
                mine.len(),
                1,
                "{address} ({locale}) should have exactly one email {subject:?}; inbox: {:?}",
                subjects(&all)
            );
            assert!(
                all.iter().all(|m| subject_of(m) != other),
                "{address} ({locale}) got the other locale's subject {other:?}: {:?}",
                subjects(&all)
            );
            let mail = mine[0].clone();
            unsubscribe_path(&mail);
            mail
        })
        .collect()
}

/// Asserts that none of `addresses` got an email of `campaign` (either locale).
#[track_caller]
pub fn assert_not_delivered(stack: &Stack, campaign: &Value, addresses: &[String]) {
    let subjects_of_campaign = [
        campaign_subject(campaign, "en"),
        campaign_subject(campaign, "vi"),
    ];
    for address in addresses {
        let all = inbox(stack, address);
        assert!(
            all.iter()
                .all(|m| !subjects_of_campaign.iter().any(|s| s == subject_of(m))),
            "{address} must not get campaign {}: {:?}",
            campaign["id"],
            subjects(&all)
        );
    }
}

/// Asserts the counts of a finished campaign: every ledger row final, none
/// failed, `sent` + `skipped` = `total`; returns `total`.
#[track_caller]
pub fn assert_finished_counts(campaign: &Value) -> u64 {
    assert_eq!(status_of(campaign), "sent", "{campaign:#}");
    let counts = &campaign["counts"];
    let n = |k: &str| {
        counts[k]
            .as_u64()
            .unwrap_or_else(|| panic!("no counts.{k}: {campaign:#}"))
    };
    assert_eq!(n("pending"), 0, "{campaign:#}");
    assert_eq!(n("failed"), 0, "{campaign:#}");
    let skipped = counts["skipped"].as_u64().unwrap_or(0);
    assert_eq!(n("sent") + skipped, n("total"), "{campaign:#}");
    assert!(campaign["finishedAt"].is_string(), "{campaign:#}");
    n("total")
}

/// The campaigns worker's log so far (`$RUN_DIR/campaigns.log`).
pub fn campaigns_log(stack: &Stack) -> String {
    std::fs::read_to_string(stack.run_dir().join("campaigns.log")).unwrap_or_default()
}
