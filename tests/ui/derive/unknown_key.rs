use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefx = "el")]
struct ElementId(HashId);

fn main() {}
