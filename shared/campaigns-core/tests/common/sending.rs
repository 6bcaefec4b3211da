//! The campaign-sending service as the campaign tests call it: the admin
//! routes (create, send, read) with their answers, `advance` and the cron's
//! reconciliation, and helpers that read a campaign's status, set ledger
//! rows and collect the jobs enqueued.
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiRequest, ApiResponse};
use sealpost_campaigns_core::campaigns::{Failure, JOB_SIZE, Sending, TestSends, advance};
use sealpost_campaigns_core::cron::{CronReport, reconcile};
use sealpost_campaigns_core::settings::Settings;
use sealpost_ports::{SiteDb, SiteId, Statement};
use sealpost_testkit::block_on;
use serde_json::{Value, json};

use super::subscriptions::ClockPause;
use super::{SITE, World};

/// An answer of a campaigns route: status and JSON body.
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn fields(&self) -> Vec<String> {
        super::fields(&self.body)
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// A service answer as the worker sends it (a failure as its envelope).
fn reply_of(answer: Result<ApiResponse, Failure>) -> Reply {
    let resp = match answer {
        Ok(r) => r,
        Err(Failure::Api(e)) => e.into_response(),
        Err(f) => panic!("internal failure: {f:?}"),
    };
    Reply {
        status: resp.status,
        body: resp.body_json().unwrap_or(Value::Null),
    }
}

impl World {
    pub fn sending_call(
        &self,
        route: RouteId,
        token: Option<&str>,
        id: Option<&str>,
        body: &[u8],
    ) -> Result<ApiResponse, Failure> {
        let mut req = ApiRequest::new(route, SiteId::default_site()).with_body(body);
        if let Some(t) = token {
            req = req.with_bearer(t);
        }
        if let Some(id) = id {
            req = req.with_param("id", id);
        }
        self.serve_sending(&req)
    }

    /// Serves `req` as the campaigns worker's admin service does.
    pub fn serve_sending(&self, req: &ApiRequest) -> Result<ApiResponse, Failure> {
        block_on(self.serve_sending_async(req))
    }

    /// [`World::serve_sending`]'s future.
    pub async fn serve_sending_async(&self, req: &ApiRequest) -> Result<ApiResponse, Failure> {
        let settings = Settings::default();
        let service = Sending {
            db: SiteDb::new(&self.db, SiteId::default_site()),
            clock: &self.clock,
            rng: &self.rng,
            queue: &self.queue,
            verifier: Some(&self.verifier),
            settings: &settings,
        };
        service.handle(req).await
    }

    pub fn campaigns(&self, route: RouteId, token: &str, id: Option<&str>, body: &Value) -> Reply {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        reply_of(self.sending_call(route, Some(token), id, &bytes))
    }

    /// `GET /admin/campaigns?query`.
    pub fn list(&self, token: &str, query: &str) -> Reply {
        let req = ApiRequest::new(RouteId::AdminCampaignsList, SiteId::default_site())
            .with_query(query)
            .with_bearer(token);
        reply_of(self.serve_sending(&req))
    }

    pub fn create(&self, token: &str, body: &Value) -> Reply {
        self.campaigns(RouteId::AdminCampaignCreate, token, None, body)
    }

    pub fn send(&self, token: &str, id: &str) -> Reply {
        self.campaigns(RouteId::AdminCampaignSend, token, Some(id), &Value::Null)
    }

    pub fn get(&self, token: &str, id: &str) -> Reply {
        self.campaigns(RouteId::AdminCampaignGet, token, Some(id), &Value::Null)
    }

    pub fn update(&self, token: &str, id: &str, body: &Value) -> Reply {
        self.campaigns(RouteId::AdminCampaignUpdate, token, Some(id), body)
    }

    pub fn cancel(&self, token: &str, id: &str) -> Reply {
        self.campaigns(RouteId::AdminCampaignCancel, token, Some(id), &Value::Null)
    }

    /// The test-send service as the worker builds it (the scripted
    /// provider, a pause that moves the clock).
    pub async fn serve_test_async(&self, req: &ApiRequest) -> Result<ApiResponse, Failure> {
        let settings = Settings::default();
        let service = TestSends {
            db: SiteDb::new(&self.db, SiteId::default_site()),
            rate_sql: &self.db,
            settings: &settings,
            pause: &ClockPause(&self.clock),
            clock: &self.clock,
            rng: &self.rng,
            keys: &self.keys,
            mailer: &self.mailer,
            verifier: Some(&self.verifier),
        };
        service.handle(req).await
    }

    /// `POST /admin/campaigns/{id}/test` with `body`.
    pub fn test_send(&self, token: &str, id: &str, body: &Value) -> Reply {
        let req = ApiRequest::new(RouteId::AdminCampaignTest, SiteId::default_site())
            .with_body(body.to_string().into_bytes())
            .with_bearer(token)
            .with_param("id", id);
        reply_of(block_on(self.serve_test_async(&req)))
    }

    /// The cancel route's future, for a test that cancels while something
    /// else is in flight.
    pub async fn cancel_async(&self, token: &str, id: &str) -> Reply {
        let req = ApiRequest::new(RouteId::AdminCampaignCancel, SiteId::default_site())
            .with_bearer(token)
            .with_param("id", id);
        reply_of(self.serve_sending_async(&req).await)
    }

    pub fn reconcile(&self) -> CronReport {
        block_on(reconcile(
            &self.db,
            &self.queue,
            &Settings::default(),
            self.now(),
        ))
        .expect("reconcile")
    }

    pub fn advance(&self, campaign: &str) {
        block_on(advance(
            &SiteDb::new(&self.db, SiteId::default_site()),
            &self.queue,
            &Settings::default(),
            campaign,
            self.now(),
        ))
        .expect("advance");
    }

    pub fn status(&self, campaign: &str) -> String {
        let rows = self.rows(
            Statement::new("SELECT status FROM campaigns WHERE site_id = ?1 AND id = ?2")
                .bind(SITE)
                .bind(campaign),
        );
        rows[0]["status"].as_str().unwrap_or("").to_owned()
    }

    /// Sets the ledger row of `subscriber` to `status` (and `extra` SQL).
    pub fn set_row(&self, campaign: &str, subscriber: &str, set: &str) {
        self.sql(
            Statement::new(format!(
                "UPDATE campaign_deliveries SET {set} WHERE site_id = ?1 AND campaign_id = ?2 \
                 AND subscriber_id = ?3"
            ))
            .bind(SITE)
            .bind(campaign)
            .bind(subscriber),
        );
    }
}

pub fn valid_campaign() -> Value {
    json!({
        "subject": {"en": "Spring news", "vi": "Tin mùa xuân"},
        "body": {"en": "Hello **readers**", "vi": "Xin chào **bạn đọc**"},
    })
}

/// Every subscriber id in `jobs`, each job checked to be of this campaign
/// and at most JOB_SIZE long.
pub fn job_ids(w: &World, campaign: &str) -> Vec<String> {
    let jobs = w.queue.take();
    for job in &jobs {
        assert_eq!(job.site, SITE);
        assert_eq!(job.campaign, campaign);
        assert!(!job.subscribers.is_empty() && job.subscribers.len() <= JOB_SIZE);
    }
    jobs.into_iter().flat_map(|j| j.subscribers).collect()
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}
