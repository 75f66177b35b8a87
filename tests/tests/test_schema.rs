//! JSON Schema (schemars) of derived types checked with a real validator, and the two
//! published patterns checked in the regex engines they are meant for.
//!
//! The schema and the parser must agree: every input of the parser's hostile tables
//! (`test_parse.rs`), bare and behind each type's prefixes, plus valid IDs built through
//! each type's API and trailing-newline variants, is validated by the `jsonschema` crate
//! against the schema schemars generates, parsed, and deserialized with serde; all three
//! answers must be the same.
//!
//! `PATTERN` is exact where `$` is the end of the text (ECMAScript, RE2, Rust, PostgreSQL);
//! `PCRE_PATTERN` where `$` also matches before a final line break. Checked here:
//! PostgreSQL `CHECK` constraints, the `regex` crate, the `jsonschema` crate's
//! lookaround engine, Python's `re.search` and Java's `Matcher.find` (each when `python3`
//! / `java` is installed; the test says so when it is not).

use std::io::Write as _;
use std::process::{Command, Stdio};

use diesel::prelude::*;
use diesel::sql_types::Text;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use typed_id::{HashId, HexKey, Seq, Snowflake, TypeIdUuid, TypedId};

#[derive(TypedId)]
#[typed_id(prefix = "el", accept = ["elem"])]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "node", min_len = 4, max_len = 6, max_depth = 1)]
struct NodeId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "doc", max_depth = 0)]
struct DocumentId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "WORK")]
struct WorkItemId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "TICKET", accept = ["T"], width = 5)]
struct TicketId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "msg")]
struct MessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "evt", encoding = "base62")]
struct EventId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "tick", serde = "number")]
struct TickId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "odin-PS", accept = ["odin"])]
struct OdinKey(HexKey);

#[derive(TypedId)]
#[typed_id(prefix = "k", len = 32)]
struct WideKey(HexKey);

#[derive(TypedId)]
#[typed_id(prefix = "user")]
struct UserId(TypeIdUuid);

/// A TypeID prefix with `_`, and a legacy prefix.
#[derive(TypedId)]
#[typed_id(prefix = "order_item", accept = ["item"])]
struct OrderItemId(TypeIdUuid);

/// Near-misses of TypeID text: the specification's kinds of invalid suffix (wrong
/// length, uppercase, `i l o u`, a first character above `7`, hyphens) and prefix
/// shapes (empty, `_` at the edges, uppercase, digits), for every type's corpus.
const TYPEID_TABLE: &[&str] = &[
    "01h455vb4pex5vsknk084sn02q",
    "_01h455vb4pex5vsknk084sn02q",
    "user__01h455vb4pex5vsknk084sn02q",
    "user_01H455VB4PEX5VSKNK084SN02Q",
    "user_01h455vb4pex5vsknk084sn02",
    "user_01h455vb4pex5vsknk084sn02qq",
    "user_81h455vb4pex5vsknk084sn02q",
    "user_7zzzzzzzzzzzzzzzzzzzzzzzzz",
    "user_8zzzzzzzzzzzzzzzzzzzzzzzzz",
    "user_0ih455vb4pex5vsknk084sn02q",
    "user_0lh455vb4pex5vsknk084sn02q",
    "user_0oh455vb4pex5vsknk084sn02q",
    "user_0uh455vb4pex5vsknk084sn02q",
    "user_01h455vb-4pex5vsknk084sn02q",
    "user_01h455vb4pex5vsknk084sn02q_",
    "User_01h455vb4pex5vsknk084sn02q",
    "us3r_01h455vb4pex5vsknk084sn02q",
    "order_item_01h455vb4pex5vsknk084sn02q",
    "order__item_01h455vb4pex5vsknk084sn02q",
    "item_00000000000000000000000000",
    "item_0000000000000000000000000\u{0}",
    "user_01h455vb4pex5vsknk084sn02q\n",
    "user_01h455vb4pex5vsknk084sn0é",
];

