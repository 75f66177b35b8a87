use typed_id::*;

#[derive(TypedId)]
#[typed_id(max_depth = 2)]
struct ElementId(HashId);

fn main() {}
