//! Regular expressions for the grammars the parsers accept, built at compile time.
//!
//! Every pattern is produced by `const fn`s here from the same options the parser reads,
//! so a body's `PATTERN` and a derived type's `PATTERN` are plain `&'static str`s that
//! cost nothing at run time, and there is one place that spells each grammar. Numeric
//! bounds are spelled out digit by digit (e.g. child numbers `1..=4294967295`), so the
//! pattern accepts exactly what the parser accepts — checked by property tests against
//! the `regex` crate.

/// Capacity of a [`Pattern`] in bytes; every grammar in this crate fits easily.
const PATTERN_CAP: usize = 1024;

/// A regular expression under construction, in a fixed buffer usable in `const` context.
///
/// Produced by the `pattern` functions of the ID bodies and by derived types; read it
/// with [`Pattern::as_str`].
#[derive(Clone, Copy)]
pub struct Pattern {
    bytes: [u8; PATTERN_CAP],
    len: usize,
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
        }
    }

    /// The pattern text.
    #[must_use]
    pub const fn as_str(&self) -> &str {
        let (head, _) = self.bytes.split_at(self.len);
        match core::str::from_utf8(head) {
            Ok(s) => s,
            Err(_) => panic!("patterns are ASCII"),
        }
    }

    /// `^` + prefix alternatives + `-` + `body` + `$`: the full anchored pattern of a
    /// prefixed ID. `accept` lists legacy prefixes the parser also takes.
    #[must_use]
    pub const fn prefixed(prefix: &str, accept: &[&str], body: &Pattern) -> Self {
        Pattern::prefixed_with(prefix, accept, b'-', body)
    }

    /// As [`prefixed`](Self::prefixed), with `separator` between the prefix and the body
    /// (a body's [`Body::SEPARATOR`](crate::Body::SEPARATOR): `-`, or `_` for TypeIDs).
    #[must_use]
    pub const fn prefixed_with(
        prefix: &str,
        accept: &[&str],
        separator: u8,
        body: &Pattern,
    ) -> Self {
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
        p.push_byte(separator).push_pattern(body).push("$")
    }

    /// `^` + `body` + `$`: the anchored pattern of a bare body.
    #[must_use]
    pub const fn anchored(body: &Pattern) -> Self {
        Pattern::new().push("^").push_pattern(body).push("$")
    }

    pub(crate) const fn push(mut self, s: &str) -> Self {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            self.bytes[self.len] = b[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    pub(crate) const fn push_pattern(self, other: &Pattern) -> Self {
        self.push(other.as_str())
    }

    const fn push_byte(mut self, b: u8) -> Self {
        self.bytes[self.len] = b;
        self.len += 1;
        self
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

#[cfg(test)]
mod tests {
    use super::*;

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