/// Every input of the parser tables in `test_parse.rs` (bodies and whole IDs), once.
const PARSER_TABLE: &[&str] = &[
    "",
    "a3fé9",
    "é",
    "a3f😀",
    "😀abc",
    "abc.é",
    "abc.1é",
    "abc.１",
    "abc\0",
    "\0abc",
    "abc.1\0",
    "A3F8E9",
    "a3F8e9",
    "abcdefgH",
    "abcdefghI",
    "abc.1.1.1.1",
    "abc.1.2.3.",
    "abc.1.1.1.0",
    "abc.0",
    "abc.0.1",
    "abc.1.0",
    "abc.01",
    "abc.00",
    "abc.1.2.007",
    "abc.4294967296",
    "abc.9999999999",
    "abc.42949672950",
    "abc.1.99999999999",
    "abc.4294967295a",
    "ab",
    "a",
    "ab.1",
    "abcdefghi",
    "abcdefghi.1",
    "abcdefghijklmnopqrstuvwxyz0123456789",
    "abc..1",
    "abc.",
    ".1",
    ".",
    "abc1.",
    "abc.1.",
    "abc.1..2",
    "abc-1",
    "el-abc",
    "abc.+1",
    "abc.-1",
    "+abc",
    " abc",
    "abc ",
    "abc.1 ",
    "abcdefgh ",
    "\tabc",
    "abc\n",
    "abc.1\r\n",
    "abcdefgh.4294967295.4294967295.42949672955",
    "000.4294967295",
    "abc",
    "000",
    "zzzzzzzz",
    "abcdefgh",
    "a3f8e9.1.2",
    "abc.1.1.1",
    "abc.10.200.3000",
    "abcdefgh.4294967295.4294967295.4294967295",
    "abc.1000000000",
    "abcd",
    "abcdef.7",
    "abc.1",
    "abcdefg",
    "abcdefX",
    "abcdeX",
    "abcd.1.2",
    "abcd.4294967296",
    "abcdef.4294967295x",
    "abcdefgh.1",
    "a3f8e9zz.1.2.3",
    "a3f8e9z.1",
    "-1",
    "+1",
    "01",
    "00",
    "0000000000000000001",
    "9223372036854775808",
    "9999999999999999999",
    "18446744073709551615",
    "18446744073709551616",
    "12a",
    "0x1f",
    "1e3",
    "1.5",
    "1_000",
    " 1",
    "1 ",
    "١٢٣",
    "12😀",
    "7\0",
    "1BvP7xZ5J1t",
    "0",
    "1",
    "9223372036854775807",
    "1767053847123456789",
    "AzL8n0Y58m8",
    "LygHa16AHYF",
    "zzzzzzzzzzz",
    "0A",
    "1Bv+",
    "1Bv ",
    "1BvP7xZ5J1tA",
    "42",
    "0042",
    "0000",
    "01000",
    "1234567890123456789",
    "1000000000000000000",
    "-42",
    "+042",
    "042 ",
    " 042",
    "04 2",
    "4２",
    "04\0",
    "WORK-042",
    "001",
    "042",
    "999",
    "1000",
    "999999999999999999",
    "9",
    "10",
    "000000000000000001",
    "100000000000000000",
    "00000000000000001",
    "000000000000000000",
    "8f4a2",
    "8",
    "8f4a2b0",
    "8F4A2B",
    "8f4a2g",
    " 8f4a2",
    "8f4é",
    "8f4a2\0",
    "-8f4a2",
    "8f4a2b",
    "000000",
    "ffffff",
    "abcde",
    "0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcde",
    "0123456789ABCDEF0123456789abcdef",
    "odin-PS-8f4a2b",
    "my-proj-PS-8f4a2b",
    "billing-eu-WEB-03c9d1",
    "a-b-c-d-0000",
    "0-9-abcd",
    "odin--PS-8f4a2b",
    "odin-PS-",
    "odin-PS-8f4a2b-",
    "-",
    "PS-8f4a2b",
    "odin",
    "odin-PS--8f4a2b",
    "--abcd",
    "-PS-8f4a2b",
    "odin-PS-8F4A2B",
    "odin-PS",
    "odin-PS-8f4",
    "odin-P_S-8f4a2b",
    "odin-Pé-8f4a2b",
    "odin-PS-8f4a2b ",
    " odin-PS-8f4a2b",
    "ödin-PS-8f4a2b",
    "od in-PS-8f4a2b",
    "odin-PS-8f4a2b\0",
    "odin-PS-+8f4a2b",
    "my-proj",
    "el",
    "El-a3f8e9",
    "EL-a3f8e9",
    "el_a3f8e9",
    "ela3f8e9",
    "element-a3f8e9",
    " el-a3f8e9",
    "é-a3f8e9",
    "el-",
    "el--a3f8e9",
    "el-a3f8e9.0",
    "el-a3f8e9.01",
    "el-a3f8e9.4294967296",
    "el-abc.1.1.1.1",
    "el-A3F8E9",
    "el-ab",
    "el-a3fé9",
    "el-a3f8e9.",
    "el-a3f8e9 ",
    "elem-a3f8e9.0",
    "elem-",
    "el-a3f8e9",
    "el-a3f8e9.1.2",
    "elem-a3f8e9.1.2",
    "el-000.4294967295",
    "elem-abcdefgh.4294967295.4294967295.4294967295",
    "WORK-42",
    "WORK-0042",
    "WORK-000",
    "WORK-",
    "work-042",
    "WORK-04a",
    "WORK-1000",
    "msg--1",
    "msg-+1",
    "msg-01",
    "msg-9223372036854775808",
    "msg-",
    "msg-0",
    "msg-9223372036854775807",
    "odin-PS-8f4a2",
    "odin-8f4a2b",
    "odin-PS-8f4a2b0",
];

