//! Benchmark setup (not a test) for the content routes on a running stack.
//!
//! `content-bench seed BASE_URL [N=50]`: the admin named by
//! `SEALPOST_ADMIN_EMAIL` and `SEALPOST_ADMIN_PASSWORD` (created beforehand
//! with `scripts/admin --local`, password only; read from the environment
//! like `scripts/admin` does, not from the command line) logs in,
//! enrols TOTP, logs in again with a code (an access token with role admin
//! and `amr` otp, which every `/admin/*` route needs), then creates and
//! publishes N posts in English and Vietnamese with ~2 KB Markdown bodies and
//! a few tags. Prints the English slug of the last post on stdout, for
//! `scripts/bench` to point wrk at.
use rand_core::{OsRng, RngCore};
use sealpost_e2e::bench::{BenchClient, admin_token, create_and_publish, note, out};
use serde_json::json;

/// About 2 KB of Markdown: headings, paragraphs, a list, a table, code.
fn body_markdown(i: usize, lang: &str) -> String {
    let mut md = format!("# Post {i} ({lang})\n\n");
    for s in 0..4 {
        md.push_str(&format!(
            "## Section {s}\n\nEdge workers answer close to the reader; this paragraph \
             of post {i} says so with **bold**, _emphasis_, `code` and a \
             [link](https://example.com/{i}/{s}). It is long enough to make the body \
             look like an article rather than a test fixture.\n\n\
             - one point\n- another point with ~~strike~~\n- [x] a done task\n\n"
        ));
    }
    md.push_str("| a | b |\n|---|---|\n| 1 | 2 |\n\n```rust\nfn main() {}\n```\n");
    md
}

fn seed(base: &str, email: &str, password: &str, n: usize) {
    let client = BenchClient::new(base);
    let token = admin_token(&client, email, password);
    let run = format!("{:x}", OsRng.next_u32());
    let tags = ["rust", "edge", "workers", "cms", "bench"];
    let mut last_slug = String::new();
    for i in 0..n {
        let slug = format!("bench-{run}-{i}");
        let post = json!({
            "translations": {
                "en": {"title": format!("Benchmark post {i}"), "slug": slug,
                       "excerpt": format!("Excerpt of post {i}"), "body": body_markdown(i, "en")},
                "vi": {"title": format!("Bài viết {i}"), "slug": format!("bai-viet-{run}-{i}"),
                       "excerpt": format!("Tóm tắt bài {i}"), "body": body_markdown(i, "vi")}
            },
            "tags": [tags[i % 5], tags[(i + 1) % 5], tags[(i + 2) % 5]]
        });
        create_and_publish(&client, &token, &post);
        last_slug = slug;
    }
    note(&format!("seeded and published {n} posts"));
    out(&last_slug);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: content-bench seed BASE_URL [N=50] \
                 (with SEALPOST_ADMIN_EMAIL and SEALPOST_ADMIN_PASSWORD set)";
    match args.as_slice() {
        [mode, base, rest @ ..] if mode == "seed" => {
            let n = rest.first().and_then(|s| s.parse().ok()).unwrap_or(50);
            let email = std::env::var("SEALPOST_ADMIN_EMAIL").expect(usage);
            let password = std::env::var("SEALPOST_ADMIN_PASSWORD").expect(usage);
            seed(base, &email, &password, n);
        }
        _ => panic!("{usage}"),
    }
}
