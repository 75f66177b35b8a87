//! What a connection must do for the layer: [`DbConnection`] (what a session needs) and
//! [`Engine`] (one of diesel's connections, as the layer connects and sets it up), and
//! the transaction helpers both engines share.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, Connection};
use diesel::result::{Error as DieselError, QueryResult};

use super::backend::Backend;
use super::error::{DbError, lock_timed_out};
use super::options::{ConnectOptions, Synchronous};
use super::url::Target;

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A connection a session (`db/session.rs`) can hold: one of diesel's (see [`Engine`]) or the
/// registry's [`AnyConnection`](super::AnyConnection). Sealed; its methods are the layer's own.
pub trait DbConnection: Send + sealed::Sealed + 'static {
    /// The engine it talks to.
    #[doc(hidden)]
    fn backend(&self) -> Backend;

    /// Checks that the session is alive and set up (PostgreSQL: one round trip that
    /// also raises `synchronous_commit`; SQLite: nothing, a file does not disconnect).
    #[doc(hidden)]
    fn ready(&mut self) -> QueryResult<()>;

    /// The main database file and whether it runs in WAL mode (SQLite, file-backed),
    /// to notice when the file at that path is replaced.
    #[doc(hidden)]
    fn database_file(&mut self) -> QueryResult<Option<(PathBuf, bool)>>;

    /// Applies the crate's pending embedded migrations under the lock; how many ran.
    #[doc(hidden)]
    fn migrate(&mut self) -> Result<usize, DbError>;

    /// Whether no transaction is open and the transaction manager is sound.
    #[doc(hidden)]
    fn outside_transaction(&mut self) -> bool;

    /// Rolls back every open transaction; `false` when that failed.
    #[doc(hidden)]
    fn roll_back_all(&mut self) -> bool;

    /// Copies the write-ahead log into the database file as far as readers allow,
    /// without waiting (SQLite's `wal_checkpoint(PASSIVE)`); nothing elsewhere.
    #[doc(hidden)]
    fn checkpoint(&mut self) -> QueryResult<()> {
        Ok(())
    }

    /// Runs `op`, whose first statement takes the write lock (a single write, or
    /// `BEGIN IMMEDIATE`) and so fails before it changes anything when the lock is
    /// taken, waiting for the lock up to `wait`: `op` runs again while it fails with an
    /// error `busy` accepts. On SQLite the wait happens here, polling every few hundred
    /// microseconds, instead of in SQLite's busy handler, which sleeps up to 100 ms
    /// between tries and so can lose the lock for many seconds to writers in a tight
    /// loop. Elsewhere (PostgreSQL queues lock waiters) `op` runs once.
    #[doc(hidden)]
    fn waiting_for_lock<T, E, F>(
        &mut self,
        wait: Duration,
        busy: fn(&E) -> bool,
        op: F,
    ) -> Result<T, E>
    where
        Self: Sized,
        F: FnMut(&mut Self) -> Result<T, E>,
        E: From<DieselError>,
    {
        let (_, _, mut op) = (wait, busy, op);
        op(self)
    }

    /// Runs `f` with commits that reach the disk before they return: on SQLite under
    /// `synchronous = FULL` (restored to `NORMAL` afterwards unless `base` already is
    /// [`Synchronous::Full`]); a PostgreSQL session always commits that way.
    #[doc(hidden)]
    fn durably<T, E, F>(&mut self, base: Synchronous, f: F) -> Result<T, E>
    where
        Self: Sized,
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<DieselError>;
}

/// One of diesel's connections, as the layer sets it up: `SqliteConnection` (feature
/// `sqlite`) or `PgConnection` (feature `postgres`). Sealed.
pub trait Engine:
    DbConnection + Connection<TransactionManager = AnsiTransactionManager> + Sized
{
    /// The engine.
    #[doc(hidden)]
    const BACKEND: Backend;

    /// Connects with the driver's connection string (a parsed [`Target`]'s) and sets
    /// the session up with `options`.
    #[doc(hidden)]
    fn connect(conninfo: &str, options: &ConnectOptions) -> Result<Self, DbError>;

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE` on SQLite, so two writers
    /// never deadlock upgrading read locks; a plain transaction on PostgreSQL, whose
    /// statements lock the rows they touch), or in a savepoint inside an open one.
    #[doc(hidden)]
    fn write_transaction<R, E, F>(&mut self, f: F) -> Result<R, E>
    where
        F: FnOnce(&mut Self) -> Result<R, E>,
        E: From<DieselError>;
}

/// Parses `url` for engine `E` and connects.
pub(crate) fn connect<E: Engine>(url: &str, options: &ConnectOptions) -> Result<E, DbError> {
    let target = Target::parse_for(url, E::BACKEND)?;
    E::connect(target.conninfo(), options)
}

/// [`Engine::write_transaction`], with a SQLite write lock waited for as
/// [`DbConnection::waiting_for_lock`] does, up to `wait`. `f` runs once: only the
/// `BEGIN IMMEDIATE`, which fails before anything happens, is tried again.
pub(crate) fn write_transaction_waiting<C, R, E, F>(
    conn: &mut C,
    wait: Duration,
    f: F,
) -> Result<R, E>
where
    C: Engine,
    F: FnOnce(&mut C) -> Result<R, E>,
    E: From<DieselError>,
{
    use diesel::connection::TransactionManager as _;
    if C::BACKEND != Backend::Sqlite || !outside(conn) {
        return conn.write_transaction(f);
    }
    conn.waiting_for_lock(wait, lock_timed_out, |c| {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
    })?;
    // As diesel's own transactions end.
    match f(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match AnsiTransactionManager::rollback_transaction(conn) {
            Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Whether the transaction manager of `conn` has no open transaction.
pub(super) fn outside<C: Connection<TransactionManager = AnsiTransactionManager>>(
    conn: &mut C,
) -> bool {
    use diesel::connection::TransactionManager as _;
    matches!(
        AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth(),
        Ok(None)
    )
}

/// Rolls back every open transaction of `conn`; `false` when that failed.
pub(super) fn roll_back<C: Connection<TransactionManager = AnsiTransactionManager>>(
    conn: &mut C,
) -> bool {
    use diesel::connection::TransactionManager as _;
    loop {
        match AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth() {
            Ok(None) => return true,
            Ok(Some(_)) => {
                if AnsiTransactionManager::rollback_transaction(conn).is_err() {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
}
