//! The local half of a worker lease's fence: a snowflake generator that issues only
//! before a deadline on the monotonic clock, stops for good when the lease ends, and
//! counts calls in flight so a release can record the exact high-water mark.
//!
//! The other half, the ceiling at the recorded high-water mark, lives in the
//! [`SnowflakeGenerator`] itself (see [`WorkerLease`](super::WorkerLease)).

use core::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::body::Snowflake;
use crate::db::file_identity;
use crate::generator::{
    Clock, GenerateError, Layout, SnowflakeGenerator, SnowflakeParts, SnowflakeSource, SystemClock,
};
use crate::typed::{TypedId, try_from_body};

/// Why a [`LeasedGenerator`] issued no ID. New reasons may be added in minor releases.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueError {
    /// The lease was not renewed in time (database unreachable, process paused): no ID
    /// is issued until a renewal succeeds or a new lease is acquired.
    LeaseLapsed {
        /// The worker ID.
        worker: u32,
        /// How long ago the local deadline passed.
        ago: Duration,
    },
    /// The lease was released or lost to another holder; acquire a new one.
    LeaseEnded {
        /// The worker ID.
        worker: u32,
    },
    /// The generator itself refused (clock far behind, sequence exhausted, or the
    /// high-water ceiling reached).
    Generate(GenerateError),
}

impl fmt::Display for IssueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssueError::LeaseLapsed { worker, ago } => write!(
                f,
                "the lease on worker ID {worker} lapsed {} ms ago; refusing to issue IDs \
                 until it is renewed",
                ago.as_millis()
            ),
            IssueError::LeaseEnded { worker } => write!(
                f,
                "the lease on worker ID {worker} was released or lost; acquire a new one"
            ),
            IssueError::Generate(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for IssueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IssueError::Generate(e) => Some(e),
            _ => None,
        }
    }
}

impl From<GenerateError> for IssueError {
    fn from(e: GenerateError) -> Self {
        IssueError::Generate(e)
    }
}

/// Nanoseconds on the monotonic clock since the first call in this process (never 0).
pub(crate) fn mono_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    let base = *BASE.get_or_init(Instant::now);
    u64::try_from(Instant::now().saturating_duration_since(base).as_nanos())
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

/// The local half of the fence: a monotonic deadline, an "ended" flag, and a count of
/// calls in flight (so a release can wait for them and record the exact high-water).
#[derive(Debug)]
struct Fence {
    /// `mono_ns()` after which no ID may be issued; 0 when never valid.
    deadline_ns: AtomicU64,
    ended: AtomicBool,
    active: AtomicU64,
}

/// A snowflake generator bound to a [`WorkerLease`](super::WorkerLease): it issues IDs only while the
/// lease is valid, and never above the high-water mark the lease recorded.
///
/// Cheap to share (`Arc`) across threads. Each call checks the monotonic clock and two
/// atomics before the generator's own compare-and-swap.
pub struct LeasedGenerator<C: Clock = SystemClock> {
    inner: SnowflakeGenerator<C>,
    fence: Fence,
    file: Option<FileGuard>,
}

/// How often a generator leased from a SQLite registry checks that the files at their
/// paths are still the ones its lease is in (at most once per this many nanoseconds, on
/// the call that finds the last check older).
const FILE_CHECK_NS: u64 = 1_000_000;

/// The SQLite registry files a lease lives in (the database, and its `-wal` and `-shm`
/// in WAL mode: with those deleted, a successor reads the lease from the file alone),
/// and when they were last seen at their paths.
#[derive(Debug)]
struct FileGuard {
    files: Vec<(PathBuf, (u64, u64))>,
    checked_ns: AtomicU64,
}

impl<C: Clock> LeasedGenerator<C> {
    /// Wraps `inner`; it issues nothing until [`extend_deadline`](Self::extend_deadline).
    /// `files`: the SQLite registry files (path, device and inode) the lease is in
    /// (none elsewhere); the generator ends for good once another file (or none) is at
    /// one of those paths, so a process leasing from the files now there cannot meet
    /// its IDs.
    pub(crate) fn new(inner: SnowflakeGenerator<C>, files: Vec<(PathBuf, (u64, u64))>) -> Self {
        LeasedGenerator {
            inner,
            fence: Fence {
                deadline_ns: AtomicU64::new(0),
                ended: AtomicBool::new(false),
                active: AtomicU64::new(0),
            },
            file: (!files.is_empty()).then(|| FileGuard {
                files,
                checked_ns: AtomicU64::new(mono_ns()),
            }),
        }
    }

    /// The generator inside (for the lease: its clock, high-water mark and ceiling).
    pub(crate) fn inner(&self) -> &SnowflakeGenerator<C> {
        &self.inner
    }

    /// Moves the deadline to `deadline_ns` ([`mono_ns`] time) unless it is already later.
    pub(crate) fn extend_deadline(&self, deadline_ns: u64) {
        self.fence
            .deadline_ns
            .fetch_max(deadline_ns, Ordering::AcqRel);
    }

