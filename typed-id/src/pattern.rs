//! Regular expressions for the grammars the parsers accept, built at compile time.
//!
//! Every pattern is produced by `const fn`s here from the same options the parser reads,
//! so a body's `PATTERN` and a derived type's `PATTERN` are plain `&'static str`s that
//! cost nothing at run time, and there is one place that spells each grammar. Numeric
//! bounds are spelled out digit by digit (e.g. child numbers `1..=4294967295`), so the
//! pattern accepts exactly what the parser accepts — checked by property tests against
//! the `regex` crate.
//!
//! A pattern lives in a fixed buffer. A body's grammar always fits (its options are
//! range-checked when built); a whole ID's may not, since a type can list any number of
//! legacy prefixes, so [`Pattern::prefixed`] and [`Pattern::anchored`] return a
//! [`SpecError`] instead of writing past the end.

use crate::error::SpecError;

/// Capacity of a [`Pattern`] in bytes; every body grammar in this crate fits easily.
const PATTERN_CAP: usize = 1024;

/// A regular expression under construction, in a fixed buffer usable in `const` context.
///
/// Produced by the `pattern` functions of the ID bodies and by derived types; read it
/// with [`Pattern::as_str`].
///
/// ```
/// use typed_id::{Pattern, SeqSpec, SpecError};
///
/// let body = SeqSpec::DEFAULT.pattern();
/// let full = Pattern::prefixed("WORK", &["TASK"], &body)?;
/// assert!(full.as_str().starts_with("^(?:WORK|TASK)-"));
///
/// // Too many legacy prefixes to fit: an error, not a panic.
/// let legacy = "p".repeat(32);
/// let many = vec![legacy.as_str(); 40];
/// assert!(matches!(
///     Pattern::prefixed("WORK", &many, &body),
///     Err(SpecError::PatternTooLong { max: 1024, .. })
/// ));
/// # Ok::<(), SpecError>(())
/// ```
#[derive(Clone, Copy)]
pub struct Pattern {
    bytes: [u8; PATTERN_CAP],
    len: usize,
    /// Bytes pushed, kept or not: above `PATTERN_CAP` the pattern is incomplete, and
    /// nothing more is written (`len` stays on the last whole piece that fitted).
    wanted: usize,
}

impl core::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Pattern").field(&self.as_str()).finish()
    }
}

impl core::fmt::Display for Pattern {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The alphabets numbers are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Radix {
    Decimal,
    Base62,
}

impl Radix {
    const fn base(self) -> u64 {
        match self {
            Radix::Decimal => 10,
            Radix::Base62 => 62,
        }
    }
}

impl Pattern {
    /// An empty pattern.
    #[must_use]
    pub const fn new() -> Self {
        Pattern {
            bytes: [0; PATTERN_CAP],
            len: 0,
            wanted: 0,
        }
    }

    /// The pattern text.
    #[must_use]
    pub const fn as_str(&self) -> &str {
        let (head, _) = self.bytes.split_at(self.len);
        // Only whole `&str`s are ever written, so `head` is UTF-8; were it not, the
        // valid start is returned rather than a panic.
        match core::str::from_utf8(head) {
            Ok(s) => s,
            Err(e) => {
                let (valid, _) = head.split_at(e.valid_up_to());
                match core::str::from_utf8(valid) {
                    Ok(s) => s,
                    Err(_) => "",
                }
            }
        }
    }

    /// `^` + prefix alternatives + `-` + `body` + `$`: the full anchored pattern of a
    /// prefixed ID. `accept` lists legacy prefixes the parser also takes. Prefixes are
    /// written as they are (a derived type's are letters, digits, `_` and `-`).
    ///
    /// # Errors
    /// [`SpecError::PatternTooLong`] when the result would not fit a `Pattern`
    /// (1 024 bytes), or `body` is itself incomplete.
    pub const fn prefixed(
        prefix: &str,
        accept: &[&str],
        body: &Pattern,
    ) -> Result<Self, SpecError> {
        Pattern::prefixed_with(prefix, accept, b'-', body)
    }

