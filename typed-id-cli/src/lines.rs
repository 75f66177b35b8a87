//! Reading IDs one per line from a stream, in bounded memory: a line longer than any
//! ID is skipped (its length reported) without being kept, so a 10 MB line or a binary
//! file costs no more than a short one. Lines inside the reader's buffer are handed
//! out without copying.

use std::io::{self, BufRead};

/// Longest line kept, in bytes; longer ones are reported as [`Line::TooLong`]. Every
/// ID is far shorter (a hierarchical hash ID with a long prefix is under 100 bytes).
pub const MAX_LINE: usize = 4096;

/// One line of input, without its line break (`\n` or `\r\n`).
#[derive(Debug)]
pub enum Line<'a> {
    /// The line's bytes (not necessarily UTF-8).
    Bytes(&'a [u8]),
    /// A line longer than [`MAX_LINE`]: its length in bytes.
    TooLong(usize),
}

/// Calls `f(number, line)` for every line of `input`, numbered from 1. A final line
/// without a line break counts; an empty input has no lines.
pub fn for_each_line<R, F>(mut input: R, mut f: F) -> io::Result<()>
where
    R: BufRead,
    F: FnMut(u64, Line<'_>) -> io::Result<()>,
{
    let mut number = 0u64;
    // A line split across reads is gathered here; `skipped` counts a long line's bytes.
    let mut pending: Vec<u8> = Vec::new();
    let mut skipped: Option<usize> = None;
    loop {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            if let Some(len) = skipped {
                number += 1;
                f(number, Line::TooLong(len))?;
            } else if !pending.is_empty() {
                number += 1;
                f(number, Line::Bytes(trim_cr(&pending)))?;
            }
            return Ok(());
        }
        let (used, complete) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, Some(i)),
            None => (chunk.len(), None),
        };
        let part = &chunk[..complete.unwrap_or(used)];
        if let Some(len) = skipped.as_mut() {
            *len += part.len();
        } else if pending.len() + part.len() > MAX_LINE {
            skipped = Some(pending.len() + part.len());
            pending.clear();
        } else if complete.is_some() && pending.is_empty() {
            // The whole line is in the buffer: no copy.
            number += 1;
            f(number, Line::Bytes(trim_cr(part)))?;
            input.consume(used);
            continue;
        } else {
            pending.extend_from_slice(part);
        }
        if complete.is_some() {
            number += 1;
            match skipped.take() {
                Some(len) => f(number, Line::TooLong(len))?,
                None => f(number, Line::Bytes(trim_cr(&pending)))?,
            }
            pending.clear();
        }
        input.consume(used);
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], buffer: usize) -> Vec<String> {
        let reader = io::BufReader::with_capacity(buffer, input);
        let mut out = Vec::new();
        for_each_line(reader, |n, line| {
            out.push(match line {
                Line::Bytes(b) => format!("{n}:{}", String::from_utf8_lossy(b)),
                Line::TooLong(len) => format!("{n}:too long {len}"),
            });
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn splits_lines_whatever_the_buffer_size() {
        let long = "x".repeat(MAX_LINE + 1);
        let input = format!("a\r\nbb\n\n{long}\nccc");
        for buffer in [1, 2, 3, 7, 64, 8192] {
            assert_eq!(
                collect(input.as_bytes(), buffer),
                [
                    "1:a",
                    "2:bb",
                    "3:",
                    &format!("4:too long {}", MAX_LINE + 1),
                    "5:ccc"
                ],
                "buffer {buffer}"
            );
        }
        assert!(collect(b"", 16).is_empty());
        assert_eq!(collect(&[b'y'; MAX_LINE + 5], 100), ["1:too long 4101"]);
        assert_eq!(collect(&[b'y'; MAX_LINE], 100).len(), 1);
    }
}
