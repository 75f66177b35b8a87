//! A guided tour of typed-id: `cargo run --example tour`.
//!
//! Each section prints what it does; read this file beside the output.

use typed_id::{HashId, Seq, Snowflake, TypedId};

/// Elements of a document tree: `el-a3f8e9`, `el-a3f8e9.1`, `el-a3f8e9.1.2`.
#[derive(TypedId)]
#[typed_id(prefix = "el", accept = ["elem"], max_depth = 3)]
pub struct ElementId(HashId);

/// Work items as people quote them: `WORK-042`.
#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 3)]
pub struct WorkItemId(Seq);

/// Messages, time-ordered, in decimal text.
#[derive(TypedId)]
#[typed_id(prefix = "msg")]
pub struct MessageId(Snowflake);

/// Events, time-ordered, in shorter base62 text.
#[derive(TypedId)]
#[typed_id(prefix = "evt", encoding = "base62")]
pub struct EventId(Snowflake);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    section("1. Parsing at the boundary");
    for input in [
        "el-a3f8e9",
        "el-a3f8e9.1.2",
        "elem-a3f8e9.4",
        "El-a3f8e9",
        "el-A3F8E9",
        "el-a3f8e9.0",
        "el-a3f8e9.01",
        "el-a3f8e9.1.2.3.4",
        "el-a3f8e9.4294967296",
        "el-a3",
        "el-a3f8e9..1",
        "el-a3f8e9.",
        "el-a3f8é9",
    ] {
        match ElementId::parse(input) {
            Ok(id) => println!("  ok    {input:<24} -> {id}"),
            Err(e) => println!("  error {input:<24} -> {e}"),
        }
    }
    let huge = "el-".to_owned() + &"a".repeat(1_000_000);
    println!(
        "  error <1 MB of input>            -> {}",
        ElementId::parse(&huge).unwrap_err()
    );
    println!(
        "  the pattern the parser agrees with:\n    {}",
        ElementId::PATTERN
    );

    section("2. Hierarchy");
    let leaf = ElementId::parse("el-a3f8e9.1.2")?;
    println!("  {leaf}: depth {}, root {}", leaf.depth(), leaf.root());
    for ancestor in leaf.ancestors() {
        println!(
            "    ancestor {ancestor} (is ancestor: {})",
            ancestor.is_ancestor_of(&leaf)
        );
    }
    println!("  child 7 of {leaf}: {}", leaf.child(7)?);
    match leaf.child(7)?.child(1) {
        Ok(id) => println!("  unexpected: {id}"),
        Err(e) => println!("  a fourth level is refused: {e}"),
    }

    section("3. Snowflake text forms");
    let value = 1_767_053_847_123_456_789;
    let message = MessageId::from_u64(value)?;
    let event = EventId::from_u64(value)?;
    println!("  {value} as MessageId: {message}");
    println!("  {value} as EventId:   {event}");
    println!(
        "  round trip: {}",
        EventId::parse(&event.to_string())? == event
    );
    println!("  as BIGINT: {}", message.as_i64());

    section("4. Display numbers");
    for n in [1, 42, 999, 1000] {
        println!("  {n:>5} -> {}", WorkItemId::new(n)?);
    }
    if let Err(e) = WorkItemId::parse("WORK-42") {
        println!("  WORK-42 is refused: {e}");
    }

    section("5. Types keep IDs apart");
    println!(
        "  {} and {} are different types; a function taking an ElementId won't take a WorkItemId",
        <ElementId as TypedId>::NAME,
        <WorkItemId as TypedId>::NAME
    );
    Ok(())
}

fn section(title: &str) {
    println!("\n{title}");
}
