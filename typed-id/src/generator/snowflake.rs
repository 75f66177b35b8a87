//! Snowflake generation: time-ordered 63-bit IDs from one atomic word per worker.
//!
//! The generator's whole state is a single `AtomicU64` holding `timestamp << seq_bits |
//! sequence` of the last issued ID. Issuing an ID is one clock read and one
//! compare-and-swap: if the clock has moved past the stored millisecond the new state is
//! `(now, 0)`, otherwise it is the stored state plus one. Because the sequence sits in
//! the low bits, "plus one" carries into the next millisecond when the sequence runs
//! out, so a burst of more than 4 096 IDs in a millisecond runs slightly *ahead* of the
//! clock (by at most `max_lead`, default 1 ms) instead of spinning; past that bound the
//! generator waits for the clock, briefly.
//!
//! The same rule absorbs a clock that steps backwards: the generator keeps counting from
//! its last timestamp, so IDs keep increasing and never repeat. If the clock is behind
//! the last issued timestamp by more than the tolerance (default 10 ms) the generator
//! returns [`GenerateError::ClockMovedBackwards`] instead of sleeping for long.
//!
//! Waits and clock steps are counted ([`SnowflakeGenerator::stats`]) and, with the
//! `tracing` feature, reported as events; both happen only on the cold paths.

use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::fingerprint::WorkerFingerprint;
use super::layout::{Layout, SnowflakeParts, mask};
use super::{Clock, GenerateError, SystemClock};
use crate::body::Snowflake;
use crate::trace::event;
use crate::typed::{TypedId, try_from_body};

/// Default tolerance for a clock stepping backwards, in milliseconds.
const DEFAULT_TOLERANCE_MS: u64 = 10;
/// Default bound on running ahead of the clock after sequence exhaustion, in milliseconds.
const DEFAULT_MAX_LEAD_MS: u64 = 1;
/// How long past the expected tick a wait for the clock may last before giving up.
const WAIT_SLACK: Duration = Duration::from_millis(10);
/// How long a wait for the clock spins before it starts yielding the thread.
const SPIN_FOR: Duration = Duration::from_millis(2);

/// Configures a [`SnowflakeGenerator`]; start from [`SnowflakeGenerator::builder`].
#[must_use]
#[derive(Clone, Debug)]
pub struct SnowflakeBuilder<C = SystemClock> {
    layout: Layout,
    worker: u32,
    process: u32,
    derive_worker: bool,
    clock: C,
    tolerance_ms: u64,
    max_lead_ms: u64,
    floor_ms: Option<u64>,
    ceiling_ms: Option<u64>,
}

impl SnowflakeBuilder<SystemClock> {
    fn new() -> Self {
        SnowflakeBuilder {
            layout: Layout::DEFAULT,
            worker: 0,
            process: 0,
            derive_worker: false,
            clock: SystemClock,
            tolerance_ms: DEFAULT_TOLERANCE_MS,
            max_lead_ms: DEFAULT_MAX_LEAD_MS,
            floor_ms: None,
            ceiling_ms: None,
        }
    }
}

impl<C: Clock> SnowflakeBuilder<C> {
    /// The bit layout and epoch (default [`Layout::DEFAULT`]).
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The worker ID (default 0). It must be unique among the generators issuing IDs
    /// of one type at the same time: lease it from the registry, or see
    /// [`derived_worker`](Self::derived_worker) for the probabilistic alternative.
    pub fn worker(mut self, worker: u32) -> Self {
        self.worker = worker;
        self.derive_worker = false;
        self
    }

    /// The process ID, for layouts with a process field (default 0).
    pub fn process(mut self, process: u32) -> Self {
        self.process = process;
        self
    }

    /// Derives the worker (and process) ID from this host and process without
    /// coordination, through [`WorkerFingerprint`]. Probabilistic: read its collision
    /// odds before relying on it.
    pub fn derived_worker(mut self) -> Self {
        self.derive_worker = true;
        self
    }

    /// The clock (default [`SystemClock`]).
    pub fn clock<C2: Clock>(self, clock: C2) -> SnowflakeBuilder<C2> {
        SnowflakeBuilder {
            layout: self.layout,
            worker: self.worker,
            process: self.process,
            derive_worker: self.derive_worker,
            clock,
            tolerance_ms: self.tolerance_ms,
            max_lead_ms: self.max_lead_ms,
            floor_ms: self.floor_ms,
            ceiling_ms: self.ceiling_ms,
        }
    }

