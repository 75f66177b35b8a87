//! PostgreSQL: the session check that makes commits durable and finds dead connections,
//! migrations serialised by an advisory lock, and the store's statements in
//! PostgreSQL's dialect.

use std::path::PathBuf;

use diesel::RunQueryDsl as _;
use diesel::connection::{Connection, SimpleConnection as _};
use diesel::pg::PgConnection;
use diesel::result::{Error as DieselError, QueryResult};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{StoreConnection, sealed, shared_statements};
use crate::store::StoreError;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Key of the transaction-scoped advisory lock that serialises concurrent migrations
/// (the bytes of "typedid"). The registry (`instance/db.rs`) migrates through this same
/// function, so a store and a registry opening a fresh database at once take turns.
const MIGRATION_LOCK: i64 = 0x0074_7970_6564_6964;

impl sealed::Sealed for PgConnection {}

/// Turns `synchronous_commit` on for the session when it is `off`, and is the store's
/// check that the session is alive before each operation (see [`StoreConnection::ready`]).
///
/// Why a session setting, re-asserted per operation, rather than `SET LOCAL` in each
/// allocating transaction: an allocation is one autocommit statement, and wrapping it
/// in `BEGIN; SET LOCAL …; COMMIT` would cost two more round trips, while the store
/// needs one round trip before each operation anyway, to find a dead connection before
/// sending anything that could allocate. This statement is that round trip, so even a
/// session whose setting the caller changed through `SqlStore::connection` commits the
/// next allocation durably. Only `off` is raised: `local`, `remote_write`, `on` and
/// `remote_apply` all wait for the local flush, and a stronger server default is kept.
/// Behind a pooler in transaction mode (session settings do not stick there), set
/// `synchronous_commit` for the role or database instead.
const SESSION_CHECK: &str = "SELECT set_config('synchronous_commit', 'on', false) \
     WHERE current_setting('synchronous_commit') = 'off'";

impl StoreConnection for PgConnection {
    fn connect(url: &str) -> Result<Self, StoreError> {
        let mut conn = PgConnection::establish(url)?;
        conn.ready()
            .map_err(StoreError::db("prepare the session"))?;
        Ok(conn)
    }

    fn ready(&mut self) -> QueryResult<()> {
        self.batch_execute(SESSION_CHECK)
    }

    fn database_file(&mut self) -> QueryResult<Option<(PathBuf, bool)>> {
        Ok(None)
    }

    fn migrate(&mut self) -> Result<usize, StoreError> {
        // DDL is transactional here: take the lock, apply, commit, and the next process
        // finds nothing pending.
        self.transaction(|conn| {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .execute(conn)
                .map_err(StoreError::db("lock the store's migrations"))?;
            conn.run_pending_migrations(MIGRATIONS)
                .map(|applied| applied.len())
                .map_err(StoreError::Migration)
        })
    }

    fn write_transaction<R, E, F>(&mut self, f: F) -> Result<R, E>
    where
        F: FnOnce(&mut Self) -> Result<R, E>,
        E: From<DieselError>,
    {
        self.transaction(f)
    }

    shared_statements!();
}
