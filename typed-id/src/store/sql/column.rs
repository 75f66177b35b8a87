//! [`IdColumn`]: a user's table column of content-hash IDs, the [`CollisionCheck`] over
//! it, and the insert that treats the UNIQUE constraint as the final arbiter.

use core::cell::RefCell;
use core::fmt;

use diesel::result::{DatabaseErrorKind, Error as DieselError, QueryResult};

use super::StoreConnection;
use crate::body::HashId;
use crate::generator::{CollisionCheck, HashGenerateError, HashIdGenerator, HashInput};
use crate::store::StoreError;
use crate::store::error::snippet;
use crate::typed::TypedId;

/// How many inserts in a row may lose the race for a fresh ID before
/// [`IdColumn::insert_unique`] gives up with [`StoreError::LostRaces`].
const MAX_RACES: u32 = 32;

/// A table column that holds content-hash IDs (a `TEXT` column with a UNIQUE or
/// PRIMARY KEY constraint), as the target of collision checks and
/// [`insert_unique`](Self::insert_unique).
///
/// ```
/// use typed_id::store::IdColumn;
///
/// assert!(IdColumn::new("elements", "id").is_ok());
/// assert!(IdColumn::new("app.elements", "id").is_ok());
/// assert!(IdColumn::new("elements; DROP TABLE x", "id").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdColumn {
    table: String,
    column: String,
    /// `"schema"."table"`, ready for SQL text.
    pub(super) quoted_table: String,
    pub(super) quoted_column: String,
}

impl IdColumn {
    /// `table` (optionally `schema.table`) and `column`: plain identifiers of ASCII
    /// letters, digits and `_`, not starting with a digit, at most 63 bytes each.
    ///
    /// # Errors
    /// [`StoreError::InvalidIdentifier`].
    pub fn new(table: &str, column: &str) -> Result<Self, StoreError> {
        let mut quoted_table = String::new();
        let parts: Vec<&str> = table.split('.').collect();
        if parts.len() > 2 {
            return Err(invalid_identifier(table));
        }
        for part in &parts {
            if !plain_identifier(part) {
                return Err(invalid_identifier(table));
            }
            if !quoted_table.is_empty() {
                quoted_table.push('.');
            }
            quoted_table.push_str(&format!("\"{part}\""));
        }
        if !plain_identifier(column) {
            return Err(invalid_identifier(column));
        }
        Ok(IdColumn {
            table: table.to_owned(),
            column: column.to_owned(),
            quoted_table,
            quoted_column: format!("\"{column}\""),
        })
    }

    /// The table, as given.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The column, as given.
    #[must_use]
    pub fn column(&self) -> &str {
        &self.column
    }

    /// A [`CollisionCheck`] on this column over `conn`.
    pub fn check<'a, C: StoreConnection>(&'a self, conn: &'a mut C) -> SqlCollisionCheck<'a, C> {
        SqlCollisionCheck {
            conn: RefCell::new(conn),
            column: self,
        }
    }

