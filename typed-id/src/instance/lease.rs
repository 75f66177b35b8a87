//! Worker-ID leases: a snowflake worker ID that is guaranteed unique while held, and a
//! generator that stops issuing the moment it might not be.
//!
//! # How uniqueness is kept
//!
//! Each `(scope, worker ID)` row records a **high-water mark** `H`: no ID of that worker
//! has a timestamp above `H`. The holder's generator has a *ceiling* at `H` (it refuses
//! to issue above it), and the next holder's generator a *floor* at `H` (it issues only
//! above it). So two holders of one worker ID can never issue the same ID, whatever
//! their clocks say and however late one of them notices it lost the lease: the fence is
//! in the IDs' own timestamps.
//!
//! Renewing raises `H` to `max(latest issued, now) + lease period` *before* raising the
//! ceiling, so a healthy holder never hits its ceiling. A released lease records the
//! holder's true latest timestamp (after waiting for in-flight calls), so a successor
//! can issue at once.
//!
//! On top of that, the holder keeps a local **deadline** on the monotonic clock, taken
//! before each renewal is sent plus 90 % of the lease period: past it,
//! [`LeasedGenerator`] returns [`IssueError::LeaseLapsed`] until a renewal succeeds. A
//! process paused (`SIGSTOP`, a VM freeze, a long GC) or cut off from the database
//! therefore stops issuing before anyone else may take its worker ID over.
//!
//! # Durability
//!
//! Every lease write (acquire, renew, release) is acknowledged only once it is durable:
//! SQLite commits it with `synchronous = FULL`, and the registry's PostgreSQL sessions
//! commit synchronously whatever the server's `synchronous_commit` (see
//! [`RegistryOptions::durable`](super::RegistryOptions::durable)). The holder raises
//! its ceiling and deadline only after the renewal was acknowledged, so a crash can lose
//! a renewal only if the server also lies about durability (`fsync = off`), which no
//! client can repair.
//!
//! # Acquiring
//!
//! The lowest worker ID that is free (never leased, released, or expired) is taken in
//! one transaction: on SQLite under `BEGIN IMMEDIATE`; on PostgreSQL as one
//! `INSERT … SELECT … ON CONFLICT … DO UPDATE … WHERE expired RETURNING`, retried when a
//! concurrent acquirer took the same candidate first (or on a serialization failure).

use core::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

#[cfg(feature = "sqlite")]
use super::db::Dialect;
use super::db::{self, on_conn};
use super::error::RegistryError;
use super::fence::LeasedGenerator;
use super::registry::{Registry, random_i64};
use crate::generator::{Clock, Layout, SnowflakeGenerator, SystemClock};

/// Default lease period.
pub const DEFAULT_LEASE_PERIOD: Duration = Duration::from_secs(30);
/// How long [`WorkerLease::release`] waits for in-flight calls before recording the
/// conservative high-water mark instead of the exact one.
const DRAIN_WAIT: Duration = Duration::from_millis(200);
/// Attempts at acquiring on PostgreSQL before giving up on a busy table.
#[cfg(feature = "postgres")]
const PG_ATTEMPTS: usize = 64;

/// What to lease: scope, holder, period, and the generator's layout and clock.
#[must_use]
#[derive(Clone, Debug)]
pub struct LeaseOptions<C = SystemClock> {
    scope: String,
    holder: String,
    period: Duration,
    layout: Layout,
    clock: C,
    tolerance_ms: Option<u64>,
}

impl LeaseOptions<SystemClock> {
    /// A lease in `scope` (worker IDs are unique per scope: use one scope per set of
    /// generators whose IDs must not collide, e.g. the project) for `holder` (the
    /// instance ID, shown to operators). Defaults: a 30 s period, [`Layout::DEFAULT`],
    /// the system clock.
    pub fn new(scope: impl Into<String>, holder: impl Into<String>) -> Self {
        LeaseOptions {
            scope: scope.into(),
            holder: holder.into(),
            period: DEFAULT_LEASE_PERIOD,
            layout: Layout::DEFAULT,
            clock: SystemClock,
            tolerance_ms: None,
        }
    }
}

impl<C: Clock> LeaseOptions<C> {
    /// The lease period (default 30 s): renew well within it (the heartbeat renews
    /// every third of it). Shorter periods hand a dead holder's worker ID on sooner;
    /// longer ones ride out longer database outages.
    pub fn period(mut self, period: Duration) -> Self {
        self.period = period;
        self
    }

