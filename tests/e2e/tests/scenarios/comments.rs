//! Comments end to end (API.md, Comments; docs/api.md, Comments): posting
//! and listing, moderation, body rules and the per-user rate, and the live
//! WebSocket (backfill after `since` merged with live events, refusals,
//! frames a client may and may not send), through the gateway as users do.
//!
//! The stack is shared and scenarios run in parallel: each one uses its own
//! post, its own users and its own client addresses.
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use sealpost_e2e::auth::{Session, admin_with_mfa, new_member};
use sealpost_e2e::comments::{
    Frame, Viewer, activity, all_comments, comment, comment_id, comment_on, delete_comment,
    draft_post, editor, list, live_path, mutation_data, page, post_comment, published_post, serial,
};
use sealpost_e2e::{Reply, Stack, Value, json, unique_ip};

use super::Scenario;

pub const SCENARIOS: &[(&str, Scenario)] = &[
    (
        "comments_a_websocket_upgrade_reaches_the_comments_worker_through_the_gateway",
        comments_a_websocket_upgrade_reaches_the_comments_worker_through_the_gateway,
    ),
    (
        "comments_a_viewer_gets_the_comments_after_since_then_live_ones_each_once_in_serial_order",
        comments_a_viewer_gets_the_comments_after_since_then_live_ones_each_once_in_serial_order,
    ),
    (
        "comments_viewers_connecting_while_comments_are_posted_each_get_every_comment_once_in_order",
        comments_viewers_connecting_while_comments_are_posted_each_get_every_comment_once_in_order,
    ),
    (
        "comments_a_backfill_longer_than_a_chunk_streams_whole_then_live_ones_follow_once_in_order",
        comments_a_backfill_longer_than_a_chunk_streams_whole_then_live_ones_follow_once_in_order,
    ),
    (
        "comments_the_list_pages_newest_first_by_cursor_and_refuses_bad_queries",
        comments_the_list_pages_newest_first_by_cursor_and_refuses_bad_queries,
    ),
    (
        "comments_members_post_and_only_staff_with_a_second_factor_delete",
        comments_members_post_and_only_staff_with_a_second_factor_delete,
    ),
    (
        "comments_a_deleted_comment_reaches_live_viewers_and_leaves_every_listing",
        comments_a_deleted_comment_reaches_live_viewers_and_leaves_every_listing,
    ),
    (
        "comments_bodies_and_parents_are_checked_and_bodies_normalised",
        comments_bodies_and_parents_are_checked_and_bodies_normalised,
    ),
    (
        "comments_a_sixth_quick_comment_is_429_with_retry_after_and_others_are_not_limited",
        comments_a_sixth_quick_comment_is_429_with_retry_after_and_others_are_not_limited,
    ),
    (
        "comments_live_refuses_plain_gets_bad_since_unknown_posts_and_a_21st_socket_per_ip",
        comments_live_refuses_plain_gets_bad_since_unknown_posts_and_a_21st_socket_per_ip,
    ),
    (
        "comments_a_live_socket_answers_ping_and_closes_on_any_other_frame",
        comments_a_live_socket_answers_ping_and_closes_on_any_other_frame,
    ),
    (
        "comments_the_authors_activity_lists_their_comments",
        comments_the_authors_activity_lists_their_comments,
    ),
];

/// Scenarios that need the stack to themselves: run one at a time after
/// every other scenario finished.
pub const SERIAL_SCENARIOS: &[(&str, Scenario)] = &[(
    "comments_serials_survive_a_restart_of_the_whole_runtime",
    comments_serials_survive_a_restart_of_the_whole_runtime,
)];

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

// -------------------------------------------------------------- scenarios

fn comments_a_websocket_upgrade_reaches_the_comments_worker_through_the_gateway(stack: &Stack) {
    let post = published_post(stack);
    let mut viewer = Viewer::connect(stack, &post.id, None);
    // The runtime answers the keep-alive: the socket is live end to end.
    viewer.ping();
    viewer.quiet(QUIET);
    viewer.close();
    // A live path no route has is the gateway's plain 404.
    match Viewer::try_connect(stack, "/posts/abc/nope/live", &unique_ip()) {
        Err(refused) => refused.assert_error(404, "NOT_FOUND"),
        Ok(_) => panic!("an upgrade to an unknown path succeeded"),
    }
}