/// A derived type under test, seen through what the engines need.
struct Grammar {
    name: &'static str,
    pattern: &'static str,
    pcre: &'static str,
    parse: fn(&str) -> bool,
    /// Inputs: the parser tables behind each prefix, valid IDs and their variants.
    inputs: Vec<String>,
}

impl Grammar {
    fn of<T: TypedId>(valid: &[String]) -> Grammar {
        Grammar {
            name: T::NAME,
            pattern: T::PATTERN,
            pcre: T::PCRE_PATTERN,
            parse: |s| T::parse_id(s).is_ok(),
            inputs: corpus::<T>(valid),
        }
    }
}

/// The parser tables bare and behind every prefix the type accepts, each valid ID with
/// whitespace, newlines and NUL around it, and inputs far over the length limit.
fn corpus<T: TypedId>(valid: &[String]) -> Vec<String> {
    let prefixes: Vec<&str> = [T::PREFIX]
        .into_iter()
        .chain(T::ACCEPT.iter().copied())
        .collect();
    let thirty_nines = format!("abc.{}", "9".repeat(30));
    let mut out = Vec::new();
    for body in PARSER_TABLE.iter().copied().chain([thirty_nines.as_str()]) {
        out.push(body.to_owned());
        for p in &prefixes {
            out.push(format!("{p}-{body}"));
            out.push(format!("{p}_{body}"));
        }
    }
    out.extend(TYPEID_TABLE.iter().map(|s| (*s).to_owned()));
    for v in valid {
        assert!(
            T::parse_id(v).is_ok(),
            "{v:?} should be a valid {}",
            T::NAME
        );
        out.push(v.clone());
        for suffix in [
            "\n", "\r\n", "\n\n", "\r", " ", "\t", "\0", "\u{85}", "\u{2028}",
        ] {
            out.push(format!("{v}{suffix}"));
            out.push(format!("{suffix}{v}"));
        }
        out.push(v.to_uppercase());
        out.push(format!("{v}{v}"));
    }
    out.push(format!("{}-{}", T::PREFIX, "a".repeat(1 << 20)));
    out.push(format!("{}-{}", T::PREFIX, "é😀".repeat(1 << 17)));
    out.push("1".repeat(1_000_000));
    out
}

fn shorten(s: &str) -> String {
    if s.len() <= 60 {
        format!("{s:?}")
    } else {
        let cut = (0..=60).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        format!("{:?}… ({} bytes)", &s[..cut], s.len())
    }
}

fn valid_element_ids() -> Vec<String> {
    let root = ElementId::parse("el-000").unwrap();
    let deep = root
        .child(4_294_967_295)
        .unwrap()
        .child(1)
        .unwrap()
        .child(10)
        .unwrap();
    let mut out: Vec<String> = ["el-a3f8", "el-a3f8e9", "el-zzzzzzzz.7", "elem-a3f8e9.1.2"]
        .map(str::to_owned)
        .into();
    out.extend([
        root.to_string(),
        deep.to_string(),
        deep.parent().unwrap().to_string(),
    ]);
    out
}

fn valid_node_ids() -> Vec<String> {
    [
        "node-abcd",
        "node-abcdef",
        "node-abcdef.4294967295",
        "node-0000.1",
    ]
    .map(str::to_owned)
    .into()
}

