//! Where a store or registry lives, from its command-line spelling: a SQLite file
//! (`sqlite://path`, `file:` URIs, or a path), PostgreSQL (`postgres://…` or a libpq
//! `key=value` string), or — for display counters — a folder (`dir:PATH` or an
//! existing directory). Read-only commands check here that a SQLite file or folder
//! exists, so they never create one by looking at it.

use std::path::{Path, PathBuf};

use crate::error::CliError;

/// A store or registry location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file: its path, and the URL to open it with.
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What to open.
        url: String,
    },
    /// A PostgreSQL URL or `key=value` string.
    Postgres(String),
    /// A folder of counter files.
    Dir(PathBuf),
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://")
        || url.starts_with("postgresql://")
        || (url.contains('=') && !url.starts_with("file:") && !url.starts_with("sqlite:"))
}

fn sqlite(url: &str) -> Location {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    let path = match path.strip_prefix("file:") {
        Some(uri) => uri
            .split('?')
            .next()
            .unwrap_or(uri)
            .trim_start_matches("//"),
        None => path,
    };
    Location::Sqlite {
        path: PathBuf::from(path),
        url: url.to_owned(),
    }
}

/// A registry database: SQLite or PostgreSQL.
pub fn database(url: &str) -> Result<Location, CliError> {
    let url = url.trim();
    if url.is_empty() {
        return Err(CliError::usage(
            "the database URL is empty: pass --database-url (a SQLite path or a postgres:// URL) \
             or set TYPED_ID_DATABASE_URL",
        ));
    }
    if is_postgres(url) {
        return Ok(Location::Postgres(url.to_owned()));
    }
    let location = sqlite(url);
    if let Location::Sqlite { path, .. } = &location
        && path.is_dir()
    {
        return Err(CliError::usage(format!(
            "{} is a directory, not a SQLite database file",
            path.display()
        )));
    }
    Ok(location)
}

/// A display-counter store: SQLite, PostgreSQL or a folder.
pub fn store(spec: &str) -> Result<Location, CliError> {
    let spec = spec.trim();
    if let Some(dir) = spec.strip_prefix("dir:") {
        if dir.is_empty() {
            return Err(CliError::usage("dir: needs a path, e.g. dir:./counters"));
        }
        return Ok(Location::Dir(PathBuf::from(dir)));
    }
    if is_postgres(spec) {
        return Ok(Location::Postgres(spec.to_owned()));
    }
    if Path::new(spec).is_dir() {
        return Ok(Location::Dir(PathBuf::from(spec)));
    }
    let sqlite_like = spec.starts_with("sqlite:")
        || spec.starts_with("file:")
        || [".db", ".sqlite", ".sqlite3"]
            .iter()
            .any(|ext| spec.ends_with(ext));
    if sqlite_like {
        return database(spec);
    }
    Err(CliError::usage(format!(
        "cannot tell what kind of store {spec:?} is: write sqlite://PATH (or a path ending \
         in .db), postgres://…, or dir:PATH for a folder"
    )))
}

/// For read-only commands: a SQLite file or folder must already exist.
pub fn require_existing(location: &Location) -> Result<(), CliError> {
    match location {
        Location::Sqlite { path, .. } if !path.is_file() => Err(CliError::usage(format!(
            "no database at {}: this command only reads, so it does not create one \
             (check the path, or run a command that writes first)",
            path.display()
        ))),
        Location::Dir(dir) if !dir.is_dir() => Err(CliError::usage(format!(
            "no folder at {}: this command only reads, so it does not create one",
            dir.display()
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert!(matches!(
            database("postgres://u@h/db"),
            Ok(Location::Postgres(_))
        ));
        assert!(matches!(
            database("host=/tmp dbname=x"),
            Ok(Location::Postgres(_))
        ));
        assert_eq!(
            database("sqlite:///tmp/a.db").unwrap(),
            Location::Sqlite {
                path: "/tmp/a.db".into(),
                url: "sqlite:///tmp/a.db".into()
            }
        );
        match database("file:/tmp/b.db?mode=rwc").unwrap() {
            Location::Sqlite { path, .. } => assert_eq!(path, PathBuf::from("/tmp/b.db")),
            other => panic!("{other:?}"),
        }
        assert!(database(" ").is_err());
        assert!(matches!(store("dir:x"), Ok(Location::Dir(_))));
        assert!(matches!(store("ids.db"), Ok(Location::Sqlite { .. })));
        assert!(store("ids.txt").is_err());
    }
}
