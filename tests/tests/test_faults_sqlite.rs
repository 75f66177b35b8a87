//! The fault table's SQLite column: `SqliteStore` processes sharing one database file
//! while the file is deleted or restored under them, while processes are killed or
//! frozen holding the write lock, and while another process holds the write lock past
//! the busy timeout. Every cell: no number issued twice within one copy of the file,
//! only typed errors, and processes started before the file was replaced issue nothing
//! from the old file afterwards.
//!
//! The workers are this test binary re-invoked (`child_process`, ignored in a normal
//! run) with the job in the environment; each logs every number and error to its own
//! [`IssueLog`].

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use typed_id::db::ConnectOptions;
use typed_id::store::{DisplayIdAllocator, SqliteStore, StoreError};
use typed_id_tests::fault::{Backend, Event, FaultTable, IssueLog, Scratch, Tally, rounds};

const ENV_JOB: &str = "TYPED_ID_FAULT_SQLITE_JOB";
const ENV_DB: &str = "TYPED_ID_FAULT_SQLITE_DB";
const ENV_LOG: &str = "TYPED_ID_FAULT_SQLITE_LOG";
const ENV_STOP: &str = "TYPED_ID_FAULT_SQLITE_STOP";
const ENV_BUSY_MS: &str = "TYPED_ID_FAULT_SQLITE_BUSY_MS";

const SCOPE: &str = "faults";
/// Long enough for every wait below on a loaded machine; reaching it fails the cell.
const DEADLINE: Duration = Duration::from_secs(60);
/// A wait longer than this is reported (with the workers' errors) while investigating.
const SLOW: Duration = Duration::from_secs(5);
/// How long a worker may take to notice that its file was replaced (it must within one
/// allocation: milliseconds).
const NOTICE: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------
// The worker side

/// The worker entry point: started by the cells with `--ignored --exact child_process`.
#[test]
#[ignore = "a worker process started by the fault cells in this file"]
fn child_process() {
    let job = std::env::var(ENV_JOB).expect("started by a fault cell, with a job");
    let db = std::env::var(ENV_DB).expect("database path");
    let mut log = IssueLog::create(Path::new(&std::env::var(ENV_LOG).expect("log")));
    let stop = PathBuf::from(std::env::var(ENV_STOP).expect("stop file"));
    let busy = Duration::from_millis(
        std::env::var(ENV_BUSY_MS).map_or(30_000, |ms| ms.parse().expect("busy ms")),
    );
    let options = ConnectOptions::new().busy_timeout(busy);
    match job.as_str() {
        "allocate" => {
            let store = open(&db, &options, &mut log);
            allocate_until_stopped(&store, &mut log, &stop);
        }
        "two-stores" => {
            // Two stores of one process on the same file, two threads each.
            let stores = [open(&db, &options, &mut log), open(&db, &options, &mut log)];
            let logs: Vec<PathBuf> = (0..4)
                .map(|i| PathBuf::from(format!("{}.t{i}", std::env::var(ENV_LOG).unwrap())))
                .collect();
            thread::scope(|s| {
                for (i, path) in logs.iter().enumerate() {
                    let store = &stores[i % 2];
                    let stop = &stop;
                    s.spawn(move || {
                        allocate_until_stopped(store, &mut IssueLog::create(path), stop)
                    });
                }
            });
        }
        other => panic!("unknown job {other}"),
    }
}

