//! Writing IDs as text, against peers in one run:
//!
//! - `to_string()` of every kind: `MessageId` (snowflake, decimal), `ShortMessageId`
//!   (snowflake, base62), `ElementId` (`el-a3f8e9.1.2`), `WorkItemId` (`WORK-042`),
//!   `UserId` (TypeID), against `uuid::Uuid` (hyphenated), `ulid::Ulid` and
//!   `type_safe_id::TypeSafeId`;
//! - `reused`: `write!` of a `MessageId` into a `String` cleared and reused (no
//!   allocation after the first), and `to_text()`, its text on the stack;
//! - `decimal`: the digits of a snowflake-sized `u64` by `typed_id::codec::encode_decimal`
//!   (the hand-written code every snowflake display uses) against the `itoa` crate and
//!   `core::fmt` (`write!` into a stack buffer).
//!
//! Run: `cargo bench -p typed-id --bench display -- --warm-up-time 1 --measurement-time 2`;
//! with `TYPED_ID_BENCH_INTERLEAVED=1` the binary then also runs the contenders in
//! alternating rounds and prints each one's fastest round (same-moment ratios).

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use type_safe_id::{StaticType, TypeSafeId};
use typed_id::{HashId, Seq, Snowflake, TypeIdUuid, TypedId, codec};

#[derive(TypedId)]
#[typed_id(prefix = "msg")]
struct MessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "msg", encoding = "base62")]
struct ShortMessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "el", max_depth = 3)]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 3)]
struct WorkItemId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "user")]
struct UserId(TypeIdUuid);

#[derive(Default)]
struct User;

impl StaticType for User {
    const TYPE: &'static str = "user";
}

const SNOWFLAKE: u64 = 1_767_053_847_123_456_789;
const TYPEID: &str = "user_01h455vb4pex5vsknk084sn02q";

struct Ids {
    message: MessageId,
    short: ShortMessageId,
    element: ElementId,
    work: WorkItemId,
    user: UserId,
    uuid: uuid::Uuid,
    ulid: ulid::Ulid,
    tsid: TypeSafeId<User>,
}

fn ids() -> Ids {
    let ids = Ids {
        message: MessageId::from_u64(SNOWFLAKE).expect("valid snowflake"),
        short: ShortMessageId::from_u64(SNOWFLAKE).expect("valid snowflake"),
        element: ElementId::parse("el-a3f8e9.1.2").expect("valid ID"),
        work: WorkItemId::new(42).expect("valid number"),
        user: UserId::parse(TYPEID).expect("valid TypeID"),
        uuid: uuid::Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").expect("uuid"),
        ulid: ulid::Ulid::from_string("01ARZ3NDEKTSV4RRFFQ69G5FAV").expect("ulid"),
        tsid: TYPEID.parse().expect("type-safe-id"),
    };
    // Each contender writes what it should, or the comparison is meaningless.
    assert_eq!(ids.message.to_string(), format!("msg-{SNOWFLAKE}"));
    assert_eq!(ids.message.to_text().as_str(), format!("msg-{SNOWFLAKE}"));
    assert_eq!(
        ids.short.to_string(),
        format!("msg-{}", codec::encode_base62(SNOWFLAKE))
    );
    assert_eq!(ids.element.to_string(), "el-a3f8e9.1.2");
    assert_eq!(ids.work.to_string(), "WORK-042");
    assert_eq!(ids.user.to_string(), TYPEID);
    assert_eq!(ids.tsid.to_string(), TYPEID);
    assert_eq!(
        codec::encode_decimal(SNOWFLAKE).as_str(),
        SNOWFLAKE.to_string()
    );
    assert_eq!(itoa::Buffer::new().format(SNOWFLAKE), SNOWFLAKE.to_string());
    ids
}

/// `v`'s digits through `core::fmt`, into a stack buffer.
fn fmt_decimal(v: u64) -> usize {
    struct Stack([u8; 24], usize);
    impl std::fmt::Write for Stack {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0[self.1..self.1 + s.len()].copy_from_slice(s.as_bytes());
            self.1 += s.len();
            Ok(())
        }
    }
    let mut out = Stack([0; 24], 0);
    let _ = write!(out, "{v}");
    black_box(&out.0);
    out.1
}

