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
//! # Canonical form only
//!
//! Each ID has exactly one text. Parsers reject uppercase base36, `+` signs, leading
//! zeros in child numbers and snowflake decimals, display numbers padded beyond their
//! width, and input longer than the longest valid ID (before scanning it).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
pub mod codec;
pub mod generator;
pub mod instance;
mod error;
mod external;
mod pattern;
pub mod store;
mod text;
mod typed;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use body::{
    Ancestors, Body, HashId, HashSpec, HexKey, HexSpec, InstanceKey, Seq, SeqSpec, Snowflake,
    SnowflakeEncoding, SnowflakeSpec,
};
pub use error::{Expected, IdError, ParseErrorKind, ParseIdError};
pub use generator::{
    CollisionCheck, GenerateError, HashIdGenerator, HashInput, InstanceKeyGenerator, Layout,
    MemoryCollisionCheck, ProcessInstanceId, SnowflakeGenerator,
};
pub use pattern::Pattern;
pub use store::{ChildCounter, DisplayIdAllocator, StoreError};
pub use typed::TypedId;
pub use typed_id_derive::TypedId;
