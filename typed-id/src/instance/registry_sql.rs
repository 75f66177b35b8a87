//! The registry's statements and the rows they read. Binds are marked `?` (diesel
//! writes each engine's placeholder, and a value used twice is bound twice); where the
//! engines' SQL differs — PostgreSQL's row locks, and a heartbeat that SQLite writes in
//! two statements under its write lock and PostgreSQL in one — both texts stand side by
//! side ([`Sql`]).
//!
//! Every value is bound, never spliced into the text: IDs, projects and epics are
//! whatever callers send.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use crate::db::Sql;

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

/// A new row's columns and values. Binds: ID, project, type, hash, hostname, pid,
/// source, environment, now (created), now (last heartbeat), status, context percent,
/// epic, incarnation.
macro_rules! insert {
    () => {
        concat!(
            "INSERT INTO typed_id_instances (",
            columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)"
        )
    };
}

/// One row by ID. Binds: ID.
pub(crate) const SELECT_BY_ID: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM typed_id_instances WHERE instance_id = ?"
);

/// One row by ID, locked until the transaction ends (SQLite's `BEGIN IMMEDIATE`
/// already holds the write lock). Binds: ID.
pub(crate) const SELECT_BY_ID_FOR_UPDATE: Sql = Sql {
    sqlite: SELECT_BY_ID,
    postgres: concat!(
        "SELECT ",
        columns!(),
        " FROM typed_id_instances WHERE instance_id = ? FOR UPDATE"
    ),
};

/// Removes a row about to be taken over. Binds: ID.
pub(crate) const DELETE_BY_ID: &str = "DELETE FROM typed_id_instances WHERE instance_id = ?";

/// A new row; binds as `insert!`.
pub(crate) const INSERT: &str = insert!();

/// As [`INSERT`], for a minted key: inserts nothing when the key exists (any state),
/// so the caller mints another. Only the primary key's conflict is absorbed; a CHECK
/// violation still fails.
pub(crate) const INSERT_MINTED: &str = concat!(insert!(), " ON CONFLICT (instance_id) DO NOTHING");

/// SQLite, inside `BEGIN IMMEDIATE`: the previous heartbeat of the open row the
/// heartbeat may update. Binds: ID, incarnation (NULL: any).
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_HEARTBEAT_PREVIOUS: &str = "SELECT last_heartbeat_ms AS previous_ms \
     FROM typed_id_instances \
     WHERE instance_id = ? AND incarnation = COALESCE(?, incarnation) \
     AND closed_at_ms IS NULL";

/// SQLite, after [`SQLITE_HEARTBEAT_PREVIOUS`] found the row. Binds: now, status (NULL
/// keeps), context percent (NULL keeps), whether to set the epic, the epic (NULL
/// clears), ID.
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_HEARTBEAT_UPDATE: &str = "UPDATE typed_id_instances SET \
     last_heartbeat_ms = ?, status = COALESCE(?, status), \
     context_percent = COALESCE(?, context_percent), \
     current_epic = CASE WHEN ? THEN ? ELSE current_epic END \
     WHERE instance_id = ?";

/// PostgreSQL, one statement: updates the open row and returns its previous heartbeat,
/// read under the row lock. Binds: now, status (NULL keeps), context percent (NULL
/// keeps), whether to set the epic, the epic (NULL clears), ID, incarnation (NULL:
/// any).
#[cfg(feature = "postgres")]
pub(crate) const PG_HEARTBEAT: &str = "UPDATE typed_id_instances AS t SET \
     last_heartbeat_ms = ?, status = COALESCE(?, t.status), \
     context_percent = COALESCE(?, t.context_percent), \
     current_epic = CASE WHEN ? THEN ? ELSE t.current_epic END \
     FROM (SELECT instance_id, last_heartbeat_ms FROM typed_id_instances \
           WHERE instance_id = ? AND incarnation = COALESCE(?, incarnation) \
           AND closed_at_ms IS NULL FOR UPDATE) AS o \
     WHERE t.instance_id = o.instance_id \
     RETURNING o.last_heartbeat_ms AS previous_ms";

