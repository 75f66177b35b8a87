//! `typed-id` as a real process: golden outputs, exit codes, hostile input.

mod common;

use common::{TempDir, run, run_with_input};

const DISCORD_LINE: &str = "175928847299117063 time=2016-04-30T11:18:25.796Z \
    unix_ms=1462015105796 worker=1 process=0 sequence=7 hex=0271065ac1020007 base62=Czks0tP37X\n";

#[test]
fn decode_discord_documented_example() {
    let r = run(&["decode", "175928847299117063", "--layout", "discord"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, DISCORD_LINE, "")
    );

    let r = run(&[
        "decode",
        "--json",
        "--layout",
        "discord",
        "175928847299117063",
    ]);
    assert_eq!(r.code, 0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({
            "input": "175928847299117063", "id": 175928847299117063_u64,
            "time": "2016-04-30T11:18:25.796Z", "unix_ms": 1462015105796_u64,
            "worker": 1, "process": 0, "sequence": 7,
            "hex": "0271065ac1020007", "base62": "Czks0tP37X"
        })
    );
    // The same layout spelled out: epoch and bit widths.
    let custom = run(&[
        "decode",
        "--epoch-ms",
        "1420070400000",
        "--bits",
        "42/5/5/12",
        "175928847299117063",
    ]);
    assert_eq!(custom.stdout, DISCORD_LINE);
}

#[test]
fn decode_default_layout_decimal_base62_and_prefixed() {
    let expected = "1767053847123456789 time=2037-05-08T03:21:07.427Z unix_ms=2125365667427 \
        worker=127 sequence=789 hex=1885d61c98c7f315 base62=26X7luRcVaX\n";
    for input in [
        &["decode", "1767053847123456789"][..],
        &["decode", "--base62", "26X7luRcVaX"],
        &["decode", "--base62", "msg-26X7luRcVaX"],
        &["decode", "odin-PS-1767053847123456789"],
    ] {
        let r = run(input);
        assert_eq!((r.code, r.stdout.as_str()), (0, expected), "{input:?}");
    }
    // Twitter's epoch: a tweet ID from 2018.
    let r = run(&["decode", "--layout", "twitter", "1050118621198921728"]);
    assert!(
        r.stdout
            .starts_with("1050118621198921728 time=2018-10-10T20:19:24.211Z "),
        "{}",
        r.stdout
    );
    // Without --base62, letters are an error that says what to do.
    let r = run(&["decode", "msg-26X7luRcVaX"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("(base62? pass --base62)"), "{}", r.stderr);
}

#[test]
fn decode_reports_bad_ids_and_goes_on() {
    let r = run(&["decode", "--", "12x", "5", "-3"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(
        r.stderr.contains(
            r#"invalid Snowflake "12x": found 'x' where a digit (0-9) was expected at byte 2"#
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("\"-3\""), "{}", r.stderr);
}

#[test]
fn decode_streams_standard_input() {
    let mut input = String::new();
    for _ in 0..1000 {
        input.push_str("175928847299117063\r\n");
    }
    input.push_str("\nnot-an-id\n175928847299117063"); // a blank line, a bad one, no final newline
    let r = run_with_input(&["decode", "--layout", "discord", "-"], input.as_bytes());
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, DISCORD_LINE.repeat(1001));
    assert!(
        r.stderr.contains("standard input line 1002:"),
        "{}",
        r.stderr
    );

    // JSON lines stay aligned with the input: errors are objects too.
    let r = run_with_input(&["decode", "--json", "-"], b"1\nnope\n");
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], 1);
    assert_eq!(lines[1]["line"], 2);
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("invalid Snowflake")
    );
}

#[test]
fn hostile_input_on_standard_input() {
    // A 10 MB line: reported by length, not read into memory, and the next line still decodes.
    let mut input = vec![b'7'; 10 * 1024 * 1024];
    input.extend_from_slice(b"\n175928847299117063\n");
    let r = run_with_input(&["decode", "--layout", "discord", "-"], &input);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, DISCORD_LINE);
    assert!(
        r.stderr.contains("line 1: line is 10485760 bytes long"),
        "{}",
        r.stderr
    );

    // Invalid UTF-8.
    let r = run_with_input(&["decode", "-"], b"\xff\xfe12\n42\n");
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout.lines().count(), 1);
    assert!(r.stderr.contains("line 1: not UTF-8 text"), "{}", r.stderr);
    let r = run_with_input(
        &["validate", "--kind", "seq", "--prefix", "WORK", "-"],
        b"WORK-\xc3\x28\n",
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("not UTF-8"), "{}", r.stdout);

    // Empty input: nothing to do, nothing wrong.
    for args in [
        &["decode", "-"][..],
        &["validate", "--kind", "hash", "--prefix", "el", "-"],
    ] {
        let r = run_with_input(args, b"");
        assert_eq!(
            (r.code, r.stdout.as_str(), r.stderr.as_str()),
            (0, "", ""),
            "{args:?}"
        );
    }
}

