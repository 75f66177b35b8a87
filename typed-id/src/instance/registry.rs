//! The instance registry: one row per instance in a SQLite or PostgreSQL table, kept
//! alive by heartbeats, listed by project, looked up by ID or unique prefix.
//!
//! Registration never overwrites a live instance: an ID whose row has a recent
//! heartbeat is a [`RegistryError::DuplicateInstance`]. A row that was closed, or whose
//! heartbeat is older than the stale timeout (its process presumably died), is taken
//! over, and the result says so. Each registration gets a random incarnation number, so
//! a process that went stale and was replaced learns it on its next heartbeat
//! ([`RegistryError::Superseded`]) instead of silently sharing the ID.

use core::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::detect::DetectionSource;
use super::error::RegistryError;
use super::validate::Environment;
use crate::db::prepared::prepared;
use crate::db::session::{Check, Connector};
use crate::db::{
    AnyConnection, Backend, ConnectOptions, DbConnection, Engine, ReconnectPolicy, Session,
    Synchronous, Target, on_conn,
};
use crate::generator::{Clock, SystemClock, system_time};

/// Default stale timeout: an instance without a heartbeat for this long is stale.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(120);
/// Longest instance ID the registry stores, in bytes.
const MAX_ID_BYTES: usize = 255;
/// Most candidates an ambiguous prefix lists.
const MAX_CANDIDATES: usize = 20;

/// How a [`Registry`] behaves: stale timeout, clock, connection settings.
#[derive(Clone)]
pub struct RegistryOptions {
    pub(crate) stale_after: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) connection: ConnectOptions,
    pub(crate) migrate: bool,
}

impl RegistryOptions {
    /// Defaults: stale after 120 s, the system clock, connections with a 5 s busy
    /// timeout and [`Synchronous::Normal`] (lease writes are always `Full`; PostgreSQL
    /// always commits synchronously, see [`synchronous`](Self::synchronous)),
    /// migrations applied on open.
    #[must_use]
    pub fn new() -> Self {
        RegistryOptions {
            stale_after: DEFAULT_STALE_AFTER,
            clock: Arc::new(SystemClock),
            connection: ConnectOptions::new().busy_timeout(Duration::from_secs(5)),
            migrate: true,
        }
    }

    /// An instance whose last heartbeat is older than this is stale: marked in
    /// [`Registry::list`], and its ID may be registered again.
    #[must_use]
    pub fn stale_after(mut self, timeout: Duration) -> Self {
        self.stale_after = timeout;
        self
    }

    /// The clock for every time the registry and its leases write (default: the system
    /// clock). Tests inject a [`ManualClock`](crate::generator::ManualClock).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The connection settings, the same type the stores take (default: a 5 s busy
    /// timeout, [`Synchronous::Normal`]).
    #[must_use]
    pub fn connection(mut self, options: ConnectOptions) -> Self {
        self.connection = options;
        self
    }

