//! OpenAPI (utoipa): derived IDs are named component schemas — typed strings with the
//! type's `PATTERN` — that struct fields refer to, in a document built with
//! `#[derive(OpenApi)]`. The document is then used as a JSON Schema (OpenAPI 3.1 schema
//! objects are JSON Schema 2020-12) to validate good and bad request bodies.

use serde::Serialize;
use serde_json::{Value, json};
use typed_id::{HashId, HexKey, Seq, Snowflake, TypeIdUuid, TypedId};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Schema, Type};
use utoipa::{OpenApi, PartialSchema, ToSchema};

#[derive(TypedId)]
#[typed_id(prefix = "el", accept = ["elem"])]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "WORK")]
struct WorkItemId(Seq);

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
#[typed_id(prefix = "odin-PS")]
struct OdinKey(HexKey);

#[derive(TypedId)]
#[typed_id(prefix = "user", accept = ["usr"])]
struct UserId(TypeIdUuid);

/// A request body with one field of each kind.
#[derive(ToSchema, Serialize)]
struct Element {
    id: ElementId,
    parent: Option<ElementId>,
    work_item: WorkItemId,
    message: MessageId,
    event: EventId,
    tick: TickId,
    key: OdinKey,
    owner: UserId,
    editors: Vec<UserId>,
}

mod api {
    // utoipa's generated code spells the schema's path out.
    #![allow(unused_qualifications)]

    use super::Element;

    #[derive(utoipa::OpenApi)]
    #[openapi(components(schemas(Element)))]
    pub(super) struct ApiDoc;
}

fn document() -> Value {
    let json = api::ApiDoc::openapi().to_json().unwrap();
    serde_json::from_str(&json).unwrap()
}

#[test]
fn ids_are_named_typed_strings_in_the_document() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    for (name, pattern) in [
        ("ElementId", ElementId::PATTERN),
        ("WorkItemId", WorkItemId::PATTERN),
        ("MessageId", MessageId::PATTERN),
        ("EventId", EventId::PATTERN),
        ("OdinKey", OdinKey::PATTERN),
        ("UserId", UserId::PATTERN),
    ] {
        let schema = &schemas[name];
        assert_eq!(schema["type"], "string", "{name}: {schema:#}");
        assert_eq!(schema["pattern"], pattern, "{name}: {schema:#}");
        assert_eq!(schema["title"], name, "{name}: {schema:#}");
        let example = schema["examples"][0].as_str().unwrap_or_default();
        assert!(
            regex::Regex::new(pattern).unwrap().is_match(example),
            "{name}: example {example:?}"
        );
    }
    let tick = &schemas["TickId"];
    assert_eq!(tick["type"], "integer", "{tick:#}");
    assert_eq!(tick["format"], "int64", "{tick:#}");
    assert_eq!(tick["minimum"], 0, "{tick:#}");
    assert_eq!(tick["maximum"], i64::MAX, "{tick:#}");

    let element = &schemas["Element"]["properties"];
    assert_eq!(
        element["id"]["$ref"], "#/components/schemas/ElementId",
        "{element:#}"
    );
    assert_eq!(
        element["key"]["$ref"], "#/components/schemas/OdinKey",
        "{element:#}"
    );
    assert_eq!(
        element["owner"]["$ref"], "#/components/schemas/UserId",
        "{element:#}"
    );
    assert_eq!(
        element["editors"]["items"]["$ref"], "#/components/schemas/UserId",
        "{element:#}"
    );
    assert_eq!(
        schemas["UserId"]["pattern"],
        "^(?:user|usr)_[0-7][0-9a-hjkmnp-tv-z]{25}$"
    );
    assert!(
        element["parent"]
            .to_string()
            .contains("#/components/schemas/ElementId"),
        "{element:#}"
    );
}

#[test]
fn partial_schema_and_name_come_from_the_type() {
    assert_eq!(ElementId::name(), "ElementId");
    assert_eq!(TickId::name(), "TickId");
    let RefOr::T(Schema::Object(object)) = ElementId::schema() else {
        panic!("not an inline object schema");
    };
    assert_eq!(object.pattern.as_deref(), Some(ElementId::PATTERN));
    assert_eq!(object.title.as_deref(), Some("ElementId"));
    assert!(object.description.unwrap_or_default().contains("\"el\""));
    let RefOr::T(Schema::Object(object)) = TickId::schema() else {
        panic!("not an inline object schema");
    };
    assert_eq!(object.pattern, None);
    assert!(matches!(
        object.schema_type,
        utoipa::openapi::schema::SchemaType::Type(Type::Integer)
    ));
}

/// Validates request bodies against `Element` in the document, resolving its `$ref`s.
#[test]
fn the_document_validates_request_bodies() {
    let mut doc = document();
    doc["$ref"] = json!("#/components/schemas/Element");
    let validator = jsonschema::validator_for(&doc).unwrap();
    let good = Element {
        id: ElementId::parse("el-a3f8e9.1").unwrap(),
        parent: None,
        work_item: WorkItemId::new(42).unwrap(),
        message: MessageId::from_u64(1_767_053_847_123_456_789).unwrap(),
        event: EventId::from_u64(61).unwrap(),
        tick: TickId::from_u64(7).unwrap(),
        key: OdinKey::parse("odin-PS-8f4a2b").unwrap(),
        owner: UserId::parse("user_01h455vb4pex5vsknk084sn02q").unwrap(),
        editors: vec![UserId::generate().unwrap(), UserId::generate().unwrap()],
    };
    let good = serde_json::to_value(&good).unwrap();
    assert!(validator.is_valid(&good), "{good}");
    let mut with_parent = good.clone();
    with_parent["parent"] = json!("elem-a3f8e9");
    assert!(validator.is_valid(&with_parent), "{with_parent}");
    let mut legacy_owner = good.clone();
    legacy_owner["owner"] = json!("usr_7zzzzzzzzzzzzzzzzzzzzzzzzz");
    assert!(validator.is_valid(&legacy_owner), "{legacy_owner}");

    for (field, bad) in [
        ("id", json!("el-a3f8e9.0")),
        ("id", json!("el-a3f8e9\n")),
        ("parent", json!("El-a3f8e9")),
        ("work_item", json!("WORK-42")),
        ("message", json!("msg-9223372036854775808")),
        ("event", json!("evt-AzL8n0Y58m8")),
        ("tick", json!(-1)),
        ("tick", json!("tick-7")),
        ("key", json!("odin-PS-8F4A2B")),
        ("owner", json!("user_81h455vb4pex5vsknk084sn02q")),
        ("owner", json!("user_01H455VB4PEX5VSKNK084SN02Q")),
        ("owner", json!("user-01h455vb4pex5vsknk084sn02q")),
        ("owner", json!("user_01h455vb4pex5vsknk084sn02q\n")),
        ("owner", json!("01h455vb4pex5vsknk084sn02q")),
        ("editors", json!(["user_01h455vb4pex5vsknk084sn0"])),
        ("editors", json!("user_01h455vb4pex5vsknk084sn02q")),
    ] {
        let mut body = good.clone();
        body[field] = bad.clone();
        assert!(!validator.is_valid(&body), "{field} = {bad} validated");
    }
}
