//! The registry's and the leases' one error type: what went wrong, with the database's
//! own error kept as `source()`.

use core::fmt;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::record::InstanceRecord;
use crate::db::DbError;
use crate::generator::GenerateError;

/// Why a registry or lease operation failed. New reasons may be added in minor releases.
///
/// None of these is fatal to the process: a failed heartbeat or renewal is reported and
/// the next one is tried; a lease that could not be renewed in time fences its
/// generator instead of risking duplicates.
#[non_exhaustive]
#[derive(Debug)]
pub enum RegistryError {
    /// The database URL names a backend this build does not include, or is malformed.
    UnsupportedUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Connecting to the database failed.
    Connect {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The driver's error.
        source: diesel::ConnectionError,
    },
    /// Applying the embedded migrations failed.
    Migration {
        /// The migration harness's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A statement failed (database down, locked, connection broken…).
    Database {
        /// The operation: `register`, `heartbeat`, `list`, `get`, `close`, `purge`,
        /// `acquire lease`, `renew lease`, `release lease`, `leases`.
        operation: &'static str,
        /// The driver's error.
        source: DieselError,
    },
    /// An instance with this ID is registered and alive (heartbeat within the stale
    /// timeout). Registration never overwrites a live instance.
    DuplicateInstance {
        /// The live instance.
        existing: Box<InstanceRecord>,
    },
    /// The instance ID is empty or longer than 255 bytes.
    InvalidInstanceId {
        /// The ID given.
        id: String,
    },
    /// No instance has this ID, and no active one starts with it.
    NotFound {
        /// The ID or prefix given.
        id: String,
    },
    /// More than one active instance starts with this prefix.
    AmbiguousPrefix {
        /// The prefix given.
        prefix: String,
        /// The matching IDs, sorted (at most 20).
        candidates: Vec<String>,
        /// Whether more matched than are listed.
        more: bool,
    },
    /// More than one instance matches this hash (or prefix and hash): give more of the
    /// ID.
    AmbiguousHash {
        /// The hash (or prefix) given.
        query: String,
        /// The matching IDs, sorted (at most 20).
        candidates: Vec<String>,
        /// Whether more matched than are listed.
        more: bool,
    },
    /// [`Registry::get_by_hash`](super::Registry::get_by_hash) was given something
    /// other than 4 to 32 lowercase hex digits.
    InvalidHash {
        /// What was given.
        hash: String,
    },
    /// The instance type breaks the key grammar (1 to 16 ASCII letters and digits).
    InvalidInstanceType {
        /// The type given.
        instance_type: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The registry's options restrict instance types, and this one is not among them.
    InstanceTypeNotAllowed {
        /// The type given.
        instance_type: String,
        /// The types allowed.
        allowed: Vec<String>,
    },
    /// The project cannot be the first part of a key `{project}-{type}-{hash}`.
    InvalidProject {
        /// The project given.
        project: String,
        /// Where the key grammar breaks.
        source: Box<crate::error::ParseIdError>,
    },
    /// A context percent above 100.
    InvalidContextPercent {
        /// The value given.
        percent: u8,
    },
    /// The current epic is too long or holds control characters.
    InvalidEpic {
        /// Its length in characters.
        chars: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Every key minted for a registration existed already: the key space of this
    /// project and type is crowded; configure longer keys
    /// ([`RegistryOptions::key_hex`](super::RegistryOptions::key_hex)) or purge old rows.
    KeyCollisions {
        /// The project.
        project: String,
        /// The instance type.
        instance_type: String,
        /// Keys tried.
        attempts: u32,
    },
    /// The instance was closed; it needs to register again.
    Closed {
        /// Its ID.
        id: String,
    },
    /// Another process registered the same ID after this one went stale: this process
    /// is no longer that instance.
    Superseded {
        /// The ID.
        id: String,
    },
    /// Every worker ID of the scope is held by a live lease.
    NoFreeWorker {
        /// The lease scope.
        scope: String,
        /// The largest worker ID of the layout.
        max_worker: u32,
    },
    /// The lease was taken over by another holder after it expired: this process must
    /// not issue IDs with that worker ID again (its generator is fenced).
    LeaseLost {
        /// The lease scope.
        scope: String,
        /// The worker ID.
        worker: u32,
    },
    /// The lease was released; acquire a new one.
    LeaseReleased {
        /// The lease scope.
        scope: String,
        /// The worker ID.
        worker: u32,
    },
    /// The leased generator could not be built (a high-water mark beyond the layout's
    /// range, a worker ID the layout cannot hold).
    Generator(GenerateError),
    /// The SQLite registry file was deleted or replaced (restored from a backup, say)
    /// while this registry had it open: its registrations and leases, with their
    /// high-water marks, are not in the file now at the path. Every later operation of
    /// this registry fails with this error, and its leases end (their generators notice
    /// within a millisecond, before any renewal): restart the process to register and
    /// lease anew.
    DatabaseReplaced {
        /// The database file's path.
        path: String,
    },
    /// Looking at the SQLite registry file (to notice it being replaced) failed.
    FileCheck {
        /// The database file's path.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl RegistryError {
    /// Whether a statement gave up waiting for a lock other connections held.
    pub(crate) fn is_lock_timeout(&self) -> bool {
        matches!(self, RegistryError::Database { source, .. } if crate::db::lock_timed_out(source))
    }

    /// Whether the connection is unusable, so the registry reconnects for the next
    /// operation.
    pub(crate) fn is_connection_broken(&self) -> bool {
        matches!(
            self,
            RegistryError::Database {
                source: DieselError::DatabaseError(
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                    _
                ) | DieselError::BrokenTransactionManager,
                ..
            }
        )
    }

    /// Whether retrying the same statement may succeed (serialization failure).
    #[cfg(feature = "postgres")]
    pub(crate) fn is_serialization_failure(&self) -> bool {
        matches!(
            self,
            RegistryError::Database {
                source: DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _),
                ..
            }
        )
    }

    /// Whether the database reported a unique violation.
    pub(crate) fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            RegistryError::Database {
                source: DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _),
                ..
            }
        )
    }

