// An invalid or missing prefix is reported once; a placeholder stands in for it, and
// defaults for conflicting lengths, so the uses below add no errors of their own.
use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el!", accept = ["id", "elem"])]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(accept = ["id"], min_len = 7, max_len = 4)]
struct NodeId(HashId);

fn main() {
    let _ = ElementId::parse("elem-abc").map(|id| id.depth());
    let _ = NodeId::parse("id-abc").map(|id| id.root());
    let _ = (ElementId::PATTERN, NodeId::PATTERN, <NodeId as TypedId>::MAX_LEN);
}
