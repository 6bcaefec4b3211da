//! The auth routes on the opened request (sealed routes arrive here as their
//! plaintext): signup, login (+ second factor), refresh, logout, the
//! caller's profile and sessions, TOTP, password change, and the admin
//! tables. Platform-free: everything goes through the ports, so the whole
//! flow runs natively against SQLite in tests. Contract: API.md (Auth);
//! decisions where it is silent: docs/api.md (Auth).
use sealpost_api::body::parse_json;
use sealpost_api::page::offset_page;
use sealpost_api::query::{OffsetPaging, Query};
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiError, ApiResponse, ErrorCode, Validator};
use sealpost_guard::{AccessClaims, Role, require_staff};
use sealpost_ports::{Clock, PortError, Rng, SiteDb, Sql, SqlValue, rfc3339};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::{
    self, AdminUserItem, Email, LoginInput, SignupInput, USER_COLUMNS, UserRow, canonical_roles,
    roles_json,
};
use crate::audit::{self, Event, Origin};
use crate::limits::{self, Attempt};
use crate::mfa::{self, Code};
use crate::password::{PasswordPolicy, validate_new_password};
use crate::secrets::AuthSecrets;
use crate::sessions::{self, Refresh};
use crate::tokens::{self, AMR_OTP, AMR_PWD};

mod second_factor;

pub use sealpost_api::Fault;

type Answer = Result<ApiResponse, Fault>;

/// One auth request, after routing (and opening, for sealed routes).
#[derive(Debug, Clone, Copy)]
pub struct Input<'r> {
    pub route: RouteId,
    /// The JSON body (the plaintext of a sealed route); may be empty.
    pub body: &'r [u8],
    /// The `Authorization` header.
    pub authorization: Option<&'r str>,
    /// The `{id}` path parameter.
    pub id: Option<&'r str>,
    pub query: &'r Query,
}

/// The auth service for one request.
pub struct Auth<'a, S: Sql, C: Clock, R: Rng> {
    pub db: SiteDb<'a, S>,
    pub clock: &'a C,
    pub rng: &'a R,
    pub secrets: &'a AuthSecrets,
    pub origin: Origin,
    pub policy: PasswordPolicy,
}

