//! [`WorkItemKey`]: an internal ID (unique, time-sortable) paired with the display ID
//! people read and type (`WORK-042`).

use core::fmt;

/// An internal ID and a display ID for the same item, e.g. a snowflake
/// `wi-1767053847123456789` (unique across machines, never reused, sorts by time) and
/// `WORK-042` (short, per project, what people say out loud).
///
/// With the `serde` feature it serialises as an object with both fields, each in its
/// canonical text form: `{"id":"wi-1767053847123456789","display":"WORK-042"}`.
/// Order, equality and hashing use both fields, `id` first.
///
/// ```
/// use typed_id::generator::SnowflakeGenerator;
/// use typed_id::store::{DisplayIdAllocator, MemoryStore, WorkItemKey};
/// use typed_id::{Seq, Snowflake, TypedId};
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "wi")]
/// struct WorkItemSnowflake(Snowflake);
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "WORK", width = 3)]
/// struct WorkItemId(Seq);
///
/// let snowflakes = SnowflakeGenerator::new(1)?;
/// let displays = MemoryStore::new();
/// let key = WorkItemKey::new(
///     snowflakes.generate::<WorkItemSnowflake>()?,
///     displays.next_id::<WorkItemId>("odin")?,
/// );
/// assert_eq!(key.display.as_str(), "WORK-001");
/// assert!(key.to_string().starts_with("WORK-001 (wi-"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkItemKey<I, D> {
    /// The internal ID: unique and stable, what other records refer to.
    pub id: I,
    /// The display ID: what people read, e.g. `WORK-042`.
    pub display: D,
}

impl<I, D> WorkItemKey<I, D> {
    /// Pairs an internal ID with a display ID.
    pub const fn new(id: I, display: D) -> Self {
        WorkItemKey { id, display }
    }
}

/// `WORK-042 (wi-1767053847123456789)`: the display ID first, as people look for it.
impl<I: fmt::Display, D: fmt::Display> fmt::Display for WorkItemKey<I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.display, self.id)
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    //! Hand-written, because the runtime crate uses serde without its derive macros.

    use core::fmt;
    use core::marker::PhantomData;

    use serde::de::{self, MapAccess, SeqAccess, Visitor};
    use serde::ser::SerializeStruct as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::WorkItemKey;

    const FIELDS: &[&str] = &["id", "display"];

    impl<I: Serialize, D: Serialize> Serialize for WorkItemKey<I, D> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut s = serializer.serialize_struct("WorkItemKey", 2)?;
            s.serialize_field("id", &self.id)?;
            s.serialize_field("display", &self.display)?;
            s.end()
        }
    }

    enum Field {
        Id,
        Display,
        Other,
    }

    impl<'de> Deserialize<'de> for Field {
        fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
            struct FieldVisitor;
            impl Visitor<'_> for FieldVisitor {
                type Value = Field;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a field name")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                    Ok(match v {
                        "id" => Field::Id,
                        "display" => Field::Display,
                        _ => Field::Other,
                    })
                }
            }
            deserializer.deserialize_identifier(FieldVisitor)
        }
    }

    struct KeyVisitor<I, D>(PhantomData<(I, D)>);

    impl<'de, I: Deserialize<'de>, D: Deserialize<'de>> Visitor<'de> for KeyVisitor<I, D> {
        type Value = WorkItemKey<I, D>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a work item key {\"id\": …, \"display\": …}")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let id = seq
                .next_element()?
                .ok_or_else(|| de::Error::invalid_length(0, &self))?;
            let display = seq
                .next_element()?
                .ok_or_else(|| de::Error::invalid_length(1, &self))?;
            Ok(WorkItemKey { id, display })
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut id = None;
            let mut display = None;
            while let Some(field) = map.next_key::<Field>()? {
                match field {
                    Field::Id if id.is_some() => return Err(de::Error::duplicate_field("id")),
                    Field::Id => id = Some(map.next_value()?),
                    Field::Display if display.is_some() => {
                        return Err(de::Error::duplicate_field("display"));
                    }
                    Field::Display => display = Some(map.next_value()?),
                    Field::Other => {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
            }
            Ok(WorkItemKey {
                id: id.ok_or_else(|| de::Error::missing_field("id"))?,
                display: display.ok_or_else(|| de::Error::missing_field("display"))?,
            })
        }
    }

    impl<'de, I: Deserialize<'de>, D: Deserialize<'de>> Deserialize<'de> for WorkItemKey<I, D> {
        fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
            deserializer.deserialize_struct("WorkItemKey", FIELDS, KeyVisitor(PhantomData))
        }
    }
}
