//! The `#[typed_id(...)]` attribute: keys read as written, with their spans, before any
//! check against the body kind (that is `valid.rs`'s job).
//!
//! ```text
//! #[typed_id(
//!     prefix = "el",            // required: canonical prefix, displayed before '-'
//!     accept = ["elem"],        // legacy prefixes still parsed, never displayed
//!     kind = "hash",            // the body, when the field's type does not name it:
//!                               // "hash", "snowflake", "seq" or "hex"
//!     min_len = 4,              // HashId: shortest hash (3..=8, default 3)
//!     max_len = 8,              // HashId: longest hash (min_len..=8, default 8)
//!     max_depth = 3,            // HashId: deepest child path (0..=3, default 3)
//!     width = 3,                // Seq: minimum digits (1..=18, default 3)
//!     encoding = "base62",      // Snowflake: "decimal" (default) or "base62"
//!     serde = "number",         // Snowflake: serialize as "string" (default) or "number"
//!     len = 6,                  // HexKey: number of hex digits (4..=32, default 6)
//! )]
//! ```

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::{Attribute, Error, LitInt, LitStr, Result, Token};

use crate::symbol::{
    ACCEPT, ENCODING, KEYS, KIND, LEN, MAX_DEPTH, MAX_LEN, MIN_LEN, PREFIX, SERDE, Symbol,
    TYPED_ID, WIDTH,
};

/// A value with the span of the key that set it (for duplicate and misplaced-key errors).
pub(crate) struct Keyed<T> {
    pub(crate) key: Span,
    pub(crate) value: T,
}

/// The attribute as written.
#[derive(Default)]
pub(crate) struct Attrs {
    /// Span of the first `#[typed_id]` attribute, if any.
    pub(crate) attr_span: Option<Span>,
    pub(crate) prefix: Option<Keyed<LitStr>>,
    pub(crate) accept: Option<Keyed<Vec<LitStr>>>,
    pub(crate) kind: Option<Keyed<LitStr>>,
    pub(crate) min_len: Option<Keyed<LitInt>>,
    pub(crate) max_len: Option<Keyed<LitInt>>,
    pub(crate) max_depth: Option<Keyed<LitInt>>,
    pub(crate) width: Option<Keyed<LitInt>>,
    pub(crate) encoding: Option<Keyed<LitStr>>,
    pub(crate) serde: Option<Keyed<LitStr>>,
    pub(crate) len: Option<Keyed<LitInt>>,
    /// Keys suggested for unknown keys (`prefx` → `prefix`): the user meant to set them,
    /// so their absence is not reported a second time.
    pub(crate) misspelled: Vec<Symbol>,
}

impl Attrs {
    /// Reads every `#[typed_id(...)]` attribute. Problems go to `errors`, so they are
    /// reported together with the checks that follow.
    pub(crate) fn from_attrs(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut out = Attrs::default();
        for attr in attrs.iter().filter(|a| *a.path() == TYPED_ID) {
            out.attr_span.get_or_insert_with(|| {
                use syn::spanned::Spanned;
                attr.path().span()
            });
            let result = attr.parse_nested_meta(|meta| {
                if let Err(e) = out.read_key(&meta) {
                    errors.push(e);
                }
                Ok(())
            });
            if let Err(e) = result {
                errors.push(e);
            }
        }
        out
    }

