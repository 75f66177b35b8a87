//! `typed-id mcp` as a real process, spoken to over its standard streams the way an
//! MCP client does: handshake, `tools/list`, tool calls, and bad input of every kind,
//! after each of which the server must still answer.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    next_id: u64,
}

impl Client {
    fn start(database_url: Option<&str>) -> Client {
        let mut args = vec!["mcp"];
        if let Some(url) = database_url {
            args.extend_from_slice(&["--database-url", url]);
        }
        let mut child = common::command(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn typed-id mcp");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut client = Client {
            child,
            stdin,
            lines,
            next_id: 1,
        };
        let init = client.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "test", "version": "1"}}),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "typed-id", "{init}");
        assert!(
            init["result"]["capabilities"]["tools"].is_object(),
            "{init}"
        );
        client.send_raw(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        client
    }

    fn send_raw(&mut self, line: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    fn receive(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the server answers within 30 s");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"))
    }

    /// Sends a request and returns the response with its ID.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_raw(msg.to_string().as_bytes());
        loop {
            let reply = self.receive();
            if reply["id"] == id {
                return reply;
            }
        }
    }

    /// Calls a tool: `Ok(structured result)` or `Err(tool error text)`.
    fn call(&mut self, name: &str, arguments: Value) -> Result<Value, String> {
        let reply = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        let result = &reply["result"];
        assert!(result.is_object(), "{reply}");
        if result["isError"] == true {
            Err(result["content"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned())
        } else {
            Ok(result["structuredContent"].clone())
        }
    }

    /// Closes standard input; the server must exit 0.
    fn finish(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn lists_seven_tools_with_schemas() {
    let mut client = Client::start(None);
    let reply = client.request("tools/list", json!({}));
    let tools = reply["result"]["tools"].as_array().expect("tools");
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "close_instance",
            "decode_snowflake",
            "get_instance_details",
            "heartbeat",
            "list_instances",
            "register_instance",
            "validate_id"
        ]
    );
    for tool in tools {
        let schema = &tool["inputSchema"];
        assert_eq!(schema["type"], "object", "{tool}");
        assert!(schema["properties"].is_object(), "{tool}");
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 20),
            "{tool}"
        );
    }
    let by_name = |n: &str| tools.iter().find(|t| t["name"] == n).unwrap();
    let heartbeat = &by_name("heartbeat")["inputSchema"];
    assert_eq!(heartbeat["properties"]["context_percent"]["minimum"], 0);
    assert_eq!(heartbeat["properties"]["context_percent"]["maximum"], 100);
    assert_eq!(
        heartbeat["required"],
        json!(["instance_id", "context_percent"])
    );
    let register = &by_name("register_instance")["inputSchema"];
    assert_eq!(register["properties"]["initial_context"]["maximum"], 100);
    assert!(register["properties"]["project"]["pattern"].is_string());
    client.finish();
}

#[test]
fn decode_and_validate_tools() {
    let mut client = Client::start(None);
    let decoded = client
        .call(
            "decode_snowflake",
            json!({"id": "175928847299117063", "layout": "discord"}),
        )
        .unwrap();
    assert_eq!(decoded["time"], "2016-04-30T11:18:25.796Z");
    assert_eq!(
        (
            decoded["worker"].as_u64(),
            decoded["process"].as_u64(),
            decoded["sequence"].as_u64()
        ),
        (Some(1), Some(0), Some(7))
    );
    let custom = client
        .call(
            "decode_snowflake",
            json!({"id": "175928847299117063", "epoch_ms": 1420070400000_u64, "bits": "42/5/5/12"}),
        )
        .unwrap();
    assert_eq!(custom["time"], decoded["time"]);

    let valid = client
        .call(
            "validate_id",
            json!({"id": "el-a3f8.1", "kind": "hash", "prefix": "el"}),
        )
        .unwrap();
    assert_eq!(valid["valid"], true);
    let invalid = client
        .call(
            "validate_id",
            json!({"id": "el-a3f8.0", "kind": "hash", "prefix": "el", "name": "ElementId"}),
        )
        .unwrap();
    assert_eq!(invalid["valid"], false);
    assert_eq!(invalid["error"]["kind"], "zero_child");
    assert_eq!(invalid["error"]["index"], 8);
    assert_eq!(
        invalid["error"]["message"],
        r#"invalid ElementId "el-a3f8.0": child number must be positive at byte 8"#
    );
    let empty = client
        .call(
            "validate_id",
            json!({"id": "", "kind": "seq", "prefix": "WORK"}),
        )
        .unwrap();
    assert_eq!(empty["error"]["kind"], "empty");
    client.finish();
}

