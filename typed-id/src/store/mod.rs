//! Stores: the counters and checks behind IDs that must be unique across processes.
//!
//! # Storage
//!
//! Two kinds of ID need shared state: **display IDs** (`WORK-042`) come from a counter
//! per scope, and **children** of content-hash IDs (`el-a3f8.1`, `el-a3f8.2`) from a
//! counter per parent. A content-hash root (`el-a3f8`) needs no counter, but the store
//! has the final word on whether it is free.
//!
//! | store | display IDs | children | collision-checked inserts | shared by |
//! |---|---|---|---|---|
//! | [`MemoryStore`] | ✓ (atomic) | ✓ | via [`MemoryCollisionCheck`](crate::generator::MemoryCollisionCheck) | threads of one process |
//! | [`FileStore`] | ✓ | | | processes that share a folder |
//! | `SqliteStore` (`sqlite` feature) | ✓ | ✓ | ✓ | processes on one machine |
//! | `PgStore` (`postgres` feature) | ✓ | ✓ | ✓ | every machine that reaches the server |
//! | [`Segmented`] over any of them | ✓ (blocks of N per process) | | | as the store below it |
//!
//! Display IDs come from any [`DisplayIdAllocator`]; scopes are short names
//! (`odin`, `odin/WORK`) of ASCII letters, digits and `_ - . : /`, up to 64 bytes:
//!
//! ```
//! use typed_id::store::{DisplayIdAllocator, MemoryStore};
//! use typed_id::{Seq, TypedId};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "WORK", width = 3)]
//! struct WorkItemId(Seq);
//!
//! let store = MemoryStore::new();
//! let first: WorkItemId = store.next_id("odin")?;
//! assert_eq!(first.to_text(), "WORK-001");
//! assert_eq!(store.next_id::<WorkItemId>("odin")?.to_text(), "WORK-002");
//! # Ok::<(), typed_id::store::StoreError>(())
//! ```
//!
//! ## A folder: `FileStore`
//!
//! For tools whose only shared resource is a directory (a CLI run from several
//! terminals, CI jobs on one runner). Allocations take an OS lock on `{scope}.lock`.
//! `{scope}.counter` holds a durable ceiling, replaced by write-temp, `fsync`, rename,
//! `fsync` of the directory, once per reserved block (1 024 numbers by default); the
//! lock file holds the exact last number, stamped with the machine's boot ID. A process
//! killed at any point skips only the numbers it held, a power loss skips at most one block and never
//! repeats a number, and a counter file that is damaged or lost anyway is reported as
//! [`StoreError::CorruptCounter`], never silently reset, until
//! [`FileStore::repair`] seeds it from the items' own table. A lock file deleted or
//! replaced under a running store is reopened (the counter file stays the authority);
//! a folder removed, a scope's files deleted or an older copy restored under a running
//! store make it stop with [`StoreError::Replaced`] instead of numbering from data
//! nobody else uses, while stores opened afterwards work on the new data. See
//! [`FileStore`] for the protocol, every fault and its recovery, and
//! [`FileStore::with_reserve`] to flush every allocation instead.
//!
//! ```
//! use typed_id::store::{DisplayIdAllocator, FileStore};
//! # let dir = std::env::temp_dir().join(format!("typed-id-doc-{}", std::process::id()));
//!
//! let store = FileStore::open(&dir)?; // creates the directory if needed
//! let n = store.allocate("odin")?;
//! assert_eq!(store.last("odin")?, n);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), typed_id::store::StoreError>(())
//! ```
//!
//! ## SQLite and PostgreSQL: `SqliteStore`, `PgStore`
//!
//! One schema, two engines, through diesel (`SqlStore<C>`, with the aliases
//! `SqliteStore` and `PgStore`). `open` connects and applies the store's embedded
//! migrations (tables `typed_id_child_counters` and
//! `typed_id_display_sequences`; diesel records them in `__diesel_schema_migrations`
//! next to your own). Every counter update is one statement,
//! `INSERT … ON CONFLICT … DO UPDATE SET last = last + 1 RETURNING last`, so
//! concurrent writers never see the same number.
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! use typed_id::store::{ChildCounter, DisplayIdAllocator, SqliteStore};
//! use typed_id::{HashId, Seq, TypedId};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "el", max_depth = 3)]
//! struct ElementId(HashId);
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "WORK", width = 3)]
//! struct WorkItemId(Seq);
//!
//! # let dir = std::env::temp_dir().join(format!("typed-id-doc-sql-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let path = dir.join("ids.db");
//! # let path = path.to_str().unwrap();
//! // A file path or `sqlite://path`; `PgStore::open("postgres://…")` for PostgreSQL.
//! let store = SqliteStore::open(path)?;
//! assert_eq!(store.next_id::<WorkItemId>("odin")?.to_text(), "WORK-001");
//!
//! let root = ElementId::parse("el-a3f8")?;
//! assert_eq!(store.next_child(&root)?.to_text(), "el-a3f8.1");
//! // A child created elsewhere (an import): the counter catches up.
//! store.observe(&ElementId::parse("el-a3f8.7")?)?;
//! assert_eq!(store.next_child(&root)?.to_text(), "el-a3f8.8");
//! # std::fs::remove_dir_all(&dir).ok();
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! SQLite runs in WAL mode with a busy timeout. Counter updates are single statements,
//! which take SQLite's write lock before they read; multi-statement writes
//! (`SqlStore::write`) start with `BEGIN IMMEDIATE` for the same reason, so processes
//! sharing a file queue for the lock instead of deadlocking on a read lock each wants
//! to upgrade. Durability is `synchronous = NORMAL` by default: an allocation survives
//! a killed or crashed process, but the last ones before a power loss may be lost and
//! handed out again; `Synchronous::Full` flushes every commit (one disk flush per
//! allocation: a few hundred per second on an ordinary disk).
//!
//! Under faults (details in `SqlStore`'s and `SqliteStore`'s docs):
//!
//! - **Reconnects.** Before each operation the store checks its connection with one
//!   round trip (PostgreSQL; a SQLite file does not disconnect). A connection found
//!   broken — a terminated backend, a restarted server, an idle-session timeout — is
//!   re-established before anything of the operation is sent, with retries and growing
//!   pauses for up to 10 s by default (`ReconnectPolicy`), after which the call fails with
//!   `StoreError::Unreachable` and the next call tries again. A store made with
//!   `from_connection` knows no URL and fails with `StoreError::Disconnected`.
//! - **A lost answer costs a number, never a duplicate.** A connection lost while the
//!   allocating statement was under way fails the call: the server may have committed
//!   the number, so the statement is never sent again, and that number is skipped.
//! - **Durability.** PostgreSQL sessions of the store run with `synchronous_commit` on
//!   when the server's default is `off`, so a number is returned only once its commit
//!   is in the write-ahead log on disk, and a server crash cannot hand it out again. A
//!   server run with `fsync = off` (as throwaway test clusters are, for speed) can lose
//!   commits in an operating-system crash or power loss whatever a client does: never
//!   run a store's server that way in production.
//! - **SQLite files deleted or restored.** A running store notices within one
//!   allocation that the database file (or its `-wal` or `-shm`) at its path is no
//!   longer the one it opened, and fails with `StoreError::DatabaseFileReplaced` for
//!   good instead of numbering from the old file; stores opened afterwards use the new
//!   file. The new file has lost numbers handed out since (all of them, or those after
//!   the backup): before handing out more, seed the counters from the items' own tables
//!   (`SqlStore::resync_children` or [`ChildCounter::observe`] for children,
//!   [`DisplayIdAllocator::observe_display_number`] with the largest display number per
//!   scope).
//!
//! Content-hash roots are checked against your own table and inserted with
//! `insert_unique`: the generator proposes a candidate that
//! `SELECT EXISTS` says is free, your closure inserts it, and if another writer won the
//! race the database's UNIQUE constraint refuses the row and the next candidate is
//! tried (a bounded number of times). The element count that sets the hash length is
//! cached by the [`HashIdGenerator`](crate::generator::HashIdGenerator), not queried
//! per ID.
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! use diesel::connection::SimpleConnection as _;
//! use diesel::prelude::*;
//! use typed_id::generator::{HashIdGenerator, HashInput};
//! use typed_id::store::{IdColumn, SqliteStore};
//! use typed_id::{HashId, TypedId};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "el")]
//! struct ElementId(HashId);
//!
//! # let dir = std::env::temp_dir().join(format!("typed-id-doc-ins-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let path = dir.join("ids.db");
//! let store = SqliteStore::open(path.to_str().unwrap())?;
//! store.write(|conn| conn.batch_execute(
//!     "CREATE TABLE elements (id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL)",
//! ))?;
//!
//! let generator = HashIdGenerator::new();
//! let elements = IdColumn::new("elements", "id")?;
//! let input = HashInput::now("Fix the login bug", "alice");
//! let id: ElementId = store.insert_unique(&generator, &input, &elements, |conn, id: ElementId| {
//!     diesel::sql_query("INSERT INTO elements (id, title) VALUES (?, ?)")
//!         .bind::<diesel::sql_types::Text, _>(id)
//!         .bind::<diesel::sql_types::Text, _>(input.title)
//!         .execute(conn)
//!         .map(drop)
//! })?;
//! assert!(id.to_text().starts_with("el-"));
//! # std::fs::remove_dir_all(&dir).ok();
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Segments: `Segmented`
//!
//! [`Segmented`] wraps any allocator and reserves numbers in blocks (say 1 000) per
//! process, handing them out from memory: one store round trip per block instead of per
//! ID. Numbers stay unique; what a process reserved but did not hand out before it
//! exited is skipped for good, so display IDs have gaps and are only roughly in creation
//! order across processes.
//!
//! ```
//! use typed_id::store::{DisplayIdAllocator, MemoryStore, Segmented};
//!
//! let store = Segmented::new(MemoryStore::new(), 100);
//! assert_eq!(store.allocate("odin")?, 1);
//! assert_eq!(store.allocate("odin")?, 2);
//! assert_eq!(store.inner().last("odin")?, 100); // the whole block is reserved
//! # Ok::<(), typed_id::store::StoreError>(())
//! ```
//!
//! A work item often carries both an internal snowflake and a display ID:
//! [`WorkItemKey`] pairs them (identity by the internal ID, display numbers may be
//! reassigned); [`WorkItemMeta`] and [`StoredWorkItem`] read and write the `_meta`
//! object of stored work items (`serde` feature), and
//! [`DisplayIdAllocator::observe_display_id`] continues a migrated project's numbers
//! above the highest one it already has.

