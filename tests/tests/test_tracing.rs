//! The `tracing` feature: each class of operator event, provoked for real and captured
//! by a subscriber, and the same counts read through `stats()`.
//!
//! One process-wide subscriber (the heartbeat runs on its own thread, which a
//! thread-local subscriber would not see) collects every event; tests run in parallel,
//! so each looks only at the events carrying its own values (an ID, a worker number, a
//! scope).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use diesel::RunQueryDsl as _;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use typed_id::generator::{
    GenerateError, HashGenerateError, HashIdGenerator, HashInput, Layout, ManualClock,
    MemoryCollisionCheck, SnowflakeGenerator,
};
use typed_id::instance::{
    Environment, LeaseOptions, MapEnv, Registry, RegistryError, StartConfig, ValidationWarning,
    Validator, WorkerLease, detect, start_with_env,
};
use typed_id::store::{DisplayIdAllocator, FileStore, PgStore, SqliteStore, StoreError};
use typed_id::{HashId, TypedId};
use typed_id_tests::pg::TestDatabase;
use typed_id_tests::sqlite::TempSqlite;

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId(HashId);

/// 2025-01-01T00:00:00Z.
const T0: u64 = 1_735_689_600_000;

// ---------------------------------------------------------------------------------------
// The capturing subscriber

/// One recorded event.
#[derive(Clone, Debug)]
struct Captured {
    target: String,
    level: Level,
    message: String,
    fields: BTreeMap<String, String>,
}

impl Captured {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Field values as text: strings as they are, everything else through `Debug` (which
/// for `%` values is their `Display`).
struct Fields<'a>(&'a mut Captured);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}"));
    }
}

impl Fields<'_> {
    fn put(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.0.message = value;
        } else {
            self.0.fields.insert(field.name().to_owned(), value);
        }
    }
}

/// Records every event; spans are accepted and ignored (the crate makes none).
struct Collector {
    events: Mutex<Vec<Captured>>,
    next_span: AtomicU64,
}

impl Subscriber for Collector {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut captured = Captured {
            target: meta.target().to_owned(),
            level: *meta.level(),
            message: String::new(),
            fields: BTreeMap::new(),
        };
        event.record(&mut Fields(&mut captured));
        self.events.lock().unwrap().push(captured);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// The process-wide collector, installed on first use.
fn collector() -> &'static Collector {
    static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();
    COLLECTOR.get_or_init(|| {
        let collector: &'static Collector = Box::leak(Box::new(Collector {
            events: Mutex::new(Vec::new()),
            next_span: AtomicU64::new(0),
        }));
        tracing::subscriber::set_global_default(ForwardTo(collector))
            .expect("no other global subscriber in this test binary");
        collector
    })
}

/// The global default takes ownership of a subscriber; this one forwards to the leaked
/// collector the tests read.
struct ForwardTo(&'static Collector);

impl Subscriber for ForwardTo {
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        self.0.enabled(meta)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.0.new_span(span)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        self.0.record(span, values);
    }
    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.0.record_follows_from(span, follows);
    }
    fn event(&self, event: &Event<'_>) {
        self.0.event(event);
    }
    fn enter(&self, span: &Id) {
        self.0.enter(span);
    }
    fn exit(&self, span: &Id) {
        self.0.exit(span);
    }
}

/// The events so far with `target` whose field `name` is `value`.
fn events(target: &str, name: &str, value: &str) -> Vec<Captured> {
    collector()
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.target == target && e.field(name) == Some(value))
        .cloned()
        .collect()
}

/// The one event with `message` among `found`; fails listing them otherwise.
fn only<'a>(found: &'a [Captured], message: &str) -> &'a Captured {
    let matching: Vec<&Captured> = found.iter().filter(|e| e.message == message).collect();
    assert_eq!(
        matching.len(),
        1,
        "expected one {message:?} event among {found:#?}"
    );
    matching[0]
}

// ---------------------------------------------------------------------------------------
// Content-hash collisions

