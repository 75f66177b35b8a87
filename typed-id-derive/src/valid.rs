//! Checks the attribute against the body kind and the grammar's limits, producing the
//! resolved options. Every error points at the literal or key at fault; all problems are
//! reported together.
//!
//! A faulty value does not stop the check: it is reported and replaced by its default
//! (an invalid prefix by a placeholder), so the derive can still expand and spare the
//! user an error at every use of the type (see `expand::derive`).

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Error, LitInt, LitStr, Result};

use crate::ast::{BodyKind, Input};
use crate::attr::{Attrs, Errors, Keyed, closest, join_or, list};
use crate::symbol::{
    ENCODING, KIND, LEN, MAX_DEPTH, MAX_LEN, MIN_LEN, PREFIX, SERDE, Symbol, TYPED_ID, WIDTH,
};

/// Longest prefix accepted by the attribute, whatever the body and its options (values
/// keep only the body; the prefix is the type's constant).
const PREFIX_MAX: usize = 32;

/// Stands in for a missing or invalid prefix in a recovering expansion.
const PLACEHOLDER_PREFIX: &str = "id";

/// The outcome of the checks.
pub(crate) enum Verdict {
    /// The attribute is sound.
    Valid(Checked),
    /// The attribute has errors, but the body is known: the options hold defaults in
    /// place of the faulty values.
    Recovered(Checked, Error),
    /// The body itself is unknown (the field's type names none and no valid `kind`).
    Unknown(Error),
}

/// Resolved options of one derived type.
pub(crate) struct Checked {
    pub(crate) prefix: String,
    pub(crate) accept: Vec<String>,
    pub(crate) kind: BodyKind,
    /// Where the body was named (the `kind` value, or the field's type), for errors in
    /// the generated code when the field is not that body.
    pub(crate) kind_span: Span,
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
    TypeId,
}

pub(crate) fn check(input: &Input<'_>, attrs: &Attrs, mut errors: Errors) -> Verdict {
    let body = resolve_kind(input, attrs, &mut errors);
    let rules = match body {
        Some((BodyKind::TypeId, _)) => PrefixRules::TypeId,
        _ => PrefixRules::Dashed,
    };
    let prefix = check_prefix_key(input, attrs, rules, &mut errors);
    let accept = check_accept(attrs, rules, &mut errors);
    let Some((kind, kind_span)) = body else {
        return match errors.finish() {
            Err(error) => Verdict::Unknown(error),
            // Not reached: `resolve_kind` reports every way of missing the body.
            Ok(()) => Verdict::Unknown(unknown_field(input)),
        };
    };
    check_misplaced(attrs, kind, &mut errors);
    let spec = check_spec(attrs, kind, &mut errors);
    let serde_number = kind == BodyKind::Snowflake
        && choice(&mut errors, &attrs.serde, SERDE, &["string", "number"]) == Some(1);
    let checked = Checked {
        prefix,
        accept,
        kind,
        kind_span,
        spec,
        serde_number,
    };
    match errors.finish() {
        Ok(()) => Verdict::Valid(checked),
        Err(error) => Verdict::Recovered(checked, error),
    }
}

/// The body, from the `kind` key or else the field's type, with the span that named it.
fn resolve_kind(input: &Input<'_>, attrs: &Attrs, errors: &mut Errors) -> Option<(BodyKind, Span)> {
    let field_span = input.field_ty.span();
    let Some(keyed) = &attrs.kind else {
        if input.named_kind.is_none() && !attrs.misspelled.contains(&KIND) {
            errors.push(unknown_field(input));
        }
        return input.named_kind.map(|kind| (kind, field_span));
    };
    let value = keyed.value.value();
    let Some(kind) = BodyKind::from_kind_value(&value) else {
        errors.push(unknown_kind_value(&keyed.value));
        return input.named_kind.map(|kind| (kind, field_span));
    };
    match input.named_kind {
        Some(named) if named != kind => {
            errors.push(Error::new(
                keyed.value.span(),
                format!(
                    "`{KIND} = \"{value}\"` contradicts the field's type `{}`; remove `{KIND}`, which is only needed for a type alias or a re-export",
                    named.type_name()
                ),
            ));
            Some((named, field_span))
        }
        _ => Some((kind, keyed.value.span())),
    }
}

