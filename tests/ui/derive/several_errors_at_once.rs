use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "e l", max_depth = 9, widht = 2)]
struct ElementId(HashId);

fn main() {}
