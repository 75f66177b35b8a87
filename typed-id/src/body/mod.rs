//! ID bodies: the part of an ID after its prefix, one file per kind.
//!
//! Every body is a small `Copy` value with no heap allocation. Text bodies keep their
//! canonical text inline, so `as_str()` costs nothing. A derived type's prefix is not
//! stored: it is the type's constant, written beside the body when the ID is displayed
//! ([`TypedId::to_text`](crate::typed::TypedId::to_text) gives the whole text as a stack
//! `&str`). So any prefix fits any body options, and a value's size is its body's.

/// The traits every body has in the same form: the seal and `FromStr` through its
/// `parse`, and
/// for text bodies (`text`) `AsRef<str>`, `Display` and `Debug` (`HashId("a3f8")`) from
/// `as_str()`, plus `Borrow<str>` where `Eq`, `Ord` and `Hash` look at that same text
/// (`borrow`; not for `Seq`, which orders by number).
macro_rules! body_traits {
    ($ty:ident) => {
        impl super::sealed::Sealed for $ty {}

        impl core::str::FromStr for $ty {
            type Err = $crate::error::ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::parse(s)
            }
        }
    };
    ($ty:ident, text) => {
        body_traits!($ty);

        impl AsRef<str> for $ty {
            #[inline]
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl core::fmt::Debug for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_tuple(stringify!($ty))
                    .field(&self.as_str())
                    .finish()
            }
        }
    };
    ($ty:ident, text, borrow) => {
        body_traits!($ty, text);

        /// Agrees with `Eq`, `Ord` and `Hash`, which all look at this text.
        impl core::borrow::Borrow<str> for $ty {
            #[inline]
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }
    };
}

mod hash;
mod key;
mod seq;
mod snowflake;
mod typeid;

pub use hash::{Ancestors, HashId, HashSpec};
pub use key::{HexKey, HexSpec, InstanceKey};
pub use seq::{Seq, SeqSpec};
pub use snowflake::{Snowflake, SnowflakeEncoding, SnowflakeSpec};
pub use typeid::{DynTypeId, TypeIdSpec, TypeIdUuid};

use core::fmt;
use core::hash::Hash;

use crate::error::{ParseErrorKind, ParseIdError};
use crate::id_text::IdText;
use crate::text::InlineText;

mod sealed {
    pub trait Sealed {}
}

/// The body of an ID: [`HashId`], [`Snowflake`], [`Seq`], [`HexKey`] or [`TypeIdUuid`].
///
/// This trait is sealed; its hidden methods are what `#[derive(TypedId)]` forwards to.
pub trait Body:
    Copy + Eq + Ord + Hash + fmt::Debug + Send + Sync + 'static + sealed::Sealed
{
    /// The options a type can set for this body (lengths, depth, width, encoding).
    type Spec: Copy + fmt::Debug + Send + Sync + 'static;

    /// The options used when the body is parsed on its own.
    const DEFAULT_SPEC: Self::Spec;

    /// Name used in error messages when the body is parsed on its own.
    const NAME: &'static str;

    /// The byte between a derived type's prefix and the body: `-` for every body but
    /// [`TypeIdUuid`], whose specification uses `_`.
    const SEPARATOR: u8 = b'-';

    /// Longest canonical body text under `spec`, in bytes.
    fn max_len(spec: &Self::Spec) -> usize;

    /// Parses canonical body text. Errors carry a byte index relative to `body`.
    #[doc(hidden)]
    fn parse_body(body: &str, spec: &Self::Spec) -> Result<Self, (usize, ParseErrorKind)>;

    /// Appends the body's canonical text under `spec` to `out` (which holds a derived
    /// type's prefix and separator).
    #[doc(hidden)]
    fn write_body(&self, spec: &Self::Spec, out: &mut IdText);

    /// The same body checked against (and, for display numbers, rendered at) `spec`,
    /// for a derived type whose options may be narrower than the body's own.
    #[doc(hidden)]
    fn adopt(self, spec: &Self::Spec) -> Result<Self, ParseErrorKind>;
}

/// Parses a bare body: length guard, then the body grammar.
#[inline]
pub(crate) fn parse_bare<B: Body>(input: &str, spec: &B::Spec) -> Result<B, ParseIdError> {
    if input.is_empty() {
        return Err(ParseIdError::new(B::NAME, input, 0, ParseErrorKind::Empty));
    }
    let max = B::max_len(spec);
    if input.len() > max {
        return Err(ParseIdError::new(
            B::NAME,
            input,
            0,
            ParseErrorKind::TooLong {
                len: input.len(),
                max,
            },
        ));
    }
    B::parse_body(input, spec)
        .map_err(|(index, kind)| ParseIdError::new(B::NAME, input, index, kind))
}

/// Stores canonical body text inline.
#[inline(always)]
pub(crate) fn store<const CAP: usize>(
    body: &[u8],
) -> Result<InlineText<CAP>, (usize, ParseErrorKind)> {
    InlineText::new(body).ok_or((
        0,
        ParseErrorKind::TooLong {
            len: body.len(),
            max: CAP,
        },
    ))
}

/// Checks that `body` is canonical text of `B` under `spec` (used when adopting a body
/// into a type whose options may be narrower than the body's own).
pub(crate) fn recheck<B: Body>(text: &str, spec: &B::Spec) -> Result<B, ParseErrorKind> {
    if text.len() > B::max_len(spec) {
        return Err(ParseErrorKind::TooLong {
            len: text.len(),
            max: B::max_len(spec),
        });
    }
    B::parse_body(text, spec).map_err(|(_, kind)| kind)
}

/// Reads the ASCII decimal digits at the start of `bytes`: `(count, value)`, where the
/// value saturates at `u64::MAX` once more digits than fit have been read.
#[inline]
pub(crate) fn scan_decimal(bytes: &[u8]) -> (usize, u64) {
    let mut value: u64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !b.is_ascii_digit() {
            break;
        }
        value = value.saturating_mul(10).saturating_add(u64::from(b - b'0'));
        i += 1;
    }
    (i, value)
}
