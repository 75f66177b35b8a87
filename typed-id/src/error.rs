//! Parse errors: one opaque value carrying the type's name, a copy of (the start of)
//! the offending input, the byte index at fault and a typed [`ParseErrorKind`].
//!
//! Errors are built only once parsing has failed, so the fast path never pays for the
//! diagnostics; building one never allocates (the input is copied into a small inline
//! buffer, truncated on a character boundary if it is long).

use core::fmt;

/// How many bytes of the offending input an error keeps for its message.
const SNIPPET_CAP: usize = 48;

/// Why a string is not a valid ID.
///
/// `Display` reads well to an API client and names the type:
///
/// ```
/// use typed_id::HashId;
///
/// let err = HashId::parse("a3f8e9.01").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"invalid HashId "a3f8e9.01": number must not have a leading zero at byte 7"#
/// );
/// assert_eq!(err.index(), 7);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ParseIdError {
    type_name: &'static str,
    index: usize,
    kind: ParseErrorKind,
    input_len: usize,
    snippet_len: u8,
    snippet: [u8; SNIPPET_CAP],
}

impl ParseIdError {
    /// Builds an error for `input` (only its first bytes are kept for the message).
    #[cold]
    pub(crate) fn new(
        type_name: &'static str,
        input: &str,
        index: usize,
        kind: ParseErrorKind,
    ) -> Self {
        let mut cut = input.len().min(SNIPPET_CAP);
        while !input.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut snippet = [0u8; SNIPPET_CAP];
        snippet[..cut].copy_from_slice(&input.as_bytes()[..cut]);
        ParseIdError {
            type_name,
            index,
            kind,
            input_len: input.len(),
            snippet_len: cut as u8,
            snippet,
        }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// Byte index in the input at which the problem was found.
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// Name of the ID type that was being parsed (`"ElementId"`, `"HashId"`, ...).
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The start of the rejected input as kept for messages (at most 48 bytes).
    #[must_use]
    pub fn input_snippet(&self) -> &str {
        // The snippet was cut on a char boundary of a `&str`.
        core::str::from_utf8(&self.snippet[..usize::from(self.snippet_len)]).unwrap_or("")
    }

    /// Length in bytes of the whole rejected input.
    #[must_use]
    pub fn input_len(&self) -> usize {
        self.input_len
    }
}

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} ", self.type_name)?;
        let snippet = self.input_snippet();
        if snippet.len() < self.input_len {
            write!(
                f,
                "\"{}…\" ({} bytes)",
                snippet.escape_debug(),
                self.input_len
            )?;
        } else {
            write!(f, "\"{}\"", snippet.escape_debug())?;
        }
        write!(f, ": {}", self.kind)?;
        if !matches!(
            self.kind,
            ParseErrorKind::Empty | ParseErrorKind::TooLong { .. }
        ) {
            write!(f, " at byte {}", self.index)?;
        }
        Ok(())
    }
}

impl fmt::Debug for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParseIdError")
            .field("type_name", &self.type_name)
            .field("input", &self.input_snippet())
            .field("index", &self.index)
            .field("kind", &self.kind)
            .finish()
    }
}

impl std::error::Error for ParseIdError {}

