//! PostgreSQL: the session set-up and check that make commits durable and find dead
//! connections, and migrations serialised by an advisory lock.

use std::path::PathBuf;

use diesel::RunQueryDsl as _;
use diesel::connection::{Connection, SimpleConnection as _};
use diesel::pg::PgConnection;
use diesel::result::{Error as DieselError, QueryResult};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _, embed_migrations};

use super::backend::Backend;
use super::engine::{self, DbConnection, Engine, sealed};
use super::error::DbError;
use super::options::{ConnectOptions, Synchronous};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Key of the transaction-scoped advisory lock that serialises concurrent migrations
/// (the bytes of "typedid"): stores and registries opening a fresh database at once
/// take turns.
const MIGRATION_LOCK: i64 = 0x0074_7970_6564_6964;

/// Makes the session's commits wait for their WAL flush (and for synchronous standbys,
/// if the server has any) when the server's default would not: `synchronous_commit`
/// `off` or `local` becomes `on`; a stronger setting (`on`, `remote_write`,
/// `remote_apply`) is kept. Sent at every connection and as the check of
/// [`DbConnection::ready`].
///
/// Why a session setting, re-asserted per operation, rather than `SET LOCAL` in each
/// transaction: a counter allocation or lease renewal is one autocommit statement, and
/// wrapping it in `BEGIN; SET LOCAL …; COMMIT` would cost two more round trips (and,
/// for a lease, hold its row locked across them, so a holder frozen in between would
/// block every successor), while a store needs one round trip before each operation
/// anyway, to find a dead connection before sending anything that could allocate. Behind
/// a pooler in transaction mode (session settings do not stick there), set
/// `synchronous_commit` for the role or database instead.
const SESSION_CHECK: &str = "SELECT set_config('synchronous_commit', 'on', false) \
     WHERE current_setting('synchronous_commit') IN ('off', 'local')";

impl sealed::Sealed for PgConnection {}

impl Engine for PgConnection {
    const BACKEND: Backend = Backend::Postgres;

    fn connect(conninfo: &str, options: &ConnectOptions) -> Result<Self, DbError> {
        let mut conn = PgConnection::establish(conninfo).map_err(|source| DbError::Connect {
            backend: Backend::Postgres,
            source,
        })?;
        conn.batch_execute(&format!(
            "SET lock_timeout = {}; {SESSION_CHECK}",
            options.busy_timeout_ms()
        ))
        .map_err(DbError::db("prepare the session"))?;
        Ok(conn)
    }

    fn write_transaction<R, E, F>(&mut self, f: F) -> Result<R, E>
    where
        F: FnOnce(&mut Self) -> Result<R, E>,
        E: From<DieselError>,
    {
        self.transaction(f)
    }
}

impl DbConnection for PgConnection {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn ready(&mut self) -> QueryResult<()> {
        self.batch_execute(SESSION_CHECK)
    }

    fn database_file(&mut self) -> QueryResult<Option<(PathBuf, bool)>> {
        Ok(None)
    }

    fn migrate(&mut self) -> Result<usize, DbError> {
        // DDL is transactional here: take the lock, apply, commit, and the next process
        // finds nothing pending.
        self.transaction(|conn| {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .execute(conn)
                .map_err(DbError::db("lock the migrations"))?;
            conn.run_pending_migrations(MIGRATIONS)
                .map(|applied| applied.len())
                .map_err(DbError::from_migration)
        })
    }

    fn outside_transaction(&mut self) -> bool {
        engine::outside(self)
    }

    fn roll_back_all(&mut self) -> bool {
        engine::roll_back(self)
    }

    fn durably<T, E, F>(&mut self, _base: Synchronous, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<DieselError>,
    {
        // Every session commits synchronously from the moment it connects.
        f(self)
    }
}
