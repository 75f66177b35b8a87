//! [`Session`]: one connection shared by the threads of a store or registry, checked and
//! re-established as needed, with a SQLite file watched for replacement.
//!
//! The rule that keeps numbers and leases safe: a session replaces its connection only
//! *before* sending anything of the caller's on it — when it was found broken by the
//! check before an operation ([`DbConnection::ready`]), or marked broken by a previous
//! operation's failure. A statement whose answer was lost is never sent again.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use diesel::result::Error as DieselError;

use super::engine::DbConnection;
use super::error::DbError;
use super::file_identity::FileWatch;
use super::reconnect::{ConnectionStats, ReconnectPolicy};
use crate::trace::event;

/// Makes a new connection, set up like the first.
pub(crate) type Connector<C> = Box<dyn Fn() -> Result<C, DbError> + Send + Sync>;

/// When a session looks at its connection before an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Before every operation ([`DbConnection::ready`]: one round trip on PostgreSQL):
    /// a connection the server ended is replaced and the operation goes on (stores,
    /// whose callers should not see a restart they could not have caused).
    EveryUse,
    /// Only after a failure that broke the connection: the failed operation reports
    /// it, the next one reconnects (the registry, whose heartbeats retry anyway).
    AfterFailure,
}

/// A shared connection: see the module docs.
///
/// A SQLite session whose file was deleted or replaced never closes its connection (it
/// is left open until the process exits): closing the last connection to a database in
/// WAL mode checkpoints its log into the file it has open and then deletes the `-wal`
/// and `-shm` *by path*, and those paths now name the new database's log and index, in
/// use by other processes. Deleting them would lose their committed numbers.
pub(crate) struct Session<C> {
    /// Dropped in [`Drop`] unless the file was replaced.
    conn: ManuallyDrop<Mutex<C>>,
    /// The connection must be replaced before its next use.
    broken: AtomicBool,
    connect: Option<Connector<C>>,
    policy: ReconnectPolicy,
    check: Check,
    /// SQLite: the database's files as opened.
    watch: Option<FileWatch>,
    /// How long a write waits for the lock ([`Session::waiting_for_lock`]); `None`
    /// for a connection the caller set up (its own busy handler decides).
    lock_wait: Option<Duration>,
    /// SQLite WAL files: checkpoint after every this many checked operations
    /// ([`ConnectOptions::checkpoint_every`](super::ConnectOptions::checkpoint_every)).
    checkpoint_every: u32,
    /// Operations checked since the last checkpoint.
    since_checkpoint: AtomicU32,
    counters: Counters,
}

/// The atomics behind [`ConnectionStats`]; each moves only when something went wrong.
#[derive(Debug, Default)]
struct Counters {
    lost: AtomicU64,
    reconnects: AtomicU64,
    failed_attempts: AtomicU64,
    gave_up: AtomicU64,
    file_replaced: AtomicBool,
}

impl<C: DbConnection> Session<C> {
    /// A session on `conn` (already set up), reconnecting with `connect` when given.
    ///
    /// # Errors
    /// The session check's or the file lookup's [`DbError`].
    pub(crate) fn new(
        mut conn: C,
        connect: Option<Connector<C>>,
        check: Check,
    ) -> Result<Self, DbError> {
        conn.ready().map_err(DbError::db("prepare the session"))?;
        let watch = match conn
            .database_file()
            .map_err(DbError::db("find the database file"))?
        {
            Some((path, wal)) => FileWatch::new(&path, wal)?,
            None => None,
        };
        Ok(Session {
            conn: ManuallyDrop::new(Mutex::new(conn)),
            broken: AtomicBool::new(false),
            connect,
            policy: ReconnectPolicy::default(),
            check,
            watch,
            lock_wait: None,
            checkpoint_every: super::ConnectOptions::default().checkpoint_every,
            since_checkpoint: AtomicU32::new(0),
            counters: Counters::default(),
        })
    }

    /// Checkpoints after every `n` checked operations (SQLite WAL files only).
    pub(crate) fn set_checkpoint_every(&mut self, n: u32) {
        self.checkpoint_every = n.max(1);
    }

    /// Writes wait up to `wait` for the database's lock (the configured busy timeout).
    pub(crate) fn set_lock_wait(&mut self, wait: Duration) {
        self.lock_wait = Some(wait);
    }

    /// How long writes wait for the database's lock, when the session decides.
    pub(crate) fn lock_wait(&self) -> Option<Duration> {
        self.lock_wait
    }

