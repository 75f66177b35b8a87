//! The one database layer: every connection the crate makes to SQLite or PostgreSQL —
//! the stores' ([`SqlStore`](crate::store::SqlStore)) and the registry's and its
//! leases' ([`Registry`](crate::instance::Registry)) — is opened, set up, checked,
//! re-established and migrated here.
//!
//! - **URLs**: `postgres://…`, `postgresql://…` and libpq `key=value` strings are
//!   PostgreSQL; `sqlite://path`, `file:` URIs and plain paths are SQLite.
//! - **Per-connection settings**, one vocabulary for every user ([`ConnectOptions`]):
//!   the busy timeout (SQLite `busy_timeout`, PostgreSQL `lock_timeout`) and when
//!   commits reach the disk ([`Synchronous`]). SQLite always runs in WAL mode with
//!   foreign keys on; PostgreSQL sessions always commit synchronously
//!   (`synchronous_commit` raised to `on` from `off` or `local`).
//! - **Reconnecting** under a [`ReconnectPolicy`]: a connection found broken is
//!   replaced before anything of the caller's is sent on it, never after (a statement
//!   whose answer was lost is not sent again). SQLite database files deleted or
//!   replaced under an open connection are noticed and refused.
//! - **Migrations** embedded from `typed-id/migrations/{sqlite,postgres}/` (every
//!   directory there, in name order), applied under one lock: SQLite's write lock
//!   (`BEGIN IMMEDIATE`), a PostgreSQL advisory lock, so processes starting together
//!   apply each migration once.
//! - **Prepared statements**: the crate's SQL texts are prepared once per connection
//!   and reused (see `prepared.rs`). A text marks its binds with `?` and diesel writes
//!   each engine's own placeholder; where the engines' SQL differs otherwise, the two
//!   texts are written side by side (`Sql`), never translated from one another.
//!
//! # Why a trait over diesel's connections, not `#[derive(MultiConnection)]`
//!
//! A `MultiConnection` enum is one connection type whose backend is chosen at run
//! time. The stores are generic over the concrete connection instead
//! (`SqliteStore = SqlStore<SqliteConnection>`) so that callers can run their own typed
//! diesel queries on [`SqlStore::connection`](crate::store::SqlStore::connection) and
//! inside [`SqlStore::write`](crate::store::SqlStore::write); a multi-backend connection
//! would take that away. The derive also needs every backend compiled in, while each is
//! behind its own feature here. So each diesel connection implements [`Engine`] (connect,
//! set up, migrate, transactions) and [`DbConnection`] (what a session needs, `session.rs`), and
//! the registry, which learns its backend from the URL, uses [`AnyConnection`], a
//! two-variant enum whose statements are compiled once per backend by `on_conn!`.

mod any;
mod backend;
mod engine;
mod error;
mod file_identity;
mod options;
#[cfg(feature = "postgres")]
mod postgres;
pub(crate) mod prepared;
mod reconnect;
pub(crate) mod session;
#[cfg(feature = "sqlite")]
mod sqlite;
mod url;

pub use any::AnyConnection;
pub use backend::Backend;
pub use engine::{DbConnection, Engine};
pub use error::DbError;
pub use options::{ConnectOptions, Synchronous};
pub use reconnect::{ConnectionStats, ReconnectPolicy};

pub(crate) use any::on_conn;
pub(crate) use backend::Sql;
pub(crate) use engine::{connect, write_transaction_waiting};
pub(crate) use error::lock_timed_out;
pub(crate) use file_identity::file_identity;
pub(crate) use session::{Session, breaks_connection};
pub(crate) use url::Target;
