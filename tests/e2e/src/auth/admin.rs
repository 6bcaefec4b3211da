//! The shared admin: the seeded admin account logged in with its second
//! factor once per process, and calls made as that admin.
use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::mfa::{enable_totp, login_with_totp};
use super::session::{Session, login, session_from, try_login};
use super::{assert_mutation, bearer_get, bearer_request};
use crate::{ADMIN_EMAIL, Reply, Stack, Value, json, repo_root};

/// What the shared admin setup learnt and holds.
#[derive(Debug, Clone)]
pub struct AdminInfo {
    /// The seeded admin with `amr: ["pwd","otp"]`.
    pub session: Session,
    /// What `GET /admin/users` answered the seeded admin logged in with its
    /// password only, before it enrolled.
    pub pwd_only: Option<PwdOnlyView>,
}

/// The seeded admin's password-only session and what `/admin/users` said to it.
#[derive(Debug, Clone)]
pub struct PwdOnlyView {
    pub amr: Value,
    pub status: u16,
    pub code: Option<String>,
}

#[derive(Debug, Default)]
struct AdminCache {
    info: Option<AdminInfo>,
    /// Why the setup failed, if it did.
    failed: Option<String>,
}

static ADMIN: Mutex<AdminCache> = Mutex::new(AdminCache {
    info: None,
    failed: None,
});

/// Makes sure the seeded admin exists: `scripts/serve` applies the
/// migrations but seeds no account, so when [`ADMIN_EMAIL`] cannot log in
/// with [`Stack::admin_password`], the project's own command creates it
/// (`scripts/admin --local`, which refuses an address that already has an
/// account, writing nothing). Returns the password login.
fn seeded_admin_login(stack: &Stack) -> Session {
    let password = stack.admin_password();
    let (reply, inner) = try_login(stack, ADMIN_EMAIL, password);
    if reply.status == 200 {
        let data = assert_mutation(&reply, &inner, 200);
        return session_from(&data, ADMIN_EMAIL, password);
    }
    assert_eq!(
        inner["error"]["code"], "AUTH_INVALID_CREDENTIALS",
        "the seeded admin's login: {inner:#}"
    );
    eprintln!("e2e: {ADMIN_EMAIL} is not seeded; creating it with scripts/admin --local");
    let out = Command::new(repo_root().join("scripts/admin"))
        .args(["--local", "--persist-to"])
        .arg(stack.state_dir())
        .current_dir(repo_root())
        .env("SEALPOST_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SEALPOST_ADMIN_PASSWORD", password)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running scripts/admin: {e}"));
    assert!(
        out.status.success(),
        "scripts/admin --local failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    login(stack, ADMIN_EMAIL, password)
}

/// The seeded admin logged in with its second factor, made once per process
/// and shared by every scenario (its TOTP can be enabled only once). The
/// first call logs in with the password, records what `/admin/users` says
/// to that session, enrols TOTP and logs in again with a code. When that
/// fails, every later call fails at once with the same reason (retrying
/// would only lock the account).
pub fn admin_with_mfa(stack: &Stack) -> AdminInfo {
    let mut cache = ADMIN.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(info) = &cache.info {
        return info.clone();
    }
    if let Some(why) = &cache.failed {
        panic!("the shared admin could not be set up earlier: {why}");
    }
    let setup = panic::catch_unwind(AssertUnwindSafe(|| {
        let password = stack.admin_password().to_owned();
        let pwd = seeded_admin_login(stack);
        assert!(
            pwd.user["roles"]
                .as_array()
                .is_some_and(|r| r.contains(&json!("admin"))),
            "the seeded admin has role admin: {:#}",
            pwd.user
        );
        let users = bearer_get(stack, "/admin/users", &pwd.access);
        let pwd_only = Some(PwdOnlyView {
            amr: pwd.amr(),
            status: users.status,
            code: users.error_code(),
        });
        let mut totp = enable_totp(stack, &pwd);
        let session = login_with_totp(stack, ADMIN_EMAIL, &password, &mut totp);
        AdminInfo { session, pwd_only }
    }));
    match setup {
        Ok(info) => {
            cache.info = Some(info.clone());
            info
        }
        Err(payload) => {
            let why = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic".to_owned());
            cache.failed = Some(why.chars().take(2000).collect());
            drop(cache);
            panic::resume_unwind(payload)
        }
    }
}

/// `GET path` as the shared admin; asserts 200 and returns the body.
pub fn admin_get(stack: &Stack, path: &str) -> Value {
    let admin = admin_with_mfa(stack);
    let reply = bearer_get(stack, path, &admin.session.access);
    assert_eq!(reply.status, 200, "GET {path} as admin: {reply}");
    reply.json()
}

/// `PUT /admin/users/{id}/roles` as the shared admin.
pub fn admin_set_roles(stack: &Stack, user_id: &str, roles: &Value) -> Reply {
    let admin = admin_with_mfa(stack);
    bearer_request(
        stack,
        "PUT",
        &format!("/admin/users/{user_id}/roles"),
        &admin.session.access,
    )
    .json(&json!({"roles": roles}))
    .send()
}
