//! The TOTP routes: setup, enable (which hands out the recovery codes and
//! ends the account's other sessions) and disable. Enrolment needs a recent
//! authentication (`crate::reauth`): a session whose login is less than five
//! minutes old, or the current password in the request's `currentPassword`.
use sealpost_api::account::{RecoveryCodes, TotpSetup};
use sealpost_api::body::parse_json;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, ErrorCode, Validator};
use sealpost_guard::AccessClaims;
use sealpost_ports::{Clock, Rng, Sql, rfc3339};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Answer, Auth, CodeInput, Failure, MAX_CODE_CHARS, conflict, mfa_invalid, parse_code};
use crate::accounts::UserRow;
use crate::audit::{self, Event};
use crate::limits;
use crate::mfa::{self, Code};
use crate::reauth::{self, Freshness};
use crate::sessions;
use crate::tokens::AMR_PWD;
use crate::totp;

/// `POST /auth/mfa/totp/setup`: `{}` (or no body), plus `currentPassword`
/// when the session's login is not recent. No `Debug`: it holds a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SetupInput {
    current_password: Option<String>,
}

/// `POST /auth/mfa/totp/enable`: `{code}`, plus `currentPassword` when the
/// session's login is not recent. No `Debug`: it holds a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EnableInput {
    code: String,
    current_password: Option<String>,
}

/// How an enrolment proved a recent authentication (audited).
#[derive(Debug, Clone, Copy)]
enum Proof {
    /// The session's login is recent.
    RecentLogin,
    /// The current password was confirmed in the request.
    Password,
}

impl Proof {
    fn as_str(self) -> &'static str {
        match self {
            Proof::RecentLogin => "recent_login",
            Proof::Password => "password",
        }
    }
}

/// A `currentPassword` field: 1 to 128 characters when present.
fn check_current_password(v: &mut Validator, password: Option<&str>) {
    if let Some(p) = password {
        v.text_len("currentPassword", p, 1, crate::password::MAX_CHARS);
    }
}

fn reauth_required() -> Failure {
    ApiError::new(ErrorCode::ReauthRequired)
        .with_message(
            "This session's login is not recent: send your current password as currentPassword",
        )
        .into()
}

/// Whether an enable's claim will apply: the user (parameter `?{user}`)
/// still holds exactly the pending setup being enabled (`?{pending}`) and no
/// enabled factor. Every other statement of the enable's batch runs before
/// the claim and under this condition, so a losing concurrent enable
/// changes nothing at all.
fn claimable(user: u8, pending: u8) -> String {
    format!(
        "EXISTS (SELECT 1 FROM users WHERE site_id = ?1 AND id = ?{user} \
         AND mfa_secret IS NULL AND mfa_pending = ?{pending})"
    )
}

