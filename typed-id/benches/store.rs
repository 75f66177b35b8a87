//! Display-ID allocation throughput per store, from 1 and from 4 processes, and with 4
//! processes the longest single allocation any of them waited for (how fairly the
//! store shares its lock; SQLite's own busy handler sleeps up to 100 ms between tries).
//!
//! Each measurement runs for a fixed time: the bench binary re-invokes itself as worker
//! processes (`TYPED_ID_BENCH_WORKER`), which start together, allocate from one shared
//! scope until the deadline and report how many numbers they got. The table printed at
//! the end is what `BENCHMARKS.md` shows.
//!
//! `cargo bench -p typed-id --features sqlite,postgres --bench store`
//!
//! PostgreSQL is measured when `DATABASE_URL` points at a server (a `postgres://` URL or
//! a libpq `key=value` string); otherwise its rows say it was not measured.
//! `TYPED_ID_BENCH_SECS` sets the time per measurement (default 2).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use typed_id::db::{ConnectOptions, Synchronous};
use typed_id::store::{
    DisplayIdAllocator, FileStore, MemoryStore, PgStore, Segmented, SqliteStore,
};

const ENV_WORKER: &str = "TYPED_ID_BENCH_WORKER";
const ENV_TARGET: &str = "TYPED_ID_BENCH_TARGET";
const ENV_START: &str = "TYPED_ID_BENCH_START_MS";
const ENV_SECS: &str = "TYPED_ID_BENCH_SECS";
const ENV_SCOPE: &str = "TYPED_ID_BENCH_SCOPE";

/// Numbers per block in segment mode.
const SEGMENT: u64 = 1_000;

#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    kind: &'static str,
    note: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "memory",
        kind: "memory",
        note: "one atomic add; threads of one process only",
    },
    Case {
        name: "file (default: reserve 1024)",
        kind: "file-reserve",
        note: "lock, read and rewrite the live record; one durable reservation per 1024",
    },
    Case {
        name: "file, reserve 1",
        kind: "file-strict",
        note: "FileStore::with_reserve(1): write temp, fsync, rename, fsync dir per number",
    },
    Case {
        name: "SQLite, synchronous=NORMAL (default)",
        kind: "sqlite-normal",
        note: "one upsert … RETURNING per number, WAL",
    },
    Case {
        name: "SQLite, synchronous=FULL",
        kind: "sqlite-full",
        note: "one WAL flush per number",
    },
    Case {
        name: "PostgreSQL",
        kind: "postgres",
        note: "one upsert … RETURNING per number",
    },
    Case {
        name: "segments of 1000 over SQLite",
        kind: "segment-sqlite",
        note: "Segmented::new(SqliteStore, 1000)",
    },
    Case {
        name: "segments of 1000 over files (reserve 1)",
        kind: "segment-file",
        note: "Segmented::new(FileStore::with_reserve(1), 1000)",
    },
];

