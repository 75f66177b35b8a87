//! The lease table's statements: acquiring the lowest free worker ID, renewing,
//! releasing, listing. Binds are marked `?` (diesel writes each engine's placeholder,
//! and a value used twice is bound twice); where the engines' SQL differs — the
//! two-argument `MAX`/`MIN` of SQLite against PostgreSQL's `GREATEST`/`LEAST`, and the
//! way a free worker ID is found — both texts stand side by side.

#[cfg(feature = "postgres")]
use diesel::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::super::error::RegistryError;
use crate::db::prepared::prepared;
#[cfg(feature = "sqlite")]
use crate::db::write_transaction_waiting;
use crate::db::{AnyConnection, DbConnection, Sql, on_conn};

/// Attempts at acquiring on PostgreSQL before giving up on a busy table.
#[cfg(feature = "postgres")]
const PG_ATTEMPTS: usize = 64;

/// The columns an acquisition writes.
macro_rules! insert_columns {
    () => {
        "INSERT INTO typed_id_worker_leases AS l (scope, worker_id, holder, token, \
         acquired_at_ms, renewed_at_ms, expires_at_ms, floor_ms, high_water_ms) "
    };
}

/// Takes the row if it is free, keeping its high-water mark as the new holder's floor;
/// binds: the generator's now, the period, the registry's now.
macro_rules! take_on_conflict {
    ($greatest:literal) => {
        concat!(
            " ON CONFLICT (scope, worker_id) DO UPDATE SET \
             holder = excluded.holder, token = excluded.token, \
             acquired_at_ms = excluded.acquired_at_ms, renewed_at_ms = excluded.renewed_at_ms, \
             expires_at_ms = excluded.expires_at_ms, floor_ms = l.high_water_ms, \
             high_water_ms = ",
            $greatest,
            "(l.high_water_ms, ?) + ? \
             WHERE l.expires_at_ms <= ? \
             RETURNING worker_id, floor_ms, high_water_ms"
        )
    };
}

/// SQLite: the rows of the scope up to the largest worker ID, to pick the lowest free
/// one under the write lock.
#[cfg(feature = "sqlite")]
const SLOTS: &str = "SELECT worker_id, expires_at_ms FROM typed_id_worker_leases \
     WHERE scope = ? AND worker_id <= ? ORDER BY worker_id";

/// SQLite: take the chosen candidate. Binds: scope, candidate, holder, token, now, now,
/// expires, fresh high-water, then [`take_on_conflict`]'s.
#[cfg(feature = "sqlite")]
const TAKE_SQLITE: &str = concat!(
    insert_columns!(),
    "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
    take_on_conflict!("MAX")
);

/// PostgreSQL: find and take the lowest free worker ID in one statement (retried when a
/// concurrent acquirer took the same one). Binds: scope, holder, token, now, now,
/// expires, fresh high-water, largest worker ID, scope, now, then
/// [`take_on_conflict`]'s.
#[cfg(feature = "postgres")]
const TAKE_POSTGRES: &str = concat!(
    insert_columns!(),
    "SELECT ?, g.id, ?, ?, ?, ?, ?, 0, ? \
     FROM generate_series(0, ?) AS g(id) \
     LEFT JOIN typed_id_worker_leases AS x ON x.scope = ? AND x.worker_id = g.id \
     WHERE x.worker_id IS NULL OR x.expires_at_ms <= ? \
     ORDER BY g.id LIMIT 1",
    take_on_conflict!("GREATEST")
);

/// PostgreSQL: whether any worker ID of the scope is free (the retry check).
#[cfg(feature = "postgres")]
const ANY_FREE: &str = "SELECT EXISTS (SELECT 1 FROM generate_series(0, ?) AS g(id) \
     LEFT JOIN typed_id_worker_leases AS x ON x.scope = ? AND x.worker_id = g.id \
     WHERE x.worker_id IS NULL OR x.expires_at_ms <= ?) AS free";

/// Extends the lease and raises its high-water mark. Binds: now, expires, high-water,
/// scope, worker, token.
const RENEW: Sql = Sql {
    sqlite: "UPDATE typed_id_worker_leases SET renewed_at_ms = ?, expires_at_ms = ?, \
         high_water_ms = MAX(high_water_ms, ?) \
         WHERE scope = ? AND worker_id = ? AND token = ?",
    postgres: "UPDATE typed_id_worker_leases SET renewed_at_ms = ?, expires_at_ms = ?, \
         high_water_ms = GREATEST(high_water_ms, ?) \
         WHERE scope = ? AND worker_id = ? AND token = ?",
};

