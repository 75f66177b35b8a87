//! The registry itself: its options, the connection its operations take turns on, and
//! how a stored row becomes an [`InstanceRecord`]. What the operations do is in
//! [`lifecycle`](super::lifecycle) (register, heartbeat, close) and
//! [`lookup`](super::lookup) (get, list, purge); their SQL in
//! [`registry_sql`](super::registry_sql).

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::error::RegistryError;
use super::record::InstanceRecord;
use super::registry_sql::InstanceRow;
use crate::body::HexSpec;
use crate::db::session::{Check, Connector};
use crate::db::{
    AnyConnection, Backend, ConnectOptions, DbConnection, ReconnectPolicy, Session, Synchronous,
    Target,
};
use crate::generator::{Clock, SystemClock};

/// Default stale timeout: an instance without a heartbeat for this long is stale.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(120);

/// How a [`Registry`] behaves: stale timeout, clock, connection settings, allowed
/// instance types, length of minted keys.
#[derive(Clone)]
pub struct RegistryOptions {
    pub(crate) stale_after: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) connection: ConnectOptions,
    pub(crate) migrate: bool,
    pub(crate) instance_types: Option<Arc<[String]>>,
    pub(crate) key_hex: HexSpec,
}

impl RegistryOptions {
    /// Defaults: stale after 120 s, the system clock, connections with a 5 s busy
    /// timeout and [`Synchronous::Normal`] (lease writes are always `Full`; PostgreSQL
    /// always commits synchronously, see [`synchronous`](Self::synchronous)),
    /// migrations applied on open, any instance type, 6-digit minted keys.
    #[must_use]
    pub fn new() -> Self {
        RegistryOptions {
            stale_after: DEFAULT_STALE_AFTER,
            clock: Arc::new(SystemClock),
            connection: ConnectOptions::new().busy_timeout(Duration::from_secs(5)),
            migrate: true,
            instance_types: None,
            key_hex: HexSpec::DEFAULT,
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

    /// Restricts the instance types this registry registers to `types` (e.g. `["PS",
    /// "MS"]`, compared exactly); another type is
    /// [`RegistryError::InstanceTypeNotAllowed`]. Default: any type that fits the key
    /// grammar (1 to 16 ASCII letters and digits). Rows under a caller's own ID have no
    /// type and are not affected.
    #[must_use]
    pub fn instance_types<I>(mut self, types: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.instance_types = Some(types.into_iter().map(Into::into).collect());
        self
    }

    /// The number of hex digits of the keys the registry mints (default 6, as in
    /// `odin-PS-8f4a2b`). Six digits are 24 bits: short, and unique only because the
    /// registry retries a duplicate; see
    /// [`InstanceKeyGenerator`](crate::generator::InstanceKeyGenerator) for the odds
    /// when many keys of one project and type are kept.
    #[must_use]
    pub fn key_hex(mut self, spec: HexSpec) -> Self {
        self.key_hex = spec;
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
            .field("instance_types", &self.instance_types)
            .field("key_hex", &self.key_hex.len())
            .finish()
    }
}

/// A connection to the instance registry (and the worker-ID leases in the same
/// database). Thread-safe: operations take turns on one connection, which is
/// re-established after it breaks. See the [module documentation](super#the-registry)
/// for what it keeps and the calls at a glance.
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
/// // A typed instance: the registry mints its key, found again by the hash alone.
/// let agent = registry.register(&NewInstance::typed("orders", "PS"))?;
/// let hash = agent.id().rsplit('-').next().unwrap();
/// assert_eq!(registry.get_by_hash(hash)?.id, agent.id());
///
/// registry.close(&me)?;
/// registry.close_by_id(agent.id())?; // what an operator's tool does
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
        session.set_checkpoint_every(connection.checkpoint_every);
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

    /// What the registry's connection has been through since it was opened (see
    /// [`ConnectionStats`](crate::db::ConnectionStats)); the same events are reported
    /// on `typed_id::db` with the `tracing` feature.
    #[must_use]
    pub fn stats(&self) -> crate::db::ConnectionStats {
        self.session.stats()
    }

    /// A SQLite registry's files (main, `-wal`, `-shm`) and their identities (device,
    /// inode) when opened; empty elsewhere.
    pub(crate) fn files(&self) -> Vec<(std::path::PathBuf, (u64, u64))> {
        self.session.watched_files()
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

    /// As [`with_conn`](Self::with_conn) for `f` that writes in one statement, or
    /// begins with the statement that takes the write lock: on SQLite the lock is
    /// waited for up to the busy timeout by trying `f` again every few hundred
    /// microseconds (see `DbConnection::waiting_for_lock`), so a writer is not starved
    /// by others writing in a tight loop.
    pub(crate) fn with_write_conn<T>(
        &self,
        op: &'static str,
        f: impl FnMut(&mut AnyConnection) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let wait = self.lock_wait();
        self.with_conn(op, |conn| {
            conn.waiting_for_lock(wait, RegistryError::is_lock_timeout, f)
        })
    }

    /// As [`with_write_conn`](Self::with_write_conn), committing durably: on SQLite `f`
    /// runs with `synchronous = FULL` (an `fsync` per commit) even when the registry's
    /// own writes are `NORMAL`; a PostgreSQL session always commits synchronously. For
    /// the lease writes that record high-water marks.
    pub(crate) fn with_durable_conn<T>(
        &self,
        op: &'static str,
        f: impl FnMut(&mut AnyConnection) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let (base, wait) = (self.options.connection.synchronous, self.lock_wait());
        self.with_conn(op, |conn| {
            conn.durably(base, |c| {
                c.waiting_for_lock(wait, RegistryError::is_lock_timeout, f)
            })
        })
    }

    /// How long a write transaction waits for SQLite's write lock, trying again itself
    /// (see [`DbConnection::waiting_for_lock`](crate::db::DbConnection::waiting_for_lock)):
    /// the connection's busy timeout.
    pub(crate) fn lock_wait(&self) -> Duration {
        self.options.connection.busy_timeout
    }

    pub(crate) fn stale_cutoff(&self, now: i64) -> i64 {
        let timeout = i64::try_from(self.options.stale_after.as_millis()).unwrap_or(i64::MAX);
        now.saturating_sub(timeout)
    }

    /// The record of a row, stale or not at `now`.
    pub(crate) fn record(&self, row: InstanceRow, now: i64) -> InstanceRecord {
        let stale = row.closed_at_ms.is_none() && row.last_heartbeat_ms < self.stale_cutoff(now);
        InstanceRecord {
            id: row.instance_id,
            project: row.project,
            instance_type: row.instance_type,
            key_hash: row.key_hash,
            hostname: row.hostname,
            pid: row.pid.and_then(|p| u32::try_from(p).ok()),
            source: row.source,
            environment: row.environment,
            created_at_ms: ms(row.created_at_ms),
            last_heartbeat_ms: ms(row.last_heartbeat_ms),
            heartbeat_age_ms: ms(now.saturating_sub(row.last_heartbeat_ms)),
            status: row.status,
            context_percent: row.context_percent.and_then(|p| u8::try_from(p).ok()),
            current_epic: row.current_epic,
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
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
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

/// A stored time or count, never negative in a row the registry wrote.
pub(crate) fn ms(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
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
