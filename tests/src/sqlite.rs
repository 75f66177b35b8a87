//! A SQLite database file of its own for one test, in a fresh temporary directory that
//! is removed when the value is dropped. SQLite is bundled, so this always works.
//!
//! ```
//! use diesel::prelude::*;
//! use typed_id_tests::sqlite::TempSqlite;
//!
//! let db = TempSqlite::new();
//! let mut conn = db.connect();
//! diesel::sql_query("CREATE TABLE t (id TEXT PRIMARY KEY)").execute(&mut conn).unwrap();
//! // Another connection (or process) sees the same file.
//! let mut other = db.connect();
//! diesel::sql_query("INSERT INTO t VALUES ('x')").execute(&mut other).unwrap();
//! ```

use std::path::{Path, PathBuf};

use diesel::prelude::*;

/// A temporary SQLite database file.
#[derive(Debug)]
pub struct TempSqlite {
    dir: PathBuf,
    path: PathBuf,
    url: String,
}

impl TempSqlite {
    /// A new, empty database file `db.sqlite` in a new temporary directory.
    ///
    /// # Panics
    /// When the directory cannot be created.
    #[must_use]
    pub fn new() -> TempSqlite {
        let dir = crate::pg::make_unique_dir(&std::env::temp_dir(), "typed-id-sqlite")
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let path = dir.join("db.sqlite");
        let url = path.to_string_lossy().into_owned();
        TempSqlite { dir, path, url }
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What `SqliteConnection::establish` takes.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new connection that waits up to 10 s for a lock held by another connection
    /// instead of failing at once with `database is locked`.
    ///
    /// # Panics
    /// When the file cannot be opened.
    #[must_use]
    pub fn connect(&self) -> SqliteConnection {
        let mut conn = SqliteConnection::establish(&self.url)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.url));
        diesel::sql_query("PRAGMA busy_timeout = 10000")
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("cannot set busy_timeout: {e}"));
        conn
    }
}

impl Default for TempSqlite {
    fn default() -> Self {
        TempSqlite::new()
    }
}

impl Drop for TempSqlite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
