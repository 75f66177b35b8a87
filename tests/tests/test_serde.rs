//! serde: derived IDs as their canonical strings, errors that name the type, and the
//! number mode of snowflake types.

use serde::de::IntoDeserializer as _;
use serde::de::value::{
    BorrowedStrDeserializer, BytesDeserializer, Error as ValueError, StrDeserializer,
    StringDeserializer,
};
use serde::{Deserialize, Serialize};
use typed_id::{HashId, HexKey, Seq, Snowflake, TypedId};

#[derive(TypedId)]
#[typed_id(prefix = "el", accept = ["elem"])]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "msg")]
struct MessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "evt", encoding = "base62")]
struct EventId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "msg", serde = "number")]
struct NumberedMessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 3)]
struct WorkItemId(Seq);

/// Number mode with a prefix that starts with a digit, like the bare numbers it also
/// reads, and a legacy prefix that does too.
#[derive(TypedId)]
#[typed_id(prefix = "9x", accept = ["7y"], serde = "number")]
struct NineId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "4ev", encoding = "base62", serde = "number")]
struct FourEventId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "odin-PS")]
struct InstanceId(HexKey);

/// A prefix longer than the derive allows (32 bytes) and than the stack buffer
/// snowflakes are rendered into (64 bytes), implemented by hand to reach the fallback.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct LongPrefixId(Snowflake);

const LONG_PREFIX: &str =
    "a-very-long-prefix-that-the-derive-would-reject-and-no-stack-buffer-fits";

impl TypedId for LongPrefixId {
    type Body = Snowflake;
    const NAME: &'static str = "LongPrefixId";
    const PREFIX: &'static str = LONG_PREFIX;
    const ACCEPT: &'static [&'static str] = &[];
    const SPEC: typed_id::SnowflakeSpec = typed_id::SnowflakeSpec::DECIMAL;
    const PATTERN: &'static str = "(not used)";
    const MAX_LEN: usize = LONG_PREFIX.len() + 1 + 19;

    fn from_body_unchecked(body: Snowflake) -> Self {
        LongPrefixId(body)
    }

    fn body_ref(&self) -> &Snowflake {
        &self.0
    }
}

impl std::fmt::Display for LongPrefixId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        typed_id::__private::fmt_display(self, f)
    }
}

impl std::fmt::Debug for LongPrefixId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        typed_id::__private::fmt_debug(self, f)
    }
}

