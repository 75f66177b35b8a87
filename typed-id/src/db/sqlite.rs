//! SQLite: connection set-up (busy timeout, WAL, synchronous level, foreign keys),
//! `BEGIN IMMEDIATE` write transactions, migrations under the write lock.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl as _;
use diesel::connection::{Connection, SimpleConnection as _};
use diesel::result::{Error as DieselError, QueryResult};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _, embed_migrations};

use super::backend::Backend;
use super::engine::{self, DbConnection, Engine, sealed};
use super::error::{DbError, lock_timed_out};
use super::file_identity;
use super::options::{ConnectOptions, Synchronous, timeout_ms};
use super::prepared::prepared;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

const CONFIGURE: &str = "configure the SQLite connection";

impl sealed::Sealed for SqliteConnection {}

impl Engine for SqliteConnection {
    const BACKEND: Backend = Backend::Sqlite;

    fn connect(conninfo: &str, options: &ConnectOptions) -> Result<Self, DbError> {
        let mut conn =
            SqliteConnection::establish(conninfo).map_err(|source| DbError::Connect {
                backend: Backend::Sqlite,
                source,
            })?;
        if let Some(path) = main_path(&mut conn).map_err(DbError::db(CONFIGURE))? {
            file_identity::refuse_left_open(&path)?;
        }
        // The timeout first: switching to WAL needs a lock another process may hold.
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}",
            options.busy_timeout_ms()
        ))
        .map_err(DbError::db(CONFIGURE))?;
        enable_wal(&mut conn, options.busy_timeout).map_err(DbError::db(CONFIGURE))?;
        // No automatic checkpoint: the session checkpoints once it has checked its
        // files (`ConnectOptions::checkpoint_every`).
        conn.batch_execute(&format!(
            "PRAGMA synchronous = {}; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
            options.synchronous.pragma()
        ))
        .map_err(DbError::db(CONFIGURE))?;
        Ok(conn)
    }

    fn write_transaction<R, E, F>(&mut self, f: F) -> Result<R, E>
    where
        F: FnOnce(&mut Self) -> Result<R, E>,
        E: From<DieselError>,
    {
        if engine::outside(self) {
            self.immediate_transaction(f)
        } else {
            self.transaction(f)
        }
    }
}

impl DbConnection for SqliteConnection {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn ready(&mut self) -> QueryResult<()> {
        Ok(())
    }

    fn database_file(&mut self) -> QueryResult<Option<(PathBuf, bool)>> {
        let Some(main) = main_path(self)? else {
            return Ok(None);
        };
        // A read first: until a connection has read the database it has not seen the
        // WAL flag in the header (`journal_mode` would answer `delete`), nor opened or
        // created the `-wal` and `-shm` the watch must record.
        self.batch_execute("SELECT count(*) FROM sqlite_master")?;
        let mode = diesel::sql_query("PRAGMA journal_mode").get_result::<JournalMode>(self)?;
        Ok(Some((main, mode.journal_mode.eq_ignore_ascii_case("wal"))))
    }

