//! The clock and the contract's time format (RFC 3339 UTC) as the
//! scenarios read and write it.
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Parses an RFC 3339 UTC time (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the
/// contract's time format) to Unix seconds.
pub fn parse_rfc3339_utc(s: &str) -> Option<i64> {
    s.ends_with('Z')
        .then(|| sealpost_ports::parse_rfc3339(s))
        .flatten()
        .map(|ms| ms.div_euclid(1000))
}

/// Unix seconds as RFC 3339 UTC, the form the contract's time fields take.
pub fn rfc3339_utc(secs: u64) -> String {
    sealpost_ports::rfc3339(i64::try_from(secs).expect("time fits") * 1000)
}

/// The Unix seconds of an RFC 3339 time; panics when it is not one.
pub fn unix_secs_of(s: &str) -> u64 {
    u64::try_from(sealpost_ports::parse_rfc3339(s).expect("rfc3339") / 1000).expect("positive")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_timestamps_parse_to_unix_seconds() {
        assert_eq!(parse_rfc3339_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_utc("2024-02-29T12:34:56Z"),
            Some(1_709_210_096)
        );
        assert_eq!(
            parse_rfc3339_utc("2024-02-29T12:34:56.789Z"),
            Some(1_709_210_096)
        );
        assert_eq!(parse_rfc3339_utc("2024-02-29 12:34:56Z"), None);
        assert_eq!(parse_rfc3339_utc("2024-02-29T12:34:56"), None);
        assert_eq!(parse_rfc3339_utc("2024-13-01T00:00:00Z"), None);
    }
}
