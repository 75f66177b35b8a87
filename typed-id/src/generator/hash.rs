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

use core::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};

use super::collision::CollisionCheck;
use super::{GenerateError, system_now_ns};
use crate::body::{Body, HashId, HashSpec};
use crate::error::IdError;
use crate::typed::TypedId;

/// Shortest content hash the format allows.
const LEN_MIN: u8 = 3;
/// Longest content hash the format allows.
const LEN_MAX: u8 = 8;
/// Nonces tried at each length before growing it.
const NONCES_PER_LENGTH: u32 = 10;
/// `since_refresh` value that forces a refresh.
const STALE: u32 = u32::MAX / 2;
/// Inputs up to this size are hashed from one stack buffer: with a nonce of up to 10
/// digits, the 0x80 byte and the 8-byte length they fit two SHA-256 blocks. Longer
/// ones go through a hash state cloned per nonce.
const INLINE_INPUT: usize = 128 - 10 - 1 - 8;
/// Room for a candidate's full text: a prefix (derived types allow up to 32
/// characters), `-`, and 8 digits.
const CANDIDATE_CAP: usize = 64;

/// The probability that among `n` random IDs of `len` base36 characters at least two
/// are equal, by the birthday bound `1 - exp(-n(n-1) / (2·36^len))`.
///
/// ```
/// use typed_id::generator::birthday_probability;
///
/// assert!(birthday_probability(184, 4) < 0.01);
/// assert!(birthday_probability(185, 4) >= 0.01);
/// ```
#[must_use]
pub fn birthday_probability(n: u64, len: u8) -> f64 {
    let space = 36f64.powi(i32::from(len));
    let n = n as f64;
    // -expm1(-x) keeps precision when x is tiny.
    -(-(n * (n - 1.0)) / (2.0 * space)).exp_m1()
}

