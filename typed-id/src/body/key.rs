//! Instance keys: a hex body (`8f4a2b`) for derived types such as `odin-PS-8f4a2b`, and
//! [`InstanceKey`], the dynamic `{project}-{type}-{hex}` form whose project may itself
//! contain `-` and is therefore parsed from the right.

use super::Body;
use crate::error::{BodyError, Expected, ParseErrorKind, ParseIdError, Part, SpecError};
use crate::id_text::IdText;
use crate::pattern::{self, Pattern};
use crate::text::InlineText;

/// Fewest hex digits a key may have.
const HEX_MIN: u8 = 4;
/// Most hex digits a key may have.
const HEX_MAX: u8 = 32;
/// Room for the longest key, 32 hex digits (the prefix is not stored).
const TEXT_CAP: usize = HEX_MAX as usize;

/// Options of a key type: the number of hex digits.
///
/// Built by [`HexSpec::new`], which checks the length, so every value is usable; the
/// field is private.
///
/// ```
/// use typed_id::{HexKey, HexSpec};
///
/// let eight = HexSpec::new(8)?;
/// assert_eq!(eight.len(), 8);
/// assert!(HexKey::parse_with("8f4a2b0c", &eight).is_ok());
/// assert!(HexSpec::new(3).is_err() && HexSpec::new(33).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ```compile_fail,E0451
/// // Not built field by field: the length would go unchecked.
/// let spec = typed_id::HexSpec { len: 255 };
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HexSpec {
    /// Exact number of lowercase hex digits (4..=32).
    pub(crate) len: u8,
}

// `len` is a digit count that is never 0, so an `is_empty` would always be false.
#[allow(clippy::len_without_is_empty)]
impl HexSpec {
    /// Six hex digits, as in `odin-PS-8f4a2b`.
    pub const DEFAULT: HexSpec = HexSpec { len: 6 };

    /// Options with the given length: the exact number of hex digits, `4..=32`.
    ///
    /// # Errors
    /// [`SpecError::OutOfRange`] for a length outside `4..=32`.
    pub const fn new(len: u8) -> Result<Self, SpecError> {
        if len < HEX_MIN || len > HEX_MAX {
            return Err(SpecError::OutOfRange {
                spec: "HexSpec",
                field: "len",
                value: len,
                min: HEX_MIN,
                max: HEX_MAX,
            });
        }
        Ok(HexSpec { len })
    }

    /// The exact number of hex digits.
    #[must_use]
    pub const fn len(&self) -> u8 {
        self.len
    }

    /// Longest body text in bytes.
    #[must_use]
    pub const fn max_text_len(&self) -> usize {
        self.len as usize
    }

    /// The body grammar as a regular expression (not anchored).
    #[must_use]
    pub const fn pattern(&self) -> Pattern {
        Pattern::new()
            .push("[0-9a-f]")
            .push_repeat(self.len as u64, self.len as u64)
    }
}

impl Default for HexSpec {
    fn default() -> Self {
        HexSpec::DEFAULT
    }
}

/// A hex key body: a fixed number of lowercase hex digits, e.g. `8f4a2b`.
///
/// ```
/// use typed_id::HexKey;
///
/// let key = HexKey::parse("8f4a2b")?;
/// assert_eq!(key.as_str(), "8f4a2b");
/// assert!(HexKey::parse("8F4A2B").is_err(), "lowercase is canonical");
/// assert_eq!(HexKey::from_bytes(&[0x8f, 0x4a, 0x2b, 0xff], 6)?.as_str(), "8f4a2b");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Equality, order and hashing compare the hex text, so the key borrows as it
/// (`Borrow<str>`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HexKey {
    text: InlineText<TEXT_CAP>,
}

impl HexKey {
    /// The anchored pattern [`HexKey::parse`] accepts (6 digits).
    pub const PATTERN: &'static str = PATTERN_BUF.as_str();

