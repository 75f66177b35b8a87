use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el")]
struct ElementId<T>(HashId, core::marker::PhantomData<T>);

fn main() {}
