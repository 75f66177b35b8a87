//! The `typed-id` command: decode snowflakes, generate and validate IDs, print
//! patterns as SQL `CHECK`s and JSON Schemas, operate the instance registry and the
//! display counters, and serve the registry and ID tools to AI agents over MCP.
//!
//! The binary's `main` calls [`run`]; the library exists so benches can drive the
//! streaming decoder ([`decode::decode_stream`]) without a process in between.
#![deny(missing_docs)]

mod cli;
pub mod decode;
mod display;
mod error;
mod format;
mod generate;
mod layout;
mod lines;
mod mcp;
mod pattern;
mod registry_cmd;
mod store_url;
mod time;
mod validate;

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::CliError;

/// Runs the command line in `std::env::args` and returns the exit code: 0 success,
/// 1 an input was invalid, 2 usage or environment error.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let result = match &cli.command {
        Command::Decode(args) => decode::run(args, json),
        Command::Generate(cmd) => generate::run(cmd, json),
        Command::Validate(args) => validate::run(args, json),
        Command::Pattern(args) => pattern::run(args, json),
        Command::Registry(args) => registry_cmd::run(args, json),
        Command::Display(args) => display::run(args, json),
        Command::Mcp(args) => mcp::run(args),
    };
    match result {
        Ok(code) => code,
        Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("typed-id: error: {e}");
            if json {
                let doc = serde_json::json!({"error": e.message(), "kind": e.kind()});
                let _ = writeln!(io::stdout(), "{doc}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Standard output, locked and buffered (64 KiB): results are written in bulk.
pub(crate) fn stdout() -> BufWriter<io::StdoutLock<'static>> {
    BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

/// Writes `s` as a JSON string literal.
pub(crate) fn json_string(out: &mut impl Write, s: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *out, s).map_err(io::Error::other)
}

/// Writes `value` as one line of JSON.
pub(crate) fn json_line(
    out: &mut (impl Write + ?Sized),
    value: &serde_json::Value,
) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::other)?;
    out.write_all(b"\n")
}
