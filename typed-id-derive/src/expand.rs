//! Writes the tokens, one function per concern: the `TypedId` impl, the value traits
//! (`Copy`, `Eq`, `Ord`, `Hash`), the text traits (`Display`, `Debug`, `FromStr`,
//! `TryFrom`), body conversions, the inherent API every kind shares, the helpers of each
//! body kind (in `helpers.rs`), and the calls to the runtime crate's integration macros. Everything
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
use crate::helpers::kind_helpers;
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
        Verdict::Valid(checked) => expand(&ast, &checked),
        // Defaults stand in for the faulty values.
        Verdict::Recovered(checked, error) => {
            let mut tokens = error.into_compile_error();
            tokens.extend(expand(&ast, &checked));
            tokens
        }
        Verdict::Unknown(error) => fallback::expand(input, &error),
    }
}

/// The whole expansion.
fn expand(input: &Input<'_>, checked: &Checked) -> TokenStream {
    let ident = input.ident;
    let body = body_tokens(checked.kind, checked.kind_span);
    let typed_id = typed_id_impl(ident, &body, checked);
    let value = value_impls(ident);
    let text = text_impls(ident);
    let conversions = body_conversions(ident, &body);
    let inherent_common = inherent_common(ident, &body, checked);
    let kind_helpers = kind_helpers(checked);
    let integrations = integrations(ident, checked);
    quote! {
        #typed_id
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
                const PATTERN: ::typed_id::Pattern = match ::typed_id::Pattern::prefixed_with(
                    #prefix,
                    &[#(#accept),*],
                    <#body as ::typed_id::Body>::SEPARATOR,
                    &#spec.pattern(),
                ) {
                    ::core::result::Result::Ok(typed_id_pattern) => typed_id_pattern,
                    ::core::result::Result::Err(_) => ::core::panic!(
                        "the pattern of this type is too long for a `typed_id::Pattern`; \
                         list fewer or shorter legacy prefixes in `accept`"
                    ),
                };
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

/// `Clone`, `Copy`, `Eq`, `Ord`, `Hash`: those of the body (the prefix is the type's
/// constant, so two values differ only in their bodies).
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
    let doc_prefix = format!(
        "The canonical prefix, `{prefix}`, displayed before the `{}`.",
        separator(&checked.spec)
    );
    let doc_pattern = "The anchored regular expression the parser agrees with, byte for byte \
                       (usable in a SQL `CHECK` constraint or an OpenAPI schema).";
    let doc_pcre_pattern = "`PATTERN` made exact for engines whose `$` also matches before a \
                            final line break (Python's `re`, PCRE, Perl, Java, .NET); see \
                            [`TypedId::PCRE_PATTERN`](::typed_id::TypedId::PCRE_PATTERN).";
    let doc_parse = format!(
        "Parses canonical `{name}` text such as `{}`.\n\n# Errors\n\nA [`ParseIdError`](::typed_id::ParseIdError) naming `{name}`, the byte at fault and what was expected.",
        example(prefix, &checked.spec)
    );
    let doc_text = format!(
        "The whole text, `{}`, in a stack buffer that derefs to `str`: no allocation \
         (the value keeps only its body; the prefix is the type's constant).",
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

        #[doc = #doc_text]
        #[inline]
        #[must_use]
        pub fn to_text(&self) -> ::typed_id::IdText {
            ::typed_id::TypedId::to_text(self)
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
        BodyKind::TypeId => quote! { ::typed_id::__impl_diesel!(#ident, typeid); },
        _ => quote! { ::typed_id::__impl_diesel!(#ident, text); },
    };
    let sqlx = match checked.kind {
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
        #serde
        #diesel
        #sqlx
        #schemas
        ::typed_id::__impl_proptest!(#ident);
        ::typed_id::__impl_arbitrary!(#ident);
    }
}

fn spec_tokens(spec: &Spec) -> (TokenStream, TokenStream) {
    // The constructors check their arguments and return a `Result`. The expression is
    // only ever evaluated in `const` items, so a spec they refuse (which `valid.rs`
    // reports first anyway) can only be a compile-time error.
    let checked = |new: TokenStream| {
        quote! {
            match #new {
                ::core::result::Result::Ok(typed_id_spec) => typed_id_spec,
                ::core::result::Result::Err(_) => ::core::panic!("invalid `typed_id` options"),
            }
        }
    };
    match *spec {
        Spec::Hash {
            min_len,
            max_len,
            max_depth,
        } => (
            quote!(::typed_id::HashSpec),
            checked(quote!(::typed_id::HashSpec::new(#min_len, #max_len, #max_depth))),
        ),
        Spec::Seq { width } => (
            quote!(::typed_id::SeqSpec),
            checked(quote!(::typed_id::SeqSpec::new(#width))),
        ),
        Spec::HexKey { len } => (
            quote!(::typed_id::HexSpec),
            checked(quote!(::typed_id::HexSpec::new(#len))),
        ),
        Spec::TypeId => (
            quote!(::typed_id::TypeIdSpec),
            quote!(::typed_id::TypeIdSpec::DEFAULT),
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
        Spec::TypeId => "01h455vb4pex5vsknk084sn02q".to_owned(),
    };
    format!("{prefix}{}{body}", separator(spec))
}

/// What separates the prefix from the body (the body's `Body::SEPARATOR`).
fn separator(spec: &Spec) -> char {
    match spec {
        Spec::TypeId => '_',
        _ => '-',
    }
}
