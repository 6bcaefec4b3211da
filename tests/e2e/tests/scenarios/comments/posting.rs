//! Posting and listing comments: cursor pages newest first, who may post and
//! delete, a deletion reaching live viewers and every listing, body and
//! parent rules, the per-user rate, and the author's activity.
use std::time::Instant;

use sealpost_e2e::auth::{admin_with_mfa, new_member};
use sealpost_e2e::comments::{
    Viewer, activity, all_comments, comment, comment_id, comment_on, delete_comment, draft_post,
    editor, list, mutation_data, page, post_comment, published_post, serial,
};
use sealpost_e2e::{Reply, Stack, Value, json};

use super::{QUIET, assert_ascending};

/// Asserts a 429 `RATE_LIMITED` whose `Retry-After` is in `range` seconds.
#[track_caller]
fn assert_rate_limited(reply: &Reply, range: std::ops::RangeInclusive<u64>) {
    reply.assert_error(429, "RATE_LIMITED");
    let retry_after = reply.header("retry-after");
    let secs: u64 = retry_after
        .unwrap_or_else(|| panic!("429 without Retry-After: {reply}"))
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not an integer: {reply}"));
    assert!(range.contains(&secs), "Retry-After {secs} not in {range:?}");
}

pub(super) fn comments_the_list_pages_newest_first_by_cursor_and_refuses_bad_queries(
    stack: &Stack,
) {
    let post = published_post(stack);
    let a = new_member(stack, "comments-list-a");
    let b = new_member(stack, "comments-list-b");
    let c1 = comment(stack, &post.id, &a, "first");
    let c2 = comment(stack, &post.id, &a, "second");
    let c3 = comment_on(stack, &post.id, &b, "a reply", Some(&comment_id(&c1)));
    let c4 = comment(stack, &post.id, &a, "fourth");
    let c5 = comment_on(stack, &post.id, &b, "another reply", Some(&comment_id(&c1)));
    let newest_first = vec![c5.clone(), c4.clone(), c3.clone(), c2.clone(), c1.clone()];
    assert_ascending(&newest_first.iter().rev().cloned().collect::<Vec<_>>());

    // Pages of two, following nextCursor.
    let (p1, next) = page(&list(stack, &post.id, "?limit=2"), 2);
    assert_eq!(p1, [c5.clone(), c4.clone()]);
    let next = next.expect("a cursor after the first page");
    let (p2, next) = page(
        &list(stack, &post.id, &format!("?limit=2&before={next}")),
        2,
    );
    assert_eq!(p2, [c3.clone(), c2.clone()]);
    let next = next.expect("a cursor after the second page");
    let (p3, next) = page(
        &list(stack, &post.id, &format!("?limit=2&before={next}")),
        2,
    );
    assert_eq!(p3, std::slice::from_ref(&c1));
    assert_eq!(next, None, "the last page has nextCursor null");

    // Default limit 50: one page; a page holding the last comment is the last.
    let (all, next) = page(&list(stack, &post.id, ""), 50);
    assert_eq!(all, newest_first);
    assert_eq!(next, None);
    let (all, next) = page(&list(stack, &post.id, "?limit=5"), 5);
    assert_eq!(all, newest_first);
    assert_eq!(next, None, "limit = count: the only page is the last");
    // Any serial is a cursor, up to the largest there can be (2^53 − 1);
    // beyond is a validation error.
    let (all, next) = page(&list(stack, &post.id, "?before=9007199254740991"), 50);
    assert_eq!(all, newest_first);
    assert_eq!(next, None);
    list(stack, &post.id, "?before=9007199254740992").assert_validation("before");
    let (older, _) = page(
        &list(stack, &post.id, &format!("?before={}", serial(&c3))),
        50,
    );
    assert_eq!(older, [c2.clone(), c1.clone()]);

    // Replies are in the same flat list, linked by parentId.
    assert_eq!(c3["parentId"], c1["id"]);
    assert_eq!(c5["parentId"], c1["id"]);
    assert_eq!(c1["parentId"], Value::Null);
    assert_eq!(c3["author"]["displayName"], b.user["displayName"]);

    list(stack, "no-such-post", "").assert_error(404, "NOT_FOUND");
    let draft = draft_post(stack);
    list(stack, &draft.id, "").assert_error(404, "NOT_FOUND");
    for bad in ["0", "101", "x", "-1", "1.5"] {
        list(stack, &post.id, &format!("?limit={bad}")).assert_validation("limit");
    }
    for bad in ["0", "-1", "x", "1.5"] {
        list(stack, &post.id, &format!("?before={bad}")).assert_validation("before");
    }
}

