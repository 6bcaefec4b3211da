//! The live WebSocket: the upgrade through the gateway, backfill after
//! `since` merged with live comments (also while comments are posted, and
//! longer than a chunk), refusals, the frames a client may send, and serials
//! across a restart of the whole runtime.
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use sealpost_e2e::auth::{Session, new_member};
use sealpost_e2e::comments::{
    Frame, Viewer, all_comments, comment, comment_id, delete_comment, draft_post, editor,
    live_path, mutation_data, published_post, serial,
};
use sealpost_e2e::{Stack, Value, unique_ip};

use super::{QUIET, assert_ascending};

pub(super) fn comments_a_websocket_upgrade_reaches_the_comments_worker_through_the_gateway(
    stack: &Stack,
) {
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

pub(super) fn comments_a_viewer_gets_the_comments_after_since_then_live_ones_each_once_in_serial_order(
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

pub(super) fn comments_viewers_connecting_while_comments_are_posted_each_get_every_comment_once_in_order(
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

pub(super) fn comments_a_backfill_longer_than_a_chunk_streams_whole_then_live_ones_follow_once_in_order(
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

pub(super) fn comments_live_refuses_plain_gets_bad_since_unknown_posts_and_a_21st_socket_per_ip(
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

pub(super) fn comments_a_live_socket_answers_ping_and_closes_on_any_other_frame(stack: &Stack) {
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

pub(super) fn comments_serials_survive_a_restart_of_the_whole_runtime(stack: &Stack) {
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
