//! Running the built `typed-id` binary as a real process.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_typed-id");

/// A finished run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 output"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 errors"),
        }
    }
}

/// A command for `typed-id args…`, without the registry variable of the environment.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("TYPED_ID_DATABASE_URL");
    cmd
}

/// Runs `typed-id args…` with no input.
pub fn run(args: &[&str]) -> Run {
    Run::from(
        command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run typed-id"),
    )
}

/// Runs `typed-id args…` with `input` on standard input.
pub fn run_with_input(args: &[&str], input: &[u8]) -> Run {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn typed-id");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // Written from a thread: the child may fill its output pipe before reading it all.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait typed-id");
    writer.join().expect("writer");
    Run::from(output)
}

/// A fresh directory under the system's temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("typed-id-cli-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("UTF-8 path").to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `typed-id --json registry --database-url url [--stale-after s] args…` and
/// returns its exit code and its JSON document.
fn registry_json(url: &str, stale_after: Option<&str>, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["--json", "registry", "--database-url", url];
    if let Some(secs) = stale_after {
        all.extend_from_slice(&["--stale-after", secs]);
    }
    all.extend_from_slice(args);
    let r = run(&all);
    let doc = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{all:?}: not JSON ({e}): {r:?}"));
    (r.code, doc)
}

/// Counts of a `list` document: total, active, stale, closed.
fn counts(list: &serde_json::Value) -> [u64; 4] {
    ["total_count", "active_count", "stale_count", "closed_count"]
        .map(|k| list[k].as_u64().unwrap_or_else(|| panic!("{k} in {list}")))
}

