//! `typed-id display`: allocate, read and seed display counters in SQLite,
//! PostgreSQL or a folder.

use std::io::Write;
use std::process::ExitCode;

use serde_json::json;
use typed_id::store::{DisplayIdAllocator, FileStore, PgStore, SqliteStore, StoreError};
use typed_id::{BodySpec, IdFormat, Seq, SeqSpec};

use crate::cli::{DisplayArgs, DisplayCommand};
use crate::error::{CliError, Outcome};
use crate::store_url::{self, Location};
use crate::{json_line, stdout};

/// An open counter store.
enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
    Dir(FileStore),
}

impl Store {
    fn open(location: &Location) -> Result<Store, CliError> {
        let opened = match location {
            Location::Sqlite { url, .. } => SqliteStore::open(url).map(Store::Sqlite),
            Location::Postgres(url) => PgStore::open(url).map(Store::Postgres),
            Location::Dir(dir) => FileStore::open(dir).map(Store::Dir),
        };
        opened.map_err(|e| CliError::usage(format!("cannot open the store: {}", chain(&e))))
    }

    fn allocator(&self) -> &dyn DisplayIdAllocator {
        match self {
            Store::Sqlite(s) => s,
            Store::Postgres(s) => s,
            Store::Dir(s) => s,
        }
    }

    fn observe(&self, scope: &str, n: u64) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.observe_display_number(scope, n),
            Store::Postgres(s) => s.observe_display_number(scope, n),
            // A folder's counter is raised by a repair, which keeps the highest of the
            // number given and what the files record.
            Store::Dir(s) => s.repair(scope, n).map(drop),
        }
    }
}

/// An error with its sources, for a message that says what the driver said.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

fn store_error(e: &StoreError) -> CliError {
    match e {
        StoreError::InvalidScope { .. } | StoreError::Exhausted { .. } | StoreError::Id(_) => {
            CliError::invalid(chain(e))
        }
        _ => CliError::usage(chain(e)),
    }
}

/// `typed-id display`.
pub fn run(args: &DisplayArgs, json: bool) -> Outcome {
    let location = store_url::store(&args.store)?;
    let spec = SeqSpec::new(args.width).map_err(|e| CliError::usage(e.to_string()))?;
    if let Some(prefix) = &args.prefix {
        IdFormat::new(
            "prefix",
            crate::format::intern(prefix)?,
            &[],
            BodySpec::Seq(spec),
        )
        .map_err(|e| CliError::usage(e.to_string()))?;
    }
    if matches!(args.command, DisplayCommand::Last) {
        store_url::require_existing(&location)?;
    }
    let store = Store::open(&location)?;
    let scope = args.scope.as_str();
    let render = |n: u64| -> Result<Option<String>, CliError> {
        match (&args.prefix, n) {
            (Some(prefix), 1..) => {
                let seq = Seq::with_spec(n, &spec).map_err(|e| CliError::invalid(e.to_string()))?;
                Ok(Some(format!("{prefix}-{}", seq.as_str())))
            }
            _ => Ok(None),
        }
    };
    let mut out = stdout();
    let print = |n: u64, out: &mut dyn Write| -> Result<(), CliError> {
        let id = render(n)?;
        if json {
            json_line(out, &json!({"scope": scope, "number": n, "id": id}))?;
        } else {
            match id {
                Some(id) => writeln!(out, "{id}")?,
                None => writeln!(out, "{n}")?,
            }
        }
        Ok(())
    };
    match &args.command {
        DisplayCommand::Next { count } => {
            let block = store
                .allocator()
                .allocate_block(scope, *count)
                .map_err(|e| store_error(&e))?;
            for n in block {
                print(n, &mut out)?;
            }
        }
        DisplayCommand::Last => {
            let n = store.allocator().last(scope).map_err(|e| store_error(&e))?;
            print(n, &mut out)?;
        }
        DisplayCommand::Observe { number } => {
            store.observe(scope, *number).map_err(|e| store_error(&e))?;
            let last = store.allocator().last(scope).map_err(|e| store_error(&e))?;
            if json {
                json_line(
                    &mut out,
                    &json!({"scope": scope, "observed": number, "last": last}),
                )?;
            } else {
                writeln!(
                    out,
                    "observed {number} in {scope}; the next number is above {last}"
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