impl<S: Sql, C: Clock, R: Rng> std::fmt::Debug for Auth<'_, S, C, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MfaLoginInput {
    mfa_token: String,
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RefreshInput {
    refresh_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeInput {
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PasswordInput {
    current_password: String,
    new_password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesInput {
    roles: Vec<String>,
}

/// Longest token (`mfaToken`, `refreshToken`) looked up.
const MAX_TOKEN_CHARS: usize = 256;
/// Longest code field accepted.
const MAX_CODE_CHARS: usize = 32;
/// Longest admin search.
const MAX_QUERY_CHARS: usize = 100;

fn token_invalid() -> Fault {
    ApiError::new(ErrorCode::AuthTokenInvalid).into()
}

fn mfa_invalid() -> Fault {
    ApiError::new(ErrorCode::AuthMfaInvalid).into()
}

fn invalid_credentials() -> Fault {
    ApiError::new(ErrorCode::AuthInvalidCredentials).into()
}

fn conflict(message: &str) -> Fault {
    ApiError::new(ErrorCode::Conflict)
        .with_message(message)
        .into()
}

/// A second-factor code field: six digits, or (where accepted) a recovery
/// code; anything else is a validation error, not a wrong code.
fn parse_code(raw: &str, allow_recovery: bool) -> Result<Code, ApiError> {
    if raw.chars().count() <= MAX_CODE_CHARS
        && let Some(code) = Code::parse(raw, allow_recovery)
    {
        return Ok(code);
    }
    Err(ApiError::field(
        "code",
        if allow_recovery {
            "Must be six digits or a recovery code"
        } else {
            "Must be six digits"
        },
    ))
}

/// Whether `token` could be one we issued (non-empty, not absurdly long);
/// anything else is simply an invalid token.
fn plausible_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= MAX_TOKEN_CHARS
}

/// A body that must be `{}` or absent.
fn empty_body(body: &[u8]) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    parse_json::<Empty>(body).map(|_| ())
}

impl<S: Sql, C: Clock, R: Rng> Auth<'_, S, C, R> {
    /// Serves `input`.
    pub async fn handle(&self, input: Input<'_>) -> Answer {
        match input.route {
            RouteId::AuthSignup => self.signup(input.body).await,
            RouteId::AuthLogin => self.login(input.body).await,
            RouteId::AuthLoginMfa => self.login_mfa(input.body).await,
            RouteId::AuthRefresh => self.refresh(input.body).await,
            RouteId::AuthLogout => self.logout(input).await,
            RouteId::AuthMe => self.me(input).await,
            RouteId::AuthSessions => self.sessions(input).await,
            RouteId::AuthSessionRevoke => self.revoke_session(input).await,
            RouteId::AuthTotpSetup => self.totp_setup(input).await,
            RouteId::AuthTotpEnable => self.totp_enable(input).await,
            RouteId::AuthTotpDisable => self.totp_disable(input).await,
            RouteId::AuthPassword => self.change_password(input).await,
            RouteId::AdminUsers => self.admin_users(input).await,
            RouteId::AdminUserRoles => self.admin_roles(input).await,
            RouteId::AdminAudit => self.admin_audit(input).await,
            _ => Err(ApiError::not_found().into()),
        }
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    fn ip_hash(&self) -> &str {
        &self.origin.ip_hash
    }

    async fn limit(&self, limit: limits::Limit) -> Result<(), Fault> {
        // Without an address (never through the gateway) the limit keys on "".
        limits::hit(&self.db, limit, self.ip_hash(), self.now())
            .await?
            .map_err(Fault::Api)
    }

    async fn limit_user(&self, limit: limits::Limit, user_id: &str) -> Result<(), Fault> {
        limits::hit(&self.db, limit, user_id, self.now())
            .await?
            .map_err(Fault::Api)
    }

    fn audit(&self, event: &Event) -> Result<sealpost_ports::Statement, PortError> {
        audit::statement(&self.db, self.rng, self.now(), &self.origin, event)
    }

    async fn record(&self, event: &Event) -> Result<(), PortError> {
        audit::record(&self.db, self.rng, self.now(), &self.origin, event).await
    }

    /// `{accessToken, refreshToken, expiresIn}` for `user` in `session_id`.
    fn tokens(
        &self,
        user: &UserRow,
        session_id: &str,
        amr: &[&str],
        refresh_token: &str,
    ) -> Result<Value, Fault> {
        let claims = tokens::access_claims(
            &user.id,
            session_id,
            &self.rng.id()?,
            &user.roles(),
            amr,
            self.now() / 1000,
        );
        let access = tokens::issue(&claims, &self.secrets.signing)
            .map_err(|e| PortError::Decode(format!("access token: {e}")))?;
        Ok(json!({
            "accessToken": access,
            "refreshToken": refresh_token,
            "expiresIn": tokens::ACCESS_TTL_SECS,
        }))
    }

    /// Opens a session for `user` and answers `{user, tokens}`; `extra`
    /// statements (audit, counter reset, rehash) commit with it.
    async fn start_session(
        &self,
        user: &UserRow,
        amr: &[&str],
        mut extra: Vec<sealpost_ports::Statement>,
        status: u16,
        message: &str,
    ) -> Answer {
        let session = sessions::open(&self.db, self.rng, self.now(), &user.id, amr, &self.origin)?;
        let mut batch = session.statements;
        batch.append(&mut extra);
        self.db.batch(&batch).await?;
        let tokens = self.tokens(user, &session.id, amr, &session.refresh_token)?;
        Ok(ApiResponse::mutation(
            status,
            message,
            &json!({ "user": user.view(), "tokens": tokens }),
        ))
    }

    // ---- accounts -------------------------------------------------------

    async fn signup(&self, body: &[u8]) -> Answer {
        self.limit(limits::SIGNUP_PER_IP).await?;
        let input: SignupInput = parse_json(body)?;
        let account = input.validate()?;
        if accounts::by_email(&self.db, &account.email)
            .await?
            .is_some()
        {
            return Err(ApiError::new(ErrorCode::EmailTaken).into());
        }
        let hash = self
            .policy
            .hash(&input.password, self.secrets.pepper.as_ref(), self.rng)
            .map_err(|e| PortError::Decode(format!("password hash: {e}")))?;
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
            &json!({ "user": user.view(), "tokens": tokens }),
        ))
    }

    async fn login(&self, body: &[u8]) -> Answer {
        self.limit(limits::LOGIN_PER_IP).await?;
        let input: LoginInput = parse_json(body)?;
        input.validate()?;
        // An address that cannot exist is treated like an unknown one.
        let normal = input.email.trim().to_lowercase();
        let key = limits::login_key(&self.secrets.email_hash(&normal));
        let last = match limits::claim_attempt(&self.db, &key, self.now()).await? {
            Attempt::Locked { retry_after_secs } => {
                return Err(Attempt::locked_error(retry_after_secs).into());
            }
            Attempt::Granted { last } => last,
        };
        let user = match Email::parse(&normal) {
            Ok(email) => accounts::by_email(&self.db, &email).await?,
            Err(_) => None,
        };
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
                .map_err(|e| PortError::Decode(format!("password rehash: {e}")))?;
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
                &json!({ "mfaRequired": true, "mfaToken": token }),
            ));
        }
        extra.push(self.audit(&Event::new("login.success", Some(&user.id)))?);
        self.start_session(&user, &[AMR_PWD], extra, 200, "Logged in")
            .await
    }

    async fn login_mfa(&self, body: &[u8]) -> Answer {
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

    async fn refresh(&self, body: &[u8]) -> Answer {
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
                    &json!({ "tokens": tokens }),
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

    // ---- the caller ------------------------------------------------------

    /// The caller's live access token: authentic, unexpired, and its session
    /// still live with the same roles and second factor.
    async fn caller(&self, input: Input<'_>) -> Result<AccessClaims, Fault> {
        sealpost_guard::live_caller(
            Some(&self.secrets.verifier),
            input.authorization,
            &self.db,
            self.clock,
        )
        .await
    }

    async fn caller_user(&self, input: Input<'_>) -> Result<(AccessClaims, UserRow), Fault> {
        let claims = self.caller(input).await?;
        let user = accounts::by_id(&self.db, &claims.sub)
            .await?
            .ok_or_else(|| Fault::Api(ApiError::new(ErrorCode::AuthTokenRevoked)))?;
        Ok((claims, user))
    }

    async fn logout(&self, input: Input<'_>) -> Answer {
        let claims = self.caller(input).await?;
        empty_body(input.body)?;
        let batch = [
            sessions::revoke_statement(&self.db, self.now(), &claims.sid, "logout"),
            self.audit(
                &Event::new("logout", Some(&claims.sub)).detail(json!({ "sessionId": claims.sid })),
            )?,
        ];
        self.db.batch(&batch).await?;
        Ok(ApiResponse::mutation(200, "Logged out", &Value::Null))
    }

    async fn me(&self, input: Input<'_>) -> Answer {
        let (_, user) = self.caller_user(input).await?;
        Ok(ApiResponse::query(&user.view()))
    }

    async fn sessions(&self, input: Input<'_>) -> Answer {
        let claims = self.caller(input).await?;
        let list = sessions::list(&self.db, self.now(), &claims.sub, &claims.sid).await?;
        Ok(ApiResponse::query(&list))
    }

    async fn revoke_session(&self, input: Input<'_>) -> Answer {
        let claims = self.caller(input).await?;
        let id = input.id.unwrap_or_default();
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
    async fn confirm_password(
        &self,
        user: &UserRow,
        password: &str,
        reason: &str,
    ) -> Result<sealpost_ports::Statement, Fault> {
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

    async fn change_password(&self, input: Input<'_>) -> Answer {
        let (claims, user) = self.caller_user(input).await?;
        let body: PasswordInput = parse_json(input.body)?;
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
            .map_err(|e| PortError::Decode(format!("password hash: {e}")))?;
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

    // ---- admin -----------------------------------------------------------

    async fn admin(&self, input: Input<'_>) -> Result<AccessClaims, Fault> {
        let claims = self.caller(input).await?;
        require_staff(&claims, Role::Admin)?;
        Ok(claims)
    }

    async fn admin_users(&self, input: Input<'_>) -> Answer {
        self.admin(input).await?;
        let paging = OffsetPaging::from_query(input.query)?;
        let q = input.query.get_nonblank("q").map(str::to_lowercase);
        if let Some(q) = &q {
            let mut v = Validator::new();
            v.text_len("q", q, 1, MAX_QUERY_CHARS);
            v.finish()?;
        }
        let (rows, page): (Vec<UserRow>, _) = offset_page(
            &self.db,
            USER_COLUMNS,
            "FROM users WHERE site_id = ?1 AND (?2 IS NULL OR instr(lower(email), ?2) > 0 \
             OR instr(lower(display_name), ?2) > 0)",
            &[SqlValue::from(q)],
            "created_at DESC, rowid DESC",
            &paging,
        )
        .await?;
        let items = self.admin_items(&rows).await?;
        Ok(ApiResponse::offset_list(&items, page))
    }

    async fn admin_items(&self, rows: &[UserRow]) -> Result<Vec<AdminUserItem>, Fault> {
        let keys: Vec<String> = rows
            .iter()
            .map(|r| limits::login_key(&self.secrets.email_hash(&r.email)))
            .collect();
        let locked = limits::locked_until(&self.db, &keys, self.now()).await?;
        Ok(rows
            .iter()
            .zip(&keys)
            .map(|(row, key)| AdminUserItem::new(row, locked.get(key).copied()))
            .collect())
    }

    async fn admin_roles(&self, input: Input<'_>) -> Answer {
        let claims = self.admin(input).await?;
        let body: RolesInput = parse_json(input.body)?;
        let mut v = Validator::new();
        v.check(
            (1..=3).contains(&body.roles.len()),
            "roles",
            "Must list 1 to 3 roles",
        );
        let mut roles = Vec::new();
        for (i, name) in body.roles.iter().enumerate() {
            match Role::parse(name) {
                Some(r) if roles.contains(&r) => v.add(format!("roles[{i}]"), "Is listed twice"),
                Some(r) => roles.push(r),
                None => v.add(
                    format!("roles[{i}]"),
                    "Must be one of: admin, editor, member",
                ),
            }
        }
        v.finish()?;
        let roles = canonical_roles(roles);
        let id = input.id.unwrap_or_default();
        let Some(target) = accounts::by_id(&self.db, id).await? else {
            return Err(ApiError::not_found().with_message("No such user").into());
        };
        let before = target.roles();
        let demotes_admin = before.contains(&Role::Admin) && !roles.contains(&Role::Admin);
        // One statement, so two admins demoting each other cannot both win.
        let changed = self
            .db
            .execute(
                &self
                    .db
                    .statement(
                        "UPDATE users SET roles = ?3, updated_at = ?4 WHERE site_id = ?1 AND id = ?2 \
                         AND (?5 = 0 OR EXISTS (SELECT 1 FROM users WHERE site_id = ?1 AND id <> ?2 \
                              AND roles LIKE '%\"admin\"%'))",
                    )
                    .bind(id)
                    .bind(roles_json(&roles))
                    .bind(rfc3339(self.now()))
                    .bind(demotes_admin),
            )
            .await?;
        if changed.changes != 1 {
            return Err(conflict("The last admin cannot lose the admin role"));
        }
        self.record(
            &Event::new("roles.changed", Some(id))
                .actor(&claims.sub)
                .detail(json!({
                    "before": accounts::role_names(&before),
                    "after": accounts::role_names(&roles),
                })),
        )
        .await?;
        let updated = accounts::by_id(&self.db, id)
            .await?
            .ok_or_else(|| Fault::Api(ApiError::not_found()))?;
        Ok(ApiResponse::mutation(
            200,
            "Roles updated",
            &self
                .admin_items(std::slice::from_ref(&updated))
                .await?
                .pop(),
        ))
    }

    async fn admin_audit(&self, input: Input<'_>) -> Answer {
        self.admin(input).await?;
        let paging = OffsetPaging::from_query(input.query)?;
        let kind = input.query.get_nonblank("type");
        let user_id = input.query.get_nonblank("userId");
        let mut v = Validator::new();
        if let Some(kind) = kind {
            v.one_of("type", kind, &audit::TYPES);
        }
        if let Some(user_id) = user_id {
            v.text_len("userId", user_id, 1, 64);
        }
        v.finish()?;
        let (items, page) = audit::list(&self.db, &paging, kind, user_id).await?;
        Ok(ApiResponse::offset_list(&items, page))
    }
}
