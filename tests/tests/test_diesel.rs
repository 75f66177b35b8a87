//! diesel: derived IDs in `Text` and `BigInt` columns of real SQLite and PostgreSQL
//! databases, through `#[derive(Queryable, Selectable, Insertable)]`, filters, nullable
//! columns, raw SQL binds, and rows that do not hold valid IDs.
//!
//! The same tests run on both backends (`backend_tests!` below). PostgreSQL tests start
//! a throwaway server (see `typed_id_tests::pg`) and fail if PostgreSQL is missing.

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use typed_id::{HashId, HexKey, Seq, Snowflake, TypedId};

#[derive(TypedId)]
#[typed_id(prefix = "el")]
pub struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "msg")]
pub struct MessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 3)]
pub struct WorkItemId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "odin-PS")]
pub struct InstanceId(HexKey);

diesel::table! {
    elements (id) {
        id -> Text,
        parent -> Nullable<Text>,
        work -> Text,
        message -> BigInt,
        message_text -> Text,
        reply_to -> Nullable<BigInt>,
        instance -> Text,
        title -> Text,
    }
}

const CREATE_ELEMENTS: &str = "CREATE TABLE elements (
    id TEXT PRIMARY KEY,
    parent TEXT REFERENCES elements (id),
    work TEXT NOT NULL,
    message BIGINT NOT NULL,
    message_text TEXT NOT NULL,
    reply_to BIGINT,
    instance TEXT NOT NULL,
    title TEXT NOT NULL
)";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = elements)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Element {
    id: ElementId,
    parent: Option<ElementId>,
    work: WorkItemId,
    message: MessageId,
    message_text: MessageId,
    reply_to: Option<MessageId>,
    instance: InstanceId,
    title: String,
}

/// Borrowing insert form, as services often write it.
#[derive(Debug, Insertable)]
#[diesel(table_name = elements)]
pub struct NewElement<'a> {
    id: &'a ElementId,
    parent: Option<&'a ElementId>,
    work: &'a WorkItemId,
    message: &'a MessageId,
    message_text: &'a MessageId,
    reply_to: Option<&'a MessageId>,
    instance: &'a InstanceId,
    title: &'a str,
}

#[derive(Debug, PartialEq, QueryableByName)]
pub struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: ElementId,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    message: MessageId,
}

/// An error and all its sources: diesel reports `Error deserializing field 'id'` and
/// keeps the reason (ours) as the source.
fn chain(err: &dyn std::error::Error) -> String {
    let mut msg = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        msg.push_str(": ");
        msg.push_str(&e.to_string());
        source = e.source();
    }
    msg
}

fn el(s: &str) -> ElementId {
    ElementId::parse(s).unwrap()
}

fn msg(n: u64) -> MessageId {
    MessageId::from_u64(n).unwrap()
}

/// A root, two children and a grandchild, IDs chosen so that byte order is not
/// insertion order.
fn family() -> Vec<Element> {
    let row = |id: &str, parent: Option<&str>, n: u64, title: &str| Element {
        id: el(id),
        parent: parent.map(el),
        work: WorkItemId::new(n).unwrap(),
        message: msg(1_767_053_847_123_456_789 + n),
        message_text: msg(n),
        reply_to: (n > 1).then(|| msg(1_767_053_847_123_456_789 + n - 1)),
        instance: InstanceId::parse("odin-PS-8f4a2b").unwrap(),
        title: title.to_owned(),
    };
    vec![
        row("el-a3f8e9", None, 1, "root"),
        row("el-a3f8e9.2", Some("el-a3f8e9"), 2, "second child"),
        row("el-a3f8e9.10", Some("el-a3f8e9"), 1000, "tenth child"),
        row("el-a3f8e9.2.1", Some("el-a3f8e9.2"), 42, "grandchild"),
    ]
}

/// Inserts a row titled `raw` by raw SQL, with `column` set to the SQL literal `value`.
fn insert_raw<C: Connection>(conn: &mut C, column: &str, value: &str) {
    insert_raw_row(conn, &[(column, value)]);
}