fn valid_document_ids() -> Vec<String> {
    ["doc-abc", "doc-abcdefgh", "doc-a3f8e9"]
        .map(str::to_owned)
        .into()
}

fn valid_work_item_ids() -> Vec<String> {
    [1, 9, 42, 999, 1000, 123_456, 999_999_999_999_999_999]
        .map(|n| WorkItemId::new(n).unwrap().to_string())
        .into()
}

fn valid_ticket_ids() -> Vec<String> {
    let mut out: Vec<String> = [1, 99_999, 100_000]
        .map(|n| TicketId::new(n).unwrap().to_string())
        .into();
    out.push("T-00042".to_owned());
    out
}

const SNOWFLAKES: [u64; 7] = [0, 1, 9, 10, 61, 1_767_053_847_123_456_789, i64::MAX as u64];

fn valid_message_ids() -> Vec<String> {
    SNOWFLAKES
        .map(|v| MessageId::from_u64(v).unwrap().to_string())
        .into()
}

fn valid_event_ids() -> Vec<String> {
    SNOWFLAKES
        .map(|v| EventId::from_u64(v).unwrap().to_string())
        .into()
}

fn valid_odin_keys() -> Vec<String> {
    ["odin-PS-8f4a2b", "odin-PS-000000", "odin-ffffff"]
        .map(str::to_owned)
        .into()
}

fn valid_wide_keys() -> Vec<String> {
    ["k-0123456789abcdef0123456789abcdef".to_owned()].into()
}

fn valid_user_ids() -> Vec<String> {
    let mut out: Vec<String> = [
        "user_01h455vb4pex5vsknk084sn02q",
        "user_00000000000000000000000000",
        "user_7zzzzzzzzzzzzzzzzzzzzzzzzz",
    ]
    .map(str::to_owned)
    .into();
    out.push(UserId::generate().unwrap().to_string());
    out
}

fn valid_order_item_ids() -> Vec<String> {
    [
        "order_item_01h455vb4pex5vsknk084sn02q",
        "item_01h455vb4pex5vsknk084sn02q",
        "item_7zzzzzzzzzzzzzzzzzzzzzzzzz",
    ]
    .map(str::to_owned)
    .into()
}

fn grammars() -> Vec<Grammar> {
    vec![
        Grammar::of::<ElementId>(&valid_element_ids()),
        Grammar::of::<NodeId>(&valid_node_ids()),
        Grammar::of::<DocumentId>(&valid_document_ids()),
        Grammar::of::<WorkItemId>(&valid_work_item_ids()),
        Grammar::of::<TicketId>(&valid_ticket_ids()),
        Grammar::of::<MessageId>(&valid_message_ids()),
        Grammar::of::<EventId>(&valid_event_ids()),
        Grammar::of::<OdinKey>(&valid_odin_keys()),
        Grammar::of::<WideKey>(&valid_wide_keys()),
        Grammar::of::<UserId>(&valid_user_ids()),
        Grammar::of::<OrderItemId>(&valid_order_item_ids()),
    ]
}

// ---------------------------------------------------------------------------------
// JSON Schema

/// The generated schema of `T`, as JSON.
fn schema_of<T: JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap()
}

/// Validates every input against `T`'s schema with the `jsonschema` crate, parses it
/// and deserializes it: all three must agree.
fn schema_agrees_with_parser<T: TypedId + JsonSchema + DeserializeOwned>(valid: &[String]) {
    let schema = schema_of::<T>();
    assert_eq!(schema["type"], "string", "{schema:#}");
    assert_eq!(schema["pattern"], T::PATTERN, "{schema:#}");
    assert_eq!(schema["title"], T::NAME, "{schema:#}");
    let description = schema["description"].as_str().unwrap_or_default();
    assert!(description.contains(T::NAME), "{schema:#}");
    let example = schema["examples"][0].as_str().expect("an example");
    assert!(
        T::parse_id(example).is_ok(),
        "example {example:?} does not parse"
    );
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("the schema of {} is not valid: {e}\n{schema:#}", T::NAME));

    let mut inputs = corpus::<T>(valid);
    inputs.push(example.to_owned());
    let (mut accepted, mut rejected) = (0, 0);
    let mut failures = Vec::new();
    for input in &inputs {
        let parsed = T::parse_id(input).is_ok();
        let value = Value::String(input.clone());
        let by_schema = validator.is_valid(&value);
        let by_serde = serde_json::from_value::<T>(value).is_ok();
        if parsed != by_schema || parsed != by_serde {
            failures.push(format!(
                "{}: parser {parsed}, schema {by_schema}, serde {by_serde}",
                shorten(input)
            ));
        }
        if parsed {
            accepted += 1;
        } else {
            rejected += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inputs disagree for {}:\n{}",
        failures.len(),
        inputs.len(),
        T::NAME,
        failures.join("\n")
    );
    // The corpus really has both sides: every valid ID and the whole hostile table.
    assert!(
        accepted > valid.len() && rejected > PARSER_TABLE.len(),
        "{accepted} / {rejected}"
    );
    // Not a string at all.
    for value in [
        json!(null),
        json!(42),
        json!(["el-a3f8e9"]),
        json!({"id": 1}),
    ] {
        assert!(
            !validator.is_valid(&value),
            "{value} validated as {}",
            T::NAME
        );
        assert!(serde_json::from_value::<T>(value).is_err());
    }
}

