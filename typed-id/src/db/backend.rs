//! [`Backend`], the engines the layer talks to, and [`Sql`], a statement written out
//! for each of them.

/// The database engines the crate talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite (feature `sqlite`).
    Sqlite,
    /// PostgreSQL (feature `postgres`).
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Whether this build includes the backend.
    pub(crate) fn enabled(self) -> bool {
        match self {
            Backend::Sqlite => cfg!(feature = "sqlite"),
            Backend::Postgres => cfg!(feature = "postgres"),
        }
    }
}

/// A statement whose text differs between the engines, both written out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sql {
    /// SQLite's text.
    pub(crate) sqlite: &'static str,
    /// PostgreSQL's text.
    pub(crate) postgres: &'static str,
}

impl Sql {
    /// The text for `backend`.
    pub(crate) fn text(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}