#[test]
fn bad_input_gets_errors_and_the_server_keeps_serving() {
    let mut client = Client::start(None);
    let still_serving = |client: &mut Client| {
        let d = client
            .call("decode_snowflake", json!({"id": "1"}))
            .expect("still serving");
        assert_eq!(d["id"], 1);
    };

    // Not JSON at all: a JSON-RPC parse error.
    client.send_raw(b"{this is not json");
    let reply = client.receive();
    assert_eq!(reply["error"]["code"], -32700, "{reply}");
    assert_eq!(reply["id"], Value::Null);
    still_serving(&mut client);
    // Not UTF-8.
    client.send_raw(b"\xff\xfe{\"jsonrpc\":\"2.0\"}");
    assert_eq!(client.receive()["error"]["code"], -32700);
    still_serving(&mut client);
    // A 10 MB line.
    let mut huge = vec![b'['; 10 * 1024 * 1024];
    huge.push(b']');
    client.send_raw(&huge);
    let reply = client.receive();
    assert_eq!(reply["error"]["code"], -32700);
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("longer than"),
        "{reply}"
    );
    still_serving(&mut client);

    // An unknown tool: a protocol error naming the tools.
    let reply = client.request(
        "tools/call",
        json!({"name": "drop_tables", "arguments": {}}),
    );
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown tool `drop_tables`"),
        "{reply}"
    );
    still_serving(&mut client);

    // Arguments out of range, of the wrong type, missing or unknown: tool errors.
    for (tool, args, says) in [
        (
            "heartbeat",
            json!({"instance_id": "odin-PS-8f4a2b", "context_percent": 101}),
            "`context_percent` must be an integer from 0 to 100; got 101",
        ),
        (
            "heartbeat",
            json!({"instance_id": "odin-PS-8f4a2b", "context_percent": -1}),
            "from 0 to 100",
        ),
        (
            "heartbeat",
            json!({"instance_id": "odin-PS-8f4a2b"}),
            "missing required argument `context_percent`",
        ),
        (
            "register_instance",
            json!({"project": "odin", "instance_type": "PS", "initial_context": 250}),
            "`initial_context` must be an integer from 0 to 100",
        ),
        (
            "register_instance",
            json!({"project": 7, "instance_type": "PS"}),
            "`project` must be a string",
        ),
        (
            "decode_snowflake",
            json!({"id": "1", "layout": "mars"}),
            "`layout` must be one of default, twitter, discord",
        ),
        (
            "decode_snowflake",
            json!({"id": "1", "bits": "99/99/99"}),
            "invalid layout",
        ),
        (
            "decode_snowflake",
            json!({"id": "abc"}),
            "invalid Snowflake",
        ),
        (
            "decode_snowflake",
            json!({"id": "1", "colour": "red"}),
            "unknown argument `colour`",
        ),
        (
            "validate_id",
            json!({"id": "x", "kind": "hash", "prefix": "e l"}),
            "invalid prefix",
        ),
        (
            "validate_id",
            json!({"id": "x", "kind": "hash", "prefix": "el", "max_depth": 4}),
            "`max_depth` must be an integer from 0 to 3",
        ),
        (
            "validate_id",
            json!({"id": "x", "kind": "seq", "prefix": "W", "len": 6}),
            "--len applies to --kind hex only",
        ),
        // No registry configured for this server.
        ("list_instances", json!({}), "no registry configured"),
    ] {
        let err = client
            .call(tool, args.clone())
            .expect_err(&format!("{tool} {args}"));
        assert!(err.contains(says), "{tool} {args}: {err}");
        still_serving(&mut client);
    }
    client.finish();
}

