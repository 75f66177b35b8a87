//! Parsing a prefixed hierarchical ID, against its peers in one criterion group:
//!
//! - `typed_id`: `ElementId::parse` (derived, prefix `el`, up to 3 child segments),
//!   which validates, checks every bound and stores the text inline;
//! - `uuid`: `uuid::Uuid::parse_str` on a hyphenated UUID (36 bytes);
//! - `regex`: `regex::Regex::is_match` with the grammar written by hand
//!   (`^el-[0-9a-z]{3,8}(\.[1-9][0-9]{0,9}){0,3}$`), which only validates;
//! - `regex_pattern`: `is_match` with `ElementId::PATTERN`, the exact grammar
//!   (child numbers bounded to `u32::MAX`);
//! - TypeIDs (`user_01h455vb4pex5vsknk084sn02q`): `typed_id` (`UserId::parse`, a derived
//!   type over `TypeIdUuid`) and `typed_id_dyn` (`DynTypeId::parse`, any prefix) against
//!   `type_safe_id` (`TypeSafeId<User>` with a static type, and `TypeSafeId<DynamicType>`).
//!
//! Run: `cargo bench -p typed-id --bench parse -- --warm-up-time 1 --measurement-time 3`
//!
//! Criterion measures one contender after the other, so on a shared machine a
//! neighbour's burst can land on one of them only. With `TYPED_ID_BENCH_INTERLEAVED=1`
//! the binary then also runs the contenders in alternating rounds and prints each
//! one's fastest round: same-moment ratios.

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, criterion_group};
use regex::Regex;
use type_safe_id::{DynamicType, StaticType, TypeSafeId};
use typed_id::{DynTypeId, HashId, TypeIdUuid, TypedId};

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "user")]
struct UserId(TypeIdUuid);

/// type-safe-id's static type for the same prefix.
#[derive(Default)]
struct User;

impl StaticType for User {
    const TYPE: &'static str = "user";
}

const TYPEID: &str = "user_01h455vb4pex5vsknk084sn02q";

/// Root, one child, two children (the issue's example), three multi-digit children.
const INPUTS: [(&str, &str); 4] = [
    ("root", "el-a3f8e9"),
    ("depth1", "el-a3f8e9.1"),
    ("depth2", "el-a3f8e9.1.2"),
    ("depth3", "el-a3f8e9.12.345.6789"),
];

const UUID: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

/// The grammar as one would write it by hand.
const HAND_PATTERN: &str = r"^el-[0-9a-z]{3,8}(\.[1-9][0-9]{0,9}){0,3}$";

/// Keeps a result alive without reading or copying it: its address escapes, so it must
/// be fully written to memory. Criterion 0.5 would otherwise pass the returned value
/// through its own `black_box`, a byte-by-byte volatile read (112 loads for a
/// `Result<ElementId, ParseIdError>`, about 24 for uuid's), and a by-value
/// `std::hint::black_box` copies it; both measure the harness, not the parsers.
#[inline(always)]
fn consume<T>(value: T) {
    black_box(&value);
}

fn regexes() -> (Regex, Regex) {
    let hand = Regex::new(HAND_PATTERN).expect("valid regex");
    let exact = Regex::new(ElementId::PATTERN).expect("valid regex");
    for (_, input) in INPUTS {
        // Every contender must accept every input, or the comparison is meaningless.
        assert!(ElementId::parse(input).is_ok() && hand.is_match(input) && exact.is_match(input));
    }
    assert!(uuid::Uuid::parse_str(UUID).is_ok());
    assert!(UserId::parse(TYPEID).is_ok() && DynTypeId::parse(TYPEID).is_ok());
    assert!(TYPEID.parse::<TypeSafeId<User>>().is_ok());
    assert!(TYPEID.parse::<TypeSafeId<DynamicType>>().is_ok());
    (hand, exact)
}