/// Frees the row, recording a high-water mark never below the floor and never above
/// what renewals recorded. Binds: now, high-water, scope, worker, token.
const RELEASE: Sql = Sql {
    sqlite: "UPDATE typed_id_worker_leases SET holder = NULL, expires_at_ms = 0, \
         renewed_at_ms = ?, high_water_ms = MAX(floor_ms, MIN(high_water_ms, ?)) \
         WHERE scope = ? AND worker_id = ? AND token = ?",
    postgres: "UPDATE typed_id_worker_leases SET holder = NULL, expires_at_ms = 0, \
         renewed_at_ms = ?, high_water_ms = GREATEST(floor_ms, LEAST(high_water_ms, ?)) \
         WHERE scope = ? AND worker_id = ? AND token = ?",
};

const LIST: &str = "SELECT scope, worker_id, holder, acquired_at_ms, renewed_at_ms, \
     expires_at_ms, floor_ms, high_water_ms FROM typed_id_worker_leases \
     WHERE scope = ? ORDER BY worker_id";

/// What an acquisition returns.
#[derive(QueryableByName)]
pub(super) struct AcquiredRow {
    #[diesel(sql_type = Integer)]
    pub(super) worker_id: i32,
    #[diesel(sql_type = BigInt)]
    pub(super) floor_ms: i64,
    #[diesel(sql_type = BigInt)]
    pub(super) high_water_ms: i64,
}

#[cfg(feature = "sqlite")]
#[derive(QueryableByName)]
pub(super) struct SlotRow {
    #[diesel(sql_type = Integer)]
    pub(super) worker_id: i32,
    #[diesel(sql_type = BigInt)]
    pub(super) expires_at_ms: i64,
}

/// A lease row as listed.
#[derive(QueryableByName)]
pub(super) struct LeaseRow {
    #[diesel(sql_type = Text)]
    pub(super) scope: String,
    #[diesel(sql_type = Integer)]
    pub(super) worker_id: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub(super) holder: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub(super) acquired_at_ms: i64,
    #[diesel(sql_type = BigInt)]
    pub(super) renewed_at_ms: i64,
    #[diesel(sql_type = BigInt)]
    pub(super) expires_at_ms: i64,
    #[diesel(sql_type = BigInt)]
    pub(super) floor_ms: i64,
    #[diesel(sql_type = BigInt)]
    pub(super) high_water_ms: i64,
}

/// Everything an acquisition binds.
pub(super) struct AcquireArgs<'a> {
    pub(super) scope: &'a str,
    pub(super) max_worker: i32,
    pub(super) holder: &'a str,
    pub(super) token: i64,
    pub(super) now: i64,
    pub(super) expires: i64,
    /// High-water of a fresh row: `gen_now + period`.
    pub(super) fresh_high_water: i64,
    pub(super) gen_now: i64,
    pub(super) period_ms: i64,
    /// How long to wait for SQLite's write lock (the registry's busy timeout).
    #[cfg(feature = "sqlite")]
    pub(super) lock_wait: std::time::Duration,
}

/// Takes the lowest free worker ID of the scope; `None` when every one is held. On
/// SQLite under `BEGIN IMMEDIATE`; on PostgreSQL one statement, retried when a
/// concurrent acquirer took the same candidate first (or on a serialization failure).
pub(super) fn acquire(
    conn: &mut AnyConnection,
    a: &AcquireArgs<'_>,
) -> Result<Option<AcquiredRow>, RegistryError> {
    match conn {
        #[cfg(feature = "sqlite")]
        AnyConnection::Sqlite(c) => write_transaction_waiting(c, a.lock_wait, |c| {
            // Under the write lock nobody else can change the table: pick in Rust.
            let slots: Vec<SlotRow> = prepared(SLOTS)
                .bind::<Text, _>(a.scope)
                .bind::<Integer, _>(a.max_worker)
                .load(c)?;
            let Some(candidate) = lowest_free(&slots, a.max_worker, a.now) else {
                return Ok(None);
            };
            Ok(prepared(TAKE_SQLITE)
                .bind::<Text, _>(a.scope)
                .bind::<Integer, _>(candidate)
                .bind::<Text, _>(a.holder)
                .bind::<BigInt, _>(a.token)
                .bind::<BigInt, _>(a.now)
                .bind::<BigInt, _>(a.now)
                .bind::<BigInt, _>(a.expires)
                .bind::<BigInt, _>(a.fresh_high_water)
                .bind::<BigInt, _>(a.gen_now)
                .bind::<BigInt, _>(a.period_ms)
                .bind::<BigInt, _>(a.now)
                .get_result(c)
                .optional()?)
        }),
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(c) => {
            for _ in 0..PG_ATTEMPTS {
                let result: Result<Option<AcquiredRow>, RegistryError> = prepared(TAKE_POSTGRES)
                    .bind::<Text, _>(a.scope)
                    .bind::<Text, _>(a.holder)
                    .bind::<BigInt, _>(a.token)
                    .bind::<BigInt, _>(a.now)
                    .bind::<BigInt, _>(a.now)
                    .bind::<BigInt, _>(a.expires)
                    .bind::<BigInt, _>(a.fresh_high_water)
                    .bind::<Integer, _>(a.max_worker)
                    .bind::<Text, _>(a.scope)
                    .bind::<BigInt, _>(a.now)
                    .bind::<BigInt, _>(a.gen_now)
                    .bind::<BigInt, _>(a.period_ms)
                    .bind::<BigInt, _>(a.now)
                    .get_result(c)
                    .optional()
                    .map_err(RegistryError::from);
                match result {
                    Ok(Some(row)) => return Ok(Some(row)),
                    // No candidate at all, or a concurrent acquirer took ours: look again.
                    Ok(None) => {
                        if !pg_has_free(c, a)? {
                            return Ok(None);
                        }
                    }
                    Err(e) if e.is_serialization_failure() => {}
                    Err(e) => return Err(e),
                }
            }
            Err(RegistryError::NoFreeWorker {
                scope: a.scope.to_owned(),
                max_worker: u32::try_from(a.max_worker).unwrap_or(0),
            })
        }
    }
}

