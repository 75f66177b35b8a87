//! What the `proptest` and `arbitrary` features share: a valid ID of a derived type
//! built from a short sequence of bounded choices.
//!
//! Each body makes at most [`CHOICES`] choices, each a number in a range, and turns them
//! into canonical body text within the type's options: a hash length, its characters,
//! a depth and each child number's digit count and value; a display number's digit
//! count and value; a snowflake's or a UUID's bit length and bits. Choosing the digit
//! or bit count first spreads the values over every length the grammar allows (a
//! uniform `u32` would be a 10-digit child number almost every time). The text is then
//! parsed and adopted by the type like any other input, so what comes out is an ID the
//! type's own parser accepts.
//!
//! A choice of 0 is the smallest value of its range, so proptest, which shrinks every
//! choice toward 0, shrinks an ID toward the shortest hash of `0`s, no children, the
//! number 1 and the nil UUID; and libFuzzer's empty input is that same smallest ID.

use crate::body::Body;
use crate::body::{HashId, HashSpec, HexKey, HexSpec, Seq, SeqSpec, Snowflake, SnowflakeSpec};
use crate::body::{TypeIdSpec, TypeIdUuid};
use crate::error::IdError;
use crate::typed::{self, TypedId};

/// Most choices any body makes (a 32-digit hex key).
pub const CHOICES: usize = 32;

/// A source of choices.
pub trait Draw {
    /// A number in `lo..=hi` (`lo <= hi`); the smallest when the source has run dry.
    fn pick(&mut self, lo: u64, hi: u64) -> u64;
}

/// Bodies that can be built from choices.
#[doc(hidden)]
pub trait GenBody: Body {
    /// A bare body within `spec`; an error only if this module has a bug.
    ///
    /// # Errors
    /// The error of the body's parser or constructor on the text it was given.
    fn generate<D: Draw>(spec: &Self::Spec, draw: &mut D) -> Result<Self, IdError>;
}

/// A valid `T` under its canonical prefix, from the choices of `draw`.
///
/// # Errors
/// Only if this module has a bug: the ID it built did not parse.
pub fn generate<T, D>(draw: &mut D) -> Result<T, IdError>
where
    T: TypedId,
    T::Body: GenBody,
    D: Draw,
{
    let body = T::Body::generate(&T::SPEC, draw)?;
    typed::try_from_body::<T>(body)
}

/// A valid `T`, or a panic that names the bug: generation cannot fail on any choices,
/// since every choice is within a range the grammar allows.
pub(crate) fn generate_or_bug<T, D>(draw: &mut D) -> T
where
    T: TypedId,
    T::Body: GenBody,
    D: Draw,
{
    generate(draw).unwrap_or_else(|e| {
        panic!(
            "typed-id built an invalid {} from test choices ({e}); this is a bug in typed-id",
            T::NAME
        )
    })
}

const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// A number of 1 to `max_digits` decimal digits (the count chosen first), at most `max`.
fn decimal<D: Draw>(draw: &mut D, max_digits: u32, max: u64) -> u64 {
    let digits = draw.pick(1, u64::from(max_digits)) as u32;
    let lo = 10u64.pow(digits - 1);
    let hi = 10u64.saturating_pow(digits).saturating_sub(1).min(max);
    draw.pick(lo.min(hi), hi)
}

/// A number below `2^bits` for a bit count chosen in `0..=max_bits` (`max_bits <= 64`).
fn bits<D: Draw>(draw: &mut D, max_bits: u32) -> (u32, u64) {
    let n = draw.pick(0, u64::from(max_bits)) as u32;
    let hi = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    (n, draw.pick(0, hi))
}

/// Writes `value` in decimal at `buf[at..]`, returning the new end.
fn push_decimal(buf: &mut [u8], at: usize, value: u64) -> usize {
    let mut digits = [0u8; 20];
    let mut n = 0;
    let mut v = value;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for (i, d) in digits[..n].iter().rev().enumerate() {
        buf[at + i] = *d;
    }
    at + n
}

/// The text built in `buf[..len]` (ASCII by construction).
fn ascii(buf: &[u8], len: usize) -> &str {
    core::str::from_utf8(&buf[..len]).unwrap_or_default()
}

impl GenBody for HashId {
    fn generate<D: Draw>(spec: &HashSpec, draw: &mut D) -> Result<Self, IdError> {
        let mut buf = [0u8; 64];
        let len = draw.pick(u64::from(spec.min_len()), u64::from(spec.max_len())) as usize;
        for slot in &mut buf[..len] {
            *slot = BASE36[draw.pick(0, 35) as usize];
        }
        let mut at = len;
        let depth = draw.pick(0, u64::from(spec.max_depth()));
        for _ in 0..depth {
            buf[at] = b'.';
            at = push_decimal(&mut buf, at + 1, decimal(draw, 10, u64::from(u32::MAX)));
        }
        HashId::parse_with(ascii(&buf, at), spec).map_err(|e| IdError::Shape(e.kind()))
    }
}

