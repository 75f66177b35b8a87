//! Parsing a prefixed hierarchical ID, against its peers in one criterion group:
//!
//! - `typed_id`: `ElementId::parse` (derived, prefix `el`, up to 3 child segments),
//!   which validates, checks every bound and stores the text inline;
//! - `uuid`: `uuid::Uuid::parse_str` on a hyphenated UUID (36 bytes);
//! - `regex`: `regex::Regex::is_match` with the grammar written by hand
//!   (`^el-[0-9a-z]{3,8}(\.[1-9][0-9]{0,9}){0,3}$`), which only validates;
//! - `regex_pattern`: `is_match` with `ElementId::PATTERN`, the exact grammar
//!   (child numbers bounded to `u32::MAX`).
//!
//! Run: `cargo bench -p typed-id --bench parse -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use regex::Regex;
use typed_id::{HashId, TypedId};

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId(HashId);

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

fn parse(c: &mut Criterion) {
    let hand = Regex::new(HAND_PATTERN).expect("valid regex");
    let exact = Regex::new(ElementId::PATTERN).expect("valid regex");
    for (_, input) in INPUTS {
        // Every contender must accept every input, or the comparison is meaningless.
        assert!(ElementId::parse(input).is_ok() && hand.is_match(input) && exact.is_match(input));
    }
    assert!(uuid::Uuid::parse_str(UUID).is_ok());

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
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
