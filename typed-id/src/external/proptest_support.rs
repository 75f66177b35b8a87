//! proptest (feature `proptest`, proptest 1): `proptest::arbitrary::Arbitrary` for
//! derived types, so `any::<ElementId>()` yields valid IDs for property tests of code
//! that takes IDs.
//!
//! The values cover the type's whole grammar under its canonical prefix: every hash
//! length from `min_len` to `max_len`, every depth up to `max_depth` with child numbers
//! of every digit count up to `4294967295`, display numbers of 1 to 18 digits (so both
//! padded and wider than the width), snowflakes and UUIDs of every bit length up to the
//! largest. Legacy prefixes are never produced: an ID always displays its canonical
//! prefix, so that is what code receives.
//!
//! The strategy draws a fixed array of `u64` choices and builds the ID from them (see
//! `external/strategy.rs`); proptest shrinks each choice toward 0, which shrinks a
//! failing ID toward the shortest hash of `0`s without children, the number 1, the
//! snowflake 0 and the nil UUID.
//!
//! ```
//! # #[cfg(feature = "proptest")]
//! # fn main() {
//! use proptest::prelude::*;
//! use typed_id::{HashId, TypedId};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "el", max_depth = 2)]
//! struct ElementId(HashId);
//!
//! proptest!(|(id in any::<ElementId>())| {
//!     prop_assert!(id.depth() <= 2);
//!     prop_assert_eq!(ElementId::parse(&id.to_text()), Ok(id));
//! });
//! # }
//! # #[cfg(not(feature = "proptest"))]
//! # fn main() {}
//! ```

use proptest::array::{UniformArrayStrategy, uniform32};
use proptest::num::u64::Any;
use proptest::strategy::{Map, Strategy};

use super::strategy::{CHOICES, Draw, GenBody, generate_or_bug};
use crate::typed::TypedId;

/// The strategy of a derived type `T`: `any::<T>()`.
pub type IdStrategy<T> = Map<UniformArrayStrategy<Any, [u64; CHOICES]>, fn([u64; CHOICES]) -> T>;

/// Choices taken in order from the array proptest drew, each scaled into its range so
/// that a smaller choice is never a larger value (proptest's shrinking stays
/// meaningful), the smallest once the array is used up.
struct Choices<'a>(&'a [u64]);

impl Draw for Choices<'_> {
    fn pick(&mut self, lo: u64, hi: u64) -> u64 {
        let Some((&x, rest)) = self.0.split_first() else {
            return lo;
        };
        self.0 = rest;
        let span = u128::from(hi - lo) + 1;
        lo + ((u128::from(x) * span) >> 64) as u64
    }
}

fn from_choices<T>(choices: [u64; CHOICES]) -> T
where
    T: TypedId,
    T::Body: GenBody,
{
    generate_or_bug(&mut Choices(&choices))
}

/// `any::<T>()` of a derived type `T`.
pub fn strategy<T>() -> IdStrategy<T>
where
    T: TypedId,
    T::Body: GenBody,
{
    uniform32(proptest::num::u64::ANY).prop_map(from_choices::<T> as fn([u64; CHOICES]) -> T)
}

/// `proptest::arbitrary::Arbitrary` for a derived type: `__impl_proptest!(Type)`.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_proptest {
    ($ty:ty) => {
        #[automatically_derived]
        impl $crate::__private::proptest::arbitrary::Arbitrary for $ty {
            type Parameters = ();
            type Strategy = $crate::__private::proptest_id::IdStrategy<$ty>;

            #[inline]
            fn arbitrary_with((): ()) -> Self::Strategy {
                $crate::__private::proptest_id::strategy::<$ty>()
            }
        }
    };
}
