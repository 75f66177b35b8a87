//! An instance's life in the registry: register (under the caller's ID or a minted key
//! `{project}-{type}-{hash}`), heartbeat, close.
//!
//! Registration never overwrites a live instance: an ID whose row has a recent
//! heartbeat is a [`RegistryError::DuplicateInstance`]. A row that was closed, or whose
//! heartbeat is older than the stale timeout (its process presumably died), is taken
//! over, and the result says so. Each registration gets a random incarnation number, so
//! a process that went stale and was replaced learns it on its next heartbeat
//! ([`RegistryError::Superseded`]) instead of silently sharing the ID.
//!
//! The process that registered holds a [`Registration`] and heartbeats and closes with
//! it. Operators' and agents' tools hold only the ID: [`Registry::heartbeat_by_id`]
//! and [`Registry::close_by_id`] are for them (worker-ID leases always need their
//! token).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};

use super::error::RegistryError;
use super::record::{
    CloseReport, HeartbeatReport, IdChoice, InstanceState, NewInstance, Progress, Registration,
};
use super::registry::{Registry, ms, random_i64};
use super::registry_sql::{self as sql, InstanceRow, PreviousRow};
use crate::body::InstanceKey;
use crate::db::prepared::prepared;
use crate::db::{AnyConnection, DbConnection, on_conn, write_transaction_waiting};
use crate::generator::InstanceKeyGenerator;

/// Longest instance ID the registry stores, in bytes.
const MAX_ID_BYTES: usize = 255;
/// Longest [`current_epic`](super::InstanceRecord::current_epic), in characters.
pub const MAX_EPIC_CHARS: usize = 256;
/// Longest instance type, in bytes (the key grammar's).
const MAX_TYPE_BYTES: usize = 16;
/// Keys minted before a registration gives up on duplicates.
const MINT_ATTEMPTS: u32 = 32;

/// What a heartbeat writes, checked.
struct Beat<'a> {
    status: Option<&'a str>,
    context_percent: Option<i32>,
    /// `None` keeps the stored epic; `Some(None)` clears it.
    epic: Option<Option<&'a str>>,
}

/// The checked fields of a registration, bound to an insert.
struct Fields<'a> {
    new: &'a NewInstance,
    context: Option<i32>,
    epic: Option<&'a str>,
}

/// Binds [`sql::INSERT`]'s (or [`sql::INSERT_MINTED`]'s) parameters to `$query`.
macro_rules! bind_insert {
    ($query:expr, $fields:expr, $id:expr, $key:expr, $now:expr, $incarnation:expr) => {{
        let fields: &Fields<'_> = $fields;
        let key: Option<&InstanceKey> = $key;
        $query
            .bind::<Text, _>($id)
            .bind::<Text, _>(&fields.new.project)
            .bind::<Nullable<Text>, _>(key.map(InstanceKey::kind))
            .bind::<Nullable<Text>, _>(key.map(InstanceKey::hex))
            .bind::<Nullable<Text>, _>(fields.new.hostname.as_deref())
            .bind::<Nullable<BigInt>, _>(fields.new.pid.map(i64::from))
            .bind::<Nullable<Text>, _>(fields.new.source.as_deref())
            .bind::<Nullable<Text>, _>(fields.new.environment.as_deref())
            .bind::<BigInt, _>($now)
            .bind::<BigInt, _>($now)
            .bind::<Nullable<Text>, _>(fields.new.status.as_deref())
            .bind::<Nullable<Integer>, _>(fields.context)
            .bind::<Nullable<Text>, _>(fields.epic)
            .bind::<BigInt, _>($incarnation)
    }};
}

