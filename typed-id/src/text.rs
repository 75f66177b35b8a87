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

    /// Text that is already whole (`prefix-body`, or a bare body when `start` is 0),
    /// copied in 8-byte words at fixed offsets so the value can be assembled in
    /// registers and stored once: a byte-wise or `memcpy` copy into a temporary that
    /// is then moved into the caller's `Result` costs more than parsing the ID.
    /// `None` when it does not fit. Callers pass ASCII only.
    #[inline(always)]
    pub(crate) fn from_whole(text: &[u8], start: usize) -> Option<Self> {
        let n = text.len();
        if n > CAP || CAP > usize::from(u8::MAX) || start > n {
            return None;
        }
        let mut buf = [0u8; CAP];
        let mut at = 0;
        while at < CAP {
            let end = if at + 8 < CAP { at + 8 } else { CAP };
            let word = load_word(text, at).to_le_bytes();
            buf[at..end].copy_from_slice(&word[..end - at]);
            at += 8;
        }
        debug_assert!(buf[..n].is_ascii());
        Some(InlineText {
            len: n as u8,
            start: start as u8,
            buf,
        })
    }

    /// Text already laid out in a whole buffer: `len` bytes, the body from `start`,
    /// zeros after. Callers pass ASCII only (or a `&str` prefix and ASCII after it).
    #[inline]
    pub(crate) fn from_buf(buf: [u8; CAP], len: usize, start: usize) -> Self {
        assert!(start <= len && len <= CAP && CAP <= usize::from(u8::MAX));
        debug_assert!(core::str::from_utf8(&buf[..len]).is_ok());
        debug_assert!(buf[len..].iter().all(|&b| b == 0));
        InlineText {
            len: len as u8,
            start: start as u8,
            buf,
        }
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

/// Bytes `at..at + 8` of `text` as a little-endian word, zero past the end, without
/// reading past the end: whole words are loaded directly, the last partial word as
/// the shifted final 8 bytes.
#[inline(always)]
fn load_word(text: &[u8], at: usize) -> u64 {
    let n = text.len();
    if at + 8 <= n {
        let mut w = [0u8; 8];
        w.copy_from_slice(&text[at..at + 8]);
        u64::from_le_bytes(w)
    } else if at >= n {
        0
    } else if n >= 8 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&text[n - 8..n]);
        u64::from_le_bytes(w) >> (8 * (at + 8 - n))
    } else if n >= 4 {
        // Short text, so `at` is 0: two overlapping 4-byte loads.
        debug_assert_eq!(at, 0);
        let mut lo = [0u8; 4];
        let mut hi = [0u8; 4];
        lo.copy_from_slice(&text[..4]);
        hi.copy_from_slice(&text[n - 4..n]);
        u64::from(u32::from_le_bytes(lo)) | (u64::from(u32::from_le_bytes(hi)) << (8 * (n - 4)))
    } else {
        debug_assert_eq!(at, 0);
        let mut w = 0u64;
        for (i, &b) in text.iter().enumerate() {
            w |= u64::from(b) << (8 * i);
        }
        w
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
    fn from_whole_copies_every_length_exactly() {
        let source = b"abcdefghijklmnopqrstuvwxyz0123456789.-ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for n in 0..=46 {
            let text = &source[..n];
            let start = n.min(3);
            let t = InlineText::<46>::from_whole(text, start).unwrap();
            assert_eq!(t.full().as_bytes(), text, "length {n}");
            assert_eq!(t.body().as_bytes(), &text[start..]);
            assert!(t.buf[n..].iter().all(|&b| b == 0), "padding after {n}");
        }
        assert!(InlineText::<8>::from_whole(b"123456789", 0).is_none());
        assert!(InlineText::<8>::from_whole(b"12", 3).is_none());
        assert_eq!(
            InlineText::<6>::from_whole(b"el-abc", 3).unwrap().prefix(),
            "el"
        );
    }

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