pub(super) fn comments_members_post_and_only_staff_with_a_second_factor_delete(stack: &Stack) {
    let post = published_post(stack);
    let member = new_member(stack, "comments-auth");
    let body = json!({"body": "hello"});
    post_comment(stack, &post.id, None, &body).assert_error(401, "AUTH_REQUIRED");
    post_comment(stack, &post.id, Some("not-a-token"), &body)
        .assert_error(401, "AUTH_TOKEN_INVALID");
    let posted = post_comment(stack, &post.id, Some(&member.access), &body);
    let c = mutation_data(&posted, 201);
    assert_eq!(c["body"], "hello");
    let cid = comment_id(&c);

    delete_comment(stack, None, &post.id, &cid).assert_error(401, "AUTH_REQUIRED");
    delete_comment(stack, Some(&member.access), &post.id, &cid).assert_error(403, "FORBIDDEN");
    // Staff without a second factor: the editor's password-only session.
    // (The seeded admin has TOTP, and a second admin would change what the
    // auth scenarios see, e.g. that the last admin cannot lose the role.)
    let e = editor(stack);
    delete_comment(stack, Some(&e.pwd_only.access), &post.id, &cid).assert_error(403, "FORBIDDEN");
    assert_eq!(all_comments(stack, &post.id), std::slice::from_ref(&c));

    let admin = admin_with_mfa(stack).session;
    let deleted = mutation_data(
        &delete_comment(stack, Some(&admin.access), &post.id, &cid),
        200,
    );
    assert_eq!(
        deleted,
        json!({"postId": post.id, "commentId": cid, "serial": serial(&c)})
    );
    assert_eq!(all_comments(stack, &post.id), Vec::<Value>::new());
}

pub(super) fn comments_a_deleted_comment_reaches_live_viewers_and_leaves_every_listing(
    stack: &Stack,
) {
    let post = published_post(stack);
    let other_post = published_post(stack);
    let author = new_member(stack, "comments-mod-a");
    let replier = new_member(stack, "comments-mod-b");
    let keep = comment(stack, &post.id, &author, "keep me");
    let doomed = comment(stack, &post.id, &author, "delete me");
    let reply = comment_on(
        stack,
        &post.id,
        &replier,
        "a reply to the deleted one",
        Some(&comment_id(&doomed)),
    );
    let elsewhere = comment(stack, &other_post.id, &author, "on another post");
    let mut viewer = Viewer::connect(stack, &post.id, Some(0));
    assert_eq!(
        viewer.created_n(3),
        [keep.clone(), doomed.clone(), reply.clone()]
    );
    let doomed_id = comment_id(&doomed);
    assert!(
        activity(stack, &author)
            .iter()
            .any(|i| i["commentId"] == json!(doomed_id)),
        "the comment is in its author's activity before it is deleted"
    );

    let e = editor(stack);
    let deleted = mutation_data(
        &delete_comment(stack, Some(&e.otp.access), &post.id, &doomed_id),
        200,
    );
    let want = json!({"postId": post.id, "commentId": doomed_id, "serial": serial(&doomed)});
    assert_eq!(deleted, want);
    let mut event = viewer.event();
    assert_eq!(event["type"], "comment.deleted", "{event:#}");
    if let Some(o) = event.as_object_mut() {
        o.remove("type");
    }
    assert_eq!(
        event, want,
        "the live deletion names the post, comment and serial"
    );
    viewer.quiet(QUIET);

    // Gone from the list, a fresh backfill and the author's activity;
    // the reply to it stays.
    let listed = all_comments(stack, &post.id);
    assert_eq!(listed, [reply.clone(), keep.clone()]);
    let mut fresh = Viewer::connect(stack, &post.id, Some(0));
    assert_eq!(fresh.created_n(2), [keep.clone(), reply.clone()]);
    fresh.quiet(QUIET);
    let items = activity(stack, &author);
    assert!(
        !items.iter().any(|i| i["commentId"] == json!(doomed_id)),
        "a deleted comment left in activity: {items:#?}"
    );
    assert!(
        items.iter().any(|i| i["commentId"] == keep["id"]),
        "{items:#?}"
    );

    // Deleting again, an unknown id, or a comment under another post: 404.
    for c in [
        doomed_id.clone(),
        "no-such-comment".to_owned(),
        comment_id(&elsewhere),
    ] {
        delete_comment(stack, Some(&e.otp.access), &post.id, &c).assert_error(404, "NOT_FOUND");
    }
    // A deleted comment cannot be replied to.
    post_comment(
        stack,
        &post.id,
        Some(&replier.access),
        &json!({"body": "late", "parentId": doomed_id}),
    )
    .assert_validation("parentId");
    assert_eq!(all_comments(stack, &other_post.id), [elsewhere]);
}