/// Opens the store, retrying while another process holds the lock a fresh file's set-up
/// needs (each failure logged as the typed error it is).
fn open(db: &str, options: &ConnectOptions, log: &mut IssueLog) -> SqliteStore {
    let started = Instant::now();
    loop {
        match SqliteStore::open_with(db, options) {
            Ok(store) => return store,
            Err(e) if started.elapsed() < DEADLINE => {
                log_error(log, "opening", &e);
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("cannot open {db}: {e}"),
        }
    }
}

/// Logs `e` by kind, `Busy` for a lock wait that timed out (SQLite does not queue
/// waiters: a worker can lose to the others for the whole busy timeout), and prints it
/// in full.
fn log_error(log: &mut IssueLog, doing: &str, e: &StoreError) {
    if e.is_busy() {
        log.error("Busy");
    } else {
        log.error_of(e);
    }
    eprintln!("worker error: {doing}: {e}");
}

/// Allocates until the stop file appears, logging each number before the next call.
/// A replaced database file is final: the worker logs it and stops.
fn allocate_until_stopped(store: &SqliteStore, log: &mut IssueLog, stop: &Path) {
    while !stop.exists() {
        match store.allocate(SCOPE) {
            Ok(n) => log.issued(n),
            Err(e) => {
                log_error(log, "allocating", &e);
                if matches!(e, StoreError::DatabaseFileReplaced { .. }) {
                    return;
                }
                thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The parent side

/// A running worker.
struct Worker {
    child: Child,
    log: PathBuf,
    stderr: PathBuf,
    killed: bool,
}

/// One cell's database file, stop file and workers.
struct Rig {
    scratch: Scratch,
    db: PathBuf,
    stop: PathBuf,
    workers: Vec<Worker>,
    busy_ms: u64,
    spawned: usize,
}

impl Rig {
    fn new(tag: &str) -> Rig {
        let scratch = Scratch::new(tag);
        let db = scratch.path().join("ids.db");
        let stop = scratch.path().join("stop");
        // The schema first, so workers start together without racing the migrations.
        drop(SqliteStore::open(db.to_str().unwrap()).unwrap());
        Rig {
            scratch,
            db,
            stop,
            workers: Vec::new(),
            busy_ms: 30_000,
            spawned: 0,
        }
    }

    fn side(&self, suffix: &str) -> PathBuf {
        let mut p = self.db.clone().into_os_string();
        p.push(suffix);
        PathBuf::from(p)
    }

    /// Starts a worker; returns its index.
    fn spawn(&mut self, job: &str) -> usize {
        let n = self.spawned;
        self.spawned += 1;
        let log = self.scratch.path().join(format!("w{n}.log"));
        let stderr = self.scratch.path().join(format!("w{n}.err"));
        let child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ENV_JOB, job)
            .env(ENV_DB, &self.db)
            .env(ENV_LOG, &log)
            .env(ENV_STOP, &self.stop)
            .env(ENV_BUSY_MS, self.busy_ms.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        self.workers.push(Worker {
            child,
            log,
            stderr,
            killed: false,
        });
        self.workers.len() - 1
    }

    fn events(&self, i: usize) -> Vec<Event> {
        IssueLog::read(&self.workers[i].log).0
    }

    fn issued(&self, i: usize) -> usize {
        count(&self.events(i), true)
    }

    fn errors(&self, i: usize) -> usize {
        count(&self.events(i), false)
    }

    /// Waits until `cond` holds; a failure of the cell if it never does.
    fn wait(&self, tally: &mut Tally, what: &str, mut cond: impl FnMut(&Rig) -> bool) -> bool {
        let started = Instant::now();
        while !cond(self) {
            if started.elapsed() > DEADLINE {
                tally.fail(format!("timed out waiting until {what}"));
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
        if started.elapsed() > SLOW {
            eprintln!(
                "slow: {:.1} s until {what}; worker errors so far: {:?}",
                started.elapsed().as_secs_f64(),
                self.error_texts()
            );
        }
        true
    }

    /// Whether worker `i` has exited (reaping it).
    fn exited(&mut self, i: usize) -> bool {
        self.workers[i].child.try_wait().unwrap().is_some()
    }

    fn signal(&self, i: usize, sig: libc::c_int) {
        signal(&self.workers[i].child, sig);
    }

    fn kill(&mut self, i: usize) {
        self.signal(i, libc::SIGKILL);
        self.workers[i].killed = true;
        let _ = self.workers[i].child.wait();
    }

    /// Stops every worker and waits for them: a worker that does not exit in time, or
    /// exits with a failure it was not killed for, fails the cell.
    fn stop(&mut self, tally: &mut Tally) {
        File::create(&self.stop).unwrap();
        let deadline = Instant::now() + DEADLINE;
        for w in &mut self.workers {
            let status = loop {
                if let Some(status) = w.child.try_wait().unwrap() {
                    break Some(status);
                }
                if Instant::now() > deadline {
                    signal(&w.child, libc::SIGKILL);
                    let _ = w.child.wait();
                    break None;
                }
                thread::sleep(Duration::from_millis(10));
            };
            match status {
                None => tally.fail(format!("worker {} hung", w.log.display())),
                Some(s) if !s.success() && !w.killed => tally.fail(format!(
                    "worker failed ({s}): {}",
                    tail(&fs::read_to_string(&w.stderr).unwrap_or_default())
                )),
                Some(_) => {}
            }
        }
        let _ = fs::remove_file(&self.stop);
    }

    /// The errors the workers printed, in full (their logs keep only the kind), for a
    /// failure message.
    fn error_texts(&self) -> Vec<String> {
        self.workers
            .iter()
            .enumerate()
            .flat_map(|(i, w)| {
                fs::read_to_string(&w.stderr)
                    .unwrap_or_default()
                    .lines()
                    .filter_map(|l| l.strip_prefix("worker error: "))
                    .map(|l| format!("worker {i}: {l}"))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Every worker's events (the two-stores job's per-thread logs included) into `tally`.
    fn tally_all(&self, tally: &mut Tally, workers: impl IntoIterator<Item = usize>) {
        for i in workers {
            let log = &self.workers[i].log;
            IssueLog::tally_into(log, tally);
            for t in 0..4 {
                IssueLog::tally_into(Path::new(&format!("{}.t{t}", log.display())), tally);
            }
        }
    }
}

fn count(events: &[Event], issued: bool) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Issued(_)) == issued)
        .count()
}

fn tail(text: &str) -> String {
    let start = text.len().saturating_sub(2_000);
    let mut cut = start;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    text[cut..].to_owned()
}

fn signal(child: &Child, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on a child we started and have not reaped.
    let _ = unsafe { libc::kill(pid, sig) };
}

/// Waits until the kernel reports `child` stopped (`T` in `/proc/{pid}/stat`): a
/// SIGSTOP takes effect asynchronously.
fn wait_stopped(child: &Child) {
    let stat = format!("/proc/{}/stat", child.id());
    let deadline = Instant::now() + DEADLINE;
    loop {
        let text = fs::read_to_string(&stat).unwrap_or_default();
        // The state follows the parenthesised command name.
        let state = text
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        if matches!(state, Some('T' | 't') | None) || Instant::now() > deadline {
            return;
        }
        thread::yield_now();
    }
}

/// A small xorshift generator for fault timing, seeded from the clock.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Rng(u64::from(nanos) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Whether another connection holds the database's write lock right now.
fn write_lock_held(conn: &mut SqliteConnection) -> bool {
    match conn.batch_execute("BEGIN IMMEDIATE") {
        Ok(()) => {
            conn.batch_execute("ROLLBACK").unwrap();
            false
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("locked") || msg.contains("busy"), "{msg}");
            true
        }
    }
}

fn connect_nowait(db: &Path) -> SqliteConnection {
    let mut conn = SqliteConnection::establish(db.to_str().unwrap()).unwrap();
    conn.batch_execute("PRAGMA busy_timeout = 0").unwrap();
    conn
}

// ---------------------------------------------------------------------------------------
// The cells

fn kill_9(tally: &mut Tally) {
    let mut rng = Rng::new();
    let mut rig = Rig::new("sqlite-kill9");
    let mut live: Vec<usize> = (0..3).map(|_| rig.spawn("allocate")).collect();
    for _ in 0..rounds(6) {
        let k = live[rng.below(live.len() as u64) as usize];
        let before = rig.issued(k);
        // Kill it once it is allocating, at a random moment.
        if !rig.wait(tally, "a worker allocates", |r| r.issued(k) > before) {
            break;
        }
        thread::sleep(Duration::from_millis(rng.below(40)));
        rig.kill(k);
        tally.run();
        live.retain(|&i| i != k);
        live.push(rig.spawn("allocate"));
    }
    rig.stop(tally);
    rig.tally_all(tally, 0..rig.workers.len());
    // The file is sound afterwards, and its counter is past every number received.
    let store = SqliteStore::open(rig.db.to_str().unwrap()).unwrap();
    let last = store.last(SCOPE).unwrap();
    tally.check(store.allocate(SCOPE).unwrap() == last + 1, || {
        "the store does not continue after the kills".into()
    });
}

/// A worker frozen while it holds the write lock: the others wait up to their busy
/// timeout, then fail with a typed error; after SIGCONT everyone goes on.
fn sigstop(tally: &mut Tally) {
    let mut rng = Rng::new();
    let mut rig = Rig::new("sqlite-sigstop");
    rig.busy_ms = 300;
    let mut probe = connect_nowait(&rig.db);
    for _ in 0..rounds(2) {
        let holder = rig.spawn("allocate");
        if !rig.wait(tally, "the holder allocates", |r| r.issued(holder) > 10) {
            break;
        }
        // Stop it at random moments until it is frozen inside a write: the lock stays
        // taken (nobody else writes yet).
        let mut landed = false;
        for _ in 0..2_000 {
            rig.signal(holder, libc::SIGSTOP);
            wait_stopped(&rig.workers[holder].child);
            if write_lock_held(&mut probe) {
                landed = true;
                break;
            }
            rig.signal(holder, libc::SIGCONT);
            thread::sleep(Duration::from_micros(rng.below(2_000)));
        }
        if !landed {
            tally.fail("never caught the worker holding the write lock");
            rig.signal(holder, libc::SIGCONT);
            break;
        }
        tally.run();
        let waiters = [rig.spawn("allocate"), rig.spawn("allocate")];
        rig.wait(tally, "each waiter gave up with a typed error", |r| {
            waiters.iter().all(|&w| r.errors(w) > 0)
        });
        for &w in &waiters {
            let issued = rig.issued(w);
            tally.check(issued == 0, || {
                format!("a worker allocated {issued} while the lock was held")
            });
        }
        rig.signal(holder, libc::SIGCONT);
        let base: Vec<usize> = waiters.iter().map(|&w| rig.issued(w)).collect();
        rig.wait(tally, "the waiters allocate again", |r| {
            waiters.iter().zip(&base).all(|(&w, &b)| r.issued(w) > b)
        });
        rig.stop(tally);
    }
    rig.tally_all(tally, 0..rig.workers.len());
    let locked = tally.errors.get("Busy").copied().unwrap_or(0);
    let errors = format!("{:?}", tally.errors);
    tally.check(locked == tally.error_count(), || {
        format!("unexpected errors: {errors}")
    });
}

/// Two stores in one process on one file (two threads each), beside a third process.
fn two_stores(tally: &mut Tally) {
    let mut rig = Rig::new("sqlite-two");
    for _ in 0..rounds(1) {
        tally.run();
        let pair = rig.spawn("two-stores");
        let other = rig.spawn("allocate");
        rig.wait(tally, "both processes allocate", |r| {
            let threads: usize = (0..4)
                .map(|t| {
                    count(
                        &IssueLog::read(Path::new(&format!(
                            "{}.t{t}",
                            r.workers[pair].log.display()
                        )))
                        .0,
                        true,
                    )
                })
                .sum();
            threads > 2_000 && r.issued(other) > 500
        });
        rig.stop(tally);
    }
    rig.tally_all(tally, 0..rig.workers.len());
    let errors = format!("{:?}", tally.errors);
    let mut texts = rig.error_texts();
    texts.dedup();
    texts.truncate(8);
    tally.check(tally.error_count() == 0, || {
        format!("errors: {errors}: {texts:?}")
    });
}

/// The parent holds the write lock past the workers' busy timeout.
fn write_lock_held_cell(tally: &mut Tally) {
    let mut rig = Rig::new("sqlite-lock");
    rig.busy_ms = 300;
    let workers: Vec<usize> = (0..3).map(|_| rig.spawn("allocate")).collect();
    let mut holder = SqliteConnection::establish(rig.db.to_str().unwrap()).unwrap();
    holder.batch_execute("PRAGMA busy_timeout = 30000").unwrap();
    for _ in 0..rounds(2) {
        let base: Vec<usize> = workers.iter().map(|&w| rig.issued(w)).collect();
        if !rig.wait(tally, "the workers allocate", |r| {
            workers.iter().zip(&base).all(|(&w, &b)| r.issued(w) > b)
        }) {
            break;
        }
        holder.batch_execute("BEGIN IMMEDIATE").unwrap();
        tally.run();
        let errors: Vec<usize> = workers.iter().map(|&w| rig.errors(w)).collect();
        let issued: Vec<usize> = workers.iter().map(|&w| rig.issued(w)).collect();
        rig.wait(tally, "every worker gave up with a typed error", |r| {
            workers.iter().zip(&errors).all(|(&w, &e)| r.errors(w) > e)
        });
        // At most the one allocation each had under way when the lock was taken.
        for (&w, &before) in workers.iter().zip(&issued) {
            let now = rig.issued(w);
            tally.check(now <= before + 1, || {
                format!(
                    "a worker allocated {} while the lock was held",
                    now - before
                )
            });
        }
        holder.batch_execute("ROLLBACK").unwrap();
    }
    rig.stop(tally);
    rig.tally_all(tally, workers);
    let locked = tally.errors.get("Busy").copied().unwrap_or(0);
    let errors = format!("{:?}", tally.errors);
    tally.check(locked == tally.error_count(), || {
        format!("unexpected errors: {errors}")
    });
}

/// How a cell takes the data away from the running workers.
#[derive(Clone, Copy)]
enum Loss {
    /// The database and its `-wal` and `-shm` deleted.
    Deleted,
    /// An older backup (`VACUUM INTO`) renamed over the database, the `-wal` and `-shm`
    /// deleted, as the docs say to restore.
    Restored,
    /// Only the `-wal` and `-shm` deleted (a temp cleaner): the file keeps what the
    /// last checkpoint wrote, an older copy.
    LogsDeleted,
    /// Another database file (freshly made) renamed over the database.
    Replaced,
}

/// Three workers allocate; the data is taken away under them; two more start. The
/// first three must stop within one allocation (at most the number each had under
/// way when the fault struck), with `DatabaseFileReplaced`; the new ones number the
/// new copy.
fn data_lost(tally: &mut Tally, loss: Loss, tag: &str) {
    let mut rig = Rig::new(tag);
    for round in 0..rounds(2) {
        let _ = fs::remove_file(&rig.stop);
        let old: Vec<usize> = (0..3).map(|_| rig.spawn("allocate")).collect();
        if !rig.wait(tally, "the first workers allocate", |r| {
            old.iter().all(|&w| r.issued(w) > 200)
        }) {
            break;
        }
        let backup = rig.scratch.path().join(format!("backup-{round}.db"));
        if let Loss::Restored | Loss::Replaced = loss {
            let mut conn = SqliteConnection::establish(rig.db.to_str().unwrap()).unwrap();
            conn.batch_execute("PRAGMA busy_timeout = 30000").unwrap();
            if let Loss::Restored = loss {
                conn.batch_execute(&format!("VACUUM INTO '{}'", backup.display()))
                    .unwrap();
            } else {
                // Another store's file: its counter restarts at 0.
                drop(SqliteStore::open(backup.to_str().unwrap()).unwrap());
            }
            let base: Vec<usize> = old.iter().map(|&w| rig.issued(w)).collect();
            rig.wait(tally, "the workers allocate past the backup", |r| {
                old.iter().zip(&base).all(|(&w, &b)| r.issued(w) > b + 100)
            });
        }
        // The fault, with the workers frozen so that what they logged so far is exactly
        // what they received before it: that belongs to the old copy.
        for &w in &old {
            rig.signal(w, libc::SIGSTOP);
        }
        for &w in &old {
            wait_stopped(&rig.workers[w].child);
        }
        let marks: Vec<usize> = old.iter().map(|&w| rig.events(w).len()).collect();
        match loss {
            Loss::Deleted => {
                for p in [rig.db.clone(), rig.side("-wal"), rig.side("-shm")] {
                    let _ = fs::remove_file(p);
                }
            }
            Loss::LogsDeleted => {
                let _ = fs::remove_file(rig.side("-wal"));
                let _ = fs::remove_file(rig.side("-shm"));
            }
            Loss::Restored | Loss::Replaced => {
                let _ = fs::remove_file(rig.side("-wal"));
                let _ = fs::remove_file(rig.side("-shm"));
                fs::rename(&backup, &rig.db).unwrap();
            }
        }
        for &w in &old {
            rig.signal(w, libc::SIGCONT);
        }
        tally.run();
        // The first workers notice within one allocation and stop.
        // Two more start on the new file while the first ones notice within one
        // allocation and stop; one that goes on numbering is killed after a while (its
        // log shows what it issued from the ghost file).
        let new: Vec<usize> = (0..2).map(|_| rig.spawn("allocate")).collect();
        let deadline = Instant::now() + NOTICE;
        for &w in &old {
            while !rig.exited(w) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(10));
            }
            if !rig.exited(w) {
                tally.fail("a worker kept numbering after its file was replaced");
                rig.kill(w);
            }
        }
        rig.wait(tally, "the new workers allocate", |r| {
            new.iter().all(|&w| r.issued(w) > 200)
        });
        rig.stop(tally);

        // The old copy: everything logged before the fault, plus the one allocation
        // each old worker may have had under way; anything after that came from a
        // ghost file.
        for (&w, &mark) in old.iter().zip(&marks) {
            let events = rig.events(w);
            let mut in_flight = 1;
            for (k, event) in events.iter().enumerate() {
                match event {
                    Event::Issued(n) if k < mark => tally.issued(*n),
                    Event::Issued(n) if in_flight > 0 => {
                        in_flight -= 1;
                        tally.issued(*n);
                    }
                    Event::Issued(n) => {
                        if tally.ghost_issues == 0 {
                            eprintln!(
                                "ghost: worker {w} mark {mark} at {k}: {:?}",
                                &events[mark.saturating_sub(2)..(k + 3).min(events.len())]
                            );
                        }
                        tally.issued_after_fault(*n);
                    }
                    Event::Error(kind) => tally.error(kind.clone()),
                }
            }
        }
        tally.new_copy();
        rig.tally_all(tally, new);
        tally.new_copy();
    }
    let unexpected: u64 = tally
        .errors
        .iter()
        // A worker that waited out the busy timeout behind the others: an availability
        // cost (counted in the table), not a uniqueness failure.
        .filter(|(k, _)| *k != "DatabaseFileReplaced" && *k != "Busy")
        .map(|(_, n)| n)
        .sum();
    let errors = format!("{:?}", tally.errors);
    let mut texts = rig.error_texts();
    texts.dedup();
    texts.truncate(8);
    tally.check(unexpected == 0, || format!("errors: {errors}: {texts:?}"));
}

#[test]
fn sqlite_faults() {
    let started = Instant::now();
    let mut table = FaultTable::new(Backend::Sqlite);
    for class in [
        "lock-deleted",
        "lock-replaced",
        "counter-deleted",
        "counter-truncated",
        "counter-torn",
        "counter-garbage",
        "counter-overlong",
        "counter-unwritable",
    ] {
        table.skip(
            class,
            "a folder store's files; SQLite's own file faults are db-replaced, data-deleted, data-restored",
        );
    }
    table.skip("dir-removed", "the same as data-deleted for a SQLite file");
    table.skip(
        "reboot",
        "SQLite keeps no boot-stamped state; power loss is its `synchronous` setting's job",
    );
    table.cell("data-deleted", |t| {
        data_lost(t, Loss::Deleted, "sqlite-deleted")
    });
    table.cell("data-restored", |t| {
        data_lost(t, Loss::Restored, "sqlite-restored");
    });
    table.cell("kill-9", kill_9);
    table.cell("sigstop", sigstop);
    table.cell("two-stores", two_stores);
    for class in [
        "backend-terminated",
        "server-restart",
        "sync-commit-off",
        "statement-timeout",
    ] {
        table.skip(class, "PostgreSQL only");
    }
    table.skip(
        "partition",
        "a lease fault (no network between SQLite and its file)",
    );
    table.cell("write-lock-held", write_lock_held_cell);
    table.cell("db-replaced", |t| {
        data_lost(t, Loss::LogsDeleted, "sqlite-logs");
        data_lost(t, Loss::Replaced, "sqlite-replaced");
    });
    table.skip("clock-step-small", "the store reads no clock");
    table.skip("clock-step-large", "the store reads no clock");
    eprintln!(
        "sqlite fault table in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    table.finish();
}
