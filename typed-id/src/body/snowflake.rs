//! Snowflake bodies: a 63-bit integer (sign bit clear), written in decimal or base62.
//!
//! Canonical decimal is `0` or digits without a leading zero, at most `i64::MAX`
//! (`9223372036854775807`), so the value fits a PostgreSQL `BIGINT`. Canonical base62
//! (`0-9A-Za-z`) has no leading zero either. No sign, no spaces, no `+`.

use core::fmt;
use core::num::NonZeroU64;

use super::{Body, scan_decimal};
use crate::codec;
use crate::error::{BodyError, Expected, IdError, ParseErrorKind, ParseIdError};
use crate::id_text::IdText;
use crate::pattern::{self, Pattern, Radix};

/// Largest snowflake value: the sign bit stays clear.
const MAX: u64 = i64::MAX as u64;

/// Digits of `i64::MAX` in decimal.
const DECIMAL_DIGITS: usize = 19;
/// Digits of `i64::MAX` in base62 (`AzL8n0Y58m7`).
const BASE62_DIGITS: usize = 11;

/// How a snowflake type writes its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SnowflakeEncoding {
    /// `msg-1767053847123456789`.
    #[default]
    Decimal,
    /// `msg-1BvP7xZ5J1t`: shorter, and for equal lengths text order is numeric order.
    Base62,
}

/// Options of a snowflake type: its text encoding.
///
/// Every encoding is valid, but like the other options the field is private (built by
/// [`SnowflakeSpec::new`] or the constants, read by [`SnowflakeSpec::encoding`]), so
/// options can be added later without breaking code that builds them.
///
/// ```
/// use typed_id::{SnowflakeEncoding, SnowflakeSpec};
///
/// let spec = SnowflakeSpec::new(SnowflakeEncoding::Base62);
/// assert_eq!(spec, SnowflakeSpec::BASE62);
/// assert_eq!(spec.encoding(), SnowflakeEncoding::Base62);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SnowflakeSpec {
    /// How the number is written.
    pub(crate) encoding: SnowflakeEncoding,
}

impl SnowflakeSpec {
    /// Options with the given encoding.
    #[must_use]
    pub const fn new(encoding: SnowflakeEncoding) -> Self {
        SnowflakeSpec { encoding }
    }

    /// How the number is written.
    #[must_use]
    pub const fn encoding(&self) -> SnowflakeEncoding {
        self.encoding
    }

    /// Decimal text.
    pub const DECIMAL: SnowflakeSpec = SnowflakeSpec {
        encoding: SnowflakeEncoding::Decimal,
    };
    /// Base62 text.
    pub const BASE62: SnowflakeSpec = SnowflakeSpec {
        encoding: SnowflakeEncoding::Base62,
    };

    /// Longest body text in bytes.
    #[must_use]
    pub const fn max_text_len(&self) -> usize {
        match self.encoding {
            SnowflakeEncoding::Decimal => DECIMAL_DIGITS,
            SnowflakeEncoding::Base62 => BASE62_DIGITS,
        }
    }

    /// The body grammar as a regular expression (not anchored).
    #[must_use]
    pub const fn pattern(&self) -> Pattern {
        let radix = match self.encoding {
            SnowflakeEncoding::Decimal => Radix::Decimal,
            SnowflakeEncoding::Base62 => Radix::Base62,
        };
        Pattern::new().push_bounded(radix, MAX, true)
    }
}

/// A snowflake ID body: a `u64` with the sign bit clear, ordered by value (time order
/// for generated IDs).
///
/// ```
/// use typed_id::Snowflake;
///
/// let id = Snowflake::parse("1767053847123456789")?;
/// assert_eq!(id.as_u64(), 1_767_053_847_123_456_789);
/// assert_eq!(Snowflake::parse_base62(id.to_base62().as_str())?, id);
/// assert!(Snowflake::new(u64::MAX).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The value is kept with its (always clear) sign bit set, so it is never zero: the
/// compiler uses zero as `None`, and `Option<Snowflake>` (like `Option` of every
/// derived snowflake type) is 8 bytes. Setting one bit keeps the order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Snowflake(NonZeroU64);

/// The bit [`Snowflake`] sets in its stored value (the value's own sign bit, always
/// clear), so the stored value is never zero.
const NICHE_BIT: u64 = 1 << 63;

impl Default for Snowflake {
    fn default() -> Self {
        Snowflake::from_valid(0)
    }
}

impl Snowflake {
    /// The anchored decimal pattern [`Snowflake::parse`] accepts.
    pub const PATTERN: &'static str = DECIMAL_PATTERN.as_str();
    /// The anchored base62 pattern [`Snowflake::parse_base62`] accepts.
    pub const BASE62_PATTERN: &'static str = BASE62_PATTERN.as_str();
    /// The largest value, `i64::MAX`.
    pub const MAX: Snowflake = Snowflake::from_valid(MAX);