/// register → list (counts) → get by hash, on SQLite and PostgreSQL.
fn registry_round_trip(url: &str) {
    let mut client = Client::start(Some(url));
    let reg = client
        .call(
            "register_instance",
            json!({"project": "odin", "instance_type": "PS", "initial_context": 5}),
        )
        .unwrap();
    let id = reg["instance_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("odin-PS-"), "{reg}");
    for key in ["project", "type", "status", "created_at", "context_percent"] {
        assert!(!reg[key].is_null(), "{key} in {reg}");
    }
    assert_eq!(reg["context_percent"], 5);
    let other = client
        .call(
            "register_instance",
            json!({"project": "asgard", "instance_type": "MS"}),
        )
        .unwrap();

    let list = client.call("list_instances", json!({})).unwrap();
    assert_eq!(
        (
            list["total_count"].as_u64(),
            list["active_count"].as_u64(),
            list["stale_count"].as_u64()
        ),
        (Some(2), Some(2), Some(0))
    );
    let projects: Vec<&str> = list["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["project"].as_str().unwrap())
        .collect();
    assert_eq!(projects, ["asgard", "odin"], "sorted by project");
    assert!(
        list["instances"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["stale"] == false)
    );
    let odin = client
        .call("list_instances", json!({"project": "odin"}))
        .unwrap();
    assert_eq!(odin["total_count"], 1);

    let hash = id.rsplit('-').next().unwrap();
    let got = client
        .call("get_instance_details", json!({"instance_id": hash}))
        .unwrap();
    assert_eq!(got["instance_id"], id.as_str());
    assert_eq!(got["type"], "PS");
    let both = client
        .call("get_instance_details", json!({"instance_id": ""}))
        .expect_err("empty");
    assert!(both.contains("must not be empty"), "{both}");
    let none = client
        .call(
            "get_instance_details",
            json!({"instance_id": "nobody-here"}),
        )
        .expect_err("unknown");
    assert!(none.contains("nobody-here"), "{none}");
    let _ = other;
    client.finish();
}

#[test]
fn registry_tools_on_sqlite() {
    let dir = common::TempDir::new("mcp");
    registry_round_trip(&dir.path("registry.db"));
}

#[test]
fn registry_tools_on_postgresql() {
    let db = typed_id_tests::pg::TestDatabase::new();
    registry_round_trip(db.url());
}

/// The whole session the issue describes: register → heartbeat (context 40, epic) →
/// list (counts) → get by hash → close.
fn full_session(url: &str) {
    let mut client = Client::start(Some(url));
    let reg = client
        .call(
            "register_instance",
            json!({"project": "odin", "instance_type": "PS"}),
        )
        .unwrap();
    let id = reg["instance_id"].as_str().unwrap().to_owned();
    let beat = client
        .call(
            "heartbeat",
            json!({"instance_id": id, "context_percent": 40, "current_epic": "auth"}),
        )
        .unwrap();
    assert_eq!(beat["instance_id"], id.as_str());
    assert_eq!(beat["context_percent"], 40);
    assert_eq!(beat["stale"], false);
    for key in ["status", "last_heartbeat", "age_seconds"] {
        assert!(!beat[key].is_null(), "{key} in {beat}");
    }
    let list = client
        .call("list_instances", json!({"project": "odin"}))
        .unwrap();
    assert_eq!(list["total_count"], 1);
    assert_eq!(list["active_count"], 1);
    assert_eq!(list["instances"][0]["context_percent"], 40);
    assert_eq!(list["instances"][0]["current_epic"], "auth");
    let hash = id.rsplit('-').next().unwrap();
    let got = client
        .call("get_instance_details", json!({"instance_id": hash}))
        .unwrap();
    assert_eq!(got["current_epic"], "auth");
    let closed = client
        .call("close_instance", json!({"instance_id": id}))
        .unwrap();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["instance_id"], id.as_str());
    assert!(closed["closed_at"].is_string(), "{closed}");
    let list = client
        .call(
            "list_instances",
            json!({"project": "odin", "active_only": true}),
        )
        .unwrap();
    assert_eq!(list["instances"].as_array().unwrap().len(), 0);
    assert_eq!(
        (
            list["total_count"].as_u64(),
            list["active_count"].as_u64(),
            list["stale_count"].as_u64(),
            list["closed_count"].as_u64()
        ),
        (Some(1), Some(0), Some(0), Some(1)),
        "{list}"
    );
    let closed = client
        .call("get_instance_details", json!({"instance_id": hash}))
        .unwrap();
    assert_eq!(
        closed["status"], "closed",
        "a closed key is found by its hash"
    );

    // Two keys sharing a hash (seeded through the library; minted keys never do): the
    // hash alone comes back as matches.
    let registry = typed_id::instance::Registry::open(url).unwrap();
    for key in ["odin-MS-8f4a2b", "asgard-PS-8f4a2b"] {
        let key = typed_id::InstanceKey::parse(key).unwrap();
        registry
            .register(&typed_id::instance::NewInstance::key(key))
            .unwrap();
    }
    drop(registry);
    let both = client
        .call("get_instance_details", json!({"instance_id": "8f4a2b"}))
        .unwrap();
    assert_eq!(
        both["matches"],
        json!(["asgard-PS-8f4a2b", "odin-MS-8f4a2b"]),
        "{both}"
    );
    client.finish();
}

#[test]
fn full_session_on_sqlite() {
    let dir = common::TempDir::new("mcp-full");
    full_session(&dir.path("registry.db"));
}

#[test]
fn full_session_on_postgresql() {
    let db = typed_id_tests::pg::TestDatabase::new();
    full_session(db.url());
}
