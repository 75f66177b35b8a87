//! The length policy: how long a content hash must be for a store of `n` elements to
//! keep the chance of any two colliding under a threshold (the birthday bound).

/// Shortest content hash the format allows.
pub(super) const LEN_MIN: u8 = 3;
/// Longest content hash the format allows.
pub(super) const LEN_MAX: u8 = 8;

/// The probability that among `n` random IDs of `len` base36 characters at least two
/// are equal, by the birthday bound `1 - exp(-n(n-1) / (2·36^len))`.
///
/// ```
/// use typed_id::generator::birthday_probability;
///
/// assert!(birthday_probability(184, 4) < 0.01);
/// assert!(birthday_probability(185, 4) >= 0.01);
/// ```
#[must_use]
pub fn birthday_probability(n: u64, len: u8) -> f64 {
    let space = 36f64.powi(i32::from(len));
    let n = n as f64;
    // -expm1(-x) keeps precision when x is tiny.
    -(-(n * (n - 1.0)) / (2.0 * space)).exp_m1()
}

/// The largest element count `n` for which [`birthday_probability`]`(n, len)` stays
/// under `threshold` (0 when `threshold` is not above 0).
///
/// ```
/// use typed_id::generator::max_elements;
///
/// let at_1_percent: Vec<u64> = (3..=8).map(|len| max_elements(len, 0.01)).collect();
/// assert_eq!(at_1_percent, [31, 184, 1102, 6615, 39688, 238131]);
/// ```
#[must_use]
pub fn max_elements(len: u8, threshold: f64) -> u64 {
    if threshold.is_nan() || threshold <= 0.0 {
        return 0;
    }
    // p(1) = 0 < threshold; p(36^len) ≈ 1. Binary search for the last n under it.
    let (mut lo, mut hi) = (1u64, 36u64.saturating_pow(u32::from(len)));
    if birthday_probability(hi, len) < threshold {
        return hi;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if birthday_probability(mid, len) < threshold {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The largest element count under a threshold, per length, computed once: choosing a
/// length is then a few comparisons.
#[derive(Clone, Copy, Debug)]
pub(super) struct LengthLimits([u64; LEN_MAX as usize + 1]);

impl LengthLimits {
    /// The limits for collision probability `threshold`.
    pub(super) fn new(threshold: f64) -> Self {
        let mut limits = [0u64; LEN_MAX as usize + 1];
        for len in LEN_MIN..=LEN_MAX {
            limits[usize::from(len)] = max_elements(len, threshold);
        }
        LengthLimits(limits)
    }

    /// The smallest length in `lo..=hi` whose limit admits `n` elements, else `hi`.
    #[inline]
    pub(super) fn length_within(&self, n: u64, lo: u8, hi: u8) -> u8 {
        let mut len = lo;
        while len < hi && n > self.0[usize::from(len)] {
            len += 1;
        }
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_edges() {
        assert_eq!(birthday_probability(0, 4), 0.0);
        assert_eq!(birthday_probability(1, 4), 0.0);
        assert!(birthday_probability(10_000_000, 3) > 0.999_999);
        assert_eq!(max_elements(4, 0.0), 0);
        assert_eq!(max_elements(3, 1.5), 36u64.pow(3));
    }

    #[test]
    fn limits_pick_the_shortest_length_under_the_threshold() {
        let limits = LengthLimits::new(0.01);
        assert_eq!(limits.length_within(0, 4, 8), 4);
        assert_eq!(limits.length_within(184, 4, 8), 4);
        assert_eq!(limits.length_within(185, 4, 8), 5);
        assert_eq!(limits.length_within(238_131, 3, 8), 8);
        assert_eq!(limits.length_within(u64::MAX, 3, 8), 8);
        assert_eq!(limits.length_within(u64::MAX, 3, 5), 5);
        assert_eq!(limits.length_within(0, 6, 6), 6);
    }
}
