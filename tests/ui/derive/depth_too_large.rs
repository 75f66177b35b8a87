use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el", max_depth = 4)]
struct ElementId(HashId);

fn main() {}
