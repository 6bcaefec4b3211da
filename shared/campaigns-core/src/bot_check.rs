//! The bot check's policy for `POST /subscribe`: which Turnstile answers let
//! a request through. A token passes only when the verifier says `success`
//! AND it was solved on a page of the request's own site — its `hostname`
//! is one of the site's hosts (`site_hosts`). A sitekey can be used on
//! several domains, so without the host check a token solved on any of them
//! (another site of this deployment, or any page embedding the same
//! sitekey) would be accepted here.
//!
//! Freshness and single use are siteverify's own checks: a token is valid
//! for 300 s after it was issued and can be redeemed once (a late or
//! replayed token answers `success: false`, `timeout-or-duplicate`), so
//! `challenge_ts` is not checked a second time here. `action` and `cdata`
//! are not used: the contract's clients set neither.
use sealpost_ports::{PortError, SiteDb, Sql};
use serde::Deserialize;

use crate::ports::TurnstileAnswer;

#[derive(Deserialize)]
struct Host {
    host: String,
}

/// The host names of the database handle's site, shortest first (ties by
/// name), as the gateway matches them: lower case, no port, no final dot.
pub async fn site_hosts<S: Sql>(db: &SiteDb<'_, S>) -> Result<Vec<String>, PortError> {
    let rows: Vec<Host> = db
        .query_as(&db.statement(
            "SELECT host FROM site_hosts WHERE site_id = ?1 ORDER BY length(host), host",
        ))
        .await?;
    Ok(rows.into_iter().map(|r| r.host).collect())
}

/// The page host the local dev tokens count as solved on: the site's first
/// host name that is not an IP address, else its first host (`localhost`
/// for the default site).
pub async fn dev_page_host<S: Sql>(db: &SiteDb<'_, S>) -> Result<String, PortError> {
    let hosts = site_hosts(db).await?;
    Ok(hosts
        .iter()
        .find(|h| h.parse::<std::net::IpAddr>().is_err())
        .or(hosts.first())
        .cloned()
        .unwrap_or_default())
}

/// A host name as the comparison sees it: trimmed, lower case, without the
/// final dot of a fully qualified name.
fn normalized(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `answer` lets a request to the site with `hosts` through.
pub fn passes(answer: &TurnstileAnswer, hosts: &[String]) -> bool {
    if !answer.success {
        return false;
    }
    let Some(solved_on) = answer.hostname.as_deref().map(normalized) else {
        return false;
    };
    !solved_on.is_empty() && hosts.iter().any(|h| normalized(h) == solved_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(success: bool, hostname: Option<&str>) -> TurnstileAnswer {
        TurnstileAnswer {
            success,
            hostname: hostname.map(str::to_owned),
            ..TurnstileAnswer::default()
        }
    }

    fn hosts() -> Vec<String> {
        vec!["example.com".to_owned(), "www.example.com".to_owned()]
    }

    #[test]
    fn a_success_on_one_of_the_sites_hosts_passes_in_any_case_and_with_a_final_dot() {
        assert!(passes(&answer(true, Some("www.example.com")), &hosts()));
        assert!(passes(&answer(true, Some("Example.COM.")), &hosts()));
    }

    #[test]
    fn a_success_elsewhere_or_without_a_hostname_fails() {
        assert!(!passes(&answer(true, Some("evil.example")), &hosts()));
        assert!(!passes(&answer(true, Some("sub.example.com")), &hosts()));
        assert!(!passes(&answer(true, Some("")), &hosts()));
        assert!(!passes(&answer(true, None), &hosts()));
        assert!(!passes(&answer(true, Some("example.com")), &[]));
    }

    #[test]
    fn a_failure_fails_even_on_the_sites_host() {
        assert!(!passes(&answer(false, Some("example.com")), &hosts()));
    }
}
