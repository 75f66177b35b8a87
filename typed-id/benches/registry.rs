//! Registry latency: register, heartbeat (plain, with context and epic, by ID),
//! list(100), prefix lookup, lookup by key hash among 10 000 typed instances, and lease
//! renewal, p50/p99 per call, on SQLite (a temporary file; the default `synchronous = NORMAL`
//! with `FULL` for lease writes, and `synchronous(Synchronous::Full)`, `FULL` throughout) and, when
//! `DATABASE_URL` names a PostgreSQL server, on PostgreSQL.
//!
//! ```text
//! cargo bench -p typed-id --bench registry --features sqlite,postgres
//! DATABASE_URL=postgres://… cargo bench -p typed-id --bench registry --features sqlite,postgres
//! ```
//!
//! Latency, not throughput, is what a heartbeat costs a service, so every call is timed
//! on its own and the distribution reported (criterion's mean-of-batches would hide the
//! tail that fsync and lock waits produce).
//!
//! The registry's clock is a manual one that moves 1 ms before every call: heartbeats
//! and renewals seconds apart always change their row, and SQLite skips the write (and
//! the fsync) of an `UPDATE` that changes nothing, which back-to-back calls within one
//! real millisecond would otherwise measure.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use typed_id::db::Synchronous;
use typed_id::generator::{ManualClock, SnowflakeGenerator};
use typed_id::instance::{
    LeaseOptions, NewInstance, Progress, Registry, RegistryOptions, WorkerLease,
};

const REGISTERS: usize = 2_000;
const HEARTBEATS: usize = 5_000;
const LISTS: usize = 1_000;
const RENEWALS: usize = 2_000;
/// Typed instances the hash lookups search among.
const KEYED: usize = 10_000;
const LOOKUPS: usize = 2_000;

struct Stats {
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort_unstable();
    let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    let total: Duration = samples.iter().sum();
    Stats {
        p50: pick(0.50),
        p99: pick(0.99),
        mean: total / samples.len() as u32,
    }
}

fn time(clock: &ManualClock, n: usize, mut f: impl FnMut(usize)) -> Stats {
    // Warm-up: statement preparation, page cache, WAL growth.
    for i in 0..n / 10 {
        clock.advance_ms(1);
        f(usize::MAX - i);
    }
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        clock.advance_ms(1);
        let t = Instant::now();
        f(i);
        samples.push(t.elapsed());
    }
    stats(samples)
}

fn report(backend: &str, op: &str, s: &Stats) {
    println!(
        "| {backend} | {op} | {:.3} | {:.3} | {:.3} |",
        s.p50.as_secs_f64() * 1e3,
        s.p99.as_secs_f64() * 1e3,
        s.mean.as_secs_f64() * 1e3
    );
}

