//! The registry's SQL, written per backend side by side (SQLite `?1` placeholders and
//! its dialect; PostgreSQL `$1` and row locks), and the rows it reads.
//!
//! Every value is bound, never spliced into the text: IDs, projects and epics are
//! whatever callers send.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::db::Dialect;

/// One statement in both dialects.
pub(crate) struct Sql {
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    sqlite: &'static str,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    postgres: &'static str,
}

impl Sql {
    /// The text for `dialect`.
    pub(crate) fn text(&self, dialect: Dialect) -> &'static str {
        match dialect {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => self.sqlite,
            #[cfg(feature = "postgres")]
            Dialect::Postgres => self.postgres,
        }
    }
}

/// The columns of an [`InstanceRow`].
macro_rules! columns {
    () => {
        "instance_id, project, instance_type, key_hash, hostname, pid, source, environment, \
         created_at_ms, last_heartbeat_ms, status, context_percent, current_epic, \
         closed_at_ms, incarnation"
    };
}

/// The order of `list`: by project, most recent heartbeat first.
macro_rules! list_order {
    () => {
        " ORDER BY project, last_heartbeat_ms DESC, instance_id"
    };
}

/// One row by ID: `$1` ID.
pub(crate) const SELECT_BY_ID: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE instance_id = ?1"
    ),
    postgres: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE instance_id = $1"
    ),
};

/// One row by ID, locked until the transaction ends (SQLite's `BEGIN IMMEDIATE`
/// already holds the write lock): `$1` ID.
pub(crate) const SELECT_BY_ID_FOR_UPDATE: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE instance_id = ?1"
    ),
    postgres: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE instance_id = $1 FOR UPDATE"
    ),
};

/// Removes a row about to be taken over: `$1` ID.
pub(crate) const DELETE_BY_ID: Sql = Sql {
    sqlite: "DELETE FROM typed_id_instances WHERE instance_id = ?1",
    postgres: "DELETE FROM typed_id_instances WHERE instance_id = $1",
};

/// A new row: `$1` ID, `$2` project, `$3` type, `$4` hash, `$5` hostname, `$6` pid,
/// `$7` source, `$8` environment, `$9` now (created and last heartbeat), `$10` status,
/// `$11` context percent, `$12` epic, `$13` incarnation.
pub(crate) const INSERT: Sql = Sql {
    sqlite: "INSERT INTO typed_id_instances (instance_id, project, instance_type, key_hash, \
         hostname, pid, source, environment, created_at_ms, last_heartbeat_ms, status, \
         context_percent, current_epic, closed_at_ms, incarnation) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, NULL, ?13)",
    postgres: "INSERT INTO typed_id_instances (instance_id, project, instance_type, key_hash, \
         hostname, pid, source, environment, created_at_ms, last_heartbeat_ms, status, \
         context_percent, current_epic, closed_at_ms, incarnation) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, NULL, $13)",
};

/// As [`INSERT`], for a minted key: inserts nothing when the key exists (any state),
/// so the caller mints another. Only the primary key's conflict is absorbed; a CHECK
/// violation still fails.
pub(crate) const INSERT_MINTED: Sql = Sql {
    sqlite: "INSERT INTO typed_id_instances (instance_id, project, instance_type, key_hash, \
         hostname, pid, source, environment, created_at_ms, last_heartbeat_ms, status, \
         context_percent, current_epic, closed_at_ms, incarnation) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, NULL, ?13) \
         ON CONFLICT (instance_id) DO NOTHING",
    postgres: "INSERT INTO typed_id_instances (instance_id, project, instance_type, key_hash, \
         hostname, pid, source, environment, created_at_ms, last_heartbeat_ms, status, \
         context_percent, current_epic, closed_at_ms, incarnation) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, NULL, $13) \
         ON CONFLICT (instance_id) DO NOTHING",
};

/// SQLite, inside `BEGIN IMMEDIATE`: the previous heartbeat of the open row the
/// heartbeat may update (`?1` ID, `?2` incarnation or NULL for any).
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_HEARTBEAT_PREVIOUS: &str = "SELECT last_heartbeat_ms AS previous_ms \
     FROM typed_id_instances \
     WHERE instance_id = ?1 AND incarnation = COALESCE(?2, incarnation) \
     AND closed_at_ms IS NULL";

/// SQLite, after [`SQLITE_HEARTBEAT_PREVIOUS`] found the row: `?1` now, `?2` status
/// (NULL keeps), `?3` context percent (NULL keeps), `?4` whether to set the epic, `?5`
/// the epic (NULL clears), `?6` ID.
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_HEARTBEAT_UPDATE: &str = "UPDATE typed_id_instances SET \
     last_heartbeat_ms = ?1, status = COALESCE(?2, status), \
     context_percent = COALESCE(?3, context_percent), \
     current_epic = CASE WHEN ?4 THEN ?5 ELSE current_epic END \
     WHERE instance_id = ?6";

