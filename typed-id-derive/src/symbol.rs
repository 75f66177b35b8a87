//! The attribute's names, defined once: the parser matches keys against them, the "did
//! you mean" suggestions draw from them, and the validator names them in its messages,
//! so a key cannot be renamed in one place and forgotten in another.

use std::fmt;

use syn::{Ident, Path};

/// One name of the `#[typed_id(...)]` attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Symbol(&'static str);

/// The attribute itself.
pub(crate) const TYPED_ID: Symbol = Symbol("typed_id");

pub(crate) const PREFIX: Symbol = Symbol("prefix");
pub(crate) const ACCEPT: Symbol = Symbol("accept");
pub(crate) const KIND: Symbol = Symbol("kind");
pub(crate) const MIN_LEN: Symbol = Symbol("min_len");
pub(crate) const MAX_LEN: Symbol = Symbol("max_len");
pub(crate) const MAX_DEPTH: Symbol = Symbol("max_depth");
pub(crate) const WIDTH: Symbol = Symbol("width");
pub(crate) const ENCODING: Symbol = Symbol("encoding");
pub(crate) const SERDE: Symbol = Symbol("serde");
pub(crate) const LEN: Symbol = Symbol("len");

/// Every key the attribute accepts, in the order the documentation lists them.
pub(crate) const KEYS: &[Symbol] = &[
    PREFIX, ACCEPT, KIND, MIN_LEN, MAX_LEN, MAX_DEPTH, WIDTH, ENCODING, SERDE, LEN,
];

impl Symbol {
    pub(crate) fn as_str(self) -> &'static str {
        self.0
    }
}

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