impl GenBody for Seq {
    fn generate<D: Draw>(spec: &SeqSpec, draw: &mut D) -> Result<Self, IdError> {
        Seq::with_spec(decimal(draw, 18, Seq::MAX), spec)
    }
}

impl GenBody for HexKey {
    fn generate<D: Draw>(spec: &HexSpec, draw: &mut D) -> Result<Self, IdError> {
        let mut buf = [0u8; 32];
        let len = usize::from(spec.len());
        for slot in &mut buf[..len] {
            *slot = HEX[draw.pick(0, 15) as usize];
        }
        HexKey::parse_with(ascii(&buf, len), spec).map_err(|e| IdError::Shape(e.kind()))
    }
}

impl GenBody for Snowflake {
    fn generate<D: Draw>(_: &SnowflakeSpec, draw: &mut D) -> Result<Self, IdError> {
        // Up to 63 bits: the sign bit stays clear. The encoding is the type's Display.
        Snowflake::new(bits(draw, 63).1)
    }
}

impl GenBody for TypeIdUuid {
    fn generate<D: Draw>(_: &TypeIdSpec, draw: &mut D) -> Result<Self, IdError> {
        // Every 128-bit value is a valid TypeID suffix; a bit count chosen first gives
        // short values (leading `0`s in the text) as often as long ones. Full width,
        // which alone reaches the first characters `4` to `7`, gets 9 of 137 chances
        // rather than 1 of 129.
        let n = draw.pick(0, 136).min(128) as u32;
        let high = draw.pick(0, u64::MAX);
        let low = draw.pick(0, u64::MAX);
        let value = (u128::from(high) << 64) | u128::from(low);
        let value = if n == 0 { 0 } else { value >> (128 - n) };
        Ok(TypeIdUuid::from_u128(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Choices from a fixed list, then the smallest.
    struct Fixed<'a>(&'a [u64]);

    impl Draw for Fixed<'_> {
        fn pick(&mut self, lo: u64, hi: u64) -> u64 {
            let Some((&first, rest)) = self.0.split_first() else {
                return lo;
            };
            self.0 = rest;
            first.clamp(lo, hi)
        }
    }

    #[test]
    fn no_choices_give_the_smallest_body() {
        let spec = HashSpec::new(4, 6, 2).unwrap();
        assert_eq!(
            HashId::generate(&spec, &mut Fixed(&[])).unwrap().as_str(),
            "0000"
        );
        let seq = SeqSpec::new(3).unwrap();
        assert_eq!(
            Seq::generate(&seq, &mut Fixed(&[])).unwrap().as_str(),
            "001"
        );
        assert_eq!(
            TypeIdUuid::generate(&TypeIdSpec::DEFAULT, &mut Fixed(&[])).unwrap(),
            TypeIdUuid::NIL
        );
    }

    #[test]
    fn the_largest_choices_give_the_largest_body() {
        let max = [u64::MAX; CHOICES];
        let hash = HashId::generate(&HashSpec::DEFAULT, &mut Fixed(&max)).unwrap();
        assert_eq!(hash.as_str(), "zzzzzzzz.4294967295.4294967295.4294967295");
        let seq = Seq::generate(&SeqSpec::DEFAULT, &mut Fixed(&max)).unwrap();
        assert_eq!(seq.value(), Seq::MAX);
        let flake = Snowflake::generate(&SnowflakeSpec::DECIMAL, &mut Fixed(&max)).unwrap();
        assert_eq!(flake, Snowflake::MAX);
        let uuid = TypeIdUuid::generate(&TypeIdSpec::DEFAULT, &mut Fixed(&max)).unwrap();
        assert_eq!(uuid, TypeIdUuid::MAX);
        let hex = HexKey::generate(&HexSpec::new(32).unwrap(), &mut Fixed(&max)).unwrap();
        assert_eq!(hex.as_str(), "f".repeat(32));
    }

    #[test]
    fn digit_counts_are_chosen_first() {
        // 3 digits, then the value 5 → clamped up to 100.
        assert_eq!(decimal(&mut Fixed(&[3, 5]), 10, u64::from(u32::MAX)), 100);
        // 10 digits, then the largest → capped at u32::MAX.
        assert_eq!(
            decimal(&mut Fixed(&[10, u64::MAX]), 10, u64::from(u32::MAX)),
            u64::from(u32::MAX)
        );
        assert_eq!(bits(&mut Fixed(&[0, 9]), 63), (0, 0));
    }
}
