//! Checks the attribute against the body kind and the grammar's limits, producing the
//! resolved options. Every error points at the literal or key at fault; all problems are
//! reported together.

use proc_macro2::Span;
use syn::{Error, LitInt, LitStr, Result};

use crate::ast::{BodyKind, Input};
use crate::attr::{Attrs, Errors, Keyed, list};

/// Longest prefix accepted by the attribute (the body's capacity may allow less; that is
/// checked at compile time by the generated code).
const PREFIX_MAX: usize = 32;

/// Resolved options of one derived type.
pub(crate) struct Checked {
    pub(crate) prefix: String,
    /// Where the prefix was written, for errors found after expansion.
    pub(crate) prefix_span: Span,
    pub(crate) accept: Vec<String>,
    pub(crate) spec: Spec,
    /// Serialize snowflakes as numbers rather than strings.
    pub(crate) serde_number: bool,
}

/// Body options, defaults filled in.
pub(crate) enum Spec {
    Hash {
        min_len: u8,
        max_len: u8,
        max_depth: u8,
    },
    Snowflake {
        base62: bool,
    },
    Seq {
        width: u8,
    },
    HexKey {
        len: u8,
    },
}

pub(crate) fn check(input: &Input<'_>, attrs: &Attrs, mut errors: Errors) -> Result<Checked> {
    let prefix_span = attrs
        .prefix
        .as_ref()
        .map_or_else(|| input.ident.span(), |p| p.value.span());
    let prefix = match &attrs.prefix {
        Some(p) => {
            if let Err(e) = check_prefix(&p.value) {
                errors.push(e);
            }
            p.value.value()
        }
        None => {
            let span = attrs.attr_span.unwrap_or_else(|| input.ident.span());
            errors.push(Error::new(
                span,
                format!(
                    "missing `prefix`: add `#[typed_id(prefix = \"...\")]` to `{}`",
                    input.ident
                ),
            ));
            String::new()
        }
    };

    let mut accept = Vec::new();
    if let Some(list) = &attrs.accept {
        for lit in &list.value {
            let value = lit.value();
            if let Err(e) = check_prefix(lit) {
                errors.push(e);
            } else if value == prefix {
                errors.push(Error::new(
                    lit.span(),
                    "legacy prefix repeats the canonical `prefix`",
                ));
            } else if accept.contains(&value) {
                errors.push(Error::new(lit.span(), "legacy prefix listed twice"));
            }
            accept.push(value);
        }
    }

    let kind = input.kind;
    let misplaced = |key: &Option<Keyed<_>>, name: &str, owner: &[BodyKind]| -> Option<Error> {
        let key = key.as_ref()?;
        if owner.contains(&kind) {
            return None;
        }
        let owners: Vec<&str> = owner.iter().map(|k| k.type_name()).collect();
        Some(Error::new(
            key.key,
            format!(
                "`{name}` does not apply to a `{}` body; it is an option of {}",
                kind.type_name(),
                list(&owners)
            ),
        ))
    };
    let hash = &[BodyKind::Hash][..];
    for e in [
        misplaced(&attrs.min_len.as_ref().map(keyed_unit), "min_len", hash),
        misplaced(&attrs.max_len.as_ref().map(keyed_unit), "max_len", hash),
        misplaced(&attrs.max_depth.as_ref().map(keyed_unit), "max_depth", hash),
        misplaced(
            &attrs.width.as_ref().map(keyed_unit),
            "width",
            &[BodyKind::Seq],
        ),
        misplaced(
            &attrs.encoding.as_ref().map(keyed_unit),
            "encoding",
            &[BodyKind::Snowflake],
        ),
        misplaced(
            &attrs.serde.as_ref().map(keyed_unit),
            "serde",
            &[BodyKind::Snowflake],
        ),
        misplaced(
            &attrs.len.as_ref().map(keyed_unit),
            "len",
            &[BodyKind::HexKey],
        ),
    ]
    .into_iter()
    .flatten()
    {
        errors.push(e);
    }

    let spec = match kind {
        BodyKind::Hash => {
            let min_len = int_in(&mut errors, &attrs.min_len, "min_len", 3, 8, 3);
            let max_len = int_in(&mut errors, &attrs.max_len, "max_len", 3, 8, 8);
            let max_depth = int_in(&mut errors, &attrs.max_depth, "max_depth", 0, 3, 3);
            if min_len > max_len {
                let span = attrs
                    .min_len
                    .as_ref()
                    .map(|k| k.value.span())
                    .or_else(|| attrs.max_len.as_ref().map(|k| k.value.span()))
                    .unwrap_or_else(Span::call_site);
                errors.push(Error::new(
                    span,
                    format!("`min_len` ({min_len}) must not exceed `max_len` ({max_len})"),
                ));
            }
            Spec::Hash {
                min_len,
                max_len,
                max_depth,
            }
        }
        BodyKind::Seq => Spec::Seq {
            width: int_in(&mut errors, &attrs.width, "width", 1, 18, 3),
        },
        BodyKind::HexKey => Spec::HexKey {
            len: int_in(&mut errors, &attrs.len, "len", 4, 32, 6),
        },
        BodyKind::Snowflake => Spec::Snowflake {
            base62: choice(
                &mut errors,
                &attrs.encoding,
                "encoding",
                &["decimal", "base62"],
            ) == Some(1),
        },
    };
    let serde_number = kind == BodyKind::Snowflake
        && choice(&mut errors, &attrs.serde, "serde", &["string", "number"]) == Some(1);

    errors.finish()?;
    Ok(Checked {
        prefix,
        prefix_span,
        accept,
        spec,
        serde_number,
    })
}

