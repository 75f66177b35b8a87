//! Content-hash generation: `el-a3f8e9` from SHA-256 of `title|created_by|timestamp_ns|nonce`,
//! as short as the store's size allows, checked against the store for collisions.
//!
//! The first 8 digest bytes, read as a big-endian `u64` `v`, become `v mod 36^L` written
//! as exactly `L` base36 digits, so every length draws uniformly from all `36^L` values.
//! `L` is the smallest length (at least the minimum, default 4, at most 8 and within the
//! type's own bounds) for which the birthday bound `1 - exp(-n(n-1) / (2·36^L))` over the
//! store's element count `n` stays under the threshold (default 1 %). The count is cached
//! and refreshed every so many generations or seconds, not queried per ID.
//!
//! A candidate the store already holds is replaced by the next nonce: ten nonces at the
//! chosen length, ten at each longer length, then a bounded number at the longest, then
//! [`HashGenerateError::TooManyCollisions`]. Every attempt uses a fresh nonce, so a longer
//! candidate is never an extension of a shorter one that collided.
//!
//! Collisions are counted ([`HashIdGenerator::stats`]) and, with the `tracing` feature,
//! reported as events: the collision metrics that show when a store outgrows its lengths.

mod digest;
mod length;

use core::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use self::digest::{Blocks, Prepared, base36_fixed};
use self::length::{LEN_MAX, LEN_MIN, LengthLimits};
use super::GenerateError;
use super::collision::CollisionCheck;
use crate::body::{HashId, HashSpec};
use crate::error::{IdError, ParseErrorKind};
use crate::trace::event;
use crate::typed::TypedId;

pub use self::digest::HashInput;
pub use self::length::{birthday_probability, max_elements};

/// Nonces tried at each length before growing it.
const NONCES_PER_LENGTH: u32 = 10;
/// `since_refresh` value that forces a refresh.
const STALE: u32 = u32::MAX / 2;
/// Room for a candidate's full text, prefix included (what the collision check sees):
/// the longest canonical ID text.
const CANDIDATE_CAP: usize = crate::id_text::IdText::CAP;

/// Why no content-hash ID could be generated. New reasons may be added in minor
/// releases.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashGenerateError<E> {
    /// Every candidate up to the bound was taken (a store this full needs a longer
    /// minimum length, or the check reports everything as taken).
    TooManyCollisions {
        /// Candidates tried.
        attempts: u32,
        /// The longest length tried.
        len: u8,
    },
    /// The collision check failed.
    Check(E),
    /// The candidate does not fit the target type (a prefix too long for the text
    /// buffer; derived types rule this out at compile time).
    Id(IdError),
}

impl<E: fmt::Display> fmt::Display for HashGenerateError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashGenerateError::TooManyCollisions { attempts, len } => write!(
                f,
                "no free content-hash ID after {attempts} candidates (lengths up to {len})"
            ),
            HashGenerateError::Check(e) => write!(f, "collision check failed: {e}"),
            HashGenerateError::Id(e) => write!(f, "generated ID does not fit its type: {e}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for HashGenerateError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HashGenerateError::Check(e) => Some(e),
            HashGenerateError::Id(e) => Some(e),
            HashGenerateError::TooManyCollisions { .. } => None,
        }
    }
}

/// What a [`HashIdGenerator`] has done since it was made: read with
/// [`HashIdGenerator::stats`], with or without the `tracing` feature.
///
/// A collision rate that climbs means the cached element count lags behind the store
/// (see [`HashIdGenerator::note_inserted`]) or the threshold is too loose; length
/// escalations mean the chosen length was already crowded; any exhaustion means the
/// store needs a longer minimum length.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashGeneratorStats {
    /// Candidates the collision check reported as taken.
    pub collisions: u64,
    /// Generations that resolved their collisions with a fresh nonce at the chosen
    /// length.
    pub resolved_by_nonce: u64,
    /// Generations that had to grow the length past the one chosen from the element
    /// count.
    pub length_escalations: u64,
    /// Generations that failed with [`HashGenerateError::TooManyCollisions`].
    pub exhausted: u64,
}

/// The rarely-moving counters behind [`HashGeneratorStats`]: each changes only when a
/// candidate collided, so an atomic add costs nothing on the usual path.
#[derive(Debug, Default)]
struct RareCounters {
    collisions: AtomicU64,
    resolved_by_nonce: AtomicU64,
    length_escalations: AtomicU64,
    exhausted: AtomicU64,
}

