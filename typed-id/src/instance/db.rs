//! The registry's connection to SQLite or PostgreSQL: choosing the backend from a URL,
//! per-connection settings, the embedded migrations (applied under a lock, so many
//! processes can start at once), and one SQL text for both dialects.
//!
//! Statements are written once in PostgreSQL's dialect (`$1` placeholders, `GREATEST`)
//! and translated for SQLite (`?1`, the two-argument `MAX`), so the two backends cannot
//! drift apart.

use std::borrow::Cow;
use std::time::Duration;

#[cfg(feature = "sqlite")]
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;

use super::error::RegistryError;

/// Where the registry lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A SQLite file path or `file:` URI.
    #[cfg(feature = "sqlite")]
    Sqlite(String),
    /// A `postgres://` URL or libpq `key=value` string.
    #[cfg(feature = "postgres")]
    Postgres(String),
}

impl Target {
    /// `postgres://…`, `postgresql://…` and libpq `key=value` strings are PostgreSQL;
    /// `sqlite://path`, `file:` URIs and plain paths are SQLite.
    pub(crate) fn parse(url: &str) -> Result<Target, RegistryError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(RegistryError::UnsupportedUrl {
                reason: "the database URL is empty",
            });
        }
        let postgres = url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || (url.contains('=') && !url.starts_with("file:") && !url.starts_with("sqlite:"));
        if postgres {
            #[cfg(feature = "postgres")]
            return Ok(Target::Postgres(url.to_owned()));
            #[cfg(not(feature = "postgres"))]
            return Err(RegistryError::UnsupportedUrl {
                reason: "a PostgreSQL URL needs typed-id's `postgres` feature",
            });
        }
        #[cfg(feature = "sqlite")]
        {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            if path.is_empty() {
                return Err(RegistryError::UnsupportedUrl {
                    reason: "the SQLite URL has no path",
                });
            }
            Ok(Target::Sqlite(path.to_owned()))
        }
        #[cfg(not(feature = "sqlite"))]
        Err(RegistryError::UnsupportedUrl {
            reason: "a SQLite path needs typed-id's `sqlite` feature",
        })
    }

    pub(crate) fn backend(&self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Target::Sqlite(_) => "sqlite",
            #[cfg(feature = "postgres")]
            Target::Postgres(_) => "postgres",
        }
    }
}

/// An open connection.
pub(crate) enum Conn {
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteConnection),
    #[cfg(feature = "postgres")]
    Pg(PgConnection),
}

/// Which SQL dialect a statement is sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    #[cfg(feature = "sqlite")]
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

impl Dialect {
    /// `pg`, translated for this dialect.
    pub(crate) fn sql(self, pg: &str) -> Cow<'_, str> {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => Cow::Owned(
                pg.replace("GREATEST(", "MAX(")
                    .replace("LEAST(", "MIN(")
                    .replace('$', "?"),
            ),
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Cow::Borrowed(pg),
        }
    }
}

/// Settings applied to every new connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectOptions {
    /// SQLite `busy_timeout`; PostgreSQL `lock_timeout`.
    pub(crate) busy_timeout: Duration,
    /// SQLite `synchronous = FULL` rather than `NORMAL`.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) durable: bool,
}

