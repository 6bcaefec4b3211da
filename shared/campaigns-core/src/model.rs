//! The subscriber's own value type: the three states of a subscription
//! ([`SubscriberStatus`]). A subscriber's address is a [`sealpost_api::Email`]
//! and its language a [`sealpost_api::Locale`], the types every service
//! shares: everything that stores, looks up or mails an address parses it
//! with [`sealpost_api::Email::parse`], so the blind index always sees one
//! spelling.

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
    fn statuses_round_trip_and_refuse_others() {
        for s in STATUSES {
            assert_eq!(
                SubscriberStatus::parse(s).map(SubscriberStatus::as_str),
                Some(s)
            );
        }
        assert_eq!(SubscriberStatus::parse("sent"), None);
    }
}
