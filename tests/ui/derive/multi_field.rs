use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId(HashId, u32);

fn main() {}
