//! The `#[typed_id(...)]` attribute: keys read as written, with their spans, before any
//! check against the body kind (that is `valid.rs`'s job).
//!
//! ```text
//! #[typed_id(
//!     prefix = "el",            // required: canonical prefix, displayed before '-'
//!     accept = ["elem"],        // legacy prefixes still parsed, never displayed
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

/// Every key the attribute accepts, for "did you mean" suggestions.
pub(crate) const KEYS: &[&str] = &[
    "prefix",
    "accept",
    "min_len",
    "max_len",
    "max_depth",
    "width",
    "encoding",
    "serde",
    "len",
];

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
    pub(crate) min_len: Option<Keyed<LitInt>>,
    pub(crate) max_len: Option<Keyed<LitInt>>,
    pub(crate) max_depth: Option<Keyed<LitInt>>,
    pub(crate) width: Option<Keyed<LitInt>>,
    pub(crate) encoding: Option<Keyed<LitStr>>,
    pub(crate) serde: Option<Keyed<LitStr>>,
    pub(crate) len: Option<Keyed<LitInt>>,
}

impl Attrs {
    /// Reads every `#[typed_id(...)]` attribute. Problems go to `errors`, so they are
    /// reported together with the checks that follow.
    pub(crate) fn from_attrs(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut out = Attrs::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("typed_id")) {
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
            return Err(meta.error("expected a key like `prefix = \"...\"`"));
        };
        let key = ident.to_string();
        let span = ident.span();
        match key.as_str() {
            "prefix" => set(&mut self.prefix, span, &key, meta.value()?.parse()?),
            "accept" => set(&mut self.accept, span, &key, parse_str_list(meta)?),
            "min_len" => set(&mut self.min_len, span, &key, meta.value()?.parse()?),
            "max_len" => set(&mut self.max_len, span, &key, meta.value()?.parse()?),
            "max_depth" => set(&mut self.max_depth, span, &key, meta.value()?.parse()?),
            "width" => set(&mut self.width, span, &key, meta.value()?.parse()?),
            "encoding" => set(&mut self.encoding, span, &key, meta.value()?.parse()?),
            "serde" => set(&mut self.serde, span, &key, meta.value()?.parse()?),
            "len" => set(&mut self.len, span, &key, meta.value()?.parse()?),
            _ => {
                // Consume a value, if any, so the error stays on the key.
                if meta.input.peek(Token![=]) {
                    let value = meta.value()?;
                    while !value.is_empty() && !value.peek(Token![,]) {
                        let _: proc_macro2::TokenTree = value.parse()?;
                    }
                }
                let mut message = format!("unknown key `{key}` in `#[typed_id(...)]`");
                match closest(&key, KEYS) {
                    Some(suggestion) => {
                        message.push_str(&format!("; did you mean `{suggestion}`?"))
                    }
                    None => message.push_str(&format!("; expected one of {}", list(KEYS))),
                }
                Err(Error::new(span, message))
            }
        }
    }
}

fn set<T>(slot: &mut Option<Keyed<T>>, key: Span, name: &str, value: T) -> Result<()> {
    if slot.is_some() {
        return Err(Error::new(
            key,
            format!("duplicate key `{name}` in `#[typed_id(...)]`"),
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

/// `` `a`, `b` and `c` ``.
pub(crate) fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
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
