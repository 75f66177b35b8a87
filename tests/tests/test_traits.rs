//! Common traits: `AsRef<str>` and `Borrow<str>` of bodies (maps and sets searched by
//! `&str`, and the `Borrow` contract: equal hashes, equality and order for a value and
//! its text), derived types comparing as their bodies and their text,
//! and serde for the values that are not derived types, with hostile input.

use std::borrow::Borrow;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::Bound;
use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use typed_id::generator::{Layout, ProcessInstanceId, SnowflakeParts};
use typed_id::{DynTypeId, HashId, HexKey, InstanceKey, Seq, Snowflake, TypeIdUuid, TypedId};

#[derive(TypedId)]
#[typed_id(prefix = "el", accept = ["elem"])]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "odin-PS")]
struct OdinKey(HexKey);

#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 3)]
struct WorkItemId(Seq);

fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// The `Borrow<str>` contract on a list of values: hashing, equality and order of the
/// values are those of their borrowed text.
fn assert_borrow_contract<T: Borrow<str> + Hash + Ord + AsRef<str> + std::fmt::Debug>(
    values: &[T],
) {
    for a in values {
        let text: &str = a.borrow();
        assert_eq!(text, a.as_ref());
        assert_eq!(hash_of(a), hash_of(text), "{a:?}");
        for b in values {
            let other: &str = b.borrow();
            assert_eq!(a == b, text == other, "{a:?} / {b:?}");
            assert_eq!(a.cmp(b), text.cmp(other), "{a:?} / {b:?}");
        }
    }
}

/// A derived type's values keep only their bodies (the prefix is the type's constant),
/// so hashing, equality and order are the body's, and for hash and hex IDs also those
/// of the whole text (one prefix in front of every value changes no comparison).
fn assert_agrees_with_body_and_text<T>(values: &[T])
where
    T: TypedId,
    T::Body: Borrow<str>,
{
    for a in values {
        assert_eq!(hash_of(a), hash_of(&a.to_body()), "{a:?}");
        assert_eq!(T::parse_id(&a.to_text()).unwrap(), *a);
        for b in values {
            let (ta, tb) = (a.to_text(), b.to_text());
            assert_eq!(a == b, ta == tb, "{a:?} / {b:?}");
            assert_eq!(a.cmp(b), ta.as_str().cmp(tb.as_str()), "{a:?} / {b:?}");
            let (ba, bb) = (a.to_body(), b.to_body());
            assert_eq!(a.cmp(b), ba.cmp(&bb), "{a:?} / {b:?}");
        }
    }
}

#[test]
fn hash_and_hex_ids_compare_as_their_text() {
    let ids = [
        "el-a3f8",
        "el-a3f8.1",
        "el-a3f8.10",
        "el-a3f8.2",
        "el-zzz",
        "el-000.1.2.3",
    ]
    .map(|s| ElementId::parse(s).unwrap());
    assert_agrees_with_body_and_text(&ids);
    let map: HashMap<ElementId, usize> = ids.iter().copied().zip(0..).collect();
    let get = |s: &str| {
        ElementId::parse(s)
            .ok()
            .and_then(|id| map.get(&id).copied())
    };
    assert_eq!(get("el-a3f8"), Some(0));
    assert_eq!(get("el-a3f8.10"), Some(2));
    assert_eq!(get("el-a3f9"), None);
    // A legacy prefix parses to the same value.
    assert_eq!(get("elem-a3f8"), Some(0));
    let set: BTreeSet<ElementId> = ids.iter().copied().collect();
    let from = ElementId::parse("el-a3f8.1").unwrap();
    let to = ElementId::parse("el-zzz").unwrap();
    let after: Vec<String> = set
        .range((Bound::Included(from), Bound::Excluded(to)))
        .map(ToString::to_string)
        .collect();
    assert_eq!(after, ["el-a3f8.1", "el-a3f8.10", "el-a3f8.2"]);

    let keys =
        ["odin-PS-8f4a2b", "odin-PS-000000", "odin-PS-ffffff"].map(|s| OdinKey::parse(s).unwrap());
    assert_agrees_with_body_and_text(&keys);
}