    /// How long a statement waits for another connection's lock before failing (SQLite:
    /// "database is locked"; PostgreSQL: `lock_timeout`; default 5 s). The same as
    /// [`ConnectOptions::busy_timeout`] through [`connection`](Self::connection).
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.connection = self.connection.busy_timeout(timeout);
        self
    }

    /// When the registry's writes reach the disk (the vocabulary the stores use too):
    /// with [`Synchronous::Full`] every SQLite write commits with `synchronous = FULL`
    /// (an `fsync` per commit) rather than `NORMAL`. Default `Normal`: registrations,
    /// heartbeats and closes survive a crashed process but may lose their last commits on power loss,
    /// which costs nothing but a stale-looking row (a lost registration is reported by
    /// its process's next heartbeat as [`RegistryError::NotFound`] or
    /// [`RegistryError::Superseded`]). Lease writes (acquire, renew, release) always
    /// commit with `FULL`, whatever this says: the high-water mark they record is what
    /// keeps a successor from repeating IDs after a reboot.
    ///
    /// On PostgreSQL every registry write waits for its commit's WAL flush, whatever
    /// the server's `synchronous_commit` default: the registry raises `off` or `local`
    /// to `on` for its own sessions (stronger settings are kept). A renewal lost in a
    /// server crash would otherwise let a successor take the worker ID over below IDs
    /// the holder had already issued. Connect the registry to the server directly or
    /// through a session-mode pooler: a transaction-mode pooler does not keep session
    /// settings (this one, and the `lock_timeout`). No client setting helps against a
    /// server run with `fsync = off`, or a disk that acknowledges writes it has not
    /// stored: such a server may lose any commit in a power cut or an operating-system
    /// crash, and with it the lease's high-water mark.
    #[must_use]
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.connection = self.connection.synchronous(synchronous);
        self
    }

    /// `true`: [`Synchronous::Full`]; `false`: [`Synchronous::Normal`].
    #[deprecated(
        note = "use `synchronous(Synchronous::Full)`, the vocabulary stores and the registry share"
    )]
    #[must_use]
    pub fn durable(self, durable: bool) -> Self {
        self.synchronous(if durable {
            Synchronous::Full
        } else {
            Synchronous::Normal
        })
    }

    /// Whether [`Registry::open_with`] applies the embedded migrations (default
    /// `true`; turn off when the schema is managed elsewhere).
    #[must_use]
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    pub(crate) fn now_ms(&self) -> i64 {
        i64::try_from(self.clock.now_ms()).unwrap_or(i64::MAX)
    }
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("stale_after", &self.stale_after)
            .field("clock_now_ms", &self.clock.now_ms())
            .field("connection", &self.connection)
            .field("migrate", &self.migrate)
            .finish()
    }
}

/// What to register: the ID, its project, and where it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInstance {
    id: String,
    project: String,
    hostname: Option<String>,
    pid: Option<u32>,
    source: Option<String>,
    environment: Option<String>,
    status: Option<String>,
}

impl NewInstance {
    /// An instance `id` of `project`, on this host, with this process's pid.
    #[must_use]
    pub fn new(id: impl Into<String>, project: impl Into<String>) -> Self {
        NewInstance {
            id: id.into(),
            project: project.into(),
            hostname: crate::generator::hostname(),
            pid: Some(std::process::id()),
            source: None,
            environment: None,
            status: None,
        }
    }

    /// The hostname (default: this machine's).
    #[must_use]
    pub fn hostname(mut self, hostname: Option<&str>) -> Self {
        self.hostname = hostname.map(str::to_owned);
        self
    }

    /// The process ID (default: this process's).
    #[must_use]
    pub fn pid(mut self, pid: Option<u32>) -> Self {
        self.pid = pid;
        self
    }

    /// Records where the ID came from.
    #[must_use]
    pub fn source(mut self, source: &DetectionSource) -> Self {
        self.source = Some(source.name().to_owned());
        self
    }

    /// Records the environment.
    #[must_use]
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment.as_str().to_owned());
        self
    }

    /// An initial status (free text, e.g. a small JSON document).
    #[must_use]
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// The instance ID.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// One instance as the registry knows it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceRecord {
    /// The instance ID.
    pub id: String,
    /// Its project.
    pub project: String,
    /// Where it runs, if recorded.
    pub hostname: Option<String>,
    /// Its process ID, if recorded.
    pub pid: Option<u32>,
    /// How its ID was detected ([`DetectionSource::name`]), if recorded.
    pub source: Option<String>,
    /// Its environment, if recorded.
    pub environment: Option<String>,
    /// When it registered, Unix milliseconds.
    pub started_at_ms: u64,
    /// Its last heartbeat (or registration), Unix milliseconds.
    pub last_heartbeat_ms: u64,
    /// The status sent with its last heartbeat that had one.
    pub status: Option<String>,
    /// When it closed, Unix milliseconds; `None` while active.
    pub closed_at_ms: Option<u64>,
    /// Whether its last heartbeat is older than the stale timeout (at the time of the
    /// query). Closed instances are never stale.
    pub stale: bool,
}

