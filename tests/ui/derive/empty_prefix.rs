use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "")]
struct ElementId(HashId);

fn main() {}
