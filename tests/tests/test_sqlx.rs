//! sqlx: derived IDs as query parameters and row fields on an embedded SQLite file and
//! on the throwaway PostgreSQL server, through the real drivers on tokio.
//!
//! Text bodies live in `TEXT` columns, snowflakes in `BIGINT` (and, bound as their text,
//! in `TEXT`); rows come back through `#[derive(sqlx::FromRow)]` structs with
//! `Option<Id>` fields, `query_scalar` and `Row::try_get`. Corrupted rows — text that
//! does not parse, a negative `BIGINT`, text or a real in a snowflake column, `NULL` in a
//! non-`Option` field — are decode errors that name the type and the bad value.

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, FromRow, PgConnection, Row as _, SqliteConnection};
use typed_id::{HashId, HexKey, Seq, Snowflake, TypeIdUuid, TypedId};
use typed_id_tests::pg::TestDatabase;
use typed_id_tests::sqlite::TempSqlite;

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "msg")]
struct MessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "evt", encoding = "base62")]
struct EventId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "WORK")]
struct WorkItemId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "odin-PS")]
struct OdinKey(HexKey);

/// TypeIDs, with a legacy prefix.
#[derive(TypedId)]
#[typed_id(prefix = "user", accept = ["usr"])]
struct UserId(TypeIdUuid);

/// A TypeID-bodied row: the ID in `TEXT` columns as its TypeID text.
#[derive(Debug, PartialEq, FromRow)]
struct User {
    id: UserId,
    invited_by: Option<UserId>,
}

const CREATE_USERS: &str = "CREATE TABLE users (id TEXT PRIMARY KEY, invited_by TEXT)";

fn users() -> Vec<User> {
    let first = UserId::parse("user_00000000000000000000000000").unwrap();
    vec![
        User {
            id: first,
            invited_by: None,
        },
        User {
            id: UserId::parse("user_01h455vb4pex5vsknk084sn02q").unwrap(),
            invited_by: Some(first),
        },
        User {
            id: UserId::from_uuid(TypeIdUuid::MAX),
            invited_by: Some(UserId::parse("user_01jz7b2m3q4r5s6t7v8w9x0y1z").unwrap()),
        },
    ]
}

/// TypeID-bodied IDs: insert, select through `FromRow` with an `Option` column, filter
/// by ID, read the stored text, and refuse corrupted rows.
async fn typeid_round_trip<DB>(conn: &mut <DB as sqlx::Database>::Connection)
where
    DB: sqlx::Database,
    for<'c> &'c mut <DB as sqlx::Database>::Connection: sqlx::Executor<'c, Database = DB>,
    <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    User: for<'r> FromRow<'r, DB::Row>,
    UserId: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB> + for<'r> sqlx::Decode<'r, DB>,
    Option<UserId>: for<'q> sqlx::Encode<'q, DB> + for<'r> sqlx::Decode<'r, DB>,
    String: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    sqlx::raw_sql(CREATE_USERS)
        .execute(&mut *conn)
        .await
        .unwrap();
    for user in users() {
        sqlx::query("INSERT INTO users (id, invited_by) VALUES ($1, $2)")
            .bind(user.id)
            .bind(user.invited_by)
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let read: Vec<User> = sqlx::query_as("SELECT id, invited_by FROM users ORDER BY id")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    assert_eq!(read, users(), "text order is UUID order");
    let second = users()[1].id;
    let inviter: Option<UserId> = sqlx::query_scalar("SELECT invited_by FROM users WHERE id = $1")
        .bind(second)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(inviter, Some(users()[0].id));
    let stored: String = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
        .bind(second)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(stored, "user_01h455vb4pex5vsknk084sn02q");

    // A legacy prefix in a stored row reads as the canonical ID.
    sqlx::raw_sql("INSERT INTO users VALUES ('usr_7zzzzzzzzzzzzzzzzzzzzzzzzy', NULL)")
        .execute(&mut *conn)
        .await
        .unwrap();
    let legacy: UserId = sqlx::query_scalar("SELECT id FROM users WHERE id LIKE 'usr%'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(legacy.to_string(), "user_7zzzzzzzzzzzzzzzzzzzzzzzzy");

    for bad in [
        "SELECT 'user_01H455VB4PEX5VSKNK084SN02Q'",
        "SELECT 'user_81h455vb4pex5vsknk084sn02q'",
        "SELECT 'user-01h455vb4pex5vsknk084sn02q'",
        "SELECT 'user_01h455vb4pex5vsknk084sn02'",
        "SELECT 'el-a3f8'",
    ] {
        let e = decode_error::<DB, UserId>(conn, bad).await;
        let text = bad.trim_start_matches("SELECT '").trim_end_matches('\'');
        assert_mentions(&e, &["UserId", text]);
    }
}

/// One row with every body kind, nullable columns included.
#[derive(Debug, PartialEq, FromRow)]
struct Element {
    id: ElementId,
    parent: Option<ElementId>,
    message: MessageId,
    event: EventId,
    work_item: WorkItemId,
    key: OdinKey,
    reply: Option<MessageId>,
    /// A snowflake kept as its text.
    message_text: MessageId,
}

const CREATE: &str = "CREATE TABLE elements (
    id TEXT PRIMARY KEY,
    parent TEXT,
    message BIGINT NOT NULL,
    event BIGINT NOT NULL,
    work_item TEXT NOT NULL,
    key TEXT NOT NULL,
    reply BIGINT,
    message_text TEXT NOT NULL
)";