/// A named contender: each call writes one text and lets it escape.
type Contender<'a> = (&'static str, Box<dyn Fn() + 'a>);

/// The contenders, by name.
fn contenders<'a>(ids: &'a Ids, reused: &'a std::cell::RefCell<String>) -> Vec<Contender<'a>> {
    vec![
        (
            "to_string/message",
            Box::new(|| drop(black_box(black_box(&ids.message).to_string()))),
        ),
        (
            "to_string/message_base62",
            Box::new(|| drop(black_box(black_box(&ids.short).to_string()))),
        ),
        (
            "to_string/element",
            Box::new(|| drop(black_box(black_box(&ids.element).to_string()))),
        ),
        (
            "to_string/work_item",
            Box::new(|| drop(black_box(black_box(&ids.work).to_string()))),
        ),
        (
            "to_string/typeid",
            Box::new(|| drop(black_box(black_box(&ids.user).to_string()))),
        ),
        (
            "to_string/uuid",
            Box::new(|| drop(black_box(black_box(&ids.uuid).to_string()))),
        ),
        (
            "to_string/ulid",
            Box::new(|| drop(black_box(black_box(&ids.ulid).to_string()))),
        ),
        (
            "to_string/type_safe_id",
            Box::new(|| drop(black_box(black_box(&ids.tsid).to_string()))),
        ),
        (
            "reused/message_write",
            Box::new(|| {
                let mut s = reused.borrow_mut();
                s.clear();
                let _ = write!(s, "{}", black_box(&ids.message));
                black_box(s.as_str());
            }),
        ),
        (
            "reused/message_to_text",
            Box::new(|| {
                black_box(black_box(&ids.message).to_text());
            }),
        ),
        (
            "decimal/typed_id",
            Box::new(|| {
                black_box(codec::encode_decimal(black_box(SNOWFLAKE)));
            }),
        ),
        (
            "decimal/itoa",
            Box::new(|| {
                let mut buf = itoa::Buffer::new();
                black_box(buf.format(black_box(SNOWFLAKE)));
            }),
        ),
        (
            "decimal/core_fmt",
            Box::new(|| {
                black_box(fmt_decimal(black_box(SNOWFLAKE)));
            }),
        ),
    ]
}

fn display(c: &mut Criterion) {
    let ids = ids();
    let reused = std::cell::RefCell::new(String::with_capacity(64));
    let mut group = c.benchmark_group("display");
    for (name, f) in contenders(&ids, &reused) {
        group.bench_function(name, |b| b.iter(&f));
    }
    group.finish();
}

/// Alternating rounds of every contender; the fastest round of each, in ns per call.
fn interleaved() {
    const CALLS: u32 = 20_000;
    let ids = ids();
    let reused = std::cell::RefCell::new(String::with_capacity(64));
    let contenders = contenders(&ids, &reused);
    let mut best = vec![f64::MAX; contenders.len()];
    for _ in 0..300 {
        for ((_, f), best) in contenders.iter().zip(&mut best) {
            let start = Instant::now();
            for _ in 0..CALLS {
                f();
            }
            *best = best.min(start.elapsed().as_secs_f64() * 1e9 / f64::from(CALLS));
        }
    }
    let uuid = contenders
        .iter()
        .position(|(n, _)| *n == "to_string/uuid")
        .map_or(1.0, |i| best[i]);
    let itoa = contenders
        .iter()
        .position(|(n, _)| *n == "decimal/itoa")
        .map_or(1.0, |i| best[i]);
    println!(
        "\ninterleaved rounds, fastest of 300 per contender (ns/op; ratio to uuid's to_string, decimal rows to itoa):"
    );
    for ((name, _), ns) in contenders.iter().zip(best) {
        let base = if name.starts_with("decimal/") {
            itoa
        } else {
            uuid
        };
        println!("{name:<28} {ns:>8.2} {:>8.2}", ns / base);
    }
}

criterion_group!(benches, display);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::var_os("TYPED_ID_BENCH_INTERLEAVED").is_some() {
        interleaved();
    }
}
