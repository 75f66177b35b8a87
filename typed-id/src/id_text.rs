//! [`IdText`]: any ID's canonical text in a stack buffer, for code that needs a `&str`
//! without allocating (a snowflake has no text to borrow: its digits are made on demand).

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

    /// The text.
    #[must_use]
    #[inline]
    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are ever appended (see `write_str`).
        core::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("")
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
