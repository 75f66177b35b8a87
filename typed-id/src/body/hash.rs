//! Content-hash bodies with an optional child path: `a3f8e9`, `a3f8e9.1`, `a3f8e9.1.2`.
//!
//! The grammar, byte for byte: a base36 hash of `min_len..=max_len` lowercase characters
//! (`0-9a-z`, at most 8), then up to `max_depth` (at most 3) child segments, each a `.`
//! and a number in `1..=4294967295` written without leading zeros. Uppercase, `+`, a child
//! `0` or `01`, and empty segments are rejected: there is exactly one text per ID.

use super::{Body, scan_decimal};
use crate::error::{BodyError, Expected, IdError, ParseErrorKind, ParseIdError, SpecError};
use crate::id_text::IdText;
use crate::pattern::{self, Pattern, Radix};
use crate::text::InlineText;

/// Longest content hash.
const HASH_MAX: u8 = 8;
/// Shortest content hash.
const HASH_MIN: u8 = 3;
/// Deepest child path.
const DEPTH_MAX: u8 = 3;
/// Longest child number text (`4294967295`).
const CHILD_DIGITS: usize = 10;
/// Room for the longest body: 8 + 3 × 11 = 41 bytes (the prefix is not stored).
const TEXT_CAP: usize = 41;

/// Options of a content-hash type: hash length range and deepest child path.
///
/// Built by [`HashSpec::new`], which checks the bounds, so every value is usable; the
/// fields are private.
///
/// ```
/// use typed_id::{HashId, HashSpec};
///
/// let spec = HashSpec::new(4, 6, 1)?;
/// assert_eq!((spec.min_len(), spec.max_len(), spec.max_depth()), (4, 6, 1));
/// assert!(HashId::parse_with("a3f8.1", &spec).is_ok());
/// assert!(HashId::parse_with("a3f8.1.2", &spec).is_err());
/// assert!(HashSpec::new(6, 4, 1).is_err(), "min_len above max_len");
/// assert!(HashSpec::new(3, 9, 0).is_err() && HashSpec::new(3, 8, 4).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ```compile_fail,E0451
/// // Not built field by field: the bounds would go unchecked.
/// let spec = typed_id::HashSpec { min_len: 0, max_len: 200, max_depth: 9 };
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashSpec {
    /// Shortest accepted hash (3..=8).
    pub(crate) min_len: u8,
    /// Longest accepted hash (min_len..=8).
    pub(crate) max_len: u8,
    /// Deepest child path (0..=3); 0 means the type has no children.
    pub(crate) max_depth: u8,
}

impl HashSpec {
    /// The widest grammar: hashes of 3 to 8 characters, up to 3 child segments.
    pub const DEFAULT: HashSpec = HashSpec {
        min_len: HASH_MIN,
        max_len: HASH_MAX,
        max_depth: DEPTH_MAX,
    };

    /// Options with the given bounds: `3 <= min_len <= max_len <= 8` and
    /// `max_depth <= 3`.
    ///
    /// # Errors
    /// [`SpecError::OutOfRange`] naming the first bound that is out of range.
    pub const fn new(min_len: u8, max_len: u8, max_depth: u8) -> Result<Self, SpecError> {
        const fn out_of_range(field: &'static str, value: u8, min: u8, max: u8) -> SpecError {
            SpecError::OutOfRange {
                spec: "HashSpec",
                field,
                value,
                min,
                max,
            }
        }
        if min_len < HASH_MIN || min_len > HASH_MAX {
            return Err(out_of_range("min_len", min_len, HASH_MIN, HASH_MAX));
        }
        if max_len < min_len || max_len > HASH_MAX {
            return Err(out_of_range("max_len", max_len, min_len, HASH_MAX));
        }
        if max_depth > DEPTH_MAX {
            return Err(out_of_range("max_depth", max_depth, 0, DEPTH_MAX));
        }
        Ok(HashSpec {
            min_len,
            max_len,
            max_depth,
        })
    }

    /// Shortest accepted hash.
    #[must_use]
    pub const fn min_len(&self) -> u8 {
        self.min_len
    }