/// Configures a [`HashIdGenerator`]; start from [`HashIdGenerator::builder`].
#[must_use]
#[derive(Clone, Copy, Debug)]
pub struct HashIdGeneratorBuilder {
    min_len: u8,
    max_len: u8,
    threshold: f64,
    max_len_attempts: u32,
    refresh_every: u32,
    refresh_after: Duration,
}

impl HashIdGeneratorBuilder {
    /// Shortest hash to generate (3..=8, default 4).
    pub fn min_len(mut self, len: u8) -> Self {
        self.min_len = len;
        self
    }

    /// Longest hash to generate (min..=8, default 8).
    pub fn max_len(mut self, len: u8) -> Self {
        self.max_len = len;
        self
    }

    /// Collision probability the length keeps the store under (0 < p < 1, default 0.01).
    pub fn threshold(mut self, p: f64) -> Self {
        self.threshold = p;
        self
    }

    /// Candidates tried at the longest length before giving up (default 100, at
    /// least 10).
    pub fn max_len_attempts(mut self, attempts: u32) -> Self {
        self.max_len_attempts = attempts;
        self
    }

    /// Re-read the element count after this many generations (default 1 000).
    pub fn refresh_every(mut self, generations: u32) -> Self {
        self.refresh_every = generations;
        self
    }

    /// Re-read the element count when it is older than this (default 10 s). Age is
    /// measured on the inputs' own timestamps (`timestamp_ns`), so no clock is read per
    /// generation: an input stamped at least this long after the one that triggered the
    /// last refresh triggers the next.
    pub fn refresh_after(mut self, age: Duration) -> Self {
        self.refresh_after = age;
        self
    }

    /// Builds the generator.
    ///
    /// # Errors
    /// [`GenerateError::InvalidConfig`] for out-of-range settings.
    pub fn build(self) -> Result<HashIdGenerator, GenerateError> {
        let reason = if !(LEN_MIN..=LEN_MAX).contains(&self.min_len) {
            "minimum length must be 3..=8"
        } else if !(self.min_len..=LEN_MAX).contains(&self.max_len) {
            "maximum length must be between the minimum and 8"
        } else if !(self.threshold > 0.0 && self.threshold < 1.0) {
            "threshold must be between 0 and 1"
        } else if self.max_len_attempts < NONCES_PER_LENGTH {
            "at least 10 attempts at the longest length"
        } else if self.refresh_every == 0 || self.refresh_every >= STALE / 2 {
            "refresh_every must be 1..2^30"
        } else {
            return Ok(HashIdGenerator::from_config(self));
        };
        Err(GenerateError::InvalidConfig { reason })
    }
}

impl Default for HashIdGeneratorBuilder {
    fn default() -> Self {
        HashIdGeneratorBuilder {
            min_len: 4,
            max_len: LEN_MAX,
            threshold: 0.01,
            max_len_attempts: 100,
            refresh_every: 1000,
            refresh_after: Duration::from_secs(10),
        }
    }
}

/// Generates content-hash IDs of an adaptive length; thread-safe.
///
/// Each candidate is SHA-256(`title|created_by|timestamp_ns|nonce`); its first 8 bytes,
/// as a big-endian `u64` `v`, become `v mod 36^L` in exactly `L` base36 digits. `L` is
/// the smallest length (at least the minimum, default 4; at most 8 and within the
/// type's bounds) whose birthday bound `1 - exp(-n(n-1) / (2·36^L))` over the store's
/// element count `n` stays under the threshold (default 1 %): up to 184 elements at
/// length 4, 1 102 at 5, 6 615 at 6, 39 688 at 7 (see [`max_elements`]). The count comes
/// from [`CollisionCheck::count`], cached, and re-read every 1 000 generations or when
/// an input is stamped 10 s after the last re-read (see the builder).
///
/// A candidate the check reports as taken is replaced: nonces 0 to 9 at the chosen
/// length, the next ten at each longer length, then up to 100 at the longest; then
/// [`HashGenerateError::TooManyCollisions`]. A generation never loops beyond that bound.
///
/// ```
/// use typed_id::generator::{HashIdGenerator, HashInput, MemoryCollisionCheck};
///
/// let generator = HashIdGenerator::new();
/// let store = MemoryCollisionCheck::new();
/// let input = HashInput::new("Fix the login bug", "alice", 1_735_689_600_123_456_789);
/// let a = generator.generate_body(&input, &store)?;
/// assert_eq!(a.as_str().len(), 4); // a small store: the minimum length
/// // Same input again: nonce 0 is taken (claimed by the first call), nonce 1 is used.
/// let b = generator.generate_body(&input, &store)?;
/// assert_ne!(a, b);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// For a derived type, [`generate`](Self::generate) respects the type's length bounds
/// and shows the check the prefixed text (`el-a3f8`).
#[derive(Debug)]
pub struct HashIdGenerator {
    config: HashIdGeneratorBuilder,
    /// Largest element count under the threshold, per length.
    limits: LengthLimits,
    cached: AtomicU64,
    since_refresh: AtomicU32,
    /// `timestamp_ns` of the input that triggered the last refresh.
    refreshed_at_ns: AtomicU64,
    /// `config.refresh_after` in nanoseconds, computed once.
    refresh_after_ns: u128,
    rare: RareCounters,
}