    /// As [`prefixed`](Self::prefixed), with `separator` between the prefix and the body
    /// (a body's [`Body::SEPARATOR`](crate::Body::SEPARATOR): `-`, or `_` for TypeIDs).
    ///
    /// # Errors
    /// As [`prefixed`](Self::prefixed).
    pub const fn prefixed_with(
        prefix: &str,
        accept: &[&str],
        separator: u8,
        body: &Pattern,
    ) -> Result<Self, SpecError> {
        let mut p = Pattern::new().push("^");
        if accept.is_empty() {
            p = p.push(prefix);
        } else {
            p = p.push("(?:").push(prefix);
            let mut i = 0;
            while i < accept.len() {
                p = p.push("|").push(accept[i]);
                i += 1;
            }
            p = p.push(")");
        }
        p.push_byte(separator)
            .push_pattern(body)
            .push("$")
            .checked()
    }

    /// `^` + `body` + `$`: the anchored pattern of a bare body.
    ///
    /// # Errors
    /// [`SpecError::PatternTooLong`] when the result would not fit a `Pattern`
    /// (1 024 bytes), or `body` is itself incomplete.
    pub const fn anchored(body: &Pattern) -> Result<Self, SpecError> {
        Pattern::new()
            .push("^")
            .push_pattern(body)
            .push("$")
            .checked()
    }

    /// The pattern, or the error saying it did not fit.
    const fn checked(self) -> Result<Self, SpecError> {
        if self.wanted > PATTERN_CAP {
            Err(SpecError::PatternTooLong {
                len: self.wanted,
                max: PATTERN_CAP,
            })
        } else {
            Ok(self)
        }
    }

