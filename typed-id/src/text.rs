//! A fixed-capacity, inline, ASCII text buffer: the storage behind every text-bodied ID.
//!
//! The buffer holds the canonical text of the whole ID (`el-a3f8e9.1.2`) when the body
//! lives inside a derived type, or just the body (`a3f8e9.1.2`) when it stands alone;
//! `start` marks where the body begins. Equality, order and hashing look only at the
//! body, so a body compares the same whichever type carries it.

use core::cmp::Ordering;
use core::hash::{Hash, Hasher};

#[derive(Clone, Copy)]
pub(crate) struct InlineText<const CAP: usize> {
    len: u8,
    start: u8,
    buf: [u8; CAP],
}

impl<const CAP: usize> InlineText<CAP> {
    /// Text made of `prefix` + `-` + `body` (or just `body` when `prefix` is empty).
    /// `None` when it does not fit. Callers pass ASCII only.
    #[inline]
    pub(crate) fn new(prefix: &str, body: &[u8]) -> Option<Self> {
        let start = if prefix.is_empty() {
            0
        } else {
            prefix.len() + 1
        };
        let len = start + body.len();
        if len > CAP || CAP > usize::from(u8::MAX) {
            return None;
        }
        let mut buf = [0u8; CAP];
        if start > 0 {
            buf[..prefix.len()].copy_from_slice(prefix.as_bytes());
            buf[prefix.len()] = b'-';
        }
        buf[start..len].copy_from_slice(body);
        debug_assert!(buf[..len].is_ascii());
        Some(InlineText {
            len: len as u8,
            start: start as u8,
            buf,
        })
    }

    /// The whole text, prefix included.
    #[inline]
    pub(crate) fn full(&self) -> &str {
        let bytes = &self.buf[..usize::from(self.len)];
        debug_assert!(bytes.is_ascii());
        // SAFETY: every constructor writes ASCII bytes only (parsers accept nothing else,
        // generators write base36/hex/decimal digits), and ASCII is valid UTF-8.
        unsafe { core::str::from_utf8_unchecked(bytes) }
    }

    /// The body alone.
    #[inline]
    pub(crate) fn body(&self) -> &str {
        &self.full()[usize::from(self.start)..]
    }

    /// The prefix without its `-` (empty for a bare body).
    #[inline]
    pub(crate) fn prefix(&self) -> &str {
        let start = usize::from(self.start);
        if start == 0 {
            ""
        } else {
            &self.full()[..start - 1]
        }
    }

    /// The same text cut to `body_len` bytes of body.
    #[inline]
    pub(crate) fn truncate_body(mut self, body_len: usize) -> Self {
        let new_len = usize::from(self.start) + body_len;
        debug_assert!(new_len <= usize::from(self.len));
        self.buf[new_len..usize::from(self.len)].fill(0);
        self.len = new_len as u8;
        self
    }

    /// The same body under another prefix (empty: bare). `None` if it does not fit.
    #[inline]
    pub(crate) fn with_prefix(&self, prefix: &str) -> Option<Self> {
        Self::new(prefix, self.body().as_bytes())
    }

    /// Appends ASCII bytes to the body. `None` if they do not fit.
    #[inline]
    pub(crate) fn push(mut self, bytes: &[u8]) -> Option<Self> {
        let len = usize::from(self.len);
        let end = len.checked_add(bytes.len())?;
        if end > CAP {
            return None;
        }
        debug_assert!(bytes.is_ascii());
        self.buf[len..end].copy_from_slice(bytes);
        self.len = end as u8;
        Some(self)
    }
}

impl<const CAP: usize> core::fmt::Debug for InlineText<CAP> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.full(), f)
    }
}

impl<const CAP: usize> PartialEq for InlineText<CAP> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.body() == other.body()
    }
}

impl<const CAP: usize> Eq for InlineText<CAP> {}

impl<const CAP: usize> PartialOrd for InlineText<CAP> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<const CAP: usize> Ord for InlineText<CAP> {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        self.body().as_bytes().cmp(other.body().as_bytes())
    }
}

impl<const CAP: usize> Hash for InlineText<CAP> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.body().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_body() {
        let t = InlineText::<16>::new("el", b"abc.1").unwrap();
        assert_eq!(t.full(), "el-abc.1");
        assert_eq!(t.body(), "abc.1");
        assert_eq!(t.prefix(), "el");
        let bare = t.with_prefix("").unwrap();
        assert_eq!(bare.full(), "abc.1");
        assert_eq!(bare, t, "equality looks at the body only");
        assert_eq!(t.truncate_body(3).full(), "el-abc");
        assert!(InlineText::<4>::new("el", b"abc").is_none());
        assert_eq!(
            InlineText::<8>::new("", b"ab")
                .unwrap()
                .push(b".7")
                .unwrap()
                .full(),
            "ab.7"
        );
        assert!(
            InlineText::<3>::new("", b"ab")
                .unwrap()
                .push(b".7")
                .is_none()
        );
    }
}