    /// `value` (at most [`MAX`](Self::MAX)) as stored.
    #[inline(always)]
    const fn from_valid(value: u64) -> Self {
        match NonZeroU64::new(value | NICHE_BIT) {
            Some(stored) => Snowflake(stored),
            None => unreachable!(),
        }
    }

    /// The value, without the bit set in storage.
    #[inline(always)]
    const fn value(self) -> u64 {
        self.0.get() & !NICHE_BIT
    }

    /// A snowflake from its value.
    ///
    /// # Errors
    /// [`IdError::Overflow`] when the sign bit is set (above `i64::MAX`).
    pub const fn new(value: u64) -> Result<Self, IdError> {
        if value > MAX {
            Err(IdError::Overflow { max: MAX })
        } else {
            Ok(Snowflake::from_valid(value))
        }
    }

    /// A snowflake from a signed value, as stored in a `BIGINT` column.
    ///
    /// # Errors
    /// [`IdError::Overflow`] for negative values.
    pub const fn from_i64(value: i64) -> Result<Self, IdError> {
        if value < 0 {
            Err(IdError::Overflow { max: MAX })
        } else {
            Ok(Snowflake::from_valid(value as u64))
        }
    }

    /// The value.
    #[must_use]
    pub const fn as_u64(self) -> u64 {
        self.value()
    }

    /// The value as a signed integer (always non-negative), for `BIGINT` columns.
    #[must_use]
    pub const fn as_i64(self) -> i64 {
        self.value() as i64
    }

    /// Parses canonical decimal text.
    ///
    /// # Errors
    /// A [`ParseIdError`]: non-digits, a leading zero, or a value above `i64::MAX`.
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        super::parse_bare(s, &SnowflakeSpec::DECIMAL)
    }

    /// Parses canonical base62 text.
    ///
    /// # Errors
    /// A [`ParseIdError`]: non-base62 characters, a leading zero, or a value above
    /// `i64::MAX`.
    pub fn parse_base62(s: &str) -> Result<Self, ParseIdError> {
        super::parse_bare(s, &SnowflakeSpec::BASE62)
    }

    /// The base62 text.
    #[must_use]
    pub fn to_base62(self) -> codec::Encoded<{ codec::BASE62_MAX_LEN }> {
        codec::encode_base62(self.value())
    }
}

const DECIMAL_PATTERN: Pattern =
    pattern::fits(Pattern::anchored(&SnowflakeSpec::DECIMAL.pattern()));
const BASE62_PATTERN: Pattern = pattern::fits(Pattern::anchored(&SnowflakeSpec::BASE62.pattern()));

impl fmt::Display for Snowflake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(codec::encode_decimal(self.value()).as_str())
    }
}

impl fmt::Debug for Snowflake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Snowflake({})", self.value())
    }
}

body_traits!(Snowflake);

impl From<Snowflake> for u64 {
    fn from(s: Snowflake) -> u64 {
        s.value()
    }
}

impl From<Snowflake> for i64 {
    fn from(s: Snowflake) -> i64 {
        s.as_i64()
    }
}

impl TryFrom<u64> for Snowflake {
    type Error = IdError;

    fn try_from(value: u64) -> Result<Self, IdError> {
        Snowflake::new(value)
    }
}

impl TryFrom<i64> for Snowflake {
    type Error = IdError;

    fn try_from(value: i64) -> Result<Self, IdError> {
        Snowflake::from_i64(value)
    }
}

impl Body for Snowflake {
    type Spec = SnowflakeSpec;
    const DEFAULT_SPEC: SnowflakeSpec = SnowflakeSpec::DECIMAL;
    const NAME: &'static str = "Snowflake";

    #[inline]
    fn max_len(spec: &SnowflakeSpec) -> usize {
        spec.max_text_len()
    }

    #[inline]
    fn parse_body(body: &str, spec: &SnowflakeSpec) -> Result<Self, (usize, ParseErrorKind)> {
        let bytes = body.as_bytes();
        let value = match spec.encoding {
            SnowflakeEncoding::Decimal => parse_decimal(bytes),
            SnowflakeEncoding::Base62 => parse_base62(bytes),
        }
        .map_err(|e| (e.index, e.kind))?;
        Ok(Snowflake::from_valid(value))
    }

    #[inline]
    fn write_body(&self, spec: &SnowflakeSpec, out: &mut IdText) {
        // The digits are written straight into the ID's text, after the prefix.
        match spec.encoding {
            SnowflakeEncoding::Decimal => out.push_with(codec::DECIMAL_MAX_LEN, |buf| {
                codec::write_decimal(self.value(), buf)
            }),
            SnowflakeEncoding::Base62 => out.push_str(self.to_base62().as_str()),
        }
    }

    fn adopt(self, _spec: &SnowflakeSpec) -> Result<Self, ParseErrorKind> {
        Ok(self)
    }
}

#[inline]
fn parse_decimal(bytes: &[u8]) -> Result<u64, BodyError> {
    if let Some(value) = fast_decimal(bytes) {
        return Ok(value);
    }
    decimal_error(bytes)
}

