//! Stores shared by real OS processes: the test binary re-invokes itself (the ignored
//! `child_process` test, selected by `TYPED_ID_STORE_CHILD`) as workers that write every
//! ID or number they received to a file of their own; the parent checks the union.
//!
//! - 4 processes × 25 000 collision-checked content-hash inserts into one SQLite file and
//!   one PostgreSQL database: no duplicates, no lost inserts;
//! - 4 × 10 000 children under one parent: numbers 1..=40 000, each once;
//! - 4 × 10 000 display numbers on the file, SQLite and PostgreSQL stores: none twice;
//! - workers allocating display numbers (file and SQLite) killed with SIGKILL at random
//!   moments, 120 kills: the store opens cleanly and no number was received twice. Each
//!   worker logs (fixed-width lines, `typed_id_tests::fault::IssueLog`) a marker before
//!   every allocation and the number after it, so the parent counts the kills that
//!   landed in the middle of an allocation, and requires a good share of them.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use diesel::prelude::*;
use diesel::sql_types::Text;
use typed_id::db::ConnectOptions;
use typed_id::generator::{HashIdGenerator, HashInput};
use typed_id::store::{
    ChildCounter, DisplayIdAllocator, FileStore, IdColumn, PgStore, SqlStore, SqliteStore,
    StoreConnection, StoreError,
};
use typed_id::{HashId, TypedId};
use typed_id_tests::fault::{Event, IssueLog};
use typed_id_tests::pg::TestDatabase;
use typed_id_tests::sqlite::TempSqlite;

#[derive(TypedId)]
#[typed_id(prefix = "el", max_depth = 3)]
struct ElementId(HashId);

/// Selects the worker's job; its presence is what makes `child_process` a worker.
const ENV_JOB: &str = "TYPED_ID_STORE_CHILD";
const ENV_TARGET: &str = "TYPED_ID_STORE_TARGET";
const ENV_OUT: &str = "TYPED_ID_STORE_OUT";
const ENV_COUNT: &str = "TYPED_ID_STORE_COUNT";
const ENV_WORKER: &str = "TYPED_ID_STORE_WORKER";

const PROCESSES: usize = 4;

// ---------------------------------------------------------------------------------------
// The worker side

/// The worker entry point. Ignored in a normal run: the parent tests start it with
/// `--ignored --exact child_process` and the job in the environment.
#[test]
#[ignore = "a worker process started by the other tests in this file"]
fn child_process() {
    let job = std::env::var(ENV_JOB).expect("started by a parent test, with a job");
    let target = std::env::var(ENV_TARGET).expect("target");
    let out = PathBuf::from(std::env::var(ENV_OUT).expect("output file"));
    let count: usize = std::env::var(ENV_COUNT).map_or(0, |c| c.parse().expect("count"));
    let worker: usize = std::env::var(ENV_WORKER).map_or(0, |w| w.parse().expect("worker"));
    match job.as_str() {
        "hash-sqlite" => insert_hashes(&SqliteStore::open(&target).unwrap(), &out, count, worker),
        "hash-postgres" => insert_hashes(&PgStore::open(&target).unwrap(), &out, count, worker),
        "children-sqlite" => take_children(&SqliteStore::open(&target).unwrap(), &out, count),
        "children-postgres" => take_children(&PgStore::open(&target).unwrap(), &out, count),
        "display-file" => {
            take_numbers(&FileStore::open(&target).unwrap(), &out, count);
        }
        "display-sqlite" => take_numbers(&SqliteStore::open(&target).unwrap(), &out, count),
        "display-postgres" => take_numbers(&PgStore::open(&target).unwrap(), &out, count),
        "observe-file" => {
            // Worker i has imported items up to 1 000 × (i + 1) (a few of them in two
            // calls, the second below the first), then takes numbers.
            let store = FileStore::open(&target).unwrap();
            let seen = 1000 * (worker as u64 + 1);
            store.observe_display_number("imported", seen).unwrap();
            store.observe_display_number("imported", seen / 2).unwrap();
            let numbers: Vec<u64> = (0..count)
                .map(|_| store.allocate("imported").unwrap())
                .collect();
            assert!(
                numbers.iter().all(|&n| n > seen),
                "{numbers:?} not above {seen}"
            );
            write_lines(out.as_path(), numbers.iter().map(u64::to_string));
        }
        "crash-file" => log_until_killed(&FileStore::open(&target).unwrap(), &out),
        "crash-sqlite" => log_until_killed(&SqliteStore::open(&target).unwrap(), &out),
        "close-late" | "close-after-notice" | "commit-late" => {
            // Allocates, says so, waits for the parent's go, then closes the store
            // (after a failed allocation in the other jobs) and exits. In `commit-late`
            // the store checkpoints after `count + 1` operations: its log holds all it
            // wrote, and the failed allocation is the one whose checkpoint is due.
            let options = ConnectOptions::new().checkpoint_every(count as u32 + 1);
            let store = if job == "commit-late" {
                SqliteStore::open_with(&target, &options).unwrap()
            } else {
                SqliteStore::open(&target).unwrap()
            };
            let numbers: Vec<String> = (0..count)
                .map(|_| store.allocate("late").unwrap().to_string())
                .collect();
            write_lines(&out, numbers);
            let go = out.with_extension("go");
            let deadline = Instant::now() + Duration::from_secs(60);
            while !go.exists() {
                assert!(Instant::now() < deadline, "no go from the parent");
                thread::sleep(Duration::from_millis(5));
            }
            if job != "close-late" {
                let err = store.allocate("late").unwrap_err();
                assert!(
                    matches!(err, StoreError::DatabaseFileReplaced { .. }),
                    "{err:?}"
                );
            }
            drop(store);
        }
        other => panic!("unknown job {other}"),
    }
}