    /// How far (in milliseconds) the clock may be behind the last issued timestamp
    /// before generation fails with [`GenerateError::ClockMovedBackwards`]
    /// (default 10). Within it the generator keeps counting from its last timestamp;
    /// if that millisecond's sequence runs out meanwhile, it waits for the clock, so a
    /// call may block for up to about this long after a step back.
    pub fn backwards_tolerance_ms(mut self, ms: u64) -> Self {
        self.tolerance_ms = ms;
        self
    }

    /// How far (in milliseconds) sequence exhaustion may carry the generator ahead of
    /// its clock before it waits for the clock to catch up (default 1; 0 always waits).
    /// Must not exceed the backwards tolerance.
    pub fn max_lead_ms(mut self, ms: u64) -> Self {
        self.max_lead_ms = ms;
        self
    }

    /// Never issue an ID whose timestamp is at or below `unix_ms` (see
    /// [`SnowflakeGenerator::raise_floor_ms`]).
    pub fn floor_ms(mut self, unix_ms: u64) -> Self {
        self.floor_ms = Some(unix_ms);
        self
    }

    /// Never issue an ID whose timestamp is above `unix_ms` (see
    /// [`SnowflakeGenerator::set_ceiling_ms`]).
    pub fn ceiling_ms(mut self, unix_ms: u64) -> Self {
        self.ceiling_ms = Some(unix_ms);
        self
    }

    /// Builds the generator.
    ///
    /// # Errors
    /// [`GenerateError::WorkerOutOfRange`] / [`GenerateError::ProcessOutOfRange`] when an
    /// ID does not fit the layout; [`GenerateError::InvalidConfig`] when the maximum
    /// lead exceeds the tolerance; [`GenerateError::TimestampOverflow`] for a floor
    /// beyond the layout's range.
    pub fn build(self) -> Result<SnowflakeGenerator<C>, GenerateError> {
        let layout = self.layout;
        let (worker, process) = if self.derive_worker {
            let fingerprint = WorkerFingerprint::collect();
            (
                fingerprint.worker_id(&layout),
                fingerprint.process_id(&layout),
            )
        } else {
            (self.worker, self.process)
        };
        let node = layout.node(worker, process)?;
        if self.max_lead_ms > self.tolerance_ms {
            return Err(GenerateError::InvalidConfig {
                reason: "max lead must not exceed the backwards tolerance",
            });
        }
        let generator = SnowflakeGenerator {
            state: AtomicU64::new(0),
            ceiling: AtomicU64::new(u64::MAX),
            clock: self.clock,
            node,
            seq_bits: u32::from(layout.sequence_bits()),
            shift: layout.shift(),
            epoch_ms: layout.epoch_ms(),
            max_ticks: layout.max_ticks(),
            tolerance: self.tolerance_ms,
            max_lead: self.max_lead_ms,
            layout,
            worker,
            process,
            counters: Counters::default(),
        };
        if let Some(floor) = self.floor_ms {
            generator.raise_floor_ms(floor)?;
        }
        if let Some(ceiling) = self.ceiling_ms {
            generator.set_ceiling_ms(ceiling);
        }
        Ok(generator)
    }
}

/// What a [`SnowflakeGenerator`] has run into since it was made: read with
/// [`SnowflakeGenerator::stats`], with or without the `tracing` feature. Every counter
/// moves only on a cold path, so none costs anything per ID.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SnowflakeStats {
    /// Times a call waited for the clock because the millisecond's sequence ran out
    /// and the generator was already as far ahead of the clock as allowed.
    pub sequence_waits: u64,
    /// Calls that failed with [`GenerateError::SequenceExhausted`]: the clock did not
    /// advance while waited for.
    pub sequence_exhausted: u64,
    /// Times the clock was found behind the newest issued timestamp by more than the
    /// maximum lead: it stepped back, or a floor was raised past it. Counted once per
    /// step, not per ID issued while the clock catches up.
    pub clock_steps_back: u64,
    /// Calls that failed with [`GenerateError::ClockMovedBackwards`]: the clock was
    /// behind by more than the tolerance.
    pub clock_refusals: u64,
}

/// The atomics behind [`SnowflakeStats`], written only on cold paths.
#[derive(Debug, Default)]
struct Counters {
    sequence_waits: AtomicU64,
    sequence_exhausted: AtomicU64,
    clock_steps_back: AtomicU64,
    clock_refusals: AtomicU64,
    /// The newest issued timestamp (ticks) a clock step back was counted against: while
    /// the clock catches up, the state's timestamp stays put, so a step is counted once.
    step_seen_ts: AtomicU64,
}

