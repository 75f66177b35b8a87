//! schemars (feature `schemars`, schemars 1): `JsonSchema` for derived types, so IDs
//! appear in a service's JSON Schema as what serde writes.
//!
//! A type serialized as text (every body, and snowflakes by default) is
//!
//! ```json
//! { "type": "string", "pattern": "^el-…$", "title": "ElementId",
//!   "description": "…", "examples": ["el-a3f8e9.1"] }
//! ```
//!
//! with the type's [`PATTERN`](crate::TypedId::PATTERN): exact under ECMAScript regular
//! expressions, which JSON Schema specifies, so a validator accepts exactly what the
//! parser accepts. (Python's `jsonschema` runs patterns through `re.search`, whose `$`
//! also matches before a final newline; [`PCRE_PATTERN`](crate::TypedId::PCRE_PATTERN)
//! is the exact pattern there.) A snowflake type declared with `serde = "number"` is an
//! `integer` in `0..=9223372036854775807` (`i64::MAX`), with `"format": "int64"`; its
//! deserializer also accepts the ID's text and decimal digits in a string, which the
//! description says but the schema, describing what is written, does not allow. JSON
//! Schema's `integer` is any number whose fractional part is zero, whatever its
//! notation, so a validator accepts `1000.0`, which the deserializer refuses (serde
//! reads it as a float): there the schema is looser than the parser, never stricter,
//! and no ID comes out of such input.
//!
//! Schemas are named after the type (`ElementId`) and referenced from `$defs`; the
//! schema id is the type's full path, so two types of the same name in different
//! modules do not collide.
//!
//! ```
//! # #[cfg(feature = "schemars")]
//! # fn main() {
//! use typed_id::{HashId, TypedId};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "el")]
//! struct ElementId(HashId);
//!
//! let schema = schemars::schema_for!(ElementId);
//! assert_eq!(schema.get("type"), Some(&"string".into()));
//! assert_eq!(schema.get("pattern"), Some(&ElementId::PATTERN.into()));
//! # }
//! # #[cfg(not(feature = "schemars"))]
//! # fn main() {}
//! ```

use schemars::{Schema, json_schema};

use super::schema::{self, IdExample};
use crate::body::Snowflake;
use crate::typed::TypedId;

/// `JsonSchema::json_schema` of a type serialized as its text.
#[must_use]
pub fn text_schema<T>() -> Schema
where
    T: TypedId,
    T::Body: IdExample,
{
    let mut schema = json_schema!({
        "type": "string",
        "pattern": T::PATTERN,
        "title": T::NAME,
        "description": schema::text_description::<T>(),
    });
    if let Some(example) = schema::example::<T>() {
        schema.insert("examples".to_owned(), vec![example].into());
    }
    schema
}

/// `JsonSchema::json_schema` of a snowflake type serialized as a number.
#[must_use]
pub fn number_schema<T: TypedId<Body = Snowflake>>() -> Schema {
    json_schema!({
        "type": "integer",
        "format": "int64",
        "minimum": 0,
        "maximum": i64::MAX,
        "title": T::NAME,
        "description": schema::number_description::<T>(),
        "examples": [schema::EXAMPLE_SNOWFLAKE],
    })
}

/// `JsonSchema` for a derived type: `__impl_schemars!(Type)` for a type serialized as
/// text, `__impl_schemars!(Type, number)` for a snowflake type serialized as a number.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_schemars {
    (@impl $ty:ty, $schema:ident) => {
        #[automatically_derived]
        impl $crate::__private::schemars::JsonSchema for $ty {
            #[inline]
            fn schema_name() -> $crate::__private::Cow<'static, str> {
                $crate::__private::Cow::Borrowed(<$ty as $crate::TypedId>::NAME)
            }

            #[inline]
            fn schema_id() -> $crate::__private::Cow<'static, str> {
                $crate::__private::Cow::Borrowed(::core::concat!(
                    ::core::module_path!(),
                    "::",
                    ::core::stringify!($ty)
                ))
            }

            #[inline]
            fn json_schema(
                _: &mut $crate::__private::schemars::SchemaGenerator,
            ) -> $crate::__private::schemars::Schema {
                $crate::__private::schemars_id::$schema::<$ty>()
            }
        }
    };
    ($ty:ty) => {
        $crate::__impl_schemars!(@impl $ty, text_schema);
    };
    ($ty:ty, number) => {
        $crate::__impl_schemars!(@impl $ty, number_schema);
    };
}
