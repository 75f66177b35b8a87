//! The fault table's folder column: `FileStore` under every file and process fault of
//! `typed_id_tests::fault::FAULTS` that applies to a folder.
//!
//! Every cell runs real child processes (this binary re-invoked as the ignored
//! `folder_child` test) that allocate from one folder while the parent injects the fault,
//! and checks what they logged (an `IssueLog` each): no number twice within one copy of
//! the data, only typed errors, and, where the fault deleted the data or put an older
//! copy in its place, no process started before the fault completing an allocation it
//! started after the fault. Each child logs a marker before every allocation, so an
//! allocation that was already under way when the fault struck (and may finish on the
//! old copy) is told apart from one that started afterwards (which must fail).
//!
//! `TYPED_ID_FAULT_ROUNDS=N` repeats every cell N times for a soak.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use typed_id::store::{DisplayIdAllocator, FileStore, StoreError};
use typed_id_tests::fault::{Backend, Event, FaultTable, IssueLog, Scratch, Tally, rounds};
use typed_id_tests::workers::Rng;

const ENV_DIR: &str = "TYPED_ID_FOLDER_DIR";
const ENV_LOG: &str = "TYPED_ID_FOLDER_LOG";
const ENV_COUNT: &str = "TYPED_ID_FOLDER_COUNT";
const ENV_STORES: &str = "TYPED_ID_FOLDER_STORES";

const SCOPE: &str = "odin/WORK";
/// Small blocks, so that reservations (and with them counter file reads and writes)
/// happen every few allocations.
const RESERVE: u32 = 10;
/// The marker a child logs before each allocation (an `Event::Error` of this kind).
const STARTED: &str = "started";
/// How long a child keeps retrying a scope that fails (damaged, unwritable) before it
/// gives up; the parent repairs long before.
const CHILD_PATIENCE: Duration = Duration::from_secs(60);
/// How long the parent waits for anything; generous, the machine is shared.
const PARENT_PATIENCE: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------
// The child

/// A child process: allocates `TYPED_ID_FOLDER_COUNT` numbers (0: until killed or
/// until its store reports the data replaced) from the folder, logging a marker before
/// each allocation and the number or the error after it. Errors other than `Replaced`
/// are retried (the parent repairs damage, lifts `chattr +i`, ...).
#[test]
#[ignore = "a child process started by the fault cells"]
fn folder_child() {
    let dir = PathBuf::from(std::env::var(ENV_DIR).expect("started by a fault cell"));
    let log = PathBuf::from(std::env::var(ENV_LOG).expect("log"));
    let count: u64 = std::env::var(ENV_COUNT).map_or(0, |c| c.parse().expect("count"));
    let stores: usize = std::env::var(ENV_STORES).map_or(1, |c| c.parse().expect("stores"));
    // Several stores on one folder in one process, one thread each: they must exclude
    // each other like processes do.
    thread::scope(|s| {
        for i in 0..stores {
            let (dir, log) = (&dir, &log);
            s.spawn(move || allocate_until_done(dir, &log.with_extension(format!("{i}")), count));
        }
    });
}

