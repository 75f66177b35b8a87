//! Base36 and base62 codecs for `u64`, encoding into stack buffers, never allocating.
//!
//! Base36 uses `0-9a-z` (lowercase is canonical); base62 uses `0-9A-Za-z`, in ASCII
//! order, so for strings of equal length text order is numeric order. Canonical text has
//! no leading zeros (zero itself is `"0"`); decoders reject anything else.
//!
//! ```
//! use typed_id::codec;
//!
//! let text = codec::encode_base62(1_767_053_847_123_456_789);
//! assert_eq!(codec::decode_base62(text.as_str())?, 1_767_053_847_123_456_789);
//! assert_eq!(codec::encode_base36_fixed(35, 3).unwrap().as_str(), "00z");
//! # Ok::<(), typed_id::codec::DecodeError>(())
//! ```

use core::fmt;

use crate::error::{Expected, ParseErrorKind};

const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Longest base36 text of a `u64` (`3w5e11264sgsf`).
pub const BASE36_MAX_LEN: usize = 13;
/// Longest decimal text of a `u64` (`18446744073709551615`).
pub const DECIMAL_MAX_LEN: usize = 20;
/// Longest base62 text of a `u64` (`LygHa16AHYF`).
pub const BASE62_MAX_LEN: usize = 11;

/// Encoded text in a stack buffer of `N` bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encoded<const N: usize> {
    buf: [u8; N],
    len: u8,
}

impl<const N: usize> Encoded<N> {
    /// The encoded text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        debug_assert!(self.as_bytes().is_ascii());
        // SAFETY: every constructor of `Encoded` (the encoders of this module) writes
        // only ASCII digits and letters into `buf[..len]`, so it is valid UTF-8.
        // (Validating here cost a third of a snowflake's `to_string()`.)
        unsafe { core::str::from_utf8_unchecked(self.as_bytes()) }
    }

    /// The encoded bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl<const N: usize> fmt::Debug for Encoded<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for Encoded<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Number of decimal digits of `v`.
#[inline]
pub(crate) fn decimal_len(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// The eight decimal digits of `n < 10^8` (with leading zeros), without a loop or a
/// division instruction: the halves, quarters and single digits are split in parallel
/// lanes of one `u64`, each division by 10^4, 100 or 10 a multiplication and a shift.
#[inline(always)]
pub(crate) fn digits8(n: u32) -> [u8; 8] {
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
pub(crate) fn put_decimal(v: u64, len: usize, out: &mut [u8]) {
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

/// Writes the decimal digits of `v` at the start of `out` and returns how many; `out`
/// must hold at least [`DECIMAL_MAX_LEN`] bytes, and bytes after the digits up to
/// the eighth may be overwritten with zeros.
///
/// Kept over the `itoa` crate after measuring both in place (`benches/display.rs`,
/// interleaved, 2026-12-03): alone, itoa's digits take 8.3 ns against 12.1 ns here,
/// but it writes into its own buffer, and with the copy into the ID's text a
/// `MessageId`'s `to_string()` took 31.4 ns through itoa against 30.2 ns through this
/// code, and a `write!` into a reused `String` 27.0 ns against 20.1 ns.
#[inline(always)]
pub(crate) fn write_decimal(v: u64, out: &mut [u8]) -> usize {
    let len = decimal_len(v);
    put_decimal(v, len, &mut out[..DECIMAL_MAX_LEN]);
    len
}

/// The decimal text of `v` (at most 20 digits), in a stack buffer.
///
/// The digits come eight at a time from a few multiplications (no division
/// instruction, no loop per digit); measured against the `itoa` crate in
/// `benches/display.rs`: see BENCHMARKS.md.
///
/// ```
/// use typed_id::codec;
///
/// assert_eq!(codec::encode_decimal(0).as_str(), "0");
/// assert_eq!(codec::encode_decimal(u64::MAX).as_str(), "18446744073709551615");
/// ```
#[must_use]
#[inline]
pub fn encode_decimal(v: u64) -> Encoded<DECIMAL_MAX_LEN> {
    let mut buf = [0u8; DECIMAL_MAX_LEN];
    let len = write_decimal(v, &mut buf);
    Encoded {
        buf,
        len: len as u8,
    }
}

/// Error from [`decode_base36`] or [`decode_base62`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError {
    index: usize,
    kind: ParseErrorKind,
}

impl DecodeError {
    /// Byte index of the problem.
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.index)
    }
}

impl std::error::Error for DecodeError {}

