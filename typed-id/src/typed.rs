//! The [`TypedId`] trait that `#[derive(TypedId)]` implements, and the generic functions
//! the generated code forwards to, so each derived type adds only a few lines of its own.

use core::fmt;

use crate::body::Body;
use crate::error::{IdError, ParseErrorKind, ParseIdError};
use crate::id_text::IdText;
use crate::pattern::Pattern;

/// A prefixed ID type: a newtype over a [`Body`] with a prefix, options and a pattern.
///
/// Implemented by `#[derive(TypedId)]`; see the [crate docs](crate) for the attribute.
/// Generic code can use it to handle any ID type:
///
/// ```
/// use typed_id::{HashId, TypedId};
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "el")]
/// struct ElementId(HashId);
///
/// fn describe<T: TypedId>() -> String {
///     format!("{} ids look like {}", T::NAME, T::PATTERN)
/// }
/// assert!(describe::<ElementId>().starts_with("ElementId ids look like ^el-"));
/// ```
pub trait TypedId:
    Copy + Eq + Ord + core::hash::Hash + fmt::Display + fmt::Debug + Send + Sync + 'static
{
    /// The body type (`HashId`, `Snowflake`, `Seq`, `HexKey`).
    type Body: Body;

    /// The type's name, used in error messages.
    const NAME: &'static str;
    /// The canonical prefix, without its `-`.
    const PREFIX: &'static str;
    /// Legacy prefixes still accepted by the parser (never displayed).
    const ACCEPT: &'static [&'static str];
    /// The type's body options.
    const SPEC: <Self::Body as Body>::Spec;
    /// The anchored regular expression the parser agrees with, byte for byte, in engines
    /// whose `$` matches only at the end of the text: ECMAScript (so JSON Schema and
    /// OpenAPI validators), RE2 and Go, Rust's `regex`, PostgreSQL's `~`.
    ///
    /// See [`PCRE_PATTERN`](Self::PCRE_PATTERN) for engines where `$` also matches before
    /// a final newline.
    const PATTERN: &'static str;
    /// [`PATTERN`](Self::PATTERN) followed by `(?![\s\S])` ("no character follows"):
    /// exact in engines whose `$` also matches before a final line break — Python's `re`
    /// (`re.search`, `re.match`, and so Python's `jsonschema`), PCRE and PHP, Perl, .NET
    /// (before a final `\n`) and Java (before a final `\n`, `\r\n`, `\r`, `\u{85}`,
    /// `\u{2028}` or `\u{2029}`).
    ///
    /// Under those engines `PATTERN` accepts `"el-a3f8\n"`, which the parser rejects.
    /// No single pattern is exact everywhere: `\z` would do in PCRE, Perl, Java and .NET,
    /// but Python's `re` only gained it in 3.14 and ECMAScript has none; `(?!\n)` misses
    /// Java's other line terminators; RE2, Go and Rust's `regex` have no lookaround.
    /// Named after the Perl-compatible family of engines, where this `$` comes from.
    /// So use:
    ///
    /// | engine | `$` matches | exact constant | the other one |
    /// |---|---|---|---|
    /// | ECMAScript (JSON Schema, OpenAPI) | at the end | `PATTERN` | also exact |
    /// | PostgreSQL `~` (a `CHECK` constraint) | at the end | `PATTERN` | also exact (PostgreSQL 14+) |
    /// | Rust `regex`, RE2, Go `regexp` | at the end | `PATTERN` | does not compile |
    /// | Python `re`, PCRE, PHP, Perl, .NET | also before a final `\n` | `PCRE_PATTERN` | accepts a final `\n` |
    /// | Java `java.util.regex` | also before a final line terminator | `PCRE_PATTERN` | accepts a final terminator |
    ///
    /// ```
    /// use typed_id::{HashId, TypedId};
    ///
    /// #[derive(TypedId)]
    /// #[typed_id(prefix = "el")]
    /// struct ElementId(HashId);
    ///
    /// assert_eq!(ElementId::PCRE_PATTERN, format!(r"{}(?![\s\S])", ElementId::PATTERN));
    /// ```
    const PCRE_PATTERN: &'static str = pcre_pattern(Self::PATTERN).as_str();
    /// Longest valid input in bytes; longer input is rejected before it is scanned.
    const MAX_LEN: usize;

    /// Wraps a body that fits this type's options (and, for a display number, is
    /// rendered at its width).
    #[doc(hidden)]
    fn from_body_unchecked(body: Self::Body) -> Self;

    /// The body.
    #[doc(hidden)]
    fn body_ref(&self) -> &Self::Body;

    /// Parses canonical text (or text under a legacy prefix).
    ///
    /// # Errors
    /// A [`ParseIdError`] naming this type and the byte at fault.
    fn parse_id(input: &str) -> Result<Self, ParseIdError> {
        parse(input)
    }

    /// The body alone, without the prefix.
    #[inline]
    fn to_body(&self) -> Self::Body {
        *self.body_ref()
    }

    /// The canonical text (`el-a3f8e9.1.2`) in a stack buffer: a `&str` without
    /// allocating, for every kind. The value keeps only its body; the prefix is the
    /// type's constant and is written here beside it.
    ///
    /// ```
    /// use typed_id::{HashId, TypedId};
    ///
    /// #[derive(TypedId)]
    /// #[typed_id(prefix = "el")]
    /// struct ElementId(HashId);
    ///
    /// let id = ElementId::parse("el-a3f8e9.1")?;
    /// let text = id.to_text();
    /// assert_eq!(text.as_str(), "el-a3f8e9.1");
    /// assert!(text.starts_with("el-"), "derefs to `str`");
    /// # Ok::<(), typed_id::ParseIdError>(())
    /// ```
    #[inline]
    fn to_text(&self) -> IdText {
        // Every canonical text fits `IdText::CAP` (the longest, a TypeID with a
        // 63-character prefix, is 90 bytes; a `-` type's prefix is at most 32).
        let mut text = IdText::prefixed(Self::PREFIX, Self::Body::SEPARATOR);
        self.body_ref().write_body(&Self::SPEC, &mut text);
        debug_assert!(
            text.len() > Self::PREFIX.len() + 1,
            "{} text longer than IdText::CAP",
            Self::NAME
        );
        text
    }
}

