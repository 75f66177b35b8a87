//! Writes the tokens. Everything non-trivial forwards to generic functions in
//! `::typed_id::__private`, so each derived type adds a few one-line bodies.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{DeriveInput, Result};

use crate::ast::{BodyKind, Input};
use crate::attr::{Attrs, Errors};
use crate::valid::{self, Checked, Spec};

pub(crate) fn derive(input: &DeriveInput) -> Result<TokenStream> {
    let ast = Input::from_syn(input)?;
    let mut errors = Errors::default();
    let attrs = Attrs::from_attrs(&input.attrs, &mut errors);
    let checked = valid::check(&ast, &attrs, errors)?;
    Ok(expand(&ast, &checked))
}

fn expand(input: &Input<'_>, checked: &Checked) -> TokenStream {
    let ident = input.ident;
    let body = input.body_ty;
    let name = ident.to_string();
    let prefix = &checked.prefix;
    let accept = &checked.accept;
    let (spec_ty, spec) = spec_tokens(&checked.spec);
    let kind_name = input.kind.type_name();

    // Text bodies keep the whole ID inline, so the prefix must fit beside the longest body.
    let fits = quote_spanned! {checked.prefix_span=>
        const _: () = ::core::assert!(
            #prefix.len() <= #spec.max_prefix_len(),
            ::core::concat!(
                "prefix \"", #prefix, "\" does not fit a ", #kind_name,
                " body with these options (the whole ID is kept inline); shorten the prefix,",
                " or lower `max_depth` or `max_len`"
            ),
        );
    };
    let common = quote! {
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
                #ident(body)
            }
            #[inline]
            fn body_ref(&self) -> &#body {
                &self.0
            }
        }

        #fits

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
                self.0 == other.0
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
                ::core::cmp::Ord::cmp(&self.0, &other.0)
            }
        }

        #[automatically_derived]
        impl ::core::hash::Hash for #ident {
            #[inline]
            fn hash<H: ::core::hash::Hasher>(&self, state: &mut H) {
                ::core::hash::Hash::hash(&self.0, state);
            }
        }

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
    };

    let doc_prefix = format!("The canonical prefix, `{prefix}`, displayed before the `-`.");
    let doc_pattern = "The anchored regular expression the parser agrees with, byte for byte \
                       (usable in a SQL `CHECK` constraint or an OpenAPI schema).";
    let doc_pcre_pattern = "`PATTERN` made exact for engines whose `$` also matches before a \
                            final line break (Python's `re`, PCRE, Perl, Java, .NET); see \
                            [`TypedId::PCRE_PATTERN`](::typed_id::TypedId::PCRE_PATTERN).";
    let doc_parse = format!(
        "Parses canonical `{name}` text such as `{}`.\n\n# Errors\n\nA [`ParseIdError`](::typed_id::ParseIdError) naming `{name}`, the byte at fault and what was expected.",
        example(prefix, &checked.spec)
    );
    let doc_body = format!("The `{kind_name}` body, without the prefix.");
    let inherent_common = quote! {
        #[doc = #doc_prefix]
        pub const PREFIX: &'static str = #prefix;
        #[doc = #doc_pattern]
        pub const PATTERN: &'static str = <Self as ::typed_id::TypedId>::PATTERN;
        #[doc = #doc_pcre_pattern]
        pub const PCRE_PATTERN: &'static str = <Self as ::typed_id::TypedId>::PCRE_PATTERN;

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
    };

    let inherent_kind = match (&checked.spec, input.kind) {
        (_, BodyKind::Hash | BodyKind::Seq | BodyKind::HexKey) => {
            let text = quote! {
                /// The whole ID as text, prefix included; borrowed from the value, no allocation.
                #[inline]
                #[must_use]
                pub fn as_str(&self) -> &str {
                    ::typed_id::__private::FullText::full_text(&self.0)
                }
            };
            let extra = match &checked.spec {
                Spec::Hash { max_depth, .. } => {
                    let generate = quote! {
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
                    };
                    let tree = if *max_depth > 0 {
                        hierarchy(ident)
                    } else {
                        quote! {}
                    };
                    quote! { #generate #tree }
                }
                Spec::HexKey { .. } => quote! {
                    /// A new random key (SHA-256 of time and 16 random bytes).
                    ///
                    /// # Errors
                    ///
                    /// When the operating system's random number generator fails.
                    #[inline]
                    pub fn generate() -> ::core::result::Result<Self, ::typed_id::GenerateError> {
                        ::typed_id::generator::generate_hex_key()
                    }
                },
                Spec::Seq { .. } => quote! {
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
                        self.0.value()
                    }
                },
                _ => quote! {},
            };
            quote! { #text #extra }
        }
        (_, BodyKind::Snowflake) => quote! {
            /// The value.
            #[inline]
            #[must_use]
            pub fn as_u64(&self) -> u64 {
                self.0.as_u64()
            }

            /// The value as a signed integer (never negative), as stored in a `BIGINT` column.
            #[inline]
            #[must_use]
            pub fn as_i64(&self) -> i64 {
                self.0.as_i64()
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
                source.next_snowflake().map(#ident)
            }

            /// The ID for a value.
            ///
            /// # Errors
            ///
            /// [`IdError::Overflow`](::typed_id::IdError::Overflow) above `i64::MAX`.
            #[inline]
            pub fn from_u64(value: u64) -> ::core::result::Result<Self, ::typed_id::IdError> {
                ::typed_id::Snowflake::new(value).map(#ident)
            }
        },
    };

    let serde = if checked.serde_number {
        quote! { ::typed_id::__impl_serde!(#ident, number); }
    } else {
        quote! { ::typed_id::__impl_serde!(#ident); }
    };
    let diesel = match input.kind {
        BodyKind::Snowflake => quote! { ::typed_id::__impl_diesel!(#ident, snowflake); },
        _ => quote! { ::typed_id::__impl_diesel!(#ident, text); },
    };
    let sqlx = match input.kind {
        BodyKind::Snowflake => quote! { ::typed_id::__impl_sqlx!(#ident, snowflake); },
        _ => quote! { ::typed_id::__impl_sqlx!(#ident, text); },
    };
    // JSON Schema and OpenAPI describe what serde writes: a string, or a number.
    let schemas = if checked.serde_number {
        quote! {
            ::typed_id::__impl_schemars!(#ident, number);
            ::typed_id::__impl_utoipa!(#ident, number);
        }
    } else {
        quote! {
            ::typed_id::__impl_schemars!(#ident);
            ::typed_id::__impl_utoipa!(#ident);
        }
    };

    quote! {
        #common

        #[automatically_derived]
        impl #ident {
            #inherent_common
            #inherent_kind
        }

        #serde
        #diesel
        #sqlx
        #schemas
    }
}

fn hierarchy(ident: &syn::Ident) -> TokenStream {
    quote! {
        /// Number of child segments: 0 for a root.
        #[inline]
        #[must_use]
        pub fn depth(&self) -> u8 {
            self.0.depth()
        }

        /// The parent, `None` for a root.
        #[inline]
        #[must_use]
        pub fn parent(&self) -> ::core::option::Option<Self> {
            self.0.parent().map(#ident)
        }

        /// The root; a root is its own root.
        #[inline]
        #[must_use]
        pub fn root(&self) -> Self {
            #ident(self.0.root())
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
            self.0.is_ancestor_of(&other.0)
        }

        /// The ancestors, nearest first, ending with the root.
        #[inline]
        pub fn ancestors(&self) -> impl ::core::iter::Iterator<Item = Self> + use<> {
            self.0.ancestors().map(#ident)
        }
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
