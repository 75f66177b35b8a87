use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el/x")]
struct ElementId(HashId);

fn main() {}
