// One typo in the attribute is one error: the derive still expands, with defaults, so the
// code that uses the type below compiles against the usual API instead of failing at
// every use.
use std::collections::HashSet;

use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el", max_dept = 2)]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 0)]
struct WorkItemId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "m sg", encoding = "base62")]
struct MessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "key", len = 6, max_depth = 1)]
struct Key(HexKey);

fn describe<T: TypedId>() -> &'static str {
    T::PATTERN
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let id = ElementId::parse("el-a3f8e9.1")?;
    let same: ElementId = "el-a3f8e9.1".parse()?;
    let copy = id;
    assert_eq!(id, same);
    assert!(copy.root().is_ancestor_of(&id));
    println!("{id} {id:?} {} {} {}", id.to_text(), ElementId::PREFIX, ElementId::PATTERN);
    let set: HashSet<ElementId> = [id, same].into_iter().collect();
    let work = WorkItemId::new(42)?;
    println!("{} {} {}", set.len(), work.value(), describe::<WorkItemId>());
    let message = MessageId::from_u64(42)?;
    let key = Key::generate()?;
    println!("{} {message} {} {}", message.as_u64(), key.to_text(), describe::<Key>());
    Ok(())
}