#[inline]
fn encode<const N: usize>(mut v: u64, alphabet: &[u8], min_width: usize) -> Encoded<N> {
    let base = alphabet.len() as u64;
    let mut buf = [b'0'; N];
    let mut i = N;
    while v > 0 || N - i < min_width.max(1) {
        i -= 1;
        buf[i] = alphabet[(v % base) as usize];
        v /= base;
    }
    let len = N - i;
    buf.copy_within(i.., 0);
    Encoded {
        buf,
        len: len as u8,
    }
}

/// Canonical base36 text of `v`.
#[must_use]
pub fn encode_base36(v: u64) -> Encoded<BASE36_MAX_LEN> {
    encode(v, BASE36, 1)
}

/// `v mod 36^width` as exactly `width` base36 digits (zero-padded).
///
/// This is how content hashes are rendered: every length draws uniformly from all of its
/// `36^width` values (up to the tiny bias of reducing a 64-bit value).
///
/// `None` when `width` is 0 or above [`BASE36_MAX_LEN`] (13, enough for any `u64`).
///
/// ```
/// use typed_id::codec::encode_base36_fixed;
///
/// assert_eq!(encode_base36_fixed(36 * 36 + 35, 2).unwrap().as_str(), "0z");
/// assert_eq!(encode_base36_fixed(u64::MAX, 13).unwrap().as_str(), "3w5e11264sgsf");
/// assert!(encode_base36_fixed(1, 0).is_none() && encode_base36_fixed(1, 14).is_none());
/// ```
#[must_use]
pub fn encode_base36_fixed(v: u64, width: usize) -> Option<Encoded<BASE36_MAX_LEN>> {
    if !(1..=BASE36_MAX_LEN).contains(&width) {
        return None;
    }
    // 36^13 exceeds u64::MAX: at width 13 every value is its own remainder.
    let v = match 36u64.checked_pow(width as u32) {
        Some(modulus) => v % modulus,
        None => v,
    };
    Some(encode(v, BASE36, width))
}

/// Canonical base62 text of `v`.
#[must_use]
#[inline]
pub fn encode_base62(v: u64) -> Encoded<BASE62_MAX_LEN> {
    // Two runs of five digits from `u32` remainders, which do not wait on each other,
    // and the leading digit: not eleven dependent 64-bit divisions.
    const P5: u64 = 62u64.pow(5);
    fn five(mut n: u32, out: &mut [u8]) {
        for slot in out.iter_mut().rev() {
            *slot = BASE62[(n % 62) as usize];
            n /= 62;
        }
    }
    let mut buf = [b'0'; BASE62_MAX_LEN];
    let (high, low) = (v / P5, (v % P5) as u32);
    // `v / 62^10 < 62`, since `u64::MAX < 62^11`.
    buf[0] = BASE62[(high / P5) as usize];
    five((high % P5) as u32, &mut buf[1..6]);
    five(low, &mut buf[6..]);
    let start = buf[..BASE62_MAX_LEN - 1]
        .iter()
        .position(|&b| b != b'0')
        .unwrap_or(BASE62_MAX_LEN - 1);
    buf.copy_within(start.., 0);
    Encoded {
        buf,
        len: (BASE62_MAX_LEN - start) as u8,
    }
}

#[inline]
fn base36_value(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'a'..=b'z' => Some(u64::from(b - b'a') + 10),
        _ => None,
    }
}

#[inline]
pub(crate) fn base62_value(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'A'..=b'Z' => Some(u64::from(b - b'A') + 10),
        b'a'..=b'z' => Some(u64::from(b - b'a') + 36),
        _ => None,
    }
}

#[inline]
fn decode(
    s: &str,
    base: u64,
    max_len: usize,
    digit: fn(u8) -> Option<u64>,
    expected: Expected,
) -> Result<u64, DecodeError> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return Err(DecodeError {
            index: 0,
            kind: ParseErrorKind::UnexpectedEnd { expected },
        });
    }
    if bytes.len() > max_len {
        return Err(DecodeError {
            index: 0,
            kind: ParseErrorKind::TooLong {
                len: bytes.len(),
                max: max_len,
            },
        });
    }
    if bytes[0] == b'0' && bytes.len() > 1 {
        return Err(DecodeError {
            index: 0,
            kind: ParseErrorKind::LeadingZero,
        });
    }
    let mut v: u64 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let Some(d) = digit(b) else {
            let e = crate::error::BodyError::at(bytes, i, expected);
            return Err(DecodeError {
                index: e.index,
                kind: e.kind,
            });
        };
        v = match v.checked_mul(base).and_then(|v| v.checked_add(d)) {
            Some(v) => v,
            None => {
                return Err(DecodeError {
                    index: 0,
                    kind: ParseErrorKind::Overflow { max: u64::MAX },
                });
            }
        };
    }
    Ok(v)
}