/// Connects and applies the per-connection settings.
pub(crate) fn connect(target: &Target, options: ConnectOptions) -> Result<Conn, RegistryError> {
    let connect_err = |source| RegistryError::Connect {
        backend: target.backend(),
        source,
    };
    match target {
        #[cfg(feature = "sqlite")]
        Target::Sqlite(path) => {
            let mut conn = SqliteConnection::establish(path).map_err(connect_err)?;
            let setup = |e| RegistryError::from(e).in_op("connect");
            let busy_ms = options.busy_timeout.as_millis().min(i32::MAX as u128);
            conn.batch_execute(&format!("PRAGMA busy_timeout = {busy_ms}"))
                .map_err(setup)?;
            let in_memory = path == ":memory:" || path.contains("mode=memory");
            if !in_memory {
                crate::store::sql::sqlite::enable_wal(&mut conn, options.busy_timeout)
                    .map_err(setup)?;
            }
            conn.batch_execute(if options.durable {
                "PRAGMA synchronous = FULL"
            } else {
                "PRAGMA synchronous = NORMAL"
            })
            .map_err(setup)?;
            Ok(Conn::Sqlite(conn))
        }
        #[cfg(feature = "postgres")]
        Target::Postgres(url) => {
            let mut conn = PgConnection::establish(url).map_err(connect_err)?;
            let lock_ms = options.busy_timeout.as_millis().min(i32::MAX as u128);
            let setup = |e| RegistryError::from(e).in_op("connect");
            diesel::sql_query(format!("SET lock_timeout = {lock_ms}"))
                .execute(&mut conn)
                .map_err(setup)?;
            // For the whole session, set on every (re)connection, which all come
            // through here: a lease write is then one autocommit statement whose
            // commit waits for the WAL flush. A transaction-local setting would need
            // the lease row locked across client round trips (BEGIN, SET LOCAL,
            // UPDATE, COMMIT), and a holder frozen in between (SIGSTOP, a pause, a
            // partition) would block every successor on that row.
            diesel::sql_query(PG_SYNC_COMMIT)
                .execute(&mut conn)
                .map_err(setup)?;
            Ok(Conn::Pg(conn))
        }
    }
}

/// Makes the session's commits wait for their WAL flush (and for synchronous standbys,
/// if the server has any) when the server's default would commit asynchronously:
/// `synchronous_commit` `off` or `local` becomes `on`; a stronger setting (`on`,
/// `remote_write`, `remote_apply`) is kept.
#[cfg(feature = "postgres")]
pub(crate) const PG_SYNC_COMMIT: &str = "SELECT set_config('synchronous_commit', 'on', false) \
     WHERE current_setting('synchronous_commit') IN ('off', 'local')";

/// Runs `f` with SQLite's `synchronous = FULL` when the connection normally runs with
/// `NORMAL` (`already_full` false), restoring `NORMAL` afterwards. A PostgreSQL
/// session commits synchronously from the moment it is connected ([`PG_SYNC_COMMIT`]),
/// so `f` just runs.
#[cfg_attr(not(feature = "sqlite"), allow(unused_variables))]
pub(crate) fn durably<T>(
    conn: &mut Conn,
    already_full: bool,
    f: impl FnOnce(&mut Conn) -> Result<T, RegistryError>,
) -> Result<T, RegistryError> {
    match conn {
        #[cfg(feature = "sqlite")]
        Conn::Sqlite(c) if !already_full => {
            c.batch_execute("PRAGMA synchronous = FULL")?;
            let result = f(conn);
            let restored = match conn {
                Conn::Sqlite(c) => c.batch_execute("PRAGMA synchronous = NORMAL"),
                #[cfg(feature = "postgres")]
                Conn::Pg(_) => Ok(()),
            };
            let value = result?;
            restored?;
            Ok(value)
        }
        _ => f(conn),
    }
}

/// The file of a SQLite target, `None` for an in-memory database (or PostgreSQL).
pub(crate) fn sqlite_file(target: &Target) -> Option<std::path::PathBuf> {
    match target {
        #[cfg(feature = "sqlite")]
        Target::Sqlite(path) => {
            if path == ":memory:" || path.contains("mode=memory") {
                return None;
            }
            let path = match path.strip_prefix("file:") {
                Some(uri) => {
                    let uri = uri.split('?').next().unwrap_or(uri);
                    // `file:///abs` and `file://localhost/abs` name `/abs`.
                    match uri.strip_prefix("//") {
                        Some(rest) => &rest[rest.find('/').unwrap_or(rest.len())..],
                        None => uri,
                    }
                }
                None => path.as_str(),
            };
            (!path.is_empty()).then(|| std::path::PathBuf::from(path))
        }
        #[cfg(feature = "postgres")]
        Target::Postgres(_) => None,
    }
}

