//! [`DbError`]: what the database layer itself can fail at (connecting, setting up a
//! session, migrating, reconnecting, noticing a replaced SQLite file). Stores and the
//! registry turn it into their own error types, keeping the driver's error as
//! `source()`.

use core::fmt;
use std::path::PathBuf;
use std::time::Duration;

use diesel::result::Error as DieselError;

use super::backend::Backend;

/// Why the database layer could not give a store or the registry a working connection.
///
/// Not part of the stable API: [`StoreError`](crate::store::StoreError) and the
/// registry's error carry the same information in their own variants.
#[doc(hidden)]
#[non_exhaustive]
#[derive(Debug)]
pub enum DbError {
    /// The URL names a backend this build does not include, or the other backend
    /// than the connection type, or is malformed.
    UnsupportedUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Connecting failed.
    Connect {
        /// The backend connected to.
        backend: Backend,
        /// The driver's error.
        source: diesel::ConnectionError,
    },
    /// A set-up statement (or a statement of the layer's own) failed.
    Database {
        /// What was being done.
        op: &'static str,
        /// The driver's error.
        source: DieselError,
    },
    /// Applying the embedded migrations failed.
    Migration(Box<dyn std::error::Error + Send + Sync>),
    /// The connection was found broken and connecting again failed within the
    /// [`ReconnectPolicy`](super::ReconnectPolicy).
    Unreachable {
        /// Connection attempts made.
        attempts: u32,
        /// Time from the first attempt to giving up.
        waited: Duration,
        /// Why the last attempt failed.
        source: Box<DbError>,
    },
    /// The connection was found broken and the session knows no way to connect again
    /// (it was made from a caller's connection).
    Disconnected {
        /// How the connection was found broken.
        source: DieselError,
    },
    /// The SQLite database file (or its `-wal`/`-shm` file) at the path is no longer
    /// the one the session opened.
    FileReplaced {
        /// The database file.
        path: PathBuf,
        /// What changed.
        what: &'static str,
    },
    /// Checking the database file's identity failed.
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// Whether `e` says a statement gave up waiting for a lock other connections held:
/// SQLite's `SQLITE_BUSY`/`SQLITE_LOCKED` ("database is locked", "database table is
/// locked") after its busy timeout, PostgreSQL's `lock_timeout` (SQLSTATE 55P03,
/// "canceling statement due to lock timeout"). diesel reports them only through the
/// message.
pub(crate) fn lock_timed_out(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(_, info) => {
            let msg = info.message();
            msg.contains("is locked") || msg.contains("busy") || msg.contains("lock timeout")
        }
        _ => false,
    }
}

impl DbError {
    /// `DbError::Database` for operation `op`, as a `map_err` argument.
    pub(crate) fn db(op: &'static str) -> impl FnOnce(DieselError) -> DbError {
        move |source| DbError::Database { op, source }
    }

    /// A failure of the migration harness. A statement of the harness's own (creating
    /// or reading its table of applied migrations) that failed is a database failure —
    /// a timeout, a lock, a broken connection — like any other statement's, so the
    /// callers retry and reconnect on it as they do elsewhere; the rest (a migration's
    /// own SQL failing, a bad migration) is [`DbError::Migration`].
    pub(crate) fn from_migration(error: Box<dyn std::error::Error + Send + Sync>) -> DbError {
        match error.downcast::<DieselError>() {
            Ok(source) => DbError::Database {
                op: "read the applied migrations",
                source: *source,
            },
            Err(error) => DbError::Migration(error),
        }
    }
}

impl From<DieselError> for DbError {
    /// A failed `BEGIN`, `COMMIT` or `ROLLBACK` around the layer's own statements.
    fn from(source: DieselError) -> Self {
        DbError::Database {
            op: "run a transaction",
            source,
        }
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::UnsupportedUrl { reason } => write!(f, "unsupported database URL: {reason}"),
            DbError::Connect { backend, source } => {
                write!(f, "cannot connect to {}: {source}", backend.name())
            }
            DbError::Database { op, source } => write!(f, "cannot {op}: {source}"),
            DbError::Migration(e) => write!(f, "cannot apply the migrations: {e}"),
            DbError::Unreachable {
                attempts,
                waited,
                source,
            } => write!(
                f,
                "the connection broke and {attempts} attempts to connect again over {} ms \
                 failed: {source}",
                waited.as_millis()
            ),
            DbError::Disconnected { source } => write!(
                f,
                "the connection broke and cannot be re-established (it was handed in, not \
                 opened from a URL): {source}"
            ),
            DbError::FileReplaced { path, what } => {
                write!(f, "SQLite database {}: {what}", path.display())
            }
            DbError::Io { op, path, source } => {
                write!(f, "cannot {op} {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DbError::Connect { source, .. } => Some(source),
            DbError::Database { source, .. } | DbError::Disconnected { source } => Some(source),
            DbError::Migration(e) => Some(&**e),
            DbError::Unreachable { source, .. } => Some(&**source),
            DbError::Io { source, .. } => Some(source),
            DbError::UnsupportedUrl { .. } | DbError::FileReplaced { .. } => None,
        }
    }
}
