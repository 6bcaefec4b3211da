//! The one e-mail address type: [`Email`], a normalised address that can
//! only be built by [`Email::parse`], so holding one proves it was checked.
//! Accounts, subscribers and the operator's admin command all take their
//! addresses through it, so an address means the same everywhere and a
//! lookup (an account's e-mail, a subscriber's blind index) always sees one
//! spelling.
//!
//! The rule, after trimming and lower-casing:
//!
//! - at most [`Email::MAX_CHARS`] characters ([`EmailError::TooLong`]);
//! - exactly one `@`;
//! - a local part of 1–[`Email::MAX_LOCAL_CHARS`] printable ASCII
//!   characters, none of them a space or one of `" ' ( ) , : ; < > @ [ \ ]`;
//! - a domain of at least two labels, each 1–[`Email::MAX_LABEL_CHARS`]
//!   characters of `[a-z0-9-]`, neither starting nor ending with `-` (an
//!   internationalised domain is written in its `xn--` form).
//!
//! See [`Email::parse`]. No crate is used: the well-kept ones follow the RFC 5322 / HTML grammar,
//! which accepts addresses such as `a@localhost` that the contract refuses.

/// A normalised, validated e-mail address.
///
/// Its `Debug` output leaves the address out (it stays out of logs); read
/// it with [`Email::as_str`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

/// Why a string is not an [`Email`]; [`EmailError::message`] is the
/// validation message of the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Longer than [`Email::MAX_CHARS`] characters.
    #[error("{}", EmailError::TOO_LONG)]
    TooLong,
    /// Not shaped like an address.
    #[error("{}", EmailError::INVALID)]
    Invalid,
}

impl EmailError {
    /// The message of a malformed address.
    pub const INVALID: &'static str = "Must be a valid email address";
    /// The message of an address over [`Email::MAX_CHARS`].
    pub const TOO_LONG: &'static str = "Must be at most 254 characters";

    /// The user-facing validation message.
    pub fn message(self) -> &'static str {
        match self {
            EmailError::TooLong => Self::TOO_LONG,
            EmailError::Invalid => Self::INVALID,
        }
    }
}

/// Characters never allowed in the local part, besides spaces and
/// control characters (the RFC 5322 specials and the single quote).
const LOCAL_FORBIDDEN: &str = "\"'(),:;<>@[\\]";

impl Email {
    /// Longest address, in characters (RFC 5321's path limit less the
    /// brackets).
    pub const MAX_CHARS: usize = 254;
    /// Longest local part (before the `@`), in characters.
    pub const MAX_LOCAL_CHARS: usize = 64;
    /// Longest domain label, in characters.
    pub const MAX_LABEL_CHARS: usize = 63;

    /// Trims, lower-cases and checks `raw` (see the module documentation
    /// for the rule).
    ///
    /// Where the three parsers this replaces differed (each accepted more
    /// than this rule in its own way):
    /// - accounts: non-ASCII characters and `'`, `(`, `)`, `:`, `;`, `[`,
    ///   `\`, `]` anywhere, any character but those it refused (`_`, …) in
    ///   a domain label, and labels of any length; an over-long address was
    ///   "invalid", not "too long";
    /// - subscribers: non-ASCII characters and `'` in the local part, and
    ///   labels starting or ending with `-`;
    /// - the admin command: `(`, `)`, `:`, `[`, `]` anywhere, any printable
    ///   ASCII in the domain (`_`, an empty inner label as in `a@b..c`,
    ///   labels starting or ending with `-`, of any length) and local parts
    ///   over 64 characters.
    ///
    /// An account made under the looser accounts rule still signs in: login
    /// looks the address up as typed, without parsing it.
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let email = raw.trim().to_lowercase();
        if email.chars().count() > Self::MAX_CHARS {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = email.split_once('@').ok_or(EmailError::Invalid)?;
        let local_ok = (1..=Self::MAX_LOCAL_CHARS).contains(&local.len())
            && local
                .chars()
                .all(|c| c.is_ascii_graphic() && !LOCAL_FORBIDDEN.contains(c));
        let domain_ok = domain.contains('.') && domain.split('.').all(is_label);
        if local_ok && domain_ok {
            Ok(Email(email))
        } else {
            Err(EmailError::Invalid)
        }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(local, _)| local)
    }
}