/// Decodes canonical base36 (lowercase, no leading zeros) into a `u64`.
///
/// # Errors
/// Empty input, a character outside `0-9a-z`, a leading zero, or a value above `u64::MAX`.
pub fn decode_base36(s: &str) -> Result<u64, DecodeError> {
    decode(s, 36, BASE36_MAX_LEN, base36_value, Expected::Base36Digit)
}

/// Decodes canonical base62 (no leading zeros) into a `u64`.
///
/// # Errors
/// Empty input, a character outside `0-9A-Za-z`, a leading zero, or a value above `u64::MAX`.
pub fn decode_base62(s: &str) -> Result<u64, DecodeError> {
    decode(s, 62, BASE62_MAX_LEN, base62_value, Expected::Base62Digit)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for v in (0..1_000)
            .chain(powers_of_ten())
            .chain([u64::MAX, 1_767_053_847_123_456_789])
        {
            assert_eq!(encode_decimal(v).as_str(), v.to_string());
        }
    }

    fn powers_of_ten() -> impl Iterator<Item = u64> {
        (0..20).flat_map(|k| [10u64.pow(k) - 1, 10u64.pow(k), 10u64.pow(k) + 1])
    }

    #[test]
    fn extremes() {
        assert_eq!(encode_base36(u64::MAX).as_str(), "3w5e11264sgsf");
        assert_eq!(encode_base62(u64::MAX).as_str(), "LygHa16AHYF");
        // The split encoder agrees with the digit-by-digit one at every power of 62
        // and its neighbours, where the runs and the leading zeros change.
        for k in 0..11u32 {
            let p = 62u64.pow(k);
            for v in [
                p - 1,
                p,
                p + 1,
                p.saturating_mul(61),
                p.saturating_mul(62) - 1,
            ] {
                let slow: Encoded<BASE62_MAX_LEN> = encode(v, BASE62, 1);
                assert_eq!(encode_base62(v).as_str(), slow.as_str(), "{v}");
            }
        }
        assert_eq!(encode_base62(0).as_str(), "0");
        assert_eq!(decode_base36("3w5e11264sgsf"), Ok(u64::MAX));
        assert_eq!(
            decode_base36("3w5e11264sgsg").unwrap_err().kind(),
            ParseErrorKind::Overflow { max: u64::MAX }
        );
        assert_eq!(decode_base62("LygHa16AHYF"), Ok(u64::MAX));
        assert!(decode_base62("LygHa16AHYG").is_err());
        assert_eq!(
            decode_base36("00").unwrap_err().kind(),
            ParseErrorKind::LeadingZero
        );
        assert_eq!(decode_base36("A").unwrap_err().index(), 0);
        assert_eq!(
            encode_base36_fixed(36u64.pow(8) + 5, 8).unwrap().as_str(),
            "00000005"
        );
        for width in [0, 14, 100, usize::MAX] {
            assert!(encode_base36_fixed(7, width).is_none(), "{width}");
        }
    }

    proptest::proptest! {
        #[test]
        fn base36_round_trip(v: u64) {
            proptest::prop_assert_eq!(decode_base36(encode_base36(v).as_str()), Ok(v));
        }

        #[test]
        fn base62_round_trip(v: u64) {
            proptest::prop_assert_eq!(decode_base62(encode_base62(v).as_str()), Ok(v));
        }

        #[test]
        fn base62_text_order_is_numeric_order_at_equal_length(a: u64, b: u64) {
            let (ea, eb) = (encode_base62(a), encode_base62(b));
            if ea.as_str().len() == eb.as_str().len() {
                proptest::prop_assert_eq!(ea.as_str().cmp(eb.as_str()), a.cmp(&b));
            }
        }

        #[test]
        fn fixed_width_is_exact(v: u64, w in 1usize..=13) {
            let e = encode_base36_fixed(v, w).unwrap();
            proptest::prop_assert_eq!(e.as_str().len(), w);
            let back = e.as_str().trim_start_matches('0');
            let back = if back.is_empty() { 0 } else { decode_base36(back).unwrap() };
            let expected = 36u64.checked_pow(w as u32).map_or(v, |m| v % m);
            proptest::prop_assert_eq!(back, expected);
        }
    }
}