/// The specific reason a parse failed. New reasons may be added in minor releases.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The input was empty.
    Empty,
    /// The input is longer than any valid ID of this type; it was not scanned.
    TooLong {
        /// Length of the input in bytes.
        len: usize,
        /// Longest valid input in bytes.
        max: usize,
    },
    /// The input does not start with the type's prefix followed by `-`.
    Prefix {
        /// The canonical prefix (the message adds its `-`).
        expected: &'static str,
    },
    /// A character that the grammar does not allow here.
    UnexpectedChar {
        /// The character found.
        found: char,
        /// What would have been valid.
        expected: Expected,
    },
    /// The input ended where more was required.
    UnexpectedEnd {
        /// What would have been valid.
        expected: Expected,
    },
    /// The content hash has the wrong number of characters.
    HashLength {
        /// Number of characters found.
        len: usize,
        /// Shortest accepted hash.
        min: u8,
        /// Longest accepted hash.
        max: u8,
    },
    /// More child segments than the type allows.
    TooDeep {
        /// Deepest allowed child path.
        max_depth: u8,
    },
    /// A child number of `0` (child numbers start at 1).
    ZeroChild,
    /// A number written with a leading zero where the canonical form has none.
    LeadingZero,
    /// A number larger than the type can hold.
    Overflow {
        /// Largest accepted value.
        max: u64,
    },
    /// A display number of zero (display numbers start at 1).
    ZeroNumber,
    /// A display number with fewer digits than the type's width (it must be zero-padded).
    TooNarrow {
        /// Minimum number of digits.
        width: u8,
    },
    /// One named part of the ID (an instance key's project or type) is longer than
    /// the part may be; the error's index is where the part starts.
    PartTooLong {
        /// The part.
        part: Part,
        /// Its length in bytes.
        len: usize,
        /// The longest it may be, in bytes.
        max: u8,
    },
    /// The key's hex part has the wrong length.
    KeyLength {
        /// Number of hex digits found.
        len: usize,
        /// Required number of hex digits.
        expected: u8,
    },
    /// The input does not start with a TypeID type's prefix followed by `_`.
    TypeIdPrefix {
        /// The canonical prefix (the message adds its `_`).
        expected: &'static str,
    },
    /// A TypeID suffix that is not exactly 26 characters long.
    SuffixLength {
        /// Number of bytes found.
        len: usize,
    },
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ParseErrorKind::Empty => f.write_str("empty input"),
            ParseErrorKind::TooLong { len, max } => {
                write!(
                    f,
                    "input is {len} bytes long, the longest valid ID is {max}"
                )
            }
            ParseErrorKind::Prefix { expected } => write!(f, "expected prefix \"{expected}-\""),
            ParseErrorKind::UnexpectedChar { found, expected } => {
                write!(f, "found {:?} where {expected} was expected", found)
            }
            ParseErrorKind::UnexpectedEnd { expected } => {
                write!(f, "input ends where {expected} was expected")
            }
            ParseErrorKind::HashLength { len, min, max } => {
                write!(f, "hash has {len} characters, expected {min} to {max}")
            }
            ParseErrorKind::TooDeep { max_depth } => {
                write!(f, "more than {max_depth} child segments")
            }
            ParseErrorKind::ZeroChild => f.write_str("child number must be positive"),
            ParseErrorKind::LeadingZero => f.write_str("number must not have a leading zero"),
            ParseErrorKind::Overflow { max } => write!(f, "number is larger than {max}"),
            ParseErrorKind::ZeroNumber => f.write_str("number must be positive"),
            ParseErrorKind::TooNarrow { width } => {
                write!(f, "number must be zero-padded to {width} digits")
            }
            ParseErrorKind::PartTooLong { part, len, max } => {
                write!(
                    f,
                    "the {part} is {len} bytes long, at most {max} are allowed"
                )
            }
            ParseErrorKind::KeyLength { len, expected } => {
                write!(f, "key has {len} hex digits, expected {expected}")
            }
            ParseErrorKind::TypeIdPrefix { expected } => {
                write!(f, "expected prefix \"{expected}_\"")
            }
            ParseErrorKind::SuffixLength { len } => {
                write!(f, "TypeID suffix has {len} characters, expected 26")
            }
        }
    }
}

/// A named part of an ID, for errors about that part alone.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// An instance key's `{project}`.
    Project,
    /// An instance key's `{type}`.
    Type,
    /// A TypeID's prefix.
    Prefix,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Project => "project",
            Part::Type => "type",
            Part::Prefix => "prefix",
        })
    }
}

/// What the grammar would have accepted at the failing position.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// A lowercase base36 digit, `0-9` or `a-z`.
    Base36Digit,
    /// A base62 digit, `0-9`, `A-Z` or `a-z`.
    Base62Digit,
    /// A decimal digit `0-9`.
    Digit,
    /// A decimal digit `1-9`.
    NonZeroDigit,
    /// A lowercase hex digit, `0-9` or `a-f`.
    HexDigit,
    /// A `.` before a child number, or the end of the input.
    DotOrEnd,
    /// A `-` separator.
    Dash,
    /// A `.` before milliseconds or a `-` before a pid (a process instance ID's
    /// legacy, second-precision form).
    DotOrDash,
    /// An ASCII letter or digit.
    Alphanumeric,
    /// A TypeID suffix character: lowercase Crockford base32 (`0-9 a-z` without
    /// `i l o u`).
    Base32Digit,
    /// A TypeID suffix's first character, `0-7` (the suffix holds 128 bits, not 130).
    Base32Lead,
    /// A lowercase ASCII letter (a TypeID prefix starts and ends with one).
    LowercaseLetter,
    /// A lowercase ASCII letter or `_` (inside a TypeID prefix).
    LowercaseLetterOrUnderscore,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expected::Base36Digit => "a lowercase base36 digit (0-9, a-z)",
            Expected::Base62Digit => "a base62 digit (0-9, A-Z, a-z)",
            Expected::Digit => "a digit (0-9)",
            Expected::NonZeroDigit => "a digit (1-9)",
            Expected::HexDigit => "a lowercase hex digit (0-9, a-f)",
            Expected::DotOrEnd => "'.' or the end",
            Expected::Dash => "'-'",
            Expected::DotOrDash => "'.' or '-'",
            Expected::Alphanumeric => "an ASCII letter or digit",
            Expected::Base32Digit => "a lowercase base32 digit (0-9, a-z except i, l, o, u)",
            Expected::Base32Lead => "a base32 digit 0-7 (a suffix holds at most 128 bits)",
            Expected::LowercaseLetter => "a lowercase letter (a-z)",
            Expected::LowercaseLetterOrUnderscore => "a lowercase letter (a-z) or '_'",
        })
    }
}

/// An error located inside a body, before it is tied to the whole input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BodyError {
    /// Byte index relative to the start of the body.
    pub(crate) index: usize,
    pub(crate) kind: ParseErrorKind,
}