    /// Longest accepted hash.
    #[must_use]
    pub const fn max_len(&self) -> u8 {
        self.max_len
    }

    /// Deepest child path; 0 means the type has no children.
    #[must_use]
    pub const fn max_depth(&self) -> u8 {
        self.max_depth
    }

    /// Longest body text in bytes.
    #[must_use]
    pub const fn max_text_len(&self) -> usize {
        self.max_len as usize + self.max_depth as usize * (CHILD_DIGITS + 1)
    }

    /// The body grammar as a regular expression (not anchored).
    #[must_use]
    pub const fn pattern(&self) -> Pattern {
        let p = Pattern::new()
            .push("[0-9a-z]")
            .push_repeat(self.min_len as u64, self.max_len as u64);
        if self.max_depth == 0 {
            return p;
        }
        p.push("(?:\\.")
            .push_bounded(Radix::Decimal, u32::MAX as u64, false)
            .push(")")
            .push_repeat(0, self.max_depth as u64)
    }
}

impl Default for HashSpec {
    fn default() -> Self {
        HashSpec::DEFAULT
    }
}

/// A content-hash ID body with an optional child path, e.g. `a3f8e9.1.2`.
///
/// ```
/// use typed_id::HashId;
///
/// let id = HashId::parse("a3f8e9.1.2")?;
/// assert_eq!(id.depth(), 2);
/// assert_eq!(id.hash_str(), "a3f8e9");
/// assert_eq!(id.parent().unwrap().as_str(), "a3f8e9.1");
/// assert_eq!(id.root().as_str(), "a3f8e9");
/// assert!(id.root().is_ancestor_of(&id));
/// assert_eq!(id.child(7)?.as_str(), "a3f8e9.1.2.7");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Equality, order and hashing compare the body text byte by byte (the order of a
/// database's `C` collation), whichever derived type carries it. So the body also
/// borrows as that text (`Borrow<str>`), and a `HashSet<HashId>` can be searched with a
/// `&str`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HashId {
    text: InlineText<TEXT_CAP>,
}

impl HashId {
    /// The anchored pattern [`HashId::parse`] accepts.
    pub const PATTERN: &'static str = PATTERN_BUF.as_str();

