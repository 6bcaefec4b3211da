//! The gateway end to end: health, request ids and security headers,
//! unknown paths and wrong methods, each domain worker reached through it,
//! body limits and media types, the per-client rate limit, CORS, sites and
//! hosts, the dev routes (and their absence with `DEV_MODE` off), cron
//! runs, and the site's pages over plain HTTP.
//!
//! This module lists the scenarios and holds what both topics share.
mod edge;
mod pages;
mod sites;

use sealpost_e2e::{Reply, Value};

use crate::Scenario;

pub const SCENARIOS: &[(&str, Scenario)] = scenarios![
    sites::health_reports_every_worker_up,
    edge::every_response_carries_a_distinct_request_id_and_the_security_headers,
    edge::an_unknown_path_is_404_not_found,
    edge::a_wrong_method_is_405_with_the_allowed_methods,
    edge::each_domain_worker_is_reached_through_the_gateway,
    edge::a_body_over_the_route_limit_is_413_payload_too_large,
    edge::a_body_on_a_route_without_one_is_413_payload_too_large,
    edge::a_non_json_body_on_a_json_route_is_415_unsupported_media_type,
    edge::malformed_json_is_400_malformed_json,
    edge::a_well_formed_body_within_the_limit_reaches_the_worker,
    edge::a_client_over_the_rate_limit_gets_429_with_retry_after_and_others_do_not,
    edge::a_cors_preflight_is_answered_only_for_allowed_origins,
    edge::responses_carry_cors_headers_only_for_allowed_origins,
    sites::an_unknown_host_is_404_site_not_found_and_localhost_is_served,
    sites::a_site_added_with_scripts_site_is_served_on_its_host,
    sites::the_dev_mail_route_is_routed_in_dev_mode,
    sites::a_cron_run_shows_in_the_health_log_as_last_run_at,
    sites::with_dev_mode_off_dev_routes_are_unknown_and_health_wants_a_public_base_url,
    sites::cron_fails_for_an_unknown_worker_or_one_without_a_trigger,
    pages::the_root_answers_in_the_visitors_language_and_a_post_in_both,
    pages::a_page_is_served_from_the_edge_cache_and_revalidated_with_its_etag,
    pages::a_page_takes_get_and_head_only_and_head_has_no_body,
    pages::assets_are_fingerprinted_and_immutable,
    pages::the_browser_keeps_its_refresh_token_in_a_cookie_the_site_rotates,
];

/// `GET /posts` answered by the content worker: the offset-list envelope.
#[track_caller]
fn assert_post_list(reply: &Reply) {
    assert_eq!(reply.status, 200, "{reply}");
    let body = reply.json();
    assert_eq!(body["success"], true, "{reply}");
    assert!(
        body["data"].is_array() && body["pagination"].is_object(),
        "{reply}"
    );
}

/// `value` at JSON pointer `path`, or a panic naming it.
#[track_caller]
fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    value
        .pointer(path)
        .unwrap_or_else(|| panic!("no {path} in {value:#}"))
}