    /// The snowflake layout: worker IDs are leased from `0..=layout.max_worker()`.
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The generator's clock (default: the system clock).
    pub fn clock<C2: Clock>(self, clock: C2) -> LeaseOptions<C2> {
        LeaseOptions {
            scope: self.scope,
            holder: self.holder,
            period: self.period,
            layout: self.layout,
            clock,
            tolerance_ms: self.tolerance_ms,
        }
    }

    /// The generator's backwards-clock tolerance (see
    /// [`SnowflakeBuilder::backwards_tolerance_ms`](crate::generator::SnowflakeBuilder::backwards_tolerance_ms)).
    pub fn backwards_tolerance_ms(mut self, ms: u64) -> Self {
        self.tolerance_ms = Some(ms);
        self
    }
}

/// One worker-ID lease as stored (for operators and tests).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseRecord {
    /// The scope.
    pub scope: String,
    /// The worker ID.
    pub worker: u32,
    /// The holder's instance ID; `None` once released.
    pub holder: Option<String>,
    /// When it was acquired, Unix milliseconds.
    pub acquired_at_ms: u64,
    /// Its last renewal.
    pub renewed_at_ms: u64,
    /// When it expires (0 once released).
    pub expires_at_ms: u64,
    /// The high-water mark inherited at acquisition.
    pub floor_ms: u64,
    /// No ID of this worker has a timestamp above this.
    pub high_water_ms: u64,
    /// Whether it is free for another holder (released or expired, by the registry's
    /// clock at the time of the query).
    pub free: bool,
}

#[derive(QueryableByName)]
struct AcquiredRow {
    #[diesel(sql_type = Integer)]
    worker_id: i32,
    #[diesel(sql_type = BigInt)]
    floor_ms: i64,
    #[diesel(sql_type = BigInt)]
    high_water_ms: i64,
}

#[cfg(feature = "sqlite")]
#[derive(QueryableByName)]
struct SlotRow {
    #[diesel(sql_type = Integer)]
    worker_id: i32,
    #[diesel(sql_type = BigInt)]
    expires_at_ms: i64,
}

#[derive(QueryableByName)]
struct LeaseRow {
    #[diesel(sql_type = Text)]
    scope: String,
    #[diesel(sql_type = Integer)]
    worker_id: i32,
    #[diesel(sql_type = Nullable<Text>)]
    holder: Option<String>,
    #[diesel(sql_type = BigInt)]
    acquired_at_ms: i64,
    #[diesel(sql_type = BigInt)]
    renewed_at_ms: i64,
    #[diesel(sql_type = BigInt)]
    expires_at_ms: i64,
    #[diesel(sql_type = BigInt)]
    floor_ms: i64,
    #[diesel(sql_type = BigInt)]
    high_water_ms: i64,
}

/// The upsert both backends share: take the row if it is free, keeping its high-water
/// mark as the new holder's floor. `$5` is the registry clock's now.
const TAKE_ON_CONFLICT: &str = " ON CONFLICT (scope, worker_id) DO UPDATE SET \
     holder = excluded.holder, token = excluded.token, \
     acquired_at_ms = excluded.acquired_at_ms, renewed_at_ms = excluded.renewed_at_ms, \
     expires_at_ms = excluded.expires_at_ms, floor_ms = l.high_water_ms, \
     high_water_ms = GREATEST(l.high_water_ms, $8) + $9 \
     WHERE l.expires_at_ms <= $5 \
     RETURNING worker_id, floor_ms, high_water_ms";

const INSERT_COLUMNS: &str = "INSERT INTO typed_id_worker_leases AS l (scope, worker_id, holder, token, \
     acquired_at_ms, renewed_at_ms, expires_at_ms, floor_ms, high_water_ms) ";

/// Everything an acquisition binds.
struct AcquireArgs<'a> {
    scope: &'a str,
    max_worker: i32,
    holder: &'a str,
    token: i64,
    now: i64,
    expires: i64,
    /// High-water of a fresh row: `gen_now + period`.
    fresh_high_water: i64,
    gen_now: i64,
    period_ms: i64,
}

