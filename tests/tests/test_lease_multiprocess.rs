//! Worker-ID leases across real OS processes sharing one SQLite file or one PostgreSQL
//! server.
//!
//! The parent tests re-invoke this test binary (`current_exe()`) to run
//! [`child_entry`] in child mode, configured through `TYPED_ID_MP_*` variables. Children
//! write the IDs they issue as little-endian `u64`s to files; the parent checks them.
//!
//! - eight processes start at the same moment (a start time in the environment), each
//!   applies the migrations, leases a worker ID and, once all eight hold one, issues
//!   250 000 snowflakes while a heartbeat renews its lease: eight distinct worker IDs,
//!   no duplicate among the 2 000 000 IDs. (The heartbeat, as in production, makes the
//!   lease's deadline irrelevant however slowly a debug build on a loaded machine
//!   issues; 250 000 IDs per process still take every child through tens of
//!   milliseconds of overlapping issuing, at a quarter of the CPU of the 1 000 000 they
//!   once issued against a 27 s deadline.)
//! - a lease holder is frozen with `SIGSTOP` past its lease, another process takes the
//!   worker ID over and issues; after `SIGCONT` the first issues nothing more (its
//!   generator answers with a typed error) and the union of both has no duplicate.

use std::fs;
use std::io::{BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use typed_id::Snowflake;
use typed_id::generator::Layout;
use typed_id::instance::{
    Heartbeat, IssueError, LeaseOptions, NewInstance, Registry, RegistryError, WorkerLease,
};
use typed_id_tests::pg::TestDatabase;
use typed_id_tests::sqlite::TempSqlite;

const ROLE: &str = "TYPED_ID_MP_ROLE";
const DB_URL: &str = "TYPED_ID_MP_DB";
const OUT_DIR: &str = "TYPED_ID_MP_DIR";
const INDEX: &str = "TYPED_ID_MP_INDEX";
const START_AT: &str = "TYPED_ID_MP_START_AT_MS";
const COUNT: &str = "TYPED_ID_MP_COUNT";
const CHILDREN: &str = "TYPED_ID_MP_CHILDREN";

const PROCESSES: usize = 8;
const IDS_PER_PROCESS: usize = 250_000;
/// The fencing test's lease period: short, so the test is quick.
const FENCE_LEASE: Duration = Duration::from_millis(1_500);

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("child mode needs {name}"))
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A fresh temporary directory for the children's files.
fn out_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "typed-id-mp-{tag}-{}-{}",
        std::process::id(),
        unix_ms()
    ));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn spawn_child(role: &str, vars: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_entry",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ROLE, role)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.spawn().expect("cannot re-invoke the test binary")
}

/// Waits for a child; its stdout, or a report of its failure with its output.
fn wait_child(mut child: Child, what: &str) -> Result<String, String> {
    let status = child.wait().unwrap();
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    if status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{what} failed ({status}):\n--- stdout\n{out}\n--- stderr\n{err}"
        ))
    }
}

/// Waits for a child and fails with its output if it failed.
fn finish(child: Child, what: &str) -> String {
    wait_child(child, what).unwrap_or_else(|report| panic!("{report}"))
}

fn read_ids(path: &Path) -> Vec<u64> {
    let bytes = fs::read(path).unwrap();
    assert_eq!(bytes.len() % 8, 0, "{}", path.display());
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Counts values that occur more than once across `lists`, each of which must already
/// be strictly increasing (checked): pairwise merges, linear in the total per level
/// (fast enough in a debug build, unlike a full sort of millions of values).
fn duplicates_across(lists: &[Vec<u64>]) -> usize {
    for (i, list) in lists.iter().enumerate() {
        assert!(
            list.windows(2).all(|w| w[0] < w[1]),
            "list {i} is not strictly increasing"
        );
    }
    let mut dups = 0;
    let mut level: Vec<Vec<u64>> = lists.to_vec();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut it = level.into_iter();
        while let Some(a) = it.next() {
            match it.next() {
                Some(b) => next.push(merge_counting(&a, &b, &mut dups)),
                None => next.push(a),
            }
        }
        level = next;
    }
    dups
}