    fn read_key(&mut self, meta: &ParseNestedMeta<'_>) -> Result<()> {
        let Some(ident) = meta.path.get_ident() else {
            return Err(meta.error(format!("expected a key like `{PREFIX} = \"...\"`")));
        };
        let span = ident.span();
        if *ident == PREFIX {
            set(&mut self.prefix, span, PREFIX, meta.value()?.parse()?)
        } else if *ident == ACCEPT {
            set(&mut self.accept, span, ACCEPT, parse_str_list(meta)?)
        } else if *ident == KIND {
            set(&mut self.kind, span, KIND, meta.value()?.parse()?)
        } else if *ident == MIN_LEN {
            set(&mut self.min_len, span, MIN_LEN, meta.value()?.parse()?)
        } else if *ident == MAX_LEN {
            set(&mut self.max_len, span, MAX_LEN, meta.value()?.parse()?)
        } else if *ident == MAX_DEPTH {
            set(&mut self.max_depth, span, MAX_DEPTH, meta.value()?.parse()?)
        } else if *ident == WIDTH {
            set(&mut self.width, span, WIDTH, meta.value()?.parse()?)
        } else if *ident == ENCODING {
            set(&mut self.encoding, span, ENCODING, meta.value()?.parse()?)
        } else if *ident == SERDE {
            set(&mut self.serde, span, SERDE, meta.value()?.parse()?)
        } else if *ident == LEN {
            set(&mut self.len, span, LEN, meta.value()?.parse()?)
        } else {
            // Consume a value, if any, so the error stays on the key.
            if meta.input.peek(Token![=]) {
                let value = meta.value()?;
                while !value.is_empty() && !value.peek(Token![,]) {
                    let _: proc_macro2::TokenTree = value.parse()?;
                }
            }
            let key = ident.to_string();
            let names: Vec<&str> = KEYS.iter().map(|k| k.as_str()).collect();
            let mut message = format!("unknown key `{key}` in `#[{TYPED_ID}(...)]`");
            match closest(&key, &names) {
                Some(suggestion) => {
                    message.push_str(&format!("; did you mean `{suggestion}`?"));
                    self.misspelled
                        .extend(KEYS.iter().filter(|k| k.as_str() == suggestion));
                }
                None => message.push_str(&format!("; expected one of {}", list(&names))),
            }
            Err(Error::new(span, message))
        }
    }
}

fn set<T>(slot: &mut Option<Keyed<T>>, key: Span, name: Symbol, value: T) -> Result<()> {
    if slot.is_some() {
        return Err(Error::new(
            key,
            format!("duplicate key `{name}` in `#[{TYPED_ID}(...)]`"),
        ));
    }
    *slot = Some(Keyed { key, value });
    Ok(())
}

/// `accept = "old"` or `accept = ["old", "older"]`.
fn parse_str_list(meta: &ParseNestedMeta<'_>) -> Result<Vec<LitStr>> {
    let value = meta.value()?;
    if value.peek(LitStr) {
        return Ok(vec![value.parse()?]);
    }
    let content;
    syn::bracketed!(content in value);
    let list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
    Ok(list.into_iter().collect())
}

/// Errors collected so that every problem is reported in one compile.
#[derive(Default)]
pub(crate) struct Errors(Option<Error>);

impl Errors {
    pub(crate) fn push(&mut self, e: Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    pub(crate) fn finish(self) -> Result<()> {
        match self.0 {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// `` `a`, `b` or `c` ``.
pub(crate) fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|k| format!("`{k}`")).collect();
    join_or(&quoted)
}

/// `a, b or c`.
pub(crate) fn join_or(items: &[String]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// The known key closest to `key`, if it is close enough to be a likely typo.
pub(crate) fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over bytes (keys are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use proc_macro2::{Ident, Span};
    use quote::quote;
    use syn::parse_quote;

    use super::*;

    fn read(attr: &Attribute) -> (Attrs, Result<()>) {
        let mut errors = Errors::default();
        let attrs = Attrs::from_attrs(std::slice::from_ref(attr), &mut errors);
        (attrs, errors.finish())
    }

    /// Every key offered in suggestions is one the parser reads.
    #[test]
    fn every_listed_key_is_read() {
        for key in KEYS {
            let value = if *key == ACCEPT {
                quote!(["old"])
            } else if [PREFIX, KIND, ENCODING, SERDE].contains(key) {
                quote!("x")
            } else {
                quote!(3)
            };
            let ident = Ident::new(key.as_str(), Span::call_site());
            let attr: Attribute = parse_quote!(#[typed_id(#ident = #value)]);
            let (_, result) = read(&attr);
            assert!(result.is_ok(), "`{key}` is listed but not read");
        }
    }

    #[test]
    fn a_typo_is_suggested_and_remembered() {
        let attr: Attribute = parse_quote!(#[typed_id(knid = "hash", prefx = "el")]);
        let (attrs, result) = read(&attr);
        let message = result.unwrap_err().into_iter().next().unwrap().to_string();
        assert_eq!(
            message,
            "unknown key `knid` in `#[typed_id(...)]`; did you mean `kind`?"
        );
        assert!(attrs.misspelled == [KIND, PREFIX]);
    }
}
