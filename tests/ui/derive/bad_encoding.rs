use typed_id::*;

#[derive(TypedId)]
#[typed_id(prefix = "msg", encoding = "hex")]
struct MessageId(Snowflake);

fn main() {}
