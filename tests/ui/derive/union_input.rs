use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el")]
union ElementId {
    a: u64,
}

fn main() {}