/// The value of canonical decimal text of at most `MAX`, eight digits at a time; `None`
/// for anything else (then [`decimal_error`] says what is wrong).
#[inline(always)]
fn fast_decimal(bytes: &[u8]) -> Option<u64> {
    let n = bytes.len();
    if n == 0 || n > DECIMAL_DIGITS || (bytes[0] == b'0' && n > 1) {
        return None;
    }
    let head = n % 8;
    let mut valid = true;
    let mut value = 0u64;
    for &b in &bytes[..head] {
        let d = b.wrapping_sub(b'0');
        valid &= d < 10;
        value = value.wrapping_mul(10).wrapping_add(u64::from(d));
    }
    for chunk in bytes[head..].chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let (digits, ok) = eight_digits(u64::from_le_bytes(word));
        valid &= ok;
        value = value.wrapping_mul(100_000_000).wrapping_add(digits);
    }
    // At most 19 digits: no overflow of a `u64` when every byte was a digit.
    (valid && value <= MAX).then_some(value)
}

/// The number eight ASCII digits (first digit in the lowest byte) spell, and whether
/// they all are digits: each byte's high nibble is 3 and its low nibble at most 9
/// (adding 6 carries into the high nibble exactly when it is above 9). The digits are
/// then combined in pairs, fours and eights by three multiply-and-mask steps.
#[inline(always)]
fn eight_digits(word: u64) -> (u64, bool) {
    const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    let ok = word & HIGH == THREES && word.wrapping_add(0x0606_0606_0606_0606) & HIGH == THREES;
    let v = word.wrapping_sub(THREES);
    let v = v.wrapping_mul(10).wrapping_add(v >> 8) & 0x00ff_00ff_00ff_00ff;
    let v = v.wrapping_mul(100).wrapping_add(v >> 16) & 0x0000_ffff_0000_ffff;
    let v = v.wrapping_mul(10_000).wrapping_add(v >> 32) & 0xffff_ffff;
    (v, ok)
}

/// What is wrong with decimal text [`fast_decimal`] refused.
#[cold]
fn decimal_error(bytes: &[u8]) -> Result<u64, BodyError> {
    let (count, value) = scan_decimal(bytes);
    if count < bytes.len() || count == 0 {
        return Err(BodyError::at(bytes, count, Expected::Digit));
    }
    if bytes[0] == b'0' && count > 1 {
        return Err(BodyError::new(0, ParseErrorKind::LeadingZero));
    }
    if count > DECIMAL_DIGITS || value > MAX {
        return Err(BodyError::new(0, ParseErrorKind::Overflow { max: MAX }));
    }
    Ok(value)
}

#[inline]
fn parse_base62(bytes: &[u8]) -> Result<u64, BodyError> {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let Some(d) = codec::base62_value(b) else {
            return Err(BodyError::at(bytes, i, Expected::Base62Digit));
        };
        value = value.saturating_mul(62).saturating_add(d);
    }
    if bytes.is_empty() {
        return Err(BodyError::at(bytes, 0, Expected::Base62Digit));
    }
    if bytes[0] == b'0' && bytes.len() > 1 {
        return Err(BodyError::new(0, ParseErrorKind::LeadingZero));
    }
    if bytes.len() > BASE62_DIGITS || value > MAX {
        return Err(BodyError::new(0, ParseErrorKind::Overflow { max: MAX }));
    }
    Ok(value)
}

const _: () = assert!(size_of::<Snowflake>() == 8);

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path accepts exactly what the byte-by-byte scan accepts, with the same
    /// value, for every digit count, every byte in every position and the bounds.
    #[test]
    fn fast_decimal_agrees_with_the_scan() {
        fn slow(bytes: &[u8]) -> Option<u64> {
            let (count, value) = scan_decimal(bytes);
            let canonical = count == bytes.len() && count > 0 && !(bytes[0] == b'0' && count > 1);
            (canonical && count <= DECIMAL_DIGITS && value <= MAX).then_some(value)
        }
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for len in 0..=21 {
            let text = "9223372036854775807123".as_bytes()[..len].to_vec();
            for at in 0..len {
                for b in [
                    b'/', b':', b'0', b'5', b'9', b'a', b' ', 0x80, 0xff, 0x00, 0x36,
                ] {
                    let mut t = text.clone();
                    t[at] = b;
                    inputs.push(t);
                }
            }
            inputs.push(text);
        }
        for v in [
            0,
            1,
            9,
            10,
            99_999_999,
            100_000_000,
            MAX - 1,
            MAX,
            MAX + 1,
            u64::MAX,
        ] {
            inputs.push(v.to_string().into_bytes());
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..20_000u64 {
            x = x.rotate_left(17) ^ i.wrapping_mul(0x2545_f491_4f6c_dd1d);
            inputs.push((x >> (i % 64)).to_string().into_bytes());
        }
        for input in &inputs {
            assert_eq!(
                fast_decimal(input),
                slow(input),
                "{:?}",
                String::from_utf8_lossy(input)
            );
            assert_eq!(parse_decimal(input).ok(), slow(input));
        }
    }
}
