use typed_id::{TypeIdUuid, TypedId};

#[derive(TypedId)]
#[typed_id(prefix = "user-v2")]
struct UserId(TypeIdUuid);

#[derive(TypedId)]
#[typed_id(prefix = "_user")]
struct LeadingUnderscore(TypeIdUuid);

fn main() {
    let _ = UserId::parse("user_01h455vb4pex5vsknk084sn02q");
    let _ = LeadingUnderscore::PATTERN;
}
