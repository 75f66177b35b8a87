// A misspelled `kind` is reported once: not again as an unrecognized field type.
use typed_id::*;

type Body = HashId;

#[derive(TypedId)]
#[typed_id(prefix = "el", knid = "hash")]
struct ElementId(Body);

fn main() {
    let _ = ElementId::parse("el-abc");
}
