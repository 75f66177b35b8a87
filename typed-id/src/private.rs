//! What generated code needs and users do not: `#[doc(hidden)] pub mod __private`.
//!
//! Derived types forward to the generic functions here, so the code generated per type
//! stays a handful of one-line bodies. Nothing here is covered by semver.

pub use crate::body::Body;
pub use crate::pattern::Pattern;
pub use crate::typed::max_len;
pub use core::{fmt, hash, primitive::str, result::Result, str::FromStr};
pub use std::borrow::Cow;

// The integrations (`external/`): the crates generated code names, so users need not
// depend on them directly, and the generic functions the `__impl_*!` macros forward to.
#[cfg(feature = "arbitrary")]
pub use crate::external::arbitrary_support as arbitrary_id;
#[cfg(feature = "diesel")]
pub use crate::external::diesel_support as diesel_id;
#[cfg(feature = "proptest")]
pub use crate::external::proptest_support as proptest_id;
#[cfg(feature = "schemars")]
pub use crate::external::schemars_support as schemars_id;
#[cfg(feature = "serde")]
pub use crate::external::serde_support as serde_id;
#[cfg(any(feature = "sqlx-sqlite", feature = "sqlx-postgres"))]
pub use crate::external::sqlx_support as sqlx_id;
#[cfg(feature = "utoipa")]
pub use crate::external::utoipa_support as utoipa_id;
#[cfg(feature = "arbitrary")]
pub use arbitrary;
#[cfg(feature = "diesel")]
pub use diesel;
#[cfg(feature = "proptest")]
pub use proptest;
#[cfg(feature = "schemars")]
pub use schemars;
#[cfg(feature = "serde")]
pub use serde;
#[cfg(any(feature = "sqlx-sqlite", feature = "sqlx-postgres"))]
pub use sqlx;
#[cfg(feature = "utoipa")]
pub use utoipa;

use crate::error::{IdError, ParseIdError};
use crate::typed::{self, TypedId};

/// Parses `input` as a `T`.
#[inline]
pub fn parse<T: TypedId>(input: &str) -> Result<T, ParseIdError> {
    typed::parse(input)
}

/// `Display` of a derived type.
#[inline]
pub fn fmt_display<T: TypedId>(id: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    typed::fmt_display(id, f)
}

/// `Debug` of a derived type: `ElementId("el-a3f8e9")`.
pub fn fmt_debug<T: TypedId>(id: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    typed::fmt_debug(id, f)
}

/// `TryFrom<Body>` of a derived type.
pub fn try_from_body<T: TypedId>(body: T::Body) -> Result<T, IdError> {
    typed::try_from_body(body)
}

/// The `n`th child of a hierarchical ID, within the type's depth limit.
pub fn child<T: TypedId<Body = crate::body::HashId>>(id: &T, n: u32) -> Result<T, IdError> {
    let spec: crate::body::HashSpec = T::SPEC;
    id.body_ref()
        .child_within(n, spec.max_depth)
        .map(T::from_body_unchecked)
}

/// A display ID of type `T` for the number `value`, at the type's width.
pub fn seq<T: TypedId<Body = crate::body::Seq>>(value: u64) -> Result<T, IdError> {
    let spec: crate::body::SeqSpec = T::SPEC;
    crate::body::Seq::with_spec(value, &spec).map(T::from_body_unchecked)
}
