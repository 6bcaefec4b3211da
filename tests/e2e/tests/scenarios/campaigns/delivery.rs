//! Campaign delivery (the serial phase): each confirmed subscriber gets each
//! campaign exactly once, in their locale, across repeated sends and
//! overlapping crons, a consumer crash, provider failures and a lost answer,
//! one-click unsubscribes and scheduled campaigns.
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use sealpost_e2e::campaigns::{
    address, assert_delivered_once, assert_finished_counts, assert_html, assert_not_delivered,
    assert_unsubscribed, campaign_id, campaign_input, campaign_subject, campaigns_log,
    clear_faults, confirmed_total, create_campaign, get_campaign, mails_with_subject, one_click,
    scenario_domain, send_campaign, set_fault, status_of, subscribe, subscribe_confirmed,
    subscribe_then_unsubscribe, subscriber, subscriber_status, unsubscribe_path, wait_until_sent,
};
use sealpost_e2e::{Stack, Value, json, random_hex, rfc3339_utc, unix_now, unix_secs_of};

use super::{seeded, token_of};

/// Creates a campaign tagged with `domain` and asserts it starts as a draft.
fn draft_for(stack: &Stack, domain: &str) -> Value {
    let campaign = create_campaign(
        stack,
        &campaign_input(&format!("{domain} {}", random_hex(3))),
    );
    assert_eq!(status_of(&campaign), "draft", "{campaign:#}");
    campaign
}

/// Sends `campaign`, waits until it is `sent`, and checks its counts
/// against the confirmed subscribers of the site when it started
/// (`confirmed`); returns the finished campaign.
fn send_and_finish(stack: &Stack, campaign: &Value, confirmed: u64) -> Value {
    let id = campaign_id(campaign);
    send_campaign(stack, &id);
    finished(stack, &id, confirmed)
}

/// Waits until campaign `id` is `sent`, then checks its counts: one ledger
/// row per confirmed subscriber, every one sent.
fn finished(stack: &Stack, id: &str, confirmed: u64) -> Value {
    let (done, seen) = wait_until_sent(stack, id);
    eprintln!("e2e: campaign {id} went through {seen:?}");
    let total = assert_finished_counts(&done);
    assert_eq!(
        total, confirmed,
        "one ledger row per confirmed subscriber: {done:#}"
    );
    assert_eq!(done["counts"]["sent"], json!(confirmed), "{done:#}");
    done
}

/// `sends` sends of campaign `id` and `crons` runs of the campaigns cron,
/// all released at the same instant.
fn at_once(stack: &Stack, id: &str, sends: usize, crons: usize) {
    let start = Barrier::new(sends + crons);
    thread::scope(|s| {
        for _ in 0..sends {
            s.spawn(|| {
                start.wait();
                let sending = send_campaign(stack, id);
                assert!(
                    ["sending", "paused", "sent"].contains(&status_of(&sending)),
                    "{sending:#}"
                );
            });
        }
        for _ in 0..crons {
            s.spawn(|| {
                start.wait();
                assert!(stack.cron("campaigns"), "scripts/cron campaigns failed");
            });
        }
    });
}

/// Every line of the campaigns worker's log naming campaign `id` and
/// containing `word`.
fn log_lines_about(stack: &Stack, id: &str, word: &str) -> Vec<String> {
    campaigns_log(stack)
        .lines()
        .filter(|l| l.contains(id) && l.to_ascii_lowercase().contains(word))
        .map(str::to_owned)
        .collect()
}

