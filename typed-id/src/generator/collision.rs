//! Collision checks: how a generator asks a store whether a candidate ID is taken, and
//! an in-memory store that answers atomically.

use core::convert::Infallible;
use std::collections::HashSet;
use std::sync::Mutex;

/// Asks the store whether a candidate ID is taken, and how many elements it holds.
///
/// Candidates are passed as their full canonical text, prefix included (`el-a3f8e9`),
/// since that is what stores hold. The error type is the store's own, so database
/// checks plug in without wrapping.
///
/// ```
/// use std::convert::Infallible;
/// use typed_id::generator::CollisionCheck;
///
/// /// A store that holds nothing.
/// struct Empty;
///
/// impl CollisionCheck for Empty {
///     type Error = Infallible;
///     fn exists(&self, _id: &str) -> Result<bool, Infallible> { Ok(false) }
///     fn count(&self) -> Result<u64, Infallible> { Ok(0) }
/// }
/// ```
pub trait CollisionCheck {
    /// The store's error.
    type Error;

    /// Whether an ID with this canonical text exists.
    ///
    /// # Errors
    /// The store's error.
    fn exists(&self, id: &str) -> Result<bool, Self::Error>;

    /// The number of elements in the store (called rarely: the generator caches it).
    ///
    /// # Errors
    /// The store's error.
    fn count(&self) -> Result<u64, Self::Error>;

    /// Claims `id` if it is free: `Ok(true)` when the caller may use it.
    ///
    /// The default asks [`exists`](Self::exists). Stores that can reserve atomically
    /// override it (as [`MemoryCollisionCheck`] does), so concurrent generators never
    /// receive the same ID; stores that only look leave the final word to their UNIQUE
    /// constraint: an insert that loses a race is retried by generating again with the
    /// same input, which now skips the winner's ID.
    ///
    /// # Errors
    /// The store's error.
    fn claim(&self, id: &str) -> Result<bool, Self::Error> {
        self.exists(id).map(|taken| !taken)
    }
}

impl<C: CollisionCheck + ?Sized> CollisionCheck for &C {
    type Error = C::Error;

    fn exists(&self, id: &str) -> Result<bool, Self::Error> {
        (**self).exists(id)
    }

    fn count(&self) -> Result<u64, Self::Error> {
        (**self).count()
    }

    fn claim(&self, id: &str) -> Result<bool, Self::Error> {
        (**self).claim(id)
    }
}

/// An in-memory, thread-safe set of IDs; [`claim`](CollisionCheck::claim) inserts
/// atomically, so IDs generated against it are unique across threads.
///
/// ```
/// use typed_id::generator::{CollisionCheck, MemoryCollisionCheck};
///
/// let store = MemoryCollisionCheck::new();
/// assert!(store.insert("el-a3f8"));
/// assert!(store.exists("el-a3f8")?);
/// assert!(!store.claim("el-a3f8")?);
/// assert_eq!(store.count()?, 1);
/// # Ok::<(), std::convert::Infallible>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryCollisionCheck {
    ids: Mutex<HashSet<Box<str>>>,
}

impl MemoryCollisionCheck {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<Box<str>>> {
        // A panic elsewhere while holding the lock cannot leave a HashSet half-updated
        // in a way that matters here; keep going.
        self.ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds an ID; `false` if it was already there.
    pub fn insert(&self, id: &str) -> bool {
        let mut ids = self.lock();
        if ids.contains(id) {
            return false;
        }
        ids.insert(id.into())
    }

    /// Whether the set holds `id`.
    #[must_use]
    pub fn contains(&self, id: &str) -> bool {
        self.lock().contains(id)
    }

    /// Removes an ID; `false` if it was not there.
    pub fn remove(&self, id: &str) -> bool {
        self.lock().remove(id)
    }

    /// Number of IDs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// `true` when empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl CollisionCheck for MemoryCollisionCheck {
    type Error = Infallible;

    fn exists(&self, id: &str) -> Result<bool, Infallible> {
        Ok(self.contains(id))
    }

    fn count(&self) -> Result<u64, Infallible> {
        Ok(self.len() as u64)
    }

    fn claim(&self, id: &str) -> Result<bool, Infallible> {
        Ok(self.insert(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_check_claims_atomically() {
        let store = MemoryCollisionCheck::new();
        assert!(store.is_empty());
        let claimed: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        (0..100)
                            .filter(|i| store.claim(&format!("el-{i}")).unwrap())
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(claimed, 100, "each ID claimed by exactly one thread");
        assert_eq!(store.count(), Ok(100));
        assert!(store.remove("el-7"));
        assert!(!store.remove("el-7"));
        // Through the blanket impl for references.
        fn via<C: CollisionCheck>(
            check: C,
            id: &str,
        ) -> (Result<bool, C::Error>, Result<bool, C::Error>) {
            (check.exists(id), check.claim(id))
        }
        assert_eq!(via(&store, "el-8"), (Ok(true), Ok(false)));
        assert_eq!(via(&store, "el-7"), (Ok(false), Ok(true)));
    }
}
