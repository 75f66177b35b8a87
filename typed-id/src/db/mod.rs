//! The one database layer: every connection the crate makes to SQLite or PostgreSQL —
//! the stores' ([`SqlStore`](crate::store::SqlStore)) and the registry's and its
//! leases' ([`Registry`](crate::instance::Registry)) — is opened, set up, checked,
//! re-established and migrated here.
//!
//! - **URLs**: `postgres://…`, `postgresql://…` and libpq `key=value` strings are
//!   PostgreSQL; `sqlite://path`, `file:` URIs and plain paths are SQLite.
//! - **Per-connection settings**, one vocabulary for every user ([`ConnectOptions`]):
//!   the busy timeout (SQLite `busy_timeout`, PostgreSQL `lock_timeout`) and when
//!   commits reach the disk ([`Synchronous`]). SQLite always runs in WAL mode with
//!   foreign keys on; PostgreSQL sessions always commit synchronously
//!   (`synchronous_commit` raised to `on` from `off` or `local`).
//! - **Reconnecting** under a [`ReconnectPolicy`]: a connection found broken is
//!   replaced before anything of the caller's is sent on it, never after (a statement
//!   whose answer was lost is not sent again). SQLite database files deleted or
//!   replaced under an open connection are noticed and refused.
//! - **Migrations** embedded from `typed-id/migrations/{sqlite,postgres}/` (every
//!   directory there, in name order), applied under one lock: SQLite's write lock
//!   (`BEGIN IMMEDIATE`), a PostgreSQL advisory lock, so processes starting together
//!   apply each migration once.
//! - **Prepared statements**: the crate's SQL texts are prepared once per connection
//!   and reused (see `prepared.rs`). A text marks its binds with `?` and diesel writes
//!   each engine's own placeholder; where the engines' SQL differs otherwise, the two
//!   texts are written side by side (`Sql`), never translated from one another.
//!
//! # Why a trait over diesel's connections, not `#[derive(MultiConnection)]`
//!
//! A `MultiConnection` enum is one connection type whose backend is chosen at run
//! time. The stores are generic over the concrete connection instead
//! (`SqliteStore = SqlStore<SqliteConnection>`) so that callers can run their own typed
//! diesel queries on [`SqlStore::connection`](crate::store::SqlStore::connection) and
//! inside [`SqlStore::write`](crate::store::SqlStore::write); a multi-backend connection
//! would take that away. The derive also needs every backend compiled in, while each is
//! behind its own feature here. So each diesel connection implements [`Engine`] (connect,
//! set up, migrate, transactions) and [`DbConnection`] (what a session needs, `session.rs`), and
//! the registry, which learns its backend from the URL, uses [`AnyConnection`], a
//! two-variant enum whose statements are compiled once per backend by `on_conn!`.

mod any;
mod error;
mod file_identity;
mod options;
#[cfg(feature = "postgres")]
mod postgres;
pub(crate) mod prepared;
mod reconnect;
pub(crate) mod session;
#[cfg(feature = "sqlite")]
mod sqlite;
mod url;

pub use any::AnyConnection;
pub use error::DbError;
pub use options::{ConnectOptions, Synchronous};
pub use reconnect::ReconnectPolicy;

pub(crate) use any::on_conn;
pub(crate) use file_identity::file_identity;
pub(crate) use session::{Session, breaks_connection};
pub(crate) use url::Target;

use std::path::PathBuf;

use diesel::connection::{AnsiTransactionManager, Connection};
use diesel::result::{Error as DieselError, QueryResult};

/// The database engines the crate talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite (feature `sqlite`).
    Sqlite,
    /// PostgreSQL (feature `postgres`).
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Whether this build includes the backend.
    pub(crate) fn enabled(self) -> bool {
        match self {
            Backend::Sqlite => cfg!(feature = "sqlite"),
            Backend::Postgres => cfg!(feature = "postgres"),
        }
    }
}

/// A statement whose text differs between the engines, both written out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sql {
    /// SQLite's text.
    pub(crate) sqlite: &'static str,
    /// PostgreSQL's text.
    pub(crate) postgres: &'static str,
}

impl Sql {
    /// The text for `backend`.
    pub(crate) fn text(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A connection a session (`db/session.rs`) can hold: one of diesel's (see [`Engine`]) or the
/// registry's [`AnyConnection`]. Sealed; its methods are the layer's own.
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

/// Whether the transaction manager of `conn` has no open transaction.
fn outside<C: Connection<TransactionManager = AnsiTransactionManager>>(conn: &mut C) -> bool {
    use diesel::connection::TransactionManager as _;
    matches!(
        AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth(),
        Ok(None)
    )
}

/// Rolls back every open transaction of `conn`; `false` when that failed.
fn roll_back<C: Connection<TransactionManager = AnsiTransactionManager>>(conn: &mut C) -> bool {
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
