//! Which backend a database URL names, and what to hand its driver.
//!
//! `postgres://…`, `postgresql://…` and libpq `key=value` strings are PostgreSQL;
//! `sqlite://path`, `file:` URIs and plain paths are SQLite.

use super::backend::Backend;
use super::error::DbError;

/// A parsed database URL: the backend and the string its driver connects with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    backend: Backend,
    /// SQLite: the path or `file:` URI (without `sqlite://`); PostgreSQL: the URL or
    /// libpq string as given.
    conninfo: String,
}

impl Target {
    /// Reads the backend from the URL itself (the registry, which serves both).
    pub(crate) fn parse(url: &str) -> Result<Target, DbError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(DbError::UnsupportedUrl {
                reason: "the database URL is empty",
            });
        }
        if looks_like_postgres(url) {
            Self::build(Backend::Postgres, url)
        } else {
            Self::build(Backend::Sqlite, url)
        }
    }

    /// A URL for a connection type fixed in advance (a store): a path is never taken
    /// for a libpq string, and the other backend's URL schemes are refused.
    pub(crate) fn parse_for(url: &str, backend: Backend) -> Result<Target, DbError> {
        let url = url.trim();
        match backend {
            Backend::Sqlite if has_postgres_scheme(url) => Err(DbError::UnsupportedUrl {
                reason: "a PostgreSQL URL was given to a SQLite connection",
            }),
            Backend::Postgres if url.starts_with("sqlite:") || url.starts_with("file:") => {
                Err(DbError::UnsupportedUrl {
                    reason: "a SQLite URL was given to a PostgreSQL connection",
                })
            }
            _ if url.is_empty() => Err(DbError::UnsupportedUrl {
                reason: "the database URL is empty",
            }),
            _ => Self::build(backend, url),
        }
    }

    fn build(backend: Backend, url: &str) -> Result<Target, DbError> {
        if !backend.enabled() {
            return Err(DbError::UnsupportedUrl {
                reason: match backend {
                    Backend::Sqlite => "a SQLite path needs typed-id's `sqlite` feature",
                    Backend::Postgres => "a PostgreSQL URL needs typed-id's `postgres` feature",
                },
            });
        }
        let conninfo = match backend {
            Backend::Sqlite => {
                let path = url.strip_prefix("sqlite://").unwrap_or(url);
                if path.is_empty() {
                    return Err(DbError::UnsupportedUrl {
                        reason: "the SQLite URL has no path",
                    });
                }
                path
            }
            Backend::Postgres => url,
        };
        Ok(Target {
            backend,
            conninfo: conninfo.to_owned(),
        })
    }

    /// The backend.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// What the driver connects with.
    pub(crate) fn conninfo(&self) -> &str {
        &self.conninfo
    }
}

fn has_postgres_scheme(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A URL scheme of PostgreSQL, or a libpq `key=value` string (an `=` outside a SQLite
/// URI).
fn looks_like_postgres(url: &str) -> bool {
    has_postgres_scheme(url)
        || (url.contains('=') && !url.starts_with("file:") && !url.starts_with("sqlite:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> (Backend, String) {
        let t = Target::parse(url).unwrap();
        (t.backend(), t.conninfo().to_owned())
    }

    #[test]
    fn backends_from_urls() {
        #[cfg(feature = "postgres")]
        {
            assert_eq!(
                parsed("postgres://u@h/db"),
                (Backend::Postgres, "postgres://u@h/db".into())
            );
            assert_eq!(parsed("postgresql://u@h/db").0, Backend::Postgres);
            assert_eq!(
                parsed(" host=/tmp dbname=x "),
                (Backend::Postgres, "host=/tmp dbname=x".into())
            );
            assert!(Target::parse_for("ids.db", Backend::Postgres).is_ok());
            assert!(Target::parse_for("sqlite://ids.db", Backend::Postgres).is_err());
        }
        #[cfg(feature = "sqlite")]
        {
            assert_eq!(
                parsed("sqlite:///tmp/a.db"),
                (Backend::Sqlite, "/tmp/a.db".into())
            );
            assert_eq!(parsed("ids.db"), (Backend::Sqlite, "ids.db".into()));
            assert_eq!(
                parsed("file:ids.db?mode=rwc"),
                (Backend::Sqlite, "file:ids.db?mode=rwc".into())
            );
            // A store knows its backend: a path with `=` stays a path.
            let t = Target::parse_for("dir/a=b.db", Backend::Sqlite).unwrap();
            assert_eq!(t.conninfo(), "dir/a=b.db");
            assert!(matches!(
                Target::parse_for("postgres://h/db", Backend::Sqlite),
                Err(DbError::UnsupportedUrl { .. })
            ));
            assert!(Target::parse("sqlite://").is_err());
        }
        assert!(Target::parse("  ").is_err());
    }
}
