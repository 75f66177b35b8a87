//! ID formats chosen at run time: what `#[derive(TypedId)]` fixes at compile time — body
//! kind, prefix, legacy prefixes, body options — as a value, for tools that learn the
//! format from their arguments (the `typed-id` command's `validate` and `pattern`).
//!
//! An [`IdFormat`] parses exactly what a derived type with the same attribute parses,
//! with the same errors (it runs the same body parsers and prefix matching), and
//! publishes the same `PATTERN`.

use core::fmt;

use crate::body::{
    Body, HashId, HashSpec, HexKey, HexSpec, Seq, SeqSpec, Snowflake, SnowflakeSpec, TypeIdSpec,
    TypeIdUuid,
};
use crate::error::{ParseErrorKind, ParseIdError, SpecError};
use crate::pattern::Pattern;
use crate::typed::{PrefixMatch, match_prefix, max_len};

/// Longest prefix of a `-`-separated ID (the derive's limit).
const DASHED_PREFIX_MAX: usize = 32;
/// Longest TypeID prefix (the specification's limit).
const TYPEID_PREFIX_MAX: usize = 63;

/// A body kind with its options: the run-time counterpart of a derived type's field
/// type and attribute keys.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodySpec {
    /// A content hash ([`HashId`]).
    Hash(HashSpec),
    /// A snowflake ([`Snowflake`]), decimal or base62.
    Snowflake(SnowflakeSpec),
    /// A display number ([`Seq`]).
    Seq(SeqSpec),
    /// A hex key ([`HexKey`]).
    Hex(HexSpec),
    /// A TypeID suffix ([`TypeIdUuid`]); the prefix is joined with `_`.
    TypeId(TypeIdSpec),
}

impl BodySpec {
    /// The body's type name (`"HashId"`, `"Snowflake"`, …), for error messages.
    #[must_use]
    pub const fn body_name(&self) -> &'static str {
        match self {
            BodySpec::Hash(_) => HashId::NAME,
            BodySpec::Snowflake(_) => Snowflake::NAME,
            BodySpec::Seq(_) => Seq::NAME,
            BodySpec::Hex(_) => HexKey::NAME,
            BodySpec::TypeId(_) => TypeIdUuid::NAME,
        }
    }

    /// The byte between the prefix and the body: `_` for TypeIDs, `-` otherwise.
    #[must_use]
    pub const fn separator(&self) -> u8 {
        match self {
            BodySpec::TypeId(_) => TypeIdUuid::SEPARATOR,
            _ => b'-',
        }
    }

    /// The body grammar (not anchored).
    #[must_use]
    pub const fn pattern(&self) -> Pattern {
        match self {
            BodySpec::Hash(s) => s.pattern(),
            BodySpec::Snowflake(s) => s.pattern(),
            BodySpec::Seq(s) => s.pattern(),
            BodySpec::Hex(s) => s.pattern(),
            BodySpec::TypeId(s) => s.pattern(),
        }
    }

    fn max_body_len(&self) -> usize {
        match self {
            BodySpec::Hash(s) => HashId::max_len(s),
            BodySpec::Snowflake(s) => Snowflake::max_len(s),
            BodySpec::Seq(s) => Seq::max_len(s),
            BodySpec::Hex(s) => HexKey::max_len(s),
            BodySpec::TypeId(s) => TypeIdUuid::max_len(s),
        }
    }
}

/// A parsed body, as returned by [`IdFormat::parse`] (without its prefix).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DynBody {
    /// A content hash.
    Hash(HashId),
    /// A snowflake.
    Snowflake(Snowflake),
    /// A display number.
    Seq(Seq),
    /// A hex key.
    Hex(HexKey),
    /// A TypeID suffix.
    TypeId(TypeIdUuid),
}

/// Why an [`IdFormat`] cannot be built.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// A prefix (canonical or legacy) a derived type could not have, and why.
    Prefix {
        /// The prefix given.
        prefix: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The pattern would not fit a [`Pattern`].
    Spec(SpecError),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Prefix { prefix, reason } => {
                write!(f, "invalid prefix {prefix:?}: {reason}")
            }
            FormatError::Spec(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for FormatError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FormatError::Spec(e) => Some(e),
            FormatError::Prefix { .. } => None,
        }
    }
}

