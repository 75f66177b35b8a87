//! The stdio transport in front of the MCP server: it reads the client's messages,
//! one JSON-RPC message per line, and answers a line that is not JSON at all (or not
//! UTF-8, or absurdly long) with a JSON-RPC parse error (`-32700`, `id: null`), as
//! JSON-RPC 2.0 asks, instead of dropping it silently; well-formed lines go on to the
//! server. Replies from the server and these errors share standard output whole line
//! by whole line.

use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc;

/// Longest message accepted from the client, in bytes.
const MAX_MESSAGE: usize = 8 * 1024 * 1024;

/// What the reader thread found on a line.
enum Incoming {
    /// A JSON value: for the server.
    Message(Vec<u8>),
    /// Not JSON: the parse error to answer with.
    Garbage(String),
}

/// Standard output, shared by the server's replies and the parse errors.
type Output = Arc<Mutex<io::Stdout>>;

fn write_line(out: &Output, line: &[u8]) -> io::Result<()> {
    let out = out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut out = out.lock();
    out.write_all(line)?;
    if !line.ends_with(b"\n") {
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn parse_error(message: &str) -> Vec<u8> {
    let doc = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32700, "message": format!("Parse error: {message}")}
    });
    doc.to_string().into_bytes()
}

/// Reads standard input on a thread of its own (it blocks), one line at a time, in
/// bounded memory.
fn read_stdin(tx: mpsc::Sender<Incoming>) {
    let mut input = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut too_long = 0usize;
        // Read up to the next '\n', keeping at most MAX_MESSAGE bytes.
        let ended = loop {
            let chunk = match input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break true,
            };
            if chunk.is_empty() {
                break true;
            }
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if too_long > 0 || line.len() + take > MAX_MESSAGE {
                too_long += take + line.len();
                line.clear();
            } else {
                line.extend_from_slice(&chunk[..take]);
            }
            input.consume(take);
            if done {
                break false;
            }
        };
        let incoming = if too_long > 0 {
            Some(Incoming::Garbage(format!(
                "message of {too_long} bytes is longer than the {MAX_MESSAGE} accepted"
            )))
        } else {
            let text = line.trim_ascii();
            if text.is_empty() {
                None
            } else {
                match serde_json::from_slice::<serde::de::IgnoredAny>(text) {
                    Ok(_) => Some(Incoming::Message(text.to_vec())),
                    Err(e) => Some(Incoming::Garbage(e.to_string())),
                }
            }
        };
        if let Some(incoming) = incoming
            && tx.blocking_send(incoming).is_err()
        {
            return;
        }
        if ended {
            return;
        }
    }
}

/// Connects the process's standard streams to `server_side`'s peer: spawns the stdin
/// reader and the two copying tasks, and returns when both directions have ended.
pub async fn pump(client_side: DuplexStream) -> io::Result<()> {
    let output: Output = Arc::new(Mutex::new(io::stdout()));
    let (tx, mut rx) = mpsc::channel::<Incoming>(64);
    std::thread::spawn(move || read_stdin(tx));
    let (server_out, mut server_in) = tokio::io::split(client_side);

    let errors = Arc::clone(&output);
    let inbound = tokio::spawn(async move {
        while let Some(incoming) = rx.recv().await {
            match incoming {
                Incoming::Message(mut bytes) => {
                    bytes.push(b'\n');
                    if server_in.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                Incoming::Garbage(message) => write_line(&errors, &parse_error(&message))?,
            }
        }
        // The client closed its side: let the server see the end of its input.
        server_in.shutdown().await.ok();
        Ok::<(), io::Error>(())
    });

    let mut replies = tokio::io::BufReader::new(server_out);
    let mut line = Vec::new();
    loop {
        line.clear();
        if replies.read_until(b'\n', &mut line).await? == 0 {
            break;
        }
        write_line(&output, &line)?;
    }
    inbound.abort();
    Ok(())
}
