//! serde for the values that are not derived types: the bare bodies, [`DynTypeId`],
//! [`InstanceKey`], [`ProcessInstanceId`] and [`SnowflakeParts`].
//!
//! Each serializes as its canonical text and deserializes by parsing it, with the
//! parser's error (`invalid HashId "A3F8": …`); UTF-8 bytes are accepted where a format
//! gives bytes for a string. Where the bare value has no options of its own:
//!
//! - a bare [`Seq`] has no width: it is written as its padded text and read back at
//!   the width its text shows (`"00042"` at 5), so any canonical display text of 1 to
//!   18 digits deserializes and serializes back unchanged;
//! - a bare [`HexKey`] is read at the length of its text (4 to 32 digits);
//! - a bare [`Snowflake`] is its decimal text in human-readable formats (so JSON keeps
//!   all 63 bits for JavaScript readers) and a `u64` in binary ones; on input, a
//!   human-readable format may also give an integer in `0..=i64::MAX`;
//! - [`SnowflakeParts`] is a map `{"timestamp_ms", "worker", "process", "sequence"}`
//!   (`process` is `null`, or may be left out, for layouts without one); `timestamp` is
//!   rebuilt from `timestamp_ms`; unknown fields are ignored, missing (other than
//!   `process`) or repeated ones are errors.

use core::fmt;
use std::time::{Duration, UNIX_EPOCH};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::ser::{Serialize, SerializeStruct as _, Serializer};

use crate::body::Body;
use crate::body::TypeIdUuid;
use crate::body::{DynTypeId, HashId, HexKey, HexSpec, InstanceKey, Seq, SeqSpec, Snowflake};
use crate::error::ParseIdError;
use crate::generator::{ProcessInstanceId, SnowflakeParts};

/// Reads a string (or UTF-8 bytes) through `parse`.
struct TextVisitor<T> {
    name: &'static str,
    parse: fn(&str) -> Result<T, ParseIdError>,
}

impl<T> Visitor<'_> for TextVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} as a string", self.name)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).map_err(E::custom)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<T, E> {
        match core::str::from_utf8(v) {
            Ok(text) => self.visit_str(text),
            Err(_) => Err(E::invalid_value(Unexpected::Bytes(v), &self)),
        }
    }
}

fn deserialize_text<'de, D, T>(
    deserializer: D,
    name: &'static str,
    parse: fn(&str) -> Result<T, ParseIdError>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    deserializer.deserialize_str(TextVisitor { name, parse })
}

/// `Serialize` as `as_str()`, `Deserialize` through a parser.
macro_rules! text_serde {
    ($($ty:ty => $parse:expr),* $(,)?) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_text(deserializer, stringify!($ty), $parse)
            }
        }
    )*};
}

text_serde! {
    HashId => HashId::parse,
    Seq => parse_seq,
    HexKey => parse_hex,
    InstanceKey => InstanceKey::parse,
}

/// A display number at the width its text shows: `042` at 3, `00042` at 5, `1000` at 4
/// (any width up to 4 gives the same value and text).
fn parse_seq(s: &str) -> Result<Seq, ParseIdError> {
    let width = u8::try_from(s.len()).ok().filter(|w| (1..=18).contains(w));
    match width.map(SeqSpec::new) {
        Some(Ok(spec)) => Seq::parse_with(s, &spec),
        // Empty or over 18 digits: the default parser says which.
        _ => Seq::parse(s),
    }
}

/// A hex key of the length its text has, 4 to 32 digits.
fn parse_hex(s: &str) -> Result<HexKey, ParseIdError> {
    let len = u8::try_from(s.len()).ok();
    match len.map(HexSpec::new) {
        Some(Ok(spec)) => HexKey::parse_with(s, &spec),
        _ => HexKey::parse(s),
    }
}

/// `Serialize` through `Display`, `Deserialize` through a parser.
macro_rules! display_serde {
    ($($ty:ty => $name:expr, $parse:expr);* $(;)?) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_text(deserializer, $name, $parse)
            }
        }
    )*};
}

display_serde! {
    TypeIdUuid => <TypeIdUuid as Body>::NAME, TypeIdUuid::parse;
    DynTypeId => DynTypeId::NAME, DynTypeId::parse;
    ProcessInstanceId => "ProcessInstanceId", ProcessInstanceId::parse;
}

