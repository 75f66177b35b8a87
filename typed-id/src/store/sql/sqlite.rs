//! SQLite: connection set-up (WAL, busy timeout, durability), `BEGIN IMMEDIATE` write
//! transactions, and the store's statements in SQLite's dialect.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel::connection::{
    AnsiTransactionManager, Connection, SimpleConnection, TransactionManager,
};
use diesel::result::{Error as DieselError, QueryResult};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{SqlStore, StoreConnection, sealed, shared_statements};
use crate::store::StoreError;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// When SQLite flushes a commit to disk (`PRAGMA synchronous`; the store always runs in
/// WAL mode).
///
/// The default is [`Normal`](Synchronous::Normal): with one disk flush per commit,
/// [`Full`](Synchronous::Full) caps a store at what the disk can flush per second (about
/// 300 on the virtual disk the benchmarks ran on, against some 40 000 allocations per
/// second with `Normal`). Choose `Full` when a number must never repeat even after the
/// machine loses power.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synchronous {
    /// Every commit is flushed to the disk before it returns: an allocation survives a
    /// killed process, an OS crash and a power loss.
    Full,
    /// The log is flushed only at checkpoints: an allocation survives a killed or
    /// crashed process (the operating system still has the data), but the last commits
    /// before an OS crash or power loss can be lost, and their numbers handed out again
    /// afterwards.
    #[default]
    Normal,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

/// How a [`SqliteStore`](super::SqliteStore) sets up its connection.
///
/// ```
/// use std::time::Duration;
/// use typed_id::store::{SqliteOptions, Synchronous};
///
/// let options = SqliteOptions::new()
///     .busy_timeout(Duration::from_secs(5))
///     .synchronous(Synchronous::Normal);
/// # let _ = options;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqliteOptions {
    busy_timeout: Duration,
    synchronous: Synchronous,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            busy_timeout: Duration::from_secs(30),
            synchronous: Synchronous::Normal,
        }
    }
}

impl SqliteOptions {
    /// The defaults: a 30 s busy timeout, [`Synchronous::Normal`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How long a statement waits for another process's write lock before failing
    /// with "database is locked".
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// When commits reach the disk.
    #[must_use]
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// Applies the options to a connection: busy timeout, WAL mode, durability, and
    /// foreign keys on.
    fn apply(&self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        let ms = self.busy_timeout.as_millis().min(i32::MAX as u128);
        const CONFIGURE: &str = "configure the SQLite connection";
        // The timeout first: switching to WAL needs a lock another process may hold.
        conn.batch_execute(&format!("PRAGMA busy_timeout = {ms}"))
            .map_err(StoreError::db(CONFIGURE))?;
        enable_wal(conn, self.busy_timeout).map_err(StoreError::db(CONFIGURE))?;
        conn.batch_execute(&format!(
            "PRAGMA synchronous = {}; PRAGMA foreign_keys = ON;",
            self.synchronous.pragma()
        ))
        .map_err(StoreError::db(CONFIGURE))
    }
}

/// Switches the database to WAL mode. On a fresh file that takes an exclusive lock, and
/// SQLite answers "database is locked" at once (without the busy handler) while another
/// process holds any lock, as when many processes open a new file together: retry with
/// a short backoff until `timeout`. Shared by the stores and the registry.
pub(crate) fn enable_wal(conn: &mut SqliteConnection, timeout: Duration) -> QueryResult<()> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match conn.batch_execute("PRAGMA journal_mode = WAL") {
            Err(e) if is_locked(&e) && started.elapsed() < timeout => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// `SQLITE_BUSY`/`SQLITE_LOCKED`, which diesel reports only through the message.
pub(crate) fn is_locked(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(_, info) => {
            let msg = info.message();
            msg.contains("locked") || msg.contains("busy")
        }
        _ => false,
    }
}

impl SqlStore<SqliteConnection> {
    /// Opens the SQLite database at `path` (created if missing) with `options`, and
    /// applies the store's pending migrations.
    ///
    /// # Errors
    /// As [`SqlStore::open`].
    pub fn open_with(path: &str, options: &SqliteOptions) -> Result<Self, StoreError> {
        let connect = {
            let (path, options) = (path.to_owned(), *options);
            move || {
                let mut conn = establish(&path)?;
                options.apply(&mut conn)?;
                Ok(conn)
            }
        };
        let conn = connect()?;
        Self::build(conn, Some(Box::new(connect)))
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

fn establish(url: &str) -> Result<SqliteConnection, StoreError> {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    Ok(SqliteConnection::establish(path)?)
}

impl sealed::Sealed for SqliteConnection {}

impl StoreConnection for SqliteConnection {
    fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Err(StoreError::Unsupported {
                what: "a PostgreSQL URL was given to a SQLite store".to_owned(),
            });
        }
        let mut conn = establish(url)?;
        SqliteOptions::default().apply(&mut conn)?;
        Ok(conn)
    }

    fn ready(&mut self) -> QueryResult<()> {
        Ok(())
    }

    fn database_file(&mut self) -> QueryResult<Option<(PathBuf, bool)>> {
        use diesel::RunQueryDsl as _;
        let rows = diesel::sql_query("PRAGMA database_list").load::<DatabaseRow>(self)?;
        // `file` is SQLite's absolute path; empty for in-memory and temporary databases.
        let Some(main) = rows
            .into_iter()
            .find(|row| row.name == "main" && !row.file.is_empty())
        else {
            return Ok(None);
        };
        let mode = diesel::sql_query("PRAGMA journal_mode").get_result::<JournalMode>(self)?;
        Ok(Some((
            PathBuf::from(main.file),
            mode.journal_mode.eq_ignore_ascii_case("wal"),
        )))
    }

    fn migrate(&mut self) -> Result<usize, StoreError> {
        // BEGIN IMMEDIATE: processes opening a fresh file at once take turns, and each
        // sees the migrations the one before it applied.
        self.immediate_transaction(|conn| {
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
        let depth = AnsiTransactionManager::transaction_manager_status_mut(self)
            .transaction_depth()
            .map_err(E::from)?;
        if depth.is_some() {
            self.transaction(f)
        } else {
            self.immediate_transaction(f)
        }
    }

    shared_statements!();
}
