use typed_id::*;

// 33 bytes: one more than any prefix may have, whatever the body.
#[derive(TypedId)]
#[typed_id(prefix = "order_line_item_fulfilment_event1")]
struct FulfilmentEventId(HashId);

fn main() {}