fn keyed_unit<T>(k: &Keyed<T>) -> Keyed<()> {
    Keyed {
        key: k.key,
        value: (),
    }
}

/// A prefix is 1 to 32 ASCII letters, digits and `_`, in `-`-separated segments
/// (`el`, `WORK`, `odin-PS`), so it is unambiguous and safe inside a regex.
fn check_prefix(lit: &LitStr) -> Result<()> {
    let value = lit.value();
    let fail = |message: String| Err(Error::new(lit.span(), message));
    if value.is_empty() {
        return fail("prefix must not be empty".to_owned());
    }
    if value.len() > PREFIX_MAX {
        return fail(format!(
            "prefix is {} bytes long; the limit is {PREFIX_MAX}",
            value.len()
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return fail(format!(
            "prefix contains {c:?}; use ASCII letters, digits, `_` and `-` between segments"
        ));
    }
    if value.starts_with('-') || value.ends_with('-') || value.contains("--") {
        return fail("a `-` in a prefix must sit between two segments, like `odin-PS`".to_owned());
    }
    Ok(())
}

fn int_in(
    errors: &mut Errors,
    slot: &Option<Keyed<LitInt>>,
    name: &str,
    min: u8,
    max: u8,
    default: u8,
) -> u8 {
    let Some(keyed) = slot else { return default };
    match keyed.value.base10_parse::<u64>() {
        Ok(v) if (u64::from(min)..=u64::from(max)).contains(&v) => v as u8,
        Ok(v) => {
            let hint = match name {
                "max_depth" => " (an ID has at most 3 child segments, like `el-abc.1.1.1`)",
                "width" if v == 0 => " (display numbers have at least one digit)",
                _ => "",
            };
            errors.push(Error::new(
                keyed.value.span(),
                format!("`{name}` must be between {min} and {max}, found {v}{hint}"),
            ));
            default
        }
        Err(e) => {
            errors.push(e);
            default
        }
    }
}

fn choice(
    errors: &mut Errors,
    slot: &Option<Keyed<LitStr>>,
    name: &str,
    options: &[&str],
) -> Option<usize> {
    let keyed = slot.as_ref()?;
    let value = keyed.value.value();
    match options.iter().position(|o| *o == value) {
        Some(i) => Some(i),
        None => {
            errors.push(Error::new(
                keyed.value.span(),
                format!("`{name}` must be {}, found {value:?}", list(options)),
            ));
            None
        }
    }
}