/// The identity (device, inode) of the file at `path` now; `None` when it is missing
/// (or on platforms without inodes, where the check is skipped).
pub(crate) fn file_identity(path: &std::path::Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Whether the connection is outside any transaction (and its transaction manager is
/// not broken): a connection left inside one is dropped rather than reused.
pub(crate) fn outside_transaction(conn: &mut Conn) -> bool {
    use diesel::connection::{AnsiTransactionManager, TransactionManager as _};
    let depth = match conn {
        #[cfg(feature = "sqlite")]
        Conn::Sqlite(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()
        }
        #[cfg(feature = "postgres")]
        Conn::Pg(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()
        }
    };
    matches!(depth, Ok(None))
}

/// Applies the crate's embedded migrations (the stores' tables and the registry's) that
/// this database lacks. SQLite takes the write lock first (`BEGIN IMMEDIATE`),
/// PostgreSQL an advisory lock, so processes starting together apply each migration
/// exactly once; the harness's own per-migration transactions nest as savepoints.
pub(crate) fn migrate(conn: &mut Conn) -> Result<(), RegistryError> {
    // One implementation for the whole crate: the stores' (same embedded migrations,
    // same PostgreSQL advisory lock key).
    let result = match conn {
        #[cfg(feature = "sqlite")]
        Conn::Sqlite(c) => crate::store::StoreConnection::migrate(c),
        #[cfg(feature = "postgres")]
        Conn::Pg(c) => crate::store::StoreConnection::migrate(c),
    };
    result.map(drop).map_err(|e| match e {
        crate::store::StoreError::Database { source, .. } => {
            RegistryError::from(source).in_op("migrate")
        }
        crate::store::StoreError::Migration(source) => RegistryError::Migration { source },
        other => RegistryError::Migration {
            source: Box::new(other),
        },
    })
}

/// Runs `$body` with `$c` bound to the concrete connection and `$d` to its dialect;
/// the body is compiled once per enabled backend.
macro_rules! on_conn {
    ($conn:expr, |$c:ident, $d:ident| $body:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            $crate::instance::db::Conn::Sqlite($c) => {
                let $d = $crate::instance::db::Dialect::Sqlite;
                let _ = $d;
                $body
            }
            #[cfg(feature = "postgres")]
            $crate::instance::db::Conn::Pg($c) => {
                let $d = $crate::instance::db::Dialect::Postgres;
                let _ = $d;
                $body
            }
        }
    };
}

/// Runs `$body` in a write transaction: `BEGIN IMMEDIATE` on SQLite (the write lock up
/// front, so two writers never deadlock upgrading read locks), a plain transaction on
/// PostgreSQL (whose statements lock the rows they touch).
macro_rules! write_tx {
    ($conn:expr, |$c:ident, $d:ident| $body:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            $crate::instance::db::Conn::Sqlite(conn) => {
                let $d = $crate::instance::db::Dialect::Sqlite;
                let _ = $d;
                conn.immediate_transaction(|$c| $body)
            }
            #[cfg(feature = "postgres")]
            $crate::instance::db::Conn::Pg(conn) => {
                let $d = $crate::instance::db::Dialect::Postgres;
                let _ = $d;
                diesel::Connection::transaction(conn, |$c| $body)
            }
        }
    };
}

pub(crate) use {on_conn, write_tx};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        #[cfg(feature = "postgres")]
        {
            assert_eq!(
                Target::parse("postgres://u@h/db").unwrap(),
                Target::Postgres("postgres://u@h/db".into())
            );
            assert_eq!(
                Target::parse("host=/tmp dbname=x").unwrap(),
                Target::Postgres("host=/tmp dbname=x".into())
            );
        }
        #[cfg(feature = "sqlite")]
        {
            assert_eq!(
                Target::parse("sqlite:///tmp/a.db").unwrap(),
                Target::Sqlite("/tmp/a.db".into())
            );
            assert_eq!(
                Target::parse("ids.db").unwrap(),
                Target::Sqlite("ids.db".into())
            );
            assert_eq!(
                Target::parse("file:ids.db?mode=rwc").unwrap(),
                Target::Sqlite("file:ids.db?mode=rwc".into())
            );
            assert_eq!(
                Dialect::Sqlite.sql("SELECT GREATEST(a, $1) WHERE b = $2"),
                "SELECT MAX(a, ?1) WHERE b = ?2"
            );
        }
        assert!(Target::parse("  ").is_err());
    }
}
