//! TypeID bodies: a 128-bit UUID written as 26 characters of lowercase Crockford
//! base32 after the prefix and an `_`, as the TypeID specification (version 0.3.0)
//! defines them: `user_01h455vb4pex5vsknk084sn02q`.
//!
//! The suffix is the UUID's 128 bits with two zero bits in front, cut into 26 groups of
//! 5 bits from the most significant end, each written with the alphabet
//! `0123456789abcdefghjkmnpqrstvwxyz`. So the first character is `0`–`7`, and text
//! order is numeric order is the UUID's byte order (time order for UUIDv7). Only the
//! canonical form parses: no uppercase, no `i l o u`, no hyphens.
//!
//! [`TypeIdUuid`] is the body a derived type holds; [`DynTypeId`] carries any prefix the
//! specification allows (empty, or up to 63 of `a-z` and `_`, starting and ending with a
//! letter), for TypeIDs whose type is known only at run time.

use core::fmt;

use super::Body;
use crate::error::{BodyError, Expected, IdError, ParseErrorKind, ParseIdError, Part};
use crate::id_text::IdText;
use crate::pattern::{self, Pattern};

/// Characters of the suffix.
pub(crate) const SUFFIX_LEN: usize = 26;
/// Longest prefix the specification allows.
pub const MAX_PREFIX_LEN: usize = 63;

/// The base32 alphabet: Crockford's, lowercase.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Value of each byte in [`ALPHABET`], or `0xff`.
const DECODE: [u8; 256] = {
    let mut table = [0xff_u8; 256];
    let mut i = 0;
    while i < 32 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Options of a TypeID type. There are none yet: every UUID version parses, as the
/// specification asks (generated values are always UUIDv7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TypeIdSpec {}

impl TypeIdSpec {
    /// The one set of options.
    pub const DEFAULT: TypeIdSpec = TypeIdSpec {};

    /// The options (there are none to set).
    #[must_use]
    pub const fn new() -> TypeIdSpec {
        TypeIdSpec {}
    }

    /// Longest body text in bytes: the 26-character suffix.
    #[must_use]
    pub const fn max_text_len(&self) -> usize {
        SUFFIX_LEN
    }

    /// The suffix grammar as a regular expression (not anchored).
    #[must_use]
    pub const fn pattern(&self) -> Pattern {
        Pattern::new().push("[0-7][0-9a-hjkmnp-tv-z]{25}")
    }
}

/// The body of a TypeID: a 128-bit UUID (16 bytes, `Copy`), ordered by value, which
/// for UUIDv7 is creation order.
///
/// ```
/// use typed_id::TypeIdUuid;
///
/// let id = TypeIdUuid::parse("01h455vb4pex5vsknk084sn02q")?;
/// assert_eq!(id.to_string(), "01h455vb4pex5vsknk084sn02q");
/// assert_eq!(id.to_u128(), 0x0189_0a5d_ac96_774b_bcce_b302_099a_8057); // 01890a5d-ac96-774b-…
/// assert_eq!(id.version(), 7);
/// assert!(TypeIdUuid::parse("81h455vb4pex5vsknk084sn02q").is_err()); // above 128 bits
///
/// let fresh = TypeIdUuid::now_v7()?;
/// assert_eq!(fresh.version(), 7);
/// assert!(TypeIdUuid::now_v7()? > fresh); // monotonic within this process
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TypeIdUuid(u128);

impl TypeIdUuid {
    /// The anchored pattern [`TypeIdUuid::parse`] accepts (a suffix alone).
    pub const PATTERN: &'static str = BARE_PATTERN.as_str();
    /// The nil UUID, `00000000000000000000000000`.
    pub const NIL: TypeIdUuid = TypeIdUuid(0);
    /// The largest value, `7zzzzzzzzzzzzzzzzzzzzzzzzz`.
    pub const MAX: TypeIdUuid = TypeIdUuid(u128::MAX);

    /// The UUID whose 128 bits, most significant first, are `value`.
    #[must_use]
    pub const fn from_u128(value: u128) -> TypeIdUuid {
        TypeIdUuid(value)
    }

    /// The UUID's 128 bits as a number.
    #[must_use]
    pub const fn to_u128(self) -> u128 {
        self.0
    }

    /// The UUID from its 16 bytes in network (big-endian) order.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> TypeIdUuid {
        TypeIdUuid(u128::from_be_bytes(bytes))
    }

    /// The UUID's 16 bytes in network (big-endian) order.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// The UUID's version (bits 48–51): 7 for generated values, 4 for random UUIDs.
    #[must_use]
    pub const fn version(self) -> u8 {
        ((self.0 >> 76) & 0xf) as u8
    }

    /// Milliseconds since the Unix epoch, for a UUIDv7 (`None` for other versions).
    #[must_use]
    pub const fn timestamp_ms(self) -> Option<u64> {
        if self.version() == 7 {
            Some((self.0 >> 80) as u64)
        } else {
            None
        }
    }

    /// Parses a 26-character suffix.
    ///
    /// # Errors
    /// A [`ParseIdError`]: the wrong length, a character outside the lowercase
    /// alphabet, or a first character above `7` (more than 128 bits).
    pub fn parse(s: &str) -> Result<TypeIdUuid, ParseIdError> {
        super::parse_bare(s, &TypeIdSpec::DEFAULT)
    }

    /// The suffix text, written into a stack buffer.
    #[must_use]
    pub fn encode(self) -> [u8; SUFFIX_LEN] {
        // Three `u64` chunks of whole digits (12, 12 and the top 2), each written from
        // its last digit: shifts of a `u64`, not of the `u128`.
        fn put(mut chunk: u64, out: &mut [u8]) {
            for slot in out.iter_mut().rev() {
                *slot = ALPHABET[(chunk & 31) as usize];
                chunk >>= 5;
            }
        }
        const LOW60: u128 = (1 << 60) - 1;
        let mut out = [0u8; SUFFIX_LEN];
        put((self.0 >> 120) as u64, &mut out[..2]);
        put(((self.0 >> 60) & LOW60) as u64, &mut out[2..14]);
        put((self.0 & LOW60) as u64, &mut out[14..]);
        out
    }
}