fn insert_raw_row<C: Connection>(conn: &mut C, overrides: &[(&str, &str)]) {
    let mut values = [
        ("id", "'el-b00000'"),
        ("parent", "NULL"),
        ("work", "'WORK-007'"),
        ("message", "7"),
        ("message_text", "'msg-7'"),
        ("reply_to", "NULL"),
        ("instance", "'odin-PS-000000'"),
        ("title", "'raw'"),
    ];
    for &(column, value) in overrides {
        values.iter_mut().find(|(c, _)| *c == column).unwrap().1 = value;
    }
    let columns: Vec<_> = values.iter().map(|(c, _)| *c).collect();
    let literals: Vec<_> = values.iter().map(|(_, v)| *v).collect();
    let sql = format!(
        "INSERT INTO elements ({}) VALUES ({})",
        columns.join(", "),
        literals.join(", ")
    );
    conn.batch_execute(&sql).unwrap();
}

/// The same tests for each backend. `$connect` yields `(guard, connection)`; the guard
/// keeps the database alive. `$p1`/`$p2` are the backend's bind placeholders.
macro_rules! backend_tests {
    ($backend:ident, $conn:ty, $connect:expr, $p1:literal, $p2:literal) => {
        mod $backend {
            use super::*;

            type Conn = $conn;

            fn setup() -> (Box<dyn std::any::Any>, Conn) {
                let (guard, mut conn) = $connect;
                conn.batch_execute(CREATE_ELEMENTS).unwrap();
                (Box::new(guard), conn)
            }

            /// Inserts `family()` using every `AsExpression` path: `&Element` (references to IDs,
            /// bound as borrowed `&str`), `Element` by value (owned IDs) and `NewElement`.
            pub(super) fn insert_family(conn: &mut Conn) -> Vec<Element> {
                let rows = family();
                // The root by reference, the children by value and through the borrowing struct.
                let n = diesel::insert_into(elements::table)
                    .values(&rows[0])
                    .execute(conn)
                    .unwrap();
                assert_eq!(n, 1);
                let n = diesel::insert_into(elements::table)
                    .values(rows[1].clone())
                    .execute(conn)
                    .unwrap();
                assert_eq!(n, 1);
                let n = diesel::insert_into(elements::table)
                    .values(rows[2].clone())
                    .execute(conn)
                    .unwrap();
                assert_eq!(n, 1);
                let r = &rows[3];
                let n = diesel::insert_into(elements::table)
                    .values(NewElement {
                        id: &r.id,
                        parent: r.parent.as_ref(),
                        work: &r.work,
                        message: &r.message,
                        message_text: &r.message_text,
                        reply_to: r.reply_to.as_ref(),
                        instance: &r.instance,
                        title: &r.title,
                    })
                    .execute(conn)
                    .unwrap();
                assert_eq!(n, 1);
                rows
            }

            fn load_all(conn: &mut Conn) -> QueryResult<Vec<Element>> {
                elements::table
                    .select(Element::as_select())
                    .order(elements::id)
                    .load(conn)
            }

            #[test]
            fn rows_round_trip_in_byte_order() {
                let (_db, mut conn) = setup();
                let mut rows = insert_family(&mut conn);
                let loaded = load_all(&mut conn).unwrap();
                // `ORDER BY id` (binary / C collation) is the IDs' `Ord`.
                rows.sort_by(|a, b| a.id.cmp(&b.id));
                assert_eq!(loaded, rows);
                let ids: Vec<_> = loaded.iter().map(|r| r.id.to_text()).collect();
                assert_eq!(
                    ids,
                    ["el-a3f8e9", "el-a3f8e9.10", "el-a3f8e9.2", "el-a3f8e9.2.1"]
                );

                // Plain `Queryable` (tuple and struct), single columns, nullable columns.
                let plain: Vec<Element> = elements::table
                    .order(elements::id)
                    .load(&mut conn)
                    .unwrap();
                assert_eq!(plain, rows);
                let ids: Vec<ElementId> = elements::table
                    .select(elements::id)
                    .order(elements::id)
                    .load(&mut conn)
                    .unwrap();
                assert_eq!(ids, rows.iter().map(|r| r.id).collect::<Vec<_>>());
                let parents: Vec<Option<ElementId>> = elements::table
                    .select(elements::parent)
                    .order(elements::id)
                    .load(&mut conn)
                    .unwrap();
                assert_eq!(parents, rows.iter().map(|r| r.parent).collect::<Vec<_>>());
                let pairs: Vec<(MessageId, Option<MessageId>)> = elements::table
                    .select((elements::message, elements::reply_to))
                    .order(elements::id)
                    .load(&mut conn)
                    .unwrap();
                assert_eq!(
                    pairs,
                    rows.iter().map(|r| (r.message, r.reply_to)).collect::<Vec<_>>()
                );
            }

            #[test]
            fn ids_are_stored_as_their_canonical_text_and_numbers() {
                let (_db, mut conn) = setup();
                insert_family(&mut conn);
                let raw: Vec<(String, Option<String>, String, i64, String)> = elements::table
                    .select((
                        elements::id.concat(""),
                        elements::parent.concat(""),
                        elements::work.concat(""),
                        elements::message + 0,
                        elements::message_text.concat(""),
                    ))
                    .filter(elements::id.eq(el("el-a3f8e9.2.1")))
                    .load(&mut conn)
                    .unwrap();
                assert_eq!(
                    raw,
                    [(
                        "el-a3f8e9.2.1".to_owned(),
                        Some("el-a3f8e9.2".to_owned()),
                        "WORK-042".to_owned(),
                        1_767_053_847_123_456_831,
                        "msg-42".to_owned()
                    )]
                );
            }

            #[test]
            fn filters_take_ids_by_value_and_by_reference() {
                let (_db, mut conn) = setup();
                let rows = insert_family(&mut conn);
                let root = rows[0].id;
                let child = rows[1].id;

                let by_value: Element = elements::table
                    .filter(elements::id.eq(child))
                    .first(&mut conn)
                    .unwrap();
                assert_eq!(by_value, rows[1]);
                let by_ref: Element = elements::table
                    .filter(elements::id.eq(&child))
                    .first(&mut conn)
                    .unwrap();
                assert_eq!(by_ref, rows[1]);
                assert_eq!(
                    elements::table.find(root).first::<Element>(&mut conn).unwrap(),
                    rows[0]
                );
                assert_eq!(
                    elements::table
                        .find(el("el-ffff"))
                        .first::<Element>(&mut conn)
                        .optional()
                        .unwrap(),
                    None
                );

                // A nullable column compared with a non-null ID, by value and reference.
                let mut children: Vec<ElementId> = elements::table
                    .select(elements::id)
                    .filter(elements::parent.eq(root))
                    .load(&mut conn)
                    .unwrap();
                children.sort();
                assert_eq!(children, [el("el-a3f8e9.10"), el("el-a3f8e9.2")]);
                let grandchildren: Vec<ElementId> = elements::table
                    .select(elements::id)
                    .filter(elements::parent.eq(&child))
                    .load(&mut conn)
                    .unwrap();
                assert_eq!(grandchildren, [el("el-a3f8e9.2.1")]);
                let roots: Vec<ElementId> = elements::table
                    .select(elements::id)
                    .filter(elements::parent.is_null())
                    .load(&mut conn)
                    .unwrap();
                assert_eq!(roots, [root]);

                // Snowflakes as BIGINT and as text, and lists of IDs.
                let found: ElementId = elements::table
                    .select(elements::id)
                    .filter(elements::message.eq(rows[3].message))
                    .first(&mut conn)
                    .unwrap();
                assert_eq!(found, rows[3].id);
                let found: ElementId = elements::table
                    .select(elements::id)
                    .filter(elements::message_text.eq(&rows[2].message_text))
                    .first(&mut conn)
                    .unwrap();
                assert_eq!(found, rows[2].id);
                let found: ElementId = elements::table
                    .select(elements::id)
                    .filter(elements::reply_to.eq(rows[0].message))
                    .first(&mut conn)
                    .unwrap();
                assert_eq!(found, rows[1].id);
                let later: i64 = elements::table
                    .filter(elements::message.gt(rows[1].message))
                    .count()
                    .get_result(&mut conn)
                    .unwrap();
                assert_eq!(later, 2);
                let mut some: Vec<ElementId> = elements::table
                    .select(elements::id)
                    .filter(elements::id.eq_any([root, el("el-a3f8e9.2.1"), el("el-zzzz")]))
                    .load(&mut conn)
                    .unwrap();
                some.sort();
                assert_eq!(some, [root, el("el-a3f8e9.2.1")]);
            }

            #[test]
            fn updates_set_and_clear_nullable_ids() {
                let (_db, mut conn) = setup();
                let rows = insert_family(&mut conn);
                let grandchild = rows[3].id;
                let n = diesel::update(elements::table.find(grandchild))
                    .set((
                        elements::parent.eq(Some(rows[0].id)),
                        elements::reply_to.eq(None::<MessageId>),
                        elements::work.eq(WorkItemId::new(7).unwrap()),
                    ))
                    .execute(&mut conn)
                    .unwrap();
                assert_eq!(n, 1);
                let (parent, reply_to, work): (Option<ElementId>, Option<MessageId>, WorkItemId) =
                    elements::table
                        .find(grandchild)
                        .select((elements::parent, elements::reply_to, elements::work))
                        .first(&mut conn)
                        .unwrap();
                assert_eq!(parent, Some(rows[0].id));
                assert_eq!(reply_to, None);
                assert_eq!(work.to_text(), "WORK-007");
                let n = diesel::update(elements::table.filter(elements::parent.eq(rows[0].id)))
                    .set(elements::parent.eq(None::<ElementId>))
                    .execute(&mut conn)
                    .unwrap();
                assert_eq!(n, 3);
            }

            #[test]
            fn raw_sql_binds_ids_as_text_and_bigint() {
                let (_db, mut conn) = setup();
                let rows = insert_family(&mut conn);
                let sql = format!(
                    "SELECT id, message FROM elements WHERE id = {} OR message = {} ORDER BY id",
                    $p1, $p2
                );
                let found: Vec<IdRow> = diesel::sql_query(sql)
                    .bind::<diesel::sql_types::Text, _>(rows[1].id)
                    .bind::<diesel::sql_types::BigInt, _>(rows[3].message)
                    .load(&mut conn)
                    .unwrap();
                assert_eq!(
                    found,
                    [
                        IdRow {
                            id: rows[1].id,
                            message: rows[1].message
                        },
                        IdRow {
                            id: rows[3].id,
                            message: rows[3].message
                        },
                    ]
                );
                let nullable = diesel::sql_query(format!(
                    "SELECT id, message FROM elements WHERE parent = {}",
                    $p1
                ))
                .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(Some(rows[1].id))
                .load::<IdRow>(&mut conn)
                .unwrap();
                assert_eq!(nullable.len(), 1);
                assert_eq!(nullable[0].id, rows[3].id);
            }

            /// Inserts a row with `column = value` and expects loading that row to fail
            /// with an error whose message contains `expected`.
            fn assert_corrupt(column: &str, value: &str, expected: &str) {
                let (_db, mut conn) = setup();
                insert_family(&mut conn);
                assert_eq!(load_all(&mut conn).unwrap().len(), 4);
                if column == "parent" {
                    // The foreign key wants the parent to exist: a second bad row, which
                    // the query below does not load.
                    insert_raw_row(&mut conn, &[("id", value), ("title", "'referenced'")]);
                }
                insert_raw(&mut conn, column, value);
                let err = elements::table
                    .select(Element::as_select())
                    .filter(elements::title.eq("raw"))
                    .load(&mut conn)
                    .unwrap_err();
                assert!(
                    matches!(err, diesel::result::Error::DeserializationError(_)),
                    "{column} = {value}: {err:?}"
                );
                let msg = chain(&err);
                assert!(
                    msg.contains(expected),
                    "{column} = {value}: {msg}\nexpected: {expected}"
                );
            }

            #[test]
            fn a_row_holding_a_bad_id_is_an_error_naming_the_type() {
                assert_corrupt(
                    "id",
                    "'El-a3f8e9'",
                    r#"invalid ElementId "El-a3f8e9": expected prefix "el-" at byte 0"#,
                );
                assert_corrupt(
                    "parent",
                    "'usr-a3f8e9'",
                    r#"invalid ElementId "usr-a3f8e9": expected prefix "el-" at byte 0"#,
                );
                assert_corrupt(
                    "work",
                    "'WORK-07'",
                    r#"invalid WorkItemId "WORK-07": number must be zero-padded to 3 digits"#,
                );
                assert_corrupt(
                    "message_text",
                    "'msg-07'",
                    r#"invalid MessageId "msg-07": number must not have a leading zero"#,
                );
                assert_corrupt(
                    "instance",
                    "'odin-PS-8F4A2B'",
                    r#"invalid InstanceId "odin-PS-8F4A2B""#,
                );
                assert_corrupt(
                    "message",
                    "-5",
                    "invalid MessageId in the database: BIGINT value -5 is negative",
                );
                assert_corrupt(
                    "reply_to",
                    "-9223372036854775808",
                    "invalid MessageId in the database: BIGINT value -9223372036854775808 is negative",
                );
            }

            #[test]
            fn a_bad_id_in_a_single_column_query_is_an_error_too() {
                let (_db, mut conn) = setup();
                insert_raw(&mut conn, "id", "'el-a3f8e9.0'");
                let err = elements::table
                    .select(elements::id)
                    .load::<ElementId>(&mut conn)
                    .unwrap_err();
                let msg = chain(&err);
                assert!(
                    msg.contains(
                        r#"invalid ElementId "el-a3f8e9.0": child number must be positive at byte 10"#
                    ),
                    "{msg}"
                );
                // The same text read as a plain string is fine: only the typed read fails.
                let raw: Vec<String> = elements::table
                    .select(elements::id)
                    .load(&mut conn)
                    .unwrap();
                assert_eq!(raw, ["el-a3f8e9.0"]);
            }
        }
    };
}

