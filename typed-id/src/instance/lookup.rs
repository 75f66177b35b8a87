//! Reading the registry: one instance by full ID, leading prefix or key hash; lists
//! with counts; and purging old rows.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::error::RegistryError;
use super::record::{InstanceCounts, InstanceList, InstanceRecord, ListQuery, Purge, PurgeReport};
use super::registry::{Registry, ms, prefix_upper_bound};
use super::registry_sql::{self as sql, CountsRow, IdRow, InstanceRow};
use crate::db::prepared::prepared;
use crate::db::{AnyConnection, on_conn};

/// Most candidates an ambiguous lookup lists.
const MAX_CANDIDATES: usize = 20;

/// The rows of a list query, on the connection `$c`.
macro_rules! load_list {
    ($c:expr, $query:expr) => {{
        let query: &ListQuery = $query;
        let statement = match (&query.project, query.include_closed) {
            (Some(_), false) => sql::LIST_ACTIVE_OF_PROJECT,
            (None, false) => sql::LIST_ACTIVE,
            (Some(_), true) => sql::LIST_ALL_OF_PROJECT,
            (None, true) => sql::LIST_ALL,
        };
        let q = prepared(statement);
        let rows: Vec<InstanceRow> = match &query.project {
            Some(p) => q.bind::<Text, _>(p).load($c)?,
            None => q.load($c)?,
        };
        rows
    }};
}

impl Registry {
    /// Active (not closed) instances, of one project or all, ordered by project, then
    /// most recent heartbeat first; stale ones are marked ([`InstanceRecord::stale`]).
    /// For closed ones too, and counts, see [`list_with`](Self::list_with).
    ///
    /// # Errors
    /// [`RegistryError::Database`].
    pub fn list(&self, project: Option<&str>) -> Result<Vec<InstanceRecord>, RegistryError> {
        let query = ListQuery {
            project: project.map(str::to_owned),
            include_closed: false,
        };
        self.list_rows(&query)
    }

    /// The instances `query` selects — of one project or all, active (and stale) only
    /// or closed ones too — ordered by project, then most recent heartbeat first, each
    /// marked stale or not, with the counts of every state (of that project, or of the
    /// whole registry) read in the same transaction.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use typed_id::instance::{ListQuery, NewInstance, Registry};
    /// # let dir = std::env::temp_dir().join(format!("typed-id-doc-list-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let registry = Registry::open(dir.join("r.db").to_str().unwrap())?;
    /// let a = registry.register(&NewInstance::typed("odin", "PS"))?;
    /// let b = registry.register(&NewInstance::typed("odin", "MS"))?;
    /// registry.close(&b)?;
    ///
    /// let active = registry.list_with(&ListQuery::active().project("odin"))?;
    /// assert_eq!(active.instances.len(), 1);
    /// assert_eq!((active.counts.total, active.counts.active, active.counts.closed), (2, 1, 1));
    /// let all = registry.list_with(&ListQuery::all().project("odin"))?;
    /// assert_eq!(all.instances.len(), 2);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # }
    /// # Ok::<(), typed_id::instance::RegistryError>(())
    /// ```
    ///
    /// # Errors
    /// [`RegistryError::Database`].
    pub fn list_with(&self, query: &ListQuery) -> Result<InstanceList, RegistryError> {
        let now = self.options().now_ms();
        let cutoff = self.stale_cutoff(now);
        let (rows, counts) = self.with_conn("list", |conn| {
            // Rows and counts from one snapshot: a read transaction on SQLite (WAL), a
            // read-only repeatable-read one on PostgreSQL.
            macro_rules! rows_and_counts {
                ($c:expr) => {{
                    let rows = load_list!($c, query);
                    let counts: CountsRow = match &query.project {
                        Some(p) => prepared(sql::COUNTS_OF_PROJECT)
                            .bind::<BigInt, _>(cutoff)
                            .bind::<Text, _>(p)
                            .get_result($c)?,
                        None => prepared(sql::COUNTS)
                            .bind::<BigInt, _>(cutoff)
                            .get_result($c)?,
                    };
                    Ok((rows, counts))
                }};
            }
            match conn {
                #[cfg(feature = "sqlite")]
                AnyConnection::Sqlite(c) => c.transaction(|c| rows_and_counts!(c)),
                #[cfg(feature = "postgres")]
                AnyConnection::Postgres(c) => c
                    .build_transaction()
                    .repeatable_read()
                    .read_only()
                    .run(|c| rows_and_counts!(c)),
            }
        })?;
        let (total, closed, stale) = (ms(counts.total), ms(counts.closed), ms(counts.stale));
        Ok(InstanceList {
            instances: rows.into_iter().map(|r| self.record(r, now)).collect(),
            counts: InstanceCounts {
                total,
                active: total.saturating_sub(closed + stale),
                stale,
                closed,
            },
        })
    }