/// Merges two strictly increasing lists, counting (and keeping once) common values.
fn merge_counting(a: &[u64], b: &[u64], dups: &mut usize) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        if x < y {
            out.push(x);
            i += 1;
        } else if y < x {
            out.push(y);
            j += 1;
        } else {
            *dups += 1;
            out.push(x);
            i += 1;
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[test]
fn duplicate_counting_finds_duplicates() {
    assert_eq!(
        duplicates_across(&[vec![1, 3, 5], vec![2, 4, 6], vec![7]]),
        0
    );
    assert_eq!(
        duplicates_across(&[vec![1, 3, 5], vec![3, 4, 5], vec![5, 9]]),
        3
    );
}

/// The entry point of child processes; the parents below start it with `--ignored`.
#[test]
#[ignore = "child process entry point, run by the multi-process tests"]
fn child_entry() {
    match env(ROLE).as_str() {
        "issue" => child_issue(),
        "holder" => child_holder(),
        "taker" => child_taker(),
        other => panic!("unknown child role {other:?}"),
    }
}

/// Waits for the common start time, leases a worker ID, waits until every sibling holds
/// one (so the leases overlap), issues `COUNT` IDs into `ids-{INDEX}.bin`.
fn child_issue() {
    let dir = PathBuf::from(env(OUT_DIR));
    let index = env(INDEX);
    let count: usize = env(COUNT).parse().unwrap();
    let children: usize = env(CHILDREN).parse().unwrap();
    let start_at: u64 = env(START_AT).parse().unwrap();
    let now = unix_ms();
    if start_at > now {
        std::thread::sleep(Duration::from_millis(start_at - now));
    }
    let t0 = Instant::now();
    // Every child opens (and migrates) the database at the same moment.
    let registry = Arc::new(Registry::open(&env(DB_URL)).unwrap());
    let holder = format!("child-{index}-{}", std::process::id());
    registry
        .register(&NewInstance::new(holder.clone(), "mp"))
        .unwrap();
    let lease =
        Arc::new(WorkerLease::acquire(registry.clone(), LeaseOptions::new("mp", holder)).unwrap());
    let heartbeat = Heartbeat::builder(registry.clone())
        .lease(lease.clone())
        .spawn()
        .unwrap();
    let acquired = t0.elapsed();
    fs::write(
        dir.join(format!("worker-{index}.txt")),
        lease.worker().to_string(),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let held = fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("worker-"))
            })
            .count();
        if held >= children {
            break;
        }
        assert!(Instant::now() < deadline, "siblings never acquired");
        std::thread::sleep(Duration::from_millis(5));
    }
    let generator = lease.generator();
    let file = fs::File::create(dir.join(format!("ids-{index}.bin"))).unwrap();
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let issuing = Instant::now();
    for _ in 0..count {
        let id = generator.next_snowflake().unwrap();
        out.write_all(&id.as_u64().to_le_bytes()).unwrap();
    }
    out.flush().unwrap();
    let issued = issuing.elapsed();
    heartbeat.stop();
    lease.renew().unwrap(); // still ours
    lease.release().unwrap();
    println!(
        "MP child {index}: worker {} acquired after {acquired:?}, {count} IDs in {issued:?}",
        lease.worker()
    );
}

/// Holds worker 0 of scope `fence` with a short lease renewed by a heartbeat, issuing
/// IDs into `holder.bin` until its generator refuses, then records why.
fn child_holder() {
    let dir = PathBuf::from(env(OUT_DIR));
    let registry = Arc::new(Registry::open(&env(DB_URL)).unwrap());
    let lease = Arc::new(
        WorkerLease::acquire(
            registry.clone(),
            LeaseOptions::new("fence", "holder").period(FENCE_LEASE),
        )
        .unwrap(),
    );
    let renew_errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = renew_errors.clone();
    let heartbeat = Heartbeat::builder(registry.clone())
        .lease(lease.clone())
        .on_error(move |e| {
            let kind = match e {
                RegistryError::LeaseLost { .. } => "lost".to_owned(),
                other => format!("other: {other}"),
            };
            sink.lock().unwrap().push(kind);
        })
        .spawn()
        .unwrap();
    let generator = lease.generator();
    let mut out = BufWriter::new(fs::File::create(dir.join("holder.bin")).unwrap());
    let mut issued = 0u64;
    // Refusals are not fatal here: on a loaded machine a renewal may come late, and the
    // lease then revives. The holder keeps trying until its heartbeat learns that the
    // lease was taken over, which can only happen after the SIGSTOP.
    let mut refusals = Vec::<&str>::new();
    let lost = || renew_errors.lock().unwrap().iter().any(|e| e == "lost");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !lost() {
        match generator.next_snowflake() {
            Ok(id) => {
                out.write_all(&id.as_u64().to_le_bytes()).unwrap();
                issued += 1;
                if issued == 1_000 {
                    out.flush().unwrap();
                    fs::write(dir.join("holder.ready"), lease.worker().to_string()).unwrap();
                }
            }
            Err(IssueError::LeaseLapsed { .. }) => refusals.push("lapsed"),
            Err(IssueError::LeaseEnded { .. }) => refusals.push("ended"),
            Err(e) => panic!("unexpected refusal: {e}"),
        }
        if issued.is_multiple_of(64) {
            std::thread::sleep(Duration::from_micros(200));
        }
        assert!(
            Instant::now() < deadline,
            "the lost lease was never reported"
        );
    }
    out.flush().unwrap();
    heartbeat.stop();
    let last = match generator.next_snowflake() {
        Err(IssueError::LeaseEnded { .. }) => "ended",
        other => panic!("after the lease was lost: {other:?}"),
    };
    let errors = renew_errors.lock().unwrap().join(",");
    fs::write(
        dir.join("holder.done"),
        format!(
            "{issued} {} {} {last} {errors}",
            refusals.len(),
            refusals.last().unwrap_or(&"none")
        ),
    )
    .unwrap();
}