backend_tests!(
    sqlite,
    SqliteConnection,
    {
        let db = typed_id_tests::sqlite::TempSqlite::new();
        let conn = db.connect();
        (db, conn)
    },
    "?",
    "?"
);

backend_tests!(
    postgres,
    PgConnection,
    {
        let db = typed_id_tests::pg::TestDatabase::new();
        let conn = db.connect();
        (db, conn)
    },
    "$1",
    "$2"
);

mod sqlite_only {
    use super::*;

    #[test]
    fn text_in_a_bigint_column_is_not_read_as_zero() {
        // SQLite keeps a value that does not look like a number as text even in a
        // BIGINT column; diesel's `i64` would read it as 0.
        let db = typed_id_tests::sqlite::TempSqlite::new();
        let mut conn = db.connect();
        conn.batch_execute(CREATE_ELEMENTS).unwrap();
        insert_raw(&mut conn, "message", "'abc'");
        let err = elements::table
            .select(elements::message)
            .load::<MessageId>(&mut conn)
            .unwrap_err();
        let message = chain(&err);
        assert!(
            message.contains("invalid MessageId in the database: expected an integer, found text"),
            "{message}"
        );
        let err = elements::table
            .select(Element::as_select())
            .load(&mut conn)
            .unwrap_err();
        assert!(chain(&err).contains("invalid MessageId"), "{err}");
        // Text that SQLite's integer affinity converts is a number, and fine.
        conn.batch_execute("DELETE FROM elements").unwrap();
        insert_raw(&mut conn, "message", "'12'");
        let ids: Vec<MessageId> = elements::table
            .select(elements::message)
            .load(&mut conn)
            .unwrap();
        assert_eq!(ids, [msg(12)]);
    }
}

