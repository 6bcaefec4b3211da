//! The content CMS end to end (API.md, Content; docs/api.md, Content):
//! editor access, the life of a post from draft to published and back,
//! public reads in both languages with alternates and conditional requests,
//! versions, scheduled publishing with overlapping cron runs, bad inputs,
//! ratings, views and the edge cache, and an editor's single-post read and
//! preview.
//!
//! This module lists the scenarios and holds what several topics share:
//! editor calls and their answers, and published posts.
mod editor_reads;
mod posts;
mod reactions;
mod reads;

use sealpost_e2e::auth::bearer_request;
use sealpost_e2e::comments::{Editor, create_post, publish_post};
use sealpost_e2e::{Reply, Stack, Value, json};

use crate::Scenario;

pub const SCENARIOS: &[(&str, Scenario)] = scenarios![
    posts::content_editor_routes_refuse_anonymous_members_and_editors_without_a_second_factor,
    posts::content_a_post_goes_from_draft_to_published_and_is_read_in_both_languages,
    reads::content_public_reads_answer_if_none_match_with_304,
    posts::content_a_stale_version_is_409_update_conflict,
    posts::content_three_overlapping_cron_runs_publish_a_due_post_exactly_once,
    posts::content_bad_post_bodies_are_400_or_413,
    reactions::content_a_second_rating_replaces_the_first_and_the_average_follows,
    reactions::content_views_count_once_per_visitor_and_are_throttled_per_ip,
    reactions::content_activity_shows_the_callers_rating_and_read,
    reads::content_a_public_post_is_served_from_the_edge_cache_and_purged_on_change,
    editor_reads::content_an_editor_reopens_a_saved_draft_and_previews_its_markdown,
];

fn send(stack: &Stack, method: &str, path: &str, token: &str, body: Option<&Value>) -> Reply {
    let call = bearer_request(stack, method, path, token);
    match body {
        Some(b) => call.json(b).send(),
        None => call.send(),
    }
}

/// The `data` of a mutation answer with `status`.
#[track_caller]
fn mutation(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{reply}");
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{reply}");
    body["data"].clone()
}

fn new_post(suffix: &str) -> Value {
    json!({
        "translations": {
            "en": {"title": "Hello edge", "slug": format!("hello-{suffix}"), "excerpt": "Short", "body": "# Hello\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))"},
            "vi": {"title": "Xin chào", "slug": format!("xin-chao-{suffix}"), "excerpt": "Ngắn", "body": "Nội dung **đậm**."}
        },
        "tags": ["rust", "edge"]
    })
}

fn create(stack: &Stack, e: &Editor, suffix: &str) -> Value {
    create_post(stack, e, &new_post(suffix))
}

/// A post by `e` with slug suffix `suffix`, created and published; its id.
fn published(stack: &Stack, e: &Editor, suffix: &str) -> String {
    let id = id(&create(stack, e, suffix));
    publish_post(stack, e, &id);
    id
}

fn id(post: &Value) -> String {
    post["id"].as_str().expect("id").to_owned()
}