pub(super) fn campaigns_repeated_sends_and_overlapping_crons_reach_each_confirmed_subscriber_once_in_their_locale(
    stack: &Stack,
) {
    let domain = scenario_domain();
    let mut recipients: Vec<(String, &str)> = Vec::new();
    for (local, locale) in [
        ("real-en-1", "en"),
        ("real-en-2", "en"),
        ("real-vi-1", "vi"),
    ] {
        let a = address(local, &domain);
        subscribe_confirmed(stack, &a, locale);
        recipients.push((a, locale));
    }
    recipients.extend(seeded(stack, "many", &[("en", 5), ("vi", 4)], &domain));
    assert_eq!(recipients.len(), 12);
    let pending = address("pending", &domain);
    subscribe(stack, &pending, "vi");
    let gone = address("gone", &domain);
    subscribe_then_unsubscribe(stack, &gone, "en");

    let campaign = draft_for(stack, &domain);
    let id = campaign_id(&campaign);
    let confirmed = confirmed_total(stack);

    // Three sends and two cron runs at once.
    at_once(stack, &id, 3, 2);
    let done = finished(stack, &id, confirmed);
    let started = done["startedAt"]
        .as_str()
        .map(unix_secs_of)
        .expect("startedAt");
    let finished = done["finishedAt"]
        .as_str()
        .map(unix_secs_of)
        .expect("finishedAt");
    assert!(started <= finished, "{done:#}");

    let mails = assert_delivered_once(stack, &campaign, &recipients);
    for mail in &mails {
        let html = mail["html"].as_str().unwrap_or_default();
        assert!(
            !html.contains("<script>"),
            "the HTML is not escaped: {html}"
        );
    }
    assert_not_delivered(stack, &campaign, &[pending.clone(), gone.clone()]);

    // Sending a sent campaign again changes nothing.
    send_campaign(stack, &id);
    assert!(stack.cron("campaigns"), "scripts/cron campaigns failed");
    thread::sleep(Duration::from_secs(2));
    let again = get_campaign(stack, &id);
    assert_eq!(status_of(&again), "sent", "{again:#}");
    assert_eq!(again["counts"], done["counts"], "{again:#}");
    assert_delivered_once(stack, &campaign, &recipients);
}

pub(super) fn campaigns_one_click_unsubscribe_from_a_campaign_email_stops_later_campaigns(
    stack: &Stack,
) {
    let domain = scenario_domain();
    let leaving = address("leaving", &domain);
    let staying = address("staying", &domain);
    subscribe_confirmed(stack, &leaving, "en");
    subscribe_confirmed(stack, &staying, "vi");

    let first = draft_for(stack, &domain);
    send_and_finish(stack, &first, confirmed_total(stack));
    let mails = assert_delivered_once(
        stack,
        &first,
        &[(leaving.clone(), "en"), (staying.clone(), "vi")],
    );
    let path = unsubscribe_path(&mails[0]);

    // The link's page (what a scanner or a click loads) changes nothing.
    for _ in 0..2 {
        let html = assert_html(&stack.get(&path), 200);
        assert!(html.contains("<form"), "{html}");
        assert!(
            html.to_ascii_lowercase().contains("method=\"post\""),
            "{html}"
        );
        assert!(html.contains("/unsubscribe?token="), "{html}");
        assert!(html.contains("One-Click"), "{html}");
    }
    assert_eq!(subscriber_status(stack, &leaving), "confirmed");

    // RFC 8058 one-click, then JSON, then once more: all 200.
    assert_unsubscribed(&one_click(stack, &path));
    assert_eq!(subscriber_status(stack, &leaving), "unsubscribed");
    assert_unsubscribed(
        &stack
            .request("POST", "/unsubscribe")
            .json(&json!({"token": token_of(&path)}))
            .send(),
    );
    // An empty body (the token in the query): declared as such, and sent
    // with no Content-Type at all (the gateway once refused that with 415).
    assert_unsubscribed(&stack.request("POST", &path).body(Vec::new()).send());
    assert_unsubscribed(&stack.request("POST", &path).send());
    assert_unsubscribed(&one_click(stack, &path));
    let row = subscriber(stack, &leaving);
    assert_eq!(row["status"], "unsubscribed", "{row:#}");

    let second = draft_for(stack, &domain);
    send_and_finish(stack, &second, confirmed_total(stack));
    assert_delivered_once(stack, &second, &[(staying.clone(), "vi")]);
    assert_not_delivered(stack, &second, std::slice::from_ref(&leaving));
    // The first campaign's email is still the only one it got.
    assert_eq!(
        mails_with_subject(stack, &leaving, &campaign_subject(&first, "en")).len(),
        1
    );
}

