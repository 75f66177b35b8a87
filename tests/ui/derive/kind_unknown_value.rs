use typed_id::*;

type Body = HashId;

#[derive(TypedId)]
#[typed_id(prefix = "el", kind = "hsah")]
struct ElementId(Body);

#[derive(TypedId)]
#[typed_id(prefix = "key", kind = "HexKey")]
struct Key(typed_id::HexKey);

fn main() {}
