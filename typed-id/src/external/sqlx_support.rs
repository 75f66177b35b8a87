//! sqlx (features `sqlx-sqlite`, `sqlx-postgres`): derived IDs as `TEXT` columns, and
//! snowflakes as `BIGINT`, usable as query parameters, in `#[derive(sqlx::FromRow)]`
//! structs, with `query_as`/`query_scalar`, and as `Option<Id>` for nullable columns.
//!
//! | body | `Type` / `Encode` | `Decode` reads |
//! |---|---|---|
//! | `HashId`, `Seq`, `HexKey` | text (`TEXT` on SQLite and PostgreSQL) | text (`TEXT`, `VARCHAR`, …), parsed |
//! | `Snowflake` | `BIGINT` (PostgreSQL `INT8`, SQLite `INTEGER`) | a `BIGINT`, or text parsed as the ID's canonical text |
//! | `TypeIdUuid` | text: the TypeID (`user_01h455vb4pex5vsknk084sn02q`) | text, parsed |
//!
//! Reading validates: a row that holds something other than a valid ID of the column's
//! type is a decode error that names the type — the parser's error for text
//! (`invalid ElementId "el-A3F8": expected a base36 digit, found 'A' at byte 3`), and
//! `invalid MessageId in the database: BIGINT value -5 is negative` for what the parser
//! does not see (a negative `BIGINT`, a `REAL` or `BLOB` where a snowflake belongs, a
//! `NULL` read into a non-`Option` field) — never a bogus ID. SQLite would read the text
//! `'abc'` as the integer 0 if asked for one; decoding looks at the value's storage class
//! first, so that never happens.
//!
//! The generated impls are generic over the database, with bounds that hold for every
//! sqlx driver that maps `&str` and `i64` (so `Any` works too); the `sqlx-postgres`
//! feature adds `PgHasArrayType`, so a `&[ElementId]` binds as a `TEXT[]` (`WHERE id =
//! ANY($1)`). A snowflake type binds as a `BIGINT`; to store one in a `TEXT` column,
//! bind its text (`id.to_string()`).
//!
//! ```
//! # #[cfg(feature = "sqlx-sqlite")]
//! # fn main() {
//! use typed_id::{HashId, TypedId};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "el")]
//! struct ElementId(HashId);
//!
//! fn is_sqlx_value<T>()
//! where
//!     T: sqlx::Type<sqlx::Sqlite> + for<'q> sqlx::Encode<'q, sqlx::Sqlite>,
//!     T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>,
//! {
//! }
//! is_sqlx_value::<ElementId>();
//! is_sqlx_value::<Option<ElementId>>();
//! # }
//! # #[cfg(not(feature = "sqlx-sqlite"))]
//! # fn main() {}
//! ```
//!
//! # Which sqlx
//!
//! sqlx 0.9. Only one crate in a build may link SQLite (`libsqlite3-sys` declares
//! `links = "sqlite3"`), so with `--all-features` diesel's SQLite and sqlx's must resolve
//! to one `libsqlite3-sys`. sqlx 0.9 accepts `>=0.30.1, <0.38` and diesel 2.3 accepts
//! the 0.35 this crate pins (bundled: nothing to install); sqlx 0.8 needs `^0.30`, which
//! would force an older bundled SQLite on the diesel side as well. The price: sqlx 0.9
//! needs Rust 1.94, so the two sqlx features do too, while the rest of the crate keeps
//! its minimum of 1.89.
//!
//! The dependency is `default-features = false` with only a backend switched on
//! (`sqlite-bundled`, `postgres`): no runtime, TLS, macros or migrations. Your own sqlx
//! dependency picks those (`runtime-tokio`, a TLS backend, `derive` for `FromRow`), and
//! cargo merges the features.

use sqlx::database::Database;
use sqlx::decode::Decode;
use sqlx::encode::{Encode, IsNull};
use sqlx::error::BoxDynError;
use sqlx::types::Type;
use sqlx::{TypeInfo as _, ValueRef as _};

use super::stored::{self, InvalidDbValue, Problem};
use crate::body::Snowflake;
use crate::typed::TypedId;