/// The largest element count `n` for which [`birthday_probability`]`(n, len)` stays
/// under `threshold` (0 when `threshold` is not above 0).
///
/// ```
/// use typed_id::generator::max_elements;
///
/// let at_1_percent: Vec<u64> = (3..=8).map(|len| max_elements(len, 0.01)).collect();
/// assert_eq!(at_1_percent, [31, 184, 1102, 6615, 39688, 238131]);
/// ```
#[must_use]
pub fn max_elements(len: u8, threshold: f64) -> u64 {
    if threshold.is_nan() || threshold <= 0.0 {
        return 0;
    }
    // p(1) = 0 < threshold; p(36^len) ≈ 1. Binary search for the last n under it.
    let (mut lo, mut hi) = (1u64, 36u64.saturating_pow(u32::from(len)));
    if birthday_probability(hi, len) < threshold {
        return hi;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if birthday_probability(mid, len) < threshold {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// What a content hash is computed from: `title|created_by|timestamp_ns|nonce`.
///
/// ```
/// use typed_id::generator::HashInput;
///
/// let input = HashInput::new("Fix the login bug", "alice", 1_735_689_600_123_456_789);
/// // The value behind nonce 0, for reproducing an ID by hand.
/// let v = input.digest_value(0);
/// assert_eq!(v, input.digest_value(0));
/// assert_ne!(v, input.digest_value(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HashInput<'a> {
    /// The element's title.
    pub title: &'a str,
    /// Who created it.
    pub created_by: &'a str,
    /// Creation time in nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
}

impl<'a> HashInput<'a> {
    /// An input with an explicit creation time.
    #[must_use]
    pub fn new(title: &'a str, created_by: &'a str, timestamp_ns: u64) -> Self {
        HashInput {
            title,
            created_by,
            timestamp_ns,
        }
    }

    /// An input created now (system clock).
    #[must_use]
    pub fn now(title: &'a str, created_by: &'a str) -> Self {
        let ns = u64::try_from(system_now_ns()).unwrap_or(u64::MAX);
        Self::new(title, created_by, ns)
    }

    /// The first 8 bytes, big-endian, of SHA-256(`title|created_by|timestamp_ns|nonce`).
    #[must_use]
    pub fn digest_value(&self, nonce: u32) -> u64 {
        Prepared::new(self, &mut [0; 128]).value(nonce)
    }
}

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const SHA256_H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The hash input up to and including the `|` before the nonce, ready for many nonces.
///
/// Short inputs are laid out directly as padded SHA-256 blocks and run through the
/// compression function: the same SHA-256 as `Sha256::digest`, without copying the
/// message into the hasher's buffer or serializing the 24 output bytes never used.
enum Prepared<'b> {
    /// Inputs that fit two blocks with the nonce and padding, laid out in the caller's
    /// buffer (so the 128 bytes are never moved).
    Inline {
        blocks: &'b mut [u8; 128],
        len: usize,
    },
    /// Longer inputs: the hash state after the shared part.
    Long(Sha256),
}

impl<'b> Prepared<'b> {
    #[inline]
    fn new(input: &HashInput<'_>, blocks: &'b mut [u8; 128]) -> Self {
        let (title, by) = (input.title.as_bytes(), input.created_by.as_bytes());
        let ts_len = decimal_len(input.timestamp_ns);
        let total = title.len() + by.len() + ts_len + 3;
        if total <= INLINE_INPUT {
            // Written in place, the timestamp's digits included.
            blocks[..title.len()].copy_from_slice(title);
            let mut at = title.len();
            blocks[at] = b'|';
            at += 1;
            blocks[at..at + by.len()].copy_from_slice(by);
            at += by.len();
            blocks[at] = b'|';
            at += 1;
            write_decimal(input.timestamp_ns, &mut blocks[at..at + ts_len]);
            at += ts_len;
            blocks[at] = b'|';
            Prepared::Inline {
                blocks,
                len: at + 1,
            }
        } else {
            let mut digits = [0u8; 20];
            let ts = decimal(input.timestamp_ns, &mut digits);
            let parts: [&[u8]; 6] = [title, b"|", by, b"|", ts, b"|"];
            let mut h = Sha256::new();
            for part in parts {
                h.update(part);
            }
            Prepared::Long(h)
        }
    }

    /// The first 8 digest bytes (big-endian) for `nonce`.
    #[inline]
    fn value(&mut self, nonce: u32) -> u64 {
        let nonce = u64::from(nonce);
        match self {
            Prepared::Inline { blocks, len } => {
                let end = *len + decimal_len(nonce);
                write_decimal(nonce, &mut blocks[*len..end]);
                // Padding: 0x80, zeros, the message length in bits (big-endian) at the
                // end of the last block. A longer earlier nonce may have left bytes.
                blocks[end] = 0x80;
                let count = if end < 56 { 1 } else { 2 };
                let last = count * 64;
                blocks[end + 1..last - 8].fill(0);
                blocks[last - 8..last].copy_from_slice(&(end as u64 * 8).to_be_bytes());
                let mut state = SHA256_H0;
                for block in blocks[..last].chunks_exact(64) {
                    sha2::compress256(
                        &mut state,
                        core::slice::from_ref(GenericArray::from_slice(block)),
                    );
                }
                (u64::from(state[0]) << 32) | u64::from(state[1])
            }
            Prepared::Long(h) => {
                let mut digits = [0u8; 20];
                let nonce = decimal(nonce, &mut digits);
                let digest = h.clone().chain_update(nonce).finalize();
                let mut first = [0u8; 8];
                first.copy_from_slice(&digest[..8]);
                u64::from_be_bytes(first)
            }
        }
    }
}

/// "00" to "99", for writing decimals two digits at a time.
const PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Number of decimal digits of `v`.
#[inline]
fn decimal_len(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// Writes the decimal digits of `v` into `out`, which is exactly [`decimal_len`] long
/// (two digits per division: a 19-digit nanosecond timestamp is written on every
/// generation).
#[inline]
fn write_decimal(mut v: u64, out: &mut [u8]) {
    let mut at = out.len();
    while v >= 100 && at >= 2 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        at -= 2;
        out[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if v >= 10 && at >= 2 {
        let pair = v as usize * 2;
        out[at - 2..at].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else if at >= 1 {
        out[at - 1] = b'0' + (v % 10) as u8;
    }
}

/// Decimal digits of `v`, written into the end of `out`.
#[inline]
fn decimal(v: u64, out: &mut [u8; 20]) -> &[u8] {
    let len = decimal_len(v);
    write_decimal(v, &mut out[20 - len..]);
    &out[20 - len..]
}

/// `value mod 36^len` as exactly `len` lowercase base36 digits, like
/// [`codec::encode_base36_fixed`](crate::codec::encode_base36_fixed): the last `len`
/// base36 digits of `value` are those of `value mod 36^len`, so no division by a
/// run-time modulus is needed (division by the constant 36 is a multiplication).
#[inline]
fn base36_fixed(mut value: u64, len: u8, out: &mut [u8]) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    for slot in out[..usize::from(len)].iter_mut().rev() {
        *slot = DIGITS[(value % 36) as usize];
        value /= 36;
    }
}

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
    limits: [u64; LEN_MAX as usize + 1],
    cached: AtomicU64,
    since_refresh: AtomicU32,
    /// `timestamp_ns` of the input that triggered the last refresh.
    refreshed_at_ns: AtomicU64,
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
        let mut limits = [0u64; LEN_MAX as usize + 1];
        for len in LEN_MIN..=LEN_MAX {
            limits[usize::from(len)] = max_elements(len, config.threshold);
        }
        HashIdGenerator {
            config,
            limits,
            cached: AtomicU64::new(0),
            since_refresh: AtomicU32::new(STALE),
            refreshed_at_ns: AtomicU64::new(0),
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
        self.generate_in(T::PREFIX, &spec, input, check)
            .map(T::from_body_unchecked)
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
        self.generate_in("", &HashSpec::DEFAULT, input, check)
    }

    fn generate_in<C>(
        &self,
        prefix: &'static str,
        spec: &HashSpec,
        input: &HashInput<'_>,
        check: &C,
    ) -> Result<HashId, HashGenerateError<C::Error>>
    where
        C: CollisionCheck + ?Sized,
    {
        let (lo, hi) = self.bounds(spec);
        let n = self
            .count(check, input.timestamp_ns)
            .map_err(HashGenerateError::Check)?;
        let start = self.length_within(n, lo, hi);
        let mut blocks = [0u8; 128];
        let mut prepared = Prepared::new(input, &mut blocks);
        let mut text = [0u8; CANDIDATE_CAP];
        let text_at = if prefix.is_empty() {
            0
        } else if prefix.len() + 1 + usize::from(LEN_MAX) <= CANDIDATE_CAP {
            text[..prefix.len()].copy_from_slice(prefix.as_bytes());
            text[prefix.len()] = b'-';
            prefix.len() + 1
        } else {
            return Err(HashGenerateError::Id(IdError::Shape(
                crate::error::ParseErrorKind::TooLong {
                    len: prefix.len() + 1 + usize::from(hi),
                    max: CANDIDATE_CAP,
                },
            )));
        };
        let mut nonce = 0u32;
        for len in start..=hi {
            let tries = if len < hi {
                NONCES_PER_LENGTH
            } else {
                self.config.max_len_attempts
            };
            for _ in 0..tries {
                let value = prepared.value(nonce);
                nonce += 1;
                // The candidate's full text, built on the stack: the HashId itself is
                // made only for the winner.
                let end = text_at + usize::from(len);
                base36_fixed(value, len, &mut text[text_at..end]);
                debug_assert!(text[..end].is_ascii());
                // SAFETY: `text` holds the prefix (a `&str`), `-` and base36 digits, all
                // ASCII, so any prefix of it is valid UTF-8. (`from_utf8` here cost a
                // twentieth of the whole generation.)
                let candidate = unsafe { core::str::from_utf8_unchecked(&text[..end]) };
                if check.claim(candidate).map_err(HashGenerateError::Check)? {
                    // Load and store, not an atomic add: see `count`.
                    let n = self.cached.load(Ordering::Relaxed);
                    self.cached.store(n.saturating_add(1), Ordering::Relaxed);
                    return HashId::parse_body(prefix, &candidate[text_at..], spec)
                        .map_err(|(_, kind)| HashGenerateError::Id(IdError::Shape(kind)));
                }
            }
        }
        Err(HashGenerateError::TooManyCollisions {
            attempts: nonce,
            len: hi,
        })
    }

    /// The generator's length bounds narrowed to a type's.
    #[inline]
    fn bounds(&self, spec: &HashSpec) -> (u8, u8) {
        // Written without `clamp`, which panics on a (hand-built) spec whose minimum
        // exceeds its maximum; such a spec then fails in the parser, not here.
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
        (lo..=hi)
            .find(|&len| n <= self.limits[usize::from(len)])
            .unwrap_or(hi)
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
        let due = since >= self.config.refresh_every
            || u128::from(age_ns) >= self.config.refresh_after.as_nanos();
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
    fn digest_value_is_sha256_of_the_documented_text() {
        let input = HashInput::new("Fix | it", "bob", 42);
        let digest = Sha256::digest(b"Fix | it|bob|42|7");
        let expected = u64::from_be_bytes(digest[..8].try_into().unwrap());
        assert_eq!(input.digest_value(7), expected);
        // Every message length around the one/two-block boundary and the inline limit,
        // with nonces of different lengths reusing one buffer.
        for title_len in 0..=120 {
            let title = "t".repeat(title_len);
            let input = HashInput::new(&title, "bob", 42);
            let mut blocks = [0u8; 128];
            let mut prepared = Prepared::new(&input, &mut blocks);
            for nonce in [1_000_000_000, 0, 99, 7, u32::MAX] {
                let text = format!("{title}|bob|42|{nonce}");
                let digest = Sha256::digest(text.as_bytes());
                let expected = u64::from_be_bytes(digest[..8].try_into().unwrap());
                assert_eq!(prepared.value(nonce), expected, "{text}");
            }
        }
        // Long inputs take the incremental path and agree.
        let title = "x".repeat(500);
        let long = HashInput::new(&title, "bob", 0);
        let text = format!("{title}|bob|0|12");
        let digest = Sha256::digest(text.as_bytes());
        assert_eq!(
            long.digest_value(12),
            u64::from_be_bytes(digest[..8].try_into().unwrap())
        );
        for v in [
            0,
            7,
            10,
            99,
            100,
            101,
            12_345,
            1_735_689_600_123_456_789,
            u64::MAX,
        ] {
            assert_eq!(decimal(v, &mut [0; 20]), v.to_string().as_bytes());
        }
    }

    #[test]
    fn base36_matches_the_codec() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..10_000u64 {
            x = x.rotate_left(17) ^ i.wrapping_mul(0x2545_f491_4f6c_dd1d);
            for len in LEN_MIN..=LEN_MAX {
                let expected = crate::codec::encode_base36_fixed(x, usize::from(len));
                let mut out = [0u8; 8];
                base36_fixed(x, len, &mut out);
                assert_eq!(&out[..usize::from(len)], expected.as_bytes());
            }
        }
    }

    #[test]
    fn probability_edges() {
        assert_eq!(birthday_probability(0, 4), 0.0);
        assert_eq!(birthday_probability(1, 4), 0.0);
        assert!(birthday_probability(10_000_000, 3) > 0.999_999);
        assert_eq!(max_elements(4, 0.0), 0);
        assert_eq!(max_elements(3, 1.5), 36u64.pow(3));
    }

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
        assert_eq!(g.bounds(&HashSpec::new(3, 8, 3)), (4, 8));
        assert_eq!(g.bounds(&HashSpec::new(6, 7, 0)), (6, 7));
        assert_eq!(g.bounds(&HashSpec::new(3, 3, 0)), (3, 3));
        let odd = HashSpec {
            min_len: 7,
            max_len: 5,
            max_depth: 0,
        };
        assert_eq!(g.bounds(&odd), (7, 7));
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