#[test]
fn bodies_and_instance_keys_are_found_by_str() {
    let bodies = ["a3f8", "a3f8.1", "zzz", "000.4294967295"].map(|s| HashId::parse(s).unwrap());
    assert_borrow_contract(&bodies);
    // A body taken out of a derived type is bare, and found by its bare text.
    let from_derived = ElementId::parse("el-a3f8.1").unwrap().body();
    let map: HashMap<HashId, &str> = HashMap::from([(from_derived, "child")]);
    assert_eq!(map.get("a3f8.1"), Some(&"child"));
    assert_eq!(map.get("el-a3f8.1"), None);

    let hex = ["8f4a2b", "0000", "ffffffffffffffffffffffffffffffff"]
        .map(|s| HexKey::parse_with(s, &typed_id::HexSpec::new(s.len() as u8).unwrap()).unwrap());
    assert_borrow_contract(&hex);

    let keys = [
        "odin-PS-8f4a2b",
        "billing-eu-WEB-03c9d1",
        "a-b-0000",
        "a-b-c-0000",
    ]
    .map(|s| InstanceKey::parse(s).unwrap());
    assert_borrow_contract(&keys);
    let map: BTreeMap<InstanceKey, u8> = keys.into_iter().zip(0..).collect();
    assert_eq!(map.get("billing-eu-WEB-03c9d1"), Some(&1));
    let set: HashSet<InstanceKey> = keys.into_iter().collect();
    assert!(set.contains("a-b-c-0000") && !set.contains("a-b-c-0001"));
}

