// A shape error is reported once; the kind-independent surface is still emitted (for
// generic types too), so the uses below add no errors of their own.
use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId {
    body: HashId,
}

#[derive(TypedId)]
#[typed_id(prefix = "node")]
struct NodeId<T>(HashId, core::marker::PhantomData<T>);

fn main() -> Result<(), ParseIdError> {
    let element: ElementId = "el-abc".parse()?;
    let node = NodeId::<u8>::parse("node-abc")?;
    println!("{element} {node:?} {} {}", ElementId::PATTERN, NodeId::<u8>::PREFIX);
    Ok(())
}
