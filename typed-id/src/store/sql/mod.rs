//! [`SqlStore`]: counters and collision checks in SQLite or PostgreSQL, through diesel.
//!
//! One schema for both engines (`migrations/{sqlite,postgres}/`, embedded in the crate
//! and applied by [`SqlStore::open`]). Connections, their set-up, reconnecting and
//! migrations are the database layer's ([`crate::db`]); this module holds the counter
//! statements. Every counter update is a single
//! `INSERT … ON CONFLICT … DO UPDATE … RETURNING` statement, atomic on both engines
//! and written once for both (diesel writes each engine's placeholders).

mod column;

pub use column::{IdColumn, SqlCollisionCheck};

/// The options [`SqliteStore::open_with`](SqlStore::open_with) took before stores and
/// the registry shared one options type.
#[deprecated(note = "renamed `typed_id::db::ConnectOptions`, for every backend")]
pub type SqliteOptions = ConnectOptions;

use core::fmt;
use std::ops::RangeInclusive;
use std::sync::MutexGuard;

use diesel::result::{DatabaseErrorKind, Error as DieselError, QueryResult};

use super::{ChildCounter, DisplayIdAllocator, StoreError, check_block, check_scope};
use crate::body::{HashId, Seq};
use crate::db::session::{Check, Connector};
use crate::db::{ConnectOptions, ConnectionStats, Engine, ReconnectPolicy, Session};
use crate::generator::{HashIdGenerator, HashInput};
use crate::typed::TypedId;

/// The two counter tables of the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[doc(hidden)]
pub enum Counter {
    /// `typed_id_child_counters`, keyed by parent ID.
    Children,
    /// `typed_id_display_sequences`, keyed by scope.
    Display,
}

impl Counter {
    fn max(self) -> u64 {
        match self {
            Counter::Children => u64::from(u32::MAX),
            Counter::Display => Seq::MAX,
        }
    }

    fn location(self) -> &'static str {
        match self {
            Counter::Children => "typed_id_child_counters.last",
            Counter::Display => "typed_id_display_sequences.last",
        }
    }
}

/// A diesel connection a [`SqlStore`] can run on: `SqliteConnection` (feature `sqlite`)
/// or `PgConnection` (feature `postgres`). Sealed; its methods are the store's
/// statements and are not part of the public API. Connecting, the session check,
/// migrations and transactions are the database layer's ([`Engine`]).
pub trait StoreConnection: Engine {
    /// `last + n` for `key`, created at `n`; `None` when the sum would pass `max`.
    #[doc(hidden)]
    fn counter_add(
        &mut self,
        counter: Counter,
        key: &str,
        n: i64,
        max: i64,
    ) -> QueryResult<Option<i64>>;

    /// Raises `key` to at least `n`.
    #[doc(hidden)]
    fn counter_observe(&mut self, counter: Counter, key: &str, n: i64) -> QueryResult<()>;

    /// The stored value of `key`.
    #[doc(hidden)]
    fn counter_get(&mut self, counter: Counter, key: &str) -> QueryResult<Option<i64>>;

    /// `SELECT EXISTS (… WHERE column = id)`.
    #[doc(hidden)]
    fn id_exists(&mut self, column: &IdColumn, id: &str) -> QueryResult<bool>;

    /// `SELECT COUNT(*)` of the column's table.
    #[doc(hidden)]
    fn id_count(&mut self, column: &IdColumn) -> QueryResult<i64>;

    /// Every value of the column that starts with `prefix`.
    #[doc(hidden)]
    fn ids_starting_with(&mut self, column: &IdColumn, prefix: &str) -> QueryResult<Vec<String>>;
}