fn rows() -> Vec<Element> {
    let root = ElementId::parse("el-a3f8e9").unwrap();
    vec![
        Element {
            id: root,
            parent: None,
            message: MessageId::from_u64(0).unwrap(),
            event: EventId::from_u64(61).unwrap(),
            work_item: WorkItemId::new(42).unwrap(),
            key: OdinKey::parse("odin-PS-8f4a2b").unwrap(),
            reply: None,
            message_text: MessageId::from_u64(1).unwrap(),
        },
        Element {
            id: root.child(4_294_967_295).unwrap(),
            parent: Some(root),
            message: MessageId::from_u64(i64::MAX as u64).unwrap(),
            event: EventId::from_u64(i64::MAX as u64).unwrap(),
            work_item: WorkItemId::new(999_999_999_999_999_999).unwrap(),
            key: OdinKey::parse("odin-PS-000000").unwrap(),
            reply: Some(MessageId::from_u64(1_767_053_847_123_456_789).unwrap()),
            message_text: MessageId::from_u64(i64::MAX as u64).unwrap(),
        },
    ]
}

/// Inserts, selects and filters every row; `$n` placeholders work on both backends.
async fn round_trip<DB>(conn: &mut <DB as sqlx::Database>::Connection)
where
    DB: sqlx::Database,
    for<'c> &'c mut <DB as sqlx::Database>::Connection: sqlx::Executor<'c, Database = DB>,
    <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    Element: for<'r> FromRow<'r, DB::Row>,
    ElementId: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB> + for<'r> sqlx::Decode<'r, DB>,
    MessageId: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB> + for<'r> sqlx::Decode<'r, DB>,
    Option<ElementId>: for<'q> sqlx::Encode<'q, DB>,
    Option<MessageId>: for<'q> sqlx::Encode<'q, DB>,
    EventId: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    WorkItemId: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    OdinKey: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    String: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    i64: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
{
    sqlx::raw_sql(CREATE).execute(&mut *conn).await.unwrap();
    for row in rows() {
        sqlx::query(
            "INSERT INTO elements (id, parent, message, event, work_item, key, reply, message_text)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row.id)
        .bind(row.parent)
        .bind(row.message)
        .bind(row.event)
        .bind(row.work_item)
        .bind(row.key)
        .bind(row.reply)
        .bind(row.message_text.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    let read: Vec<Element> = sqlx::query_as("SELECT * FROM elements ORDER BY message")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    assert_eq!(read, rows());

    // Filters bind IDs; scalars decode.
    let child = rows()[1].id;
    let parent: Option<ElementId> = sqlx::query_scalar("SELECT parent FROM elements WHERE id = $1")
        .bind(child)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(parent, Some(rows()[0].id));
    let reply: Option<MessageId> = sqlx::query_scalar("SELECT reply FROM elements WHERE id = $1")
        .bind(rows()[0].id)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(reply, None);
    // Snowflakes are stored as numbers: the column holds the plain value.
    let raw: i64 = sqlx::query_scalar("SELECT message FROM elements WHERE id = $1")
        .bind(child)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(raw, i64::MAX);
    let found = sqlx::query("SELECT id, message FROM elements WHERE message = $1")
        .bind(rows()[1].message)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(found.try_get::<ElementId, _>("id").unwrap(), child);
    assert_eq!(found.try_get::<MessageId, _>(1).unwrap(), rows()[1].message);
}

/// Reads one value of the query's single column as a `T`, returning the error text.
async fn decode_error<DB, T>(conn: &mut <DB as sqlx::Database>::Connection, sql: &str) -> String
where
    DB: sqlx::Database,
    for<'c> &'c mut <DB as sqlx::Database>::Connection: sqlx::Executor<'c, Database = DB>,
    <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    T: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB> + std::fmt::Debug,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    match row.try_get::<T, _>(0) {
        Ok(v) => panic!("{sql}: decoded as {v:?}"),
        Err(e) => {
            // The error names the column; its source is the decode error.
            let source = std::error::Error::source(&e).map(ToString::to_string);
            format!("{e} / {}", source.unwrap_or_default())
        }
    }
}

fn assert_mentions(error: &str, parts: &[&str]) {
    for part in parts {
        assert!(error.contains(part), "{error:?} does not mention {part:?}");
    }
}

// ---------------------------------------------------------------------------------
// SQLite

async fn sqlite() -> (TempSqlite, SqliteConnection) {
    let file = TempSqlite::new();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file.path())
        .create_if_missing(true);
    let conn = SqliteConnection::connect_with(&options).await.unwrap();
    (file, conn)
}

#[tokio::test]
async fn sqlite_round_trips_every_body() {
    let (_file, mut conn) = sqlite().await;
    round_trip::<sqlx::Sqlite>(&mut conn).await;
}

#[tokio::test]
async fn sqlite_round_trips_typeids() {
    let (_file, mut conn) = sqlite().await;
    typeid_round_trip::<sqlx::Sqlite>(&mut conn).await;
    let e = decode_error::<sqlx::Sqlite, UserId>(&mut conn, "SELECT 42").await;
    assert_mentions(&e, &["UserId"]);
}

#[tokio::test]
async fn sqlite_corrupted_rows_are_decode_errors() {
    type DB = sqlx::Sqlite;
    let (_file, mut conn) = sqlite().await;
    let e = decode_error::<DB, ElementId>(&mut conn, "SELECT 'el-A3F8'").await;
    assert_mentions(&e, &["ElementId", "el-A3F8"]);
    let e = decode_error::<DB, ElementId>(&mut conn, "SELECT 'msg-1'").await;
    assert_mentions(&e, &["ElementId", "msg-1"]);
    let e = decode_error::<DB, MessageId>(&mut conn, "SELECT -5").await;
    assert_mentions(&e, &["MessageId", "-5", "negative"]);
    let e = decode_error::<DB, MessageId>(&mut conn, "SELECT 'msg-01'").await;
    assert_mentions(&e, &["MessageId", "msg-01"]);
    // SQLite would read 'abc' as the integer 0 if asked for an integer.
    let e = decode_error::<DB, MessageId>(&mut conn, "SELECT 'abc'").await;
    assert_mentions(&e, &["MessageId", "abc"]);
    let e = decode_error::<DB, EventId>(&mut conn, "SELECT 2.5").await;
    assert_mentions(&e, &["EventId", "REAL"]);
    let e = decode_error::<DB, WorkItemId>(&mut conn, "SELECT 'WORK-42'").await;
    assert_mentions(&e, &["WorkItemId", "WORK-42"]);
    let e = decode_error::<DB, OdinKey>(&mut conn, "SELECT 'odin-PS-8F4A2B'").await;
    assert_mentions(&e, &["OdinKey", "odin-PS-8F4A2B"]);
    let e = decode_error::<DB, ElementId>(&mut conn, "SELECT NULL").await;
    assert_mentions(&e, &["ElementId", "NULL", "Option<ElementId>"]);
    let e = decode_error::<DB, MessageId>(&mut conn, "SELECT NULL").await;
    assert_mentions(&e, &["MessageId", "NULL"]);

    // The same through a FromRow struct and a stored row.
    sqlx::raw_sql(CREATE).execute(&mut conn).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO elements VALUES ('el-a3f8e9', NULL, -7, 1, 'WORK-042', 'odin-PS-8f4a2b', NULL, 'msg-1')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let e = sqlx::query_as::<_, Element>("SELECT * FROM elements")
        .fetch_one(&mut conn)
        .await
        .unwrap_err();
    let text = format!(
        "{e} / {}",
        std::error::Error::source(&e)
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    assert_mentions(&text, &["message", "MessageId", "-7"]);
}

/// Decoding without sqlx's compatibility check (`try_get_unchecked`) still validates:
/// the storage class is checked by the decoder itself.
#[tokio::test]
async fn sqlite_unchecked_reads_still_validate() {
    let (_file, mut conn) = sqlite().await;
    let row = sqlx::query("SELECT 'abc', 2.5, x'00', 12, 12")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let e = row
        .try_get_unchecked::<MessageId, _>(0)
        .unwrap_err()
        .to_string();
    assert_mentions(&e, &["MessageId", "abc"]);
    let e = row
        .try_get_unchecked::<MessageId, _>(1)
        .unwrap_err()
        .to_string();
    assert_mentions(&e, &["MessageId", "REAL"]);
    let e = row
        .try_get_unchecked::<MessageId, _>(2)
        .unwrap_err()
        .to_string();
    assert_mentions(&e, &["MessageId", "BLOB"]);
    let e = row
        .try_get_unchecked::<ElementId, _>(3)
        .unwrap_err()
        .to_string();
    assert_mentions(&e, &["ElementId", "12"]);
    // (A column read as text cannot be read again as an integer: sqlx borrowed it.)
    assert_eq!(
        row.try_get_unchecked::<MessageId, _>(4).unwrap().as_u64(),
        12
    );
}

// ---------------------------------------------------------------------------------
// PostgreSQL

/// sqlx connect options for a test database: its connection string is a URL, or
/// libpq `key=value` pairs (the throwaway cluster: a Unix socket directory as host).
fn pg_options(db: &TestDatabase) -> PgConnectOptions {
    let url = db.url();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return url.parse().unwrap();
    }
    let mut options = PgConnectOptions::new_without_pgpass();
    for pair in url.split_whitespace() {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = value.trim_matches('\'');
        options = match key {
            "host" if value.starts_with('/') => options.socket(value),
            "host" => options.host(value),
            "port" => options.port(value.parse().unwrap()),
            "user" => options.username(value),
            "password" => options.password(value),
            "dbname" => options.database(value),
            _ => options,
        };
    }
    options
}

async fn postgres(db: &TestDatabase) -> PgConnection {
    PgConnection::connect_with(&pg_options(db)).await.unwrap()
}

#[tokio::test]
async fn postgres_round_trips_every_body() {
    let db = TestDatabase::new();
    let mut conn = postgres(&db).await;
    round_trip::<sqlx::Postgres>(&mut conn).await;

    // Slices bind as arrays: TEXT[] for text IDs, INT8[] for snowflakes.
    let ids: Vec<ElementId> = rows().iter().map(|r| r.id).collect();
    let found: Vec<ElementId> =
        sqlx::query_scalar("SELECT id FROM elements WHERE id = ANY($1) ORDER BY id")
            .bind(&ids[..])
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(found, ids);
    let messages: Vec<MessageId> = rows().iter().map(|r| r.message).collect();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM elements WHERE message = ANY($1)")
        .bind(&messages)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(count, 2);
    let back: Vec<MessageId> =
        sqlx::query_scalar("SELECT array_agg(message ORDER BY message) FROM elements")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(back, messages);
}

#[tokio::test]
async fn postgres_round_trips_typeids() {
    let db = TestDatabase::new();
    let mut conn = postgres(&db).await;
    typeid_round_trip::<sqlx::Postgres>(&mut conn).await;

    // Arrays of TypeIDs bind as TEXT[].
    let ids: Vec<UserId> = users().iter().map(|u| u.id).collect();
    let found: Vec<UserId> =
        sqlx::query_scalar("SELECT id FROM users WHERE id = ANY($1) ORDER BY id")
            .bind(&ids[..])
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(found, ids);
    // A CHECK with the type's PATTERN refuses what the decoder would.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DELETE FROM users; ALTER TABLE users ADD CHECK (id ~ '{}')",
        UserId::PATTERN
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let refused = sqlx::query("INSERT INTO users (id) VALUES ($1)")
        .bind("user_01h455vb4pex5vsknk084sn02q\n")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("check constraint"),
        "{refused}"
    );
    let e = decode_error::<sqlx::Postgres, UserId>(&mut conn, "SELECT 42::bigint").await;
    assert_mentions(&e, &["UserId"]);
}

