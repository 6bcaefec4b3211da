//! The clock port and RFC 3339 formatting/parsing (UTC, no chrono).
//!
//! Time is always injected: domain code reads [`Clock::now_ms`], never the
//! system clock. Timestamps stored in D1 are RFC 3339 UTC strings with second
//! precision (`2026-11-23T12:00:00Z`), produced by [`rfc3339`]; they sort
//! lexically in time order for years 0000–9999.

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

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: `(year, month 1–12, day 1–31)`.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `ms` as RFC 3339 UTC with second precision (`2026-11-23T12:00:00Z`);
/// sub-second digits are truncated toward the past.
pub fn rfc3339(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let secs_of_day = ms.rem_euclid(MS_PER_DAY) / 1000;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60
    )
}

/// Parses RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`) to Unix ms.
///
/// Accepts `Z`/`z`, `+00:00` and any other numeric offset (converted to UTC);
/// fractional seconds are truncated to milliseconds. Returns `None` for
/// anything else, including impossible dates (`2023-02-29`) and leap
/// seconds (`:60`).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0_i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let lit = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));

    let year = num(0, 4)?;
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    let hour = num(11, 2)?;
    let minute = num(14, 2)?;
    let second = num(17, 2)?;
    if !(lit(4, b"-") && lit(7, b"-") && lit(10, b"Tt") && lit(13, b":") && lit(16, b":")) {
        return None;
    }
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }

    let mut i = 19;
    let mut frac_ms = 0;
    if lit(i, b".") {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let mut scale = 100;
        for &c in &b[start..i.min(start + 3)] {
            frac_ms += i64::from(c - b'0') * scale;
            scale /= 10;
        }
    }

    let offset_min = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && lit(i + 3, b":") => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 60 + om;
            if *sign == b'-' { -off } else { off }
        }
        _ => return None,
    };

    let local_ms = days_from_civil(year, month, day) * MS_PER_DAY
        + ((hour * 60 + minute) * 60 + second) * 1000
        + frac_ms;
    Some(local_ms - offset_min * 60_000)
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

    #[test]
    fn every_day_for_eight_centuries_round_trips() {
        let start = days_from_civil(1600, 1, 1);
        let end = days_from_civil(2400, 12, 31);
        for day in start..=end {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
            let ms = day * MS_PER_DAY + 45_296_000; // 12:34:56
            assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms));
        }
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
