//! [`ProcessInstanceId`]: one per process start, readable in logs
//! (`20250104-143052.847-12345-a7f3c92d`).
//!
//! It is not second-precision alone: it carries the millisecond, the pid and 32 random
//! bits. Older, second-precision IDs without the random part (`20250104-143052-12345`)
//! still parse, as a legacy form, and display as they were written.

use core::fmt;
use std::sync::OnceLock;

use super::calendar::{civil_from_days, days_from_civil, days_in_month};
use super::{GenerateError, fill_random, system_now_ms, system_now_ns, system_time};
use crate::error::{Expected, ParseErrorKind, ParseIdError};

/// Length of the legacy text form with a one-digit pid: `YYYYMMDD-HHMMSS-P`.
const MIN_TEXT: usize = 17;
/// Length of the text form with a ten-digit pid.
const MAX_TEXT: usize = 39;
/// 9999-12-31T23:59:59.999Z: the last instant with a four-digit year.
const MAX_UNIX_MS: i64 = 253_402_300_799_999;
/// 0000-01-01T00:00:00.000Z: the first.
const MIN_UNIX_MS: i64 = -62_167_219_200_000;
const NAME: &str = "ProcessInstanceId";

/// The identity of one process run: UTC time to the millisecond, pid, and 32 random
/// bits, e.g. `20250104-143052.847-12345-a7f3c92d`.
///
/// Readable in a log line and sortable by start time, yet unique: two processes started
/// in the same millisecond with the same pid (containers restarting, pid namespaces)
/// still differ with probability 1 − 2⁻³².
///
/// IDs written before the millisecond and the random part were added,
/// `YYYYMMDD-HHMMSS-PID` (`20250104-143052-12345`), parse as a **legacy** form: the
/// time to the second and the pid, [`is_legacy`](Self::is_legacy) true, random part 0,
/// and displayed exactly as they were written. A legacy ID never equals a current one,
/// and sorts after a current ID of the same millisecond, pid and random part.
/// [`generate`](Self::generate) never makes legacy IDs.
///
/// ```
/// use typed_id::generator::ProcessInstanceId;
///
/// let id = ProcessInstanceId::from_parts(1_736_001_052_847, 12345, 0xa7f3_c92d)?;
/// assert_eq!(id.to_string(), "20250104-143052.847-12345-a7f3c92d");
/// assert_eq!("20250104-143052.847-12345-a7f3c92d".parse::<ProcessInstanceId>()?, id);
///
/// // This process's own ID, made once.
/// let me = ProcessInstanceId::current();
/// assert_eq!(me.pid(), std::process::id());
///
/// // An ID from before milliseconds and random bits: read and written back unchanged.
/// let old: ProcessInstanceId = "20250104-143052-12345".parse()?;
/// assert!(old.is_legacy());
/// assert_eq!((old.unix_ms(), old.pid()), (1_736_001_052_000, 12345));
/// assert_eq!(old.to_string(), "20250104-143052-12345");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcessInstanceId {
    unix_ms: i64,
    pid: u32,
    random: u32,
    /// The second-precision form without a random part, `YYYYMMDD-HHMMSS-PID`.
    legacy: bool,
}

impl ProcessInstanceId {
    /// A fresh ID: now, this process's pid, 32 bits from the OS random generator.
    ///
    /// # Errors
    /// [`GenerateError::Entropy`] when the OS has no randomness to give.
    pub fn generate() -> Result<Self, GenerateError> {
        let mut random = [0u8; 4];
        fill_random(&mut random)?;
        Self::from_parts(
            i64::try_from(system_now_ms()).unwrap_or(i64::MAX),
            std::process::id(),
            u32::from_be_bytes(random),
        )
    }

