//! `#[derive(TypedId)]` for the `typed-id` crate: use it as `typed_id::TypedId`, whose
//! documentation describes the attribute.
//!
//! The macro is a pipeline: `ast` reads the input's shape, `attr` the
//! `#[typed_id(...)]` attribute, `valid` checks the two against each other, and
//! `expand` writes the tokens. Every step returns `syn::Result` with errors spanned on
//! the token at fault.

mod ast;
mod attr;
mod expand;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives a prefixed ID type from a one-field tuple struct over an ID body.
///
/// See the `typed_id` crate documentation for the `#[typed_id(...)]` attribute.
#[proc_macro_derive(TypedId, attributes(typed_id))]
pub fn derive_typed_id(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
