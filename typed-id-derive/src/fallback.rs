//! The expansion when the body is unknown: a shape error (an enum, named fields, ...), a
//! field whose type names no body, an unknown `kind`. Like thiserror's `fallback`, it
//! emits the errors *and* impls, so the uses of the type do not each fail with "no
//! function `parse`" or "no associated item `PATTERN`".
//!
//! Without a body there is no sound expansion, so this one is the surface every kind
//! shares, with bodies that never run (the crate does not compile): `PREFIX`, `PATTERN`,
//! `parse`, `Display`, `Debug`, `FromStr`, `TryFrom<&str>`, `TryFrom<String>`,
//! `Clone`, `Eq`, `Ord` and `Hash`, and `Copy` where the fields are `Copy` (a bound
//! under a `for<'a>` binder, so a `String` field makes the impl not apply rather than
//! fail). It leaves out what depends on the body: the `TypedId` impl (its `Body`),
//! `body()`, `to_text()`, body conversions, each kind's helpers (`depth`, `as_u64`, ...) and
//! the integrations. Uses of those still fail, as they would have to name a kind the
//! derive was not told; so does moving a value twice when a field is not `Copy`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Error, Type};

pub(crate) fn expand(input: &DeriveInput, error: &Error) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let ty = quote!(#ident #ty_generics);
    let never = quote!(::core::unreachable!(
        "`#[derive(TypedId)]` failed; this crate does not compile"
    ));
    let fields = field_types(&input.data);
    let copy_where = match where_clause {
        Some(clause) => {
            let predicates = clause.predicates.iter();
            quote!(where #(#predicates,)* #(for<'__f> #fields: ::core::marker::Copy,)*)
        }
        None => quote!(where #(for<'__f> #fields: ::core::marker::Copy,)*),
    };
    let mut tokens = error.to_compile_error();
    tokens.extend(quote! {
        #[automatically_derived]
        impl #impl_generics #ty #where_clause {
            pub const PREFIX: &'static str = "";
            pub const PATTERN: &'static str = "";

            pub fn parse(_: &str) -> ::core::result::Result<Self, ::typed_id::ParseIdError> {
                #never
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::fmt::Display for #ty #where_clause {
            fn fmt(&self, _: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #never
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::fmt::Debug for #ty #where_clause {
            fn fmt(&self, _: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #never
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::str::FromStr for #ty #where_clause {
            type Err = ::typed_id::ParseIdError;
            fn from_str(_: &str) -> ::core::result::Result<Self, ::typed_id::ParseIdError> {
                #never
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::convert::TryFrom<&str> for #ty #where_clause {
            type Error = ::typed_id::ParseIdError;
            fn try_from(_: &str) -> ::core::result::Result<Self, ::typed_id::ParseIdError> {
                #never
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::convert::TryFrom<::std::string::String> for #ty #where_clause {
            type Error = ::typed_id::ParseIdError;
            fn try_from(
                _: ::std::string::String,
            ) -> ::core::result::Result<Self, ::typed_id::ParseIdError> {
                #never
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::clone::Clone for #ty #where_clause {
            fn clone(&self) -> Self {
                #never
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::marker::Copy for #ty #copy_where {}

        #[automatically_derived]
        impl #impl_generics ::core::cmp::PartialEq for #ty #where_clause {
            fn eq(&self, _: &Self) -> bool {
                #never
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::cmp::Eq for #ty #where_clause {}

        #[automatically_derived]
        impl #impl_generics ::core::cmp::PartialOrd for #ty #where_clause {
            fn partial_cmp(&self, _: &Self) -> ::core::option::Option<::core::cmp::Ordering> {
                #never
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::cmp::Ord for #ty #where_clause {
            fn cmp(&self, _: &Self) -> ::core::cmp::Ordering {
                #never
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::hash::Hash for #ty #where_clause {
            fn hash<H: ::core::hash::Hasher>(&self, _: &mut H) {
                #never
            }
        }
    });
    tokens
}

/// The types of every field, of every variant.
fn field_types(data: &Data) -> Vec<&Type> {
    match data {
        Data::Struct(data) => data.fields.iter().map(|f| &f.ty).collect(),
        Data::Enum(data) => data
            .variants
            .iter()
            .flat_map(|v| v.fields.iter().map(|f| &f.ty))
            .collect(),
        Data::Union(data) => data.fields.named.iter().map(|f| &f.ty).collect(),
    }
}