    /// This process's ID, generated on first use and the same afterwards. Should the
    /// OS random generator fail, the random part falls back to bits of the nanosecond
    /// clock.
    #[must_use]
    pub fn current() -> Self {
        static CURRENT: OnceLock<ProcessInstanceId> = OnceLock::new();
        *CURRENT.get_or_init(|| {
            Self::generate().unwrap_or_else(|_| {
                let ns = system_now_ns();
                ProcessInstanceId {
                    unix_ms: i64::try_from(system_now_ms())
                        .unwrap_or(i64::MAX)
                        .min(MAX_UNIX_MS),
                    pid: std::process::id(),
                    random: (ns ^ (ns >> 32)) as u32,
                    legacy: false,
                }
            })
        })
    }

    /// An ID from its parts.
    ///
    /// # Errors
    /// [`GenerateError::InvalidConfig`] when `unix_ms` (milliseconds since the Unix
    /// epoch, negative before it) is outside the years 0000 to 9999 (the text has a
    /// four-digit year).
    pub fn from_parts(unix_ms: i64, pid: u32, random: u32) -> Result<Self, GenerateError> {
        if !(MIN_UNIX_MS..=MAX_UNIX_MS).contains(&unix_ms) {
            return Err(GenerateError::InvalidConfig {
                reason: "process instance time must be within the years 0000 to 9999",
            });
        }
        Ok(ProcessInstanceId {
            unix_ms,
            pid,
            random,
            legacy: false,
        })
    }

    /// A legacy, second-precision ID (`20250104-143052-12345`): `unix_s` seconds since
    /// the Unix epoch and the pid, no random part. For tests and migrations; new IDs
    /// come from [`generate`](Self::generate).
    ///
    /// # Errors
    /// [`GenerateError::InvalidConfig`] outside the years 0000 to 9999.
    pub fn from_legacy_parts(unix_s: i64, pid: u32) -> Result<Self, GenerateError> {
        let unix_ms = unix_s
            .checked_mul(1000)
            .filter(|ms| (MIN_UNIX_MS..=MAX_UNIX_MS).contains(ms))
            .ok_or(GenerateError::InvalidConfig {
                reason: "process instance time must be within the years 0000 to 9999",
            })?;
        Ok(ProcessInstanceId {
            unix_ms,
            pid,
            random: 0,
            legacy: true,
        })
    }

    /// Parses the text form: exactly what `Display` writes is accepted, the current
    /// form `YYYYMMDD-HHMMSS.mmm-PID-RRRRRRRR` and the legacy `YYYYMMDD-HHMMSS-PID`.
    ///
    /// # Errors
    /// A [`ParseIdError`] naming the byte at fault.
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        let err = |index, kind| ParseIdError::new(NAME, s, index, kind);
        if s.is_empty() {
            return Err(err(0, ParseErrorKind::Empty));
        }
        if s.len() > MAX_TEXT {
            return Err(err(
                0,
                ParseErrorKind::TooLong {
                    len: s.len(),
                    max: MAX_TEXT,
                },
            ));
        }
        let b = s.as_bytes();
        let fixed = |at: usize, width: usize| -> Result<u64, ParseIdError> {
            let mut v = 0u64;
            for i in at..at + width {
                match b.get(i) {
                    Some(d @ b'0'..=b'9') => v = v * 10 + u64::from(d - b'0'),
                    _ => return Err(at_char(s, i, Expected::Digit)),
                }
            }
            Ok(v)
        };
        let sep = |at: usize, c: u8, expected: Expected| -> Result<(), ParseIdError> {
            if b.get(at) == Some(&c) {
                Ok(())
            } else {
                Err(at_char(s, at, expected))
            }
        };
        let year = fixed(0, 4)?;
        let month = fixed(4, 2)?;
        let day = fixed(6, 2)?;
        sep(8, b'-', Expected::Dash)?;
        let hour = fixed(9, 2)?;
        let minute = fixed(11, 2)?;
        let second = fixed(13, 2)?;
        let legacy = match b.get(15) {
            Some(b'.') => false,
            Some(b'-') => true,
            _ => return Err(at_char(s, 15, Expected::DotOrDash)),
        };
        let (milli, pid_at) = if legacy {
            (0, 16)
        } else {
            let milli = fixed(16, 3)?;
            sep(19, b'-', Expected::Dash)?;
            (milli, 20)
        };
        let range = |at: usize, v: u64, lo: u64, hi: u64| {
            if v < lo {
                Err(err(at, ParseErrorKind::ZeroNumber))
            } else if v > hi {
                Err(err(at, ParseErrorKind::Overflow { max: hi }))
            } else {
                Ok(())
            }
        };
        range(4, month, 1, 12)?;
        range(6, day, 1, days_in_month(year, month))?;
        range(9, hour, 0, 23)?;
        range(11, minute, 0, 59)?;
        range(13, second, 0, 59)?;