impl Registry {
    /// Registers an instance and returns the [`Registration`] its process heartbeats
    /// and closes with.
    ///
    /// - [`NewInstance::typed`]: the registry mints the key `{project}-{type}-{hash}`
    ///   (the hash: the first hex digits of SHA-256 over the time, 16 random bytes, the
    ///   project and the type; 6 digits unless [`RegistryOptions::key_hex`] says
    ///   otherwise) and mints again when the key exists in any state, so a new
    ///   instance never takes an old one's key over.
    /// - [`NewInstance::new`] (the caller's ID) and [`NewInstance::key`] (the caller's
    ///   key): a closed or stale row with the same ID is taken over (and returned in
    ///   [`Registration::replaced`]); a live one is an error.
    ///
    /// Context percent and epic are checked before anything is written.
    ///
    /// # Errors
    /// [`RegistryError::DuplicateInstance`] when the ID is registered and alive,
    /// [`RegistryError::InvalidInstanceId`] for an empty or over-long ID,
    /// [`RegistryError::InvalidInstanceType`], [`RegistryError::InstanceTypeNotAllowed`],
    /// [`RegistryError::InvalidProject`] (a project that cannot be part of a key),
    /// [`RegistryError::InvalidContextPercent`], [`RegistryError::InvalidEpic`],
    /// [`RegistryError::KeyCollisions`], [`RegistryError::Database`].
    ///
    /// [`RegistryOptions::key_hex`]: super::RegistryOptions::key_hex
    pub fn register(&self, new: &NewInstance) -> Result<Registration, RegistryError> {
        let context = check_context(new.context_percent)?;
        let epic = match new.current_epic.as_deref() {
            None | Some("") => None,
            Some(epic) => Some(check_epic(epic)?),
        };
        let fields = Fields { new, context, epic };
        match &new.id {
            IdChoice::Given(id) => {
                if id.is_empty() || id.len() > MAX_ID_BYTES {
                    return Err(RegistryError::InvalidInstanceId { id: id.clone() });
                }
                self.register_id(id, None, &fields)
            }
            IdChoice::Key(key) => {
                self.check_type(key.kind())?;
                self.register_id(key.as_str(), Some(key), &fields)
            }
            IdChoice::Mint(kind) => self.register_minted(kind, &fields),
        }
    }