impl Default for HashIdGenerator {
    fn default() -> Self {
        Self::new()
    }
}

impl HashIdGenerator {
    /// A generator with the defaults: lengths 4..=8, threshold 1 %.
    #[must_use]
    pub fn new() -> Self {
        Self::from_config(HashIdGeneratorBuilder::default())
    }

    /// A generator from checked settings.
    fn from_config(config: HashIdGeneratorBuilder) -> Self {
        HashIdGenerator {
            config,
            limits: LengthLimits::new(config.threshold),
            cached: AtomicU64::new(0),
            since_refresh: AtomicU32::new(STALE),
            refreshed_at_ns: AtomicU64::new(0),
            refresh_after_ns: config.refresh_after.as_nanos(),
            rare: RareCounters::default(),
        }
    }

    /// Starts configuring a generator.
    ///
    /// ```
    /// use typed_id::generator::HashIdGenerator;
    ///
    /// let generator = HashIdGenerator::builder().min_len(3).threshold(0.5).build()?;
    /// assert_eq!(generator.length_for(254), 3);
    /// assert_eq!(generator.length_for(255), 4);
    /// # Ok::<(), typed_id::GenerateError>(())
    /// ```
    pub fn builder() -> HashIdGeneratorBuilder {
        HashIdGeneratorBuilder::default()
    }

    /// The next root ID of type `T` for `input`, free according to `check`, within
    /// `T`'s length bounds.
    ///
    /// # Errors
    /// [`HashGenerateError::TooManyCollisions`] when every candidate up to the bound is
    /// taken; [`HashGenerateError::Check`] when the check fails.
    pub fn generate<T, C>(
        &self,
        input: &HashInput<'_>,
        check: &C,
    ) -> Result<T, HashGenerateError<C::Error>>
    where
        T: TypedId<Body = HashId>,
        C: CollisionCheck + ?Sized,
    {
        let spec: HashSpec = T::SPEC;
        self.generate_in(T::PREFIX, &spec, input, check, T::from_body_unchecked)
    }

    /// The next bare [`HashId`] (no prefix; the check sees the body text).
    ///
    /// # Errors
    /// As [`generate`](Self::generate).
    pub fn generate_body<C>(
        &self,
        input: &HashInput<'_>,
        check: &C,
    ) -> Result<HashId, HashGenerateError<C::Error>>
    where
        C: CollisionCheck + ?Sized,
    {
        self.generate_in(
            "",
            &HashSpec::DEFAULT,
            input,
            check,
            core::convert::identity,
        )
    }