#[test]
fn hash_collisions_resolved_by_nonce_and_by_length() {
    collector();
    let generator = HashIdGenerator::new();
    let store = MemoryCollisionCheck::new();
    let input = HashInput::new("tracing: collisions", "alice", 1_735_689_600_123_456_789);
    // The same input each time: generation k finds the k - 1 earlier winners holding
    // nonces 0..k-1 and takes nonce k - 1, all at length 4 (11 elements need no more).
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(generator.generate::<ElementId, _>(&input, &store).unwrap());
    }
    assert!(ids.iter().all(|id| id.body().as_str().len() == 4));
    // Nonces 0..=9 at length 4 are all taken now: the eleventh grows the length.
    let grown = generator.generate::<ElementId, _>(&input, &store).unwrap();
    assert_eq!(grown.body().as_str().len(), 5);

    let stats = generator.stats();
    assert_eq!(stats.collisions, (0..=10).sum::<u64>());
    assert_eq!(stats.resolved_by_nonce, 9);
    assert_eq!(stats.length_escalations, 1);
    assert_eq!(stats.exhausted, 0);

    // Each resolved generation reported itself, with its candidate count.
    for (k, id) in ids.iter().enumerate() {
        let found = events("typed_id::generator", "id", &id.to_text());
        if k == 0 {
            assert!(found.is_empty(), "no collision, no event: {found:#?}");
            continue;
        }
        let event = only(&found, "content-hash collision resolved by a fresh nonce");
        assert_eq!(event.level, Level::DEBUG);
        assert_eq!(
            event.field("candidates"),
            Some((k + 1).to_string().as_str())
        );
        assert_eq!(event.field("collisions"), Some(k.to_string().as_str()));
        assert_eq!(event.field("len"), Some("4"));
    }
    let found = events("typed_id::generator", "id", &grown.to_text());
    let event = only(
        &found,
        "content-hash collisions resolved by growing the length",
    );
    assert_eq!(event.level, Level::INFO);
    assert_eq!(event.field("candidates"), Some("11"));
    assert_eq!(event.field("collisions"), Some("10"));
    assert_eq!(event.field("chosen_len"), Some("4"));
    assert_eq!(event.field("len"), Some("5"));
    assert_eq!(event.field("element_count"), Some("10"));
}

#[test]
fn hash_candidates_exhausted() {
    collector();
    // One length, ten candidates: ten generations of one input take them all.
    let generator = HashIdGenerator::builder()
        .min_len(3)
        .max_len(3)
        .max_len_attempts(10)
        .build()
        .unwrap();
    let store = MemoryCollisionCheck::new();
    let input = HashInput::new("tracing: exhausted", "bob", 7);
    for _ in 0..10 {
        generator.generate_body(&input, &store).unwrap();
    }
    assert_eq!(generator.stats().exhausted, 0);
    let err = generator.generate_body(&input, &store).unwrap_err();
    assert_eq!(
        err,
        HashGenerateError::TooManyCollisions {
            attempts: 10,
            len: 3
        }
    );
    let stats = generator.stats();
    assert_eq!(stats.exhausted, 1);
    assert_eq!(stats.collisions, (0..10).sum::<u64>() + 10);
    // Bare bodies have no prefix: the event names the empty one. Told apart from other
    // tests' by the element count and length bounds, which only this test uses.
    let found: Vec<Captured> = events("typed_id::generator", "max_len", "3")
        .into_iter()
        .filter(|e| e.field("element_count") == Some("10"))
        .collect();
    let event = only(&found, "no free content-hash ID: every candidate collided");
    assert_eq!(event.level, Level::WARN);
    assert_eq!(event.field("candidates"), Some("10"));
    assert_eq!(event.field("chosen_len"), Some("3"));
}

// ---------------------------------------------------------------------------------------
// Snowflakes: the sequence runs out, the clock steps back

#[test]
fn snowflake_sequence_exhausted_on_a_frozen_clock() {
    collector();
    let worker = 901;
    let clock = ManualClock::new(T0);
    let generator = SnowflakeGenerator::builder()
        .worker(worker)
        .clock(clock.clone())
        .build()
        .unwrap();
    // 4 096 IDs in the clock's millisecond and 4 096 in the next (the allowed lead):
    // no wait yet.
    for _ in 0..2 * 4096 {
        generator.next_snowflake().unwrap();
    }
    assert_eq!(generator.stats().sequence_waits, 0);
    // The next must wait for the clock, which never moves.
    let err = generator.next_snowflake().unwrap_err();
    assert!(
        matches!(err, GenerateError::SequenceExhausted { timestamp_ms } if timestamp_ms == T0 + 1),
        "{err:?}"
    );
    let stats = generator.stats();
    assert_eq!(stats.sequence_waits, 1);
    assert_eq!(stats.sequence_exhausted, 1);
    assert_eq!(stats.clock_steps_back, 0);

    let found = events("typed_id::generator", "worker", &worker.to_string());
    let wait = only(
        &found,
        "snowflake sequence exhausted: waiting for the clock",
    );
    assert_eq!(wait.level, Level::DEBUG);
    assert_eq!(
        wait.field("timestamp_ms"),
        Some((T0 + 1).to_string().as_str())
    );
    let gave_up = only(
        &found,
        "snowflake sequence exhausted and the clock does not advance",
    );
    assert_eq!(gave_up.level, Level::ERROR);
}