fn comments_a_viewer_gets_the_comments_after_since_then_live_ones_each_once_in_serial_order(
    stack: &Stack,
) {
    let post = published_post(stack);
    let author = new_member(stack, "comments-merge");
    let first: Vec<Value> = (1..=3)
        .map(|i| comment(stack, &post.id, &author, &format!("comment {i}")))
        .collect();
    assert_ascending(&first);

    // Backfill: exactly the comments after `since`, ascending.
    let mut viewer = Viewer::connect(stack, &post.id, Some(serial(&first[0])));
    let backfill = viewer.created_n(2);
    assert_eq!(backfill, first[1..], "backfill after since");
    // Then live: comments posted now arrive as they happen.
    let later: Vec<Value> = (4..=5)
        .map(|i| comment(stack, &post.id, &author, &format!("comment {i}")))
        .collect();
    let live = viewer.created_n(2);
    assert_eq!(live, later, "live comments");
    viewer.quiet(QUIET);

    let every: Vec<Value> = first.iter().chain(&later).cloned().collect();
    assert_ascending(&every);
    let merged: Vec<Value> = backfill.into_iter().chain(live).collect();
    assert_eq!(
        merged,
        every[1..],
        "backfill + live = every comment after since, once"
    );

    // since=0, and no since at all, get everything; since=last gets nothing.
    for since in [Some(0), None] {
        let mut all = Viewer::connect(stack, &post.id, since);
        assert_eq!(all.created_n(5), every, "since {since:?}");
        all.quiet(QUIET);
    }
    let mut none = Viewer::connect(stack, &post.id, Some(serial(&every[4])));
    none.quiet(QUIET);
    // The list holds the same comments, newest first.
    let listed: Vec<Value> = all_comments(stack, &post.id).into_iter().rev().collect();
    assert_eq!(listed, every);
}

