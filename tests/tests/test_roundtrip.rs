//! Every value survives its text form: `parse(display(x)) == x` for every body, with
//! values generated across their whole ranges; and the values stay small.

use proptest::prelude::*;
use proptest::test_runner::Config;
use typed_id::{
    HashId, HashSpec, HexKey, HexSpec, InstanceKey, ParseIdError, Seq, SeqSpec, Snowflake, TypedId,
    codec,
};

#[derive(TypedId)]
#[typed_id(prefix = "el", accept = ["elem"])]
struct ElementId(HashId);

#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 4)]
struct WorkItemId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "evt", encoding = "base62")]
struct EventId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "odin-PS")]
struct OdinKey(HexKey);

fn config() -> Config {
    Config {
        cases: 3_000,
        failure_persistence: None,
        ..Config::default()
    }
}

fn child_number() -> impl Strategy<Value = u32> {
    prop_oneof![1u32..=12, 1u32..=u32::MAX, Just(u32::MAX)]
}

fn seq_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        1u64..=2_000,
        1u64..=Seq::MAX,
        Just(Seq::MAX),
        (0u32..18).prop_map(|k| 10u64.pow(k)),
        (1u32..=18).prop_map(|k| 10u64.pow(k) - 1),
    ]
}

fn snowflake_value() -> impl Strategy<Value = u64> {
    let max = i64::MAX as u64;
    prop_oneof![0u64..=1_000, 0u64..=max, Just(max), (max - 1_000)..=max]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn hash_id_round_trips(
        value: u64,
        len in 3u8..=8,
        children in prop::collection::vec(child_number(), 0..=3),
    ) {
        let mut id = HashId::from_hash_value(value, len).unwrap();
        let hash = id.as_str().to_owned();
        prop_assert_eq!(hash.len(), usize::from(len));
        for &n in &children {
            id = id.child(n).unwrap();
        }
        let text = id.to_string();
        let parsed = HashId::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed, id);
        prop_assert_eq!(parsed.as_str(), text.as_str());
        prop_assert_eq!(text.parse::<HashId>().unwrap(), id);
        prop_assert_eq!(parsed.hash_str(), hash.as_str());
        prop_assert_eq!(usize::from(parsed.depth()), children.len());
        prop_assert_eq!(parsed.child_numbers().collect::<Vec<_>>(), children.clone());
        // The tightest spec that still admits the ID accepts it too.
        let depth = u8::try_from(children.len()).unwrap();
        let tight = HashSpec::new(len, len, depth).unwrap();
        prop_assert_eq!(HashId::parse_with(&text, &tight).unwrap(), id);
        // Every ancestor round-trips as well.
        for a in id.ancestors() {
            prop_assert_eq!(HashId::parse(a.as_str()).unwrap(), a);
            prop_assert!(a.is_ancestor_of(&id));
        }
    }

    #[test]
    fn hash_id_order_is_byte_order(a_value: u64, b_value: u64, a_child in child_number(), b_child in child_number()) {
        let a = HashId::from_hash_value(a_value, 6).unwrap().child(a_child).unwrap();
        let b = HashId::from_hash_value(b_value, 6).unwrap().child(b_child).unwrap();
        prop_assert_eq!(a.cmp(&b), a.as_str().as_bytes().cmp(b.as_str().as_bytes()));
    }

    #[test]
    fn snowflake_round_trips_in_both_encodings(value in snowflake_value()) {
        let id = Snowflake::new(value).unwrap();
        let decimal = id.to_string();
        prop_assert_eq!(&decimal, &value.to_string());
        prop_assert_eq!(Snowflake::parse(&decimal).unwrap(), id);
        prop_assert_eq!(decimal.parse::<Snowflake>().unwrap(), id);
        let base62 = id.to_base62();
        prop_assert_eq!(Snowflake::parse_base62(base62.as_str()).unwrap(), id);
        prop_assert_eq!(codec::decode_base62(base62.as_str()).unwrap(), value);
        prop_assert_eq!(Snowflake::from_i64(id.as_i64()).unwrap(), id);
    }

    #[test]
    fn seq_round_trips_at_every_width(value in seq_value(), width in 1u8..=18) {
        let spec = SeqSpec::new(width).unwrap();
        let id = Seq::with_spec(value, &spec).unwrap();
        let text = id.to_string();
        let w = usize::from(width);
        prop_assert_eq!(&text, &format!("{value:0w$}"));
        let parsed = Seq::parse_with(&text, &spec).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed, id);
        prop_assert_eq!(parsed.value(), value);
        prop_assert_eq!(parsed.as_str(), text.as_str());
    }

    #[test]
    fn seq_order_is_numeric_order(a in seq_value(), b in seq_value()) {
        let (x, y) = (Seq::new(a).unwrap(), Seq::new(b).unwrap());
        prop_assert_eq!(x.cmp(&y), a.cmp(&b));
    }

    #[test]
    fn hex_key_round_trips(bytes: [u8; 16], len in 4u8..=32) {
        let key = HexKey::from_bytes(&bytes, len).unwrap();
        let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        prop_assert_eq!(key.as_str(), &expected[..usize::from(len)]);
        let shown = key.to_string(); // Display, not the borrowed text
        let parsed = HexKey::parse_with(&shown, &HexSpec::new(len).unwrap())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed, key);
    }

    #[test]
    fn instance_key_round_trips(
        project in "[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8}){0,4}",
        kind in "[A-Za-z0-9]{1,16}",
        hex in "[0-9a-f]{4,32}",
    ) {
        let key = InstanceKey::from_parts(&project, &kind, &hex)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = key.to_string();
        prop_assert_eq!(&text, &format!("{project}-{kind}-{hex}"));
        let parsed: InstanceKey = text.parse().map_err(|e: ParseIdError| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed, key);
        prop_assert_eq!(
            (parsed.project(), parsed.kind(), parsed.hex()),
            (project.as_str(), kind.as_str(), hex.as_str())
        );
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn derived_types_round_trip(
        value: u64,
        len in 3u8..=8,
        children in prop::collection::vec(child_number(), 0..=3),
        number in seq_value(),
        snowflake in snowflake_value(),
        key: [u8; 3],
    ) {
        let mut body = HashId::from_hash_value(value, len).unwrap();
        for &n in &children {
            body = body.child(n).unwrap();
        }
        let id = ElementId::try_from(body).unwrap();
        let text = id.to_string();
        prop_assert_eq!(&text, &format!("el-{body}"));
        let parsed = ElementId::parse(&text).unwrap();
        prop_assert_eq!(parsed, id);
        prop_assert_eq!(parsed.to_text(), text.as_str());
        prop_assert_eq!(ElementId::parse(&format!("elem-{body}")).unwrap(), id);
        prop_assert_eq!(id.body(), body);

        let work = WorkItemId::new(number).unwrap();
        let shown = work.to_string(); // Display, not the borrowed text
        prop_assert_eq!(WorkItemId::parse(&shown).unwrap(), work);
        prop_assert_eq!(work.to_string(), format!("WORK-{number:04}"));

        let event = EventId::from_u64(snowflake).unwrap();
        prop_assert_eq!(EventId::parse(&event.to_string()).unwrap(), event);

        let odin = OdinKey::try_from(HexKey::from_bytes(&key, 6).unwrap()).unwrap();
        prop_assert_eq!(OdinKey::parse(&odin.to_text()).unwrap(), odin);
    }
}

