//! The shapes of auth's answers a client reads: the `user` object, tokens,
//! sign-in, refresh, TOTP enrolment and live sessions. One definition for the
//! auth service that writes them and the clients that read them.

use serde::{Deserialize, Serialize};

/// The `user` object: who is signed in (also the answer to `GET /auth/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub email: String,
    pub display_name: String,
    /// Known roles only, highest first; at least `member`.
    pub roles: Vec<String>,
    pub mfa_enabled: bool,
    pub locale: String,
}

/// `tokens`: a fresh access token, the session's refresh token and the access
/// token's lifetime in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// `{user, tokens}`: a new session, answered by signup, login and login/mfa.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedIn {
    pub user: User,
    pub tokens: Tokens,
}

/// Login's answer when the account has a second factor: send `mfa_token` and
/// a code to login/mfa.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaRequired {
    /// Always `true`; it tells this answer from [`SignedIn`].
    pub mfa_required: bool,
    pub mfa_token: String,
}

/// Either answer of login, told apart by its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LoginAnswer {
    SignedIn(SignedIn),
    MfaRequired(MfaRequired),
}

/// `{tokens}`: the answer to a refresh, the session's rotated tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refreshed {
    pub tokens: Tokens,
}

/// TOTP setup's answer: the base32 secret and the URI an authenticator app scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpSetup {
    pub secret: String,
    pub otpauth_uri: String,
}

/// TOTP enable's answer: the one-time recovery codes, shown only this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// One item of `GET /auth/sessions`: a live session of the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionItem {
    pub id: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub last_used_at: String,
    pub user_agent: String,
    /// Whether this is the session of the token that asked.
    pub current: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> User {
        User {
            id: "u1".into(),
            email: "lan@example.com".into(),
            display_name: "Lan".into(),
            roles: vec!["editor".into(), "member".into()],
            mfa_enabled: true,
            locale: "vi".into(),
        }
    }

    fn tokens() -> Tokens {
        Tokens {
            access_token: "a.b.c".into(),
            refresh_token: "r1".into(),
            expires_in: 900,
        }
    }

    #[test]
    fn a_user_serializes_with_the_contracts_camel_case_keys() {
        assert_eq!(
            serde_json::to_value(user()).unwrap(),
            json!({
                "id": "u1",
                "email": "lan@example.com",
                "displayName": "Lan",
                "roles": ["editor", "member"],
                "mfaEnabled": true,
                "locale": "vi",
            })
        );
    }

    #[test]
    fn tokens_serialize_with_the_contracts_camel_case_keys() {
        assert_eq!(
            serde_json::to_value(tokens()).unwrap(),
            json!({"accessToken": "a.b.c", "refreshToken": "r1", "expiresIn": 900})
        );
    }

    #[test]
    fn a_sign_in_nests_the_user_and_the_tokens() {
        assert_eq!(
            serde_json::to_value(SignedIn {
                user: user(),
                tokens: tokens(),
            })
            .unwrap(),
            json!({
                "user": serde_json::to_value(user()).unwrap(),
                "tokens": serde_json::to_value(tokens()).unwrap(),
            })
        );
    }

    #[test]
    fn a_login_answer_reads_either_signed_in_or_mfa_required() {
        let signed_in = SignedIn {
            user: user(),
            tokens: tokens(),
        };
        let read: LoginAnswer =
            serde_json::from_value(serde_json::to_value(&signed_in).unwrap()).unwrap();
        assert_eq!(read, LoginAnswer::SignedIn(signed_in));

        let read: LoginAnswer =
            serde_json::from_value(json!({"mfaRequired": true, "mfaToken": "m1"})).unwrap();
        assert_eq!(
            read,
            LoginAnswer::MfaRequired(MfaRequired {
                mfa_required: true,
                mfa_token: "m1".into(),
            })
        );
    }

    #[test]
    fn a_login_answer_that_is_neither_shape_is_refused() {
        assert!(serde_json::from_value::<LoginAnswer>(json!({"tokens": {}})).is_err());
    }

    #[test]
    fn a_login_answer_writes_only_the_inner_shape() {
        let answer = LoginAnswer::MfaRequired(MfaRequired {
            mfa_required: true,
            mfa_token: "m1".into(),
        });
        assert_eq!(
            serde_json::to_value(answer).unwrap(),
            json!({"mfaRequired": true, "mfaToken": "m1"})
        );
    }

    #[test]
    fn a_refresh_answer_is_the_tokens_under_one_key() {
        assert_eq!(
            serde_json::to_value(Refreshed { tokens: tokens() }).unwrap(),
            json!({"tokens": {"accessToken": "a.b.c", "refreshToken": "r1", "expiresIn": 900}})
        );
    }

    #[test]
    fn a_totp_setup_names_its_uri_otpauth_uri() {
        assert_eq!(
            serde_json::to_value(TotpSetup {
                secret: "JBSWY3DP".into(),
                otpauth_uri: "otpauth://totp/x".into(),
            })
            .unwrap(),
            json!({"secret": "JBSWY3DP", "otpauthUri": "otpauth://totp/x"})
        );
    }

    #[test]
    fn recovery_codes_are_a_list_under_recovery_codes() {
        assert_eq!(
            serde_json::to_value(RecoveryCodes {
                recovery_codes: vec!["abcd-efgh".into()],
            })
            .unwrap(),
            json!({"recoveryCodes": ["abcd-efgh"]})
        );
    }

    #[test]
    fn a_session_item_reads_back_as_it_was_written() {
        let item = SessionItem {
            id: "s1".into(),
            created_at: "2026-12-03T10:00:00Z".into(),
            last_used_at: "2026-12-03T11:00:00Z".into(),
            user_agent: "Firefox".into(),
            current: true,
        };
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(
            json,
            json!({
                "id": "s1",
                "createdAt": "2026-12-03T10:00:00Z",
                "lastUsedAt": "2026-12-03T11:00:00Z",
                "userAgent": "Firefox",
                "current": true,
            })
        );
        assert_eq!(serde_json::from_value::<SessionItem>(json).unwrap(), item);
    }
}
