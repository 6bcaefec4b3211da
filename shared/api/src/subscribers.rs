//! Subscribers on the wire, for admins: an item of the list, and an import
//! of people who agreed elsewhere with what it did. The campaigns worker
//! writes these exact types and the console reads them.
use serde::{Deserialize, Serialize};

/// An item of `GET /admin/subscribers`. `email` is `null` only if the
/// stored address does not open (another `CAMPAIGNS_KEY`, a damaged row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriberItem {
    pub id: String,
    pub email: Option<String>,
    pub locale: String,
    pub status: String,
    pub created_at: String,
    pub confirmed_at: Option<String>,
}

/// `POST /admin/subscribers/import`: a CSV with a header row naming an
/// `email` column (and optionally `locale`), and how these people agreed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportInput {
    pub csv: String,
    pub consent: String,
}

/// A row an import refused, by its line in the file (the header is 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    pub line: u64,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// New subscribers, confirmed.
    pub imported: u64,
    /// Addresses the site already had, left as they were.
    pub existing: u64,
    /// Rows repeating an address earlier in the file.
    pub duplicates: u64,
    /// Rows refused, and the first hundred of them.
    pub rejected_count: u64,
    pub rejected: Vec<RejectedRow>,
}