#[tokio::test]
async fn postgres_corrupted_rows_are_decode_errors() {
    type DB = sqlx::Postgres;
    let db = TestDatabase::new();
    let mut conn = postgres(&db).await;
    let e = decode_error::<DB, ElementId>(&mut conn, "SELECT 'el-A3F8'::text").await;
    assert_mentions(&e, &["ElementId", "el-A3F8"]);
    let e = decode_error::<DB, ElementId>(&mut conn, "SELECT 'el-a3f8'::varchar || chr(10)").await;
    assert_mentions(&e, &["ElementId", "el-a3f8\\n"]);
    let e = decode_error::<DB, MessageId>(&mut conn, "SELECT (-5)::bigint").await;
    assert_mentions(&e, &["MessageId", "-5", "negative"]);
    let e =
        decode_error::<DB, MessageId>(&mut conn, "SELECT 'msg-9223372036854775808'::text").await;
    assert_mentions(&e, &["MessageId", "msg-9223372036854775808"]);
    let e = decode_error::<DB, MessageId>(&mut conn, "SELECT 5::integer").await;
    assert_mentions(&e, &["MessageId", "INT4"]);
    let e = decode_error::<DB, WorkItemId>(&mut conn, "SELECT 'WORK-0042'::text").await;
    assert_mentions(&e, &["WorkItemId", "WORK-0042"]);
    let e = decode_error::<DB, OdinKey>(&mut conn, "SELECT NULL::text").await;
    assert_mentions(&e, &["OdinKey", "NULL"]);

    sqlx::raw_sql(CREATE).execute(&mut conn).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO elements VALUES ('el-a3f8e9', 'el-a3f8e9.0', 1, 1, 'WORK-042', 'odin-PS-8f4a2b', NULL, 'msg-1')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let e = sqlx::query_as::<_, Element>("SELECT * FROM elements")
        .fetch_one(&mut conn)
        .await
        .unwrap_err();
    let text = format!(
        "{e} / {}",
        std::error::Error::source(&e)
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    assert_mentions(&text, &["parent", "ElementId", "el-a3f8e9.0"]);
    // A PostgreSQL CHECK with the type's PATTERN keeps such rows out in the first place.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DELETE FROM elements; ALTER TABLE elements ADD CHECK (parent ~ '{}')",
        ElementId::PATTERN
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let refused = sqlx::query("INSERT INTO elements VALUES ('el-a3f8e9', $1, 1, 1, 'WORK-042', 'odin-PS-8f4a2b', NULL, 'msg-1')")
        .bind("el-a3f8e9\n")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("check constraint"),
        "{refused}"
    );
}
