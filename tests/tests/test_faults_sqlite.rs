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

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use typed_id::db::ConnectOptions;
use typed_id::store::{DisplayIdAllocator, SqliteStore, StoreError};
use typed_id_tests::fault::{Backend, Event, FaultTable, IssueLog, Scratch, Tally, rounds};
use typed_id_tests::workers::{ERROR_LINE, Rng, Workers};

const ENV_JOB: &str = "TYPED_ID_FAULT_SQLITE_JOB";
const ENV_DB: &str = "TYPED_ID_FAULT_SQLITE_DB";
const ENV_LOG: &str = "TYPED_ID_FAULT_SQLITE_LOG";
const ENV_STOP: &str = "TYPED_ID_FAULT_SQLITE_STOP";
const ENV_BUSY_MS: &str = "TYPED_ID_FAULT_SQLITE_BUSY_MS";

const SCOPE: &str = "faults";
/// Long enough for every wait below on a loaded machine; reaching it fails the cell.
const DEADLINE: Duration = Duration::from_secs(60);
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
    eprintln!("{ERROR_LINE}{doing}: {e}");
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

/// One cell's database file and workers.
struct Rig {
    scratch: Scratch,
    db: PathBuf,
    workers: Workers,
    busy_ms: u64,
}

impl Rig {
    fn new(tag: &str) -> Rig {
        let scratch = Scratch::new(tag);
        let db = scratch.path().join("ids.db");
        // The schema first, so workers start together without racing the migrations.
        drop(SqliteStore::open(db.to_str().unwrap()).unwrap());
        let workers = Workers::new(scratch.path(), DEADLINE);
        Rig {
            scratch,
            db,
            workers,
            busy_ms: 30_000,
        }
    }

    fn side(&self, suffix: &str) -> PathBuf {
        let mut p = self.db.clone().into_os_string();
        p.push(suffix);
        PathBuf::from(p)
    }

    /// Starts a worker on the cell's database; returns its index.
    fn spawn(&mut self, job: &str) -> usize {
        let (db, stop, busy) = (
            self.db.clone(),
            self.workers.stop_file().to_owned(),
            self.busy_ms,
        );
        self.workers.spawn(|command, log| {
            command
                .env(ENV_JOB, job)
                .env(ENV_DB, &db)
                .env(ENV_LOG, log)
                .env(ENV_STOP, &stop)
                .env(ENV_BUSY_MS, busy.to_string());
        })
    }
}

/// The workers' tools (`rig.issued(w)`, `rig.wait(..)`, signals) are [`Workers`]'.
impl std::ops::Deref for Rig {
    type Target = Workers;
    fn deref(&self) -> &Workers {
        &self.workers
    }
}

impl std::ops::DerefMut for Rig {
    fn deref_mut(&mut self) -> &mut Workers {
        &mut self.workers
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
    let mut rng = Rng::new("sqlite/kill-9");
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
    rig.stop_all(tally);
    rig.tally_all(tally);
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
    let mut rng = Rng::new("sqlite/sigstop");
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
            rig.wait_stopped(holder);
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
        rig.stop_all(tally);
    }
    rig.tally_all(tally);
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
        // The pair's threads log to their own files, counted with its log.
        rig.wait(tally, "both processes allocate", |r| {
            r.issued(pair) > 2_000 && r.issued(other) > 500
        });
        rig.stop_all(tally);
    }
    rig.tally_all(tally);
    let errors = format!("{:?}", tally.errors);
    let texts = rig.error_texts(8);
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
    rig.stop_all(tally);
    rig.tally(tally, workers);
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
    /// As `LogsDeleted`, but the first workers stay frozen while new ones number the
    /// file and close it; only then do the first ones go on, notice, and exit. A process
    /// that closed its connection then would checkpoint its stale log over the new
    /// numbers (and delete the `-wal` by path): the workers started after it would hand
    /// out numbers the new ones already had.
    LogsDeletedLateClose,
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
        let _ = fs::remove_file(rig.stop_file());
        // One first worker for a late close: SQLite's close checkpoints only when it
        // finds no other connection, so a lone process is the one that would.
        let late_close = matches!(loss, Loss::LogsDeletedLateClose);
        let first = if late_close { 1 } else { 3 };
        let old: Vec<usize> = (0..first).map(|_| rig.spawn("allocate")).collect();
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
            rig.wait_stopped(w);
        }
        let marks: Vec<usize> = old.iter().map(|&w| rig.events(w).len()).collect();
        match loss {
            Loss::Deleted => {
                for p in [rig.db.clone(), rig.side("-wal"), rig.side("-shm")] {
                    let _ = fs::remove_file(p);
                }
            }
            Loss::LogsDeleted | Loss::LogsDeletedLateClose => {
                let _ = fs::remove_file(rig.side("-wal"));
                let _ = fs::remove_file(rig.side("-shm"));
            }
            Loss::Restored | Loss::Replaced => {
                let _ = fs::remove_file(rig.side("-wal"));
                let _ = fs::remove_file(rig.side("-shm"));
                fs::rename(&backup, &rig.db).unwrap();
            }
        }
        // With a late close, new workers number the file and close it first, until
        // their numbers are well past every number the frozen ones hold in their stale
        // log (the file restarts from its last checkpoint, below those): a stale
        // checkpoint on close would then take the counter back below the new numbers.
        let mut early = Vec::new();
        if let Loss::LogsDeletedLateClose = loss {
            let highest = |r: &Workers, ws: &[usize]| {
                ws.iter()
                    .flat_map(|&w| r.events(w))
                    .filter_map(|e| match e {
                        Event::Issued(n) => Some(n),
                        Event::Error(_) => None,
                    })
                    .max()
                    .unwrap_or(0)
            };
            let stale = highest(&rig, &old);
            early = (0..2).map(|_| rig.spawn("allocate")).collect();
            rig.wait(tally, "the early workers number past the stale log", |r| {
                highest(r, &early) > stale + 200
            });
            fs::File::create(rig.stop_file()).unwrap();
            let deadline = Instant::now() + DEADLINE;
            for &w in &early {
                while !rig.exited(w) && Instant::now() < deadline {
                    thread::sleep(Duration::from_millis(10));
                }
            }
            fs::remove_file(rig.stop_file()).unwrap();
        }
        for &w in &old {
            rig.signal(w, libc::SIGCONT);
        }
        tally.run();
        // The first workers notice within one allocation and stop. Two more start on
        // the new file meanwhile (after the first ones exited, with a late close, so
        // that each of those believes itself the last connection as it closes); one that
        // goes on numbering is killed after a while (its log shows what it issued from
        // the ghost file).
        let mut new: Vec<usize> = Vec::new();
        if !late_close {
            new = (0..2).map(|_| rig.spawn("allocate")).collect();
        }
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
        if late_close {
            new = (0..2).map(|_| rig.spawn("allocate")).collect();
        }
        rig.wait(tally, "the new workers allocate", |r| {
            new.iter().all(|&w| r.issued(w) > 200)
        });
        rig.stop_all(tally);

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
        // The early workers' numbers and the later ones' are the same copy of the file.
        rig.tally(tally, early.into_iter().chain(new));
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
    let texts = rig.error_texts(8);
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
        data_lost(t, Loss::LogsDeletedLateClose, "sqlite-logs-late-close");
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
