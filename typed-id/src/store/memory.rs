//! [`MemoryStore`]: counters in this process's memory, for tests and for IDs that only
//! need to be unique while the process runs.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use super::{
    ChildCounter, DisplayIdAllocator, StoreError, check_block, check_observed, check_scope,
};
use crate::body::Seq;

/// Display sequences and child counters held in memory; thread-safe.
///
/// Display numbers come from one atomic word per scope, so concurrent threads never
/// wait for each other once a scope exists. Nothing survives the process.
///
/// ```
/// use typed_id::store::{DisplayIdAllocator, MemoryStore};
/// use typed_id::{Seq, TypedId};
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "WORK", width = 3)]
/// struct WorkItemId(Seq);
///
/// let store = MemoryStore::new();
/// assert_eq!(store.next_id::<WorkItemId>("odin")?.to_text(), "WORK-001");
/// assert_eq!(store.next_id::<WorkItemId>("odin")?.to_text(), "WORK-002");
/// assert_eq!(store.next_id::<WorkItemId>("loki")?.to_text(), "WORK-001");
/// # Ok::<(), typed_id::store::StoreError>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    sequences: RwLock<HashMap<Box<str>, Arc<AtomicU64>>>,
    children: Mutex<HashMap<Box<str>, u64>>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The atomic counter of `scope`, created at 0 on first use.
    fn sequence(&self, scope: &str) -> Arc<AtomicU64> {
        if let Some(counter) = self
            .sequences
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(scope)
        {
            return Arc::clone(counter);
        }
        let mut map = self
            .sequences
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry(scope.into()).or_default())
    }
}

impl DisplayIdAllocator for MemoryStore {
    fn allocate_block(&self, scope: &str, count: u64) -> Result<RangeInclusive<u64>, StoreError> {
        check_scope(scope)?;
        check_block(count)?;
        let counter = self.sequence(scope);
        // Never move past the maximum, so an exhausted scope stays exhausted without
        // the counter wrapping around.
        let previous = counter
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
                last.checked_add(count).filter(|&end| end <= Seq::MAX)
            })
            .map_err(|_| StoreError::Exhausted {
                key: scope.to_owned(),
                max: Seq::MAX,
            })?;
        Ok(previous + 1..=previous + count)
    }

    fn last(&self, scope: &str) -> Result<u64, StoreError> {
        check_scope(scope)?;
        Ok(self
            .sequences
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(scope)
            .map_or(0, |c| c.load(Ordering::Relaxed)))
    }

    fn observe_display_number(&self, scope: &str, n: u64) -> Result<(), StoreError> {
        check_observed(scope, n)?;
        if n > 0 {
            self.sequence(scope).fetch_max(n, Ordering::Relaxed);
        }
        Ok(())
    }
}

impl ChildCounter for MemoryStore {
    fn next_child_number(&self, parent: &str) -> Result<u32, StoreError> {
        let mut map = self.children.lock().unwrap_or_else(PoisonError::into_inner);
        let last = map.entry(parent.into()).or_default();
        if *last >= u64::from(u32::MAX) {
            return Err(StoreError::Exhausted {
                key: parent.to_owned(),
                max: u64::from(u32::MAX),
            });
        }
        *last += 1;
        Ok(*last as u32)
    }

    fn observe_child_number(&self, parent: &str, n: u32) -> Result<(), StoreError> {
        let mut map = self.children.lock().unwrap_or_else(PoisonError::into_inner);
        let last = map.entry(parent.into()).or_default();
        *last = (*last).max(u64::from(n));
        Ok(())
    }

    fn last_child_number(&self, parent: &str) -> Result<u32, StoreError> {
        let map = self.children.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(map.get(parent).map_or(0, |&n| n as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_consecutive_and_exhaustion_sticks() {
        let store = MemoryStore::new();
        assert_eq!(store.allocate_block("a", 10).unwrap(), 1..=10);
        assert_eq!(store.allocate("a").unwrap(), 11);
        assert_eq!(store.last("a").unwrap(), 11);
        store.sequence("a").store(Seq::MAX - 1, Ordering::Relaxed);
        assert_eq!(store.allocate("a").unwrap(), Seq::MAX);
        assert!(matches!(
            store.allocate("a"),
            Err(StoreError::Exhausted { .. })
        ));
        assert!(matches!(
            store.allocate_block("a", 0),
            Err(StoreError::InvalidBlock { .. })
        ));
    }

    #[test]
    fn child_numbers_observe_explicit_children() {
        let store = MemoryStore::new();
        assert_eq!(store.next_child_number("el-abc").unwrap(), 1);
        store.observe_child_number("el-abc", 7).unwrap();
        store.observe_child_number("el-abc", 3).unwrap();
        assert_eq!(store.next_child_number("el-abc").unwrap(), 8);
        store.observe_child_number("el-x", u32::MAX).unwrap();
        assert!(matches!(
            store.next_child_number("el-x"),
            Err(StoreError::Exhausted { .. })
        ));
    }
}
