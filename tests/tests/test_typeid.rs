//! TypeID: the specification's published vectors (tests/data/typeid, spec 0.3.0; see
//! the README there for their source), the pattern against the parser, and UUIDv7
//! generation across threads.

use std::collections::HashSet;

use proptest::prelude::*;
use regex::Regex;
use serde::Deserialize;
use typed_id::{DynTypeId, IdError, ParseErrorKind, TypeIdUuid};

#[derive(Deserialize)]
struct Valid {
    name: String,
    typeid: String,
    prefix: String,
    uuid: String,
}

#[derive(Deserialize)]
struct Invalid {
    name: String,
    typeid: String,
    description: String,
}

fn vectors<T: for<'de> Deserialize<'de>>(file: &str) -> Vec<T> {
    let path = format!("{}/data/typeid/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn uuid_from_hex(text: &str) -> u128 {
    let hex: String = text.chars().filter(|&c| c != '-').collect();
    assert_eq!(hex.len(), 32, "{text}");
    u128::from_str_radix(&hex, 16).unwrap()
}

#[test]
fn every_valid_vector_decodes_and_encodes_back() {
    let valid: Vec<Valid> = vectors("valid.json");
    assert!(valid.len() >= 9, "the vector file shrank: {}", valid.len());
    let pattern = Regex::new(DynTypeId::PATTERN).unwrap();
    for v in &valid {
        let id = DynTypeId::parse(&v.typeid)
            .unwrap_or_else(|e| panic!("vector {:?} ({}): {e}", v.name, v.typeid));
        assert_eq!(id.prefix(), v.prefix, "{}", v.name);
        assert_eq!(id.uuid().to_u128(), uuid_from_hex(&v.uuid), "{}", v.name);
        // Encoding the UUID under the prefix gives the vector's text.
        let encoded = DynTypeId::new(&v.prefix, TypeIdUuid::from_u128(uuid_from_hex(&v.uuid)))
            .unwrap()
            .to_string();
        assert_eq!(encoded, v.typeid, "{}", v.name);
        assert!(pattern.is_match(&v.typeid), "PATTERN rejects {:?}", v.name);
    }
}

#[test]
fn every_invalid_vector_is_rejected_by_parser_and_pattern() {
    let invalid: Vec<Invalid> = vectors("invalid.json");
    assert!(
        invalid.len() >= 20,
        "the vector file shrank: {}",
        invalid.len()
    );
    let pattern = Regex::new(DynTypeId::PATTERN).unwrap();
    for v in &invalid {
        let err = DynTypeId::parse(&v.typeid);
        assert!(
            err.is_err(),
            "vector {:?} ({:?}) parsed: {}",
            v.name,
            v.typeid,
            v.description
        );
        assert!(!pattern.is_match(&v.typeid), "PATTERN accepts {:?}", v.name);
    }
}

#[test]
fn errors_name_the_byte_and_what_was_expected() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "user_8zzzzzzzzzzzzzzzzzzzzzzzzz",
            5,
            "found '8' where a base32 digit 0-7 (a suffix holds at most 128 bits) was expected",
        ),
        (
            "user_01h455vb4pex5vsknk084sn02",
            30,
            "TypeID suffix has 25 characters, expected 26",
        ),
        (
            "user_01h455vb4pex5vsknk084sn0iq",
            29,
            "found 'i' where a lowercase base32 digit (0-9, a-z except i, l, o, u) was expected",
        ),
        (
            "us3r_01h455vb4pex5vsknk084sn02q",
            2,
            "found '3' where a lowercase letter (a-z) or '_' was expected",
        ),
        (
            "_01h455vb4pex5vsknk084sn02q",
            0,
            "found '_' where a lowercase letter (a-z) was expected",
        ),
    ];
    for &(input, index, reason) in cases {
        let err = DynTypeId::parse(input).unwrap_err();
        assert_eq!(err.index(), index, "{input:?}: {err}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("invalid TypeID {input:?}: ")),
            "{input:?}: {text}"
        );
        assert!(
            text.ends_with(&format!("{reason} at byte {index}")),
            "{input:?}: {text}"
        );
    }
    assert_eq!(
        DynTypeId::parse("").unwrap_err().to_string(),
        r#"invalid TypeID "": empty input"#
    );
    // A 64-letter prefix makes the text longer than any TypeID: refused unscanned.
    let long = format!("{}_01h455vb4pex5vsknk084sn02q", "a".repeat(64));
    assert!(matches!(
        DynTypeId::parse(&long).unwrap_err().kind(),
        ParseErrorKind::TooLong { len: 91, max: 90 }
    ));
    assert!(matches!(
        DynTypeId::new(&"a".repeat(64), TypeIdUuid::NIL),
        Err(IdError::Shape(ParseErrorKind::PartTooLong {
            len: 64,
            max: 63,
            ..
        }))
    ));
    let huge = "a".repeat(10_000);
    assert!(matches!(
        DynTypeId::parse(&huge).unwrap_err().kind(),
        ParseErrorKind::TooLong { .. }
    ));
}