impl BodyError {
    #[cold]
    pub(crate) fn new(index: usize, kind: ParseErrorKind) -> Self {
        BodyError { index, kind }
    }

    /// The error for the character at `index` of `body`, or the end of it.
    #[cold]
    pub(crate) fn at(body: &[u8], index: usize, expected: Expected) -> Self {
        let kind = match decode_char_at(body, index) {
            Some(found) => ParseErrorKind::UnexpectedChar { found, expected },
            None => ParseErrorKind::UnexpectedEnd { expected },
        };
        BodyError { index, kind }
    }
}

/// Decodes the character starting at `index`. Parsers only report positions that follow
/// ASCII bytes, so `index` is on a character boundary of the original `&str`.
fn decode_char_at(bytes: &[u8], index: usize) -> Option<char> {
    let rest = bytes.get(index..)?;
    let take = rest.len().min(4);
    let chunk = match core::str::from_utf8(&rest[..take]) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or(""),
    };
    chunk.chars().next()
}

/// Error returned when a value cannot form an ID of the requested shape.
///
/// Returned by constructors such as [`HashId::child`](crate::HashId::child) and
/// [`Seq::new`](crate::Seq::new) when the result would break the grammar.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdError {
    /// A child would be deeper than the type allows.
    TooDeep {
        /// Deepest allowed child path.
        max_depth: u8,
    },
    /// Child numbers and display numbers start at 1.
    Zero,
    /// A value above the largest the type can hold.
    Overflow {
        /// Largest accepted value.
        max: u64,
    },
    /// A content hash of the wrong length.
    HashLength {
        /// Length given.
        len: usize,
        /// Shortest accepted.
        min: u8,
        /// Longest accepted.
        max: u8,
    },
    /// The body does not fit the target type's options (e.g. a child path deeper than
    /// the target allows, or a hash shorter than its minimum length).
    Shape(ParseErrorKind),
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IdError::TooDeep { max_depth } => {
                write!(f, "a child would be deeper than {max_depth} levels")
            }
            IdError::Zero => f.write_str("numbers start at 1"),
            IdError::Overflow { max } => write!(f, "value is larger than {max}"),
            IdError::HashLength { len, min, max } => {
                write!(f, "hash length {len} is outside {min}..={max}")
            }
            IdError::Shape(kind) => write!(f, "value does not fit this ID type: {kind}"),
        }
    }
}

impl std::error::Error for IdError {}

/// Options of an ID type, or a pattern built from them, that cannot be used.
///
/// Returned by the spec constructors ([`HashSpec::new`](crate::HashSpec::new),
/// [`SeqSpec::new`](crate::SeqSpec::new), [`HexSpec::new`](crate::HexSpec::new)) and by
/// [`Pattern::prefixed`](crate::Pattern::prefixed) and
/// [`Pattern::anchored`](crate::Pattern::anchored). Derived types build their options
/// in a `const`, so for them this is a compile-time error (the derive checks the values
/// first and reports them on the attribute).
///
/// ```
/// use typed_id::{SeqSpec, SpecError};
///
/// let err = SeqSpec::new(19).unwrap_err();
/// assert_eq!(err.to_string(), "invalid SeqSpec: width 19 is outside 1..=18");
/// assert!(matches!(err, SpecError::OutOfRange { field: "width", value: 19, .. }));
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecError {
    /// A field outside the range the body supports.
    OutOfRange {
        /// The options type, e.g. `SeqSpec`.
        spec: &'static str,
        /// The field, e.g. `width`.
        field: &'static str,
        /// The value given.
        value: u8,
        /// Smallest accepted value (for `max_len`: the `min_len` given).
        min: u8,
        /// Largest accepted value.
        max: u8,
    },
    /// The pattern would be longer than a [`Pattern`](crate::Pattern) holds (long or
    /// many legacy prefixes).
    PatternTooLong {
        /// Bytes the pattern would need.
        len: usize,
        /// Bytes a pattern holds.
        max: usize,
    },
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SpecError::OutOfRange {
                spec,
                field,
                value,
                min,
                max,
            } => write!(
                f,
                "invalid {spec}: {field} {value} is outside {min}..={max}"
            ),
            SpecError::PatternTooLong { len, max } => write!(
                f,
                "the pattern would be {len} bytes long; a pattern holds at most {max}"
            ),
        }
    }
}

impl std::error::Error for SpecError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_input_is_truncated_on_a_char_boundary() {
        let input = "é".repeat(40); // 80 bytes
        let err = ParseIdError::new("X", &input, 0, ParseErrorKind::TooLong { len: 80, max: 10 });
        assert_eq!(err.input_snippet().len(), 48);
        assert!(err.to_string().contains("(80 bytes)"));
    }

    #[test]
    fn decode_char_at_end_is_none() {
        assert_eq!(decode_char_at(b"ab", 2), None);
        assert_eq!(decode_char_at("aé".as_bytes(), 1), Some('é'));
    }
}