/// A [`StoreConnection`] behind a mutex, with the store's migrations applied: display
/// sequences ([`DisplayIdAllocator`]), child counters ([`ChildCounter`]) and
/// collision-checked inserts ([`insert_unique`](Self::insert_unique)).
///
/// Use the aliases [`SqliteStore`] and [`PgStore`]. One store is one connection; threads
/// share it (and queue for it). Processes each open their own.
///
/// # Faults
///
/// - **A broken connection** (PostgreSQL: the backend terminated, the server restarted,
///   an idle-session timeout) is found by a check the store makes before each operation
///   (one round trip); the store then connects again under
///   its [`ReconnectPolicy`] (by default: for up to 10 s, with growing pauses) and goes
///   on, or fails with [`StoreError::Unreachable`]. Only stores made with
///   [`open`](Self::open) or [`open_with`](Self::open_with) know how to reconnect; one made
///   with [`from_connection`](Self::from_connection) fails with
///   [`StoreError::Disconnected`].
/// - **A connection lost while a statement was under way** fails that call with
///   [`StoreError::Database`]. Its outcome is unknown (the server may have committed the
///   allocation and lost only the answer), so the statement is never sent again: such a
///   number is skipped, never handed out twice. The next call reconnects.
/// - **Durability** (PostgreSQL): every session the store opens runs with
///   `synchronous_commit` on if the server's default is `off` or `local`, so an allocation returns
///   only after its commit reached the write-ahead log on disk. A server run with
///   `fsync = off` (as throwaway test clusters are, for speed) can lose committed
///   allocations in a crash whatever any client does, and then hand them out again.
/// - **SQLite files deleted or replaced** under a running store: see [`SqliteStore`].
pub struct SqlStore<C: StoreConnection> {
    /// The connection, checked before every operation and re-established with the URL
    /// and options the store was opened with.
    session: Session<C>,
}

/// A [`SqlStore`] on SQLite: one database file shared by the processes of a machine.
///
/// # The file deleted or replaced
///
/// A process that has the database open keeps using the file it opened even after the
/// path was deleted or a backup was renamed over it, while processes started afterwards
/// use the file now at the path; the two groups would hand out the same numbers. So a
/// store records the device and inode of the database file (and, in WAL mode, of its
/// `-wal` and `-shm` files) when it opens, compares them with the path after every
/// operation, and returns a result only if the files at the path are still the ones it
/// holds. Otherwise that call and every later one fail with
/// [`StoreError::DatabaseFileReplaced`]: a running process notices within one
/// allocation (the number it drew from the old file is skipped) and never numbers from
/// a ghost file; a store opened afterwards uses the new file.
///
/// Not noticed: a file overwritten in place (`cp backup ids.db` onto the live file keeps
/// its inode, and corrupts a database in use anyway). Restore with the processes
/// stopped, or by deleting `ids.db`, `ids.db-wal` and `ids.db-shm` and renaming the
/// backup into place; make backups with SQLite's backup API or `VACUUM INTO`, never by
/// copying a live file.
///
/// Recovery: a deleted or restored database has lost the numbers handed out since
/// (all of them, or those after the backup). Before new processes hand out numbers,
/// raise each counter above what your own tables hold: children with
/// [`SqlStore::resync_children`] (or [`ChildCounter::observe`] per known child), display
/// numbers with [`SqlStore::observe_display_number`] (the largest number per scope in
/// the items' table).
#[cfg(feature = "sqlite")]
pub type SqliteStore = SqlStore<diesel::SqliteConnection>;

/// A [`SqlStore`] on PostgreSQL.
#[cfg(feature = "postgres")]
pub type PgStore = SqlStore<diesel::PgConnection>;

impl<C: StoreConnection> fmt::Debug for SqlStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("session", &self.session)
            .finish()
    }
}