fn unknown_field(input: &Input<'_>) -> Error {
    let names: Vec<&str> = BodyKind::ALL.iter().map(|k| k.type_name()).collect();
    let mut message = format!(
        "the field must be an ID body: {} (from `typed_id`)",
        list(&names)
    );
    let written = match input.field_ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    match written.as_deref().and_then(|w| closest(w, &names)) {
        Some(name) => message.push_str(&format!("; did you mean `{name}`?")),
        None => {
            let values: Vec<String> = BodyKind::ALL
                .iter()
                .map(|k| format!("`\"{}\"`", k.kind_value()))
                .collect();
            message.push_str(&format!(
                "; for a type alias or a re-export of one, set `{KIND}` to {}",
                join_or(&values)
            ));
        }
    }
    Error::new(input.field_ty.span(), message)
}

fn unknown_kind_value(lit: &LitStr) -> Error {
    let value = lit.value();
    let values: Vec<&str> = BodyKind::ALL.iter().map(|k| k.kind_value()).collect();
    let mut message = format!("`{KIND}` must be {}, found {value:?}", list(&values));
    // `kind = "HashId"`: the type's name where its kind is expected.
    let by_type = BodyKind::ALL
        .into_iter()
        .find(|k| k.type_name().eq_ignore_ascii_case(&value))
        .map(BodyKind::kind_value);
    if let Some(suggestion) = by_type.or_else(|| closest(&value.to_ascii_lowercase(), &values)) {
        message.push_str(&format!("; did you mean `{suggestion}`?"));
    }
    Error::new(lit.span(), message)
}

fn check_prefix_key(
    input: &Input<'_>,
    attrs: &Attrs,
    rules: PrefixRules,
    errors: &mut Errors,
) -> String {
    match &attrs.prefix {
        Some(p) => match check_prefix(&p.value, rules) {
            Ok(()) => p.value.value(),
            Err(e) => {
                errors.push(e);
                PLACEHOLDER_PREFIX.to_owned()
            }
        },
        None => {
            // `prefx = "el"` was reported as a typo already.
            if !attrs.misspelled.contains(&PREFIX) {
                let span = attrs.attr_span.unwrap_or_else(|| input.ident.span());
                errors.push(Error::new(
                    span,
                    format!(
                        "missing `{PREFIX}`: add `#[{TYPED_ID}({PREFIX} = \"...\")]` to `{}`",
                        input.ident
                    ),
                ));
            }
            PLACEHOLDER_PREFIX.to_owned()
        }
    }
}

/// The legacy prefixes; faulty ones are reported and left out.
fn check_accept(attrs: &Attrs, rules: PrefixRules, errors: &mut Errors) -> Vec<String> {
    // As written: an invalid prefix's placeholder must not clash with a legacy prefix.
    let prefix = attrs.prefix.as_ref().map(|p| p.value.value());
    let mut accept = Vec::new();
    let Some(list) = &attrs.accept else {
        return accept;
    };
    for lit in &list.value {
        let value = lit.value();
        if let Err(e) = check_prefix(lit, rules) {
            errors.push(e);
        } else if prefix.as_ref() == Some(&value) {
            errors.push(Error::new(
                lit.span(),
                format!("legacy prefix repeats the canonical `{PREFIX}`"),
            ));
        } else if accept.contains(&value) {
            errors.push(Error::new(lit.span(), "legacy prefix listed twice"));
        } else {
            accept.push(value);
        }
    }
    accept
}

/// Options of another body kind: reported on their key, then ignored.
fn check_misplaced(attrs: &Attrs, kind: BodyKind, errors: &mut Errors) {
    // How the body was named, for the message: `a `Seq` body (`kind = "seq"`)`.
    let named = |k: BodyKind| match attrs.kind {
        Some(_) => format!("`{}` (`{KIND} = \"{}\"`)", k.type_name(), k.kind_value()),
        None => format!("`{}`", k.type_name()),
    };
    let body = match attrs.kind {
        Some(_) => format!(
            "a `{}` body (`{KIND} = \"{}\"`)",
            kind.type_name(),
            kind.kind_value()
        ),
        None => format!("a `{}` body", kind.type_name()),
    };
    let hash = &[BodyKind::Hash][..];
    let options: [(Option<Span>, Symbol, &[BodyKind]); 7] = [
        (key_span(&attrs.min_len), MIN_LEN, hash),
        (key_span(&attrs.max_len), MAX_LEN, hash),
        (key_span(&attrs.max_depth), MAX_DEPTH, hash),
        (key_span(&attrs.width), WIDTH, &[BodyKind::Seq]),
        (key_span(&attrs.encoding), ENCODING, &[BodyKind::Snowflake]),
        (key_span(&attrs.serde), SERDE, &[BodyKind::Snowflake]),
        (key_span(&attrs.len), LEN, &[BodyKind::HexKey]),
    ];
    for (span, name, owners) in options {
        let Some(span) = span else { continue };
        if owners.contains(&kind) {
            continue;
        }
        let owners: Vec<String> = owners.iter().map(|k| named(*k)).collect();
        errors.push(Error::new(
            span,
            format!(
                "`{name}` does not apply to {body}; it is an option of {}",
                join_or(&owners)
            ),
        ));
    }
}