/// What [`SnowflakeGenerator::step`] decided.
enum Step {
    /// Issue this state.
    Issue(u64),
    /// Try again with this clock reading.
    Retry(u64),
}

/// A lock-free, thread-safe snowflake generator for one worker.
///
/// ```
/// use typed_id::generator::{Layout, SnowflakeGenerator};
///
/// let generator = SnowflakeGenerator::new(7)?;
/// let a = generator.next_snowflake()?;
/// let b = generator.next_snowflake()?;
/// assert!(b > a);
/// assert_eq!(Layout::DEFAULT.decompose(b).worker, 7);
/// # Ok::<(), typed_id::GenerateError>(())
/// ```
///
/// Share one generator per worker ID (e.g. in an `Arc` or a `static`): two generators
/// with the same worker ID issue duplicates. Uniqueness across processes and machines
/// rests on each live generator having its own worker ID.
///
/// # Waiting and errors
///
/// A call never sleeps. When more than 4 096 × (1 + `max_lead`) IDs are requested
/// within a millisecond it spins until the clock ticks (like the format's other
/// implementations, so one thread sustains the format's ceiling of 4 096 000 IDs per
/// second); right after the clock stepped back it may wait up to the backwards
/// tolerance, yielding the thread after 2 ms. If the clock is further behind than the
/// tolerance it returns [`GenerateError::ClockMovedBackwards`]; if it does not advance
/// at all while waited for, [`GenerateError::SequenceExhausted`] (after about 10 ms).
///
/// # Restarts
///
/// The state lives in memory. A process that restarts with the same worker ID while
/// the clock is still within its predecessor's last millisecond (plus `max_lead`) could
/// repeat IDs; so could one whose clock stepped back across the restart. Worker-ID
/// leases close both gaps through [`raise_floor_ms`](Self::raise_floor_ms).
pub struct SnowflakeGenerator<C: Clock = SystemClock> {
    /// `timestamp << seq_bits | sequence` of the last issued ID (or of the floor).
    state: AtomicU64,
    /// Largest timestamp (ticks since epoch) that may be issued.
    ceiling: AtomicU64,
    clock: C,
    /// Worker and process fields, shifted into place.
    node: u64,
    seq_bits: u32,
    shift: u32,
    epoch_ms: u64,
    max_ticks: u64,
    tolerance: u64,
    max_lead: u64,
    layout: Layout,
    worker: u32,
    process: u32,
    counters: Counters,
}

impl SnowflakeGenerator<SystemClock> {
    /// A generator for `worker` with the default layout and the system clock.
    ///
    /// # Errors
    /// [`GenerateError::WorkerOutOfRange`] when `worker > 1023`.
    pub fn new(worker: u32) -> Result<Self, GenerateError> {
        Self::builder().worker(worker).build()
    }

    /// A generator for `worker` with another layout and the system clock.
    ///
    /// # Errors
    /// [`GenerateError::WorkerOutOfRange`] when `worker` does not fit the layout.
    pub fn with_layout(layout: Layout, worker: u32) -> Result<Self, GenerateError> {
        Self::builder().layout(layout).worker(worker).build()
    }

    /// Starts configuring a generator: layout, worker, clock, tolerances, floor.
    ///
    /// ```
    /// use typed_id::generator::{Layout, ManualClock, SnowflakeGenerator};
    ///
    /// let generator = SnowflakeGenerator::builder()
    ///     .layout(Layout::TWITTER)
    ///     .worker(3)
    ///     .backwards_tolerance_ms(50)
    ///     .clock(ManualClock::now())
    ///     .build()?;
    /// assert_eq!(generator.worker(), 3);
    /// # Ok::<(), typed_id::GenerateError>(())
    /// ```
    pub fn builder() -> SnowflakeBuilder<SystemClock> {
        SnowflakeBuilder::new()
    }
}

impl<C: Clock> SnowflakeGenerator<C> {
    /// The next ID as a derived type.
    ///
    /// ```
    /// use typed_id::{Snowflake, TypedId};
    /// use typed_id::generator::SnowflakeGenerator;
    ///
    /// fn make<T: TypedId<Body = Snowflake>>(g: &SnowflakeGenerator) -> Result<T, typed_id::GenerateError> {
    ///     g.generate::<T>()
    /// }
    /// ```
    ///
    /// # Errors
    /// As [`next_snowflake`](Self::next_snowflake).
    #[inline]
    pub fn generate<T: TypedId<Body = Snowflake>>(&self) -> Result<T, GenerateError> {
        let body = self.next_snowflake()?;
        try_from_body::<T>(body).map_err(GenerateError::Id)
    }

