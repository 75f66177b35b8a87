//! Parsing a prefixed hierarchical ID, against its peers in one criterion group:
//!
//! - `typed_id`: `ElementId::parse` (derived, prefix `el`, up to 3 child segments),
//!   which validates, checks every bound and stores the text inline;
//! - `uuid`: `uuid::Uuid::parse_str` on a hyphenated UUID (36 bytes);
//! - `regex`: `regex::Regex::is_match` with the grammar written by hand
//!   (`^el-[0-9a-z]{3,8}(\.[1-9][0-9]{0,9}){0,3}$`), which only validates;
//! - `regex_pattern`: `is_match` with `ElementId::PATTERN`, the exact grammar
//!   (child numbers bounded to `u32::MAX`);
//! - `validate_loop`: a hand-written byte loop that checks exactly the parser's grammar
//!   and bounds (prefix `el-`, 3–8 lowercase base36, up to 3 `.N` children of
//!   1–4294967295 without leading zeros) and returns a `bool`, building nothing: the
//!   floor for any parser that must look at every byte;
//! - snowflakes (`MessageId::parse("msg-1767053847123456789")`), display IDs
//!   (`WorkItemId::parse("WORK-042")`) and `ulid::Ulid::from_string`;
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
use typed_id::{DynTypeId, HashId, Seq, Snowflake, TypeIdUuid, TypedId};

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "msg")]
struct MessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 3)]
struct WorkItemId(Seq);

const SNOWFLAKE: &str = "msg-1767053847123456789";
const DISPLAY: &str = "WORK-042";
const ULID: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

/// Whether `s` is an `ElementId` (default options: hash of 3–8 lowercase base36, up to
/// 3 children of 1–4294967295 without a leading zero), checked byte by byte without
/// building anything or reporting where it fails.
#[inline(never)]
fn validate_loop(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 6 || b.len() > 3 + 8 + 3 * 11 || &b[..3] != b"el-" {
        return false;
    }
    let mut i = 3;
    while i < b.len() && (b[i].is_ascii_digit() || b[i].is_ascii_lowercase()) {
        i += 1;
    }
    if !(6..=11).contains(&i) {
        return false;
    }
    let mut depth = 0;
    while i < b.len() {
        if b[i] != b'.' || depth == 3 {
            return false;
        }
        i += 1;
        depth += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &b[start..i];
        let in_range = match digits.len() {
            1..=9 => true,
            // Equal-length digit strings compare like their numbers.
            10 => digits <= b"4294967295".as_slice(),
            _ => false,
        };
        if !in_range || digits[0] == b'0' {
            return false;
        }
    }
    true
}

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
        assert!(validate_loop(input));
    }
    // The loop refuses what the parser refuses.
    for bad in [
        "el-a3",
        "el-A3f8",
        "el-a3f8.0",
        "el-a3f8.01",
        "el-a3f8.4294967296",
        "el-a3f8.1.2.3.4",
        "el-a3f8e9x12",
        "el-a3f8.",
    ] {
        assert!(
            ElementId::parse(bad).is_err() && !validate_loop(bad),
            "{bad}"
        );
    }
    assert!(validate_loop("el-a3f8.4294967295") && ElementId::parse("el-a3f8.4294967295").is_ok());
    assert!(MessageId::parse(SNOWFLAKE).is_ok() && WorkItemId::parse(DISPLAY).is_ok());
    assert!(ulid::Ulid::from_string(ULID).is_ok());
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
        group.bench_with_input(BenchmarkId::new("validate_loop", name), input, |b, s| {
            b.iter(|| consume(validate_loop(black_box(s))));
        });
    }
    group.bench_with_input(
        BenchmarkId::new("typed_id", "snowflake"),
        SNOWFLAKE,
        |b, s| {
            b.iter(|| consume(MessageId::parse(black_box(s))));
        },
    );
    group.bench_with_input(BenchmarkId::new("typed_id", "display"), DISPLAY, |b, s| {
        b.iter(|| consume(WorkItemId::parse(black_box(s))));
    });
    group.bench_with_input(BenchmarkId::new("ulid", "canonical"), ULID, |b, s| {
        b.iter(|| consume(ulid::Ulid::from_string(black_box(s))));
    });
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
struct Best([f64; 4]);

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
        "{:<24} {:>9} {:>9} {:>9} {:>9} {:>11} {:>12} {:>12}",
        "input", "typed_id", "uuid", "regex", "loop", "typed/uuid", "regex/typed", "typed/loop"
    );
    for (_, input) in INPUTS {
        let mut best = Best([f64::MAX; 4]);
        for _ in 0..500 {
            let times = [
                round(input, |s| consume(ElementId::parse(s))),
                round(UUID, |s| consume(uuid::Uuid::parse_str(s))),
                round(input, |s| consume(hand.is_match(s))),
                round(input, |s| consume(validate_loop(s))),
            ];
            for (b, t) in best.0.iter_mut().zip(times) {
                *b = b.min(t);
            }
        }
        let [typed, uuid, regex, lp] = best.0;
        println!(
            "{input:<24} {typed:>9.2} {uuid:>9.2} {regex:>9.2} {lp:>9.2} {:>11.2} {:>12.2} {:>12.2}",
            typed / uuid,
            regex / typed,
            typed / lp
        );
    }
    let mut best = [f64::MAX; 3];
    for _ in 0..500 {
        let times = [
            round(SNOWFLAKE, |s| consume(MessageId::parse(s))),
            round(DISPLAY, |s| consume(WorkItemId::parse(s))),
            round(ULID, |s| consume(ulid::Ulid::from_string(s))),
        ];
        for (b, t) in best.iter_mut().zip(times) {
            *b = b.min(t);
        }
    }
    println!(
        "\nsnowflake {:.2} ns, display {:.2} ns, ulid {:.2} ns (fastest of 500 rounds)",
        best[0], best[1], best[2]
    );
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
