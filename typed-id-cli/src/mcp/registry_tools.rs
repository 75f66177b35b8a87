//! The registry tools — `register_instance`, `heartbeat`, `list_instances`,
//! `get_instance_details`, `close_instance` — with the reference system's inputs and
//! outputs. They read their arguments and hand them to `registry_cmd`, the one module
//! that talks to the registry.

use std::sync::Mutex;

use serde_json::{Value, json};
use typed_id::instance::Registry;

use super::args::Args;
use crate::registry_cmd::{self, Lookup};

/// The registry tools' names.
pub const NAMES: [&str; 5] = [
    "register_instance",
    "heartbeat",
    "list_instances",
    "get_instance_details",
    "close_instance",
];

/// A key `{project}-{type}-{hex}`, a prefix of one, or its hash.
const ID_PROPERTY: &str = "instance_id";

/// The input schema of registry tool `name`.
pub fn schema(name: &str) -> Value {
    let instance_id = json!({"type": "string", "minLength": 1, "maxLength": 255,
        "description": "The instance ID, e.g. odin-PS-8f4a2b."});
    match name {
        "register_instance" => json!({
            "type": "object",
            "properties": {
                "project": {"type": "string", "minLength": 1, "maxLength": 48,
                            "pattern": "^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$",
                            "description": "The project, e.g. odin or billing-eu: ASCII letters and digits in '-'-separated segments."},
                "instance_type": {"type": "string", "minLength": 1, "maxLength": 16,
                                  "pattern": "^[A-Za-z0-9]+$", "description": "The instance type code, e.g. PS."},
                "initial_context": {"type": "integer", "minimum": 0, "maximum": 100,
                                    "description": "Context window used at start, percent."}
            },
            "required": ["project", "instance_type"],
            "additionalProperties": false
        }),
        "heartbeat" => json!({
            "type": "object",
            "properties": {
                ID_PROPERTY: instance_id,
                "context_percent": {"type": "integer", "minimum": 0, "maximum": 100,
                                    "description": "Context window used now, percent."},
                "current_epic": {"type": "string", "maxLength": 256,
                                 "description": "What the instance works on (no control characters); an empty string clears it."}
            },
            "required": [ID_PROPERTY, "context_percent"],
            "additionalProperties": false
        }),
        "list_instances" => json!({
            "type": "object",
            "properties": {
                "project": {"type": "string", "minLength": 1, "maxLength": 64, "description": "Only this project's instances."},
                "active_only": {"type": "boolean", "default": false, "description": "Leave out closed instances (stale ones stay, marked stale)."}
            },
            "additionalProperties": false
        }),
        "get_instance_details" => json!({
            "type": "object",
            "properties": {
                ID_PROPERTY: {"type": "string", "minLength": 1, "maxLength": 255,
                              "description": "Full ID, a leading prefix, or the hash alone (8f4a2b)."}
            },
            "required": [ID_PROPERTY],
            "additionalProperties": false
        }),
        _ => json!({
            "type": "object",
            "properties": {ID_PROPERTY: instance_id},
            "required": [ID_PROPERTY],
            "additionalProperties": false
        }),
    }
}

/// The description of registry tool `name`.
pub fn description(name: &str) -> &'static str {
    match name {
        "register_instance" => {
            "Register a new instance of a project; mints its ID {project}-{type}-{hex}. \
             Returns instance_id, project, type, status, created_at, context_percent."
        }
        "heartbeat" => {
            "Record that an instance (by its full ID) is alive, with its context use and current \
             epic. Returns instance_id, status, last_heartbeat, age_seconds (since the previous \
             heartbeat), stale (whether it had gone stale before this heartbeat; message then \
             says so), context_percent."
        }
        "list_instances" => {
            "List instances (of one project or all), sorted by project then latest heartbeat, \
             stale ones marked; active_only leaves closed ones out. With total_count, \
             active_count, stale_count and closed_count over every state."
        }
        "get_instance_details" => {
            "One instance by full ID, leading prefix or hash; several candidates come back as \
             matches."
        }
        _ => {
            "Close an instance (by its full ID): it leaves the active list and its ID may be \
             registered again. Returns instance_id, status (closed), closed_at."
        }
    }
}

/// The registry the server was started with, opened at the first registry call.
pub struct RegistrySlot {
    url: Option<String>,
    stale_after: u64,
    opened: Mutex<Option<std::sync::Arc<Registry>>>,
}

impl RegistrySlot {
    /// The registry at `url` (none: the registry tools say how to configure one).
    pub fn new(url: Option<String>, stale_after: u64) -> Self {
        RegistrySlot {
            url,
            stale_after,
            opened: Mutex::new(None),
        }
    }

    fn get(&self) -> Result<std::sync::Arc<Registry>, String> {
        let mut slot = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(registry) = slot.as_ref() {
            return Ok(std::sync::Arc::clone(registry));
        }
        let url = self.url.as_deref().ok_or(
            "no registry configured: start the server with `typed-id mcp --database-url URL` \
             (or set TYPED_ID_DATABASE_URL)",
        )?;
        let registry = std::sync::Arc::new(
            registry_cmd::open(url, self.stale_after, false).map_err(|e| e.to_string())?,
        );
        *slot = Some(std::sync::Arc::clone(&registry));
        Ok(registry)
    }
}

/// Calls registry tool `name`. `Err` is a tool error's message.
pub fn call(
    slot: &RegistrySlot,
    name: &str,
    arguments: &serde_json::Map<String, Value>,
) -> Result<Value, String> {
    // Arguments are checked before the database is touched.
    let err = |e: crate::error::CliError| e.to_string();
    match name {
        "register_instance" => {
            let args = Args::new(arguments, &["project", "instance_type", "initial_context"])?;
            let project = args.string("project")?;
            let kind = args.string("instance_type")?;
            let context = args.opt_int("initial_context", 0, 100)?.map(|n| n as u8);
            registry_cmd::register(&*slot.get()?, project, kind, context).map_err(err)
        }
        "heartbeat" => {
            let args = Args::new(arguments, &[ID_PROPERTY, "context_percent", "current_epic"])?;
            let id = args.string(ID_PROPERTY)?;
            let context = args.int("context_percent", 0, 100)? as u8;
            let epic = args.opt_string("current_epic")?;
            registry_cmd::heartbeat(&*slot.get()?, id, context, epic).map_err(err)
        }
        "list_instances" => {
            let args = Args::new(arguments, &["project", "active_only"])?;
            let project = args.opt_string("project")?;
            let active_only = args.opt_bool("active_only")?.unwrap_or(false);
            registry_cmd::list(&*slot.get()?, project, active_only).map_err(err)
        }
        "get_instance_details" => {
            let args = Args::new(arguments, &[ID_PROPERTY])?;
            let id = args.string(ID_PROPERTY)?;
            match registry_cmd::get(&*slot.get()?, id).map_err(err)? {
                Lookup::Found(record) | Lookup::Ambiguous(record) => Ok(record),
            }
        }
        _ => {
            let args = Args::new(arguments, &[ID_PROPERTY])?;
            let id = args.string(ID_PROPERTY)?;
            registry_cmd::close(&*slot.get()?, id).map_err(err)
        }
    }
}