/// A leased worker ID. Renew it (the [`Heartbeat`](super::Heartbeat) does) well within
/// its period; release it on shutdown (dropping it releases too, ignoring errors).
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use std::sync::Arc;
/// use typed_id::instance::{LeaseOptions, Registry, WorkerLease};
/// # let dir = std::env::temp_dir().join(format!("typed-id-doc-lease-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("registry.db");
/// # let path = path.to_str().unwrap();
///
/// let registry = Arc::new(Registry::open(path)?);
/// let a = WorkerLease::acquire(registry.clone(), LeaseOptions::new("orders", "api-1"))?;
/// let b = WorkerLease::acquire(registry.clone(), LeaseOptions::new("orders", "api-2"))?;
/// assert_eq!((a.worker(), b.worker()), (0, 1)); // the lowest free IDs
///
/// let generator = a.generator();
/// let id = generator.next_snowflake()?;
/// assert_eq!(generator.decompose(id).worker, 0);
///
/// a.renew()?;
/// a.release()?; // worker 0 is free again, its high-water mark recorded
/// assert!(generator.next_snowflake().is_err());
/// # std::fs::remove_dir_all(&dir).ok();
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct WorkerLease<C: Clock = SystemClock> {
    registry: Arc<Registry>,
    generator: Arc<LeasedGenerator<C>>,
    scope: String,
    holder: String,
    token: i64,
    period: Duration,
    floor_ms: u64,
    /// Serialises renewals and the release; `true` once the lease has ended.
    ended: Mutex<bool>,
}

impl<C: Clock> WorkerLease<C> {
    /// Acquires the lowest free worker ID of the scope and builds its generator, with
    /// the inherited high-water mark as its floor.
    ///
    /// # Errors
    /// [`RegistryError::NoFreeWorker`] when every worker ID is held,
    /// [`RegistryError::Database`], [`RegistryError::Generator`].
    pub fn acquire(
        registry: Arc<Registry>,
        options: LeaseOptions<C>,
    ) -> Result<WorkerLease<C>, RegistryError> {
        let token = random_i64()?;
        let period_ms = i64::try_from(options.period.as_millis()).unwrap_or(i64::MAX / 4);
        let max_worker = i32::try_from(options.layout.max_worker()).unwrap_or(i32::MAX);
        let started = super::fence::mono_ns();
        let gen_now = i64::try_from(options.clock.now_ms()).unwrap_or(i64::MAX / 4);
        let now = registry.options().now_ms();
        let args = AcquireArgs {
            scope: &options.scope,
            max_worker,
            holder: &options.holder,
            token,
            now,
            expires: now.saturating_add(period_ms),
            fresh_high_water: gen_now.saturating_add(period_ms),
            gen_now,
            period_ms,
        };
        let row = registry.with_durable_conn("acquire lease", |conn| acquire_row(conn, &args))?;
        let Some(row) = row else {
            return Err(RegistryError::NoFreeWorker {
                scope: options.scope,
                max_worker: options.layout.max_worker(),
            });
        };
        let worker = u32::try_from(row.worker_id).unwrap_or(u32::MAX);
        let floor_ms = ms(row.floor_ms);
        let high_water = ms(row.high_water_ms);
        let mut builder = SnowflakeGenerator::builder()
            .layout(options.layout)
            .worker(worker)
            .clock(options.clock)
            .ceiling_ms(high_water);
        if let Some(tolerance) = options.tolerance_ms {
            builder = builder.backwards_tolerance_ms(tolerance);
        }
        if floor_ms > 0 {
            builder = builder.floor_ms(floor_ms);
        }
        let inner = builder.build();
        let lease = |inner| WorkerLease {
            registry: registry.clone(),
            generator: Arc::new(LeasedGenerator::new(inner, registry.file().cloned())),
            scope: options.scope.clone(),
            holder: options.holder.clone(),
            token,
            period: options.period,
            floor_ms,
            ended: Mutex::new(false),
        };
        match inner {
            Ok(inner) => {
                let lease = lease(inner);
                lease.set_deadline(started);
                Ok(lease)
            }
            Err(e) => {
                // Give the row back untouched (high-water as recorded).
                let _ = registry.with_durable_conn("release lease", |conn| {
                    release_row(conn, &options.scope, worker, token, now, high_water)
                });
                Err(RegistryError::Generator(e))
            }
        }
    }

    /// The leased worker ID.
    #[must_use]
    pub fn worker(&self) -> u32 {
        self.generator.worker()
    }