#[test]
fn display_ids_are_ordered_by_number_not_text() {
    let small = WorkItemId::new(999).unwrap();
    let large = WorkItemId::new(1000).unwrap();
    assert_eq!(small.to_text(), "WORK-999");
    assert_eq!(<Seq as AsRef<str>>::as_ref(&Seq::new(42).unwrap()), "042");
    // Why `Seq` has no `Borrow<str>`: the orders disagree.
    assert!(small < large);
    assert!(small.to_text().as_str() > large.to_text().as_str());
    assert_eq!(hash_of(&small), hash_of(&small.body()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    /// The contract over generated IDs, pairwise.
    #[test]
    fn derived_ids_compare_as_their_bodies_and_text(ids in prop::collection::vec(any::<ElementId>(), 2..8)) {
        assert_agrees_with_body_and_text(&ids);
        let bodies: Vec<HashId> = ids.iter().map(ElementId::body).collect();
        assert_borrow_contract(&bodies);
    }
}

// ---------------------------------------------------------------------------------
// serde for values that are not derived types

fn round_trip<T>(value: &T, json: &str)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    assert_eq!(serde_json::to_string(value).unwrap(), json, "{value:?}");
    assert_eq!(&serde_json::from_str::<T>(json).unwrap(), value, "{json}");
}

/// Each hostile input is refused with an error that mentions all of `mentions`.
fn refuses<T: DeserializeOwned + std::fmt::Debug>(cases: &[(&str, &[&str])]) {
    for (json, mentions) in cases {
        let json_short: String = json.chars().take(60).collect();
        match serde_json::from_str::<T>(json) {
            Ok(v) => panic!("{json_short} deserialized as {v:?}"),
            Err(e) => {
                let text = e.to_string();
                let short: String = text.chars().take(200).collect();
                for m in *mentions {
                    assert!(
                        text.contains(m),
                        "{json_short}: {short:?} does not mention {m:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn bare_bodies_serialize_as_text() {
    round_trip(&HashId::parse("a3f8e9.1.2").unwrap(), r#""a3f8e9.1.2""#);
    round_trip(&HexKey::parse("8f4a2b").unwrap(), r#""8f4a2b""#);
    round_trip(&TypeIdUuid::MAX, r#""7zzzzzzzzzzzzzzzzzzzzzzzzz""#);
    round_trip(&Snowflake::MAX, r#""9223372036854775807""#);
    round_trip(
        &DynTypeId::parse("order_item_01h455vb4pex5vsknk084sn02q").unwrap(),
        r#""order_item_01h455vb4pex5vsknk084sn02q""#,
    );
    round_trip(
        &DynTypeId::parse("01h455vb4pex5vsknk084sn02q").unwrap(),
        r#""01h455vb4pex5vsknk084sn02q""#,
    );

    // A bare display number keeps the width its text shows.
    for (value, text) in [
        (42, "042"),
        (42, "00042"),
        (7, "7"),
        (1000, "1000"),
        (Seq::MAX, "999999999999999999"),
    ] {
        let n: Seq = serde_json::from_str(&format!("\"{text}\"")).unwrap();
        assert_eq!((n.value(), n.as_str()), (value, text));
        assert_eq!(serde_json::to_string(&n).unwrap(), format!("\"{text}\""));
    }
    // A bare hex key keeps its length.
    for text in ["0000", "8f4a2b0", "0123456789abcdef0123456789abcdef"] {
        let k: HexKey = serde_json::from_str(&format!("\"{text}\"")).unwrap();
        assert_eq!(k.as_str(), text);
    }
    // A snowflake is also read from a number, and written as one in binary formats.
    assert_eq!(
        serde_json::from_str::<Snowflake>("61").unwrap().as_u64(),
        61
    );
    let bytes = bincode_like_u64(Snowflake::new(61).unwrap());
    assert_eq!(bytes, 61);
}

/// What a non-human-readable serializer receives for a snowflake.
fn bincode_like_u64(id: Snowflake) -> u64 {
    struct Capture;
    impl serde::Serializer for Capture {
        type Ok = u64;
        type Error = serde::de::value::Error;
        type SerializeSeq = serde::ser::Impossible<u64, Self::Error>;
        type SerializeTuple = serde::ser::Impossible<u64, Self::Error>;
        type SerializeTupleStruct = serde::ser::Impossible<u64, Self::Error>;
        type SerializeTupleVariant = serde::ser::Impossible<u64, Self::Error>;
        type SerializeMap = serde::ser::Impossible<u64, Self::Error>;
        type SerializeStruct = serde::ser::Impossible<u64, Self::Error>;
        type SerializeStructVariant = serde::ser::Impossible<u64, Self::Error>;
        fn is_human_readable(&self) -> bool {
            false
        }
        fn serialize_u64(self, v: u64) -> Result<u64, Self::Error> {
            Ok(v)
        }
        fn serialize_bool(self, _: bool) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("bool"))
        }
        fn serialize_i8(self, _: i8) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("i8"))
        }
        fn serialize_i16(self, _: i16) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("i16"))
        }
        fn serialize_i32(self, _: i32) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("i32"))
        }
        fn serialize_i64(self, _: i64) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("i64"))
        }
        fn serialize_u8(self, _: u8) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("u8"))
        }
        fn serialize_u16(self, _: u16) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("u16"))
        }
        fn serialize_u32(self, _: u32) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("u32"))
        }
        fn serialize_f32(self, _: f32) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("f32"))
        }
        fn serialize_f64(self, _: f64) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("f64"))
        }
        fn serialize_char(self, _: char) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("char"))
        }
        fn serialize_str(self, _: &str) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("str"))
        }
        fn serialize_bytes(self, _: &[u8]) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("bytes"))
        }
        fn serialize_none(self) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("none"))
        }
        fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("some"))
        }
        fn serialize_unit(self) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("unit"))
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("unit struct"))
        }
        fn serialize_unit_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
        ) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("variant"))
        }
        fn serialize_newtype_struct<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: &T,
        ) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("newtype"))
        }
        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<u64, Self::Error> {
            Err(serde::ser::Error::custom("newtype variant"))
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
            Err(serde::ser::Error::custom("seq"))
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
            Err(serde::ser::Error::custom("tuple"))
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Self::Error> {
            Err(serde::ser::Error::custom("tuple struct"))
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Self::Error> {
            Err(serde::ser::Error::custom("tuple variant"))
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
            Err(serde::ser::Error::custom("map"))
        }
        fn serialize_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStruct, Self::Error> {
            Err(serde::ser::Error::custom("struct"))
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Self::Error> {
            Err(serde::ser::Error::custom("struct variant"))
        }
    }
    id.serialize(Capture).unwrap()
}

#[test]
fn bare_bodies_refuse_hostile_input() {
    refuses::<HashId>(&[
        (r#""A3F8""#, &["HashId", "A3F8"]),
        (r#""a3f8.0""#, &["HashId", "positive"]),
        (r#""a3f8\n""#, &["HashId"]),
        (r#""""#, &["HashId"]),
        (r#"42"#, &["HashId"]),
        (r#"null"#, &["HashId"]),
        (r#"["a3f8"]"#, &["HashId"]),
    ]);
    let huge = format!("\"{}\"", "a".repeat(1 << 20));
    refuses::<HashId>(&[(huge.as_str(), &["HashId", "the longest valid ID is 41"])]);
    refuses::<Seq>(&[
        (r#""0""#, &["Seq"]),
        (r#""000""#, &["Seq"]),
        (r#""42a""#, &["Seq"]),
        (r#""+42""#, &["Seq"]),
        (r#""""#, &["Seq"]),
        (r#""1000000000000000000""#, &["Seq"]),
        (r#"42"#, &["Seq"]),
    ]);
    refuses::<HexKey>(&[
        (r#""8F4A2B""#, &["HexKey", "8F4A2B"]),
        (r#""abc""#, &["HexKey"]),
        (r#""0123456789abcdef0123456789abcdef0""#, &["HexKey"]),
        (r#""8f4a2g""#, &["HexKey"]),
    ]);
    refuses::<Snowflake>(&[
        (r#""01""#, &["Snowflake"]),
        (r#""9223372036854775808""#, &["Snowflake"]),
        (
            r#"9223372036854775808"#,
            &["Snowflake", "9223372036854775808"],
        ),
        (r#"-1"#, &["Snowflake", "-1"]),
        (r#"1.5"#, &["Snowflake"]),
        (r#""msg-1""#, &["Snowflake"]),
        (r#"null"#, &["Snowflake"]),
    ]);
    refuses::<TypeIdUuid>(&[
        (r#""81h455vb4pex5vsknk084sn02q""#, &["TypeIdUuid"]),
        (r#""01H455VB4PEX5VSKNK084SN02Q""#, &["TypeIdUuid"]),
        (r#""user_01h455vb4pex5vsknk084sn02q""#, &["TypeIdUuid"]),
    ]);
    refuses::<DynTypeId>(&[
        (r#""User_01h455vb4pex5vsknk084sn02q""#, &["TypeID"]),
        (r#""_01h455vb4pex5vsknk084sn02q""#, &["TypeID"]),
        (r#""user_01h455vb4pex5vsknk084sn02""#, &["TypeID"]),
    ]);
}

#[test]
fn instance_keys_and_process_ids_serialize_as_text() {
    round_trip(
        &InstanceKey::parse("billing-eu-WEB-03c9d1").unwrap(),
        r#""billing-eu-WEB-03c9d1""#,
    );
    let pid = ProcessInstanceId::from_parts(1_736_001_052_847, 12345, 0xa7f3_c92d).unwrap();
    round_trip(&pid, r#""20250104-143052.847-12345-a7f3c92d""#);
    let me = ProcessInstanceId::current();
    let json = serde_json::to_string(&me).unwrap();
    assert_eq!(
        serde_json::from_str::<ProcessInstanceId>(&json).unwrap(),
        me
    );

    refuses::<InstanceKey>(&[
        (r#""odin-PS-8F4A2B""#, &["InstanceKey", "odin-PS-8F4A2B"]),
        (r#""odin--PS-8f4a2b""#, &["InstanceKey"]),
        (r#""PS-8f4a2b""#, &["InstanceKey"]),
        (r#""odin-PS-8f4a2b\u0000""#, &["InstanceKey"]),
        (r#"{"project": "odin"}"#, &["InstanceKey"]),
    ]);
    refuses::<ProcessInstanceId>(&[
        (
            r#""20250104-143052-12345-a7f3c92d""#,
            &["ProcessInstanceId"],
        ),
        (
            r#""20251304-143052.847-12345-a7f3c92d""#,
            &["ProcessInstanceId"],
        ),
        (
            r#""20250104-143052.847-12345-a7f3c92""#,
            &["ProcessInstanceId"],
        ),
        (
            r#""20250104-143052.847-99999999999-a7f3c92d""#,
            &["ProcessInstanceId"],
        ),
        (r#"1736001052847"#, &["ProcessInstanceId"]),
    ]);
}

#[test]
fn snowflake_parts_serialize_as_a_map() {
    let id = Snowflake::new(175_928_847_299_117_063).unwrap();
    let parts = Layout::DISCORD.decompose(id);
    let json = serde_json::to_string(&parts).unwrap();
    assert_eq!(
        json,
        r#"{"timestamp_ms":1462015105796,"worker":1,"process":0,"sequence":7}"#
    );
    let back: SnowflakeParts = serde_json::from_str(&json).unwrap();
    assert_eq!(back, parts);
    assert_eq!(
        back.timestamp,
        UNIX_EPOCH + Duration::from_millis(1_462_015_105_796)
    );

    let plain = Layout::DEFAULT.decompose(Snowflake::new(1 << 22).unwrap());
    let json = serde_json::to_string(&plain).unwrap();
    assert!(json.contains(r#""process":null"#), "{json}");
    assert_eq!(
        serde_json::from_str::<SnowflakeParts>(&json).unwrap(),
        plain
    );
    // `process` may be left out; unknown fields are ignored; a sequence works too.
    let short: SnowflakeParts = serde_json::from_str(
        r#"{"sequence":0,"worker":0,"timestamp_ms":1704067200001,"extra":[1]}"#,
    )
    .unwrap();
    assert_eq!(short, plain);
    let tuple: SnowflakeParts = serde_json::from_str("[1462015105796, 1, 0, 7]").unwrap();
    assert_eq!(tuple, parts);

    refuses::<SnowflakeParts>(&[
        (
            r#"{"timestamp_ms":1,"worker":1,"process":null}"#,
            &["sequence"],
        ),
        (
            r#"{"timestamp_ms":1,"timestamp_ms":2,"worker":1,"sequence":0}"#,
            &["duplicate", "timestamp_ms"],
        ),
        (r#"{"timestamp_ms":-1,"worker":1,"sequence":0}"#, &["-1"]),
        (
            r#"{"timestamp_ms":"1","worker":1,"sequence":0}"#,
            &["string"],
        ),
        (
            r#"{"timestamp_ms":1,"worker":4294967296,"sequence":0}"#,
            &["4294967296"],
        ),
        (
            r#"{"timestamp_ms":1,"worker":1,"process":"x","sequence":0}"#,
            &["string"],
        ),
        (r#"[1, 2]"#, &["2"]),
        (r#""1462015105796""#, &["SnowflakeParts"]),
        (r#"null"#, &["SnowflakeParts"]),
    ]);
}

/// Timestamps beyond what `SystemTime` can hold are an error, not a panic (checked
/// where the platform's `SystemTime` is narrower than `u64` milliseconds allow).
#[test]
fn snowflake_parts_refuse_unrepresentable_times() {
    let json = format!(r#"{{"timestamp_ms":{},"worker":0,"sequence":0}}"#, u64::MAX);
    match serde_json::from_str::<SnowflakeParts>(&json) {
        Ok(parts) => assert_eq!(
            parts.timestamp,
            UNIX_EPOCH + Duration::from_millis(u64::MAX),
            "representable here, and then exact"
        ),
        Err(e) => assert!(e.to_string().contains("Unix epoch"), "{e}"),
    }
}

/// The values nest in users' serde structs like any other field.
#[test]
fn values_nest_in_derived_structs() {
    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Record {
        key: InstanceKey,
        started: ProcessInstanceId,
        hash: Option<HashId>,
        uuid: TypeIdUuid,
    }
    let record = Record {
        key: InstanceKey::parse("odin-PS-8f4a2b").unwrap(),
        started: ProcessInstanceId::from_parts(0, 1, 2).unwrap(),
        hash: None,
        uuid: TypeIdUuid::NIL,
    };
    let json = serde_json::to_string(&record).unwrap();
    assert_eq!(
        json,
        r#"{"key":"odin-PS-8f4a2b","started":"19700101-000000.000-1-00000002","hash":null,"uuid":"00000000000000000000000000"}"#
    );
    assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record);
    let bad = json.replace("odin-PS", "odin-ps-");
    let e = serde_json::from_str::<Record>(&bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("InstanceKey"), "{e}");
}
