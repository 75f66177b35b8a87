//! diesel: derived IDs as `Text` columns on SQLite and PostgreSQL, snowflakes also as
//! `BigInt`, usable as fields of `#[derive(Queryable, Selectable, Insertable)]` structs
//! and in filters (`.filter(elements::id.eq(id))`), nullable columns included.
//!
//! Reading validates: a row that holds something other than a valid ID of the column's
//! type (text that does not parse, a negative `BIGINT`, a string in a SQLite integer
//! column) is a deserialization error that names the type, never a bogus ID.
//!
//! The generated code never names anything from `diesel::internal`: an ID's
//! `AsExpression` borrows the expression type of something that already has one — `i64`
//! for a snowflake as `BigInt`, and [`TextBind`] (a wrapper defined here with diesel's
//! own derive) for an ID as `Text`; a reference binds a copy (IDs are small `Copy`
//! values, and the text is composed from the prefix and the body when bound).

use diesel::expression::AsExpression;
use diesel::sql_types::Text;

use crate::body::Snowflake;
use crate::typed::TypedId;

/// An owned ID bound as a `Text` parameter: the expression behind `AsExpression<Text>`
/// for derived types taken by value.
#[derive(Debug, Clone, Copy, AsExpression)]
#[diesel(sql_type = Text)]
pub struct TextBind<T>(pub T);

/// An owned ID as a [`TextBind`].
#[inline]
pub fn text_bind<T: TypedId>(id: &T) -> TextBind<T> {
    TextBind(*id)
}

/// A snowflake ID as the signed value stored in a `BIGINT` column (never negative).
#[inline]
pub fn to_i64<T: TypedId<Body = Snowflake>>(id: &T) -> i64 {
    id.body_ref().as_i64()
}

/// What the SQLite impls of derived types forward to.
#[cfg(feature = "sqlite")]
pub mod sqlite {
    use diesel::serialize::{self, IsNull, Output, ToSql};
    use diesel::sql_types::Text;
    use diesel::sqlite::{Sqlite, SqliteType, SqliteValue};

    use super::TextBind;
    use crate::body::Snowflake;
    use crate::external::stored::{self as check, InvalidDbValue, Problem};
    use crate::typed::TypedId;

    impl<T> ToSql<Text, Sqlite> for TextBind<T>
    where
        T: TypedId,
    {
        #[inline]
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            text_to_sql(&self.0, out)
        }
    }

    /// `ToSql<Text, Sqlite>`: text IDs bind a borrowed `&str`.
    #[inline]
    pub fn text_to_sql<'b, T>(id: &'b T, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result
    where
        T: TypedId,
    {
        // SQLite keeps bound text until the statement runs; text composed from the
        // prefix and the body has nowhere to live but an owned string.
        out.set_value(id.to_text().as_str().to_owned());
        Ok(IsNull::No)
    }

    /// `FromSql<Text, Sqlite>`: parses the stored text.
    #[inline]
    pub fn text_from_sql<T: TypedId>(
        mut value: SqliteValue<'_, '_, '_>,
    ) -> diesel::deserialize::Result<T> {
        check::parse(value.read_text())
    }

    /// `ToSql<BigInt, Sqlite>` of a snowflake ID.
    #[inline]
    pub fn bigint_to_sql<T: TypedId<Body = Snowflake>>(
        id: &T,
        out: &mut Output<'_, '_, Sqlite>,
    ) -> serialize::Result {
        out.set_value(super::to_i64(id));
        Ok(IsNull::No)
    }

    /// `FromSql<BigInt, Sqlite>` of a snowflake ID: the stored value must be a
    /// non-negative integer (SQLite would silently read text such as `'abc'` as 0).
    #[inline]
    pub fn bigint_from_sql<T: TypedId<Body = Snowflake>>(
        mut value: SqliteValue<'_, '_, '_>,
    ) -> diesel::deserialize::Result<T> {
        match value.value_type() {
            Some(SqliteType::Long | SqliteType::Integer | SqliteType::SmallInt) => {}
            Some(SqliteType::Text) => return Err(not_integer::<T>("text")),
            Some(SqliteType::Binary) => return Err(not_integer::<T>("a blob")),
            Some(SqliteType::Float | SqliteType::Double) => return Err(not_integer::<T>("a real")),
            None => return Err(not_integer::<T>("NULL")),
        }
        check::from_i64(value.read_long())
    }

    #[cold]
    fn not_integer<T: TypedId>(found: &'static str) -> Box<dyn std::error::Error + Send + Sync> {
        InvalidDbValue::boxed::<T>(Problem::NotInteger(found))
    }
}

/// What the PostgreSQL impls of derived types forward to.
#[cfg(feature = "postgres")]
pub mod pg {
    use std::io::Write as _;

    use diesel::deserialize::FromSql;
    use diesel::pg::{Pg, PgValue};
    use diesel::serialize::{self, IsNull, Output, ToSql};
    use diesel::sql_types::{BigInt, Text};

    use super::TextBind;
    use crate::body::Snowflake;
    use crate::external::stored::{self as check, InvalidDbValue, Problem};
    use crate::typed::TypedId;