    fn migrate(&mut self) -> Result<usize, DbError> {
        // Up to date (every open after the first): a read, no write lock, so opening
        // does not wait in SQLite's busy handler, which polls without fairness, behind
        // processes that allocate in a tight loop.
        if !self
            .has_pending_migration(MIGRATIONS)
            .map_err(DbError::from_migration)?
        {
            return Ok(0);
        }
        // BEGIN IMMEDIATE: processes opening a fresh file at once take turns, and each
        // sees the migrations the one before it applied. The harness's own
        // per-migration transactions nest as savepoints.
        self.immediate_transaction(|conn| {
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

    fn checkpoint(&mut self) -> QueryResult<()> {
        // Every few hundred operations, and it returns a row: `sqlite3_exec`.
        self.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")
    }

    fn waiting_for_lock<T, E, F>(
        &mut self,
        wait: Duration,
        busy: fn(&E) -> bool,
        op: F,
    ) -> Result<T, E>
    where
        F: FnMut(&mut Self) -> Result<T, E>,
        E: From<DieselError>,
    {
        poll_for_lock(self, |c| Some(c), wait, busy, op)
    }

    fn durably<T, E, F>(&mut self, base: Synchronous, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<DieselError>,
    {
        if base == Synchronous::Full {
            return f(self);
        }
        self.batch_execute("PRAGMA synchronous = FULL")?;
        let result = f(self);
        let restored = self.batch_execute(&format!("PRAGMA synchronous = {}", base.pragma()));
        let value = result?;
        restored?;
        Ok(value)
    }
}

/// [`DbConnection::waiting_for_lock`] on SQLite, for a connection whose SQLite
/// connection `sqlite` returns.
pub(super) fn poll_for_lock<C, T, E, F>(
    conn: &mut C,
    sqlite: fn(&mut C) -> Option<&mut SqliteConnection>,
    wait: Duration,
    busy: fn(&E) -> bool,
    mut op: F,
) -> Result<T, E>
where
    F: FnMut(&mut C) -> Result<T, E>,
    E: From<DieselError>,
{
    // SQLite's own handler off for `op`: a busy lock comes back at once. (Both pragmas
    // are prepared once per connection: a third of the cost of parsing.)
    if let Some(c) = sqlite(conn) {
        prepared("PRAGMA busy_timeout = 0").execute(c)?;
    }
    let started = Instant::now();
    let mut pause = FIRST_PAUSE;
    let result = loop {
        match op(conn) {
            Err(e) if busy(&e) && started.elapsed() < wait => {
                std::thread::sleep(jittered(pause, started));
                pause = (pause * 2).min(MAX_PAUSE);
            }
            other => break other,
        }
    };
    // Back to the configured wait for every other statement. Should this fail (it
    // touches no file), `op`'s outcome still stands: a number it allocated must reach
    // the caller, and the next call sets the pragma again.
    if let Some(c) = sqlite(conn) {
        let _ = prepared(format!("PRAGMA busy_timeout = {}", timeout_ms(wait))).execute(c);
    }
    result
}

/// The first pause of [`DbConnection::waiting_for_lock`]'s polling, doubled after each
/// busy try up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_micros(20);
/// The longest pause between two tries for the write lock.
const MAX_PAUSE: Duration = Duration::from_micros(500);

/// `pause` ± half, from the clock's low bits: waiters that started together do not
/// wake together.
fn jittered(pause: Duration, started: Instant) -> Duration {
    let half = pause / 2;
    let spread = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1) * 2;
    let noise = u64::from(started.elapsed().subsec_nanos()) % spread;
    half + Duration::from_nanos(noise)
}

/// The main database's file as SQLite resolved it (absolute); `None` for in-memory and
/// temporary databases. Reads only the connection's own state, not the file.
fn main_path(conn: &mut SqliteConnection) -> QueryResult<Option<PathBuf>> {
    let rows = diesel::sql_query("PRAGMA database_list").load::<DatabaseRow>(conn)?;
    Ok(rows
        .into_iter()
        .find(|row| row.name == "main" && !row.file.is_empty())
        .map(|row| PathBuf::from(row.file)))
}

/// Switches the database to WAL mode. On a fresh file that takes an exclusive lock, and
/// SQLite answers "database is locked" at once (without the busy handler) while another
/// process holds any lock, as when many processes open a new file together: retry with
/// a short backoff until `timeout`. (An in-memory database stays in `memory` mode.)
fn enable_wal(conn: &mut SqliteConnection, timeout: Duration) -> QueryResult<()> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match conn.batch_execute("PRAGMA journal_mode = WAL") {
            Err(e) if lock_timed_out(&e) && started.elapsed() < timeout => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// A row of `PRAGMA database_list`.
#[derive(diesel::QueryableByName)]
struct DatabaseRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    file: String,
}

/// The row of `PRAGMA journal_mode`.
#[derive(diesel::QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}