mod error;
mod file;
mod memory;
mod segment;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;
mod work_item;

pub use error::StoreError;
pub use file::{FileStore, FileStoreStats};
pub use memory::MemoryStore;
pub use segment::Segmented;
#[cfg(feature = "postgres")]
pub use sql::PgStore;
#[cfg(feature = "sqlite")]
pub use sql::SqliteStore;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sql::{IdColumn, SqlCollisionCheck, SqlStore, StoreConnection};
// The database layer's options, where store users looked for them before.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use crate::db::{ConnectOptions, ConnectionStats, ReconnectPolicy, Synchronous};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[allow(deprecated)]
pub use sql::SqliteOptions;
pub use work_item::{StoredWorkItem, WorkItemKey, WorkItemMeta, WorkItemMetaError};

use std::ops::RangeInclusive;
use std::sync::Arc;

use crate::body::{HashId, HashSpec, Seq};
use crate::error::IdError;
use crate::typed::TypedId;

/// Largest block a single [`DisplayIdAllocator::allocate_block`] call may reserve.
pub const MAX_BLOCK: u64 = 1 << 30;

/// Longest scope name, in bytes.
pub const MAX_SCOPE_LEN: usize = 64;

/// Hands out display numbers (`1, 2, 3, …`) per scope; each number at most once.
///
/// Implemented by [`MemoryStore`], [`FileStore`], `SqlStore` (SQLite and PostgreSQL)
/// and [`Segmented`]. Numbers start at 1 and end at [`Seq::MAX`]; a scope is a short
/// name such as `odin` or `odin/WORK` (see [`MAX_SCOPE_LEN`] and
/// [`StoreError::InvalidScope`]).
pub trait DisplayIdAllocator {
    /// Reserves `count` consecutive numbers in `scope` and returns them.
    ///
    /// # Errors
    /// [`StoreError::InvalidScope`], [`StoreError::InvalidBlock`],
    /// [`StoreError::Exhausted`] past [`Seq::MAX`], or the backend's error.
    fn allocate_block(&self, scope: &str, count: u64) -> Result<RangeInclusive<u64>, StoreError>;