/// PostgreSQL, one statement: updates the open row (`$5` ID, `$6` incarnation or NULL
/// for any) and returns its previous heartbeat, read under the row lock. `$1` now,
/// `$2` status (NULL keeps), `$3` context percent (NULL keeps), `$4` whether to set the
/// epic, `$7` the epic (NULL clears).
#[cfg(feature = "postgres")]
pub(crate) const PG_HEARTBEAT: &str = "UPDATE typed_id_instances AS t SET \
     last_heartbeat_ms = $1, status = COALESCE($2, t.status), \
     context_percent = COALESCE($3, t.context_percent), \
     current_epic = CASE WHEN $4 THEN $7 ELSE t.current_epic END \
     FROM (SELECT instance_id, last_heartbeat_ms FROM typed_id_instances \
           WHERE instance_id = $5 AND incarnation = COALESCE($6, incarnation) \
           AND closed_at_ms IS NULL FOR UPDATE) AS o \
     WHERE t.instance_id = o.instance_id \
     RETURNING o.last_heartbeat_ms AS previous_ms";

/// Closes the open row: `$1` now, `$2` ID, `$3` incarnation or NULL for any.
pub(crate) const CLOSE: Sql = Sql {
    sqlite: "UPDATE typed_id_instances SET closed_at_ms = ?1 \
         WHERE instance_id = ?2 AND incarnation = COALESCE(?3, incarnation) \
         AND closed_at_ms IS NULL",
    postgres: "UPDATE typed_id_instances SET closed_at_ms = $1 \
         WHERE instance_id = $2 AND incarnation = COALESCE($3, incarnation) \
         AND closed_at_ms IS NULL",
};

/// Open rows of one project: `$1` project.
pub(crate) const LIST_ACTIVE_OF_PROJECT: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE closed_at_ms IS NULL AND project = ?1",
        list_order!()
    ),
    postgres: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE closed_at_ms IS NULL AND project = $1",
        list_order!()
    ),
};

/// Open rows of every project.
pub(crate) const LIST_ACTIVE: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE closed_at_ms IS NULL",
        list_order!()
    ),
    postgres: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE closed_at_ms IS NULL",
        list_order!()
    ),
};

/// Every row of one project: `$1` project.
pub(crate) const LIST_ALL_OF_PROJECT: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE project = ?1",
        list_order!()
    ),
    postgres: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE project = $1",
        list_order!()
    ),
};

/// Every row.
pub(crate) const LIST_ALL: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances",
        list_order!()
    ),
    postgres: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances",
        list_order!()
    ),
};

/// Counts by state of one project: `$1` stale cutoff (a heartbeat below it is stale),
/// `$2` project.
pub(crate) const COUNTS_OF_PROJECT: Sql = Sql {
    sqlite: "SELECT COUNT(*) AS total, \
         COUNT(CASE WHEN closed_at_ms IS NOT NULL THEN 1 END) AS closed, \
         COUNT(CASE WHEN closed_at_ms IS NULL AND last_heartbeat_ms < ?1 THEN 1 END) AS stale \
         FROM typed_id_instances WHERE project = ?2",
    postgres: "SELECT COUNT(*) AS total, \
         COUNT(CASE WHEN closed_at_ms IS NOT NULL THEN 1 END) AS closed, \
         COUNT(CASE WHEN closed_at_ms IS NULL AND last_heartbeat_ms < $1 THEN 1 END) AS stale \
         FROM typed_id_instances WHERE project = $2",
};

/// Counts by state of every project: `$1` stale cutoff.
pub(crate) const COUNTS: Sql = Sql {
    sqlite: "SELECT COUNT(*) AS total, \
         COUNT(CASE WHEN closed_at_ms IS NOT NULL THEN 1 END) AS closed, \
         COUNT(CASE WHEN closed_at_ms IS NULL AND last_heartbeat_ms < ?1 THEN 1 END) AS stale \
         FROM typed_id_instances",
    postgres: "SELECT COUNT(*) AS total, \
         COUNT(CASE WHEN closed_at_ms IS NOT NULL THEN 1 END) AS closed, \
         COUNT(CASE WHEN closed_at_ms IS NULL AND last_heartbeat_ms < $1 THEN 1 END) AS stale \
         FROM typed_id_instances",
};