typed_id::__impl_serde!(LongPrefixId);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Element {
    id: ElementId,
    parent: Option<ElementId>,
    work: WorkItemId,
    message: MessageId,
    instance: InstanceId,
    children: Vec<ElementId>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Message {
    id: NumberedMessageId,
    event: EventId,
}

fn el(s: &str) -> ElementId {
    ElementId::parse(s).unwrap()
}

#[test]
fn every_kind_serializes_as_its_canonical_string() {
    let cases: Vec<(String, &str)> = vec![
        (
            serde_json::to_string(&el("el-a3f8e9.1.2")).unwrap(),
            "\"el-a3f8e9.1.2\"",
        ),
        (
            serde_json::to_string(&MessageId::parse("msg-1767053847123456789").unwrap()).unwrap(),
            "\"msg-1767053847123456789\"",
        ),
        (
            serde_json::to_string(&MessageId::parse("msg-0").unwrap()).unwrap(),
            "\"msg-0\"",
        ),
        (
            serde_json::to_string(&EventId::parse("evt-1BvP7xZ5J1t").unwrap()).unwrap(),
            "\"evt-1BvP7xZ5J1t\"",
        ),
        (
            serde_json::to_string(&WorkItemId::parse("WORK-042").unwrap()).unwrap(),
            "\"WORK-042\"",
        ),
        (
            serde_json::to_string(&InstanceId::parse("odin-PS-8f4a2b").unwrap()).unwrap(),
            "\"odin-PS-8f4a2b\"",
        ),
    ];
    for (json, expected) in cases {
        assert_eq!(json, expected);
    }
}

#[test]
fn a_long_prefixed_snowflake_still_serializes() {
    let text = format!("{LONG_PREFIX}-9223372036854775807");
    assert!(text.len() > 64);
    let id = LongPrefixId::parse_id(&text).unwrap();
    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(json, format!("\"{text}\""));
    assert_eq!(serde_json::from_str::<LongPrefixId>(&json).unwrap(), id);
}

#[test]
fn documents_round_trip() {
    let doc = Element {
        id: el("el-a3f8e9"),
        parent: None,
        work: WorkItemId::parse("WORK-1000").unwrap(),
        message: MessageId::parse("msg-9223372036854775807").unwrap(),
        instance: InstanceId::parse("odin-PS-000000").unwrap(),
        children: vec![el("el-a3f8e9.1"), el("el-a3f8e9.2")],
    };
    let json = serde_json::to_string(&doc).unwrap();
    assert_eq!(
        json,
        r#"{"id":"el-a3f8e9","parent":null,"work":"WORK-1000","message":"msg-9223372036854775807","instance":"odin-PS-000000","children":["el-a3f8e9.1","el-a3f8e9.2"]}"#
    );
    assert_eq!(serde_json::from_str::<Element>(&json).unwrap(), doc);

    let with_parent = Element {
        parent: Some(el("el-zzzz")),
        ..doc
    };
    let json = serde_json::to_string(&with_parent).unwrap();
    assert!(json.contains(r#""parent":"el-zzzz""#), "{json}");
    assert_eq!(serde_json::from_str::<Element>(&json).unwrap(), with_parent);
}

#[test]
fn a_legacy_prefix_is_read_and_the_canonical_one_written() {
    let id: ElementId = serde_json::from_str("\"elem-a3f8e9.1\"").unwrap();
    assert_eq!(id, el("el-a3f8e9.1"));
    assert_eq!(serde_json::to_string(&id).unwrap(), "\"el-a3f8e9.1\"");
}

#[test]
fn a_bad_id_deep_in_a_document_is_reported_with_its_type() {
    let json = r#"{
        "id": "el-a3f8e9",
        "parent": null,
        "work": "WORK-001",
        "message": "msg-5",
        "instance": "odin-PS-8f4a2b",
        "children": ["el-a3f8e9.1", "El-a3f8e9"]
    }"#;
    let err = serde_json::from_str::<Element>(json).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(r#"invalid ElementId "El-a3f8e9": expected prefix "el-" at byte 0"#),
        "{msg}"
    );
    assert_eq!(
        (err.line(), err.classify()),
        (7, serde_json::error::Category::Data)
    );

    let cases = [
        (
            r#""work": "WORK-001""#,
            r#""work": "WORK-01""#,
            r#"invalid WorkItemId "WORK-01": number must be zero-padded to 3 digits at byte 5"#,
        ),
        (
            r#""message": "msg-5""#,
            r#""message": "msg-05""#,
            r#"invalid MessageId "msg-05": number must not have a leading zero at byte 4"#,
        ),
        (
            r#""parent": null"#,
            r#""parent": "el-a3f8e9.0""#,
            r#"invalid ElementId "el-a3f8e9.0": child number must be positive at byte 10"#,
        ),
        (
            r#""instance": "odin-PS-8f4a2b""#,
            r#""instance": "odin-ps-8f4a2b""#,
            r#"invalid InstanceId "odin-ps-8f4a2b": expected prefix "odin-PS-" at byte 0"#,
        ),
    ];
    let good = json.replace(r#", "El-a3f8e9""#, "");
    assert!(serde_json::from_str::<Element>(&good).is_ok());
    for (from, to, expected) in cases {
        let bad = good.replace(from, to);
        assert_ne!(bad, good);
        let msg = serde_json::from_str::<Element>(&bad)
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with(expected), "{msg}\nexpected: {expected}");
    }
}

#[test]
fn wrong_json_types_say_what_was_expected() {
    let msg = serde_json::from_str::<ElementId>("5")
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("invalid type: integer `5`, expected ElementId as a string"),
        "{msg}"
    );
    // String mode snowflakes do not take numbers: that is what `serde = "number"` is for.
    let msg = serde_json::from_str::<MessageId>("5")
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("invalid type: integer `5`, expected MessageId"),
        "{msg}"
    );
}

