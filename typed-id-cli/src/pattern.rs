//! `typed-id pattern`: a format's regular expression, as it is, as a PostgreSQL
//! `CHECK` constraint, or as a JSON Schema.

use std::io::Write;
use std::process::ExitCode;

use serde_json::json;

use crate::cli::PatternArgs;
use crate::error::{CliError, Outcome};
use crate::{json_line, stdout};

/// `CHECK (column ~ 'pattern')`, the column quoted when it is not a plain lowercase
/// identifier and the pattern as a standard-conforming string literal.
pub fn check_constraint(column: &str, pattern: &str) -> Result<String, CliError> {
    if column.is_empty() || column.contains('\0') {
        return Err(CliError::usage("--check needs a column name"));
    }
    let plain = column
        .bytes()
        .enumerate()
        .all(|(i, b)| b == b'_' || b.is_ascii_lowercase() || (i > 0 && b.is_ascii_digit()));
    let column = if plain {
        column.to_owned()
    } else {
        format!("\"{}\"", column.replace('"', "\"\""))
    };
    Ok(format!(
        "CHECK ({column} ~ '{}')",
        pattern.replace('\'', "''")
    ))
}

/// `typed-id pattern`.
pub fn run(args: &PatternArgs, json: bool) -> Outcome {
    let format = crate::format::format(&args.format)?;
    let pattern = format.pattern();
    let pattern = pattern.as_str();
    let pcre = format.pcre_pattern();
    let schema = json!({"type": "string", "pattern": pattern});
    let check = args
        .check
        .as_deref()
        .map(|column| check_constraint(column, pattern))
        .transpose()?;
    let mut out = stdout();
    if json {
        let mut doc = json!({
            "name": format.name(),
            "pattern": pattern,
            "pcre_pattern": pcre.as_str(),
            "json_schema": schema,
            "max_len": format.max_len(),
        });
        if let Some(check) = &check {
            doc["check"] = check.as_str().into();
        }
        json_line(&mut out, &doc)?;
    } else if let Some(check) = &check {
        writeln!(out, "{check}")?;
    } else if args.json_schema {
        // Written out, so the keys come in the order people write them.
        out.write_all(b"{\"type\":\"string\",\"pattern\":")?;
        crate::json_string(&mut out, pattern)?;
        out.write_all(b"}\n")?;
    } else if args.pcre {
        writeln!(out, "{}", pcre.as_str())?;
    } else {
        writeln!(out, "{pattern}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