#[test]
fn validate_valid_ids_print_nothing_and_exit_0() {
    let r = run(&[
        "validate",
        "--kind",
        "hash",
        "--prefix",
        "el",
        "--accept",
        "elem",
        "el-a3f8e9",
        "elem-a3f8.1.2",
    ]);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "", ""));
    let r = run(&[
        "validate", "--json", "--kind", "seq", "--prefix", "WORK", "WORK-042",
    ]);
    assert_eq!(r.stdout, "{\"input\":\"WORK-042\",\"valid\":true}\n");
}

/// Every kind of parse error, with the library's message.
#[test]
fn validate_golden_errors() {
    let long = "x".repeat(60);
    let cases: &[(&[&str], &str, &str, &str)] = &[
        (
            &["--kind", "hash", "--prefix", "el"],
            "",
            "empty",
            r#"invalid HashId "": empty input"#,
        ),
        (
            &["--kind", "hash", "--prefix", "el"],
            &long,
            "too_long",
            "input is 60 bytes long, the longest valid ID is 44",
        ),
        (
            &["--kind", "hash", "--prefix", "el", "--name", "ElementId"],
            "El-a3f8",
            "prefix",
            r#"invalid ElementId "El-a3f8": expected prefix "el-" at byte 0"#,
        ),
        (
            &["--kind", "hash", "--prefix", "el"],
            "el-a3F8",
            "unexpected_char",
            "found 'F' where a lowercase base36 digit (0-9, a-z) was expected at byte 5",
        ),
        (
            &["--kind", "hash", "--prefix", "el"],
            "el-a3f8.",
            "unexpected_end",
            "input ends where a digit (1-9) was expected at byte 8",
        ),
        (
            &["--kind", "hash", "--prefix", "el", "--min-len", "4"],
            "el-a3",
            "hash_length",
            "hash has 2 characters, expected 4 to 8 at byte 3",
        ),
        (
            &["--kind", "hash", "--prefix", "el", "--max-depth", "2"],
            "el-a3f8.1.1.1",
            "too_deep",
            "more than 2 child segments at byte 11",
        ),
        (
            &["--kind", "hash", "--prefix", "el"],
            "el-a3f8.0",
            "zero_child",
            "child number must be positive at byte 8",
        ),
        (
            &["--kind", "hash", "--prefix", "el"],
            "el-a3f8.01",
            "leading_zero",
            "number must not have a leading zero at byte 8",
        ),
        (
            &["--kind", "hash", "--prefix", "el"],
            "el-a3f8.4294967296",
            "overflow",
            "number is larger than 4294967295 at byte 8",
        ),
        (
            &["--kind", "seq", "--prefix", "WORK"],
            "WORK-000",
            "zero_number",
            "number must be positive at byte 5",
        ),
        (
            &["--kind", "seq", "--prefix", "WORK"],
            "WORK-42",
            "too_narrow",
            "number must be zero-padded to 3 digits at byte 5",
        ),
        (
            &["--kind", "hex", "--prefix", "odin-PS"],
            "odin-PS-8f4a2",
            "key_length",
            "key has 5 hex digits, expected 6 at byte 8",
        ),
        (
            &["--kind", "snowflake", "--prefix", "msg"],
            "msg-9223372036854775808",
            "overflow",
            "number is larger than 9223372036854775807 at byte 4",
        ),
        (
            &["--kind", "typeid", "--prefix", "user"],
            "usr_01h455vb4pex5vsknk084sn02q",
            "prefix",
            r#"expected prefix "user_" at byte 0"#,
        ),
        (
            &["--kind", "typeid", "--prefix", "user"],
            "user_01h455vb4pex5vsknk084sn0",
            "suffix_length",
            "TypeID suffix has 24 characters, expected 26 at byte 29",
        ),
    ];
    for (format, id, kind, message) in cases {
        let mut args = vec!["validate"];
        args.extend_from_slice(format);
        args.push(id);
        let r = run(&args);
        assert_eq!(r.code, 1, "{args:?}");
        assert!(
            r.stdout.ends_with(&format!("{message}\n")),
            "{args:?}: {}",
            r.stdout
        );
        assert!(r.stderr.contains("1 of 1 IDs invalid"), "{}", r.stderr);
        args.insert(1, "--json");
        let r = run(&args);
        let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(doc["valid"], false);
        assert_eq!(doc["error"]["kind"], *kind, "{args:?}");
        assert!(doc["error"]["message"].as_str().unwrap().ends_with(message));
    }
}

