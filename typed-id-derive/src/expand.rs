//! Writes the tokens, one function per concern: the `TypedId` impl, the value traits
//! (`Copy`, `Eq`, `Ord`, `Hash`), the text traits (`Display`, `Debug`, `FromStr`,
//! `TryFrom`), body conversions, the inherent API every kind shares, the helpers of each
//! body kind, and the calls to the runtime crate's integration macros. Everything
//! non-trivial forwards to generic functions in `::typed_id::__private`, so each derived
//! type adds a few one-line bodies.
//!
//! The generated code names the body by its canonical path (`::typed_id::HashId`) and
//! touches the field in two places only, `from_body_unchecked` and `body_ref`; a field
//! whose type is not the body its `kind` names fails there, on the `kind` value, instead
//! of at every helper.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{DeriveInput, Ident};

use crate::ast::{BodyKind, Input};
use crate::attr::{Attrs, Errors};
use crate::fallback;
use crate::valid::{self, Checked, Spec, Verdict};

/// The derive: the expansion, or the errors and an expansion that spares the uses of the
/// type, so one mistake in the attribute is one error, not one at every use (as
/// thiserror's `fallback` does).
pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    let ast = match Input::from_syn(input) {
        Ok(ast) => ast,
        Err(error) => return fallback::expand(input, &error),
    };
    let mut errors = Errors::default();
    let attrs = Attrs::from_attrs(&input.attrs, &mut errors);
    match valid::check(&ast, &attrs, errors) {
        Verdict::Valid(checked) => expand(&ast, &checked, true),
        // Defaults stand in for the faulty values; the prefix-length check is left out,
        // as it would judge a prefix against options the user did not write.
        Verdict::Recovered(checked, error) => {
            let mut tokens = error.into_compile_error();
            tokens.extend(expand(&ast, &checked, false));
            tokens
        }
        Verdict::Unknown(error) => fallback::expand(input, &error),
    }
}

/// The whole expansion; `check_fit` adds the compile-time check that the prefix fits
/// the body's inline text.
fn expand(input: &Input<'_>, checked: &Checked, check_fit: bool) -> TokenStream {
    let ident = input.ident;
    let body = body_tokens(checked.kind, checked.kind_span);
    let fits = if check_fit {
        prefix_fits(checked)
    } else {
        TokenStream::new()
    };
    let typed_id = typed_id_impl(ident, &body, checked);
    let value = value_impls(ident);
    let text = text_impls(ident);
    let conversions = body_conversions(ident, &body);
    let inherent_common = inherent_common(ident, &body, checked);
    let kind_helpers = kind_helpers(checked);
    let integrations = integrations(ident, checked);
    quote! {
        #typed_id
        #fits
        #value
        #text
        #conversions

        #[automatically_derived]
        impl #ident {
            #inherent_common
            #kind_helpers
        }

        #integrations
    }
}

