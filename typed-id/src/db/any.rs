//! [`AnyConnection`]: a connection to whichever engine a URL names, for the registry
//! (which, unlike the stores, is not generic over its connection type).

use std::path::PathBuf;
use std::time::Duration;

#[cfg(feature = "postgres")]
use diesel::PgConnection;
#[cfg(feature = "sqlite")]
use diesel::SqliteConnection;
use diesel::result::{Error as DieselError, QueryResult};

use super::backend::Backend;
use super::engine::{DbConnection, Engine, sealed};
use super::error::DbError;
use super::options::{ConnectOptions, Synchronous};
use super::url::Target;

/// A connection to SQLite or PostgreSQL, chosen by the URL at run time.
///
/// Statements run on the concrete connection inside `on_conn!`, which compiles its body
/// once per enabled engine; where the engines' SQL differs, the body picks the engine's
/// own text (`Sql`, in `db/mod.rs`).
#[allow(missing_debug_implementations)] // diesel's connections have no `Debug`
#[non_exhaustive]
pub enum AnyConnection {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteConnection),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(PgConnection),
}

impl AnyConnection {
    /// Connects to `target` and sets the session up with `options`.
    pub(crate) fn connect(target: &Target, options: &ConnectOptions) -> Result<Self, DbError> {
        match target.backend() {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => Ok(AnyConnection::Sqlite(Engine::connect(
                target.conninfo(),
                options,
            )?)),
            #[cfg(feature = "postgres")]
            Backend::Postgres => Ok(AnyConnection::Postgres(Engine::connect(
                target.conninfo(),
                options,
            )?)),
            #[allow(unreachable_patterns)] // a `Target` names only enabled backends
            _ => Err(DbError::UnsupportedUrl {
                reason: "this build does not include that backend",
            }),
        }
    }
}

/// Runs `$body` with `$c` bound to the concrete connection inside an
/// [`AnyConnection`]; the body is compiled once per enabled engine.
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            $crate::db::AnyConnection::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            $crate::db::AnyConnection::Postgres($c) => $body,
        }
    };
}

pub(crate) use on_conn;

impl sealed::Sealed for AnyConnection {}

impl DbConnection for AnyConnection {
    fn backend(&self) -> Backend {
        on_conn!(self, |c| c.backend())
    }

    fn ready(&mut self) -> QueryResult<()> {
        on_conn!(self, |c| c.ready())
    }

    fn database_file(&mut self) -> QueryResult<Option<(PathBuf, bool)>> {
        on_conn!(self, |c| c.database_file())
    }

    fn migrate(&mut self) -> Result<usize, DbError> {
        on_conn!(self, |c| c.migrate())
    }

    fn outside_transaction(&mut self) -> bool {
        on_conn!(self, |c| c.outside_transaction())
    }

    fn roll_back_all(&mut self) -> bool {
        on_conn!(self, |c| c.roll_back_all())
    }

    fn checkpoint(&mut self) -> QueryResult<()> {
        on_conn!(self, |c| c.checkpoint())
    }

    #[cfg_attr(not(feature = "sqlite"), allow(unused_variables))]
    fn waiting_for_lock<T, E, F>(
        &mut self,
        wait: Duration,
        busy: fn(&E) -> bool,
        mut op: F,
    ) -> Result<T, E>
    where
        F: FnMut(&mut Self) -> Result<T, E>,
        E: From<DieselError>,
    {
        match self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(_) => super::sqlite::poll_for_lock(
                self,
                |c| match c {
                    AnyConnection::Sqlite(s) => Some(s),
                    #[cfg(feature = "postgres")]
                    AnyConnection::Postgres(_) => None,
                },
                wait,
                busy,
                op,
            ),
            #[allow(unreachable_patterns)]
            _ => op(self),
        }
    }

    #[cfg_attr(not(feature = "sqlite"), allow(unused_variables))]
    fn durably<T, E, F>(&mut self, base: Synchronous, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<DieselError>,
    {
        match self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(_) if base != Synchronous::Full => {
                set_synchronous(self, Synchronous::Full)?;
                let result = f(self);
                let restored = set_synchronous(self, base);
                let value = result?;
                restored?;
                Ok(value)
            }
            _ => f(self),
        }
    }
}

/// SQLite's `PRAGMA synchronous` on the connection (nothing on PostgreSQL).
#[cfg(feature = "sqlite")]
fn set_synchronous(conn: &mut AnyConnection, level: Synchronous) -> QueryResult<()> {
    use diesel::connection::SimpleConnection as _;
    match conn {
        AnyConnection::Sqlite(c) => {
            c.batch_execute(&format!("PRAGMA synchronous = {}", level.pragma()))
        }
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(_) => Ok(()),
    }
}
