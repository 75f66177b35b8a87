// `kind` says what the alias is; when it is wrong, the error is on the `kind` value,
// where the generated code takes the field as that body, not at every helper.
use typed_id::*;

type Body = HashId;

#[derive(TypedId)]
#[typed_id(prefix = "WORK", kind = "seq")]
struct WorkItemId(Body);

fn main() {
    let _ = WorkItemId::new(7).map(|id| id.value());
}
