//! Generators: IDs made without coordination, with uniqueness you can state precisely.
//!
//! | generator | makes | uniqueness rests on |
//! |---|---|---|
//! | [`SnowflakeGenerator`] | [`Snowflake`](crate::Snowflake) bodies, `msg-…` IDs | one atomic word per worker + a worker ID unique among live generators |
//! | [`HashIdGenerator`] | [`HashId`](crate::HashId) roots, `el-…` IDs | SHA-256 + an adaptive length + a [`CollisionCheck`] against the store |
//! | [`ProcessInstanceId::generate`] | `20250104-143052.847-12345-a7f3c92d` | millisecond time + pid + 32 random bits |
//! | [`InstanceKeyGenerator`] | [`InstanceKey`](crate::InstanceKey) `odin-PS-8f4a2b` | 24+ random-derived bits; the registry enforces uniqueness |
//! | [`WorkerFingerprint`] | a worker ID for a snowflake layout | a hash of host, pid, MAC and start time: probabilistic |
//!
//! Time comes from a [`Clock`]: [`SystemClock`] in production, [`ManualClock`] in tests
//! that need to step time backwards or freeze it.

pub(crate) mod calendar;
mod collision;
mod fingerprint;
mod hash;
mod key;
mod layout;
mod process;
mod snowflake;
mod source;
mod uuid7;

pub use collision::{CollisionCheck, MemoryCollisionCheck};
pub use fingerprint::WorkerFingerprint;
pub use hash::{
    HashGenerateError, HashGeneratorStats, HashIdGenerator, HashIdGeneratorBuilder, HashInput,
    birthday_probability, max_elements,
};
pub use key::{InstanceKeyGenerator, generate_hex_key};
pub use layout::{Layout, SnowflakeParts};
pub use process::ProcessInstanceId;
pub use snowflake::{SnowflakeBuilder, SnowflakeGenerator, SnowflakeStats};
pub use source::SnowflakeSource;
// For instance detection's `{hostname}-{random}` fallback.
pub(crate) use fingerprint::hostname;

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{IdError, ParseIdError};

/// A source of wall-clock time in milliseconds since the Unix epoch.
///
/// Generators read the clock on every ID, so an implementation should be cheap. It may
/// move backwards (NTP steps, VM migrations); the generators cope with that themselves.
///
/// ```
/// use typed_id::generator::{Clock, ManualClock};
///
/// let clock = ManualClock::new(1_735_689_600_000);
/// clock.advance_ms(5);
/// assert_eq!(clock.now_ms(), 1_735_689_600_005);
/// ```
pub trait Clock: Send + Sync {
    /// Milliseconds since 1970-01-01T00:00:00Z (0 for times before it).
    fn now_ms(&self) -> u64;
}

impl<C: Clock + ?Sized> Clock for &C {
    #[inline]
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    #[inline]
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
}

impl<C: Clock + ?Sized> Clock for Box<C> {
    #[inline]
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
}

/// The operating system's wall clock (`CLOCK_REALTIME` on Unix).
///
/// On Unix this calls `clock_gettime` directly and converts with integer arithmetic,
/// which is about a third cheaper than `SystemTime::now().duration_since(UNIX_EPOCH)`
/// and matters because a snowflake costs little more than one clock read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now_ms(&self) -> u64 {
        system_now_ms()
    }
}

#[cfg(unix)]
#[inline]
pub(crate) fn system_now_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_REALTIME is always supported;
    // clock_gettime writes only into `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    if rc != 0 || ts.tv_sec < 0 {
        return fallback_now_ms();
    }
    (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000
}

#[cfg(not(unix))]
#[inline]
pub(crate) fn system_now_ms() -> u64 {
    fallback_now_ms()
}

#[cold]
fn fallback_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis().min(u128::from(u64::MAX)) as u64)
}

