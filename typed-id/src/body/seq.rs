//! Sequential display bodies: `042`, `1000` — a positive number zero-padded to a width.
//!
//! Canonical text: numbers below `10^width` are written with exactly `width` digits
//! (`042` at width 3); larger ones with no leading zero (`1000`). Numbers run from 1 to
//! 999 999 999 999 999 999 (18 digits, so a value always fits a `BIGINT`).

use core::cmp::Ordering;
use core::hash::{Hash, Hasher};

use super::{Body, scan_decimal};
use crate::error::{BodyError, Expected, IdError, ParseErrorKind, ParseIdError, SpecError};
use crate::id_text::IdText;
use crate::pattern::{self, Pattern};
use crate::text::InlineText;

/// Most digits a display number may have.
const MAX_DIGITS: usize = 18;
/// Largest display number.
const MAX: u64 = 999_999_999_999_999_999;
/// Room for the longest text, 18 digits (the prefix is not stored).
const TEXT_CAP: usize = MAX_DIGITS;

/// Options of a display type: the minimum number of digits.
///
/// Built by [`SeqSpec::new`], which checks the width, so every value is usable; the
/// field is private.
///
/// ```
/// use typed_id::{Seq, SeqSpec};
///
/// let five = SeqSpec::new(5)?;
/// assert_eq!(five.width(), 5);
/// assert_eq!(Seq::with_spec(42, &five)?.as_str(), "00042");
/// assert!(SeqSpec::new(0).is_err() && SeqSpec::new(19).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ```compile_fail,E0451
/// // Not built field by field: the width would go unchecked.
/// let spec = typed_id::SeqSpec { width: 19 };
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqSpec {
    /// Minimum digits (1..=18); shorter numbers are zero-padded.
    pub(crate) width: u8,
}

impl SeqSpec {
    /// Width 3: `001` … `999`, then `1000`.
    pub const DEFAULT: SeqSpec = SeqSpec { width: 3 };

    /// Options with the given width: the minimum number of digits, `1..=18`.
    ///
    /// # Errors
    /// [`SpecError::OutOfRange`] for a width outside `1..=18`.
    pub const fn new(width: u8) -> Result<Self, SpecError> {
        if width < 1 || width as usize > MAX_DIGITS {
            return Err(SpecError::OutOfRange {
                spec: "SeqSpec",
                field: "width",
                value: width,
                min: 1,
                max: MAX_DIGITS as u8,
            });
        }
        Ok(SeqSpec { width })
    }

    /// Minimum digits; shorter numbers are zero-padded.
    #[must_use]
    pub const fn width(&self) -> u8 {
        self.width
    }

    /// Longest body text in bytes.
    #[must_use]
    pub const fn max_text_len(&self) -> usize {
        MAX_DIGITS
    }

    /// The body grammar as a regular expression (not anchored).
    #[must_use]
    pub const fn pattern(&self) -> Pattern {
        let w = self.width as u64;
        let mut p = Pattern::new().push("(?:");
        // Padded forms: k leading zeros, then a non-zero digit, then the rest.
        let mut k = 1;
        while k < w {
            p = p.push("0").push_repeat(k, k).push("[1-9]");
            if w - 1 - k > 0 {
                p = p.push("[0-9]").push_repeat(w - 1 - k, w - 1 - k);
            }
            p = p.push("|");
            k += 1;
        }
        // Unpadded forms: width digits or more, no leading zero.
        p = p.push("[1-9]");
        if MAX_DIGITS as u64 - 1 > 0 {
            p = p.push("[0-9]").push_repeat(w - 1, MAX_DIGITS as u64 - 1);
        }
        p.push(")")
    }
}

impl Default for SeqSpec {
    fn default() -> Self {
        SeqSpec::DEFAULT
    }
}

/// A sequential display body: a positive number with its padded text, e.g. `042`.
///
/// ```
/// use typed_id::Seq;
///
/// let n = Seq::new(42)?;
/// assert_eq!(n.as_str(), "042");
/// assert_eq!(n.value(), 42);
/// assert_eq!(Seq::new(1000)?.as_str(), "1000");
/// assert!(Seq::parse("42").is_err(), "must be padded to 3 digits");
/// assert!(Seq::new(999)? < Seq::new(1000)?, "ordered by value");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Equality, order and hashing use the number. So `Seq` is `AsRef<str>` but not
/// `Borrow<str>`, which would have to agree with them: `999 < 1000` while `"999" >
/// "1000"`, and `042` at width 3 equals `00042` at width 5.
///
/// Only the text is stored (19 bytes); the number is read from it when asked for.
#[derive(Clone, Copy)]
pub struct Seq {
    text: InlineText<TEXT_CAP>,
}

impl Seq {
    /// The anchored pattern [`Seq::parse`] accepts (width 3).
    pub const PATTERN: &'static str = PATTERN_BUF.as_str();
    /// The largest display number, 999 999 999 999 999 999.
    pub const MAX: u64 = MAX;

