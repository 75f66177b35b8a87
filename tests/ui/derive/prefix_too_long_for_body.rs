use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "element")]
struct ElementId(HashId);

fn main() {}