/// IDs of open rows in `[$1, $2)`: those starting with a prefix (IDs compare byte by
/// byte: SQLite's BINARY, PostgreSQL's "C" collation), an index range scan. `$3` limit.
pub(crate) const IDS_IN_RANGE: Sql = Sql {
    sqlite: "SELECT instance_id FROM typed_id_instances \
         WHERE instance_id >= ?1 AND instance_id < ?2 AND closed_at_ms IS NULL \
         ORDER BY instance_id LIMIT ?3",
    postgres: "SELECT instance_id FROM typed_id_instances \
         WHERE instance_id >= $1 AND instance_id < $2 AND closed_at_ms IS NULL \
         ORDER BY instance_id LIMIT $3",
};

/// IDs of open rows from `$1` on (a prefix with no upper bound). `$2` limit.
pub(crate) const IDS_FROM: Sql = Sql {
    sqlite: "SELECT instance_id FROM typed_id_instances \
         WHERE instance_id >= ?1 AND closed_at_ms IS NULL ORDER BY instance_id LIMIT ?2",
    postgres: "SELECT instance_id FROM typed_id_instances \
         WHERE instance_id >= $1 AND closed_at_ms IS NULL ORDER BY instance_id LIMIT $2",
};

/// IDs of typed rows (any state) whose key has the hash `$1`, by the hash index. `$2`
/// limit.
pub(crate) const IDS_BY_HASH: Sql = Sql {
    sqlite: "SELECT instance_id FROM typed_id_instances \
         WHERE key_hash = ?1 ORDER BY instance_id LIMIT ?2",
    postgres: "SELECT instance_id FROM typed_id_instances \
         WHERE key_hash = $1 ORDER BY instance_id LIMIT $2",
};

/// One batch of closed rows closed before `$1`; `$2` batch size. The outer condition
/// is checked again on the row deleted, so a row changed meanwhile is kept.
pub(crate) const PURGE_CLOSED: Sql = Sql {
    sqlite: "DELETE FROM typed_id_instances WHERE instance_id IN \
         (SELECT instance_id FROM typed_id_instances \
          WHERE closed_at_ms IS NOT NULL AND closed_at_ms < ?1 LIMIT ?2) \
         AND closed_at_ms IS NOT NULL AND closed_at_ms < ?1",
    postgres: "DELETE FROM typed_id_instances WHERE instance_id IN \
         (SELECT instance_id FROM typed_id_instances \
          WHERE closed_at_ms IS NOT NULL AND closed_at_ms < $1 LIMIT $2) \
         AND closed_at_ms IS NOT NULL AND closed_at_ms < $1",
};

/// One batch of open rows whose last heartbeat is before `$1`; `$2` batch size. A row
/// that heartbeats meanwhile is kept (the outer condition is checked again).
pub(crate) const PURGE_STALE: Sql = Sql {
    sqlite: "DELETE FROM typed_id_instances WHERE instance_id IN \
         (SELECT instance_id FROM typed_id_instances \
          WHERE closed_at_ms IS NULL AND last_heartbeat_ms < ?1 LIMIT ?2) \
         AND closed_at_ms IS NULL AND last_heartbeat_ms < ?1",
    postgres: "DELETE FROM typed_id_instances WHERE instance_id IN \
         (SELECT instance_id FROM typed_id_instances \
          WHERE closed_at_ms IS NULL AND last_heartbeat_ms < $1 LIMIT $2) \
         AND closed_at_ms IS NULL AND last_heartbeat_ms < $1",
};

/// A row of `typed_id_instances` ([`columns!`]).
#[derive(QueryableByName)]
pub(crate) struct InstanceRow {
    #[diesel(sql_type = Text)]
    pub(crate) instance_id: String,
    #[diesel(sql_type = Text)]
    pub(crate) project: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) instance_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) key_hash: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) hostname: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub(crate) pid: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) source: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) environment: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub(crate) created_at_ms: i64,
    #[diesel(sql_type = BigInt)]
    pub(crate) last_heartbeat_ms: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) status: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub(crate) context_percent: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) current_epic: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub(crate) closed_at_ms: Option<i64>,
    #[diesel(sql_type = BigInt)]
    pub(crate) incarnation: i64,
}

/// An ID.
#[derive(QueryableByName)]
pub(crate) struct IdRow {
    #[diesel(sql_type = Text)]
    pub(crate) instance_id: String,
}

/// The heartbeat a heartbeat replaced.
#[derive(QueryableByName)]
pub(crate) struct PreviousRow {
    #[diesel(sql_type = BigInt)]
    pub(crate) previous_ms: i64,
}

/// [`COUNTS`].
#[derive(QueryableByName)]
pub(crate) struct CountsRow {
    #[diesel(sql_type = BigInt)]
    pub(crate) total: i64,
    #[diesel(sql_type = BigInt)]
    pub(crate) closed: i64,
    #[diesel(sql_type = BigInt)]
    pub(crate) stale: i64,
}
