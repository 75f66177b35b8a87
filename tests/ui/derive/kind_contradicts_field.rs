use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el", kind = "seq")]
struct ElementId(HashId);

fn main() {
    let _ = ElementId::parse("el-abc").map(|id| id.depth());
}