    impl<T> ToSql<Text, Pg> for TextBind<T>
    where
        T: TypedId,
    {
        #[inline]
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            text_to_sql(&self.0, out)
        }
    }

    /// `ToSql<Text, Pg>`: writes the text, borrowed for text IDs and rendered
    /// straight into the buffer for snowflakes.
    #[inline]
    pub fn text_to_sql<T>(id: &T, out: &mut Output<'_, '_, Pg>) -> serialize::Result
    where
        T: TypedId,
    {
        out.write_all(id.to_text().as_bytes())
            .map(|()| IsNull::No)
            .map_err(|e| Box::new(e) as _)
    }

    /// `FromSql<Text, Pg>`: parses the stored text.
    #[inline]
    pub fn text_from_sql<T: TypedId>(value: PgValue<'_>) -> diesel::deserialize::Result<T> {
        match core::str::from_utf8(value.as_bytes()) {
            Ok(text) => check::parse(text),
            Err(_) => Err(InvalidDbValue::boxed::<T>(Problem::NotUtf8)),
        }
    }

    /// `ToSql<BigInt, Pg>` of a snowflake ID.
    #[inline]
    pub fn bigint_to_sql<T: TypedId<Body = Snowflake>>(
        id: &T,
        out: &mut Output<'_, '_, Pg>,
    ) -> serialize::Result {
        let value = super::to_i64(id);
        <i64 as ToSql<BigInt, Pg>>::to_sql(&value, &mut out.reborrow())
    }

    /// `FromSql<BigInt, Pg>` of a snowflake ID: rejects negative values.
    #[inline]
    pub fn bigint_from_sql<T: TypedId<Body = Snowflake>>(
        value: PgValue<'_>,
    ) -> diesel::deserialize::Result<T> {
        check::from_i64(<i64 as FromSql<BigInt, Pg>>::from_sql(value)?)
    }
}

/// diesel support for a derived type: `__impl_diesel!(Type, text)` for `HashId`, `Seq`
/// and `HexKey` bodies (a `Text` column), `__impl_diesel!(Type, snowflake)` for
/// `Snowflake` bodies (a `Text` or a `BigInt` column).
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_diesel {
    // `Queryable` for any single-value SQL type the ID has `FromSql` for (what diesel's
    // `#[derive(FromSqlRow)]` generates); `Option<Type>` follows from diesel's impls.
    (@queryable $ty:ty) => {
        #[automatically_derived]
        impl<__ST, __DB> $crate::__private::diesel::deserialize::Queryable<__ST, __DB> for $ty
        where
            __DB: $crate::__private::diesel::backend::Backend,
            __ST: $crate::__private::diesel::sql_types::SingleValue,
            Self: $crate::__private::diesel::deserialize::FromSql<__ST, __DB>,
        {
            type Row = Self;

            #[inline]
            fn build(row: Self) -> $crate::__private::diesel::deserialize::Result<Self> {
                $crate::__private::Result::Ok(row)
            }
        }
    };
    // `ToSql<Nullable<ST>>` from `ToSql<ST>`, on every backend.
    (@nullable $ty:ty, $st:ty) => {
        #[automatically_derived]
        impl<__DB> $crate::__private::diesel::serialize::ToSql<
            $crate::__private::diesel::sql_types::Nullable<$st>,
            __DB,
        > for $ty
        where
            __DB: $crate::__private::diesel::backend::Backend,
            Self: $crate::__private::diesel::serialize::ToSql<$st, __DB>,
        {
            #[inline]
            fn to_sql<'__b>(
                &'__b self,
                out: &mut $crate::__private::diesel::serialize::Output<'__b, '_, __DB>,
            ) -> $crate::__private::diesel::serialize::Result {
                <Self as $crate::__private::diesel::serialize::ToSql<$st, __DB>>::to_sql(self, out)
            }
        }
    };
    // `AsExpression<ST>` of `Type` by value, through `$via` (an expression type that
    // already exists), converting with `$conv`.
    (@owned $ty:ty, $st:ty, $via:ty, $conv:path) => {
        #[automatically_derived]
        impl $crate::__private::diesel::expression::AsExpression<$st> for $ty {
            type Expression =
                <$via as $crate::__private::diesel::expression::AsExpression<$st>>::Expression;

            #[inline]
            fn as_expression(self) -> Self::Expression {
                <$via as $crate::__private::diesel::expression::AsExpression<$st>>::as_expression(
                    $conv(&self),
                )
            }
        }
    };
    // `AsExpression<ST>` of `&Type` and `&&Type`: a copy (IDs are small `Copy` values).
    (@refs $ty:ty, $st:ty) => {
        #[automatically_derived]
        impl<'__a> $crate::__private::diesel::expression::AsExpression<$st> for &'__a $ty {
            type Expression =
                <$ty as $crate::__private::diesel::expression::AsExpression<$st>>::Expression;

            #[inline]
            fn as_expression(self) -> Self::Expression {
                <$ty as $crate::__private::diesel::expression::AsExpression<$st>>::as_expression(*self)
            }
        }

        #[automatically_derived]
        impl<'__a, '__b> $crate::__private::diesel::expression::AsExpression<$st>
            for &'__a &'__b $ty
        {
            type Expression =
                <$ty as $crate::__private::diesel::expression::AsExpression<$st>>::Expression;

            #[inline]
            fn as_expression(self) -> Self::Expression {
                <$ty as $crate::__private::diesel::expression::AsExpression<$st>>::as_expression(**self)
            }
        }
    };
    // Everything for one SQL type and its `Nullable`.
    (@sql_type $ty:ty, $st:ty, $via:ty, $conv:path) => {
        $crate::__impl_diesel!(@owned $ty, $st, $via, $conv);
        $crate::__impl_diesel!(
            @owned $ty, $crate::__private::diesel::sql_types::Nullable<$st>, $via, $conv
        );
        $crate::__impl_diesel!(@refs $ty, $st);
        $crate::__impl_diesel!(@refs $ty, $crate::__private::diesel::sql_types::Nullable<$st>);
        $crate::__impl_diesel!(@nullable $ty, $st);
    };
    // Text IDs (and TypeIDs, whose text is rendered from the UUID).
    ($ty:ty, text) => {
        $crate::__impl_diesel!(@queryable $ty);
        $crate::__impl_diesel!(
            @sql_type $ty,
            $crate::__private::diesel::sql_types::Text,
            $crate::__private::diesel_id::TextBind<$ty>,
            $crate::__private::diesel_id::text_bind
        );
        $crate::__impl_diesel_sqlite!($ty, text);
        $crate::__impl_diesel_pg!($ty, text);
    };
    ($ty:ty, typeid) => {
        $crate::__impl_diesel!($ty, text);
    };
    ($ty:ty, snowflake) => {
        $crate::__impl_diesel!(@queryable $ty);
        $crate::__impl_diesel!(
            @sql_type $ty,
            $crate::__private::diesel::sql_types::Text,
            $crate::__private::diesel_id::TextBind<$ty>,
            $crate::__private::diesel_id::text_bind
        );
        $crate::__impl_diesel!(
            @sql_type $ty,
            $crate::__private::diesel::sql_types::BigInt,
            i64,
            $crate::__private::diesel_id::to_i64
        );
        $crate::__impl_diesel_sqlite!($ty, snowflake);
        $crate::__impl_diesel_pg!($ty, snowflake);
    };
}