    /// Appends `s` whole, or, when it does not fit, only counts it.
    pub(crate) const fn push(mut self, s: &str) -> Self {
        let b = s.as_bytes();
        self.wanted = self.wanted.saturating_add(b.len());
        if self.wanted > PATTERN_CAP {
            return self;
        }
        let mut i = 0;
        while i < b.len() {
            self.bytes[self.len] = b[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    pub(crate) const fn push_pattern(self, other: &Pattern) -> Self {
        let mut p = self.push(other.as_str());
        // What `other` could not hold still counts against the result.
        p.wanted = p.wanted.saturating_add(other.wanted - other.len);
        p
    }

    const fn push_byte(self, b: u8) -> Self {
        let byte = [b];
        match core::str::from_utf8(&byte) {
            Ok(s) => self.push(s),
            Err(_) => self,
        }
    }

    pub(crate) const fn push_u64(self, n: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut count = 0;
        let mut v = n;
        loop {
            digits[count] = b'0' + (v % 10) as u8;
            count += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let mut p = self;
        while count > 0 {
            count -= 1;
            p = p.push_byte(digits[count]);
        }
        p
    }

    /// `{n}`, `{lo,hi}`, or nothing for exactly one.
    pub(crate) const fn push_repeat(self, lo: u64, hi: u64) -> Self {
        if lo == hi {
            if lo == 1 {
                self
            } else {
                self.push("{").push_u64(lo).push("}")
            }
        } else {
            self.push("{").push_u64(lo).push(",").push_u64(hi).push("}")
        }
    }

    /// A character class for the digit values `lo..=hi` of `radix`.
    const fn push_class(self, radix: Radix, lo: u64, hi: u64) -> Self {
        let mut p = self.push("[");
        // Runs of consecutive ASCII codes: 0-9, A-Z (base62 10..36), a-z (36..62).
        let runs: [(u64, u64, u8); 3] = [(0, 9, b'0'), (10, 35, b'A'), (36, 61, b'a')];
        let mut r = 0;
        while r < 3 {
            let (start, end, base) = runs[r];
            let a = if lo > start { lo } else { start };
            let b = if hi < end { hi } else { end };
            if a <= b && (radix.base() > start) {
                p = p.push_byte(base + (a - start) as u8);
                if b > a {
                    p = p.push("-").push_byte(base + (b - start) as u8);
                }
            }
            r += 1;
        }
        p.push("]")
    }

    const fn push_digit(self, radix: Radix, d: u64) -> Self {
        let _ = radix;
        let c = if d < 10 {
            b'0' + d as u8
        } else if d < 36 {
            b'A' + (d - 10) as u8
        } else {
            b'a' + (d - 36) as u8
        };
        self.push_byte(c)
    }

    /// A group matching the canonical (no leading zero) numbers `1..=max` — or `0..=max`
    /// when `allow_zero` — written in `radix`.
    pub(crate) const fn push_bounded(self, radix: Radix, max: u64, allow_zero: bool) -> Self {
        let base = radix.base();
        let mut digits = [0u64; 64];
        let mut n = 0;
        let mut v = max;
        while v > 0 {
            digits[n] = v % base;
            v /= base;
            n += 1;
        }
        // digits[n-1] is the most significant.
        let mut p = self.push("(?:");
        let mut first = true;
        if allow_zero {
            p = p.push("0");
            first = false;
        }
        if n >= 2 {
            if !first {
                p = p.push("|");
            }
            p = p.push_class(radix, 1, base - 1);
            if n > 2 {
                p = p
                    .push_class(radix, 0, base - 1)
                    .push_repeat(0, (n - 2) as u64);
            }
            first = false;
        }
        // Numbers with exactly n digits, below max: share a prefix with max, then a
        // smaller digit, then anything.
        let mut i = 0;
        while i < n {
            let pos = n - 1 - i;
            let lo = if i == 0 { 1 } else { 0 };
            let d = digits[pos];
            if d > lo {
                if !first {
                    p = p.push("|");
                }
                let mut j = 0;
                while j < i {
                    p = p.push_digit(radix, digits[n - 1 - j]);
                    j += 1;
                }
                p = p.push_class(radix, lo, d - 1);
                let rest = (n - 1 - i) as u64;
                if rest > 0 {
                    p = p.push_class(radix, 0, base - 1).push_repeat(rest, rest);
                }
                first = false;
            }
            i += 1;
        }
        if n > 0 {
            if !first {
                p = p.push("|");
            }
            let mut j = 0;
            while j < n {
                p = p.push_digit(radix, digits[n - 1 - j]);
                j += 1;
            }
        }
        p.push(")")
    }
}

impl Default for Pattern {
    fn default() -> Self {
        Pattern::new()
    }
}

/// The pattern in `result`, for `const` items whose pattern is known to fit (a body's,
/// anchored): were it not to, the build would fail there, never a run.
pub(crate) const fn fits(result: Result<Pattern, SpecError>) -> Pattern {
    match result {
        Ok(p) => p,
        Err(_) => panic!("a body pattern does not fit a Pattern"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_is_counted_and_reported_never_written() {
        let piece = "x".repeat(300);
        let mut p = Pattern::new();
        for _ in 0..3 {
            p = p.push(&piece);
        }
        assert_eq!(p.as_str().len(), 900);
        // The fourth piece does not fit: counted, not written, and nothing after it is.
        p = p.push(&piece).push("y");
        assert_eq!(p.as_str(), "x".repeat(900));
        assert_eq!(
            Pattern::anchored(&p).map(|p| p.len),
            Err(SpecError::PatternTooLong {
                len: 1203,
                max: PATTERN_CAP
            })
        );
        // Exactly full is fine.
        let full = Pattern::new().push(&"z".repeat(PATTERN_CAP - 2));
        assert_eq!(
            Pattern::anchored(&full).unwrap().as_str().len(),
            PATTERN_CAP
        );
        // Multi-byte text is never cut inside a character.
        let p = Pattern::new().push(&"é".repeat(511)).push("ü").push("ö");
        assert_eq!(p.as_str(), format!("{}ü", "é".repeat(511)));
        assert!(p.wanted > PATTERN_CAP);
    }

    fn bounded(radix: Radix, max: u64, zero: bool) -> String {
        Pattern::new()
            .push_bounded(radix, max, zero)
            .as_str()
            .to_owned()
    }

    #[test]
    fn small_bounds_read_naturally() {
        assert_eq!(bounded(Radix::Decimal, 9, false), "(?:[1-8]|9)");
        assert_eq!(
            bounded(Radix::Decimal, 42, true),
            "(?:0|[1-9]|[1-3][0-9]|4[0-1]|42)"
        );
        assert_eq!(
            Pattern::new().push_class(Radix::Base62, 5, 40).as_str(),
            "[5-9A-Za-e]"
        );
    }

    #[test]
    fn bounded_matches_exactly_the_range() {
        for max in [1u64, 7, 10, 99, 100, 101, 255, 1000, 4095, 65_535] {
            let re = regex_lite(&bounded(Radix::Decimal, max, false));
            for v in 0..=max + 20 {
                let s = v.to_string();
                assert_eq!(re(&s), (1..=max).contains(&v), "max {max} value {v}");
            }
            assert!(!re(&format!("0{max}")));
        }
    }

    /// Whole-string matcher for a pattern fragment.
    fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool + use<> {
        let p = regex::Regex::new(&format!("^{pattern}$")).unwrap();
        move |s| p.is_match(s)
    }
}