impl<C: StoreConnection> SqlStore<C> {
    /// Connects and applies the store's pending migrations (safe to do from many
    /// processes at once: they are serialised by the database).
    ///
    /// SQLite takes a file path, `sqlite://path` or a `file:` URI; PostgreSQL a
    /// `postgres://` URL or a libpq `key=value` string. Connections are set up with
    /// [`ConnectOptions::default`] (see [`open_with`](Self::open_with)).
    ///
    /// The store keeps `url` to connect again when it finds its connection broken (see
    /// [Faults](Self#faults)).
    ///
    /// # Errors
    /// [`StoreError::Unsupported`] for the other engine's URL,
    /// [`StoreError::Connection`], [`StoreError::Migration`], or the set-up statements'
    /// [`StoreError::Database`].
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, &ConnectOptions::default())
    }

    /// As [`open`](Self::open), with `options` for every connection the store makes
    /// (the busy timeout, and on SQLite when commits reach the disk).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use std::time::Duration;
    /// use typed_id::db::{ConnectOptions, Synchronous};
    /// use typed_id::store::SqliteStore;
    ///
    /// let options = ConnectOptions::new()
    ///     .busy_timeout(Duration::from_secs(5))
    ///     .synchronous(Synchronous::Full);
    /// let store = SqliteStore::open_with(":memory:", &options)?;
    /// # let _ = store;
    /// # }
    /// # Ok::<(), typed_id::store::StoreError>(())
    /// ```
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let conn = crate::db::connect::<C>(url, options)?;
        let connect: Connector<C> = {
            let (url, options) = (url.to_owned(), *options);
            Box::new(move || crate::db::connect::<C>(&url, &options))
        };
        let mut store = Self::build(conn, Some(connect))?;
        store.session.set_lock_wait(options.busy_timeout);
        store.session.set_checkpoint_every(options.checkpoint_every);
        Ok(store)
    }

    /// Wraps an existing connection and applies the pending migrations. SQLite
    /// connections are not reconfigured: use [`open_with`](Self::open_with) for WAL mode
    /// and the busy timeout, or set them yourself. A PostgreSQL session gets
    /// `synchronous_commit` on here (if it was off) and before every operation.
    ///
    /// Such a store cannot reconnect: after its connection breaks, every call fails
    /// with [`StoreError::Disconnected`]. Use [`open`](Self::open) where the server may
    /// restart.
    ///
    /// # Errors
    /// [`StoreError::Migration`] or [`StoreError::Database`].
    pub fn from_connection(conn: C) -> Result<Self, StoreError> {
        Self::build(conn, None)
    }

    fn build(conn: C, connect: Option<Connector<C>>) -> Result<Self, StoreError> {
        let session = Session::new(conn, connect, Check::EveryUse)?;
        session.lock().migrate()?;
        Ok(SqlStore { session })
    }

    /// The same store, reconnecting under `policy` instead of the default (see
    /// [`ReconnectPolicy`]).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use std::time::Duration;
    /// use typed_id::store::{ReconnectPolicy, SqliteStore};
    ///
    /// let store = SqliteStore::open(":memory:")?
    ///     .with_reconnect(ReconnectPolicy::new().within(Duration::from_secs(30)));
    /// # let _ = store;
    /// # }
    /// # Ok::<(), typed_id::store::StoreError>(())
    /// ```
    #[must_use]
    pub fn with_reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.session.set_policy(policy);
        self
    }

    /// Applies pending migrations again (e.g. after a newer version of this crate added
    /// some); returns how many ran.
    ///
    /// # Errors
    /// [`StoreError::Migration`], or as described under [Faults](Self#faults).
    pub fn migrate(&self) -> Result<usize, StoreError> {
        self.run(|conn| Ok(conn.migrate()?))
    }

    /// The connection, for statements of your own. A connection left inside a
    /// transaction by a panic is rolled back before it is handed out again.
    ///
    /// It is handed out as it is: a broken connection is replaced by the store's next
    /// own operation, not here. Keep the session's settings as the store set them
    /// (PostgreSQL's `synchronous_commit`: the store turns it back on before each
    /// operation anyway).
    pub fn connection(&self) -> MutexGuard<'_, C> {
        self.session.lock()
    }

    /// What the store's connection has been through since it was opened: connections
    /// lost, reconnects, failed attempts, give-ups, a database file replaced. The same
    /// events are reported on `typed_id::db` with the `tracing` feature.
    #[must_use]
    pub fn stats(&self) -> ConnectionStats {
        self.session.stats()
    }

    /// Runs one operation on the session's connection, checked and reconnected as
    /// described under [Faults](Self#faults), and, on success, checks that a SQLite
    /// database file is still the one the store opened before the result is handed out.
    fn run<T>(&self, f: impl FnOnce(&mut C) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.session.run(f, |e| match e {
            StoreError::Database { source, .. } => crate::db::breaks_connection(source),
            _ => false,
        })
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE` on SQLite): committed when it
    /// returns `Ok`, rolled back otherwise. Store operations on the same connection
    /// inside it (e.g. [`IdColumn::insert_unique`]) join the transaction.
    ///
    /// The connection is checked (and re-established) before the transaction begins,
    /// as for every operation; a connection lost inside `f` or at the commit fails the
    /// call, and `f` is not run again.
    ///
    /// # Errors
    /// Whatever `f` returns, or the transaction's own failure. The store's own failures
    /// ([`StoreError::Unreachable`], [`StoreError::Disconnected`],
    /// [`StoreError::DatabaseFileReplaced`]) reach `E` as a diesel
    /// `DatabaseError` carrying their message (`ClosedConnection` for the first two).
    pub fn write<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&mut C) -> Result<R, E>,
        E: From<DieselError>,
    {
        let mut conn = self
            .session
            .acquire()
            .map_err(|e| E::from(into_diesel(e.into())))?;
        let result = match self.session.lock_wait() {
            Some(wait) => crate::db::write_transaction_waiting(&mut *conn, wait, f),
            None => conn.write_transaction(f),
        };
        // Checked whatever the outcome: a file replaced under the connection is what a
        // failure is best reported as, and a success must not be handed out.
        let checked = if result.is_ok() {
            self.session.checked(&mut conn)
        } else {
            // A failure of `f` says nothing about the connection, unless it left a
            // transaction open.
            self.session.after_failure(&mut conn, false);
            self.session.check_file()
        };
        drop(conn);
        checked.map_err(|e| E::from(into_diesel(e.into())))?;
        result
    }

    /// Generates a content-hash ID of type `T` that is free in `column` and inserts it
    /// with `insert`, retrying with the next candidate when another writer took it
    /// first; see [`IdColumn::insert_unique`].
    ///
    /// # Errors
    /// As [`IdColumn::insert_unique`].
    pub fn insert_unique<T, F>(
        &self,
        generator: &HashIdGenerator,
        input: &HashInput<'_>,
        column: &IdColumn,
        insert: F,
    ) -> Result<T, StoreError>
    where
        T: TypedId<Body = HashId>,
        F: FnMut(&mut C, T) -> QueryResult<()>,
    {
        self.run(|conn| column.insert_unique(conn, generator, input, insert))
    }

    /// Raises `parent`'s child counter to the largest child number found under it in
    /// `column` (children inserted without [`ChildCounter::next_child`]); returns the
    /// counter's value afterwards.
    ///
    /// # Errors
    /// [`StoreError::CorruptValue`] when a value under `parent` in `column` is not a
    /// valid `T`; the database's error.
    pub fn resync_children<T>(&self, column: &IdColumn, parent: &T) -> Result<u32, StoreError>
    where
        T: TypedId<Body = HashId>,
    {
        let text = parent.to_text();
        let key = text.as_str();
        self.run(|conn| {
            let found = column.max_child_number::<C, T>(conn, parent)?;
            if found > 0 {
                conn.counter_observe(Counter::Children, key, i64::from(found))
                    .map_err(StoreError::db("update a child counter"))?;
            }
            Ok(())
        })?;
        self.last_child_number(key)
    }

    /// Raises display scope `scope`'s counter to at least `n`, so later numbers are
    /// above it; a lower `n` is ignored. For seeding a counter from the items' own
    /// table after the store's database was restored from a backup or recreated (see
    /// [`SqliteStore`]'s recovery notes), or after importing numbered items.
    ///
    /// # Errors
    /// [`StoreError::InvalidScope`]; [`StoreError::Exhausted`] when `n` is above
    /// [`Seq::MAX`] (no display ID carries it); as described under
    /// [Faults](Self#faults).
    pub fn observe_display_number(&self, scope: &str, n: u64) -> Result<(), StoreError> {
        check_scope(scope)?;
        let max = Counter::Display.max();
        if n > max {
            return Err(StoreError::Exhausted {
                key: scope.to_owned(),
                max,
            });
        }
        // n is at most Seq::MAX: it fits an i64.
        self.run(|conn| {
            self.session
                .waiting_for_lock(conn, StoreError::is_busy, |c| {
                    c.counter_observe(Counter::Display, scope, n as i64)
                        .map_err(StoreError::db("update a display counter"))
                })
        })
    }

    fn add(&self, counter: Counter, key: &str, n: u64) -> Result<u64, StoreError> {
        // The upsert is the first statement and takes the lock: busy, it changed nothing.
        self.run(|conn| {
            self.session
                .waiting_for_lock(conn, StoreError::is_busy, |c| {
                    Self::add_on(c, counter, key, n)
                })
        })
    }

    fn add_on(conn: &mut C, counter: Counter, key: &str, n: u64) -> Result<u64, StoreError> {
        let max = counter.max();
        let op = match counter {
            Counter::Children => "increment a child counter",
            Counter::Display => "allocate display numbers",
        };
        // n is at most MAX_BLOCK and max at most Seq::MAX: both fit an i64.
        let returned = match conn.counter_add(counter, key, n as i64, max as i64) {
            Ok(returned) => returned,
            Err(e @ DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, _)) => {
                // `last >= 0` refused the new value: the stored one is negative.
                return Err(match conn.counter_get(counter, key) {
                    Ok(Some(current)) if current < 0 => corrupt(counter, current, max),
                    _ => StoreError::Database { op, source: e },
                });
            }
            // Also a connection lost while the statement was under way: the server may
            // have committed it, so it is never sent again (the number is skipped).
            Err(e) => return Err(StoreError::Database { op, source: e }),
        };
        match returned {
            Some(last) if last >= n as i64 && last as u64 <= max => Ok(last as u64),
            Some(last) => Err(corrupt(counter, last - n as i64, max)),
            None => {
                // The update was refused: the counter is at its end, or beyond it.
                let current = conn
                    .counter_get(counter, key)
                    .map_err(StoreError::db(op))?
                    .unwrap_or(0);
                if current < 0 || current as u64 > max {
                    Err(corrupt(counter, current, max))
                } else {
                    Err(StoreError::Exhausted {
                        key: key.to_owned(),
                        max,
                    })
                }
            }
        }
    }

    fn get(&self, counter: Counter, key: &str) -> Result<u64, StoreError> {
        let max = counter.max();
        let value = self
            .run(|conn| {
                conn.counter_get(counter, key)
                    .map_err(StoreError::db("read a counter"))
            })?
            .unwrap_or(0);
        if value < 0 || value as u64 > max {
            return Err(corrupt(counter, value, max));
        }
        Ok(value as u64)
    }
}

/// A store failure as the diesel error [`SqlStore::write`]'s caller can receive.
#[cold]
fn into_diesel(e: StoreError) -> DieselError {
    let kind = match e {
        StoreError::Database { source, .. } => return source,
        StoreError::Unreachable { .. } | StoreError::Disconnected { .. } => {
            DatabaseErrorKind::ClosedConnection
        }
        _ => DatabaseErrorKind::Unknown,
    };
    DieselError::DatabaseError(kind, Box::new(e.to_string()))
}

#[cold]
fn corrupt(counter: Counter, value: i64, max: u64) -> StoreError {
    StoreError::CorruptValue {
        location: counter.location().to_owned(),
        value: value.to_string(),
        reason: format!("a counter must be in 0..={max}"),
    }
}

impl<C: StoreConnection> DisplayIdAllocator for SqlStore<C> {
    fn allocate_block(&self, scope: &str, count: u64) -> Result<RangeInclusive<u64>, StoreError> {
        check_scope(scope)?;
        check_block(count)?;
        let last = self.add(Counter::Display, scope, count)?;
        Ok(last - count + 1..=last)
    }

    fn last(&self, scope: &str) -> Result<u64, StoreError> {
        check_scope(scope)?;
        self.get(Counter::Display, scope)
    }

    fn observe_display_number(&self, scope: &str, n: u64) -> Result<(), StoreError> {
        SqlStore::<C>::observe_display_number(self, scope, n)
    }
}

impl<C: StoreConnection> ChildCounter for SqlStore<C> {
    fn next_child_number(&self, parent: &str) -> Result<u32, StoreError> {
        // The maximum is u32::MAX, so the value fits.
        self.add(Counter::Children, parent, 1).map(|n| n as u32)
    }

    fn observe_child_number(&self, parent: &str, n: u32) -> Result<(), StoreError> {
        self.run(|conn| {
            conn.counter_observe(Counter::Children, parent, i64::from(n))
                .map_err(StoreError::db("update a child counter"))
        })
    }

    fn last_child_number(&self, parent: &str) -> Result<u32, StoreError> {
        self.get(Counter::Children, parent).map(|n| n as u32)
    }
}

/// Rows of the store's queries.
mod rows {
    use diesel::QueryableByName;
    use diesel::sql_types::{BigInt, Bool, Text};

    #[derive(QueryableByName)]
    pub(super) struct Last {
        #[diesel(sql_type = BigInt)]
        pub(super) last: i64,
    }

    #[derive(QueryableByName)]
    pub(super) struct Found {
        #[diesel(sql_type = Bool)]
        pub(super) found: bool,
    }

    #[derive(QueryableByName)]
    pub(super) struct Count {
        #[diesel(sql_type = BigInt)]
        pub(super) n: i64,
    }

    #[derive(QueryableByName)]
    pub(super) struct Value {
        #[diesel(sql_type = Text)]
        pub(super) value: String,
    }
}

/// The store's statements, one text for both engines (see
/// [`prepared`](crate::db::prepared)).
pub(crate) struct Statements {
    display: CounterSql,
    children: CounterSql,
}

/// A counter table's statements: add to a counter unless it would pass `max` (no row
/// returned then), raise it to at least a value, read it.
struct CounterSql {
    add: &'static str,
    observe: &'static str,
    get: &'static str,
}

/// [`CounterSql`] for a table of `(key, last)` rows.
#[rustfmt::skip]
macro_rules! counter_sql {
    ($table:literal, $key:literal) => {
        CounterSql {
            add: concat!(
                "INSERT INTO ", $table, " (", $key, ", last) VALUES (?, ?) ",
                "ON CONFLICT (", $key, ") DO UPDATE SET last = ", $table, ".last + excluded.last ",
                "WHERE ", $table, ".last + excluded.last <= ? RETURNING last"
            ),
            observe: concat!(
                "INSERT INTO ", $table, " (", $key, ", last) VALUES (?, ?) ",
                "ON CONFLICT (", $key, ") DO UPDATE SET last = excluded.last ",
                "WHERE excluded.last > ", $table, ".last"
            ),
            get: concat!("SELECT last FROM ", $table, " WHERE ", $key, " = ?"),
        }
    };
}

pub(crate) const STATEMENTS: Statements = Statements {
    display: counter_sql!("typed_id_display_sequences", "scope"),
    children: counter_sql!("typed_id_child_counters", "parent"),
};

impl Statements {
    fn counter(&self, counter: Counter) -> &CounterSql {
        match counter {
            Counter::Children => &self.children,
            Counter::Display => &self.display,
        }
    }

    fn add(&self, counter: Counter) -> &'static str {
        self.counter(counter).add
    }

    fn observe(&self, counter: Counter) -> &'static str {
        self.counter(counter).observe
    }

    fn get(&self, counter: Counter) -> &'static str {
        self.counter(counter).get
    }

    fn exists(&self, column: &IdColumn) -> String {
        format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE {} = ?) AS found",
            column.quoted_table, column.quoted_column,
        )
    }

    fn count(&self, column: &IdColumn) -> String {
        format!("SELECT COUNT(*) AS n FROM {}", column.quoted_table)
    }

    fn starting_with(&self, column: &IdColumn) -> String {
        format!(
            "SELECT {col} AS value FROM {} WHERE substr({col}, 1, ?) = ?",
            column.quoted_table,
            col = column.quoted_column,
        )
    }
}

/// The engine-independent statements of [`StoreConnection`], expanded once per
/// connection type (diesel's query builders are checked per backend).
macro_rules! shared_statements {
    () => {
        fn counter_add(
            &mut self,
            counter: $crate::store::sql::Counter,
            key: &str,
            n: i64,
            max: i64,
        ) -> diesel::QueryResult<Option<i64>> {
            use diesel::RunQueryDsl as _;
            use diesel::sql_types::{BigInt, Text};
            $crate::db::prepared::prepared($crate::store::sql::STATEMENTS.add(counter))
                .bind::<Text, _>(key)
                .bind::<BigInt, _>(n)
                .bind::<BigInt, _>(max)
                .get_result::<$crate::store::sql::rows::Last>(self)
                .map(|row| Some(row.last))
                .or_else(|e| match e {
                    diesel::result::Error::NotFound => Ok(None),
                    e => Err(e),
                })
        }

        fn counter_observe(
            &mut self,
            counter: $crate::store::sql::Counter,
            key: &str,
            n: i64,
        ) -> diesel::QueryResult<()> {
            use diesel::RunQueryDsl as _;
            use diesel::sql_types::{BigInt, Text};
            $crate::db::prepared::prepared($crate::store::sql::STATEMENTS.observe(counter))
                .bind::<Text, _>(key)
                .bind::<BigInt, _>(n)
                .execute(self)
                .map(drop)
        }

        fn counter_get(
            &mut self,
            counter: $crate::store::sql::Counter,
            key: &str,
        ) -> diesel::QueryResult<Option<i64>> {
            use diesel::OptionalExtension as _;
            use diesel::RunQueryDsl as _;
            use diesel::sql_types::Text;
            $crate::db::prepared::prepared($crate::store::sql::STATEMENTS.get(counter))
                .bind::<Text, _>(key)
                .get_result::<$crate::store::sql::rows::Last>(self)
                .optional()
                .map(|row| row.map(|r| r.last))
        }

        fn id_exists(
            &mut self,
            column: &$crate::store::sql::IdColumn,
            id: &str,
        ) -> diesel::QueryResult<bool> {
            use diesel::RunQueryDsl as _;
            use diesel::sql_types::Text;
            $crate::db::prepared::prepared($crate::store::sql::STATEMENTS.exists(column))
                .bind::<Text, _>(id)
                .get_result::<$crate::store::sql::rows::Found>(self)
                .map(|row| row.found)
        }

        fn id_count(&mut self, column: &$crate::store::sql::IdColumn) -> diesel::QueryResult<i64> {
            use diesel::RunQueryDsl as _;
            $crate::db::prepared::prepared($crate::store::sql::STATEMENTS.count(column))
                .get_result::<$crate::store::sql::rows::Count>(self)
                .map(|row| row.n)
        }

        fn ids_starting_with(
            &mut self,
            column: &$crate::store::sql::IdColumn,
            prefix: &str,
        ) -> diesel::QueryResult<Vec<String>> {
            use diesel::RunQueryDsl as _;
            use diesel::sql_types::{Integer, Text};
            // IDs are ASCII, so characters and bytes agree for `substr`.
            let len = i32::try_from(prefix.len()).unwrap_or(i32::MAX);
            $crate::db::prepared::prepared($crate::store::sql::STATEMENTS.starting_with(column))
                .bind::<Integer, _>(len)
                .bind::<Text, _>(prefix)
                .load::<$crate::store::sql::rows::Value>(self)
                .map(|rows| rows.into_iter().map(|r| r.value).collect())
        }
    };
}

#[cfg(feature = "sqlite")]
impl StoreConnection for diesel::SqliteConnection {
    shared_statements!();
}

#[cfg(feature = "postgres")]
impl StoreConnection for diesel::PgConnection {
    shared_statements!();
}
