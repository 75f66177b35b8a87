//! utoipa (feature `utoipa`, utoipa 5): `ToSchema` and `PartialSchema` for derived
//! types, so IDs appear in a service's OpenAPI document as typed strings.
//!
//! Each type is a named component schema (`#/components/schemas/ElementId`) — a
//! `string` with the type's [`PATTERN`](crate::TypedId::PATTERN), a title, a
//! description and an example — and fields of `#[derive(ToSchema)]` structs refer to
//! it. OpenAPI 3.1 patterns are ECMAScript regular expressions, under which `PATTERN`
//! accepts exactly what the parser accepts (a code generator for Python or Java should
//! use [`PCRE_PATTERN`](crate::TypedId::PCRE_PATTERN): see its table). A snowflake type
//! declared with `serde = "number"` is an `integer` (`int64`) in `0..=i64::MAX`; its
//! deserializer also accepts the ID's text and decimal digits in a string, as the
//! description says.
//!
//! ```
//! # #[cfg(feature = "utoipa")]
//! # fn main() {
//! use typed_id::{HashId, TypedId};
//! use utoipa::{PartialSchema, ToSchema};
//! use utoipa::openapi::{RefOr, schema::Schema};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "el")]
//! struct ElementId(HashId);
//!
//! assert_eq!(ElementId::name(), "ElementId");
//! let RefOr::T(Schema::Object(object)) = ElementId::schema() else { panic!() };
//! assert_eq!(object.pattern.as_deref(), Some(ElementId::PATTERN));
//! # }
//! # #[cfg(not(feature = "utoipa"))]
//! # fn main() {}
//! ```

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

use super::schema::{self, IdExample};
use crate::body::Snowflake;
use crate::typed::TypedId;

/// `PartialSchema::schema` of a type serialized as its text.
#[must_use]
pub fn text_schema<T>() -> RefOr<Schema>
where
    T: TypedId,
    T::Body: IdExample,
{
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(T::PATTERN))
        .title(Some(T::NAME))
        .description(Some(schema::text_description::<T>()))
        .examples(schema::example::<T>())
        .build()
        .into()
}

/// `PartialSchema::schema` of a snowflake type serialized as a number.
#[must_use]
pub fn number_schema<T: TypedId<Body = Snowflake>>() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .maximum(Some(i64::MAX))
        .title(Some(T::NAME))
        .description(Some(schema::number_description::<T>()))
        .examples([schema::EXAMPLE_SNOWFLAKE])
        .build()
        .into()
}

/// `ToSchema` and `PartialSchema` for a derived type: `__impl_utoipa!(Type)` for a type
/// serialized as text, `__impl_utoipa!(Type, number)` for a snowflake type serialized
/// as a number.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_utoipa {
    (@impl $ty:ty, $schema:ident) => {
        #[automatically_derived]
        impl $crate::__private::utoipa::PartialSchema for $ty {
            #[inline]
            fn schema() -> $crate::__private::utoipa::openapi::RefOr<
                $crate::__private::utoipa::openapi::schema::Schema,
            > {
                $crate::__private::utoipa_id::$schema::<$ty>()
            }
        }

        #[automatically_derived]
        impl $crate::__private::utoipa::ToSchema for $ty {
            #[inline]
            fn name() -> $crate::__private::Cow<'static, str> {
                $crate::__private::Cow::Borrowed(<$ty as $crate::TypedId>::NAME)
            }
        }
    };
    ($ty:ty) => {
        $crate::__impl_utoipa!(@impl $ty, text_schema);
    };
    ($ty:ty, number) => {
        $crate::__impl_utoipa!(@impl $ty, number_schema);
    };
}