const BARE_PATTERN: Pattern = pattern::fits(Pattern::anchored(&TypeIdSpec::DEFAULT.pattern()));

/// Parses a suffix: exactly 26 characters of the alphabet, the first at most `7`.
#[inline]
fn decode(bytes: &[u8]) -> Result<u128, BodyError> {
    if bytes.len() != SUFFIX_LEN {
        let at = bytes.len().min(SUFFIX_LEN);
        // A character outside the alphabet before that point is reported first: it is
        // the clearer error, and it keeps the index on a character boundary (byte 26 of
        // non-ASCII text may fall inside a character; with every byte before it in the
        // alphabet, it cannot).
        if let Some(bad) = bytes[..at].iter().position(|&b| DECODE[b as usize] == 0xff) {
            return Err(BodyError::at(bytes, bad, Expected::Base32Digit));
        }
        return Err(BodyError::new(
            at,
            ParseErrorKind::SuffixLength { len: bytes.len() },
        ));
    }
    // Three u64 accumulators (2 + 12 + 12 characters: 10 + 60 + 60 bits) instead of
    // one u128, each digit shifted to its place independently, so the steps do not wait
    // for one another (about twice as fast as `v = v << 5 | d`). An invalid byte
    // decodes to 0xff, so or-ing every decoded byte together flags it in bit 7.
    let mut seen = 0u8;
    let mut chunk = |from: usize, to: usize| {
        let mut v = 0u64;
        for (i, &b) in bytes[from..to].iter().enumerate() {
            let d = DECODE[b as usize];
            seen |= d;
            v |= u64::from(d & 31) << (5 * (to - from - 1 - i));
        }
        v
    };
    let (high, middle, low) = (chunk(0, 2), chunk(2, 14), chunk(14, 26));
    if seen & 0x80 != 0 || bytes[0] > b'7' {
        return Err(suffix_error(bytes));
    }
    Ok((u128::from(high) << 120) | (u128::from(middle) << 60) | u128::from(low))
}

#[cold]
fn suffix_error(bytes: &[u8]) -> BodyError {
    if bytes[0] > b'7' && DECODE[bytes[0] as usize] != 0xff {
        return BodyError::at(bytes, 0, Expected::Base32Lead);
    }
    let at = bytes
        .iter()
        .position(|&b| DECODE[b as usize] == 0xff)
        .unwrap_or(0);
    BodyError::at(bytes, at, Expected::Base32Digit)
}

impl fmt::Display for TypeIdUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.encode();
        // The alphabet is ASCII.
        f.write_str(core::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for TypeIdUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TypeIdUuid({self})")
    }
}

body_traits!(TypeIdUuid);

impl From<u128> for TypeIdUuid {
    fn from(value: u128) -> Self {
        TypeIdUuid(value)
    }
}

impl From<TypeIdUuid> for u128 {
    fn from(id: TypeIdUuid) -> u128 {
        id.0
    }
}

impl From<[u8; 16]> for TypeIdUuid {
    fn from(bytes: [u8; 16]) -> Self {
        TypeIdUuid::from_bytes(bytes)
    }
}