    /// The generation itself; `wrap` makes the caller's type from the winner, so the
    /// result is built once, in place (mapping a returned `Result` copies it).
    fn generate_in<R, C>(
        &self,
        prefix: &'static str,
        spec: &HashSpec,
        input: &HashInput<'_>,
        check: &C,
        wrap: impl FnOnce(HashId) -> R,
    ) -> Result<R, HashGenerateError<C::Error>>
    where
        C: CollisionCheck + ?Sized,
    {
        let (lo, hi) = self.bounds(spec);
        let n = self
            .count(check, input.timestamp_ns)
            .map_err(HashGenerateError::Check)?;
        let start = self.length_within(n, lo, hi);
        let text_at = if prefix.is_empty() {
            0
        } else {
            prefix.len() + 1
        };
        let mut blocks = Blocks::new();
        let mut prepared = Prepared::new(input, &mut blocks);
        // The candidates' full text: the prefix and `-` once, then each candidate's
        // digits, so the ID is made only for the winner and without a second
        // validation.
        let mut text = [0u8; CANDIDATE_CAP];
        if text_at > 0 && text_at <= CANDIDATE_CAP {
            text[..prefix.len()].copy_from_slice(prefix.as_bytes());
            text[prefix.len()] = b'-';
        }
        let mut nonce = 0u32;
        for len in start..=hi {
            // Checked before anything is claimed: an ID that cannot be returned must
            // not be reserved in the store. Neither fails for a derived type.
            let end = text_at + usize::from(len);
            if end > CANDIDATE_CAP {
                return Err(HashGenerateError::Id(IdError::Shape(
                    ParseErrorKind::TooLong {
                        len: end,
                        max: CANDIDATE_CAP,
                    },
                )));
            }
            if len < spec.min_len || len > spec.max_len {
                // A hand-built spec whose bounds the generator's cannot meet.
                return Err(HashGenerateError::Id(IdError::Shape(
                    ParseErrorKind::HashLength {
                        len: usize::from(len),
                        min: spec.min_len,
                        max: spec.max_len,
                    },
                )));
            }
            let tries = if len < hi {
                NONCES_PER_LENGTH
            } else {
                self.config.max_len_attempts
            };
            for _ in 0..tries {
                let value = prepared.value(nonce);
                nonce += 1;
                base36_fixed(value, len, &mut text[text_at..end]);
                debug_assert!(text[text_at..end].is_ascii());
                // SAFETY: `text[..end]` holds the prefix (a `&str`), `-` and base36
                // digits (ASCII), so it is valid UTF-8. (`from_utf8` here cost a
                // twentieth of the whole generation.)
                let candidate = unsafe { core::str::from_utf8_unchecked(&text[..end]) };
                if check.claim(candidate).map_err(HashGenerateError::Check)? {
                    // Load and store, not an atomic add: see `count`.
                    let cached = self.cached.load(Ordering::Relaxed);
                    self.cached
                        .store(cached.saturating_add(1), Ordering::Relaxed);
                    // The counters' only per-ID cost: one predictable branch.
                    if nonce > 1 {
                        self.collided(candidate, nonce, start, len, n);
                    }
                    return Ok(wrap(HashId::from_generated(&text[text_at..end])));
                }
            }
        }
        self.exhausted(prefix, nonce, start, hi, n);
        Err(HashGenerateError::TooManyCollisions {
            attempts: nonce,
            len: hi,
        })
    }

    /// Counts and reports a generation whose winner was candidate number `candidates`
    /// (so `candidates - 1` collided), chosen at length `start`, won at `len`, with the
    /// element count at `count`.
    #[cold]
    #[inline(never)]
    fn collided(&self, winner: &str, candidates: u32, start: u8, len: u8, count: u64) {
        let collisions = u64::from(candidates - 1);
        self.rare
            .collisions
            .fetch_add(collisions, Ordering::Relaxed);
        if len > start {
            self.rare.length_escalations.fetch_add(1, Ordering::Relaxed);
            event!(
                generator,
                INFO,
                "content-hash collisions resolved by growing the length",
                id = winner,
                candidates,
                collisions,
                chosen_len = start,
                len,
                element_count = count,
            );
        } else {
            self.rare.resolved_by_nonce.fetch_add(1, Ordering::Relaxed);
            event!(
                generator,
                DEBUG,
                "content-hash collision resolved by a fresh nonce",
                id = winner,
                candidates,
                collisions,
                len,
                element_count = count,
            );
        }
    }

    /// Counts and reports a generation that ran out of candidates.
    #[cold]
    #[inline(never)]
    fn exhausted(&self, prefix: &str, candidates: u32, start: u8, max_len: u8, count: u64) {
        self.rare
            .collisions
            .fetch_add(u64::from(candidates), Ordering::Relaxed);
        self.rare.exhausted.fetch_add(1, Ordering::Relaxed);
        event!(
            generator,
            WARN,
            "no free content-hash ID: every candidate collided",
            prefix,
            candidates,
            chosen_len = start,
            max_len,
            element_count = count,
        );
    }