    /// Generates a content-hash ID of type `T` that `SELECT EXISTS` says is free in this
    /// column, and calls `insert` with it inside a transaction (a savepoint when `conn`
    /// is already in one).
    ///
    /// If `insert` fails with a UNIQUE violation and the candidate now exists, another
    /// writer won the race: the attempt is rolled back and the generator tried again
    /// (it skips the taken ID), up to 32 times. A UNIQUE violation on another column
    /// is returned as it is. The element count that picks the hash length comes from
    /// the generator's cache, refreshed with `COUNT(*)` only when it is stale.
    ///
    /// Run it at `READ COMMITTED` (PostgreSQL's default): at a stricter isolation level
    /// the winner's row would stay invisible, and a lost race looks like another
    /// UNIQUE violation.
    ///
    /// # Errors
    /// [`StoreError::TooManyCollisions`] when the generator runs out of candidates,
    /// [`StoreError::LostRaces`] after 32 lost races, or the database's error.
    pub fn insert_unique<C, T, F>(
        &self,
        conn: &mut C,
        generator: &HashIdGenerator,
        input: &HashInput<'_>,
        mut insert: F,
    ) -> Result<T, StoreError>
    where
        C: StoreConnection,
        T: TypedId<Body = HashId>,
        F: FnMut(&mut C, T) -> QueryResult<()>,
    {
        for _ in 0..MAX_RACES {
            let id: T = generator
                .generate(input, &self.check(conn))
                .map_err(from_generate)?;
            match conn.write_transaction(|c| insert(c, id)) {
                Ok(()) => return Ok(id),
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                    let taken = conn
                        .id_exists(self, &id.to_text())
                        .map_err(StoreError::db("check for an ID"))?;
                    if !taken {
                        return Err(StoreError::Database {
                            op: "insert a row",
                            source: DieselError::DatabaseError(
                                DatabaseErrorKind::UniqueViolation,
                                info,
                            ),
                        });
                    }
                }
                Err(e) => {
                    return Err(StoreError::Database {
                        op: "insert a row",
                        source: e,
                    });
                }
            }
        }
        Err(StoreError::LostRaces {
            attempts: MAX_RACES,
        })
    }

    /// The largest child number directly under `parent` among this column's values
    /// (0 if none); deeper descendants count through their ancestor at that level.
    pub(super) fn max_child_number<C, T>(&self, conn: &mut C, parent: &T) -> Result<u32, StoreError>
    where
        C: StoreConnection,
        T: TypedId<Body = HashId>,
    {
        let parent_text = parent.to_text();
        let prefix = format!("{parent_text}.");
        let values = conn
            .ids_starting_with(self, &prefix)
            .map_err(StoreError::db("read IDs"))?;
        let depth = parent.body_ref().depth();
        let mut max = 0;
        for value in values {
            let id = crate::typed::parse::<T>(&value).map_err(|e| StoreError::CorruptValue {
                location: format!("{}.{}", self.table, self.column),
                value: snippet(&value),
                reason: e.to_string(),
            })?;
            let body = id.body_ref();
            let child = core::iter::once(*body)
                .chain(body.ancestors())
                .find(|a| a.depth() == depth + 1);
            if let Some(n) = child.and_then(|c| c.child_number()) {
                max = max.max(n);
            }
        }
        Ok(max)
    }
}

fn plain_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.as_bytes()[0].is_ascii_digit()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cold]
fn invalid_identifier(name: &str) -> StoreError {
    StoreError::InvalidIdentifier {
        name: snippet(name),
    }
}

fn from_generate(e: HashGenerateError<StoreError>) -> StoreError {
    match e {
        HashGenerateError::TooManyCollisions { attempts, len } => {
            StoreError::TooManyCollisions { attempts, len }
        }
        HashGenerateError::Check(e) => e,
        HashGenerateError::Id(e) => StoreError::Id(e),
    }
}

/// A [`CollisionCheck`] against an [`IdColumn`]: `SELECT EXISTS` per candidate,
/// `COUNT(*)` when the generator refreshes its element count. Made by
/// [`IdColumn::check`].
pub struct SqlCollisionCheck<'a, C> {
    conn: RefCell<&'a mut C>,
    column: &'a IdColumn,
}

impl<C> fmt::Debug for SqlCollisionCheck<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlCollisionCheck")
            .field("column", self.column)
            .finish_non_exhaustive()
    }
}

impl<C: StoreConnection> CollisionCheck for SqlCollisionCheck<'_, C> {
    type Error = StoreError;

    fn exists(&self, id: &str) -> Result<bool, StoreError> {
        self.conn
            .borrow_mut()
            .id_exists(self.column, id)
            .map_err(StoreError::db("check for an ID"))
    }

    fn count(&self) -> Result<u64, StoreError> {
        let n = self
            .conn
            .borrow_mut()
            .id_count(self.column)
            .map_err(StoreError::db("count IDs"))?;
        Ok(n.max(0) as u64)
    }
}