impl From<TypeIdUuid> for [u8; 16] {
    fn from(id: TypeIdUuid) -> [u8; 16] {
        id.to_bytes()
    }
}

impl Body for TypeIdUuid {
    type Spec = TypeIdSpec;
    const DEFAULT_SPEC: TypeIdSpec = TypeIdSpec::DEFAULT;
    const NAME: &'static str = "TypeIdUuid";
    const SEPARATOR: u8 = b'_';

    #[inline]
    fn max_len(spec: &TypeIdSpec) -> usize {
        spec.max_text_len()
    }

    #[inline]
    fn parse_body(body: &str, _spec: &TypeIdSpec) -> Result<Self, (usize, ParseErrorKind)> {
        decode(body.as_bytes())
            .map(TypeIdUuid)
            .map_err(|e| (e.index, e.kind))
    }

    #[inline]
    fn write_body(&self, _spec: &TypeIdSpec, out: &mut IdText) {
        out.push_padded(&self.encode(), SUFFIX_LEN);
    }

    fn adopt(self, _spec: &TypeIdSpec) -> Result<Self, ParseErrorKind> {
        Ok(self)
    }
}

/// Checks a TypeID prefix: empty, or 1–63 of `a-z` and `_` that start and end with a
/// letter. The error's index is relative to the prefix.
fn check_prefix(prefix: &[u8]) -> Result<(), BodyError> {
    if prefix.len() > MAX_PREFIX_LEN {
        return Err(BodyError::new(
            0,
            ParseErrorKind::PartTooLong {
                part: Part::Prefix,
                len: prefix.len(),
                max: MAX_PREFIX_LEN as u8,
            },
        ));
    }
    let mut i = 0;
    while i < prefix.len() {
        let b = prefix[i];
        let edge = i == 0 || i + 1 == prefix.len();
        let ok = b.is_ascii_lowercase() || (b == b'_' && !edge);
        if !ok {
            let expected = if edge {
                Expected::LowercaseLetter
            } else {
                Expected::LowercaseLetterOrUnderscore
            };
            return Err(BodyError::at(prefix, i, expected));
        }
        i += 1;
    }
    Ok(())
}

/// A TypeID whose prefix is known only at run time: any prefix the specification allows
/// (empty, or up to 63 of `a-z` and `_`, starting and ending with a letter) and a
/// [`TypeIdUuid`]. `Copy`, 96 bytes, no heap; ordered by prefix, then UUID.
///
/// ```
/// use typed_id::{DynTypeId, TypeIdUuid};
///
/// let id: DynTypeId = "user_01h455vb4pex5vsknk084sn02q".parse()?;
/// assert_eq!(id.prefix(), "user");
/// assert_eq!(id.uuid().to_string(), "01h455vb4pex5vsknk084sn02q");
/// assert_eq!(id.to_string(), "user_01h455vb4pex5vsknk084sn02q");
///
/// // No prefix, no separator.
/// let bare: DynTypeId = "01h455vb4pex5vsknk084sn02q".parse()?;
/// assert_eq!(bare.prefix(), "");
///
/// let err = "User_01h455vb4pex5vsknk084sn02q".parse::<DynTypeId>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"invalid TypeID "User_01h455vb4pex5vsknk084sn02q": found 'U' where a lowercase letter (a-z) was expected at byte 0"#
/// );
///
/// let fresh = DynTypeId::now_v7("order_item")?;
/// assert!(fresh.to_string().starts_with("order_item_0"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct DynTypeId {
    uuid: TypeIdUuid,
    prefix_len: u8,
    prefix: [u8; MAX_PREFIX_LEN],
}

impl DynTypeId {
    /// Name used in error messages.
    pub const NAME: &'static str = "TypeID";
    /// Longest TypeID text: a 63-character prefix, `_`, 26 characters.
    pub const MAX_LEN: usize = MAX_PREFIX_LEN + 1 + SUFFIX_LEN;
    /// The anchored pattern [`DynTypeId::parse`] accepts.
    pub const PATTERN: &'static str = DYN_PATTERN.as_str();

    /// A TypeID with `prefix` and `uuid`.
    ///
    /// # Errors
    /// [`IdError::Shape`] when the specification does not allow `prefix`.
    pub fn new(prefix: &str, uuid: TypeIdUuid) -> Result<DynTypeId, IdError> {
        check_prefix(prefix.as_bytes()).map_err(|e| IdError::Shape(e.kind))?;
        let mut buf = [0u8; MAX_PREFIX_LEN];
        buf[..prefix.len()].copy_from_slice(prefix.as_bytes());
        Ok(DynTypeId {
            uuid,
            prefix_len: prefix.len() as u8,
            prefix: buf,
        })
    }

