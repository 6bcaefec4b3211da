//! Ledger helpers shared by the delivery tests: a `sending` campaign with a
//! complete ledger, delivering a job, reading rows and campaign fields, and
//! checking that nobody got two emails.
use std::collections::HashSet;

use sealpost_campaigns_core::delivery::{Verdict, deliver};
use sealpost_campaigns_core::outbox::{DevOutbox, set_fault};
use sealpost_campaigns_core::ports::{Job, Mailer, OutgoingEmail};
use sealpost_campaigns_core::settings::Settings;
use sealpost_ports::Statement;
use sealpost_testkit::block_on;
use serde_json::Value;

use super::{SITE, World};

/// Production settings without the send-rate cap getting in the way.
pub fn settings() -> Settings {
    Settings {
        send_rate_per_sec: 1000,
        send_rate_burst: 1000,
        ..Settings::default()
    }
}

impl World {
    /// A `sending` campaign with a complete ledger: one pending row per
    /// subscriber. Returns the campaign id and one job covering them all.
    pub fn sending_to(&self, subscribers: &[String]) -> (String, Job) {
        let campaign = self.campaign("sending");
        for s in subscribers {
            self.sql(
                Statement::new(
                    "INSERT INTO campaign_deliveries (site_id, campaign_id, subscriber_id, \
                     enqueued_at) VALUES (?1, ?2, ?3, ?4)",
                )
                .bind(SITE)
                .bind(campaign.as_str())
                .bind(s.as_str())
                .bind(self.now()),
            );
        }
        self.sql(
            Statement::new("UPDATE campaigns SET ledger_done = 1 WHERE site_id = ?1 AND id = ?2")
                .bind(SITE)
                .bind(campaign.as_str()),
        );
        let job = Job {
            site: SITE.into(),
            campaign: campaign.clone(),
            subscribers: subscribers.to_vec(),
        };
        (campaign, job)
    }

    pub fn deliver_with<M: Mailer>(
        &self,
        mailer: &M,
        job: &Job,
        s: &Settings,
        dev: bool,
    ) -> Verdict {
        block_on(deliver(
            &self.db,
            &self.clock,
            &self.rng,
            &self.keys,
            mailer,
            s,
            job,
            dev,
        ))
        .expect("deliver")
    }

    /// Delivers `job` through the scripted provider.
    pub fn run(&self, job: &Job, s: &Settings) -> Verdict {
        self.deliver_with(&self.mailer, job, s, false)
    }

    pub fn outbox(
        &self,
    ) -> DevOutbox<
        '_,
        sealpost_testkit::SqliteDb,
        sealpost_testkit::ManualClock,
        sealpost_testkit::SeededRng,
    > {
        DevOutbox {
            sql: &self.db,
            clock: &self.clock,
            rng: &self.rng,
        }
    }

    /// One column of campaign `id`.
    pub fn campaign_field(&self, id: &str, column: &str) -> Value {
        self.rows(
            Statement::new(format!(
                "SELECT {column} AS v FROM campaigns WHERE site_id = ?1 AND id = ?2"
            ))
            .bind(SITE)
            .bind(id),
        )
        .remove(0)["v"]
            .clone()
    }

    /// The whole ledger row of one recipient.
    pub fn ledger_row(&self, campaign: &str, subscriber: &str) -> Value {
        self.rows(
            Statement::new(
                "SELECT * FROM campaign_deliveries \
                 WHERE site_id = ?1 AND campaign_id = ?2 AND subscriber_id = ?3",
            )
            .bind(SITE)
            .bind(campaign)
            .bind(subscriber),
        )
        .remove(0)
    }

    /// How many ledger rows of `campaign` have `status`.
    pub fn count(&self, campaign: &str, status: &str) -> usize {
        self.ledger(campaign)
            .values()
            .filter(|s| s.as_str() == status)
            .count()
    }

    pub fn fault(&self, kind: &str, pattern: &str, count: u32) {
        let body = format!(r#"{{"kind":"{kind}","match":"{pattern}","count":{count}}}"#);
        let r = block_on(set_fault(&self.db, body.as_bytes())).expect("fault");
        assert_eq!(r.status, 200);
    }
}

/// Every address of `emails`, each once, or a panic naming the duplicate.
pub fn each_once(emails: &[OutgoingEmail]) -> HashSet<String> {
    let mut seen = HashSet::new();
    for e in emails {
        assert!(seen.insert(e.to.clone()), "{} got two emails", e.to);
    }
    seen
}

pub fn addresses(prefix: &str, domain: &str, n: usize) -> HashSet<String> {
    (0..n).map(|i| format!("{prefix}-{i}@{domain}")).collect()
}
