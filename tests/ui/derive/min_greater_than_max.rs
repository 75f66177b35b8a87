use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el", min_len = 6, max_len = 5)]
struct ElementId(HashId);

fn main() {}
