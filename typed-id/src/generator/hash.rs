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
use sha2::digest::typenum::U64;
use sha2::{Digest, Sha256};

use super::collision::CollisionCheck;
use super::{GenerateError, system_now_ns};
use crate::body::{HashId, HashSpec};
use crate::error::{IdError, ParseErrorKind};
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
/// Room for a candidate's full text: the capacity of the ID's own inline text, so the
/// winner's buffer becomes the ID as it is.
const CANDIDATE_CAP: usize = HashId::TEXT_CAP;

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
        Prepared::new(self, &mut Blocks::new()).value(nonce)
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

/// The stack buffer a short input is hashed from: the two blocks the message and its
/// padding are laid out in.
struct Blocks([[u8; 64]; 2]);

impl Blocks {
    #[inline]
    fn new() -> Self {
        Blocks([[0; 64]; 2])
    }

    #[inline]
    fn bytes(&mut self) -> &mut [u8] {
        self.0.as_flattened_mut()
    }

    /// The first `count` blocks, as the compression function takes them.
    #[inline]
    fn message(&self, count: usize) -> &[GenericArray<u8, U64>] {
        let blocks = &self.0[..count];
        // SAFETY: `GenericArray<u8, U64>` is `#[repr(transparent)]` over nested
        // `#[repr(C)]` pairs of `u8`: the layout of `[u8; 64]` (size 64, alignment 1,
        // checked below), so a slice of one is a slice of the other. (`sha2` casts the
        // same way in the other direction inside `compress256`.) One call for both
        // blocks instead of one per block spares the SHA-NI code a second load and
        // shuffle of the state.
        unsafe { core::slice::from_raw_parts(blocks.as_ptr().cast(), blocks.len()) }
    }
}

const _: () =
    assert!(size_of::<GenericArray<u8, U64>>() == 64 && align_of::<GenericArray<u8, U64>>() == 1);

/// The hash input up to and including the `|` before the nonce, ready for many nonces.
///
/// Short inputs are laid out directly as padded SHA-256 blocks and run through the
/// compression function: the same SHA-256 as `Sha256::digest`, without copying the
/// message into the hasher's buffer or serializing the 24 output bytes never used.
enum Prepared<'b> {
    /// Inputs that fit two blocks with the nonce and padding, laid out in the caller's
    /// buffer (so the bytes are never moved); `len` bytes of message so far.
    Inline { blocks: &'b mut Blocks, len: usize },
    /// Longer inputs: the hash state after the shared part.
    Long(Sha256),
}