    /// What this generator has run into since it was made: candidates that collided,
    /// and how the collisions were resolved.
    ///
    /// The counters are atomic adds made only when a candidate collided. There is no
    /// count of IDs generated: an exact one would need a locked add per ID (about a
    /// sixth of the hash), so count successful calls where they are made if a rate is
    /// needed.
    ///
    /// ```
    /// use typed_id::generator::{HashIdGenerator, HashInput, MemoryCollisionCheck};
    ///
    /// let generator = HashIdGenerator::new();
    /// let store = MemoryCollisionCheck::new();
    /// let input = HashInput::new("Fix the login bug", "alice", 1_735_689_600_123_456_789);
    /// generator.generate_body(&input, &store)?;
    /// generator.generate_body(&input, &store)?; // nonce 0 is taken: one collision
    /// let stats = generator.stats();
    /// assert_eq!((stats.collisions, stats.resolved_by_nonce), (1, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn stats(&self) -> HashGeneratorStats {
        HashGeneratorStats {
            collisions: self.rare.collisions.load(Ordering::Relaxed),
            resolved_by_nonce: self.rare.resolved_by_nonce.load(Ordering::Relaxed),
            length_escalations: self.rare.length_escalations.load(Ordering::Relaxed),
            exhausted: self.rare.exhausted.load(Ordering::Relaxed),
        }
    }

    /// The generator's length bounds narrowed to a type's.
    #[inline]
    fn bounds(&self, spec: &HashSpec) -> (u8, u8) {
        // Written without `clamp`, which panics on a (hand-built) spec whose minimum
        // exceeds its maximum; such a spec then fails the length check in
        // `generate_in`, not here.
        let type_min = spec.min_len.max(LEN_MIN);
        let type_max = spec.max_len.min(LEN_MAX).max(type_min);
        let lo = self.config.min_len.max(type_min).min(type_max);
        let hi = self.config.max_len.min(type_max).max(lo);
        (lo, hi)
    }

    /// The length for a store of `n` elements: the smallest within the generator's
    /// bounds whose birthday bound stays under the threshold, else the longest.
    #[must_use]
    pub fn length_for(&self, n: u64) -> u8 {
        self.length_within(n, self.config.min_len, self.config.max_len)
    }

    #[inline]
    fn length_within(&self, n: u64, lo: u8, hi: u8) -> u8 {
        self.limits.length_within(n, lo, hi)
    }

    /// The cached element count, refreshed from `check` when stale.
    fn count<C: CollisionCheck + ?Sized>(&self, check: &C, at_ns: u64) -> Result<u64, C::Error> {
        // A plain load and store rather than an atomic add: the count is an estimate
        // anyway, a lost increment only delays a refresh by one generation, and a
        // locked instruction would cost a sixth of the hash.
        let since = self.since_refresh.load(Ordering::Relaxed);
        self.since_refresh
            .store(since.saturating_add(1), Ordering::Relaxed);
        let age_ns = at_ns.saturating_sub(self.refreshed_at_ns.load(Ordering::Relaxed));
        let due = since >= self.config.refresh_every || u128::from(age_ns) >= self.refresh_after_ns;
        if !due {
            return Ok(self.cached.load(Ordering::Relaxed));
        }
        let n = check.count()?;
        self.cached.store(n, Ordering::Relaxed);
        self.refreshed_at_ns.store(at_ns, Ordering::Relaxed);
        self.since_refresh.store(1, Ordering::Relaxed);
        Ok(n)
    }

    /// The element count the length is currently chosen from.
    #[must_use]
    pub fn cached_count(&self) -> u64 {
        self.cached.load(Ordering::Relaxed)
    }

    /// Tells the generator that `n` elements were added by other means (imports, other
    /// processes), so the length adapts before the next refresh. IDs it generated
    /// itself are counted already.
    pub fn note_inserted(&self, n: u64) {
        self.cached.fetch_add(n, Ordering::Relaxed);
    }

    /// Forces the element count to be re-read on the next generation.
    pub fn invalidate(&self) {
        self.since_refresh.store(STALE, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::convert::Infallible;

    #[test]
    fn builder_rejects_bad_settings() {
        for b in [
            HashIdGenerator::builder().min_len(2),
            HashIdGenerator::builder().min_len(9),
            HashIdGenerator::builder().min_len(5).max_len(4),
            HashIdGenerator::builder().threshold(0.0),
            HashIdGenerator::builder().threshold(1.0),
            HashIdGenerator::builder().threshold(f64::NAN),
            HashIdGenerator::builder().max_len_attempts(9),
            HashIdGenerator::builder().refresh_every(0),
        ] {
            assert!(
                matches!(b.build(), Err(GenerateError::InvalidConfig { .. })),
                "{b:?}"
            );
        }
    }

    #[test]
    fn type_bounds_narrow_the_generator_bounds() {
        let g = HashIdGenerator::new();
        assert_eq!(g.bounds(&HashSpec::new(3, 8, 3).unwrap()), (4, 8));
        assert_eq!(g.bounds(&HashSpec::new(6, 7, 0).unwrap()), (6, 7));
        assert_eq!(g.bounds(&HashSpec::new(3, 3, 0).unwrap()), (3, 3));
        let odd = HashSpec {
            min_len: 7,
            max_len: 5,
            max_depth: 0,
        };
        assert_eq!(g.bounds(&odd), (7, 7));
    }

    #[test]
    fn unreturnable_candidates_are_not_claimed() {
        let g = HashIdGenerator::new();
        let store = crate::generator::MemoryCollisionCheck::new();
        let input = HashInput::new("t", "u", 1);
        // A prefix that leaves room for exactly 4 digits: the first length fits.
        let prefix = "p".repeat(CANDIDATE_CAP - 5);
        let prefix: &'static str = Box::leak(prefix.into_boxed_str());
        let id = g
            .generate_in(prefix, &HashSpec::DEFAULT, &input, &store, |id| id)
            .unwrap();
        assert_eq!(id.as_str().len(), 4);
        // One character longer: nothing fits, nothing is claimed.
        let longer: &'static str = Box::leak(format!("{prefix}p").into_boxed_str());
        let err = g
            .generate_in(longer, &HashSpec::DEFAULT, &input, &store, |id| id)
            .unwrap_err();
        assert_eq!(
            err,
            HashGenerateError::Id(IdError::Shape(ParseErrorKind::TooLong {
                len: CANDIDATE_CAP + 1,
                max: CANDIDATE_CAP
            }))
        );
        // A hand-built spec no length can meet.
        let odd = HashSpec {
            min_len: 7,
            max_len: 5,
            max_depth: 0,
        };
        let err = g
            .generate_in("", &odd, &input, &store, |id| id)
            .unwrap_err();
        assert_eq!(
            err,
            HashGenerateError::Id(IdError::Shape(ParseErrorKind::HashLength {
                len: 7,
                min: 7,
                max: 5
            }))
        );
        assert_eq!(store.len(), 1, "only the returned ID was claimed");
    }

    struct Counting {
        count: u64,
        calls: AtomicU32,
    }

    impl CollisionCheck for Counting {
        type Error = Infallible;
        fn exists(&self, _: &str) -> Result<bool, Infallible> {
            Ok(false)
        }
        fn count(&self) -> Result<u64, Infallible> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            Ok(self.count)
        }
    }

    #[test]
    fn count_is_cached_and_refreshed() {
        let g = HashIdGenerator::builder()
            .refresh_every(100)
            .build()
            .unwrap();
        let check = Counting {
            count: 5000,
            calls: AtomicU32::new(0),
        };
        let input = HashInput::new("t", "u", 1);
        let id = g.generate_body(&input, &check).unwrap();
        assert_eq!(
            id.as_str().len(),
            6,
            "5000 elements need 6 characters at 1 %"
        );
        for _ in 0..99 {
            g.generate_body(&input, &check).unwrap();
        }
        assert_eq!(check.calls.load(Ordering::Relaxed), 1);
        assert_eq!(g.cached_count(), 5100, "own IDs are counted");
        g.generate_body(&input, &check).unwrap();
        assert_eq!(check.calls.load(Ordering::Relaxed), 2);
        g.invalidate();
        g.generate_body(&input, &check).unwrap();
        assert_eq!(check.calls.load(Ordering::Relaxed), 3);
        g.note_inserted(1_000_000);
        assert_eq!(g.generate_body(&input, &check).unwrap().as_str().len(), 8);
    }

    #[test]
    fn count_refreshes_after_a_while() {
        let g = HashIdGenerator::builder()
            .refresh_after(Duration::from_secs(10))
            .build()
            .unwrap();
        let check = Counting {
            count: 0,
            calls: AtomicU32::new(0),
        };
        let t0 = 1_735_689_600_000_000_000;
        let calls = || check.calls.load(Ordering::Relaxed);
        g.generate_body(&HashInput::new("t", "u", t0), &check)
            .unwrap();
        assert_eq!(calls(), 1);
        // 9.999 s later by the inputs' clock: still fresh.
        g.generate_body(&HashInput::new("t", "u", t0 + 9_999_000_000), &check)
            .unwrap();
        assert_eq!(calls(), 1);
        // An input from the past does not count as later.
        g.generate_body(&HashInput::new("t", "u", 5), &check)
            .unwrap();
        assert_eq!(calls(), 1);
        g.generate_body(&HashInput::new("t", "u", t0 + 10_000_000_000), &check)
            .unwrap();
        assert_eq!(calls(), 2);
    }
}