    /// The next ID as a bare [`Snowflake`].
    ///
    /// # Errors
    /// [`IssueError::LeaseLapsed`] past the local deadline, [`IssueError::LeaseEnded`]
    /// after release or loss, [`IssueError::Generate`] for the generator's own errors.
    #[inline]
    pub fn next_snowflake(&self) -> Result<Snowflake, IssueError> {
        // SeqCst pairs with `drain`: a call that misses `ended` is counted before it.
        self.fence.active.fetch_add(1, Ordering::SeqCst);
        let result = self.issue();
        self.fence.active.fetch_sub(1, Ordering::SeqCst);
        result
    }

    #[inline]
    fn issue(&self) -> Result<Snowflake, IssueError> {
        if self.fence.ended.load(Ordering::SeqCst) {
            return Err(IssueError::LeaseEnded {
                worker: self.inner.worker(),
            });
        }
        let now = mono_ns();
        let deadline = self.fence.deadline_ns.load(Ordering::Acquire);
        if now >= deadline {
            return Err(self.lapsed(now, deadline));
        }
        if let Some(file) = &self.file
            && now.saturating_sub(file.checked_ns.load(Ordering::Relaxed)) >= FILE_CHECK_NS
            && !self.file_still_there(file, now)
        {
            return Err(IssueError::LeaseEnded {
                worker: self.inner.worker(),
            });
        }
        Ok(self.inner.next_snowflake()?)
    }

    /// Whether the registry files are still at their paths; ends the lease if not.
    #[cold]
    fn file_still_there(&self, file: &FileGuard, now: u64) -> bool {
        if file
            .files
            .iter()
            .all(|(path, identity)| file_identity(path) == Some(*identity))
        {
            file.checked_ns.fetch_max(now, Ordering::Relaxed);
            true
        } else {
            self.fence.ended.store(true, Ordering::SeqCst);
            false
        }
    }

    #[cold]
    fn lapsed(&self, now: u64, deadline: u64) -> IssueError {
        // The lease may have ended since `issue` looked: report the lasting reason.
        if self.fence.ended.load(Ordering::SeqCst) {
            return IssueError::LeaseEnded {
                worker: self.inner.worker(),
            };
        }
        IssueError::LeaseLapsed {
            worker: self.inner.worker(),
            ago: Duration::from_nanos(now.saturating_sub(deadline)),
        }
    }

    /// The next ID as a derived type.
    ///
    /// # Errors
    /// As [`next_snowflake`](Self::next_snowflake), and [`IssueError::Generate`] with
    /// [`GenerateError::Id`] when the ID does not fit the type.
    #[inline]
    pub fn generate<T: TypedId<Body = Snowflake>>(&self) -> Result<T, IssueError> {
        let body = self.next_snowflake()?;
        try_from_body::<T>(body).map_err(|e| IssueError::Generate(GenerateError::Id(e)))
    }

    /// The leased worker ID.
    #[must_use]
    pub fn worker(&self) -> u32 {
        self.inner.worker()
    }

    /// Whether the lease is currently valid (IDs may be issued).
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.remaining().is_some()
    }

    /// Time left until the local deadline, `None` once lapsed or ended.
    #[must_use]
    pub fn remaining(&self) -> Option<Duration> {
        if self.fence.ended.load(Ordering::SeqCst) {
            return None;
        }
        let left = self
            .fence
            .deadline_ns
            .load(Ordering::Acquire)
            .checked_sub(mono_ns())?;
        (left > 0).then(|| Duration::from_nanos(left))
    }

    /// The newest timestamp issued (see [`SnowflakeGenerator::high_water_ms`]).
    #[must_use]
    pub fn high_water_ms(&self) -> u64 {
        self.inner.high_water_ms()
    }

    /// The layout.
    #[must_use]
    pub fn layout(&self) -> &Layout {
        self.inner.layout()
    }

    /// Splits an ID into its fields.
    #[must_use]
    pub fn decompose(&self, id: Snowflake) -> SnowflakeParts {
        self.inner.decompose(id)
    }

    /// Ends issuing for good and waits (up to `wait`) for calls in flight; returns
    /// whether none is left, i.e. whether `high_water_ms` is now final.
    pub(crate) fn end_and_drain(&self, wait: Duration) -> bool {
        self.fence.ended.store(true, Ordering::SeqCst);
        let started = Instant::now();
        loop {
            if self.fence.active.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if started.elapsed() > wait {
                return false;
            }
            std::thread::yield_now();
        }
    }
}

/// A leased generator is a snowflake source like a plain one: derived types'
/// `generate(&source)` take it, and fail with its [`IssueError`].
impl<C: Clock> SnowflakeSource for LeasedGenerator<C> {
    type Error = IssueError;

    #[inline]
    fn next_snowflake(&self) -> Result<Snowflake, IssueError> {
        LeasedGenerator::next_snowflake(self)
    }
}

impl<C: Clock> fmt::Debug for LeasedGenerator<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeasedGenerator")
            .field("generator", &self.inner)
            .field("remaining", &self.remaining())
            .finish()
    }
}
