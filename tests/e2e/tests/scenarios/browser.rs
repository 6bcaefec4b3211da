//! The site and the staff console in a real browser: the scenario publishes
//! the posts and makes a new editor, two new admins and a member, then runs
//! `tests/browser` (playwright-core driving Debian's Chromium, and
//! Lighthouse's accessibility, best-practices and SEO audits) against the
//! running stack. Node's test runner reports each browser scenario; this
//! trial fails when any of them does. Screenshots go to docs/screenshots.
//!
//! It runs with the stack to itself: the browser waits on what a person
//! would see, and Lighthouse's page loads should not share two cores with
//! the other scenarios.
use std::process::Command;

use sealpost_e2e::auth::{admin_set_roles, new_member};
use sealpost_e2e::comments::{create_post, editor, publish_post};
use sealpost_e2e::{Stack, json, random_hex, repo_root};

use crate::Scenario;

pub const SERIAL_SCENARIOS: &[(&str, Scenario)] = scenarios![the_site_works_in_a_real_browser];

/// Publishes a post in both languages with `word` in each title and body;
/// answers `{id, en, vi, word}` (its slugs).
fn bilingual_post(stack: &Stack, word: &str) -> serde_json::Value {
    let e = editor(stack);
    let (en, vi) = (format!("browser-{word}"), format!("trinh-duyet-{word}"));
    let post = create_post(
        stack,
        &e,
        &json!({
            "translations": {
                "en": {
                    "title": format!("Reading at the edge {word}"),
                    "slug": en,
                    "excerpt": "A post the browser tests read, rate and comment on.",
                    "body": format!("## Why the edge\n\nPages are rendered close to the reader. {word}\n\nEvery page is cached and purged when a post changes."),
                },
                "vi": {
                    "title": format!("Đọc ở biên mạng tiếng Việt {word}"),
                    "slug": vi,
                    "excerpt": "Bài viết để trình duyệt đọc, chấm điểm và bình luận.",
                    "body": format!("## Vì sao ở biên mạng\n\nTrang được dựng gần người đọc. {word}\n\nMỗi trang được lưu đệm và xoá khi bài viết thay đổi."),
                },
            },
            "tags": ["edge", "browser"],
        }),
    );
    let id = post["id"].as_str().expect("a post id").to_owned();
    publish_post(stack, &e, &id);
    json!({"id": id, "en": en, "vi": vi, "word": word})
}

/// A new member: `{email, password}`.
fn new_person(stack: &Stack, name: &str) -> serde_json::Value {
    let m = new_member(stack, name);
    json!({"email": m.email, "password": m.password})
}

/// A new member of staff with `role` who has never signed in:
/// `{email, password}`.
fn new_staff(stack: &Stack, role: &str) -> serde_json::Value {
    let person = new_member(stack, "studio");
    let reply = admin_set_roles(stack, &person.user_id(), &json!([role]));
    assert_eq!(reply.status, 200, "making the new {role}: {reply}");
    json!({"email": person.email, "password": person.password})
}

/// The test files run: all of them, or the ones named (space-separated) in
/// `SEALPOST_BROWSER_TESTS` while working on one.
fn browser_tests() -> Vec<String> {
    match std::env::var("SEALPOST_BROWSER_TESTS") {
        Ok(only) if !only.trim().is_empty() => only.split_whitespace().map(str::to_owned).collect(),
        _ => ["site.test.mjs", "studio.test.mjs", "lighthouse.test.mjs"]
            .map(str::to_owned)
            .to_vec(),
    }
}

fn the_site_works_in_a_real_browser(stack: &Stack) {
    let dir = repo_root().join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "tests/browser has no node_modules: run scripts/test (ensure_browser_tools installs them)"
    );
    let seed = json!({
        "editorToken": editor(stack).otp.access,
        "post": bilingual_post(stack, &random_hex(4)),
        "readPost": bilingual_post(stack, &random_hex(4)),
        "staff": new_staff(stack, "editor"),
        "auditor": new_staff(stack, "admin"),
        "campaigner": new_staff(stack, "admin"),
        "member": new_person(stack, "studio-member"),
    });
    let screenshots = repo_root().join("docs/screenshots");
    let status = Command::new("node")
        .current_dir(&dir)
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .args(browser_tests())
        .env("SEALPOST_BASE_URL", stack.base_url())
        .env("SEALPOST_SEED", seed.to_string())
        .env("SEALPOST_SCREENSHOTS", &screenshots)
        .status()
        .expect("node runs (scripts/lib/env.sh puts Node 22 on PATH)");
    assert!(status.success(), "the browser scenarios failed: {status}");
}
