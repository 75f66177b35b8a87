//! The command line: every command, its options and its `--help` (each with an
//! example).

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Decode, generate and validate typed IDs; print their patterns as SQL CHECKs and
/// JSON Schemas; operate the instance registry and display counters; serve all of it
/// to AI agents over MCP.
#[derive(Debug, Parser)]
#[command(name = "typed-id", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 success, 1 an input is invalid, 2 usage or environment error.\n\n\
Examples:\n  typed-id decode 175928847299117063 --layout discord\n  \
typed-id validate --kind hash --prefix el el-a3f8e9 El-a3f8\n  \
typed-id pattern --kind seq --prefix WORK --check id"
)]
pub struct Cli {
    /// Machine-readable output: one JSON document per result (JSON lines for streams).
    #[arg(long, global = true)]
    pub json: bool,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode snowflakes: time (UTC), worker, process, sequence, hex and base62.
    #[command(
        after_help = "Examples:\n  typed-id decode 175928847299117063 --layout discord\n  \
typed-id decode --base62 msg-1BvP7xZ5J1t\n  \
typed-id decode --epoch-ms 1288834974657 --bits 41/10/12 1541815603606036480\n  \
grep -o 'msg-[0-9]*' app.log | typed-id decode - --json"
    )]
    Decode(DecodeArgs),
    /// Generate IDs: snowflakes, content hashes, instance keys, process instance IDs.
    #[command(subcommand)]
    Generate(GenerateCommand),
    /// Check IDs against a format; print each invalid one with the reason (exit 1 if any).
    #[command(
        after_help = "Examples:\n  typed-id validate --kind hash --prefix el --max-depth 3 el-a3f8e9.1 El-a3f8e9\n  \
typed-id validate --kind seq --prefix WORK --width 3 - < ids.txt"
    )]
    Validate(ValidateArgs),
    /// Print a format's regular expression, as a PostgreSQL CHECK or a JSON Schema.
    #[command(
        after_help = "Examples:\n  typed-id pattern --kind hash --prefix el\n  \
typed-id pattern --kind seq --prefix WORK --check id\n  \
typed-id pattern --kind snowflake --prefix msg --encoding base62 --json-schema"
    )]
    Pattern(PatternArgs),
    /// Operate the instance registry in SQLite or PostgreSQL.
    #[command(
        after_help = "Examples:\n  typed-id registry --database-url registry.db register --project odin --type PS\n  \
TYPED_ID_DATABASE_URL=postgres://localhost/ids typed-id registry list --project odin"
    )]
    Registry(RegistryArgs),
    /// Allocate, read and seed display counters (WORK-001, WORK-002, …).
    #[command(
        after_help = "Examples:\n  typed-id display --store ids.db --scope odin --prefix WORK next\n  \
typed-id display --store dir:./counters --scope odin last\n  \
typed-id display --store postgres://localhost/ids --scope odin observe 41"
    )]
    Display(DisplayArgs),
    /// Serve the registry, decode and validate tools to AI agents (MCP over stdio).
    #[command(after_help = "Example (an MCP client's server entry):\n  \
{\"mcpServers\": {\"typed-id\": {\"command\": \"typed-id\", \"args\": [\"mcp\", \"--database-url\", \"/var/lib/ids/registry.db\"]}}}")]
    Mcp(McpArgs),
}

/// A snowflake bit layout: a preset, or a custom epoch and bit widths.
#[derive(Debug, Args, Clone)]
pub struct LayoutArgs {
    /// A preset layout: default (41/10/12 bits from 2024-01-01), twitter, discord.
    #[arg(long, value_enum, default_value_t = LayoutName::Default)]
    pub layout: LayoutName,
    /// A custom epoch, Unix milliseconds (bits default to the preset's).
    #[arg(long, value_name = "MS")]
    pub epoch_ms: Option<u64>,
    /// Custom bit widths: TIMESTAMP/WORKER/SEQUENCE or TIMESTAMP/WORKER/PROCESS/SEQUENCE
    /// (e.g. 41/10/12, 42/5/5/12); the epoch defaults to the preset's.
    #[arg(long, value_name = "BITS")]
    pub bits: Option<String>,
}

/// The layout presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutName {
    /// 41 bits of ms since 2024-01-01T00:00:00Z, 10 worker, 12 sequence.
    Default,
    /// Twitter's: 41/10/12 from 2010-11-04T01:42:54.657Z.
    Twitter,
    /// Discord's: 42 bits from 2015-01-01, 5 worker, 5 process, 12 increment.
    Discord,
}

/// `typed-id decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Snowflakes: decimal (`175928847299117063`), base62, or prefixed (`msg-…`); `-`
    /// reads standard input, one per line.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// Read bodies as base62 instead of decimal.
    #[arg(long)]
    pub base62: bool,
    /// The layout.
    #[command(flatten)]
    pub layout: LayoutArgs,
}

