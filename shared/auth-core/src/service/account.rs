//! The caller's own account: who is calling (a live session), logout, the
//! profile, the sessions and their revocation, and the password change.
use sealpost_api::body::parse_json;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, ErrorCode, Validator};
use sealpost_guard::AccessClaims;
use sealpost_ports::{Clock, Rng, Sql, rfc3339};
use serde_json::{Value, json};

use super::{Answer, Auth, Failure, PasswordInput, empty_body, invalid_credentials};
use crate::accounts::{self, UserRow};
use crate::audit::Event;
use crate::limits::{self, Attempt};
use crate::password::validate_new_password;
use crate::sessions::{self};

impl<S: Sql, C: Clock, R: Rng> Auth<'_, S, C, R> {
    // ---- the caller ------------------------------------------------------

    /// The caller's live access token: authentic, unexpired, and its session
    /// still live with the same roles and second factor.
    pub(super) async fn caller(&self, input: &ApiRequest) -> Result<AccessClaims, Failure> {
        sealpost_guard::live_caller(
            Some(&self.secrets.verifier),
            input.authorization(),
            &self.db,
            self.clock,
        )
        .await
    }

    pub(super) async fn caller_user(
        &self,
        input: &ApiRequest,
    ) -> Result<(AccessClaims, UserRow), Failure> {
        let claims = self.caller(input).await?;
        let user = accounts::by_id(&self.db, &claims.sub)
            .await?
            .ok_or_else(|| Failure::Api(ApiError::new(ErrorCode::AuthTokenRevoked)))?;
        Ok((claims, user))
    }

    pub(super) async fn logout(&self, input: &ApiRequest) -> Answer {
        let claims = self.caller(input).await?;
        empty_body(&input.body)?;
        let batch = [
            sessions::revoke_statement(&self.db, self.now(), &claims.sid, "logout"),
            self.audit(
                &Event::new("logout", Some(&claims.sub)).detail(json!({ "sessionId": claims.sid })),
            )?,
        ];
        self.db.batch(&batch).await?;
        Ok(ApiResponse::mutation(200, "Logged out", &Value::Null))
    }

    pub(super) async fn me(&self, input: &ApiRequest) -> Answer {
        let (_, user) = self.caller_user(input).await?;
        Ok(ApiResponse::query(&user.view()))
    }

    pub(super) async fn sessions(&self, input: &ApiRequest) -> Answer {
        let claims = self.caller(input).await?;
        let list = sessions::list(&self.db, self.now(), &claims.sub, &claims.sid).await?;
        Ok(ApiResponse::query(&list))
    }

    pub(super) async fn revoke_session(&self, input: &ApiRequest) -> Answer {
        let claims = self.caller(input).await?;
        let id = input.param("id").unwrap_or_default();
        if !sessions::is_live_of(&self.db, self.now(), id, &claims.sub).await? {
            return Err(ApiError::not_found().with_message("No such session").into());
        }
        let batch = [
            sessions::revoke_statement(&self.db, self.now(), id, "revoked_by_user"),
            self.audit(
                &Event::new("session.revoked", Some(&claims.sub))
                    .detail(json!({ "sessionId": id })),
            )?,
        ];
        self.db.batch(&batch).await?;
        Ok(ApiResponse::mutation(200, "Session revoked", &Value::Null))
    }

    // ---- password ----------------------------------------------------------

    /// Verifies `password` as `user`'s current password (Argon2id), counted
    /// as a login attempt: a locked account is `AUTH_LOCKED`, a wrong
    /// password `AUTH_INVALID_CREDENTIALS`, audited as a `login.failure`
    /// with `reason`. On success, the statement that clears the counter.
    pub(super) async fn confirm_password(
        &self,
        user: &UserRow,
        password: &str,
        reason: &str,
    ) -> Result<sealpost_ports::Statement, Failure> {
        let key = limits::login_key(&self.secrets.email_hash(&user.email));
        let last = match limits::claim_attempt(&self.db, &key, self.now()).await? {
            Attempt::Locked { retry_after_secs } => {
                return Err(Attempt::locked_error(retry_after_secs).into());
            }
            Attempt::Granted { last } => last,
        };
        let pepper = self.secrets.pepper.as_ref();
        if self.policy.verify(password, &user.password_hash, pepper).ok {
            return Ok(limits::reset(&self.db, &key));
        }
        let mut events = vec![self.audit(
            &Event::new("login.failure", Some(&user.id)).detail(json!({ "reason": reason })),
        )?];
        if last {
            events.push(self.audit(&Event::new("login.locked", Some(&user.id)))?);
        }
        self.db.batch(&events).await?;
        Err(invalid_credentials())
    }

    pub(super) async fn change_password(&self, input: &ApiRequest) -> Answer {
        let (claims, user) = self.caller_user(input).await?;
        let body: PasswordInput = parse_json(&input.body)?;
        let mut v = Validator::new();
        v.text_len(
            "currentPassword",
            &body.current_password,
            1,
            crate::password::MAX_CHARS,
        );
        if let Err(weak) = validate_new_password(&body.new_password, &user.email) {
            v.add("newPassword", weak.message());
        }
        v.check(
            body.new_password != body.current_password,
            "newPassword",
            "Must differ from the current password",
        );
        v.finish()?;
        let reset = self
            .confirm_password(&user, &body.current_password, "password_change")
            .await?;
        let pepper = self.secrets.pepper.as_ref();
        let hash = self
            .policy
            .hash(&body.new_password, pepper, self.rng)
            .map_err(|e| Failure::Crypto(format!("password hash: {e}")))?;
        let now = self.now();
        let batch = [
            self.db
                .statement(
                    "UPDATE users SET password_hash = ?3, updated_at = ?4 WHERE site_id = ?1 AND id = ?2",
                )
                .bind(user.id.as_str())
                .bind(hash.as_str())
                .bind(rfc3339(now)),
            sessions::revoke_others_statement(&self.db, now, &user.id, &claims.sid, "password_change"),
            reset,
            self.audit(&Event::new("password.changed", Some(&user.id)))?,
        ];
        self.db.batch(&batch).await?;
        Ok(ApiResponse::mutation(
            200,
            "Password changed; other sessions were ended",
            &Value::Null,
        ))
    }
}
