//! Lint hygiene of the generated code: derived types in a module that denies
//! `missing_docs`, `unused_qualifications` and all of `clippy::pedantic`. `cargo clippy
//! --all-targets -- -D warnings` in CI fails if the derive ever emits code that trips them.
#![deny(missing_docs, unused_qualifications, unused_results, clippy::pedantic)]

use typed_id::{HashId, HexKey, Seq, Snowflake, TypedId};

/// A hierarchical content-hash ID with a legacy prefix.
#[derive(TypedId)]
#[typed_id(prefix = "el", accept = ["elem"], min_len = 4, max_depth = 3)]
pub struct ElementId(HashId);

/// A flat content-hash ID (no hierarchy helpers).
#[derive(TypedId)]
#[typed_id(prefix = "doc", max_depth = 0)]
pub struct DocumentId(HashId);

/// A display ID.
#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 3)]
pub struct WorkItemId(Seq);

/// A decimal snowflake serialized as a number.
#[derive(TypedId)]
#[typed_id(prefix = "msg", serde = "number")]
pub struct MessageId(Snowflake);

/// A base62 snowflake.
#[derive(TypedId)]
#[typed_id(prefix = "evt", encoding = "base62")]
pub struct EventId(Snowflake);

/// An instance key with a dashed prefix.
#[derive(TypedId)]
#[typed_id(prefix = "odin-PS", len = 6)]
pub struct OdinKey(HexKey);

/// Uses of the generated API, so the lints see it called.
///
/// # Errors
/// When any of the fixed IDs fails to parse.
pub fn exercise() -> Result<String, typed_id::ParseIdError> {
    let element = ElementId::parse("el-a3f8e9.1")?;
    let root = element.root();
    let work = WorkItemId::parse("WORK-042")?;
    let message: MessageId = "msg-42".parse()?;
    let event = EventId::try_from("evt-1BvP7xZ5J1t")?;
    let key = OdinKey::try_from(String::from("odin-PS-8f4a2b"))?;
    let document = DocumentId::parse("doc-abc")?;
    Ok(format!(
        "{element} {root} {work} {message} {event} {key} {document} {} {}",
        work.value(),
        message.as_u64()
    ))
}
