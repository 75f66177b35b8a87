//! `#[derive(TypedId)]` for the `typed-id` crate: use it as `typed_id::TypedId`, whose
//! documentation describes the attribute.
//!
//! The macro is a pipeline: `ast` reads the input's shape, `attr` the
//! `#[typed_id(...)]` attribute, `valid` checks the two against each other, and
//! `expand` writes the tokens. Every step reports errors spanned on the token at fault,
//! and the names of the attribute live in `symbol`. When the attribute has errors, the
//! derive still expands (with defaults, or `fallback`'s kind-independent surface when
//! the body is unknown), so one mistake is one error, not one at every use of the type.

mod ast;
mod attr;
mod expand;
mod fallback;
mod helpers;
mod symbol;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives a prefixed ID type from a one-field tuple struct over an ID body.
///
/// See the `typed_id` crate documentation for the `#[typed_id(...)]` attribute.
#[proc_macro_derive(TypedId, attributes(typed_id))]
pub fn derive_typed_id(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
