//! Everything that touches the instance registry, for both front ends: the
//! `typed-id registry …` commands and the MCP registry tools
//! (`mcp/registry_tools.rs`) call the functions here, which take the tools' inputs and
//! return their outputs as JSON, with the field names the tools publish.
//!
//! Written against the library's registry as it is in this build: register (minting
//! the key `{project}-{type}-{hex}`), list and get by full ID or leading prefix. The
//! calls this build's registry cannot make — a heartbeat or a close by instance ID
//! (it keeps those for the `Registration` of the process that registered), context
//! percent and epic on the row, purge — return a "not available in this build" error
//! (exit 2), and a lookup by hash alone is answered from the active instances.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use typed_id::InstanceKey;
use typed_id::generator::InstanceKeyGenerator;
use typed_id::instance::{InstanceRecord, NewInstance, Registry, RegistryError, RegistryOptions};

use crate::cli::{RegistryArgs, RegistryCommand};
use crate::display::chain;
use crate::error::{CliError, Outcome, outcome};
use crate::store_url::{self, Location};
use crate::time::iso;
use crate::{json_line, stdout};

/// Opens the registry at `url`; `read_only` commands refuse a SQLite file that does
/// not exist instead of creating it.
pub fn open(url: &str, stale_after_secs: u64, read_only: bool) -> Result<Registry, CliError> {
    let location = store_url::database(url)?;
    if read_only {
        store_url::require_existing(&location)?;
    }
    let url = match &location {
        Location::Sqlite { url, .. } | Location::Postgres(url) => url.as_str(),
        Location::Dir(_) => {
            return Err(CliError::usage("a registry needs a database, not a folder"));
        }
    };
    let options = RegistryOptions::new().stale_after(Duration::from_secs(stale_after_secs));
    Registry::open_with(url, options)
        .map_err(|e| CliError::usage(format!("cannot open the registry: {}", chain(&e))))
}

/// A registry error as a command error: a wrong or unknown instance is an invalid
/// input, anything else (connection, database) an environment error.
pub fn registry_error(e: &RegistryError) -> CliError {
    match e {
        RegistryError::NotFound { .. }
        | RegistryError::DuplicateInstance { .. }
        | RegistryError::InvalidInstanceId { .. }
        | RegistryError::Closed { .. }
        | RegistryError::Superseded { .. } => CliError::invalid(chain(e)),
        _ => CliError::usage(chain(e)),
    }
}

/// The error for an operation this build's registry cannot perform.
fn unavailable(what: &str) -> CliError {
    CliError::usage(format!(
        "{what} is not available in this build: the typed-id registry here has no \
         {what} by instance ID yet"
    ))
}

fn status(record: &InstanceRecord) -> &'static str {
    if record.closed_at_ms.is_some() {
        "closed"
    } else if record.stale {
        "stale"
    } else {
        "active"
    }
}

/// One instance as the tools describe it.
pub fn record_json(record: &InstanceRecord, now_ms: u64) -> Value {
    let kind = InstanceKey::parse(&record.id)
        .ok()
        .map(|k| k.kind().to_owned());
    json!({
        "instance_id": record.id,
        "project": record.project,
        "type": kind,
        "status": status(record),
        "stale": record.stale,
        "created_at": iso(record.created_at_ms),
        "last_heartbeat": iso(record.last_heartbeat_ms),
        "age_seconds": now_ms.saturating_sub(record.last_heartbeat_ms) / 1000,
        "closed_at": record.closed_at_ms.map(iso),
        // Not recorded by this build's registry.
        "context_percent": Value::Null,
        "current_epic": Value::Null,
        "hostname": record.hostname,
        "pid": record.pid,
    })
}

/// `register_instance`: mints `{project}-{type}-{hex}` and registers it.
pub fn register(
    registry: &Registry,
    project: &str,
    instance_type: &str,
    initial_context: Option<u8>,
) -> Result<Value, CliError> {
    check_percent(initial_context)?;
    let key = InstanceKeyGenerator::new()
        .generate(project, instance_type)
        .map_err(|e| CliError::invalid(format!("cannot make an instance key: {e}")))?;
    let registration = registry
        .register(&NewInstance::new(key.as_str(), project))
        .map_err(|e| registry_error(&e))?;
    let record = registry
        .get(registration.id())
        .map_err(|e| registry_error(&e))?;
    Ok(json!({
        "instance_id": key.as_str(),
        "project": project,
        "type": instance_type,
        "status": status(&record),
        "created_at": iso(record.created_at_ms),
        // Reported back; this build's registry has no column for it yet.
        "context_percent": initial_context.unwrap_or(0),
    }))
}

fn check_percent(percent: Option<u8>) -> Result<(), CliError> {
    match percent {
        Some(p) if p > 100 => Err(CliError::invalid(format!(
            "context percent {p} is outside 0..=100"
        ))),
        _ => Ok(()),
    }
}

/// `heartbeat`: by instance ID, with the context percent and the current epic.
pub fn heartbeat(
    _registry: &Registry,
    _instance_id: &str,
    context_percent: u8,
    _current_epic: Option<&str>,
) -> Result<Value, CliError> {
    check_percent(Some(context_percent))?;
    Err(unavailable("heartbeat"))
}

/// `close_instance`: by instance ID.
pub fn close(_registry: &Registry, _instance_id: &str) -> Result<Value, CliError> {
    Err(unavailable("close"))
}

/// `purge`: deletes closed and stale instances older than `days`.
pub fn purge(_registry: &Registry, _days: u32) -> Result<Value, CliError> {
    Err(unavailable("purge"))
}

