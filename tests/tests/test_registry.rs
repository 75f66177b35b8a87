//! The instance registry and worker-ID leases on SQLite and PostgreSQL: every operation,
//! duplicate and stale registrations, prefixes, failures reported without a panic,
//! lease takeover and fencing, and the one-call start-up.
//!
//! Each scenario is a function over a database URL, run once per backend by `both!`.

use std::error::Error as _;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use typed_id::generator::{Layout, ManualClock};
use typed_id::instance::{
    Environment, Heartbeat, InstanceCounts, InstanceList, InstanceState, IssueError, LeaseOptions,
    ListQuery, MapEnv, NewInstance, Progress, Purge, Registry, RegistryError, RegistryOptions,
    StartConfig, StartError, ValidationWarning, WorkerLease, start_with_env,
};
use typed_id::{GenerateError, HexSpec, InstanceKey, Snowflake};
use typed_id_tests::pg::TestDatabase;
use typed_id_tests::sqlite::TempSqlite;

/// 2025-01-01T00:00:00Z.
const T0: u64 = 1_735_689_600_000;

/// A backend for one test: keeps the database alive and gives its URL.
enum Db {
    Sqlite(TempSqlite),
    Postgres(TestDatabase),
}

impl Db {
    fn url(&self) -> &str {
        match self {
            Db::Sqlite(db) => db.url(),
            Db::Postgres(db) => db.url(),
        }
    }
}

/// Runs each scenario against a fresh SQLite file and a fresh PostgreSQL database.
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                let db = super::Db::Sqlite(typed_id_tests::sqlite::TempSqlite::new());
                super::$name(&db);
            }
            #[test]
            fn postgres() {
                let db = super::Db::Postgres(typed_id_tests::pg::TestDatabase::new());
                super::$name(&db);
            }
        }
    )*};
}

both!(
    register_heartbeat_get_list_close,
    duplicate_registration_is_refused,
    closed_and_stale_ids_are_taken_over_and_the_old_process_learns_it,
    prefixes_resolve_or_list_candidates,
    stale_instances_are_marked,
    leases_take_the_lowest_free_worker,
    expired_lease_is_taken_over_above_its_high_water_mark,
    released_lease_records_the_exact_high_water_mark,
    release_while_threads_issue_records_every_issued_timestamp,
    lapsed_lease_fences_until_renewed,
    restart_with_clock_behind_issues_only_above_high_water,
    heartbeat_thread_renews_and_beats,
    start_detects_validates_registers_and_leases,
    registries_and_stores_migrate_one_database_at_once,
);

fn open(db: &Db, clock: &ManualClock) -> Registry {
    Registry::open_with(db.url(), RegistryOptions::new().clock(clock.clone())).unwrap()
}

fn new(id: &str, project: &str) -> NewInstance {
    NewInstance::new(id, project)
        .hostname(Some("test-host"))
        .pid(Some(4242))
}

