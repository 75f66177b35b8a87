//! serde: an ID serializes as its canonical string and deserializes by parsing, with
//! errors that name the type (`invalid ElementId "El-a3f8e9": expected prefix "el-" at
//! byte 0`).
//!
//! The text is composed in a stack buffer ([`TypedId::to_text`]). A snowflake type declared with `serde = "number"` serializes as a
//! `u64` instead and deserializes from a number or a string (canonical text, or bare
//! decimal digits as JavaScript clients send 64-bit numbers; canonical text always has a
//! `-` and bare digits never do, so a prefix may start with a digit).

use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::ser::Serializer;

use crate::body::Body;
use crate::body::{Snowflake, SnowflakeSpec};
use crate::error::{ParseErrorKind, ParseIdError};
use crate::typed::{self, TypedId};

/// `Serialize` of a derived type: its canonical string.
#[inline]
pub fn serialize<T, S>(id: &T, serializer: S) -> Result<S::Ok, S::Error>
where
    T: TypedId,
    S: Serializer,
{
    serializer.serialize_str(id.to_text().as_str())
}

/// `Deserialize` of a derived type: parses a string.
#[inline]
pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: TypedId,
    D: Deserializer<'de>,
{
    deserializer.deserialize_str(TextVisitor(PhantomData))
}

/// `Serialize` of a snowflake type in number mode: a `u64`.
#[inline]
pub fn serialize_number<T, S>(id: &T, serializer: S) -> Result<S::Ok, S::Error>
where
    T: TypedId<Body = Snowflake>,
    S: Serializer,
{
    serializer.serialize_u64(id.body_ref().as_u64())
}

/// `Deserialize` of a snowflake type in number mode: a number, the canonical string, or
/// a string of bare decimal digits.
#[inline]
pub fn deserialize_number<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: TypedId<Body = Snowflake>,
    D: Deserializer<'de>,
{
    if deserializer.is_human_readable() {
        deserializer.deserialize_any(NumberVisitor(PhantomData))
    } else {
        // Binary formats are not self-describing; they get what `serialize_number` wrote.
        deserializer.deserialize_u64(NumberVisitor(PhantomData))
    }
}

fn parse<T: TypedId, E: de::Error>(text: &str) -> Result<T, E> {
    typed::parse::<T>(text).map_err(E::custom)
}

/// Accepts a string (borrowed, transient or owned) or UTF-8 bytes.
struct TextVisitor<T>(PhantomData<T>);

impl<T: TypedId> Visitor<'_> for TextVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} as a string", T::NAME)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        parse(v)
    }

    // `visit_borrowed_str` and `visit_string` forward here by default; parsing copies
    // the text into the value, so neither needs more.

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<T, E> {
        match core::str::from_utf8(v) {
            Ok(text) => parse(text),
            Err(_) => Err(E::invalid_value(Unexpected::Bytes(v), &self)),
        }
    }
}

/// Accepts an integer in `0..=i64::MAX`, or a string.
struct NumberVisitor<T>(PhantomData<T>);

impl<T: TypedId<Body = Snowflake>> NumberVisitor<T> {
    fn wrap<E: de::Error>(self, body: Snowflake, unexpected: Unexpected<'_>) -> Result<T, E> {
        typed::try_from_body::<T>(body).map_err(|_| E::invalid_value(unexpected, &self))
    }
}

impl<T: TypedId<Body = Snowflake>> Visitor<'_> for NumberVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} as a number in 0..={} or a string", T::NAME, i64::MAX)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        match Snowflake::new(v) {
            Ok(body) => self.wrap(body, Unexpected::Unsigned(v)),
            Err(_) => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        match Snowflake::from_i64(v) {
            Ok(body) => self.wrap(body, Unexpected::Signed(v)),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        if is_bare_number(v) {
            // Bare digits: a 64-bit number sent as a string. Always decimal, whatever
            // the type's text encoding, since it stands for the number.
            return parse_bare_decimal::<T>(v).map_err(E::custom);
        }
        parse(v)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<T, E> {
        match core::str::from_utf8(v) {
            Ok(text) => self.visit_str(text),
            Err(_) => Err(E::invalid_value(Unexpected::Bytes(v), &self)),
        }
    }
}

/// Whether a string given for a number-mode snowflake stands for the bare number rather
/// than the canonical text. Canonical text always has a `-` after its prefix (prefixes
/// may start with a digit, `9x-123`), and a number never has one; so a string that
/// starts with a digit and has no `-` is read as a number (its errors then point at the
/// first non-digit), anything else as canonical text (its errors name the prefix).
fn is_bare_number(v: &str) -> bool {
    v.as_bytes().first().is_some_and(u8::is_ascii_digit) && !v.contains('-')
}

/// Parses bare decimal digits as a `T`, reporting errors under `T`'s name.
fn parse_bare_decimal<T: TypedId<Body = Snowflake>>(v: &str) -> Result<T, ParseIdError> {
    let spec = SnowflakeSpec::DECIMAL;
    let max = spec.max_text_len();
    if v.len() > max {
        let kind = ParseErrorKind::TooLong { len: v.len(), max };
        return Err(ParseIdError::new(T::NAME, v, 0, kind));
    }
    let body = Snowflake::parse_body(v, &spec)
        .map_err(|(index, kind)| ParseIdError::new(T::NAME, v, index, kind))?;
    typed::try_from_body::<T>(body).map_err(|e| match e {
        crate::error::IdError::Shape(kind) => ParseIdError::new(T::NAME, v, 0, kind),
        _ => ParseIdError::new(
            T::NAME,
            v,
            0,
            ParseErrorKind::Overflow {
                max: i64::MAX as u64,
            },
        ),
    })
}

/// `Serialize` and `Deserialize` for a derived type: `__impl_serde!(Type)` for the
/// canonical string, `__impl_serde!(Type, number)` for a snowflake type serialized as a
/// `u64`.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_serde {
    (@impl $ty:ty, $ser:ident, $de:ident) => {
        #[automatically_derived]
        impl $crate::__private::serde::Serialize for $ty {
            #[inline]
            fn serialize<__S>(
                &self,
                serializer: __S,
            ) -> $crate::__private::Result<__S::Ok, __S::Error>
            where
                __S: $crate::__private::serde::Serializer,
            {
                $crate::__private::serde_id::$ser(self, serializer)
            }
        }

        #[automatically_derived]
        impl<'de> $crate::__private::serde::Deserialize<'de> for $ty {
            #[inline]
            fn deserialize<__D>(deserializer: __D) -> $crate::__private::Result<Self, __D::Error>
            where
                __D: $crate::__private::serde::Deserializer<'de>,
            {
                $crate::__private::serde_id::$de(deserializer)
            }
        }
    };
    ($ty:ty) => {
        $crate::__impl_serde!(@impl $ty, serialize, deserialize);
    };
    ($ty:ty, number) => {
        $crate::__impl_serde!(@impl $ty, serialize_number, deserialize_number);
    };
}