pub(super) fn comments_bodies_and_parents_are_checked_and_bodies_normalised(stack: &Stack) {
    let post = published_post(stack);
    let other_post = published_post(stack);
    // Refused bodies come from one member, accepted ones from another, so
    // the per-user rate never decides an answer here.
    let refused = new_member(stack, "comments-body-bad");
    let writer = new_member(stack, "comments-body-ok");
    let foreign = comment(stack, &other_post.id, &writer, "on the other post");
    let send = |body: &Value| post_comment(stack, &post.id, Some(&refused.access), body);

    let e_circ = '\u{1EC7}'; // ệ: one scalar value, three UTF-8 bytes
    let max: String = std::iter::repeat_n(e_circ, 2000).collect();
    let over: String = std::iter::repeat_n(e_circ, 2001).collect();
    for (what, body) in [
        ("empty", json!({"body": ""})),
        ("blank", json!({"body": " \n\t \r\n "})),
        ("2,001 characters", json!({"body": over})),
        ("BEL", json!({"body": "ring \u{7} ring"})),
        ("ESC", json!({"body": "\u{1b}[31mred"})),
        ("DEL", json!({"body": "del \u{7f}"})),
        ("not a string", json!({"body": 5})),
        ("missing", json!({"parentId": null})),
    ] {
        let reply = send(&body);
        assert_eq!(reply.status, 400, "{what}: {reply}");
        reply.assert_validation("body");
    }
    send(&json!({"body": "hi", "extra": 1})).assert_error(400, "VALIDATION_FAILED");
    for (what, parent) in [
        ("of another post", json!(comment_id(&foreign))),
        ("unknown", json!("no-such-comment")),
        ("not a string", json!(5)),
    ] {
        let reply = send(&json!({"body": "a reply", "parentId": parent}));
        assert_eq!(reply.status, 400, "parentId {what}: {reply}");
        reply.assert_validation("parentId");
    }
    // Over 16 KiB: refused at the edge.
    send(&json!({"body": "x".repeat(17 * 1024)})).assert_error(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(all_comments(stack, &post.id), Vec::<Value>::new());

    // Exactly 2,000 characters (6,000 bytes), also once trimmed.
    let c = comment(stack, &post.id, &writer, &max);
    assert_eq!(c["body"], json!(max));
    let padded = format!("  \r\n{max}\n\t ");
    let c = mutation_data(
        &post_comment(
            stack,
            &post.id,
            Some(&writer.access),
            &json!({"body": padded}),
        ),
        201,
    );
    assert_eq!(c["body"], json!(max), "trimmed before counting");
    // CRLF and CR become LF; TAB stays.
    let c = mutation_data(
        &post_comment(
            stack,
            &post.id,
            Some(&writer.access),
            &json!({"body": "one\r\ntwo\rthree\tfour", "parentId": null}),
        ),
        201,
    );
    assert_eq!(c["body"], "one\ntwo\nthree\tfour");
    assert_eq!(c["parentId"], Value::Null);
    let stored = all_comments(stack, &post.id);
    assert_eq!(stored[0]["body"], "one\ntwo\nthree\tfour", "stored as LF");

    // Unknown or unpublished posts: 404.
    let ok = json!({"body": "hello"});
    post_comment(stack, "no-such-post", Some(&writer.access), &ok).assert_error(404, "NOT_FOUND");
    let draft = draft_post(stack);
    post_comment(stack, &draft.id, Some(&writer.access), &ok).assert_error(404, "NOT_FOUND");
}

pub(super) fn comments_a_sixth_quick_comment_is_429_with_retry_after_and_others_are_not_limited(
    stack: &Stack,
) {
    let post = published_post(stack);
    let other_post = published_post(stack);
    let quick = new_member(stack, "comments-quick");
    let other = new_member(stack, "comments-other");
    // A burst of five, then one per 5 s: count the successes before the
    // first refusal, allowing what refilled while the burst ran.
    let started = Instant::now();
    let mut accepted = 0_u64;
    let limited = loop {
        let r = post_comment(
            stack,
            &post.id,
            Some(&quick.access),
            &json!({"body": format!("quick {accepted}")}),
        );
        if r.status == 429 {
            break r;
        }
        assert_eq!(r.status, 201, "comment {}: {r}", accepted + 1);
        accepted += 1;
        assert!(accepted <= 12, "never limited after {accepted} comments");
    };
    let refilled = started.elapsed().as_secs() / 5;
    assert!(
        (5..=5 + refilled).contains(&accepted),
        "{accepted} accepted before the first 429 in {:?}",
        started.elapsed()
    );
    assert_rate_limited(&limited, 1..=5);

    // Another user on the same post, and the same user on another post.
    comment(stack, &post.id, &other, "not limited");
    comment(stack, &other_post.id, &quick, "another post");
    assert_eq!(
        all_comments(stack, &post.id).len() as u64,
        accepted + 1,
        "a refused comment is not stored"
    );
}

pub(super) fn comments_the_authors_activity_lists_their_comments(stack: &Stack) {
    let post = published_post(stack);
    let author = new_member(stack, "comments-activity");
    let first = comment(stack, &post.id, &author, "my first");
    let second = comment_on(
        stack,
        &post.id,
        &author,
        "my reply",
        Some(&comment_id(&first)),
    );
    let items = activity(stack, &author);
    let mine: Vec<&Value> = items.iter().filter(|i| i["type"] == "comment").collect();
    assert_eq!(mine.len(), 2, "{items:#?}");
    for c in [&first, &second] {
        let item = mine
            .iter()
            .find(|i| i["commentId"] == c["id"])
            .unwrap_or_else(|| panic!("comment {} not in activity: {items:#?}", c["id"]));
        assert_eq!(
            **item,
            json!({
                "type": "comment",
                "postId": post.id,
                "commentId": c["id"],
                "at": c["createdAt"],
                "slug": post.slug,
                "title": post.title,
            })
        );
    }
    // Newest first.
    let pos = |c: &Value| mine.iter().position(|i| i["commentId"] == c["id"]);
    if first["createdAt"] != second["createdAt"] {
        assert!(pos(&second) < pos(&first), "{items:#?}");
    }
    // Someone else's activity does not show them.
    let other = new_member(stack, "comments-activity-other");
    assert!(
        activity(stack, &other)
            .iter()
            .all(|i| i["type"] != "comment"),
        "another member's activity lists comments"
    );
}
