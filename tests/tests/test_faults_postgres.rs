//! The fault table's PostgreSQL column: `PgStore` processes allocating from one private
//! cluster (started with `synchronous_commit = off` and `fsync = off`, like the shared
//! test server) while their backends are terminated, the server crashes and restarts,
//! statements time out, and processes are killed or frozen. Every cell: no number issued
//! twice, only typed errors.
//!
//! The workers are this test binary re-invoked (`child_process`, ignored in a normal
//! run) with the job in the environment; each logs every number and error to its own
//! [`IssueLog`].

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use typed_id::store::{DisplayIdAllocator, PgStore};
use typed_id_tests::fault::{Backend, FaultTable, IssueLog, Scratch, Tally, rounds};
use typed_id_tests::pg::{ClusterConfig, PrivateCluster};
use typed_id_tests::workers::{Rng, Workers};

const ENV_JOB: &str = "TYPED_ID_FAULT_PG_JOB";
const ENV_URL: &str = "TYPED_ID_FAULT_PG_URL";
const ENV_LOG: &str = "TYPED_ID_FAULT_PG_LOG";
const ENV_STOP: &str = "TYPED_ID_FAULT_PG_STOP";

const SCOPE: &str = "faults";
/// Long enough for every wait below on a loaded machine; reaching it fails the cell.
const DEADLINE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------
// The worker side

/// The worker entry point: started by the cells with `--ignored --exact child_process`.
#[test]
#[ignore = "a worker process started by the fault cells in this file"]
fn child_process() {
    let job = std::env::var(ENV_JOB).expect("started by a fault cell, with a job");
    let url = std::env::var(ENV_URL).expect("database URL");
    let log_path = std::env::var(ENV_LOG).expect("log");
    let mut log = IssueLog::create(Path::new(&log_path));
    let stop = PathBuf::from(std::env::var(ENV_STOP).expect("stop file"));
    match job.as_str() {
        "allocate" => {
            let store = open(&url, &mut log);
            allocate_until_stopped(&store, &mut log, &stop, false);
        }
        "allocate-tx" => {
            // Each number is also recorded in a table, in a transaction of its own: a
            // fault lands inside transactions too.
            let store = open(&url, &mut log);
            allocate_until_stopped(&store, &mut log, &stop, true);
        }
        "two-stores" => {
            let stores = [open(&url, &mut log), open(&url, &mut log)];
            thread::scope(|s| {
                for t in 0..4 {
                    let store = &stores[t % 2];
                    let stop = &stop;
                    let path = PathBuf::from(format!("{log_path}.t{t}"));
                    s.spawn(move || {
                        allocate_until_stopped(store, &mut IssueLog::create(&path), stop, false);
                    });
                }
            });
        }
        other => panic!("unknown job {other}"),
    }
}

