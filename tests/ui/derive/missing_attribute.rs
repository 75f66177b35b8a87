use typed_id::*;

#[derive(TypedId)]
struct ElementId(HashId);

fn main() {}
