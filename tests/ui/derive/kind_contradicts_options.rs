use typed_id::*;

type Counter = Seq;

#[derive(TypedId)]
#[typed_id(prefix = "WORK", kind = "seq", max_depth = 2)]
struct WorkItemId(Counter);

fn main() {
    let _ = WorkItemId::new(1);
}
