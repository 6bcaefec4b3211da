//! The clock port and RFC 3339 formatting/parsing (UTC; the calendar is
//! chrono's).
//!
//! Time is always injected: domain code reads [`Clock::now_ms`], never the
//! system clock. Timestamps stored in D1 are RFC 3339 UTC strings with second
//! precision (`2026-11-23T12:00:00Z`), produced by [`rfc3339`]; they sort
//! lexically in time order for years 0000–9999.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Clock port: Unix time in milliseconds.
pub trait Clock {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_ms(&self) -> i64;

    /// Whole seconds since the epoch (floor, also before 1970).
    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now_ms(&self) -> i64 {
        (**self).now_ms()
    }
}

/// `ms` as RFC 3339 UTC with second precision (`2026-11-23T12:00:00Z`);
/// sub-second digits are truncated toward the past. Instants beyond the
/// calendar's range (about ±262,000 years) are written as its first or last
/// second.
pub fn rfc3339(ms: i64) -> String {
    let t = DateTime::from_timestamp_millis(ms).unwrap_or(if ms < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    });
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`) to Unix ms.
///
/// Accepts `Z`/`z`, `+00:00` and any other numeric offset (converted to UTC);
/// fractional seconds are truncated to milliseconds. Returns `None` for
/// anything else, including impossible dates (`2023-02-29`) and leap
/// seconds (`:60`).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    // chrono also reads a space for the `T`, U+2212 for the offset's minus
    // and a leap second (as a nanosecond count past one second): refused.
    if !s.is_ascii() || !matches!(s.as_bytes().get(10), Some(b'T' | b't')) {
        return None;
    }
    let t = DateTime::parse_from_rfc3339(s).ok()?;
    (t.nanosecond() < 1_000_000_000).then(|| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[(&str, i64)] = &[
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", -1000),
        ("2026-11-23T12:00:00Z", 1_795_435_200_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
        ("2000-02-29T23:59:59Z", 951_868_799_000),
        ("1900-03-01T00:00:00Z", -2_203_891_200_000),
        ("2100-03-01T00:00:00Z", 4_107_542_400_000),
        ("2038-01-19T03:14:08Z", 2_147_483_648_000),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000),
        ("9999-12-31T23:59:59Z", 253_402_300_799_000),
    ];

    #[test]
    fn formats_known_instants_including_leap_days_and_1970() {
        for &(text, ms) in KNOWN {
            assert_eq!(rfc3339(ms), text, "{ms}");
        }
    }

    #[test]
    fn parses_known_instants_including_leap_days_and_1970() {
        for &(text, ms) in KNOWN {
            assert_eq!(parse_rfc3339(text), Some(ms), "{text}");
        }
    }

    #[test]
    fn formatting_truncates_milliseconds_toward_the_past() {
        assert_eq!(rfc3339(999), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(1_795_435_200_999), "2026-11-23T12:00:00Z");
    }

    const MS_PER_DAY: i64 = 86_400_000;

    #[test]
    fn every_day_for_eight_centuries_round_trips() {
        // Day -135,140 is 1600-01-01; each next day is the calendar's next date.
        let mut date = chrono::NaiveDate::from_ymd_opt(1600, 1, 1).unwrap();
        for day in -135_140..=157_419 {
            let ms = day * MS_PER_DAY + 45_296_000; // 12:34:56
            assert_eq!(rfc3339(ms), format!("{date}T12:34:56Z"));
            assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms));
            date = date.succ_opt().unwrap();
        }
        assert_eq!(date.to_string(), "2401-01-01");
    }

    #[test]
    fn parses_offsets_and_fractional_seconds() {
        let base = 1_795_435_200_000;
        assert_eq!(parse_rfc3339("2026-11-23T12:00:00+00:00"), Some(base));
        assert_eq!(parse_rfc3339("2026-11-23T12:00:00z"), Some(base));
        assert_eq!(parse_rfc3339("2026-11-23T12:00:00.5Z"), Some(base + 500));
        assert_eq!(
            parse_rfc3339("2026-11-23T12:00:00.123456789Z"),
            Some(base + 123)
        );
        assert_eq!(parse_rfc3339("2026-11-23T19:00:00+07:00"), Some(base));
        assert_eq!(parse_rfc3339("2026-11-23T11:30:00-00:30"), Some(base));
    }

    #[test]
    fn rejects_malformed_and_impossible_timestamps() {
        for bad in [
            "",
            "2026-11-23",
            "2026-11-23T12:00:00",
            "2026-11-23 12:00:00Z",
            "2026-11-23T12:00:00.Z",
            "2026-11-23T12:00:00ZZ",
            "2026-11-23T12:00:00+0000",
            "2026-11-23T12:00:00+24:00",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T12:60:00Z",
            "2026-11-23T12:00:60Z",
            "2026-11-23T12:00:0xZ",
            "+026-11-23T12:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    struct Fixed(i64);

    impl Clock for Fixed {
        fn now_ms(&self) -> i64 {
            self.0
        }
    }

    #[test]
    fn now_secs_floors_also_before_1970() {
        assert_eq!(Fixed(1999).now_secs(), 1);
        assert_eq!(Fixed(-1).now_secs(), -1);
        fn secs_of(c: impl Clock) -> i64 {
            c.now_secs()
        }
        let fixed = Fixed(5000);
        let by_ref: &Fixed = &fixed;
        assert_eq!(secs_of(by_ref), 5);
    }
}