#[test]
fn v7_values_are_distinct_and_increasing_across_threads() {
    let per_thread = 20_000;
    let handles: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut ids = Vec::with_capacity(per_thread);
                for _ in 0..per_thread {
                    ids.push(TypeIdUuid::now_v7().unwrap());
                }
                ids
            })
        })
        .collect();
    let mut all = HashSet::new();
    for handle in handles {
        let ids = handle.join().unwrap();
        // Each thread sees a strictly increasing sequence (the generator is one per
        // process), and every value is a UUIDv7 with the RFC 9562 variant.
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        for id in ids {
            assert_eq!(id.version(), 7);
            assert_eq!((id.to_u128() >> 62) & 0b11, 0b10);
            assert!(all.insert(id), "{id:?} twice");
        }
    }
    assert_eq!(all.len(), 4 * per_thread);
}

fn prefix_strategy() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z]", "[a-z][a-z_]{0,61}[a-z]",]
}

proptest! {
    #[test]
    fn display_parses_back(prefix in prefix_strategy(), value: u128) {
        let id = DynTypeId::new(&prefix, TypeIdUuid::from_u128(value)).unwrap();
        let text = id.to_string();
        prop_assert_eq!(DynTypeId::parse(&text).unwrap(), id);
        prop_assert!(Regex::new(DynTypeId::PATTERN).unwrap().is_match(&text));
    }

    #[test]
    fn parser_and_pattern_agree(input in "[a-z_0-9A-Z]{0,4}_?[0-9a-z]{24,27}") {
        let pattern = Regex::new(DynTypeId::PATTERN).unwrap();
        prop_assert_eq!(DynTypeId::parse(&input).is_ok(), pattern.is_match(&input), "{}", input);
    }

    #[test]
    fn parser_and_pattern_agree_on_mutated_ids(value: u128, at in 0usize..31, byte in 0u8..128) {
        let mut text = format!("user_{}", TypeIdUuid::from_u128(value)).into_bytes();
        text[at] = byte;
        if let Ok(input) = String::from_utf8(text) {
            let pattern = Regex::new(DynTypeId::PATTERN).unwrap();
            prop_assert_eq!(DynTypeId::parse(&input).is_ok(), pattern.is_match(&input), "{:?}", input);
        }
    }
}

mod derived {
    use std::collections::HashSet;

    use regex::Regex;
    use typed_id::{ParseErrorKind, TypeIdUuid, TypedId};

    /// A user, as another service's TypeIDs name it.
    #[derive(TypedId)]
    #[typed_id(prefix = "user")]
    struct UserId(TypeIdUuid);

    /// A prefix with underscores, and a legacy one still accepted.
    #[derive(TypedId)]
    #[typed_id(prefix = "order_item", accept = ["item"])]
    struct OrderItemId(TypeIdUuid);

    /// Through an alias, named by `kind`.
    type Body = TypeIdUuid;
    #[derive(TypedId)]
    #[typed_id(prefix = "acct", kind = "typeid")]
    struct AccountId(Body);

