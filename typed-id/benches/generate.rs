//! Generator benchmarks, peers in the same run:
//!
//! - `snowflake/unconstrained`: the cost of one ID when the per-millisecond sequence does
//!   not run out, for `SnowflakeGenerator` (shared through `&self`: a compare-and-swap;
//!   and through `&mut self`) and `snowflaked::Generator` (`&mut self` only). Both run in
//!   timed batches of 2 000 IDs that start right after a millisecond tick (untimed), so
//!   neither generator ever reaches 4 096 IDs in a millisecond and waits.
//! - sustained rate (printed before the criterion groups): IDs per second from one
//!   thread over 2 s of real time with the system clock, against the format's ceiling
//!   of 4 096 000/s.
//! - `hash`: a content-hash ID (with a store that holds nothing, so only the generator
//!   is measured) against one SHA-256 of the same input text, already serialized
//!   (`sha256_of_input`, the target's reference) and formatted per call
//!   (`format_and_sha256`).
//!
//! `cargo bench -p typed-id --bench generate`

use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use sha2::{Digest, Sha256};
use typed_id::generator::{
    Clock, CollisionCheck, HashIdGenerator, HashInput, SnowflakeGenerator, SystemClock,
};
use typed_id::{HashId, TypedId};

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId(HashId);

/// IDs per timed batch: well under 4 096, and fast enough to finish within the
/// millisecond it starts in.
const BATCH: u64 = 2_000;

/// Spins until the system clock's millisecond changes.
fn next_tick() {
    let start = SystemClock.now_ms();
    while SystemClock.now_ms() == start {
        std::hint::spin_loop();
    }
}

/// Times `iters` calls of `f` in batches that each start on a fresh millisecond.
fn below_ceiling(iters: u64, mut f: impl FnMut() -> u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH);
        next_tick();
        let start = Instant::now();
        for _ in 0..n {
            black_box(f());
        }
        total += start.elapsed();
        left -= n;
    }
    total
}

fn snowflake(c: &mut Criterion) {
    let mut group = c.benchmark_group("snowflake/unconstrained");
    let ours = SnowflakeGenerator::new(1).unwrap();
    group.bench_function("typed_id", |b| {
        b.iter_custom(|iters| below_ceiling(iters, || ours.next_snowflake().unwrap().as_u64()))
    });
    // The same generator used through `&mut`, as snowflaked always is: no atomic
    // read-modify-write.
    let mut exclusive = SnowflakeGenerator::new(2).unwrap();
    group.bench_function("typed_id_mut", |b| {
        b.iter_custom(|iters| {
            below_ceiling(iters, || exclusive.next_snowflake_mut().unwrap().as_u64())
        })
    });
    let mut peer = snowflaked::Generator::new(1);
    group.bench_function("snowflaked", |b| {
        b.iter_custom(|iters| below_ceiling(iters, || peer.generate::<u64>()))
    });
    group.finish();
}

/// A store that holds nothing: measures the generator, not a store.
struct Empty;

impl CollisionCheck for Empty {
    type Error = Infallible;

    fn exists(&self, _: &str) -> Result<bool, Infallible> {
        Ok(false)
    }

    fn count(&self) -> Result<u64, Infallible> {
        Ok(0)
    }
}

fn hash(c: &mut Criterion) {
    let mut group = c.benchmark_group("hash");
    let input = HashInput::new(
        "Fix the login bug",
        "alice@example.com",
        1_735_689_600_123_456_789,
    );
    let text = format!(
        "{}|{}|{}|0",
        input.title, input.created_by, input.timestamp_ns
    );
    group.bench_function("sha256_of_input", |b| {
        b.iter(|| Sha256::digest(black_box(text.as_bytes())))
    });
    // What a straightforward implementation pays: format the input, then hash it.
    group.bench_function("format_and_sha256", |b| {
        b.iter(|| {
            let i = black_box(&input);
            let text = format!("{}|{}|{}|{}", i.title, i.created_by, i.timestamp_ns, 0);
            Sha256::digest(text.as_bytes())
        })
    });
    let generator = HashIdGenerator::new();
    group.bench_function("hash_id_body", |b| {
        b.iter(|| generator.generate_body(black_box(&input), &Empty).unwrap())
    });
    group.bench_function("element_id", |b| {
        b.iter(|| {
            generator
                .generate::<ElementId, _>(black_box(&input), &Empty)
                .unwrap()
        })
    });
    group.finish();
}

/// IDs per second from one thread over `window` of real time.
fn sustained(window: Duration, mut f: impl FnMut() -> u64) -> f64 {
    next_tick();
    let start = Instant::now();
    let mut count = 0u64;
    loop {
        for _ in 0..1024 {
            black_box(f());
        }
        count += 1024;
        let elapsed = start.elapsed();
        if elapsed >= window {
            return count as f64 / elapsed.as_secs_f64();
        }
    }
}

fn sustained_report() {
    const CEILING: f64 = 4_096_000.0;
    let window = Duration::from_secs(2);
    println!("sustained rate, one thread, system clock, {window:?} windows:");
    for run in 1..=3 {
        let ours = SnowflakeGenerator::new(1).unwrap();
        let rate = sustained(window, || ours.next_snowflake().unwrap().as_u64());
        let mut peer = snowflaked::Generator::new(1);
        let peer_rate = sustained(window, || peer.generate::<u64>());
        println!(
            "  run {run}: typed_id {:>9.0}/s = {:6.2} % of ceiling | snowflaked {:>9.0}/s = {:6.2} %",
            rate,
            100.0 * rate / CEILING,
            peer_rate,
            100.0 * peer_rate / CEILING,
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1));
    targets = snowflake, hash
}

fn main() {
    if !std::env::args().any(|a| a == "--list") {
        sustained_report();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