/// `pattern` followed by a lookahead that no character follows (see
/// [`TypedId::PCRE_PATTERN`]).
const fn pcre_pattern(pattern: &str) -> Pattern {
    Pattern::new().push(pattern).push(r"(?![\s\S])")
}

/// Longest valid input of a type: its longest prefix, `-`, its longest body.
#[doc(hidden)]
#[must_use]
pub const fn max_len(prefix: &str, accept: &[&str], body_max: usize) -> usize {
    let mut longest = prefix.len();
    let mut i = 0;
    while i < accept.len() {
        if accept[i].len() > longest {
            longest = accept[i].len();
        }
        i += 1;
    }
    longest + 1 + body_max
}

/// Which prefix `input` starts with (followed by the body's separator, `-` or `_`).
#[derive(Clone, Copy)]
pub(crate) enum PrefixMatch {
    /// The canonical prefix, and no longer legacy prefix: the input is canonical text.
    Canonical,
    /// A legacy prefix (the longest that matched); the body starts at this byte.
    Legacy(usize),
}

/// The prefix and `-` that `input` starts with, trying the canonical prefix and the
/// legacy ones and keeping the longest match.
#[inline]
pub(crate) fn match_prefix(
    input: &[u8],
    prefix: &str,
    accept: &[&str],
    separator: u8,
) -> Option<PrefixMatch> {
    let matches = |p: &str| {
        input.len() > p.len() && input.starts_with(p.as_bytes()) && input[p.len()] == separator
    };
    let mut best = if matches(prefix) {
        Some(PrefixMatch::Canonical)
    } else {
        None
    };
    for p in accept {
        let longer = match best {
            None => true,
            Some(PrefixMatch::Canonical) => p.len() > prefix.len(),
            Some(PrefixMatch::Legacy(at)) => p.len() + 1 > at,
        };
        if longer && matches(p) {
            best = Some(PrefixMatch::Legacy(p.len() + 1));
        }
    }
    best
}

/// Parses `input` as a `T`.
#[inline]
pub(crate) fn parse<T: TypedId>(input: &str) -> Result<T, ParseIdError> {
    if input.len() > T::MAX_LEN {
        return Err(too_long::<T>(input));
    }
    let Some(matched) = match_prefix(input.as_bytes(), T::PREFIX, T::ACCEPT, T::Body::SEPARATOR)
    else {
        return Err(prefix_error::<T>(input));
    };
    let at = match matched {
        PrefixMatch::Canonical => T::PREFIX.len() + 1,
        PrefixMatch::Legacy(at) => at,
    };
    match T::Body::parse_body(&input[at..], &T::SPEC) {
        Ok(body) => Ok(T::from_body_unchecked(body)),
        Err((index, kind)) => Err(ParseIdError::new(T::NAME, input, at + index, kind)),
    }
}

#[cold]
fn too_long<T: TypedId>(input: &str) -> ParseIdError {
    ParseIdError::new(
        T::NAME,
        input,
        0,
        ParseErrorKind::TooLong {
            len: input.len(),
            max: T::MAX_LEN,
        },
    )
}

#[cold]
fn prefix_error<T: TypedId>(input: &str) -> ParseIdError {
    if input.is_empty() {
        return ParseIdError::new(T::NAME, input, 0, ParseErrorKind::Empty);
    }
    let kind = if T::Body::SEPARATOR == b'_' {
        ParseErrorKind::TypeIdPrefix {
            expected: T::PREFIX,
        }
    } else {
        ParseErrorKind::Prefix {
            expected: T::PREFIX,
        }
    };
    ParseIdError::new(T::NAME, input, 0, kind)
}

/// Writes `T`'s canonical text.
#[inline]
pub(crate) fn fmt_display<T: TypedId>(id: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // One `write_str` of the whole text: the writer (a `String` in `to_string()`)
    // grows once, not once per piece.
    f.write_str(id.to_text().as_str())
}

/// `ElementId("el-a3f8e9")`.
pub(crate) fn fmt_debug<T: TypedId>(id: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(T::NAME)?;
    f.write_str("(\"")?;
    fmt_display(id, f)?;
    f.write_str("\")")
}

/// A `T` from a bare (or foreign-prefixed) body, checked against `T`'s options.
pub(crate) fn try_from_body<T: TypedId>(body: T::Body) -> Result<T, IdError> {
    body.adopt(&T::SPEC)
        .map(T::from_body_unchecked)
        .map_err(IdError::Shape)
}
