//! ID formats from the command line (`--kind hash --prefix el --max-depth 3`), built
//! as the library's run-time [`IdFormat`], so `validate` and `pattern` agree with a
//! type derived with the same attribute.

use std::collections::BTreeSet;
use std::sync::Mutex;

use typed_id::{
    BodySpec, HashSpec, HexSpec, IdFormat, SeqSpec, SnowflakeEncoding, SnowflakeSpec, TypeIdSpec,
};

use crate::cli::{Encoding, FormatArgs, Kind};
use crate::error::CliError;

/// The format `args` describe. Its strings are interned for the life of the process,
/// as a derived type's are (see [`intern`]).
pub fn format(args: &FormatArgs) -> Result<IdFormat, CliError> {
    check_options(args)?;
    let spec = match args.kind {
        Kind::Hash => BodySpec::Hash(
            HashSpec::new(
                args.min_len.unwrap_or(3),
                args.max_len.unwrap_or(8),
                args.max_depth.unwrap_or(3),
            )
            .map_err(|e| CliError::usage(e.to_string()))?,
        ),
        Kind::Snowflake => BodySpec::Snowflake(SnowflakeSpec::new(match args.encoding {
            Some(Encoding::Base62) => SnowflakeEncoding::Base62,
            _ => SnowflakeEncoding::Decimal,
        })),
        Kind::Seq => BodySpec::Seq(
            SeqSpec::new(args.width.unwrap_or(3)).map_err(|e| CliError::usage(e.to_string()))?,
        ),
        Kind::Hex => BodySpec::Hex(
            HexSpec::new(args.len.unwrap_or(6)).map_err(|e| CliError::usage(e.to_string()))?,
        ),
        Kind::Typeid => BodySpec::TypeId(TypeIdSpec::DEFAULT),
    };
    let name = match &args.name {
        Some(name) => intern(name)?,
        None => spec.body_name(),
    };
    let accept = args
        .accept
        .iter()
        .map(|a| intern(a))
        .collect::<Result<Vec<_>, _>>()?;
    let accept: &'static [&'static str] = if accept.is_empty() {
        &[]
    } else {
        intern_list(accept)?
    };
    IdFormat::new(name, intern(&args.prefix)?, accept, spec)
        .map_err(|e| CliError::usage(e.to_string()))
}

/// Most distinct strings (names, prefixes) and prefix lists one process keeps.
const INTERN_MAX: usize = 4096;

static STRINGS: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
static LISTS: Mutex<BTreeSet<&'static [&'static str]>> = Mutex::new(BTreeSet::new());

/// `s` for the rest of the process: parse errors keep names and prefixes without
/// allocating, so a format's strings are `'static`. Interned, so a long-running MCP
/// server that validates against the same formats over and over keeps one copy, and
/// bounded, so one that is sent ever new prefixes stops before memory runs out.
pub fn intern(s: &str) -> Result<&'static str, CliError> {
    let mut set = STRINGS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(&kept) = set.get(s) {
        return Ok(kept);
    }
    if set.len() >= INTERN_MAX {
        return Err(CliError::usage(format!(
            "this process has seen {INTERN_MAX} different names and prefixes; restart it"
        )));
    }
    let kept: &'static str = Box::leak(s.to_owned().into_boxed_str());
    set.insert(kept);
    Ok(kept)
}

fn intern_list(list: Vec<&'static str>) -> Result<&'static [&'static str], CliError> {
    let mut set = LISTS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(&kept) = set.get(list.as_slice()) {
        return Ok(kept);
    }
    if set.len() >= INTERN_MAX {
        return Err(CliError::usage(format!(
            "this process has seen {INTERN_MAX} different prefix lists; restart it"
        )));
    }
    let kept: &'static [&'static str] = list.leak();
    set.insert(kept);
    Ok(kept)
}

/// Options that do not belong to the kind are a mistake worth pointing out, not
/// something to ignore.
fn check_options(args: &FormatArgs) -> Result<(), CliError> {
    let given = [
        ("--min-len", args.min_len.is_some(), Kind::Hash),
        ("--max-len", args.max_len.is_some(), Kind::Hash),
        ("--max-depth", args.max_depth.is_some(), Kind::Hash),
        ("--width", args.width.is_some(), Kind::Seq),
        ("--encoding", args.encoding.is_some(), Kind::Snowflake),
        ("--len", args.len.is_some(), Kind::Hex),
    ];
    for (flag, present, kind) in given {
        if present && args.kind != kind {
            let kind = clap::ValueEnum::to_possible_value(&kind)
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default();
            return Err(CliError::usage(format!(
                "{flag} applies to --kind {kind} only"
            )));
        }
    }
    Ok(())
}
