use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId {
    body: HashId,
}

fn main() {}