fn comments_viewers_connecting_while_comments_are_posted_each_get_every_comment_once_in_order(
    stack: &Stack,
) {
    const EARLIER: usize = 5;
    const VIEWERS: usize = 10;
    const POSTS: usize = 10;
    const POSTERS: usize = 5;
    let post = published_post(stack);
    let first = new_member(stack, "comments-early");
    for i in 0..EARLIER {
        comment(stack, &post.id, &first, &format!("earlier {i}"));
    }
    // Two comments per poster: within each one's burst of five.
    let posters: Vec<Session> = thread::scope(|s| {
        let handles: Vec<_> = (0..POSTERS)
            .map(|_| s.spawn(|| new_member(stack, "comments-poster")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("signup"))
            .collect()
    });

    let total = EARLIER + POSTS;
    let start = Barrier::new(VIEWERS + POSTS);
    let seen: Vec<Vec<Value>> = thread::scope(|s| {
        for j in 0..POSTS {
            let (start, posters, post) = (&start, &posters, &post);
            s.spawn(move || {
                start.wait();
                thread::sleep(Duration::from_millis(40 * j as u64));
                comment(stack, &post.id, &posters[j % POSTERS], &format!("live {j}"));
            });
        }
        let viewers: Vec<_> = (0..VIEWERS)
            .map(|i| {
                let (start, post) = (&start, &post);
                s.spawn(move || {
                    start.wait();
                    thread::sleep(Duration::from_millis(40 * i as u64));
                    let mut viewer = Viewer::connect(stack, &post.id, Some(0));
                    let got = viewer.created_n(total);
                    viewer.quiet(QUIET);
                    got
                })
            })
            .collect();
        viewers
            .into_iter()
            .map(|h| h.join().expect("a viewer failed"))
            .collect()
    });

    let listed: Vec<Value> = all_comments(stack, &post.id).into_iter().rev().collect();
    assert_eq!(listed.len(), total, "{listed:#?}");
    assert_ascending(&listed);
    for (i, got) in seen.iter().enumerate() {
        assert_ascending(got);
        assert_eq!(
            got, &listed,
            "viewer {i}: every comment once, in serial order"
        );
    }
}

fn comments_a_backfill_longer_than_a_chunk_streams_whole_then_live_ones_follow_once_in_order(
    stack: &Stack,
) {
    // More than one chunk of backfill (200 per read, docs/api.md): 44
    // authors, five comments each (one burst), then five posted while a
    // viewer from since=0 is catching up.
    const AUTHORS: usize = 44;
    const EACH: usize = 5;
    const DURING: usize = 5;
    let post = published_post(stack);
    let authors: Vec<Session> = thread::scope(|s| {
        let handles: Vec<_> = (0..AUTHORS)
            .map(|_| s.spawn(|| new_member(stack, "comments-long")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("signup"))
            .collect()
    });
    thread::scope(|s| {
        for (a, author) in authors.iter().enumerate() {
            let post = &post;
            s.spawn(move || {
                for i in 0..EACH {
                    comment(stack, &post.id, author, &format!("long {a}.{i}"));
                }
            });
        }
    });
    let before = AUTHORS * EACH;
    let late = new_member(stack, "comments-long-late");
    let got: Vec<Value> = thread::scope(|s| {
        let viewer = s.spawn(|| {
            let mut viewer = Viewer::connect(stack, &post.id, Some(0));
            let got = viewer.created_n(before + DURING);
            viewer.quiet(QUIET);
            got
        });
        for i in 0..DURING {
            comment(stack, &post.id, &late, &format!("during {i}"));
        }
        viewer.join().expect("the viewer failed")
    });
    assert_ascending(&got);
    let listed: Vec<Value> = all_comments(stack, &post.id).into_iter().rev().collect();
    assert_eq!(listed.len(), before + DURING);
    assert_eq!(got, listed, "every comment once, in serial order");
}

fn comments_the_list_pages_newest_first_by_cursor_and_refuses_bad_queries(stack: &Stack) {
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

fn comments_members_post_and_only_staff_with_a_second_factor_delete(stack: &Stack) {
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

fn comments_a_deleted_comment_reaches_live_viewers_and_leaves_every_listing(stack: &Stack) {
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

fn comments_bodies_and_parents_are_checked_and_bodies_normalised(stack: &Stack) {
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

fn comments_a_sixth_quick_comment_is_429_with_retry_after_and_others_are_not_limited(
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

fn comments_live_refuses_plain_gets_bad_since_unknown_posts_and_a_21st_socket_per_ip(
    stack: &Stack,
) {
    let post = published_post(stack);
    let other_post = published_post(stack);
    stack
        .get(&live_path(&post.id, None))
        .assert_error(426, "UPGRADE_REQUIRED");
    for bad in ["-1", "x", "1.5"] {
        match Viewer::try_connect(stack, &live_path(&post.id, Some(bad)), &unique_ip()) {
            Err(refused) => refused.assert_error(400, "VALIDATION_FAILED"),
            Ok(_) => panic!("since={bad:?} was accepted"),
        }
    }
    let draft = draft_post(stack);
    for id in ["no-such-post", draft.id.as_str()] {
        match Viewer::try_connect(stack, &live_path(id, None), &unique_ip()) {
            Err(refused) => refused.assert_error(404, "NOT_FOUND"),
            Ok(_) => panic!("a live socket to {id} was accepted"),
        }
    }

    // Twenty sockets from one address to one post; the 21st is refused.
    let ip = unique_ip();
    let path = live_path(&post.id, None);
    let mut open: Vec<Viewer> = (0..20)
        .map(|i| {
            Viewer::try_connect(stack, &path, &ip)
                .unwrap_or_else(|r| panic!("socket {} refused: {r:?}", i + 1))
        })
        .collect();
    match Viewer::try_connect(stack, &path, &ip) {
        Err(refused) => {
            refused.assert_error(429, "RATE_LIMITED");
            assert_eq!(refused.retry_after.as_deref(), Some("60"), "{refused:?}");
        }
        Ok(_) => panic!("a 21st socket from one address was accepted"),
    }
    // Another address, or another post, is not affected.
    Viewer::try_connect(stack, &path, &unique_ip())
        .unwrap_or_else(|r| panic!("another address refused: {r:?}"))
        .close();
    Viewer::try_connect(stack, &live_path(&other_post.id, None), &ip)
        .unwrap_or_else(|r| panic!("the same address on another post refused: {r:?}"))
        .close();
    // The limit counts open sockets: once one closes, a new one gets in.
    open.pop().expect("a socket").close();
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        match Viewer::try_connect(stack, &path, &ip) {
            Ok(v) => {
                open.push(v);
                break;
            }
            Err(r) if r.status == 429 && Instant::now() < until => {
                thread::sleep(Duration::from_millis(250));
            }
            Err(r) => panic!("still refused after a socket closed: {r:?}"),
        }
    }
    // Every one of them is a working viewer.
    let author = new_member(stack, "comments-cap");
    let c = comment(stack, &post.id, &author, "to all twenty");
    for v in &mut open {
        assert_eq!(v.created(), c, "viewer from {}", v.ip);
    }
}

fn comments_a_live_socket_answers_ping_and_closes_on_any_other_frame(stack: &Stack) {
    let post = published_post(stack);
    // (what, binary?, payload, the close code it earns)
    let cases = [
        ("binary", true, "{}".to_owned(), 1003),
        ("200-byte text", false, "a".repeat(200), 1009),
        ("129-byte text", false, "a".repeat(129), 1009),
        ("128-byte text", false, "a".repeat(128), 1008),
        ("hello", false, "hello".to_owned(), 1008),
    ];
    for (what, binary, payload, code) in cases {
        let mut viewer = Viewer::connect(stack, &post.id, None);
        if binary {
            viewer.send_binary(payload.as_bytes());
        } else {
            viewer.send_text(&payload);
        }
        let (got, reason) = viewer.close_frame();
        assert_eq!(got, code, "{what}: closed with {got} {reason:?}");
        assert!(!reason.is_empty(), "{what}: a close without a reason");
        match viewer.next_frame(Duration::from_secs(5)) {
            Frame::Gone(_) | Frame::Timeout => {}
            other => panic!("{what}: a frame after the close: {other:?}"),
        }
    }

    // `ping` is answered `pong`, the socket stays open and still gets comments.
    let mut viewer = Viewer::connect(stack, &post.id, None);
    viewer.ping();
    viewer.ping();
    viewer.quiet(QUIET);
    let author = new_member(stack, "comments-ping");
    let c = comment(stack, &post.id, &author, "after ping");
    assert_eq!(viewer.created(), c);
    viewer.ping();
}

fn comments_the_authors_activity_lists_their_comments(stack: &Stack) {
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

fn comments_serials_survive_a_restart_of_the_whole_runtime(stack: &Stack) {
    let post = published_post(stack);
    let author = new_member(stack, "comments-restart");
    let before: Vec<Value> = (1..=3)
        .map(|i| comment(stack, &post.id, &author, &format!("before restart {i}")))
        .collect();
    assert_ascending(&before);
    // The newest is deleted: its serial stays taken.
    let e = editor(stack);
    let newest = &before[2];
    mutation_data(
        &delete_comment(stack, Some(&e.otp.access), &post.id, &comment_id(newest)),
        200,
    );
    let max_before = serial(newest);

    stack.restart();

    let after = comment(stack, &post.id, &author, "after restart");
    assert!(
        serial(&after) > max_before,
        "serial {} after the restart is not above {max_before} (taken before it)",
        serial(&after)
    );
    let kept = vec![before[0].clone(), before[1].clone(), after.clone()];
    let listed: Vec<Value> = all_comments(stack, &post.id).into_iter().rev().collect();
    assert_eq!(listed, kept, "the list after the restart");
    let mut viewer = Viewer::connect(stack, &post.id, Some(0));
    assert_eq!(viewer.created_n(3), kept, "the backfill after the restart");
    let live = comment(stack, &post.id, &author, "live after restart");
    assert_eq!(viewer.created(), live);
    assert!(serial(&live) > serial(&after));
    viewer.quiet(QUIET);
}