fn allocate_until_done(dir: &Path, log: &Path, count: u64) {
    let mut log = IssueLog::create(log);
    let store = match FileStore::open(dir) {
        Ok(store) => store.with_reserve(RESERVE),
        Err(e) => {
            log.error_of(&e);
            return;
        }
    };
    let mut got = 0;
    let mut failing_since: Option<Instant> = None;
    while count == 0 || got < count {
        log.error(STARTED);
        match store.allocate(SCOPE) {
            Ok(n) => {
                log.issued(n);
                got += 1;
                failing_since = None;
            }
            Err(e) => {
                log.error_of(&e);
                if std::env::var_os("TYPED_ID_FOLDER_DEBUG").is_some() {
                    eprintln!("folder child: {e}");
                }
                if matches!(e, StoreError::Replaced { .. }) {
                    return;
                }
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > CHILD_PATIENCE {
                    log.error("GaveUp");
                    return;
                }
                // Backing off while the parent repairs: not a synchronisation.
                thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The parent's tools

/// A running child and its logs.
struct Worker {
    child: Child,
    logs: Vec<PathBuf>,
}

fn spawn(dir: &Path, log: &Path, count: u64, stores: usize) -> Worker {
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "folder_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ENV_DIR, dir)
        .env(ENV_LOG, log)
        .env(ENV_COUNT, count.to_string())
        .env(ENV_STORES, stores.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(if std::env::var_os("TYPED_ID_FOLDER_DEBUG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::piped()
        })
        .spawn()
        .unwrap();
    let logs = (0..stores)
        .map(|i| log.with_extension(format!("{i}")))
        .collect();
    Worker { child, logs }
}

/// `n` children in `dir`, logging to `{tag}-{i}` in `logs`.
fn spawn_many(dir: &Path, logs: &Path, tag: &str, n: usize, count: u64) -> Vec<Worker> {
    (0..n)
        .map(|i| spawn(dir, &logs.join(format!("{tag}-{i}")), count, 1))
        .collect()
}

/// What one log holds: each allocation's outcome with the line of its `started`
/// marker, so the parent can tell which allocations started before a moment.
#[derive(Default)]
struct Outcomes {
    calls: Vec<(usize, Event)>,
}

fn outcomes(log: &Path) -> Outcomes {
    let (events, _torn) = IssueLog::read(log);
    let mut out = Outcomes::default();
    let mut started = None;
    for (i, event) in events.into_iter().enumerate() {
        match event {
            Event::Error(kind) if kind == STARTED => started = Some(i),
            other => out.calls.push((started.unwrap_or(i), other)),
        }
    }
    out
}

fn lines_now(logs: &[PathBuf]) -> Vec<usize> {
    logs.iter().map(|l| IssueLog::read(l).0.len()).collect()
}

fn all_logs(workers: &[Worker]) -> Vec<PathBuf> {
    workers.iter().flat_map(|w| w.logs.clone()).collect()
}

/// The numbers issued so far in `logs`.
fn issued_now(logs: &[PathBuf]) -> Vec<u64> {
    logs.iter()
        .flat_map(|l| IssueLog::read(l).0)
        .filter_map(|e| match e {
            Event::Issued(n) => Some(n),
            Event::Error(_) => None,
        })
        .collect()
}

/// Polls the logs (a real signal: what the children did) until `done` says so.
fn wait_for(tally: &mut Tally, what: &str, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > PARENT_PATIENCE {
            tally.fail(format!("timed out waiting for {what}"));
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
    true
}

/// Waits for every worker to exit; a worker that fails (a panic: an untyped error) or
/// hangs fails the cell.
fn join(tally: &mut Tally, workers: &mut [Worker]) {
    let start = Instant::now();
    for w in workers.iter_mut() {
        loop {
            match w.child.try_wait().unwrap() {
                Some(status) if status.success() => break,
                Some(status) => {
                    let mut err = String::new();
                    if let Some(mut e) = w.child.stderr.take() {
                        use std::io::Read as _;
                        let _ = e.read_to_string(&mut err);
                    }
                    let tail: String = err.lines().rev().take(12).collect::<Vec<_>>().join("\n");
                    tally.fail(format!("a child failed ({status}): {tail}"));
                    break;
                }
                None if start.elapsed() > PARENT_PATIENCE => {
                    let _ = w.child.kill();
                    let _ = w.child.wait();
                    tally.fail("a child hung".to_owned());
                    break;
                }
                None => thread::sleep(Duration::from_millis(5)),
            }
        }
    }
}

fn kill(worker: &mut Worker) {
    let _ = worker.child.kill(); // SIGKILL
    let _ = worker.child.wait();
}

/// Adds every outcome of `logs` to the tally (one copy of the data).
fn tally_logs(tally: &mut Tally, logs: &[PathBuf]) {
    for log in logs {
        for (_, event) in outcomes(log).calls {
            match event {
                Event::Issued(n) => tally.issued(n),
                Event::Error(kind) => tally.error(kind),
            }
        }
    }
}

/// For a fault that started a new copy of the data at the moment the logs had
/// `cut[i]` lines: allocations started before go to the old copy, then the copy
/// changes, and any number a pre-fault process got from an allocation it started
/// afterwards is a ghost issue.
///
/// One exception, documented on `FileStore`: a deletion that lands in the microseconds
/// between a reservation's last check and its rename, or a restore written over the
/// files in place while an allocation is under way, leaves that allocation's writes at
/// the path, and its process goes on numbering from them, as do the processes started
/// afterwards: one copy, no ghost. Numbers a pre-fault process got after the fault are
/// accepted as that case only when the data now at the path knows them (`at_path`, its
/// `last`, is at least their highest) and no new process got any of them; otherwise
/// they are ghost issues.
fn tally_across_copies(
    tally: &mut Tally,
    before: &[PathBuf],
    cut: &[usize],
    after: &[PathBuf],
    at_path: Option<u64>,
) {
    let parsed: Vec<Outcomes> = before.iter().map(|l| outcomes(l)).collect();
    for (log, &cut) in parsed.iter().zip(cut) {
        for (started, event) in &log.calls {
            match event {
                Event::Issued(n) if *started < cut => tally.issued(*n),
                Event::Error(kind) if *started < cut => tally.error(kind.clone()),
                _ => {}
            }
        }
    }
    tally.new_copy();
    let late: Vec<u64> = parsed
        .iter()
        .zip(cut)
        .flat_map(|(log, &cut)| {
            log.calls
                .iter()
                .filter_map(move |(started, event)| match event {
                    Event::Issued(n) if *started >= cut => Some(*n),
                    _ => None,
                })
        })
        .collect();
    let resurrected =
        !late.is_empty() && at_path.is_some_and(|last| late.iter().all(|&n| n <= last)) && {
            let new: std::collections::HashSet<u64> = issued_now(after).into_iter().collect();
            late.iter().all(|n| !new.contains(n))
        };
    // Each pre-fault process stopped on `Replaced` (in an allocation under way at the
    // fault, or in the next one).
    let replaced = parsed
        .iter()
        .filter(|log| {
            log.calls
                .iter()
                .any(|(_, e)| matches!(e, Event::Error(k) if k == "Replaced"))
        })
        .count();
    for (log, &cut) in parsed.iter().zip(cut) {
        for (started, event) in &log.calls {
            match event {
                Event::Issued(n) if *started >= cut && resurrected => tally.issued(*n),
                Event::Issued(n) if *started >= cut => tally.issued_after_fault(*n),
                Event::Error(kind) if *started >= cut => tally.error(kind.clone()),
                _ => {}
            }
        }
    }
    if resurrected {
        tally.error("ResurrectedCounter");
    }
    let exited = replaced + usize::from(resurrected) * before.len();
    tally.check(exited >= before.len(), || {
        format!(
            "{replaced} Replaced errors for {} pre-fault processes",
            before.len()
        )
    });
    tally_logs(tally, after);
}

/// What an operator does after damage: seeds the counter from the highest number the
/// items' own table shows (here: the children's logs).
fn repair_from_logs(dir: &Path, logs: &[PathBuf]) {
    let highest = issued_now(logs).into_iter().max().unwrap_or(0);
    FileStore::open(dir)
        .unwrap()
        .repair(SCOPE, highest)
        .unwrap();
}

fn counter_path(dir: &Path) -> PathBuf {
    FileStore::open(dir).unwrap().counter_path(SCOPE).unwrap()
}

fn lock_path(dir: &Path) -> PathBuf {
    FileStore::open(dir).unwrap().lock_path(SCOPE).unwrap()
}

// ---------------------------------------------------------------------------------------
// File faults that keep the data: the counter file stays the authority

/// A fault on the scope's files, injected while `PRE` children allocate.
#[derive(Clone, Copy, Debug)]
enum FileFault {
    LockDeleted,
    LockReplaced,
    CounterDeleted,
    CounterTruncated,
    CounterTorn,
    CounterGarbage,
    Overlong,
}

impl FileFault {
    const ALL: [FileFault; 7] = [
        FileFault::LockDeleted,
        FileFault::LockReplaced,
        FileFault::CounterDeleted,
        FileFault::CounterTruncated,
        FileFault::CounterTorn,
        FileFault::CounterGarbage,
        FileFault::Overlong,
    ];

    fn inject(self, dir: &Path) {
        let (counter, lock) = (counter_path(dir), lock_path(dir));
        // Files may be missing for a moment (a rename in flight): the fault is then
        // injected on what is there.
        match self {
            FileFault::LockDeleted => drop(fs::remove_file(&lock)),
            FileFault::LockReplaced => {
                let _ = fs::remove_file(&lock);
                let _ = fs::write(&lock, b"not a live record\n");
            }
            FileFault::CounterDeleted => drop(fs::remove_file(&counter)),
            FileFault::CounterTruncated => drop(fs::write(&counter, b"")),
            FileFault::CounterTorn => {
                if let Ok(bytes) = fs::read(&counter) {
                    let _ = fs::write(&counter, &bytes[..bytes.len() / 2]);
                }
            }
            FileFault::CounterGarbage => drop(fs::write(&counter, [0x5a; 40])),
            FileFault::Overlong => {
                // Appended (not read and written back, which would also put an older
                // record back: another fault, data-restored).
                for path in [&counter, &lock] {
                    if let Ok(mut file) = fs::OpenOptions::new().append(true).open(path) {
                        use std::io::Write as _;
                        let _ = file.write_all(&[b'#'; 600]);
                    }
                }
            }
        }
    }
}

const PRE: usize = 3;
const PER_CHILD: u64 = 250;

/// One round of a file fault: `PRE` children allocate `PER_CHILD` each; the fault
/// strikes once they are under way, and two more children start right then; damage is
/// repaired from the logs once a child reports it (or once they are done); then two
/// more children allocate on what is left.
/// `reboot` kills the first children instead and stamps the live record with an earlier
/// boot before the fault, as a machine restart would leave it.
fn file_fault_round(tally: &mut Tally, fault: FileFault, reboot: bool, scratch: &Path) {
    tally.run();
    // A fresh folder: a copy of its own.
    tally.new_copy();
    let dir = scratch.join("folder");
    let mut first = spawn_many(&dir, scratch, "pre", PRE, PER_CHILD);
    let logs = all_logs(&first);
    let under_way = || issued_now(&logs).len() >= 40;
    if !wait_for(tally, "the children to get going", under_way) {
        return;
    }
    if reboot {
        for w in &mut first {
            kill(w);
        }
        stamp_earlier_boot(&lock_path(&dir));
    }
    fault.inject(&dir);
    // Processes started now, next to the running ones: a new one opens the files at the
    // path while the old ones still hold theirs.
    let mut during = if reboot {
        Vec::new()
    } else {
        spawn_many(&dir, scratch, "mid", 2, 100)
    };
    let mut watched = logs.clone();
    watched.extend(all_logs(&during));
    if !reboot {
        let damaged = || {
            watched.iter().any(|l| {
                IssueLog::read(l)
                    .0
                    .iter()
                    .any(|e| matches!(e, Event::Error(k) if k == "CorruptCounter"))
            })
        };
        let done = |workers: &mut Vec<Worker>| {
            workers
                .iter_mut()
                .all(|w| w.child.try_wait().unwrap().is_some())
        };
        if wait_for(
            tally,
            "the damage to be seen or the children to finish",
            || damaged() || (done(&mut first) && done(&mut during)),
        ) && damaged()
        {
            repair_from_logs(&dir, &watched);
        }
        join(tally, &mut first);
        join(tally, &mut during);
    }
    // Whatever is still damaged, a store opened now sees it: the operator repairs.
    let probe = FileStore::open(&dir).unwrap();
    match probe.last(SCOPE) {
        Ok(_) => {}
        Err(e @ StoreError::CorruptCounter { .. }) => {
            tally.error_of(&e);
            repair_from_logs(&dir, &watched);
        }
        Err(e) => tally.fail(format!("after {fault:?}: {e}")),
    }
    let mut after = spawn_many(&dir, scratch, "post", 2, 100);
    join(tally, &mut after);
    watched.extend(all_logs(&after));
    tally_logs(tally, &watched);
    let _ = fs::remove_dir_all(&dir);
    for log in &watched {
        let _ = fs::remove_file(log);
    }
}

/// Rewrites the live record in `lock` as the previous boot of the machine wrote it:
/// same numbers, another boot ID, checksum recomputed (the record format: see
/// `typed-id/src/store/file.rs`). No hook in the library is needed (and none that
/// could make a stale record look current).
fn stamp_earlier_boot(lock: &Path) {
    let Ok(bytes) = fs::read(lock) else { return };
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.trim_end_matches(' ').lines();
    let field = |l: Option<&str>, p: &str| l.and_then(|l| l.strip_prefix(p)).map(str::to_owned);
    if lines.next() != Some("typed-id live v1") {
        return;
    }
    let (Some(_), Some(last), Some(ceiling)) = (
        field(lines.next(), "boot "),
        field(lines.next(), "last "),
        field(lines.next(), "ceiling "),
    ) else {
        return;
    };
    let boot = "00000000-0000-4000-8000-000000000000";
    let digest = Sha256::digest(format!("{SCOPE}\n{boot}\n{last}\n{ceiling}").as_bytes());
    let check: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let mut record =
        format!("typed-id live v1\nboot {boot}\nlast {last}\nceiling {ceiling}\ncheck {check}\n")
            .into_bytes();
    record.resize(160, b' ');
    fs::write(lock, record).unwrap();
}

// ---------------------------------------------------------------------------------------
// Faults that delete the data or put an older copy in its place

#[derive(Clone, Copy, Debug, PartialEq)]
enum CopyFault {
    DirRemoved,
    DataDeleted,
    /// An older copy written over the files in place (as `cp` over existing files).
    RestoredInPlace,
    /// An older copy put back as new files.
    RestoredAsNew,
}

/// The pre-fault children allocate until their store reports the data replaced; the
/// fault strikes once each of them has seen numbers far beyond what the children
/// started afterwards will reach (100 numbers), so the new copy cannot catch up with
/// what a pre-fault store remembers before that store looks again.
fn copy_fault_round(tally: &mut Tally, fault: CopyFault, scratch: &Path) {
    tally.run();
    // A fresh folder: a copy of its own.
    tally.new_copy();
    let dir = scratch.join("folder");
    let backup = scratch.join("backup");
    let mut first = spawn_many(&dir, scratch, "pre", PRE, 0);
    let logs = all_logs(&first);
    let each_past = |floor: u64| {
        logs.iter().all(|l| {
            IssueLog::read(l)
                .0
                .iter()
                .any(|e| matches!(e, Event::Issued(n) if *n >= floor))
        })
    };
    if !wait_for(tally, "every child to pass 200", || each_past(200)) {
        first.iter_mut().for_each(kill);
        return;
    }
    if matches!(fault, CopyFault::RestoredInPlace | CopyFault::RestoredAsNew) {
        // A backup taken while they run (not atomic: the record may be newer than the
        // counter, which the record's floor covers), and more numbers after it.
        fs::create_dir_all(&backup).unwrap();
        for path in [counter_path(&dir), lock_path(&dir)] {
            let _ = fs::copy(&path, backup.join(path.file_name().unwrap()));
        }
        let at_backup = issued_now(&logs).into_iter().max().unwrap_or(0);
        if !wait_for(tally, "every child to pass the backup by 200", || {
            each_past(at_backup + 200)
        }) {
            first.iter_mut().for_each(kill);
            return;
        }
    }
    match fault {
        CopyFault::DirRemoved => {
            // A reservation in flight may add a file while it is removed: try again.
            let ok = wait_for(tally, "the folder to be removed", || {
                fs::remove_dir_all(&dir).is_ok() || !dir.exists()
            });
            tally.check(ok, || "cannot remove the folder".to_owned());
        }
        CopyFault::DataDeleted => {
            let _ = fs::remove_file(counter_path(&dir));
            let _ = fs::remove_file(lock_path(&dir));
        }
        CopyFault::RestoredInPlace | CopyFault::RestoredAsNew => {
            for path in [counter_path(&dir), lock_path(&dir)] {
                let Ok(old) = fs::read(backup.join(path.file_name().unwrap())) else {
                    continue;
                };
                if fault == CopyFault::RestoredAsNew {
                    let _ = fs::remove_file(&path);
                }
                fs::write(&path, old).unwrap();
            }
        }
    }
    let cut = lines_now(&logs);
    // Processes started now work on the new data, next to the old ones still running.
    let mut second = spawn_many(&dir, scratch, "post", 2, 50);
    if fault != CopyFault::DirRemoved {
        // A process that goes on past a deletion or a restore must be numbering from the data at
        // the path (see `tally_across_copies`): it never stops by itself.
        let late = || {
            logs.iter()
                .zip(&cut)
                .any(|(l, &c)| IssueLog::read(l).0.len() > c + 200)
        };
        let all_out =
            |w: &mut Vec<Worker>| w.iter_mut().all(|w| w.child.try_wait().unwrap().is_some());
        wait_for(tally, "the old processes to stop or go on", || {
            late() || all_out(&mut first)
        });
        // Those still running went on (the tally decides whether that was sound): stop
        // them here; those that stopped by themselves must have exited cleanly.
        first.retain_mut(|w| {
            let running = w.child.try_wait().unwrap().is_none();
            if running {
                kill(w);
            }
            !running
        });
    }
    join(tally, &mut first);
    join(tally, &mut second);
    let at_path = (fault != CopyFault::DirRemoved)
        .then(|| FileStore::open(&dir).and_then(|s| s.last(SCOPE)).ok())
        .flatten();
    tally_across_copies(tally, &logs, &cut, &all_logs(&second), at_path);
    let _ = fs::remove_dir_all(&dir);
    let _ = fs::remove_dir_all(&backup);
    for log in logs.iter().chain(&all_logs(&second)) {
        let _ = fs::remove_file(log);
    }
}

// ---------------------------------------------------------------------------------------
// Process faults

/// Children allocating until killed with SIGKILL at random moments, several rounds on
/// one folder; a last child checks that the store goes on above everything logged.
fn kill_round(tally: &mut Tally, rng: &mut Rng, scratch: &Path, round: usize) {
    tally.run();
    let dir = scratch.join("folder");
    let mut workers = spawn_many(&dir, scratch, &format!("kill{round}"), PRE, 0);
    let start = Instant::now();
    let mut at: Vec<u64> = (0..PRE).map(|_| 30 + rng.below(300)).collect();
    at.sort_unstable();
    for (w, at) in workers.iter_mut().zip(at) {
        thread::sleep(Duration::from_millis(at).saturating_sub(start.elapsed()));
        tally.check(w.child.try_wait().unwrap().is_none(), || {
            "a child exited before it was killed".to_owned()
        });
        kill(w);
    }
    let logs = all_logs(&workers);
    tally_logs(tally, &logs);
    for log in logs {
        let _ = fs::remove_file(log);
    }
}

/// SIGSTOP one of three children at a random moment (possibly holding the lock, or in
/// the middle of a reservation) for 300 ms, several times; the others wait or go on,
/// never duplicate. Counts the stops during which nobody made progress (the stopped
/// child held the lock).
fn sigstop_round(tally: &mut Tally, rng: &mut Rng, scratch: &Path) -> usize {
    tally.run();
    // A fresh folder: a copy of its own.
    tally.new_copy();
    let dir = scratch.join("folder");
    let mut workers = spawn_many(&dir, scratch, "stop", PRE, 0);
    let logs = all_logs(&workers);
    wait_for(tally, "the children to get going", || {
        issued_now(&logs).len() >= 20
    });
    let mut blocked = 0;
    for _ in 0..4 {
        thread::sleep(Duration::from_millis(5 + rng.below(40)));
        let victim = rng.below(PRE as u64) as usize;
        let pid = workers[victim].child.id() as libc::pid_t;
        // SAFETY: signalling our own child, which has not been reaped.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        let before = issued_now(&logs).len();
        thread::sleep(Duration::from_millis(300));
        let after = issued_now(&logs).len();
        blocked += usize::from(after == before);
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGCONT) };
    }
    for w in &mut workers {
        kill(w);
    }
    tally_logs(tally, &logs);
    blocked
}

/// Two children with two stores each (one thread per store) on one folder, while the
/// parent deletes the lock file every 20 milliseconds: every store must notice and
/// reopen, or two of them stop excluding each other.
fn two_stores_round(tally: &mut Tally, scratch: &Path, round: usize) {
    tally.run();
    // A fresh folder: a copy of its own.
    tally.new_copy();
    let dir = scratch.join("folder");
    let mut workers: Vec<Worker> = (0..2)
        .map(|i| spawn(&dir, &scratch.join(format!("two{round}-{i}")), 300, 2))
        .collect();
    let lock = lock_path(&dir);
    let done = |workers: &mut Vec<Worker>| {
        workers
            .iter_mut()
            .all(|w| w.child.try_wait().unwrap().is_some())
    };
    let start = Instant::now();
    while !done(&mut workers) && start.elapsed() < PARENT_PATIENCE {
        let _ = fs::remove_file(&lock);
        thread::sleep(Duration::from_millis(20));
    }
    join(tally, &mut workers);
    let logs = all_logs(&workers);
    tally_logs(tally, &logs);
    tally.check(issued_now(&logs).len() == 4 * 300, || {
        format!("{} of 1200 numbers issued", issued_now(&logs).len())
    });
}

// ---------------------------------------------------------------------------------------
// chattr +i

/// `chattr +i` on a file, undone (`chattr -i`) when dropped, also on a panic.
struct Immutable(PathBuf);

impl Immutable {
    fn set(path: &Path) -> Result<Immutable, String> {
        let out = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .output()
            .map_err(|e| format!("cannot run chattr: {e}"))?;
        if out.status.success() {
            Ok(Immutable(path.to_path_buf()))
        } else {
            Err(format!(
                "chattr +i fails here: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// The counter file made immutable while children allocate: reservations fail (a
/// typed I/O error) until it is lifted, nothing is issued twice, and they go on.
fn unwritable_round(tally: &mut Tally, scratch: &Path) {
    tally.run();
    // A fresh folder: a copy of its own.
    tally.new_copy();
    let dir = scratch.join("folder");
    let mut workers = spawn_many(&dir, scratch, "ro", PRE, PER_CHILD);
    let logs = all_logs(&workers);
    if !wait_for(tally, "the children to get going", || {
        issued_now(&logs).len() >= 40
    }) {
        return;
    }
    let counter = counter_path(&dir);
    match Immutable::set(&counter) {
        Ok(guard) => {
            let refused = || {
                logs.iter().any(|l| {
                    IssueLog::read(l)
                        .0
                        .iter()
                        .any(|e| matches!(e, Event::Error(k) if k == "Io"))
                })
            };
            let finished =
                |w: &mut Vec<Worker>| w.iter_mut().all(|w| w.child.try_wait().unwrap().is_some());
            wait_for(tally, "a refused reservation", || {
                refused() || finished(&mut workers)
            });
            drop(guard);
        }
        Err(e) => tally.fail(e),
    }
    join(tally, &mut workers);
    tally_logs(tally, &logs);
    tally.check(issued_now(&logs).len() == PRE * PER_CHILD as usize, || {
        "the children did not all finish".to_owned()
    });
}

/// Whether `chattr +i` works on the temporary directory's filesystem; why not if not.
fn chattr_works(scratch: &Path) -> Result<(), String> {
    let probe = scratch.join("chattr-probe");
    fs::write(&probe, b"").map_err(|e| e.to_string())?;
    let guard = Immutable::set(&probe)?;
    let refused = fs::write(&probe, b"x").is_err();
    drop(guard);
    let _ = fs::remove_file(&probe);
    if refused {
        Ok(())
    } else {
        Err("chattr +i did not make the file immutable".to_owned())
    }
}

// ---------------------------------------------------------------------------------------
// The column

/// Whether to run cell `id`: all of them, or those `TYPED_ID_FAULT_ONLY` lists
/// (comma-separated), to look at one cell in a soak.
fn wanted(id: &str) -> bool {
    std::env::var("TYPED_ID_FAULT_ONLY")
        .map_or(true, |only| only.split(',').any(|c| c.trim() == id))
}

/// Runs cell `id` if [`wanted`].
fn cell(table: &mut FaultTable, id: &str, run: impl FnOnce(&mut Tally)) {
    if wanted(id) {
        table.cell(id, run);
    }
}

#[test]
fn folder_fault_table() {
    let mut table = FaultTable::new(Backend::Folder);
    let mut rng = Rng::new("folder");
    let cells: [(&str, FileFault); 7] = [
        ("lock-deleted", FileFault::LockDeleted),
        ("lock-replaced", FileFault::LockReplaced),
        ("counter-deleted", FileFault::CounterDeleted),
        ("counter-truncated", FileFault::CounterTruncated),
        ("counter-torn", FileFault::CounterTorn),
        ("counter-garbage", FileFault::CounterGarbage),
        ("counter-overlong", FileFault::Overlong),
    ];
    for (id, fault) in cells {
        cell(&mut table, id, |tally| {
            for _ in 0..rounds(2) {
                let scratch = Scratch::new(id);
                file_fault_round(tally, fault, false, scratch.path());
            }
        });
    }
    {
        let scratch = Scratch::new("chattr");
        if wanted("counter-unwritable") {
            match chattr_works(scratch.path()) {
                Ok(()) => {
                    cell(&mut table, "counter-unwritable", |tally| {
                        for _ in 0..rounds(2) {
                            let scratch = Scratch::new("ro");
                            unwritable_round(tally, scratch.path());
                        }
                    });
                }
                Err(reason) => table.skip("counter-unwritable", reason),
            }
        }
    }
    cell(&mut table, "dir-removed", |tally| {
        for _ in 0..rounds(2) {
            let scratch = Scratch::new("dir");
            copy_fault_round(tally, CopyFault::DirRemoved, scratch.path());
        }
    });
    cell(&mut table, "reboot", |tally| {
        for _ in 0..rounds(1) {
            for fault in FileFault::ALL {
                let scratch = Scratch::new("reboot");
                file_fault_round(tally, fault, true, scratch.path());
            }
        }
    });
    cell(&mut table, "data-deleted", |tally| {
        for _ in 0..rounds(2) {
            let scratch = Scratch::new("deleted");
            copy_fault_round(tally, CopyFault::DataDeleted, scratch.path());
        }
    });
    cell(&mut table, "data-restored", |tally| {
        for _ in 0..rounds(1) {
            for fault in [CopyFault::RestoredInPlace, CopyFault::RestoredAsNew] {
                let scratch = Scratch::new("restored");
                copy_fault_round(tally, fault, scratch.path());
            }
        }
    });
    cell(&mut table, "kill-9", |tally| {
        let scratch = Scratch::new("kill");
        for round in 0..rounds(4) {
            kill_round(tally, &mut rng, scratch.path(), round);
        }
        // The store goes on above every number logged.
        let dir = scratch.path().join("folder");
        let store = FileStore::open(&dir).unwrap();
        let next = store.allocate(SCOPE).unwrap();
        tally.issued(next);
    });
    cell(&mut table, "sigstop", |tally| {
        let mut blocked = 0;
        for _ in 0..rounds(2) {
            let scratch = Scratch::new("stop");
            blocked += sigstop_round(tally, &mut rng, scratch.path());
        }
        eprintln!("sigstop: {blocked} stops held everyone up (the stopped child held the lock)");
    });
    cell(&mut table, "two-stores", |tally| {
        for round in 0..rounds(2) {
            let scratch = Scratch::new("two");
            two_stores_round(tally, scratch.path(), round);
        }
    });
    table.finish();
}