    /// The next number in `scope`.
    ///
    /// # Errors
    /// As [`allocate_block`](Self::allocate_block).
    fn allocate(&self, scope: &str) -> Result<u64, StoreError> {
        self.allocate_block(scope, 1).map(|block| *block.start())
    }

    /// The last number reserved in `scope` (0 when none was).
    ///
    /// # Errors
    /// [`StoreError::InvalidScope`] or the backend's error.
    fn last(&self, scope: &str) -> Result<u64, StoreError>;

    /// Records that numbers up to `n` were already issued in `scope` (items imported
    /// from another system, a counter seeded from the items' own table), so every
    /// number handed out later is above `n`. A number at or below the last one
    /// reserved changes nothing, and `0` never does.
    ///
    /// Call it before the scope's users start allocating: it raises the shared
    /// counter, but numbers another process (or another [`Segmented`] value) already
    /// reserved in a block below `n` are still handed out by it.
    ///
    /// ```
    /// use typed_id::store::{DisplayIdAllocator, MemoryStore};
    ///
    /// let store = MemoryStore::new();
    /// store.observe_display_number("odin", 41)?; // WORK-001 … WORK-041 exist already
    /// assert_eq!(store.allocate("odin")?, 42);
    /// store.observe_display_number("odin", 7)?; // below: nothing changes
    /// assert_eq!(store.allocate("odin")?, 43);
    /// # Ok::<(), typed_id::store::StoreError>(())
    /// ```
    ///
    /// # Errors
    /// [`StoreError::InvalidScope`]; [`StoreError::Exhausted`] when `n` is above
    /// [`Seq::MAX`] (no display ID carries it); or the backend's error.
    fn observe_display_number(&self, scope: &str, n: u64) -> Result<(), StoreError>;

