use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 0)]
struct WorkItemId(Seq);

fn main() {}
