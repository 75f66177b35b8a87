use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "el", width = 3)]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "WORK", max_depth = 1)]
struct WorkItemId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "msg", len = 6)]
struct MessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "key", encoding = "base62")]
struct Key(HexKey);

fn main() {}