pub(super) fn campaigns_a_consumer_crash_between_send_and_ack_still_delivers_exactly_once(
    stack: &Stack,
) {
    let domain = scenario_domain();
    let recipients = seeded(stack, "crash", &[("en", 3), ("vi", 2)], &domain);
    set_fault(stack, "crash", &format!("@{domain}"), 1);
    let campaign = draft_for(stack, &domain);
    let id = campaign_id(&campaign);
    send_and_finish(stack, &campaign, confirmed_total(stack));
    clear_faults(stack, &format!("@{domain}"));
    assert_delivered_once(stack, &campaign, &recipients);
    let crashes = log_lines_about(stack, &id, "crash");
    assert!(
        !crashes.is_empty(),
        "the campaigns worker never logged the injected crash for campaign {id}: the fault \
         was not taken, so this run proves nothing"
    );
}

pub(super) fn campaigns_provider_5xx_and_429_bursts_and_a_lost_answer_still_deliver_exactly_once(
    stack: &Stack,
) {
    let domain = scenario_domain();
    let recipients = seeded(stack, "flaky", &[("en", 3), ("vi", 3)], &domain);
    let matching = format!("@{domain}");
    set_fault(stack, "5xx", &matching, 4);
    set_fault(stack, "429", &matching, 2);
    set_fault(stack, "timeout", &matching, 1);
    let campaign = draft_for(stack, &domain);
    let id = campaign_id(&campaign);
    let done = send_and_finish(stack, &campaign, confirmed_total(stack));
    clear_faults(stack, &matching);
    assert_delivered_once(stack, &campaign, &recipients);
    eprintln!(
        "e2e: campaign {id} finished at {} after {} retry log lines",
        done["finishedAt"],
        log_lines_about(stack, &id, "retried").len()
    );
}

pub(super) fn campaigns_a_scheduled_campaign_starts_only_when_due_and_is_delivered_once(
    stack: &Stack,
) {
    let domain = scenario_domain();
    let tag = random_hex(3);
    let recipients = seeded(stack, "sched", &[("en", 2), ("vi", 2)], &domain);
    let due = unix_now() + 8;
    let mut input = campaign_input(&format!("{domain} {tag}"));
    input["scheduledAt"] = json!(rfc3339_utc(due));
    let campaign = create_campaign(stack, &input);
    assert_eq!(status_of(&campaign), "scheduled", "{campaign:#}");
    let id = campaign_id(&campaign);
    assert_eq!(
        campaign["scheduledAt"].as_str().map(unix_secs_of),
        Some(due),
        "{campaign:#}"
    );

    // Before it is due, the cron leaves it alone.
    assert!(stack.cron("campaigns"), "scripts/cron campaigns failed");
    assert!(
        unix_now() < due,
        "the cron took too long to check the early case"
    );
    let early = get_campaign(stack, &id);
    assert_eq!(status_of(&early), "scheduled", "{early:#}");
    assert!(early["startedAt"].is_null(), "{early:#}");
    assert_eq!(early["counts"]["total"], json!(0), "{early:#}");
    assert_not_delivered(
        stack,
        &campaign,
        &recipients
            .iter()
            .map(|(a, _)| a.clone())
            .collect::<Vec<_>>(),
    );

    // Due: overlapping cron runs start it once.
    let wait = due.saturating_sub(unix_now()) + 1;
    thread::sleep(Duration::from_secs(wait));
    let confirmed = confirmed_total(stack);
    at_once(stack, &id, 0, 2);
    let done = finished(stack, &id, confirmed);
    let started = done["startedAt"]
        .as_str()
        .map(unix_secs_of)
        .expect("startedAt");
    assert!(
        started >= due,
        "started at {started}, before it was due ({due})"
    );
    assert_delivered_once(stack, &campaign, &recipients);
}