mod postgres_only {
    use super::*;
    use diesel::sql_types::Text;

    #[test]
    fn the_server_is_a_real_postgresql() {
        let db = typed_id_tests::pg::TestDatabase::new();
        let mut conn = db.connect();
        let version: String = diesel::select(diesel::dsl::sql::<Text>("version()"))
            .get_result(&mut conn)
            .unwrap();
        assert!(version.starts_with("PostgreSQL "), "{version}");
        let name: String = diesel::select(diesel::dsl::sql::<Text>("current_database()"))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(name, db.name());
    }

    #[test]
    fn the_published_pattern_works_as_a_check_constraint() {
        diesel::table! {
            checked (id) {
                id -> Text,
            }
        }
        let db = typed_id_tests::pg::TestDatabase::new();
        let mut conn = db.connect();
        assert!(!ElementId::PATTERN.contains('\''));
        conn.batch_execute(&format!(
            "CREATE TABLE checked (id TEXT PRIMARY KEY CHECK (id ~ '{}'))",
            ElementId::PATTERN
        ))
        .unwrap();
        for id in ["el-abc", "el-a3f8e9.1", "el-zzzzzzzz.4294967295.1.2"] {
            diesel::insert_into(checked::table)
                .values(checked::id.eq(el(id)))
                .execute(&mut conn)
                .unwrap();
        }
        for bad in [
            "El-abc",
            "el-ab",
            "el-abc.0",
            "el-abc.4294967296",
            "el-abc.1.1.1.1",
        ] {
            assert!(ElementId::parse(bad).is_err());
            let err = conn
                .batch_execute(&format!("INSERT INTO checked VALUES ('{bad}')"))
                .unwrap_err();
            assert!(err.to_string().contains("check constraint"), "{bad}: {err}");
        }
    }

    #[test]
    fn databases_are_isolated() {
        let a = typed_id_tests::pg::TestDatabase::new();
        let b = typed_id_tests::pg::TestDatabase::new();
        assert_ne!(a.name(), b.name());
        let mut conn_a = a.connect();
        let mut conn_b = b.connect();
        conn_a.batch_execute(CREATE_ELEMENTS).unwrap();
        conn_b.batch_execute(CREATE_ELEMENTS).unwrap();
        postgres::insert_family(&mut conn_a);
        let count: i64 = elements::table.count().get_result(&mut conn_b).unwrap();
        assert_eq!(count, 0);
    }
}
