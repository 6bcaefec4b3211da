//! Comments end to end (API.md, Comments; docs/api.md, Comments): posting
//! and listing, moderation, body rules and the per-user rate, and the live
//! WebSocket (backfill after `since` merged with live events, refusals,
//! frames a client may and may not send), through the gateway as users do.
//!
//! The stack is shared and scenarios run in parallel: each one uses its own
//! post, its own users and its own client addresses.
//!
//! This module lists the scenarios and holds what both topics share.
mod live;
mod posting;

use std::time::Duration;

use sealpost_e2e::Value;
use sealpost_e2e::comments::serial;

use crate::Scenario;

pub const SCENARIOS: &[(&str, Scenario)] = scenarios![
    live::comments_a_websocket_upgrade_reaches_the_comments_worker_through_the_gateway,
    live::comments_a_viewer_gets_the_comments_after_since_then_live_ones_each_once_in_serial_order,
    live::comments_viewers_connecting_while_comments_are_posted_each_get_every_comment_once_in_order,
    live::comments_a_backfill_longer_than_a_chunk_streams_whole_then_live_ones_follow_once_in_order,
    posting::comments_the_list_pages_newest_first_by_cursor_and_refuses_bad_queries,
    posting::comments_members_post_and_only_staff_with_a_second_factor_delete,
    posting::comments_a_deleted_comment_reaches_live_viewers_and_leaves_every_listing,
    posting::comments_bodies_and_parents_are_checked_and_bodies_normalised,
    posting::comments_a_sixth_quick_comment_is_429_with_retry_after_and_others_are_not_limited,
    live::comments_live_refuses_plain_gets_bad_since_unknown_posts_and_a_21st_socket_per_ip,
    live::comments_a_live_socket_answers_ping_and_closes_on_any_other_frame,
    posting::comments_the_authors_activity_lists_their_comments,
];

/// Scenarios that need the stack to themselves: run one at a time after
/// every other scenario finished.
pub const SERIAL_SCENARIOS: &[(&str, Scenario)] =
    scenarios![live::comments_serials_survive_a_restart_of_the_whole_runtime];

/// A short wait in which no frame may arrive (duplicates, late extras).
const QUIET: Duration = Duration::from_secs(1);

/// Asserts strictly increasing serials.
#[track_caller]
fn assert_ascending(comments: &[Value]) {
    let serials: Vec<u64> = comments.iter().map(serial).collect();
    assert!(
        serials.windows(2).all(|w| w[0] < w[1]),
        "serials are not strictly increasing: {serials:?}"
    );
}
