// When the derive cannot tell the body (the field is not an ID body, or `kind` is
// unknown), it reports that once and still emits the part of the API every kind shares,
// so these uses add no errors of their own.
use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId(String);

type Body = HashId;

#[derive(TypedId)]
#[typed_id(prefix = "node", kind = "hashid")]
struct NodeId(Body);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let id = ElementId::parse("el-a3f8e9")?;
    let other: ElementId = "el-a3f8e9".parse()?;
    let third = ElementId::try_from("el-a3f8e9")?;
    assert!(id == other && other <= third);
    let cloned = id.clone();
    println!("{cloned} {id:?} {} {}", ElementId::PREFIX, ElementId::PATTERN);
    let node = NodeId::parse("node-abc")?;
    let copy = node;
    println!("{node} {copy:?} {}", NodeId::PATTERN);
    Ok(())
}
