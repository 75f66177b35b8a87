use typed_id::{HashId, HexKey, Seq, Snowflake, TypedId};

#[derive(TypedId)]
#[typed_id(prefix = "el", accept = ["elem"])]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 3)]
struct WorkItemId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "msg", encoding = "base62")]
struct MessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "odin-PS")]
struct OdinKey(HexKey);

#[test]
fn smoke() {
    let id = ElementId::parse("el-a3f8e9.1.2").unwrap();
    assert_eq!(id.as_str(), "el-a3f8e9.1.2");
    assert_eq!(id.parent().unwrap().to_string(), "el-a3f8e9.1");
    assert_eq!(
        ElementId::parse("elem-a3f8e9").unwrap().as_str(),
        "el-a3f8e9"
    );
    println!("{}", ElementId::PATTERN);
    let e = ElementId::parse("El-a3f8e9").unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"invalid ElementId "El-a3f8e9": expected prefix "el-" at byte 0"#
    );
    assert_eq!(format!("{id:?}"), r#"ElementId("el-a3f8e9.1.2")"#);
    let w = WorkItemId::new(42).unwrap();
    assert_eq!(w.as_str(), "WORK-042");
    let m = MessageId::from_u64(1767053847123456789).unwrap();
    println!("{m} {}", MessageId::PATTERN);
    assert_eq!(MessageId::parse(&m.to_string()).unwrap(), m);
    let k = OdinKey::parse("odin-PS-8f4a2b").unwrap();
    assert_eq!(k.as_str(), "odin-PS-8f4a2b");
}