#[test]
fn hash_id_schemas_agree_with_the_parser() {
    schema_agrees_with_parser::<ElementId>(&valid_element_ids());
    schema_agrees_with_parser::<NodeId>(&valid_node_ids());
    schema_agrees_with_parser::<DocumentId>(&valid_document_ids());
}

#[test]
fn seq_schemas_agree_with_the_parser() {
    schema_agrees_with_parser::<WorkItemId>(&valid_work_item_ids());
    schema_agrees_with_parser::<TicketId>(&valid_ticket_ids());
}

#[test]
fn snowflake_text_schemas_agree_with_the_parser() {
    schema_agrees_with_parser::<MessageId>(&valid_message_ids());
    schema_agrees_with_parser::<EventId>(&valid_event_ids());
}

#[test]
fn hex_key_schemas_agree_with_the_parser() {
    schema_agrees_with_parser::<OdinKey>(&valid_odin_keys());
    schema_agrees_with_parser::<WideKey>(&valid_wide_keys());
}

#[test]
fn typeid_schemas_agree_with_the_parser() {
    schema_agrees_with_parser::<UserId>(&valid_user_ids());
    schema_agrees_with_parser::<OrderItemId>(&valid_order_item_ids());
    let schema = schema_of::<UserId>();
    assert_eq!(schema["pattern"], "^user_[0-7][0-9a-hjkmnp-tv-z]{25}$");
    assert_eq!(schema["examples"][0], "user_01h455vb4pex5vsknk084sn02q");
}

#[test]
fn number_snowflakes_are_bounded_integers() {
    let schema = schema_of::<TickId>();
    assert_eq!(schema["type"], "integer", "{schema:#}");
    assert_eq!(schema["minimum"], 0);
    assert_eq!(schema["maximum"], i64::MAX);
    assert_eq!(schema["title"], "TickId");
    let description = schema["description"].as_str().unwrap();
    assert!(
        description.contains("decimal digits in a string"),
        "{description}"
    );
    let validator = jsonschema::validator_for(&schema).unwrap();

    // What serde writes validates, and reads back.
    for v in SNOWFLAKES {
        let written = serde_json::to_value(TickId::from_u64(v).unwrap()).unwrap();
        assert!(validator.is_valid(&written), "{written}");
        assert_eq!(
            serde_json::from_value::<TickId>(written).unwrap().as_u64(),
            v
        );
    }
    assert!(validator.is_valid(&schema["examples"][0]), "{schema:#}");
    // Out of range or not an integer: rejected by both.
    for bad in [
        json!(-1),
        json!(i64::MIN),
        json!(i64::MAX as u64 + 1),
        json!(u64::MAX),
        json!(1.5),
        json!(null),
        json!(true),
    ] {
        assert!(!validator.is_valid(&bad), "{bad} validated");
        assert!(serde_json::from_value::<TickId>(bad).is_err());
    }
    // The schema describes what is written; the deserializer is more lenient, as the
    // docs and the description say.
    for lenient in [json!("tick-42"), json!("42")] {
        assert!(!validator.is_valid(&lenient));
        assert_eq!(
            serde_json::from_value::<TickId>(lenient).unwrap().as_u64(),
            42
        );
    }
}

