//! Everything that touches the instance registry, for both front ends: the
//! `typed-id registry …` commands and the MCP registry tools
//! (`mcp/registry_tools.rs`) call the functions here, which take the tools' inputs and
//! return their outputs as JSON, with the field names the tools publish.
//!
//! Each function is one call of the library's registry: register by project and type
//! (the registry mints the key `{project}-{type}-{hex}`), heartbeat and close by
//! instance ID (whichever process registered it), list with counts, get by full ID,
//! leading prefix or hash, purge by age.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use typed_id::instance::{
    InstanceRecord, ListQuery, NewInstance, Progress, Purge, Registry, RegistryError,
    RegistryOptions,
};

use crate::cli::{RegistryArgs, RegistryCommand};
use crate::display::chain;
use crate::error::{CliError, Outcome, outcome};
use crate::store_url::{self, Location};
use crate::time::iso;
use crate::{json_line, stdout};

/// Seconds in a day, for `purge --older-than-days`.
const DAY_SECS: u64 = 86_400;

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

/// A registry error as a command error. A wrong, unknown, ambiguous, closed or
/// taken-over instance and every invalid input (type, project, hash, context percent,
/// epic) exit 1; database and connection failures — and anything this build does not
/// know — exit 2. The message is the library's, with what to do where it does not
/// say.
pub fn registry_error(e: &RegistryError) -> CliError {
    let text = chain(e);
    match e {
        RegistryError::NotFound { .. } => CliError::invalid(format!(
            "{text}; `typed-id registry list` shows the registered instances"
        )),
        RegistryError::AmbiguousPrefix { .. } => {
            CliError::invalid(format!("{text}; give more of the ID"))
        }
        RegistryError::InvalidContextPercent { .. }
        | RegistryError::InvalidEpic { .. }
        | RegistryError::DuplicateInstance { .. }
        | RegistryError::InvalidInstanceId { .. }
        | RegistryError::AmbiguousHash { .. }
        | RegistryError::InvalidHash { .. }
        | RegistryError::InvalidInstanceType { .. }
        | RegistryError::InstanceTypeNotAllowed { .. }
        | RegistryError::InvalidProject { .. }
        | RegistryError::Closed { .. }
        | RegistryError::Superseded { .. } => CliError::invalid(text),
        RegistryError::Connect { .. } | RegistryError::Database { .. } => CliError::usage(format!(
            "{text}; check that the database is reachable, not locked by another \
                 program, and that --database-url (or TYPED_ID_DATABASE_URL) names it"
        )),
        RegistryError::UnsupportedUrl { .. } => CliError::usage(format!(
            "{text}; give a SQLite path (registry.db, sqlite://path) or a postgres:// URL"
        )),
        _ => CliError::usage(text),
    }
}

/// An instance's state: `active`, `stale` or `closed`.
fn status(record: &InstanceRecord) -> &'static str {
    record.state().as_str()
}

/// One instance as the tools describe it (as of the query that read it).
pub fn record_json(record: &InstanceRecord) -> Value {
    json!({
        "instance_id": record.id,
        "project": record.project,
        "type": record.instance_type,
        "key_hash": record.key_hash,
        "status": status(record),
        "stale": record.stale,
        "created_at": iso(record.created_at_ms),
        "last_heartbeat": iso(record.last_heartbeat_ms),
        "age_seconds": record.heartbeat_age_ms / 1000,
        "closed_at": record.closed_at_ms.map(iso),
        "context_percent": record.context_percent,
        "current_epic": record.current_epic,
        "hostname": record.hostname,
        "pid": record.pid,
    })
}

/// `register_instance`: the registry mints `{project}-{type}-{hex}` and registers it,
/// with the initial context percent if given.
pub fn register(
    registry: &Registry,
    project: &str,
    instance_type: &str,
    initial_context: Option<u8>,
) -> Result<Value, CliError> {
    let mut new = NewInstance::typed(project, instance_type);
    if let Some(percent) = initial_context {
        new = new.context_percent(percent);
    }
    let registration = registry.register(&new).map_err(|e| registry_error(&e))?;
    let record = registry
        .get(registration.id())
        .map_err(|e| registry_error(&e))?;
    Ok(json!({
        "instance_id": record.id,
        "project": record.project,
        "type": record.instance_type,
        "status": status(&record),
        "created_at": iso(record.created_at_ms),
        "context_percent": record.context_percent,
    }))
}