/// An ID format known only at run time: a name for messages, a canonical prefix, legacy
/// prefixes and a body with its options. It parses what a derived type with the same
/// attribute parses, with the same errors, and has the same `PATTERN`.
///
/// The strings are `'static` because parse errors keep them without allocating; a
/// tool that reads them from its arguments leaks them once (`Box::leak`).
///
/// ```
/// use typed_id::{BodySpec, DynBody, HashId, HashSpec, IdFormat, TypedId};
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "el", accept = ["elem"], min_len = 4)]
/// struct ElementId(HashId);
///
/// let spec = BodySpec::Hash(HashSpec::new(4, 8, 3)?);
/// let format = IdFormat::new("ElementId", "el", &["elem"], spec)?;
/// assert_eq!(format.pattern().as_str(), ElementId::PATTERN);
/// assert_eq!(format.pcre_pattern().as_str(), ElementId::PCRE_PATTERN);
/// assert!(matches!(format.parse("elem-a3f8.1")?, DynBody::Hash(h) if h.as_str() == "a3f8.1"));
/// for input in ["El-a3f8", "el-a3f", "el-a3f8.0", ""] {
///     assert_eq!(format.parse(input).unwrap_err(), ElementId::parse(input).unwrap_err());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct IdFormat {
    name: &'static str,
    prefix: &'static str,
    accept: &'static [&'static str],
    spec: BodySpec,
    pattern: Pattern,
    max_len: usize,
}

impl IdFormat {
    /// A format named `name` (used in error messages) with canonical prefix `prefix`,
    /// legacy prefixes `accept` and body `spec`.
    ///
    /// # Errors
    /// [`FormatError::Prefix`] for a prefix the derive would refuse (1–32 ASCII
    /// letters, digits and `_` in `-`-separated segments; for TypeIDs 1–63 of `a-z`
    /// and `_`, starting and ending with a letter), or one too long for the body's
    /// inline text; [`FormatError::Spec`] when the pattern does not fit.
    pub fn new(
        name: &'static str,
        prefix: &'static str,
        accept: &'static [&'static str],
        spec: BodySpec,
    ) -> Result<IdFormat, FormatError> {
        for p in core::iter::once(&prefix).chain(accept) {
            check_prefix(p, &spec).map_err(|reason| FormatError::Prefix {
                prefix: (*p).to_owned(),
                reason,
            })?;
        }
        let pattern = Pattern::prefixed_with(prefix, accept, spec.separator(), &spec.pattern())
            .map_err(FormatError::Spec)?;
        Ok(IdFormat {
            name,
            prefix,
            accept,
            spec,
            pattern,
            max_len: max_len(prefix, accept, spec.max_body_len()),
        })
    }

    /// The name used in error messages.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The canonical prefix.
    #[must_use]
    pub fn prefix(&self) -> &'static str {
        self.prefix
    }

    /// The legacy prefixes.
    #[must_use]
    pub fn accept(&self) -> &'static [&'static str] {
        self.accept
    }

    /// The body and its options.
    #[must_use]
    pub fn spec(&self) -> BodySpec {
        self.spec
    }

    /// The anchored pattern: a derived type's `PATTERN`.
    #[must_use]
    pub fn pattern(&self) -> Pattern {
        self.pattern
    }

    /// The pattern for engines whose `$` also matches before a final newline: a
    /// derived type's `PCRE_PATTERN`.
    #[must_use]
    pub fn pcre_pattern(&self) -> Pattern {
        Pattern::new()
            .push(self.pattern.as_str())
            .push(r"(?![\s\S])")
    }

    /// Longest valid input, in bytes.
    #[must_use]
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Parses `input` as an ID of this format and returns its body.
    ///
    /// # Errors
    /// A [`ParseIdError`] naming the format and the byte at fault, as a derived type's.
    pub fn parse(&self, input: &str) -> Result<DynBody, ParseIdError> {
        let fail = |index, kind| ParseIdError::new(self.name, input, index, kind);
        if input.len() > self.max_len {
            let len = input.len();
            return Err(fail(
                0,
                ParseErrorKind::TooLong {
                    len,
                    max: self.max_len,
                },
            ));
        }
        let separator = self.spec.separator();
        let at = match match_prefix(input.as_bytes(), self.prefix, self.accept, separator) {
            Some(PrefixMatch::Canonical) => self.prefix.len() + 1,
            Some(PrefixMatch::Legacy(at)) => at,
            None if input.is_empty() => return Err(fail(0, ParseErrorKind::Empty)),
            None if separator == b'_' => {
                let expected = self.prefix;
                return Err(fail(0, ParseErrorKind::TypeIdPrefix { expected }));
            }
            None => {
                let expected = self.prefix;
                return Err(fail(0, ParseErrorKind::Prefix { expected }));
            }
        };
        let body = &input[at..];
        // Bare bodies: the prefix has been checked, only the body's grammar is left.
        let parsed = match &self.spec {
            BodySpec::Hash(s) => HashId::parse_body(body, s).map(DynBody::Hash),
            BodySpec::Snowflake(s) => Snowflake::parse_body(body, s).map(DynBody::Snowflake),
            BodySpec::Seq(s) => Seq::parse_body(body, s).map(DynBody::Seq),
            BodySpec::Hex(s) => HexKey::parse_body(body, s).map(DynBody::Hex),
            BodySpec::TypeId(s) => TypeIdUuid::parse_body(body, s).map(DynBody::TypeId),
        };
        parsed.map_err(|(index, kind)| fail(at + index, kind))
    }
}

