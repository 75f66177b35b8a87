//! The ID tools: `decode_snowflake` and `validate_id`, with their input schemas.

use serde_json::{Value, json};

use super::args::{ArgError, Args};
use crate::cli::{Encoding, FormatArgs, Kind, LayoutArgs, LayoutName};
use crate::decode::Decoder;

/// `decode_snowflake`'s input schema.
pub fn decode_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 256,
                   "description": "The snowflake: decimal, base62, or prefixed (msg-…)."},
            "layout": {"type": "string", "enum": ["default", "twitter", "discord"], "default": "default",
                       "description": "default: 41/10/12 bits from 2024-01-01; twitter; discord: 42/5/5/12 from 2015-01-01."},
            "epoch_ms": {"type": "integer", "minimum": 0, "maximum": 9_007_199_254_740_991_u64,
                         "description": "A custom epoch, Unix milliseconds."},
            "bits": {"type": "string", "pattern": "^[0-9]{1,2}/[0-9]{1,2}(/[0-9]{1,2}){1,2}$",
                     "description": "Custom bit widths TIMESTAMP/WORKER/SEQUENCE or TIMESTAMP/WORKER/PROCESS/SEQUENCE, e.g. 42/5/5/12."},
            "base62": {"type": "boolean", "default": false, "description": "Read the body as base62."}
        },
        "required": ["id"],
        "additionalProperties": false
    })
}

/// `decode_snowflake`.
pub fn decode(arguments: &serde_json::Map<String, Value>) -> Result<Value, ArgError> {
    let args = Args::new(arguments, &["id", "layout", "epoch_ms", "bits", "base62"])?;
    let id = args.string("id")?;
    let layout = match args.opt_choice("layout", &["default", "twitter", "discord"])? {
        Some("twitter") => LayoutName::Twitter,
        Some("discord") => LayoutName::Discord,
        _ => LayoutName::Default,
    };
    let layout_args = LayoutArgs {
        layout,
        epoch_ms: args.opt_int("epoch_ms", 0, 9_007_199_254_740_991)?,
        bits: args.opt_string("bits")?.map(str::to_owned),
    };
    let layout = crate::layout::layout(&layout_args).map_err(|e| e.to_string())?;
    let base62 = args.opt_bool("base62")?.unwrap_or(false);
    let decoded = Decoder::new(layout, base62).decode(id.trim())?;
    let mut line = Vec::new();
    crate::decode::write_json(&mut line, id, &decoded).map_err(|e| e.to_string())?;
    serde_json::from_slice(&line).map_err(|e| e.to_string())
}

const KINDS: [&str; 5] = ["hash", "snowflake", "seq", "hex", "typeid"];
const PREFIX_PATTERN: &str = "^[A-Za-z0-9_]+(-[A-Za-z0-9_]+)*$";

/// `validate_id`'s input schema.
pub fn validate_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": {"type": "string", "maxLength": 4096, "description": "The ID to check."},
            "kind": {"type": "string", "enum": KINDS, "description": "The body kind."},
            "prefix": {"type": "string", "minLength": 1, "maxLength": 63, "pattern": PREFIX_PATTERN,
                       "description": "The canonical prefix (el, WORK, odin-PS; TypeIDs: lowercase letters and _)."},
            "accept": {"type": "array", "items": {"type": "string", "pattern": PREFIX_PATTERN},
                       "description": "Legacy prefixes also accepted."},
            "name": {"type": "string", "minLength": 1, "maxLength": 64, "description": "Type name for messages."},
            "min_len": {"type": "integer", "minimum": 3, "maximum": 8, "description": "hash: shortest hash (default 3)."},
            "max_len": {"type": "integer", "minimum": 3, "maximum": 8, "description": "hash: longest hash (default 8)."},
            "max_depth": {"type": "integer", "minimum": 0, "maximum": 3, "description": "hash: deepest child path (default 3)."},
            "width": {"type": "integer", "minimum": 1, "maximum": 18, "description": "seq: minimum digits (default 3)."},
            "encoding": {"type": "string", "enum": ["decimal", "base62"], "description": "snowflake: text encoding (default decimal)."},
            "len": {"type": "integer", "minimum": 4, "maximum": 32, "description": "hex: number of hex digits (default 6)."}
        },
        "required": ["id", "kind", "prefix"],
        "additionalProperties": false
    })
}

/// `validate_id`: `{"valid": true, …}` or `{"valid": false, "error": {…}}` (an
/// invalid ID is an answer, not a failed call).
pub fn validate(arguments: &serde_json::Map<String, Value>) -> Result<Value, ArgError> {
    let args = Args::new(
        arguments,
        &[
            "id",
            "kind",
            "prefix",
            "accept",
            "name",
            "min_len",
            "max_len",
            "max_depth",
            "width",
            "encoding",
            "len",
        ],
    )?;
    let id = match args.get_raw("id") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(format!("`id` must be a string; got {other}")),
        None => return Err("missing required argument `id` (a string)".to_owned()),
    };
    let kind = match args.opt_choice("kind", &KINDS)? {
        Some("hash") => Kind::Hash,
        Some("snowflake") => Kind::Snowflake,
        Some("seq") => Kind::Seq,
        Some("hex") => Kind::Hex,
        Some(_) => Kind::Typeid,
        None => {
            return Err(format!(
                "missing required argument `kind` (one of {})",
                KINDS.join(", ")
            ));
        }
    };
    let small = |name: &str, min: u64, max: u64| -> Result<Option<u8>, ArgError> {
        Ok(args.opt_int(name, min, max)?.map(|n| n as u8))
    };
    let format_args = FormatArgs {
        kind,
        prefix: args.string("prefix")?.to_owned(),
        accept: args.opt_strings("accept")?,
        name: args.opt_string("name")?.map(str::to_owned),
        min_len: small("min_len", 3, 8)?,
        max_len: small("max_len", 3, 8)?,
        max_depth: small("max_depth", 0, 3)?,
        width: small("width", 1, 18)?,
        encoding: match args.opt_choice("encoding", &["decimal", "base62"])? {
            Some("base62") => Some(Encoding::Base62),
            Some(_) => Some(Encoding::Decimal),
            None => None,
        },
        len: small("len", 4, 32)?,
    };
    let format = crate::format::format(&format_args).map_err(|e| e.to_string())?;
    let result = format.parse(id).map(|_| ());
    let mut report = crate::validate::report(id, &result);
    report["pattern"] = format.pattern().as_str().into();
    Ok(report)
}
