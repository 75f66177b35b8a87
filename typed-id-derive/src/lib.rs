//! `#[derive(TypedId)]` for the `typed-id` crate. Use it through `typed_id::TypedId`.

use proc_macro::TokenStream;

/// Derives a prefixed ID type; see the `typed_id` crate docs.
#[proc_macro_derive(TypedId, attributes(typed_id))]
pub fn derive_typed_id(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
