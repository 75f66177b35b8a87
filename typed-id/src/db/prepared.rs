//! Raw SQL that a connection prepares once and reuses.
//!
//! diesel's `sql_query` marks every query unsafe to cache, so each call parses and plans
//! its statement again: most of the cost of a one-row upsert on SQLite. The crate's SQL
//! (the stores', the registry's, the leases') comes from a fixed set of texts (one per
//! statement and engine, or per [`IdColumn`](crate::store::IdColumn)), which is exactly
//! what diesel's cache keyed by SQL text is for. [`prepared`] builds such a query and [`Prepared::bind`] binds values as
//! with `sql_query`; rows are read by name (`QueryableByName`).
//!
//! Texts mark each bind with `?`, on every engine: diesel writes the engine's own
//! placeholder (`?`, `$1`, …) in its place, so one text serves SQLite and PostgreSQL
//! unless their SQL differs otherwise ([`Sql`](super::backend::Sql) then holds both). A value
//! used twice is bound twice. The texts are the crate's own and never contain `?`
//! otherwise.

use core::marker::PhantomData;

use diesel::RunQueryDsl;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};

/// A statement whose text diesel may cache per connection: see the module docs.
#[derive(Debug, Clone, Copy)]
#[must_use = "a query does nothing until it is run"]
pub(crate) struct Prepared<S> {
    sql: S,
}

/// `sql` as a statement that is prepared once per connection. The text must come from
/// a bounded set (never from values: those are bound), or the cache would grow.
pub(crate) fn prepared<S: AsRef<str>>(sql: S) -> Prepared<S> {
    Prepared { sql }
}

/// A query with one more bound value of SQL type `ST`.
#[derive(Debug, Clone, Copy)]
#[must_use = "a query does nothing until it is run"]
pub(crate) struct Bound<Q, V, ST> {
    query: Q,
    value: V,
    sql_type: PhantomData<ST>,
}

/// Binding values, in placeholder order.
macro_rules! bind_method {
    () => {
        /// Binds the next placeholder to `value`, as SQL type `T`.
        pub(crate) fn bind<T, W>(self, value: W) -> Bound<Self, W, T> {
            Bound {
                query: self,
                value,
                sql_type: PhantomData,
            }
        }
    };
}

impl<S> Prepared<S> {
    bind_method!();
}

impl<Q, V, ST> Bound<Q, V, ST> {
    bind_method!();
}

/// The text and the number of values bound so far.
trait Statement {
    const BINDS: usize;

    fn text(&self) -> &str;
}

impl<S: AsRef<str>> Statement for Prepared<S> {
    const BINDS: usize = 0;

    fn text(&self) -> &str {
        self.sql.as_ref()
    }
}

impl<Q: Statement, V, ST> Statement for Bound<Q, V, ST> {
    const BINDS: usize = Q::BINDS + 1;

    fn text(&self) -> &str {
        self.query.text()
    }
}

/// The `n`th piece of `text` between `?` marks.
fn piece(text: &str, n: usize) -> QueryResult<&str> {
    text.split('?').nth(n).ok_or_else(|| {
        diesel::result::Error::QueryBuilderError(
            format!("more values bound than the statement has `?`: {text}").into(),
        )
    })
}

impl<S: AsRef<str>, DB: Backend> QueryFragment<DB> for Prepared<S> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // Unlike `sql_query`, no `unsafe_to_cache_prepared()`: the text is the cache key.
        out.push_sql(piece(self.text(), 0)?);
        Ok(())
    }
}

impl<Q, V, ST, DB> QueryFragment<DB> for Bound<Q, V, ST>
where
    DB: Backend + HasSqlType<ST>,
    Q: QueryFragment<DB> + Statement,
    V: ToSql<ST, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_bind_param::<ST, V>(&self.value)?;
        out.push_sql(piece(self.text(), Self::BINDS)?);
        Ok(())
    }
}

/// No static ID: diesel then keys its cache by the SQL text and the bind types.
macro_rules! untyped_query {
    ($($ty:ident<$($param:ident),*>),*) => {$(
        impl<$($param),*> QueryId for $ty<$($param),*> {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }

        impl<$($param),*> Query for $ty<$($param),*> {
            type SqlType = Untyped;
        }

        impl<$($param,)* Conn> RunQueryDsl<Conn> for $ty<$($param),*> {}
    )*};
}

untyped_query!(Prepared<S>, Bound<Q, V, ST>);

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use diesel::connection::{CacheSize, Connection, Instrumentation, InstrumentationEvent};
    use diesel::sql_types::{BigInt, Text};
    use diesel::sqlite::SqliteConnection;
    use diesel::{QueryableByName, RunQueryDsl};
    use std::sync::{Arc, Mutex};

    use super::prepared;

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Row {
        #[diesel(sql_type = Text)]
        word: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// Counts the statements the connection had to prepare (cache misses).
    #[derive(Default)]
    struct Prepares(Arc<Mutex<usize>>);

    impl Instrumentation for Prepares {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            if let InstrumentationEvent::CacheQuery { .. } = event {
                *self.0.lock().unwrap() += 1;
            }
        }
    }

    #[test]
    fn one_text_is_prepared_once_and_binds_stay_in_order() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.set_prepared_statement_cache_size(CacheSize::Unbounded);
        let count = Arc::new(Mutex::new(0));
        conn.set_instrumentation(Prepares(Arc::clone(&count)));
        for i in 0..5_i64 {
            let row: Row = prepared("SELECT ? AS word, ? + ? AS n")
                .bind::<Text, _>(format!("w{i}"))
                .bind::<BigInt, _>(i)
                .bind::<BigInt, _>(100)
                .get_result(&mut conn)
                .unwrap();
            assert_eq!(
                row,
                Row {
                    word: format!("w{i}"),
                    n: 100 + i
                }
            );
        }
        assert_eq!(*count.lock().unwrap(), 1, "cached after the first call");
        // A second text is a second entry; `sql_query` would prepare every time.
        let _ = prepared(String::from("SELECT 'x' AS word, 1 AS n"))
            .get_result::<Row>(&mut conn)
            .unwrap();
        assert_eq!(*count.lock().unwrap(), 2);
        for _ in 0..3 {
            let _ = diesel::sql_query("SELECT 'x' AS word, 1 AS n")
                .get_result::<Row>(&mut conn)
                .unwrap();
        }
        assert_eq!(
            *count.lock().unwrap(),
            2,
            "sql_query never reaches the cache"
        );
    }

    #[test]
    fn a_bind_without_its_mark_is_an_error_not_a_query() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let result = prepared("SELECT 'x' AS word, ? AS n")
            .bind::<BigInt, _>(1)
            .bind::<BigInt, _>(2)
            .get_result::<Row>(&mut conn);
        assert!(
            matches!(result, Err(diesel::result::Error::QueryBuilderError(_))),
            "{result:?}"
        );
    }
}