    /// Parses the canonical body text with the default options
    /// ([`HashSpec::DEFAULT`]: 3 to 8 characters, up to 3 child segments).
    ///
    /// # Errors
    /// A [`ParseIdError`] naming the byte at fault; see the module docs for the grammar.
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        Self::parse_with(s, &HashSpec::DEFAULT)
    }

    /// Parses with narrower options.
    ///
    /// # Errors
    /// As [`HashId::parse`], against the given options.
    pub fn parse_with(s: &str, spec: &HashSpec) -> Result<Self, ParseIdError> {
        super::parse_bare(s, spec)
    }

    /// A root ID from a hash value: `value mod 36^len` as exactly `len` base36 digits.
    ///
    /// # Errors
    /// [`IdError::HashLength`] when `len` is not in `3..=8`.
    pub fn from_hash_value(value: u64, len: u8) -> Result<Self, IdError> {
        if !(HASH_MIN..=HASH_MAX).contains(&len) {
            return Err(IdError::HashLength {
                len: usize::from(len),
                min: HASH_MIN,
                max: HASH_MAX,
            });
        }
        let err = IdError::HashLength {
            len: usize::from(len),
            min: HASH_MIN,
            max: HASH_MAX,
        };
        let digits = crate::codec::encode_base36_fixed(value, usize::from(len)).ok_or(err)?;
        let text = InlineText::new(digits.as_bytes()).ok_or(err)?;
        Ok(HashId { text })
    }

    /// A root ID from the base36 digits the generator chose (3 to 8 of them).
    #[inline]
    pub(crate) fn from_generated(digits: &[u8]) -> Self {
        debug_assert!((usize::from(HASH_MIN)..=usize::from(HASH_MAX)).contains(&digits.len()));
        debug_assert!(digits.iter().all(|&b| is_base36(b)));
        let mut buf = [0u8; TEXT_CAP];
        buf[..digits.len()].copy_from_slice(digits);
        HashId {
            text: InlineText::from_buf(buf, digits.len()),
        }
    }

    /// The body text, e.g. `a3f8e9.1.2`.
    #[inline]
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The content hash alone, e.g. `a3f8e9`.
    #[must_use]
    pub fn hash_str(&self) -> &str {
        let body = self.as_str();
        match body.find('.') {
            Some(dot) => &body[..dot],
            None => body,
        }
    }

    /// Number of child segments: 0 for a root.
    #[must_use]
    pub fn depth(&self) -> u8 {
        self.as_str().bytes().filter(|&b| b == b'.').count() as u8
    }

    /// `true` for an ID without a child path.
    #[must_use]
    pub fn is_root(&self) -> bool {
        self.depth() == 0
    }

    /// The child numbers, outermost first (`a3f8e9.1.2` → `[1, 2]`).
    pub fn child_numbers(&self) -> impl Iterator<Item = u32> + '_ {
        // Parsed or built text: every segment is a valid u32.
        self.as_str()
            .split('.')
            .skip(1)
            .map(|n| n.parse::<u32>().unwrap_or(0))
    }

    /// The last child number, `None` for a root.
    #[must_use]
    pub fn child_number(&self) -> Option<u32> {
        self.child_numbers().last()
    }

    /// The parent (`a3f8e9.1.2` → `a3f8e9.1`), `None` for a root.
    #[must_use]
    pub fn parent(&self) -> Option<Self> {
        let dot = self.as_str().rfind('.')?;
        Some(HashId {
            text: self.text.truncate(dot),
        })
    }

    /// The root (`a3f8e9.1.2` → `a3f8e9`); a root is its own root.
    #[must_use]
    pub fn root(&self) -> Self {
        HashId {
            text: self.text.truncate(self.hash_str().len()),
        }
    }

    /// The `n`th child (`a3f8e9.1` → `a3f8e9.1.n`).
    ///
    /// # Errors
    /// [`IdError::Zero`] for `n == 0`; [`IdError::TooDeep`] when `self` is already 3
    /// levels deep.
    pub fn child(&self, n: u32) -> Result<Self, IdError> {
        self.child_within(n, DEPTH_MAX)
    }

    /// The `n`th child, for a type allowing at most `max_depth` levels.
    pub(crate) fn child_within(&self, n: u32, max_depth: u8) -> Result<Self, IdError> {
        if n == 0 {
            return Err(IdError::Zero);
        }
        if self.depth() >= max_depth {
            return Err(IdError::TooDeep { max_depth });
        }
        // `.` followed by the decimal digits of n, written right to left.
        let mut seg = [b'.'; CHILD_DIGITS + 1];
        let mut at = seg.len();
        let mut v = n;
        while v > 0 {
            at -= 1;
            seg[at] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        let seg = &seg[at - 1..];
        let text = self.text.push(seg).ok_or(IdError::TooDeep { max_depth })?;
        Ok(HashId { text })
    }

    /// `true` when `self` is a strict ancestor of `other` (`a3f8e9` of `a3f8e9.1.2`).
    #[must_use]
    pub fn is_ancestor_of(&self, other: &Self) -> bool {
        let (a, b) = (self.as_str(), other.as_str());
        b.len() > a.len() && b.starts_with(a) && b.as_bytes()[a.len()] == b'.'
    }

    /// The ancestors, nearest first: `a3f8e9.1.2` → `a3f8e9.1`, `a3f8e9`.
    #[must_use]
    pub fn ancestors(&self) -> Ancestors {
        Ancestors {
            next: self.parent(),
        }
    }
}

const PATTERN_BUF: Pattern = pattern::fits(Pattern::anchored(&HashSpec::DEFAULT.pattern()));

/// Iterator over the ancestors of a [`HashId`], nearest first.
#[derive(Clone, Debug)]
pub struct Ancestors {
    next: Option<HashId>,
}

impl Iterator for Ancestors {
    type Item = HashId;

    fn next(&mut self) -> Option<HashId> {
        let current = self.next?;
        self.next = current.parent();
        Some(current)
    }
}

body_traits!(HashId, text, borrow);