#[test]
fn snowflake_clock_steps_back_counted_once_per_step() {
    collector();
    let worker = 902;
    let clock = ManualClock::new(T0);
    let generator = SnowflakeGenerator::builder()
        .worker(worker)
        .clock(clock.clone())
        .backwards_tolerance_ms(10)
        .build()
        .unwrap();
    let first = generator.next_snowflake().unwrap();
    // A 5 ms step back: absorbed, IDs keep increasing from the last timestamp.
    clock.step_back_ms(5);
    let mut last = first;
    for _ in 0..100 {
        let id = generator.next_snowflake().unwrap();
        assert!(id > last);
        last = id;
    }
    assert_eq!(Layout::DEFAULT.decompose(last).timestamp_ms, T0);
    let stats = generator.stats();
    assert_eq!(
        stats.clock_steps_back, 1,
        "one step, however many IDs: {stats:?}"
    );
    assert_eq!(stats.clock_refusals, 0);

    // The clock catches up and moves on; then a step of a minute: refused.
    clock.set_ms(T0 + 20);
    generator.next_snowflake().unwrap();
    clock.set_ms(T0 + 20 - 60_000);
    for _ in 0..3 {
        assert!(matches!(
            generator.next_snowflake(),
            Err(GenerateError::ClockMovedBackwards { by_ms: 60_000, .. })
        ));
    }
    let stats = generator.stats();
    assert_eq!(stats.clock_steps_back, 2, "{stats:?}");
    assert_eq!(stats.clock_refusals, 3);

    let found = events("typed_id::generator", "worker", &worker.to_string());
    let absorbed = only(
        &found,
        "clock is behind the newest snowflake: counting on from its timestamp",
    );
    assert_eq!(absorbed.level, Level::INFO);
    assert_eq!(absorbed.field("behind_ms"), Some("5"));
    assert_eq!(absorbed.field("newest_ms"), Some(T0.to_string().as_str()));
    let refused = only(
        &found,
        "clock is behind the newest snowflake by more than the tolerance: \
         refusing IDs until it catches up",
    );
    assert_eq!(refused.level, Level::WARN);
    assert_eq!(refused.field("behind_ms"), Some("60000"));
    assert_eq!(refused.field("tolerance_ms"), Some("10"));
}

// ---------------------------------------------------------------------------------------
// Instance detection and validation

#[test]
fn detection_says_which_source_won() {
    collector();
    let env = MapEnv::new()
        .var("FLY_ALLOC_ID", "tracing-fly-3d8d9e3a")
        .var("KUBERNETES_SERVICE_HOST", "10.0.0.1")
        .var("HOSTNAME", "pod-ignored");
    let found = detect(&env, "APP_INSTANCE_ID").unwrap();
    assert_eq!(found.id(), "tracing-fly-3d8d9e3a");
    let found = events("typed_id::instance", "instance_id", "tracing-fly-3d8d9e3a");
    let event = only(&found, "instance ID detected");
    assert_eq!(event.level, Level::INFO);
    assert_eq!(event.field("source"), Some("fly"));
    assert_eq!(event.field("from"), Some("Fly.io FLY_ALLOC_ID"));
    assert_eq!(event.field("stable"), Some("true"));
}

#[test]
fn detection_escapes_the_id_in_the_event() {
    collector();
    let env = MapEnv::new().var("APP_INSTANCE_ID", "tracing-\u{202e}evil\nline");
    detect(&env, "APP_INSTANCE_ID").unwrap();
    let found = events(
        "typed_id::instance",
        "instance_id",
        "tracing-\\u{202e}evil\\nline",
    );
    let event = only(&found, "instance ID detected");
    assert_eq!(event.field("source"), Some("override"));
    assert_eq!(event.field("stable"), Some("true"));
}

#[test]
fn validation_warnings_are_events() {
    collector();
    let env = MapEnv::new().var("APP_INSTANCE_ID", "trc-1");
    let found = detect(&env, "APP_INSTANCE_ID").unwrap();
    let warnings = Validator::new("APP_INSTANCE_ID")
        .validate(&found, Environment::Staging)
        .unwrap();
    assert!(matches!(
        warnings.as_slice(),
        [ValidationWarning::Short { len: 5, .. }]
    ));
    let found = events("typed_id::instance", "instance_id", "trc-1");
    let event = only(&found, "instance ID accepted with a warning");
    assert_eq!(event.level, Level::WARN);
    assert_eq!(event.field("environment"), Some("staging"));
    assert_eq!(
        event.field("warning"),
        Some(warnings[0].to_string().as_str())
    );
    // An ID without warnings draws none.
    let env = MapEnv::new().var("APP_INSTANCE_ID", "tracing-long-enough-1");
    let found = detect(&env, "APP_INSTANCE_ID").unwrap();
    assert!(
        Validator::new("APP_INSTANCE_ID")
            .validate(&found, Environment::Production)
            .unwrap()
            .is_empty()
    );
    let found = events("typed_id::instance", "instance_id", "tracing-long-enough-1");
    assert_eq!(found.len(), 1, "{found:#?}"); // the detection only
}

