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
//! assert_eq!(WorkItemId::new(42)?.to_text(), "WORK-042");
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
//! body (checked against the type's options), and `to_text()`: the whole text in a
//! stack buffer that derefs to `str` (see [Common traits](#common-traits));
//! hierarchical types add `depth`, `parent`, `root`, `child`, `is_ancestor_of` and
//! `ancestors`, all returning the same type; display types add `new` and `value`;
//! snowflake types add `as_u64`, `as_i64` and `from_u64`. With the `serde`, `diesel` and
//! `sqlx-*` features the type also (de)serializes as its text and maps to SQL columns;
//! with `schemars` and `utoipa` it has a JSON Schema and an OpenAPI schema; with
//! `proptest` and `arbitrary` it has test strategies.
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
//! | `serde` | `Serialize`/`Deserialize` for derived types (as text; snowflakes optionally as numbers), the bare bodies, [`DynTypeId`], [`InstanceKey`], [`ProcessInstanceId`] and [`SnowflakeParts`](generator::SnowflakeParts) |
//! | `diesel` | diesel `ToSql`/`FromSql`/`AsExpression` for derived types (with a backend below) |
//! | `sqlite` | the SQLite backend, bundled: nothing to install |
//! | `postgres` | the PostgreSQL backend, through libpq |
//! | `uuid` | conversions between [`TypeIdUuid`] and `uuid::Uuid` |
//! | `sqlx-sqlite` | sqlx `Type`/`Encode`/`Decode` for derived types on SQLite (sqlx 0.9: Rust 1.94+) |
//! | `sqlx-postgres` | the same on PostgreSQL, plus `PgHasArrayType` (sqlx 0.9: Rust 1.94+) |
//! | `schemars` | `JsonSchema` (schemars 1) for derived types: a string with the type's `PATTERN` |
//! | `utoipa` | `ToSchema`/`PartialSchema` (utoipa 5) for derived types, for OpenAPI documents |
//! | `proptest` | `proptest::arbitrary::Arbitrary` for derived types: `any::<Id>()` yields valid IDs across the type's whole grammar |
//! | `arbitrary` | `arbitrary::Arbitrary` (arbitrary 1) for derived types: valid IDs from a fuzzer's bytes |
//! | `tracing` | `tracing` events for operators (start-up, leases, reconnects, collisions, clock steps); see [below](#operator-events-and-counters) |
//!
//! # Common traits
//!
//! A value keeps only its body; a derived type's prefix is its constant, written beside
//! the body when the ID is displayed. So any prefix fits any options, a derived type is
//! the size of its body (`HashId` 42 bytes at full depth, `Seq` 19, `HexKey` 33), and the
//! whole text comes from [`TypedId::to_text`], in a stack buffer: a `&str` without
//! allocating, for every kind.
//!
//! Text bodies keep their text inline and lend it for free (`as_str()`, `AsRef<str>`):
//! [`HashId`], [`Seq`], [`HexKey`] and [`InstanceKey`]. Where equality, order and hashing
//! are exactly those of that text, the body is also `Borrow<str>`, so maps and sets
//! keyed by bodies can be searched with a `&str` without parsing it. Derived types
//! compare and hash as their bodies (for hash and hex types, also as their whole text);
//! a map keyed by them is searched with a parsed ID:
//!
//! ```
//! use std::collections::{BTreeSet, HashMap};
//! use typed_id::{HashId, TypedId};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "el")]
//! struct ElementId(HashId);
//!
//! let map = HashMap::from([(ElementId::parse("el-a3f8")?, "title")]);
//! assert_eq!(map.get(&ElementId::parse("el-a3f8")?), Some(&"title"));
//! let bodies = BTreeSet::from([HashId::parse("a3f8.1")?, HashId::parse("a3f8")?]);
//! assert!(bodies.contains("a3f8.1"));
//! let id = ElementId::parse("el-a3f8.1")?;
//! assert_eq!(id.to_text(), "el-a3f8.1");
//! assert!(bodies.contains(id.body().as_str()));
//! # Ok::<(), typed_id::ParseIdError>(())
//! ```
//!
//! | value | `AsRef<str>` | `Borrow<str>` | why not |
//! |---|---|---|---|
//! | [`HashId`], [`HexKey`], [`InstanceKey`] | yes | yes | |
//! | [`Seq`] | yes | no | ordered by number: `999` < `1000`, but `"1000"` < `"999"`; a `Seq` also equals the same number at another width (`042`, `00042`) |
//! | derived types of every kind | no | no | the value keeps its body, not its prefix: there is no whole text to lend (use `to_text()`) |
//! | [`Snowflake`], [`TypeIdUuid`], [`DynTypeId`], [`ProcessInstanceId`] | no | no | numbers, not text: they keep no text to borrow (use `to_string()`) |
//!
//! A legacy prefix is not looked up: `map.get("elem-a3f8")` finds nothing even where
//! `ElementId::parse("elem-a3f8")` succeeds, since the map holds canonical text. Parse
//! first when the key may be in an old form.
//!
//! # serde
//!
//! With `serde`, a derived type serializes as its canonical text (or, for a snowflake
//! type with `serde = "number"`, as a `u64`) and deserializes by parsing, with an error
//! that names the type (`invalid ElementId "El-a3f8": expected prefix "el-" at byte
//! 0`). The values that are not derived types do the same: [`HashId`], [`Seq`],
//! [`HexKey`], [`TypeIdUuid`], [`DynTypeId`], [`InstanceKey`] and [`ProcessInstanceId`]
//! as their text; a bare [`Seq`] is read at the width its text shows and a bare
//! [`HexKey`] at its text's length, since neither carries options of its own; a bare
//! [`Snowflake`] as a decimal string in human-readable formats and a `u64` in binary
//! ones (a number is accepted on input too); [`SnowflakeParts`](generator::SnowflakeParts)
//! as `{"timestamp_ms", "worker", "process", "sequence"}`.
//!
//! ```
//! # #[cfg(feature = "serde")]
//! # fn main() -> Result<(), serde_json::Error> {
//! use typed_id::{InstanceKey, Seq};
//!
//! let key: InstanceKey = serde_json::from_str(r#""odin-PS-8f4a2b""#)?;
//! assert_eq!(serde_json::to_string(&key)?, r#""odin-PS-8f4a2b""#);
//! let n: Seq = serde_json::from_str(r#""00042""#)?;
//! assert_eq!((n.value(), n.as_str()), (42, "00042"));
//! let err = serde_json::from_str::<InstanceKey>(r#""odin-PS-8F4A2B""#).unwrap_err();
//! assert!(err.to_string().starts_with(r#"invalid InstanceKey "odin-PS-8F4A2B""#));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "serde"))]
//! # fn main() {}
//! ```
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
//! # Property tests and fuzzing
//!
//! With `proptest`, every derived type implements `proptest::arbitrary::Arbitrary`, so
//! `any::<ElementId>()` is a strategy of valid IDs; with `arbitrary`, it implements
//! `arbitrary::Arbitrary`, so a cargo-fuzz target can take IDs built from the fuzzer's
//! bytes (every input, the empty one too, gives a valid ID). Both cover the type's whole
//! grammar: every hash length from `min_len` to `max_len` and every depth up to
//! `max_depth`, child and display numbers of every digit count (so display numbers both
//! padded to the width and wider), snowflakes and TypeID UUIDs of every bit length up to
//! the largest. They produce the canonical prefix only, never a legacy one (an ID always
//! displays its canonical prefix). proptest shrinks a failing ID toward the smallest:
//! the shortest hash of `0`s without children, the number 1, the snowflake 0, the nil
//! UUID. These strategies yield valid IDs; to test a parser against hostile text, give
//! it arbitrary strings as well.
//!
//! ```
//! # #[cfg(all(feature = "proptest", feature = "arbitrary"))]
//! # fn main() -> arbitrary::Result<()> {
//! use proptest::prelude::*;
//! use typed_id::{Seq, TypedId};
//!
//! #[derive(TypedId)]
//! #[typed_id(prefix = "WORK", width = 3)]
//! struct WorkItemId(Seq);
//!
//! proptest!(|(id in any::<WorkItemId>())| {
//!     prop_assert!(id.to_text().len() >= "WORK-001".len());
//!     prop_assert_eq!(WorkItemId::parse(&id.to_text()), Ok(id));
//! });
//!
//! let mut fuzz_input = arbitrary::Unstructured::new(&[7, 1, 2, 3]);
//! let id: WorkItemId = arbitrary::Arbitrary::arbitrary(&mut fuzz_input)?;
//! assert!(id.value() >= 1);
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "proptest", feature = "arbitrary")))]
//! # fn main() {}
//! ```
//!
//! # Operator events and counters
//!
//! With the `tracing` feature the crate emits `tracing` events for what an operator
//! wants in the logs; it opens no spans and installs no subscriber. Targets are stable,
//! so a filter can pick one area (`RUST_LOG=typed_id::lease=debug`):
//!
//! | target | level | event (fields) |
//! |---|---|---|
//! | `typed_id::instance` | `INFO` | instance ID detected (`instance_id`, `source`, `from`, `stable`): which source won |
//! | `typed_id::instance` | `WARN` | instance ID accepted with a warning (`warning`, `instance_id`, `environment`) |
//! | `typed_id::instance` | `INFO` | instance started (`instance_id`, `source`, `environment`, `project`, `worker`, `warnings`) |
//! | `typed_id::generator` | `DEBUG` | content-hash collision resolved by a fresh nonce (`id`, `candidates`, `collisions`, `len`, `element_count`) |
//! | `typed_id::generator` | `INFO` | content-hash collisions resolved by growing the length (`chosen_len`, `len`, …) |
//! | `typed_id::generator` | `WARN` | no free content-hash ID: every candidate collided (`prefix`, `candidates`, `max_len`, …) |
//! | `typed_id::generator` | `DEBUG` | snowflake sequence exhausted: waiting for the clock (`worker`, `timestamp_ms`, `wait_ms`) |
//! | `typed_id::generator` | `ERROR` | snowflake sequence exhausted and the clock does not advance |
//! | `typed_id::generator` | `INFO`/`WARN` | clock is behind the newest snowflake (`worker`, `behind_ms`, `tolerance_ms`): absorbed, or refused beyond the tolerance; once per step |
//! | `typed_id::lease` | `INFO` | worker ID leased (`scope`, `worker`, `holder`, `floor_ms`, `period_ms`); lease released (`high_water_ms`, `drained`) |
//! | `typed_id::lease` | `DEBUG`/`WARN` | lease renewed; renewed late (`remaining_ms`: under a quarter of the period left); renewed after it lapsed |
//! | `typed_id::lease` | `WARN`/`ERROR` | renewal failed (`error`); lease lapsed (the generator refuses IDs); lease lost to another holder; heartbeat failed (`failures`, `gives_up`) |
//! | `typed_id::db` | `WARN` | database connection lost: reconnecting (`backend`, `error`, `can_reconnect`) |
//! | `typed_id::db` | `DEBUG`/`INFO`/`ERROR` | reconnect attempt failed (`attempt`); reconnected (`attempts`, `waited_ms`); unreachable, gave up |
//! | `typed_id::db` | `ERROR` | SQLite database file deleted or replaced under the open connection (once) |
//! | `typed_id::store` | `WARN`/`ERROR`/`INFO` | file store: lock file replaced and reopened (`path`); scope data replaced (`path`, `reason`); scope repaired (`scope`, `at`) |
//!
//! Instance IDs in fields are escaped as in [`Detection`](instance::Detection)'s
//! `Display`, so an ID cannot forge or hide log lines. Every event sits on a cold path:
//! generating an ID records nothing.
//!
//! The same counts are readable without the feature, for metrics exporters:
//! [`HashIdGenerator::stats`] ([`HashGeneratorStats`](generator::HashGeneratorStats):
//! collisions, resolved by nonce, length escalations, exhausted),
//! [`SnowflakeGenerator::stats`] ([`SnowflakeStats`](generator::SnowflakeStats):
//! sequence waits, clock steps back, refusals),
//! [`WorkerLease::stats`](instance::WorkerLease::stats) (renewals, late ones, lapses,
//! failures), [`SqlStore::stats`](store::SqlStore::stats) and
//! [`Registry::stats`](instance::Registry::stats) ([`ConnectionStats`](db::ConnectionStats):
//! connections lost, reconnects, failed attempts, give-ups, a file replaced) and
//! [`FileStore::stats`](store::FileStore::stats) (lock files reopened, scopes replaced,
//! repairs).
//!
//! ```
//! use typed_id::generator::{HashIdGenerator, HashInput, MemoryCollisionCheck};
//!
//! let generator = HashIdGenerator::new();
//! let store = MemoryCollisionCheck::new();
//! let input = HashInput::new("Fix the login bug", "alice", 1_735_689_600_123_456_789);
//! generator.generate_body(&input, &store)?;
//! generator.generate_body(&input, &store)?; // the same input: nonce 0 is taken
//! // With `tracing`, the second call also emitted a DEBUG event on typed_id::generator.
//! assert_eq!(generator.stats().collisions, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
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
mod dynamic;
mod error;
mod external;
pub mod generator;
mod id_text;
pub mod instance;
mod pattern;
pub mod store;
mod text;
mod trace;
mod typed;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use body::{
    Ancestors, Body, DynTypeId, HashId, HashSpec, HexKey, HexSpec, InstanceKey, Seq, SeqSpec,
    Snowflake, SnowflakeEncoding, SnowflakeSpec, TypeIdSpec, TypeIdUuid,
};
pub use dynamic::{BodySpec, DynBody, FormatError, IdFormat};
pub use error::{Expected, IdError, ParseErrorKind, ParseIdError, Part, SpecError};
pub use generator::{
    CollisionCheck, GenerateError, HashIdGenerator, HashInput, InstanceKeyGenerator, Layout,
    MemoryCollisionCheck, ProcessInstanceId, SnowflakeGenerator,
};
pub use id_text::IdText;
pub use pattern::Pattern;
pub use store::{ChildCounter, DisplayIdAllocator, StoreError};
pub use typed::TypedId;
pub use typed_id_derive::TypedId;

/// The README's examples, compiled as doctests.
#[cfg(all(doctest, feature = "serde", feature = "sqlite"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