fn main() {
    if let Ok(kind) = std::env::var(ENV_WORKER) {
        let target = std::env::var(ENV_TARGET).expect("target");
        let start: u64 = std::env::var(ENV_START)
            .expect("start")
            .parse()
            .expect("ms");
        let scope = std::env::var(ENV_SCOPE).expect("scope");
        let (n, longest) = work(&kind, &target, &scope, start, seconds());
        println!("{n} {}", longest.as_nanos());
        return;
    }
    // `cargo bench` passes `--bench`; a filter argument selects cases by kind.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let dir = scratch_dir();
    let pg = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    println!(
        "display-ID allocations per second, {} s per measurement, {} CPUs",
        seconds().as_secs_f64(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    let mut rows = Vec::new();
    for case in CASES {
        if filter.as_deref().is_some_and(|f| !case.kind.contains(f)) {
            continue;
        }
        let mut cells = Vec::new();
        for processes in [1, 4] {
            if case.kind == "memory" && processes > 1 {
                cells.push("—".to_owned());
                continue;
            }
            let target = match case.kind {
                "postgres" => match &pg {
                    Some(url) => url.clone(),
                    None => {
                        cells.push("not measured (no DATABASE_URL)".to_owned());
                        continue;
                    }
                },
                k if k.contains("file") => {
                    let d = dir.join(format!("{k}-{processes}"));
                    d.to_string_lossy().into_owned()
                }
                k => dir
                    .join(format!("{k}-{processes}.sqlite"))
                    .to_string_lossy()
                    .into_owned(),
            };
            prepare(case.kind, &target);
            let (rate, longest) = measure(case.kind, &target, processes);
            let longest_ms = longest.as_secs_f64() * 1e3;
            println!(
                "  {:<40} {processes} process(es): {rate:>12.0}/s, longest allocation {longest_ms:.1} ms",
                case.name
            );
            let _ = std::io::stdout().flush();
            cells.push(if processes > 1 {
                format!("{rate:.0} (longest {longest_ms:.1} ms)")
            } else {
                format!("{rate:.0}")
            });
        }
        rows.push((case, cells));
    }
    println!();
    println!("| store | 1 process | 4 processes | per allocation |");
    println!("|---|---:|---:|---|");
    for (case, cells) in rows {
        println!(
            "| {} | {} | {} | {} |",
            case.name, cells[0], cells[1], case.note
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn seconds() -> Duration {
    let secs: f64 = std::env::var(ENV_SECS)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    Duration::from_secs_f64(secs)
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("typed-id-bench-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Creates the store (and its schema) before the workers start, so the measurement
/// does not include migrations.
fn prepare(kind: &str, target: &str) {
    match kind {
        "sqlite-normal" | "sqlite-full" | "segment-sqlite" => {
            SqliteStore::open(target).expect("SQLite store");
        }
        "postgres" => {
            PgStore::open(target).expect("PostgreSQL store");
        }
        _ => {}
    }
}

/// Sums what `processes` workers allocated in the measurement time, per second, and the
/// longest single allocation among them.
fn measure(kind: &str, target: &str, processes: usize) -> (f64, Duration) {
    let secs = seconds();
    // A scope of its own per measurement, so a shared PostgreSQL server starts fresh.
    let scope = format!(
        "bench-{kind}-{processes}-{}-{}",
        std::process::id(),
        now_ms()
    );
    if kind == "memory" {
        let start = now_ms() + 50;
        let (n, longest) = work(kind, target, &scope, start, secs);
        return (n as f64 / secs.as_secs_f64(), longest);
    }
    // Workers start at the same wall-clock moment, after all have opened their store.
    let start = now_ms() + 1_500;
    let children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(std::env::current_exe().expect("bench binary"))
                .env(ENV_WORKER, kind)
                .env(ENV_TARGET, target)
                .env(ENV_START, start.to_string())
                .env(ENV_SCOPE, &scope)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .spawn()
                .expect("worker")
        })
        .collect();
    let (mut total, mut longest) = (0, Duration::ZERO);
    for c in children {
        let out = c.wait_with_output().expect("worker output");
        assert!(out.status.success(), "worker failed: {}", out.status);
        let text = String::from_utf8_lossy(&out.stdout);
        let mut fields = text
            .split_whitespace()
            .map(|f| f.parse::<u64>().expect("number"));
        total += fields.next().expect("count");
        longest = longest.max(Duration::from_nanos(fields.next().expect("longest")));
    }
    (total as f64 / secs.as_secs_f64(), longest)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One worker: open the store, wait for the start, allocate until the deadline; how many
/// it got and the longest round (one allocation where `per_check` is 1).
fn work(kind: &str, target: &str, scope: &str, start_ms: u64, secs: Duration) -> (u64, Duration) {
    let run =
        |store: &dyn DisplayIdAllocator, per_check| run(store, scope, start_ms, secs, per_check);
    match kind {
        "memory" => run(&MemoryStore::new(), 1000),
        "file-reserve" => run(&file(target), 1),
        "file-strict" => run(&file(target).with_reserve(1), 1),
        "sqlite-normal" => run(&sqlite(target, Synchronous::Normal), 1),
        "sqlite-full" => run(&sqlite(target, Synchronous::Full), 1),
        "postgres" => run(&PgStore::open(target).expect("PostgreSQL store"), 1),
        "segment-sqlite" => run(
            &Segmented::new(sqlite(target, Synchronous::Normal), SEGMENT),
            1000,
        ),
        "segment-file" => run(&Segmented::new(file(target).with_reserve(1), SEGMENT), 1000),
        other => panic!("unknown store {other}"),
    }
}

fn file(dir: &str) -> FileStore {
    FileStore::open(Path::new(dir)).expect("file store")
}

fn sqlite(path: &str, synchronous: Synchronous) -> SqliteStore {
    SqliteStore::open_with(path, &ConnectOptions::new().synchronous(synchronous))
        .expect("SQLite store")
}

/// Allocates in rounds of `per_check` between clock reads until the deadline; the count
/// and the longest round.
fn run(
    store: &dyn DisplayIdAllocator,
    scope: &str,
    start_ms: u64,
    secs: Duration,
    per_check: u64,
) -> (u64, Duration) {
    while now_ms() < start_ms {
        std::thread::sleep(Duration::from_millis(1));
    }
    let deadline = Instant::now() + secs;
    let mut n = 0u64;
    let mut longest = Duration::ZERO;
    let mut round = Instant::now();
    while round < deadline {
        for _ in 0..per_check {
            std::hint::black_box(store.allocate(scope).expect("allocation"));
        }
        n += per_check;
        let now = Instant::now();
        longest = longest.max(now - round);
        round = now;
    }
    (n, longest)
}
