use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el", colour = "blue")]
struct ElementId(HashId);

fn main() {}