        // The pid: canonical decimal (no leading zero), at most u32::MAX.
        let pid_len = b[pid_at..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if pid_len == 0 {
            return Err(at_char(s, pid_at, Expected::Digit));
        }
        if b[pid_at] == b'0' && pid_len > 1 {
            return Err(err(pid_at, ParseErrorKind::LeadingZero));
        }
        let pid = fixed(pid_at, pid_len.min(11))?;
        let Ok(pid) = u32::try_from(pid) else {
            return Err(err(
                pid_at,
                ParseErrorKind::Overflow {
                    max: u64::from(u32::MAX),
                },
            ));
        };
        let dash = pid_at + pid_len;
        let days = days_from_civil(year as i64, month as u32, day as u32);
        let in_day = (hour * 3600 + minute * 60 + second) * 1000 + milli;
        let unix_ms = days * 86_400_000 + in_day as i64;
        if legacy {
            // Nothing after the pid: a digit was expected, or the end.
            if dash != b.len() {
                return Err(at_char(s, dash, Expected::Digit));
            }
            return Ok(ProcessInstanceId {
                unix_ms,
                pid,
                random: 0,
                legacy: true,
            });
        }
        sep(dash, b'-', Expected::Dash)?;
        let hex_at = dash + 1;
        let hex = &b[hex_at..];
        if let Some(i) = hex
            .iter()
            .position(|c| !matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(at_char(s, hex_at + i, Expected::HexDigit));
        }
        if hex.len() != 8 {
            return Err(err(
                hex_at,
                ParseErrorKind::KeyLength {
                    len: hex.len(),
                    expected: 8,
                },
            ));
        }
        let random = hex.iter().fold(0u32, |acc, &c| {
            (acc << 4) | (c as char).to_digit(16).unwrap_or(0)
        });

        debug_assert!((MIN_TEXT..=MAX_TEXT).contains(&s.len()));
        Ok(ProcessInstanceId {
            unix_ms,
            pid,
            random,
            legacy: false,
        })
    }

    /// Start time in milliseconds since the Unix epoch.
    #[must_use]
    pub fn unix_ms(&self) -> i64 {
        self.unix_ms
    }

    /// Start time.
    #[must_use]
    pub fn timestamp(&self) -> std::time::SystemTime {
        match u64::try_from(self.unix_ms) {
            Ok(ms) => system_time(ms),
            Err(_) => {
                std::time::UNIX_EPOCH
                    - std::time::Duration::from_millis(self.unix_ms.unsigned_abs())
            }
        }
    }

    /// The process ID.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The random part (0 for a legacy ID).
    #[must_use]
    pub fn random(&self) -> u32 {
        self.random
    }

    /// Whether this is the legacy, second-precision form `YYYYMMDD-HHMMSS-PID`, which
    /// has no millisecond and no random part.
    #[must_use]
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }
}

#[cold]
fn at_char(s: &str, index: usize, expected: Expected) -> ParseIdError {
    let kind = match s.get(index..).and_then(|rest| rest.chars().next()) {
        Some(found) => ParseErrorKind::UnexpectedChar { found, expected },
        None => ParseErrorKind::UnexpectedEnd { expected },
    };
    ParseIdError::new(NAME, s, index, kind)
}

