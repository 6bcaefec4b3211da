//! The auth worker's one entry, [`Endpoint::serve`]: what each route needs
//! (the edge-seal keys, the auth secrets), the two key routes (`GET
//! /auth/keys`, `GET /auth/jwks`) and the sealing layer around the sealed
//! routes — the opened plaintext goes to [`Auth::handle`] and every answer
//! is sealed, an internal failure too (a sealed `INTERNAL`, its cause handed
//! to the boundary to log as [`Failure::Answered`]). Also the seal keys'
//! health indicator. The worker only reads its bindings and secrets.
use std::cell::RefCell;
use std::rc::Rc;

use sealpost_api::health::Indicator;
use sealpost_api::routes::{BodyPolicy, RouteId};
use sealpost_api::{ApiError, ApiRequest, ApiResponse, Failure, Outcome};
use sealpost_ports::{Clock, Rng, SiteDb, Sql};

use crate::audit::Origin;
use crate::keys::{KeyCache, KeyPolicy, KeyRing, WrapKey};
use crate::password::PasswordPolicy;
use crate::seal_layer::{self, SealContext};
use crate::secrets::AuthSecrets;
use crate::service::Auth;
use crate::tokens;

/// `Cache-Control` of `GET /auth/keys` (a key is announced well before use).
const KEYS_CACHE_CONTROL: &str = "public, max-age=60";
/// `Cache-Control` of `GET /auth/jwks`.
const JWKS_CACHE_CONTROL: &str = "public, max-age=300";

/// The edge-seal settings: the wrap key of the stored private keys (and the
/// one it replaced, while keys wrapped under it remain) and the rotation
/// policy.
#[derive(Debug)]
pub struct SealSetup {
    pub wrap: WrapKey,
    pub policy: KeyPolicy,
}

impl SealSetup {
    /// From the secrets `SEAL_KEY_WRAP` and the optional
    /// `SEAL_KEY_WRAP_PREVIOUS` (blank counts as unset, a malformed value
    /// fails like a bad `SEAL_KEY_WRAP`), and the vars `SEAL_ROTATE_HOURS`
    /// and `SEAL_GRACE_MINUTES`.
    pub fn from_values(
        wrap: Option<&str>,
        previous: Option<&str>,
        rotate_hours: Option<&str>,
        grace_minutes: Option<&str>,
    ) -> Result<SealSetup, Failure> {
        let wrap = wrap.and_then(WrapKey::from_secret).ok_or_else(|| {
            Failure::Config("SEAL_KEY_WRAP is missing or not 32 bytes of base64url".into())
        })?;
        let wrap = match previous.filter(|s| !s.trim().is_empty()) {
            None => wrap,
            Some(previous) => {
                wrap.with_previous(WrapKey::from_secret(previous).ok_or_else(|| {
                    Failure::Config(
                        "SEAL_KEY_WRAP_PREVIOUS is set but not 32 bytes of base64url".into(),
                    )
                })?)
            }
        };
        Ok(SealSetup {
            wrap,
            policy: KeyPolicy::from_vars(rotate_hours, grace_minutes),
        })
    }

    /// The sealing layer's context over these ports.
    pub fn context<'a, S, C, R>(
        &'a self,
        sql: &'a S,
        clock: &'a C,
        rng: &'a R,
    ) -> SealContext<'a, S, C, R> {
        SealContext {
            sql,
            clock,
            rng,
            wrap: &self.wrap,
            policy: self.policy,
        }
    }
}

/// Everything one auth request may need; each part that could not be had
/// is its failure, reported only by the routes that need it.
#[derive(Debug)]
pub struct Endpoint<'a, S: Sql, C: Clock, R: Rng> {
    pub sql: &'a S,
    pub clock: &'a C,
    pub rng: &'a R,
    /// This isolate's copy of the seal keys.
    pub keys: &'a KeyCache,
    pub seal: Result<SealSetup, Failure>,
    pub secrets: Result<Rc<AuthSecrets>, Failure>,
    pub policy: PasswordPolicy,
}

impl<S: Sql, C: Clock, R: Rng> Endpoint<'_, S, C, R> {
    /// Serves `req`: the key routes, the plain routes, and the sealed
    /// routes through the sealing layer.
    pub async fn serve(self, req: &ApiRequest) -> Outcome {
        if req.id() == RouteId::AuthKeys {
            let seal = self.seal?;
            let ring = ring(self.keys, self.sql, self.clock, self.rng, &seal).await?;
            let keys = ring.configs(self.clock.now_ms());
            return Ok(ApiResponse::query(&serde_json::json!({ "keys": keys }))
                .with_header("Cache-Control", KEYS_CACHE_CONTROL));
        }
        let secrets = self.secrets?;
        if req.id() == RouteId::AuthJwks {
            // Enveloped like every route but /health: {"data":{"keys":[JWK…]}}.
            return Ok(ApiResponse::query(&tokens::jwks(&[&secrets.signing]))
                .with_header("Cache-Control", JWKS_CACHE_CONTROL));
        }
        let seal = self.seal?;
        let auth = Auth {
            db: SiteDb::new(self.sql, req.site.clone()),
            clock: self.clock,
            rng: self.rng,
            secrets: &secrets,
            origin: Origin::new(
                &req.request_id,
                secrets.ip_hash(&req.client_ip),
                req.header("user-agent").unwrap_or_default(),
            ),
            policy: self.policy,
        };
        if req.route.body != BodyPolicy::Sealed {
            return auth.handle(req).await;
        }
        let ctx = seal.context(self.sql, self.clock, self.rng);
        let (method, path) = (req.route.method.as_str(), req.route.pattern);
        let internal: RefCell<Option<Failure>> = RefCell::new(None);
        let (auth, internal_ref) = (&auth, &internal);
        let answer = seal_layer::serve(&ctx, self.keys, method, path, &req.body, |plaintext| {
            let opened = req.clone().with_body(plaintext.to_vec());
            async move {
                // Sealed answers carry their failures sealed, like any other.
                match auth.handle(&opened).await {
                    Ok(resp) => resp,
                    Err(Failure::Api(e)) => e.into_response(),
                    Err(cause) => {
                        *internal_ref.borrow_mut() = Some(cause);
                        ApiError::internal(Some(opened.request_id.clone())).into_response()
                    }
                }
            }
        })
        .await?;
        match internal.into_inner() {
            None => Ok(answer),
            Some(cause) => Err(Failure::Answered {
                answer,
                cause: Box::new(cause),
            }),
        }
    }

    /// The seal keys' indicator: up with how many keys there are, or down
    /// with why.
    pub async fn seal_health(&self) -> Indicator {
        let ring = match &self.seal {
            Ok(seal) => ring(self.keys, self.sql, self.clock, self.rng, seal).await,
            Err(f) => return Indicator::down(&f.cause().unwrap_or_default()),
        };
        match ring {
            Ok(ring) => Indicator::up().with("keys", ring.kids().len()),
            Err(f) => Indicator::down(&f.cause().unwrap_or_default()),
        }
    }
}

/// The seal keys, from this isolate's cache or the database.
async fn ring(
    keys: &KeyCache,
    sql: &impl Sql,
    clock: &impl Clock,
    rng: &impl Rng,
    seal: &SealSetup,
) -> Result<Rc<KeyRing>, Failure> {
    keys.get(sql, clock, rng, &seal.wrap, seal.policy, None)
        .await
}