/// The body type by its canonical path, spanned where the body was named.
fn body_tokens(kind: BodyKind, span: Span) -> TokenStream {
    let name = Ident::new(kind.type_name(), span);
    quote_spanned!(span=> ::typed_id::#name)
}

/// The `TypedId` impl: constants, and the only two places that touch the field.
fn typed_id_impl(ident: &Ident, body: &TokenStream, checked: &Checked) -> TokenStream {
    let name = ident.to_string();
    let prefix = &checked.prefix;
    let accept = &checked.accept;
    let (spec_ty, spec) = spec_tokens(&checked.spec);
    let wrap = quote_spanned!(checked.kind_span=> #ident(body));
    let field = quote_spanned!(checked.kind_span=> &self.0);
    quote! {
        #[automatically_derived]
        impl ::typed_id::TypedId for #ident {
            type Body = #body;
            const NAME: &'static str = #name;
            const PREFIX: &'static str = #prefix;
            const ACCEPT: &'static [&'static str] = &[#(#accept),*];
            const SPEC: #spec_ty = #spec;
            const PATTERN: &'static str = {
                const PATTERN: ::typed_id::Pattern =
                    ::typed_id::Pattern::prefixed(#prefix, &[#(#accept),*], &#spec.pattern());
                PATTERN.as_str()
            };
            const MAX_LEN: usize =
                ::typed_id::__private::max_len(#prefix, &[#(#accept),*], #spec.max_text_len());
            #[inline]
            fn from_body_unchecked(body: #body) -> Self {
                #wrap
            }
            #[inline]
            fn body_ref(&self) -> &#body {
                #field
            }
        }
    }
}

/// Text bodies keep the whole ID inline, so the prefix must fit beside the longest body.
fn prefix_fits(checked: &Checked) -> TokenStream {
    let prefix = &checked.prefix;
    let kind_name = checked.kind.type_name();
    let (_, spec) = spec_tokens(&checked.spec);
    quote_spanned! {checked.prefix_span=>
        const _: () = ::core::assert!(
            #prefix.len() <= #spec.max_prefix_len(),
            ::core::concat!(
                "prefix \"", #prefix, "\" does not fit a ", #kind_name,
                " body with these options (the whole ID is kept inline); shorten the prefix,",
                " or lower `max_depth` or `max_len`"
            ),
        );
    }
}

/// `Clone`, `Copy`, `Eq`, `Ord`, `Hash`: those of the body.
fn value_impls(ident: &Ident) -> TokenStream {
    quote! {
        #[automatically_derived]
        impl ::core::clone::Clone for #ident {
            #[inline]
            fn clone(&self) -> Self {
                *self
            }
        }

        #[automatically_derived]
        impl ::core::marker::Copy for #ident {}

        #[automatically_derived]
        impl ::core::cmp::PartialEq for #ident {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                ::typed_id::TypedId::body_ref(self) == ::typed_id::TypedId::body_ref(other)
            }
        }

        #[automatically_derived]
        impl ::core::cmp::Eq for #ident {}

        #[automatically_derived]
        impl ::core::cmp::PartialOrd for #ident {
            #[inline]
            fn partial_cmp(&self, other: &Self) -> ::core::option::Option<::core::cmp::Ordering> {
                ::core::option::Option::Some(::core::cmp::Ord::cmp(self, other))
            }
        }

        #[automatically_derived]
        impl ::core::cmp::Ord for #ident {
            #[inline]
            fn cmp(&self, other: &Self) -> ::core::cmp::Ordering {
                ::core::cmp::Ord::cmp(
                    ::typed_id::TypedId::body_ref(self),
                    ::typed_id::TypedId::body_ref(other),
                )
            }
        }

        #[automatically_derived]
        impl ::core::hash::Hash for #ident {
            #[inline]
            fn hash<H: ::core::hash::Hasher>(&self, state: &mut H) {
                ::core::hash::Hash::hash(::typed_id::TypedId::body_ref(self), state);
            }
        }
    }
}

/// `Display`, `Debug`, `FromStr`, `TryFrom<&str>`, `TryFrom<String>`.
fn text_impls(ident: &Ident) -> TokenStream {
    quote! {
        #[automatically_derived]
        impl ::core::fmt::Display for #ident {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::typed_id::__private::fmt_display(self, f)
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::typed_id::__private::fmt_debug(self, f)
            }
        }

        #[automatically_derived]
        impl ::core::str::FromStr for #ident {
            type Err = ::typed_id::ParseIdError;
            #[inline]
            fn from_str(s: &str) -> ::core::result::Result<Self, ::typed_id::ParseIdError> {
                ::typed_id::__private::parse(s)
            }
        }

        #[automatically_derived]
        impl ::core::convert::TryFrom<&str> for #ident {
            type Error = ::typed_id::ParseIdError;
            #[inline]
            fn try_from(s: &str) -> ::core::result::Result<Self, ::typed_id::ParseIdError> {
                ::typed_id::__private::parse(s)
            }
        }

        #[automatically_derived]
        impl ::core::convert::TryFrom<::std::string::String> for #ident {
            type Error = ::typed_id::ParseIdError;
            #[inline]
            fn try_from(s: ::std::string::String) -> ::core::result::Result<Self, ::typed_id::ParseIdError> {
                ::typed_id::__private::parse(&s)
            }
        }
    }
}

/// `From<Id> for Body` and the checked `TryFrom<Body> for Id`.
fn body_conversions(ident: &Ident, body: &TokenStream) -> TokenStream {
    quote! {
        #[automatically_derived]
        impl ::core::convert::From<#ident> for #body {
            #[inline]
            fn from(id: #ident) -> #body {
                ::typed_id::TypedId::to_body(&id)
            }
        }

        #[automatically_derived]
        impl ::core::convert::TryFrom<#body> for #ident {
            type Error = ::typed_id::IdError;
            #[inline]
            fn try_from(body: #body) -> ::core::result::Result<Self, ::typed_id::IdError> {
                ::typed_id::__private::try_from_body(body)
            }
        }
    }
}

