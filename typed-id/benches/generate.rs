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
//! With `TYPED_ID_BENCH_INTERLEAVED=1` the binary then also runs the contenders in
//! alternating rounds and prints each one's fastest and median round: same-moment
//! ratios, less exposed to a neighbour's burst on the shared machine than criterion's
//! one-after-the-other groups.
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

/// Keeps a result alive without reading or copying it (as in `parse.rs`): criterion
/// 0.5 would pass a returned value through its own `black_box`, a byte-by-byte volatile
/// read (48 loads for a `HashId`, 32 for a digest), measuring the harness.
#[inline(always)]
fn consume<T>(value: T) {
    black_box(&value);
}

fn hash_input() -> (HashInput<'static>, String) {
    let input = HashInput::new(
        "Fix the login bug",
        "alice@example.com",
        1_735_689_600_123_456_789,
    );
    let text = format!(
        "{}|{}|{}|0",
        input.title, input.created_by, input.timestamp_ns
    );
    // The reference must hash exactly what the generator hashes for nonce 0.
    let digest = Sha256::digest(text.as_bytes());
    assert_eq!(
        input.digest_value(0),
        u64::from_be_bytes(digest[..8].try_into().unwrap())
    );
    (input, text)
}

fn hash(c: &mut Criterion) {
    let mut group = c.benchmark_group("hash");
    let (input, text) = hash_input();
    group.bench_function("sha256_of_input", |b| {
        b.iter(|| consume(Sha256::digest(black_box(text.as_bytes()))))
    });
    // What a straightforward implementation pays: format the input, then hash it.
    group.bench_function("format_and_sha256", |b| {
        b.iter(|| {
            let i = black_box(&input);
            let text = format!("{}|{}|{}|{}", i.title, i.created_by, i.timestamp_ns, 0);
            consume(Sha256::digest(text.as_bytes()))
        })
    });
    let generator = HashIdGenerator::new();
    group.bench_function("hash_id_body", |b| {
        b.iter(|| consume(generator.generate_body(black_box(&input), &Empty)))
    });
    group.bench_function("element_id", |b| {
        b.iter(|| consume(generator.generate::<ElementId, _>(black_box(&input), &Empty)))
    });
    group.finish();
}

/// Same-moment ratios: the contenders in alternating rounds, each one's fastest round,
/// and each one's median round (closer to what criterion's mean sees: on this shared
/// VM the generator has slower spells that the bare SHA-256 mostly escapes).
fn interleaved() {
    const ROUNDS: usize = 300;
    let (input, text) = hash_input();
    let generator = HashIdGenerator::new();
    let ours = SnowflakeGenerator::new(1).unwrap();
    let mut exclusive = SnowflakeGenerator::new(2).unwrap();
    let mut peer = snowflaked::Generator::new(1);
    let mut rounds: [Vec<f64>; 6] = Default::default();
    for _ in 0..ROUNDS {
        let mut round = |slot: usize, n: u32, f: &mut dyn FnMut()| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            rounds[slot].push(start.elapsed().as_nanos() as f64 / f64::from(n));
        };
        round(0, 10_000, &mut || {
            consume(Sha256::digest(black_box(text.as_bytes())))
        });
        round(1, 10_000, &mut || {
            consume(generator.generate_body(black_box(&input), &Empty))
        });
        round(2, 10_000, &mut || {
            consume(generator.generate::<ElementId, _>(black_box(&input), &Empty))
        });
        // Snowflakes: one batch below the per-millisecond ceiling, on a fresh tick.
        next_tick();
        round(3, BATCH as u32, &mut || consume(ours.next_snowflake()));
        next_tick();
        round(4, BATCH as u32, &mut || {
            consume(exclusive.next_snowflake_mut())
        });
        next_tick();
        round(5, BATCH as u32, &mut || consume(peer.generate::<u64>()));
    }
    let (best, median): (Vec<f64>, Vec<f64>) = rounds
        .iter_mut()
        .map(|r| {
            r.sort_by(f64::total_cmp);
            (r[0], r[r.len() / 2])
        })
        .unzip();
    for (what, ns) in [("fastest", &best), ("median", &median)] {
        println!("interleaved, {what} of {ROUNDS} rounds (ns/op):");
        println!(
            "  sha256_of_input {:.1} | hash_id_body {:.1} ({:.2}x) | element_id {:.1} ({:.2}x)",
            ns[0],
            ns[1],
            ns[1] / ns[0],
            ns[2],
            ns[2] / ns[0]
        );
        println!(
            "  snowflaked {:.1} | typed_id {:.1} ({:.2}x) | typed_id_mut {:.1} ({:.2}x)",
            ns[5],
            ns[3],
            ns[3] / ns[5],
            ns[4],
            ns[4] / ns[5]
        );
    }
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
    let listing = std::env::args().any(|a| a == "--list");
    if !listing {
        sustained_report();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    if !listing && std::env::var_os("TYPED_ID_BENCH_INTERLEAVED").is_some() {
        interleaved();
    }
}