#[test]
fn struct_fields_refer_to_named_id_schemas() {
    #[derive(schemars::JsonSchema, serde::Serialize)]
    struct Element {
        id: ElementId,
        parent: Option<ElementId>,
        work_item: WorkItemId,
        tick: TickId,
    }
    let schema = schema_of::<Element>();
    let defs = &schema["$defs"];
    assert_eq!(
        defs["ElementId"]["pattern"],
        ElementId::PATTERN,
        "{schema:#}"
    );
    assert_eq!(
        defs["WorkItemId"]["pattern"],
        WorkItemId::PATTERN,
        "{schema:#}"
    );
    assert_eq!(defs["TickId"]["type"], "integer", "{schema:#}");
    assert_eq!(
        schema["properties"]["id"]["$ref"], "#/$defs/ElementId",
        "{schema:#}"
    );

    let validator = jsonschema::validator_for(&schema).unwrap();
    let good = Element {
        id: ElementId::parse("el-a3f8e9.1").unwrap(),
        parent: Some(ElementId::parse("el-a3f8e9").unwrap()),
        work_item: WorkItemId::new(42).unwrap(),
        tick: TickId::from_u64(7).unwrap(),
    };
    let good = serde_json::to_value(&good).unwrap();
    assert!(validator.is_valid(&good), "{good}");
    let mut bad = good.clone();
    bad["parent"] = json!("el-a3f8e9.0");
    assert!(!validator.is_valid(&bad));
    let mut bad = good;
    bad["work_item"] = json!("WORK-042\n");
    assert!(!validator.is_valid(&bad));
}

// ---------------------------------------------------------------------------------
// PATTERN and PCRE_PATTERN across regex engines

/// Line terminators a `$` skips at the end of the text: Python's, PCRE's, Perl's and
/// .NET's skip `\n`; Java's skips any of these.
const PYTHON_TERMINATORS: &[&str] = &["\n"];
const JAVA_TERMINATORS: &[&str] = &["\r\n", "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"];

/// Inputs a parser rejects only because a line terminator follows a valid ID: exactly
/// what `PATTERN` lets through where `$` matches before a final line terminator.
fn valid_but_for_final_terminator(g: &Grammar, input: &str, terminators: &[&str]) -> bool {
    terminators
        .iter()
        .any(|t| input.strip_suffix(t).is_some_and(|rest| (g.parse)(rest)))
}

#[test]
fn pcre_pattern_is_pattern_with_an_end_lookahead() {
    for g in grammars() {
        assert_eq!(g.pcre, format!(r"{}(?![\s\S])", g.pattern), "{}", g.name);
    }
    assert_eq!(
        ElementId::PCRE_PATTERN,
        <ElementId as TypedId>::PCRE_PATTERN
    );
}

#[test]
fn the_regex_crate_takes_pattern_and_refuses_lookaround() {
    for g in grammars() {
        let re = regex::Regex::new(g.pattern).unwrap();
        let mut failures = Vec::new();
        for input in &g.inputs {
            if re.is_match(input) != (g.parse)(input) {
                failures.push(shorten(input));
            }
        }
        assert!(failures.is_empty(), "{}: {failures:?}", g.name);
        // No lookaround in the regex crate (nor RE2, nor Go): PCRE_PATTERN is not for it.
        let err = regex::Regex::new(g.pcre).unwrap_err().to_string();
        assert!(err.contains("look-around"), "{}: {err}", g.name);
    }
    let el = regex::Regex::new(ElementId::PATTERN).unwrap();
    assert!(el.is_match("el-a3f8"));
    assert!(!el.is_match("el-a3f8\n"));
}

/// The `jsonschema` crate's pattern engine has lookaround and an end-of-text `$`: both
/// constants are exact there, as in ECMAScript.
#[test]
fn a_lookaround_engine_takes_both_patterns() {
    for g in grammars() {
        for pattern in [g.pattern, g.pcre] {
            let validator = jsonschema::validator_for(&json!({"pattern": pattern})).unwrap();
            let failures: Vec<String> = g
                .inputs
                .iter()
                .filter(|s| validator.is_valid(&json!(s)) != (g.parse)(s))
                .map(|s| shorten(s))
                .collect();
            assert!(failures.is_empty(), "{} {pattern}: {failures:?}", g.name);
        }
    }
}