fn register_heartbeat_get_list_close(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = open(db, &clock);
    let a = registry
        .register(&new("orders-a-11111111", "orders").status("booting"))
        .unwrap();
    assert_eq!(a.id(), "orders-a-11111111");
    assert!(a.replaced().is_none());
    clock.advance_ms(10);
    let b = registry
        .register(&new("orders-b-22222222", "orders"))
        .unwrap();
    let c = registry
        .register(&new("billing-c-3333333", "billing"))
        .unwrap();

    let got = registry.get("orders-a-11111111").unwrap();
    assert_eq!(got.project, "orders");
    assert_eq!(got.hostname.as_deref(), Some("test-host"));
    assert_eq!(got.pid, Some(4242));
    assert_eq!(got.status.as_deref(), Some("booting"));
    assert_eq!(got.created_at_ms, T0);
    assert_eq!(got.last_heartbeat_ms, T0);
    assert!(got.is_active() && !got.stale);

    // A heartbeat with a status updates both; one without keeps the status.
    clock.advance_ms(1_000);
    registry
        .heartbeat(&a, Some(r#"{"queue":3,"version":"1.4.2"}"#))
        .unwrap();
    clock.advance_ms(1_000);
    registry.heartbeat(&a, None).unwrap();
    let got = registry.get("orders-a-11111111").unwrap();
    assert_eq!(got.last_heartbeat_ms, T0 + 2_010);
    assert_eq!(
        got.status.as_deref(),
        Some(r#"{"queue":3,"version":"1.4.2"}"#)
    );
    assert_eq!(got.created_at_ms, T0);

    // Ordered by project, then most recent heartbeat first.
    let all: Vec<_> = registry
        .list(None)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        all,
        [
            "billing-c-3333333",
            "orders-a-11111111",
            "orders-b-22222222"
        ]
    );
    clock.advance_ms(1);
    registry.heartbeat(&b, None).unwrap();
    let orders: Vec<_> = registry
        .list(Some("orders"))
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(orders, ["orders-b-22222222", "orders-a-11111111"]);
    assert!(registry.list(Some("nothing")).unwrap().is_empty());

    // Closed instances leave the list, stay readable by full ID, and refuse heartbeats.
    registry.close(&b).unwrap();
    registry.close(&b).unwrap(); // idempotent
    assert_eq!(registry.list(Some("orders")).unwrap().len(), 1);
    let closed = registry.get("orders-b-22222222").unwrap();
    assert_eq!(closed.closed_at_ms, Some(T0 + 2_011));
    assert!(!closed.is_active() && !closed.stale);
    let err = registry.heartbeat(&b, None).unwrap_err();
    assert!(matches!(err, RegistryError::Closed { ref id } if id == "orders-b-22222222"));
    assert_eq!(
        err.to_string(),
        r#"instance "orders-b-22222222" is closed; register it again"#
    );
    registry.close(&c).unwrap();

    // Invalid IDs never reach the database.
    for id in [String::new(), "x".repeat(256)] {
        assert!(matches!(
            registry.register(&new(&id, "orders")),
            Err(RegistryError::InvalidInstanceId { .. })
        ));
    }
}

fn duplicate_registration_is_refused(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = open(db, &clock);
    let first = registry.register(&new("web-7f3c2a91", "web")).unwrap();
    clock.advance_ms(119_000); // still alive: inside the 120 s timeout
    let err = registry
        .register(&new("web-7f3c2a91", "web").hostname(Some("other-host")))
        .unwrap_err();
    let RegistryError::DuplicateInstance { existing } = &err else {
        panic!("expected DuplicateInstance, got {err:?}");
    };
    assert_eq!(existing.id, "web-7f3c2a91");
    assert_eq!(existing.hostname.as_deref(), Some("test-host"));
    assert_eq!(
        err.to_string(),
        format!(
            "instance \"web-7f3c2a91\" is already registered and alive (project \"web\", host \
             test-host, pid 4242, last heartbeat at {T0} ms since 1970); give each instance \
             its own ID"
        )
    );
    // Nothing was overwritten, and the first registration still works.
    assert_eq!(
        registry.get("web-7f3c2a91").unwrap().hostname.as_deref(),
        Some("test-host")
    );
    registry.heartbeat(&first, None).unwrap();

    // Another connection (another process) is refused the same way.
    let other = open(db, &clock);
    assert!(matches!(
        other.register(&new("web-7f3c2a91", "web")),
        Err(RegistryError::DuplicateInstance { .. })
    ));
}

fn closed_and_stale_ids_are_taken_over_and_the_old_process_learns_it(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = open(db, &clock);

    // Closed: a restart of a stable ID (a StatefulSet pod, an override) registers again.
    let first = registry.register(&new("db-0", "pg")).unwrap();
    registry.close(&first).unwrap();
    clock.advance_ms(5);
    let second = registry.register(&new("db-0", "pg")).unwrap();
    let replaced = second.replaced().unwrap();
    assert_eq!(replaced.closed_at_ms, Some(T0));
    assert_eq!(registry.get("db-0").unwrap().created_at_ms, T0 + 5);
    assert!(matches!(
        registry.heartbeat(&first, None),
        Err(RegistryError::Superseded { .. })
    ));

    // Stale: the old process stopped heartbeating for longer than the timeout.
    clock.advance_ms(120_001);
    let third = registry.register(&new("db-0", "pg")).unwrap();
    let replaced = third.replaced().unwrap();
    assert!(replaced.stale && replaced.is_active());
    // The old process comes back: its heartbeat is refused, not merged.
    let err = registry.heartbeat(&second, None).unwrap_err();
    assert!(matches!(err, RegistryError::Superseded { ref id } if id == "db-0"));
    assert_eq!(
        err.to_string(),
        "instance \"db-0\" was registered again by another process after this one went \
         stale; this process no longer owns that ID"
    );
    assert!(matches!(
        registry.close(&second),
        Err(RegistryError::Superseded { .. })
    ));
    registry.heartbeat(&third, None).unwrap();
}

fn prefixes_resolve_or_list_candidates(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = open(db, &clock);
    for id in [
        "api-7f3c2a91",
        "api-7f3d0000",
        "api-9b00aa11",
        "worker_1",
        "worker%1",
    ] {
        registry.register(&new(id, "p")).unwrap();
    }
    assert_eq!(registry.get("api-9").unwrap().id, "api-9b00aa11");
    assert_eq!(registry.get("api-7f3c").unwrap().id, "api-7f3c2a91");

    let err = registry.get("api-7f3").unwrap_err();
    let RegistryError::AmbiguousPrefix {
        prefix,
        candidates,
        more,
    } = &err
    else {
        panic!("expected AmbiguousPrefix, got {err:?}");
    };
    assert_eq!(prefix, "api-7f3");
    assert_eq!(candidates, &["api-7f3c2a91", "api-7f3d0000"]);
    assert!(!more);
    assert_eq!(
        err.to_string(),
        r#"instance prefix "api-7f3" is ambiguous: it matches api-7f3c2a91, api-7f3d0000"#
    );

    // LIKE wildcards are plain characters; prefixes are case-sensitive.
    assert_eq!(registry.get("worker%").unwrap().id, "worker%1");
    assert_eq!(registry.get("worker_").unwrap().id, "worker_1");
    assert!(matches!(
        registry.get("API-7"),
        Err(RegistryError::NotFound { .. })
    ));
    let err = registry.get("nope").unwrap_err();
    assert_eq!(err.to_string(), r#"no instance "nope" in the registry"#);
    assert!(matches!(
        registry.get(""),
        Err(RegistryError::NotFound { .. })
    ));

    // Many matches: 20 listed and "more".
    for i in 0..25 {
        registry
            .register(&new(&format!("bulk-{i:02}"), "p"))
            .unwrap();
    }
    match registry.get("bulk-") {
        Err(RegistryError::AmbiguousPrefix {
            candidates, more, ..
        }) => {
            assert_eq!(candidates.len(), 20);
            assert_eq!(candidates[0], "bulk-00");
            assert!(more);
        }
        other => panic!("{other:?}"),
    }
    // Closed instances are not prefix candidates (but their full ID still resolves).
    let closing = registry.register(&new("api-7f3e1111", "p")).unwrap();
    registry.close(&closing).unwrap();
    assert!(matches!(
        registry.get("api-7f3"),
        Err(RegistryError::AmbiguousPrefix { ref candidates, .. }) if candidates.len() == 2
    ));
    assert_eq!(registry.get("api-7f3e").ok(), None);
    assert!(!registry.get("api-7f3e1111").unwrap().is_active());
}

fn stale_instances_are_marked(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = Registry::open_with(
        db.url(),
        RegistryOptions::new()
            .clock(clock.clone())
            .stale_after(Duration::from_secs(30)),
    )
    .unwrap();
    let a = registry.register(&new("alive-00000001", "p")).unwrap();
    let _b = registry.register(&new("quiet-00000002", "p")).unwrap();
    clock.advance_ms(30_000);
    registry.heartbeat(&a, None).unwrap();
    // Exactly at the timeout: not yet stale.
    let list = registry.list(Some("p")).unwrap();
    assert!(list.iter().all(|r| !r.stale), "{list:?}");
    clock.advance_ms(1);
    let list = registry.list(Some("p")).unwrap();
    let flags: Vec<_> = list.iter().map(|r| (r.id.as_str(), r.stale)).collect();
    assert_eq!(flags, [("alive-00000001", false), ("quiet-00000002", true)]);
    assert!(registry.get("quiet").unwrap().stale);
    // A heartbeat revives.
    clock.advance_ms(40_000);
    assert!(registry.get("alive").unwrap().stale);
    registry.heartbeat(&a, None).unwrap();
    assert!(!registry.get("alive").unwrap().stale);
}

fn small_layout() -> Layout {
    // 2 worker bits: workers 0..=3.
    Layout::new(41, 2, 12, Layout::DEFAULT.epoch_ms()).unwrap()
}

fn leases_take_the_lowest_free_worker(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = Arc::new(open(db, &clock));
    let opts = |holder: &str| {
        LeaseOptions::new("orders", holder)
            .layout(small_layout())
            .clock(clock.clone())
    };
    let leases: Vec<_> = (0..4)
        .map(|i| WorkerLease::acquire(registry.clone(), opts(&format!("h{i}"))).unwrap())
        .collect();
    let workers: Vec<_> = leases.iter().map(WorkerLease::worker).collect();
    assert_eq!(workers, [0, 1, 2, 3]);
    let err = WorkerLease::acquire(registry.clone(), opts("h4")).unwrap_err();
    assert!(matches!(
        err,
        RegistryError::NoFreeWorker { ref scope, max_worker: 3 } if scope == "orders"
    ));
    assert_eq!(
        err.to_string(),
        r#"no free worker ID in scope "orders": all of 0..=3 are leased"#
    );
    // Scopes are independent.
    let other = WorkerLease::acquire(
        registry.clone(),
        LeaseOptions::new("billing", "h5").clock(clock.clone()),
    )
    .unwrap();
    assert_eq!(other.worker(), 0);

    // Releasing worker 1 frees exactly that one.
    leases[1].release().unwrap();
    leases[1].release().unwrap(); // idempotent
    let again = WorkerLease::acquire(registry.clone(), opts("h6")).unwrap();
    assert_eq!(again.worker(), 1);
    let records = registry.leases("orders").unwrap();
    assert_eq!(records.len(), 4);
    assert_eq!(records[1].holder.as_deref(), Some("h6"));
    assert!(records.iter().all(|r| !r.free));
    // Each generator issues with its own worker ID.
    for lease in leases.iter().filter(|l| l.worker() != 1) {
        let g = lease.generator();
        let id = g.next_snowflake().unwrap();
        assert_eq!(g.decompose(id).worker, lease.worker());
    }
}

fn expired_lease_is_taken_over_above_its_high_water_mark(db: &Db) {
    let registry_clock = ManualClock::new(T0);
    let registry = Arc::new(open(db, &registry_clock));
    let old_clock = ManualClock::new(T0);
    let old = WorkerLease::acquire(
        registry.clone(),
        LeaseOptions::new("s", "old").clock(old_clock.clone()),
    )
    .unwrap();
    assert_eq!((old.worker(), old.floor_ms()), (0, 0));
    let old_gen = old.generator();
    let mut old_ids: Vec<u64> = (0..1000)
        .map(|_| old_gen.next_snowflake().unwrap().as_u64())
        .collect();
    let recorded = registry.leases("s").unwrap()[0].high_water_ms;
    assert_eq!(recorded, T0 + 30_000); // latest issued (T0) + the period

    // The registry's clock passes the expiry (the old holder is partitioned away, say).
    registry_clock.advance_ms(30_000);
    let new_clock = ManualClock::new(T0 + 30_000);
    let new = WorkerLease::acquire(
        registry.clone(),
        LeaseOptions::new("s", "new").clock(new_clock.clone()),
    )
    .unwrap();
    assert_eq!(new.worker(), 0);
    assert_eq!(new.floor_ms(), recorded);
    let new_gen = new.generator();
    let new_ids: Vec<u64> = (0..1000)
        .map(|_| new_gen.next_snowflake().unwrap().as_u64())
        .collect();
    assert!(
        new_gen
            .decompose(Snowflake::new(new_ids[0]).unwrap())
            .timestamp_ms
            > recorded
    );

    // The old holder has not noticed yet (its local deadline is on the real monotonic
    // clock) and keeps issuing: never above its ceiling, so never into the new range.
    old_clock.advance_ms(29_999);
    old_ids.extend((0..1000).map(|_| old_gen.next_snowflake().unwrap().as_u64()));
    old_clock.advance_ms(2);
    assert_eq!(
        old_gen.next_snowflake(),
        Err(IssueError::Generate(GenerateError::CeilingReached {
            ceiling_ms: recorded
        }))
    );
    assert!(old_ids.iter().max() < new_ids.iter().min());

    // Its next renewal finds the lease gone and fences the generator for good.
    let err = old.renew().unwrap_err();
    assert!(matches!(err, RegistryError::LeaseLost { worker: 0, .. }));
    assert_eq!(
        err.to_string(),
        r#"worker ID 0 of scope "s" was taken over by another holder; its generator is fenced"#
    );
    assert_eq!(
        old_gen.next_snowflake(),
        Err(IssueError::LeaseEnded { worker: 0 })
    );
    assert!(matches!(
        old.renew(),
        Err(RegistryError::LeaseReleased { .. })
    ));
    new.renew().unwrap();
}

fn released_lease_records_the_exact_high_water_mark(db: &Db) {
    let registry_clock = ManualClock::new(T0);
    let registry = Arc::new(open(db, &registry_clock));
    let clock = ManualClock::new(T0);
    let lease = WorkerLease::acquire(
        registry.clone(),
        LeaseOptions::new("s", "a").clock(clock.clone()),
    )
    .unwrap();
    let generator = lease.generator();
    for _ in 0..3 {
        generator.next_snowflake().unwrap();
        clock.advance_ms(7);
    }
    let last = generator.high_water_ms();
    assert_eq!(last, T0 + 14);
    lease.release().unwrap();
    assert_eq!(
        generator.next_snowflake(),
        Err(IssueError::LeaseEnded { worker: 0 })
    );
    let record = &registry.leases("s").unwrap()[0];
    assert_eq!(record.holder, None);
    assert!(record.free);
    assert_eq!(record.expires_at_ms, 0);
    assert_eq!(record.high_water_ms, last);

    // The successor starts right above it, at once (a rolling restart), even with its
    // clock showing the very millisecond of the last ID.
    clock.set_ms(last);
    let next = WorkerLease::acquire(
        registry.clone(),
        LeaseOptions::new("s", "b").clock(clock.clone()),
    )
    .unwrap();
    assert_eq!((next.worker(), next.floor_ms()), (0, last));
    let id = next.generator().next_snowflake().unwrap();
    assert_eq!(next.generator().decompose(id).timestamp_ms, last + 1);

    // Dropping a lease releases it too.
    drop(next);
    assert!(registry.leases("s").unwrap()[0].free);
}

fn release_while_threads_issue_records_every_issued_timestamp(db: &Db) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    let registry = Arc::new(Registry::open(db.url()).unwrap());
    let lease = WorkerLease::acquire(registry.clone(), LeaseOptions::new("s", "a")).unwrap();
    let generator = lease.generator();
    // `released` is set the moment `release` returns, while the threads still call:
    // a call that started after it must not get an ID. `stop` ends the threads once
    // each of them has made such a call, so the check cannot pass by not looking.
    let released = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let looked = Arc::new(AtomicUsize::new(0));
    // Threads that issued an ID before the release: it waits for all four, so a busy
    // machine that is slow to schedule a thread cannot leave one with nothing issued.
    let issuing = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (generator, released, stop, looked, issuing) = (
                generator.clone(),
                released.clone(),
                stop.clone(),
                looked.clone(),
                issuing.clone(),
            );
            std::thread::spawn(move || {
                let mut issued = Vec::new();
                let mut refusals = Vec::new();
                let mut issued_after_release = Vec::new();
                let mut calls_after_release = 0u64;
                while !stop.load(SeqCst) {
                    let after_release = released.load(SeqCst);
                    match generator.next_snowflake() {
                        Ok(id) if after_release => issued_after_release.push(id.as_u64()),
                        Ok(id) => {
                            if issued.is_empty() {
                                issuing.fetch_add(1, SeqCst);
                            }
                            issued.push(id.as_u64());
                        }
                        Err(e) => refusals.push(e),
                    }
                    if after_release {
                        calls_after_release += 1;
                        if calls_after_release == 1 {
                            looked.fetch_add(1, SeqCst);
                        }
                    }
                }
                (issued, refusals, issued_after_release, calls_after_release)
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while issuing.load(SeqCst) < 4 {
        assert!(Instant::now() < deadline, "the threads never issued");
        std::thread::yield_now();
    }
    std::thread::sleep(Duration::from_millis(20));
    let releasing = Instant::now();
    lease.release().unwrap();
    released.store(true, SeqCst);
    let release_took = releasing.elapsed();
    let deadline = Instant::now() + Duration::from_secs(30);
    while looked.load(SeqCst) < 4 {
        assert!(Instant::now() < deadline, "the threads stopped calling");
        std::thread::yield_now();
    }
    stop.store(true, SeqCst);
    let mut max_ts = 0;
    let mut lists = Vec::new();
    for t in threads {
        let (issued, refusals, issued_after_release, calls_after_release) = t.join().unwrap();
        assert!(calls_after_release > 0);
        assert_eq!(
            issued_after_release,
            Vec::<u64>::new(),
            "still issuing after the release"
        );
        assert!(
            refusals
                .iter()
                .all(|e| *e == IssueError::LeaseEnded { worker: 0 }),
            "{refusals:?}"
        );
        assert!(!issued.is_empty());
        max_ts = max_ts.max(
            generator
                .decompose(Snowflake::new(*issued.last().unwrap()).unwrap())
                .timestamp_ms,
        );
        lists.push(issued);
    }
    // The release waits for calls in flight (200 ms at most), then writes once.
    assert!(release_took < Duration::from_secs(10), "{release_took:?}");
    // Calls in flight were waited for: the recorded mark is exactly the newest ID's.
    let record = &registry.leases("s").unwrap()[0];
    assert_eq!(record.high_water_ms, max_ts);
    let mut all: Vec<u64> = lists.concat();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n, "duplicates across threads");
}

/// Waits for the real signal (the generator reports no time left), not a sleep, so a
/// loaded machine only makes the test slower; the 3 s period leaves seconds between an
/// acquisition or renewal and the next call.
fn wait_for_lapse<C: typed_id::generator::Clock>(
    generator: &typed_id::instance::LeasedGenerator<C>,
    within: Duration,
) {
    let deadline = Instant::now() + within;
    while let Some(left) = generator.remaining() {
        assert!(Instant::now() < deadline, "never lapsed");
        std::thread::sleep(left.min(Duration::from_millis(100)) + Duration::from_millis(1));
    }
}

fn lapsed_lease_fences_until_renewed(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = Arc::new(open(db, &clock));
    let period = Duration::from_secs(3);
    let lease =
        WorkerLease::acquire(registry.clone(), LeaseOptions::new("s", "a").period(period)).unwrap();
    let generator = lease.generator();
    assert!(generator.is_valid());
    let left = generator.remaining().unwrap();
    assert!(left <= period * 9 / 10, "{left:?}");
    generator.next_snowflake().unwrap();
    // Past 90 % of the period without a renewal: refused.
    wait_for_lapse(&generator, period + Duration::from_secs(30));
    let err = generator.next_snowflake().unwrap_err();
    let IssueError::LeaseLapsed { worker: 0, .. } = err else {
        panic!("expected LeaseLapsed, got {err:?}");
    };
    assert!(
        err.to_string()
            .starts_with("the lease on worker ID 0 lapsed ")
    );
    assert!(!generator.is_valid());
    // Nobody took it over (the registry's clock did not move): a renewal revives it.
    lease.renew().unwrap();
    assert!(generator.is_valid());
    generator.next_snowflake().unwrap();
}

fn restart_with_clock_behind_issues_only_above_high_water(db: &Db) {
    let registry = Arc::new(open(db, &ManualClock::new(T0)));
    let before = ManualClock::new(T0 + 60_000);
    let first = WorkerLease::acquire(
        registry.clone(),
        LeaseOptions::new("s", "first").clock(before.clone()),
    )
    .unwrap();
    let g = first.generator();
    // A frozen clock allows 4 096 IDs per millisecond, plus one millisecond of lead.
    let first_ids: Vec<u64> = (0..4_000)
        .map(|_| g.next_snowflake().unwrap().as_u64())
        .collect();
    let high_water = g.high_water_ms();
    first.release().unwrap();

    // Restart with the clock 5 ms behind (within the 10 ms tolerance): the new holder
    // continues right above the mark.
    let behind = ManualClock::new(high_water - 5);
    let second = WorkerLease::acquire(
        registry.clone(),
        LeaseOptions::new("s", "second").clock(behind.clone()),
    )
    .unwrap();
    assert_eq!(second.worker(), first.worker());
    assert_eq!(second.floor_ms(), high_water);
    let g2 = second.generator();
    let second_ids: Vec<u64> = (0..4_000)
        .map(|_| g2.next_snowflake().unwrap().as_u64())
        .collect();
    assert!(first_ids.iter().max() < second_ids.iter().min());
    for id in [second_ids[0], second_ids[3_999]] {
        assert!(g2.decompose(Snowflake::new(id).unwrap()).timestamp_ms > high_water);
    }
    let high_water_2 = g2.high_water_ms();
    second.release().unwrap();

    // Restart with the clock an hour behind: it refuses rather than repeat an ID...
    let far_behind = ManualClock::new(high_water_2 - 3_600_000);
    let third = WorkerLease::acquire(
        registry.clone(),
        LeaseOptions::new("s", "third").clock(far_behind.clone()),
    )
    .unwrap();
    let g3 = third.generator();
    assert!(matches!(
        g3.next_snowflake(),
        Err(IssueError::Generate(
            GenerateError::ClockMovedBackwards { .. }
        ))
    ));
    // ...until the clock catches up, and then issues only above the mark.
    far_behind.set_ms(high_water_2);
    let id = g3.next_snowflake().unwrap();
    assert!(id.as_u64() > *second_ids.iter().max().unwrap());
    assert_eq!(g3.decompose(id).timestamp_ms, high_water_2 + 1);
}

fn heartbeat_thread_renews_and_beats(db: &Db) {
    let registry = Arc::new(Registry::open(db.url()).unwrap());
    let registration = registry.register(&new("beating-00000001", "p")).unwrap();
    let period = Duration::from_millis(1_500);
    let lease = Arc::new(
        WorkerLease::acquire(
            registry.clone(),
            LeaseOptions::new("p", "beating-00000001").period(period),
        )
        .unwrap(),
    );
    let generator = lease.generator();
    let first_deadline = Instant::now() + generator.remaining().unwrap();
    let first_renewal = registry.leases("p").unwrap()[0].renewed_at_ms;
    let (tx, rx) = mpsc::channel();
    let heartbeat = Heartbeat::builder(registry.clone())
        .instance(registration.clone())
        .lease(lease.clone())
        .status(r#"{"ready":true}"#)
        .on_error(move |e| drop(tx.send(e.to_string())))
        .spawn()
        .unwrap();
    assert_eq!(heartbeat.interval(), Duration::from_millis(500));
    // Issue until the heartbeat has renewed three times and the first deadline has
    // passed. On a loaded machine a beat may come late and the lease lapse for a
    // moment (refused, then revived by the next beat); what must hold is that IDs are
    // issued after the deadline the acquisition set: only renewals make that possible.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut issued_after_first_deadline = 0u64;
    let mut lapses = 0u64;
    while heartbeat.beats() < 3 || issued_after_first_deadline == 0 {
        assert!(Instant::now() < deadline, "{heartbeat:?}");
        match generator.next_snowflake() {
            Ok(_) if Instant::now() > first_deadline => issued_after_first_deadline += 1,
            Ok(_) => {}
            Err(IssueError::LeaseLapsed { .. }) => lapses += 1,
            Err(e) => panic!("{e}"),
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(heartbeat.failures(), 0, "{:?}", rx.try_recv());
    assert!(registry.leases("p").unwrap()[0].renewed_at_ms > first_renewal);
    let record = registry.get("beating").unwrap();
    assert_eq!(record.status.as_deref(), Some(r#"{"ready":true}"#));
    heartbeat.set_status(Some(r#"{"ready":false}"#.into()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while registry.get("beating").unwrap().status.as_deref() != Some(r#"{"ready":false}"#) {
        assert!(Instant::now() < deadline, "the new status never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    heartbeat.stop();
    // Stopped: the lease is no longer renewed and lapses.
    wait_for_lapse(&generator, period + Duration::from_secs(30));
    assert!(matches!(
        generator.next_snowflake(),
        Err(IssueError::LeaseLapsed { .. })
    ));
    eprintln!(
        "heartbeat: {issued_after_first_deadline} IDs past the first deadline, {lapses} refused"
    );
}

fn start_detects_validates_registers_and_leases(db: &Db) {
    let env = MapEnv::new()
        .var("APP_ENV", "production")
        .var("KUBERNETES_SERVICE_HOST", "10.0.0.1")
        .var("HOSTNAME", "orders-api-5c9f-x2x9k");
    let instance = start_with_env(StartConfig::new("orders", db.url()), &env).unwrap();
    assert_eq!(instance.id(), "orders-api-5c9f-x2x9k");
    assert_eq!(instance.source().to_string(), "Kubernetes pod HOSTNAME");
    assert_eq!(instance.environment(), Environment::Production);
    assert!(instance.warnings().is_empty());
    assert_eq!(instance.worker_id(), 0);
    let record = instance.registry().get("orders-api-5c9f").unwrap();
    assert_eq!(record.source.as_deref(), Some("kubernetes"));
    assert_eq!(record.environment.as_deref(), Some("production"));
    let generator = instance.generator();
    let id = generator.next_snowflake().unwrap();
    assert_eq!(generator.decompose(id).worker, 0);

    // A second pod: its own worker ID; a short name warns.
    let env2 = MapEnv::new()
        .var("APP_ENV", "staging")
        .var("APP_INSTANCE_ID", "pod-2");
    let second = start_with_env(
        StartConfig::with_registry("orders", instance.registry().clone()),
        &env2,
    )
    .unwrap();
    assert_eq!(second.worker_id(), 1);
    assert_eq!(second.warnings().len(), 1);

    // The same ID again: refused, nothing leased.
    let err = start_with_env(StartConfig::new("orders", db.url()), &env).unwrap_err();
    assert!(matches!(
        err,
        StartError::Registry(RegistryError::DuplicateInstance { .. })
    ));

    // Production refuses a default ID before touching the database...
    let bad = MapEnv::new().var("APP_INSTANCE_ID", "localhost");
    let err =
        start_with_env(StartConfig::new("orders", "/nonexistent/dir/x.db"), &bad).unwrap_err();
    assert!(matches!(err, StartError::Validation(_)));
    assert!(
        err.to_string()
            .contains("Set APP_INSTANCE_ID to a name unique"),
        "{err}"
    );
    // ...and an unknown environment name says what is valid.
    let err = start_with_env(
        StartConfig::new("orders", db.url()),
        &MapEnv::new().var("APP_ENV", "prd"),
    )
    .unwrap_err();
    assert!(matches!(err, StartError::Environment(_)));
    // Development refuses it too, unless insecure IDs are allowed explicitly: by the
    // developer's variable, or by the application's flag.
    let err = start_with_env(
        StartConfig::new("orders", db.url()).default_environment(Environment::Development),
        &bad,
    )
    .unwrap_err();
    assert!(matches!(err, StartError::Validation(_)));
    assert!(
        err.to_string()
            .ends_with("set APP_ALLOW_INSECURE_INSTANCE_ID=1"),
        "{err}"
    );
    let err = start_with_env(
        StartConfig::new("orders", db.url()).default_environment(Environment::Development),
        &bad.clone().var("APP_ALLOW_INSECURE_INSTANCE_ID", "perhaps"),
    )
    .unwrap_err();
    assert!(matches!(err, StartError::OptIn(_)), "{err}");
    let dev = start_with_env(
        StartConfig::new("orders", db.url()).default_environment(Environment::Development),
        &bad.clone().var("APP_ALLOW_INSECURE_INSTANCE_ID", "1"),
    )
    .unwrap();
    assert_eq!((dev.id(), dev.worker_id()), ("localhost", 2));
    assert!(matches!(
        dev.warnings(),
        [ValidationWarning::InsecureAllowed { .. }]
    ));
    // ...which production ignores.
    let err = start_with_env(
        StartConfig::new("orders", db.url()).allow_insecure_in_development(true),
        &bad.clone().var("APP_ALLOW_INSECURE_INSTANCE_ID", "1"),
    )
    .unwrap_err();
    assert!(matches!(err, StartError::Validation(_)));
    // The application's own default is refused in production with the fix.
    let err = start_with_env(
        StartConfig::new("orders", db.url()).known_default("asyncgate-1"),
        &MapEnv::new().var("APP_INSTANCE_ID", "asyncgate-1"),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains(
            "it is this application's default, which every instance shares until it is \
             given its own"
        ) && err
            .to_string()
            .contains("Set APP_INSTANCE_ID to a name unique"),
        "{err}"
    );

    // Shutdown releases the worker ID and closes the registration.
    let registry = instance.registry().clone();
    instance.shutdown().unwrap();
    assert!(
        registry
            .get("orders-api-5c9f-x2x9k")
            .unwrap()
            .closed_at_ms
            .is_some()
    );
    assert!(registry.leases("orders").unwrap()[0].free);
    drop(second);
    drop(dev);
    assert!(registry.list(Some("orders")).unwrap().is_empty());
    assert!(registry.leases("orders").unwrap().iter().all(|l| l.free));
}

fn registries_and_stores_migrate_one_database_at_once(db: &Db) {
    // Registries and stores apply the same embedded migrations under the same lock.
    let barrier = Arc::new(std::sync::Barrier::new(6));
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let url = db.url().to_owned();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                if i % 2 == 0 {
                    Registry::open(&url).map(drop).map_err(|e| e.to_string())
                } else {
                    match &url {
                        u if u.contains('=') => typed_id::store::PgStore::open(u)
                            .map(drop)
                            .map_err(|e| e.to_string()),
                        u => typed_id::store::SqliteStore::open(u)
                            .map(drop)
                            .map_err(|e| e.to_string()),
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    let registry = Registry::open(db.url()).unwrap();
    registry.register(&new("after-migrations", "p")).unwrap();
}

// ---------------------------------------------------------------------------------
// Failures: reported as typed errors, never a panic, and recovered from.
// ---------------------------------------------------------------------------------

#[test]
fn sqlite_heartbeat_on_a_locked_database_is_an_error_then_recovers() {
    let db = TempSqlite::new();
    let registry = Arc::new(
        Registry::open_with(
            db.url(),
            RegistryOptions::new().busy_timeout(Duration::from_millis(50)),
        )
        .unwrap(),
    );
    let me = registry.register(&new("locked-00000001", "p")).unwrap();
    let lease = WorkerLease::acquire(registry.clone(), LeaseOptions::new("p", "locked")).unwrap();

    // Another process holds the write lock.
    let mut blocker = db.connect();
    diesel::sql_query("BEGIN EXCLUSIVE")
        .execute(&mut blocker)
        .unwrap();
    let err = registry.heartbeat(&me, Some("x")).unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Database {
                operation: "heartbeat",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "registry heartbeat failed: database is locked"
    );
    let source = err.source().expect("the driver's error is the source");
    assert_eq!(source.to_string(), "database is locked");
    let err = lease.renew().unwrap_err();
    assert!(matches!(
        err,
        RegistryError::Database {
            operation: "renew lease",
            ..
        }
    ));
    // The generator keeps working until its deadline: a failed renewal is not a lapse.
    assert!(lease.generator().next_snowflake().is_ok());

    diesel::sql_query("COMMIT").execute(&mut blocker).unwrap();
    registry.heartbeat(&me, Some("x")).unwrap();
    lease.renew().unwrap();
}

#[test]
fn sqlite_heartbeat_thread_reports_failures_to_a_channel() {
    let db = TempSqlite::new();
    let registry = Arc::new(
        Registry::open_with(
            db.url(),
            RegistryOptions::new().busy_timeout(Duration::from_millis(20)),
        )
        .unwrap(),
    );
    let me = registry.register(&new("chan-00000001", "p")).unwrap();
    let (tx, rx) = mpsc::channel();
    let heartbeat = Heartbeat::builder(registry.clone())
        .instance(me)
        .interval(Duration::from_millis(30))
        .on_error(move |e| {
            let _ = tx.send(e);
            panic!("a panicking callback must not stop the heartbeat");
        })
        .spawn()
        .unwrap();
    let mut blocker = db.connect();
    diesel::sql_query("BEGIN EXCLUSIVE")
        .execute(&mut blocker)
        .unwrap();
    let err = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(matches!(err, RegistryError::Database { .. }), "{err:?}");
    let err2 = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(matches!(err2, RegistryError::Database { .. }));
    diesel::sql_query("COMMIT").execute(&mut blocker).unwrap();
    let failures = heartbeat.failures();
    assert!(failures >= 2);
    assert!(
        heartbeat
            .last_error()
            .unwrap()
            .contains("database is locked")
    );
    let beats = heartbeat.beats();
    let deadline = Instant::now() + Duration::from_secs(5);
    while heartbeat.beats() < beats + 2 {
        assert!(
            Instant::now() < deadline,
            "heartbeat did not recover: {heartbeat:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    heartbeat.stop();
}

/// Defect: a SQLite registry whose file was deleted (or replaced by a backup) kept
/// renewing its leases in the deleted file, still open, while a process started
/// afterwards leased the same worker IDs from the new file with no high-water mark.
#[test]
fn sqlite_registry_file_deleted_or_replaced_ends_the_leases() {
    // 0: file and logs deleted; 1: replaced by a backup; 2: only the `-wal` and `-shm`
    // deleted (a successor would read the lease as the last checkpoint left it).
    for case in 0..3 {
        let (replace, logs_only) = (case == 1, case == 2);
        let db = TempSqlite::new();
        let registry = Arc::new(Registry::open(db.url()).unwrap());
        let me = registry.register(&new("ghost-00000001", "p")).unwrap();
        let lease = WorkerLease::acquire(registry.clone(), LeaseOptions::new("p", "old")).unwrap();
        let generator = lease.generator();
        generator.next_snowflake().unwrap();
        let path = db.path().to_owned();
        let backup = path.with_extension("backup");
        if replace {
            std::fs::copy(&path, &backup).unwrap();
        }
        let files: &[&str] = if logs_only {
            &["-wal", "-shm"]
        } else {
            &["", "-wal", "-shm"]
        };
        for suffix in files {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        if replace {
            std::fs::rename(&backup, &path).unwrap();
        }
        // The generator looks at the file at most a millisecond apart: it stops at
        // once, before any renewal (a process leasing from the new file could start
        // issuing the same worker ID's IDs right away).
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut issued_after = 0;
        loop {
            match generator.next_snowflake() {
                Ok(_) => issued_after += 1,
                Err(e) => {
                    assert_eq!(e, IssueError::LeaseEnded { worker: 0 });
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "still issuing from the deleted file"
            );
        }
        eprintln!("case {case}: {issued_after} IDs before the generator noticed");
        let err = lease.renew().unwrap_err();
        assert!(
            matches!(err, RegistryError::DatabaseReplaced { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("was deleted or replaced while in use")
        );
        assert_eq!(
            generator.next_snowflake(),
            Err(IssueError::LeaseEnded { worker: 0 })
        );
        assert!(matches!(
            registry.heartbeat(&me, None),
            Err(RegistryError::DatabaseReplaced { .. })
        ));
        if logs_only {
            // The same file: this process keeps its old connection open (closing it
            // would delete another process's new -wal and -shm) and so cannot open the
            // file again; another process can.
            drop(lease);
            drop(registry);
            let err = Registry::open(db.url()).unwrap_err();
            assert!(
                matches!(err, RegistryError::DatabaseReplaced { .. }),
                "{err:?}"
            );
            continue;
        }
        // A process started afterwards works on the file now at the path.
        let fresh = Arc::new(Registry::open(db.url()).unwrap());
        let next = WorkerLease::acquire(fresh, LeaseOptions::new("p", "new")).unwrap();
        next.generator().next_snowflake().unwrap();
    }
}

#[test]
fn postgres_broken_connection_is_an_error_then_reconnects() {
    let db = TestDatabase::new();
    let registry = Arc::new(Registry::open(db.url()).unwrap());
    let me = registry.register(&new("pg-00000001", "p")).unwrap();
    let lease = WorkerLease::acquire(registry.clone(), LeaseOptions::new("p", "pg")).unwrap();

    // The server ends every session of this database (a failover, an admin, a restart).
    let kill_sessions = || {
        let mut admin = PgConnection::establish(&typed_id_tests::pg::database_url()).unwrap();
        diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name()
        ))
        .execute(&mut admin)
        .unwrap();
    };
    kill_sessions();
    let err = registry.heartbeat(&me, None).unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Database {
                operation: "heartbeat",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.source().is_some());
    // The next call reconnects.
    registry.heartbeat(&me, Some("back")).unwrap();
    assert_eq!(registry.get("pg-").unwrap().status.as_deref(), Some("back"));

    kill_sessions();
    assert!(matches!(
        lease.renew(),
        Err(RegistryError::Database {
            operation: "renew lease",
            ..
        })
    ));
    lease.renew().unwrap();
}

// ---------------------------------------------------------------------------------
// Durability on a server that commits asynchronously
// ---------------------------------------------------------------------------------

#[derive(diesel::QueryableByName, Debug)]
struct AuditRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    tbl: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    op: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    setting: String,
}

/// Records, for every row the registry writes, the `synchronous_commit` in force in
/// the writing transaction: what its commit waits for.
fn audit_synchronous_commit(conn: &mut PgConnection) {
    use diesel::connection::SimpleConnection as _;
    conn.batch_execute(
        "CREATE TABLE sync_audit (n BIGSERIAL PRIMARY KEY, tbl TEXT, op TEXT, setting TEXT);
         CREATE FUNCTION sync_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
             INSERT INTO sync_audit (tbl, op, setting)
             VALUES (TG_TABLE_NAME, TG_OP, current_setting('synchronous_commit'));
             RETURN NULL;
         END $$;
         CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON typed_id_worker_leases
             FOR EACH ROW EXECUTE FUNCTION sync_audit();
         CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON typed_id_instances
             FOR EACH ROW EXECUTE FUNCTION sync_audit();",
    )
    .unwrap();
}

/// The audit rows since the last call, as `table op setting` strings.
fn audited(conn: &mut PgConnection) -> Vec<String> {
    let rows: Vec<AuditRow> =
        diesel::sql_query("DELETE FROM sync_audit RETURNING n, tbl, op, setting")
            .load(conn)
            .unwrap();
    rows.into_iter()
        .map(|r| format!("{} {} {}", r.tbl, r.op, r.setting))
        .collect()
}

/// Defect: lease writes committed with the server's `synchronous_commit`, so on a
/// server running with `off` a crash could lose a renewal the holder had already acted
/// on. The registry's sessions now commit synchronously whatever the server's default,
/// from the first connection and after every reconnect.
#[test]
fn postgres_lease_and_registration_commits_wait_for_the_wal_flush_on_an_async_server() {
    use typed_id_tests::pg::{ClusterConfig, PrivateCluster};
    // The private cluster's defaults: `synchronous_commit = off`, as the shared one.
    let cluster = PrivateCluster::start(ClusterConfig::new());
    let name = cluster.create_database();
    let url = cluster.socket_url(&name);
    let registry = Arc::new(Registry::open(&url).unwrap());
    let mut conn = PgConnection::establish(&url).unwrap();
    audit_synchronous_commit(&mut conn);
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let setting: Setting =
        diesel::sql_query("SELECT current_setting('synchronous_commit') AS value")
            .get_result(&mut conn)
            .unwrap();
    assert_eq!(setting.value, "off", "the server commits asynchronously");

    let me = registry.register(&new("sync-00000001", "p")).unwrap();
    let lease = WorkerLease::acquire(registry.clone(), LeaseOptions::new("p", "sync")).unwrap();
    lease.renew().unwrap();
    registry.heartbeat(&me, None).unwrap();
    lease.release().unwrap();
    registry.close(&me).unwrap();
    assert_eq!(
        audited(&mut conn),
        [
            "typed_id_instances INSERT on",
            "typed_id_worker_leases INSERT on",
            "typed_id_worker_leases UPDATE on",
            "typed_id_instances UPDATE on",
            "typed_id_worker_leases UPDATE on",
            "typed_id_instances UPDATE on",
        ]
    );

    // After the server ended the session, the reconnected session commits
    // synchronously too; a stale row taken over (DELETE + INSERT) as well.
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .execute(&mut cluster.admin())
    .unwrap();
    let mut conn = PgConnection::establish(&url).unwrap();
    assert!(WorkerLease::acquire(registry.clone(), LeaseOptions::new("p", "sync")).is_err());
    let again = WorkerLease::acquire(registry.clone(), LeaseOptions::new("p", "sync")).unwrap();
    let me = registry.register(&new("sync-00000001", "p")).unwrap();
    assert_eq!(
        audited(&mut conn),
        [
            "typed_id_worker_leases UPDATE on",
            "typed_id_instances DELETE on",
            "typed_id_instances INSERT on",
        ]
    );

    // A stronger server setting is kept, not weakened.
    diesel::sql_query(format!(
        "ALTER DATABASE {name} SET synchronous_commit = remote_apply"
    ))
    .execute(&mut conn)
    .unwrap();
    let strong = Arc::new(Registry::open(&url).unwrap());
    strong.heartbeat(&me, None).unwrap();
    let third = WorkerLease::acquire(strong.clone(), LeaseOptions::new("p", "third")).unwrap();
    drop(again); // through the first registry's session, opened before the change
    assert_eq!(
        audited(&mut conn),
        [
            "typed_id_instances UPDATE remote_apply",
            "typed_id_worker_leases INSERT remote_apply",
            "typed_id_worker_leases UPDATE on",
        ]
    );
    drop(third);
}

#[test]
fn unsupported_and_unreachable_databases() {
    let err = Registry::open("").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported registry database URL: the database URL is empty"
    );
    let err = Registry::open("/nonexistent-dir/registry.db").unwrap_err();
    assert!(matches!(err, RegistryError::Connect { .. }));
    let err = Registry::open("host=/nonexistent-socket-dir dbname=x").unwrap_err();
    assert!(matches!(
        err,
        RegistryError::Connect {
            backend: "postgres",
            ..
        }
    ));
}

// ---------------------------------------------------------------------------------
// The reference registry: typed keys, context and progress, by-ID heartbeats and
// closes, lists with counts, hash lookups, purging, upgrading in place.
// ---------------------------------------------------------------------------------

both!(
    typed_keys_are_minted_and_checked,
    minting_retries_until_a_key_is_free,
    database_checks_refuse_malformed_rows,
    context_and_epic_are_validated_and_updated,
    heartbeat_and_close_by_id_report_staleness,
    list_orders_marks_and_counts,
    get_by_full_id_prefix_and_hash_with_ambiguity,
    purge_removes_old_closed_and_stale_rows_in_batches,
    hostile_input_is_refused_or_stored_verbatim,
    a_first_version_registry_upgrades_in_place,
);

impl Db {
    fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Runs one statement on a connection of its own, outside the registry.
    fn execute(&self, sql: &str) -> Result<usize, diesel::result::Error> {
        match self {
            Db::Sqlite(db) => diesel::sql_query(sql).execute(&mut db.connect()),
            Db::Postgres(db) => diesel::sql_query(sql).execute(&mut db.connect()),
        }
    }

    /// Runs a script (several statements).
    fn batch(&self, sql: &str) {
        use diesel::connection::SimpleConnection as _;
        match self {
            Db::Sqlite(db) => db.connect().batch_execute(sql),
            Db::Postgres(db) => db.connect().batch_execute(sql),
        }
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
}

fn typed(project: &str, kind: &str) -> NewInstance {
    NewInstance::typed(project, kind)
        .hostname(Some("test-host"))
        .pid(Some(4242))
}

fn key(text: &str) -> NewInstance {
    NewInstance::key(text.parse::<InstanceKey>().unwrap())
        .hostname(Some("test-host"))
        .pid(Some(4242))
}

fn typed_keys_are_minted_and_checked(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = open(db, &clock);
    let shape = regex::Regex::new("^odin-PS-[0-9a-f]{6}$").unwrap();
    let mut ids = std::collections::HashSet::new();
    for _ in 0..50 {
        let me = registry.register(&typed("odin", "PS")).unwrap();
        assert!(shape.is_match(me.id()), "{}", me.id());
        assert_eq!(me.instance_type(), Some("PS"));
        assert!(me.replaced().is_none());
        assert!(ids.insert(me.id().to_owned()), "duplicate {}", me.id());
    }
    let id = ids.iter().next().unwrap().clone();
    let record = registry.get(&id).unwrap();
    assert_eq!(record.project, "odin");
    assert_eq!(record.instance_type.as_deref(), Some("PS"));
    assert_eq!(record.key_hash.as_deref(), Some(&id["odin-PS-".len()..]));
    assert_eq!(record.state(), InstanceState::Active);

    // A project with segments, a caller's key, longer keys.
    let me = registry.register(&typed("billing-eu", "WEB")).unwrap();
    assert!(me.id().starts_with("billing-eu-WEB-"));
    let given = registry.register(&key("odin-MS-abcdef12")).unwrap();
    assert_eq!(given.id(), "odin-MS-abcdef12");
    assert_eq!(
        registry
            .get("odin-MS-abcdef12")
            .unwrap()
            .key_hash
            .as_deref(),
        Some("abcdef12")
    );
    let long = Registry::open_with(
        db.url(),
        RegistryOptions::new()
            .clock(clock.clone())
            .key_hex(HexSpec::new(12).unwrap()),
    )
    .unwrap();
    let me = long.register(&typed("odin", "PS")).unwrap();
    assert_eq!(me.id().len(), "odin-PS-".len() + 12);

    // Untyped rows stay possible and have no type.
    let pod = registry
        .register(&new("orders-7d9f8c6b5-x2k4p", "orders"))
        .unwrap();
    assert_eq!(pod.instance_type(), None);
    let record = registry.get("orders-7d9f8c6b5-x2k4p").unwrap();
    assert_eq!((record.instance_type, record.key_hash), (None, None));

    // Bad types and projects are refused before the database.
    for bad in ["", "P_S", "P-S", "PS ", "ÄS", "ABCDEFGHIJKLMNOPQ"] {
        let err = registry.register(&typed("odin", bad)).unwrap_err();
        assert!(
            matches!(err, RegistryError::InvalidInstanceType { ref instance_type, .. } if instance_type == bad),
            "{bad:?}: {err:?}"
        );
    }
    let err = registry.register(&typed("odin", "P_S")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid instance type \"P_S\": it may hold only ASCII letters and digits (a type \
         is 1 to 16 ASCII letters and digits, e.g. PS)"
    );
    for bad in ["", "odin_x", "-odin", "odin-", "od--in", &"p".repeat(49)] {
        let err = registry.register(&typed(bad, "PS")).unwrap_err();
        assert!(
            matches!(err, RegistryError::InvalidProject { ref project, .. } if project == bad),
            "{bad:?}: {err:?}"
        );
        assert!(err.source().is_some());
    }

    // A registry may restrict the types.
    let restricted = Registry::open_with(
        db.url(),
        RegistryOptions::new()
            .clock(clock.clone())
            .instance_types(["PS", "MS"]),
    )
    .unwrap();
    restricted.register(&typed("odin", "MS")).unwrap();
    let err = restricted.register(&typed("odin", "ps")).unwrap_err();
    assert!(matches!(err, RegistryError::InstanceTypeNotAllowed { .. }));
    assert_eq!(
        err.to_string(),
        "instance type \"ps\" is not allowed in this registry; allowed: PS, MS"
    );
    assert!(matches!(
        restricted.register(&key("odin-XX-abcdef")),
        Err(RegistryError::InstanceTypeNotAllowed { .. })
    ));
    // Untyped rows are not affected by the restriction.
    restricted.register(&new("legacy-host-1", "odin")).unwrap();

    // A caller's key that is alive is a duplicate, like any ID.
    assert!(matches!(
        registry.register(&key("odin-MS-abcdef12")),
        Err(RegistryError::DuplicateInstance { .. })
    ));
}

/// Fills keys `{project}-PS-{i:04x}` for `i` in `0..n` straight into the table.
fn fill_keys(db: &Db, project: &str, n: u32) {
    let sql = if db.is_postgres() {
        format!(
            "INSERT INTO typed_id_instances (instance_id, project, instance_type, key_hash, \
             created_at_ms, last_heartbeat_ms, closed_at_ms, incarnation) \
             SELECT '{project}-PS-' || lpad(to_hex(i), 4, '0'), '{project}', 'PS', \
             lpad(to_hex(i), 4, '0'), {T0}, {T0}, {T0}, 1 FROM generate_series(0, {}) AS i",
            n - 1
        )
    } else {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {}) \
             INSERT INTO typed_id_instances (instance_id, project, instance_type, key_hash, \
             created_at_ms, last_heartbeat_ms, closed_at_ms, incarnation) \
             SELECT '{project}-PS-' || printf('%04x', i), '{project}', 'PS', \
             printf('%04x', i), {T0}, {T0}, {T0}, 1 FROM n",
            n - 1
        )
    };
    assert_eq!(db.execute(&sql).unwrap(), n as usize);
}

fn minting_retries_until_a_key_is_free(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = Registry::open_with(
        db.url(),
        RegistryOptions::new()
            .clock(clock.clone())
            .key_hex(HexSpec::new(4).unwrap()),
    )
    .unwrap();
    // Every 4-digit key of "full" exists (closed: a minted key never takes a row over,
    // whatever its state): minting gives up with a typed error.
    fill_keys(db, "full", 0x1_0000);
    let err = registry.register(&typed("full", "PS")).unwrap_err();
    assert!(matches!(
        err,
        RegistryError::KeyCollisions { attempts: 32, .. }
    ));
    assert_eq!(
        err.to_string(),
        "could not mint a free key for project \"full\" and type \"PS\": all 32 keys tried \
         exist; use longer keys or purge old instances"
    );
    // Half of "half"'s keys exist (0000..7fff): each registration lands on a free one
    // (32 tries at ½ each: a false failure once in 4 billion runs).
    fill_keys(db, "half", 0x8000);
    for _ in 0..20 {
        let me = registry.register(&typed("half", "PS")).unwrap();
        let hash = u32::from_str_radix(&me.id()["half-PS-".len()..], 16).unwrap();
        assert!(hash >= 0x8000, "{}", me.id());
        assert!(registry.get(me.id()).unwrap().is_active());
    }
}

fn database_checks_refuse_malformed_rows(db: &Db) {
    let clock = ManualClock::new(T0);
    let _registry = open(db, &clock); // applies the migrations
    let insert = |id: &str, project: &str, kind: &str, hash: &str, extra: &str| {
        db.execute(&format!(
            "INSERT INTO typed_id_instances (instance_id, project, instance_type, key_hash, \
             created_at_ms, last_heartbeat_ms, incarnation{}) \
             VALUES ('{id}', '{project}', {kind}, {hash}, 1, 1, 1{})",
            if extra.is_empty() {
                ""
            } else {
                ", context_percent, current_epic"
            },
            extra
        ))
    };
    // Well-formed rows pass.
    insert("odin-PS-8f4a2b", "odin", "'PS'", "'8f4a2b'", "").unwrap();
    insert("k8s-pod-name", "k8s", "NULL", "NULL", ", 100, 'EPIC-1'").unwrap();
    // Each malformed one is refused by a CHECK, whoever writes it.
    let refused = [
        ("odin-PS-8f4a2c", "odin", "'PS'", "'8f4a2b'", ""), // ID is not the parts
        ("odin-P_S-8f4a2b", "odin", "'P_S'", "'8f4a2b'", ""), // type grammar
        ("odin--8f4a2b", "odin", "''", "'8f4a2b'", ""),     // empty type
        ("odin-PS-8F4A2B", "odin", "'PS'", "'8F4A2B'", ""), // uppercase hash
        ("odin-PS-8f4", "odin", "'PS'", "'8f4'", ""),       // short hash
        ("od_in-PS-8f4a2b", "od_in", "'PS'", "'8f4a2b'", ""), // project grammar
        ("odin-x", "odin", "'PS'", "NULL", ""),             // type without hash
        ("odin-y", "odin", "NULL", "'8f4a2b'", ""),         // hash without type
        ("ctx-1", "p", "NULL", "NULL", ", 101, NULL"),      // context range
        ("ctx-2", "p", "NULL", "NULL", ", -1, NULL"),       // context range
        ("epic-1", "p", "NULL", "NULL", ", NULL, ''"),      // empty epic
    ];
    for (id, project, kind, hash, extra) in refused {
        let err = insert(id, project, kind, hash, extra).unwrap_err();
        assert!(
            matches!(
                err,
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::CheckViolation,
                    _
                )
            ) || err.to_string().contains("CHECK constraint failed"),
            "{id}: {err}"
        );
    }
    let long_epic = format!(", NULL, '{}'", "e".repeat(257));
    assert!(insert("epic-2", "p", "NULL", "NULL", &long_epic).is_err());
    let max_epic = format!(", NULL, '{}'", "é".repeat(256)); // characters, not bytes
    insert("epic-3", "p", "NULL", "NULL", &max_epic).unwrap();
}

fn context_and_epic_are_validated_and_updated(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = open(db, &clock);
    let me = registry
        .register(
            &typed("odin", "PS")
                .context_percent(12)
                .current_epic("EPIC-1 parser"),
        )
        .unwrap();
    let got = registry.get(me.id()).unwrap();
    assert_eq!(got.context_percent, Some(12));
    assert_eq!(got.current_epic.as_deref(), Some("EPIC-1 parser"));

    clock.advance_ms(1_000);
    registry
        .heartbeat_with(
            &me,
            &Progress::new()
                .context_percent(64)
                .current_epic("EPIC-2 registry"),
        )
        .unwrap();
    let got = registry.get(me.id()).unwrap();
    assert_eq!(got.context_percent, Some(64));
    assert_eq!(got.current_epic.as_deref(), Some("EPIC-2 registry"));
    assert_eq!(got.last_heartbeat_ms, T0 + 1_000);

    // Unset parts keep their values; an empty epic clears it; 0 and 100 are fine.
    registry
        .heartbeat_by_id(me.id(), &Progress::new().status("ok"))
        .unwrap();
    let got = registry.get(me.id()).unwrap();
    assert_eq!(
        (got.context_percent, got.current_epic.as_deref()),
        (Some(64), Some("EPIC-2 registry"))
    );
    for percent in [0, 100] {
        registry
            .heartbeat_with(&me, &Progress::new().context_percent(percent))
            .unwrap();
        assert_eq!(
            registry.get(me.id()).unwrap().context_percent,
            Some(percent)
        );
    }
    registry
        .heartbeat_with(&me, &Progress::new().current_epic(""))
        .unwrap();
    assert_eq!(registry.get(me.id()).unwrap().current_epic, None);

    // Bad values are refused and change nothing, heartbeat included.
    clock.advance_ms(1_000);
    let before = registry.get(me.id()).unwrap();
    let err = registry
        .heartbeat_with(&me, &Progress::new().context_percent(101))
        .unwrap_err();
    assert!(matches!(
        err,
        RegistryError::InvalidContextPercent { percent: 101 }
    ));
    assert_eq!(
        err.to_string(),
        "invalid context percent 101: it must be 0 to 100"
    );
    let err = registry
        .heartbeat_by_id(me.id(), &Progress::new().current_epic("x".repeat(257)))
        .unwrap_err();
    assert!(matches!(err, RegistryError::InvalidEpic { chars: 257, .. }));
    assert_eq!(
        err.to_string(),
        "invalid current epic (257 characters): it is longer than 256 characters"
    );
    for bad in ["line\nbreak", "tab\there", "esc\u{1b}[31m"] {
        assert!(matches!(
            registry.heartbeat_with(&me, &Progress::new().current_epic(bad)),
            Err(RegistryError::InvalidEpic { .. })
        ));
    }
    assert_eq!(registry.get(me.id()).unwrap(), before);
    // 256 characters of two bytes each fit: the bound is in characters.
    registry
        .heartbeat_with(&me, &Progress::new().current_epic("é".repeat(256)))
        .unwrap();

    // At registration too, before anything is written.
    assert!(matches!(
        registry.register(&new("ctx-bad", "p").context_percent(200)),
        Err(RegistryError::InvalidContextPercent { percent: 200 })
    ));
    assert!(matches!(
        registry.register(&new("epic-bad", "p").current_epic("a\u{0}b")),
        Err(RegistryError::InvalidEpic { .. })
    ));
    assert!(matches!(
        registry.get("ctx-bad"),
        Err(RegistryError::NotFound { .. })
    ));
    assert!(matches!(
        registry.get("epic-bad"),
        Err(RegistryError::NotFound { .. })
    ));
}

fn heartbeat_and_close_by_id_report_staleness(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = open(db, &clock);
    let me = registry.register(&typed("odin", "PS")).unwrap();
    let id = me.id().to_owned();

    clock.advance_ms(60_500);
    let report = registry.heartbeat_by_id(&id, &Progress::new()).unwrap();
    assert_eq!(report.id, id);
    assert_eq!(report.state, InstanceState::Active);
    assert_eq!(report.previous_heartbeat_ms, T0);
    assert_eq!(report.last_heartbeat_ms, T0 + 60_500);
    assert_eq!(report.age_secs, 60);
    assert!(!report.was_stale);
    assert_eq!(report.message(), None);

    // Silent for 3 minutes (over the 120 s timeout): the resume is reported.
    clock.advance_ms(185_000);
    assert!(registry.get(&id).unwrap().stale);
    let report = registry
        .heartbeat_by_id(&id, &Progress::new().context_percent(30))
        .unwrap();
    assert!(report.was_stale);
    assert_eq!(report.age_secs, 185);
    assert_eq!(
        report.message().unwrap(),
        format!("instance {id:?} had gone stale and resumed: last heard from 3 min ago")
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["was_stale"], true);
    assert_eq!(json["age_secs"], 185);
    assert_eq!(json["state"], "active");
    assert_eq!(json["message"], report.message().unwrap());
    let got = registry.get(&id).unwrap();
    assert!(!got.stale);
    assert_eq!(got.context_percent, Some(30));

    // The token-fenced heartbeat reports the same way.
    clock.advance_ms(7_200_000);
    let report = registry.heartbeat(&me, None).unwrap();
    assert!(report.was_stale);
    assert!(
        report
            .message()
            .unwrap()
            .ends_with("last heard from 2 h ago")
    );

    // Close by ID: the owner learns on its next heartbeat; closing again is reported.
    clock.advance_ms(1_000);
    let closed = registry.close_by_id(&id).unwrap();
    assert!(!closed.already_closed && !closed.was_stale);
    assert_eq!(
        closed.instance.closed_at_ms,
        Some(T0 + 60_500 + 185_000 + 7_201_000)
    );
    assert_eq!(closed.instance.state(), InstanceState::Closed);
    assert!(matches!(
        registry.heartbeat(&me, None),
        Err(RegistryError::Closed { .. })
    ));
    assert!(matches!(
        registry.heartbeat_by_id(&id, &Progress::new()),
        Err(RegistryError::Closed { .. })
    ));
    let again = registry.close_by_id(&id).unwrap();
    assert!(again.already_closed);
    assert_eq!(again.instance.closed_at_ms, closed.instance.closed_at_ms);
    registry.close(&me).unwrap(); // the owner's close stays idempotent

    // A stale instance closed by an operator is reported as such.
    let quiet = registry.register(&new("quiet-1", "p")).unwrap();
    clock.advance_ms(121_000);
    let closed = registry.close_by_id(quiet.id()).unwrap();
    assert!(closed.was_stale && !closed.already_closed);
    let json = serde_json::to_value(&closed).unwrap();
    assert_eq!(json["instance"]["state"], "closed");

    for err in [
        registry
            .heartbeat_by_id("nope", &Progress::new())
            .unwrap_err(),
        registry.close_by_id("nope").unwrap_err(),
    ] {
        assert!(matches!(err, RegistryError::NotFound { ref id } if id == "nope"));
    }
}

fn list_orders_marks_and_counts(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = open(db, &clock);
    let a1 = registry.register(&key("alpha-PS-000001")).unwrap();
    let a2 = registry.register(&key("alpha-MS-000002")).unwrap();
    let a3 = registry.register(&key("alpha-PS-000003")).unwrap();
    let b1 = registry.register(&key("beta-PS-000004")).unwrap();
    let b2 = registry.register(&new("beta-host", "beta")).unwrap();
    clock.advance_ms(100_000);
    registry.heartbeat(&a2, None).unwrap();
    registry.heartbeat(&b2, None).unwrap();
    clock.advance_ms(10);
    registry.heartbeat(&a3, None).unwrap();
    registry.close(&a1).unwrap();
    clock.advance_ms(30_000); // a1 closed; b1 silent for 130 s: stale
    let _ = b1;

    let ids = |list: &InstanceList| -> Vec<(String, InstanceState)> {
        list.instances
            .iter()
            .map(|r| (r.id.clone(), r.state()))
            .collect()
    };
    let active = registry.list_with(&ListQuery::active()).unwrap();
    assert_eq!(
        ids(&active),
        [
            ("alpha-PS-000003".to_owned(), InstanceState::Active),
            ("alpha-MS-000002".to_owned(), InstanceState::Active),
            ("beta-host".to_owned(), InstanceState::Active),
            ("beta-PS-000004".to_owned(), InstanceState::Stale),
        ]
    );
    assert_eq!(
        active.counts,
        counts(5, 3, 1, 1),
        "counts cover every state even when only active ones are listed"
    );
    let all = registry
        .list_with(&ListQuery::all().project("alpha"))
        .unwrap();
    assert_eq!(
        ids(&all),
        [
            ("alpha-PS-000003".to_owned(), InstanceState::Active),
            ("alpha-MS-000002".to_owned(), InstanceState::Active),
            ("alpha-PS-000001".to_owned(), InstanceState::Closed),
        ]
    );
    assert_eq!(all.counts, counts(3, 2, 0, 1));
    let beta = registry
        .list_with(&ListQuery::active().project("beta"))
        .unwrap();
    assert_eq!(beta.instances.len(), 2);
    assert_eq!(beta.counts, counts(2, 1, 1, 0));
    let none = registry
        .list_with(&ListQuery::all().project("nothing"))
        .unwrap();
    assert!(none.instances.is_empty());
    assert_eq!(none.counts, counts(0, 0, 0, 0));
    // The old list is the active one.
    assert_eq!(registry.list(None).unwrap(), active.instances);

    let json = serde_json::to_value(&all).unwrap();
    assert_eq!(json["counts"]["closed"], 1);
    assert_eq!(json["instances"][2]["state"], "closed");
    assert_eq!(json["instances"][0]["instance_type"], "PS");
    assert_eq!(json["instances"][0]["key_hash"], "000003");
    assert_eq!(json["instances"][0]["heartbeat_age_ms"], 30_000);
}

fn counts(total: u64, active: u64, stale: u64, closed: u64) -> InstanceCounts {
    let mut c = InstanceCounts::default();
    (c.total, c.active, c.stale, c.closed) = (total, active, stale, closed);
    c
}

fn get_by_full_id_prefix_and_hash_with_ambiguity(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = open(db, &clock);
    for k in [
        "odin-PS-8f4a2b",
        "mimir-MS-8f4a2b",
        "odin-PS-8f4a2c",
        "odin-MS-77aa00",
    ] {
        registry.register(&key(k)).unwrap();
    }
    // The hash alone.
    assert_eq!(registry.get("8f4a2c").unwrap().id, "odin-PS-8f4a2c");
    assert_eq!(registry.get_by_hash("77aa00").unwrap().id, "odin-MS-77aa00");
    // A hash shared by two keys: both listed.
    for err in [
        registry.get("8f4a2b").unwrap_err(),
        registry.get_by_hash("8f4a2b").unwrap_err(),
    ] {
        let RegistryError::AmbiguousHash {
            query,
            candidates,
            more,
        } = &err
        else {
            panic!("expected AmbiguousHash, got {err:?}");
        };
        assert_eq!(query, "8f4a2b");
        assert_eq!(candidates, &["mimir-MS-8f4a2b", "odin-PS-8f4a2b"]);
        assert!(!more);
        assert_eq!(
            err.to_string(),
            "instance hash \"8f4a2b\" is ambiguous: it matches mimir-MS-8f4a2b, \
             odin-PS-8f4a2b; give more of the ID"
        );
    }
    // Full IDs and prefixes.
    assert_eq!(registry.get("odin-PS-8f4a2b").unwrap().id, "odin-PS-8f4a2b");
    assert_eq!(registry.get("mimir").unwrap().id, "mimir-MS-8f4a2b");
    assert!(matches!(
        registry.get("odin-PS-8f4a2"),
        Err(RegistryError::AmbiguousPrefix { ref candidates, .. })
            if candidates == &["odin-PS-8f4a2b", "odin-PS-8f4a2c"]
    ));
    // A hash prefix is not a hash; a partial hash finds nothing.
    assert!(matches!(
        registry.get("8f4a"),
        Err(RegistryError::NotFound { .. })
    ));
    assert!(matches!(
        registry.get_by_hash("8f4a"),
        Err(RegistryError::NotFound { .. })
    ));
    // An input that is both an ID prefix and a hash lists both.
    registry.register(&new("77aa00-build-box", "ci")).unwrap();
    let err = registry.get("77aa00").unwrap_err();
    assert!(
        matches!(err, RegistryError::AmbiguousHash { ref candidates, .. }
            if candidates == &["77aa00-build-box", "odin-MS-77aa00"]),
        "{err:?}"
    );
    // Closed keys are still found by their hash (it names one key).
    let r = registry.register(&key("odin-PS-c105ed")).unwrap();
    registry.close(&r).unwrap();
    assert!(!registry.get("c105ed").unwrap().is_active());
    // Only hex digits are a hash.
    for bad in ["8F4A2B", "8f4", "xyz123", "' OR 1=1 --", ""] {
        let err = registry.get_by_hash(bad).unwrap_err();
        assert!(
            matches!(err, RegistryError::InvalidHash { ref hash } if hash == bad),
            "{bad:?}"
        );
    }
    assert_eq!(
        registry.get_by_hash("8F4A2B").unwrap_err().to_string(),
        "invalid instance hash \"8F4A2B\": it must be 4 to 32 lowercase hex digits"
    );
}

fn purge_removes_old_closed_and_stale_rows_in_batches(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = open(db, &clock);
    const DAY: u64 = 86_400_000;
    for i in 0..7 {
        let r = registry
            .register(&new(&format!("old-closed-{i}"), "p"))
            .unwrap();
        registry.close(&r).unwrap();
    }
    let stale: Vec<_> = (0..3)
        .map(|i| {
            registry
                .register(&new(&format!("old-stale-{i}"), "p"))
                .unwrap()
        })
        .collect();
    clock.advance_ms(40 * DAY);
    let fresh_closed = registry.register(&new("fresh-closed", "p")).unwrap();
    registry.close(&fresh_closed).unwrap();
    let alive = registry.register(&new("alive", "p")).unwrap();
    let quiet = registry.register(&new("quiet", "q")).unwrap();
    clock.advance_ms(60_000);
    registry.heartbeat(&alive, None).unwrap();

    // Closed only, first.
    let report = registry
        .purge(
            &Purge::older_than(Duration::from_secs(30 * 86_400))
                .stale(false)
                .batch_size(2),
        )
        .unwrap();
    assert_eq!((report.closed, report.stale, report.batches), (7, 0, 4));
    let report = registry
        .purge(&Purge::older_than(Duration::from_secs(30 * 86_400)).batch_size(2))
        .unwrap();
    assert_eq!((report.closed, report.stale, report.batches), (0, 3, 3));
    let left: Vec<_> = registry
        .list_with(&ListQuery::all())
        .unwrap()
        .instances
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, ["alive", "fresh-closed", "quiet"]);
    // A purged stale process learns on its next heartbeat.
    assert!(matches!(
        registry.heartbeat(&stale[0], None),
        Err(RegistryError::NotFound { .. })
    ));

    // An age below the stale timeout never removes an instance within it.
    let report = registry.purge(&Purge::older_than(Duration::ZERO)).unwrap();
    assert_eq!((report.closed, report.stale), (1, 0));
    registry.heartbeat(&quiet, None).unwrap();
    clock.advance_ms(120_001);
    registry.heartbeat(&alive, None).unwrap();
    let report = registry.purge(&Purge::older_than(Duration::ZERO)).unwrap();
    assert_eq!((report.closed, report.stale), (0, 1));
    assert_eq!(registry.list(None).unwrap().len(), 1);
    let json = serde_json::to_value(report).unwrap();
    assert_eq!(json["stale"], 1);
}

fn hostile_input_is_refused_or_stored_verbatim(db: &Db) {
    let clock = ManualClock::new(T0);
    let registry = open(db, &clock);
    let nasty = [
        "x'; DROP TABLE typed_id_instances; --",
        "\"quoted\" \\ back",
        "semi;colon",
        "%_*?[",
        "ünïcødé-🦀",
    ];
    for (i, text) in nasty.iter().enumerate() {
        let r = registry
            .register(
                &new(text, text)
                    .status(*text)
                    .current_epic(format!("{text} EPIC-{i}")),
            )
            .unwrap();
        assert_eq!(r.id(), *text);
        let got = registry.get(text).unwrap();
        assert_eq!((got.id.as_str(), got.project.as_str()), (*text, *text));
        assert_eq!(got.current_epic, Some(format!("{text} EPIC-{i}")));
        registry
            .heartbeat_by_id(text, &Progress::new().current_epic(*text))
            .unwrap();
        assert_eq!(
            registry.get(text).unwrap().current_epic.as_deref(),
            Some(*text)
        );
        assert_eq!(
            registry
                .list_with(&ListQuery::all().project(*text))
                .unwrap()
                .counts
                .total,
            1
        );
    }
    // Metacharacters in types, projects and hashes never reach SQL text.
    assert!(matches!(
        registry.register(&typed("odin", "PS'--")),
        Err(RegistryError::InvalidInstanceType { .. })
    ));
    assert!(matches!(
        registry.register(&typed("odin'; --", "PS")),
        Err(RegistryError::InvalidProject { .. })
    ));
    assert!(matches!(
        registry.register(&typed("odin", &"P".repeat(10_000))),
        Err(RegistryError::InvalidInstanceType { .. })
    ));
    assert!(matches!(
        registry.get_by_hash("'; DELETE FROM typed_id_instances; --"),
        Err(RegistryError::InvalidHash { .. })
    ));
    assert!(matches!(
        registry.get("' OR '1'='1"),
        Err(RegistryError::NotFound { .. })
    ));
    // Oversized input is refused with a clear error, not truncated.
    let huge = "e".repeat(1 << 20);
    let err = registry
        .heartbeat_by_id(nasty[0], &Progress::new().current_epic(huge.clone()))
        .unwrap_err();
    assert!(matches!(err, RegistryError::InvalidEpic { chars, .. } if chars == 1 << 20));
    assert!(matches!(
        registry.register(&new("big-epic", "p").current_epic(huge)),
        Err(RegistryError::InvalidEpic { .. })
    ));
    assert!(matches!(
        registry.register(&new(&"x".repeat(256), "p")),
        Err(RegistryError::InvalidInstanceId { .. })
    ));
    // Everything is still there.
    assert_eq!(
        registry.list_with(&ListQuery::all()).unwrap().counts.total,
        nasty.len() as u64
    );
}

/// The first version's migrations, as that version applied them.
const FIRST_VERSION: [(&str, &str); 2] = [
    ("20261123000001", "2026-11-23-000001_typed_id_counters"),
    ("20261123000100", "2026-11-23-000100_typed_id_instances"),
];

fn a_first_version_registry_upgrades_in_place(db: &Db) {
    // A database as the first version left it: its two migrations recorded as run,
    // rows in its schema (a Kubernetes pod, a closed instance, a stale one).
    let backend = if db.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    db.batch(diesel::migration::CREATE_MIGRATIONS_TABLE);
    for (version, dir) in FIRST_VERSION {
        let path = format!(
            "{}/../typed-id/migrations/{backend}/{dir}/up.sql",
            env!("CARGO_MANIFEST_DIR")
        );
        db.batch(&std::fs::read_to_string(&path).unwrap());
        db.execute(&format!(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('{version}')"
        ))
        .unwrap();
    }
    let old_columns = "instance_id, project, hostname, pid, source, environment, \
         started_at_ms, last_heartbeat_ms, status, closed_at_ms, incarnation";
    for row in [
        format!(
            "'orders-7d9f8c6b5-x2k4p', 'orders', 'node-1', 7, 'kubernetes', 'production', {T0}, {T0}, '{{\"q\":1}}', NULL, 11"
        ),
        format!("'orders-old-1', 'orders', NULL, NULL, NULL, NULL, {T0}, {T0}, NULL, {T0}, 12"),
        format!(
            "'orders-gone-2', 'orders', NULL, NULL, NULL, NULL, {}, {}, NULL, NULL, 13",
            T0 - 600_000,
            T0 - 600_000
        ),
    ] {
        db.execute(&format!(
            "INSERT INTO typed_id_instances ({old_columns}) VALUES ({row})"
        ))
        .unwrap();
    }
    db.execute(&format!(
        "INSERT INTO typed_id_worker_leases (scope, worker_id, holder, token, \
         acquired_at_ms, renewed_at_ms, expires_at_ms, floor_ms, high_water_ms) \
         VALUES ('orders', 0, 'orders-7d9f8c6b5-x2k4p', 5, {T0}, {T0}, {}, 0, {})",
        T0 + 30_000,
        T0 + 30_000
    ))
    .unwrap();

    // The new version opens it: the new migration runs, old rows read as untyped.
    let clock = ManualClock::new(T0 + 1_000);
    let registry = open(db, &clock);
    let pod = registry.get("orders-7d9f8c6b5-x2k4p").unwrap();
    assert_eq!(pod.created_at_ms, T0);
    assert_eq!(pod.hostname.as_deref(), Some("node-1"));
    assert_eq!(pod.status.as_deref(), Some(r#"{"q":1}"#));
    assert_eq!(pod.source.as_deref(), Some("kubernetes"));
    assert_eq!((pod.instance_type, pod.key_hash), (None, None));
    assert_eq!((pod.context_percent, pod.current_epic), (None, None));
    assert_eq!(
        registry
            .list_with(&ListQuery::all().project("orders"))
            .unwrap()
            .counts,
        counts(3, 1, 1, 1)
    );
    // Old rows work like new ones: heartbeat by ID with progress, takeover, purge.
    let report = registry
        .heartbeat_by_id(
            "orders-7d9f8c6b5-x2k4p",
            &Progress::new().context_percent(5).current_epic("upgrade"),
        )
        .unwrap();
    assert_eq!(report.previous_heartbeat_ms, T0);
    let again = registry.register(&new("orders-gone-2", "orders")).unwrap();
    assert!(again.replaced().unwrap().stale);
    assert_eq!(registry.get("orders-old-1").unwrap().closed_at_ms, Some(T0));
    assert_eq!(
        registry.get("orders-7d9").unwrap().id,
        "orders-7d9f8c6b5-x2k4p"
    );
    // ... and typed ones register beside them; the old lease row is intact.
    let me = registry.register(&typed("orders", "PS")).unwrap();
    let hash = &me.id()["orders-PS-".len()..];
    assert_eq!(registry.get(hash).unwrap().id, me.id());
    let lease = &registry.leases("orders").unwrap()[0];
    assert_eq!(lease.high_water_ms, T0 + 30_000);
    // Opening again applies nothing twice.
    drop(open(db, &clock));
    let versions = match db {
        Db::Sqlite(d) => count_migrations(&mut d.connect()),
        Db::Postgres(d) => count_migrations(&mut d.connect()),
    };
    assert_eq!(versions, 3);
}

fn count_migrations<C>(conn: &mut C) -> i64
where
    C: Connection,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, CountRow>,
{
    diesel::sql_query("SELECT COUNT(*) AS n FROM __diesel_schema_migrations")
        .get_result::<CountRow>(conn)
        .unwrap()
        .n
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