#[test]
fn usage_errors_exit_2_with_a_hint() {
    for (args, hint) in [
        (
            &[
                "validate", "--kind", "hash", "--prefix", "el", "--width", "3", "x",
            ][..],
            "--width applies to --kind seq only",
        ),
        (
            &["validate", "--kind", "hash", "--prefix", "e l", "x"],
            "invalid prefix",
        ),
        (
            &[
                "validate",
                "--kind",
                "hash",
                "--prefix",
                "el",
                "--min-len",
                "9",
                "x",
            ],
            "min_len 9 is outside",
        ),
        (
            &["decode", "--bits", "41/10", "1"],
            "TIMESTAMP/WORKER/SEQUENCE",
        ),
        (&["decode", "--bits", "50/10/12", "1"], "at most 64 bits"),
        (&["decode"], "required"),
        (&["frobnicate"], "unrecognized subcommand"),
        (
            &["display", "--store", "ids.txt", "--scope", "s", "next"],
            "dir:PATH",
        ),
        (&["registry", "list"], "--database-url"),
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains(hint), "{args:?}: {}", r.stderr);
    }
    // With --json the error is also a JSON document on standard output.
    let r = run(&["--json", "decode", "--bits", "x", "1"]);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["kind"], "usage");
}

#[test]
fn every_command_has_help_with_an_example() {
    let commands: &[&[&str]] = &[
        &[],
        &["decode"],
        &["generate", "snowflake"],
        &["generate", "hash"],
        &["generate", "key"],
        &["generate", "process-id"],
        &["validate"],
        &["pattern"],
        &["registry"],
        &["registry", "register"],
        &["registry", "heartbeat"],
        &["registry", "list"],
        &["registry", "get"],
        &["registry", "close"],
        &["registry", "purge"],
        &["display"],
        &["display", "next"],
        &["display", "last"],
        &["display", "observe"],
        &["mcp"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(
            r.stdout.contains("typed-id "),
            "{args:?} has no example:\n{}",
            r.stdout
        );
        assert!(
            r.stdout.contains("Example"),
            "{args:?} has no example:\n{}",
            r.stdout
        );
    }
}

#[test]
fn generate_each_kind() {
    let r = run(&[
        "generate",
        "snowflake",
        "--worker",
        "7",
        "--count",
        "3",
        "--prefix",
        "msg",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ids: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(ids.len(), 3);
    let mut values = Vec::new();
    for id in &ids {
        let d = run(&["decode", "--json", id]);
        let doc: serde_json::Value = serde_json::from_str(&d.stdout).unwrap();
        assert_eq!(doc["worker"], 7);
        values.push(doc["id"].as_u64().unwrap());
    }
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");

    let r = run(&[
        "generate",
        "hash",
        "--title",
        "Fix login",
        "--author",
        "ada",
        "--timestamp-ns",
        "1700000000000000000",
        "--prefix",
        "el",
        "--count",
        "3",
    ]);
    let hashes: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(hashes.len(), 3);
    let mut unique = hashes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 3, "{hashes:?}");
    // Deterministic from title, author and time.
    let again = run(&[
        "generate",
        "hash",
        "--title",
        "Fix login",
        "--author",
        "ada",
        "--timestamp-ns",
        "1700000000000000000",
        "--prefix",
        "el",
        "--count",
        "3",
    ]);
    assert_eq!(again.stdout, r.stdout);
    let fixed = run(&[
        "generate", "hash", "--title", "t", "--author", "a", "--len", "7",
    ]);
    assert_eq!(fixed.stdout.trim().len(), 7);
    for id in &hashes {
        assert_eq!(
            run(&[
                "validate",
                "--kind",
                "hash",
                "--prefix",
                "el",
                "--min-len",
                "4",
                id
            ])
            .code,
            0
        );
    }

    let r = run(&["generate", "key", "--project", "odin", "--type", "PS"]);
    let key = r.stdout.trim();
    assert_eq!(
        run(&["validate", "--kind", "hex", "--prefix", "odin-PS", key]).code,
        0,
        "{key}"
    );
    let bad = run(&["generate", "key", "--project", "od in", "--type", "PS"]);
    assert_eq!(bad.code, 1, "{bad:?}");

    let r = run(&["generate", "process-id", "--count", "2", "--json"]);
    let ids: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0]["id"], ids[1]["id"]);
}

