use typed_id::*;

type Body = typed_id::HashId;

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId(Body);

fn main() {
    let _ = ElementId::parse("el-a3f8e9");
}
