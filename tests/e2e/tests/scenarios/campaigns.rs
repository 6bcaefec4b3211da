//! Campaigns end to end (API.md, Campaigns; Bootstrap and local
//! development): double opt-in subscribing that never tells whether an
//! address is known, confirmation and unsubscribe links that scanners'
//! GETs cannot trigger, RFC 8058 one-click unsubscribe, the admin subscriber
//! list, and campaign delivery: each confirmed subscriber gets each campaign
//! exactly once, in their locale, across repeated sends, overlapping crons,
//! a consumer crash between the provider's answer and the ack, provider
//! 5xx/429 bursts and a lost answer; unconfirmed and unsubscribed addresses
//! get nothing.
//!
//! Every scenario uses its own email domain (faults and inbox reads stay its
//! own) and its own client addresses. A campaign goes to every confirmed
//! subscriber of the site, so the scenarios that send campaigns run in the
//! serial phase, one at a time: their counts are exact and a fault set for
//! one scenario's domain can only hit that scenario's campaign.
//!
//! This module lists the scenarios and holds what several topics share.
mod admin;
mod delivery;
mod subscribing;

use sealpost_e2e::campaigns::seed_confirmed;
use sealpost_e2e::{Stack, random_hex};

use crate::Scenario;

pub const SCENARIOS: &[(&str, Scenario)] = scenarios![
    subscribing::campaigns_subscribing_answers_alike_for_any_address_and_only_a_post_confirms,
    subscribing::campaigns_subscribe_refuses_a_failed_turnstile_bad_fields_and_an_eleventh_request_per_ip,
    subscribing::campaigns_tampered_or_forged_links_are_refused_and_old_links_die_on_resubscribing,
    admin::campaigns_the_subscriber_list_is_admin_only_and_filters_searches_and_pages,
    admin::campaigns_creating_a_campaign_is_admin_only_and_validated,
    admin::campaigns_the_campaign_list_is_admin_only_newest_first_with_counts_and_no_bodies,
    admin::campaigns_an_admin_changes_tests_schedules_and_cancels_a_campaign_that_then_sends_nothing,
];

/// Scenarios that send campaigns (to every confirmed subscriber of the
/// site): one at a time, after every other scenario finished.
pub const SERIAL_SCENARIOS: &[(&str, Scenario)] = scenarios![
    delivery::campaigns_repeated_sends_and_overlapping_crons_reach_each_confirmed_subscriber_once_in_their_locale,
    delivery::campaigns_one_click_unsubscribe_from_a_campaign_email_stops_later_campaigns,
    delivery::campaigns_a_consumer_crash_between_send_and_ack_still_delivers_exactly_once,
    delivery::campaigns_provider_5xx_and_429_bursts_and_a_lost_answer_still_deliver_exactly_once,
    delivery::campaigns_a_scheduled_campaign_starts_only_when_due_and_is_delivered_once,
];

/// The token of an `/unsubscribe?token=…` path.
fn token_of(path: &str) -> String {
    path.split_once("token=")
        .map(|(_, t)| t.to_owned())
        .unwrap_or_else(|| panic!("no token in {path}"))
}

/// Confirmed subscribers seeded on `domain`, `count` per locale, named
/// `{name}{locale}{random}-{i}`: each address with its locale.
fn seeded(
    stack: &Stack,
    name: &str,
    per_locale: &[(&'static str, usize)],
    domain: &str,
) -> Vec<(String, &'static str)> {
    let tag = random_hex(3);
    per_locale
        .iter()
        .flat_map(|&(locale, count)| {
            seed_confirmed(
                stack,
                &format!("{name}{locale}{tag}"),
                count,
                locale,
                domain,
            )
            .into_iter()
            .map(move |a| (a, locale))
        })
        .collect()
}
