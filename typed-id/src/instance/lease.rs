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
//! [`RegistryOptions::synchronous`](super::RegistryOptions::synchronous)). The holder raises
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
//!
//! This file holds the lease's life (acquire, renew, release, and what each promises);
//! its statements are in `lease/sql.rs`.

mod sql;

use core::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use self::sql::AcquireArgs;
use super::detect::Escaped;
use super::error::RegistryError;
use super::fence::{LeasedGenerator, mono_ns};
use super::registry::{Registry, random_i64};
use crate::generator::{Clock, Layout, SnowflakeGenerator, SystemClock};
use crate::trace::event;

/// Default lease period.
pub const DEFAULT_LEASE_PERIOD: Duration = Duration::from_secs(30);
/// How long [`WorkerLease::release`] waits for in-flight calls before recording the
/// conservative high-water mark instead of the exact one.
const DRAIN_WAIT: Duration = Duration::from_millis(200);

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
    counters: LeaseCounters,
}

/// What a [`WorkerLease`] has been through since it was acquired: read with
/// [`WorkerLease::stats`], with or without the `tracing` feature (which reports each as
/// an event on `typed_id::lease`).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeaseStats {
    /// Renewals that succeeded.
    pub renewals: u64,
    /// Renewals that succeeded with less than a quarter of the period left before the
    /// local deadline: a renewal was missed or slow, and the next miss lapses the lease.
    pub late_renewals: u64,
    /// Times the local deadline passed before a renewal (the generator refused IDs
    /// meanwhile), counted once per lapse.
    pub lapses: u64,
    /// Renewals that failed (the database unreachable, the lease lost or released).
    pub failed_renewals: u64,
}