fn run(backend: &str, url: &str, options: RegistryOptions) {
    let clock = ManualClock::now();
    let registry =
        Arc::new(Registry::open_with(url, options.clock(clock.clone())).expect("open registry"));
    let tag = std::process::id();

    let s = time(&clock, REGISTERS, |i| {
        let id = format!("bench-{tag}-{i}");
        black_box(registry.register(&NewInstance::new(id, "bench")).unwrap());
    });
    report(backend, "register", &s);

    let me = registry
        .register(&NewInstance::new(format!("beat-{tag}"), "beat"))
        .unwrap();
    let s = time(&clock, HEARTBEATS, |i| {
        let status = (i % 2 == 0).then_some(r#"{"queue":3}"#);
        registry.heartbeat(&me, status).unwrap();
    });
    report(backend, "heartbeat", &s);

    let epics = ["EPIC-12 registry", "EPIC-13 command line"];
    let s = time(&clock, HEARTBEATS, |i| {
        let progress = Progress::new()
            .context_percent((i % 101) as u8)
            .current_epic(epics[i % 2]);
        black_box(registry.heartbeat_with(&me, &progress).unwrap());
    });
    report(backend, "heartbeat + context, epic", &s);

    let s = time(&clock, HEARTBEATS, |i| {
        let progress = Progress::new().context_percent((i % 101) as u8);
        black_box(registry.heartbeat_by_id(me.id(), &progress).unwrap());
    });
    report(backend, "heartbeat by ID + context", &s);

    for i in 0..100 {
        registry
            .register(&NewInstance::new(
                format!("list-{tag}-{i:03}"),
                format!("list-{tag}"),
            ))
            .unwrap();
    }
    let project = format!("list-{tag}");
    let s = time(&clock, LISTS, |_| {
        let list = registry.list(Some(&project)).unwrap();
        assert_eq!(list.len(), 100);
        black_box(list);
    });
    report(backend, "list(100)", &s);

    let s = time(&clock, LISTS, |_| {
        black_box(registry.get(&format!("list-{tag}-05")).unwrap_err());
    });
    report(backend, "get(ambiguous prefix)", &s);

    // 10 000 typed instances with minted keys, then lookups by the hash alone.
    let project = format!("keys{tag}");
    let hashes: Vec<String> = (0..KEYED)
        .map(|_| {
            let me = registry
                .register(&NewInstance::typed(project.as_str(), "PS"))
                .unwrap();
            me.id()[project.len() + 4..].to_owned()
        })
        .collect();
    let s = time(&clock, LOOKUPS, |i| {
        let hash = &hashes[i.wrapping_mul(7_919) % KEYED];
        black_box(registry.get_by_hash(hash).unwrap());
    });
    report(backend, "get_by_hash (10 000 keys)", &s);
    let s = time(&clock, LOOKUPS, |i| {
        let hash = &hashes[i.wrapping_mul(7_919) % KEYED];
        black_box(registry.get(hash).unwrap());
    });
    report(backend, "get(hash) (10 000 keys)", &s);

    let lease = WorkerLease::acquire(
        registry.clone(),
        LeaseOptions::new(format!("bench-{tag}"), "b").clock(clock.clone()),
    )
    .unwrap();
    let s = time(&clock, RENEWALS, |_| lease.renew().unwrap());
    report(backend, "renew lease", &s);
    lease.release().unwrap();

    let s = time(&clock, RENEWALS / 4, |i| {
        let l = WorkerLease::acquire(
            registry.clone(),
            LeaseOptions::new(format!("acq-{tag}-{}", i % 8), "b").clock(clock.clone()),
        )
        .unwrap();
        l.release().unwrap();
    });
    report(backend, "acquire + release lease", &s);
}

/// IDs per second on one thread, leased generator against the bare one: the fence adds
/// a monotonic clock read and two atomic increments per ID.
fn issue_throughput(url: &str) {
    const N: u32 = 8_000_000;
    let registry = Arc::new(Registry::open(url).expect("open registry"));
    let lease = WorkerLease::acquire(registry, LeaseOptions::new("throughput", "b")).unwrap();
    let leased = lease.generator();
    let bare = SnowflakeGenerator::new(1).unwrap();
    let rate = |f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..N {
            f();
        }
        f64::from(N) / t.elapsed().as_secs_f64()
    };
    let bare_rate = rate(&|| {
        black_box(bare.next_snowflake().unwrap());
    });
    let leased_rate = rate(&|| {
        black_box(leased.next_snowflake().unwrap());
    });
    println!(
        "one thread, {N} IDs: SnowflakeGenerator {:.2} M/s, LeasedGenerator {:.2} M/s \
         (format ceiling 4.10 M/s)",
        bare_rate / 1e6,
        leased_rate / 1e6
    );
    lease.release().unwrap();
}

fn main() {
    let dir = std::env::temp_dir().join(format!("typed-id-bench-registry-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!("| backend | operation | p50 ms | p99 ms | mean ms |");
    println!("|---|---|---|---|---|");
    for (label, durable) in [
        ("SQLite, default (NORMAL; leases FULL)", false),
        ("SQLite, synchronous(Full) (FULL)", true),
    ] {
        let path = dir.join(format!("registry-{durable}.db"));
        run(
            label,
            path.to_str().unwrap(),
            RegistryOptions::new().synchronous(if durable {
                Synchronous::Full
            } else {
                Synchronous::Normal
            }),
        );
    }
    issue_throughput(dir.join("throughput.db").to_str().unwrap());
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            if cfg!(feature = "postgres") {
                run("PostgreSQL", &url, RegistryOptions::new());
            } else {
                println!("PostgreSQL: not measured (build with --features postgres)");
            }
        }
        _ => println!("PostgreSQL: not measured (set DATABASE_URL to a PostgreSQL server)"),
    }
    std::fs::remove_dir_all(&dir).ok();
}