/// Takes over the expired lease of scope `fence` and issues IDs into `taker.bin`.
fn child_taker() {
    let dir = PathBuf::from(env(OUT_DIR));
    let registry = Arc::new(Registry::open(&env(DB_URL)).unwrap());
    let lease = Arc::new(
        WorkerLease::acquire(
            registry.clone(),
            LeaseOptions::new("fence", "taker").period(FENCE_LEASE),
        )
        .unwrap(),
    );
    // Renewed while it issues: its short lease must not lapse on a loaded machine.
    let heartbeat = Heartbeat::builder(registry.clone())
        .lease(lease.clone())
        .spawn()
        .unwrap();
    let generator = lease.generator();
    let mut out = BufWriter::new(fs::File::create(dir.join("taker.bin")).unwrap());
    for _ in 0..100_000 {
        let id = generator.next_snowflake().unwrap();
        out.write_all(&id.as_u64().to_le_bytes()).unwrap();
    }
    out.flush().unwrap();
    heartbeat.stop();
    fs::write(
        dir.join("taker.done"),
        format!("{} {}", lease.worker(), lease.floor_ms()),
    )
    .unwrap();
    lease.release().unwrap();
}

// ---------------------------------------------------------------------------------
// Eight processes, one database
// ---------------------------------------------------------------------------------

fn eight_processes(url: &str, tag: &str) {
    let dir = out_dir(tag);
    let started = Instant::now();
    // Far enough ahead for all eight to be loaded and waiting.
    let start_at = unix_ms() + 1_500;
    let children: Vec<Child> = (0..PROCESSES)
        .map(|i| {
            spawn_child(
                "issue",
                &[
                    (DB_URL, url.to_owned()),
                    (OUT_DIR, dir.display().to_string()),
                    (INDEX, i.to_string()),
                    (START_AT, start_at.to_string()),
                    (COUNT, IDS_PER_PROCESS.to_string()),
                    (CHILDREN, PROCESSES.to_string()),
                ],
            )
        })
        .collect();
    // Wait for all before judging, so the report shows the child that failed first
    // rather than only a sibling that gave up waiting for it.
    let results: Vec<_> = children
        .into_iter()
        .enumerate()
        .map(|(i, child)| wait_child(child, &format!("child {i}")))
        .collect();
    let failures: Vec<&str> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(String::as_str))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for out in results.iter().flatten() {
        // The harness may print "test child_entry ... " on the same line first.
        for line in out
            .lines()
            .filter_map(|l| l.find("MP child").map(|at| &l[at..]))
        {
            eprintln!("[{tag}] {line}");
        }
    }
    let children_done = started.elapsed();

    let mut workers = Vec::new();
    let mut lists = Vec::new();
    for i in 0..PROCESSES {
        let worker: u32 = fs::read_to_string(dir.join(format!("worker-{i}.txt")))
            .unwrap()
            .parse()
            .unwrap();
        let ids = read_ids(&dir.join(format!("ids-{i}.bin")));
        assert_eq!(ids.len(), IDS_PER_PROCESS, "child {i}");
        for &id in [ids[0], ids[ids.len() / 2], ids[ids.len() - 1]].iter() {
            let parts = Layout::DEFAULT.decompose(Snowflake::new(id).unwrap());
            assert_eq!(parts.worker, worker, "child {i}");
        }
        workers.push(worker);
        lists.push(ids);
    }
    let mut distinct = workers.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), PROCESSES, "workers: {workers:?}");
    assert!(
        distinct.iter().all(|&w| w < PROCESSES as u32),
        "{workers:?}"
    );
    let read = started.elapsed();
    let dups = duplicates_across(&lists);
    eprintln!(
        "[{tag}] read {:?} merge {:?}",
        read - children_done,
        started.elapsed() - read
    );
    assert_eq!(dups, 0);
    eprintln!(
        "[{tag}] {PROCESSES} processes × {IDS_PER_PROCESS} IDs: workers {workers:?}, \
         0 duplicates; children {children_done:?}, total {:?}",
        started.elapsed()
    );
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn eight_processes_one_sqlite_file() {
    let db = TempSqlite::new();
    eight_processes(db.url(), "sqlite");
}