impl Serialize for Snowflake {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            serializer.serialize_u64(self.as_u64())
        }
    }
}

impl<'de> Deserialize<'de> for Snowflake {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(SnowflakeVisitor)
        } else {
            deserializer.deserialize_u64(SnowflakeVisitor)
        }
    }
}

/// A decimal string, or an integer in `0..=i64::MAX`.
struct SnowflakeVisitor;

impl Visitor<'_> for SnowflakeVisitor {
    type Value = Snowflake;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a Snowflake as a decimal string or a number in 0..={}",
            i64::MAX
        )
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Snowflake, E> {
        Snowflake::new(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Snowflake, E> {
        Snowflake::from_i64(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Snowflake, E> {
        Snowflake::parse(v).map_err(E::custom)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Snowflake, E> {
        match core::str::from_utf8(v) {
            Ok(text) => self.visit_str(text),
            Err(_) => Err(E::invalid_value(Unexpected::Bytes(v), &self)),
        }
    }
}

const PARTS_FIELDS: &[&str] = &["timestamp_ms", "worker", "process", "sequence"];

impl Serialize for SnowflakeParts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SnowflakeParts", 4)?;
        s.serialize_field("timestamp_ms", &self.timestamp_ms)?;
        s.serialize_field("worker", &self.worker)?;
        s.serialize_field("process", &self.process)?;
        s.serialize_field("sequence", &self.sequence)?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for SnowflakeParts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("SnowflakeParts", PARTS_FIELDS, PartsVisitor)
    }
}

enum PartsField {
    TimestampMs,
    Worker,
    Process,
    Sequence,
    Other,
}

impl<'de> Deserialize<'de> for PartsField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = PartsField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SnowflakeParts field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PartsField, E> {
                Ok(match v {
                    "timestamp_ms" => PartsField::TimestampMs,
                    "worker" => PartsField::Worker,
                    "process" => PartsField::Process,
                    "sequence" => PartsField::Sequence,
                    _ => PartsField::Other,
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

struct PartsVisitor;

impl PartsVisitor {
    fn build<E: de::Error>(
        timestamp_ms: u64,
        worker: u32,
        process: Option<u32>,
        sequence: u32,
    ) -> Result<SnowflakeParts, E> {
        let timestamp = UNIX_EPOCH
            .checked_add(Duration::from_millis(timestamp_ms))
            .ok_or_else(|| {
                E::invalid_value(
                    Unexpected::Unsigned(timestamp_ms),
                    &"milliseconds since the Unix epoch that this system can represent",
                )
            })?;
        Ok(SnowflakeParts {
            timestamp,
            timestamp_ms,
            worker,
            process,
            sequence,
        })
    }
}

impl<'de> Visitor<'de> for PartsVisitor {
    type Value = SnowflakeParts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SnowflakeParts {\"timestamp_ms\", \"worker\", \"process\", \"sequence\"}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SnowflakeParts, A::Error> {
        let timestamp_ms = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let worker = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        let process = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(2, &self))?;
        let sequence = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(3, &self))?;
        Self::build(timestamp_ms, worker, process, sequence)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SnowflakeParts, A::Error> {
        let mut timestamp_ms: Option<u64> = None;
        let mut worker: Option<u32> = None;
        let mut process: Option<Option<u32>> = None;
        let mut sequence: Option<u32> = None;
        while let Some(field) = map.next_key::<PartsField>()? {
            match field {
                PartsField::TimestampMs => set(&mut timestamp_ms, "timestamp_ms", &mut map)?,
                PartsField::Worker => set(&mut worker, "worker", &mut map)?,
                PartsField::Process => set(&mut process, "process", &mut map)?,
                PartsField::Sequence => set(&mut sequence, "sequence", &mut map)?,
                PartsField::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Self::build(
            timestamp_ms.ok_or_else(|| de::Error::missing_field("timestamp_ms"))?,
            worker.ok_or_else(|| de::Error::missing_field("worker"))?,
            // As serde's derive does for an `Option` field: absent is `None`.
            process.unwrap_or(None),
            sequence.ok_or_else(|| de::Error::missing_field("sequence"))?,
        )
    }
}

/// Reads a map value into `slot`, refusing a second one.
fn set<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    name: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}
