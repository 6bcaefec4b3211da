//! [`SiteId`]: the validated id of a site, as stored in `sites.id` and bound
//! as `?1` of every site-scoped statement.

use std::fmt;

use crate::error::PortError;
use crate::sql::SqlValue;

/// A validated site id: 1–32 characters of `[a-z0-9-]`, starting with
/// `[a-z0-9]` (the `sites.id` CHECK in migration 0001).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct SiteId(String);

/// The input is not a valid site id (the input is not echoed: it may be an
/// arbitrary request header).
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
#[error("invalid site id: expected 1-32 characters of [a-z0-9-] starting with [a-z0-9]")]
pub struct InvalidSiteId;

impl From<InvalidSiteId> for PortError {
    fn from(e: InvalidSiteId) -> Self {
        PortError::Decode(e.to_string())
    }
}

impl SiteId {
    /// Longest accepted site id.
    pub const MAX_LEN: usize = 32;

    /// Validates `s`.
    pub fn parse(s: &str) -> Result<SiteId, InvalidSiteId> {
        let b = s.as_bytes();
        let valid = (1..=Self::MAX_LEN).contains(&b.len())
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter()
                .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
        if valid {
            Ok(SiteId(s.to_owned()))
        } else {
            Err(InvalidSiteId)
        }
    }

    /// The site every install starts with (seeded by migration 0001).
    pub fn default_site() -> SiteId {
        SiteId("default".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SiteId {
    type Error = InvalidSiteId;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SiteId> for String {
    fn from(s: SiteId) -> String {
        s.0
    }
}

impl From<&SiteId> for SqlValue {
    fn from(s: &SiteId) -> SqlValue {
        SqlValue::Text(s.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_ids_follow_the_sites_table_check() {
        for ok in ["default", "a", "0", "my-site", "a-", &"x".repeat(32)] {
            assert_eq!(
                SiteId::parse(ok).map(|s| s.as_str().to_owned()),
                Ok(ok.to_owned())
            );
        }
        for bad in ["", "-a", "A", "a_b", "a.b", "a b", "é", &"x".repeat(33)] {
            assert_eq!(SiteId::parse(bad), Err(InvalidSiteId), "{bad:?}");
        }
        assert_eq!(SiteId::default_site().as_str(), "default");
    }

    #[test]
    fn site_ids_deserialize_only_when_valid() {
        let s: SiteId = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"abc\"");
        assert!(serde_json::from_str::<SiteId>("\"ABC\"").is_err());
    }
}