// ---------------------------------------------------------------------------------------
// Worker-ID leases and start-up, on a real SQLite registry

/// Polls until `cond` holds (at most 10 s).
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn lease_acquired_renewed_late_lapsed_and_released() {
    collector();
    let db = TempSqlite::new();
    let registry = Arc::new(Registry::open(db.url()).unwrap());
    let scope = "tracing-lease";
    let period = Duration::from_secs(1);
    let lease = WorkerLease::acquire(
        registry,
        LeaseOptions::new(scope, "tracing-holder").period(period),
    )
    .unwrap();
    let generator = lease.generator();
    // Renewed at once: in time.
    lease.renew().unwrap();
    // Renewed with less than a quarter of the period left: late.
    wait_until("the lease nears its deadline", || {
        generator.remaining().is_some_and(|left| left < period / 5)
    });
    lease.renew().unwrap();
    // Renewed after the local deadline passed: lapsed (the generator refused meanwhile).
    wait_until("the lease lapses", || generator.remaining().is_none());
    assert!(generator.next_snowflake().is_err());
    lease.renew().unwrap();
    assert!(generator.next_snowflake().is_ok());
    let high_water = generator.high_water_ms();
    lease.release().unwrap();
    // A renewal after the release fails.
    assert!(matches!(
        lease.renew(),
        Err(RegistryError::LeaseReleased { .. })
    ));

    let stats = lease.stats();
    assert_eq!(stats.renewals, 3, "{stats:?}");
    assert_eq!(stats.late_renewals, 1, "{stats:?}");
    assert_eq!(stats.lapses, 1, "{stats:?}");
    assert_eq!(stats.failed_renewals, 1, "{stats:?}");

    let found = events("typed_id::lease", "scope", scope);
    let acquired = only(&found, "worker ID leased");
    assert_eq!(acquired.level, Level::INFO);
    assert_eq!(acquired.field("worker"), Some("0"));
    assert_eq!(acquired.field("holder"), Some("tracing-holder"));
    assert_eq!(acquired.field("period_ms"), Some("1000"));
    assert_eq!(only(&found, "worker-ID lease renewed").level, Level::DEBUG);
    let late = only(&found, "worker-ID lease renewed late");
    assert_eq!(late.level, Level::WARN);
    let left: u64 = late.field("remaining_ms").unwrap().parse().unwrap();
    assert!(left < 250, "{left} ms left");
    assert_eq!(
        only(&found, "worker-ID lease renewed after it lapsed").level,
        Level::WARN
    );
    let released = only(&found, "worker-ID lease released");
    assert_eq!(
        released.field("high_water_ms"),
        Some(high_water.to_string().as_str())
    );
    assert_eq!(released.field("drained"), Some("true"));
    let failed = only(&found, "worker-ID lease renewal failed");
    assert!(
        failed.field("error").unwrap().contains("released"),
        "{failed:?}"
    );
}

#[test]
fn start_up_logs_the_source_the_lease_and_the_release() {
    collector();
    let db = TempSqlite::new();
    let env = MapEnv::new()
        .var("APP_INSTANCE_ID", "tracing-start-1")
        .var("APP_ENV", "production");
    let instance = start_with_env(StartConfig::new("tracing-start", db.url()), &env).unwrap();
    let worker = instance.worker_id();

    let started = events("typed_id::instance", "instance_id", "tracing-start-1");
    only(&started, "instance ID detected");
    let event = only(&started, "instance started");
    assert_eq!(event.level, Level::INFO);
    assert_eq!(event.field("source"), Some("override"));
    assert_eq!(event.field("environment"), Some("production"));
    assert_eq!(event.field("project"), Some("tracing-start"));
    assert_eq!(event.field("worker"), Some(worker.to_string().as_str()));
    assert_eq!(event.field("warnings"), Some("0"));
    let leased = events("typed_id::lease", "scope", "tracing-start");
    only(&leased, "worker ID leased");
    assert!(
        leased
            .iter()
            .all(|e| e.message != "worker-ID lease released"),
        "released before shutdown: {leased:#?}"
    );

    instance.shutdown().unwrap();
    let leased = events("typed_id::lease", "scope", "tracing-start");
    only(&leased, "worker-ID lease released");
}