    /// Registers under a given ID, taking a closed or stale row over.
    fn register_id(
        &self,
        id: &str,
        key: Option<&InstanceKey>,
        fields: &Fields<'_>,
    ) -> Result<Registration, RegistryError> {
        let incarnation = random_i64()?;
        let now = self.options().now_ms();
        let stale_cutoff = self.stale_cutoff(now);
        let wait = self.lock_wait();
        let result = self.with_conn("register", |conn| {
            on_conn!(conn, |c| write_transaction_waiting(c, wait, |c| {
                let existing: Option<InstanceRow> =
                    prepared(sql::SELECT_BY_ID_FOR_UPDATE.text(c.backend()))
                        .bind::<Text, _>(id)
                        .get_result(c)
                        .optional()?;
                let replaced = match existing {
                    None => None,
                    Some(row) => {
                        let record = self.record(row, now);
                        if record.is_active() && record.last_heartbeat_ms as i64 >= stale_cutoff {
                            return Err(RegistryError::DuplicateInstance {
                                existing: Box::new(record),
                            });
                        }
                        prepared(sql::DELETE_BY_ID).bind::<Text, _>(id).execute(c)?;
                        Some(record)
                    }
                };
                bind_insert!(prepared(sql::INSERT), fields, id, key, now, incarnation)
                    .execute(c)?;
                Ok(replaced)
            }))
        });
        match result {
            Ok(replaced) => Ok(Registration {
                id: id.to_owned(),
                instance_type: key.map(|k| k.kind().to_owned()),
                incarnation,
                replaced,
            }),
            // Another process inserted the same ID between our check and our insert
            // (PostgreSQL's row lock cannot cover a row that did not exist yet).
            Err(e) if e.is_unique_violation() => match self.get_exact(id)? {
                Some(existing) => Err(RegistryError::DuplicateInstance {
                    existing: Box::new(existing),
                }),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Mints keys until one is not in the table, and inserts it.
    fn register_minted(
        &self,
        kind: &str,
        fields: &Fields<'_>,
    ) -> Result<Registration, RegistryError> {
        self.check_type(kind)?;
        let project = &fields.new.project;
        let digits = self.options().key_hex.len();
        let placeholder = "0".repeat(usize::from(digits));
        InstanceKey::from_parts(project, kind, &placeholder).map_err(|source| {
            RegistryError::InvalidProject {
                project: project.clone(),
                source: Box::new(source),
            }
        })?;
        let generator =
            InstanceKeyGenerator::with_hex_len(digits).map_err(RegistryError::Generator)?;
        let incarnation = random_i64()?;
        for _ in 0..MINT_ATTEMPTS {
            let key = generator
                .generate(project, kind)
                .map_err(RegistryError::Generator)?;
            let now = self.options().now_ms();
            // One statement: a key that exists inserts nothing.
            let inserted = self.with_write_conn("register", |conn| {
                on_conn!(conn, |c| {
                    Ok(bind_insert!(
                        prepared(sql::INSERT_MINTED),
                        fields,
                        key.as_str(),
                        Some(&key),
                        now,
                        incarnation
                    )
                    .execute(c)?)
                })
            })?;
            if inserted == 1 {
                return Ok(Registration {
                    id: key.as_str().to_owned(),
                    instance_type: Some(kind.to_owned()),
                    incarnation,
                    replaced: None,
                });
            }
        }
        Err(RegistryError::KeyCollisions {
            project: project.clone(),
            instance_type: kind.to_owned(),
            attempts: MINT_ATTEMPTS,
        })
    }

    /// Checks an instance type against the key grammar and the allowed set.
    fn check_type(&self, kind: &str) -> Result<(), RegistryError> {
        let reason = if kind.is_empty() {
            Some("it is empty")
        } else if kind.len() > MAX_TYPE_BYTES {
            Some("it is longer than 16 characters")
        } else if !kind.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Some("it may hold only ASCII letters and digits")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(RegistryError::InvalidInstanceType {
                instance_type: kind.to_owned(),
                reason,
            });
        }
        match &self.options().instance_types {
            Some(allowed) if !allowed.iter().any(|t| t == kind) => {
                Err(RegistryError::InstanceTypeNotAllowed {
                    instance_type: kind.to_owned(),
                    allowed: allowed.to_vec(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Records a heartbeat, with an optional status (free text, e.g. a small JSON
    /// document; `None` keeps the previous one); as
    /// [`heartbeat_with`](Self::heartbeat_with).
    ///
    /// # Errors
    /// As [`heartbeat_with`](Self::heartbeat_with).
    pub fn heartbeat(
        &self,
        registration: &Registration,
        status: Option<&str>,
    ) -> Result<HeartbeatReport, RegistryError> {
        let progress = Progress {
            status: status.map(str::to_owned),
            ..Progress::default()
        };
        self.heartbeat_with(registration, &progress)
    }

    /// Records a heartbeat of the registration's process with its progress (status,
    /// context percent, epic; each one left unset keeps its stored value).
    ///
    /// A stale instance is revived, and the report says it had gone stale
    /// ([`HeartbeatReport::was_stale`], [`HeartbeatReport::message`]): until this
    /// heartbeat any process could have taken its ID over. A failure (database down or
    /// locked, connection broken) is returned, never a panic; the next heartbeat
    /// reconnects.
    ///
    /// # Errors
    /// [`RegistryError::Closed`], [`RegistryError::Superseded`],
    /// [`RegistryError::NotFound`], [`RegistryError::InvalidContextPercent`],
    /// [`RegistryError::InvalidEpic`], [`RegistryError::Database`].
    pub fn heartbeat_with(
        &self,
        registration: &Registration,
        progress: &Progress,
    ) -> Result<HeartbeatReport, RegistryError> {
        match self.beat(&registration.id, Some(registration.incarnation), progress)? {
            Some(report) => Ok(report),
            None => Err(self.why_not_updated(registration)?),
        }
    }

    /// Records a heartbeat of the instance `id`, whichever process registered it: for
    /// operator and agent tools, which hold the ID but no [`Registration`]. Otherwise
    /// as [`heartbeat_with`](Self::heartbeat_with).
    ///
    /// # Errors
    /// [`RegistryError::NotFound`], [`RegistryError::Closed`],
    /// [`RegistryError::InvalidContextPercent`], [`RegistryError::InvalidEpic`],
    /// [`RegistryError::Database`].
    pub fn heartbeat_by_id(
        &self,
        id: &str,
        progress: &Progress,
    ) -> Result<HeartbeatReport, RegistryError> {
        match self.beat(id, None, progress)? {
            Some(report) => Ok(report),
            None => Err(match self.get_exact_row(id)? {
                None => RegistryError::NotFound { id: id.to_owned() },
                Some(_) => RegistryError::Closed { id: id.to_owned() },
            }),
        }
    }

    /// Updates the open row `id` (of that incarnation, if given); `None` when no such
    /// row.
    fn beat(
        &self,
        id: &str,
        incarnation: Option<i64>,
        progress: &Progress,
    ) -> Result<Option<HeartbeatReport>, RegistryError> {
        let beat = Beat {
            status: progress.status.as_deref(),
            context_percent: check_context(progress.context_percent)?,
            epic: match progress.current_epic.as_deref() {
                None => None,
                Some("") => Some(None),
                Some(epic) => Some(Some(check_epic(epic)?)),
            },
        };
        let now = self.options().now_ms();
        #[cfg(feature = "sqlite")]
        let wait = self.lock_wait();
        let previous = self.with_conn("heartbeat", |conn| match conn {
            // Read the previous heartbeat and write the new one under the write lock.
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(c) => write_transaction_waiting(c, wait, |c| {
                let previous: Option<PreviousRow> = prepared(sql::SQLITE_HEARTBEAT_PREVIOUS)
                    .bind::<Text, _>(id)
                    .bind::<Nullable<BigInt>, _>(incarnation)
                    .get_result(c)
                    .optional()?;
                if previous.is_some() {
                    prepared(sql::SQLITE_HEARTBEAT_UPDATE)
                        .bind::<BigInt, _>(now)
                        .bind::<Nullable<Text>, _>(beat.status)
                        .bind::<Nullable<Integer>, _>(beat.context_percent)
                        .bind::<Bool, _>(beat.epic.is_some())
                        .bind::<Nullable<Text>, _>(beat.epic.flatten())
                        .bind::<Text, _>(id)
                        .execute(c)?;
                }
                Ok(previous)
            }),
            // One statement: the previous heartbeat comes back from under the row lock.
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(c) => Ok(prepared(sql::PG_HEARTBEAT)
                .bind::<BigInt, _>(now)
                .bind::<Nullable<Text>, _>(beat.status)
                .bind::<Nullable<Integer>, _>(beat.context_percent)
                .bind::<Bool, _>(beat.epic.is_some())
                .bind::<Nullable<Text>, _>(beat.epic.flatten())
                .bind::<Text, _>(id)
                .bind::<Nullable<BigInt>, _>(incarnation)
                .get_result::<PreviousRow>(c)
                .optional()?),
        })?;
        Ok(previous.map(|row| {
            let previous_ms = row.previous_ms;
            HeartbeatReport {
                id: id.to_owned(),
                state: InstanceState::Active,
                last_heartbeat_ms: ms(now),
                previous_heartbeat_ms: ms(previous_ms),
                age_secs: ms(now.saturating_sub(previous_ms)) / 1_000,
                was_stale: previous_ms < self.stale_cutoff(now),
            }
        }))
    }

    /// Closes an instance: it leaves [`list`](Self::list) and its ID may be registered
    /// again. Closing twice is not an error.
    ///
    /// # Errors
    /// [`RegistryError::Superseded`], [`RegistryError::NotFound`],
    /// [`RegistryError::Database`].
    pub fn close(&self, registration: &Registration) -> Result<(), RegistryError> {
        let now = self.options().now_ms();
        let updated = self.with_write_conn("close", |conn| {
            on_conn!(conn, |c| {
                Ok(prepared(sql::CLOSE)
                    .bind::<BigInt, _>(now)
                    .bind::<Text, _>(&registration.id)
                    .bind::<Nullable<BigInt>, _>(Some(registration.incarnation))
                    .execute(c)?)
            })
        })?;
        if updated == 1 {
            return Ok(());
        }
        match self.why_not_updated(registration)? {
            RegistryError::Closed { .. } => Ok(()),
            e => Err(e),
        }
    }

    /// Closes the instance `id`, whichever process registered it: for operator and
    /// agent tools. Closing a closed instance is not an error (the report says it
    /// was closed already). The process that held it learns on its next heartbeat
    /// ([`RegistryError::Closed`]).
    ///
    /// # Errors
    /// [`RegistryError::NotFound`], [`RegistryError::Database`].
    pub fn close_by_id(&self, id: &str) -> Result<CloseReport, RegistryError> {
        let now = self.options().now_ms();
        let wait = self.lock_wait();
        let before = self.with_conn("close", |conn| {
            on_conn!(conn, |c| write_transaction_waiting(c, wait, |c| {
                let before: Option<InstanceRow> =
                    prepared(sql::SELECT_BY_ID_FOR_UPDATE.text(c.backend()))
                        .bind::<Text, _>(id)
                        .get_result(c)
                        .optional()?;
                if before
                    .as_ref()
                    .is_some_and(|row| row.closed_at_ms.is_none())
                {
                    prepared(sql::CLOSE)
                        .bind::<BigInt, _>(now)
                        .bind::<Text, _>(id)
                        .bind::<Nullable<BigInt>, _>(None::<i64>)
                        .execute(c)?;
                }
                Ok(before)
            }))
        })?;
        let Some(mut row) = before else {
            return Err(RegistryError::NotFound { id: id.to_owned() });
        };
        let already_closed = row.closed_at_ms.is_some();
        let was_stale = !already_closed && row.last_heartbeat_ms < self.stale_cutoff(now);
        row.closed_at_ms.get_or_insert(now);
        Ok(CloseReport {
            instance: self.record(row, now),
            already_closed,
            was_stale,
        })
    }

    /// Why a heartbeat or close matched no row.
    fn why_not_updated(&self, registration: &Registration) -> Result<RegistryError, RegistryError> {
        let id = registration.id.clone();
        Ok(match self.get_exact_row(&registration.id)? {
            None => RegistryError::NotFound { id },
            Some(row) if row.incarnation != registration.incarnation => {
                RegistryError::Superseded { id }
            }
            Some(_) => RegistryError::Closed { id },
        })
    }
}

/// A context percent, checked: 0 to 100.
fn check_context(percent: Option<u8>) -> Result<Option<i32>, RegistryError> {
    match percent {
        Some(p) if p > 100 => Err(RegistryError::InvalidContextPercent { percent: p }),
        p => Ok(p.map(i32::from)),
    }
}

/// An epic, checked: 1 to [`MAX_EPIC_CHARS`] characters, no control characters.
fn check_epic(epic: &str) -> Result<&str, RegistryError> {
    let chars = epic.chars().count();
    let reason = if chars > MAX_EPIC_CHARS {
        Some("it is longer than 256 characters")
    } else if epic.chars().any(char::is_control) {
        Some("it contains control characters (line breaks, tabs, escapes)")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(RegistryError::InvalidEpic { chars, reason }),
        None => Ok(epic),
    }
}