impl fmt::Display for ProcessInstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.unix_ms.div_euclid(1000);
        let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
        let rem = secs.rem_euclid(86_400);
        if self.legacy {
            return write!(
                f,
                "{y:04}{mo:02}{d:02}-{:02}{:02}{:02}-{}",
                rem / 3600,
                rem / 60 % 60,
                rem % 60,
                self.pid
            );
        }
        write!(
            f,
            "{y:04}{mo:02}{d:02}-{:02}{:02}{:02}.{:03}-{}-{:08x}",
            rem / 3600,
            rem / 60 % 60,
            rem % 60,
            self.unix_ms.rem_euclid(1000),
            self.pid,
            self.random
        )
    }
}

impl fmt::Debug for ProcessInstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProcessInstanceId(\"{self}\")")
    }
}

impl core::str::FromStr for ProcessInstanceId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProcessInstanceId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds_are_the_ends_of_years_0_and_9999() {
        assert_eq!(MAX_UNIX_MS, (days_from_civil(9999, 12, 31) + 1) * 86_400_000 - 1);
        assert_eq!(MIN_UNIX_MS, days_from_civil(0, 1, 1) * 86_400_000);
    }

    #[test]
    fn display_parse_round_trip() {
        for (ms, pid, rnd) in [
            (0, 1, 0),
            (1_736_001_052_847, 12_345, 0xa7f3_c92d),
            (951_782_400_000, u32::MAX, u32::MAX), // 2000-02-29
            (MAX_UNIX_MS, 4_000_000, 1),
            (MIN_UNIX_MS, 7, 7),
            (-1, 2, 3), // 1969-12-31T23:59:59.999Z
        ] {
            let id = ProcessInstanceId::from_parts(ms, pid, rnd).unwrap();
            let text = id.to_string();
            assert_eq!(ProcessInstanceId::parse(&text), Ok(id), "{text}");
        }
        assert_eq!(
            ProcessInstanceId::from_parts(0, 1, 0).unwrap().to_string(),
            "19700101-000000.000-1-00000000"
        );
        assert_eq!(
            ProcessInstanceId::from_parts(-1, 2, 3).unwrap().to_string(),
            "19691231-235959.999-2-00000003"
        );
        assert!(ProcessInstanceId::from_parts(MAX_UNIX_MS + 1, 1, 1).is_err());
        assert!(ProcessInstanceId::from_parts(MIN_UNIX_MS - 1, 1, 1).is_err());
    }

    #[test]
    fn parse_rejects_non_canonical_text() {
        let ok = "20250104-143052.847-12345-a7f3c92d";
        assert!(ProcessInstanceId::parse(ok).is_ok());
        for (bad, index) in [
            ("", 0),
            ("2025010-143052.847-12345-a7f3c92d", 7),
            ("20251304-143052.847-12345-a7f3c92d", 4),
            ("20250230-143052.847-12345-a7f3c92d", 6),
            ("20250100-143052.847-12345-a7f3c92d", 6),
            ("20250104-243052.847-12345-a7f3c92d", 9),
            ("20250104-146052.847-12345-a7f3c92d", 11),
            ("20250104-143060.847-12345-a7f3c92d", 13),
            ("20250104-143052,847-12345-a7f3c92d", 15),
            ("20250104-143052.84-12345-a7f3c92d", 18),
            ("20250104-143052.847-012345-a7f3c92d", 20),
            ("20250104-143052.847--a7f3c92d", 20),
            ("20250104-143052.847-4294967296-a7f3c92d", 20),
            ("20250104-143052.847-12345-A7F3C92D", 26),
            ("20250104-143052.847-12345-a7f3c92", 26),
            ("20250104-143052.847-12345-a7f3c92d0", 26),
            ("20250104-143052.847-12345", 25),
            ("20250104-143052.847-12345-a7f3c92d-and-more-text", 0),
        ] {
            let err = ProcessInstanceId::parse(bad).unwrap_err();
            assert_eq!(err.index(), index, "{bad}: {err}");
            assert_eq!(err.type_name(), "ProcessInstanceId");
        }
        assert!(ProcessInstanceId::parse("2024022900-000000.000-1-00000000").is_err());
        assert!(ProcessInstanceId::parse("20240229-000000.000-1-00000000").is_ok());
        assert!(ProcessInstanceId::parse("20230229-000000.000-1-00000000").is_err());
    }

    #[test]
    fn generated_ids_are_current_and_distinct() {
        let a = ProcessInstanceId::generate().unwrap();
        let b = ProcessInstanceId::generate().unwrap();
        assert_ne!(a, b, "32 random bits");
        assert_eq!(a.pid(), std::process::id());
        let age = system_now_ms() as i64 - a.unix_ms();
        assert!(age < 60_000);
        assert_eq!(ProcessInstanceId::current(), ProcessInstanceId::current());
    }

    #[test]
    fn a_thousand_ids_in_a_tight_loop_are_distinct() {
        let ids: Vec<ProcessInstanceId> = (0..1000)
            .map(|_| ProcessInstanceId::generate().unwrap())
            .collect();
        let distinct: std::collections::HashSet<_> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), ids.len());
        // Their text too: what a log line shows.
        let texts: std::collections::HashSet<String> =
            ids.iter().map(ToString::to_string).collect();
        assert_eq!(texts.len(), ids.len());
        assert!(ids.iter().all(|id| !id.is_legacy()));
    }

    #[test]
    fn legacy_second_precision_ids_parse_and_display_as_written() {
        for text in [
            "20250104-143052-12345",
            "19700101-000000-1",
            "20240229-235959-4294967295",
            "99991231-235959-0",
        ] {
            let id = ProcessInstanceId::parse(text).unwrap();
            assert!(id.is_legacy(), "{text}");
            assert_eq!(id.random(), 0);
            assert_eq!(id.unix_ms() % 1000, 0);
            assert_eq!(id.to_string(), text);
            assert_eq!(format!("{id:?}"), format!("ProcessInstanceId(\"{text}\")"));
        }
        let old = ProcessInstanceId::parse("20250104-143052-12345").unwrap();
        assert_eq!(old.unix_ms(), 1_736_001_052_000);
        assert_eq!(old.pid(), 12345);
        assert_eq!(
            ProcessInstanceId::from_legacy_parts(1_736_001_052, 12345),
            Ok(old)
        );
        assert!(ProcessInstanceId::from_legacy_parts(i64::MAX, 1).is_err());
        assert!(ProcessInstanceId::from_legacy_parts(MAX_UNIX_MS / 1000 + 1, 1).is_err());
        // Never equal to a current ID of the same instant and pid.
        let current = ProcessInstanceId::from_parts(1_736_001_052_000, 12345, 0).unwrap();
        assert_ne!(old, current);
        assert_eq!(current.to_string(), "20250104-143052.000-12345-00000000");
        assert!(old > current);

        // Hostile legacy-looking text: the byte at fault.
        for (bad, index) in [
            ("20250104-143052-", 16),
            ("20250104-143052-012345", 16),
            ("20250104-143052-4294967296", 16),
            ("20250104-143052-12345-", 21),
            ("20250104-143052-12345-a7f3c92d", 21),
            ("20250104-143052-12345 ", 21),
            ("20250104-143052-12345\n", 21),
            ("20250104-143052-+12345", 16),
            ("20250104-143052_12345", 15),
            ("20250104-143052", 15),
            ("20250104-246052-12345", 9),
            ("20250230-143052-12345", 6),
            ("20250104-143052-1234567890123", 16),
        ] {
            let err = ProcessInstanceId::parse(bad).unwrap_err();
            assert_eq!(err.index(), index, "{bad}: {err}");
            assert_eq!(err.type_name(), "ProcessInstanceId");
        }
        let err = ProcessInstanceId::parse("20250104-143052_12345").unwrap_err();
        assert!(err.to_string().contains("'.' or '-'"), "{err}");
    }
}