impl<'b> Prepared<'b> {
    #[inline(always)]
    fn new(input: &HashInput<'_>, blocks: &'b mut Blocks) -> Self {
        let (title, by) = (input.title.as_bytes(), input.created_by.as_bytes());
        let ts_len = decimal_len(input.timestamp_ns);
        let total = title.len() + by.len() + ts_len + 3;
        if total <= INLINE_INPUT {
            // In message order, the timestamp as whole words (see `put_decimal`); the
            // nonce and the padding follow per candidate (`value`).
            let buf = blocks.bytes();
            let ts_at = title.len() + 1 + by.len() + 1;
            let ts_end = ts_at + ts_len;
            buf[..title.len()].copy_from_slice(title);
            buf[title.len()] = b'|';
            buf[title.len() + 1..ts_at - 1].copy_from_slice(by);
            buf[ts_at - 1] = b'|';
            put_decimal(input.timestamp_ns, ts_len, &mut buf[ts_at..]);
            buf[ts_end] = b'|';
            Prepared::Inline {
                blocks,
                len: ts_end + 1,
            }
        } else {
            let mut digits = [0u8; 24];
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
    #[inline(always)]
    fn value(&mut self, nonce: u32) -> u64 {
        match self {
            Prepared::Inline { blocks, len } => {
                let len = *len;
                let (tail, digits) = nonce_tail(nonce);
                let end = len + digits;
                let count = if end < 56 { 1 } else { 2 };
                let buf = blocks.bytes();
                // Every byte after the message is zero except the ones the tail store
                // below rewrites and the length field: a one-block length left by an
                // earlier, shorter nonce sits in the padding of a two-block message.
                if count == 2 && len <= 56 {
                    buf[56..64].fill(0);
                }
                // The nonce, 0x80 and zeros, in one 16-byte store (len + 16 <= 125).
                buf[len..len + 16].copy_from_slice(&tail);
                let last = count * 64;
                buf[last - 8..last].copy_from_slice(&(end as u64 * 8).to_be_bytes());
                let mut state = SHA256_H0;
                sha2::compress256(&mut state, blocks.message(count));
                (u64::from(state[0]) << 32) | u64::from(state[1])
            }
            Prepared::Long(h) => {
                let mut digits = [0u8; 24];
                let nonce = decimal(u64::from(nonce), &mut digits);
                let digest = h.clone().chain_update(nonce).finalize();
                let mut first = [0u8; 8];
                first.copy_from_slice(&digest[..8]);
                u64::from_be_bytes(first)
            }
        }
    }
}

/// Number of decimal digits of `v`.
#[inline]
fn decimal_len(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// The eight decimal digits of `n < 10^8` (with leading zeros), without a loop or a
/// division instruction: the halves, quarters and single digits are split in parallel
/// lanes of one `u64`, each division by 10^4, 100 or 10 a multiplication and a shift.
#[inline(always)]
fn digits8(n: u32) -> [u8; 8] {
    debug_assert!(n < 100_000_000);
    // Two 32-bit lanes: n / 10^4 (the first four digits) and n % 10^4.
    let x = u64::from(n / 10_000) | (u64::from(n % 10_000) << 32);
    // Each lane (< 10^4) into 16-bit lanes of its value / 100 and % 100: for v < 10^4,
    // v / 100 == (v * 10486) >> 20, and v * 10486 < 2^27 stays within its lane.
    let hundreds = ((x * 10_486) >> 20) & 0x0000_007f_0000_007f;
    let y = hundreds | ((x - hundreds * 100) << 16);
    // Each 16-bit lane (< 100) into bytes of its value / 10 and % 10: for v < 100,
    // v / 10 == (v * 103) >> 10, and v * 103 < 2^14.
    let tens = ((y * 103) >> 10) & 0x000f_000f_000f_000f;
    let z = tens | ((y - tens * 10) << 8);
    // First digit in the lowest byte: little-endian bytes are the text.
    (z + 0x3030_3030_3030_3030).to_le_bytes()
}

/// Writes the `len` (= [`decimal_len`]) decimal digits of `v` at the start of `out`
/// with two or three 8-byte stores, none before the first digit; when `len < 8` the
/// first store also writes zeros up to byte 8. `out` holds at least 8 and `len` bytes.
#[inline(always)]
fn put_decimal(v: u64, len: usize, out: &mut [u8]) {
    const E8: u64 = 100_000_000;
    let word = |n: u64| u64::from_le_bytes(digits8(n as u32));
    let low = word(v % E8);
    // The first word holds the leading digits: its first bytes are zeros (as text,
    // `0`s) that the shift drops, filling zeros in at the end instead.
    let (first, shift) = match len {
        0..=8 => (low, 8 - len),
        9..=16 => (word(v / E8 % E8), 16 - len),
        _ => (word(v / (E8 * E8)), 24 - len), // v / 10^16 <= 1844
    };
    out[..8].copy_from_slice(&(first >> (8 * shift)).to_le_bytes());
    if len > 16 {
        out[len - 16..len - 8].copy_from_slice(&word(v / E8 % E8).to_le_bytes());
    }
    if len > 8 {
        out[len - 8..len].copy_from_slice(&low.to_le_bytes());
    }
}

/// Decimal digits of `v`, written into `out`.
#[inline]
fn decimal(v: u64, out: &mut [u8; 24]) -> &[u8] {
    let len = decimal_len(v);
    put_decimal(v, len, out);
    &out[..len]
}

/// What follows the `|` before the nonce: the nonce's digits (at most 10), SHA-256's
/// 0x80 padding byte, and zeros, as 16 bytes; and the number of digits.
#[inline(always)]
fn nonce_tail(nonce: u32) -> ([u8; 16], usize) {
    if nonce < 10 {
        // Almost every ID is found with the first nonce.
        let mut tail = [0u8; 16];
        tail[0] = b'0' + nonce as u8;
        tail[1] = 0x80;
        return (tail, 1);
    }
    let digits = decimal_len(u64::from(nonce));
    let mut text = [0u8; 16];
    text[..8].copy_from_slice(&digits8(nonce / 100_000_000));
    text[8..].copy_from_slice(&digits8(nonce % 100_000_000));
    // Drop the leading zeros by shifting the digits to the front, then add 0x80.
    let tail = (u128::from_le_bytes(text) >> (8 * (16 - digits))) | (0x80 << (8 * digits));
    (tail.to_le_bytes(), digits)
}

/// `value mod 36^len` as exactly `len` lowercase base36 digits, like
/// [`codec::encode_base36_fixed`](crate::codec::encode_base36_fixed): the last `len`
/// base36 digits of `value` are those of `value mod 36^len`, so no division by a
/// run-time modulus is needed (division by the constant 36 is a multiplication).
#[inline(always)]
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
    /// `config.refresh_after` in nanoseconds, computed once.
    refresh_after_ns: u128,
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
            refresh_after_ns: config.refresh_after.as_nanos(),
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
        // The candidates' full text, in the buffer that becomes the winner's ID: the
        // prefix and `-` once, then each candidate's digits, so the ID is made only for
        // the winner and without a copy or a second validation. Lengths only grow, so
        // the bytes after the digits stay zero, as the ID's text requires.
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
                    let n = self.cached.load(Ordering::Relaxed);
                    self.cached.store(n.saturating_add(1), Ordering::Relaxed);
                    return Ok(wrap(HashId::from_generated(text, text_at, len)));
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
        let mut len = lo;
        while len < hi && n > self.limits[usize::from(len)] {
            len += 1;
        }
        len
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
            let mut blocks = Blocks::new();
            let mut prepared = Prepared::new(&input, &mut blocks);
            for nonce in [1_000_000_000, 0, 99, 7, u32::MAX] {
                let text = format!("{title}|bob|42|{nonce}");
                let digest = Sha256::digest(text.as_bytes());
                let expected = u64::from_be_bytes(digest[..8].try_into().unwrap());
                assert_eq!(prepared.value(nonce), expected, "{text}");
            }
        }
        // Timestamps of every digit count, and nonces in increasing order as the
        // generator uses them (a buffer reused across one- and two-block messages).
        let stamps = (0..20)
            .map(|k| 10u64.pow(k))
            .chain([0, 9, 99, 42, u64::MAX]);
        for ts in stamps {
            for title_len in [0, 1, 23, 30, 31, 32, 33, 40, 70, 80] {
                let title = "é".repeat(title_len / 2) + &"t".repeat(title_len % 2);
                let input = HashInput::new(&title, "ann", ts);
                let mut blocks = Blocks::new();
                let mut prepared = Prepared::new(&input, &mut blocks);
                for nonce in (0..=12).chain([99, 100, 123_456_789, 1_000_000_000]) {
                    let text = format!("{title}|ann|{ts}|{nonce}");
                    let digest = Sha256::digest(text.as_bytes());
                    let expected = u64::from_be_bytes(digest[..8].try_into().unwrap());
                    assert_eq!(prepared.value(nonce), expected, "{text}");
                }
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
            assert_eq!(decimal(v, &mut [0; 24]), v.to_string().as_bytes());
        }
    }

    #[test]
    fn digit_words_match_std() {
        let edges = [0, 1, 9, 10, 99, 100, 9_999, 10_000, 99_999_999];
        let sample = (0..100_000).chain((0..100_000_000).step_by(9_973));
        for n in sample.chain(edges) {
            assert_eq!(digits8(n), *format!("{n:08}").as_bytes(), "{n}");
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let powers = (0..20).flat_map(|k| [10u64.pow(k) - 1, 10u64.pow(k)]);
        for (i, v) in (0..10_000u64).map(|i| (i, i)).chain(powers.map(|v| (0, v))) {
            x = x.rotate_left(17) ^ i.wrapping_mul(0x2545_f491_4f6c_dd1d);
            for v in [v, x, x >> (i % 64), u64::MAX] {
                let text = v.to_string();
                let mut out = [b'x'; 28];
                put_decimal(v, decimal_len(v), &mut out[2..]);
                assert_eq!(&out[..2], b"xx", "{v}: nothing before the digits");
                assert_eq!(&out[2..2 + text.len()], text.as_bytes());
                let written = text.len().max(8);
                assert!(out[2 + text.len()..2 + written].iter().all(|&b| b == 0));
                assert!(out[2 + written..].iter().all(|&b| b == b'x'), "{v}");
            }
        }
        for nonce in (0..=1_000).chain([9_999_999, 123_456_789, 1_000_000_000, u32::MAX]) {
            let (tail, digits) = nonce_tail(nonce);
            let text = nonce.to_string();
            assert_eq!(digits, text.len());
            assert_eq!(&tail[..digits], text.as_bytes());
            assert_eq!(tail[digits], 0x80);
            assert!(tail[digits + 1..].iter().all(|&b| b == 0), "{nonce}");
        }
    }

    #[test]
    fn base36_matches_the_codec() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let edges = [
            0,
            35,
            36,
            36u64.pow(4) - 1,
            36u64.pow(8) - 1,
            36u64.pow(8),
            u64::MAX,
        ];
        for i in 0..10_000u64 {
            x = x.rotate_left(17) ^ i.wrapping_mul(0x2545_f491_4f6c_dd1d);
            let x = edges.get(i as usize).copied().unwrap_or(x);
            for len in 1..=LEN_MAX {
                let expected = crate::codec::encode_base36_fixed(x, usize::from(len)).unwrap();
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
        let prefix = "p".repeat(HashId::TEXT_CAP - 5);
        let prefix: &'static str = Box::leak(prefix.into_boxed_str());
        let id = g
            .generate_in(prefix, &HashSpec::DEFAULT, &input, &store, |id| id)
            .unwrap();
        assert_eq!(id.as_str().len(), 4);
        assert_eq!(id.full_str().len(), HashId::TEXT_CAP);
        assert_eq!(id.full_str(), format!("{prefix}-{}", id.as_str()));
        // One character longer: nothing fits, nothing is claimed.
        let longer: &'static str = Box::leak(format!("{prefix}p").into_boxed_str());
        let err = g
            .generate_in(longer, &HashSpec::DEFAULT, &input, &store, |id| id)
            .unwrap_err();
        assert_eq!(
            err,
            HashGenerateError::Id(IdError::Shape(ParseErrorKind::TooLong {
                len: HashId::TEXT_CAP + 1,
                max: HashId::TEXT_CAP
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
