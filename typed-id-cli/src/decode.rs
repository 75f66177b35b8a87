//! `typed-id decode`: snowflakes into their fields, from arguments or a stream.
//!
//! Each ID becomes one line, `key=value` fields (or a JSON object with `--json`), so a
//! stream of IDs decodes into a stream of lines that stays aligned with its input.
//! Invalid lines are reported (on standard error; in the JSON stream too) and decoding
//! goes on; the exit code is 1 if any was invalid.

use std::io::{self, BufRead, Write};

use typed_id::Snowflake;
use typed_id::generator::{Layout, SnowflakeParts};

use crate::cli::DecodeArgs;
use crate::error::{Outcome, outcome};
use crate::lines::{Line, MAX_LINE, for_each_line};
use crate::time::write_iso;
use crate::{json_string, stdout};

/// Decodes snowflake text under a layout.
#[derive(Clone, Copy, Debug)]
pub struct Decoder {
    layout: Layout,
    base62: bool,
}

/// A decoded snowflake.
#[derive(Clone, Copy, Debug)]
pub struct Decoded {
    /// The ID.
    pub id: Snowflake,
    /// Its fields.
    pub parts: SnowflakeParts,
}

impl Decoder {
    /// A decoder for `layout`; `base62` reads every body as base62.
    pub fn new(layout: Layout, base62: bool) -> Self {
        Decoder { layout, base62 }
    }

    /// Decodes `text`: decimal (or base62, if the decoder reads base62), alone or after
    /// a prefix (`msg-…`).
    pub fn decode(&self, text: &str) -> Result<Decoded, String> {
        // A snowflake body has no '-': whatever precedes the last one is a prefix
        // (which may itself contain '-', like `odin-PS`).
        let body = match text.rfind('-') {
            Some(i) if i > 0 => &text[i + 1..],
            _ => text,
        };
        let prefixed = body.len() < text.len();
        let parsed = if self.base62 {
            Snowflake::parse_base62(body)
        } else {
            Snowflake::parse(body)
        };
        let e = match parsed {
            Ok(id) => {
                return Ok(Decoded {
                    id,
                    parts: self.layout.decompose(id),
                });
            }
            Err(e) if prefixed => format!("{text:?}: {e} (the part after the prefix)"),
            Err(e) => e.to_string(),
        };
        // Letters and digits only: probably base62, which has to be asked for (or
        // every word would decode as some snowflake).
        if !self.base62 && !body.is_empty() && body.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Err(format!("{e} (base62? pass --base62)"))
        } else {
            Err(e)
        }
    }
}

/// Writes `d` as one `key=value` line.
pub fn write_text(out: &mut impl Write, d: &Decoded) -> io::Result<()> {
    let p = &d.parts;
    write!(out, "{} time=", d.id.as_u64())?;
    write_iso(out, p.timestamp_ms)?;
    write!(out, " unix_ms={} worker={}", p.timestamp_ms, p.worker)?;
    if let Some(process) = p.process {
        write!(out, " process={process}")?;
    }
    writeln!(
        out,
        " sequence={} hex={:016x} base62={}",
        p.sequence,
        d.id.as_u64(),
        d.id.to_base62()
    )
}

/// Writes `d` as one JSON object on a line; `input` is the text it came from.
pub fn write_json(out: &mut impl Write, input: &str, d: &Decoded) -> io::Result<()> {
    let p = &d.parts;
    out.write_all(b"{\"input\":")?;
    json_string(out, input)?;
    write!(out, ",\"id\":{},\"time\":\"", d.id.as_u64())?;
    write_iso(out, p.timestamp_ms)?;
    write!(
        out,
        "\",\"unix_ms\":{},\"worker\":{}",
        p.timestamp_ms, p.worker
    )?;
    if let Some(process) = p.process {
        write!(out, ",\"process\":{process}")?;
    }
    writeln!(
        out,
        ",\"sequence\":{},\"hex\":\"{:016x}\",\"base62\":\"{}\"}}",
        p.sequence,
        d.id.as_u64(),
        d.id.to_base62()
    )
}

fn write_error_json(
    out: &mut impl Write,
    line: Option<u64>,
    input: &str,
    error: &str,
) -> io::Result<()> {
    out.write_all(b"{")?;
    if let Some(n) = line {
        write!(out, "\"line\":{n},")?;
    }
    out.write_all(b"\"input\":")?;
    json_string(out, input)?;
    out.write_all(b",\"error\":")?;
    json_string(out, error)?;
    out.write_all(b"}\n")
}

/// Counts of a decoded stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamCounts {
    /// IDs decoded.
    pub decoded: u64,
    /// Lines that were not IDs.
    pub invalid: u64,
}

/// Decodes one ID per line of `input` into `out` (buffered by the caller), reporting
/// invalid lines through `report` (line number, message). Blank lines are skipped.
pub fn decode_stream<R: BufRead, W: Write>(
    decoder: &Decoder,
    json: bool,
    input: R,
    out: &mut W,
    report: &mut dyn FnMut(u64, &str),
) -> io::Result<StreamCounts> {
    let mut counts = StreamCounts::default();
    for_each_line(input, |n, line| {
        let text = match line {
            Line::Bytes(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => text.trim(),
                Err(e) => {
                    let message = format!(
                        "not UTF-8 text (invalid byte at {}); IDs are ASCII",
                        e.valid_up_to()
                    );
                    return invalid(&mut counts, json, out, report, n, "", &message);
                }
            },
            Line::TooLong(len) => {
                let message =
                    format!("line is {len} bytes long; an ID is at most {MAX_LINE} (not read)");
                return invalid(&mut counts, json, out, report, n, "", &message);
            }
        };
        if text.is_empty() {
            return Ok(());
        }
        match decoder.decode(text) {
            Ok(d) => {
                counts.decoded += 1;
                if json {
                    write_json(out, text, &d)
                } else {
                    write_text(out, &d)
                }
            }
            Err(message) => invalid(&mut counts, json, out, report, n, text, &message),
        }
    })?;
    Ok(counts)
}

fn invalid<W: Write>(
    counts: &mut StreamCounts,
    json: bool,
    out: &mut W,
    report: &mut dyn FnMut(u64, &str),
    n: u64,
    text: &str,
    message: &str,
) -> io::Result<()> {
    counts.invalid += 1;
    report(n, message);
    if json {
        write_error_json(out, Some(n), text, message)?;
    }
    Ok(())
}

/// `typed-id decode`.
pub fn run(args: &DecodeArgs, json: bool) -> Outcome {
    let decoder = Decoder::new(crate::layout::layout(&args.layout)?, args.base62);
    let mut out = stdout();
    let mut invalid = 0;
    for id in &args.ids {
        if id == "-" {
            let stdin = io::stdin().lock();
            let mut report = |n: u64, message: &str| {
                eprintln!("typed-id: standard input line {n}: {message}");
            };
            let counts = decode_stream(&decoder, json, stdin, &mut out, &mut report)?;
            invalid += counts.invalid;
            continue;
        }
        match decoder.decode(id.trim()) {
            Ok(d) if json => write_json(&mut out, id, &d)?,
            Ok(d) => write_text(&mut out, &d)?,
            Err(message) => {
                invalid += 1;
                eprintln!("typed-id: {message}");
                if json {
                    write_error_json(&mut out, None, id, &message)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(outcome(invalid))
}