#[test]
fn postgresql_check_constraints_agree_with_the_parser() {
    let db = typed_id_tests::pg::TestDatabase::new();
    let mut conn = db.connect();
    let mut skipped = 0;
    for (i, g) in grammars().iter().enumerate() {
        for (kind, pattern) in [("pattern", g.pattern), ("pcre", g.pcre)] {
            assert!(!pattern.contains('\''), "{pattern}");
            let table = format!("{}_{i}_{kind}", g.name.to_lowercase());
            diesel::sql_query(format!(
                "CREATE TABLE {table} (id TEXT NOT NULL CHECK (id ~ '{pattern}'))"
            ))
            .execute(&mut conn)
            .unwrap();
            let mut failures = Vec::new();
            for input in &g.inputs {
                if input.contains('\0') {
                    // PostgreSQL text cannot hold NUL at all.
                    skipped += 1;
                    continue;
                }
                let inserted = diesel::sql_query(format!("INSERT INTO {table} (id) VALUES ($1)"))
                    .bind::<Text, _>(input)
                    .execute(&mut conn);
                let accepted = match inserted {
                    Ok(_) => true,
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::CheckViolation,
                        _,
                    )) => false,
                    Err(e) => panic!("{}: {e}", shorten(input)),
                };
                if accepted != (g.parse)(input) {
                    failures.push(format!("{}: CHECK says {accepted}", shorten(input)));
                }
            }
            assert!(
                failures.is_empty(),
                "{} {kind}:\n{}",
                g.name,
                failures.join("\n")
            );
        }
    }
    assert!(skipped > 0);
    // The case that motivates the second constant, spelled out.
    diesel::sql_query(format!(
        "CREATE TABLE elements (id TEXT CHECK (id ~ '{}'))",
        ElementId::PATTERN
    ))
    .execute(&mut conn)
    .unwrap();
    let insert = |conn: &mut PgConnection, id: &str| {
        diesel::sql_query("INSERT INTO elements (id) VALUES ($1)")
            .bind::<Text, _>(id)
            .execute(conn)
    };
    insert(&mut conn, "el-a3f8").unwrap();
    assert!(insert(&mut conn, "el-a3f8\n").is_err());
}

/// Runs an external regex engine over every grammar: the program reads lines
/// `G <pattern hex> <pcre hex>` and `I <input hex>` (UTF-8, hex so that any input fits
/// on a line) and answers each `I` with two digits, `PATTERN` and `PCRE_PATTERN`
/// matched or not. `None` when the program cannot be started.
fn run_engine(
    grammars: &[Grammar],
    program: &str,
    args: &[&str],
    max_input: usize,
) -> Option<Vec<Vec<(bool, bool)>>> {
    fn hex(s: &str) -> String {
        s.bytes().map(|b| format!("{b:02x}")).collect()
    }
    let mut request = String::new();
    for g in grammars {
        request.push_str(&format!("G {} {}\n", hex(g.pattern), hex(g.pcre)));
        for input in g.inputs.iter().filter(|s| s.len() <= max_input) {
            request.push_str(&format!("I {}\n", hex(input)));
        }
    }
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            eprintln!("SKIPPED: cannot run {program}: {e}");
            return None;
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut answers: Vec<Vec<(bool, bool)>> = Vec::new();
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        match line.as_bytes() {
            b"G" => answers.push(Vec::new()),
            [p, q] => answers
                .last_mut()
                .expect("an answer before any grammar")
                .push((*p == b'1', *q == b'1')),
            _ => panic!("{program} answered {line:?}"),
        }
    }
    Some(answers)
}

