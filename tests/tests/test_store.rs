//! Stores in one process: memory, file, SQLite and PostgreSQL counters, collision-checked
//! inserts, segments, and hostile content (corrupt counter files, garbage rows) that
//! must come back as typed errors.
//!
//! PostgreSQL tests run against a throwaway cluster (or `DATABASE_URL`, see
//! `typed_id_tests::pg`) and fail when PostgreSQL is missing.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::sql_types::Text;
use typed_id::generator::{CollisionCheck as _, HashIdGenerator, HashInput};
use typed_id::store::{
    ChildCounter, ConnectOptions, DisplayIdAllocator, FileStore, IdColumn, MemoryStore, PgStore,
    ReconnectPolicy, Segmented, SqlStore, SqliteStore, StoreConnection, StoreError, StoredWorkItem,
    Synchronous, WorkItemKey, WorkItemMeta, WorkItemMetaError,
};
use typed_id::{HashId, IdError, Seq, Snowflake, SnowflakeGenerator, TypedId};
use typed_id_tests::pg::{ClusterConfig, PrivateCluster, TestDatabase};
use typed_id_tests::sqlite::TempSqlite;

#[derive(TypedId)]
#[typed_id(prefix = "el", max_depth = 3)]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "node", max_depth = 1)]
struct NodeId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 3)]
struct WorkItemId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "wi")]
struct WorkItemSnowflake(Snowflake);

fn dir_of(db: &TempSqlite) -> &Path {
    db.path().parent().expect("a temporary directory")
}

// ---------------------------------------------------------------------------------------
// Behaviour every allocator and child counter shares.

fn check_allocator(store: &impl DisplayIdAllocator) {
    assert_eq!(store.last("odin").unwrap(), 0);
    assert_eq!(
        store.next_id::<WorkItemId>("odin").unwrap().to_text(),
        "WORK-001"
    );
    assert_eq!(
        store.next_id::<WorkItemId>("odin").unwrap().to_text(),
        "WORK-002"
    );
    assert_eq!(
        store.next_id::<WorkItemId>("odin/bugs").unwrap().to_text(),
        "WORK-001"
    );
    assert_eq!(store.allocate_block("odin", 1000).unwrap(), 3..=1002);
    assert_eq!(
        store.next_id::<WorkItemId>("odin").unwrap().to_text(),
        "WORK-1003"
    );
    assert_eq!(store.last("odin").unwrap(), 1003);
    for bad in ["", "with space", "ünï", &"x".repeat(65)] {
        assert!(matches!(
            store.allocate(bad),
            Err(StoreError::InvalidScope { .. })
        ));
        assert!(matches!(
            store.last(bad),
            Err(StoreError::InvalidScope { .. })
        ));
    }
    assert!(matches!(
        store.allocate_block("odin", 0),
        Err(StoreError::InvalidBlock { count: 0 })
    ));
    assert!(matches!(
        store.allocate_block("odin", typed_id::store::MAX_BLOCK + 1),
        Err(StoreError::InvalidBlock { .. })
    ));
    assert_eq!(
        store.last("odin").unwrap(),
        1003,
        "failed calls reserve nothing"
    );
}

fn check_children(store: &impl ChildCounter) {
    let root = ElementId::parse("el-a3f8").unwrap();
    assert_eq!(store.next_child(&root).unwrap().to_text(), "el-a3f8.1");
    assert_eq!(store.next_child(&root).unwrap().to_text(), "el-a3f8.2");
    let child = ElementId::parse("el-a3f8.2").unwrap();
    assert_eq!(store.next_child(&child).unwrap().to_text(), "el-a3f8.2.1");
    let deepest = ElementId::parse("el-a3f8.2.1.9").unwrap();
    match store.next_child(&deepest) {
        Err(StoreError::Id(IdError::TooDeep { max_depth: 3 })) => {}
        other => panic!("expected TooDeep, got {other:?}"),
    }
    // A type with one level: its depth limit, not the body's.
    let node = NodeId::parse("node-abc.1").unwrap();
    assert!(matches!(
        store.next_child(&node),
        Err(StoreError::Id(IdError::TooDeep { max_depth: 1 }))
    ));
    assert_eq!(
        store.last_child_number("node-abc").unwrap(),
        0,
        "a refused child costs no number"
    );
    // Explicit children: the counter never falls behind them.
    store
        .observe(&ElementId::parse("el-a3f8.7").unwrap())
        .unwrap();
    store
        .observe(&ElementId::parse("el-a3f8.5").unwrap())
        .unwrap();
    store.observe(&root).unwrap(); // a root has no parent: nothing to do
    assert_eq!(store.last_child_number("el-a3f8").unwrap(), 7);
    assert_eq!(store.next_child(&root).unwrap().to_text(), "el-a3f8.8");
    // Prefixes keep types apart.
    let other = NodeId::parse("node-a3f8").unwrap();
    assert_eq!(store.next_child(&other).unwrap().to_text(), "node-a3f8.1");
    // The end of the child number range.
    store.observe_child_number("el-full", u32::MAX - 1).unwrap();
    let full = ElementId::parse("el-full").unwrap();
    assert_eq!(
        store.next_child(&full).unwrap().to_text(),
        "el-full.4294967295"
    );
    assert!(matches!(
        store.next_child(&full),
        Err(StoreError::Exhausted {
            max: 4294967295,
            ..
        })
    ));
    assert!(matches!(
        store.next_child(&full),
        Err(StoreError::Exhausted { .. })
    ));
}

/// Starting a scope from existing data: `observe` the highest number already issued.
/// `reopen` gives another handle on the same data (a new process, for the stores that
/// outlive one), which must see what the first one observed.
fn check_observe<A: DisplayIdAllocator>(store: &A, reopen: impl Fn() -> A) {
    // A project migrating its items WORK-001 … WORK-041.
    store.observe_display_number("migrated", 41).unwrap();
    assert_eq!(store.last("migrated").unwrap(), 41);
    assert_eq!(
        store.next_id::<WorkItemId>("migrated").unwrap().to_text(),
        "WORK-042"
    );
    // Below or at the current value: nothing changes.
    for below in [0, 1, 41, 42] {
        store.observe_display_number("migrated", below).unwrap();
    }
    assert_eq!(store.last("migrated").unwrap(), 42);
    assert_eq!(store.allocate("migrated").unwrap(), 43);
    // A display ID, as read from an imported item.
    store
        .observe_display_id("migrated", &WorkItemId::parse("WORK-1000").unwrap())
        .unwrap();
    assert_eq!(store.allocate("migrated").unwrap(), 1001);
    // Another handle continues above it.
    let other = reopen();
    assert_eq!(other.allocate("migrated").unwrap(), 1002);
    other.observe_display_number("migrated", 2000).unwrap();
    drop(other);
    assert_eq!(store.allocate("migrated").unwrap(), 2001);
    // Scopes stay apart; 0 on a fresh scope creates nothing to count from.
    store.observe_display_number("fresh", 0).unwrap();
    assert_eq!(store.allocate("fresh").unwrap(), 1);
    // Hostile arguments: typed errors, nothing changed.
    for bad in ["", "with space", "ünï", &"x".repeat(65)] {
        assert!(matches!(
            store.observe_display_number(bad, 5),
            Err(StoreError::InvalidScope { .. })
        ));
    }
    for too_big in [Seq::MAX + 1, u64::MAX] {
        assert!(matches!(
            store.observe_display_number("migrated", too_big),
            Err(StoreError::Exhausted { max, .. }) if max == Seq::MAX
        ));
    }
    assert_eq!(store.last("migrated").unwrap(), 2001);
    // The very end of the range: observed, then nothing is left.
    store.observe_display_number("full", Seq::MAX).unwrap();
    assert!(matches!(
        store.allocate("full"),
        Err(StoreError::Exhausted { .. })
    ));
    assert_eq!(store.last("full").unwrap(), Seq::MAX);
}