    /// Records an existing display ID (see
    /// [`observe_display_number`](Self::observe_display_number)): `WORK-042` makes the
    /// next number 43 or more.
    ///
    /// # Errors
    /// As [`observe_display_number`](Self::observe_display_number).
    fn observe_display_id<T: TypedId<Body = Seq>>(
        &self,
        scope: &str,
        id: &T,
    ) -> Result<(), StoreError>
    where
        Self: Sized,
    {
        self.observe_display_number(scope, id.body_ref().value())
    }

    /// The next display ID of type `T` in `scope`, e.g. `WORK-042`.
    ///
    /// # Errors
    /// As [`allocate`](Self::allocate).
    fn next_id<T: TypedId<Body = Seq>>(&self, scope: &str) -> Result<T, StoreError>
    where
        Self: Sized,
    {
        let n = self.allocate(scope)?;
        crate::__private::seq::<T>(n).map_err(StoreError::Id)
    }
}

macro_rules! forward_allocator {
    ($($ty:ty),*) => {$(
        impl<A: DisplayIdAllocator + ?Sized> DisplayIdAllocator for $ty {
            fn allocate_block(
                &self,
                scope: &str,
                count: u64,
            ) -> Result<RangeInclusive<u64>, StoreError> {
                (**self).allocate_block(scope, count)
            }

            fn allocate(&self, scope: &str) -> Result<u64, StoreError> {
                (**self).allocate(scope)
            }

            fn last(&self, scope: &str) -> Result<u64, StoreError> {
                (**self).last(scope)
            }

            fn observe_display_number(&self, scope: &str, n: u64) -> Result<(), StoreError> {
                (**self).observe_display_number(scope, n)
            }
        }
    )*};
}

forward_allocator!(&A, Box<A>, Arc<A>);

/// Hands out child numbers per parent ID (`el-a3f8` → `el-a3f8.1`, `el-a3f8.2`, …), each
/// at most once, and never a number at or below one it was told about.
///
/// Parents are keyed by their full text, prefix included. Implemented by
/// [`MemoryStore`] and `SqlStore`.
pub trait ChildCounter {
    /// The next child number under the parent whose full text is `parent`.
    ///
    /// # Errors
    /// [`StoreError::Exhausted`] past `u32::MAX`, or the backend's error.
    fn next_child_number(&self, parent: &str) -> Result<u32, StoreError>;

