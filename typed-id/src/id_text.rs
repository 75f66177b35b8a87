//! [`IdText`]: any ID's canonical text in a stack buffer, for code that needs a `&str`
//! without allocating. A value keeps only its body (a snowflake not even digits), so the
//! whole text — the type's prefix, its separator, the body — is composed here: two
//! fixed-size copies for text bodies, the digits written in place for snowflakes.

use core::fmt;
use core::ops::Deref;

/// The canonical text of an ID (`msg-1767053847123456789`, `el-a3f8e9.1.2`), held in a
/// stack buffer: `Copy`, no allocation. Get one from
/// [`TypedId::to_text`](crate::TypedId::to_text).
///
/// ```
/// use typed_id::{Snowflake, TypedId};
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "msg")]
/// struct MessageId(Snowflake);
///
/// let id = MessageId::from_u64(1_767_053_847_123_456_789)?;
/// let text = id.to_text();
/// assert_eq!(text.as_str(), "msg-1767053847123456789");
/// assert_eq!(&*text, "msg-1767053847123456789"); // derefs to `str`
/// # Ok::<(), typed_id::IdError>(())
/// ```
#[derive(Clone, Copy)]
pub struct IdText {
    len: u8,
    buf: [u8; IdText::CAP],
}

impl IdText {
    /// Capacity in bytes: the longest canonical text of any ID kind (a TypeID with a
    /// 63-character prefix is 90 bytes).
    pub const CAP: usize = 96;

    pub(crate) const fn new() -> Self {
        IdText {
            len: 0,
            buf: [0; IdText::CAP],
        }
    }

    /// `prefix`, the separator byte (ASCII) and then nothing: the start of a derived
    /// ID's text, which the body completes with [`push_padded`](Self::push_padded) or
    /// [`push_str`](Self::push_str). Prefixes are at most 63 bytes (a TypeID's), which
    /// leaves room for the longest body; a longer one is cut at `CAP`.
    #[inline(always)]
    pub(crate) fn prefixed(prefix: &str, separator: u8) -> Self {
        debug_assert!(separator.is_ascii());
        let mut text = IdText::new();
        let n = prefix.len();
        if n < IdText::CAP {
            // Inlined into a derived type's code, `n` is a constant: a few moves.
            text.buf[..n].copy_from_slice(prefix.as_bytes());
            text.buf[n] = separator;
            text.len = (n + 1) as u8;
        }
        text
    }

    /// Appends `s` when it fits; otherwise leaves the text as it was.
    #[inline]
    pub(crate) fn push_str(&mut self, s: &str) {
        let at = usize::from(self.len);
        if let Some(dst) = self.buf.get_mut(at..at + s.len()) {
            dst.copy_from_slice(s.as_bytes());
            self.len = (at + s.len()) as u8;
        }
    }

    /// Appends the first `len` bytes of `padded` (ASCII), whose bytes after `len` are
    /// zero: copied as one fixed-size block when the whole block fits, so the copy is a
    /// few register moves instead of a `memcpy` call.
    #[inline(always)]
    pub(crate) fn push_padded<const N: usize>(&mut self, padded: &[u8; N], len: usize) {
        debug_assert!(len <= N && padded[..len].is_ascii());
        let at = usize::from(self.len);
        if let Some(dst) = self.buf.get_mut(at..at + N) {
            dst.copy_from_slice(padded);
            self.len = (at + len) as u8;
        } else if let Some(dst) = self.buf.get_mut(at..at + len) {
            dst.copy_from_slice(&padded[..len]);
            self.len = (at + len) as u8;
        }
    }

    /// Lets `write` put ASCII at the start of the spare room (at least `room` bytes;
    /// otherwise nothing is written) and keeps the number of bytes it returns.
    #[inline(always)]
    pub(crate) fn push_with(&mut self, room: usize, write: impl FnOnce(&mut [u8]) -> usize) {
        let at = usize::from(self.len);
        if let Some(spare) = self.buf.get_mut(at..at + room) {
            let n = write(spare).min(room);
            debug_assert!(spare[..n].is_ascii());
            self.len = (at + n) as u8;
        }
    }

    /// The text.
    #[must_use]
    #[inline]
    pub fn as_str(&self) -> &str {
        let bytes = &self.buf[..usize::from(self.len)];
        debug_assert!(core::str::from_utf8(bytes).is_ok());
        // SAFETY: only whole `&str`s (`write_str`, `push_str`) and ASCII
        // (`push_padded`, `push_with`, whose bytes past `len` are zeros, also ASCII and cut off or
        // overwritten by the next push) are ever appended, so the bytes up to `len` are
        // valid UTF-8. (Checking again cost a fifth of `to_string()`.)
        unsafe { core::str::from_utf8_unchecked(bytes) }
    }
}

impl fmt::Write for IdText {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let at = usize::from(self.len);
        let end = at + s.len();
        if end > IdText::CAP {
            return Err(fmt::Error);
        }
        self.buf[at..end].copy_from_slice(s.as_bytes());
        self.len = end as u8;
        Ok(())
    }
}

impl Deref for IdText {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for IdText {
    #[inline]
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for IdText {
    fn eq(&self, other: &IdText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for IdText {}

impl PartialEq<str> for IdText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for IdText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for IdText {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<IdText> for str {
    fn eq(&self, other: &IdText) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<IdText> for &str {
    fn eq(&self, other: &IdText) -> bool {
        *self == other.as_str()
    }
}

impl fmt::Display for IdText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for IdText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write as _;

    #[test]
    fn appends_until_full_then_refuses_without_a_partial_write() {
        let mut text = IdText::new();
        assert_eq!(text.as_str(), "");
        text.write_str("msg-").unwrap();
        text.write_str("42").unwrap();
        assert_eq!(text, "msg-42");
        let long = "x".repeat(IdText::CAP - 6);
        text.write_str(&long).unwrap();
        assert_eq!(text.len(), IdText::CAP);
        assert!(text.write_str("y").is_err());
        assert_eq!(
            text.len(),
            IdText::CAP,
            "a refused write leaves the text as it was"
        );
        assert_eq!(format!("{text:?}"), format!("{:?}", text.as_str()));
    }
}
