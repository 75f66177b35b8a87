//! [`ConnectOptions`]: the per-connection settings every store and the registry use, in
//! one vocabulary — how long to wait for another writer's lock, and when a commit must
//! have reached the disk ([`Synchronous`]).

use std::time::Duration;

/// When a commit has to have reached the disk before it returns: the one durability
/// knob of stores and the registry.
///
/// SQLite (always run in WAL mode) takes it as `PRAGMA synchronous`. The default is
/// [`Normal`](Synchronous::Normal): with one disk flush per commit,
/// [`Full`](Synchronous::Full) caps a store at what the disk can flush per second (about
/// 300 on the virtual disk the benchmarks ran on, against some 40 000 allocations per
/// second with `Normal`). Choose `Full` when a number must never repeat even after the
/// machine loses power.
///
/// PostgreSQL sessions always commit synchronously, whatever this says: every session
/// raises the server's `synchronous_commit` to `on` when it is `off` or `local` (a
/// stronger setting is kept), so a commit returns only once it is in the write-ahead
/// log on disk (and on synchronous standbys, if the server has any).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synchronous {
    /// Every commit is flushed to the disk before it returns: it survives a killed
    /// process, an OS crash and a power loss.
    Full,
    /// The log is flushed only at checkpoints: a commit survives a killed or crashed
    /// process (the operating system still has the data), but the last commits before
    /// an OS crash or power loss can be lost.
    #[default]
    Normal,
}

impl Synchronous {
    /// The value of SQLite's `PRAGMA synchronous`.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

/// How a connection is set up, for stores ([`SqlStore::open_with`]) and the registry
/// ([`RegistryOptions::connection`]).
///
/// - **busy timeout**: how long a statement waits for another connection's lock before
///   failing: SQLite's `busy_timeout` ("database is locked"), PostgreSQL's
///   `lock_timeout`. A SQLite store's own writes (allocations, [`SqlStore::write`])
///   wait in the store, trying again every few hundred microseconds: SQLite's handler
///   sleeps up to 100 ms between tries, and a writer in a tight loop takes the lock
///   back long before a sleeper wakes (4 processes allocating together: the longest
///   wait fell from seconds to milliseconds, `BENCHMARKS.md`).
/// - **synchronous**: when commits reach the disk, see [`Synchronous`].
/// - **checkpoint every**: how often a SQLite session checkpoints its log, see
///   [`checkpoint_every`](Self::checkpoint_every).
///
/// Every connection also runs SQLite in WAL mode with foreign keys on, and PostgreSQL
/// with synchronous commits.
///
/// [`SqlStore::open_with`]: crate::store::SqlStore::open_with
/// [`SqlStore::write`]: crate::store::SqlStore::write
/// [`RegistryOptions::connection`]: crate::instance::RegistryOptions::connection
///
/// ```
/// use std::time::Duration;
/// use typed_id::db::{ConnectOptions, Synchronous};
///
/// let options = ConnectOptions::new()
///     .busy_timeout(Duration::from_secs(5))
///     .synchronous(Synchronous::Full);
/// assert_ne!(options, ConnectOptions::default());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    pub(crate) busy_timeout: Duration,
    pub(crate) synchronous: Synchronous,
    pub(crate) checkpoint_every: u32,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            busy_timeout: Duration::from_secs(30),
            synchronous: Synchronous::Normal,
            checkpoint_every: 1024,
        }
    }
}

impl ConnectOptions {
    /// The defaults: a 30 s busy timeout, [`Synchronous::Normal`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How long a statement waits for another connection's lock before failing.
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// When commits reach the disk.
    #[must_use]
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// SQLite: how often a session copies its write-ahead log into the database file —
    /// after every `n`-th successful operation (default 1 024: allocations then cost
    /// what they did under SQLite's automatic checkpoint, `BENCHMARKS.md`; 0 counts as
    /// 1), and only once it has checked that its files are still the ones it opened.
    /// PostgreSQL ignores it.
    ///
    /// SQLite's own automatic checkpoint is off on the crate's connections: it runs
    /// inside the commit that fills the log, before the session can look at its files,
    /// and in a process whose `-wal` and `-shm` were deleted it copies that stale log
    /// over pages the processes that went on with new files rely on (numbers handed
    /// out again; see RELIABILITY.md).
    #[must_use]
    pub fn checkpoint_every(mut self, n: u32) -> Self {
        self.checkpoint_every = n.max(1);
        self
    }

    /// The busy timeout in milliseconds, as both engines' settings take it.
    pub(crate) fn busy_timeout_ms(&self) -> u128 {
        timeout_ms(self.busy_timeout)
    }
}

/// A duration in whole milliseconds, as SQLite's `busy_timeout` takes it.
pub(crate) fn timeout_ms(d: Duration) -> u128 {
    d.as_millis().min(i32::MAX as u128)
}