/// Whether any worker ID of the scope is free (PostgreSQL's retry check).
#[cfg(feature = "postgres")]
fn pg_has_free(c: &mut PgConnection, a: &AcquireArgs<'_>) -> Result<bool, RegistryError> {
    #[derive(QueryableByName)]
    struct Free {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        free: bool,
    }
    let row: Free = prepared(ANY_FREE)
        .bind::<Integer, _>(a.max_worker)
        .bind::<Text, _>(a.scope)
        .bind::<BigInt, _>(a.now)
        .get_result(c)?;
    Ok(row.free)
}

/// Extends the lease held by `token` to `expires` and raises its high-water mark to at
/// least `high_water`; how many rows changed (0: the lease is lost).
pub(super) fn renew(
    conn: &mut AnyConnection,
    (scope, worker, token): (&str, i32, i64),
    now: i64,
    expires: i64,
    high_water: i64,
) -> Result<usize, RegistryError> {
    on_conn!(conn, |c| {
        Ok(prepared(RENEW.text(c.backend()))
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(expires)
            .bind::<BigInt, _>(high_water)
            .bind::<Text, _>(scope)
            .bind::<Integer, _>(worker)
            .bind::<BigInt, _>(token)
            .execute(c)?)
    })
}

/// Releases the row if `token` still holds it, recording `high_water` (never below the
/// floor, never above what renewals recorded); how many rows changed.
pub(super) fn release(
    conn: &mut AnyConnection,
    scope: &str,
    worker: u32,
    token: i64,
    now: i64,
    high_water: u64,
) -> Result<usize, RegistryError> {
    let worker = i32::try_from(worker).unwrap_or(i32::MAX);
    let high_water = i64::try_from(high_water).unwrap_or(i64::MAX);
    on_conn!(conn, |c| {
        Ok(prepared(RELEASE.text(c.backend()))
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(high_water)
            .bind::<Text, _>(scope)
            .bind::<Integer, _>(worker)
            .bind::<BigInt, _>(token)
            .execute(c)?)
    })
}

/// The lease rows of `scope`, by worker ID.
pub(super) fn list(conn: &mut AnyConnection, scope: &str) -> Result<Vec<LeaseRow>, RegistryError> {
    on_conn!(conn, |c| Ok(prepared(LIST)
        .bind::<Text, _>(scope)
        .load(c)?))
}

/// The lowest worker ID in `0..=max` without a row or with an expired one; `slots` are
/// sorted by worker ID.
#[cfg(feature = "sqlite")]
fn lowest_free(slots: &[SlotRow], max: i32, now: i64) -> Option<i32> {
    let mut next = 0i32;
    for slot in slots {
        if slot.worker_id > next {
            return Some(next);
        }
        if slot.expires_at_ms <= now {
            return Some(slot.worker_id);
        }
        next = slot.worker_id.checked_add(1)?;
    }
    (next <= max).then_some(next)
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    fn slot(worker_id: i32, expires_at_ms: i64) -> SlotRow {
        SlotRow {
            worker_id,
            expires_at_ms,
        }
    }

    #[test]
    fn lowest_free_worker() {
        assert_eq!(lowest_free(&[], 3, 100), Some(0));
        assert_eq!(lowest_free(&[slot(0, 200), slot(1, 200)], 3, 100), Some(2));
        assert_eq!(lowest_free(&[slot(0, 200), slot(2, 200)], 3, 100), Some(1));
        assert_eq!(lowest_free(&[slot(0, 200), slot(1, 100)], 3, 100), Some(1));
        assert_eq!(lowest_free(&[slot(0, 0)], 3, 100), Some(0));
        let full: Vec<_> = (0..4).map(|w| slot(w, 200)).collect();
        assert_eq!(lowest_free(&full, 3, 100), None);
        assert_eq!(lowest_free(&full, 3, 200), Some(0));
    }
}
