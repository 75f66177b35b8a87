//! arbitrary (feature `arbitrary`, arbitrary 1): `arbitrary::Arbitrary` for derived
//! types, so fuzz targets (cargo-fuzz, libFuzzer) of code that takes IDs get valid IDs
//! from the fuzzer's bytes.
//!
//! Every input gives a valid ID (the empty input gives the smallest: the shortest hash
//! of `0`s, the number 1, the snowflake 0, the nil UUID), and the values cover the
//! type's whole grammar under its canonical prefix, as the `proptest` strategies do:
//! every hash length and depth, child numbers and display numbers of every digit count,
//! snowflakes and UUIDs of every bit length. Legacy prefixes are never produced. Each
//! choice reads only the bytes its range needs (one for a base36 character), so a
//! fuzzer's mutations map closely onto the ID's parts.
//!
//! To fuzz a parser itself, give it the raw bytes as text instead: this produces valid
//! IDs only.
//!
//! ```
//! # #[cfg(feature = "arbitrary")]
//! # fn main() -> arbitrary::Result<()> {
//! use arbitrary::{Arbitrary, Unstructured};
//! use typed_id::{TypeIdUuid, TypedId};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "user")]
//! struct UserId(TypeIdUuid);
//!
//! let mut u = Unstructured::new(b"bytes from a fuzzer");
//! let id = UserId::arbitrary(&mut u)?;
//! assert_eq!(UserId::parse(&id.to_string()), Ok(id));
//!
//! let smallest = UserId::arbitrary(&mut Unstructured::new(&[]))?;
//! assert_eq!(smallest.to_string(), "user_00000000000000000000000000");
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "arbitrary"))]
//! # fn main() {}
//! ```

use arbitrary::Unstructured;

use super::strategy::{CHOICES, Draw, GenBody, generate_or_bug};
use crate::typed::TypedId;

/// Choices read from the fuzzer's bytes with `int_in_range`, which takes only the
/// bytes the range needs and gives the smallest value once they run out.
struct Bytes<'u, 'a>(&'u mut Unstructured<'a>);

impl Draw for Bytes<'_, '_> {
    fn pick(&mut self, lo: u64, hi: u64) -> u64 {
        // `int_in_range` fails only for an empty range, which `Draw` never asks for.
        self.0.int_in_range(lo..=hi).unwrap_or(lo)
    }
}

/// `Arbitrary::arbitrary` of a derived type.
///
/// # Errors
/// None: every input, the empty one included, gives an ID.
pub fn arbitrary<T>(u: &mut Unstructured<'_>) -> arbitrary::Result<T>
where
    T: TypedId,
    T::Body: GenBody,
{
    Ok(generate_or_bug(&mut Bytes(u)))
}

/// `Arbitrary::size_hint` of a derived type: nothing needed, at most 8 bytes a choice.
#[must_use]
pub const fn size_hint(_depth: usize) -> (usize, Option<usize>) {
    (0, Some(8 * CHOICES))
}

/// `arbitrary::Arbitrary` for a derived type: `__impl_arbitrary!(Type)`.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_arbitrary {
    ($ty:ty) => {
        #[automatically_derived]
        impl<'a> $crate::__private::arbitrary::Arbitrary<'a> for $ty {
            #[inline]
            fn arbitrary(
                u: &mut $crate::__private::arbitrary::Unstructured<'a>,
            ) -> $crate::__private::arbitrary::Result<Self> {
                $crate::__private::arbitrary_id::arbitrary::<$ty>(u)
            }

            #[inline]
            fn size_hint(depth: usize) -> (usize, ::core::option::Option<usize>) {
                $crate::__private::arbitrary_id::size_hint(depth)
            }
        }
    };
}