    /// Parses six lowercase hex digits.
    ///
    /// # Errors
    /// A [`ParseIdError`] for other characters or lengths.
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        super::parse_bare(s, &HexSpec::DEFAULT)
    }

    /// Parses with another length.
    ///
    /// # Errors
    /// As [`HexKey::parse`].
    pub fn parse_with(s: &str, spec: &HexSpec) -> Result<Self, ParseIdError> {
        super::parse_bare(s, spec)
    }

    /// The first `len` hex digits of `bytes` (e.g. a SHA-256 digest).
    ///
    /// # Errors
    /// [`crate::error::IdError::HashLength`] when `len` is outside `4..=32` or `bytes` is too short.
    pub fn from_bytes(bytes: &[u8], len: u8) -> Result<Self, crate::error::IdError> {
        let err = crate::error::IdError::HashLength {
            len: usize::from(len),
            min: HEX_MIN,
            max: HEX_MAX,
        };
        if !(HEX_MIN..=HEX_MAX).contains(&len) || bytes.len() * 2 < usize::from(len) {
            return Err(err);
        }
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; HEX_MAX as usize];
        for (i, slot) in hex.iter_mut().take(usize::from(len)).enumerate() {
            let byte = bytes[i / 2];
            let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
            *slot = DIGITS[usize::from(nibble)];
        }
        let text = InlineText::new(&hex[..usize::from(len)]).ok_or(err)?;
        Ok(HexKey { text })
    }

    /// The hex digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }
}

const PATTERN_BUF: Pattern = pattern::fits(Pattern::anchored(&HexSpec::DEFAULT.pattern()));

body_traits!(HexKey, text, borrow);

impl Body for HexKey {
    type Spec = HexSpec;
    const DEFAULT_SPEC: HexSpec = HexSpec::DEFAULT;
    const NAME: &'static str = "HexKey";

    #[inline]
    fn max_len(spec: &HexSpec) -> usize {
        spec.max_text_len()
    }

    #[inline]
    fn parse_body(body: &str, spec: &HexSpec) -> Result<Self, (usize, ParseErrorKind)> {
        let bytes = body.as_bytes();
        scan_hex(bytes, spec.len).map_err(|e| (e.index, e.kind))?;
        Ok(HexKey {
            text: super::store(bytes)?,
        })
    }

    #[inline]
    fn write_body(&self, _: &HexSpec, out: &mut IdText) {
        let (padded, len) = self.text.padded();
        out.push_padded(padded, len);
    }

    fn adopt(self, spec: &HexSpec) -> Result<Self, ParseErrorKind> {
        super::recheck(self.as_str(), spec)
    }
}

fn scan_hex(bytes: &[u8], len: u8) -> Result<(), BodyError> {
    let mut i = 0;
    while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'a'..=b'f') {
        i += 1;
    }
    if i < bytes.len() {
        let expected = if i < usize::from(len) {
            Expected::HexDigit
        } else {
            Expected::DotOrEnd
        };
        return Err(match expected {
            Expected::DotOrEnd => BodyError::new(
                0,
                ParseErrorKind::KeyLength {
                    len: bytes.len(),
                    expected: len,
                },
            ),
            _ => BodyError::at(bytes, i, expected),
        });
    }
    if i != usize::from(len) {
        return Err(BodyError::new(
            0,
            ParseErrorKind::KeyLength {
                len: i,
                expected: len,
            },
        ));
    }
    Ok(())
}

/// Longest project name.
const PROJECT_MAX: u8 = 48;
/// Longest type segment.
const KIND_MAX: u8 = 16;
/// Longest instance key text.
const KEY_MAX: usize = PROJECT_MAX as usize + 1 + KIND_MAX as usize + 1 + HEX_MAX as usize;