/// Closes the open row. Binds: now, ID, incarnation (NULL: any).
pub(crate) const CLOSE: &str = "UPDATE typed_id_instances SET closed_at_ms = ? \
     WHERE instance_id = ? AND incarnation = COALESCE(?, incarnation) \
     AND closed_at_ms IS NULL";

/// Open rows of one project. Binds: project.
pub(crate) const LIST_ACTIVE_OF_PROJECT: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM typed_id_instances WHERE closed_at_ms IS NULL AND project = ?",
    list_order!()
);

/// Open rows of every project.
pub(crate) const LIST_ACTIVE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM typed_id_instances WHERE closed_at_ms IS NULL",
    list_order!()
);

/// Every row of one project. Binds: project.
pub(crate) const LIST_ALL_OF_PROJECT: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM typed_id_instances WHERE project = ?",
    list_order!()
);

/// Every row.
pub(crate) const LIST_ALL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM typed_id_instances",
    list_order!()
);

/// Counts by state, of the rows that `$where` selects. Binds: the stale cutoff (a
/// heartbeat below it is stale), then `$where`'s.
macro_rules! counts {
    ($where:literal) => {
        concat!(
            "SELECT COUNT(*) AS total, \
             COUNT(CASE WHEN closed_at_ms IS NOT NULL THEN 1 END) AS closed, \
             COUNT(CASE WHEN closed_at_ms IS NULL AND last_heartbeat_ms < ? THEN 1 END) AS stale \
             FROM typed_id_instances",
            $where
        )
    };
}

/// Counts by state of one project. Binds: stale cutoff, project.
pub(crate) const COUNTS_OF_PROJECT: &str = counts!(" WHERE project = ?");

/// Counts by state of every project. Binds: stale cutoff.
pub(crate) const COUNTS: &str = counts!("");

/// IDs of open rows in `[lower, upper)`: those starting with a prefix (IDs compare
/// byte by byte: SQLite's BINARY, PostgreSQL's "C" collation), an index range scan.
/// Binds: lower, upper, limit.
pub(crate) const IDS_IN_RANGE: &str = "SELECT instance_id FROM typed_id_instances \
     WHERE instance_id >= ? AND instance_id < ? AND closed_at_ms IS NULL \
     ORDER BY instance_id LIMIT ?";

/// IDs of open rows from a prefix on (one with no upper bound). Binds: prefix, limit.
pub(crate) const IDS_FROM: &str = "SELECT instance_id FROM typed_id_instances \
     WHERE instance_id >= ? AND closed_at_ms IS NULL ORDER BY instance_id LIMIT ?";

/// IDs of typed rows (any state) whose key has a hash, by the hash index. Binds: hash,
/// limit.
pub(crate) const IDS_BY_HASH: &str = "SELECT instance_id FROM typed_id_instances \
     WHERE key_hash = ? ORDER BY instance_id LIMIT ?";

/// One batch of closed rows closed before a cutoff. The outer condition is checked
/// again on the row deleted, so a row changed meanwhile is kept. Binds: cutoff, batch
/// size, cutoff.
pub(crate) const PURGE_CLOSED: &str = "DELETE FROM typed_id_instances WHERE instance_id IN \
     (SELECT instance_id FROM typed_id_instances \
      WHERE closed_at_ms IS NOT NULL AND closed_at_ms < ? LIMIT ?) \
     AND closed_at_ms IS NOT NULL AND closed_at_ms < ?";

/// One batch of open rows whose last heartbeat is before a cutoff. A row that
/// heartbeats meanwhile is kept (the outer condition is checked again). Binds: cutoff,
/// batch size, cutoff.
pub(crate) const PURGE_STALE: &str = "DELETE FROM typed_id_instances WHERE instance_id IN \
     (SELECT instance_id FROM typed_id_instances \
      WHERE closed_at_ms IS NULL AND last_heartbeat_ms < ? LIMIT ?) \
     AND closed_at_ms IS NULL AND last_heartbeat_ms < ?";

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
