//! `typed-id generate`: snowflakes, content hashes, instance keys, process instance
//! IDs, one per line (a JSON object per line with `--json`).

use std::io::Write;
use std::process::ExitCode;

use serde_json::json;
use typed_id::generator::{HashIdGenerator, HashInput, InstanceKeyGenerator, SnowflakeGenerator};
use typed_id::{
    BodySpec, GenerateError, HashSpec, IdFormat, MemoryCollisionCheck, ProcessInstanceId,
    SnowflakeSpec,
};

use crate::cli::{GenerateCommand, GenerateHashArgs, GenerateKeyArgs, GenerateSnowflakeArgs};
use crate::error::{CliError, Outcome};
use crate::{json_line, stdout};

/// `typed-id generate …`.
pub fn run(cmd: &GenerateCommand, json: bool) -> Outcome {
    let mut out = stdout();
    let mut emit = |id: &str, extra: Option<serde_json::Value>| -> std::io::Result<()> {
        if json {
            let mut doc = json!({"id": id});
            if let Some(serde_json::Value::Object(fields)) = extra {
                for (k, v) in fields {
                    doc[k] = v;
                }
            }
            json_line(&mut out, &doc)
        } else {
            writeln!(out, "{id}")
        }
    };
    match cmd {
        GenerateCommand::Snowflake(args) => snowflakes(args, &mut emit)?,
        GenerateCommand::Hash(args) => hashes(args, &mut emit)?,
        GenerateCommand::Key(args) => keys(args, &mut emit)?,
        GenerateCommand::ProcessId(count) => {
            for _ in 0..count.count {
                let id = ProcessInstanceId::generate().map_err(environment)?;
                emit(&id.to_string(), None)?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

type Emit<'a> = dyn FnMut(&str, Option<serde_json::Value>) -> std::io::Result<()> + 'a;

/// A prefix must be one a derived type could have.
fn checked_prefix(prefix: Option<&str>, spec: BodySpec) -> Result<Option<String>, CliError> {
    let Some(prefix) = prefix else {
        return Ok(None);
    };
    IdFormat::new("prefix", crate::format::intern(prefix)?, &[], spec)
        .map_err(|e| CliError::usage(e.to_string()))?;
    Ok(Some(prefix.to_owned()))
}

fn with_prefix(prefix: Option<&str>, body: &str) -> String {
    match prefix {
        Some(p) => format!("{p}-{body}"),
        None => body.to_owned(),
    }
}

fn environment(e: GenerateError) -> CliError {
    CliError::usage(format!("cannot generate: {e}"))
}

fn snowflakes(args: &GenerateSnowflakeArgs, emit: &mut Emit<'_>) -> Result<(), CliError> {
    let spec = if args.base62 {
        SnowflakeSpec::BASE62
    } else {
        SnowflakeSpec::DECIMAL
    };
    let prefix = checked_prefix(args.prefix.as_deref(), BodySpec::Snowflake(spec))?;
    let layout = crate::layout::layout(&args.layout)?;
    let mut builder = SnowflakeGenerator::builder().layout(layout);
    builder = if args.derived_worker {
        builder.derived_worker()
    } else {
        builder.worker(args.worker.unwrap_or(0))
    };
    if let Some(process) = args.process {
        builder = builder.process(process);
    }
    let generator = builder.build().map_err(|e| match e {
        GenerateError::WorkerOutOfRange { .. } | GenerateError::ProcessOutOfRange { .. } => {
            CliError::usage(e.to_string())
        }
        e => environment(e),
    })?;
    for _ in 0..args.count.count {
        let id = generator.next_snowflake().map_err(environment)?;
        let body = if args.base62 {
            id.to_base62().to_string()
        } else {
            id.as_u64().to_string()
        };
        let parts = generator.decompose(id);
        let extra = json!({
            "value": id.as_u64(),
            "unix_ms": parts.timestamp_ms,
            "worker": parts.worker,
            "sequence": parts.sequence,
        });
        emit(&with_prefix(prefix.as_deref(), &body), Some(extra))?;
    }
    Ok(())
}

fn hashes(args: &GenerateHashArgs, emit: &mut Emit<'_>) -> Result<(), CliError> {
    let prefix = checked_prefix(args.prefix.as_deref(), BodySpec::Hash(HashSpec::DEFAULT))?;
    let generator = match args.len {
        Some(len) => HashIdGenerator::builder()
            .min_len(len)
            .max_len(len)
            .build()
            .map_err(|e| CliError::usage(e.to_string()))?,
        None => HashIdGenerator::new(),
    };
    let input = match args.timestamp_ns {
        Some(ns) => HashInput::new(&args.title, &args.author, ns),
        None => HashInput::now(&args.title, &args.author),
    };
    // Several IDs from one input are told apart by the collision check: each one
    // generated is taken, so the next goes on to the following nonce.
    let taken = MemoryCollisionCheck::new();
    for _ in 0..args.count.count {
        let id = generator
            .generate_body(&input, &taken)
            .map_err(|e| CliError::usage(format!("cannot generate: {e}")))?;
        let extra = json!({"hash": id.as_str(), "timestamp_ns": input.timestamp_ns});
        emit(&with_prefix(prefix.as_deref(), id.as_str()), Some(extra))?;
    }
    Ok(())
}

fn keys(args: &GenerateKeyArgs, emit: &mut Emit<'_>) -> Result<(), CliError> {
    let generator =
        InstanceKeyGenerator::with_hex_len(args.len).map_err(|e| CliError::usage(e.to_string()))?;
    for _ in 0..args.count.count {
        let key = generator
            .generate(&args.project, &args.kind)
            .map_err(|e| match e {
                GenerateError::Key(e) => CliError::invalid(e.to_string()),
                e => environment(e),
            })?;
        let extra = json!({"project": key.project(), "type": key.kind(), "hash": key.hex()});
        emit(key.as_str(), Some(extra))?;
    }
    Ok(())
}