impl InstanceRecord {
    /// When it registered.
    #[must_use]
    pub fn started_at(&self) -> SystemTime {
        system_time(self.started_at_ms)
    }

    /// Its last heartbeat.
    #[must_use]
    pub fn last_heartbeat(&self) -> SystemTime {
        system_time(self.last_heartbeat_ms)
    }

    /// Whether it has not been closed.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.closed_at_ms.is_none()
    }
}

/// A successful registration: what to pass to [`Registry::heartbeat`] and
/// [`Registry::close`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    id: String,
    incarnation: i64,
    replaced: Option<InstanceRecord>,
}

impl Registration {
    /// The instance ID.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The row this registration took over — a closed or stale instance with the same
    /// ID — if any. Worth a log line.
    #[must_use]
    pub fn replaced(&self) -> Option<&InstanceRecord> {
        self.replaced.as_ref()
    }
}

#[derive(QueryableByName)]
struct InstanceRow {
    #[diesel(sql_type = Text)]
    instance_id: String,
    #[diesel(sql_type = Text)]
    project: String,
    #[diesel(sql_type = Nullable<Text>)]
    hostname: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pid: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    source: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    environment: Option<String>,
    #[diesel(sql_type = BigInt)]
    started_at_ms: i64,
    #[diesel(sql_type = BigInt)]
    last_heartbeat_ms: i64,
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    closed_at_ms: Option<i64>,
    #[diesel(sql_type = BigInt)]
    incarnation: i64,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Text)]
    instance_id: String,
}

/// The registry's statements. Binds are marked `?` (diesel writes each engine's
/// placeholder); where the engines' SQL differs, both texts stand side by side.
mod sql {
    use crate::db::Sql;

    /// The columns of an `InstanceRow`.
    macro_rules! columns {
        () => {
            "instance_id, project, hostname, pid, source, environment, \
             started_at_ms, last_heartbeat_ms, status, closed_at_ms, incarnation"
        };
    }

    pub(super) const SELECT: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE instance_id = ?"
    );
    /// The row a registration may take over, locked against concurrent registrations
    /// (SQLite's `BEGIN IMMEDIATE` has locked the whole database already).
    pub(super) const SELECT_FOR_UPDATE: Sql = Sql {
        sqlite: SELECT,
        postgres: concat!(
            "SELECT ",
            columns!(),
            " FROM typed_id_instances WHERE instance_id = ? FOR UPDATE"
        ),
    };
    pub(super) const DELETE: &str = "DELETE FROM typed_id_instances WHERE instance_id = ?";
    pub(super) const INSERT: &str = concat!(
        "INSERT INTO typed_id_instances (",
        columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)"
    );
    pub(super) const HEARTBEAT: &str = "UPDATE typed_id_instances SET last_heartbeat_ms = ?, \
         status = COALESCE(?, status) \
         WHERE instance_id = ? AND incarnation = ? AND closed_at_ms IS NULL";
    pub(super) const CLOSE: &str = "UPDATE typed_id_instances SET closed_at_ms = ? \
         WHERE instance_id = ? AND incarnation = ? AND closed_at_ms IS NULL";
    pub(super) const LIST_PROJECT: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE closed_at_ms IS NULL AND project = ? \
         ORDER BY project, last_heartbeat_ms DESC, instance_id"
    );
    pub(super) const LIST_ALL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE closed_at_ms IS NULL \
         ORDER BY project, last_heartbeat_ms DESC, instance_id"
    );
    /// Active IDs in `[prefix, upper)`, at most `?` of them.
    pub(super) const PREFIX_RANGE: &str = "SELECT instance_id FROM typed_id_instances \
         WHERE instance_id >= ? AND instance_id < ? AND closed_at_ms IS NULL \
         ORDER BY instance_id LIMIT ?";
    /// Active IDs from `prefix` on (a prefix without an upper bound), at most `?`.
    pub(super) const PREFIX_FROM: &str = "SELECT instance_id FROM typed_id_instances \
         WHERE instance_id >= ? AND closed_at_ms IS NULL ORDER BY instance_id LIMIT ?";
}