fn key_span<T>(slot: &Option<Keyed<T>>) -> Option<Span> {
    slot.as_ref().map(|k| k.key)
}

/// The body's options; faulty values are reported and replaced by their defaults.
fn check_spec(attrs: &Attrs, kind: BodyKind, errors: &mut Errors) -> Spec {
    match kind {
        BodyKind::Hash => {
            let mut min_len = int_in(errors, &attrs.min_len, MIN_LEN, 3, 8, 3);
            let mut max_len = int_in(errors, &attrs.max_len, MAX_LEN, 3, 8, 8);
            let max_depth = int_in(errors, &attrs.max_depth, MAX_DEPTH, 0, 3, 3);
            if min_len > max_len {
                let span = attrs
                    .min_len
                    .as_ref()
                    .map(|k| k.value.span())
                    .or_else(|| attrs.max_len.as_ref().map(|k| k.value.span()))
                    .unwrap_or_else(Span::call_site);
                errors.push(Error::new(
                    span,
                    format!("`{MIN_LEN}` ({min_len}) must not exceed `{MAX_LEN}` ({max_len})"),
                ));
                (min_len, max_len) = (3, 8);
            }
            Spec::Hash {
                min_len,
                max_len,
                max_depth,
            }
        }
        BodyKind::Seq => Spec::Seq {
            width: int_in(errors, &attrs.width, WIDTH, 1, 18, 3),
        },
        BodyKind::HexKey => Spec::HexKey {
            len: int_in(errors, &attrs.len, LEN, 4, 32, 6),
        },
        BodyKind::Snowflake => Spec::Snowflake {
            base62: choice(errors, &attrs.encoding, ENCODING, &["decimal", "base62"]) == Some(1),
        },
        BodyKind::TypeId => Spec::TypeId,
    }
}

/// Which prefixes a body allows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PrefixRules {
    /// Segments of ASCII letters, digits and `_`, joined by `-`; the body follows a `-`.
    Dashed,
    /// The TypeID specification's: `a-z` and `_`, starting and ending with a letter, up
    /// to 63 characters; the body follows a `_`.
    TypeId,
}

/// Longest TypeID prefix (the specification's limit).
const TYPEID_PREFIX_MAX: usize = 63;

/// A prefix is 1 to 32 ASCII letters, digits and `_`, in `-`-separated segments
/// (`el`, `WORK`, `odin-PS`), so it is unambiguous and safe inside a regex. A TypeID
/// prefix follows the TypeID specification instead.
fn check_prefix(lit: &LitStr, rules: PrefixRules) -> Result<()> {
    let value = lit.value();
    let fail = |message: String| Err(Error::new(lit.span(), message));
    if value.is_empty() {
        return fail("prefix must not be empty".to_owned());
    }
    if rules == PrefixRules::TypeId {
        if value.len() > TYPEID_PREFIX_MAX {
            return fail(format!(
                "a TypeID prefix is at most {TYPEID_PREFIX_MAX} characters; this one has {}",
                value.len()
            ));
        }
        if let Some(c) = value
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || *c == '_'))
        {
            return fail(format!(
                "a TypeID prefix has only lowercase letters `a-z` and `_`; found {c:?}"
            ));
        }
        if value.starts_with('_') || value.ends_with('_') {
            return fail("a TypeID prefix starts and ends with a letter `a-z`".to_owned());
        }
        return Ok(());
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
    name: Symbol,
    min: u8,
    max: u8,
    default: u8,
) -> u8 {
    let Some(keyed) = slot else { return default };
    match keyed.value.base10_parse::<u64>() {
        Ok(v) if (u64::from(min)..=u64::from(max)).contains(&v) => v as u8,
        Ok(v) => {
            let hint = if name == MAX_DEPTH {
                " (an ID has at most 3 child segments, like `el-abc.1.1.1`)"
            } else if name == WIDTH && v == 0 {
                " (display numbers have at least one digit)"
            } else {
                ""
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
    name: Symbol,
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
