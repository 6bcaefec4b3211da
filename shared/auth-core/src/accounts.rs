//! Accounts (`users`): the request bodies of the account routes and their
//! validation (addresses are [`Email`]s, locales [`Locale`]s), the stored
//! row and the public `user` object.
use std::fmt;

use sealpost_api::account::User;
use sealpost_api::{ApiError, Email, Locale, Validator};
use sealpost_guard::Role;
use sealpost_ports::{PortError, SiteDb, Sql, rfc3339};
use serde::{Deserialize, Serialize};

/// Longest accepted e-mail address (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = Email::MAX_CHARS;
/// Longest display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 80;

/// `POST /auth/signup`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SignupInput {
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
    pub locale: Option<String>,
}

/// A signup that passed validation.
#[derive(Debug)]
pub struct NewAccount {
    pub email: Email,
    pub display_name: String,
    pub locale: &'static str,
}

impl SignupInput {
    /// Every rule at once (all problems in one answer).
    pub fn validate(&self) -> Result<NewAccount, ApiError> {
        let mut v = Validator::new();
        let email = Email::parse(&self.email);
        if let Err(why) = email {
            v.add("email", why.message());
        }
        if let Err(weak) = crate::password::validate_new_password(&self.password, &self.email) {
            v.add("password", weak.message());
        }
        let display_name = match &self.display_name {
            Some(name) => {
                let name = name.trim();
                v.text_len("displayName", name, 1, MAX_DISPLAY_NAME_CHARS);
                v.check(
                    !name.chars().any(char::is_control),
                    "displayName",
                    "Must not contain control characters",
                );
                name.to_owned()
            }
            None => String::new(),
        };
        let locale = match self.locale.as_deref() {
            None => Locale::default(),
            Some(l) => Locale::parse(l).unwrap_or_else(|| {
                v.one_of("locale", l, &Locale::NAMES);
                Locale::default()
            }),
        };
        v.finish()?;
        let email = email.map_err(|why| ApiError::field("email", why.message()))?;
        let display_name = if display_name.is_empty() {
            email
                .local_part()
                .chars()
                .take(MAX_DISPLAY_NAME_CHARS)
                .collect()
        } else {
            display_name
        };
        Ok(NewAccount {
            email,
            display_name,
            locale: locale.as_str(),
        })
    }
}

/// `POST /auth/login`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

impl LoginInput {
    /// Shape only: a non-empty e-mail of sane length and a password of 1–128
    /// characters. Whether they match is the credential check's business.
    pub fn validate(&self) -> Result<(), ApiError> {
        let mut v = Validator::new();
        v.text_len("email", self.email.trim(), 1, MAX_EMAIL_CHARS);
        v.text_len("password", &self.password, 1, crate::password::MAX_CHARS);
        v.finish()
    }
}

/// A `users` row. No `Debug`: it holds the password hash.
#[derive(Deserialize)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub locale: String,
    pub password_hash: String,
    pub roles: String,
    pub mfa_secret: Option<String>,
    pub mfa_pending: Option<String>,
    pub mfa_last_step: Option<i64>,
    pub created_at: String,
}

impl fmt::Debug for SignupInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignupInput").finish_non_exhaustive()
    }
}

impl fmt::Debug for LoginInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginInput").finish_non_exhaustive()
    }
}

impl fmt::Debug for UserRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// The columns of [`UserRow`], for `SELECT`s.
pub const USER_COLUMNS: &str = "id, email, display_name, locale, password_hash, roles, \
     mfa_secret, mfa_pending, mfa_last_step, created_at";

impl UserRow {
    /// The roles, canonical (known roles only, highest first; at least member).
    pub fn roles(&self) -> Vec<Role> {
        parse_roles(&self.roles)
    }

    pub fn mfa_enabled(&self) -> bool {
        self.mfa_secret.is_some()
    }

    /// The public `user` object.
    pub fn view(&self) -> User {
        User {
            id: self.id.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            roles: role_names(&self.roles()),
            mfa_enabled: self.mfa_enabled(),
            locale: self.locale.clone(),
        }
    }
}

/// Stored roles (a JSON array) in canonical order; unknown names are
/// dropped and an empty set means member.
pub fn parse_roles(stored: &str) -> Vec<Role> {
    let names: Vec<String> = serde_json::from_str(stored).unwrap_or_default();
    let roles = canonical_roles(names.iter().filter_map(|n| Role::parse(n)));
    if roles.is_empty() {
        vec![Role::Member]
    } else {
        roles
    }
}

/// Distinct roles, highest first (admin, editor, member).
pub fn canonical_roles(roles: impl IntoIterator<Item = Role>) -> Vec<Role> {
    let set: Vec<Role> = roles.into_iter().collect();
    Role::ALL
        .iter()
        .rev()
        .copied()
        .filter(|r| set.contains(r))
        .collect()
}

pub fn role_names(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.as_str().to_owned()).collect()
}

/// The JSON stored in `users.roles`.
pub fn roles_json(roles: &[Role]) -> String {
    serde_json::to_string(&role_names(roles)).unwrap_or_else(|_| "[\"member\"]".to_owned())
}

/// The user with `email` (trimmed and lower-cased, as stored), if any. It
/// takes the text rather than an [`Email`]: an account made under an
/// earlier, looser address rule must still be found at login.
pub async fn by_email<S: Sql>(
    db: &SiteDb<'_, S>,
    email: &str,
) -> Result<Option<UserRow>, PortError> {
    db.query_one(
        &db.statement(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE site_id = ?1 AND email = ?2"
        ))
        .bind(email),
    )
    .await
}

/// The user with `id`, if any.
pub async fn by_id<S: Sql>(db: &SiteDb<'_, S>, id: &str) -> Result<Option<UserRow>, PortError> {
    db.query_one(
        &db.statement(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE site_id = ?1 AND id = ?2"
        ))
        .bind(id),
    )
    .await
}

/// An admin-table row: the `user` object plus `createdAt` and `lockedUntil`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminUserItem {
    #[serde(flatten)]
    pub user: User,
    pub created_at: String,
    pub locked_until: Option<String>,
}

impl AdminUserItem {
    pub fn new(row: &UserRow, locked_until_ms: Option<i64>) -> AdminUserItem {
        AdminUserItem {
            user: row.view(),
            created_at: row.created_at.clone(),
            locked_until: locked_until_ms.map(rfc3339),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Foo.Bar@Example.COM ").unwrap().as_str(),
            "foo.bar@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a@exa mple.com",
            "a@@example.com",
            "a@example..com",
            "a@-example.com",
            "<a>@example.com",
            "a@example.com\n",
        ] {
            // A trailing newline is trimmed; everything else must fail.
            if bad.ends_with('\n') {
                continue;
            }
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
        let long = format!("a@{}.com", "b".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn stored_roles_are_canonical_and_never_empty() {
        assert_eq!(
            parse_roles(r#"["member","admin"]"#),
            vec![Role::Admin, Role::Member]
        );
        assert_eq!(parse_roles(r#"["root"]"#), vec![Role::Member]);
        assert_eq!(parse_roles("not json"), vec![Role::Member]);
        assert_eq!(roles_json(&[Role::Editor]), r#"["editor"]"#);
    }
}