/// Many threads, one allocator: every number once.
fn check_threads<A: DisplayIdAllocator + Send + Sync + 'static>(
    store: Arc<A>,
    scope: &'static str,
    per_thread: usize,
) {
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                (0..per_thread)
                    .map(|_| store.allocate(scope).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_unstable();
    let expected: Vec<u64> = (1..=4 * per_thread as u64).collect();
    assert_eq!(all, expected);
}

// ---------------------------------------------------------------------------------------
// Memory

#[test]
fn memory_store() {
    let store = MemoryStore::new();
    check_allocator(&store);
    check_children(&store);
    check_threads(Arc::new(MemoryStore::new()), "threads", 10_000);
}

#[test]
fn observe_on_memory_and_segments() {
    let store = Arc::new(MemoryStore::new());
    check_observe(&store, || Arc::clone(&store));
    // Segments over any store: the held block is skipped up to the observed number.
    let below = MemoryStore::new();
    // (Blocks of one: a second handle's block would be its own, see below.)
    check_observe(&Segmented::new(&below, 1), || Segmented::new(&below, 1));
    let below = MemoryStore::new();
    let a = Segmented::new(&below, 100);
    let b = Segmented::new(&below, 100);
    assert_eq!(a.allocate("s").unwrap(), 1); // a holds 2..=100
    assert_eq!(b.allocate("s").unwrap(), 101); // b holds 102..=200
    a.observe_display_number("s", 150).unwrap();
    // a drops its block (all of it is at or below 150); the store is raised past b's.
    assert_eq!(a.remaining("s"), 0);
    assert_eq!(a.allocate("s").unwrap(), 201);
    // b's own block is b's: observing through a cannot reach into another process's
    // memory, which is why observing comes before the scope's users start.
    assert_eq!(b.allocate("s").unwrap(), 102);
}

#[test]
fn observe_on_the_file_store() {
    let tmp = TempSqlite::new();
    let dir = dir_of(&tmp).join("observed");
    let store = FileStore::open(&dir).unwrap();
    check_observe(&store, || FileStore::open(&dir).unwrap());
    // The observed value is on disk for stores opened later.
    drop(store);
    assert_eq!(
        FileStore::open(&dir).unwrap().last("migrated").unwrap(),
        2001
    );
    // Every allocation flushed: an observe above the ceiling writes the ceiling.
    let strict = FileStore::open(dir.join("strict")).unwrap().with_reserve(1);
    strict.observe_display_number("s", 77).unwrap();
    let ceiling = fs::read_to_string(strict.counter_path("s").unwrap()).unwrap();
    assert!(ceiling.contains("77"), "{ceiling}");
    assert_eq!(strict.allocate("s").unwrap(), 78);
    // A damaged counter file is reported, not overwritten by an observe.
    let damaged = FileStore::open(dir.join("damaged")).unwrap();
    damaged.allocate("s").unwrap();
    drop(damaged);
    fs::write(dir.join("damaged").join("s.counter"), "garbage").unwrap();
    fs::write(dir.join("damaged").join("s.lock"), "").unwrap();
    let reopened = FileStore::open(dir.join("damaged")).unwrap();
    assert!(matches!(
        reopened.observe_display_number("s", 5000),
        Err(StoreError::CorruptCounter { .. })
    ));
    assert_eq!(
        fs::read_to_string(dir.join("damaged").join("s.counter")).unwrap(),
        "garbage"
    );
}

#[test]
fn observe_on_sqlite() {
    let db = TempSqlite::new();
    let store = SqliteStore::open(db.url()).unwrap();
    check_observe(&store, || SqliteStore::open(db.url()).unwrap());
}

#[test]
fn observe_on_postgres() {
    let db = TestDatabase::new();
    let store = PgStore::open(db.url()).unwrap();
    check_observe(&store, || PgStore::open(db.url()).unwrap());
}

// ---------------------------------------------------------------------------------------
// File

#[test]
fn file_store_counts_and_persists() {
    let tmp = TempSqlite::new();
    let dir = dir_of(&tmp).join("counters");
    {
        let store = FileStore::open(&dir).unwrap();
        check_allocator(&store);
    }
    // A new process (a new store) continues where the last one stopped.
    let store = FileStore::open(&dir).unwrap();
    assert_eq!(store.allocate("odin").unwrap(), 1004);
    assert_eq!(store.last("odin/bugs").unwrap(), 1);
    // One that flushes every allocation shares the folder with them.
    let strict = FileStore::open(&dir).unwrap().with_reserve(1);
    assert_eq!(strict.allocate("odin").unwrap(), 1005);
    assert_eq!(store.allocate("odin").unwrap(), 1006);
    check_threads(
        Arc::new(FileStore::open(dir.join("threads")).unwrap()),
        "threads",
        250,
    );
    // A file where the directory should be.
    fs::write(dir_of(&tmp).join("plain"), "x").unwrap();
    assert!(matches!(
        FileStore::open(dir_of(&tmp).join("plain")),
        Err(StoreError::Io { .. })
    ));
}

#[test]
fn file_store_two_handles_in_threads() {
    // Two stores on one folder behave like two processes: the OS lock decides.
    let tmp = TempSqlite::new();
    let a = Arc::new(FileStore::open(dir_of(&tmp)).unwrap());
    let b = Arc::new(FileStore::open(dir_of(&tmp)).unwrap());
    let handles: Vec<_> = [a, b]
        .into_iter()
        .flat_map(|s| [Arc::clone(&s), s])
        .map(|store| {
            thread::spawn(move || {
                (0..200)
                    .map(|_| store.allocate("shared").unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (1..=800).collect::<Vec<_>>());
}

/// Defect 1 of issue 10: a store kept locking the handle of a lock file that had been
/// deleted, so a second store (locking the new file at the path) was not excluded.
#[test]
fn a_replaced_lock_file_is_reopened_not_locked_as_a_ghost() {
    let tmp = TempSqlite::new();
    let a = FileStore::open(dir_of(&tmp)).unwrap().with_reserve(10);
    let b = FileStore::open(dir_of(&tmp)).unwrap().with_reserve(10);
    assert_eq!(a.allocate("s").unwrap(), 1);
    let lock = a.lock_path("s").unwrap();
    for round in 0..3 {
        // A tmp cleaner, or an operator, removes the lock file while `a` is idle.
        fs::remove_file(&lock).unwrap();
        let mut seen = HashSet::new();
        for n in b.allocate_block("s", 4).unwrap() {
            assert!(seen.insert(n));
        }
        for n in a.allocate_block("s", 10).unwrap() {
            assert!(seen.insert(n), "round {round}: {n} handed out twice");
        }
        for n in b.allocate_block("s", 3).unwrap() {
            assert!(seen.insert(n), "round {round}: {n} handed out twice");
        }
    }
    // Replaced by another file (not just deleted): the same.
    let c = FileStore::open(dir_of(&tmp)).unwrap().with_reserve(10);
    let before = c.allocate("s").unwrap();
    fs::remove_file(&lock).unwrap();
    fs::write(&lock, b"").unwrap();
    let from_a = a.allocate("s").unwrap();
    let from_c = c.allocate("s").unwrap();
    assert!(from_a > before && from_c > before && from_a != from_c);
}

/// Defect 5 of issue 10: bytes past the live record made every allocation skip to the
/// next reserved block, for good, because the record was rewritten without truncating.
#[test]
fn an_over_long_lock_file_is_healed_by_the_next_allocation() {
    let tmp = TempSqlite::new();
    let store = FileStore::open(dir_of(&tmp)).unwrap();
    assert_eq!(store.allocate("s").unwrap(), 1);
    let lock = store.lock_path("s").unwrap();
    let damage: [(&str, Vec<u8>); 3] = [
        ("junk after the record", vec![b'x'; 600]),
        ("zeros after the record", vec![0; 40]),
        ("spaces and a letter", b"    q".to_vec()),
    ];
    for (what, tail) in damage {
        let mut bytes = fs::read(&lock).unwrap();
        bytes.extend_from_slice(&tail);
        fs::write(&lock, &bytes).unwrap();
        // The damaged record costs one skip to the ceiling, then the record is exact again.
        let first = store.allocate("s").unwrap();
        for k in 1..=5 {
            assert_eq!(store.allocate("s").unwrap(), first + k, "{what}");
        }
        assert!(fs::metadata(&lock).unwrap().len() <= 160, "{what}");
    }
}

/// Issue 10: data deleted or put back to an older copy under a running store. The
/// store notices at its next call and stops (for good) instead of numbering from data
/// nobody else uses; a store opened afterwards works on what is at the path now.
#[test]
fn a_store_whose_data_was_replaced_stops_and_a_new_one_starts_on_the_new_data() {
    fn is_replaced(result: Result<u64, StoreError>) -> bool {
        match result {
            Err(e @ StoreError::Replaced { .. }) => {
                assert!(e.to_string().contains("no longer the data"), "{e}");
                true
            }
            _ => false,
        }
    }
    let tmp = TempSqlite::new();
    let dir = dir_of(&tmp).join("folder");
    let copy = dir_of(&tmp).join("backup");

    // The scope's two files deleted.
    let running = FileStore::open(&dir).unwrap().with_reserve(10);
    assert_eq!(running.allocate_block("s", 5).unwrap(), 1..=5);
    fs::remove_file(running.counter_path("s").unwrap()).unwrap();
    fs::remove_file(running.lock_path("s").unwrap()).unwrap();
    let fresh = FileStore::open(&dir).unwrap();
    assert_eq!(fresh.allocate("s").unwrap(), 1);
    for _ in 0..3 {
        assert!(is_replaced(running.allocate("s")));
        assert!(is_replaced(running.last("s")));
    }
    // Other scopes of the running store are not affected.
    assert_eq!(running.allocate("t").unwrap(), 1);

    // The folder removed (nothing there yet when the running store looks).
    let running = FileStore::open(&dir).unwrap();
    assert_eq!(running.allocate("u").unwrap(), 1);
    fs::remove_dir_all(&dir).unwrap();
    assert!(is_replaced(running.allocate("u")));
    assert!(
        !dir.exists(),
        "the running store must not create the folder again"
    );
    assert_eq!(FileStore::open(&dir).unwrap().allocate("u").unwrap(), 1);

    // An older copy of the folder restored in place (the same inodes, as `cp` over
    // existing files does), with no new reservation since the copy: only the record
    // went back.
    let running = FileStore::open(&dir).unwrap().with_reserve(100);
    assert_eq!(running.allocate_block("v", 10).unwrap(), 1..=10);
    fs::create_dir_all(&copy).unwrap();
    for file in ["v.counter", "v.lock"] {
        fs::copy(dir.join(file), copy.join(file)).unwrap();
    }
    assert_eq!(running.allocate_block("v", 10).unwrap(), 11..=20);
    for file in ["v.counter", "v.lock"] {
        fs::write(dir.join(file), fs::read(copy.join(file)).unwrap()).unwrap();
    }
    assert!(is_replaced(running.allocate("v")));
    // And restored as new files, with a reservation since the copy: the counter went
    // back.
    let running = FileStore::open(&dir).unwrap().with_reserve(5);
    let first = running.allocate("v").unwrap();
    for file in ["v.counter", "v.lock"] {
        fs::copy(dir.join(file), copy.join(file)).unwrap();
    }
    running.allocate_block("v", 12).unwrap();
    for file in ["v.counter", "v.lock"] {
        fs::remove_file(dir.join(file)).unwrap();
        fs::copy(copy.join(file), dir.join(file)).unwrap();
    }
    assert!(is_replaced(running.allocate("v")));
    // A store opened now works on the restored copy: the operator seeds it from the
    // items' own table first.
    let repaired = FileStore::open(&dir).unwrap();
    // (Never below the restored counter file's ceiling, which is still readable.)
    let seeded = repaired.repair("v", first + 12).unwrap();
    assert!(seeded >= first + 12);
    assert_eq!(repaired.allocate("v").unwrap(), seeded + 1);
}

/// Issue 10: a counter file lost while the lock file shows the scope was used is an
/// error for every store until it is repaired, and the repair never goes below what
/// the files still show.
#[test]
fn a_lost_counter_is_an_error_until_repaired() {
    let tmp = TempSqlite::new();
    let running = FileStore::open(dir_of(&tmp)).unwrap().with_reserve(10);
    assert_eq!(running.allocate_block("s", 25).unwrap(), 1..=25);
    fs::remove_file(running.counter_path("s").unwrap()).unwrap();
    let later = FileStore::open(dir_of(&tmp)).unwrap();
    for store in [&running, &later] {
        for _ in 0..2 {
            match store.allocate("s") {
                Err(e @ StoreError::CorruptCounter { .. }) => {
                    assert!(e.to_string().contains("FileStore::repair"), "{e}");
                }
                other => panic!("expected CorruptCounter, got {other:?}"),
            }
        }
    }
    // The operator's table says 20 (lower than the truth): the lock file's record
    // (ceiling 25) wins.
    assert_eq!(later.repair("s", 20).unwrap(), 25);
    let mut seen = HashSet::new();
    for store in [&running, &later, &running] {
        for _ in 0..4 {
            let n = store.allocate("s").unwrap();
            assert!(n > 25 && seen.insert(n), "{n}");
        }
    }
    // Higher seeds are taken as they are; out-of-range ones are refused.
    let top = later.repair("s", 1_000).unwrap();
    assert_eq!(top, 1_000);
    assert_eq!(running.allocate("s").unwrap(), 1_001);
    assert!(matches!(
        later.repair("s", Seq::MAX + 1),
        Err(StoreError::Exhausted { .. })
    ));
    assert!(matches!(
        later.repair("bad scope", 1),
        Err(StoreError::InvalidScope { .. })
    ));
}

#[test]
fn corrupt_counter_files_are_typed_errors_and_are_left_alone() {
    let tmp = TempSqlite::new();
    // Flushing every allocation, so every allocation reads the counter file (with the
    // default reserve, damage is caught by `last` and by the next reservation; the
    // store's unit tests cover that).
    let store = FileStore::open(dir_of(&tmp)).unwrap().with_reserve(1);
    assert_eq!(store.allocate_block("odin", 41).unwrap(), 1..=41);
    let path = store.counter_path("odin").unwrap();
    let good = fs::read(&path).unwrap();
    let good_text = String::from_utf8(good.clone()).unwrap();
    assert!(good_text.contains("last 41\n"), "{good_text}");

    let other_scope = {
        store.allocate("loki").unwrap();
        fs::read(store.counter_path("loki").unwrap()).unwrap()
    };
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("truncated", good[..good.len() / 2].to_vec()),
        (
            "edited value",
            good_text.replace("last 41", "last 40").into_bytes(),
        ),
        (
            "edited value, same length",
            good_text.replace("last 41", "last 99").into_bytes(),
        ),
        (
            "negative",
            good_text.replace("last 41", "last -41").into_bytes(),
        ),
        (
            "overflow",
            good_text
                .replace("last 41", "last 99999999999999999999")
                .into_bytes(),
        ),
        ("binary", vec![0xff, 0x00, 0x13, 0x37]),
        ("huge", vec![b'7'; 1 << 20]),
        ("copied from another scope", other_scope),
        ("bare number", b"41\n".to_vec()),
    ];
    for (what, content) in damaged {
        fs::write(&path, &content).unwrap();
        for result in [
            store.allocate("odin").map(drop),
            store.last("odin").map(drop),
        ] {
            match result {
                Err(e @ StoreError::CorruptCounter { .. }) => {
                    assert!(e.is_corruption());
                    assert!(e.to_string().starts_with("corrupt counter file "), "{e}");
                }
                other => panic!("{what}: expected CorruptCounter, got {other:?}"),
            }
        }
        // Refused, and not "repaired": the damaged file is still there for a human.
        assert_eq!(fs::read(&path).unwrap(), content, "{what}");
    }
    // Restoring the file restores the store.
    fs::write(&path, &good).unwrap();
    assert_eq!(store.allocate("odin").unwrap(), 42);

    // A directory where the counter should be: an I/O error, not a panic or a reset.
    let blocked = store.counter_path("blocked").unwrap();
    fs::create_dir(&blocked).unwrap();
    assert!(matches!(
        store.allocate("blocked"),
        Err(StoreError::Io { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Segments

#[test]
fn segments_over_every_backend() {
    let tmp = TempSqlite::new();
    let file = FileStore::open(dir_of(&tmp).join("f")).unwrap();
    let sqlite = SqliteStore::open(tmp.url()).unwrap();
    let memory = MemoryStore::new();
    let backends: [&dyn DisplayIdAllocator; 3] = [&memory, &file, &sqlite];
    for backend in backends {
        let a = Segmented::new(backend, 100);
        let b = Segmented::new(backend, 100);
        assert_eq!(
            a.next_id::<WorkItemId>("seg").unwrap().to_text(),
            "WORK-001"
        );
        assert_eq!(b.allocate("seg").unwrap(), 101);
        assert_eq!(a.allocate("seg").unwrap(), 2);
        assert_eq!(backend.last("seg").unwrap(), 200);
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            assert!(seen.insert(a.allocate("seg").unwrap()));
            assert!(seen.insert(b.allocate("seg").unwrap()));
        }
        assert!(!seen.contains(&1) && !seen.contains(&2) && !seen.contains(&101));
        // Every number handed out was reserved; at most a block per process is unused.
        let reserved = backend.last("seg").unwrap();
        assert!(seen.iter().all(|&n| n <= reserved));
        assert_eq!(reserved, 2003 + a.remaining("seg") + b.remaining("seg"));
    }
}

/// Drives two segments over `backend`, whose scope `end` was seeded (by `seed`) to
/// `Seq::MAX - 250`, to the end of the range: every number left is handed out exactly
/// once, and only then does the scope report itself exhausted.
fn check_segments_reach_the_end(backend: &dyn DisplayIdAllocator, seed: impl Fn(&str, u64)) {
    const LEFT: u64 = 250;
    seed("end", Seq::MAX - LEFT);
    seed("tail", Seq::MAX - 2);
    let a = Segmented::new(backend, 100);
    let b = Segmented::new(backend, 100);
    let mut seen = HashSet::new();
    // a holds MAX-249..=MAX-150, b MAX-149..=MAX-50; when a runs dry only 50 are left
    // in the store, fewer than a block.
    let mut exhausted = [false; 2];
    while exhausted != [true, true] {
        for (i, segment) in [&a, &b].into_iter().enumerate() {
            if exhausted[i] {
                continue;
            }
            match segment.allocate("end") {
                Ok(n) => assert!(seen.insert(n), "{n} handed out twice"),
                Err(StoreError::Exhausted { max, .. }) => {
                    assert_eq!(max, Seq::MAX);
                    exhausted[i] = true;
                }
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
    }
    let expected: HashSet<u64> = (Seq::MAX - LEFT + 1..=Seq::MAX).collect();
    assert_eq!(seen.len(), expected.len(), "numbers left unused");
    assert_eq!(seen, expected);
    assert_eq!(backend.last("end").unwrap(), Seq::MAX);
    assert_eq!(a.remaining("end") + b.remaining("end"), 0);
    // Exhausted stays exhausted, through either handle and the store itself.
    for segment in [&a, &b] {
        assert!(matches!(
            segment.allocate("end"),
            Err(StoreError::Exhausted { .. })
        ));
    }
    assert!(matches!(
        backend.allocate("end"),
        Err(StoreError::Exhausted { .. })
    ));

    // Blocks: a request for more than is left fails and costs nothing; what is left
    // can still be taken.
    let c = Segmented::new(backend, 100);
    assert!(matches!(
        c.allocate_block("tail", 3),
        Err(StoreError::Exhausted { .. })
    ));
    assert_eq!(
        c.allocate_block("tail", 2).unwrap(),
        Seq::MAX - 1..=Seq::MAX
    );
    assert!(matches!(
        c.allocate("tail"),
        Err(StoreError::Exhausted { .. })
    ));
}

/// Sets `scope`'s counter with SQL, as an operator seeding a scope would.
fn seed_sql<C: StoreConnection>(store: &SqlStore<C>, scope: &str, last: u64) {
    store
        .connection()
        .batch_execute(&format!(
            "INSERT INTO typed_id_display_sequences (scope, last) VALUES ('{scope}', {last})"
        ))
        .unwrap();
}

#[test]
fn segments_hand_out_every_number_up_to_the_end_sqlite() {
    let db = TempSqlite::new();
    let store = SqliteStore::open(db.url()).unwrap();
    check_segments_reach_the_end(&store, |scope, last| seed_sql(&store, scope, last));
}

#[test]
fn segments_hand_out_every_number_up_to_the_end_postgres() {
    let db = TestDatabase::new();
    let store = PgStore::open(db.url()).unwrap();
    check_segments_reach_the_end(&store, |scope, last| seed_sql(&store, scope, last));
}

// ---------------------------------------------------------------------------------------
// SQL: the same checks on both engines

fn check_sql<C: StoreConnection>(store: &SqlStore<C>, reopen: impl Fn() -> SqlStore<C>) {
    check_allocator(store);
    check_children(store);
    // Migrations ran once; opening again finds nothing to do.
    assert_eq!(store.migrate().unwrap(), 0);
    let again = reopen();
    assert_eq!(again.migrate().unwrap(), 0);
    assert_eq!(again.allocate("odin").unwrap(), 1004, "same counters");
    assert_eq!(again.next_child_number("el-a3f8").unwrap(), 9);
    drop(again);

    // Exhaustion: the largest display number once, then a typed error, for good.
    store
        .connection()
        .batch_execute(
            "INSERT INTO typed_id_display_sequences (scope, last) \
             VALUES ('end', 999999999999999998)",
        )
        .unwrap();
    assert_eq!(
        store.next_id::<WorkItemId>("end").unwrap().to_text(),
        "WORK-999999999999999999"
    );
    for _ in 0..2 {
        assert!(matches!(
            store.allocate("end"),
            Err(StoreError::Exhausted {
                max: 999_999_999_999_999_999,
                ..
            })
        ));
    }

    // Garbage in the counter tables: typed errors, never a wrapped or reset counter.
    store
        .connection()
        .batch_execute(
            "INSERT INTO typed_id_display_sequences (scope, last) VALUES ('junk', 5000000000000000000); \
             INSERT INTO typed_id_child_counters (parent, last) VALUES ('el-junk', 5000000000)",
        )
        .unwrap();
    for result in [store.allocate("junk"), store.last("junk")] {
        match result {
            Err(e @ StoreError::CorruptValue { .. }) => {
                assert!(e.is_corruption());
                assert!(e.to_string().contains("5000000000000000000"), "{e}");
            }
            other => panic!("expected CorruptValue, got {other:?}"),
        }
    }
    let junk = ElementId::parse("el-junk").unwrap();
    assert!(matches!(
        store.next_child(&junk),
        Err(StoreError::CorruptValue { .. })
    ));
    assert!(matches!(
        store.last_child_number("el-junk"),
        Err(StoreError::CorruptValue { .. })
    ));
}

fn check_sql_inserts<C: StoreConnection>(store: &SqlStore<C>) {
    store
        .write(|conn| {
            conn.batch_execute(
                "CREATE TABLE elements (id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL UNIQUE)",
            )
        })
        .unwrap();
    let column = IdColumn::new("elements", "id").unwrap();
    let generator = HashIdGenerator::new();
    let insert = |conn: &mut C, id: ElementId, title: &str| -> QueryResult<()> {
        conn.batch_execute(&format!(
            "INSERT INTO elements (id, title) VALUES ('{id}', '{title}')"
        ))
    };
    let mut ids = HashSet::new();
    let input = HashInput::new("same title", "alice", 1_735_689_600_000_000_000);
    for i in 0..150 {
        let title = format!("t{i}");
        let input = HashInput::new(&title, "alice", 1_735_689_600_000_000_000);
        let id: ElementId = store
            .insert_unique(&generator, &input, &column, |c, id| insert(c, id, &title))
            .unwrap();
        assert_eq!(
            id.to_text().len(),
            3 + 4,
            "a small table: the minimum length"
        );
        assert!(ids.insert(id), "{id} twice");
    }
    // The same input again and again: the generator moves to the next nonce, then to
    // longer hashes, and the IDs stay unique.
    store
        .write(|conn| {
            for i in 0..50 {
                let id: ElementId = column.insert_unique(conn, &generator, &input, |c, id| {
                    insert(c, id, &format!("batch{i}"))
                })?;
                assert!(ids.insert(id));
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let count = column.check(&mut *store.connection()).count().unwrap();
    assert_eq!(count, 200);
    assert_eq!(ids.len(), 200);
    // A UNIQUE violation on another column is the caller's problem, returned at once.
    match store
        .insert_unique::<ElementId, _>(&generator, &input, &column, |c, id| insert(c, id, "t0"))
    {
        Err(StoreError::Database { source, .. }) => assert!(matches!(
            source,
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            )
        )),
        other => panic!("expected the UNIQUE violation, got {other:?}"),
    }
    // Other errors are returned as they are, too.
    assert!(matches!(
        store.insert_unique::<ElementId, _>(&generator, &input, &column, |c, _| {
            c.batch_execute("INSERT INTO no_such_table VALUES (1)")
        }),
        Err(StoreError::Database { .. })
    ));
    // A column that does not exist.
    let missing = IdColumn::new("nope", "id").unwrap();
    assert!(matches!(
        store.insert_unique::<ElementId, _>(&generator, &input, &missing, |_, _| Ok(())),
        Err(StoreError::Database { .. })
    ));

    // Children inserted behind the counter's back: resync finds the largest.
    let root = *ids.iter().next().unwrap();
    for child in ["4", "9.2", "12.1.1", "3"] {
        store
            .write(|c| {
                insert(
                    c,
                    ElementId::parse(&format!("{root}.{child}")).unwrap(),
                    child,
                )
            })
            .unwrap();
    }
    assert_eq!(store.resync_children(&column, &root).unwrap(), 12);
    assert_eq!(
        store.next_child(&root).unwrap().to_text(),
        format!("{root}.13")
    );
    assert_eq!(
        store.resync_children(&column, &root).unwrap(),
        13,
        "never lowered"
    );
    // Garbage under the parent: a typed error naming the table.
    store
        .write(|c| {
            c.batch_execute(&format!(
                "INSERT INTO elements VALUES ('{root}.x!', 'junk')"
            ))
        })
        .unwrap();
    match store.resync_children(&column, &root) {
        Err(e @ StoreError::CorruptValue { .. }) => {
            assert!(e.to_string().contains("elements.id"), "{e}");
            assert!(e.to_string().contains(".x!"), "{e}");
        }
        other => panic!("expected CorruptValue, got {other:?}"),
    }
}

#[test]
fn sqlite_store() {
    let db = TempSqlite::new();
    let store = SqliteStore::open(&format!("sqlite://{}", db.url())).unwrap();
    check_sql(&store, || SqliteStore::open(db.url()).unwrap());
    check_sql_inserts(&store);
    check_threads(
        Arc::new(SqliteStore::open(db.url()).unwrap()),
        "threads",
        500,
    );

    // WAL mode and the chosen durability are in force.
    let options = ConnectOptions::new().synchronous(Synchronous::Normal);
    let normal = SqliteStore::open_with(db.url(), &options).unwrap();
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    let mode: Mode = diesel::sql_query("PRAGMA journal_mode")
        .get_result(&mut *normal.connection())
        .unwrap();
    assert_eq!(mode.journal_mode, "wal");

    // Negative counters can only appear with CHECK constraints switched off.
    store
        .connection()
        .batch_execute(
            "PRAGMA ignore_check_constraints = ON; \
             INSERT INTO typed_id_display_sequences (scope, last) VALUES ('negative', -5); \
             PRAGMA ignore_check_constraints = OFF;",
        )
        .unwrap();
    assert!(matches!(
        store.allocate("negative"),
        Err(StoreError::CorruptValue { .. })
    ));
    // STRICT tables refuse text where a counter belongs.
    assert!(
        store
            .connection()
            .batch_execute(
                "INSERT INTO typed_id_display_sequences (scope, last) VALUES ('text', 'abc')"
            )
            .is_err()
    );

    assert!(matches!(
        SqliteStore::open("postgres://localhost/x"),
        Err(StoreError::Unsupported { .. })
    ));
    assert!(matches!(
        SqliteStore::open("/nonexistent-dir/sub/db.sqlite"),
        Err(StoreError::Connection(_))
    ));
}

#[test]
fn postgres_store() {
    let db = TestDatabase::new();
    let store = PgStore::open(db.url()).unwrap();
    check_sql(&store, || PgStore::open(db.url()).unwrap());
    check_sql_inserts(&store);
    check_threads(Arc::new(PgStore::open(db.url()).unwrap()), "threads", 250);
    // Two stores in parallel: one connection each, like two processes.
    let a = Arc::new(PgStore::open(db.url()).unwrap());
    check_threads(a, "threads-2", 100);
}

#[test]
fn postgres_lost_race_is_retried() {
    // Another writer commits the very candidate we are about to insert: the UNIQUE
    // constraint refuses ours, and the next candidate is used.
    let db = TestDatabase::new();
    let store = PgStore::open(db.url()).unwrap();
    let mut rival = db.connect();
    store
        .connection()
        .batch_execute("CREATE TABLE elements (id TEXT PRIMARY KEY)")
        .unwrap();
    let column = IdColumn::new("public.elements", "id").unwrap();
    let generator = HashIdGenerator::new();
    let input = HashInput::new("contested", "bob", 42);
    let mut calls = Vec::new();
    let id: ElementId = store
        .insert_unique(&generator, &input, &column, |conn, id: ElementId| {
            calls.push(id);
            if calls.len() == 1 {
                diesel::sql_query("INSERT INTO elements VALUES ($1)")
                    .bind::<Text, _>(id)
                    .execute(&mut rival)
                    .unwrap();
            }
            diesel::sql_query("INSERT INTO elements VALUES ($1)")
                .bind::<Text, _>(id)
                .execute(conn)
                .map(drop)
        })
        .unwrap();
    assert_eq!(calls.len(), 2, "one lost race, one win");
    assert_ne!(calls[0], calls[1]);
    assert_eq!(id, calls[1]);

    // A rival that always wins: bounded, then a typed error.
    let always = store.insert_unique::<ElementId, _>(&generator, &input, &column, |conn, id| {
        diesel::sql_query("INSERT INTO elements VALUES ($1)")
            .bind::<Text, _>(id)
            .execute(&mut rival)
            .unwrap();
        diesel::sql_query("INSERT INTO elements VALUES ($1)")
            .bind::<Text, _>(id)
            .execute(conn)
            .map(drop)
    });
    assert!(
        matches!(
            always,
            Err(StoreError::LostRaces { attempts: 32 } | StoreError::TooManyCollisions { .. })
        ),
        "{always:?}"
    );
}

#[test]
fn store_errors_keep_their_source() {
    use std::error::Error as _;
    let db = TempSqlite::new();
    let store = SqliteStore::open(db.url()).unwrap();
    let err = store
        .write(|c| c.batch_execute("SELECT * FROM missing_table"))
        .map_err(StoreError::from)
        .unwrap_err();
    assert!(err.source().is_some());
    assert!(err.to_string().contains("missing_table"), "{err}");
    let io = FileStore::open("/proc/version/x").unwrap_err();
    assert!(io.source().is_some(), "{io}");
    assert!(StoreError::InvalidBlock { count: 0 }.source().is_none());
}

// ---------------------------------------------------------------------------------------
// SQL stores under faults: durability settings, reconnects, files replaced.

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

fn synchronous_commit(conn: &mut PgConnection) -> QueryResult<String> {
    diesel::sql_query("SELECT current_setting('synchronous_commit') AS value")
        .get_result::<Setting>(conn)
        .map(|s| s.value)
}

fn backend_pid(store: &PgStore) -> i32 {
    diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(&mut *store.connection())
        .unwrap()
        .pid
}

/// Terminates backend `pid` and waits until the server has let it go (a real signal:
/// the row leaves `pg_stat_activity`), so the store's next call meets a dead socket.
fn terminate(admin: &mut PgConnection, pid: i32) {
    #[derive(QueryableByName)]
    struct Gone {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        gone: bool,
    }
    diesel::sql_query(format!("SELECT pg_terminate_backend({pid})"))
        .execute(admin)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let gone = diesel::sql_query(format!(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = {pid}) AS gone"
        ))
        .get_result::<Gone>(admin)
        .unwrap()
        .gone;
        if gone {
            return;
        }
        assert!(Instant::now() < deadline, "backend {pid} never went away");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn postgres_store_commits_wait_for_the_wal_flush_on_a_server_that_does_not() {
    // The private cluster runs with synchronous_commit = off, like the shared one.
    let cluster = PrivateCluster::start(ClusterConfig::new());
    let url = cluster.socket_url(&cluster.create_database());
    assert_eq!(
        synchronous_commit(&mut PgConnection::establish(&url).unwrap()).unwrap(),
        "off"
    );
    let store = PgStore::open(&url).unwrap();
    assert_eq!(synchronous_commit(&mut store.connection()).unwrap(), "on");
    let inside = store.write(synchronous_commit).unwrap();
    assert_eq!(inside, "on", "inside the store's transactions");

    // Switched off behind the store's back: on again before the next operation.
    store
        .connection()
        .batch_execute("SET synchronous_commit = off")
        .unwrap();
    assert_eq!(store.allocate("s").unwrap(), 1);
    assert_eq!(synchronous_commit(&mut store.connection()).unwrap(), "on");
    store
        .connection()
        .batch_execute("SET synchronous_commit = off")
        .unwrap();
    assert_eq!(store.write(synchronous_commit).unwrap(), "on");

    // A store made from a connection, and one that reconnected, too.
    let wrapped = PgStore::from_connection(PgConnection::establish(&url).unwrap()).unwrap();
    assert_eq!(synchronous_commit(&mut wrapped.connection()).unwrap(), "on");
    assert_eq!(wrapped.allocate("s").unwrap(), 2);
    assert_eq!(synchronous_commit(&mut wrapped.connection()).unwrap(), "on");
    terminate(&mut cluster.admin(), backend_pid(&store));
    assert_eq!(store.allocate("s").unwrap(), 3);
    assert_eq!(synchronous_commit(&mut store.connection()).unwrap(), "on");

    // A stronger default is kept.
    let mut conn = PgConnection::establish(&url).unwrap();
    conn.batch_execute("SET synchronous_commit = remote_apply")
        .unwrap();
    let kept = PgStore::from_connection(conn).unwrap();
    kept.allocate("s").unwrap();
    assert_eq!(
        synchronous_commit(&mut kept.connection()).unwrap(),
        "remote_apply"
    );
}

#[test]
fn postgres_store_reconnects_after_its_backend_is_terminated() {
    let db = TestDatabase::new();
    let mut admin = db.connect();
    let store = PgStore::open(db.url()).unwrap();
    assert_eq!(store.allocate("s").unwrap(), 1);

    // Between calls: the next call finds the connection dead before sending, reconnects
    // and allocates.
    terminate(&mut admin, backend_pid(&store));
    assert_eq!(store.allocate("s").unwrap(), 2);
    terminate(&mut admin, backend_pid(&store));
    assert_eq!(store.last("s").unwrap(), 2);
    let parent = ElementId::parse("el-a3f8").unwrap();
    terminate(&mut admin, backend_pid(&store));
    assert_eq!(store.next_child(&parent).unwrap().to_text(), "el-a3f8.1");

    // During a transaction: the call fails, nothing of it is committed, the next call
    // reconnects.
    store
        .connection()
        .batch_execute("CREATE TABLE items (n INT PRIMARY KEY)")
        .unwrap();
    let pid = backend_pid(&store);
    let failed = store.write(|conn| {
        conn.batch_execute("INSERT INTO items VALUES (1)")?;
        terminate(&mut admin, pid);
        conn.batch_execute("INSERT INTO items VALUES (2)")
    });
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(store.allocate("s").unwrap(), 3);
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows = diesel::sql_query("SELECT COUNT(*) AS n FROM items")
        .get_result::<Count>(&mut admin)
        .unwrap();
    assert_eq!(rows.n, 0, "the interrupted transaction was rolled back");

    // An idle-session timeout closes the connection the same way.
    store
        .connection()
        .batch_execute("SET idle_session_timeout = '200ms'")
        .unwrap();
    let pid = backend_pid(&store);
    let deadline = Instant::now() + Duration::from_secs(60);
    #[derive(QueryableByName)]
    struct Gone {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        gone: bool,
    }
    while !diesel::sql_query(format!(
        "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = {pid}) AS gone"
    ))
    .get_result::<Gone>(&mut admin)
    .unwrap()
    .gone
    {
        assert!(
            Instant::now() < deadline,
            "the idle session was never closed"
        );
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(store.allocate("s").unwrap(), 4);

    // A store made from a connection knows no URL: a typed error, every time.
    let wrapped = PgStore::from_connection(db.connect()).unwrap();
    assert_eq!(wrapped.allocate("s").unwrap(), 5);
    terminate(&mut admin, backend_pid(&wrapped));
    for _ in 0..2 {
        let err = wrapped.allocate("s").unwrap_err();
        assert!(matches!(err, StoreError::Disconnected { .. }), "{err:?}");
    }
    assert_eq!(store.allocate("s").unwrap(), 6);
}

#[test]
fn postgres_store_outage_is_a_typed_error_within_the_bound_and_no_number_repeats() {
    let cluster = PrivateCluster::start(ClusterConfig::new());
    let url = cluster.socket_url(&cluster.create_database());
    let bound = Duration::from_secs(2);
    let store = PgStore::open(&url)
        .unwrap()
        .with_reconnect(ReconnectPolicy::new().within(bound));
    let mut seen = HashSet::new();
    for _ in 0..200 {
        assert!(seen.insert(store.allocate("s").unwrap()));
    }
    // The last commits before a crash: with the server's synchronous_commit = off they
    // would still be in its WAL buffers and be lost, and handed out again.
    cluster.stop_immediate();
    let started = Instant::now();
    let err = store.allocate("s").unwrap_err();
    let took = started.elapsed();
    match &err {
        StoreError::Unreachable {
            attempts, waited, ..
        } => {
            assert!(*attempts >= 2, "{err}");
            assert!(*waited <= bound, "{err}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    // Generous: the bound plus one more attempt's connect on a loaded machine.
    assert!(took < bound + Duration::from_secs(10), "{took:?}");
    cluster.start_again();
    for _ in 0..50 {
        let n = store.allocate("s").unwrap();
        assert!(seen.insert(n), "{n} handed out twice");
    }
}

#[test]
fn a_write_that_waits_out_the_busy_timeout_says_so_and_can_be_retried() {
    let db = TempSqlite::new();
    let options = ConnectOptions::new().busy_timeout(Duration::from_millis(50));
    let store = SqliteStore::open_with(db.url(), &options).unwrap();
    assert_eq!(store.allocate("s").unwrap(), 1);
    let mut holder = SqliteConnection::establish(db.path().to_str().unwrap()).unwrap();
    holder.batch_execute("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let err = store.allocate("s").unwrap_err();
    assert!(err.is_busy(), "{err:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "gave up early"
    );
    holder.batch_execute("ROLLBACK").unwrap();
    assert_eq!(
        store.allocate("s").unwrap(),
        2,
        "nothing was taken by the failure"
    );
    let other = store.allocate("bad scope!").unwrap_err();
    assert!(!other.is_busy(), "{other:?}");
}

#[test]
fn a_write_waits_for_a_lock_released_in_time_and_keeps_the_busy_timeout() {
    #[derive(QueryableByName)]
    struct Timeout {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        timeout: i64,
    }
    let db = TempSqlite::new();
    let options = ConnectOptions::new().busy_timeout(Duration::from_secs(20));
    let store = SqliteStore::open_with(db.url(), &options).unwrap();
    let mut holder = SqliteConnection::establish(db.path().to_str().unwrap()).unwrap();
    holder.batch_execute("BEGIN IMMEDIATE").unwrap();
    let released = thread::scope(|s| {
        let release = s.spawn(move || {
            thread::sleep(Duration::from_millis(150));
            // Taken while the lock is still held: no allocation can end before it.
            let releasing = Instant::now();
            holder.batch_execute("ROLLBACK").unwrap();
            releasing
        });
        assert_eq!(store.allocate("s").unwrap(), 1);
        let got = Instant::now();
        let released = release.join().unwrap();
        assert!(got >= released, "allocated while the lock was held");
        released
    });
    assert!(released.elapsed() < Duration::from_secs(10));
    // The wait happened in the store; SQLite's own timeout is the configured one again
    // for everything else on the connection.
    let t: Timeout = diesel::sql_query("PRAGMA busy_timeout")
        .get_result(&mut *store.connection())
        .unwrap();
    assert_eq!(t.timeout, 20_000);
    store.write(|conn| conn.batch_execute("SELECT 1")).unwrap();
}

/// The (device, inode) of the file at `path`, `None` when it is missing.
fn inode(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[test]
fn a_store_whose_file_was_replaced_leaves_the_new_files_alone_when_dropped() {
    // Closing the last connection to a WAL database checkpoints and deletes the `-wal`
    // and `-shm` by path: after a replacement those name the new database's files.
    let db = TempSqlite::new();
    let side = |suffix: &str| {
        let mut p = db.path().to_owned().into_os_string();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    for notice_first in [false, true] {
        let _ = fs::remove_file(db.path());
        let old = SqliteStore::open(db.url()).unwrap();
        for _ in 0..3 {
            old.allocate("s").unwrap();
        }
        let other = dir_of(&db).join("other.db");
        drop(SqliteStore::open(other.to_str().unwrap()).unwrap());
        let _ = fs::remove_file(side("-wal"));
        let _ = fs::remove_file(side("-shm"));
        fs::rename(&other, db.path()).unwrap();

        let new = SqliteStore::open(db.url()).unwrap();
        assert_eq!(new.allocate("s").unwrap(), 1);
        let files = [inode(&side("-wal")), inode(&side("-shm"))];
        assert!(files.iter().all(Option::is_some), "{files:?}");
        if notice_first {
            assert!(matches!(
                old.allocate("s"),
                Err(StoreError::DatabaseFileReplaced { .. })
            ));
        }
        drop(old);
        assert_eq!(
            [inode(&side("-wal")), inode(&side("-shm"))],
            files,
            "the old store's close touched the new database's files"
        );
        assert_eq!(new.allocate("s").unwrap(), 2);
        assert_eq!(new.allocate("s").unwrap(), 3);
    }
}

#[test]
fn sqlite_store_refuses_to_number_from_a_deleted_or_replaced_file() {
    let db = TempSqlite::new();
    let path = db.path().to_owned();
    let side = |suffix: &str| {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    let remove_all = || {
        for p in [path.clone(), side("-wal"), side("-shm")] {
            let _ = fs::remove_file(p);
        }
    };
    let old = SqliteStore::open(db.url()).unwrap();
    assert_eq!(old.allocate("s").unwrap(), 1);
    assert_eq!(old.allocate("s").unwrap(), 2);

    // Deleted: the running store notices at once, and for good; a new one starts over.
    remove_all();
    for _ in 0..2 {
        let err = old.allocate("s").unwrap_err();
        assert!(
            matches!(&err, StoreError::DatabaseFileReplaced { what, .. } if what.contains("deleted")),
            "{err:?}"
        );
    }
    assert!(old.last("s").is_err());
    let fresh = SqliteStore::open(db.url()).unwrap();
    assert_eq!(fresh.allocate("s").unwrap(), 1);

    // Restored from an older backup: the running store stops, a new one continues from
    // the backup, and the counter is seeded from the items' own table.
    for _ in 0..4 {
        fresh.allocate("s").unwrap();
    }
    let backup = dir_of(&db).join("backup.db");
    fresh
        .connection()
        .batch_execute(&format!("VACUUM INTO '{}'", backup.display()))
        .unwrap();
    assert_eq!(fresh.allocate("s").unwrap(), 6);
    assert_eq!(fresh.allocate("s").unwrap(), 7);
    let _ = fs::remove_file(side("-wal"));
    let _ = fs::remove_file(side("-shm"));
    fs::rename(&backup, &path).unwrap();
    let err = fresh.allocate("s").unwrap_err();
    assert!(
        matches!(&err, StoreError::DatabaseFileReplaced { .. }),
        "{err:?}"
    );
    let restored = SqliteStore::open(db.url()).unwrap();
    assert_eq!(restored.last("s").unwrap(), 5, "the backup's counter");
    restored.observe_display_number("s", 7).unwrap();
    restored.observe_display_number("s", 3).unwrap();
    assert_eq!(restored.allocate("s").unwrap(), 8);
    assert!(matches!(
        restored.observe_display_number("s", Seq::MAX + 1),
        Err(StoreError::Exhausted { .. })
    ));

    // Only the -wal and -shm deleted (a temp cleaner): the store would otherwise write
    // to a log nobody else reads.
    let other = SqliteStore::open(db.url()).unwrap();
    other.allocate("s").unwrap();
    let _ = fs::remove_file(side("-wal"));
    let _ = fs::remove_file(side("-shm"));
    let err = other.allocate("s").unwrap_err();
    assert!(
        matches!(&err, StoreError::DatabaseFileReplaced { what, .. } if what.contains("-wal") || what.contains("-shm")),
        "{err:?}"
    );
    // Writes through `write` are checked too.
    let err = other
        .write(|conn| conn.batch_execute("SELECT 1"))
        .map_err(StoreError::from)
        .unwrap_err();
    assert!(err.to_string().contains("no longer the file"), "{err}");

    // Stores that share an untouched file never see a false alarm.
    remove_all();
    let a = SqliteStore::open(db.url()).unwrap();
    for _ in 0..3 {
        let b = SqliteStore::open(db.url()).unwrap();
        b.allocate("t").unwrap();
        drop(b);
        a.allocate("t").unwrap();
    }
    assert_eq!(a.last("t").unwrap(), 6);
}

// ---------------------------------------------------------------------------------------
// Pairs

#[test]
fn work_item_key_serialises_both_ids() {
    let snowflakes = SnowflakeGenerator::new(3).unwrap();
    let store = MemoryStore::new();
    store.allocate_block("odin", 41).unwrap();
    let key = WorkItemKey::new(
        snowflakes.generate::<WorkItemSnowflake>().unwrap(),
        store.next_id::<WorkItemId>("odin").unwrap(),
    );
    let json = serde_json::to_string(&key).unwrap();
    assert_eq!(
        json,
        format!(r#"{{"id":"{}","display":"WORK-042"}}"#, key.id)
    );
    let back: WorkItemKey<WorkItemSnowflake, WorkItemId> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, key);
    assert_eq!(key.to_string(), "WORK-042");
    // Field order and unknown fields do not matter; missing, duplicate and invalid
    // fields are errors that say what is wrong.
    let swapped = format!(r#"{{"display":"WORK-042","extra":[1],"id":"{}"}}"#, key.id);
    assert_eq!(
        serde_json::from_str::<WorkItemKey<WorkItemSnowflake, WorkItemId>>(&swapped).unwrap(),
        key
    );
    for (bad, needle) in [
        (r#"{"display":"WORK-042"}"#.to_owned(), "missing field `id`"),
        (
            format!(r#"{{"id":"{}","display":"WORK-042","id":"x"}}"#, key.id),
            "duplicate field `id`",
        ),
        (
            format!(r#"{{"id":"{}","display":"WORK-42"}}"#, key.id),
            "WorkItemId",
        ),
        (
            r#"{"id":"el-abc","display":"WORK-042"}"#.to_owned(),
            "WorkItemSnowflake",
        ),
    ] {
        let err = serde_json::from_str::<WorkItemKey<WorkItemSnowflake, WorkItemId>>(&bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{bad}: {err}");
    }
}

#[test]
fn work_item_key_identity_is_the_internal_id() {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    fn hash_of(k: &WorkItemKey<WorkItemSnowflake, WorkItemId>) -> u64 {
        let mut h = DefaultHasher::new();
        k.hash(&mut h);
        h.finish()
    }
    let id = WorkItemSnowflake::parse("wi-1767053847123456789").unwrap();
    let key = WorkItemKey::new(id, WorkItemId::parse("WORK-042").unwrap());
    let renumbered = WorkItemKey::new(id, WorkItemId::parse("WORK-007").unwrap());
    let other = WorkItemKey::new(
        WorkItemSnowflake::parse("wi-1767053847123456790").unwrap(),
        WorkItemId::parse("WORK-042").unwrap(),
    );
    assert_eq!(key, renumbered);
    assert_eq!(hash_of(&key), hash_of(&renumbered));
    assert_ne!(
        key, other,
        "the same display ID on another item is another item"
    );
    assert!(key < other);
    let set: HashSet<_> = [key, renumbered, other].into_iter().collect();
    assert_eq!(set.len(), 2);
    // What it shows.
    assert_eq!(key.to_string(), "WORK-042");
    assert_eq!(
        format!("{key:?}"),
        "WorkItemKey { display: WORK-042, id: wi-1767053847123456789 }"
    );
    assert_eq!(key.internal_id(), 1_767_053_847_123_456_789);
    assert_eq!(key.internal_id_hex(), "0x1885d61c98c7f315");
    assert_eq!(
        Snowflake::parse_base62(key.internal_id_base62().as_str())
            .unwrap()
            .as_u64(),
        1_767_053_847_123_456_789
    );
    assert_eq!(key.display_number(), 42);
    // Small internal IDs keep 16 hex digits.
    let small = WorkItemKey::new(
        WorkItemSnowflake::parse("wi-255").unwrap(),
        WorkItemId::parse("WORK-1000").unwrap(),
    );
    assert_eq!(small.internal_id_hex(), "0x00000000000000ff");
    assert_eq!(small.internal_id_base62().as_str(), "47");
    assert_eq!(small.display_number(), 1000);
}

type Meta = WorkItemMeta<WorkItemSnowflake, WorkItemId>;
type Stored<T> = StoredWorkItem<WorkItemSnowflake, WorkItemId, T>;

/// The reference system's file, with an internal ID whose hex agrees with it.
const REFERENCE_FILE: &str = r#"{"_meta": {"internal_id": "1767053847123456789", "internal_id_hex": "0x1885d61c98c7f315", "display_id": "WORK-042", "created_at": "2026-01-09T14:30:00Z", "worker_id": 742}, "title": "Fix the login bug", "status": "in_progress"}"#;

#[test]
fn stored_work_items_load_unchanged_and_write_back_the_same() {
    #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
    struct Item {
        title: String,
        status: String,
    }
    let item: Stored<Item> = serde_json::from_str(REFERENCE_FILE).unwrap();
    assert_eq!(item.meta.key().to_string(), "WORK-042");
    assert_eq!(item.meta.key().internal_id(), 1_767_053_847_123_456_789);
    assert_eq!(item.meta.created_at(), "2026-01-09T14:30:00Z");
    assert_eq!(item.meta.created_at_unix_ms(), 1_767_969_000_000);
    assert_eq!(item.meta.worker_id(), 742);
    assert_eq!(
        item.data,
        Item {
            title: "Fix the login bug".into(),
            status: "in_progress".into()
        }
    );
    // Written back: the same object, `_meta` first, every value as it was.
    let written = serde_json::to_value(&item).unwrap();
    let original: serde_json::Value = serde_json::from_str(REFERENCE_FILE).unwrap();
    assert_eq!(written, original);
    assert!(
        serde_json::to_string(&item)
            .unwrap()
            .starts_with(r#"{"_meta":{"internal_id":"1767053847123456789","#)
    );
    // Any map keeps keys the application does not know about.
    let loose: Stored<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(REFERENCE_FILE).unwrap();
    assert_eq!(loose.data.len(), 2);
    assert!(!loose.data.contains_key("_meta"));
    assert_eq!(serde_json::to_value(&loose).unwrap(), original);
    // `_meta` anywhere in the object, unknown keys inside it ignored.
    let shuffled = r#"{"status": "done", "_meta": {"worker_id": 1, "future": [1, 2], "display_id": "WORK-001", "created_at": "2026-01-09T15:30:00+01:00", "internal_id_hex": "0x1", "internal_id": "1"}}"#;
    let item: Stored<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(shuffled).unwrap();
    assert_eq!(item.meta.created_at_unix_ms(), 1_767_969_000_000);
    assert_eq!(item.meta.key().internal_id_hex(), "0x0000000000000001");
    // Or a `_meta` field in the application's own struct.
    #[derive(serde::Deserialize, serde::Serialize)]
    struct Own {
        #[serde(rename = "_meta")]
        meta: Meta,
        title: String,
    }
    let own: Own = serde_json::from_str(REFERENCE_FILE).unwrap();
    assert_eq!(own.meta.key().display_number(), 42);
    assert_eq!(own.title, "Fix the login bug");
    // A new item: time and worker from its snowflake.
    let generator = SnowflakeGenerator::new(742).unwrap();
    let id: WorkItemSnowflake = generator.generate().unwrap();
    let meta = Meta::from_snowflake(
        WorkItemKey::new(id, WorkItemId::parse("WORK-043").unwrap()),
        generator.layout(),
    );
    assert_eq!(meta.worker_id(), 742);
    let back: Meta = serde_json::from_value(serde_json::to_value(&meta).unwrap()).unwrap();
    assert_eq!(back, meta);
    assert_eq!(back.created_at(), meta.created_at());
    let parts = generator.decompose(id.to_body());
    assert_eq!(meta.created_at_unix_ms(), parts.timestamp_ms as i64);
    // Data that is not an object cannot sit beside `_meta`.
    let err = serde_json::to_string(&Stored::new(meta.clone(), vec![1])).unwrap_err();
    assert!(
        err.to_string()
            .contains("must serialise as a map or a struct"),
        "{err}"
    );
    #[derive(serde::Serialize)]
    struct Clash {
        _meta: u8,
    }
    let err = serde_json::to_string(&Stored::new(meta, Clash { _meta: 1 })).unwrap_err();
    assert!(err.to_string().contains("`_meta`"), "{err}");
}

#[test]
fn hostile_meta_objects_are_refused_with_the_reason() {
    let with = |field: &str, value: &str| -> String {
        let mut v: serde_json::Value = serde_json::from_str(REFERENCE_FILE).unwrap();
        v["_meta"][field] = serde_json::from_str(value).unwrap();
        v.to_string()
    };
    let without = |field: &str| -> String {
        let mut v: serde_json::Value = serde_json::from_str(REFERENCE_FILE).unwrap();
        v["_meta"].as_object_mut().unwrap().remove(field);
        v.to_string()
    };
    let cases = [
        // The issue's own example: its hex is another number than its decimal.
        (
            with("internal_id_hex", r#""0x188a1c2d3e4f5678""#),
            "internal_id_hex \"0x188a1c2d3e4f5678\" does not match internal_id \
             1767053847123456789, which is 0x1885d61c98c7f315",
        ),
        (
            with("internal_id_hex", r#""1885d61c98c7f315""#),
            "is not hex",
        ),
        (with("internal_id_hex", r#""0x""#), "is not hex"),
        (
            with("internal_id_hex", r#""0x01885d61c98c7f315""#),
            "is not hex",
        ),
        (
            with("internal_id", r#""01767053847123456789""#),
            "is not a snowflake",
        ),
        (with("internal_id", r#""-1""#), "is not a snowflake"),
        (
            with("internal_id", r#""9223372036854775808""#),
            "is not a snowflake",
        ),
        (
            with("internal_id", r#""99999999999999999999999""#),
            "is not a snowflake",
        ),
        (
            with("internal_id", r#""1767053847123456789 ""#),
            "is not a snowflake",
        ),
        (
            with("internal_id", "[1]"),
            "a snowflake as a decimal string",
        ),
        (
            with("display_id", r#""WORK-42""#),
            "display_id: invalid WorkItemId",
        ),
        (
            with("display_id", r#""BUG-042""#),
            "display_id: invalid WorkItemId",
        ),
        (
            with("display_id", r#""""#),
            "display_id: invalid WorkItemId",
        ),
        (
            with("created_at", r#""2026-01-09T14:30:00""#),
            "a zone (Z or ±hh:mm) is required",
        ),
        (
            with("created_at", r#""2026-02-30T14:30:00Z""#),
            "no such day",
        ),
        (
            with("created_at", r#""yesterday""#),
            "created_at \"yesterday\" is not an RFC 3339 time",
        ),
        (with("worker_id", "-1"), "worker_id"),
        (with("worker_id", r#""742""#), "worker_id"),
        (without("internal_id"), "missing field `internal_id`"),
        (
            without("internal_id_hex"),
            "missing field `internal_id_hex`",
        ),
        (without("display_id"), "missing field `display_id`"),
        (without("created_at"), "missing field `created_at`"),
        (without("worker_id"), "missing field `worker_id`"),
        (r#"{"title": "x"}"#.to_owned(), "missing field `_meta`"),
        (r#"{"_meta": 5}"#.to_owned(), "_meta"),
        (r#"[1, 2]"#.to_owned(), "a stored work item"),
        (
            REFERENCE_FILE.replacen(
                r#""worker_id": 742}"#,
                r#""worker_id": 742, "worker_id": 1}"#,
                1,
            ),
            "duplicate field `worker_id`",
        ),
        (
            REFERENCE_FILE.replacen(r#""status""#, r#""_meta": {}, "status""#, 1),
            "duplicate field `_meta`",
        ),
    ];
    for (bad, needle) in cases {
        let err = serde_json::from_str::<Stored<serde_json::Map<String, serde_json::Value>>>(&bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{bad}\n  {err}\n  wanted: {needle}");
    }
    // The same checks without serde, as typed errors.
    let err = Meta::from_fields("1", "0x2", "WORK-001", "2026-01-09T14:30:00Z", 1).unwrap_err();
    assert_eq!(
        err,
        WorkItemMetaError::HexMismatch {
            hex: "0x2".into(),
            internal_id: 1
        }
    );
    let long = "9".repeat(10_000);
    match Meta::from_fields(&long, "0x1", "WORK-001", "2026-01-09T14:30:00Z", 1) {
        Err(WorkItemMetaError::InternalId { value }) => assert_eq!(value.len(), 64),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Meta::from_fields("1", "0x1", "WORK-001", &long, 1),
        Err(WorkItemMetaError::CreatedAt { .. })
    ));
    let err = Meta::from_fields("1", "0x1", "WORK-1", "2026-01-09T14:30:00Z", 1).unwrap_err();
    assert!(
        std::error::Error::source(&err).is_some(),
        "the parse error is its source"
    );
    // Times outside what RFC 3339 can write.
    let key = WorkItemKey::new(
        WorkItemSnowflake::parse("wi-1").unwrap(),
        WorkItemId::parse("WORK-001").unwrap(),
    );
    let far = std::time::UNIX_EPOCH + Duration::from_secs(400_000_000_000);
    assert!(matches!(
        Meta::new(key, far, 1),
        Err(WorkItemMetaError::CreatedAt { .. })
    ));
    let meta = Meta::new(
        key,
        std::time::UNIX_EPOCH + Duration::from_millis(1_767_969_000_250),
        3,
    )
    .unwrap();
    assert_eq!(meta.created_at(), "2026-01-09T14:30:00.250Z");
    assert_eq!(
        meta.created_at_time(),
        std::time::UNIX_EPOCH + Duration::from_millis(1_767_969_000_250)
    );
}

/// SQLite's automatic checkpoint is off on the store's connection; the store copies its
/// log into the file itself, every `checkpoint_every` allocations, so the log stays
/// bounded. Without those checkpoints, 4 000 allocations leave a log of at least 4 000
/// frames (16 MB with 4 KiB pages), only copied in when the last connection closes.
#[test]
fn the_store_checkpoints_its_log_itself() {
    let db = TempSqlite::new();
    let wal = format!("{}-wal", db.path().display());
    let options = ConnectOptions::new().checkpoint_every(64);
    let store = SqliteStore::open_with(db.url(), &options).unwrap();
    #[derive(QueryableByName)]
    struct Pragma {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        wal_autocheckpoint: i32,
    }
    // The store's own connection has it off (a fresh connection reports the default).
    let mut own = store.connection();
    let off: Pragma = diesel::sql_query("PRAGMA wal_autocheckpoint")
        .get_result(&mut *own)
        .unwrap();
    drop(own);
    assert_eq!(off.wal_autocheckpoint, 0);
    for _ in 0..4_000 {
        store.allocate("checkpoints").unwrap();
    }
    let frames = (fs::metadata(&wal).unwrap().len().saturating_sub(32)) / (4096 + 24);
    assert!(frames <= 4 * 64, "the log grew to {frames} frames");
    assert_eq!(store.last("checkpoints").unwrap(), 4_000);
}
