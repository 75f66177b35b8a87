//! UTC timestamps as ISO 8601 text with milliseconds (`2016-04-30T11:18:25.796Z`),
//! without a date library: the proleptic Gregorian calendar from days since 1970.

use std::io::{self, Write};

/// Writes Unix milliseconds `ms` as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn write_iso(out: &mut impl Write, ms: u64) -> io::Result<()> {
    let (y, mo, d, h, mi, s, milli) = parts(ms);
    write!(
        out,
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z"
    )
}

/// Unix milliseconds as ISO 8601 text.
pub fn iso(ms: u64) -> String {
    let mut v = Vec::with_capacity(24);
    // Writing to a Vec cannot fail.
    let _ = write_iso(&mut v, ms);
    String::from_utf8(v).unwrap_or_default()
}

/// `(year, month, day, hour, minute, second, millisecond)` of Unix milliseconds.
fn parts(ms: u64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let milli = (ms % 1000) as u32;
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = (secs % 86_400) as u32;
    let (y, mo, d) = civil_from_days(days);
    (y, mo, d, rem / 3600, rem % 3600 / 60, rem % 60, milli)
}

/// Year, month, day of the day `z` days after 1970-01-01, by counting 400-year eras
/// of 146 097 days from 0000-03-01 (so the leap day falls at the end of a year).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_462_015_105_796), "2016-04-30T11:18:25.796Z");
        assert_eq!(iso(1_704_067_200_000), "2024-01-01T00:00:00.000Z");
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn every_day_for_a_thousand_years_follows_the_previous_one() {
        let mut prev = civil_from_days(-1);
        for z in 0..366_000 {
            let next = civil_from_days(z);
            let (py, pm, pd) = prev;
            let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = match pm {
                2 if leap(py) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let expected = if pd < len {
                (py, pm, pd + 1)
            } else if pm < 12 {
                (py, pm + 1, 1)
            } else {
                (py + 1, 1, 1)
            };
            assert_eq!(next, expected, "day {z}");
            prev = next;
        }
    }
}
