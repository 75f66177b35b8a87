//! Type-safe, prefixed, collision-proof identifiers.
//!
//! `typed-id` gives every kind of entity its own ID type — an `OrderId` can never be
//! passed where a `UserId` is expected — with a canonical text form, a parser that
//! never panics or allocates, and a published regular expression that agrees with the
//! parser byte for byte.
//!
//! | body | canonical text | notes |
//! |---|---|---|
//! | [`HashId`] | `el-a3f8e9`, `el-a3f8e9.1.2` | base36 content hash, up to 3 child segments |
//! | [`Snowflake`] | `msg-1767053847123456789` or `msg-1BvP7xZ5J1t` | 63-bit, time-ordered |
//! | [`Seq`] | `WORK-042`, `WORK-1000` | display number, zero-padded to a width |
//! | [`HexKey`] | `odin-PS-8f4a2b` | instance keys |
//!
//! ```
//! use typed_id::HashId;
//!
//! let id = HashId::parse("a3f8e9.1.2")?;
//! assert_eq!(id.parent().unwrap().as_str(), "a3f8e9.1");
//!
//! let err = HashId::parse("a3f8e9.0").unwrap_err();
//! assert_eq!(err.to_string(), r#"invalid HashId "a3f8e9.0": child number must be positive at byte 7"#);
//! # Ok::<(), typed_id::ParseIdError>(())
//! ```
//!
//! # Deriving an ID type
//!
//! `#[derive(TypedId)]` turns a one-field tuple struct over a body into a complete ID
//! type. The body kind comes from the field's type (or the `kind` key, for an alias);
//! the attribute sets the prefix and the body's options:
//!
//! ```
//! use typed_id::{HashId, Seq, Snowflake, HexKey, TypedId};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "el", accept = ["elem"], max_depth = 3)]
//! pub struct ElementId(HashId);
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "WORK", width = 3)]
//! pub struct WorkItemId(Seq);
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "msg", encoding = "base62")]
//! pub struct MessageId(Snowflake);
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "odin-PS", len = 6)]
//! pub struct OdinKey(HexKey);
//!
//! let el: ElementId = "elem-a3f8e9.1".parse()?; // legacy prefix accepted...
//! assert_eq!(el.to_string(), "el-a3f8e9.1"); // ...canonical one displayed
//! assert_eq!(el.parent(), Some(ElementId::parse("el-a3f8e9")?));
//! assert_eq!(WorkItemId::new(42)?.as_str(), "WORK-042");
//! assert!(ElementId::PATTERN.starts_with("^(?:el|elem)-[0-9a-z]{3,8}"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | key | bodies | meaning | default |
//! |---|---|---|---|
//! | `prefix = "el"` | all | canonical prefix (required): 1–32 ASCII letters, digits, `_`, with `-` only between segments (`odin-PS`) | — |
//! | `accept = ["elem"]` | all | legacy prefixes still parsed, never displayed | none |
//! | `kind = "hash"` | all | the body, when the field is a type alias or re-export: `"hash"`, `"snowflake"`, `"seq"` or `"hex"` | from the field's type |
//! | `min_len = 4` | `HashId` | shortest hash, 3..=8 | 3 |
//! | `max_len = 8` | `HashId` | longest hash, `min_len..=8` | 8 |
//! | `max_depth = 3` | `HashId` | deepest child path, 0..=3 (0: no hierarchy helpers) | 3 |
//! | `width = 3` | `Seq` | minimum digits, 1..=18 | 3 |
//! | `encoding = "base62"` | `Snowflake` | `"decimal"` or `"base62"` text | `"decimal"` |
//! | `serde = "number"` | `Snowflake` | serialize as `"string"` or `"number"` | `"string"` |
//! | `len = 6` | `HexKey` | number of hex digits, 4..=32 | 6 |
//!
//! Every derived type gets `PREFIX`, `PATTERN` and `PCRE_PATTERN` constants, `parse`,
//! `FromStr`, `TryFrom<&str>`, `TryFrom<String>`, `Display`, a `Debug` that shows the
//! text, `Clone`, `Copy`, `Eq`, `Ord`, `Hash`, `body()` and conversions from and to the
//! body (checked against the type's options); text bodies add `as_str()` (the whole ID, borrowed);
//! hierarchical types add `depth`, `parent`, `root`, `child`, `is_ancestor_of` and
//! `ancestors`, all returning the same type; display types add `new` and `value`;
//! snowflake types add `as_u64`, `as_i64` and `from_u64`. With the `serde`, `diesel` and
//! `sqlx-*` features the type also (de)serializes as its text and maps to SQL columns;
//! with `schemars` and `utoipa` it has a JSON Schema and an OpenAPI schema.
//!
//! Mistakes in the attribute are compile errors on the token at fault: unknown keys
//! (with the key you probably meant), duplicates, options that do not fit the body,
//! out-of-range values, prefixes with other characters, and inputs other than a
//! non-generic one-field tuple struct. Text bodies keep the whole ID inline in 48 bytes
//! or less, so a hierarchical `HashId` type fits a prefix of up to 4 characters at full
//! depth and length (11 more per level of `max_depth` given up); a longer prefix is a
//! compile error that says so.
//!
//! # Canonical form only
//!
//! Each ID has exactly one text. Parsers reject uppercase base36, `+` signs, leading
//! zeros in child numbers and snowflake decimals, display numbers padded beyond their
//! width, and input longer than the longest valid ID (before scanning it).
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `serde` | `Serialize`/`Deserialize` for derived types (as text; snowflakes optionally as numbers) |
//! | `diesel` | diesel `ToSql`/`FromSql`/`AsExpression` for derived types (with a backend below) |
//! | `sqlite` | the SQLite backend, bundled: nothing to install |
//! | `postgres` | the PostgreSQL backend, through libpq |
//! | `uuid` | conversions between [`TypeIdUuid`] and `uuid::Uuid` |
//! | `sqlx-sqlite` | sqlx `Type`/`Encode`/`Decode` for derived types on SQLite (sqlx 0.9: Rust 1.94+) |
//! | `sqlx-postgres` | the same on PostgreSQL, plus `PgHasArrayType` (sqlx 0.9: Rust 1.94+) |
//! | `schemars` | `JsonSchema` (schemars 1) for derived types: a string with the type's `PATTERN` |
//! | `utoipa` | `ToSchema`/`PartialSchema` (utoipa 5) for derived types, for OpenAPI documents |
//!
//! # sqlx
//!
//! With `sqlx-sqlite` or `sqlx-postgres`, derived types are sqlx values: text bodies in
//! `TEXT` columns, snowflakes in `BIGINT` columns (a snowflake is read from a `TEXT`
//! column too, as its canonical text; bind `id.to_string()` to write one there). They
//! bind as query parameters, decode in `#[derive(sqlx::FromRow)]` structs and with
//! `query_scalar`, and `Option<Id>` maps a nullable column. Decoding validates: a row
//! holding text that does not parse, a negative `BIGINT`, a value of another type, or
//! `NULL` in a non-`Option` field is a decode error that names the type and the value
//! (`invalid ElementId "el-A3F8": …`), never a bogus ID.
//!
//! ```no_run
//! # #[cfg(feature = "sqlx-sqlite")]
//! # async fn demo(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
//! use typed_id::{HashId, TypedId};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "el")]
//! struct ElementId(HashId);
//!
//! let id = ElementId::parse("el-a3f8e9.1").unwrap();
//! sqlx::query("INSERT INTO elements (id, parent) VALUES ($1, $2)")
//!     .bind(id)
//!     .bind(id.parent())
//!     .execute(&mut *conn)
//!     .await?;
//! // Also as fields of `#[derive(sqlx::FromRow)]` structs.
//! let parent: Option<ElementId> = sqlx::query_scalar("SELECT parent FROM elements WHERE id = $1")
//!     .bind(id)
//!     .fetch_one(&mut *conn)
//!     .await?;
//! assert_eq!(parent, id.parent());
//! # Ok(())
//! # }
//! ```
//!
//! The features use sqlx 0.9, not 0.8, because only one crate in a build may link
//! SQLite: sqlx 0.9 accepts the `libsqlite3-sys` 0.35 that diesel uses here (bundled),
//! while 0.8 needs 0.30. sqlx 0.9 needs Rust 1.94, so these two features do too (the
//! rest of the crate needs 1.89). The dependency has no default features and picks no
//! runtime or TLS backend: your own sqlx dependency does (`runtime-tokio`, `derive`, …).
//!
//! # JSON Schema and OpenAPI
//!
//! With `schemars` (schemars 1) and `utoipa` (utoipa 5), a derived type describes itself
//! as what serde writes: `{"type": "string", "pattern": PATTERN}` with a title (the
//! type's name), a description and an example, as a named schema (`$defs/ElementId`,
//! `#/components/schemas/ElementId`) that struct fields refer to. A snowflake type with
//! `serde = "number"` is an `integer` (`int64`) in `0..=9223372036854775807`; on input
//! its deserializer also accepts the ID's text and decimal digits in a string, which
//! the description says but the schema, describing the output, does not allow. JSON
//! Schema validators check patterns with ECMAScript semantics, under which `PATTERN`
//! accepts exactly what the parser accepts (tested with the `jsonschema` crate against
//! every input of the parser's tables).
//!
//! ```
//! # #[cfg(all(feature = "schemars", feature = "utoipa"))]
//! # fn main() {
//! use typed_id::{HashId, TypedId};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "el")]
//! struct ElementId(HashId);
//!
//! let schema = schemars::schema_for!(ElementId);
//! assert_eq!(schema.get("pattern"), Some(&ElementId::PATTERN.into()));
//! assert_eq!(<ElementId as utoipa::ToSchema>::name(), "ElementId");
//! # }
//! # #[cfg(not(all(feature = "schemars", feature = "utoipa")))]
//! # fn main() {}
//! ```
//!
//! # Patterns in other regex engines
//!
//! `PATTERN` is exact where `$` means the end of the text: ECMAScript (JSON Schema,
//! OpenAPI), RE2 and Go, Rust's `regex`, PostgreSQL's `~` (so `CHECK (id ~ '…')` keeps
//! out exactly what the parser rejects). In Python's `re`, PCRE, Perl, Java and .NET,
//! `$` also matches before a final newline (Java: before any final line terminator), so
//! `PATTERN` lets `"el-a3f8\n"` through; use `PCRE_PATTERN` there (`PATTERN` followed by
//! `(?![\s\S])`, "no character follows"). The table is on [`TypedId::PCRE_PATTERN`].
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
pub mod codec;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod db;
mod error;
mod external;
pub mod generator;
pub mod instance;
mod pattern;
pub mod store;
mod text;
mod typed;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use body::{
    Ancestors, Body, DynTypeId, HashId, HashSpec, HexKey, HexSpec, InstanceKey, Seq, SeqSpec,
    Snowflake, SnowflakeEncoding, SnowflakeSpec, TypeIdSpec, TypeIdUuid,
};
pub use error::{Expected, IdError, ParseErrorKind, ParseIdError, Part, SpecError};
pub use generator::{
    CollisionCheck, GenerateError, HashIdGenerator, HashInput, InstanceKeyGenerator, Layout,
    MemoryCollisionCheck, ProcessInstanceId, SnowflakeGenerator,
};
pub use pattern::Pattern;
pub use store::{ChildCounter, DisplayIdAllocator, StoreError};
pub use typed::TypedId;
pub use typed_id_derive::TypedId;

/// The README's examples, compiled as doctests.
#[cfg(all(doctest, feature = "serde", feature = "sqlite"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