impl Body for HashId {
    type Spec = HashSpec;
    const DEFAULT_SPEC: HashSpec = HashSpec::DEFAULT;
    const NAME: &'static str = "HashId";

    #[inline]
    fn max_len(spec: &HashSpec) -> usize {
        spec.max_text_len()
    }

    #[inline]
    fn parse_body(body: &str, spec: &HashSpec) -> Result<Self, (usize, ParseErrorKind)> {
        let bytes = body.as_bytes();
        if !is_valid(bytes, spec) {
            // Only failed input pays for the diagnosis (which also accepts anything
            // `is_valid` accepts, so a disagreement could never reject a valid ID).
            diagnose(bytes, spec)?;
        }
        Ok(HashId {
            text: super::store(bytes)?,
        })
    }

    #[inline]
    fn write_body(&self, _: &HashSpec, out: &mut IdText) {
        let (padded, len) = self.text.padded();
        out.push_padded(padded, len);
    }

    fn adopt(self, spec: &HashSpec) -> Result<Self, ParseErrorKind> {
        super::recheck(self.as_str(), spec)
    }
}

/// The fast path: whether `bytes` is a valid body under `spec`, with no diagnostics.
///
/// Accepts exactly what [`scan`] accepts (a unit property test checks it). Child
/// numbers are bounded by comparing their digits with `4294967295` instead of
/// accumulating a value, and every loop is a plain byte scan over a class table.
/// (Eight-bytes-at-a-time variants of the hash and child scans measured slower on
/// IDs of this length.)
#[inline]
fn is_valid(bytes: &[u8], spec: &HashSpec) -> bool {
    let n = bytes.len();
    let mut i = 0;
    while i < n && is_base36(bytes[i]) {
        i += 1;
    }
    if i < usize::from(spec.min_len) || i > usize::from(spec.max_len) {
        return false;
    }
    let mut depth = 0u8;
    while i < n {
        if bytes[i] != b'.' || depth == spec.max_depth {
            return false;
        }
        depth += 1;
        i += 1;
        let start = i;
        if i == n || !matches!(bytes[i], b'1'..=b'9') {
            return false;
        }
        i += 1;
        while i < n && is_digit(bytes[i]) {
            i += 1;
        }
        let len = i - start;
        if len >= CHILD_DIGITS
            // Equal-length digit strings compare like their values.
            && (len > CHILD_DIGITS || &bytes[start..i] > CHILD_MAX_TEXT.as_slice())
        {
            return false;
        }
    }
    true
}

/// `u32::MAX` as text: the largest child number.
const CHILD_MAX_TEXT: &[u8; CHILD_DIGITS] = b"4294967295";

/// Byte classes of the grammar, one table load per byte on the fast path.
const BASE36: u8 = 1;
const DIGIT: u8 = 2;
static CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_digit() {
            t[b] = BASE36 | DIGIT;
        } else if c.is_ascii_lowercase() {
            t[b] = BASE36;
        }
        b += 1;
    }
    t
};

#[inline(always)]
fn is_base36(b: u8) -> bool {
    CLASSES[usize::from(b)] & BASE36 != 0
}

#[inline(always)]
fn is_digit(b: u8) -> bool {
    CLASSES[usize::from(b)] & DIGIT != 0
}

/// The error for input [`is_valid`] rejected; `Ok` only if the two disagree.
#[cold]
#[inline(never)]
fn diagnose(bytes: &[u8], spec: &HashSpec) -> Result<(), (usize, ParseErrorKind)> {
    scan(bytes, spec).map_err(|e| (e.index, e.kind))
}

