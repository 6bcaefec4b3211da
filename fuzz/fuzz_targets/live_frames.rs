//! Fuzz target: the live-comment protocol's rules: the client frame verdict
//! (`live::judge`) and the backfill/broadcast merge (`live::Recent`). Input:
//! a frame, then a script of broadcasts, marks and merges. Oracle: no panic;
//! only the exact text `ping` is answered, everything else closes with the
//! code its kind calls for; and `Recent::since` agrees with a model that
//! remembers every event: `None` exactly when an event after the mark has
//! been forgotten, otherwise exactly the events after the mark that are
//! deletions or have a serial above `high`, in broadcast order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpost_comments_core::live::{
    CLIENT_FRAME_MAX, CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_UNSUPPORTED, ClientFrame, Kind, PING,
    Recent, Verdict, judge,
};

fn check_frame(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        match judge(ClientFrame::Text(text)) {
            Verdict::Pong => assert_eq!(text, PING),
            Verdict::Close { code, .. } => {
                assert_ne!(text, PING);
                let want = if text.len() > CLIENT_FRAME_MAX {
                    CLOSE_TOO_BIG
                } else {
                    CLOSE_POLICY
                };
                assert_eq!(code, want, "{text:?}");
            }
        }
    }
    assert!(matches!(
        judge(ClientFrame::Binary(bytes.len())),
        Verdict::Close {
            code: CLOSE_UNSUPPORTED,
            ..
        }
    ));
}

fuzz_target!(|data: &[u8]| {
    let Some((&frame_len, rest)) = data.split_first() else {
        return;
    };
    let (frame, script) = rest.split_at(rest.len().min(usize::from(frame_len)));
    check_frame(frame);

    let Some((&cap, script)) = script.split_first() else {
        return;
    };
    let cap = usize::from(cap % 16);
    let mut recent = Recent::with_capacity(cap);
    let cap = cap.max(1);
    // The model: every event ever recorded, as (kind, serial, frame).
    let mut all: Vec<(Kind, i64, String)> = Vec::new();
    let mut marks: Vec<u64> = Vec::new();
    for op in script.chunks(2) {
        let arg = i64::from(*op.get(1).unwrap_or(&0));
        match op[0] % 4 {
            0 | 1 => {
                let kind = if op[0] % 4 == 0 {
                    Kind::Created
                } else {
                    Kind::Deleted
                };
                let frame = format!("e{}", all.len());
                recent.record(kind, arg, frame.clone());
                all.push((kind, arg, frame));
            }
            2 => {
                let m = recent.mark();
                assert_eq!(m, all.len() as u64, "the mark is the next event's number");
                marks.push(m);
            }
            _ => {
                let mark = match marks.get(usize::from(op[0] / 4) % (marks.len() + 1)) {
                    Some(m) => *m,
                    None => u64::from(op[0] / 4),
                };
                let got = recent.since(mark, arg);
                let forgotten = all.len().saturating_sub(cap) as u64;
                if mark < all.len() as u64 && mark < forgotten {
                    assert_eq!(got, None, "mark {mark}: events after it were forgotten");
                    continue;
                }
                let want: Vec<&str> = all
                    .iter()
                    .skip(usize::try_from(mark).unwrap_or(usize::MAX))
                    .filter(|(k, s, _)| *k == Kind::Deleted || *s > arg)
                    .map(|(_, _, f)| f.as_str())
                    .collect();
                assert_eq!(got, Some(want), "mark {mark}, high {arg}");
            }
        }
    }
});
