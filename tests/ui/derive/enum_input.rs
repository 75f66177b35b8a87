use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el")]
enum ElementId {
    A(HashId),
}

fn main() {}