#[test]
fn values_are_small() {
    use std::mem::{align_of, size_of};

    /// Prints the sizes (run with `--nocapture`) and checks that `Option` costs at
    /// most one alignment unit.
    fn report<T>(name: &str) -> usize {
        let (size, option) = (size_of::<T>(), size_of::<Option<T>>());
        println!(
            "{name:<12} {size:>3} bytes, Option {option:>3}, Result<_, ParseIdError> {:>3}",
            size_of::<Result<T, ParseIdError>>()
        );
        assert!(
            option <= size + align_of::<T>(),
            "{name}: Option is {option} bytes"
        );
        size
    }

    assert_eq!(report::<Snowflake>("Snowflake"), 8);
    assert!(report::<HashId>("HashId") <= 48);
    assert!(report::<Seq>("Seq") <= 48);
    assert!(report::<HexKey>("HexKey") <= 64);
    assert!(report::<InstanceKey>("InstanceKey") <= 104);
    // The always-clear sign bit is the niche: `None` costs nothing.
    assert_eq!(size_of::<Option<Snowflake>>(), 8);
    // A derived type is its body: the prefix lives in the text it already stores.
    assert_eq!(size_of::<ElementId>(), size_of::<HashId>());
    assert_eq!(size_of::<WorkItemId>(), size_of::<Seq>());
    assert_eq!(size_of::<EventId>(), 8);
    // Errors stay cheap to return: no heap, a bounded inline snippet.
    assert!(
        size_of::<ParseIdError>() <= 128,
        "{}",
        size_of::<ParseIdError>()
    );
}
