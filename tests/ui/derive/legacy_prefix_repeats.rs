use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el", accept = ["elem", "el", "elem"])]
struct ElementId(HashId);

fn main() {}
