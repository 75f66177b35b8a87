//! Throughput of `typed-id decode -`: IDs per second through the streaming path the
//! command runs on standard input (line splitting, parsing, decomposing, formatting,
//! buffered output), text and JSON lines.
//!
//! `cargo bench --workspace --all-features --bench decode`

use std::hint::black_box;
use std::io::{self, BufWriter};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typed_id::generator::Layout;
use typed_id_cli::decode::{Decoder, decode_stream};

const LINES: u64 = 100_000;

/// `LINES` distinct snowflakes, one per line, spread over a day and 1 024 workers.
fn input() -> Vec<u8> {
    let layout = Layout::DEFAULT;
    let mut text = String::new();
    for i in 0..LINES {
        let ms = 1_767_053_847_000 + i * 863;
        let id = layout
            .compose(ms, (i % 1024) as u32, 0, (i % 4096) as u32)
            .expect("in range");
        text.push_str(&id.as_u64().to_string());
        text.push('\n');
    }
    text.into_bytes()
}

fn decode(c: &mut Criterion) {
    let input = input();
    let decoder = Decoder::new(Layout::DEFAULT, false);
    let mut group = c.benchmark_group("decode_stream");
    group.throughput(Throughput::Elements(LINES));
    group.sample_size(20);
    for (name, json) in [("text", false), ("json", true)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut out = BufWriter::with_capacity(64 * 1024, io::sink());
                let counts = decode_stream(&decoder, json, &input[..], &mut out, &mut |_, _| {})
                    .expect("sink");
                assert_eq!(counts.decoded, LINES);
                black_box(counts)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