    /// The scope.
    #[must_use]
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The holder's name.
    #[must_use]
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The lease period.
    #[must_use]
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The high-water mark inherited from the previous holder (0 for a fresh worker
    /// ID): every ID of this lease has a later timestamp.
    #[must_use]
    pub fn floor_ms(&self) -> u64 {
        self.floor_ms
    }

    /// The generator bound to this lease.
    #[must_use]
    pub fn generator(&self) -> Arc<LeasedGenerator<C>> {
        self.generator.clone()
    }

    /// Whether the lease has been released or lost.
    #[must_use]
    pub fn has_ended(&self) -> bool {
        *self.ended.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_deadline(&self, sent_at_ns: u64) {
        // 90 % of the period, counted from before the request was sent: the database's
        // expiry is at least a full period after that.
        let valid = self.period.saturating_sub(self.period / 10);
        let valid_ns = u64::try_from(valid.as_nanos()).unwrap_or(u64::MAX);
        self.generator
            .extend_deadline(sent_at_ns.saturating_add(valid_ns));
    }

    /// Extends the lease by a period and raises the recorded high-water mark to
    /// `max(latest issued, now) + period`, then the generator's ceiling and deadline.
    /// Also revives a lease that lapsed locally, as long as nobody took it over.
    ///
    /// # Errors
    /// [`RegistryError::LeaseLost`] when another holder took the worker ID (the
    /// generator is then fenced for good), [`RegistryError::LeaseReleased`],
    /// [`RegistryError::Database`] (the lease lapses at its deadline unless a later
    /// renewal succeeds), [`RegistryError::DatabaseReplaced`] when the SQLite file was
    /// deleted or replaced (the lease then ends: its row is not in the file at the path).
    pub fn renew(&self) -> Result<(), RegistryError> {
        let mut ended = self.ended.lock().unwrap_or_else(PoisonError::into_inner);
        if *ended {
            return Err(self.ended_error());
        }
        let period_ms = u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX / 4);
        let sent_at = super::fence::mono_ns();
        let inner = self.generator.inner();
        let high_water = inner
            .high_water_ms()
            .max(inner.clock().now_ms())
            .saturating_add(period_ms);
        let now = self.registry.options().now_ms();
        let renewed = self.registry.with_durable_conn("renew lease", |conn| {
            on_conn!(conn, |c, d| {
                Ok(diesel::sql_query(d.sql(
                    "UPDATE typed_id_worker_leases SET renewed_at_ms = $4, expires_at_ms = $5, \
                     high_water_ms = GREATEST(high_water_ms, $6) \
                     WHERE scope = $1 AND worker_id = $2 AND token = $3",
                ))
                .bind::<Text, _>(&self.scope)
                .bind::<Integer, _>(self.worker_i32())
                .bind::<BigInt, _>(self.token)
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(now.saturating_add(period_ms as i64))
                .bind::<BigInt, _>(i64::try_from(high_water).unwrap_or(i64::MAX))
                .execute(c)?)
            })
        });
        let updated = match renewed {
            Ok(updated) => updated,
            // The row is not in the file at the path any more: nobody can renew it, and
            // a successor on the new file may take the worker ID with no floor.
            Err(e @ RegistryError::DatabaseReplaced { .. }) => {
                *ended = true;
                self.generator.end_and_drain(Duration::ZERO);
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if updated == 0 {
            *ended = true;
            self.generator.end_and_drain(Duration::ZERO);
            return Err(RegistryError::LeaseLost {
                scope: self.scope.clone(),
                worker: self.worker(),
            });
        }
        inner.set_ceiling_ms(high_water);
        self.set_deadline(sent_at);
        Ok(())
    }

    /// Stops the generator, waits briefly for calls in flight, and frees the worker ID,
    /// recording the latest issued timestamp as its high-water mark. Releasing twice is
    /// not an error.
    ///
    /// # Errors
    /// [`RegistryError::LeaseLost`] when another holder had taken it over,
    /// [`RegistryError::Database`] (the row then expires at the end of its period).
    pub fn release(&self) -> Result<(), RegistryError> {
        let mut ended = self.ended.lock().unwrap_or_else(PoisonError::into_inner);
        if *ended {
            return Ok(());
        }
        *ended = true;
        let drained = self.generator.end_and_drain(DRAIN_WAIT);
        let inner = self.generator.inner();
        // Not drained: a call may still land anywhere up to the ceiling, which the row
        // already records.
        let high_water = if drained {
            inner.high_water_ms()
        } else {
            u64::MAX
        };
        let now = self.registry.options().now_ms();
        let updated = self.registry.with_durable_conn("release lease", |conn| {
            release_row(
                conn,
                &self.scope,
                self.worker(),
                self.token,
                now,
                high_water,
            )
        })?;
        if updated == 0 {
            return Err(RegistryError::LeaseLost {
                scope: self.scope.clone(),
                worker: self.worker(),
            });
        }
        Ok(())
    }

    fn ended_error(&self) -> RegistryError {
        RegistryError::LeaseReleased {
            scope: self.scope.clone(),
            worker: self.worker(),
        }
    }

    fn worker_i32(&self) -> i32 {
        i32::try_from(self.worker()).unwrap_or(i32::MAX)
    }
}

impl<C: Clock> Drop for WorkerLease<C> {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

impl<C: Clock> fmt::Debug for WorkerLease<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerLease")
            .field("scope", &self.scope)
            .field("worker", &self.worker())
            .field("holder", &self.holder)
            .field("period", &self.period)
            .field("floor_ms", &self.floor_ms)
            .field("remaining", &self.generator.remaining())
            .finish_non_exhaustive()
    }
}

fn ms(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Binds the arguments of an acquisition statement; `$2` is the candidate (SQLite) or
/// the largest worker ID (PostgreSQL).
macro_rules! bind_acquire {
    ($sql:expr, $a:expr, $second:expr) => {
        diesel::sql_query($sql)
            .bind::<Text, _>($a.scope)
            .bind::<Integer, _>($second)
            .bind::<Text, _>($a.holder)
            .bind::<BigInt, _>($a.token)
            .bind::<BigInt, _>($a.now)
            .bind::<BigInt, _>($a.expires)
            .bind::<BigInt, _>($a.fresh_high_water)
            .bind::<BigInt, _>($a.gen_now)
            .bind::<BigInt, _>($a.period_ms)
    };
}

fn acquire_row(
    conn: &mut db::Conn,
    a: &AcquireArgs<'_>,
) -> Result<Option<AcquiredRow>, RegistryError> {
    match conn {
        #[cfg(feature = "sqlite")]
        db::Conn::Sqlite(c) => c.immediate_transaction(|c| {
            let d = Dialect::Sqlite;
            // Under the write lock nobody else can change the table: pick in Rust.
            let slots: Vec<SlotRow> = diesel::sql_query(d.sql(
                "SELECT worker_id, expires_at_ms FROM typed_id_worker_leases \
                 WHERE scope = $1 AND worker_id <= $2 ORDER BY worker_id",
            ))
            .bind::<Text, _>(a.scope)
            .bind::<Integer, _>(a.max_worker)
            .load(c)?;
            let Some(candidate) = lowest_free(&slots, a.max_worker, a.now) else {
                return Ok(None);
            };
            let sql = format!(
                "{INSERT_COLUMNS}VALUES ($1, $2, $3, $4, $5, $5, $6, 0, $7){TAKE_ON_CONFLICT}"
            );
            Ok(bind_acquire!(d.sql(&sql), a, candidate)
                .get_result(c)
                .optional()?)
        }),
        #[cfg(feature = "postgres")]
        db::Conn::Pg(c) => {
            let sql = format!(
                "{INSERT_COLUMNS}SELECT $1, g.id, $3, $4, $5, $5, $6, 0, $7 \
                 FROM generate_series(0, $2) AS g(id) \
                 LEFT JOIN typed_id_worker_leases AS x ON x.scope = $1 AND x.worker_id = g.id \
                 WHERE x.worker_id IS NULL OR x.expires_at_ms <= $5 \
                 ORDER BY g.id LIMIT 1{TAKE_ON_CONFLICT}"
            );
            for _ in 0..PG_ATTEMPTS {
                let result: Result<Option<AcquiredRow>, RegistryError> =
                    bind_acquire!(sql.as_str(), a, a.max_worker)
                        .get_result(c)
                        .optional()
                        .map_err(RegistryError::from);
                match result {
                    Ok(Some(row)) => return Ok(Some(row)),
                    // No candidate at all, or a concurrent acquirer took ours: look again.
                    Ok(None) => {
                        if !pg_has_free(c, a)? {
                            return Ok(None);
                        }
                    }
                    Err(e) if e.is_serialization_failure() => {}
                    Err(e) => return Err(e),
                }
            }
            Err(RegistryError::NoFreeWorker {
                scope: a.scope.to_owned(),
                max_worker: u32::try_from(a.max_worker).unwrap_or(0),
            })
        }
    }
}

/// Releases the row if `token` still holds it, recording `high_water` (never below the
/// floor, never above what renewals recorded).
fn release_row(
    conn: &mut db::Conn,
    scope: &str,
    worker: u32,
    token: i64,
    now: i64,
    high_water: u64,
) -> Result<usize, RegistryError> {
    let worker = i32::try_from(worker).unwrap_or(i32::MAX);
    let high_water = i64::try_from(high_water).unwrap_or(i64::MAX);
    on_conn!(conn, |c, d| {
        Ok(diesel::sql_query(d.sql(
            "UPDATE typed_id_worker_leases SET holder = NULL, expires_at_ms = 0, \
             renewed_at_ms = $4, \
             high_water_ms = GREATEST(floor_ms, LEAST(high_water_ms, $5)) \
             WHERE scope = $1 AND worker_id = $2 AND token = $3",
        ))
        .bind::<Text, _>(scope)
        .bind::<Integer, _>(worker)
        .bind::<BigInt, _>(token)
        .bind::<BigInt, _>(now)
        .bind::<BigInt, _>(high_water)
        .execute(c)?)
    })
}

/// Whether any worker ID of the scope is free (PostgreSQL's retry check).
#[cfg(feature = "postgres")]
fn pg_has_free(c: &mut PgConnection, a: &AcquireArgs<'_>) -> Result<bool, RegistryError> {
    #[derive(QueryableByName)]
    struct Free {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        free: bool,
    }
    let row: Free = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM generate_series(0, $2) AS g(id) \
         LEFT JOIN typed_id_worker_leases AS x ON x.scope = $1 AND x.worker_id = g.id \
         WHERE x.worker_id IS NULL OR x.expires_at_ms <= $3) AS free",
    )
    .bind::<Text, _>(a.scope)
    .bind::<Integer, _>(a.max_worker)
    .bind::<BigInt, _>(a.now)
    .get_result(c)?;
    Ok(row.free)
}

#[cfg(feature = "sqlite")]
/// The lowest worker ID in `0..=max` without a row or with an expired one; `slots` are
/// sorted by worker ID.
fn lowest_free(slots: &[SlotRow], max: i32, now: i64) -> Option<i32> {
    let mut next = 0i32;
    for slot in slots {
        if slot.worker_id > next {
            return Some(next);
        }
        if slot.expires_at_ms <= now {
            return Some(slot.worker_id);
        }
        next = slot.worker_id.checked_add(1)?;
    }
    (next <= max).then_some(next)
}

/// The leases of `scope`, by worker ID.
impl Registry {
    /// The worker-ID leases of `scope`, held or not, by worker ID.
    ///
    /// # Errors
    /// [`RegistryError::Database`].
    pub fn leases(&self, scope: &str) -> Result<Vec<LeaseRecord>, RegistryError> {
        let rows: Vec<LeaseRow> = self.with_conn("leases", |conn| {
            on_conn!(conn, |c, d| {
                Ok(diesel::sql_query(d.sql(
                    "SELECT scope, worker_id, holder, acquired_at_ms, renewed_at_ms, \
                     expires_at_ms, floor_ms, high_water_ms FROM typed_id_worker_leases \
                     WHERE scope = $1 ORDER BY worker_id",
                ))
                .bind::<Text, _>(scope)
                .load(c)?)
            })
        })?;
        let now = self.options().now_ms();
        Ok(rows
            .into_iter()
            .map(|r| LeaseRecord {
                free: r.expires_at_ms <= now,
                scope: r.scope,
                worker: u32::try_from(r.worker_id).unwrap_or(0),
                holder: r.holder,
                acquired_at_ms: ms(r.acquired_at_ms),
                renewed_at_ms: ms(r.renewed_at_ms),
                expires_at_ms: ms(r.expires_at_ms),
                floor_ms: ms(r.floor_ms),
                high_water_ms: ms(r.high_water_ms),
            })
            .collect())
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    fn slot(worker_id: i32, expires_at_ms: i64) -> SlotRow {
        SlotRow {
            worker_id,
            expires_at_ms,
        }
    }

    #[test]
    fn lowest_free_worker() {
        assert_eq!(lowest_free(&[], 3, 100), Some(0));
        assert_eq!(lowest_free(&[slot(0, 200), slot(1, 200)], 3, 100), Some(2));
        assert_eq!(lowest_free(&[slot(0, 200), slot(2, 200)], 3, 100), Some(1));
        assert_eq!(lowest_free(&[slot(0, 200), slot(1, 100)], 3, 100), Some(1));
        assert_eq!(lowest_free(&[slot(0, 0)], 3, 100), Some(0));
        let full: Vec<_> = (0..4).map(|w| slot(w, 200)).collect();
        assert_eq!(lowest_free(&full, 3, 100), None);
        assert_eq!(lowest_free(&full, 3, 200), Some(0));
    }
}