fn parse(c: &mut Criterion) {
    let (hand, exact) = regexes();
    let mut group = c.benchmark_group("parse");
    for (name, input) in INPUTS {
        group.bench_with_input(BenchmarkId::new("typed_id", name), input, |b, s| {
            b.iter(|| consume(ElementId::parse(black_box(s))));
        });
        group.bench_with_input(BenchmarkId::new("regex", name), input, |b, s| {
            b.iter(|| consume(hand.is_match(black_box(s))));
        });
        group.bench_with_input(BenchmarkId::new("regex_pattern", name), input, |b, s| {
            b.iter(|| consume(exact.is_match(black_box(s))));
        });
    }
    group.bench_with_input(BenchmarkId::new("uuid", "hyphenated"), UUID, |b, s| {
        b.iter(|| consume(uuid::Uuid::parse_str(black_box(s))));
    });
    group.bench_with_input(BenchmarkId::new("typed_id", "typeid"), TYPEID, |b, s| {
        b.iter(|| consume(UserId::parse(black_box(s))));
    });
    group.bench_with_input(
        BenchmarkId::new("typed_id_dyn", "typeid"),
        TYPEID,
        |b, s| {
            b.iter(|| consume(DynTypeId::parse(black_box(s))));
        },
    );
    group.bench_with_input(
        BenchmarkId::new("type_safe_id", "typeid"),
        TYPEID,
        |b, s| {
            b.iter(|| consume(black_box(s).parse::<TypeSafeId<User>>()));
        },
    );
    group.bench_with_input(
        BenchmarkId::new("type_safe_id_dyn", "typeid"),
        TYPEID,
        |b, s| {
            b.iter(|| consume(black_box(s).parse::<TypeSafeId<DynamicType>>()));
        },
    );
    group.finish();
}

/// Nanoseconds per call of the fastest of the timed rounds so far, per contender.
#[derive(Clone, Copy)]
struct Best([f64; 3]);

/// Times one round of calls.
fn round(input: &str, f: impl Fn(&str)) -> f64 {
    const CALLS: u32 = 20_000;
    let start = Instant::now();
    for _ in 0..CALLS {
        f(black_box(input));
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(CALLS)
}

/// Alternating rounds of typed-id, uuid and regex; the fastest round of each.
fn interleaved() {
    let (hand, _) = regexes();
    println!("\ninterleaved rounds, fastest of 500 per contender (ns/op):");
    println!(
        "{:<24} {:>9} {:>9} {:>9} {:>11} {:>12}",
        "input", "typed_id", "uuid", "regex", "typed/uuid", "regex/typed"
    );
    for (_, input) in INPUTS {
        let mut best = Best([f64::MAX; 3]);
        for _ in 0..500 {
            let times = [
                round(input, |s| consume(ElementId::parse(s))),
                round(UUID, |s| consume(uuid::Uuid::parse_str(s))),
                round(input, |s| consume(hand.is_match(s))),
            ];
            for (b, t) in best.0.iter_mut().zip(times) {
                *b = b.min(t);
            }
        }
        let [typed, uuid, regex] = best.0;
        println!(
            "{input:<24} {typed:>9.2} {uuid:>9.2} {regex:>9.2} {:>11.2} {:>12.2}",
            typed / uuid,
            regex / typed
        );
    }
    println!("\ninterleaved TypeID rounds, fastest of 500 per contender (ns/op):");
    println!(
        "{:<12} {:>9} {:>9} {:>12} {:>12} {:>10} {:>10}",
        "", "UserId", "DynTypeId", "tsid<User>", "tsid<Dyn>", "static", "dynamic"
    );
    let mut best = [f64::MAX; 4];
    for _ in 0..500 {
        let times = [
            round(TYPEID, |s| consume(UserId::parse(s))),
            round(TYPEID, |s| consume(DynTypeId::parse(s))),
            round(TYPEID, |s| consume(s.parse::<TypeSafeId<User>>())),
            round(TYPEID, |s| consume(s.parse::<TypeSafeId<DynamicType>>())),
        ];
        for (b, t) in best.iter_mut().zip(times) {
            *b = b.min(t);
        }
    }
    let [typed, dynamic, tsid, tsid_dyn] = best;
    println!(
        "{:<12} {typed:>9.2} {dynamic:>9.2} {tsid:>12.2} {tsid_dyn:>12.2} {:>10.2} {:>10.2}",
        "typeid",
        typed / tsid,
        dynamic / tsid_dyn
    );
}

criterion_group!(benches, parse);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::var_os("TYPED_ID_BENCH_INTERLEAVED").is_some() {
        interleaved();
    }
}