/// A dynamic instance key `{project}-{type}-{hex}`, e.g. `odin-PS-8f4a2b` or
/// `billing-eu-WEB-03c9d1`.
///
/// The project (1 to 48 bytes) is ASCII letters and digits in `-`-separated segments;
/// the type (1 to 16) is ASCII letters and digits; the hex part is 4 to 32 lowercase hex
/// digits. Because the project may contain `-`, the key is read from the right: the
/// last segment is the hex, the one before it the type.
///
/// ```
/// use typed_id::InstanceKey;
///
/// let key: InstanceKey = "billing-eu-WEB-03c9d1".parse()?;
/// assert_eq!(key.project(), "billing-eu");
/// assert_eq!(key.kind(), "WEB");
/// assert_eq!(key.hex(), "03c9d1");
///
/// // Equality, order and hashing are the text's, so a map keyed by
/// // `InstanceKey` can be searched with a `&str`.
/// let map = std::collections::HashMap::from([(key, "web")]);
/// assert_eq!(map.get("billing-eu-WEB-03c9d1"), Some(&"web"));
/// # Ok::<(), typed_id::ParseIdError>(())
/// ```
// `Hash` by hand: the text alone, as `Borrow<str>` requires (the split points follow
// from the text, so `Eq` and `Ord` derived over all fields agree with the text's).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct InstanceKey {
    text: InlineText<KEY_MAX>,
    kind_at: u8,
    hex_at: u8,
}

impl InstanceKey {
    /// The anchored pattern [`InstanceKey::parse`] accepts (lengths are checked too:
    /// project ≤ 48 bytes).
    pub const PATTERN: &'static str =
        "^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*-[A-Za-z0-9]{1,16}-[0-9a-f]{4,32}$";