/// A domain label: 1–63 characters of `[a-z0-9-]`, no `-` at either end.
fn is_label(label: &str) -> bool {
    (1..=Email::MAX_LABEL_CHARS).contains(&label.len())
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Email(..)")
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> bool {
        Email::parse(raw) == Err(EmailError::Invalid)
    }

    #[test]
    fn an_address_is_trimmed_and_lower_cased() {
        let e = Email::parse("  Ann.Lee+News@Example.COM \n").unwrap();
        assert_eq!(e.as_str(), "ann.lee+news@example.com");
    }

    #[test]
    fn the_debug_output_leaves_the_address_out() {
        let e = Email::parse("ann@example.com").unwrap();
        assert_eq!(format!("{e:?}"), "Email(..)");
    }

    #[test]
    fn the_local_part_is_what_comes_before_the_at_sign() {
        assert_eq!(
            Email::parse("Foo.Bar@Example.com").unwrap().local_part(),
            "foo.bar"
        );
    }

    #[test]
    fn an_address_without_exactly_one_at_sign_is_refused() {
        for bad in ["", "plain", "a@@example.com", "a@b@example.com"] {
            assert!(refused(bad), "{bad:?}");
        }
    }

    #[test]
    fn an_empty_or_over_long_local_part_is_refused() {
        assert!(refused("@example.com"));
        assert!(refused(&format!("{}@example.com", "a".repeat(65))));
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(64))).is_ok());
    }

    #[test]
    fn a_local_part_with_a_space_a_control_a_special_or_non_ascii_is_refused() {
        for bad in [
            "a b@example.com",
            "a\u{7}@example.com",
            "<a>@example.com",
            "a,b@example.com",
            "\"a\"@example.com",
            "x'@example.com",
            "a;b@example.com",
            "a:b@example.com",
            "a(b)@example.com",
            "a[b]@example.com",
            "a\\b@example.com",
            "bé@example.com",
        ] {
            assert!(refused(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_usual_local_part_characters_are_accepted() {
        for ok in [
            "a.b+tag@example.com",
            "a_b-c@example.com",
            "a!#$%&*/=?^`{|}~@example.com",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn a_domain_without_a_dot_or_with_an_empty_label_is_refused() {
        for bad in [
            "a@",
            "a@example",
            "a@localhost",
            "a@example..com",
            "a@.example.com",
            "a@example.com.",
        ] {
            assert!(refused(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_label_outside_letters_digits_and_inner_hyphens_is_refused() {
        for bad in [
            "a@exa mple.com",
            "a@exam_ple.com",
            "a@-example.com",
            "a@example-.com",
            "a@xn--b\u{fc}cher.de",
            &format!("a@{}.com", "b".repeat(64)),
        ] {
            assert!(refused(bad), "{bad:?}");
        }
        assert!(Email::parse("a@xn--bcher-kva.de").is_ok());
        assert!(Email::parse(&format!("a@{}.com", "b".repeat(63))).is_ok());
    }

    #[test]
    fn an_address_over_254_characters_is_too_long() {
        let domain = format!(
            "{}.{}.{}.com",
            "d".repeat(63),
            "e".repeat(63),
            "f".repeat(60)
        );
        let ok = format!("{}@{domain}", "a".repeat(254 - 1 - domain.len()));
        assert_eq!(ok.len(), 254);
        assert!(Email::parse(&ok).is_ok());
        assert_eq!(Email::parse(&format!("a{ok}")), Err(EmailError::TooLong));
    }

    #[test]
    fn each_error_has_its_field_message() {
        assert_eq!(
            EmailError::Invalid.message(),
            "Must be a valid email address"
        );
        assert_eq!(
            EmailError::TooLong.to_string(),
            "Must be at most 254 characters"
        );
    }
}