/// Nanoseconds since the Unix epoch from the system clock (0 before it).
pub(crate) fn system_now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// A clock that only moves when told to: for tests of clock steps and sequence
/// exhaustion. Clones share the same time, so a test keeps a handle after giving one to
/// a generator.
///
/// ```
/// use typed_id::generator::{Layout, ManualClock, SnowflakeGenerator};
///
/// let clock = ManualClock::new(Layout::DEFAULT.epoch_ms() + 1_000);
/// let generator = SnowflakeGenerator::builder().worker(1).clock(clock.clone()).build()?;
/// let a = generator.next_snowflake()?;
/// clock.step_back_ms(5); // absorbed: within the default tolerance
/// let b = generator.next_snowflake()?;
/// assert!(b > a);
/// # Ok::<(), typed_id::GenerateError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock showing `unix_ms`.
    #[must_use]
    pub fn new(unix_ms: u64) -> Self {
        ManualClock {
            ms: Arc::new(AtomicU64::new(unix_ms)),
        }
    }

    /// A clock showing the current system time.
    #[must_use]
    pub fn now() -> Self {
        Self::new(system_now_ms())
    }

    /// Sets the time.
    pub fn set_ms(&self, unix_ms: u64) {
        self.ms.store(unix_ms, Ordering::SeqCst);
    }

    /// Moves the time forwards.
    pub fn advance_ms(&self, ms: u64) {
        self.ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Moves the time backwards (saturating at the Unix epoch).
    pub fn step_back_ms(&self, ms: u64) {
        let _ = self
            .ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_sub(ms))
            });
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now_ms(&self) -> u64 {
        self.ms.load(Ordering::SeqCst)
    }
}

/// Converts Unix milliseconds to a `SystemTime`.
pub(crate) fn system_time(unix_ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(unix_ms)
}

/// Why a generator could not produce an ID. New reasons may be added in minor releases.
///
/// ```
/// use typed_id::generator::{GenerateError, Layout, SnowflakeGenerator};
///
/// let err = SnowflakeGenerator::with_layout(Layout::DEFAULT, 1024).unwrap_err();
/// assert_eq!(err, GenerateError::WorkerOutOfRange { worker: 1024, max: 1023 });
/// assert_eq!(err.to_string(), "worker ID 1024 is out of range (0..=1023)");
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenerateError {
    /// The clock is behind the last issued timestamp by more than the tolerance. The
    /// generator refuses rather than risk a duplicate or sleep for long; retry later.
    ClockMovedBackwards {
        /// How far the clock is behind the last issued timestamp, in milliseconds.
        by_ms: u64,
        /// The configured tolerance in milliseconds.
        tolerance_ms: u64,
    },
    /// The clock reads earlier than the layout's epoch.
    ClockBeforeEpoch {
        /// The clock's reading, in Unix milliseconds.
        now_ms: u64,
        /// The layout's epoch, in Unix milliseconds.
        epoch_ms: u64,
    },
    /// The timestamp no longer fits the layout's timestamp bits (or a floor or time
    /// given to the generator is beyond that range).
    TimestampOverflow {
        /// The last Unix millisecond the layout can represent.
        max_ms: u64,
    },
    /// Every sequence number up to `timestamp_ms` has been issued and the clock did not
    /// advance within a few milliseconds of waiting (a frozen or far-behind clock).
    SequenceExhausted {
        /// The timestamp (Unix milliseconds) the generator would have moved to.
        timestamp_ms: u64,
    },
    /// The generator may not issue timestamps after `ceiling_ms` (set through
    /// [`SnowflakeGenerator::set_ceiling_ms`], e.g. by a worker lease that lapsed).
    CeilingReached {
        /// The ceiling, in Unix milliseconds.
        ceiling_ms: u64,
    },
    /// The worker ID does not fit the layout's worker bits.
    WorkerOutOfRange {
        /// The worker ID given.
        worker: u32,
        /// The largest worker ID of the layout.
        max: u32,
    },
    /// The process ID does not fit the layout's process bits.
    ProcessOutOfRange {
        /// The process ID given.
        process: u32,
        /// The largest process ID of the layout.
        max: u32,
    },
    /// A configuration value is out of range.
    InvalidConfig {
        /// What is wrong.
        reason: &'static str,
    },
    /// The operating system's random number generator failed.
    Entropy(EntropyError),
    /// The generated body does not fit the target type's options.
    Id(IdError),
    /// The project or type of an instance key breaks the key grammar.
    Key(ParseIdError),
}