    /// Records that child `n` of `parent` exists (created explicitly, imported), so
    /// later numbers are above it. Lower numbers are ignored.
    ///
    /// # Errors
    /// The backend's error.
    fn observe_child_number(&self, parent: &str, n: u32) -> Result<(), StoreError>;

    /// The highest child number handed out or observed under `parent` (0 for none).
    ///
    /// # Errors
    /// The backend's error.
    fn last_child_number(&self, parent: &str) -> Result<u32, StoreError>;

    /// The next child of `parent`: `el-a3f8` → `el-a3f8.1`, then `el-a3f8.2`, ….
    ///
    /// The type's depth limit is checked first, so a parent that cannot have children
    /// costs no number.
    ///
    /// # Errors
    /// [`StoreError::Id`] with [`IdError::TooDeep`] when `parent` is already as deep as
    /// `T` allows; otherwise as [`next_child_number`](Self::next_child_number).
    fn next_child<T: TypedId<Body = HashId>>(&self, parent: &T) -> Result<T, StoreError>
    where
        Self: Sized,
    {
        let spec: HashSpec = T::SPEC;
        let body = parent.body_ref();
        if body.depth() >= spec.max_depth {
            return Err(StoreError::Id(IdError::TooDeep {
                max_depth: spec.max_depth,
            }));
        }
        let n = self.next_child_number(&parent.to_text())?;
        crate::__private::child(parent, n).map_err(StoreError::Id)
    }

    /// Records an explicitly created child (see
    /// [`observe_child_number`](Self::observe_child_number)); a root is ignored.
    ///
    /// # Errors
    /// The backend's error.
    fn observe<T: TypedId<Body = HashId>>(&self, child: &T) -> Result<(), StoreError>
    where
        Self: Sized,
    {
        let body = child.body_ref();
        match (body.parent(), body.child_number()) {
            (Some(parent), Some(n)) => {
                self.observe_child_number(&T::from_body_unchecked(parent).to_text(), n)
            }
            _ => Ok(()),
        }
    }
}

macro_rules! forward_children {
    ($($ty:ty),*) => {$(
        impl<C: ChildCounter + ?Sized> ChildCounter for $ty {
            fn next_child_number(&self, parent: &str) -> Result<u32, StoreError> {
                (**self).next_child_number(parent)
            }

            fn observe_child_number(&self, parent: &str, n: u32) -> Result<(), StoreError> {
                (**self).observe_child_number(parent, n)
            }

            fn last_child_number(&self, parent: &str) -> Result<u32, StoreError> {
                (**self).last_child_number(parent)
            }
        }
    )*};
}

forward_children!(&C, Box<C>, Arc<C>);

/// Checks a scope name: 1..=64 bytes of `A-Z a-z 0-9 _ - . : /`.
pub(crate) fn check_scope(scope: &str) -> Result<(), StoreError> {
    let reason = if scope.is_empty() {
        "a scope must not be empty"
    } else if scope.len() > MAX_SCOPE_LEN {
        "a scope is at most 64 bytes long"
    } else if !scope
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/'))
    {
        "only ASCII letters, digits and `_ - . : /` are allowed"
    } else {
        return Ok(());
    };
    Err(StoreError::InvalidScope {
        scope: error::snippet(scope),
        reason,
    })
}

/// Checks the argument of [`DisplayIdAllocator::observe_display_number`]: a scope, and
/// a number no display ID is too small for.
pub(crate) fn check_observed(scope: &str, n: u64) -> Result<(), StoreError> {
    check_scope(scope)?;
    if n > Seq::MAX {
        return Err(StoreError::Exhausted {
            key: scope.to_owned(),
            max: Seq::MAX,
        });
    }
    Ok(())
}

/// Checks a block size: 1..=[`MAX_BLOCK`].
pub(crate) fn check_block(count: u64) -> Result<(), StoreError> {
    if count == 0 || count > MAX_BLOCK {
        return Err(StoreError::InvalidBlock { count });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        for ok in ["a", "odin/WORK", "team-1.x:y_z", &"s".repeat(64)] {
            assert!(check_scope(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "é", "a\0", "a%b", &"s".repeat(65)] {
            assert!(
                matches!(check_scope(bad), Err(StoreError::InvalidScope { .. })),
                "{bad:?}"
            );
        }
    }
}
