//! The test strategies of derived types (features `proptest` and `arbitrary`): every
//! value is a valid ID under the canonical prefix, and the values reach every corner of
//! the type's grammar — each hash length and depth, child and display numbers of every
//! digit count, snowflakes of every decimal and base62 length, TypeID suffixes with
//! every first character. Runs are seeded, so what they cover is the same every run.

use std::collections::BTreeSet;
use std::fmt::Debug;

use arbitrary::{Arbitrary as FuzzArbitrary, Unstructured};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use regex::Regex;
use typed_id::{Body, HashId, HexKey, Seq, Snowflake, TypeIdUuid, TypedId};

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
#[typed_id(prefix = "WORK", width = 3)]
struct WorkItemId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "TICKET", accept = ["T"], width = 5)]
struct TicketId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "msg")]
struct MessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "evt", encoding = "base62", accept = ["event"])]
struct EventId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "odin-PS", accept = ["odin"])]
struct OdinKey(HexKey);

#[derive(TypedId)]
#[typed_id(prefix = "sess", len = 32)]
struct SessionKey(HexKey);

#[derive(TypedId)]
#[typed_id(prefix = "user", accept = ["usr"])]
struct UserId(TypeIdUuid);

/// Values drawn per type.
const SAMPLES: usize = 4_000;