    /// The next ID as a bare [`Snowflake`]: larger than every ID this generator issued
    /// before, on any thread.
    ///
    /// # Errors
    /// [`GenerateError::ClockMovedBackwards`] beyond the tolerance,
    /// [`GenerateError::SequenceExhausted`] when the clock is frozen,
    /// [`GenerateError::CeilingReached`], [`GenerateError::ClockBeforeEpoch`],
    /// [`GenerateError::TimestampOverflow`].
    #[inline]
    pub fn next_snowflake(&self) -> Result<Snowflake, GenerateError> {
        let state = self.next_state()?;
        self.compose(state)
    }

    /// [`next_snowflake`](Self::next_snowflake) for a generator this thread has to
    /// itself (owned, or behind a `&mut`): the same IDs and rules, with a plain load and
    /// store instead of a compare-and-swap.
    ///
    /// ```
    /// use typed_id::generator::SnowflakeGenerator;
    ///
    /// let mut generator = SnowflakeGenerator::new(7)?;
    /// let a = generator.next_snowflake_mut()?;
    /// let b = generator.next_snowflake()?; // shared use afterwards continues the sequence
    /// assert!(b > a);
    /// # Ok::<(), typed_id::GenerateError>(())
    /// ```
    ///
    /// # Errors
    /// As [`next_snowflake`](Self::next_snowflake).
    #[inline]
    pub fn next_snowflake_mut(&mut self) -> Result<Snowflake, GenerateError> {
        let mut now = self.now_ticks()?;
        loop {
            let last = *self.state.get_mut();
            match self.step(now, last)? {
                Step::Issue(next) => {
                    *self.state.get_mut() = next;
                    return self.compose(next);
                }
                Step::Retry(new_now) => now = new_now,
            }
        }
    }

    /// [`generate`](Self::generate) for a generator this thread has to itself.
    ///
    /// # Errors
    /// As [`next_snowflake`](Self::next_snowflake).
    #[inline]
    pub fn generate_mut<T: TypedId<Body = Snowflake>>(&mut self) -> Result<T, GenerateError> {
        let body = self.next_snowflake_mut()?;
        try_from_body::<T>(body).map_err(GenerateError::Id)
    }

    /// The ID for a state word.
    #[inline]
    fn compose(&self, state: u64) -> Result<Snowflake, GenerateError> {
        let ts = state >> self.seq_bits;
        let seq = state & mask(self.seq_bits);
        Snowflake::new((ts << self.shift) | self.node | seq).map_err(GenerateError::Id)
    }

    /// Claims the next `timestamp << seq_bits | sequence`.
    #[inline]
    fn next_state(&self) -> Result<u64, GenerateError> {
        let mut now = self.now_ticks()?;
        // Relaxed is enough: uniqueness needs only the atomicity of the one word, whose
        // modifications are totally ordered; no other memory is published through it.
        let mut last = self.state.load(Ordering::Relaxed);
        loop {
            match self.step(now, last)? {
                Step::Issue(next) => match self.state.compare_exchange_weak(
                    last,
                    next,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok(next),
                    Err(actual) => last = actual,
                },
                Step::Retry(new_now) => {
                    now = new_now;
                    last = self.state.load(Ordering::Relaxed);
                }
            }
        }
    }

    /// The state that follows `last` at clock reading `now`, or a fresh clock reading
    /// to try again with.
    #[inline(always)]
    fn step(&self, now: u64, last: u64) -> Result<Step, GenerateError> {
        let fresh = now << self.seq_bits;
        let next = if fresh > last { fresh } else { last + 1 };
        let next_ts = next >> self.seq_bits;
        if next_ts > now
            && let Some(new_now) = self.ahead_of_clock(now, last, next_ts)?
        {
            return Ok(Step::Retry(new_now));
        }
        if next_ts > self.ceiling.load(Ordering::Relaxed) {
            return Err(self.ceiling_error());
        }
        Ok(Step::Issue(next))
    }

    /// The clock in ticks since the layout's epoch.
    #[inline]
    fn now_ticks(&self) -> Result<u64, GenerateError> {
        let ms = self.clock.now_ms();
        match ms.checked_sub(self.epoch_ms) {
            Some(ticks) if ticks <= self.max_ticks => Ok(ticks),
            _ => Err(self
                .layout
                .ticks(ms)
                .err()
                .unwrap_or(GenerateError::TimestampOverflow {
                    max_ms: self.layout.max_timestamp_ms(),
                })),
        }
    }