impl fmt::Display for GenerateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GenerateError::ClockMovedBackwards {
                by_ms,
                tolerance_ms,
            } => write!(
                f,
                "clock moved backwards: it is {by_ms} ms behind the last issued timestamp \
                 (tolerance {tolerance_ms} ms)"
            ),
            GenerateError::ClockBeforeEpoch { now_ms, epoch_ms } => write!(
                f,
                "clock reads {now_ms} ms since 1970, before the layout's epoch {epoch_ms}"
            ),
            GenerateError::TimestampOverflow { max_ms } => write!(
                f,
                "timestamp does not fit the layout (its last millisecond is {max_ms} since 1970)"
            ),
            GenerateError::SequenceExhausted { timestamp_ms } => write!(
                f,
                "sequence exhausted up to {timestamp_ms} ms since 1970 and the clock did not advance"
            ),
            GenerateError::CeilingReached { ceiling_ms } => write!(
                f,
                "generator may not issue IDs after {ceiling_ms} ms since 1970 (worker lease lapsed?)"
            ),
            GenerateError::WorkerOutOfRange { worker, max } => {
                write!(f, "worker ID {worker} is out of range (0..={max})")
            }
            GenerateError::ProcessOutOfRange { process, max } => {
                write!(f, "process ID {process} is out of range (0..={max})")
            }
            GenerateError::InvalidConfig { reason } => {
                write!(f, "invalid generator configuration: {reason}")
            }
            GenerateError::Entropy(e) => write!(f, "no randomness available: {e}"),
            GenerateError::Id(e) => write!(f, "generated ID does not fit its type: {e}"),
            GenerateError::Key(e) => write!(f, "cannot build instance key: {e}"),
        }
    }
}

impl std::error::Error for GenerateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GenerateError::Entropy(e) => Some(e),
            GenerateError::Id(e) => Some(e),
            GenerateError::Key(e) => Some(e),
            _ => None,
        }
    }
}

/// The operating system's random number generator failed (wraps the `getrandom` error
/// without making it part of this crate's API).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntropyError(getrandom::Error);

impl fmt::Display for EntropyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for EntropyError {}

/// Fills `buf` from the operating system's random number generator.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), GenerateError> {
    getrandom::fill(buf).map_err(|e| GenerateError::Entropy(EntropyError(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_agrees_with_system_time() {
        let before = fallback_now_ms();
        let now = SystemClock.now_ms();
        let after = fallback_now_ms();
        assert!(
            before <= now && now <= after,
            "{before} <= {now} <= {after}"
        );
    }

    #[test]
    fn manual_clock_is_shared_and_saturates() {
        let a = ManualClock::new(10);
        let b = a.clone();
        b.advance_ms(5);
        assert_eq!(a.now_ms(), 15);
        a.step_back_ms(100);
        assert_eq!(b.now_ms(), 0);
        let shared: Arc<dyn Clock> = Arc::new(a.clone());
        a.set_ms(7);
        assert_eq!(shared.now_ms(), 7);
    }

    #[test]
    fn errors_display_and_source() {
        use std::error::Error as _;
        let e = GenerateError::ClockMovedBackwards {
            by_ms: 50,
            tolerance_ms: 10,
        };
        assert_eq!(
            e.to_string(),
            "clock moved backwards: it is 50 ms behind the last issued timestamp (tolerance 10 ms)"
        );
        assert!(e.source().is_none());
        let e = GenerateError::Id(IdError::Zero);
        assert!(e.source().is_some());
    }
}