/// `typed-id generate`.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Snowflakes from a worker ID (or one derived from this host and process).
    #[command(
        after_help = "Examples:\n  typed-id generate snowflake --worker 7 --count 3\n  \
typed-id generate snowflake --derived-worker --prefix msg --base62"
    )]
    Snowflake(GenerateSnowflakeArgs),
    /// Content-hash IDs from a title, an author and a time.
    #[command(
        after_help = "Examples:\n  typed-id generate hash --title 'Fix login' --author ada --prefix el\n  \
typed-id generate hash --title T --author A --timestamp-ns 1700000000000000000 --len 6"
    )]
    Hash(GenerateHashArgs),
    /// Instance keys `{project}-{type}-{hex}`.
    #[command(after_help = "Example:\n  typed-id generate key --project odin --type PS")]
    Key(GenerateKeyArgs),
    /// Process instance IDs (readable UTC time, pid, random bits).
    #[command(
        name = "process-id",
        after_help = "Example:\n  typed-id generate process-id --count 2"
    )]
    ProcessId(CountArg),
}

/// How many to generate.
#[derive(Debug, Args)]
pub struct CountArg {
    /// How many IDs to generate.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub count: u64,
}

/// `typed-id generate snowflake`.
#[derive(Debug, Args)]
pub struct GenerateSnowflakeArgs {
    /// The worker ID (unique among live generators of the same IDs).
    #[arg(long, conflicts_with = "derived_worker")]
    pub worker: Option<u32>,
    /// Derive the worker (and process) ID from this host and process: probabilistic.
    #[arg(long)]
    pub derived_worker: bool,
    /// The process ID, for layouts with a process field (Discord's).
    #[arg(long)]
    pub process: Option<u32>,
    /// The layout.
    #[command(flatten)]
    pub layout: LayoutArgs,
    /// Write `PREFIX-…` IDs.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Write base62 instead of decimal.
    #[arg(long)]
    pub base62: bool,
    /// How many.
    #[command(flatten)]
    pub count: CountArg,
}

/// `typed-id generate hash`.
#[derive(Debug, Args)]
pub struct GenerateHashArgs {
    /// The element's title.
    #[arg(long)]
    pub title: String,
    /// Who created it.
    #[arg(long)]
    pub author: String,
    /// Creation time, nanoseconds since the Unix epoch (default: now).
    #[arg(long, value_name = "NS")]
    pub timestamp_ns: Option<u64>,
    /// A fixed hash length, 3..=8 (default: adaptive, from 4).
    #[arg(long, value_parser = clap::value_parser!(u8).range(3..=8))]
    pub len: Option<u8>,
    /// Write `PREFIX-…` IDs.
    #[arg(long)]
    pub prefix: Option<String>,
    /// How many (distinct: later ones use further nonces).
    #[command(flatten)]
    pub count: CountArg,
}

/// `typed-id generate key`.
#[derive(Debug, Args)]
pub struct GenerateKeyArgs {
    /// The project (`odin`).
    #[arg(long)]
    pub project: String,
    /// The instance type code (`PS`).
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: String,
    /// Hex digits, 4..=32.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u8).range(4..=32))]
    pub len: u8,
    /// How many.
    #[command(flatten)]
    pub count: CountArg,
}

/// The body kinds an ID format can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Content hash (`el-a3f8e9.1`).
    Hash,
    /// Snowflake (`msg-1767053847123456789`).
    Snowflake,
    /// Display number (`WORK-042`).
    Seq,
    /// Hex key (`odin-PS-8f4a2b`).
    Hex,
    /// TypeID (`user_01h455vb4pex5vsknk084sn02q`).
    Typeid,
}

/// Snowflake text encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Encoding {
    /// Decimal digits.
    Decimal,
    /// Base62 digits.
    Base62,
}

/// An ID format, as the derive's attribute spells it.
#[derive(Debug, Args)]
pub struct FormatArgs {
    /// The body kind.
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// The canonical prefix (`el`, `WORK`, `odin-PS`, `user`).
    #[arg(long)]
    pub prefix: String,
    /// A legacy prefix still accepted (repeatable).
    #[arg(long, value_name = "PREFIX")]
    pub accept: Vec<String>,
    /// The type name used in messages (default: the body's, e.g. HashId).
    #[arg(long)]
    pub name: Option<String>,
    /// hash: shortest hash, 3..=8 (default 3).
    #[arg(long)]
    pub min_len: Option<u8>,
    /// hash: longest hash, min-len..=8 (default 8).
    #[arg(long)]
    pub max_len: Option<u8>,
    /// hash: deepest child path, 0..=3 (default 3).
    #[arg(long)]
    pub max_depth: Option<u8>,
    /// seq: minimum digits, 1..=18 (default 3).
    #[arg(long)]
    pub width: Option<u8>,
    /// snowflake: decimal or base62 (default decimal).
    #[arg(long, value_enum)]
    pub encoding: Option<Encoding>,
    /// hex: number of hex digits, 4..=32 (default 6).
    #[arg(long)]
    pub len: Option<u8>,
}

/// `typed-id validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The format.
    #[command(flatten)]
    pub format: FormatArgs,
    /// IDs to check; `-` reads standard input, one per line.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
}