/// The instance IDs of a `list` document, in its order.
fn listed(list: &serde_json::Value) -> Vec<String> {
    list["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| i["instance_id"].as_str().expect("instance_id").to_owned())
        .collect()
}

/// A few milliseconds, so that the next process's clock is past every time the last
/// one wrote (the registry compares times strictly).
fn tick() {
    std::thread::sleep(std::time::Duration::from_millis(5));
}

/// The registry commands by instance ID, each a separate process, on the registry at
/// `url` (which must be empty): register, heartbeat with context and epic, get by
/// hash, list counts and order, close (twice), a stale resume, an ambiguous hash,
/// purge, and the errors of unknown instances and bad input.
pub fn registry_session(url: &str) {
    // register, with an initial context.
    let (code, odin) = registry_json(
        url,
        None,
        &[
            "register",
            "--project",
            "odin",
            "--type",
            "PS",
            "--context",
            "10",
        ],
    );
    assert_eq!(code, 0, "{odin}");
    let odin_id = odin["instance_id"].as_str().unwrap().to_owned();
    assert!(odin_id.starts_with("odin-PS-"), "{odin}");
    assert_eq!(
        (
            &odin["project"],
            &odin["type"],
            &odin["status"],
            &odin["context_percent"]
        ),
        (&"odin".into(), &"PS".into(), &"active".into(), &10.into()),
        "{odin}"
    );
    assert!(
        odin["created_at"].as_str().unwrap().ends_with('Z'),
        "{odin}"
    );

    // heartbeat by ID, with context and epic; the record keeps them.
    let (code, beat) = registry_json(
        url,
        None,
        &["heartbeat", &odin_id, "--context", "40", "--epic", "auth"],
    );
    assert_eq!(code, 0, "{beat}");
    assert_eq!(beat["instance_id"], odin_id.as_str());
    assert_eq!(beat["status"], "active");
    assert_eq!(beat["stale"], false);
    assert_eq!(beat["context_percent"], 40);
    assert!(beat["age_seconds"].is_u64(), "{beat}");
    assert!(beat["last_heartbeat"].as_str().unwrap().ends_with('Z'));
    assert!(beat.get("message").is_none(), "{beat}");
    let hash = odin_id.rsplit('-').next().unwrap().to_owned();
    let (code, got) = registry_json(url, None, &["get", &hash]);
    assert_eq!(code, 0, "{got}");
    assert_eq!(got["instance_id"], odin_id.as_str());
    assert_eq!(got["context_percent"], 40);
    assert_eq!(got["current_epic"], "auth");
    assert_eq!(got["type"], "PS");
    assert_eq!(got["key_hash"], hash.as_str());
    assert_eq!(got["closed_at"], serde_json::Value::Null);
    // A heartbeat without --epic keeps the epic.
    let (code, _) = registry_json(url, None, &["heartbeat", &odin_id, "--context", "45"]);
    assert_eq!(code, 0);
    let (_, got) = registry_json(url, None, &["get", &odin_id]);
    assert_eq!(
        (&got["context_percent"], &got["current_epic"]),
        (&45.into(), &"auth".into())
    );

    // Bad heartbeats: unknown instance, an epic with a control character.
    let (code, err) = registry_json(url, None, &["heartbeat", "odin-PS-0000", "--context", "1"]);
    assert_eq!(code, 1, "{err}");
    let message = err["error"].as_str().unwrap();
    assert!(
        message.contains("odin-PS-0000") && message.contains("registry list"),
        "{message}"
    );
    let (code, err) = registry_json(
        url,
        None,
        &["heartbeat", &odin_id, "--context", "1", "--epic", "a\tb"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("control characters"),
        "{err}"
    );

    // A second project, then closed; closing again is not an error.
    let (code, asgard) = registry_json(
        url,
        None,
        &["register", "--project", "asgard", "--type", "MS"],
    );
    assert_eq!(code, 0, "{asgard}");
    let asgard_id = asgard["instance_id"].as_str().unwrap().to_owned();
    assert_eq!(asgard["context_percent"], serde_json::Value::Null);
    let (code, closed) = registry_json(url, None, &["close", &asgard_id]);
    assert_eq!(code, 0, "{closed}");
    assert_eq!(closed["instance_id"], asgard_id.as_str());
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["already_closed"], false);
    assert!(
        closed["closed_at"].as_str().unwrap().ends_with('Z'),
        "{closed}"
    );
    let (code, again) = registry_json(url, None, &["close", &asgard_id]);
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["already_closed"], true);
    assert_eq!(again["closed_at"], closed["closed_at"]);
    let (code, err) = registry_json(url, None, &["close", "asgard-MS-0000"]);
    assert_eq!(code, 1, "{err}");
    // A closed instance refuses heartbeats and is still found by its hash.
    let (code, err) = registry_json(url, None, &["heartbeat", &asgard_id, "--context", "1"]);
    assert_eq!(code, 1, "{err}");
    assert!(err["error"].as_str().unwrap().contains("closed"), "{err}");
    let asgard_hash = asgard_id.rsplit('-').next().unwrap();
    let (code, got) = registry_json(url, None, &["get", asgard_hash]);
    assert_eq!((code, &got["status"]), (0, &"closed".into()), "{got}");

    // Counts cover every state; by default closed ones are listed too, sorted by
    // project; --active-only leaves them out.
    let (_, all) = registry_json(url, None, &["list"]);
    assert_eq!(counts(&all), [2, 1, 0, 1], "{all}");
    assert_eq!(listed(&all), [asgard_id.as_str(), odin_id.as_str()]);
    let (_, active) = registry_json(url, None, &["list", "--active-only"]);
    assert_eq!(counts(&active), [2, 1, 0, 1], "{active}");
    assert_eq!(listed(&active), [odin_id.as_str()]);
    let (_, of_odin) = registry_json(url, None, &["list", "--project", "odin"]);
    assert_eq!(counts(&of_odin), [1, 1, 0, 0], "{of_odin}");

    // With a stale timeout of 0 s every open instance is stale: listed as such, and a
    // heartbeat resumes it with a warning.
    tick();
    let (_, stale) = registry_json(url, Some("0"), &["list", "--active-only"]);
    assert_eq!(counts(&stale), [2, 0, 1, 1], "{stale}");
    assert_eq!(stale["instances"][0]["stale"], true);
    assert_eq!(stale["instances"][0]["status"], "stale");
    let (code, beat) = registry_json(url, Some("0"), &["heartbeat", &odin_id, "--context", "50"]);
    assert_eq!(code, 0, "{beat}");
    assert_eq!(beat["stale"], true, "{beat}");
    assert!(
        beat["message"].as_str().unwrap().contains("had gone stale"),
        "{beat}"
    );
    let text = run(&[
        "registry",
        "--database-url",
        url,
        "--stale-after",
        "0",
        "heartbeat",
        &odin_id,
        "--context",
        "50",
    ]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(text.stderr.contains("warning: instance"), "{text:?}");

    // Two keys with one hash (seeded through the library: minted keys never share
    // one by design): the hash alone is ambiguous, and says which ones match.
    let registry = typed_id::instance::Registry::open(url).expect("open the registry");
    for key in ["odin-PS-8f4a2b", "asgard-MS-8f4a2b"] {
        let key = typed_id::InstanceKey::parse(key).unwrap();
        registry
            .register(&typed_id::instance::NewInstance::key(key))
            .expect("register a seeded key");
    }
    drop(registry);
    let (code, doc) = registry_json(url, None, &["get", "8f4a2b"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        doc["matches"],
        serde_json::json!(["asgard-MS-8f4a2b", "odin-PS-8f4a2b"])
    );
    assert_eq!(doc["more"], false);
    let r = run(&["registry", "--database-url", url, "get", "8f4a2b"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("give more of the ID"), "{r:?}");
    assert_eq!(r.stdout, "asgard-MS-8f4a2b\nodin-PS-8f4a2b\n");
    let (code, one) = registry_json(url, None, &["get", "odin-PS-8f4a2b"]);
    assert_eq!((code, &one["instance_id"]), (0, &"odin-PS-8f4a2b".into()));

    // purge: nothing is 30 days old; the closed one is older than 0 days; with a 0 s
    // stale timeout the three open ones are stale and go too.
    let (code, p) = registry_json(url, None, &["purge", "--older-than-days", "30"]);
    assert_eq!((code, &p["purged"]), (0, &0.into()), "{p}");
    tick();
    let (code, p) = registry_json(url, None, &["purge", "--older-than-days", "0"]);
    assert_eq!(code, 0, "{p}");
    assert_eq!(
        (&p["purged"], &p["closed"], &p["stale"]),
        (&1.into(), &1.into(), &0.into())
    );
    let (_, after) = registry_json(url, None, &["list"]);
    assert_eq!(counts(&after), [3, 3, 0, 0], "{after}");
    let (code, err) = registry_json(url, None, &["get", &asgard_id]);
    assert_eq!(code, 1, "purged: {err}");
    tick();
    let (code, p) = registry_json(url, Some("0"), &["purge", "--older-than-days", "0"]);
    assert_eq!(code, 0, "{p}");
    assert_eq!((&p["purged"], &p["stale"]), (&3.into(), &3.into()), "{p}");
    let (_, after) = registry_json(url, None, &["list"]);
    assert_eq!(counts(&after), [0, 0, 0, 0], "{after}");
}
