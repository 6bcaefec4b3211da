//! A campaign on the wire: what the admin routes answer (a campaign with its
//! live delivery counts) and what staff send to create, change and test one.
//! The campaigns worker writes and reads these exact types (unknown fields
//! refused) and the console reads and writes them, so the two cannot drift.
use serde::{Deserialize, Deserializer, Serialize};

/// `Some(x)` for a present value (also `null`), `None` when absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Where a campaign is in its life. `Draft` and `Scheduled` can still be
/// changed; `Sending` and `Paused` are delivering (a paused one resumes by
/// itself); `Sent` and `Cancelled` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignStatus {
    Draft,
    Scheduled,
    Sending,
    Paused,
    Sent,
    Cancelled,
}

impl CampaignStatus {
    /// Every status, in the order of a campaign's life.
    pub const ALL: [CampaignStatus; 6] = [
        CampaignStatus::Draft,
        CampaignStatus::Scheduled,
        CampaignStatus::Sending,
        CampaignStatus::Paused,
        CampaignStatus::Sent,
        CampaignStatus::Cancelled,
    ];
    /// Every status's stored name, in the same order.
    pub const NAMES: [&'static str; 6] = [
        CampaignStatus::ALL[0].as_str(),
        CampaignStatus::ALL[1].as_str(),
        CampaignStatus::ALL[2].as_str(),
        CampaignStatus::ALL[3].as_str(),
        CampaignStatus::ALL[4].as_str(),
        CampaignStatus::ALL[5].as_str(),
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Scheduled => "scheduled",
            CampaignStatus::Sending => "sending",
            CampaignStatus::Paused => "paused",
            CampaignStatus::Sent => "sent",
            CampaignStatus::Cancelled => "cancelled",
        }
    }

    /// The status stored as `name`.
    pub fn parse(name: &str) -> Option<CampaignStatus> {
        CampaignStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the campaign's texts and schedule can still be changed.
    pub fn is_editable(self) -> bool {
        matches!(self, CampaignStatus::Draft | CampaignStatus::Scheduled)
    }

    /// Whether emails are (or may again be) leaving.
    pub fn is_delivering(self) -> bool {
        matches!(self, CampaignStatus::Sending | CampaignStatus::Paused)
    }

    /// Whether a cancel still changes something.
    pub fn is_cancellable(self) -> bool {
        self.is_editable() || self.is_delivering()
    }
}

/// A text in each language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localised {
    pub en: String,
    pub vi: String,
}

/// A text in each language, as changed: a language absent stays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalisedPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vi: Option<String>,
}

/// The delivery ledger's counts of a campaign, live. `pending` is every row
/// not yet final (waiting or in flight); `skipped` a recipient who left
/// before their turn; `cancelled` a row the campaign's cancel stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignCounts {
    pub total: i64,
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    pub skipped: i64,
    #[serde(default)]
    pub cancelled: i64,
}

/// `GET /admin/campaigns/{id}` (and every mutation's `data`). In the list,
/// `body` is absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    pub id: String,
    pub status: CampaignStatus,
    pub subject: Localised,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Localised>,
    pub scheduled_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub paused_until: Option<String>,
    pub counts: CampaignCounts,
}

/// `POST /admin/campaigns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CampaignInput {
    pub subject: Localised,
    pub body: Localised,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<String>,
}

/// `PATCH /admin/campaigns/{id}`: only what changes. `scheduledAt` absent
/// keeps the schedule, `null` makes the campaign a draft, a time schedules
/// it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CampaignPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<LocalisedPatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<LocalisedPatch>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub scheduled_at: Option<Option<String>>,
}

/// `POST /admin/campaigns/{id}/test`: the campaign as one recipient in
/// `locale` would get it, sent to `email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSendInput {
    pub email: String,
    pub locale: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_tells_an_absent_schedule_from_a_cleared_one() {
        let absent: CampaignPatch = serde_json::from_str(r#"{"subject":{"en":"Hi"}}"#).unwrap();
        assert_eq!(absent.scheduled_at, None);
        assert_eq!(absent.subject.unwrap().vi, None);
        let cleared: CampaignPatch = serde_json::from_str(r#"{"scheduledAt":null}"#).unwrap();
        assert_eq!(cleared.scheduled_at, Some(None));
        assert_eq!(
            serde_json::to_string(&cleared).unwrap(),
            r#"{"scheduledAt":null}"#
        );
    }

    #[test]
    fn every_status_reads_back_from_its_stored_name() {
        for (s, name) in CampaignStatus::ALL.iter().zip(CampaignStatus::NAMES) {
            assert_eq!(s.as_str(), name);
            assert_eq!(CampaignStatus::parse(name), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), name);
        }
        assert_eq!(CampaignStatus::parse("done"), None);
    }

    #[test]
    fn unknown_fields_of_a_test_send_are_refused() {
        assert!(
            serde_json::from_str::<TestSendInput>(r#"{"email":"a@b.c","locale":"en","bcc":"x"}"#)
                .is_err()
        );
    }
}
