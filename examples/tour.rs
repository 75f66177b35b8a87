//! A guided tour of typed-id: `cargo run --example tour`.
//!
//! Each section prints what it does; read this file beside the output.

use std::path::PathBuf;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use typed_id::generator::{
    HashIdGenerator, HashInput, InstanceKeyGenerator, Layout, MemoryCollisionCheck,
    ProcessInstanceId, SnowflakeGenerator,
};
use typed_id::instance::{Environment, StartConfig};
use typed_id::store::{ChildCounter, DisplayIdAllocator, IdColumn, SqliteStore};
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

    generation()?;
    let db = persistence()?;
    instances(&db)?;

    section("9. Types keep IDs apart");
    println!(
        "  {} and {} are different types; a function taking an ElementId won't take a WorkItemId",
        <ElementId as TypedId>::NAME,
        <WorkItemId as TypedId>::NAME
    );
    Ok(())
}

fn generation() -> Result<(), Box<dyn std::error::Error>> {
    section("5. Generating IDs");
    // A worker ID derived from host, pid, MAC and start-up time: no coordination, but
    // only probabilistically unique (section 8 leases one instead).
    let snowflakes = SnowflakeGenerator::builder().derived_worker().build()?;
    let first = MessageId::generate(&snowflakes)?;
    let second = MessageId::generate(&snowflakes)?;
    let parts = snowflakes.decompose(second.body());
    println!("  snowflakes {first} < {second}: {}", first < second);
    println!(
        "  {second} = {} ms since the Unix epoch, worker {}, sequence {}",
        parts.timestamp_ms, parts.worker, parts.sequence
    );
    let discord = Layout::DISCORD.decompose(Snowflake::new(175_928_847_299_117_063)?);
    println!(
        "  Discord's example 175928847299117063: {} ms, worker {}, process {:?}, increment {}",
        discord.timestamp_ms, discord.worker, discord.process, discord.sequence
    );

    // Content hashes: SHA-256 of title|author|time|nonce, length adapted to the number
    // of elements so far, checked for collisions.
    let hashes = HashIdGenerator::new();
    let taken = MemoryCollisionCheck::new();
    for title in [
        "Fix the login bug",
        "Write the release notes",
        "Fix the login bug",
    ] {
        // `generate` claims the ID in the check, so the next one cannot repeat it.
        let id = ElementId::generate(&hashes, &HashInput::now(title, "alice"), &taken)?;
        println!("  {title:<26} -> {id}");
    }

    println!("  this process: {}", ProcessInstanceId::current());
    println!(
        "  an instance key: {}",
        InstanceKeyGenerator::new().generate("odin", "PS")?
    );
    Ok(())
}

fn persistence() -> Result<PathBuf, Box<dyn std::error::Error>> {
    section("6. Persisting on embedded SQLite");
    let dir = std::env::temp_dir().join("typed-id-tour");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("tour.db");
    let url = db.to_str().ok_or("temporary directory is not UTF-8")?;
    let store = SqliteStore::open(url)?; // creates the file, applies migrations
    println!("  database: {url}");
    store.write(|conn| {
        conn.batch_execute(
            "CREATE TABLE IF NOT EXISTS elements (id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL)",
        )
    })?;

    let generator = HashIdGenerator::new();
    let column = IdColumn::new("elements", "id")?;
    let input = HashInput::now("Plan the tour", "tour");
    let root: ElementId =
        store.insert_unique(&generator, &input, &column, |conn, id: ElementId| {
            diesel::sql_query("INSERT INTO elements (id, title) VALUES (?, ?)")
                .bind::<diesel::sql_types::Text, _>(id)
                .bind::<diesel::sql_types::Text, _>(input.title)
                .execute(conn)
                .map(drop)
        })?;
    println!("  inserted {root} (the UNIQUE constraint has the last word)");
    let child = store.next_child(&root)?;
    let grandchild = store.next_child(&child)?;
    println!("  children from the per-parent counter: {child}, {grandchild}");

    section("7. Display IDs from the store");
    let work: WorkItemId = store.next_id("tour")?;
    println!("  next WORK number (persists across runs): {work}");
    Ok(db)
}

fn instances(db: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    section("8. Running many instances");
    let url = db.to_str().ok_or("temporary directory is not UTF-8")?;
    let instance = typed_id::instance::start(
        StartConfig::new("tour", url).default_environment(Environment::Development),
    )?;
    println!(
        "  instance {} (detected from {}), leased worker {}",
        instance.id(),
        instance.source(),
        instance.worker_id()
    );
    for warning in instance.warnings() {
        println!("  warning: {warning}");
    }
    let ids = instance.generator();
    let message = MessageId::generate(&ids)?;
    println!(
        "  {message} from worker {}",
        ids.decompose(message.body()).worker
    );
    instance.shutdown()?;
    println!("  shut down: heartbeat stopped, worker ID released");
    println!(
        "\n  The same from a shell (cargo install --path typed-id-cli):\n    \
         typed-id decode {} --layout default\n    \
         typed-id pattern --kind hash --prefix el --check id\n    \
         typed-id registry --database-url {url} list\n    \
         typed-id mcp --database-url {url}   (the registry as tools for AI agents)",
        message.body().as_u64()
    );
    Ok(())
}

fn section(title: &str) {
    println!("\n{title}");
}
