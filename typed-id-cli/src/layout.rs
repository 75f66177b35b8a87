//! Snowflake layouts from the command line: a preset, or a custom epoch and bit widths.

use typed_id::generator::Layout;

use crate::cli::{LayoutArgs, LayoutName};
use crate::error::CliError;

/// The layout `args` describe.
pub fn layout(args: &LayoutArgs) -> Result<Layout, CliError> {
    let base = match args.layout {
        LayoutName::Default => Layout::DEFAULT,
        LayoutName::Twitter => Layout::TWITTER,
        LayoutName::Discord => Layout::DISCORD,
    };
    if args.epoch_ms.is_none() && args.bits.is_none() {
        return Ok(base);
    }
    let epoch = args.epoch_ms.unwrap_or(base.epoch_ms());
    let (ts, worker, process, seq) = match &args.bits {
        Some(bits) => parse_bits(bits)?,
        None => (
            base.timestamp_bits(),
            base.worker_bits(),
            base.process_bits(),
            base.sequence_bits(),
        ),
    };
    Layout::new(ts, worker, seq, epoch)
        .and_then(|l| l.with_process_bits(process))
        .map_err(|e| CliError::usage(format!("invalid layout: {e}")))
}

/// `41/10/12` (timestamp/worker/sequence) or `42/5/5/12` (…/process/…).
fn parse_bits(text: &str) -> Result<(u8, u8, u8, u8), CliError> {
    let fields: Result<Vec<u8>, _> = text.split(['/', ',']).map(|f| f.trim().parse()).collect();
    let bad = || {
        CliError::usage(format!(
            "invalid --bits {text:?}: write TIMESTAMP/WORKER/SEQUENCE or \
             TIMESTAMP/WORKER/PROCESS/SEQUENCE bit widths, e.g. 41/10/12 or 42/5/5/12"
        ))
    };
    match *fields.map_err(|_| bad())?.as_slice() {
        [ts, worker, seq] => Ok((ts, worker, 0, seq)),
        [ts, worker, process, seq] => Ok((ts, worker, process, seq)),
        _ => Err(bad()),
    }
}
