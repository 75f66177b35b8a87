//! Values read back from a database, checked before they become IDs: what the diesel
//! and sqlx integrations share, so a corrupted row reads the same through either.
//!
//! A stored value that is not a valid ID of the column's type is an error that names
//! the type — the parser's [`ParseIdError`](crate::ParseIdError) for text, with the bad
//! text and the byte at fault, or an [`InvalidDbValue`] for what the parser does not
//! see (a negative `BIGINT`, a value of the wrong storage class) — never a bogus ID.

use core::fmt;

use crate::body::Snowflake;
use crate::typed::{self, TypedId};

/// The error type both database crates use for a failed conversion.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A snowflake ID from a `BIGINT` value, rejecting negative values.
pub(crate) fn from_i64<T: TypedId<Body = Snowflake>>(value: i64) -> Result<T, BoxError> {
    Snowflake::from_i64(value)
        .ok()
        .and_then(|body| typed::try_from_body(body).ok())
        .ok_or_else(|| InvalidDbValue::boxed::<T>(Problem::Negative(value)))
}

/// Parses stored text as a `T`; the error is the [`ParseIdError`](crate::ParseIdError),
/// which names the type, the text and the byte at fault.
pub(crate) fn parse<T: TypedId>(text: &str) -> Result<T, BoxError> {
    typed::parse::<T>(text).map_err(|e| Box::new(e) as _)
}

/// A stored value that is not a valid ID of the column's type, for reasons the parser
/// does not cover.
#[derive(Debug)]
pub(crate) struct InvalidDbValue {
    type_name: &'static str,
    problem: Problem,
}

#[derive(Debug)]
pub(crate) enum Problem {
    /// A negative `BIGINT`: snowflakes are `0..=i64::MAX`.
    Negative(i64),
    /// Text bytes that are not UTF-8.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    NotUtf8,
    /// A value of another storage class where an integer was expected (diesel's SQLite).
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    NotInteger(&'static str),
    /// A value of an SQL type that is neither an integer nor text (sqlx), by its name.
    #[cfg_attr(
        not(any(feature = "sqlx-sqlite", feature = "sqlx-postgres")),
        allow(dead_code)
    )]
    NotIntegerOrText(String),
    /// `NULL` read into a field that is not an `Option` (sqlx).
    #[cfg_attr(
        not(any(feature = "sqlx-sqlite", feature = "sqlx-postgres")),
        allow(dead_code)
    )]
    Null,
}

impl InvalidDbValue {
    #[cold]
    pub(crate) fn boxed<T: TypedId>(problem: Problem) -> BoxError {
        Box::new(InvalidDbValue {
            type_name: T::NAME,
            problem,
        })
    }
}

impl fmt::Display for InvalidDbValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} in the database: ", self.type_name)?;
        match &self.problem {
            Problem::Negative(v) => write!(f, "BIGINT value {v} is negative"),
            Problem::NotUtf8 => f.write_str("text is not valid UTF-8"),
            Problem::NotInteger(found) => write!(f, "expected an integer, found {found}"),
            Problem::NotIntegerOrText(found) => {
                write!(f, "expected a BIGINT or text, found {found}")
            }
            Problem::Null => write!(
                f,
                "NULL in a field of type {0}; read a nullable column as Option<{0}>",
                self.type_name
            ),
        }
    }
}

impl std::error::Error for InvalidDbValue {}