/// `SAMPLES` values of `any::<T>()` from a seeded runner.
fn proptest_samples<T: TypedId + Arbitrary>() -> Vec<T> {
    let mut runner = TestRunner::deterministic();
    let strategy = any::<T>();
    (0..SAMPLES)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// `SAMPLES` values of `T::arbitrary` from pseudo-random byte strings of 0 to 80 bytes,
/// each also checked against the size hint.
fn arbitrary_samples<T>() -> Vec<T>
where
    T: TypedId + for<'a> FuzzArbitrary<'a>,
{
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let (_, max) = T::size_hint(0);
    let max = max.expect("a bounded size hint");
    (0..SAMPLES)
        .map(|_| {
            let len = (next() % 81) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let mut u = Unstructured::new(&bytes);
            let id = T::arbitrary(&mut u).expect("every input gives an ID");
            assert!(
                len - u.len() <= max,
                "{} read more than its size hint",
                T::NAME
            );
            id
        })
        .collect()
}

/// Every value displays under the canonical prefix, matches `PATTERN`, and parses back
/// to itself. Returns the texts after the prefix and separator.
fn check_valid<T: TypedId>(ids: &[T]) -> Vec<String> {
    let pattern = Regex::new(T::PATTERN).unwrap();
    let head = format!("{}{}", T::PREFIX, char::from(<T::Body as Body>::SEPARATOR));
    ids.iter()
        .map(|id| {
            let text = id.to_string();
            assert!(pattern.is_match(&text), "{}: {text:?}", T::NAME);
            assert_eq!(T::parse_id(&text).as_ref(), Ok(id), "{}: {text:?}", T::NAME);
            text.strip_prefix(&head)
                .unwrap_or_else(|| panic!("{}: {text:?} lacks {head:?}", T::NAME))
                .to_owned()
        })
        .collect()
}

/// Every value of `want` appears in `seen`.
fn assert_covers<V: Ord + Debug + Copy>(what: &str, seen: &BTreeSet<V>, want: &[V]) {
    let missing: Vec<V> = want.iter().copied().filter(|v| !seen.contains(v)).collect();
    assert!(missing.is_empty(), "{what}: never produced {missing:?}");
}

fn range(lo: usize, hi: usize) -> Vec<usize> {
    (lo..=hi).collect()
}

/// Hash bodies: every length, every depth, child numbers of every digit count, and
/// the extreme values.
fn check_hash_coverage(name: &str, bodies: &[String], len: (usize, usize), depth: usize) {
    let mut lens = BTreeSet::new();
    let mut depths = BTreeSet::new();
    let mut child_digits = BTreeSet::new();
    let mut chars = BTreeSet::new();
    for body in bodies {
        let mut parts = body.split('.');
        let hash = parts.next().unwrap();
        lens.insert(hash.len());
        chars.extend(hash.chars());
        let children: Vec<&str> = parts.collect();
        depths.insert(children.len());
        for c in children {
            child_digits.insert(c.len());
        }
    }
    assert_covers(&format!("{name} hash lengths"), &lens, &range(len.0, len.1));
    assert_covers(&format!("{name} depths"), &depths, &range(0, depth));
    if depth > 0 {
        assert_covers(
            &format!("{name} child digits"),
            &child_digits,
            &range(1, 10),
        );
    }
    let alphabet: Vec<char> = ('0'..='9').chain('a'..='z').collect();
    assert_covers(&format!("{name} hash characters"), &chars, &alphabet);
}

fn check_seq_coverage(name: &str, ids: &[u64], width: usize) {
    let digits: BTreeSet<usize> = ids.iter().map(|v| v.to_string().len()).collect();
    assert_covers(&format!("{name} digit counts"), &digits, &range(1, 18));
    assert!(
        ids.iter().any(|&v| v.to_string().len() < width),
        "{name}: nothing padded"
    );
}

fn check_snowflake_coverage(name: &str, bodies: &[String], longest: usize) {
    let lens: BTreeSet<usize> = bodies.iter().map(String::len).collect();
    assert_covers(&format!("{name} text lengths"), &lens, &range(1, longest));
}

fn check_typeid_coverage(name: &str, bodies: &[String]) {
    let first: BTreeSet<char> = bodies.iter().filter_map(|b| b.chars().next()).collect();
    assert_covers(
        &format!("{name} first characters"),
        &first,
        &['0', '1', '2', '3', '4', '5', '6', '7'],
    );
    let zeros: BTreeSet<usize> = bodies
        .iter()
        .map(|b| b.bytes().take_while(|&c| c == b'0').count())
        .collect();
    assert!(zeros.contains(&26), "{name}: never the nil UUID");
    assert!(
        zeros.len() > 20,
        "{name}: few leading-zero counts {zeros:?}"
    );
}

fn check_hex_coverage(name: &str, bodies: &[String], len: usize) {
    let chars: BTreeSet<char> = bodies.iter().flat_map(|b| b.chars()).collect();
    assert_covers(name, &chars, &['0', '9', 'a', 'f']);
    assert!(
        bodies.iter().all(|b| b.len() == len),
        "{name}: wrong length"
    );
}

/// The same coverage checks for a set of samples, however they were drawn.
macro_rules! check_all {
    ($samples:ident) => {{
        let el = $samples::<ElementId>();
        check_hash_coverage("ElementId", &check_valid(&el), (3, 8), 3);
        check_hash_coverage("NodeId", &check_valid(&$samples::<NodeId>()), (4, 6), 1);
        check_hash_coverage(
            "DocumentId",
            &check_valid(&$samples::<DocumentId>()),
            (3, 8),
            0,
        );

        let work = $samples::<WorkItemId>();
        check_valid(&work);
        check_seq_coverage(
            "WorkItemId",
            &work.iter().map(|w| w.value()).collect::<Vec<_>>(),
            3,
        );
        let tickets = $samples::<TicketId>();
        check_valid(&tickets);
        let values: Vec<u64> = tickets.iter().map(|t| t.value()).collect();
        check_seq_coverage("TicketId", &values, 5);

        check_snowflake_coverage("MessageId", &check_valid(&$samples::<MessageId>()), 19);
        check_snowflake_coverage("EventId", &check_valid(&$samples::<EventId>()), 11);

        check_hex_coverage("OdinKey", &check_valid(&$samples::<OdinKey>()), 6);
        check_hex_coverage("SessionKey", &check_valid(&$samples::<SessionKey>()), 32);

        check_typeid_coverage("UserId", &check_valid(&$samples::<UserId>()));
    }};
}

#[test]
fn proptest_strategies_cover_every_grammar_with_valid_ids() {
    check_all!(proptest_samples);
}

#[test]
fn arbitrary_impls_cover_every_grammar_with_valid_ids() {
    check_all!(arbitrary_samples);
}

#[test]
fn the_empty_fuzz_input_gives_the_smallest_id() {
    fn smallest<T: TypedId + for<'a> FuzzArbitrary<'a>>() -> String {
        T::arbitrary(&mut Unstructured::new(&[]))
            .unwrap()
            .to_string()
    }
    assert_eq!(smallest::<ElementId>(), "el-000");
    assert_eq!(smallest::<NodeId>(), "node-0000");
    assert_eq!(smallest::<WorkItemId>(), "WORK-001");
    assert_eq!(smallest::<TicketId>(), "TICKET-00001");
    assert_eq!(smallest::<MessageId>(), "msg-0");
    assert_eq!(smallest::<EventId>(), "evt-0");
    assert_eq!(smallest::<OdinKey>(), "odin-PS-000000");
    assert_eq!(smallest::<UserId>(), "user_00000000000000000000000000");
    // Bytes that run out part-way give the smallest of what is left.
    let id = <ElementId as FuzzArbitrary>::arbitrary(&mut Unstructured::new(&[5])).unwrap();
    assert_eq!(id.to_string(), "el-00000000");
}

/// A failing property shrinks to a small counterexample: proptest shrinks each choice
/// toward 0, which is toward the shortest hash, depth 1 and child number 1.
#[test]
fn failures_shrink_toward_the_smallest_id() {
    let config = Config {
        cases: 1_000,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let result = runner.run(&any::<ElementId>(), |id| {
        prop_assert!(id.depth() < 2, "too deep");
        Ok(())
    });
    let Err(TestError::Fail(_, minimal)) = result else {
        panic!("the property should fail: {result:?}");
    };
    assert_eq!(minimal.depth(), 2, "{minimal}");
    let text = minimal.to_string();
    let children: Vec<&str> = text.split('.').skip(1).collect();
    assert_eq!(children, ["1", "1"], "{minimal}");

    let result = runner.run(&any::<WorkItemId>(), |id| {
        prop_assert!(id.value() < 1_000);
        Ok(())
    });
    let Err(TestError::Fail(_, minimal)) = result else {
        panic!("the property should fail: {result:?}");
    };
    assert_eq!(minimal.to_text(), "WORK-1000");
}

proptest! {
    #![proptest_config(Config { cases: 500, failure_persistence: None, ..Config::default() })]

    /// Users' property tests: IDs as parameters, through `any::<T>()` and `T: Arbitrary`.
    #[test]
    fn ids_from_any_work_in_user_properties(el: ElementId, user: UserId, key in any::<OdinKey>()) {
        prop_assert_eq!(ElementId::parse(&el.to_text()), Ok(el));
        prop_assert!(el.root().is_ancestor_of(&el) || el.depth() == 0);
        prop_assert_eq!(UserId::from_uuid(user.uuid()), user);
        prop_assert!(key.to_text().starts_with("odin-PS-"));
    }
}