/// How a derived type of one body kind maps to the SQL types of a database: what the
/// generated `Type`, `Encode` and `Decode` impls forward to. Implemented by [`Text`]
/// and [`BigInt`] for every database whose `&str` (and `i64`) have sqlx impls.
pub trait Column<T, DB: Database> {
    /// `Type::type_info`: the SQL type bound parameters are declared with.
    fn type_info() -> DB::TypeInfo;
    /// `Type::compatible`: the SQL types a value can be read from.
    fn compatible(ty: &DB::TypeInfo) -> bool;
    /// `Encode::encode_by_ref`.
    ///
    /// # Errors
    /// The driver's encoding error.
    fn encode(id: &T, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError>;
    /// `Decode::decode`, validating.
    ///
    /// # Errors
    /// A value that is not a valid `T`, naming the type.
    fn decode(value: DB::ValueRef<'_>) -> Result<T, BoxDynError>;
}

/// IDs stored as their canonical text.
#[derive(Debug)]
pub enum Text {}

/// Snowflake IDs stored as a `BIGINT`.
#[derive(Debug)]
pub enum BigInt {}

impl<T, DB> Column<T, DB> for Text
where
    T: TypedId,
    DB: Database,
    str: Type<DB>,
    String: for<'q> Encode<'q, DB>,
    for<'a> &'a str: Encode<'a, DB> + Decode<'a, DB>,
{
    #[inline]
    fn type_info() -> DB::TypeInfo {
        <str as Type<DB>>::type_info()
    }

    #[inline]
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <str as Type<DB>>::compatible(ty)
    }

    #[inline]
    fn encode(id: &T, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        // The argument buffer may outlive `id`, so the text goes in owned.
        <String as Encode<'_, DB>>::encode(id.to_text().as_str().to_owned(), buf)
    }

    #[inline]
    fn decode(value: DB::ValueRef<'_>) -> Result<T, BoxDynError> {
        if value.is_null() {
            return Err(InvalidDbValue::boxed::<T>(Problem::Null));
        }
        stored::parse(<&str as Decode<'_, DB>>::decode(value)?)
    }
}

impl<T, DB> Column<T, DB> for BigInt
where
    T: TypedId<Body = Snowflake>,
    DB: Database,
    str: Type<DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    for<'a> &'a str: Decode<'a, DB>,
{
    #[inline]
    fn type_info() -> DB::TypeInfo {
        <i64 as Type<DB>>::type_info()
    }

    #[inline]
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <i64 as Type<DB>>::compatible(ty) || <str as Type<DB>>::compatible(ty)
    }

    #[inline]
    fn encode(id: &T, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'_, DB>>::encode(id.body_ref().as_i64(), buf)
    }

    fn decode(value: DB::ValueRef<'_>) -> Result<T, BoxDynError> {
        if value.is_null() {
            return Err(InvalidDbValue::boxed::<T>(Problem::Null));
        }
        // The storage class first: SQLite reads the text 'abc' or the real 2.5 as an
        // integer (0 and 2) if asked for one.
        let ty = value.type_info();
        if <str as Type<DB>>::compatible(&ty) {
            drop(ty);
            stored::parse(<&str as Decode<'_, DB>>::decode(value)?)
        } else if <i64 as Type<DB>>::compatible(&ty) {
            drop(ty);
            stored::from_i64(<i64 as Decode<'_, DB>>::decode(value)?)
        } else {
            let found = ty.name().to_owned();
            Err(InvalidDbValue::boxed::<T>(Problem::NotIntegerOrText(found)))
        }
    }
}

/// What the PostgreSQL array impls forward to.
#[cfg(feature = "sqlx-postgres")]
pub mod pg {
    use sqlx::postgres::{PgHasArrayType, PgTypeInfo};

    /// `PgHasArrayType::array_type_info` of a text ID: `TEXT[]`.
    #[inline]
    #[must_use]
    pub fn text_array_type_info() -> PgTypeInfo {
        <&str as PgHasArrayType>::array_type_info()
    }

    /// `PgHasArrayType::array_compatible` of a text ID.
    #[inline]
    #[must_use]
    pub fn text_array_compatible(ty: &PgTypeInfo) -> bool {
        <&str as PgHasArrayType>::array_compatible(ty)
    }

    /// `PgHasArrayType::array_type_info` of a snowflake ID: `INT8[]`.
    #[inline]
    #[must_use]
    pub fn bigint_array_type_info() -> PgTypeInfo {
        <i64 as PgHasArrayType>::array_type_info()
    }

    /// `PgHasArrayType::array_compatible` of a snowflake ID: `INT8[]` or `TEXT[]`.
    #[inline]
    #[must_use]
    pub fn bigint_array_compatible(ty: &PgTypeInfo) -> bool {
        <i64 as PgHasArrayType>::array_compatible(ty) || text_array_compatible(ty)
    }
}

/// sqlx support for a derived type: `__impl_sqlx!(Type, text)` for `HashId`, `Seq` and
/// `HexKey` bodies, `__impl_sqlx!(Type, snowflake)` for `Snowflake` bodies.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_sqlx {
    (@impl $ty:ty, $col:ident) => {
        #[automatically_derived]
        impl<__DB> $crate::__private::sqlx::Type<__DB> for $ty
        where
            __DB: $crate::__private::sqlx::Database,
            $crate::__private::sqlx_id::$col: $crate::__private::sqlx_id::Column<$ty, __DB>,
        {
            #[inline]
            fn type_info() -> <__DB as $crate::__private::sqlx::Database>::TypeInfo {
                <$crate::__private::sqlx_id::$col as $crate::__private::sqlx_id::Column<$ty, __DB>>::type_info()
            }

            #[inline]
            fn compatible(ty: &<__DB as $crate::__private::sqlx::Database>::TypeInfo) -> bool {
                <$crate::__private::sqlx_id::$col as $crate::__private::sqlx_id::Column<$ty, __DB>>::compatible(ty)
            }
        }

        #[automatically_derived]
        impl<'__q, __DB> $crate::__private::sqlx::Encode<'__q, __DB> for $ty
        where
            __DB: $crate::__private::sqlx::Database,
            $crate::__private::sqlx_id::$col: $crate::__private::sqlx_id::Column<$ty, __DB>,
        {
            #[inline]
            fn encode_by_ref(
                &self,
                buf: &mut <__DB as $crate::__private::sqlx::Database>::ArgumentBuffer,
            ) -> $crate::__private::Result<
                $crate::__private::sqlx::encode::IsNull,
                $crate::__private::sqlx::error::BoxDynError,
            > {
                <$crate::__private::sqlx_id::$col as $crate::__private::sqlx_id::Column<$ty, __DB>>::encode(self, buf)
            }
        }

        #[automatically_derived]
        impl<'__r, __DB> $crate::__private::sqlx::Decode<'__r, __DB> for $ty
        where
            __DB: $crate::__private::sqlx::Database,
            $crate::__private::sqlx_id::$col: $crate::__private::sqlx_id::Column<$ty, __DB>,
        {
            #[inline]
            fn decode(
                value: <__DB as $crate::__private::sqlx::Database>::ValueRef<'__r>,
            ) -> $crate::__private::Result<Self, $crate::__private::sqlx::error::BoxDynError> {
                <$crate::__private::sqlx_id::$col as $crate::__private::sqlx_id::Column<$ty, __DB>>::decode(value)
            }
        }
    };
    ($ty:ty, text) => {
        $crate::__impl_sqlx!(@impl $ty, Text);
        $crate::__impl_sqlx_pg!($ty, text);
    };
    ($ty:ty, snowflake) => {
        $crate::__impl_sqlx!(@impl $ty, BigInt);
        $crate::__impl_sqlx_pg!($ty, bigint);
    };
}

/// The PostgreSQL part of [`__impl_sqlx!`]: `PgHasArrayType`, so slices and `Vec`s of
/// IDs bind as arrays.
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "sqlx-postgres")]
macro_rules! __impl_sqlx_pg {
    (@impl $ty:ty, $info:ident, $compatible:ident) => {
        #[automatically_derived]
        impl $crate::__private::sqlx::postgres::PgHasArrayType for $ty {
            #[inline]
            fn array_type_info() -> $crate::__private::sqlx::postgres::PgTypeInfo {
                $crate::__private::sqlx_id::pg::$info()
            }

            #[inline]
            fn array_compatible(ty: &$crate::__private::sqlx::postgres::PgTypeInfo) -> bool {
                $crate::__private::sqlx_id::pg::$compatible(ty)
            }
        }
    };
    ($ty:ty, text) => {
        $crate::__impl_sqlx_pg!(@impl $ty, text_array_type_info, text_array_compatible);
    };
    ($ty:ty, bigint) => {
        $crate::__impl_sqlx_pg!(@impl $ty, bigint_array_type_info, bigint_array_compatible);
    };
}