/// `PREFIX`, `PATTERN`, `parse` and `body`, with docs naming the type.
fn inherent_common(ident: &Ident, body: &TokenStream, checked: &Checked) -> TokenStream {
    let name = ident.to_string();
    let prefix = &checked.prefix;
    let doc_prefix = format!("The canonical prefix, `{prefix}`, displayed before the `-`.");
    let doc_pattern = "The anchored regular expression the parser agrees with, byte for byte \
                       (usable in a SQL `CHECK` constraint or an OpenAPI schema).";
    let doc_parse = format!(
        "Parses canonical `{name}` text such as `{}`.\n\n# Errors\n\nA [`ParseIdError`](::typed_id::ParseIdError) naming `{name}`, the byte at fault and what was expected.",
        example(prefix, &checked.spec)
    );
    let doc_body = format!(
        "The `{}` body, without the prefix.",
        checked.kind.type_name()
    );
    quote! {
        #[doc = #doc_prefix]
        pub const PREFIX: &'static str = #prefix;
        #[doc = #doc_pattern]
        pub const PATTERN: &'static str = <Self as ::typed_id::TypedId>::PATTERN;

        #[doc = #doc_parse]
        #[inline]
        pub fn parse(s: &str) -> ::core::result::Result<Self, ::typed_id::ParseIdError> {
            ::typed_id::__private::parse(s)
        }

        #[doc = #doc_body]
        #[inline]
        #[must_use]
        pub fn body(&self) -> #body {
            ::typed_id::TypedId::to_body(self)
        }
    }
}

/// The inherent helpers of the body kind.
fn kind_helpers(checked: &Checked) -> TokenStream {
    match checked.spec {
        Spec::Hash { max_depth, .. } => {
            let text = text_helpers();
            let generate = hash_helpers();
            let tree = if max_depth > 0 {
                hierarchy_helpers()
            } else {
                TokenStream::new()
            };
            quote! { #text #generate #tree }
        }
        Spec::Seq { .. } => {
            let text = text_helpers();
            let seq = seq_helpers();
            quote! { #text #seq }
        }
        Spec::HexKey { .. } => {
            let text = text_helpers();
            let hex = hex_helpers();
            quote! { #text #hex }
        }
        Spec::Snowflake { .. } => snowflake_helpers(),
    }
}

/// `as_str` of the bodies that keep the whole text inline.
fn text_helpers() -> TokenStream {
    quote! {
        /// The whole ID as text, prefix included; borrowed from the value, no allocation.
        #[inline]
        #[must_use]
        pub fn as_str(&self) -> &str {
            ::typed_id::__private::FullText::full_text(::typed_id::TypedId::body_ref(self))
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

/// The integrations, through the runtime crate's macro twins: real under the feature,
/// empty without it (this crate cannot see the runtime crate's features).
fn integrations(ident: &Ident, checked: &Checked) -> TokenStream {
    let serde = if checked.serde_number {
        quote! { ::typed_id::__impl_serde!(#ident, number); }
    } else {
        quote! { ::typed_id::__impl_serde!(#ident); }
    };
    let diesel = match checked.kind {
        BodyKind::Snowflake => quote! { ::typed_id::__impl_diesel!(#ident, snowflake); },
        _ => quote! { ::typed_id::__impl_diesel!(#ident, text); },
    };
    quote! {
        #serde
        #diesel
    }
}

fn spec_tokens(spec: &Spec) -> (TokenStream, TokenStream) {
    match *spec {
        Spec::Hash {
            min_len,
            max_len,
            max_depth,
        } => (
            quote!(::typed_id::HashSpec),
            quote!(::typed_id::HashSpec::new(#min_len, #max_len, #max_depth)),
        ),
        Spec::Seq { width } => (
            quote!(::typed_id::SeqSpec),
            quote!(::typed_id::SeqSpec::new(#width)),
        ),
        Spec::HexKey { len } => (
            quote!(::typed_id::HexSpec),
            quote!(::typed_id::HexSpec::new(#len)),
        ),
        Spec::Snowflake { base62 } => {
            let spec = if base62 {
                quote!(BASE62)
            } else {
                quote!(DECIMAL)
            };
            (
                quote!(::typed_id::SnowflakeSpec),
                quote!(::typed_id::SnowflakeSpec::#spec),
            )
        }
    }
}

/// An example ID for the docs of `parse`.
fn example(prefix: &str, spec: &Spec) -> String {
    let body = match *spec {
        Spec::Hash {
            min_len, max_depth, ..
        } => {
            let hash = &"a3f8e9k2"[..usize::from(min_len.max(6))];
            if max_depth > 0 {
                format!("{hash}.1")
            } else {
                hash.to_owned()
            }
        }
        Spec::Seq { width } => format!("{:0width$}", 42, width = usize::from(width)),
        Spec::HexKey { len } => "8f4a2b0c9d1e7f3a8f4a2b0c9d1e7f3a"[..usize::from(len)].to_owned(),
        Spec::Snowflake { base62: true } => "1BvP7xZ5J1t".to_owned(),
        Spec::Snowflake { base62: false } => "1767053847123456789".to_owned(),
    };
    format!("{prefix}-{body}")
}
