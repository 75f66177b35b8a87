//! The inherent helpers each body kind adds to a derived type: `generate` and the
//! hierarchy for hashes, `new`/`value` for display numbers, the
//! integer accessors for snowflakes. They reach the body through `TypedId::body_ref` and
//! `from_body_unchecked`, never the field, so a wrong `kind` is reported once (see
//! `expand.rs`).

use proc_macro2::TokenStream;
use quote::quote;

use crate::valid::{Checked, Spec};

/// The inherent helpers of the body kind.
pub(crate) fn kind_helpers(checked: &Checked) -> TokenStream {
    match checked.spec {
        Spec::Hash { max_depth, .. } => {
            let generate = hash_helpers();
            let tree = if max_depth > 0 {
                hierarchy_helpers()
            } else {
                TokenStream::new()
            };
            quote! { #generate #tree }
        }
        Spec::Seq { .. } => seq_helpers(),
        Spec::HexKey { .. } => hex_helpers(),
        Spec::Snowflake { .. } => snowflake_helpers(),
        Spec::TypeId => typeid_helpers(),
    }
}

fn typeid_helpers() -> TokenStream {
    quote! {
        /// The UUID.
        #[inline]
        #[must_use]
        pub fn uuid(&self) -> ::typed_id::TypeIdUuid {
            *::typed_id::TypedId::body_ref(self)
        }

        /// The ID of a UUID (any version: the TypeID specification allows them all).
        #[inline]
        #[must_use]
        pub fn from_uuid(uuid: ::typed_id::TypeIdUuid) -> Self {
            <Self as ::typed_id::TypedId>::from_body_unchecked(uuid)
        }

        /// A new ID holding a UUIDv7 (see `TypeIdUuid::now_v7`): time-ordered, and
        /// strictly increasing within this process.
        ///
        /// # Errors
        ///
        /// When the operating system has no randomness to give.
        #[inline]
        pub fn generate() -> ::core::result::Result<Self, ::typed_id::generator::GenerateError> {
            ::typed_id::TypeIdUuid::now_v7().map(<Self as ::typed_id::TypedId>::from_body_unchecked)
        }
    }
}

fn hash_helpers() -> TokenStream {
    quote! {
        /// A new root ID for `input` (SHA-256 of title, author, time and nonce),
        /// as short as the generator's collision bound allows and free
        /// according to `check`.
        ///
        /// # Errors
        ///
        /// When every candidate up to the generator's bound is taken, or
        /// the check fails.
        #[inline]
        pub fn generate<C: ::typed_id::generator::CollisionCheck + ?Sized>(
            generator: &::typed_id::generator::HashIdGenerator,
            input: &::typed_id::generator::HashInput<'_>,
            check: &C,
        ) -> ::core::result::Result<Self, ::typed_id::generator::HashGenerateError<C::Error>> {
            generator.generate(input, check)
        }
    }
}

fn hierarchy_helpers() -> TokenStream {
    quote! {
        /// Number of child segments: 0 for a root.
        #[inline]
        #[must_use]
        pub fn depth(&self) -> u8 {
            ::typed_id::TypedId::body_ref(self).depth()
        }

        /// The parent, `None` for a root.
        #[inline]
        #[must_use]
        pub fn parent(&self) -> ::core::option::Option<Self> {
            ::typed_id::TypedId::body_ref(self)
                .parent()
                .map(<Self as ::typed_id::TypedId>::from_body_unchecked)
        }

        /// The root; a root is its own root.
        #[inline]
        #[must_use]
        pub fn root(&self) -> Self {
            <Self as ::typed_id::TypedId>::from_body_unchecked(
                ::typed_id::TypedId::body_ref(self).root(),
            )
        }

        /// The `n`th child.
        ///
        /// # Errors
        ///
        /// [`IdError::Zero`](::typed_id::IdError::Zero) for `n == 0`,
        /// [`IdError::TooDeep`](::typed_id::IdError::TooDeep) beyond the type's `max_depth`.
        #[inline]
        pub fn child(&self, n: u32) -> ::core::result::Result<Self, ::typed_id::IdError> {
            ::typed_id::__private::child(self, n)
        }

        /// `true` when `self` is a strict ancestor of `other`.
        #[inline]
        #[must_use]
        pub fn is_ancestor_of(&self, other: &Self) -> bool {
            ::typed_id::TypedId::body_ref(self)
                .is_ancestor_of(::typed_id::TypedId::body_ref(other))
        }

        /// The ancestors, nearest first, ending with the root.
        #[inline]
        pub fn ancestors(&self) -> impl ::core::iter::Iterator<Item = Self> + use<> {
            ::typed_id::TypedId::body_ref(self)
                .ancestors()
                .map(<Self as ::typed_id::TypedId>::from_body_unchecked)
        }
    }
}

fn seq_helpers() -> TokenStream {
    quote! {
        /// The display ID for `value`, zero-padded to the type's width.
        ///
        /// # Errors
        ///
        /// [`IdError::Zero`](::typed_id::IdError::Zero) for 0,
        /// [`IdError::Overflow`](::typed_id::IdError::Overflow) above 999 999 999 999 999 999.
        #[inline]
        pub fn new(value: u64) -> ::core::result::Result<Self, ::typed_id::IdError> {
            ::typed_id::__private::seq(value)
        }

        /// The number.
        #[inline]
        #[must_use]
        pub fn value(&self) -> u64 {
            ::typed_id::TypedId::body_ref(self).value()
        }
    }
}

fn hex_helpers() -> TokenStream {
    quote! {
        /// A new random key (SHA-256 of time and 16 random bytes).
        ///
        /// # Errors
        ///
        /// When the operating system's random number generator fails.
        #[inline]
        pub fn generate() -> ::core::result::Result<Self, ::typed_id::GenerateError> {
            ::typed_id::generator::generate_hex_key()
        }
    }
}

fn snowflake_helpers() -> TokenStream {
    quote! {
        /// The value.
        #[inline]
        #[must_use]
        pub fn as_u64(&self) -> u64 {
            ::typed_id::TypedId::body_ref(self).as_u64()
        }

        /// The value as a signed integer (never negative), as stored in a `BIGINT` column.
        #[inline]
        #[must_use]
        pub fn as_i64(&self) -> i64 {
            ::typed_id::TypedId::body_ref(self).as_i64()
        }

        /// The next ID from a snowflake source: a `SnowflakeGenerator`, or the
        /// lease-fenced generator of a registered instance.
        ///
        /// # Errors
        ///
        /// The source's error (a clock step beyond tolerance, a lapsed lease, ...).
        #[inline]
        pub fn generate<S: ::typed_id::generator::SnowflakeSource + ?Sized>(
            source: &S,
        ) -> ::core::result::Result<Self, S::Error> {
            source
                .next_snowflake()
                .map(<Self as ::typed_id::TypedId>::from_body_unchecked)
        }

        /// The ID for a value.
        ///
        /// # Errors
        ///
        /// [`IdError::Overflow`](::typed_id::IdError::Overflow) above `i64::MAX`.
        #[inline]
        pub fn from_u64(value: u64) -> ::core::result::Result<Self, ::typed_id::IdError> {
            ::typed_id::Snowflake::new(value).map(<Self as ::typed_id::TypedId>::from_body_unchecked)
        }
    }
}