#[test]
fn eight_processes_one_postgres_server() {
    let db = TestDatabase::new();
    eight_processes(db.url(), "postgres");
}

// ---------------------------------------------------------------------------------
// SIGSTOP / SIGCONT fencing
// ---------------------------------------------------------------------------------

fn signal(child: &Child, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill has no memory-safety preconditions; the pid is our own child, which
    // has not been waited for, so it cannot have been reused.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
}

fn wait_for_file(path: &Path, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(s) = fs::read_to_string(path)
            && !s.is_empty()
        {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn paused_holder_is_fenced(url: &str, tag: &str) {
    let dir = out_dir(tag);
    let vars = [
        (DB_URL, url.to_owned()),
        (OUT_DIR, dir.display().to_string()),
    ];
    let holder = spawn_child("holder", &vars);
    let worker: u32 = wait_for_file(&dir.join("holder.ready"), Duration::from_secs(30))
        .parse()
        .unwrap();
    // Let it issue and renew for a while, then freeze it past its lease.
    std::thread::sleep(Duration::from_millis(700));
    signal(&holder, libc::SIGSTOP);
    let stopped_at = unix_ms();
    // Until the registry shows the frozen holder's lease expired (a renewal sent just
    // before the SIGSTOP may still have committed).
    let registry = Registry::open(url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !registry
        .leases("fence")
        .unwrap()
        .iter()
        .any(|l| l.worker == worker && l.free)
    {
        assert!(Instant::now() < deadline, "the frozen lease never expired");
        std::thread::sleep(Duration::from_millis(20));
    }

    let taker = spawn_child("taker", &vars);
    finish(taker, "taker");
    let taken = fs::read_to_string(dir.join("taker.done")).unwrap();
    let (taker_worker, taker_floor) = taken.split_once(' ').unwrap();
    assert_eq!(
        taker_worker.parse::<u32>().unwrap(),
        worker,
        "the same worker ID"
    );
    let taker_floor: u64 = taker_floor.parse().unwrap();

    signal(&holder, libc::SIGCONT);
    finish(holder, "holder");
    let done = fs::read_to_string(dir.join("holder.done")).unwrap();
    let fields: Vec<&str> = done.split(' ').collect();
    let issued: usize = fields[0].parse().unwrap();
    let (refused, refusal, last) = (fields[1], fields[2], fields[3]);
    let renew_errors = fields.get(4).copied().unwrap_or("");
    // Resumed, it refused (a lapsed deadline or, once the heartbeat had found the lease
    // taken, an ended lease) and never issued again.
    assert!(
        ["lapsed", "ended", "none"].contains(&refusal) && last == "ended",
        "{done}"
    );
    assert!(renew_errors.split(',').any(|e| e == "lost"), "{done}");
    let holder_ids = read_ids(&dir.join("holder.bin"));
    let taker_ids = read_ids(&dir.join("taker.bin"));
    assert_eq!(holder_ids.len(), issued);
    assert_eq!(taker_ids.len(), 100_000);
    assert_eq!(
        duplicates_across(&[holder_ids.clone(), taker_ids.clone()]),
        0
    );
    // Stronger: the holder's IDs all lie below the taker's floor, and the holder issued
    // nothing after it was resumed (its newest ID is from before the SIGSTOP).
    let ts = |id: u64| {
        Layout::DEFAULT
            .decompose(Snowflake::new(id).unwrap())
            .timestamp_ms
    };
    let holder_max = ts(*holder_ids.last().unwrap());
    let taker_min = ts(taker_ids[0]);
    assert!(
        holder_max <= taker_floor,
        "{holder_max} > floor {taker_floor}"
    );
    assert!(taker_min > taker_floor);
    assert!(
        holder_max <= stopped_at + 50,
        "holder issued at {holder_max}, stopped at {stopped_at}"
    );
    eprintln!(
        "[{tag}] holder: {issued} IDs up to {holder_max}, stopped at {stopped_at}, then \
         refused {refused} calls (last: {refusal}, after the loss: {last}); taker: worker \
         {worker}, floor {taker_floor}, first {taker_min}"
    );
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn sigstopped_holder_is_fenced_sqlite() {
    let db = TempSqlite::new();
    paused_holder_is_fenced(db.url(), "fence-sqlite");
}

#[test]
fn sigstopped_holder_is_fenced_postgres() {
    let db = TestDatabase::new();
    paused_holder_is_fenced(db.url(), "fence-postgres");
}