    /// Runs `op` on `conn` as [`DbConnection::waiting_for_lock`] does, up to the
    /// session's lock wait; once when it has none.
    pub(crate) fn waiting_for_lock<T, E>(
        &self,
        conn: &mut C,
        busy: fn(&E) -> bool,
        mut op: impl FnMut(&mut C) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DieselError>,
    {
        match self.lock_wait {
            Some(wait) => conn.waiting_for_lock(wait, busy, op),
            None => op(conn),
        }
    }

    /// Reconnects under `policy` from now on.
    pub(crate) fn set_policy(&mut self, policy: ReconnectPolicy) {
        self.policy = policy;
    }

    /// A SQLite database's files (main, and `-wal` and `-shm` in WAL mode) with their
    /// (device, inode) when opened; empty when nothing is watched.
    pub(crate) fn watched_files(&self) -> Vec<(PathBuf, (u64, u64))> {
        self.watch
            .as_ref()
            .map(FileWatch::files)
            .unwrap_or_default()
    }

    /// The connection as it is (not checked). A connection left inside a transaction by
    /// a panic is rolled back first, or marked for replacement if that fails.
    pub(crate) fn lock(&self) -> MutexGuard<'_, C> {
        match self.conn.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                let mut guard = poisoned.into_inner();
                if !guard.roll_back_all() {
                    self.broken.store(true, Ordering::Relaxed);
                }
                self.conn.clear_poison();
                guard
            }
        }
    }

    /// The connection, checked (see [`Check`]) and replaced if it is broken, ready for
    /// one operation.
    ///
    /// # Errors
    /// [`DbError::FileReplaced`], [`DbError::Unreachable`], [`DbError::Disconnected`].
    pub(crate) fn acquire(&self) -> Result<MutexGuard<'_, C>, DbError> {
        if let Some(watch) = &self.watch {
            self.noticed(watch.check_known())?;
        }
        let mut conn = self.lock();
        let found = if self.broken.load(Ordering::Relaxed) {
            // Replaced whatever the check says (a transaction manager left broken
            // passes it); the check's error, if any, says best why.
            conn.ready()
                .err()
                .unwrap_or(DieselError::BrokenTransactionManager)
        } else if self.check == Check::EveryUse {
            // Any failure of this trivial statement means the session is unusable:
            // libpq reports a server gone away as anything from `ClosedConnection` to
            // an `Unknown` error without SQLSTATE, depending on whether the write or the
            // read noticed first. A new session also clears a transaction someone left
            // aborted.
            match conn.ready() {
                Ok(()) => return Ok(conn),
                Err(e) => e,
            }
        } else {
            return Ok(conn);
        };
        let backend = conn.backend().name();
        self.counters.lost.fetch_add(1, Ordering::Relaxed);
        event!(
            db,
            WARN,
            "database connection lost: reconnecting",
            backend,
            error = %found,
            can_reconnect = self.connect.is_some(),
        );
        let Some(connect) = &self.connect else {
            return Err(DbError::Disconnected { source: found });
        };
        // Never connect to another file than the one the session opened.
        self.check_file()?;
        // Nothing of this operation was sent on the broken connection: connecting again
        // and going on cannot repeat a number.
        let started = Instant::now();
        let attempts = Cell::new(0_u32);
        let attempt = || {
            attempts.set(attempts.get() + 1);
            let result = connect();
            if let Err(error) = &result {
                self.counters
                    .failed_attempts
                    .fetch_add(1, Ordering::Relaxed);
                event!(
                    db,
                    DEBUG,
                    "database reconnect attempt failed",
                    backend,
                    attempt = attempts.get(),
                    error = %error,
                );
            }
            result
        };
        let waited_ms = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match self.policy.connect(&attempt) {
            Ok(new) => {
                *conn = new;
                self.counters.reconnects.fetch_add(1, Ordering::Relaxed);
                event!(
                    db,
                    INFO,
                    "database reconnected",
                    backend,
                    attempts = attempts.get(),
                    waited_ms = waited_ms(),
                );
            }
            Err(e) => {
                self.counters.gave_up.fetch_add(1, Ordering::Relaxed);
                event!(
                    db,
                    ERROR,
                    "database unreachable: gave up reconnecting",
                    backend,
                    attempts = attempts.get(),
                    waited_ms = waited_ms(),
                    error = %e,
                );
                return Err(e);
            }
        }
        self.broken.store(false, Ordering::Relaxed);
        Ok(conn)
    }

    /// What the session has been through (see [`ConnectionStats`]).
    pub(crate) fn stats(&self) -> ConnectionStats {
        let c = &self.counters;
        ConnectionStats {
            connections_lost: c.lost.load(Ordering::Relaxed),
            reconnects: c.reconnects.load(Ordering::Relaxed),
            failed_attempts: c.failed_attempts.load(Ordering::Relaxed),
            gave_up: c.gave_up.load(Ordering::Relaxed),
            file_replaced: u64::from(c.file_replaced.load(Ordering::Relaxed)),
        }
    }

    /// Counts and reports the first time the database file was found replaced.
    fn noticed(&self, checked: Result<(), DbError>) -> Result<(), DbError> {
        if let Err(e @ DbError::FileReplaced { .. }) = &checked
            && !self.counters.file_replaced.swap(true, Ordering::Relaxed)
        {
            let path = self.watch.as_ref().map(|w| w.path().display().to_string());
            event!(
                db,
                ERROR,
                "database file deleted or replaced under the open connection",
                path = path.unwrap_or_default(),
                error = %e,
            );
        }
        checked
    }

    /// Runs one operation on [`acquire`](Self::acquire)'s connection. On success, checks
    /// that a SQLite database file is still the one the session opened before the
    /// result is handed out; on failure, marks the connection for replacement when
    /// `breaks` says the error broke it or a transaction was left open.
    pub(crate) fn run<T, E>(
        &self,
        f: impl FnOnce(&mut C) -> Result<T, E>,
        breaks: impl FnOnce(&E) -> bool,
    ) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let mut conn = self.acquire()?;
        match f(&mut conn) {
            Ok(value) => {
                self.checked(&mut conn)?;
                Ok(value)
            }
            Err(e) => {
                let broke = breaks(&e);
                self.after_failure(&mut conn, broke);
                drop(conn);
                // A file deleted or replaced under the connection makes SQLite fail in
                // many ways ("disk I/O error", "readonly database", ...): the
                // replacement is the cause the caller can act on.
                self.check_file()?;
                Err(e)
            }
        }
    }

    /// Marks the connection for replacement after a failed operation when `broke` (the
    /// error broke it) or a transaction was left open.
    pub(crate) fn after_failure(&self, conn: &mut C, broke: bool) {
        if broke || !conn.outside_transaction() {
            self.broken.store(true, Ordering::Relaxed);
        }
    }

    /// After a successful operation on `conn`: fails if the database's files were
    /// replaced ([`check_file`](Self::check_file)); otherwise checkpoints the log when
    /// one is due. Only here, after the check: a checkpoint copies the log this
    /// connection has open into the database file, and a log deleted under it is stale;
    /// copied in, it would overwrite pages the processes that went on with new files
    /// read from the file (SQLite's automatic checkpoint, which would run inside the
    /// commit, is off).
    pub(crate) fn checked(&self, conn: &mut C) -> Result<(), DbError> {
        self.check_file()?;
        if self.watch.is_some() {
            let n = self.since_checkpoint.fetch_add(1, Ordering::Relaxed) + 1;
            if n >= self.checkpoint_every {
                self.since_checkpoint.store(0, Ordering::Relaxed);
                // One that cannot finish (readers, a lock) is taken up by the next; the
                // log only grows meanwhile.
                if let Err(error) = conn.checkpoint() {
                    event!(db, DEBUG, "checkpoint failed", error = %error);
                }
            }
        }
        Ok(())
    }

    /// Fails if the SQLite database file at the path is not the one the session opened
    /// (nothing to check elsewhere).
    pub(crate) fn check_file(&self) -> Result<(), DbError> {
        match &self.watch {
            Some(watch) => self.noticed(watch.check()),
            None => Ok(()),
        }
    }
}

impl<C> Drop for Session<C> {
    fn drop(&mut self) {
        // Looked at afresh: the session may not have run anything since the change.
        if let Some(watch) = &self.watch
            && let Err(e) = watch.check()
        {
            // Left open on purpose: see the type's docs.
            watch.leave_open();
            event!(
                db,
                WARN,
                "database file replaced: its connection stays open until the process exits",
                path = watch.path().display().to_string(),
                error = %e,
            );
            return;
        }
        // SAFETY: `conn` is dropped once, here, and `self` is not used afterwards.
        unsafe { ManuallyDrop::drop(&mut self.conn) }
    }
}

impl<C> std::fmt::Debug for Session<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("connection", &core::any::type_name::<C>())
            .field("reconnects", &self.connect.is_some())
            .field("policy", &self.policy)
            .field("check", &self.check)
            .field("watch", &self.watch)
            .finish_non_exhaustive()
    }
}

/// Whether a diesel error means the connection cannot be used again.
pub(crate) fn breaks_connection(e: &DieselError) -> bool {
    use diesel::result::DatabaseErrorKind;
    matches!(
        e,
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        ) | DieselError::BrokenTransactionManager
    )
}
