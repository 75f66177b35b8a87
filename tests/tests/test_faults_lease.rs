//! The fault table's lease column: worker-ID leases and the snowflakes their fenced
//! generators issue, under every fault class that applies to them (see
//! `typed_id_tests::fault::FAULTS`).
//!
//! Holders are real processes: this test binary re-invoked (`current_exe()`, `--ignored
//! --exact lease_child`), each leasing a worker ID in scope `faults`, renewing it with a
//! [`Heartbeat`], and issuing snowflakes until its lease ends or its run time is up,
//! logging every snowflake and every error through an [`IssueLog`]. The layout has one
//! worker bit (worker IDs 0 and 1), so successors take over the worker IDs of frozen,
//! killed or partitioned holders instead of picking a fresh one.
//!
//! Every cell asserts:
//! - no snowflake issued twice, across every holder of the cell;
//! - only typed errors (a holder that panics or exits unsuccessfully fails the cell,
//!   unless the cell killed it);
//! - fencing: for each worker ID, the holders' IDs lie in disjoint ranges (a holder's
//!   newest ID is below its successor's first), and a holder frozen, cut off or locked
//!   out issues nothing stamped after the moment its lease could lapse.
//!
//! Five tests (processes, PostgreSQL, network, files, clocks) each finish their own part of the column,
//! so they run in parallel. `TYPED_ID_FAULT_ROUNDS=N` repeats every cell N times.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use typed_id::Snowflake;
use typed_id::generator::{Clock, Layout, ManualClock};
use typed_id::instance::{
    Heartbeat, IssueError, LeaseOptions, Registry, RegistryError, RegistryOptions, WorkerLease,
};
use typed_id_tests::fault::{
    Backend, Event, FaultTable, IssueLog, Scratch, Tally, rounds, variant_name,
};
use typed_id_tests::pg::{ClusterConfig, PrivateCluster, TestDatabase};
use typed_id_tests::sqlite::TempSqlite;
use typed_id_tests::workers::Rng;

const ROLE: &str = "TYPED_ID_FL_ROLE";
const URL: &str = "TYPED_ID_FL_URL";
const LOG: &str = "TYPED_ID_FL_LOG";
const STATE: &str = "TYPED_ID_FL_STATE";
const PERIOD_MS: &str = "TYPED_ID_FL_PERIOD_MS";
const RUN_MS: &str = "TYPED_ID_FL_RUN_MS";
const BUSY_MS: &str = "TYPED_ID_FL_BUSY_MS";
const SCOPE: &str = "faults";

/// One worker bit: two worker IDs, so successors reuse the worker IDs of lost holders.
fn layout() -> Layout {
    Layout::new(41, 1, 12, Layout::DEFAULT.epoch_ms()).unwrap()
}

fn unix_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The kind of an issue error, with the generator's own reason spelled out.
fn issue_kind(e: &IssueError) -> String {
    match e {
        IssueError::Generate(g) => format!("Generate:{}", variant_name(g)),
        other => variant_name(other),
    }
}

// ---------------------------------------------------------------------------------
// The child process: one lease holder
// ---------------------------------------------------------------------------------

/// The entry point of holder processes; the cells start it with `--ignored`.
#[test]
#[ignore = "child process entry point, run by the fault cells"]
fn lease_child() {
    match std::env::var(ROLE).as_deref() {
        Ok("holder") => child_holder(),
        other => panic!("unknown child role {other:?}"),
    }
}