/// Validates body bytes against the grammar, locating the first problem.
fn scan(bytes: &[u8], spec: &HashSpec) -> Result<(), BodyError> {
    let mut i = 0;
    while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'a'..=b'z') {
        i += 1;
    }
    let hash_len = i;
    if i < bytes.len() && bytes[i] != b'.' {
        let expected = if hash_len < usize::from(spec.max_len) {
            Expected::Base36Digit
        } else {
            Expected::DotOrEnd
        };
        return Err(BodyError::at(bytes, i, expected));
    }
    if hash_len == 0 {
        return Err(BodyError::at(bytes, 0, Expected::Base36Digit));
    }
    if hash_len < usize::from(spec.min_len) || hash_len > usize::from(spec.max_len) {
        return Err(BodyError::new(
            0,
            ParseErrorKind::HashLength {
                len: hash_len,
                min: spec.min_len,
                max: spec.max_len,
            },
        ));
    }
    let mut depth = 0u8;
    while i < bytes.len() {
        // bytes[i] is '.' here: the loop below stops only at '.' or the end.
        if depth == spec.max_depth {
            return Err(BodyError::new(
                i,
                ParseErrorKind::TooDeep {
                    max_depth: spec.max_depth,
                },
            ));
        }
        depth += 1;
        i += 1;
        let start = i;
        match bytes.get(i) {
            Some(b'1'..=b'9') => {}
            Some(b'0') => {
                let kind = if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    ParseErrorKind::LeadingZero
                } else {
                    ParseErrorKind::ZeroChild
                };
                return Err(BodyError::new(start, kind));
            }
            _ => return Err(BodyError::at(bytes, i, Expected::NonZeroDigit)),
        }
        let (count, value) = scan_decimal(&bytes[i..]);
        if count > CHILD_DIGITS || value > u64::from(u32::MAX) {
            return Err(BodyError::new(
                start,
                ParseErrorKind::Overflow {
                    max: u64::from(u32::MAX),
                },
            ));
        }
        i += count;
        if i < bytes.len() && bytes[i] != b'.' {
            return Err(BodyError::at(bytes, i, Expected::DotOrEnd));
        }
    }
    Ok(())
}

const _: () = assert!(size_of::<HashId>() == 42);
const _: () = assert!(HashSpec::DEFAULT.max_text_len() == TEXT_CAP);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn navigation() {
        let id = HashId::parse("abc.1.20.3").unwrap();
        assert_eq!(id.depth(), 3);
        assert_eq!(id.child_numbers().collect::<Vec<_>>(), [1, 20, 3]);
        let ancestors: Vec<_> = id.ancestors().map(|a| a.as_str().to_owned()).collect();
        assert_eq!(ancestors, ["abc.1.20", "abc.1", "abc"]);
        assert_eq!(id.child(1), Err(IdError::TooDeep { max_depth: 3 }));
        assert_eq!(id.root().child(0), Err(IdError::Zero));
        assert_eq!(
            id.root().child(u32::MAX).unwrap().as_str(),
            "abc.4294967295"
        );
        assert!(!id.is_ancestor_of(&id));
        let other = HashId::parse("abc.10").unwrap();
        assert!(!HashId::parse("abc.1").unwrap().is_ancestor_of(&other));
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(4_000))]

        /// The fast path and the diagnosing scanner accept the same bodies.
        #[test]
        fn fast_path_agrees_with_scan(
            s in "[0-9a-z]{0,9}(\\.[0-9]{0,11}){0,4}|[0-9a-z.A-Z+ ]{0,20}",
            min in 3u8..=8,
            extra in 0u8..=5,
            depth in 0u8..=3,
        ) {
            let spec = HashSpec::new(min, (min + extra).min(8), depth).unwrap();
            proptest::prop_assert_eq!(is_valid(s.as_bytes(), &spec), scan(s.as_bytes(), &spec).is_ok());
        }
    }

    #[test]
    fn fast_path_bounds_child_numbers() {
        let spec = HashSpec::DEFAULT;
        for (s, ok) in [
            ("abc.4294967295", true),
            ("abc.4294967296", false),
            ("abc.3999999999", true),
            ("abc.10000000000", false),
            ("abc.01", false),
            ("abc.", false),
        ] {
            assert_eq!(is_valid(s.as_bytes(), &spec), ok, "{s}");
            assert_eq!(scan(s.as_bytes(), &spec).is_ok(), ok, "{s}");
        }
    }

    #[test]
    fn from_hash_value_pads() {
        assert_eq!(HashId::from_hash_value(0, 4).unwrap().as_str(), "0000");
        assert!(HashId::from_hash_value(0, 9).is_err());
    }
}