    /// The number `value` at width 3.
    ///
    /// # Errors
    /// [`IdError::Zero`] for 0, [`IdError::Overflow`] above [`Seq::MAX`].
    pub fn new(value: u64) -> Result<Self, IdError> {
        Self::with_spec(value, &SeqSpec::DEFAULT)
    }

    /// The number `value` at the given width.
    ///
    /// # Errors
    /// As [`Seq::new`].
    pub fn with_spec(value: u64, spec: &SeqSpec) -> Result<Self, IdError> {
        if value == 0 {
            return Err(IdError::Zero);
        }
        if value > MAX {
            return Err(IdError::Overflow { max: MAX });
        }
        Ok(Self::render(value, spec))
    }

    /// The text of `value` (in `1..=MAX`) at the width of `spec`.
    #[inline]
    fn render(value: u64, spec: &SeqSpec) -> Self {
        debug_assert!((1..=MAX).contains(&value));
        let mut digits = [b'0'; MAX_DIGITS];
        let mut at = MAX_DIGITS;
        let mut v = value;
        while v > 0 {
            at -= 1;
            digits[at] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        let start = at.min(MAX_DIGITS - usize::from(spec.width));
        let len = MAX_DIGITS - start;
        let mut buf = [0u8; TEXT_CAP];
        buf[..len].copy_from_slice(&digits[start..]);
        Seq {
            text: InlineText::from_buf(buf, len),
        }
    }

    /// Parses canonical text at width 3.
    ///
    /// # Errors
    /// A [`ParseIdError`]: non-digits, zero, missing padding, extra leading zeros, or
    /// more than 18 digits.
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        super::parse_bare(s, &SeqSpec::DEFAULT)
    }

    /// Parses canonical text at the given width.
    ///
    /// # Errors
    /// As [`Seq::parse`].
    pub fn parse_with(s: &str, spec: &SeqSpec) -> Result<Self, ParseIdError> {
        super::parse_bare(s, spec)
    }

    /// The number.
    #[must_use]
    #[inline]
    pub fn value(&self) -> u64 {
        // Stored text is 1 to 18 digits: no overflow, no other byte.
        self.text
            .as_str()
            .bytes()
            .fold(0, |v, b| v * 10 + u64::from(b - b'0'))
    }

    /// The padded text, e.g. `042`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }
}

const PATTERN_BUF: Pattern = pattern::fits(Pattern::anchored(&SeqSpec::DEFAULT.pattern()));

impl PartialEq for Seq {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl Eq for Seq {}

impl PartialOrd for Seq {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Seq {
    fn cmp(&self, other: &Self) -> Ordering {
        self.value().cmp(&other.value())
    }
}

impl Hash for Seq {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value().hash(state);
    }
}

body_traits!(Seq, text);

impl Body for Seq {
    type Spec = SeqSpec;
    const DEFAULT_SPEC: SeqSpec = SeqSpec::DEFAULT;
    const NAME: &'static str = "Seq";

    #[inline]
    fn max_len(spec: &SeqSpec) -> usize {
        spec.max_text_len()
    }

    #[inline]
    fn parse_body(body: &str, spec: &SeqSpec) -> Result<Self, (usize, ParseErrorKind)> {
        let bytes = body.as_bytes();
        scan(bytes, spec).map_err(|e| (e.index, e.kind))?;
        Ok(Seq {
            text: super::store(bytes)?,
        })
    }

    #[inline]
    fn write_body(&self, _: &SeqSpec, out: &mut IdText) {
        // A derived type's value is always rendered at the type's width (`adopt`).
        let (padded, len) = self.text.padded();
        out.push_padded(padded, len);
    }

    fn adopt(self, spec: &SeqSpec) -> Result<Self, ParseErrorKind> {
        // A number is valid at any width: render it at this one.
        Ok(Self::render(self.value(), spec))
    }
}

#[inline]
fn scan(bytes: &[u8], spec: &SeqSpec) -> Result<u64, BodyError> {
    let (count, value) = scan_decimal(bytes);
    if count < bytes.len() || count == 0 {
        return Err(BodyError::at(bytes, count, Expected::Digit));
    }
    let width = usize::from(spec.width);
    if count < width {
        return Err(BodyError::new(
            0,
            ParseErrorKind::TooNarrow { width: spec.width },
        ));
    }
    if count > width && bytes[0] == b'0' {
        return Err(BodyError::new(0, ParseErrorKind::LeadingZero));
    }
    if count > MAX_DIGITS {
        return Err(BodyError::new(0, ParseErrorKind::Overflow { max: MAX }));
    }
    if value == 0 {
        return Err(BodyError::new(0, ParseErrorKind::ZeroNumber));
    }
    Ok(value)
}

const _: () = assert!(size_of::<Seq>() == 19);