// ---------------------------------------------------------------------------------------
// Stores: a PostgreSQL reconnect, a file store's lock file replaced, a repair

#[test]
fn postgres_store_reconnects_after_its_backend_is_terminated() {
    collector();
    let db = TestDatabase::new();
    let store = PgStore::open(db.url()).unwrap();
    assert_eq!(store.allocate("tracing").unwrap(), 1);
    assert_eq!(store.stats().reconnects, 0);

    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let terminated = diesel::sql_query(
        "SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .get_result::<N>(&mut db.connect())
    .unwrap()
    .n;
    assert_eq!(terminated, 1, "the store's one session");

    // The check before the next operation finds the session gone and reconnects.
    assert_eq!(store.allocate("tracing").unwrap(), 2);
    let stats = store.stats();
    assert_eq!(stats.connections_lost, 1, "{stats:?}");
    assert_eq!(stats.reconnects, 1, "{stats:?}");
    assert_eq!(stats.gave_up, 0, "{stats:?}");

    // Only this test talks to PostgreSQL in this binary.
    let found = events("typed_id::db", "backend", "postgres");
    let lost = only(&found, "database connection lost: reconnecting");
    assert_eq!(lost.level, Level::WARN);
    assert_eq!(lost.field("can_reconnect"), Some("true"));
    let back = only(&found, "database reconnected");
    assert_eq!(back.level, Level::INFO);
    assert_eq!(
        back.field("attempts"),
        Some((stats.failed_attempts + 1).to_string().as_str())
    );
}

#[test]
fn sqlite_file_deleted_is_reported_and_its_connection_left_open() {
    collector();
    let db = TempSqlite::new();
    let store = SqliteStore::open(db.url()).unwrap();
    assert_eq!(store.allocate("tracing").unwrap(), 1);
    let path = std::fs::canonicalize(db.path()).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        std::fs::remove_file(format!("{}{suffix}", path.display())).unwrap();
    }
    for _ in 0..2 {
        let err = store.allocate("tracing").unwrap_err();
        assert!(
            matches!(err, StoreError::DatabaseFileReplaced { .. }),
            "{err:?}"
        );
    }
    assert_eq!(store.stats().file_replaced, 1);
    drop(store);

    // Reported once, however many calls fail; and the close that would have deleted
    // another database's -wal and -shm by path is skipped, with a warning.
    let found = events("typed_id::db", "path", &path.display().to_string());
    let noticed = only(
        &found,
        "database file deleted or replaced under the open connection",
    );
    assert_eq!(noticed.level, Level::ERROR);
    assert!(
        noticed
            .field("error")
            .is_some_and(|e| e.contains("deleted")),
        "{noticed:?}"
    );
    let kept = only(
        &found,
        "database file replaced: its connection stays open until the process exits",
    );
    assert_eq!(kept.level, Level::WARN);
}

#[test]
fn file_store_lock_file_replaced_and_repaired() {
    collector();
    let dir = TempSqlite::new();
    let folder = dir.path().parent().unwrap().join("tracing-file-store");
    let store = FileStore::open(&folder).unwrap();
    let scope = "tracing-lock";
    assert_eq!(store.allocate(scope).unwrap(), 1);
    let lock = store.lock_path(scope).unwrap();
    std::fs::remove_file(&lock).unwrap();
    // The lock file the store holds is gone, and with it the live record of the
    // reserved block: the store reopens the one at the path and carries on above the
    // counter file's ceiling (1 024 numbers were reserved), never repeating a number.
    assert_eq!(store.allocate(scope).unwrap(), 1025);
    let stats = store.stats();
    assert_eq!(stats.lock_reopens, 1, "{stats:?}");
    assert_eq!(stats.replaced, 0, "{stats:?}");

    let found = events("typed_id::store", "path", &lock.display().to_string());
    let event = only(
        &found,
        "file store lock file deleted or replaced under a call: reopened",
    );
    assert_eq!(event.level, Level::WARN);

    assert_eq!(store.repair("tracing-repair", 41).unwrap(), 41);
    assert_eq!(store.stats().repairs, 1);
    let found = events("typed_id::store", "scope", "tracing-repair");
    let event = only(&found, "file store scope repaired");
    assert_eq!(event.level, Level::INFO);
    assert_eq!(event.field("at"), Some("41"));
}
