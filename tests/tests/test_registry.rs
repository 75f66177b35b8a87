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
    Environment, Heartbeat, IssueError, LeaseOptions, MapEnv, NewInstance, Registry, RegistryError,
    RegistryOptions, StartConfig, StartError, WorkerLease, start_with_env,
};
use typed_id::{GenerateError, Snowflake};
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
    assert_eq!(got.started_at_ms, T0);
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
    assert_eq!(got.started_at_ms, T0);

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
    assert_eq!(registry.get("db-0").unwrap().started_at_ms, T0 + 5);
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
    // Development accepts it.
    let dev = start_with_env(
        StartConfig::new("orders", db.url()).default_environment(Environment::Development),
        &bad,
    )
    .unwrap();
    assert_eq!((dev.id(), dev.worker_id()), ("localhost", 2));

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
    for replace in [false, true] {
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
        for suffix in ["", "-wal", "-shm"] {
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
        eprintln!("replaced={replace}: {issued_after} IDs before the generator noticed");
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