/// `typed-id pattern`.
#[derive(Debug, Args)]
pub struct PatternArgs {
    /// The format.
    #[command(flatten)]
    pub format: FormatArgs,
    /// Print a PostgreSQL `CHECK (COLUMN ~ '…')` constraint.
    #[arg(long, value_name = "COLUMN")]
    pub check: Option<String>,
    /// Print a JSON Schema: {"type":"string","pattern":…}.
    #[arg(long, conflicts_with = "check")]
    pub json_schema: bool,
    /// Print the pattern for PCRE-family engines (Python, PCRE, Java, .NET).
    #[arg(long, conflicts_with_all = ["check", "json_schema"])]
    pub pcre: bool,
}

/// `typed-id registry`.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// The registry: a SQLite path (`registry.db`, `sqlite://path`) or a PostgreSQL URL.
    #[arg(long, env = "TYPED_ID_DATABASE_URL", value_name = "URL")]
    pub database_url: String,
    /// Seconds without a heartbeat after which an instance is stale.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub stale_after: u64,
    /// The operation.
    #[command(subcommand)]
    pub command: RegistryCommand,
}

/// The registry operations.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Register an instance, minting its key `{project}-{type}-{hex}`.
    #[command(
        after_help = "Example:\n  typed-id registry --database-url registry.db register --project odin --type PS --context 10"
    )]
    Register {
        /// The project.
        #[arg(long)]
        project: String,
        /// The instance type code (`PS`, `MS`, …).
        #[arg(long = "type", value_name = "TYPE")]
        instance_type: String,
        /// Initial context use, percent.
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
        context: Option<u8>,
    },
    /// Record a heartbeat with the context use and the current epic.
    #[command(
        after_help = "Example:\n  typed-id registry --database-url registry.db heartbeat odin-PS-8f4a2b --context 40 --epic auth"
    )]
    Heartbeat {
        /// The instance ID.
        instance_id: String,
        /// Context use, percent.
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
        context: u8,
        /// The epic being worked on.
        #[arg(long)]
        epic: Option<String>,
    },
    /// List instances with counts, stale ones marked.
    #[command(
        after_help = "Example:\n  typed-id registry --database-url registry.db list --project odin"
    )]
    List {
        /// Only this project's.
        #[arg(long)]
        project: Option<String>,
        /// Leave out closed instances (stale ones stay, marked stale).
        #[arg(long)]
        active_only: bool,
    },
    /// Show one instance, by full ID, leading prefix or hash.
    #[command(
        after_help = "Examples:\n  typed-id registry --database-url registry.db get odin-PS-8f4a2b\n  \
typed-id registry --database-url registry.db get 8f4a2b"
    )]
    Get {
        /// Full ID, a leading prefix, or the hash alone.
        id: String,
    },
    /// Close an instance.
    #[command(
        after_help = "Example:\n  typed-id registry --database-url registry.db close odin-PS-8f4a2b"
    )]
    Close {
        /// The instance ID.
        instance_id: String,
    },
    /// Delete closed and stale instances older than N days.
    #[command(
        after_help = "Example:\n  typed-id registry --database-url registry.db purge --older-than-days 30"
    )]
    Purge {
        /// Age in days.
        #[arg(long, value_name = "DAYS")]
        older_than_days: u32,
    },
}

/// `typed-id display`.
#[derive(Debug, Args)]
pub struct DisplayArgs {
    /// The store: `sqlite://path` or a `.db` path, `postgres://…`, `dir:PATH` or an
    /// existing directory.
    #[arg(long, value_name = "STORE")]
    pub store: String,
    /// The counter's scope (`odin`, `odin/WORK`).
    #[arg(long)]
    pub scope: String,
    /// Print `PREFIX-NNN` IDs instead of numbers.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Minimum digits of printed IDs, 1..=18.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=18))]
    pub width: u8,
    /// The operation.
    #[command(subcommand)]
    pub command: DisplayCommand,
}

/// The counter operations.
#[derive(Debug, Subcommand)]
pub enum DisplayCommand {
    /// Allocate the next number(s).
    #[command(
        after_help = "Example:\n  typed-id display --store ids.db --scope odin --prefix WORK next --count 2"
    )]
    Next {
        /// How many consecutive numbers.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        count: u64,
    },
    /// Print the last number allocated (0: none); never creates the store.
    #[command(after_help = "Example:\n  typed-id display --store ids.db --scope odin last")]
    Last,
    /// Record that NUMBER is in use, so later numbers are above it.
    #[command(after_help = "Example:\n  typed-id display --store ids.db --scope odin observe 41")]
    Observe {
        /// The number in use.
        number: u64,
    },
}

/// `typed-id mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// The registry for the registry tools: a SQLite path or a PostgreSQL URL (without
    /// one, only decode_snowflake and validate_id work).
    #[arg(long, env = "TYPED_ID_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Seconds without a heartbeat after which an instance is stale.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub stale_after: u64,
}
