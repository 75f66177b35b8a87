//! [`StoreError`]: what can go wrong in a store, with the underlying I/O or database
//! error kept as [`source()`](std::error::Error::source).

use core::fmt;
use std::path::PathBuf;

use crate::error::IdError;

/// Why a store operation failed. New reasons may be added in minor releases.
///
/// `Display` says what was being done and includes the cause's message, so a log line is
/// useful on its own; the cause itself is available through
/// [`source()`](std::error::Error::source).
///
/// ```
/// use typed_id::store::{DisplayIdAllocator, MemoryStore, StoreError};
///
/// let store = MemoryStore::new();
/// let err = store.allocate("no spaces please").unwrap_err();
/// assert!(matches!(err, StoreError::InvalidScope { .. }));
/// assert_eq!(
///     err.to_string(),
///     r#"invalid scope "no spaces please": only ASCII letters, digits and `_ - . : /` are allowed"#
/// );
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum StoreError {
    /// A scope name that is empty, too long, or has characters outside
    /// `A-Z a-z 0-9 _ - . : /`.
    InvalidScope {
        /// The rejected scope (at most its first 80 bytes).
        scope: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A block size of 0, or larger than [`MAX_BLOCK`](super::MAX_BLOCK).
    InvalidBlock {
        /// The requested block size.
        count: u64,
    },
    /// A table or column name that is not a plain SQL identifier.
    InvalidIdentifier {
        /// The rejected name.
        name: String,
    },
    /// A counter has reached the largest value its IDs can hold (display numbers:
    /// [`Seq::MAX`](crate::Seq::MAX); child numbers: `u32::MAX`). It is never reset.
    Exhausted {
        /// The scope or parent ID.
        key: String,
        /// The largest value that could be handed out.
        max: u64,
    },
    /// The ID cannot be built, e.g. a child of a parent that is already as deep as its
    /// type allows ([`IdError::TooDeep`]).
    Id(IdError),
    /// A counter file holds something this crate never writes: the store refuses to
    /// guess (and never silently starts again from 1).
    CorruptCounter {
        /// The counter file.
        path: PathBuf,
        /// What is wrong with its content.
        reason: &'static str,
    },
    /// A database row holds a value that is not what the store expects: a negative or
    /// oversized counter, or text in an ID column that is not a valid ID of the type.
    CorruptValue {
        /// Table (and column) the value was read from.
        location: String,
        /// The value, as text (at most its first 80 bytes).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Every content-hash candidate up to the generator's bound was taken.
    TooManyCollisions {
        /// Candidates tried in the last generation.
        attempts: u32,
        /// The longest hash length tried.
        len: u8,
    },
    /// An insert lost the race for a fresh ID to another writer this many times in a
    /// row (each retry generates a new candidate).
    LostRaces {
        /// Inserts attempted.
        attempts: u32,
    },
    /// A file operation of the file store failed.
    Io {
        /// What was being done (`"lock"`, `"read"`, `"rename"`, …).
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A connection string names an engine this build does not include (enable the
    /// `sqlite` or `postgres` feature), or is not understood.
    Unsupported {
        /// What was asked for.
        what: String,
    },
    /// The database could not be reached.
    #[cfg(feature = "diesel")]
    Connection(diesel::ConnectionError),
    /// A statement failed.
    #[cfg(feature = "diesel")]
    Database {
        /// What was being done (`"allocate a display number"`, …).
        op: &'static str,
        /// diesel's error.
        source: diesel::result::Error,
    },
    /// Applying the embedded migrations failed.
    #[cfg(feature = "diesel")]
    Migration(Box<dyn std::error::Error + Send + Sync>),
    /// A SQL store found its connection broken before sending anything and could not
    /// connect again within its [`ReconnectPolicy`](super::ReconnectPolicy). Nothing was
    /// allocated; the next call tries again.
    #[cfg(feature = "diesel")]
    Unreachable {
        /// Connection attempts made.
        attempts: u32,
        /// Time from the first attempt to giving up.
        waited: std::time::Duration,
        /// Why the last attempt failed.
        source: Box<StoreError>,
    },
    /// A SQL store found its connection broken and cannot connect again: it was made
    /// with `SqlStore::from_connection` and knows no URL. Open a new store.
    #[cfg(feature = "diesel")]
    Disconnected {
        /// How the connection was found broken.
        source: diesel::result::Error,
    },
    /// The SQLite database file at a store's path, or its `-wal` or `-shm` file, is no
    /// longer the file the store opened: deleted, or replaced (restored from a backup).
    /// The store refuses to number from the file it still holds, for good; processes
    /// opened afterwards use the file now at the path. See the `SqliteStore` docs on
    /// recovery.
    #[cfg(feature = "diesel")]
    DatabaseFileReplaced {
        /// The database file.
        path: PathBuf,
        /// What changed.
        what: &'static str,
    },
    /// The data this store was numbering from is gone or was put back to an older copy:
    /// the folder was removed or replaced, the scope's files were deleted, or they went
    /// back below what this store had already seen (a backup restored). The store stops
    /// numbering the scope for good rather than issue from a copy others no longer
    /// use; stores opened afterwards work on the data now at the path. To recover,
    /// make sure that data is right (for a [`FileStore`](super::FileStore), seed it
    /// with [`FileStore::repair`](super::FileStore::repair) from the highest number in
    /// the items' own table), then open the store again.
    Replaced {
        /// The folder or file that changed under the store.
        path: PathBuf,
        /// What changed.
        reason: &'static str,
    },
}

impl StoreError {
    /// `true` for [`StoreError::CorruptCounter`] and [`StoreError::CorruptValue`]:
    /// the store holds data it did not write, and a human has to look.
    #[must_use]
    pub fn is_corruption(&self) -> bool {
        matches!(
            self,
            StoreError::CorruptCounter { .. } | StoreError::CorruptValue { .. }
        )
    }

    /// `true` when a write gave up waiting for the database's lock, held by other
    /// writers past the busy timeout (`db::ConnectOptions::busy_timeout`; SQLite's
    /// "database is locked", PostgreSQL's `lock_timeout`). Nothing was written and
    /// nothing was handed out: trying again is safe. SQLite does not queue waiters, so
    /// a writer can lose to others that write in a tight loop for that long.
    #[must_use]
    pub fn is_busy(&self) -> bool {
        #[cfg(any(feature = "sqlite", feature = "postgres"))]
        if let StoreError::Database { source, .. } = self {
            return crate::db::lock_timed_out(source);
        }
        false
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn db(op: &'static str) -> impl FnOnce(diesel::result::Error) -> StoreError {
        move |source| StoreError::Database { op, source }
    }
}

/// At most the first 80 bytes of `s` (on a character boundary), for error messages.
pub(crate) fn snippet(s: &str) -> String {
    let mut cut = s.len().min(80);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s[..cut].to_owned()
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::InvalidScope { scope, reason } => {
                write!(f, "invalid scope \"{}\": {reason}", scope.escape_debug())
            }
            StoreError::InvalidBlock { count } => write!(
                f,
                "invalid block size {count}: expected 1..={}",
                super::MAX_BLOCK
            ),
            StoreError::InvalidIdentifier { name } => write!(
                f,
                "invalid SQL identifier \"{}\": expected letters, digits and `_`, \
                 not starting with a digit (optionally `schema.name`)",
                name.escape_debug()
            ),
            StoreError::Exhausted { key, max } => {
                write!(
                    f,
                    "counter \"{}\" is exhausted: it reached {max}",
                    key.escape_debug()
                )
            }
            StoreError::Id(e) => write!(f, "cannot build the ID: {e}"),
            StoreError::CorruptCounter { path, reason } => {
                write!(f, "corrupt counter file {}: {reason}", path.display())
            }
            StoreError::CorruptValue {
                location,
                value,
                reason,
            } => write!(
                f,
                "unexpected value \"{}\" in {location}: {reason}",
                value.escape_debug()
            ),
            StoreError::TooManyCollisions { attempts, len } => write!(
                f,
                "no free content-hash ID after {attempts} candidates (lengths up to {len})"
            ),
            StoreError::LostRaces { attempts } => write!(
                f,
                "gave up after {attempts} inserts in a row lost the race for a fresh ID"
            ),
            StoreError::Io { op, path, source } => {
                write!(f, "cannot {op} {}: {source}", path.display())
            }
            StoreError::Unsupported { what } => f.write_str(what),
            #[cfg(feature = "diesel")]
            StoreError::Connection(e) => write!(f, "cannot connect to the database: {e}"),
            #[cfg(feature = "diesel")]
            StoreError::Database { op, source } => write!(f, "cannot {op}: {source}"),
            #[cfg(feature = "diesel")]
            StoreError::Migration(e) => write!(f, "cannot apply the store's migrations: {e}"),
            #[cfg(feature = "diesel")]
            StoreError::Unreachable {
                attempts,
                waited,
                source,
            } => write!(
                f,
                "the database stayed unreachable after the connection broke \
                 ({attempts} attempts over {:.1} s): {source}",
                waited.as_secs_f64()
            ),
            #[cfg(feature = "diesel")]
            StoreError::Disconnected { source } => write!(
                f,
                "the database connection broke and this store cannot reconnect \
                 (it was made from a connection, not a URL): {source}"
            ),
            #[cfg(feature = "diesel")]
            StoreError::DatabaseFileReplaced { path, what } => write!(
                f,
                "the SQLite database {} is no longer the file this store opened: {what}",
                path.display()
            ),
            StoreError::Replaced { path, reason } => write!(
                f,
                "{} is no longer the data this store was using: {reason}; \
                 check the data, then open the store again",
                path.display()
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Id(e) => Some(e),
            StoreError::Io { source, .. } => Some(source),
            #[cfg(feature = "diesel")]
            StoreError::Connection(e) => Some(e),
            #[cfg(feature = "diesel")]
            StoreError::Database { source, .. } => Some(source),
            #[cfg(feature = "diesel")]
            StoreError::Migration(e) => Some(&**e),
            #[cfg(feature = "diesel")]
            StoreError::Unreachable { source, .. } => Some(&**source),
            #[cfg(feature = "diesel")]
            StoreError::Disconnected { source } => Some(source),
            _ => None,
        }
    }
}

impl From<IdError> for StoreError {
    fn from(e: IdError) -> Self {
        StoreError::Id(e)
    }
}

/// A failed statement of the caller's own (inside `SqlStore::write` or an insert closure).
#[cfg(feature = "diesel")]
impl From<diesel::result::Error> for StoreError {
    fn from(source: diesel::result::Error) -> Self {
        StoreError::Database {
            op: "run a statement",
            source,
        }
    }
}

#[cfg(feature = "diesel")]
impl From<diesel::ConnectionError> for StoreError {
    fn from(e: diesel::ConnectionError) -> Self {
        StoreError::Connection(e)
    }
}

/// The database layer's failures, in the store's own variants.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl From<crate::db::DbError> for StoreError {
    fn from(e: crate::db::DbError) -> Self {
        use crate::db::DbError;
        match e {
            DbError::UnsupportedUrl { reason } => StoreError::Unsupported {
                what: reason.to_owned(),
            },
            DbError::Connect { source, .. } => StoreError::Connection(source),
            DbError::Database { op, source } => StoreError::Database { op, source },
            DbError::Migration(source) => StoreError::Migration(source),
            DbError::Unreachable {
                attempts,
                waited,
                source,
            } => StoreError::Unreachable {
                attempts,
                waited,
                source: Box::new(StoreError::from(*source)),
            },
            DbError::Disconnected { source } => StoreError::Disconnected { source },
            DbError::FileReplaced { path, what } => StoreError::DatabaseFileReplaced { path, what },
            DbError::Io { op, path, source } => StoreError::Io { op, path, source },
        }
    }
}