    /// Parses TypeID text: `prefix_suffix`, or a bare suffix.
    ///
    /// # Errors
    /// A [`ParseIdError`] naming `TypeID`, with the byte at fault.
    pub fn parse(input: &str) -> Result<DynTypeId, ParseIdError> {
        let err = |index, kind| ParseIdError::new(Self::NAME, input, index, kind);
        if input.is_empty() {
            return Err(err(0, ParseErrorKind::Empty));
        }
        if input.len() > Self::MAX_LEN {
            return Err(err(
                0,
                ParseErrorKind::TooLong {
                    len: input.len(),
                    max: Self::MAX_LEN,
                },
            ));
        }
        let bytes = input.as_bytes();
        // The suffix is the last 26 bytes; a prefix, if any, ends with `_` before it.
        let (prefix, suffix_at) = match input.rfind('_') {
            None => (&bytes[..0], 0),
            Some(sep) => {
                if sep == 0 {
                    return Err(err(
                        0,
                        ParseErrorKind::UnexpectedChar {
                            found: '_',
                            expected: Expected::LowercaseLetter,
                        },
                    ));
                }
                (&bytes[..sep], sep + 1)
            }
        };
        check_prefix(prefix).map_err(|e| err(e.index, e.kind))?;
        let uuid = decode(&bytes[suffix_at..]).map_err(|e| err(suffix_at + e.index, e.kind))?;
        let mut buf = [0u8; MAX_PREFIX_LEN];
        buf[..prefix.len()].copy_from_slice(prefix);
        Ok(DynTypeId {
            uuid: TypeIdUuid(uuid),
            prefix_len: prefix.len() as u8,
            prefix: buf,
        })
    }

    /// Whether the specification allows `prefix`: empty, or 1–63 of `a-z` and `_` that
    /// start and end with a letter (the derive checks the same rule at compile time).
    #[must_use]
    pub fn is_valid_prefix(prefix: &str) -> bool {
        check_prefix(prefix.as_bytes()).is_ok()
    }

    /// The prefix (empty for a bare suffix).
    #[must_use]
    pub fn prefix(&self) -> &str {
        // Checked to be ASCII when the value was made.
        core::str::from_utf8(&self.prefix[..usize::from(self.prefix_len)]).unwrap_or_default()
    }

    /// The UUID.
    #[must_use]
    pub const fn uuid(&self) -> TypeIdUuid {
        self.uuid
    }
}

/// An optional prefix with its `_`, then the suffix. Suffixes have no `_`, so a regex
/// engine (like the parser, which splits at the last `_`) finds the prefix unambiguously.
const DYN_PATTERN: Pattern = pattern::fits(Pattern::anchored(
    &Pattern::new()
        .push("(?:[a-z](?:[a-z_]{0,61}[a-z])?_)?")
        .push_pattern(&TypeIdSpec::DEFAULT.pattern()),
));

impl PartialEq for DynTypeId {
    fn eq(&self, other: &Self) -> bool {
        self.uuid == other.uuid && self.prefix() == other.prefix()
    }
}

impl Eq for DynTypeId {}

impl core::hash::Hash for DynTypeId {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.prefix().hash(state);
        self.uuid.hash(state);
    }
}

impl PartialOrd for DynTypeId {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DynTypeId {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.prefix()
            .cmp(other.prefix())
            .then(self.uuid.cmp(&other.uuid))
    }
}

impl fmt::Display for DynTypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Composed on the stack and written once: the writer grows once.
        let mut text = if self.prefix().is_empty() {
            IdText::new()
        } else {
            IdText::prefixed(self.prefix(), TypeIdUuid::SEPARATOR)
        };
        self.uuid.write_body(&TypeIdSpec::DEFAULT, &mut text);
        f.write_str(text.as_str())
    }
}

impl fmt::Debug for DynTypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DynTypeId(\"{self}\")")
    }
}

body_traits!(DynTypeId);

impl TryFrom<&str> for DynTypeId {
    type Error = ParseIdError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        DynTypeId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_the_specification() {
        for ok in ["", "a", "user", "my_type", "my__type", &"a".repeat(63)] {
            assert!(DynTypeId::is_valid_prefix(ok), "{ok:?}");
        }
        for bad in ["_a", "a_", "A", "a1", "a-b", "é", &"a".repeat(64), "_"] {
            assert!(!DynTypeId::is_valid_prefix(bad), "{bad:?}");
        }
    }
}