    /// The next ID would carry a timestamp after the clock's: decides whether that is
    /// allowed (`None`), must wait or re-read the clock (`Some(new now)`), or fails.
    #[cold]
    fn ahead_of_clock(
        &self,
        now: u64,
        last: u64,
        next_ts: u64,
    ) -> Result<Option<u64>, GenerateError> {
        let last_ts = last >> self.seq_bits;
        if next_ts > self.max_ticks {
            return Err(GenerateError::TimestampOverflow {
                max_ms: self.layout.max_timestamp_ms(),
            });
        }
        let behind = last_ts.saturating_sub(now);
        if behind > self.max_lead && last_ts > self.counters.step_seen_ts.load(Ordering::Relaxed) {
            self.clock_stepped_back(last_ts)?;
        }
        if behind > self.tolerance {
            // `now` may simply be stale (another thread read a newer clock and moved the
            // state on); only a fresh reading shows a real step back.
            let again = self.now_ticks()?;
            let behind = last_ts.saturating_sub(again);
            if behind > self.tolerance {
                self.counters.clock_refusals.fetch_add(1, Ordering::Relaxed);
                return Err(GenerateError::ClockMovedBackwards {
                    by_ms: behind,
                    tolerance_ms: self.tolerance,
                });
            }
            return Ok(Some(again));
        }
        if next_ts > last_ts && next_ts - now > self.max_lead {
            // Sequence exhausted and already as far ahead as allowed.
            return self.wait_for(next_ts - self.max_lead, last_ts).map(Some);
        }
        Ok(None)
    }

    /// The state's timestamp `last_ts` is ahead of a clock reading by more than the
    /// maximum lead: counts and reports the step once, if a fresh reading confirms it
    /// (the first may be stale, read before another thread moved the state on).
    #[cold]
    #[inline(never)]
    fn clock_stepped_back(&self, last_ts: u64) -> Result<(), GenerateError> {
        let again = self.now_ticks()?;
        let behind_ms = last_ts.saturating_sub(again);
        if behind_ms <= self.max_lead {
            return Ok(());
        }
        let seen = self
            .counters
            .step_seen_ts
            .fetch_max(last_ts, Ordering::Relaxed);
        if seen >= last_ts {
            return Ok(()); // another thread counted this step
        }
        self.counters
            .clock_steps_back
            .fetch_add(1, Ordering::Relaxed);
        let newest_ms = self.epoch_ms + last_ts;
        if behind_ms > self.tolerance {
            event!(
                generator,
                WARN,
                "clock is behind the newest snowflake by more than the tolerance: \
                 refusing IDs until it catches up",
                worker = self.worker,
                behind_ms,
                tolerance_ms = self.tolerance,
                newest_ms,
            );
        } else {
            event!(
                generator,
                INFO,
                "clock is behind the newest snowflake: counting on from its timestamp",
                worker = self.worker,
                behind_ms,
                tolerance_ms = self.tolerance,
                newest_ms,
            );
        }
        Ok(())
    }