/// `ToSql`/`FromSql` of a derived type on one backend for one SQL type:
/// `(Type, SqlType, Backend, to_sql fn, from_sql fn)`.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_diesel_backend {
    ($ty:ty, $st:ty, $db:ty, $to:path, $from:path) => {
        #[automatically_derived]
        impl $crate::__private::diesel::serialize::ToSql<$st, $db> for $ty {
            #[inline]
            fn to_sql<'__b>(
                &'__b self,
                out: &mut $crate::__private::diesel::serialize::Output<'__b, '_, $db>,
            ) -> $crate::__private::diesel::serialize::Result {
                $to(self, out)
            }
        }

        #[automatically_derived]
        impl $crate::__private::diesel::deserialize::FromSql<$st, $db> for $ty {
            #[inline]
            fn from_sql(
                value: <$db as $crate::__private::diesel::backend::Backend>::RawValue<'_>,
            ) -> $crate::__private::diesel::deserialize::Result<Self> {
                $from(value)
            }
        }
    };
}

/// The SQLite part of [`__impl_diesel!`].
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "sqlite")]
macro_rules! __impl_diesel_sqlite {
    ($ty:ty, text) => {
        $crate::__impl_diesel_backend!(
            $ty,
            $crate::__private::diesel::sql_types::Text,
            $crate::__private::diesel::sqlite::Sqlite,
            $crate::__private::diesel_id::sqlite::text_to_sql,
            $crate::__private::diesel_id::sqlite::text_from_sql
        );
    };
    ($ty:ty, snowflake) => {
        $crate::__impl_diesel_sqlite!($ty, text);
        $crate::__impl_diesel_backend!(
            $ty,
            $crate::__private::diesel::sql_types::BigInt,
            $crate::__private::diesel::sqlite::Sqlite,
            $crate::__private::diesel_id::sqlite::bigint_to_sql,
            $crate::__private::diesel_id::sqlite::bigint_from_sql
        );
    };
}

/// The PostgreSQL part of [`__impl_diesel!`].
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "postgres")]
macro_rules! __impl_diesel_pg {
    ($ty:ty, text) => {
        $crate::__impl_diesel_backend!(
            $ty,
            $crate::__private::diesel::sql_types::Text,
            $crate::__private::diesel::pg::Pg,
            $crate::__private::diesel_id::pg::text_to_sql,
            $crate::__private::diesel_id::pg::text_from_sql
        );
    };
    ($ty:ty, snowflake) => {
        $crate::__impl_diesel_pg!($ty, text);
        $crate::__impl_diesel_backend!(
            $ty,
            $crate::__private::diesel::sql_types::BigInt,
            $crate::__private::diesel::pg::Pg,
            $crate::__private::diesel_id::pg::bigint_to_sql,
            $crate::__private::diesel_id::pg::bigint_from_sql
        );
    };
}
