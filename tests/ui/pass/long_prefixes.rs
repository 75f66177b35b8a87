//! Any valid prefix works at any options: a value keeps only its body, so the longest
//! prefix (32 bytes) fits the deepest hash and the widest key, and sizes do not depend
//! on the prefix.
use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "order_line_item_fulfilment_event", max_len = 8, max_depth = 3)]
struct FulfilmentEventId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "order_line_item_fulfilment_event", width = 18)]
struct LongDisplayId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 3)]
struct WorkItemId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "order-line-item-fulfilment-event", len = 32)]
struct LongKey(HexKey);

fn main() {
    const { assert!(size_of::<FulfilmentEventId>() == size_of::<ElementId>()) };
    const { assert!(size_of::<ElementId>() <= 48) };
    const { assert!(size_of::<WorkItemId>() <= 24) };
    const { assert!(size_of::<LongDisplayId>() == size_of::<WorkItemId>()) };
    const { assert!(size_of::<LongKey>() <= 40) };

    let deepest = "order_line_item_fulfilment_event-zzzzzzzz.4294967295.4294967295.4294967295";
    let id = FulfilmentEventId::parse(deepest).unwrap();
    assert_eq!(id.to_text(), deepest);
    assert_eq!(id.to_string(), deepest);
    assert_eq!(id.depth(), 3);

    let n = LongDisplayId::new(Seq::MAX).unwrap();
    assert_eq!(n.to_text(), "order_line_item_fulfilment_event-999999999999999999");
    let key = LongKey::parse("order-line-item-fulfilment-event-8f4a2b0c9d1e7f3a8f4a2b0c9d1e7f3a");
    assert!(key.is_ok());
}