    fn list_rows(&self, query: &ListQuery) -> Result<Vec<InstanceRecord>, RegistryError> {
        let rows = self.with_conn("list", |conn| on_conn!(conn, |c| Ok(load_list!(c, query))))?;
        let now = self.options().now_ms();
        Ok(rows.into_iter().map(|r| self.record(r, now)).collect())
    }

    /// One instance, looked up the way an operator types it:
    ///
    /// 1. its full ID (closed instances included);
    /// 2. otherwise every active instance whose ID starts with `query`, and — when
    ///    `query` is 4 to 32 lowercase hex digits — every typed instance whose key has
    ///    that hash (`8f4a2b` finds `odin-PS-8f4a2b`; closed ones included, as the
    ///    hash names one key): exactly one match is the answer, several are listed.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use typed_id::instance::{NewInstance, Registry};
    /// # let dir = std::env::temp_dir().join(format!("typed-id-doc-get-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let registry = Registry::open(dir.join("r.db").to_str().unwrap())?;
    /// let me = registry.register(&NewInstance::typed("odin", "PS"))?;
    /// let hash = me.id().rsplit('-').next().unwrap(); // "8f4a2b", say
    /// assert_eq!(registry.get(hash)?.id, me.id());
    /// assert_eq!(registry.get("odin-PS-")?.id, me.id()); // a unique prefix
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # }
    /// # Ok::<(), typed_id::instance::RegistryError>(())
    /// ```
    ///
    /// # Errors
    /// [`RegistryError::NotFound`]; [`RegistryError::AmbiguousPrefix`] or, when a hash
    /// matched too, [`RegistryError::AmbiguousHash`], both with the candidates;
    /// [`RegistryError::Database`].
    pub fn get(&self, query: &str) -> Result<InstanceRecord, RegistryError> {
        if let Some(record) = self.get_exact(query)? {
            return Ok(record);
        }
        if query.is_empty() {
            return Err(RegistryError::NotFound { id: String::new() });
        }
        let mut ids = self.ids_with_prefix(query)?;
        let by_hash = if is_hash(query) {
            self.ids_with_hash(query)?
        } else {
            Vec::new()
        };
        let hash_matched = !by_hash.is_empty();
        ids.extend(by_hash);
        ids.sort_unstable();
        ids.dedup();
        self.resolve(query, ids, hash_matched)
    }

    /// The typed instance whose key has the hash `hash` (`8f4a2b` finds
    /// `odin-PS-8f4a2b`), closed ones included; by an index, so it stays fast on large
    /// registries.
    ///
    /// # Errors
    /// [`RegistryError::InvalidHash`] unless `hash` is 4 to 32 lowercase hex digits,
    /// [`RegistryError::NotFound`], [`RegistryError::AmbiguousHash`] (with the
    /// candidates), [`RegistryError::Database`].
    pub fn get_by_hash(&self, hash: &str) -> Result<InstanceRecord, RegistryError> {
        if !is_hash(hash) {
            return Err(RegistryError::InvalidHash {
                hash: hash.to_owned(),
            });
        }
        let ids = self.ids_with_hash(hash)?;
        self.resolve(hash, ids, true)
    }

    /// The one instance of `ids` (sorted, at most `MAX_CANDIDATES + 1`), or why not.
    fn resolve(
        &self,
        query: &str,
        mut ids: Vec<String>,
        hash: bool,
    ) -> Result<InstanceRecord, RegistryError> {
        match ids.len() {
            0 => Err(RegistryError::NotFound {
                id: query.to_owned(),
            }),
            1 => {
                let id = ids.remove(0);
                self.get_exact(&id)?.ok_or(RegistryError::NotFound { id })
            }
            n => {
                ids.truncate(MAX_CANDIDATES);
                let more = n > MAX_CANDIDATES;
                Err(if hash {
                    RegistryError::AmbiguousHash {
                        query: query.to_owned(),
                        candidates: ids,
                        more,
                    }
                } else {
                    RegistryError::AmbiguousPrefix {
                        prefix: query.to_owned(),
                        candidates: ids,
                        more,
                    }
                })
            }
        }
    }

