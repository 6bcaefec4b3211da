//! Signing in: signup, login (with the second-factor challenge when the
//! account has one), the challenge's answer and the refresh-token exchange.
use sealpost_api::account::{MfaRequired, Refreshed, SignedIn};
use sealpost_api::body::parse_json;
use sealpost_api::{ApiError, ApiResponse, ErrorCode};
use sealpost_guard::Role;
use sealpost_ports::{Clock, PortError, Rng, Sql, rfc3339};
use serde_json::json;

use super::{
    Answer, Auth, Failure, MfaLoginInput, RefreshInput, invalid_credentials, mfa_invalid,
    parse_code, plausible_token, token_invalid,
};
use crate::accounts::{self, LoginInput, SignupInput, UserRow, roles_json};
use crate::audit::Event;
use crate::limits::{self, Attempt};
use crate::mfa::{self};
use crate::sessions::{self, Refresh};
use crate::tokens::{AMR_OTP, AMR_PWD};

impl<S: Sql, C: Clock, R: Rng> Auth<'_, S, C, R> {
    // ---- accounts -------------------------------------------------------

    pub(super) async fn signup(&self, body: &[u8]) -> Answer {
        self.limit(limits::SIGNUP_PER_IP).await?;
        let input: SignupInput = parse_json(body)?;
        let account = input.validate()?;
        if accounts::by_email(&self.db, account.email.as_str())
            .await?
            .is_some()
        {
            return Err(ApiError::new(ErrorCode::EmailTaken).into());
        }
        let hash = self
            .policy
            .hash(&input.password, self.secrets.pepper.as_ref(), self.rng)
            .map_err(|e| Failure::Crypto(format!("password hash: {e}")))?;
        let now = self.now();
        let id = self.rng.id()?;
        let insert = self
            .db
            .statement(
                "INSERT INTO users (site_id, id, email, display_name, locale, password_hash, \
                 roles, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            )
            .bind(id.as_str())
            .bind(account.email.as_str())
            .bind(account.display_name.as_str())
            .bind(account.locale)
            .bind(hash.as_str())
            .bind(roles_json(&[Role::Member]))
            .bind(rfc3339(now));
        let user = UserRow {
            id: id.clone(),
            email: account.email.as_str().to_owned(),
            display_name: account.display_name,
            locale: account.locale.to_owned(),
            password_hash: hash.into_string(),
            roles: roles_json(&[Role::Member]),
            mfa_secret: None,
            mfa_pending: None,
            mfa_last_step: None,
            created_at: rfc3339(now),
        };
        let audit = self.audit(&Event::new("signup", Some(&id)))?;
        // The user row first: a concurrent signup of the same address fails
        // the whole batch on the UNIQUE (site_id, email) constraint.
        let session = sessions::open(&self.db, self.rng, now, &id, &[AMR_PWD], &self.origin)?;
        let mut batch = vec![insert];
        batch.extend(session.statements);
        batch.push(audit);
        match self.db.batch(&batch).await {
            Ok(_) => {}
            Err(PortError::Constraint(_)) => {
                return Err(ApiError::new(ErrorCode::EmailTaken).into());
            }
            Err(e) => return Err(e.into()),
        }
        let tokens = self.tokens(&user, &session.id, &[AMR_PWD], &session.refresh_token)?;
        Ok(ApiResponse::mutation(
            201,
            "Account created",
            &SignedIn {
                user: user.view(),
                tokens,
            },
        ))
    }

    pub(super) async fn login(&self, body: &[u8]) -> Answer {
        self.limit(limits::LOGIN_PER_IP).await?;
        let input: LoginInput = parse_json(body)?;
        input.validate()?;
        // Looked up as typed (normalised), not re-validated: an address an
        // earlier rule accepted still finds its account.
        let normal = input.email.trim().to_lowercase();
        let key = limits::login_key(&self.secrets.email_hash(&normal));
        let last = match limits::claim_attempt(&self.db, &key, self.now()).await? {
            Attempt::Locked { retry_after_secs } => {
                return Err(Attempt::locked_error(retry_after_secs).into());
            }
            Attempt::Granted { last } => last,
        };
        let user = accounts::by_email(&self.db, &normal).await?;
        let pepper = self.secrets.pepper.as_ref();
        let verified = match &user {
            Some(u) => self
                .policy
                .verify(&input.password, &u.password_hash, pepper),
            None => {
                self.policy.verify_dummy(&input.password, pepper);
                crate::password::Verified {
                    ok: false,
                    needs_rehash: false,
                }
            }
        };
        let user = match user {
            Some(u) if verified.ok => u,
            other => {
                let user_id = other.as_ref().map(|u| u.id.as_str());
                let reason = if other.is_some() {
                    "password"
                } else {
                    "unknown_email"
                };
                let mut events = vec![self.audit(
                    &Event::new("login.failure", user_id).detail(json!({ "reason": reason })),
                )?];
                if last {
                    events.push(self.audit(&Event::new("login.locked", user_id))?);
                }
                self.db.batch(&events).await?;
                return Err(invalid_credentials());
            }
        };
        let mut extra = vec![limits::reset(&self.db, &key)];
        if verified.needs_rehash {
            let hash = self
                .policy
                .hash(&input.password, pepper, self.rng)
                .map_err(|e| Failure::Crypto(format!("password rehash: {e}")))?;
            extra.push(
                self.db
                    .statement("UPDATE users SET password_hash = ?3 WHERE site_id = ?1 AND id = ?2")
                    .bind(user.id.as_str())
                    .bind(hash.as_str()),
            );
        }
        if user.mfa_enabled() {
            let (token, stmt) = mfa::new_challenge(&self.db, self.rng, &user.id, self.now())?;
            extra.push(stmt);
            extra.push(self.audit(&Event::new("mfa.challenge", Some(&user.id)))?);
            self.db.batch(&extra).await?;
            return Ok(ApiResponse::mutation(
                200,
                "Second factor required",
                &MfaRequired {
                    mfa_required: true,
                    mfa_token: token,
                },
            ));
        }
        extra.push(self.audit(&Event::new("login.success", Some(&user.id)))?);
        self.start_session(&user, &[AMR_PWD], extra, 200, "Logged in")
            .await
    }

    pub(super) async fn login_mfa(&self, body: &[u8]) -> Answer {
        self.limit(limits::MFA_PER_IP).await?;
        let input: MfaLoginInput = parse_json(body)?;
        let code = parse_code(&input.code, true)?;
        if !plausible_token(&input.mfa_token) {
            return Err(token_invalid());
        }
        let now = self.now();
        let Some(user_id) = mfa::claim_challenge(&self.db, &input.mfa_token, now).await? else {
            return Err(token_invalid());
        };
        let Some(user) = accounts::by_id(&self.db, &user_id).await? else {
            return Err(token_invalid());
        };
        self.limit_user(limits::MFA_PER_USER, &user.id).await?;
        let accepted = mfa::check_and_spend(&self.db, self.secrets, &user, &code, now).await?;
        let Some(recovery) = accepted else {
            self.record(
                &Event::new("mfa.failure", Some(&user.id)).detail(json!({ "during": "login" })),
            )
            .await?;
            return Err(mfa_invalid());
        };
        if !mfa::finish_challenge(&self.db, &input.mfa_token, now).await? {
            return Err(token_invalid());
        }
        let mut extra =
            vec![self.audit(
                &Event::new("login.success", Some(&user.id)).detail(json!({ "mfa": true })),
            )?];
        if recovery {
            extra.push(self.audit(&Event::new("mfa.recovery_used", Some(&user.id)))?);
        }
        self.start_session(&user, &[AMR_PWD, AMR_OTP], extra, 200, "Logged in")
            .await
    }

    pub(super) async fn refresh(&self, body: &[u8]) -> Answer {
        self.limit(limits::REFRESH_PER_IP).await?;
        let input: RefreshInput = parse_json(body)?;
        if !plausible_token(&input.refresh_token) {
            return Err(token_invalid());
        }
        match sessions::refresh(&self.db, self.rng, self.now(), &input.refresh_token).await? {
            Refresh::Rotated {
                session_id,
                user_id,
                amr,
                refresh_token,
            } => {
                let Some(user) = accounts::by_id(&self.db, &user_id).await? else {
                    return Err(token_invalid());
                };
                let amr: Vec<&str> = amr.iter().map(String::as_str).collect();
                let tokens = self.tokens(&user, &session_id, &amr, &refresh_token)?;
                Ok(ApiResponse::mutation(
                    200,
                    "Tokens refreshed",
                    &Refreshed { tokens },
                ))
            }
            Refresh::Invalid => Err(token_invalid()),
            Refresh::Revoked => Err(ApiError::new(ErrorCode::AuthTokenRevoked).into()),
            Refresh::Superseded => Err(ApiError::new(ErrorCode::AuthRefreshSuperseded).into()),
            Refresh::Reused {
                session_id,
                user_id,
            } => {
                self.record(
                    &Event::new("refresh.reuse", Some(&user_id))
                        .detail(json!({ "sessionId": session_id })),
                )
                .await?;
                Err(ApiError::new(ErrorCode::AuthRefreshReused).into())
            }
        }
    }
}