/// The atomics behind [`LeaseStats`].
#[derive(Debug, Default)]
struct LeaseCounters {
    renewals: AtomicU64,
    late_renewals: AtomicU64,
    lapses: AtomicU64,
    failed_renewals: AtomicU64,
    /// A lapse was counted and not yet followed by a renewal.
    lapsed: AtomicBool,
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
        let started = mono_ns();
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
            #[cfg(feature = "sqlite")]
            lock_wait: registry.lock_wait(),
        };
        let row = registry.with_durable_conn("acquire lease", |conn| sql::acquire(conn, &args))?;
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
            generator: Arc::new(LeasedGenerator::new(inner, registry.files())),
            scope: options.scope.clone(),
            holder: options.holder.clone(),
            token,
            period: options.period,
            floor_ms,
            ended: Mutex::new(false),
            counters: LeaseCounters::default(),
        };
        match inner {
            Ok(inner) => {
                let lease = lease(inner);
                lease.set_deadline(started);
                event!(
                    lease,
                    INFO,
                    "worker ID leased",
                    scope = %Escaped(&lease.scope),
                    worker,
                    holder = %Escaped(&lease.holder),
                    floor_ms,
                    period_ms = u64::try_from(lease.period.as_millis()).unwrap_or(u64::MAX),
                );
                Ok(lease)
            }
            Err(e) => {
                // Give the row back untouched (high-water as recorded).
                let _ = registry.with_durable_conn("release lease", |conn| {
                    sql::release(conn, &options.scope, worker, token, now, high_water)
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
        // Read before the request: how close to its deadline the lease was renewed.
        let remaining = self.generator.remaining();
        let result = self.renew_inner();
        match &result {
            Ok(()) => self.renewed(remaining),
            Err(e) => self.renewal_failed(e),
        }
        result
    }

    /// Counts and reports a successful renewal that found `remaining` before it.
    fn renewed(&self, remaining: Option<Duration>) {
        let c = &self.counters;
        c.renewals.fetch_add(1, Ordering::Relaxed);
        let reported = c.lapsed.swap(false, Ordering::Relaxed);
        let worker = self.worker();
        match remaining {
            None => {
                if !reported {
                    // Lapsed without a failed renewal in between: the process was
                    // paused, or the renewals came too far apart.
                    c.lapses.fetch_add(1, Ordering::Relaxed);
                }
                event!(
                    lease,
                    WARN,
                    "worker-ID lease renewed after it lapsed",
                    scope = %Escaped(&self.scope),
                    worker,
                );
            }
            Some(left) if left < self.period / 4 => {
                c.late_renewals.fetch_add(1, Ordering::Relaxed);
                event!(
                    lease,
                    WARN,
                    "worker-ID lease renewed late",
                    scope = %Escaped(&self.scope),
                    worker,
                    remaining_ms = u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
                    period_ms = u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX),
                );
            }
            Some(_) => {
                event!(
                    lease,
                    DEBUG,
                    "worker-ID lease renewed",
                    scope = %Escaped(&self.scope),
                    worker,
                );
            }
        }
    }

    /// Counts and reports a failed renewal, and the lapse it may have let happen.
    fn renewal_failed(&self, e: &RegistryError) {
        let c = &self.counters;
        c.failed_renewals.fetch_add(1, Ordering::Relaxed);
        let worker = self.worker();
        if let RegistryError::LeaseLost { .. } = e {
            event!(
                lease,
                ERROR,
                "worker-ID lease lost to another holder: the generator is stopped",
                scope = %Escaped(&self.scope),
                worker,
            );
            return;
        }
        event!(
            lease,
            WARN,
            "worker-ID lease renewal failed",
            scope = %Escaped(&self.scope),
            worker,
            error = %e,
        );
        if !self.has_ended()
            && self.generator.remaining().is_none()
            && !c.lapsed.swap(true, Ordering::Relaxed)
        {
            c.lapses.fetch_add(1, Ordering::Relaxed);
            event!(
                lease,
                ERROR,
                "worker-ID lease lapsed: the generator refuses IDs until a renewal succeeds",
                scope = %Escaped(&self.scope),
                worker,
            );
        }
    }

    /// What this lease has been through: renewals (late ones apart), lapses, failed
    /// renewals.
    #[must_use]
    pub fn stats(&self) -> LeaseStats {
        let c = &self.counters;
        LeaseStats {
            renewals: c.renewals.load(Ordering::Relaxed),
            late_renewals: c.late_renewals.load(Ordering::Relaxed),
            lapses: c.lapses.load(Ordering::Relaxed),
            failed_renewals: c.failed_renewals.load(Ordering::Relaxed),
        }
    }

    /// The renewal itself (see [`renew`](Self::renew)).
    fn renew_inner(&self) -> Result<(), RegistryError> {
        let mut ended = self.ended.lock().unwrap_or_else(PoisonError::into_inner);
        if *ended {
            return Err(self.ended_error());
        }
        let period_ms = u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX / 4);
        let sent_at = mono_ns();
        let inner = self.generator.inner();
        let high_water = inner
            .high_water_ms()
            .max(inner.clock().now_ms())
            .saturating_add(period_ms);
        let now = self.registry.options().now_ms();
        let renewed = self.registry.with_durable_conn("renew lease", |conn| {
            sql::renew(
                conn,
                (&self.scope, self.worker_i32(), self.token),
                now,
                now.saturating_add(period_ms as i64),
                i64::try_from(high_water).unwrap_or(i64::MAX),
            )
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
            sql::release(
                conn,
                &self.scope,
                self.worker(),
                self.token,
                now,
                high_water,
            )
        })?;
        if updated == 0 {
            event!(
                lease,
                WARN,
                "worker-ID lease released after another holder had taken it",
                scope = %Escaped(&self.scope),
                worker = self.worker(),
            );
            return Err(RegistryError::LeaseLost {
                scope: self.scope.clone(),
                worker: self.worker(),
            });
        }
        event!(
            lease,
            INFO,
            "worker-ID lease released",
            scope = %Escaped(&self.scope),
            worker = self.worker(),
            high_water_ms = high_water,
            drained,
        );
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

impl Registry {
    /// The worker-ID leases of `scope`, held or not, by worker ID.
    ///
    /// # Errors
    /// [`RegistryError::Database`].
    pub fn leases(&self, scope: &str) -> Result<Vec<LeaseRecord>, RegistryError> {
        let rows = self.with_conn("leases", |conn| sql::list(conn, scope))?;
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