impl<S: Sql, C: Clock, R: Rng> Auth<'_, S, C, R> {
    /// A recent authentication for `claims`' session: the current password
    /// when given (always checked, counted towards the lockout), otherwise
    /// a login less than five minutes old, else `REAUTH_REQUIRED`.
    async fn recent_auth(
        &self,
        claims: &AccessClaims,
        user: &UserRow,
        current_password: Option<&str>,
    ) -> Result<Proof, Failure> {
        if let Some(password) = current_password {
            let reset = self.confirm_password(user, password, "reauth").await?;
            // A confirmed password clears the counter at once, whatever the
            // rest of the request does.
            self.db.execute(&reset).await?;
            return Ok(Proof::Password);
        }
        let login = reauth::login_time(&self.db, &claims.sid, &claims.sub).await?;
        match login.map(|at| reauth::freshness(at, self.now())) {
            Some(Freshness::Recent) => Ok(Proof::RecentLogin),
            Some(Freshness::NeedsPassword) | None => Err(reauth_required()),
        }
    }

    pub(super) async fn totp_setup(&self, input: &ApiRequest) -> Answer {
        let (claims, user) = self.caller_user(input).await?;
        let body: SetupInput = if input.body.iter().all(u8::is_ascii_whitespace) {
            SetupInput {
                current_password: None,
            }
        } else {
            parse_json(&input.body)?
        };
        let mut v = Validator::new();
        check_current_password(&mut v, body.current_password.as_deref());
        v.finish()?;
        if user.mfa_enabled() {
            return Err(conflict("TOTP is already enabled; disable it first"));
        }
        self.recent_auth(&claims, &user, body.current_password.as_deref())
            .await?;
        let secret = zeroize::Zeroizing::new(totp::generate_secret(self.rng)?);
        let sealed = totp::seal_secret(&self.secrets.totp, &user.id, secret.as_ref(), self.rng)?;
        self.db
            .execute(
                &self
                    .db
                    .statement(
                        "UPDATE users SET mfa_pending = ?3 WHERE site_id = ?1 AND id = ?2 \
                         AND mfa_secret IS NULL",
                    )
                    .bind(user.id.as_str())
                    .bind(sealed),
            )
            .await?;
        Ok(ApiResponse::mutation(
            200,
            "Scan the code, then enable TOTP with a code from your app",
            &TotpSetup {
                secret: totp::base32_encode(secret.as_ref()),
                otpauth_uri: totp::otpauth_uri(mfa::ISSUER, &user.email, secret.as_ref()),
            },
        ))
    }

    fn code_input(body: &[u8], allow_recovery: bool) -> Result<Code, ApiError> {
        let input: CodeInput = parse_json(body)?;
        parse_code(&input.code, allow_recovery)
    }

    async fn mfa_failure(&self, user_id: &str, during: &str) -> Failure {
        match self
            .record(&Event::new("mfa.failure", Some(user_id)).detail(json!({ "during": during })))
            .await
        {
            Ok(()) => mfa_invalid(),
            Err(e) => e.into(),
        }
    }

    pub(super) async fn totp_enable(&self, input: &ApiRequest) -> Answer {
        let (claims, user) = self.caller_user(input).await?;
        self.limit(limits::MFA_PER_IP).await?;
        let body: EnableInput = parse_json(&input.body)?;
        let mut v = Validator::new();
        let code = (body.code.chars().count() <= MAX_CODE_CHARS)
            .then(|| Code::parse(&body.code, false))
            .flatten();
        v.check(code.is_some(), "code", "Must be six digits");
        check_current_password(&mut v, body.current_password.as_deref());
        v.finish()?;
        let code = code.ok_or_else(|| ApiError::field("code", "Must be six digits"))?;
        if user.mfa_enabled() {
            return Err(conflict("TOTP is already enabled"));
        }
        let proof = self
            .recent_auth(&claims, &user, body.current_password.as_deref())
            .await?;
        self.limit_user(limits::MFA_PER_USER, &user.id).await?;
        let (Some(pending), Some(sealed)) = (
            mfa::pending_secret(self.secrets, &user),
            user.mfa_pending.as_deref(),
        ) else {
            return Err(conflict("Set up TOTP first"));
        };
        let last = user.mfa_last_step.and_then(|s| u64::try_from(s).ok());
        let step = match &code {
            Code::Totp(digits) => totp::verify(&pending, digits, self.now() / 1000, last),
            Code::Recovery(_) => None,
        };
        let Some(step) = step else {
            return Err(self.mfa_failure(&user.id, "enable").await);
        };
        let codes = totp::generate_recovery_codes(self.rng)?;
        let now = self.now();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| totp::hash_recovery_code(self.secrets.recovery_key(), c))
            .collect();
        let event = Event::new("mfa.enabled", Some(&user.id)).detail(json!({
            "recentAuth": proof.as_str(),
            "otherSessionsEnded": true,
        }));
        let claimable_now = claimable(2, 3);
        let batch = [
            self.db
                .statement(&format!(
                    "DELETE FROM recovery_codes WHERE site_id = ?1 AND user_id = ?2 AND {claimable_now}"
                ))
                .bind(user.id.as_str())
                .bind(sealed),
            self.db
                .statement(&format!(
                    "INSERT INTO recovery_codes (site_id, user_id, code_hash) \
                     SELECT ?1, ?2, value FROM json_each(?4) WHERE {claimable_now}"
                ))
                .bind(user.id.as_str())
                .bind(sealed)
                .bind(Value::from(hashes).to_string()),
            self.db
                .statement(&format!(
                    "UPDATE sessions SET revoked_at = ?5, revoke_reason = 'mfa_enabled' \
                     WHERE site_id = ?1 AND user_id = ?2 AND id <> ?4 AND revoked_at IS NULL \
                     AND {claimable_now}"
                ))
                .bind(user.id.as_str())
                .bind(sealed)
                .bind(claims.sid.as_str())
                .bind(now),
            audit::statement_where(
                &self.db,
                self.rng,
                now,
                &self.origin,
                &event,
                &claimable(11, 12),
            )?
            .bind(user.id.as_str())
            .bind(sealed),
            // The claim, last: the statements above saw the row it changes.
            self.db
                .statement(
                    "UPDATE users SET mfa_secret = mfa_pending, mfa_pending = NULL, \
                     mfa_last_step = ?4, updated_at = ?5 \
                     WHERE site_id = ?1 AND id = ?2 AND mfa_secret IS NULL AND mfa_pending = ?3",
                )
                .bind(user.id.as_str())
                .bind(sealed)
                .bind(i64::try_from(step).unwrap_or(i64::MAX))
                .bind(rfc3339(now)),
        ];
        let results = self.db.batch(&batch).await?;
        if results.last().is_none_or(|r| r.changes != 1) {
            // A concurrent enable or a new setup won; this batch changed nothing.
            return Err(conflict("TOTP setup changed meanwhile; try again"));
        }
        Ok(ApiResponse::mutation(
            200,
            "TOTP enabled; keep these recovery codes somewhere safe. Your other sessions were ended",
            &RecoveryCodes {
                recovery_codes: codes,
            },
        ))
    }

    pub(super) async fn totp_disable(&self, input: &ApiRequest) -> Answer {
        let (claims, user) = self.caller_user(input).await?;
        self.limit(limits::MFA_PER_IP).await?;
        let code = Self::code_input(&input.body, true)?;
        if !user.mfa_enabled() {
            return Err(conflict("TOTP is not enabled"));
        }
        self.limit_user(limits::MFA_PER_USER, &user.id).await?;
        let accepted =
            mfa::check_and_spend(&self.db, self.secrets, &user, &code, self.now()).await?;
        let Some(recovery) = accepted else {
            return Err(self.mfa_failure(&user.id, "disable").await);
        };
        let now = self.now();
        let mut batch = vec![
            self.db
                .statement(
                    "UPDATE users SET mfa_secret = NULL, mfa_pending = NULL, updated_at = ?3 \
                     WHERE site_id = ?1 AND id = ?2",
                )
                .bind(user.id.as_str())
                .bind(rfc3339(now)),
            mfa::delete_recovery_codes(&self.db, &user.id),
            sessions::revoke_others_statement(&self.db, now, &user.id, &claims.sid, "mfa_disabled"),
            self.db
                .statement("UPDATE sessions SET amr = ?3 WHERE site_id = ?1 AND id = ?2")
                .bind(claims.sid.as_str())
                .bind(json!([AMR_PWD]).to_string()),
            self.audit(&Event::new("mfa.disabled", Some(&user.id)))?,
        ];
        if recovery {
            batch.push(self.audit(&Event::new("mfa.recovery_used", Some(&user.id)))?);
        }
        self.db.batch(&batch).await?;
        Ok(ApiResponse::mutation(200, "TOTP disabled", &Value::Null))
    }
}