#[test]
fn display_counters_across_processes_sqlite_and_folder() {
    let dir = TempDir::new("display");
    for store in [dir.path("ids.db"), format!("dir:{}", dir.path("counters"))] {
        // `last` never creates the store.
        let r = run(&["display", "--store", &store, "--scope", "odin", "last"]);
        assert_eq!(r.code, 2, "{store}: {r:?}");
        assert!(r.stderr.contains("does not create one"), "{}", r.stderr);

        let first = run(&[
            "display", "--store", &store, "--scope", "odin", "--prefix", "WORK", "next",
        ]);
        assert_eq!(
            (first.code, first.stdout.as_str()),
            (0, "WORK-001\n"),
            "{store}: {}",
            first.stderr
        );
        let more = run(&[
            "display", "--store", &store, "--scope", "odin", "--prefix", "WORK", "next", "--count",
            "2",
        ]);
        assert_eq!(more.stdout, "WORK-002\nWORK-003\n");
        let last = run(&["display", "--store", &store, "--scope", "odin", "last"]);
        assert_eq!(last.stdout, "3\n");
        let seeded = run(&[
            "display", "--store", &store, "--scope", "odin", "observe", "41",
        ]);
        assert_eq!(seeded.code, 0, "{}", seeded.stderr);
        let next = run(&[
            "--json", "display", "--store", &store, "--scope", "odin", "--prefix", "WORK", "next",
        ]);
        let doc: serde_json::Value = serde_json::from_str(&next.stdout).unwrap();
        assert!(doc["number"].as_u64().unwrap() > 41, "{doc}");
        let bad = run(&[
            "display",
            "--store",
            &store,
            "--scope",
            "bad scope!",
            "next",
        ]);
        assert_eq!(bad.code, 1, "{bad:?}");
    }
}

