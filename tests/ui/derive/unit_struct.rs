use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId;

fn main() {}