    /// Waits until the clock reaches `target` ticks; gives up a little after the time
    /// that should take.
    #[cold]
    fn wait_for(&self, target: u64, last_ts: u64) -> Result<u64, GenerateError> {
        let started = Instant::now();
        let now = self.now_ticks()?;
        let expected = Duration::from_millis(target.saturating_sub(now));
        self.counters.sequence_waits.fetch_add(1, Ordering::Relaxed);
        event!(
            generator,
            DEBUG,
            "snowflake sequence exhausted: waiting for the clock",
            worker = self.worker,
            timestamp_ms = self.epoch_ms + last_ts,
            wait_ms = target.saturating_sub(now),
        );
        loop {
            let waited = started.elapsed();
            let now = self.now_ticks()?;
            if now >= target {
                return Ok(now);
            }
            if waited > expected + WAIT_SLACK {
                self.counters
                    .sequence_exhausted
                    .fetch_add(1, Ordering::Relaxed);
                event!(
                    generator,
                    ERROR,
                    "snowflake sequence exhausted and the clock does not advance",
                    worker = self.worker,
                    timestamp_ms = self.epoch_ms + last_ts,
                    waited_ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                );
                return Err(GenerateError::SequenceExhausted {
                    timestamp_ms: self.epoch_ms + last_ts,
                });
            }
            // The usual wait is for the next millisecond tick: spin through it, as
            // yielding could cost a whole time slice and with it the millisecond's
            // IDs. Longer waits (after a clock step) yield.
            if waited < SPIN_FOR {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    #[cold]
    fn ceiling_error(&self) -> GenerateError {
        GenerateError::CeilingReached {
            ceiling_ms: self
                .epoch_ms
                .saturating_add(self.ceiling.load(Ordering::Relaxed)),
        }
    }

    /// Never issue an ID whose timestamp is at or below `unix_ms` from now on.
    ///
    /// This is the hook for worker-ID leases: a restarted worker raises its floor to the
    /// high-water mark its predecessor recorded ([`high_water_ms`](Self::high_water_ms)),
    /// so it cannot repeat an ID even if the clock stepped back across the restart. A
    /// floor that lies more than the tolerance ahead of the clock makes generation fail
    /// with [`GenerateError::ClockMovedBackwards`] until the clock catches up. Lowering
    /// the floor is a no-op. Lock-free (one `fetch_max`).
    ///
    /// ```
    /// use typed_id::generator::{Layout, ManualClock, SnowflakeGenerator};
    ///
    /// let t = Layout::DEFAULT.epoch_ms() + 1_000_000;
    /// let generator = SnowflakeGenerator::builder().clock(ManualClock::new(t)).build()?;
    /// generator.raise_floor_ms(t)?;
    /// let id = generator.next_snowflake()?;
    /// assert_eq!(Layout::DEFAULT.decompose(id).timestamp_ms, t + 1);
    /// # Ok::<(), typed_id::GenerateError>(())
    /// ```
    ///
    /// # Errors
    /// [`GenerateError::TimestampOverflow`] for a floor beyond the layout's range.
    pub fn raise_floor_ms(&self, unix_ms: u64) -> Result<(), GenerateError> {
        let Some(ticks) = unix_ms.checked_sub(self.epoch_ms) else {
            return Ok(());
        };
        if ticks >= self.max_ticks {
            return Err(GenerateError::TimestampOverflow {
                max_ms: self.layout.max_timestamp_ms(),
            });
        }
        // Recorded as if sequence 0 of the next millisecond had been issued: the next ID
        // is (ticks + 1, 1) without a carry, so a floor slightly ahead of the clock is
        // absorbed like a small clock step instead of waited out.
        let floor = (ticks + 1) << self.seq_bits;
        self.state.fetch_max(floor, Ordering::Relaxed);
        Ok(())
    }

    /// Never issue an ID whose timestamp is above `unix_ms` (a fence): generation fails
    /// with [`GenerateError::CeilingReached`] instead.
    ///
    /// A worker lease sets the ceiling to the high-water mark it records and raises both
    /// as it renews. Because the fence is on the IDs' timestamps rather than on the time
    /// of the call, even a process paused mid-call cannot issue an ID above what the
    /// lease recorded, and a successor that raises its floor to that mark cannot
    /// overlap with it. Costs one relaxed load per ID.
    pub fn set_ceiling_ms(&self, unix_ms: u64) {
        let ticks = unix_ms.saturating_sub(self.epoch_ms);
        self.ceiling.store(ticks, Ordering::Relaxed);
    }

    /// Removes the ceiling.
    pub fn clear_ceiling(&self) {
        self.ceiling.store(u64::MAX, Ordering::Relaxed);
    }

    /// The newest timestamp (Unix milliseconds) this generator has issued an ID in, or
    /// the millisecond after its floor; every later ID has a timestamp at or above it.
    /// The layout's epoch before the first ID.
    #[must_use]
    pub fn high_water_ms(&self) -> u64 {
        self.epoch_ms + (self.state.load(Ordering::Relaxed) >> self.seq_bits)
    }

    /// Splits an ID made with this generator's layout into its fields.
    #[must_use]
    pub fn decompose(&self, id: Snowflake) -> SnowflakeParts {
        self.layout.decompose(id)
    }

    /// The layout.
    #[must_use]
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The worker ID.
    #[must_use]
    pub fn worker(&self) -> u32 {
        self.worker
    }

    /// The process ID (0 for layouts without a process field).
    #[must_use]
    pub fn process(&self) -> u32 {
        self.process
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The backwards tolerance in milliseconds.
    #[must_use]
    pub fn backwards_tolerance_ms(&self) -> u64 {
        self.tolerance
    }

    /// What this generator has run into: waits for the clock after the sequence ran
    /// out, clock steps back, and the calls that failed over either.
    ///
    /// ```
    /// use typed_id::generator::{ManualClock, SnowflakeGenerator};
    ///
    /// let clock = ManualClock::new(1_735_689_600_000);
    /// let generator = SnowflakeGenerator::builder()
    ///     .clock(clock.clone())
    ///     .backwards_tolerance_ms(5)
    ///     .build()?;
    /// generator.next_snowflake()?;
    /// clock.set_ms(1_735_689_600_000 - 60_000); // NTP steps the clock back a minute
    /// assert!(generator.next_snowflake().is_err());
    /// let stats = generator.stats();
    /// assert_eq!((stats.clock_steps_back, stats.clock_refusals), (1, 1));
    /// # Ok::<(), typed_id::GenerateError>(())
    /// ```
    #[must_use]
    pub fn stats(&self) -> SnowflakeStats {
        let c = &self.counters;
        SnowflakeStats {
            sequence_waits: c.sequence_waits.load(Ordering::Relaxed),
            sequence_exhausted: c.sequence_exhausted.load(Ordering::Relaxed),
            clock_steps_back: c.clock_steps_back.load(Ordering::Relaxed),
            clock_refusals: c.clock_refusals.load(Ordering::Relaxed),
        }
    }
}

impl<C: Clock> fmt::Debug for SnowflakeGenerator<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnowflakeGenerator")
            .field("layout", &self.layout)
            .field("worker", &self.worker)
            .field("process", &self.process)
            .field("backwards_tolerance_ms", &self.tolerance)
            .field("max_lead_ms", &self.max_lead)
            .field("high_water_ms", &self.high_water_ms())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::{ManualClock, system_time};

    const T0: u64 = 1_735_689_600_000; // 2025-01-01T00:00:00Z

    fn manual(worker: u32) -> (ManualClock, SnowflakeGenerator<ManualClock>) {
        let clock = ManualClock::new(T0);
        let generator = SnowflakeGenerator::builder()
            .worker(worker)
            .clock(clock.clone())
            .build()
            .unwrap();
        (clock, generator)
    }

    #[test]
    fn worker_range_checked_at_construction() {
        assert_eq!(
            SnowflakeGenerator::new(1024).unwrap_err(),
            GenerateError::WorkerOutOfRange {
                worker: 1024,
                max: 1023
            }
        );
        assert_eq!(
            SnowflakeGenerator::builder()
                .layout(Layout::DISCORD)
                .worker(1)
                .process(32)
                .build()
                .unwrap_err(),
            GenerateError::ProcessOutOfRange {
                process: 32,
                max: 31
            }
        );
        assert!(matches!(
            SnowflakeGenerator::builder()
                .max_lead_ms(20)
                .build()
                .unwrap_err(),
            GenerateError::InvalidConfig { .. }
        ));
    }

    #[test]
    fn fields_and_order() {
        let (clock, g) = manual(5);
        let a = g.next_snowflake().unwrap();
        let b = g.next_snowflake().unwrap();
        clock.advance_ms(3);
        let c = g.next_snowflake().unwrap();
        let pa = g.decompose(a);
        let pb = g.decompose(b);
        let pc = g.decompose(c);
        assert_eq!((pa.timestamp_ms, pa.worker, pa.sequence), (T0, 5, 0));
        assert_eq!((pb.timestamp_ms, pb.sequence), (T0, 1));
        assert_eq!((pc.timestamp_ms, pc.sequence), (T0 + 3, 0));
        assert_eq!(pc.timestamp, system_time(T0 + 3));
        assert!(a < b && b < c);
        assert_eq!(g.high_water_ms(), T0 + 3);
    }

    #[test]
    fn small_step_back_is_absorbed() {
        let (clock, g) = manual(1);
        let a = g.next_snowflake().unwrap();
        clock.step_back_ms(5);
        let b = g.next_snowflake().unwrap();
        let c = g.next_snowflake().unwrap();
        assert!(a < b && b < c);
        assert_eq!(g.decompose(c).timestamp_ms, T0);
        // Exactly at the tolerance still works.
        clock.set_ms(T0 - 10);
        assert!(g.next_snowflake().unwrap() > c);
    }

    #[test]
    fn large_step_back_is_an_error() {
        let (clock, g) = manual(1);
        g.next_snowflake().unwrap();
        clock.step_back_ms(11);
        assert_eq!(
            g.next_snowflake(),
            Err(GenerateError::ClockMovedBackwards {
                by_ms: 11,
                tolerance_ms: 10
            })
        );
        clock.set_ms(T0 + 1);
        assert_eq!(
            g.decompose(g.next_snowflake().unwrap()).timestamp_ms,
            T0 + 1
        );
    }

    #[test]
    fn exhaustion_runs_ahead_then_reports_a_frozen_clock() {
        let (_clock, g) = manual(1);
        let mut last = None;
        // 4096 at T0, 4096 carried to T0 + 1 (the default lead), then the clock must move.
        for i in 0..8192u32 {
            let id = g.next_snowflake().unwrap();
            let parts = g.decompose(id);
            assert_eq!(parts.timestamp_ms, T0 + u64::from(i / 4096));
            assert_eq!(parts.sequence, i % 4096);
            assert!(last < Some(id));
            last = Some(id);
        }
        let started = Instant::now();
        assert_eq!(
            g.next_snowflake(),
            Err(GenerateError::SequenceExhausted {
                timestamp_ms: T0 + 1
            })
        );
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn exhaustion_waits_for_a_moving_clock() {
        let clock = ManualClock::new(T0);
        let g = SnowflakeGenerator::builder()
            .clock(clock.clone())
            .max_lead_ms(0)
            .build()
            .unwrap();
        for _ in 0..4096 {
            g.next_snowflake().unwrap();
        }
        let ticker = {
            let clock = clock.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(2));
                clock.advance_ms(1);
            })
        };
        let id = g.next_snowflake().unwrap();
        ticker.join().unwrap();
        assert_eq!(g.decompose(id).timestamp_ms, T0 + 1);
        assert_eq!(g.decompose(id).sequence, 0);
    }

    #[test]
    fn exclusive_access_follows_the_same_rules() {
        let (clock, mut g) = manual(4);
        let mut last = None;
        for i in 0..=4096u32 {
            let id = g.next_snowflake_mut().unwrap();
            assert!(last < Some(id));
            last = Some(id);
            let parts = g.decompose(id);
            let expected = if i < 4096 { (T0, i) } else { (T0 + 1, 0) };
            assert_eq!((parts.timestamp_ms, parts.sequence), expected);
        }
        clock.step_back_ms(5);
        let id = g.next_snowflake_mut().unwrap();
        assert!(last < Some(id));
        assert_eq!(g.decompose(id).timestamp_ms, T0 + 1);
        clock.step_back_ms(20);
        assert!(matches!(
            g.next_snowflake_mut(),
            Err(GenerateError::ClockMovedBackwards { by_ms: 26, .. })
        ));
        // Shared and exclusive use continue one sequence.
        clock.set_ms(T0 + 2);
        let a = g.next_snowflake().unwrap();
        let b = g.next_snowflake_mut().unwrap();
        assert!(a < b);
    }

    #[test]
    fn floor_and_ceiling() {
        let (clock, g) = manual(2);
        g.raise_floor_ms(T0 + 3).unwrap();
        g.raise_floor_ms(T0 + 1).unwrap(); // lowering: no-op
        let id = g.next_snowflake().unwrap();
        assert_eq!(g.decompose(id).timestamp_ms, T0 + 4);
        assert_eq!(g.high_water_ms(), T0 + 4);
        g.raise_floor_ms(T0 + 100).unwrap();
        assert!(matches!(
            g.next_snowflake(),
            Err(GenerateError::ClockMovedBackwards { by_ms: 101, .. })
        ));
        clock.set_ms(T0 + 200);
        g.set_ceiling_ms(T0 + 150);
        assert_eq!(
            g.next_snowflake(),
            Err(GenerateError::CeilingReached {
                ceiling_ms: T0 + 150
            })
        );
        g.set_ceiling_ms(T0 + 200);
        assert!(g.next_snowflake().is_ok());
        g.clear_ceiling();
        clock.advance_ms(1);
        assert!(g.next_snowflake().is_ok());
        assert!(g.raise_floor_ms(u64::MAX).is_err());
    }

    #[test]
    fn clock_before_epoch() {
        let g = SnowflakeGenerator::builder()
            .clock(ManualClock::new(5))
            .build()
            .unwrap();
        assert_eq!(
            g.next_snowflake(),
            Err(GenerateError::ClockBeforeEpoch {
                now_ms: 5,
                epoch_ms: Layout::DEFAULT.epoch_ms()
            })
        );
    }

    #[test]
    fn derived_worker_fits_layout() {
        let g = SnowflakeGenerator::builder()
            .layout(Layout::DISCORD)
            .derived_worker()
            .build()
            .unwrap();
        assert!(g.worker() <= 31 && g.process() <= 31);
        let id = g.next_snowflake().unwrap();
        let parts = g.decompose(id);
        assert_eq!(
            (parts.worker, parts.process),
            (g.worker(), Some(g.process()))
        );
    }
}
