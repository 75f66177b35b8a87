//! `typed-id validate`: check IDs against a format and print each invalid one with
//! the library's error (type name, byte, what was expected).

use std::io::{self, Write};

use serde_json::json;
use typed_id::{IdFormat, ParseErrorKind, ParseIdError};

use crate::cli::ValidateArgs;
use crate::error::{Outcome, outcome};
use crate::lines::{Line, MAX_LINE, for_each_line};
use crate::{json_line, stdout};

/// A machine-readable name for a parse error's kind.
pub fn kind_name(kind: &ParseErrorKind) -> &'static str {
    match kind {
        ParseErrorKind::Empty => "empty",
        ParseErrorKind::TooLong { .. } => "too_long",
        ParseErrorKind::Prefix { .. } | ParseErrorKind::TypeIdPrefix { .. } => "prefix",
        ParseErrorKind::UnexpectedChar { .. } => "unexpected_char",
        ParseErrorKind::UnexpectedEnd { .. } => "unexpected_end",
        ParseErrorKind::HashLength { .. } => "hash_length",
        ParseErrorKind::TooDeep { .. } => "too_deep",
        ParseErrorKind::ZeroChild => "zero_child",
        ParseErrorKind::LeadingZero => "leading_zero",
        ParseErrorKind::Overflow { .. } => "overflow",
        ParseErrorKind::ZeroNumber => "zero_number",
        ParseErrorKind::TooNarrow { .. } => "too_narrow",
        ParseErrorKind::PartTooLong { .. } => "part_too_long",
        ParseErrorKind::KeyLength { .. } => "key_length",
        ParseErrorKind::SuffixLength { .. } => "suffix_length",
        _ => "other",
    }
}

/// The JSON report of one checked ID.
pub fn report(input: &str, result: &Result<(), ParseIdError>) -> serde_json::Value {
    match result {
        Ok(()) => json!({"input": input, "valid": true}),
        Err(e) => json!({
            "input": input,
            "valid": false,
            "error": {
                "message": e.to_string(),
                "kind": kind_name(&e.kind()),
                "index": e.index(),
                "type_name": e.type_name(),
            }
        }),
    }
}

/// Checks and reports one ID; returns whether it was valid.
fn check(out: &mut impl Write, format: &IdFormat, json: bool, input: &str) -> io::Result<bool> {
    let result = format.parse(input).map(|_| ());
    if json {
        json_line(out, &report(input, &result))?;
    } else if let Err(e) = &result {
        writeln!(out, "{e}")?;
    }
    Ok(result.is_ok())
}

/// A line of standard input that is not text or far too long: invalid, with a reason.
fn unreadable(out: &mut impl Write, json: bool, n: u64, message: &str) -> io::Result<()> {
    if json {
        let doc =
            json!({"line": n, "valid": false, "error": {"message": message, "kind": "unreadable"}});
        json_line(out, &doc)
    } else {
        writeln!(out, "standard input line {n}: {message}")
    }
}

/// `typed-id validate`.
pub fn run(args: &ValidateArgs, json: bool) -> Outcome {
    let format = crate::format::format(&args.format)?;
    let mut out = stdout();
    let (mut checked, mut invalid) = (0u64, 0u64);
    for id in &args.ids {
        if id != "-" {
            checked += 1;
            if !check(&mut out, &format, json, id)? {
                invalid += 1;
            }
            continue;
        }
        for_each_line(io::stdin().lock(), |n, line| {
            match line {
                Line::Bytes(bytes) => match std::str::from_utf8(bytes) {
                    Ok(text) if text.trim().is_empty() => return Ok(()),
                    Ok(text) => {
                        checked += 1;
                        if !check(&mut out, &format, json, text.trim())? {
                            invalid += 1;
                        }
                    }
                    Err(e) => {
                        checked += 1;
                        invalid += 1;
                        let at = e.valid_up_to();
                        unreadable(
                            &mut out,
                            json,
                            n,
                            &format!("not UTF-8 text (invalid byte at {at})"),
                        )?;
                    }
                },
                Line::TooLong(len) => {
                    checked += 1;
                    invalid += 1;
                    let message = format!(
                        "line is {len} bytes long; the longest valid ID is {} (not read; lines over {MAX_LINE} bytes are skipped)",
                        format.max_len()
                    );
                    unreadable(&mut out, json, n, &message)?;
                }
            }
            Ok(())
        })?;
    }
    out.flush()?;
    if invalid > 0 {
        eprintln!("typed-id: {invalid} of {checked} IDs invalid");
    }
    Ok(outcome(invalid))
}