/// Checks an engine's answers: `PCRE_PATTERN` agrees with the parser everywhere, and
/// `PATTERN` only differs on valid IDs followed by one of `terminators` — all of which it
/// lets through. Returns how many it let through.
fn check_engine(
    engine: &str,
    grammars: &[Grammar],
    answers: &[Vec<(bool, bool)>],
    max_input: usize,
    terminators: &[&str],
) -> usize {
    assert_eq!(answers.len(), grammars.len(), "{engine}");
    let mut escapes = 0;
    let mut expected_escapes = 0;
    let mut failures = Vec::new();
    for (g, answers) in grammars.iter().zip(answers) {
        let inputs: Vec<&String> = g.inputs.iter().filter(|s| s.len() <= max_input).collect();
        assert_eq!(answers.len(), inputs.len(), "{engine} {}", g.name);
        for (input, &(by_pattern, by_pcre)) in inputs.into_iter().zip(answers) {
            let parsed = (g.parse)(input);
            let escapes_here = valid_but_for_final_terminator(g, input, terminators);
            expected_escapes += usize::from(escapes_here);
            if by_pcre != parsed {
                failures.push(format!(
                    "{} PCRE_PATTERN: {} -> {by_pcre}",
                    g.name,
                    shorten(input)
                ));
            }
            if by_pattern != parsed {
                if by_pattern && escapes_here {
                    escapes += 1;
                } else {
                    failures.push(format!(
                        "{} PATTERN: {} -> {by_pattern}",
                        g.name,
                        shorten(input)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{engine}:\n{}", failures.join("\n"));
    assert!(
        expected_escapes > grammars.len(),
        "{engine}: {expected_escapes}"
    );
    assert_eq!(escapes, expected_escapes, "{engine}");
    escapes
}

const PYTHON_ENGINE: &str = r#"
import re, sys
p = q = None
for line in sys.stdin:
    kind, *fields = line.split()
    text = [bytes.fromhex(f).decode("utf-8") for f in fields] if fields else [""]
    if kind == "G":
        p, q = re.compile(text[0]), re.compile(text[1])
        print("G")
    else:
        print("%d%d" % (p.search(text[0]) is not None, q.search(text[0]) is not None))
"#;

/// Python's `re.search` (what Python's `jsonschema` uses for `pattern`).
#[test]
fn python_re_search_needs_pcre_pattern() {
    let grammars = grammars();
    let Some(answers) = run_engine(&grammars, "python3", &["-c", PYTHON_ENGINE], usize::MAX) else {
        return;
    };
    check_engine(
        "python3",
        &grammars,
        &answers,
        usize::MAX,
        PYTHON_TERMINATORS,
    );
    let el = grammars.iter().position(|g| g.name == "ElementId").unwrap();
    let at = grammars[el]
        .inputs
        .iter()
        .position(|s| s == "el-a3f8\n")
        .unwrap();
    assert_eq!(
        answers[el][at],
        (true, false),
        "el-a3f8\\n: PATTERN matches, PCRE_PATTERN not"
    );
}

const JAVA_ENGINE: &str = r#"
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.regex.*;

public class Engine {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        Pattern p = null, q = null;
        for (String line; (line = in.readLine()) != null; ) {
            String[] f = line.split(" ", -1);
            if (f[0].equals("G")) {
                p = Pattern.compile(text(f[1]));
                q = Pattern.compile(text(f[2]));
                out.append("G\n");
            } else {
                String s = f.length > 1 ? text(f[1]) : "";
                out.append(p.matcher(s).find() ? '1' : '0').append(q.matcher(s).find() ? '1' : '0').append('\n');
            }
        }
        System.out.print(out);
    }

    static String text(String hex) {
        byte[] b = new byte[hex.length() / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        return new String(b, StandardCharsets.UTF_8);
    }
}
"#;

/// Java's `Matcher.find` (what Java JSON Schema validators use): its `$` also matches
/// before a final `\r`, `\r\n`, `\u{85}`, `\u{2028}` or `\u{2029}`, which a `(?!\n)`
/// lookahead would miss.
#[test]
fn java_matcher_find_needs_pcre_pattern() {
    let dir = std::env::temp_dir().join(format!("typed-id-java-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("Engine.java");
    std::fs::write(&source, JAVA_ENGINE).unwrap();
    let grammars = grammars();
    // The 1 MiB inputs are over every length limit and add nothing but hex to parse.
    let max_input = 4096;
    let answers = run_engine(&grammars, "java", &[source.to_str().unwrap()], max_input);
    std::fs::remove_dir_all(&dir).unwrap();
    let Some(answers) = answers else {
        return;
    };
    let escapes = check_engine("java", &grammars, &answers, max_input, JAVA_TERMINATORS);
    // Beyond "\n": a final "\r" or "\u{2028}" gets through PATTERN as well.
    let newline_only: usize = grammars
        .iter()
        .map(|g| {
            g.inputs
                .iter()
                .filter(|s| s.len() <= max_input)
                .filter(|s| valid_but_for_final_terminator(g, s, PYTHON_TERMINATORS))
                .count()
        })
        .sum();
    assert!(escapes > newline_only, "{escapes} / {newline_only}");
}