    #[test]
    fn a_derived_typeid_parses_displays_and_agrees_with_its_pattern() {
        let id = UserId::parse("user_01h455vb4pex5vsknk084sn02q").unwrap();
        assert_eq!(id.to_string(), "user_01h455vb4pex5vsknk084sn02q");
        assert_eq!(
            format!("{id:?}"),
            r#"UserId("user_01h455vb4pex5vsknk084sn02q")"#
        );
        assert_eq!(id.uuid().version(), 7);
        assert_eq!(UserId::from_uuid(id.uuid()), id);
        assert_eq!(UserId::PREFIX, "user");
        assert_eq!(UserId::PATTERN, "^user_[0-7][0-9a-hjkmnp-tv-z]{25}$");
        assert_eq!(size_of::<UserId>(), 16);

        let err = UserId::parse("usr_01h455vb4pex5vsknk084sn02q").unwrap_err();
        assert_eq!(
            err.kind(),
            ParseErrorKind::TypeIdPrefix { expected: "user" }
        );
        assert_eq!(
            err.to_string(),
            r#"invalid UserId "usr_01h455vb4pex5vsknk084sn02q": expected prefix "user_" at byte 0"#
        );
        // The dash form of the other bodies is not a TypeID.
        assert!(UserId::parse("user-01h455vb4pex5vsknk084sn02q").is_err());
        assert!(UserId::parse("user_81h455vb4pex5vsknk084sn02q").is_err());

        let legacy = OrderItemId::parse("item_01h455vb4pex5vsknk084sn02q").unwrap();
        assert_eq!(legacy.to_string(), "order_item_01h455vb4pex5vsknk084sn02q");
        let pattern = Regex::new(OrderItemId::PATTERN).unwrap();
        assert!(pattern.is_match("item_01h455vb4pex5vsknk084sn02q"));
        assert!(pattern.is_match("order_item_01h455vb4pex5vsknk084sn02q"));
        assert!(!pattern.is_match("order_01h455vb4pex5vsknk084sn02q"));
        assert!(AccountId::parse("acct_00000000000000000000000000").is_ok());
    }

    #[test]
    fn generated_ids_are_v7_distinct_and_increasing() {
        let mut seen = HashSet::new();
        let mut last = UserId::generate().unwrap();
        for _ in 0..10_000 {
            let next = UserId::generate().unwrap();
            assert!(next > last);
            assert!(
                next.to_string() > last.to_string(),
                "text order is time order"
            );
            assert!(seen.insert(next));
            last = next;
        }
        assert!(
            Regex::new(UserId::PATTERN)
                .unwrap()
                .is_match(&last.to_string())
        );
    }

    #[test]
    fn serde_and_diesel_carry_the_text() {
        use diesel::prelude::*;
        let id = UserId::parse("user_01h455vb4pex5vsknk084sn02q").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, r#""user_01h455vb4pex5vsknk084sn02q""#);
        assert_eq!(serde_json::from_str::<UserId>(&json).unwrap(), id);
        let err = serde_json::from_str::<UserId>(r#""user_8zzzzzzzzzzzzzzzzzzzzzzzzz""#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("UserId"), "{err}");

        let db = typed_id_tests::sqlite::TempSqlite::new();
        let mut conn = db.connect();
        diesel::sql_query("CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL)")
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query("INSERT INTO users (id) VALUES (?)")
            .bind::<diesel::sql_types::Text, _>(id)
            .execute(&mut conn)
            .unwrap();
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            id: UserId,
        }
        let rows: Vec<Row> = diesel::sql_query("SELECT id FROM users")
            .load(&mut conn)
            .unwrap();
        assert_eq!(rows[0].id, id);
    }
}

/// A suffix of the wrong length that is not ASCII: the error points at the first
/// character outside the alphabet, on a character boundary, not at byte 26 (which may
/// fall inside a character). Found by the `typeid` fuzz target's first seed run
/// (`fuzz/corpus/typeid/regression-non-ascii-suffix-length`).
#[test]
fn wrong_length_non_ascii_suffixes_report_a_character() {
    use typed_id::TypedId;

    #[derive(TypedId)]
    #[typed_id(prefix = "user")]
    struct UserId(TypeIdUuid);

    let replacement = "\u{fffd}".repeat(16);
    let accented = format!("user_{}", "é".repeat(20));
    let late = format!("{}éé", "0".repeat(25));
    for input in [replacement.as_str(), accented.as_str(), late.as_str()] {
        for e in [
            DynTypeId::parse(input).unwrap_err(),
            UserId::parse(input).unwrap_err(),
        ] {
            assert!(input.is_char_boundary(e.index()), "{input:?}: {e}");
        }
    }
    let e = DynTypeId::parse(&replacement).unwrap_err();
    assert_eq!(
        e.kind(),
        ParseErrorKind::UnexpectedChar {
            found: '\u{fffd}',
            expected: typed_id::Expected::Base32Digit
        }
    );
    assert_eq!(e.index(), 0);
    assert_eq!(DynTypeId::parse(&late).unwrap_err().index(), 25);
}
