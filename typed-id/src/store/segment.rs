//! [`Segmented`]: display numbers reserved in blocks per process, handed out from memory.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::{Mutex, PoisonError};

use super::{DisplayIdAllocator, StoreError, check_block, check_observed, check_scope};

/// Wraps an allocator and reserves `block` numbers at a time per scope, handing them out
/// from memory: one round trip to the store per block instead of one per number.
///
/// Numbers stay unique across every process using the store below. The price is gaps:
/// numbers reserved but not handed out when the process exits (or crashes, or drops
/// this value) are never used, and across processes numbers are only roughly in
/// creation order. [`last`](DisplayIdAllocator::last) reports the last number this
/// value handed out while it still holds part of a block, and the store's value (the
/// end of the last block reserved by anyone) otherwise. Near the end of the range
/// ([`Seq::MAX`](crate::body::Seq::MAX)) a block shrinks to what is left, so every number is
/// handed out before the scope reports [`StoreError::Exhausted`].
///
/// ```
/// use typed_id::store::{DisplayIdAllocator, MemoryStore, Segmented};
///
/// let shared = MemoryStore::new();
/// let a = Segmented::new(&shared, 10);
/// let b = Segmented::new(&shared, 10);
/// assert_eq!(a.allocate("odin")?, 1);
/// assert_eq!(b.allocate("odin")?, 11); // b reserved 11..=20
/// assert_eq!(a.allocate("odin")?, 2);
/// # Ok::<(), typed_id::store::StoreError>(())
/// ```
#[derive(Debug)]
pub struct Segmented<A> {
    inner: A,
    block: u64,
    segments: Mutex<HashMap<Box<str>, Segment>>,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    /// The next number to hand out.
    next: u64,
    /// The last number of the reserved block.
    end: u64,
}

impl<A: DisplayIdAllocator> Segmented<A> {
    /// Wraps `inner`, reserving `block` numbers at a time (clamped to
    /// `1..=`[`MAX_BLOCK`](super::MAX_BLOCK)).
    pub fn new(inner: A, block: u64) -> Self {
        Segmented {
            inner,
            block: block.clamp(1, super::MAX_BLOCK),
            segments: Mutex::new(HashMap::new()),
        }
    }

    /// The allocator below.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// The block size.
    pub fn block_size(&self) -> u64 {
        self.block
    }

    /// Reserves a block of at least `count` numbers from the store below: a whole block
    /// when one is left, else whatever is left, so the end of the range is reached
    /// without skipping numbers or reporting the scope exhausted too early.
    fn reserve(&self, scope: &str, count: u64) -> Result<RangeInclusive<u64>, StoreError> {
        let wanted = count.max(self.block);
        let max = match self.inner.allocate_block(scope, wanted) {
            Err(StoreError::Exhausted { max, .. }) if wanted > count => max,
            other => return other,
        };
        // Fewer than a block is left (or another process took numbers meanwhile): ask
        // for what the store says remains. If that races too, ask for exactly `count`,
        // whose refusal then means the scope really has fewer than `count` left.
        let left = max.saturating_sub(self.inner.last(scope)?);
        if left > count {
            match self.inner.allocate_block(scope, left.min(wanted)) {
                Err(StoreError::Exhausted { .. }) => {}
                other => return other,
            }
        }
        self.inner.allocate_block(scope, count)
    }

    /// Numbers still reserved for `scope` in this process (lost if it exits now).
    pub fn remaining(&self, scope: &str) -> u64 {
        self.segments
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(scope)
            .map_or(0, |s| s.end + 1 - s.next)
    }
}

impl<A: DisplayIdAllocator> DisplayIdAllocator for Segmented<A> {
    fn allocate_block(&self, scope: &str, count: u64) -> Result<RangeInclusive<u64>, StoreError> {
        check_block(count)?;
        let mut segments = self.segments.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(segment) = segments.get_mut(scope)
            && segment.end - segment.next + 1 >= count
        {
            let start = segment.next;
            segment.next += count;
            if segment.next > segment.end {
                segments.remove(scope);
            }
            return Ok(start..=start + count - 1);
        }
        check_scope(scope)?;
        // Holding the lock while the store works keeps threads of this process from
        // reserving several blocks at once; they would only widen the gaps.
        let fresh = self.reserve(scope, count)?;
        let (start, end) = (*fresh.start(), *fresh.end());
        if end > start + count - 1 {
            // Whatever was left of the old segment is dropped: a gap, never a repeat.
            segments.insert(
                scope.into(),
                Segment {
                    next: start + count,
                    end,
                },
            );
        } else {
            segments.remove(scope);
        }
        Ok(start..=start + count - 1)
    }

    fn allocate(&self, scope: &str) -> Result<u64, StoreError> {
        let mut segments = self.segments.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(segment) = segments.get_mut(scope) {
            let n = segment.next;
            if n == segment.end {
                segments.remove(scope);
            } else {
                segment.next += 1;
            }
            return Ok(n);
        }
        drop(segments);
        self.allocate_block(scope, 1).map(|block| *block.start())
    }

    fn last(&self, scope: &str) -> Result<u64, StoreError> {
        check_scope(scope)?;
        if let Some(segment) = self
            .segments
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(scope)
        {
            return Ok(segment.next - 1);
        }
        self.inner.last(scope)
    }

    /// Raises the store below, and skips the part of this value's block at or below
    /// `n`: those numbers are taken by the observed items.
    fn observe_display_number(&self, scope: &str, n: u64) -> Result<(), StoreError> {
        check_observed(scope, n)?;
        let mut segments = self.segments.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(segment) = segments.get_mut(scope)
            && segment.next <= n
        {
            if segment.end <= n {
                segments.remove(scope);
            } else {
                segment.next = n + 1;
            }
        }
        // Under the lock, so no block below `n` is reserved in between.
        self.inner.observe_display_number(scope, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn blocks_are_used_up_then_refilled() {
        let store = Segmented::new(MemoryStore::new(), 3);
        let got: Vec<u64> = (0..7).map(|_| store.allocate("s").unwrap()).collect();
        assert_eq!(got, [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(store.inner().last("s").unwrap(), 9);
        assert_eq!(store.remaining("s"), 2);
        assert_eq!(store.last("s").unwrap(), 7);
        // A request larger than what is left takes a fresh block; 8..=9 become a gap.
        assert_eq!(store.allocate_block("s", 5).unwrap(), 10..=14);
        assert_eq!(store.allocate("s").unwrap(), 15);
        assert!(store.allocate("bad scope").is_err());
    }

    #[test]
    fn observing_skips_the_held_block_up_to_the_number() {
        let store = Segmented::new(MemoryStore::new(), 10);
        assert_eq!(store.allocate("s").unwrap(), 1); // holds 2..=10
        store.observe_display_number("s", 4).unwrap();
        assert_eq!(store.allocate("s").unwrap(), 5);
        assert_eq!(store.inner().last("s").unwrap(), 10);
        store.observe_display_number("s", 3).unwrap(); // below: nothing changes
        assert_eq!(store.allocate("s").unwrap(), 6);
        // Past the block: the block is dropped and the store below raised.
        store.observe_display_number("s", 25).unwrap();
        assert_eq!(store.remaining("s"), 0);
        assert_eq!(store.inner().last("s").unwrap(), 25);
        assert_eq!(store.allocate("s").unwrap(), 26);
        assert!(matches!(
            store.observe_display_number("s", crate::body::Seq::MAX + 1),
            Err(StoreError::Exhausted { .. })
        ));
        assert_eq!(
            store.allocate("s").unwrap(),
            27,
            "a refused observe changes nothing"
        );
    }
}