fn ms(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A connection to the instance registry (and the worker-ID leases in the same
/// database). Thread-safe: operations take turns on one connection, which is
/// re-established after it breaks.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use typed_id::instance::{NewInstance, Registry, RegistryError};
/// # let dir = std::env::temp_dir().join(format!("typed-id-doc-reg-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("registry.db");
/// # let path = path.to_str().unwrap();
///
/// let registry = Registry::open(path)?; // or "postgres://…"
/// let me = registry.register(&NewInstance::new("orders-api-7f3c2a91", "orders"))?;
/// registry.heartbeat(&me, Some(r#"{"queue":3}"#))?;
///
/// let found = registry.get("orders-api-7f")?; // a unique prefix is enough
/// assert_eq!(found.status.as_deref(), Some(r#"{"queue":3}"#));
///
/// // A second live instance with the same ID is refused.
/// let again = registry.register(&NewInstance::new("orders-api-7f3c2a91", "orders"));
/// assert!(matches!(again, Err(RegistryError::DuplicateInstance { .. })));
///
/// registry.close(&me)?;
/// assert!(registry.list(Some("orders"))?.is_empty());
/// # std::fs::remove_dir_all(&dir).ok();
/// # }
/// # Ok::<(), typed_id::instance::RegistryError>(())
/// ```
pub struct Registry {
    backend: Backend,
    options: RegistryOptions,
    /// The connection, re-established after a failure broke it. A SQLite registry's
    /// file deleted or replaced since it was opened is refused rather than silently
    /// used (the old one, still open) or reconnected to (a different copy of the data).
    session: Session<AnyConnection>,
}

impl Registry {
    /// Opens the registry at `url` with default options and applies the embedded
    /// migrations: a SQLite path (or `sqlite://path`, `file:` URI) with the `sqlite`
    /// feature, a `postgres://` URL or libpq `key=value` string with `postgres`.
    ///
    /// # Errors
    /// [`RegistryError::UnsupportedUrl`], [`RegistryError::Connect`],
    /// [`RegistryError::Migration`], [`RegistryError::Database`].
    pub fn open(url: &str) -> Result<Registry, RegistryError> {
        Self::open_with(url, RegistryOptions::new())
    }

    /// Opens the registry with `options`.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with(url: &str, options: RegistryOptions) -> Result<Registry, RegistryError> {
        let target = Target::parse(url)?;
        let backend = target.backend();
        let connection = options.connection;
        let conn = AnyConnection::connect(&target, &connection)?;
        let connect: Connector<AnyConnection> =
            Box::new(move || AnyConnection::connect(&target, &connection));
        // Heartbeats retry on their own: a broken connection fails its operation and
        // the next one connects again, once.
        let mut session = Session::new(conn, Some(connect), Check::AfterFailure)?;
        session.set_policy(ReconnectPolicy::new().within(Duration::ZERO));
        let registry = Registry {
            backend,
            options,
            session,
        };
        if registry.options.migrate {
            registry.with_conn("migrate", |conn| Ok(conn.migrate()?))?;
        }
        Ok(registry)
    }

    /// The options it was opened with.
    #[must_use]
    pub fn options(&self) -> &RegistryOptions {
        &self.options
    }

    /// `sqlite` or `postgres`.
    #[must_use]
    pub fn backend(&self) -> &'static str {
        self.backend.name()
    }

    /// A SQLite registry's file and its identity (device, inode) when opened.
    pub(crate) fn file(&self) -> Option<(std::path::PathBuf, (u64, u64))> {
        self.session.main_file()
    }

    /// The registry clock's reading, Unix milliseconds.
    #[must_use]
    pub fn now_ms(&self) -> u64 {
        self.options.clock.now_ms()
    }

    /// Runs `f` on the connection (reconnecting first if the last one broke) and marks
    /// the connection for replacement if `f` found it broken or left it inside a
    /// transaction (a failed commit or rollback), so the next operation starts on a
    /// fresh one.
    pub(crate) fn with_conn<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        self.session.run(
            |conn| f(conn).map_err(|e| e.in_op(op)),
            RegistryError::is_connection_broken,
        )
    }

    /// As [`with_conn`](Self::with_conn), committing durably: on SQLite `f` runs with
    /// `synchronous = FULL` (an `fsync` per commit) even when the registry's own writes
    /// are `NORMAL`; a PostgreSQL session always commits synchronously. For the lease
    /// writes that record high-water marks.
    pub(crate) fn with_durable_conn<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let base = self.options.connection.synchronous;
        self.with_conn(op, |conn| conn.durably(base, f))
    }

    /// Registers an instance. A closed or stale row with the same ID is taken over
    /// (and returned in [`Registration::replaced`]); a live one is an error.
    ///
    /// # Errors
    /// [`RegistryError::DuplicateInstance`] when the ID is registered and alive,
    /// [`RegistryError::InvalidInstanceId`] for an empty or over-long ID,
    /// [`RegistryError::Database`].
    pub fn register(&self, new: &NewInstance) -> Result<Registration, RegistryError> {
        if new.id.is_empty() || new.id.len() > MAX_ID_BYTES {
            return Err(RegistryError::InvalidInstanceId { id: new.id.clone() });
        }
        let incarnation = random_i64()?;
        let now = self.options.now_ms();
        let stale_cutoff = self.stale_cutoff(now);
        let result = self.with_conn("register", |conn| {
            on_conn!(conn, |c| c.write_transaction(|c| {
                let existing: Option<InstanceRow> =
                    prepared(sql::SELECT_FOR_UPDATE.text(c.backend()))
                        .bind::<Text, _>(&new.id)
                        .get_result(c)
                        .optional()?;
                let replaced = match existing {
                    None => None,
                    Some(row) => {
                        let record = self.record(row, now);
                        if record.is_active() && record.last_heartbeat_ms as i64 >= stale_cutoff {
                            return Err(RegistryError::DuplicateInstance {
                                existing: Box::new(record),
                            });
                        }
                        prepared(sql::DELETE).bind::<Text, _>(&new.id).execute(c)?;
                        Some(record)
                    }
                };
                prepared(sql::INSERT)
                    .bind::<Text, _>(&new.id)
                    .bind::<Text, _>(&new.project)
                    .bind::<Nullable<Text>, _>(new.hostname.as_deref())
                    .bind::<Nullable<BigInt>, _>(new.pid.map(i64::from))
                    .bind::<Nullable<Text>, _>(new.source.as_deref())
                    .bind::<Nullable<Text>, _>(new.environment.as_deref())
                    .bind::<BigInt, _>(now)
                    .bind::<BigInt, _>(now)
                    .bind::<Nullable<Text>, _>(new.status.as_deref())
                    .bind::<BigInt, _>(incarnation)
                    .execute(c)?;
                Ok(replaced)
            }))
        });
        match result {
            Ok(replaced) => Ok(Registration {
                id: new.id.clone(),
                incarnation,
                replaced,
            }),
            // Another process inserted the same ID between our check and our insert
            // (PostgreSQL's row lock cannot cover a row that did not exist yet).
            Err(e) if e.is_unique_violation() => match self.get_exact(&new.id)? {
                Some(existing) => Err(RegistryError::DuplicateInstance {
                    existing: Box::new(existing),
                }),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Records a heartbeat, with an optional status (free text, e.g. a small JSON
    /// document; `None` keeps the previous one). Revives a stale instance.
    ///
    /// A failure (database down or locked, connection broken) is returned, never
    /// panics; the next heartbeat reconnects.
    ///
    /// # Errors
    /// [`RegistryError::Closed`], [`RegistryError::Superseded`],
    /// [`RegistryError::NotFound`], [`RegistryError::Database`].
    pub fn heartbeat(
        &self,
        registration: &Registration,
        status: Option<&str>,
    ) -> Result<(), RegistryError> {
        let now = self.options.now_ms();
        let updated = self.with_conn("heartbeat", |conn| {
            on_conn!(conn, |c| {
                Ok(prepared(sql::HEARTBEAT)
                    .bind::<BigInt, _>(now)
                    .bind::<Nullable<Text>, _>(status)
                    .bind::<Text, _>(&registration.id)
                    .bind::<BigInt, _>(registration.incarnation)
                    .execute(c)?)
            })
        })?;
        if updated == 1 {
            Ok(())
        } else {
            Err(self.why_not_updated(registration)?)
        }
    }

    /// Closes an instance: it leaves [`list`](Self::list) and its ID may be registered
    /// again. Closing twice is not an error.
    ///
    /// # Errors
    /// [`RegistryError::Superseded`], [`RegistryError::NotFound`],
    /// [`RegistryError::Database`].
    pub fn close(&self, registration: &Registration) -> Result<(), RegistryError> {
        let now = self.options.now_ms();
        let updated = self.with_conn("close", |conn| {
            on_conn!(conn, |c| {
                Ok(prepared(sql::CLOSE)
                    .bind::<BigInt, _>(now)
                    .bind::<Text, _>(&registration.id)
                    .bind::<BigInt, _>(registration.incarnation)
                    .execute(c)?)
            })
        })?;
        if updated == 1 {
            return Ok(());
        }
        match self.why_not_updated(registration)? {
            RegistryError::Closed { .. } => Ok(()),
            e => Err(e),
        }
    }

    /// Why a heartbeat or close matched no row.
    fn why_not_updated(&self, registration: &Registration) -> Result<RegistryError, RegistryError> {
        let id = registration.id.clone();
        Ok(match self.get_exact_row(&registration.id)? {
            None => RegistryError::NotFound { id },
            Some(row) if row.incarnation != registration.incarnation => {
                RegistryError::Superseded { id }
            }
            Some(_) => RegistryError::Closed { id },
        })
    }

    /// Active (not closed) instances, of one project or all, ordered by project, then
    /// most recent heartbeat first; stale ones are marked ([`InstanceRecord::stale`]).
    ///
    /// # Errors
    /// [`RegistryError::Database`].
    pub fn list(&self, project: Option<&str>) -> Result<Vec<InstanceRecord>, RegistryError> {
        let rows: Vec<InstanceRow> = self.with_conn("list", |conn| {
            on_conn!(conn, |c| {
                Ok(match project {
                    Some(p) => prepared(sql::LIST_PROJECT).bind::<Text, _>(p).load(c)?,
                    None => prepared(sql::LIST_ALL).load(c)?,
                })
            })
        })?;
        let now = self.options.now_ms();
        Ok(rows.into_iter().map(|r| self.record(r, now)).collect())
    }

    /// One instance, by its full ID (closed ones included) or by a prefix that exactly
    /// one active instance's ID starts with.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`], [`RegistryError::AmbiguousPrefix`] (with the
    /// candidates), [`RegistryError::Database`].
    pub fn get(&self, id_or_prefix: &str) -> Result<InstanceRecord, RegistryError> {
        if let Some(record) = self.get_exact(id_or_prefix)? {
            return Ok(record);
        }
        if id_or_prefix.is_empty() {
            return Err(RegistryError::NotFound { id: String::new() });
        }
        // IDs compare byte by byte (SQLite's BINARY, PostgreSQL's "C" collation), so the
        // IDs starting with the prefix are exactly a key range: an index range scan.
        let upper = prefix_upper_bound(id_or_prefix);
        let mut ids: Vec<IdRow> = self.with_conn("get", |conn| {
            on_conn!(conn, |c| {
                let limit = (MAX_CANDIDATES + 1) as i64;
                Ok(match &upper {
                    Some(upper) => prepared(sql::PREFIX_RANGE)
                        .bind::<Text, _>(id_or_prefix)
                        .bind::<Text, _>(upper)
                        .bind::<BigInt, _>(limit)
                        .load(c)?,
                    None => prepared(sql::PREFIX_FROM)
                        .bind::<Text, _>(id_or_prefix)
                        .bind::<BigInt, _>(limit)
                        .load(c)?,
                })
            })
        })?;
        match ids.len() {
            0 => Err(RegistryError::NotFound {
                id: id_or_prefix.to_owned(),
            }),
            1 => {
                let id = ids.remove(0).instance_id;
                self.get_exact(&id)?.ok_or(RegistryError::NotFound { id })
            }
            n => {
                ids.truncate(MAX_CANDIDATES);
                Err(RegistryError::AmbiguousPrefix {
                    prefix: id_or_prefix.to_owned(),
                    candidates: ids.into_iter().map(|r| r.instance_id).collect(),
                    more: n > MAX_CANDIDATES,
                })
            }
        }
    }

    fn get_exact(&self, id: &str) -> Result<Option<InstanceRecord>, RegistryError> {
        let now = self.options.now_ms();
        Ok(self.get_exact_row(id)?.map(|r| self.record(r, now)))
    }

    fn get_exact_row(&self, id: &str) -> Result<Option<InstanceRow>, RegistryError> {
        self.with_conn("get", |conn| {
            on_conn!(conn, |c| {
                Ok(prepared(sql::SELECT)
                    .bind::<Text, _>(id)
                    .get_result(c)
                    .optional()?)
            })
        })
    }

    fn stale_cutoff(&self, now: i64) -> i64 {
        let timeout = i64::try_from(self.options.stale_after.as_millis()).unwrap_or(i64::MAX);
        now.saturating_sub(timeout)
    }

    fn record(&self, row: InstanceRow, now: i64) -> InstanceRecord {
        let stale = row.closed_at_ms.is_none() && row.last_heartbeat_ms < self.stale_cutoff(now);
        InstanceRecord {
            id: row.instance_id,
            project: row.project,
            hostname: row.hostname,
            pid: row.pid.and_then(|p| u32::try_from(p).ok()),
            source: row.source,
            environment: row.environment,
            started_at_ms: ms(row.started_at_ms),
            last_heartbeat_ms: ms(row.last_heartbeat_ms),
            status: row.status,
            closed_at_ms: row.closed_at_ms.map(ms),
            stale,
        }
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("backend", &self.backend())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The smallest string above every string that starts with `prefix`, in code point
/// (= UTF-8 byte) order: the prefix with its last character that is not `U+10FFFF`
/// replaced by the next character; `None` when every character is `U+10FFFF`.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A random non-zero `i64` (incarnations and lease tokens).
pub(crate) fn random_i64() -> Result<i64, RegistryError> {
    let mut buf = [0u8; 8];
    crate::generator::fill_random(&mut buf).map_err(RegistryError::Generator)?;
    Ok(i64::from_be_bytes(buf) | 1)
}

#[cfg(test)]
mod tests {
    use super::prefix_upper_bound;

    #[test]
    fn prefix_bounds() {
        assert_eq!(prefix_upper_bound("api-7f").as_deref(), Some("api-7g"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(
            prefix_upper_bound("a\u{D7FF}").as_deref(),
            Some("a\u{E000}")
        );
        assert_eq!(prefix_upper_bound("\u{10FFFF}\u{10FFFF}"), None);
        // Every string starting with the prefix lies in [prefix, bound).
        for p in ["x", "web-", "é", "a\u{10FFFF}"] {
            let upper = prefix_upper_bound(p).unwrap();
            for tail in ["", "\u{0}", "zzz", "\u{10FFFF}\u{10FFFF}"] {
                let s = format!("{p}{tail}");
                assert!(s.as_str() >= p && s < upper, "{s:?} {upper:?}");
            }
        }
    }
}
