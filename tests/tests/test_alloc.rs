//! Allocation-free paths, counted by a global allocator: parsing every kind, `to_text()`,
//! `Display` into a reused `String` or a stack sink, hierarchy navigation, serde into a
//! reused buffer. Each check runs the code twice and counts only the second run, so
//! buffers that grow on first use are not mistaken for per-call allocations; a test
//! whose code did allocate would see a non-zero count (`counts_an_allocation` makes sure
//! the counter works).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write as _;

use typed_id::{HashId, HexKey, Seq, Snowflake, TypeIdUuid, TypedId};

/// The system allocator, counting allocations per thread (tests run on several threads).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to `System`; the counter is a const-initialized thread-local, which
// itself never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by the second of two runs of `f` on this thread.
fn allocations(mut f: impl FnMut()) -> usize {
    f();
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[derive(TypedId)]
#[typed_id(prefix = "el", accept = ["elem"])]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "order_line_item_fulfilment_event")]
struct FulfilmentEventId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 3)]
struct WorkItemId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "msg")]
struct MessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "msg", encoding = "base62")]
struct ShortMessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "odin-PS")]
struct OdinKey(HexKey);

#[derive(TypedId)]
#[typed_id(prefix = "user")]
struct UserId(TypeIdUuid);

#[test]
fn counts_an_allocation() {
    let n = allocations(|| {
        drop(std::hint::black_box(
            ElementId::parse("el-a3f8").unwrap().to_string(),
        ))
    });
    assert_eq!(n, 1, "to_string() allocates its String once");
}

#[test]
fn parsing_every_kind_allocates_nothing() {
    let n = allocations(|| {
        std::hint::black_box(ElementId::parse("el-a3f8e9.1.2").unwrap());
        std::hint::black_box(ElementId::parse("elem-a3f8e9.1.2").unwrap());
        std::hint::black_box(
            FulfilmentEventId::parse(
                "order_line_item_fulfilment_event-zzzzzzzz.4294967295.4294967295.4294967295",
            )
            .unwrap(),
        );
        std::hint::black_box(WorkItemId::parse("WORK-042").unwrap());
        std::hint::black_box(MessageId::parse("msg-1767053847123456789").unwrap());
        std::hint::black_box(ShortMessageId::parse("msg-1BvP7xZ5J1t").unwrap());
        std::hint::black_box(OdinKey::parse("odin-PS-8f4a2b").unwrap());
        std::hint::black_box(UserId::parse("user_01h455vb4pex5vsknk084sn02q").unwrap());
        std::hint::black_box(HashId::parse("a3f8e9.1").unwrap());
    });
    assert_eq!(n, 0);
}

#[test]
fn text_without_allocating() {
    let element = ElementId::parse("el-a3f8e9.1.2").unwrap();
    let long = FulfilmentEventId::parse(
        "order_line_item_fulfilment_event-zzzzzzzz.4294967295.4294967295.4294967295",
    )
    .unwrap();
    let work = WorkItemId::new(42).unwrap();
    let message = MessageId::from_u64(1_767_053_847_123_456_789).unwrap();
    let short = ShortMessageId::from_u64(1_767_053_847_123_456_789).unwrap();
    let key = OdinKey::parse("odin-PS-8f4a2b").unwrap();
    let user = UserId::parse("user_01h455vb4pex5vsknk084sn02q").unwrap();

    let mut total = 0;
    let n = allocations(|| {
        total += element.to_text().len() + long.to_text().len() + work.to_text().len();
        total += message.to_text().len() + short.to_text().len();
        total += key.to_text().len() + user.to_text().len();
    });
    assert_eq!(n, 0, "to_text() is a stack value");
    assert!(total > 0);

    // `Display` into a `String` that already has room, reused.
    let mut reused = String::with_capacity(128);
    let n = allocations(|| {
        for id in [
            &element as &dyn std::fmt::Display,
            &long,
            &work,
            &message,
            &short,
            &key,
            &user,
        ] {
            reused.clear();
            write!(reused, "{id}").unwrap();
        }
    });
    assert_eq!(n, 0, "writing through Display into a reused String");
    assert_eq!(reused, "user_01h455vb4pex5vsknk084sn02q");

    // Hierarchy navigation builds values, never text on the heap.
    let n = allocations(|| {
        let parent = element.parent().unwrap();
        std::hint::black_box(parent.child(7).unwrap());
        std::hint::black_box(element.root().is_ancestor_of(&element));
        std::hint::black_box(element.ancestors().count());
        std::hint::black_box(element.body());
    });
    assert_eq!(n, 0);
}

#[test]
fn serde_into_a_reused_buffer_allocates_nothing() {
    let element = ElementId::parse("el-a3f8e9.1.2").unwrap();
    let message = MessageId::from_u64(1_767_053_847_123_456_789).unwrap();
    let mut out = Vec::with_capacity(256);
    let n = allocations(|| {
        out.clear();
        serde_json::to_writer(&mut out, &element).unwrap();
        serde_json::to_writer(&mut out, &message).unwrap();
    });
    assert_eq!(n, 0);
    assert_eq!(out, br#""el-a3f8e9.1.2""msg-1767053847123456789""#);
}