#[test]
fn display_counters_from_concurrent_processes_never_repeat() {
    let dir = TempDir::new("display-race");
    for store in [dir.path("race.db"), format!("dir:{}", dir.path("race"))] {
        let children: Vec<_> = (0..4)
            .map(|_| {
                common::command(&[
                    "display", "--store", &store, "--scope", "s", "next", "--count", "1",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        let mut numbers: Vec<u64> = Vec::new();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            numbers.push(
                String::from_utf8(out.stdout)
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap(),
            );
        }
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), 4, "{store}: {numbers:?}");
    }
}

#[test]
fn databases_that_do_not_exist_or_are_not_databases() {
    let dir = TempDir::new("baddb");
    let missing = dir.path("missing.db");
    for args in [
        &["registry", "--database-url", &missing, "list"][..],
        &["registry", "--database-url", &missing, "get", "abc"],
        &["display", "--store", &missing, "--scope", "s", "last"],
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.stderr.contains("no database at"), "{}", r.stderr);
    }
    assert!(
        !std::path::Path::new(&missing).exists(),
        "a read created the file"
    );

    let text = dir.path("notes.db");
    std::fs::write(
        &text,
        "these are not the pages of a SQLite database, just words\n".repeat(100),
    )
    .unwrap();
    for args in [
        &["registry", "--database-url", &text, "list"][..],
        &["display", "--store", &text, "--scope", "s", "next"],
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains("not a database"), "{}", r.stderr);
    }
    let r = run(&["registry", "--database-url", &dir.path(""), "list"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is a directory"), "{}", r.stderr);
    // A PostgreSQL server that is not there (a socket directory with no server).
    let url = format!("host={} port=1 dbname=x connect_timeout=2", dir.path(""));
    let r = run(&["registry", "--database-url", &url, "list"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("cannot open the registry"),
        "{}",
        r.stderr
    );
}

#[test]
fn registry_commands_on_sqlite() {
    let dir = TempDir::new("registry");
    let db = dir.path("registry.db");
    let r = run(&[
        "--json",
        "registry",
        "--database-url",
        &db,
        "register",
        "--project",
        "odin",
        "--type",
        "PS",
        "--context",
        "10",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let reg: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let id = reg["instance_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("odin-PS-"), "{id}");
    assert_eq!(reg["type"], "PS");
    assert_eq!(reg["status"], "active");
    assert_eq!(reg["context_percent"], 10);

    let r = run(&[
        "--json",
        "registry",
        "--database-url",
        &db,
        "list",
        "--project",
        "odin",
    ]);
    let list: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(list["total_count"], 1);
    assert_eq!(list["active_count"], 1);
    assert_eq!(list["stale_count"], 0);
    assert_eq!(list["instances"][0]["instance_id"], id.as_str());

    let hash = id.rsplit('-').next().unwrap();
    for lookup in [id.as_str(), "odin-PS", hash] {
        let r = run(&["--json", "registry", "--database-url", &db, "get", lookup]);
        assert_eq!(r.code, 0, "{lookup}: {}", r.stderr);
        let got: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(got["instance_id"], id.as_str(), "{lookup}");
    }
    let r = run(&["registry", "--database-url", &db, "get", "nobody"]);
    assert_eq!(r.code, 1, "{r:?}");
    let r = run(&[
        "registry",
        "--database-url",
        &db,
        "register",
        "--project",
        "odin",
        "--type",
        "PS",
        "--context",
        "101",
    ]);
    assert_eq!(r.code, 2, "clap refuses out-of-range values: {r:?}");

    // Two instances under one prefix: the lookup lists both.
    run(&[
        "registry",
        "--database-url",
        &db,
        "register",
        "--project",
        "odin",
        "--type",
        "PS",
    ]);
    let r = run(&[
        "--json",
        "registry",
        "--database-url",
        &db,
        "get",
        "odin-PS",
    ]);
    assert_eq!(r.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["matches"].as_array().unwrap().len(), 2);

    // The environment variable names the database when the option is left out.
    let out = common::command(&["registry", "list"])
        .env("TYPED_ID_DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 instances: 2 active, 0 stale, 0 closed")
    );
}

#[test]
fn registry_by_instance_id_on_sqlite() {
    let dir = TempDir::new("registry-session");
    common::registry_session(&dir.path("registry.db"));
}

#[test]
fn json_schema_patterns_compile_in_the_regex_crate_and_agree_with_validate() {
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (
            &["--kind", "hash", "--prefix", "el", "--max-depth", "1"],
            &["el-a3f8", "el-a3f8.4294967295"],
            &["el-a3f8.1.1", "el-a3f8.4294967296", "el-a3f8\n"],
        ),
        (
            &["--kind", "seq", "--prefix", "WORK", "--width", "4"],
            &["WORK-0042", "WORK-12345"],
            &["WORK-042", "WORK-0000"],
        ),
        (
            &[
                "--kind",
                "snowflake",
                "--prefix",
                "msg",
                "--encoding",
                "base62",
            ],
            &["msg-1BvP7xZ5J1t"],
            &["msg-01", "msg-"],
        ),
    ];
    for (format, good, bad) in cases {
        let mut args = vec!["pattern", "--json-schema"];
        args.extend_from_slice(format);
        let r = run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stdout.starts_with("{\"type\":\"string\",\"pattern\":\"^"),
            "{}",
            r.stdout
        );
        let schema: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let re = regex::Regex::new(schema["pattern"].as_str().unwrap()).expect("regex compiles it");
        for id in *good {
            assert!(re.is_match(id), "{id}");
        }
        for id in *bad {
            assert!(!re.is_match(id), "{id}");
            let mut v = vec!["validate"];
            v.extend_from_slice(format);
            v.push(id);
            assert_eq!(run(&v).code, 1, "{id:?}");
        }
    }
    // --json gives everything at once.
    let r = run(&[
        "pattern", "--json", "--kind", "seq", "--prefix", "WORK", "--check", "id",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        doc["check"],
        format!("CHECK (id ~ '{}')", doc["pattern"].as_str().unwrap())
    );
    assert_eq!(
        doc["pcre_pattern"],
        format!(r"{}(?![\s\S])", doc["pattern"].as_str().unwrap())
    );
}
