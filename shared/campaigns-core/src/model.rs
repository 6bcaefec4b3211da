//! The subscriber's value types: a normalised, validated address
//! ([`SubscriberEmail`]), the two locales a subscriber reads ([`Locale`]) and
//! the three states of a subscription ([`SubscriberStatus`]). Everything
//! that stores, looks up or mails an address goes through
//! [`SubscriberEmail::parse`], so the blind index always sees one spelling.

/// Longest address, in characters (RFC 5321's path limit less the brackets).
pub const EMAIL_MAX: usize = 254;
/// Longest local part (before the `@`), in characters.
pub const LOCAL_MAX: usize = 64;
/// Longest domain label, in characters.
pub const LABEL_MAX: usize = 63;

/// The message of every malformed address.
pub const EMAIL_INVALID: &str = "Must be a valid email address";
/// The message of an address over [`EMAIL_MAX`].
pub const EMAIL_TOO_LONG: &str = "Must be at most 254 characters";

/// A subscriber's address: trimmed, lower-cased and checked (one `@`; a
/// local part of 1–64 characters without whitespace, control characters or
/// RFC 5322 specials; a domain of at least two labels of `[a-z0-9-]`; at
/// most 254 characters).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SubscriberEmail(String);

impl std::fmt::Debug for SubscriberEmail {
    /// Addresses stay out of debug output (and so out of logs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubscriberEmail(..)")
    }
}

impl SubscriberEmail {
    /// Normalises and validates `raw`; the error is the validation message.
    pub fn parse(raw: &str) -> Result<SubscriberEmail, &'static str> {
        let email = raw.trim().to_lowercase();
        if email.chars().count() > EMAIL_MAX {
            return Err(EMAIL_TOO_LONG);
        }
        let (local, domain) = email.split_once('@').ok_or(EMAIL_INVALID)?;
        let local_ok =
            (1..=LOCAL_MAX).contains(&local.chars().count()) && local.chars().all(is_local_char);
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                (1..=LABEL_MAX).contains(&label.len())
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        if local_ok && domain_ok {
            Ok(SubscriberEmail(email))
        } else {
            Err(EMAIL_INVALID)
        }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A character allowed in the local part: anything printable but
/// whitespace and the RFC 5322 specials (`@` included, so there is one).
fn is_local_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !"\"(),:;<>@[\\]".contains(c)
}

/// The locale of a subscriber's emails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    En,
    Vi,
}

/// Every locale, as written in requests and stored.
pub const LOCALES: [&str; 2] = ["en", "vi"];

impl Locale {
    /// `en` or `vi` (exact); anything else is `None`.
    pub fn parse(s: &str) -> Option<Locale> {
        match s {
            "en" => Some(Locale::En),
            "vi" => Some(Locale::Vi),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Vi => "vi",
        }
    }
}

/// Where a subscription stands: `pending` (waiting for its confirmation
/// link) → `confirmed` → `unsubscribed` (→ `pending` again on a new
/// subscribe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriberStatus {
    Pending,
    Confirmed,
    Unsubscribed,
}

/// Every status, as stored and as the admin list's `status` filter.
pub const STATUSES: [&str; 3] = ["pending", "confirmed", "unsubscribed"];

impl SubscriberStatus {
    /// The stored spelling (exact); anything else is `None`.
    pub fn parse(s: &str) -> Option<SubscriberStatus> {
        match s {
            "pending" => Some(SubscriberStatus::Pending),
            "confirmed" => Some(SubscriberStatus::Confirmed),
            "unsubscribed" => Some(SubscriberStatus::Unsubscribed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberStatus::Pending => "pending",
            SubscriberStatus::Confirmed => "confirmed",
            SubscriberStatus::Unsubscribed => "unsubscribed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        let e = SubscriberEmail::parse("  Ann.Lee+News@Example.COM \n").unwrap();
        assert_eq!(e.as_str(), "ann.lee+news@example.com");
        assert_eq!(format!("{e:?}"), "SubscriberEmail(..)");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@example",
            "a@@example.com",
            "a@b@example.com",
            "a b@example.com",
            "a\u{7}@example.com",
            "a@exa mple.com",
            "a@example..com",
            "a@.example.com",
            "a@example.com.",
            "a@exam_ple.com",
            "<a>@example.com",
            "a,b@example.com",
            "a@xn--b\u{fc}cher.de",
        ] {
            assert_eq!(SubscriberEmail::parse(bad), Err(EMAIL_INVALID), "{bad:?}");
        }
        let local = "a".repeat(65);
        assert_eq!(
            SubscriberEmail::parse(&format!("{local}@example.com")),
            Err(EMAIL_INVALID)
        );
        assert!(SubscriberEmail::parse(&format!("{}@example.com", "a".repeat(64))).is_ok());
    }

    #[test]
    fn addresses_longer_than_254_characters_are_refused() {
        let domain = format!(
            "{}.{}.{}.com",
            "d".repeat(63),
            "e".repeat(63),
            "f".repeat(60)
        );
        let ok = format!("{}@{domain}", "a".repeat(254 - 1 - domain.len()));
        assert_eq!(ok.len(), 254);
        assert!(SubscriberEmail::parse(&ok).is_ok());
        assert_eq!(
            SubscriberEmail::parse(&format!("a{ok}")),
            Err(EMAIL_TOO_LONG)
        );
    }

    #[test]
    fn locales_and_statuses_round_trip_and_refuse_others() {
        for l in LOCALES {
            assert_eq!(Locale::parse(l).map(Locale::as_str), Some(l));
        }
        assert_eq!(Locale::parse("EN"), None);
        assert_eq!(Locale::parse("fr"), None);
        for s in STATUSES {
            assert_eq!(
                SubscriberStatus::parse(s).map(SubscriberStatus::as_str),
                Some(s)
            );
        }
        assert_eq!(SubscriberStatus::parse("sent"), None);
    }
}