/// Opens the store, retrying while the server is away or a statement times out (each
/// failure logged as the typed error it is).
fn open(url: &str, log: &mut IssueLog) -> PgStore {
    let started = Instant::now();
    loop {
        match PgStore::open(url) {
            Ok(store) => return store,
            Err(e) if started.elapsed() < DEADLINE => {
                log.error_of(&e);
                thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("cannot open the store: {e}"),
        }
    }
}

/// Allocates until the stop file appears, logging each number before the next call
/// (and, with `record`, then inserting it into `issued`, whose primary key would refuse
/// a number twice).
fn allocate_until_stopped(store: &PgStore, log: &mut IssueLog, stop: &Path, record: bool) {
    while !stop.exists() {
        let n = match store.allocate(SCOPE) {
            Ok(n) => n,
            Err(e) => {
                log.error_of(&e);
                thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        log.issued(n);
        if record {
            let recorded = store.write(|conn| {
                diesel::sql_query("INSERT INTO issued (n) VALUES ($1)")
                    .bind::<BigInt, _>(n as i64)
                    .execute(conn)
                    .map(drop)
            });
            if let Err(e) = recorded {
                let kind = match e {
                    diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    ) => "RecordedTwice",
                    _ => "Database",
                };
                log.error(kind);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The parent side

/// One cell's database and workers.
struct Rig<'c> {
    cluster: &'c PrivateCluster,
    url: String,
    workers: Workers,
    /// Holds the workers' files; removed with the rig.
    _scratch: Scratch,
}

impl<'c> Rig<'c> {
    fn new(cluster: &'c PrivateCluster, tag: &str) -> Rig<'c> {
        let scratch = Scratch::new(tag);
        let url = cluster.socket_url(&cluster.create_database());
        // The schema first, so workers start together without racing the migrations.
        let store = PgStore::open(&url).unwrap();
        store
            .connection()
            .batch_execute("CREATE TABLE issued (n BIGINT PRIMARY KEY)")
            .unwrap();
        let workers = Workers::new(scratch.path(), DEADLINE);
        Rig {
            cluster,
            url,
            workers,
            _scratch: scratch,
        }
    }

    /// Starts a worker on the cell's database; returns its index.
    fn spawn(&mut self, job: &str) -> usize {
        let (url, stop) = (self.url.clone(), self.workers.stop_file().to_owned());
        self.workers.spawn(|command, log| {
            command
                .env(ENV_JOB, job)
                .env(ENV_URL, &url)
                .env(ENV_LOG, log)
                .env(ENV_STOP, &stop);
        })
    }

    /// Terminates every backend of the cell's database but the caller's; returns how
    /// many.
    fn terminate_backends(&self) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let db = self.url.rsplit("dbname=").next().unwrap().to_owned();
        diesel::sql_query(
            "SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind::<Text, _>(db)
        .get_result::<N>(&mut self.cluster.admin())
        .unwrap()
        .n
    }

    /// Stops every worker and waits for them; a worker that hangs, or fails without
    /// having been killed, fails the cell. Then tallies every log.
    fn finish(&mut self, tally: &mut Tally) {
        self.workers.stop_all(tally);
        self.workers.tally_all(tally);
        // The server's own record agrees: every recorded number once (the primary key),
        // and the counter is past every number handed out.
        let store = PgStore::open(&self.url).unwrap();
        let last = store.last(SCOPE).unwrap();
        let next = store.allocate(SCOPE).unwrap();
        tally.check(next == last + 1, || {
            format!("the counter does not continue: last {last}, next {next}")
        });
    }
}

/// The workers' tools (`rig.progress(..)`, `rig.kill(w)`, signals) are [`Workers`]'.
impl std::ops::Deref for Rig<'_> {
    type Target = Workers;
    fn deref(&self) -> &Workers {
        &self.workers
    }
}

impl std::ops::DerefMut for Rig<'_> {
    fn deref_mut(&mut self) -> &mut Workers {
        &mut self.workers
    }
}

/// Errors other than the kinds a cell expects fail it.
fn only_errors(tally: &mut Tally, allowed: &[&str]) {
    let unexpected: Vec<String> = tally
        .errors
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .cloned()
        .collect();
    tally.check(unexpected.is_empty(), || {
        format!("unexpected errors: {unexpected:?}")
    });
}

// ---------------------------------------------------------------------------------------
// The cells

/// Every backend of the database terminated at random moments: between calls, during
/// the allocating statement, and inside the transactions that record the numbers.
fn backend_terminated(cluster: &PrivateCluster, tally: &mut Tally) {
    let mut rng = Rng::new("postgres/backend-terminated");
    let mut rig = Rig::new(cluster, "pg-terminate");
    let workers = [
        rig.spawn("allocate"),
        rig.spawn("allocate"),
        rig.spawn("allocate-tx"),
    ];
    for _ in 0..rounds(8) {
        if !rig.progress(tally, &workers, 20) {
            break;
        }
        thread::sleep(Duration::from_millis(rng.below(30)));
        rig.terminate_backends();
        tally.run();
    }
    rig.progress(tally, &workers, 20);
    rig.finish(tally);
    // A call whose statement was under way fails (its number is skipped); the rest
    // reconnect.
    only_errors(tally, &["Database"]);
}

/// `pg_ctl restart -m immediate` under load: calls during the outage fail with typed
/// errors or succeed after reconnecting; no number twice, although the server runs
/// with `synchronous_commit = off` (the stores turn it on for their sessions).
fn server_restart(cluster: &PrivateCluster, tally: &mut Tally) {
    let mut rng = Rng::new("postgres/server-restart");
    let mut rig = Rig::new(cluster, "pg-restart");
    let workers = [
        rig.spawn("allocate"),
        rig.spawn("allocate"),
        rig.spawn("allocate-tx"),
    ];
    for _ in 0..rounds(2) {
        if !rig.progress(tally, &workers, 50) {
            break;
        }
        thread::sleep(Duration::from_millis(rng.below(50)));
        cluster.restart_immediate();
        tally.run();
    }
    rig.progress(tally, &workers, 50);
    rig.finish(tally);
    only_errors(tally, &["Database", "Unreachable"]);
}

/// The server's `synchronous_commit = off` does not reach the stores' sessions: the
/// setting in force on a store's connection and inside its transactions is `on`, and
/// numbers committed just before a crash are not handed out again after it.
fn sync_commit_off(cluster: &PrivateCluster, tally: &mut Tally) {
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        value: String,
    }
    fn setting(conn: &mut PgConnection) -> QueryResult<String> {
        diesel::sql_query("SELECT current_setting('synchronous_commit') AS value")
            .get_result::<Setting>(conn)
            .map(|s| s.value)
    }
    let url = cluster.socket_url(&cluster.create_database());
    tally.check(
        setting(&mut PgConnection::establish(&url).unwrap()).unwrap() == "off",
        || "the cluster does not run with synchronous_commit = off".into(),
    );
    let store = PgStore::open(&url).unwrap();
    for _ in 0..rounds(2) {
        tally.run();
        let outside = setting(&mut store.connection()).unwrap();
        let inside = store.write(setting).unwrap();
        tally.check(outside == "on" && inside == "on", || {
            format!("synchronous_commit is {outside} on the connection, {inside} inside")
        });
        for _ in 0..200 {
            tally.issued(store.allocate(SCOPE).unwrap());
        }
        cluster.restart_immediate();
        for _ in 0..50 {
            match store.allocate(SCOPE) {
                Ok(n) => tally.issued(n),
                Err(e) => tally.error_of(&e),
            }
        }
    }
    only_errors(tally, &["Database", "Unreachable"]);
}

/// A `statement_timeout` of a few milliseconds on the database, while three workers
/// contend for one counter row: calls time out with typed errors, no number twice.
fn statement_timeout(cluster: &PrivateCluster, tally: &mut Tally) {
    let mut rig = Rig::new(cluster, "pg-timeout");
    let db = rig.url.rsplit("dbname=").next().unwrap().to_owned();
    cluster
        .admin()
        .batch_execute(&format!(
            "ALTER DATABASE {db} SET statement_timeout = '2ms'"
        ))
        .unwrap();
    let workers = [
        rig.spawn("allocate"),
        rig.spawn("allocate"),
        rig.spawn("allocate-tx"),
    ];
    for _ in 0..rounds(2) {
        tally.run();
        rig.progress(tally, &workers, 300);
    }
    cluster
        .admin()
        .batch_execute(&format!("ALTER DATABASE {db} RESET statement_timeout"))
        .unwrap();
    rig.finish(tally);
    only_errors(tally, &["Database"]);
}

fn kill_9(cluster: &PrivateCluster, tally: &mut Tally) {
    let mut rng = Rng::new("postgres/kill-9");
    let mut rig = Rig::new(cluster, "pg-kill9");
    let mut live: Vec<usize> = vec![
        rig.spawn("allocate"),
        rig.spawn("allocate"),
        rig.spawn("allocate-tx"),
    ];
    for _ in 0..rounds(6) {
        let pick = rng.below(live.len() as u64) as usize;
        let k = live[pick];
        if !rig.progress(tally, &[k], 5) {
            break;
        }
        thread::sleep(Duration::from_millis(rng.below(20)));
        rig.kill(k);
        tally.run();
        let job = if pick == 2 { "allocate-tx" } else { "allocate" };
        live[pick] = rig.spawn(job);
    }
    rig.progress(tally, &live, 5);
    rig.finish(tally);
    only_errors(tally, &[]);
}

/// A worker frozen (SIGSTOP) for longer than the others need for many calls, at random
/// moments, inside its transactions too.
fn sigstop(cluster: &PrivateCluster, tally: &mut Tally) {
    let mut rng = Rng::new("postgres/sigstop");
    let mut rig = Rig::new(cluster, "pg-sigstop");
    let workers = [
        rig.spawn("allocate"),
        rig.spawn("allocate"),
        rig.spawn("allocate-tx"),
    ];
    for _ in 0..rounds(3) {
        if !rig.progress(tally, &workers, 20) {
            break;
        }
        let k = workers[rng.below(3) as usize];
        thread::sleep(Duration::from_millis(rng.below(20)));
        rig.signal(k, libc::SIGSTOP);
        tally.run();
        let others: Vec<usize> = workers.iter().copied().filter(|&w| w != k).collect();
        rig.progress(tally, &others, 100);
        rig.signal(k, libc::SIGCONT);
    }
    rig.progress(tally, &workers, 20);
    rig.finish(tally);
    only_errors(tally, &[]);
}

fn two_stores(cluster: &PrivateCluster, tally: &mut Tally) {
    let mut rig = Rig::new(cluster, "pg-two");
    let workers = [rig.spawn("two-stores"), rig.spawn("allocate")];
    for _ in 0..rounds(1) {
        tally.run();
        rig.progress(tally, &workers, 300);
    }
    rig.finish(tally);
    only_errors(tally, &[]);
}

#[test]
fn postgres_faults() {
    let started = Instant::now();
    let cluster = PrivateCluster::start(ClusterConfig::new());
    let mut table = FaultTable::new(Backend::Postgres);
    for class in [
        "lock-deleted",
        "lock-replaced",
        "counter-deleted",
        "counter-truncated",
        "counter-torn",
        "counter-garbage",
        "counter-overlong",
        "counter-unwritable",
        "dir-removed",
        "reboot",
    ] {
        table.skip(
            class,
            "a folder store's files; the data lives in the server",
        );
    }
    for class in ["data-deleted", "data-restored"] {
        table.skip(
            class,
            "every process reaches the same server: there is no second copy to issue from \
             (after restoring a backup, reseed the counters: see the store docs)",
        );
    }
    table.cell("kill-9", |t| kill_9(&cluster, t));
    table.cell("sigstop", |t| sigstop(&cluster, t));
    table.cell("two-stores", |t| two_stores(&cluster, t));
    table.cell("backend-terminated", |t| backend_terminated(&cluster, t));
    table.cell("server-restart", |t| server_restart(&cluster, t));
    table.cell("sync-commit-off", |t| sync_commit_off(&cluster, t));
    table.cell("statement-timeout", |t| statement_timeout(&cluster, t));
    table.skip("partition", "a lease fault: run in the lease column");
    table.skip("write-lock-held", "SQLite only");
    table.skip("db-replaced", "SQLite only");
    table.skip("clock-step-small", "the store reads no clock");
    table.skip("clock-step-large", "the store reads no clock");
    eprintln!(
        "postgres fault table in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    table.finish();
}