#[test]
fn borrowed_transient_and_owned_strings_and_bytes_are_accepted() {
    let expected = el("el-a3f8e9.1");
    let borrowed = BorrowedStrDeserializer::<ValueError>::new("el-a3f8e9.1");
    assert_eq!(ElementId::deserialize(borrowed).unwrap(), expected);
    let transient = StrDeserializer::<ValueError>::new("el-a3f8e9.1");
    assert_eq!(ElementId::deserialize(transient).unwrap(), expected);
    let owned = StringDeserializer::<ValueError>::new("el-a3f8e9.1".to_owned());
    assert_eq!(ElementId::deserialize(owned).unwrap(), expected);
    let owned: StringDeserializer<ValueError> = "el-a3f8e9.1".to_owned().into_deserializer();
    assert_eq!(ElementId::deserialize(owned).unwrap(), expected);
    let bytes = BytesDeserializer::<ValueError>::new(b"el-a3f8e9.1");
    assert_eq!(ElementId::deserialize(bytes).unwrap(), expected);

    let bad = BytesDeserializer::<ValueError>::new(b"el-\xff");
    let msg = ElementId::deserialize(bad).unwrap_err().to_string();
    assert_eq!(
        msg,
        "invalid value: byte array, expected ElementId as a string"
    );
    let bad = StringDeserializer::<ValueError>::new("el-A".to_owned());
    let msg = ElementId::deserialize(bad).unwrap_err().to_string();
    assert!(msg.starts_with(r#"invalid ElementId "el-A": "#), "{msg}");

    // Through serde_json's three paths: borrowed from the input, unescaped into a
    // scratch buffer, and an owned `Value`.
    assert_eq!(
        serde_json::from_str::<ElementId>(r#""el-a3f8e9.1""#).unwrap(),
        expected
    );
    assert_eq!(
        serde_json::from_str::<ElementId>(r#""el-a3f8e9\u002e1""#).unwrap(),
        expected
    );
    assert_eq!(
        serde_json::from_reader::<_, ElementId>(&b"\"el-a3f8e9.1\""[..]).unwrap(),
        expected
    );
    let value = serde_json::Value::String("el-a3f8e9.1".to_owned());
    assert_eq!(
        serde_json::from_value::<ElementId>(value).unwrap(),
        expected
    );
    assert_eq!(
        serde_json::to_value(expected).unwrap(),
        serde_json::Value::String("el-a3f8e9.1".to_owned())
    );
}

#[test]
fn number_mode_writes_a_number_and_reads_numbers_and_strings() {
    let id = NumberedMessageId::parse("msg-1767053847123456789").unwrap();
    assert_eq!(serde_json::to_string(&id).unwrap(), "1767053847123456789");
    for json in [
        "1767053847123456789",
        "\"msg-1767053847123456789\"",
        // A 64-bit number sent as a string, as JavaScript clients must.
        "\"1767053847123456789\"",
    ] {
        assert_eq!(
            serde_json::from_str::<NumberedMessageId>(json).unwrap(),
            id,
            "{json}"
        );
    }
    assert_eq!(
        serde_json::from_str::<NumberedMessageId>("0").unwrap(),
        NumberedMessageId::parse("msg-0").unwrap()
    );
    assert_eq!(
        serde_json::from_str::<NumberedMessageId>("9223372036854775807").unwrap(),
        NumberedMessageId::parse("msg-9223372036854775807").unwrap()
    );

    let doc = Message {
        id,
        event: EventId::parse("evt-1BvP7xZ5J1t").unwrap(),
    };
    let json = serde_json::to_string(&doc).unwrap();
    assert_eq!(
        json,
        r#"{"id":1767053847123456789,"event":"evt-1BvP7xZ5J1t"}"#
    );
    assert_eq!(serde_json::from_str::<Message>(&json).unwrap(), doc);
}

#[test]
fn number_mode_rejects_what_is_not_a_snowflake_naming_the_type() {
    let cases = [
        (
            "-1",
            "invalid value: integer `-1`, expected NumberedMessageId as a number in 0..=9223372036854775807 or a string",
        ),
        (
            "9223372036854775808",
            "invalid value: integer `9223372036854775808`, expected NumberedMessageId as a number in 0..=9223372036854775807 or a string",
        ),
        (
            "\"msg-01\"",
            r#"invalid NumberedMessageId "msg-01": number must not have a leading zero at byte 4"#,
        ),
        (
            "\"01\"",
            r#"invalid NumberedMessageId "01": number must not have a leading zero at byte 0"#,
        ),
        (
            "\"12x\"",
            r#"invalid NumberedMessageId "12x": found 'x' where a digit (0-9) was expected at byte 2"#,
        ),
        (
            "\"9223372036854775808\"",
            r#"invalid NumberedMessageId "9223372036854775808": number is larger than 9223372036854775807 at byte 0"#,
        ),
        (
            "\"12345678901234567890123\"",
            r#"invalid NumberedMessageId "12345678901234567890123": input is 23 bytes long, the longest valid ID is 19"#,
        ),
        (
            "\"evt-5\"",
            r#"invalid NumberedMessageId "evt-5": expected prefix "msg-" at byte 0"#,
        ),
        (
            "1.5",
            "invalid type: floating point `1.5`, expected NumberedMessageId as a number",
        ),
        (
            "null",
            "invalid type: null, expected NumberedMessageId as a number",
        ),
    ];
    for (json, expected) in cases {
        let msg = serde_json::from_str::<NumberedMessageId>(json)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with(expected),
            "{json}: {msg}\nexpected: {expected}"
        );
    }
}

#[test]
fn number_mode_with_a_digit_prefix_reads_its_own_string_form() {
    let id = NineId::parse("9x-123").unwrap();
    assert_eq!(id.as_u64(), 123);
    assert_eq!(serde_json::to_string(&id).unwrap(), "123");
    for json in ["123", "\"123\"", "\"9x-123\"", "\"7y-123\""] {
        assert_eq!(serde_json::from_str::<NineId>(json).unwrap(), id, "{json}");
    }
    // The string form (what `Display` writes) round-trips, and so does the number.
    let back: NineId = serde_json::from_value(serde_json::Value::String(id.to_string())).unwrap();
    assert_eq!(back, id);
    let back: NineId = serde_json::from_str(&serde_json::to_string(&id).unwrap()).unwrap();
    assert_eq!(back, id);

    let event = FourEventId::parse("4ev-1BvP7xZ5J1t").unwrap();
    let number = serde_json::to_string(&event).unwrap();
    assert_eq!(number, event.as_u64().to_string());
    for json in [
        number.clone(),
        format!("\"{number}\""),
        "\"4ev-1BvP7xZ5J1t\"".to_owned(),
    ] {
        assert_eq!(
            serde_json::from_str::<FourEventId>(&json).unwrap(),
            event,
            "{json}"
        );
    }

    let cases = [
        (
            "\"9x-0123\"",
            r#"invalid NineId "9x-0123": number must not have a leading zero at byte 3"#,
        ),
        (
            "\"9x-12a\"",
            r#"invalid NineId "9x-12a": found 'a' where a digit (0-9) was expected at byte 5"#,
        ),
        (
            "\"9x-\"",
            r#"invalid NineId "9x-": input ends where a digit (0-9) was expected at byte 3"#,
        ),
        (
            "\"9y-123\"",
            r#"invalid NineId "9y-123": expected prefix "9x-" at byte 0"#,
        ),
        (
            "\"9x\"",
            r#"invalid NineId "9x": found 'x' where a digit (0-9) was expected at byte 1"#,
        ),
        (
            "\"9x-9223372036854775808\"",
            r#"invalid NineId "9x-9223372036854775808": number is larger than 9223372036854775807 at byte 3"#,
        ),
        (
            "\"4ev-1BvP7xZ5J1t\"",
            r#"invalid NineId "4ev-1BvP7xZ5J1t": expected prefix "9x-" at byte 0"#,
        ),
    ];
    for (json, expected) in cases {
        let msg = serde_json::from_str::<NineId>(json)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with(expected),
            "{json}: {msg}\nexpected: {expected}"
        );
    }
    let msg = serde_json::from_str::<FourEventId>("\"4ev-0BvP7xZ5J1t\"")
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with(r#"invalid FourEventId "4ev-0BvP7xZ5J1t": "#),
        "{msg}"
    );
}

#[test]
fn ids_are_usable_as_map_keys() {
    use std::collections::BTreeMap;
    let mut map = BTreeMap::new();
    map.insert(el("el-b000"), 2);
    map.insert(el("el-a000.1"), 1);
    let json = serde_json::to_string(&map).unwrap();
    assert_eq!(json, r#"{"el-a000.1":1,"el-b000":2}"#);
    assert_eq!(
        serde_json::from_str::<BTreeMap<ElementId, i32>>(&json).unwrap(),
        map
    );
}