/// `list_instances`: sorted by project, then latest heartbeat; stale ones marked.
pub fn list(
    registry: &Registry,
    project: Option<&str>,
    active_only: bool,
) -> Result<Value, CliError> {
    let records = registry.list(project).map_err(|e| registry_error(&e))?;
    let now = registry.now_ms();
    let stale = records.iter().filter(|r| r.stale).count();
    // This build lists open (not closed) instances; `active_only` leaves out the
    // stale ones too.
    let shown: Vec<Value> = records
        .iter()
        .filter(|r| !(active_only && r.stale))
        .map(|r| record_json(r, now))
        .collect();
    Ok(json!({
        "instances": shown,
        "total_count": records.len(),
        "active_count": records.len() - stale,
        "stale_count": stale,
    }))
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup {
    /// Exactly one instance.
    Found(Value),
    /// Several candidates: `{"matches": [...], "more": bool}`.
    Ambiguous(Value),
}

/// `get_instance_details`: by full ID, leading prefix, or the hash alone.
pub fn get(registry: &Registry, id: &str) -> Result<Lookup, CliError> {
    let now = registry.now_ms();
    match registry.get(id) {
        Ok(record) => Ok(Lookup::Found(record_json(&record, now))),
        Err(RegistryError::AmbiguousPrefix {
            candidates, more, ..
        }) => Ok(Lookup::Ambiguous(
            json!({"matches": candidates, "more": more}),
        )),
        Err(RegistryError::NotFound { .. }) if is_hash(id) => by_hash(registry, id, now),
        Err(e) => Err(registry_error(&e)),
    }
}

fn is_hash(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The active instances whose key's hash is `hash`.
fn by_hash(registry: &Registry, hash: &str, now: u64) -> Result<Lookup, CliError> {
    let records = registry.list(None).map_err(|e| registry_error(&e))?;
    let hash = hash.to_ascii_lowercase();
    let mut found: Vec<&InstanceRecord> = records
        .iter()
        .filter(|r| InstanceKey::parse(&r.id).is_ok_and(|k| k.hex() == hash))
        .collect();
    match found.len() {
        0 => Err(CliError::invalid(format!(
            "no instance has the ID, prefix or hash {hash:?}"
        ))),
        1 => Ok(Lookup::Found(record_json(found.remove(0), now))),
        _ => {
            let ids: Vec<&str> = found.iter().map(|r| r.id.as_str()).collect();
            Ok(Lookup::Ambiguous(json!({"matches": ids, "more": false})))
        }
    }
}

/// `typed-id registry …`.
pub fn run(args: &RegistryArgs, json: bool) -> Outcome {
    let read_only = matches!(
        args.command,
        RegistryCommand::List { .. } | RegistryCommand::Get { .. }
    );
    let registry = open(&args.database_url, args.stale_after, read_only)?;
    let mut out = stdout();
    let mut code = ExitCode::SUCCESS;
    let value = match &args.command {
        RegistryCommand::Register {
            project,
            instance_type,
            context,
        } => register(&registry, project, instance_type, *context)?,
        RegistryCommand::Heartbeat {
            instance_id,
            context,
            epic,
        } => heartbeat(&registry, instance_id, *context, epic.as_deref())?,
        RegistryCommand::List {
            project,
            active_only,
        } => list(&registry, project.as_deref(), *active_only)?,
        RegistryCommand::Get { id } => match get(&registry, id)? {
            Lookup::Found(v) => v,
            Lookup::Ambiguous(v) => {
                code = outcome(1);
                if !json {
                    eprintln!("typed-id: {id:?} matches several instances; give more of the ID");
                }
                v
            }
        },
        RegistryCommand::Close { instance_id } => close(&registry, instance_id)?,
        RegistryCommand::Purge { older_than_days } => purge(&registry, *older_than_days)?,
    };
    if json {
        json_line(&mut out, &value)?;
    } else {
        write_text(&mut out, &args.command, &value)?;
    }
    out.flush()?;
    Ok(code)
}

/// The human-readable form of a result.
fn write_text(out: &mut impl Write, command: &RegistryCommand, v: &Value) -> std::io::Result<()> {
    let s = |key: &str| match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    match command {
        RegistryCommand::List { .. } => {
            for i in v["instances"].as_array().into_iter().flatten() {
                let field = |key: &str| match &i[key] {
                    Value::String(s) => s.clone(),
                    Value::Null => "-".to_owned(),
                    other => other.to_string(),
                };
                writeln!(
                    out,
                    "{}  {}  {}  last heartbeat {} ({} s ago)  context {}%  epic {}",
                    field("instance_id"),
                    field("project"),
                    field("status"),
                    field("last_heartbeat"),
                    field("age_seconds"),
                    field("context_percent"),
                    field("current_epic"),
                )?;
            }
            writeln!(
                out,
                "{} instances: {} active, {} stale",
                s("total_count"),
                s("active_count"),
                s("stale_count")
            )
        }
        _ if v.get("matches").is_some() => {
            for m in v["matches"].as_array().into_iter().flatten() {
                writeln!(out, "{}", m.as_str().unwrap_or_default())?;
            }
            Ok(())
        }
        _ => {
            if let Some(fields) = v.as_object() {
                for (k, value) in fields {
                    let text = match value {
                        Value::String(s) => s.clone(),
                        Value::Null => "-".to_owned(),
                        other => other.to_string(),
                    };
                    writeln!(out, "{k}: {text}")?;
                }
            }
            Ok(())
        }
    }
}