    /// Parses `{project}-{type}-{hex}`.
    ///
    /// # Errors
    /// A [`ParseIdError`] naming the byte at fault.
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        let err = |index, kind| ParseIdError::new("InstanceKey", s, index, kind);
        if s.is_empty() {
            return Err(err(0, ParseErrorKind::Empty));
        }
        if s.len() > KEY_MAX {
            return Err(err(
                0,
                ParseErrorKind::TooLong {
                    len: s.len(),
                    max: KEY_MAX,
                },
            ));
        }
        let bytes = s.as_bytes();
        let Some(hex_dash) = s.rfind('-') else {
            return Err(err(
                s.len(),
                ParseErrorKind::UnexpectedEnd {
                    expected: Expected::Dash,
                },
            ));
        };
        let hex_at = hex_dash + 1;
        let hex = &bytes[hex_at..];
        if hex.is_empty() {
            return Err(err(
                hex_at,
                ParseErrorKind::UnexpectedEnd {
                    expected: Expected::HexDigit,
                },
            ));
        }
        if let Some(i) = hex
            .iter()
            .position(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            let e = BodyError::at(hex, i, Expected::HexDigit);
            return Err(err(hex_at + e.index, e.kind));
        }
        if !(usize::from(HEX_MIN)..=usize::from(HEX_MAX)).contains(&hex.len()) {
            return Err(err(
                hex_at,
                ParseErrorKind::KeyLength {
                    len: hex.len(),
                    expected: if hex.len() < usize::from(HEX_MIN) {
                        HEX_MIN
                    } else {
                        HEX_MAX
                    },
                },
            ));
        }
        let Some(kind_dash) = s[..hex_dash].rfind('-') else {
            return Err(err(
                0,
                ParseErrorKind::Prefix {
                    expected: "{project}-{type}",
                },
            ));
        };
        let kind_at = kind_dash + 1;
        let kind = &bytes[kind_at..hex_dash];
        check_alnum(kind, kind_at, Part::Type, KIND_MAX).map_err(|(i, k)| err(i, k))?;
        let project = &bytes[..kind_dash];
        if project.len() > usize::from(PROJECT_MAX) {
            return Err(err(
                0,
                ParseErrorKind::PartTooLong {
                    part: Part::Project,
                    len: project.len(),
                    max: PROJECT_MAX,
                },
            ));
        }
        let mut seg_start = 0;
        for part in project.split(|&b| b == b'-') {
            check_alnum(part, seg_start, Part::Project, PROJECT_MAX).map_err(|(i, k)| err(i, k))?;
            seg_start += part.len() + 1;
        }
        let text = InlineText::new(bytes).ok_or(err(
            0,
            ParseErrorKind::TooLong {
                len: s.len(),
                max: KEY_MAX,
            },
        ))?;
        Ok(InstanceKey {
            text,
            kind_at: kind_at as u8,
            hex_at: hex_at as u8,
        })
    }

    /// Builds a key from its parts, validating each.
    ///
    /// # Errors
    /// A [`ParseIdError`] when a part breaks the grammar.
    pub fn from_parts(project: &str, kind: &str, hex: &str) -> Result<Self, ParseIdError> {
        let mut buf = [0u8; KEY_MAX + 2];
        let total = project.len() + kind.len() + hex.len() + 2;
        if total > KEY_MAX {
            return Err(ParseIdError::new(
                "InstanceKey",
                project,
                0,
                ParseErrorKind::TooLong {
                    len: total,
                    max: KEY_MAX,
                },
            ));
        }
        let mut at = 0;
        for (i, part) in [project, kind, hex].into_iter().enumerate() {
            if i > 0 {
                buf[at] = b'-';
                at += 1;
            }
            buf[at..at + part.len()].copy_from_slice(part.as_bytes());
            at += part.len();
        }
        // The parts are &str, so their concatenation with '-' is valid UTF-8.
        let text = core::str::from_utf8(&buf[..at]).unwrap_or("");
        let key = Self::parse(text)?;
        if key.project() != project || key.kind() != kind {
            // A '-' inside `kind` or `hex` shifted the split: point at that '-'.
            let kind_at = project.len() + 1;
            let (index, expected) = match kind.find('-') {
                Some(i) => (kind_at + i, Expected::Alphanumeric),
                None => (
                    kind_at + kind.len() + 1 + hex.find('-').unwrap_or(0),
                    Expected::HexDigit,
                ),
            };
            return Err(ParseIdError::new(
                "InstanceKey",
                text,
                index,
                ParseErrorKind::UnexpectedChar {
                    found: '-',
                    expected,
                },
            ));
        }
        Ok(key)
    }

    /// The whole key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The project, e.g. `billing-eu`.
    #[must_use]
    pub fn project(&self) -> &str {
        &self.as_str()[..usize::from(self.kind_at) - 1]
    }

    /// The type segment, e.g. `WEB`.
    #[must_use]
    pub fn kind(&self) -> &str {
        &self.as_str()[usize::from(self.kind_at)..usize::from(self.hex_at) - 1]
    }

    /// The hex digits, e.g. `03c9d1`.
    #[must_use]
    pub fn hex(&self) -> &str {
        &self.as_str()[usize::from(self.hex_at)..]
    }
}

fn check_alnum(
    part: &[u8],
    offset: usize,
    name: Part,
    max: u8,
) -> Result<(), (usize, ParseErrorKind)> {
    if part.is_empty() {
        let e = BodyError::at(part, 0, Expected::Alphanumeric);
        // An empty segment sits between two '-': report the second one.
        let kind = match e.kind {
            ParseErrorKind::UnexpectedEnd { expected } => ParseErrorKind::UnexpectedChar {
                found: '-',
                expected,
            },
            other => other,
        };
        return Err((offset, kind));
    }
    if let Some(i) = part.iter().position(|b| !b.is_ascii_alphanumeric()) {
        let e = BodyError::at(part, i, Expected::Alphanumeric);
        return Err((offset + e.index, e.kind));
    }
    if part.len() > usize::from(max) {
        return Err((
            offset,
            ParseErrorKind::PartTooLong {
                part: name,
                len: part.len(),
                max,
            },
        ));
    }
    Ok(())
}

impl core::hash::Hash for InstanceKey {
    #[inline]
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

body_traits!(InstanceKey, text, borrow);
