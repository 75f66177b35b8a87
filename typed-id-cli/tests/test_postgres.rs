//! `typed-id` against the throwaway PostgreSQL server the test suite starts: the
//! `CHECK` constraints `pattern --check` prints, display counters and the registry.

mod common;

use common::run;
use diesel::prelude::*;
use typed_id_tests::pg::TestDatabase;

/// Formats, a valid ID and an invalid one each.
const FORMATS: &[(&[&str], &str, &str)] = &[
    (
        &["--kind", "hash", "--prefix", "el", "--accept", "elem"],
        "el-a3f8e9.1",
        "el-a3f8e9.01",
    ),
    (
        &["--kind", "seq", "--prefix", "WORK"],
        "WORK-042",
        "WORK-42",
    ),
    (
        &["--kind", "snowflake", "--prefix", "msg"],
        "msg-1767053847123456789",
        "msg-9223372036854775808",
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
        "msg-1BvP7xZ5J1t",
        "msg-1BvP7xZ5J1t!",
    ),
    (
        &["--kind", "hex", "--prefix", "odin-PS"],
        "odin-PS-8f4a2b",
        "odin-PS-8F4A2B",
    ),
    (
        &["--kind", "typeid", "--prefix", "user"],
        "user_01h455vb4pex5vsknk084sn02q",
        "user_81h455vb4pex5vsknk084sn02q",
    ),
];

#[test]
fn check_constraints_are_accepted_by_postgresql_and_reject_bad_rows() {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    for (i, (format, good, bad)) in FORMATS.iter().enumerate() {
        let mut args = vec!["pattern"];
        args.extend_from_slice(format);
        // A column name that needs quoting, to exercise that too.
        args.extend_from_slice(&["--check", "Id"]);
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        let check = r.stdout.trim();
        assert!(check.starts_with("CHECK (\"Id\" ~ '^"), "{check}");
        diesel::sql_query(format!("CREATE TABLE t{i} (\"Id\" TEXT NOT NULL {check})"))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("PostgreSQL refused {check}: {e}"));
        diesel::sql_query(format!("INSERT INTO t{i} VALUES ('{good}')"))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("{good} refused by {check}: {e}"));
        let refused =
            diesel::sql_query(format!("INSERT INTO t{i} VALUES ('{bad}')")).execute(&mut conn);
        let message = refused
            .expect_err(&format!("{bad} accepted by {check}"))
            .to_string();
        assert!(message.contains("check constraint"), "{message}");
        // The parser agrees with the database on both rows.
        let mut validate = vec!["validate"];
        validate.extend_from_slice(format);
        validate.extend_from_slice(&[good, bad]);
        let v = run(&validate);
        assert_eq!(v.code, 1);
        assert_eq!(
            v.stdout.lines().count(),
            1,
            "only {bad} is invalid: {}",
            v.stdout
        );
        assert!(v.stdout.contains(bad), "{}", v.stdout);
    }
}

#[test]
fn display_counters_on_postgresql_across_processes() {
    let db = TestDatabase::new();
    let url = db.url();
    let first = run(&[
        "display", "--store", url, "--scope", "odin", "--prefix", "WORK", "next",
    ]);
    assert_eq!(
        (first.code, first.stdout.as_str()),
        (0, "WORK-001\n"),
        "{}",
        first.stderr
    );
    let children: Vec<_> = (0..3)
        .map(|_| {
            common::command(&[
                "display", "--store", url, "--scope", "odin", "next", "--count", "5",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let mut numbers: Vec<u64> = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        numbers.extend(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| l.parse::<u64>().unwrap()),
        );
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (2..=16).collect::<Vec<_>>());
    let last = run(&["display", "--store", url, "--scope", "odin", "last"]);
    assert_eq!(last.stdout, "16\n");
    assert_eq!(
        run(&[
            "display", "--store", url, "--scope", "odin", "observe", "100"
        ])
        .code,
        0
    );
    let next = run(&["display", "--store", url, "--scope", "odin", "next"]);
    assert_eq!(next.stdout, "101\n");
}

#[test]
fn registry_commands_on_postgresql() {
    let db = TestDatabase::new();
    let url = db.url();
    let r = run(&[
        "--json",
        "registry",
        "--database-url",
        url,
        "register",
        "--project",
        "odin",
        "--type",
        "MS",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let reg: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let id = reg["instance_id"].as_str().unwrap();
    let hash = id.rsplit('-').next().unwrap();
    let r = run(&["--json", "registry", "--database-url", url, "get", hash]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(got["instance_id"], id);
    assert_eq!(got["type"], "MS");
    let r = run(&["--json", "registry", "--database-url", url, "list"]);
    let list: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(list["total_count"], 1);
}

#[test]
fn registry_by_instance_id_on_postgresql() {
    let db = TestDatabase::new();
    common::registry_session(db.url());
}