/// The derive's prefix rules (`typed-id-derive/src/valid.rs`), plus the body's room.
fn check_prefix(prefix: &str, spec: &BodySpec) -> Result<(), String> {
    if prefix.is_empty() {
        return Err("a prefix must not be empty".to_owned());
    }
    if let BodySpec::TypeId(_) = spec {
        if prefix.len() > TYPEID_PREFIX_MAX {
            return Err(format!(
                "a TypeID prefix is at most {TYPEID_PREFIX_MAX} characters; this one has {}",
                prefix.len()
            ));
        }
        if let Some(c) = prefix
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || *c == '_'))
        {
            return Err(format!(
                "a TypeID prefix has only lowercase letters a-z and '_'; found {c:?}"
            ));
        }
        if prefix.starts_with('_') || prefix.ends_with('_') {
            return Err("a TypeID prefix starts and ends with a letter a-z".to_owned());
        }
        return Ok(());
    }
    if let Some(c) = prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(format!(
            "found {c:?}; use ASCII letters, digits, '_' and '-' between segments"
        ));
    }
    if prefix.starts_with('-') || prefix.ends_with('-') || prefix.contains("--") {
        return Err("a '-' in a prefix must sit between two segments, like odin-PS".to_owned());
    }
    if prefix.len() > DASHED_PREFIX_MAX {
        return Err(format!(
            "it is {} bytes long; a prefix takes at most {DASHED_PREFIX_MAX}",
            prefix.len(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::SnowflakeEncoding;

    #[test]
    fn parses_and_reports_like_a_derived_type() {
        let f =
            IdFormat::new("WorkId", "WORK", &["TASK"], BodySpec::Seq(SeqSpec::DEFAULT)).unwrap();
        assert!(matches!(f.parse("TASK-042"), Ok(DynBody::Seq(s)) if s.value() == 42));
        let e = f.parse("WORK-42").unwrap_err();
        assert_eq!(e.index(), 5);
        assert_eq!(e.kind(), ParseErrorKind::TooNarrow { width: 3 });
        assert_eq!(f.parse("").unwrap_err().kind(), ParseErrorKind::Empty);
        let long = "W".repeat(100);
        assert!(matches!(
            f.parse(&long).unwrap_err().kind(),
            ParseErrorKind::TooLong { len: 100, .. }
        ));
        let s = IdFormat::new(
            "MsgId",
            "msg",
            &[],
            BodySpec::Snowflake(SnowflakeSpec::new(SnowflakeEncoding::Base62)),
        )
        .unwrap();
        assert!(s.parse("msg-1BvP7xZ5J1t").is_ok());
        let t =
            IdFormat::new("UserId", "user", &[], BodySpec::TypeId(TypeIdSpec::DEFAULT)).unwrap();
        assert!(t.parse("user_01h455vb4pex5vsknk084sn02q").is_ok());
        assert!(matches!(
            t.parse("usr_01h455vb4pex5vsknk084sn02q")
                .unwrap_err()
                .kind(),
            ParseErrorKind::TypeIdPrefix { expected: "user" }
        ));
    }

    #[test]
    fn refuses_prefixes_the_derive_refuses() {
        let hash = BodySpec::Hash(HashSpec::DEFAULT);
        for bad in ["", "-el", "el-", "a--b", "é", "el x", &*"p".repeat(33)] {
            let bad: &'static str = Box::leak(bad.to_owned().into_boxed_str());
            assert!(
                matches!(
                    IdFormat::new("X", bad, &[], hash),
                    Err(FormatError::Prefix { .. })
                ),
                "{bad:?}"
            );
        }
        let typeid = BodySpec::TypeId(TypeIdSpec::DEFAULT);
        assert!(IdFormat::new("X", "User", &[], typeid).is_err());
        assert!(IdFormat::new("X", "user_account", &[], typeid).is_ok());
        let hex = BodySpec::Hex(HexSpec::DEFAULT);
        assert!(IdFormat::new("X", "odin-PS", &["odin_PS"], hex).is_ok());
        // Any prefix up to 32 bytes fits any options, as for derived types.
        let longest = "p".repeat(32);
        let longest: &'static str = Box::leak(longest.into_boxed_str());
        assert!(IdFormat::new("X", longest, &[], hash).is_ok());
        let err = IdFormat::new("X", "p".repeat(33).leak(), &[], hash).unwrap_err();
        assert!(err.to_string().contains("at most 32"), "{err}");
    }
}
