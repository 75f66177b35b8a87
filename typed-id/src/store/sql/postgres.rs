//! PostgreSQL: migrations serialised by an advisory lock, and the store's statements in
//! PostgreSQL's dialect.

use diesel::RunQueryDsl as _;
use diesel::connection::Connection;
use diesel::pg::PgConnection;
use diesel::result::Error as DieselError;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{StoreConnection, sealed, shared_statements};
use crate::store::StoreError;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Key of the transaction-scoped advisory lock that serialises concurrent migrations
/// (the bytes of "typedid"). The registry (`instance/db.rs`) migrates through this same
/// function, so a store and a registry opening a fresh database at once take turns.
const MIGRATION_LOCK: i64 = 0x0074_7970_6564_6964;

impl sealed::Sealed for PgConnection {}

impl StoreConnection for PgConnection {
    fn connect(url: &str) -> Result<Self, StoreError> {
        Ok(PgConnection::establish(url)?)
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
