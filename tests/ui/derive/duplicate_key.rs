use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el", prefix = "elem")]
struct ElementId(HashId);

fn main() {}