/// `heartbeat`: by instance ID (the full ID), with the context percent and, if given,
/// the current epic (an empty one clears it). `stale` says whether the instance had
/// gone stale before this heartbeat; `message` then says so in words.
pub fn heartbeat(
    registry: &Registry,
    instance_id: &str,
    context_percent: u8,
    current_epic: Option<&str>,
) -> Result<Value, CliError> {
    let mut progress = Progress::new().context_percent(context_percent);
    if let Some(epic) = current_epic {
        progress = progress.current_epic(epic);
    }
    let report = registry
        .heartbeat_by_id(instance_id, &progress)
        .map_err(|e| registry_error(&e))?;
    let mut out = json!({
        "instance_id": report.id,
        "status": report.state.as_str(),
        "last_heartbeat": iso(report.last_heartbeat_ms),
        "age_seconds": report.age_secs,
        "stale": report.was_stale,
        "context_percent": context_percent,
    });
    if let Some(message) = report.message() {
        out["message"] = Value::String(message);
    }
    Ok(out)
}

/// `close_instance`: by instance ID (the full ID); closing a closed instance is not an
/// error (`already_closed` says so).
pub fn close(registry: &Registry, instance_id: &str) -> Result<Value, CliError> {
    let report = registry
        .close_by_id(instance_id)
        .map_err(|e| registry_error(&e))?;
    let record = &report.instance;
    Ok(json!({
        "instance_id": record.id,
        "status": status(record),
        "closed_at": record.closed_at_ms.map(iso),
        "already_closed": report.already_closed,
        "was_stale": report.was_stale,
    }))
}

/// `purge`: deletes instances closed more than `days` ago and stale ones silent for
/// longer than that.
pub fn purge(registry: &Registry, days: u32) -> Result<Value, CliError> {
    let age = Duration::from_secs(u64::from(days) * DAY_SECS);
    let report = registry
        .purge(&Purge::older_than(age))
        .map_err(|e| registry_error(&e))?;
    Ok(json!({
        "purged": report.closed + report.stale,
        "closed": report.closed,
        "stale": report.stale,
        "batches": report.batches,
        "older_than_days": days,
    }))
}

/// `list_instances`: sorted by project, then latest heartbeat; each marked stale or
/// not. `active_only` leaves out closed instances (stale ones stay, marked); the counts
/// cover every state of the project (or of the registry) whatever is listed.
pub fn list(
    registry: &Registry,
    project: Option<&str>,
    active_only: bool,
) -> Result<Value, CliError> {
    let mut query = if active_only {
        ListQuery::active()
    } else {
        ListQuery::all()
    };
    if let Some(project) = project {
        query = query.project(project);
    }
    let list = registry.list_with(&query).map_err(|e| registry_error(&e))?;
    let instances: Vec<Value> = list.instances.iter().map(record_json).collect();
    Ok(json!({
        "instances": instances,
        "total_count": list.counts.total,
        "active_count": list.counts.active,
        "stale_count": list.counts.stale,
        "closed_count": list.counts.closed,
    }))
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup {
    /// Exactly one instance.
    Found(Value),
    /// Several candidates: `{"matches": [...], "more": bool, "message": …}`.
    Ambiguous(Value),
}

/// `get_instance_details`: by full ID, leading prefix, or the hash alone (the
/// library's lookup).
pub fn get(registry: &Registry, id: &str) -> Result<Lookup, CliError> {
    let e = match registry.get(id) {
        Ok(record) => return Ok(Lookup::Found(record_json(&record))),
        Err(e) => e,
    };
    match &e {
        RegistryError::AmbiguousPrefix {
            candidates, more, ..
        }
        | RegistryError::AmbiguousHash {
            candidates, more, ..
        } => Ok(Lookup::Ambiguous(json!({
            "query": id,
            "matches": candidates,
            "more": more,
            "message": registry_error(&e).message(),
        }))),
        _ => Err(registry_error(&e)),
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
        } => {
            let v = heartbeat(&registry, instance_id, *context, epic.as_deref())?;
            if let (false, Some(message)) = (json, v["message"].as_str()) {
                eprintln!("typed-id: warning: {message}");
            }
            v
        }
        RegistryCommand::List {
            project,
            active_only,
        } => list(&registry, project.as_deref(), *active_only)?,
        RegistryCommand::Get { id } => match get(&registry, id)? {
            Lookup::Found(v) => v,
            Lookup::Ambiguous(v) => {
                code = outcome(1);
                if !json {
                    eprintln!("typed-id: {}", v["message"].as_str().unwrap_or_default());
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
                "{} instances: {} active, {} stale, {} closed",
                s("total_count"),
                s("active_count"),
                s("stale_count"),
                s("closed_count")
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
