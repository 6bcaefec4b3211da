//! What can go wrong with one call the console makes, one variant per
//! cause, and the sentence a member of staff is shown for it.
use sealpost_api::error::FieldError;

/// Why a call did not give the console what it asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The browser could not reach the site (offline, blocked, aborted).
    Network,
    /// The API refused, in its error envelope.
    Api {
        status: u16,
        code: String,
        message: String,
        errors: Vec<FieldError>,
    },
    /// Sealing the request or opening its answer failed on this side.
    Seal(String),
    /// An answer that is not what the API's own types describe.
    Unexpected(String),
    /// The form lacks what the console checks before asking the API (a
    /// date to schedule at, a file to import): the sentence says what.
    Incomplete(String),
}

impl Problem {
    /// The contract's error code, when the API gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Problem::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether the access token is no longer accepted (a refresh may help).
    pub fn is_signed_out(&self) -> bool {
        matches!(
            self.code(),
            Some("AUTH_TOKEN_INVALID" | "AUTH_TOKEN_REVOKED" | "AUTH_REQUIRED")
        )
    }

    /// The message for one field of the form, if the API named it.
    pub fn field(&self, name: &str) -> Option<&str> {
        match self {
            Problem::Api { errors, .. } => errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| e.message.as_str()),
            _ => None,
        }
    }

    /// One sentence for the person at the screen.
    pub fn describe(&self) -> String {
        match self {
            Problem::Network => {
                "The site could not be reached. Check the connection and try again.".into()
            }
            Problem::Api {
                code,
                message,
                errors,
                ..
            } => {
                let known = match code.as_str() {
                    "AUTH_INVALID_CREDENTIALS" => {
                        Some("That email and password do not match an account.")
                    }
                    "AUTH_MFA_INVALID" => {
                        Some("That code is not right. Codes change every 30 seconds.")
                    }
                    "AUTH_LOCKED" => {
                        Some("Too many failed attempts: the account is locked for a while.")
                    }
                    "AUTH_TOKEN_INVALID" | "AUTH_TOKEN_REVOKED" | "AUTH_REQUIRED" => {
                        Some("Your session has ended. Sign in again.")
                    }
                    "FORBIDDEN" => Some("Your account may not do this."),
                    "RATE_LIMITED" => Some("Too many requests. Wait a moment and try again."),
                    "UPDATE_CONFLICT" => Some("Someone saved this post after you opened it."),
                    _ => None,
                };
                match (known, errors.first()) {
                    (Some(text), _) => text.to_owned(),
                    (None, Some(first)) if code == "VALIDATION_FAILED" => {
                        format!("{message} ({}: {})", first.field, first.message)
                    }
                    _ => message.clone(),
                }
            }
            Problem::Incomplete(what) => what.clone(),
            Problem::Seal(why) => {
                format!("The sign-in could not be sealed ({why}). Reload the page and try again.")
            }
            Problem::Unexpected(why) => format!("The site answered something unexpected ({why})."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str, errors: Vec<FieldError>) -> Problem {
        Problem::Api {
            status: 400,
            code: code.into(),
            message: "The request is not valid".into(),
            errors,
        }
    }

    #[test]
    fn a_wrong_password_reads_the_same_for_an_unknown_email() {
        assert_eq!(
            api("AUTH_INVALID_CREDENTIALS", vec![]).describe(),
            "That email and password do not match an account."
        );
    }

    #[test]
    fn a_validation_failure_names_its_first_field() {
        let p = api(
            "VALIDATION_FAILED",
            vec![FieldError::new("code", "Must be six digits")],
        );
        assert_eq!(p.field("code"), Some("Must be six digits"));
        assert!(p.describe().contains("code: Must be six digits"));
    }

    #[test]
    fn only_a_refused_token_counts_as_signed_out() {
        assert!(api("AUTH_TOKEN_INVALID", vec![]).is_signed_out());
        assert!(!api("AUTH_MFA_INVALID", vec![]).is_signed_out());
        assert!(!Problem::Network.is_signed_out());
    }
}