    /// Up to `MAX_CANDIDATES + 1` active IDs starting with `prefix`, sorted.
    fn ids_with_prefix(&self, prefix: &str) -> Result<Vec<String>, RegistryError> {
        let upper = prefix_upper_bound(prefix);
        let limit = (MAX_CANDIDATES + 1) as i64;
        let rows: Vec<IdRow> = self.with_conn("get", |conn| {
            on_conn!(conn, |c| {
                Ok(match &upper {
                    Some(upper) => prepared(sql::IDS_IN_RANGE)
                        .bind::<Text, _>(prefix)
                        .bind::<Text, _>(upper)
                        .bind::<BigInt, _>(limit)
                        .load(c)?,
                    None => prepared(sql::IDS_FROM)
                        .bind::<Text, _>(prefix)
                        .bind::<BigInt, _>(limit)
                        .load(c)?,
                })
            })
        })?;
        Ok(rows.into_iter().map(|r| r.instance_id).collect())
    }

    /// Up to `MAX_CANDIDATES + 1` IDs of keys with the hash `hash`, sorted.
    fn ids_with_hash(&self, hash: &str) -> Result<Vec<String>, RegistryError> {
        let limit = (MAX_CANDIDATES + 1) as i64;
        let rows: Vec<IdRow> = self.with_conn("get", |conn| {
            on_conn!(conn, |c| {
                Ok(prepared(sql::IDS_BY_HASH)
                    .bind::<Text, _>(hash)
                    .bind::<BigInt, _>(limit)
                    .load(c)?)
            })
        })?;
        Ok(rows.into_iter().map(|r| r.instance_id).collect())
    }

    pub(crate) fn get_exact(&self, id: &str) -> Result<Option<InstanceRecord>, RegistryError> {
        let row = self.get_exact_row(id)?;
        let now = self.options().now_ms();
        Ok(row.map(|r| self.record(r, now)))
    }

    pub(crate) fn get_exact_row(&self, id: &str) -> Result<Option<InstanceRow>, RegistryError> {
        self.with_conn("get", |conn| {
            on_conn!(conn, |c| {
                Ok(prepared(sql::SELECT_BY_ID)
                    .bind::<Text, _>(id)
                    .get_result(c)
                    .optional()?)
            })
        })
    }

    /// Removes closed instances closed longer ago than the purge's age and (unless
    /// [`Purge::stale`] is off) stale ones whose last heartbeat is older than that age
    /// — never an instance still within the stale timeout, whatever the age. Rows go
    /// in batches of [`Purge::batch_size`], each its own short transaction, so
    /// instances keep registering and heartbeating meanwhile; a row that heartbeats or
    /// closes during the purge is judged again as it is deleted.
    ///
    /// A process whose stale row was purged learns on its next heartbeat
    /// ([`RegistryError::NotFound`]); worker-ID leases are separate rows and are not
    /// touched.
    ///
    /// # Errors
    /// [`RegistryError::Database`] (rows deleted by earlier batches stay deleted).
    pub fn purge(&self, purge: &Purge) -> Result<PurgeReport, RegistryError> {
        let now = self.options().now_ms();
        let age = i64::try_from(purge.older_than.as_millis()).unwrap_or(i64::MAX);
        let closed_cutoff = now.saturating_sub(age);
        let stale_cutoff = closed_cutoff.min(self.stale_cutoff(now));
        let batch = i64::from(purge.batch_size);
        let mut report = PurgeReport::default();
        let mut passes = vec![(sql::PURGE_CLOSED, closed_cutoff, false)];
        if purge.stale {
            passes.push((sql::PURGE_STALE, stale_cutoff, true));
        }
        for (statement, cutoff, stale) in passes {
            loop {
                let deleted = self.with_write_conn("purge", |conn| {
                    on_conn!(conn, |c| {
                        Ok(prepared(statement)
                            .bind::<BigInt, _>(cutoff)
                            .bind::<BigInt, _>(batch)
                            .bind::<BigInt, _>(cutoff)
                            .execute(c)?)
                    })
                })?;
                report.batches += 1;
                let deleted = deleted as u64;
                if stale {
                    report.stale += deleted;
                } else {
                    report.closed += deleted;
                }
                if deleted < purge.batch_size.into() {
                    break;
                }
            }
        }
        Ok(report)
    }
}

/// Whether `s` is the hash part of a key: 4 to 32 lowercase hex digits.
fn is_hash(s: &str) -> bool {
    (4..=32).contains(&s.len()) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
