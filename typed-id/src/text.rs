//! A fixed-capacity, inline, ASCII text buffer: the storage behind every text body.
//!
//! It holds the canonical text of the body alone (`a3f8e9.1.2`); a derived type's
//! prefix is the type's constant, written beside the body when the ID is displayed.
//! So a value's size depends only on its body's longest text, whatever the prefix.
//! Bytes after the text are zero. Equality, order and hashing look at the text.

use core::cmp::Ordering;
use core::hash::{Hash, Hasher};

#[derive(Clone, Copy)]
pub(crate) struct InlineText<const CAP: usize> {
    len: u8,
    buf: [u8; CAP],
}

impl<const CAP: usize> InlineText<CAP> {
    /// A copy of `text`, made in 8-byte words at fixed offsets so the value can be
    /// assembled in registers and stored once: a byte-wise or `memcpy` copy into a
    /// temporary that is then moved into the caller's `Result` costs more than parsing
    /// the ID. `None` when it does not fit. Callers pass ASCII only.
    #[inline(always)]
    pub(crate) fn new(text: &[u8]) -> Option<Self> {
        let n = text.len();
        if n > CAP || CAP > usize::from(u8::MAX) {
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
        Some(InlineText { len: n as u8, buf })
    }

    /// Text already laid out in a buffer: `len` bytes, zeros after. Callers pass ASCII
    /// only.
    #[inline]
    pub(crate) fn from_buf(buf: [u8; CAP], len: usize) -> Self {
        assert!(len <= CAP && CAP <= usize::from(u8::MAX));
        debug_assert!(buf[..len].is_ascii());
        debug_assert!(buf[len..].iter().all(|&b| b == 0));
        InlineText {
            len: len as u8,
            buf,
        }
    }

    /// The text.
    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        let bytes = &self.buf[..usize::from(self.len)];
        debug_assert!(bytes.is_ascii());
        // SAFETY: every constructor writes ASCII bytes only (parsers accept nothing else,
        // generators write base36/hex/decimal digits), and ASCII is valid UTF-8.
        unsafe { core::str::from_utf8_unchecked(bytes) }
    }

    /// The whole buffer, zero after the text: copied as one fixed-size block when the
    /// text is written beside a prefix.
    #[inline]
    pub(crate) fn padded(&self) -> (&[u8; CAP], usize) {
        (&self.buf, usize::from(self.len))
    }

    /// The same text cut to `len` bytes.
    #[inline]
    pub(crate) fn truncate(mut self, len: usize) -> Self {
        debug_assert!(len <= usize::from(self.len));
        self.buf[len..usize::from(self.len)].fill(0);
        self.len = len as u8;
        self
    }

    /// Appends ASCII bytes. `None` if they do not fit.
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
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const CAP: usize> PartialEq for InlineText<CAP> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
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
        self.as_str().as_bytes().cmp(other.as_str().as_bytes())
    }
}

impl<const CAP: usize> Hash for InlineText<CAP> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_copies_every_length_exactly() {
        let source = b"abcdefghijklmnopqrstuvwxyz0123456789.-ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for n in 0..=41 {
            let text = &source[..n];
            let t = InlineText::<41>::new(text).unwrap();
            assert_eq!(t.as_str().as_bytes(), text, "length {n}");
            assert!(t.buf[n..].iter().all(|&b| b == 0), "padding after {n}");
            assert_eq!(t.padded().1, n);
        }
        assert!(InlineText::<8>::new(b"123456789").is_none());
    }

    #[test]
    fn truncate_and_push() {
        let t = InlineText::<16>::new(b"abc.1").unwrap();
        assert_eq!(t.truncate(3).as_str(), "abc");
        assert!(t.truncate(3).buf[3..].iter().all(|&b| b == 0));
        assert_eq!(t.push(b".7").unwrap().as_str(), "abc.1.7");
        assert!(InlineText::<3>::new(b"ab").unwrap().push(b".7").is_none());
        assert!(InlineText::<4>::new(b"ab").unwrap() < InlineText::<4>::new(b"b").unwrap());
    }
}