/// Collision-checked inserts in transactions of 500 (each insert is a savepoint inside),
/// then every ID received, one per line.
fn insert_hashes<C: StoreConnection>(store: &SqlStore<C>, out: &Path, count: usize, worker: usize) {
    let generator = HashIdGenerator::new();
    let column = IdColumn::new("elements", "id").unwrap();
    let mut ids = Vec::with_capacity(count);
    let titles: Vec<String> = (0..count).map(|i| format!("item {worker}/{i}")).collect();
    for batch in titles.chunks(500) {
        store
            .write(|conn| {
                for title in batch.iter() {
                    let input = HashInput::now(title, "multiprocess");
                    let id: ElementId =
                        column.insert_unique(conn, &generator, &input, |c, id| {
                            // IDs are [0-9a-z.-] only: safe to inline on both engines.
                            c.batch_execute(&format!("INSERT INTO elements (id) VALUES ('{id}')"))
                        })?;
                    ids.push(id);
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
    write_lines(out, ids.iter().map(|id| id.to_string()));
}

fn take_children<C: StoreConnection>(store: &SqlStore<C>, out: &Path, count: usize) {
    let parent = ElementId::parse("el-root").unwrap();
    let numbers: Vec<String> = (0..count)
        .map(|_| {
            let child = store.next_child(&parent).unwrap();
            child.body().child_number().unwrap().to_string()
        })
        .collect();
    write_lines(out, numbers);
}

fn take_numbers(store: &impl DisplayIdAllocator, out: &Path, count: usize) {
    let numbers: Vec<String> = (0..count)
        .map(|_| store.allocate("shared").unwrap().to_string())
        .collect();
    write_lines(out, numbers);
}

/// The marker a crash worker logs right before each allocation.
const ALLOCATING: &str = "allocating";

/// Allocates forever, logging a marker before each allocation and the number after it
/// (fixed-width lines, one `write` each: a kill leaves at most a short last line,
/// dropped by the reader, never a line that reads as another number), until the
/// parent kills this process.
fn log_until_killed(store: &impl DisplayIdAllocator, log: &Path) {
    let mut log = IssueLog::create(log);
    loop {
        log.error(ALLOCATING);
        let n = store.allocate("crash").unwrap();
        log.issued(n);
    }
}

fn write_lines(out: &Path, lines: impl IntoIterator<Item = String>) {
    let mut text = String::new();
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    // Write then rename: the parent never reads a half-written result.
    let tmp = out.with_extension("tmp");
    fs::write(&tmp, text).unwrap();
    fs::rename(&tmp, out).unwrap();
}

// ---------------------------------------------------------------------------------------
// The parent side

fn worker(job: &str, target: &str, out: &Path, count: usize, index: usize) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "child_process",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ENV_JOB, job)
    .env(ENV_TARGET, target)
    .env(ENV_OUT, out)
    .env(ENV_COUNT, count.to_string())
    .env(ENV_WORKER, index.to_string())
    .stdin(Stdio::null());
    cmd
}

/// Runs `PROCESSES` workers at once and returns each one's lines.
fn run_workers(job: &str, target: &str, dir: &Path, count: usize) -> Vec<Vec<String>> {
    let started = Instant::now();
    let children: Vec<(PathBuf, Child)> = (0..PROCESSES)
        .map(|i| {
            let out = dir.join(format!("{job}-{i}.out"));
            let child = worker(job, target, &out, count, i)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (out, child)
        })
        .collect();
    let results = children
        .into_iter()
        .map(|(out, child)| {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "worker {job} failed ({}):\n{}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let text = fs::read_to_string(&out).unwrap();
            text.lines().map(str::to_owned).collect::<Vec<_>>()
        })
        .collect::<Vec<_>>();
    eprintln!(
        "{job}: {PROCESSES} processes × {count} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for lines in &results {
        assert_eq!(lines.len(), count, "{job}: a worker reported too few");
    }
    results
}

fn assert_all_distinct(job: &str, lines: &[Vec<String>]) -> HashSet<String> {
    let mut seen = HashSet::new();
    for line in lines.iter().flatten() {
        assert!(
            seen.insert(line.clone()),
            "{job}: {line} was handed out twice"
        );
    }
    seen
}

fn assert_exactly_one_to(job: &str, lines: &[Vec<String>], n: u64) {
    let mut numbers: Vec<u64> = lines.iter().flatten().map(|l| l.parse().unwrap()).collect();
    numbers.sort_unstable();
    assert_all_distinct(job, lines);
    assert_eq!(numbers.first(), Some(&1), "{job}");
    assert_eq!(numbers.last(), Some(&n), "{job}");
    assert_eq!(numbers.len() as u64, n, "{job}");
}

const HASHES: usize = 25_000;
const CHILDREN: usize = 10_000;
const NUMBERS: usize = 10_000;

fn check_hash_inserts<C: StoreConnection>(
    job: &str,
    store: &SqlStore<C>,
    target: &str,
    dir: &Path,
) {
    store
        .write(|c| c.batch_execute("CREATE TABLE elements (id TEXT PRIMARY KEY NOT NULL)"))
        .unwrap();
    let lines = run_workers(job, target, dir, HASHES);
    let reported = assert_all_distinct(job, &lines);
    assert_eq!(reported.len(), PROCESSES * HASHES);
    // Every reported ID is in the table, and nothing else is.
    let column = IdColumn::new("elements", "id").unwrap();
    let stored = {
        use typed_id::generator::CollisionCheck as _;
        column.check(&mut *store.connection()).count().unwrap()
    };
    assert_eq!(
        stored as usize,
        PROCESSES * HASHES,
        "{job}: rows in the table"
    );
    let mut conn = store.connection();
    let sample: Vec<&String> = reported.iter().step_by(97).collect();
    for id in sample {
        use typed_id::generator::CollisionCheck as _;
        assert!(
            column.check(&mut *conn).exists(id).unwrap(),
            "{job}: {id} lost"
        );
    }
    drop(conn);
    for line in reported {
        ElementId::parse(&line).unwrap_or_else(|e| panic!("{job}: {e}"));
    }
}

/// A process whose `-wal` and `-shm` were deleted (a temp cleaner) while it runs, and a
/// new process that numbered on fresh ones and has closed: when the old process then
/// closes its store, SQLite's close (the last connection, as far as it can tell) would
/// checkpoint its stale log over the new process's pages and delete the `-wal` at the
/// path, the new process's numbers with it; and its next commit goes to its stale log,
/// which must not be checkpointed either (`commit-late`: SQLite's automatic checkpoint,
/// off on the crate's connections, would run inside that commit; the store's own runs
/// only once its file check passed). The old process must leave both alone: the next
/// process goes on above the new one's numbers.
#[test]
fn a_process_closing_after_its_logs_were_deleted_leaves_the_new_ones_alone() {
    let db = TempSqlite::new();
    let dir = db.path().parent().unwrap();
    let side = |suffix: &str| {
        let mut p = db.path().to_owned().into_os_string();
        p.push(suffix);
        PathBuf::from(p)
    };
    for job in ["close-late", "close-after-notice", "commit-late"] {
        for p in [db.path().to_owned(), side("-wal"), side("-shm")] {
            let _ = fs::remove_file(p);
        }
        let out = dir.join(format!("{job}.out"));
        let mut child = worker(job, db.url(), &out, 3, 0)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !out.exists() {
            assert!(
                Instant::now() < deadline,
                "{job}: the worker never allocated"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "{job}: the worker died"
            );
            thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(fs::read_to_string(&out).unwrap(), "1\n2\n3\n");
        fs::remove_file(side("-wal")).unwrap();
        fs::remove_file(side("-shm")).unwrap();

        // The file holds what the last checkpoint wrote, none of the three; the new
        // process numbers from there, past them, and closes. Its log is copied into the
        // file after every operation, and its last one writes another table: the log
        // then starts over and holds only that table's page, so the next process reads
        // the display numbers' page from the file itself.
        let every = ConnectOptions::new().checkpoint_every(1);
        let new = SqliteStore::open_with(db.url(), &every).unwrap();
        let issued: Vec<u64> = (0..10).map(|_| new.allocate("late").unwrap()).collect();
        assert_eq!(
            issued,
            (1..=10).collect::<Vec<u64>>(),
            "{job}: the old numbers reached the file"
        );
        new.next_child_number("el-a3f8").unwrap();
        drop(new);

        fs::write(out.with_extension("go"), b"").unwrap();
        let done = child.wait_with_output().unwrap();
        assert!(
            done.status.success(),
            "{job}: {}",
            String::from_utf8_lossy(&done.stderr)
        );
        let next = SqliteStore::open(db.url()).unwrap();
        let n = next.allocate("late").unwrap();
        assert!(
            n > *issued.last().unwrap(),
            "{job}: {n} after the new process issued {issued:?}: the old process's close \
             or last commit undid its work"
        );
        drop(next);
        let _ = fs::remove_file(out.with_extension("go"));
    }
}

#[test]
fn sqlite_hash_inserts_from_4_processes() {
    let db = TempSqlite::new();
    let store = SqliteStore::open(db.url()).unwrap();
    check_hash_inserts("hash-sqlite", &store, db.url(), db.path().parent().unwrap());
}

#[test]
fn postgres_hash_inserts_from_4_processes() {
    let db = TestDatabase::new();
    let tmp = TempSqlite::new();
    let store = PgStore::open(db.url()).unwrap();
    check_hash_inserts(
        "hash-postgres",
        &store,
        db.url(),
        tmp.path().parent().unwrap(),
    );
}

#[test]
fn sqlite_children_from_4_processes() {
    let db = TempSqlite::new();
    let lines = run_workers(
        "children-sqlite",
        db.url(),
        db.path().parent().unwrap(),
        CHILDREN,
    );
    assert_exactly_one_to("children-sqlite", &lines, (PROCESSES * CHILDREN) as u64);
}

#[test]
fn postgres_children_from_4_processes() {
    let db = TestDatabase::new();
    let tmp = TempSqlite::new();
    // Migrated first here, so the workers also cover opening a store that is ready.
    drop(PgStore::open(db.url()).unwrap());
    let lines = run_workers(
        "children-postgres",
        db.url(),
        tmp.path().parent().unwrap(),
        CHILDREN,
    );
    assert_exactly_one_to("children-postgres", &lines, (PROCESSES * CHILDREN) as u64);
}

/// A file store's observed number is shared by the folder: a process that observes
/// and exits leaves the next process numbering above it, and processes observing and
/// allocating at once never receive a number twice nor one at or below what they
/// observed.
#[test]
fn observed_display_numbers_hold_across_processes_on_the_file_store() {
    let tmp = TempSqlite::new();
    let dir = tmp.path().parent().unwrap();
    let counters = dir.join("observed");
    let target = counters.to_str().unwrap();
    // One process observes 1 000 and takes 3, then exits; the next starts above.
    let out = dir.join("observe-one.out");
    let status = worker("observe-file", target, &out, 3, 0).status().unwrap();
    assert!(status.success());
    let first: Vec<u64> = fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(first, [1001, 1002, 1003]);
    let store = FileStore::open(&counters).unwrap();
    assert_eq!(store.allocate("imported").unwrap(), 1004);
    // Observing below what the folder has reached changes nothing for anyone.
    store.observe_display_number("imported", 10).unwrap();
    drop(store);

    // Four at once, observing 1 000 to 4 000.
    let lines = run_workers("observe-file", target, dir, 500);
    assert_all_distinct("observe-file", &lines);
    let all: Vec<u64> = lines.iter().flatten().map(|l| l.parse().unwrap()).collect();
    assert!(
        all.iter().all(|&n| n > 1004),
        "a number at or below one handed out before"
    );
    let store = FileStore::open(&counters).unwrap();
    let last = store.last("imported").unwrap();
    assert!(last >= 4000 && last >= *all.iter().max().unwrap(), "{last}");
    assert_eq!(store.allocate("imported").unwrap(), last + 1);
}

#[test]
fn display_numbers_from_4_processes_on_every_backend() {
    let tmp = TempSqlite::new();
    let dir = tmp.path().parent().unwrap();
    let counters = dir.join("counters");
    let pg = TestDatabase::new();
    let backends = [
        ("display-file", counters.to_str().unwrap().to_owned()),
        ("display-sqlite", tmp.url().to_owned()),
        ("display-postgres", pg.url().to_owned()),
    ];
    // The three backends at once: they share nothing, and the run takes a third as long.
    thread::scope(|s| {
        for (job, target) in &backends {
            s.spawn(move || {
                let lines = run_workers(job, target, dir, NUMBERS);
                assert_exactly_one_to(job, &lines, (PROCESSES * NUMBERS) as u64);
            });
        }
    });
    assert_eq!(
        FileStore::open(&counters).unwrap().last("shared").unwrap(),
        (PROCESSES * NUMBERS) as u64
    );
}

// ---------------------------------------------------------------------------------------
// Crashes

/// A small xorshift generator: random kill times without a dependency.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()) << 32;
        eprintln!("crash test seed: {seed}");
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const ROUNDS: usize = 30;
const AT_ONCE: usize = 2;

/// What the kills of one backend did.
struct Kills {
    /// Every number a worker logged.
    numbers: Vec<u64>,
    /// Workers killed.
    kills: usize,
    /// Kills of workers that had begun allocating (logged at least one marker).
    after_start: usize,
    /// Kills that landed between a worker's "allocating" marker and its number: in
    /// the middle of an allocation (or right after it, before the number was logged).
    mid_allocation: usize,
}

/// `ROUNDS` rounds of `AT_ONCE` workers, each killed with SIGKILL at a random moment:
/// the first of each round at a random time after it was started (during start-up,
/// while opening the store, mid-allocation, mid-log-write), the others a random few
/// milliseconds after their log shows they began allocating, so that a loaded machine
/// (slow start-ups) still puts many kills in the middle of allocations.
fn kill_workers(job: &str, target: &str, dir: &Path, rng: &mut Rng) -> Kills {
    let mut kills = 0;
    let mut logs = Vec::new();
    for round in 0..ROUNDS {
        let started = Instant::now();
        let children: Vec<(PathBuf, Child)> = (0..AT_ONCE)
            .map(|i| {
                let log = dir.join(format!("{job}-{round}-{i}.log"));
                logs.push(log.clone());
                let child = worker(job, target, &log, 0, i)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                (log, child)
            })
            .collect();
        for (i, (log, mut child)) in children.into_iter().enumerate() {
            if i == 0 {
                let at = Duration::from_millis(20 + rng.below(180));
                thread::sleep(at.saturating_sub(started.elapsed()));
            } else {
                let began = Instant::now();
                while IssueLog::read(&log).0.is_empty() {
                    assert!(
                        began.elapsed() < Duration::from_secs(120),
                        "{job}: a worker never began allocating"
                    );
                    thread::sleep(Duration::from_millis(1));
                }
                thread::sleep(Duration::from_millis(rng.below(30)));
            }
            // A worker never exits by itself: if it did, it failed.
            assert!(
                child.try_wait().unwrap().is_none(),
                "{job}: a worker died before it was killed"
            );
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            kills += 1;
        }
    }
    let mut numbers = Vec::new();
    let mut mid_allocation = 0;
    let mut after_start = 0;
    for log in logs {
        // A missing log: killed before it opened it. A torn last line: killed while
        // writing it; the number it held counts as skipped, like one never logged.
        let (events, _torn) = IssueLog::read(&log);
        after_start += usize::from(!events.is_empty());
        if matches!(events.last(), Some(Event::Error(kind)) if kind == ALLOCATING) {
            mid_allocation += 1;
        }
        for event in events {
            match event {
                Event::Issued(n) => numbers.push(n),
                Event::Error(kind) if kind == ALLOCATING => {}
                Event::Error(kind) => panic!("{job}: a worker logged an error {kind}"),
            }
        }
    }
    eprintln!(
        "{job}: {kills} kills, {after_start} after the first allocation began, \
         {mid_allocation} in the middle of an allocation"
    );
    Kills {
        numbers,
        kills,
        after_start,
        mid_allocation,
    }
}

fn check_survivors(job: &str, numbers: &[u64], kills: usize, store: &impl DisplayIdAllocator) {
    let mut seen = HashSet::new();
    for n in numbers {
        assert!(seen.insert(*n), "{job}: {n} was handed out twice");
    }
    let max = numbers.iter().copied().max().unwrap_or(0);
    let last = store.last("crash").unwrap();
    assert!(
        last >= max,
        "{job}: the store is behind what it handed out ({last} < {max})"
    );
    // A killed process costs at most the one number it held but had not logged: the
    // file store's reserved blocks are never skipped because of a process crash.
    let skipped = (last - max) as usize + (max as usize - numbers.len());
    assert!(
        skipped <= kills,
        "{job}: {skipped} numbers skipped for {kills} killed processes"
    );
    assert!(store.allocate("crash").unwrap() > max);
    eprintln!("{job}: {} numbers logged, store at {last}", numbers.len());
}

#[test]
fn killed_workers_never_repeat_a_number() {
    let tmp = TempSqlite::new();
    let dir = tmp.path().parent().unwrap();
    let counters = dir.join("counters");
    let mut rng = Rng::new();

    let file = kill_workers("crash-file", counters.to_str().unwrap(), dir, &mut rng);
    check_survivors(
        "crash-file",
        &file.numbers,
        file.kills,
        &FileStore::open(&counters).unwrap(),
    );

    let sqlite = kill_workers("crash-sqlite", tmp.url(), dir, &mut rng);
    let store = SqliteStore::open(tmp.url()).unwrap();
    check_survivors("crash-sqlite", &sqlite.numbers, sqlite.kills, &store);

    // The file is still a sound database.
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = Text)]
        integrity_check: String,
    }
    let check: Check = diesel::sql_query("PRAGMA integrity_check")
        .get_result(&mut *store.connection())
        .unwrap();
    assert_eq!(check.integrity_check, "ok");
    // The kills must have hit what they are meant to test: allocations under way, not
    // only processes starting up or between calls. Half the workers are killed after
    // they began allocating, and a worker spends most of its life after that inside
    // `allocate` (the two log writes around it take microseconds), so at least half of
    // the kills after the first allocation must land there, and a quarter of all.
    for (job, kills) in [("crash-file", &file), ("crash-sqlite", &sqlite)] {
        assert!(
            kills.mid_allocation * 2 >= kills.after_start
                && kills.mid_allocation * 4 >= kills.kills,
            "{job}: only {} of {} kills ({} after start-up) landed in the middle of an allocation",
            kills.mid_allocation,
            kills.kills,
            kills.after_start
        );
    }
}