    /// Names the operation of a database error that does not have one yet.
    pub(crate) fn in_op(self, op: &'static str) -> Self {
        match self {
            RegistryError::Database {
                operation: "",
                source,
            } => RegistryError::Database {
                operation: op,
                source,
            },
            other => other,
        }
    }
}

impl From<DieselError> for RegistryError {
    /// A database error; the registry names its operation before returning it.
    fn from(source: DieselError) -> Self {
        RegistryError::Database {
            operation: "",
            source,
        }
    }
}

impl From<DbError> for RegistryError {
    /// The database layer's failures, in the registry's own variants. A reconnection
    /// that failed reports why its (single) attempt did.
    fn from(e: DbError) -> Self {
        match e {
            DbError::UnsupportedUrl { reason } => RegistryError::UnsupportedUrl { reason },
            DbError::Connect { backend, source } => RegistryError::Connect {
                backend: backend.name(),
                source,
            },
            DbError::Database { op, source } => RegistryError::Database {
                operation: op,
                source,
            },
            DbError::Migration(source) => RegistryError::Migration { source },
            DbError::Unreachable { source, .. } => RegistryError::from(*source),
            DbError::Disconnected { source } => RegistryError::from(source),
            DbError::FileReplaced { path, .. } => RegistryError::DatabaseReplaced {
                path: path.display().to_string(),
            },
            DbError::Io { path, source, .. } => RegistryError::FileCheck {
                path: path.display().to_string(),
                source,
            },
        }
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::UnsupportedUrl { reason } => {
                write!(f, "unsupported registry database URL: {reason}")
            }
            RegistryError::Connect { backend, source } => {
                write!(
                    f,
                    "cannot connect to the {backend} registry database: {source}"
                )
            }
            RegistryError::Migration { source } => {
                write!(f, "cannot apply the registry's migrations: {source}")
            }
            RegistryError::Database { operation, source } => {
                write!(f, "registry {operation} failed: {source}")
            }
            RegistryError::DuplicateInstance { existing } => write!(
                f,
                "instance {:?} is already registered and alive (project {:?}, host {}, pid {}, \
                 last heartbeat at {} ms since 1970); give each instance its own ID",
                existing.id,
                existing.project,
                existing.hostname.as_deref().unwrap_or("?"),
                existing
                    .pid
                    .map_or_else(|| "?".to_owned(), |p| p.to_string()),
                existing.last_heartbeat_ms,
            ),
            RegistryError::InvalidInstanceId { id } => write!(
                f,
                "invalid instance ID {id:?}: it must be 1 to 255 bytes long"
            ),
            RegistryError::NotFound { id } => write!(f, "no instance {id:?} in the registry"),
            RegistryError::AmbiguousPrefix {
                prefix,
                candidates,
                more,
            } => {
                write!(f, "instance prefix {prefix:?} is ambiguous: it matches ")?;
                for (i, c) in candidates.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(c)?;
                }
                if *more {
                    f.write_str(" and more")?;
                }
                Ok(())
            }
            RegistryError::AmbiguousHash {
                query,
                candidates,
                more,
            } => {
                write!(f, "instance hash {query:?} is ambiguous: it matches ")?;
                for (i, c) in candidates.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(c)?;
                }
                if *more {
                    f.write_str(" and more")?;
                }
                f.write_str("; give more of the ID")
            }
            RegistryError::InvalidHash { hash } => write!(
                f,
                "invalid instance hash {hash:?}: it must be 4 to 32 lowercase hex digits"
            ),
            RegistryError::InvalidInstanceType {
                instance_type,
                reason,
            } => write!(
                f,
                "invalid instance type {instance_type:?}: {reason} (a type is 1 to 16 ASCII \
                 letters and digits, e.g. PS)"
            ),
            RegistryError::InstanceTypeNotAllowed {
                instance_type,
                allowed,
            } => {
                write!(
                    f,
                    "instance type {instance_type:?} is not allowed in this registry; allowed: "
                )?;
                for (i, t) in allowed.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(t)?;
                }
                Ok(())
            }
            RegistryError::InvalidProject { project, source } => write!(
                f,
                "project {project:?} cannot start an instance key: {source}"
            ),
            RegistryError::InvalidContextPercent { percent } => {
                write!(f, "invalid context percent {percent}: it must be 0 to 100")
            }
            RegistryError::InvalidEpic { chars, reason } => {
                write!(f, "invalid current epic ({chars} characters): {reason}")
            }
            RegistryError::KeyCollisions {
                project,
                instance_type,
                attempts,
            } => write!(
                f,
                "could not mint a free key for project {project:?} and type \
                 {instance_type:?}: all {attempts} keys tried exist; use longer keys or \
                 purge old instances"
            ),
            RegistryError::Closed { id } => {
                write!(f, "instance {id:?} is closed; register it again")
            }
            RegistryError::Superseded { id } => write!(
                f,
                "instance {id:?} was registered again by another process after this one went \
                 stale; this process no longer owns that ID"
            ),
            RegistryError::NoFreeWorker { scope, max_worker } => write!(
                f,
                "no free worker ID in scope {scope:?}: all of 0..={max_worker} are leased"
            ),
            RegistryError::LeaseLost { scope, worker } => write!(
                f,
                "worker ID {worker} of scope {scope:?} was taken over by another holder; \
                 its generator is fenced"
            ),
            RegistryError::LeaseReleased { scope, worker } => {
                write!(f, "worker ID {worker} of scope {scope:?} was released")
            }
            RegistryError::Generator(e) => write!(f, "cannot build the leased generator: {e}"),
            RegistryError::DatabaseReplaced { path } => write!(
                f,
                "the registry database {path} was deleted or replaced while in use; its \
                 registrations and leases are gone from this process's view: restart it"
            ),
            RegistryError::FileCheck { path, source } => {
                write!(
                    f,
                    "cannot check the registry database file {path}: {source}"
                )
            }
        }
    }
}

impl std::error::Error for RegistryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RegistryError::Connect { source, .. } => Some(source),
            RegistryError::Migration { source } => Some(&**source),
            RegistryError::Database { source, .. } => Some(source),
            RegistryError::Generator(e) => Some(e),
            RegistryError::InvalidProject { source, .. } => Some(&**source),
            RegistryError::FileCheck { source, .. } => Some(source),
            _ => None,
        }
    }
}