fn child_holder() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("child needs {name}"));
    let log = Arc::new(Mutex::new(IssueLog::create(Path::new(&var(LOG)))));
    let note = |kind: String| log.lock().unwrap().error(&kind);
    let period = Duration::from_millis(var(PERIOD_MS).parse().unwrap());
    let run = std::env::var(RUN_MS)
        .ok()
        .map(|v| Duration::from_millis(v.parse().unwrap()));
    let busy = std::env::var(BUSY_MS)
        .ok()
        .map_or(Duration::from_secs(5), |v| {
            Duration::from_millis(v.parse().unwrap())
        });
    let give_up = Instant::now() + Duration::from_secs(90);
    let url = var(URL);
    let registry = loop {
        match Registry::open_with(&url, RegistryOptions::new().busy_timeout(busy)) {
            Ok(registry) => break Arc::new(registry),
            Err(e) => {
                note(variant_name(&e));
                assert!(Instant::now() < give_up, "no registry: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    let holder = format!("holder-{}", std::process::id());
    let lease = loop {
        let options = LeaseOptions::new(SCOPE, holder.clone())
            .period(period)
            .layout(layout());
        match WorkerLease::acquire(registry.clone(), options) {
            Ok(lease) => break Arc::new(lease),
            Err(e) => {
                note(variant_name(&e));
                assert!(Instant::now() < give_up, "no lease: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    };
    let state = PathBuf::from(var(STATE));
    let tmp = state.with_extension("tmp");
    fs::write(&tmp, format!("{} {}", lease.worker(), lease.floor_ms())).unwrap();
    fs::rename(&tmp, &state).unwrap();
    let sink = log.clone();
    let heartbeat = Heartbeat::builder(registry.clone())
        .lease(lease.clone())
        .on_error(move |e| sink.lock().unwrap().error_of(&e))
        .spawn()
        .unwrap();
    let generator = lease.generator();
    let started = Instant::now();
    let mut issued = 0u64;
    loop {
        if run.is_some_and(|run| started.elapsed() >= run) {
            break;
        }
        match generator.next_snowflake() {
            Ok(id) => {
                log.lock().unwrap().issued(id.as_u64());
                issued += 1;
                if issued.is_multiple_of(20) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            Err(e @ IssueError::LeaseEnded { .. }) => {
                note(issue_kind(&e));
                break;
            }
            Err(e) => {
                note(issue_kind(&e));
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    heartbeat.stop();
    if let Err(e) = lease.release() {
        note(variant_name(&e));
    }
}

// ---------------------------------------------------------------------------------
// The parent's side: holders, their logs, and the checks every cell makes
// ---------------------------------------------------------------------------------

/// A holder process and its files. Killed (and reaped) when dropped, so a failing cell
/// leaves no process behind.
struct Holder {
    name: String,
    child: Option<Child>,
    log: PathBuf,
    state: PathBuf,
    stderr: PathBuf,
    killed: bool,
}

struct Spawn<'a> {
    url: &'a str,
    period: Duration,
    run: Option<Duration>,
    busy: Option<Duration>,
    netns: Option<&'a str>,
}

impl<'a> Spawn<'a> {
    fn new(url: &'a str, period: Duration) -> Spawn<'a> {
        Spawn {
            url,
            period,
            run: None,
            busy: None,
            netns: None,
        }
    }

    fn run(mut self, run: Duration) -> Self {
        self.run = Some(run);
        self
    }

    fn busy(mut self, busy: Duration) -> Self {
        self.busy = Some(busy);
        self
    }

    fn netns(mut self, netns: &'a str) -> Self {
        self.netns = Some(netns);
        self
    }

    fn spawn(&self, dir: &Path, name: &str) -> Holder {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = match self.netns {
            Some(ns) => {
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", ns]).arg(&exe);
                cmd
            }
            None => Command::new(&exe),
        };
        let log = dir.join(format!("{name}.log"));
        let state = dir.join(format!("{name}.state"));
        let stderr = dir.join(format!("{name}.stderr"));
        cmd.args([
            "--ignored",
            "--exact",
            "lease_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, "holder")
        .env(URL, self.url)
        .env(LOG, &log)
        .env(STATE, &state)
        .env(PERIOD_MS, self.period.as_millis().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&stderr).unwrap());
        if let Some(run) = self.run {
            cmd.env(RUN_MS, run.as_millis().to_string());
        }
        if let Some(busy) = self.busy {
            cmd.env(BUSY_MS, busy.as_millis().to_string());
        }
        let child = cmd.spawn().expect("cannot re-invoke the test binary");
        Holder {
            name: name.to_owned(),
            child: Some(child),
            log,
            state,
            stderr,
            killed: false,
        }
    }
}

impl Holder {
    fn signal(&self, sig: libc::c_int) {
        let child = self.child.as_ref().expect("running");
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        // SAFETY: kill has no memory-safety preconditions; the pid is our own child,
        // not yet reaped, so it cannot have been reused.
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
    }

    fn kill9(&mut self) {
        if let Some(child) = &mut self.child
            && child.try_wait().unwrap().is_none()
        {
            self.signal(libc::SIGKILL);
            self.killed = true;
        }
    }

    fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// The worker ID and inherited floor, once the holder has its lease.
    fn lease(&self, within: Duration) -> (u32, u64) {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(s) = fs::read_to_string(&self.state) {
                let (w, f) = s.split_once(' ').unwrap();
                return (w.parse().unwrap(), f.parse().unwrap());
            }
            assert!(
                Instant::now() < deadline,
                "{} never leased a worker ID: {}",
                self.name,
                self.stderr_tail()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn events(&self) -> Vec<Event> {
        IssueLog::read(&self.log).0
    }

    fn ids(&self) -> Vec<u64> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Issued(id) => Some(id),
                Event::Error(_) => None,
            })
            .collect()
    }

    fn errors(&self, kind: &str) -> usize {
        self.events()
            .iter()
            .filter(|e| matches!(e, Event::Error(k) if k == kind))
            .count()
    }

    /// Waits until the holder has logged `n` IDs.
    fn wait_issued(&self, n: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while self.ids().len() < n {
            assert!(
                Instant::now() < deadline,
                "{} issued fewer than {n} IDs: {}",
                self.name,
                self.stderr_tail()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stderr_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = fs::File::open(&self.stderr) {
            let _ = f.read_to_string(&mut text);
        }
        let start = text.len().saturating_sub(2_000);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        text[start..].to_owned()
    }

    /// Waits for the holder to exit; a failure (not a kill of ours) or a hang fails the
    /// cell.
    fn finish(&mut self, within: Duration, tally: &mut Tally) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        match status {
            None => tally.fail(format!("{} hung: {}", self.name, self.stderr_tail())),
            Some(s) if !s.success() && !self.killed => {
                tally.fail(format!(
                    "{} failed ({s}): {}",
                    self.name,
                    self.stderr_tail()
                ));
            }
            Some(_) => {}
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn ts(id: u64) -> u64 {
    layout().decompose(Snowflake::new(id).unwrap()).timestamp_ms
}

fn worker_of(id: u64) -> u32 {
    layout().decompose(Snowflake::new(id).unwrap()).worker
}

/// Adds every holder's IDs and errors to the tally, and fails the cell where two
/// holders of one worker ID issued interleaving IDs (a holder's newest ID must be below
/// its successor's first).
fn tally_holders(tally: &mut Tally, holders: &[Holder]) {
    let mut spans: BTreeMap<u32, Vec<(u64, u64, &str)>> = BTreeMap::new();
    for holder in holders {
        let mut ids = Vec::new();
        for event in holder.events() {
            match event {
                Event::Issued(id) => {
                    tally.issued(id);
                    ids.push(id);
                }
                Event::Error(kind) => tally.error(kind),
            }
        }
        let mut by_worker: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
        for id in ids {
            let span = by_worker.entry(worker_of(id)).or_insert((id, id));
            span.0 = span.0.min(id);
            span.1 = span.1.max(id);
        }
        for (worker, (lo, hi)) in by_worker {
            spans
                .entry(worker)
                .or_default()
                .push((lo, hi, holder.name.as_str()));
        }
    }
    for (worker, mut list) in spans {
        list.sort_unstable();
        for pair in list.windows(2) {
            let ((_, a_hi, a), (b_lo, _, b)) = (pair[0], pair[1]);
            tally.check(a_hi < b_lo, || {
                format!(
                    "worker {worker}: {a} issued up to {a_hi} (at {} ms), its successor {b} \
                     from {b_lo} (at {} ms)",
                    ts(a_hi),
                    ts(b_lo)
                )
            });
        }
    }
}

/// Fails the cell if `holder` issued an ID stamped after `limit_ms`.
fn check_silent_after(tally: &mut Tally, holder: &Holder, limit_ms: u64, what: &str) {
    let late: Vec<u64> = holder
        .ids()
        .into_iter()
        .filter(|&id| ts(id) > limit_ms)
        .collect();
    tally.check(late.is_empty(), || {
        format!(
            "{} issued {} IDs stamped after {limit_ms} ({what}), the first at {} ms",
            holder.name,
            late.len(),
            ts(late[0])
        )
    });
}

/// Polls the registry until `worker`'s lease is free (expired or released).
fn wait_free(registry: &Registry, worker: u32, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        match registry.leases(SCOPE) {
            Ok(leases) if leases.iter().any(|l| l.worker == worker && l.free) => return,
            Ok(_) | Err(_) => {}
        }
        assert!(Instant::now() < deadline, "worker {worker} never expired");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Waits until some session of the current database waits for a lock (a lease
/// renewal blocked on the row we hold), and returns the pids of those sessions.
fn wait_lock_waiters(conn: &mut PgConnection, within: Duration) -> Vec<i32> {
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let deadline = Instant::now() + within;
    loop {
        // Inside a transaction (the one holding the row lock) the activity view is a
        // snapshot taken at its first use: take a fresh one each time.
        conn.batch_execute("SELECT pg_stat_clear_snapshot()")
            .unwrap();
        let pids: Vec<Pid> = diesel::sql_query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        )
        .load(conn)
        .unwrap();
        if !pids.is_empty() {
            return pids.into_iter().map(|p| p.pid).collect();
        }
        assert!(Instant::now() < deadline, "no renewal ever waited");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Locks `worker`'s lease row in an open transaction on `conn`.
fn lock_lease_row(conn: &mut PgConnection, worker: u32) {
    conn.batch_execute(&format!(
        "BEGIN; SELECT 1 FROM typed_id_worker_leases \
         WHERE scope = '{SCOPE}' AND worker_id = {worker} FOR UPDATE"
    ))
    .unwrap();
}

// ---------------------------------------------------------------------------------
// Processes: SIGSTOP, kill -9, a SQLite write lock held
// ---------------------------------------------------------------------------------

#[test]
fn lease_faults_processes() {
    let mut table = FaultTable::new(Backend::Lease);
    table.cell("sigstop", |tally| {
        let mut rng = Rng::new("lease/sigstop");
        for round in 0..rounds(2) {
            if round % 2 == 0 {
                let db = TempSqlite::new();
                sigstop_round(tally, db.url(), None, &mut rng);
            } else {
                let db = TestDatabase::new();
                let mut conn = db.connect();
                sigstop_round(tally, db.url(), Some(&mut conn), &mut rng);
            }
        }
    });
    table.cell("kill-9", |tally| {
        let mut rng = Rng::new("lease/kill-9");
        for round in 0..rounds(2) {
            if round % 2 == 0 {
                let db = TempSqlite::new();
                kill9_round(tally, db.url(), &mut rng);
            } else {
                let db = TestDatabase::new();
                kill9_round(tally, db.url(), &mut rng);
            }
        }
    });
    table.cell("write-lock-held", |tally| {
        for _ in 0..rounds(2) {
            write_lock_round(tally);
        }
    });
    table.finish();
}

/// A holder frozen past its lease: on SQLite at a random point (between calls, or in
/// a renewal), on PostgreSQL in the middle of a renewal (blocked on the lease row,
/// which the test holds, when the SIGSTOP comes). A successor takes the worker ID over
/// and issues; after SIGCONT the old holder issues nothing more.
fn sigstop_round(tally: &mut Tally, url: &str, pg: Option<&mut PgConnection>, rng: &mut Rng) {
    tally.run();
    tally.new_copy(); // a fresh registry: the IDs of other rounds are another copy
    let scratch = Scratch::new("lease-sigstop");
    let period = Duration::from_millis(1_000);
    let mut a = Spawn::new(url, period).spawn(scratch.path(), "frozen");
    let (worker, _) = a.lease(Duration::from_secs(60));
    a.wait_issued(200, Duration::from_secs(60));
    let stopped_at = match pg {
        Some(conn) => {
            lock_lease_row(conn, worker);
            wait_lock_waiters(conn, Duration::from_secs(30));
            a.signal(libc::SIGSTOP);
            let at = unix_ms();
            // The renewal's UPDATE goes through and commits server-side; the frozen
            // client never learns it.
            conn.batch_execute("COMMIT").unwrap();
            at
        }
        None => {
            // A holder frozen inside a write transaction keeps SQLite's one write lock:
            // nobody can take over until it runs again (an availability cost of SQLite,
            // documented, not a uniqueness risk). Freeze it again elsewhere then.
            let mut probe = SqliteConnection::establish(url).unwrap();
            probe.batch_execute("PRAGMA busy_timeout = 2000").unwrap();
            let mut in_transaction = 0;
            loop {
                std::thread::sleep(rng.millis(0, 900));
                a.signal(libc::SIGSTOP);
                let at = unix_ms();
                if probe.batch_execute("BEGIN IMMEDIATE; COMMIT").is_ok() {
                    break at;
                }
                in_transaction += 1;
                assert!(in_transaction < 20, "always frozen holding the write lock");
                a.signal(libc::SIGCONT);
            }
        }
    };
    let registry = Registry::open(url).unwrap();
    wait_free(&registry, worker, Duration::from_secs(60));
    let mut b = Spawn::new(url, period)
        .run(Duration::from_millis(1_000))
        .spawn(scratch.path(), "successor");
    let (b_worker, b_floor) = b.lease(Duration::from_secs(60));
    tally.check(b_worker == worker && b_floor > 0, || {
        format!("the successor got worker {b_worker} (floor {b_floor}), not {worker}")
    });
    b.finish(Duration::from_secs(60), tally);
    a.signal(libc::SIGCONT);
    // Its heartbeat finds the lease taken over: LeaseLost, the generator ended.
    a.finish(Duration::from_secs(60), tally);
    tally.check(a.errors("LeaseLost") >= 1, || {
        format!(
            "the frozen holder never learnt it lost the lease: {:?}",
            a.events().last()
        )
    });
    check_silent_after(tally, &a, stopped_at + 50, "frozen by SIGSTOP");
    tally_holders(tally, &[a, b]);
}

/// Holders killed with SIGKILL at random points (issuing, renewing, acquiring); new
/// holders take their worker IDs over once the killed leases expire.
fn kill9_round(tally: &mut Tally, url: &str, rng: &mut Rng) {
    tally.new_copy(); // a fresh registry: the IDs of other rounds are another copy
    let scratch = Scratch::new("lease-kill9");
    let period = Duration::from_millis(1_000);
    let spawn = Spawn::new(url, period).run(Duration::from_millis(2_000));
    let mut holders: Vec<Holder> = (0..2)
        .map(|i| spawn.spawn(scratch.path(), &format!("h{i}")))
        .collect();
    let mut takeovers = 0;
    for kill in 0..3 {
        tally.run();
        std::thread::sleep(rng.millis(100, 600));
        let live: Vec<usize> = (0..holders.len())
            .filter(|&i| holders[i].is_running())
            .collect();
        if let Some(&victim) = live.get(rng.below(live.len() as u64) as usize) {
            holders[victim].kill9();
        }
        let next = spawn.spawn(scratch.path(), &format!("h{}", 2 + kill));
        holders.push(next);
    }
    for holder in &mut holders {
        holder.finish(Duration::from_secs(90), tally);
    }
    for h in &holders {
        if let Ok(s) = fs::read_to_string(&h.state)
            && !s.ends_with(" 0")
        {
            takeovers += 1;
        }
    }
    tally.check(takeovers >= 1, || {
        "no holder ever took a worker ID over".into()
    });
    tally_holders(tally, &holders);
}

/// SQLite: another process holds the write lock past the holder's busy timeout and
/// past its lease while it renews. The renewals fail with "database is locked", the
/// holder's deadline passes, and it stops issuing (fenced) instead of issuing past its
/// lease; once the lock is gone it either revives its lease or a successor takes over.
fn write_lock_round(tally: &mut Tally) {
    tally.run();
    tally.new_copy(); // a fresh registry: the IDs of other rounds are another copy
    let db = TempSqlite::new();
    let scratch = Scratch::new("lease-lock");
    let period = Duration::from_millis(1_500);
    let mut a = Spawn::new(db.url(), period)
        .busy(Duration::from_millis(200))
        .run(Duration::from_millis(4_500))
        .spawn(scratch.path(), "locked-out");
    a.lease(Duration::from_secs(60));
    a.wait_issued(200, Duration::from_secs(60));
    let mut blocker = db.connect();
    blocker.batch_execute("BEGIN EXCLUSIVE").unwrap();
    let locked_at = unix_ms();
    // The nemesis: the lock is held past the busy timeout and the lease period.
    std::thread::sleep(period + Duration::from_millis(500));
    let unlocked_at = unix_ms();
    blocker.batch_execute("COMMIT").unwrap();
    let mut b = Spawn::new(db.url(), period)
        .run(Duration::from_millis(1_000))
        .spawn(scratch.path(), "successor");
    b.finish(Duration::from_secs(60), tally);
    a.finish(Duration::from_secs(60), tally);
    // Its last renewal before the lock was sent at or before `locked_at`: its deadline
    // is at most 90 % of a period later, and no ID may come between that and the end
    // of the lock.
    let fence = locked_at + period.as_millis() as u64 * 9 / 10 + 50;
    let inside: Vec<u64> = a
        .ids()
        .into_iter()
        .filter(|&id| ts(id) > fence && ts(id) < unlocked_at)
        .collect();
    tally.check(inside.is_empty(), || {
        format!(
            "issued {} IDs while locked out past its lease (first at {} ms, fence {fence})",
            inside.len(),
            ts(inside[0])
        )
    });
    tally.check(
        a.errors("Database") >= 1 && a.errors("LeaseLapsed") >= 1,
        || "the lock never failed a renewal or lapsed the lease".into(),
    );
    tally_holders(tally, &[a, b]);
}

// ---------------------------------------------------------------------------------
// PostgreSQL: backends terminated, server crashes, asynchronous commits, partitions
// ---------------------------------------------------------------------------------

#[test]
fn lease_faults_postgres() {
    let mut table = FaultTable::new(Backend::Lease);
    // Like the shared test server: `fsync = off`, `synchronous_commit = off`. A long WAL
    // writer delay keeps asynchronously committed WAL in memory, where an immediate stop
    // loses it: what a lost renewal needs.
    let cluster =
        PrivateCluster::start(ClusterConfig::new().setting("wal_writer_delay", "10000ms"));
    table.cell("server-restart", |tally| {
        let mut rng = Rng::new("lease/server-restart");
        for _ in 0..rounds(1) {
            restart_round(tally, &cluster, &mut rng);
        }
    });
    table.cell("sync-commit-off", |tally| {
        for _ in 0..rounds(1) {
            sync_commit_off_round(tally, &cluster);
        }
    });
    table.finish();
}

#[test]
fn lease_faults_network() {
    let mut table = FaultTable::new(Backend::Lease);
    table.cell("backend-terminated", |tally| {
        let mut rng = Rng::new("lease/backend-terminated");
        for _ in 0..rounds(1) {
            terminated_round(tally, &mut rng);
        }
    });
    match Netns::create() {
        Ok(net) => {
            table.cell("partition", |tally| {
                for _ in 0..rounds(1) {
                    partition_round(tally, &net);
                }
            });
        }
        Err(reason) => table.skip("partition", reason),
    }
    table.finish();
}

/// The holders' backends terminated between calls (every session of the database, at
/// random moments) and in the middle of a renewal (the session blocked on the lease
/// row). Each holder reconnects on its next call and keeps its lease, or (if a renewal
/// came too late) has its generator fenced; nothing is issued twice either way.
fn terminated_round(tally: &mut Tally, rng: &mut Rng) {
    tally.new_copy(); // a fresh registry: the IDs of other rounds are another copy
    let db = TestDatabase::new();
    let scratch = Scratch::new("lease-terminated");
    let period = Duration::from_millis(1_500);
    let spawn = Spawn::new(db.url(), period).run(Duration::from_millis(5_000));
    let mut a = spawn.spawn(scratch.path(), "a");
    let mut b = spawn.spawn(scratch.path(), "b");
    let (a_worker, _) = a.lease(Duration::from_secs(60));
    b.lease(Duration::from_secs(60));
    a.wait_issued(100, Duration::from_secs(60));
    let mut conn = db.connect();
    let terminate = |conn: &mut PgConnection, filter: &str| -> i64 {
        diesel::sql_query(format!(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() {filter}"
        ))
        .get_result::<Count>(conn)
        .unwrap()
        .n
    };
    for _ in 0..3 {
        tally.run();
        std::thread::sleep(rng.millis(200, 700));
        terminate(&mut conn, "");
    }
    // During a renewal: the holder's session waits on the row we lock.
    tally.run();
    lock_lease_row(&mut conn, a_worker);
    wait_lock_waiters(&mut conn, Duration::from_secs(30));
    let killed = terminate(&mut conn, "AND wait_event_type = 'Lock'");
    conn.batch_execute("COMMIT").unwrap();
    let last_fault = unix_ms();
    tally.check(killed >= 1, || "no renewal was terminated".into());
    a.finish(Duration::from_secs(60), tally);
    b.finish(Duration::from_secs(60), tally);
    for h in [&a, &b] {
        let kept = h.ids().into_iter().any(|id| ts(id) > last_fault + 100);
        let fenced = h.errors("LeaseLost") >= 1;
        tally.check(kept || fenced, || {
            format!("{} neither kept its lease nor was fenced", h.name)
        });
    }
    tally_holders(tally, &[a, b]);
}

/// `pg_ctl stop -m immediate` and a start, while holders renew; and, in-process, a
/// renewal acknowledged right before the crash must still be there after it (its
/// commit waited for the WAL flush although the server runs with
/// `synchronous_commit = off`).
fn restart_round(tally: &mut Tally, cluster: &PrivateCluster, rng: &mut Rng) {
    tally.new_copy(); // a fresh registry: the IDs of other rounds are another copy
    let name = cluster.create_database();
    let url = cluster.socket_url(&name);
    // The durability check, deterministic: acknowledged, crashed, still there.
    {
        tally.run();
        let registry = Arc::new(Registry::open(&url).unwrap());
        // Everything before the lease on disk: what a crash can lose is the lease's.
        diesel::sql_query("CHECKPOINT")
            .execute(&mut cluster.admin())
            .unwrap();
        let clock = ManualClock::new(unix_ms());
        let lease = WorkerLease::acquire(
            registry.clone(),
            LeaseOptions::new(SCOPE, "crash-test")
                .layout(layout())
                .clock(clock.clone()),
        )
        .unwrap();
        let id = lease.generator().next_snowflake().unwrap();
        tally.issued(id.as_u64());
        clock.advance_ms(1); // the renewal raises the mark by 1 ms
        lease.renew().unwrap();
        let acknowledged = registry.leases(SCOPE).unwrap()[0].high_water_ms;
        cluster.restart_immediate();
        let mut after = Err(String::new());
        for _ in 0..20 {
            match registry.leases(SCOPE) {
                Ok(leases) => {
                    after = leases
                        .first()
                        .map(|l| l.high_water_ms)
                        .ok_or_else(|| "the lease row is gone".to_owned());
                    break;
                }
                // The broken connection, then a reconnect.
                Err(e) => {
                    tally.error_of(&e);
                    after = Err(e.to_string());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        match after {
            Ok(after) => tally.check(after >= acknowledged, || {
                format!(
                    "a renewal acknowledged at high-water {acknowledged} was lost in the \
                     crash (the row says {after})"
                )
            }),
            // Before the fix: the acquisition itself was lost (with the server's
            // `synchronous_commit = off`), so a successor could lease the worker ID
            // with no floor at all.
            Err(e) => tally.fail(format!("the acknowledged lease was lost in the crash: {e}")),
        }
        // The holder goes on after the crash.
        let renewed = (0..3).any(|_| match lease.renew() {
            Ok(()) => true,
            Err(e) => {
                tally.error_of(&e);
                false
            }
        });
        tally.check(renewed, || "no renewal succeeded after the restart".into());
        match lease.generator().next_snowflake() {
            Ok(id) => tally.issued(id.as_u64()),
            Err(e) => tally.error(issue_kind(&e)),
        }
        // Released: the holders below start above its IDs.
        if let Err(e) = lease.release() {
            tally.error_of(&e);
        }
    }
    // Under load: two holders, the server crashed twice during their renewals.
    let scratch = Scratch::new("lease-restart");
    let period = Duration::from_millis(2_000);
    let spawn = Spawn::new(&url, period).run(Duration::from_millis(4_000));
    let mut a = spawn.spawn(scratch.path(), "a");
    let mut b = spawn.spawn(scratch.path(), "b");
    a.lease(Duration::from_secs(60));
    b.lease(Duration::from_secs(60));
    for _ in 0..2 {
        tally.run();
        std::thread::sleep(rng.millis(300, 900));
        cluster.restart_immediate();
    }
    a.finish(Duration::from_secs(60), tally);
    b.finish(Duration::from_secs(60), tally);
    tally_holders(tally, &[a, b]);
}

#[derive(QueryableByName)]
struct AuditRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    op: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    setting: String,
}

/// A server with `synchronous_commit = off` (the private cluster's default, like the
/// shared one): every lease write the holders make (acquire, renewals, release) runs
/// in a transaction whose `synchronous_commit` is `on`, recorded by a trigger.
fn sync_commit_off_round(tally: &mut Tally, cluster: &PrivateCluster) {
    {
        tally.run();
        tally.new_copy();
        let name = cluster.create_database();
        let url = cluster.socket_url(&name);
        drop(Registry::open(&url).unwrap()); // the tables
        let mut conn = PgConnection::establish(&url).unwrap();
        conn.batch_execute(
            "CREATE TABLE sync_audit (op TEXT, setting TEXT);
             CREATE FUNCTION sync_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                 INSERT INTO sync_audit VALUES (TG_OP, current_setting('synchronous_commit'));
                 RETURN NULL;
             END $$;
             CREATE TRIGGER audit AFTER INSERT OR UPDATE ON typed_id_worker_leases
                 FOR EACH ROW EXECUTE FUNCTION sync_audit();",
        )
        .unwrap();
        #[derive(QueryableByName)]
        struct Setting {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        let default: Setting =
            diesel::sql_query("SELECT current_setting('synchronous_commit') AS value")
                .get_result(&mut conn)
                .unwrap();
        tally.check(default.value == "off", || {
            format!("the server's default is {}", default.value)
        });
        let scratch = Scratch::new("lease-sync");
        let spawn = Spawn::new(&url, Duration::from_millis(900)).run(Duration::from_millis(1_500));
        let mut holders = vec![
            spawn.spawn(scratch.path(), "a"),
            spawn.spawn(scratch.path(), "b"),
        ];
        for h in &mut holders {
            h.finish(Duration::from_secs(60), tally);
        }
        let rows: Vec<AuditRow> = diesel::sql_query("SELECT op, setting FROM sync_audit")
            .load(&mut conn)
            .unwrap();
        let asynchronous: Vec<&AuditRow> = rows.iter().filter(|r| r.setting != "on").collect();
        tally.check(rows.len() >= 6 && asynchronous.is_empty(), || {
            format!(
                "{} lease writes, {} of them asynchronous (e.g. {:?})",
                rows.len(),
                asynchronous.len(),
                asynchronous.first().map(|r| (&r.op, &r.setting))
            )
        });
        tally_holders(tally, &holders);
    }
}

/// A network namespace joined to the root namespace by a veth pair, with addresses
/// from a random /30 of 192.0.2.0/24 (TEST-NET-1, never routed): the holder's host.
/// Everything is removed when dropped, also when the cell fails.
struct Netns {
    ns: String,
    root_veth: String,
    ns_veth: String,
    root_addr: String,
    cidr: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `ip`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Netns {
    fn create() -> Result<Netns, String> {
        let tag = format!(
            "{:x}",
            (std::process::id() as u64 * 7919 + unix_ms()) % 0x00ff_ffff
        );
        // A /30 other than the first (192.0.2.1 may be another test's).
        let block = 4 * (1 + (unix_ms() ^ u64::from(std::process::id())) % 62);
        let net = Netns {
            ns: format!("tidl-{tag}"),
            root_veth: format!("tidl{tag}r"),
            ns_veth: format!("tidl{tag}n"),
            root_addr: format!("192.0.2.{}", block + 1),
            cidr: format!("192.0.2.{block}/30"),
        };
        ip(&["netns", "add", &net.ns])
            .map_err(|e| format!("no network namespaces here (root needed): {e}"))?;
        // From here on, Drop removes what exists.
        let ns_addr = format!("192.0.2.{}/30", block + 2);
        let root_addr = format!("{}/30", net.root_addr);
        ip(&[
            "link",
            "add",
            &net.root_veth,
            "type",
            "veth",
            "peer",
            "name",
            &net.ns_veth,
        ])?;
        ip(&["link", "set", &net.ns_veth, "netns", &net.ns])?;
        ip(&["addr", "add", &root_addr, "dev", &net.root_veth])?;
        ip(&["link", "set", &net.root_veth, "up"])?;
        ip(&["-n", &net.ns, "addr", "add", &ns_addr, "dev", &net.ns_veth])?;
        ip(&["-n", &net.ns, "link", "set", &net.ns_veth, "up"])?;
        ip(&["-n", &net.ns, "link", "set", "lo", "up"])?;
        Ok(net)
    }

    fn link(&self, up: bool) {
        ip(&[
            "-n",
            &self.ns,
            "link",
            "set",
            &self.ns_veth,
            if up { "up" } else { "down" },
        ])
        .unwrap();
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace deletes its veth end, and with it the pair.
        let _ = ip(&["netns", "del", &self.ns]);
        let _ = ip(&["link", "del", &self.root_veth]);
    }
}

/// The holder runs in its own network namespace and reaches PostgreSQL over TCP on a
/// veth pair; the test takes the holder's link down mid-lease. The lease expires, a
/// successor in the root namespace takes the worker ID over and issues; the link comes
/// back. The holder must have stopped issuing (its local deadline) before the
/// successor's first ID, and learn on reconnecting that it lost the lease.
fn partition_round(tally: &mut Tally, net: &Netns) {
    tally.run();
    let cluster = PrivateCluster::start(ClusterConfig::new().listen_tcp(&net.root_addr, &net.cidr));
    let name = cluster.create_database();
    // Short timeouts: a partitioned holder's calls fail within seconds instead of
    // waiting for TCP to give up.
    let url = format!(
        "{} keepalives_idle=1 keepalives_interval=1 keepalives_count=2 tcp_user_timeout=2000",
        cluster.tcp_url(&name)
    );
    let scratch = Scratch::new("lease-partition");
    let period = Duration::from_millis(1_500);
    let mut a = Spawn::new(&url, period)
        .netns(&net.ns)
        .spawn(scratch.path(), "partitioned");
    let (worker, _) = a.lease(Duration::from_secs(60));
    a.wait_issued(200, Duration::from_secs(60));
    net.link(false);
    let cut_at = unix_ms();
    let registry = Registry::open(&url).unwrap();
    wait_free(&registry, worker, Duration::from_secs(60));
    let mut b = Spawn::new(&url, period)
        .run(Duration::from_millis(1_000))
        .spawn(scratch.path(), "successor");
    let (b_worker, _) = b.lease(Duration::from_secs(60));
    tally.check(b_worker == worker, || {
        format!("the successor got worker {b_worker}, not {worker}")
    });
    b.finish(Duration::from_secs(60), tally);
    net.link(true);
    a.finish(Duration::from_secs(90), tally);
    tally.check(a.errors("LeaseLost") >= 1, || {
        "the partitioned holder never learnt it lost the lease".into()
    });
    // Before the successor's first ID, in time as in ID order (tally_holders).
    if let Some(first) = b.ids().into_iter().min() {
        check_silent_after(tally, &a, ts(first) - 1, "before its successor's first ID");
    }
    check_silent_after(
        tally,
        &a,
        cut_at + period.as_millis() as u64 * 9 / 10 + 50,
        "cut off past its deadline",
    );
    tally_holders(tally, &[a, b]);
}

// ---------------------------------------------------------------------------------
// SQLite: the registry file deleted or replaced by a backup under a running holder
// ---------------------------------------------------------------------------------

#[test]
fn lease_faults_files() {
    let mut table = FaultTable::new(Backend::Lease);
    table.cell("db-replaced", |tally| {
        for round in 0..rounds(2) {
            replaced_round(tally, round % 2 == 1);
        }
    });
    table.finish();
}

/// A holder issues from a SQLite registry; the file is deleted (and, every other
/// round, a backup taken a moment before is put in its place). The holder's generator
/// must stop within its file check (a millisecond apart; 200 ms allowed for a loaded
/// machine), since a process started afterwards leases from the new file, which has
/// no high-water marks. The successor's IDs are a new copy of the data.
fn replaced_round(tally: &mut Tally, restore_backup: bool) {
    tally.run();
    tally.new_copy();
    let db = TempSqlite::new();
    let scratch = Scratch::new("lease-replaced");
    let period = Duration::from_millis(1_500);
    let mut a = Spawn::new(db.url(), period).spawn(scratch.path(), "old-file");
    a.lease(Duration::from_secs(60));
    a.wait_issued(200, Duration::from_secs(60));
    let path = db.path().to_owned();
    let backup = scratch.path().join("backup.sqlite");
    if restore_backup {
        let mut conn = db.connect();
        conn.batch_execute(&format!("VACUUM INTO '{}'", backup.display()))
            .unwrap();
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", path.display()));
    }
    if restore_backup {
        fs::rename(&backup, &path).unwrap();
    }
    let fault_at = unix_ms();
    let mut b = Spawn::new(db.url(), period)
        .run(Duration::from_millis(1_000))
        .spawn(scratch.path(), "new-file");
    b.finish(Duration::from_secs(60), tally);
    a.finish(Duration::from_secs(60), tally);
    tally.check(a.errors("LeaseEnded") >= 1, || {
        format!("the old holder never stopped: {:?}", a.events().last())
    });
    for event in a.events() {
        match event {
            Event::Issued(id) if ts(id) > fault_at + 200 => tally.issued_after_fault(id),
            Event::Issued(id) => tally.issued(id),
            Event::Error(kind) => tally.error(kind),
        }
    }
    tally.new_copy();
    tally_holders(tally, &[b]);
}

// ---------------------------------------------------------------------------------
// Clocks: steps back within and beyond the tolerance during renewals
// ---------------------------------------------------------------------------------

#[test]
fn lease_faults_clocks() {
    let mut table = FaultTable::new(Backend::Lease);
    table.cell("clock-step-small", |tally| {
        for _ in 0..rounds(3) {
            clock_round(tally, 5);
        }
        let absorbed = !tally
            .errors
            .keys()
            .any(|k| k.contains("ClockMovedBackwards"));
        let errors = format!("{:?}", tally.errors);
        tally.check(absorbed, || {
            format!("a step within the tolerance was an error: {errors}")
        });
    });
    table.cell("clock-step-large", |tally| {
        for _ in 0..rounds(3) {
            clock_round(tally, 3_000);
        }
        let reported = tally
            .errors
            .keys()
            .any(|k| k.contains("ClockMovedBackwards"));
        let errors = format!("{:?}", tally.errors);
        tally.check(reported, || {
            format!("a step beyond the tolerance was never reported: {errors}")
        });
    });
    table.finish();
}

/// One holder issuing from two threads while a third renews its lease in a loop and a
/// fourth moves its (manual) clock: forward a millisecond at a time, and every so often
/// back by `step_ms` (the tolerance is 10 ms). Then the registry's clock passes the
/// expiry and a successor, its clock behind by the same step, takes the worker ID over
/// while the old holder is still issuing. No ID twice; the old holder's IDs all below
/// the successor's.
fn clock_round(tally: &mut Tally, step_ms: u64) {
    tally.run();
    tally.new_copy(); // a fresh registry: the IDs of other rounds are another copy
    let db = TempSqlite::new();
    let t0 = unix_ms();
    let registry_clock = ManualClock::new(t0);
    let registry = Arc::new(
        Registry::open_with(
            db.url(),
            RegistryOptions::new().clock(registry_clock.clone()),
        )
        .unwrap(),
    );
    let clock = ManualClock::new(t0);
    let options = |holder: &str, clock: &ManualClock| {
        LeaseOptions::new(SCOPE, holder)
            .layout(layout())
            .backwards_tolerance_ms(10)
            .clock(clock.clone())
    };
    let old = Arc::new(WorkerLease::acquire(registry.clone(), options("old", &clock)).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    // Pauses the renewals while the registry's clock passes the expiry and the
    // successor acquires (the old holder cut off for that long), then lets them resume.
    let pause = Arc::new(AtomicBool::new(false));
    let paused = Arc::new(AtomicBool::new(false));
    let issuers: Vec<_> = (0..2)
        .map(|_| {
            let (generator, stop) = (old.generator(), stop.clone());
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                let mut errors = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match generator.next_snowflake() {
                        Ok(id) => {
                            ids.push(id.as_u64());
                            if ids.len() % 16 == 0 {
                                std::thread::sleep(Duration::from_micros(100));
                            }
                        }
                        Err(IssueError::LeaseEnded { .. }) => break,
                        Err(e) => {
                            errors.push(issue_kind(&e));
                            std::thread::yield_now();
                        }
                    }
                }
                (ids, errors)
            })
        })
        .collect();
    let renewer = {
        let (old, stop, pause, paused) = (old.clone(), stop.clone(), pause.clone(), paused.clone());
        std::thread::spawn(move || {
            let mut errors = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if pause.load(Ordering::SeqCst) {
                    paused.store(true, Ordering::SeqCst);
                    std::thread::yield_now();
                    continue;
                }
                paused.store(false, Ordering::SeqCst);
                match old.renew() {
                    Ok(()) => {}
                    Err(RegistryError::LeaseLost { .. } | RegistryError::LeaseReleased { .. }) => {
                        errors.push("LeaseLost".to_owned());
                        break;
                    }
                    Err(e) => errors.push(variant_name(&e)),
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            errors
        })
    };
    // The clock: 400 ticks of 1 ms, a step back every 50, caught up again 20 ticks later.
    let mut newest = clock.now_ms();
    for tick in 0..400u64 {
        if tick % 50 == 25 {
            clock.step_back_ms(step_ms);
        } else if tick % 50 == 45 {
            clock.set_ms(newest);
        }
        clock.advance_ms(1);
        newest = newest.max(clock.now_ms());
        std::thread::sleep(Duration::from_micros(300));
    }
    clock.set_ms(newest);
    // The takeover: expired by the registry's clock, the successor's clock `step_ms`
    // behind the high-water mark it inherits (where a real clock would be by then).
    pause.store(true, Ordering::SeqCst);
    while !paused.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    registry_clock.advance_ms(60_000);
    let high_water = registry.leases(SCOPE).unwrap()[0].high_water_ms;
    let successor_clock = ManualClock::new(high_water - step_ms);
    let new = WorkerLease::acquire(registry.clone(), options("new", &successor_clock)).unwrap();
    tally.check(
        new.worker() == old.worker() && new.floor_ms() == high_water,
        || {
            format!(
                "no takeover: worker {}, floor {}",
                new.worker(),
                new.floor_ms()
            )
        },
    );
    let mut new_ids = Vec::new();
    let generator = new.generator();
    for _ in 0..200 {
        match generator.next_snowflake() {
            Ok(id) => new_ids.push(id.as_u64()),
            Err(e) => {
                tally.error(issue_kind(&e));
                successor_clock.advance_ms(20); // catching up
            }
        }
        successor_clock.advance_ms(1);
        clock.advance_ms(1); // the old holder's clock runs on too
    }
    // The old holder comes back: its next renewal finds the lease taken over, which
    // ends its generator.
    pause.store(false, Ordering::SeqCst);
    let renew_errors = renewer.join().unwrap();
    tally.check(
        renew_errors.last().is_some_and(|e| e == "LeaseLost"),
        || format!("the old holder's renewals never found the lease lost: {renew_errors:?}"),
    );
    for e in renew_errors {
        tally.error(e);
    }
    stop.store(true, Ordering::Relaxed);
    let mut old_ids = Vec::new();
    for t in issuers {
        let (ids, errors) = t.join().unwrap();
        old_ids.extend(ids);
        for e in errors {
            tally.error(e);
        }
    }
    tally.issued_all(old_ids.iter().copied());
    tally.issued_all(new_ids.iter().copied());
    tally.check(!old_ids.is_empty() && !new_ids.is_empty(), || {
        format!("old issued {}, new {}", old_ids.len(), new_ids.len())
    });
    if let (Some(old_max), Some(new_min)) = (old_ids.iter().max(), new_ids.iter().min()) {
        tally.check(old_max < new_min, || {
            format!("the old holder issued {old_max} above its successor's first {new_min}")
        });
    }
}
