//! Hostile and edge-case input for every body parser, table-driven.
//!
//! Each rejection is checked for its exact `ParseErrorKind` and byte index, every case
//! runs under `catch_unwind` so one panic cannot hide the others, and every error is
//! checked for the invariants a caller relies on: the index is a character boundary
//! inside the input, the type name is right, and the message reads
//! `invalid Type "input": reason at byte N`.

use std::fmt::{Debug, Display};
use std::panic::{AssertUnwindSafe, catch_unwind};

use typed_id::{
    Expected as E, HashId, HashSpec, HexKey, HexSpec, InstanceKey, ParseErrorKind as K,
    ParseIdError, Seq, SeqSpec, Snowflake, TypedId,
};

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
#[typed_id(prefix = "odin-PS")]
struct OdinKey(HexKey);

const U32_MAX: u64 = u32::MAX as u64;
const I64_MAX: u64 = i64::MAX as u64;

fn ch(found: char, expected: E) -> K {
    K::UnexpectedChar { found, expected }
}

fn end(expected: E) -> K {
    K::UnexpectedEnd { expected }
}

fn hash_len(len: usize) -> K {
    K::HashLength {
        len,
        min: 3,
        max: 8,
    }
}

/// Checks the invariants every error must satisfy, whatever its kind.
fn error_invariants(type_name: &str, input: &str, e: &ParseIdError) -> Result<(), String> {
    if e.type_name() != type_name {
        return Err(format!("type name {:?}", e.type_name()));
    }
    if e.index() > input.len() || !input.is_char_boundary(e.index()) {
        return Err(format!("index {} is not a char boundary", e.index()));
    }
    if e.input_len() != input.len() || !input.starts_with(e.input_snippet()) {
        return Err(format!(
            "snippet {:?} / len {}",
            e.input_snippet(),
            e.input_len()
        ));
    }
    let msg = e.to_string();
    let head = format!("invalid {type_name} \"");
    if !msg.starts_with(&head) {
        return Err(format!("message {msg:?}"));
    }
    let located = !matches!(e.kind(), K::Empty | K::TooLong { .. });
    if located && !msg.ends_with(&format!(" at byte {}", e.index())) {
        return Err(format!("message {msg:?} does not name the byte"));
    }
    Ok(())
}

/// Parses every input, expecting the given error kind and byte index; reports all
/// mismatches at once.
fn expect_rejected<T: Debug, S: AsRef<str>>(
    type_name: &str,
    parse: impl Fn(&str) -> Result<T, ParseIdError>,
    cases: &[(S, usize, K)],
) {
    let mut failures = Vec::new();
    for (input, index, kind) in cases {
        let input = input.as_ref();
        let shown = shorten(input);
        match catch_unwind(AssertUnwindSafe(|| parse(input))) {
            Err(_) => failures.push(format!("{shown}: panicked")),
            Ok(Ok(v)) => failures.push(format!(
                "{shown}: accepted as {v:?}, expected {kind:?} at {index}"
            )),
            Ok(Err(e)) => {
                if e.kind() != *kind || e.index() != *index {
                    failures.push(format!(
                        "{shown}: got {:?} at {}, expected {kind:?} at {index}",
                        e.kind(),
                        e.index()
                    ));
                }
                if let Err(why) = error_invariants(type_name, input, &e) {
                    failures.push(format!("{shown}: {why}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {type_name} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Parses every input, expecting success and the given canonical text back.
fn expect_accepted<T: Display>(
    parse: impl Fn(&str) -> Result<T, ParseIdError>,
    cases: &[(&str, &str)],
) {
    let mut failures = Vec::new();
    for &(input, display) in cases {
        match catch_unwind(AssertUnwindSafe(|| parse(input))) {
            Err(_) => failures.push(format!("{input:?}: panicked")),
            Ok(Err(e)) => failures.push(format!("{input:?}: rejected: {e}")),
            Ok(Ok(v)) if v.to_string() != display => {
                failures.push(format!(
                    "{input:?}: displays as {:?}, not {display:?}",
                    v.to_string()
                ));
            }
            Ok(Ok(_)) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn shorten(s: &str) -> String {
    if s.len() <= 60 {
        format!("{s:?}")
    } else {
        let cut = (0..=60).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        format!("{:?}… ({} bytes)", &s[..cut], s.len())
    }
}

/// One mebibyte (exactly) of hostile input whose first byte is already invalid, so an error
/// other than `TooLong` would show the parser scanned it.
fn megabyte(first: &str) -> String {
    let mut s = String::with_capacity(1 << 20);
    s.push_str(first);
    while s.len() + 6 <= 1 << 20 {
        s.push_str("é😀");
    }
    while s.len() < 1 << 20 {
        s.push('x');
    }
    s
}

fn too_long(len: usize, max: usize) -> K {
    K::TooLong { len, max }
}

// ---------------------------------------------------------------------------------
// HashId

#[test]
fn hash_id_rejects_hostile_input() {
    let overflow = K::Overflow { max: U32_MAX };
    let thirty = format!("abc.{}", "9".repeat(30));
    let cases: Vec<(String, usize, K)> = [
        ("", 0, K::Empty),
        // Non-ASCII and control characters.
        ("a3fé9", 3, ch('é', E::Base36Digit)),
        ("é", 0, ch('é', E::Base36Digit)),
        ("a3f😀", 3, ch('😀', E::Base36Digit)),
        ("😀abc", 0, ch('😀', E::Base36Digit)),
        ("abc.é", 4, ch('é', E::NonZeroDigit)),
        ("abc.1é", 5, ch('é', E::DotOrEnd)),
        ("abc.１", 4, ch('１', E::NonZeroDigit)),
        ("abc\0", 3, ch('\0', E::Base36Digit)),
        ("\0abc", 0, ch('\0', E::Base36Digit)),
        ("abc.1\0", 5, ch('\0', E::DotOrEnd)),
        ("abc\u{7f}", 3, ch('\u{7f}', E::Base36Digit)),
        // Uppercase is not canonical.
        ("A3F8E9", 0, ch('A', E::Base36Digit)),
        ("a3F8e9", 2, ch('F', E::Base36Digit)),
        ("abcdefgH", 7, ch('H', E::Base36Digit)),
        ("abcdefghI", 8, ch('I', E::DotOrEnd)),
        // Depth.
        ("abc.1.1.1.1", 9, K::TooDeep { max_depth: 3 }),
        ("abc.1.2.3.", 9, K::TooDeep { max_depth: 3 }),
        ("abc.1.1.1.0", 9, K::TooDeep { max_depth: 3 }),
        // Child numbers.
        ("abc.0", 4, K::ZeroChild),
        ("abc.0.1", 4, K::ZeroChild),
        ("abc.1.0", 6, K::ZeroChild),
        ("abc.01", 4, K::LeadingZero),
        ("abc.00", 4, K::LeadingZero),
        ("abc.1.2.007", 8, K::LeadingZero),
        ("abc.4294967296", 4, overflow),
        ("abc.9999999999", 4, overflow),
        ("abc.42949672950", 4, overflow),
        ("abc.1.99999999999", 6, overflow),
        (thirty.as_str(), 4, overflow),
        ("abc.4294967295a", 14, ch('a', E::DotOrEnd)),
        // Hash length.
        ("ab", 0, hash_len(2)),
        ("a", 0, hash_len(1)),
        ("ab.1", 0, hash_len(2)),
        ("abcdefghi", 0, hash_len(9)),
        ("abcdefghi.1", 0, hash_len(9)),
        ("abcdefghijklmnopqrstuvwxyz0123456789", 0, hash_len(36)),
        // Missing, doubled and stray separators.
        ("abc..1", 4, ch('.', E::NonZeroDigit)),
        ("abc.", 4, end(E::NonZeroDigit)),
        (".1", 0, ch('.', E::Base36Digit)),
        (".", 0, ch('.', E::Base36Digit)),
        ("abc1.", 5, end(E::NonZeroDigit)),
        ("abc.1.", 6, end(E::NonZeroDigit)),
        ("abc.1..2", 6, ch('.', E::NonZeroDigit)),
        ("abc-1", 3, ch('-', E::Base36Digit)),
        ("el-abc", 2, ch('-', E::Base36Digit)),
        // Signs.
        ("abc.+1", 4, ch('+', E::NonZeroDigit)),
        ("abc.-1", 4, ch('-', E::NonZeroDigit)),
        ("+abc", 0, ch('+', E::Base36Digit)),
        // Whitespace.
        (" abc", 0, ch(' ', E::Base36Digit)),
        ("abc ", 3, ch(' ', E::Base36Digit)),
        ("abc.1 ", 5, ch(' ', E::DotOrEnd)),
        ("abcdefgh ", 8, ch(' ', E::DotOrEnd)),
        ("\tabc", 0, ch('\t', E::Base36Digit)),
        ("abc\n", 3, ch('\n', E::Base36Digit)),
        ("abc.1\r\n", 5, ch('\r', E::DotOrEnd)),
        // One byte over the longest valid body (41 bytes).
        (
            "abcdefgh.4294967295.4294967295.42949672955",
            0,
            too_long(42, 41),
        ),
    ]
    .into_iter()
    .map(|(s, i, k)| (s.to_owned(), i, k))
    .chain([
        (megabyte("a"), 0, too_long(1 << 20, 41)),
        (megabyte("A"), 0, too_long(1 << 20, 41)),
        (megabyte("é"), 0, too_long(1 << 20, 41)),
        ("a".repeat(1_000_000), 0, too_long(1_000_000, 41)),
    ])
    .collect();
    expect_rejected("HashId", HashId::parse, &cases);
}

#[test]
fn hash_id_accepts_edge_cases() {
    expect_accepted(
        HashId::parse,
        &[
            ("000.4294967295", "000.4294967295"),
            ("abc", "abc"),
            ("000", "000"),
            ("zzzzzzzz", "zzzzzzzz"),
            ("abcdefgh", "abcdefgh"),
            ("a3f8e9.1.2", "a3f8e9.1.2"),
            ("abc.1.1.1", "abc.1.1.1"),
            ("abc.10.200.3000", "abc.10.200.3000"),
            (
                "abcdefgh.4294967295.4294967295.4294967295",
                "abcdefgh.4294967295.4294967295.4294967295",
            ),
            ("abc.1000000000", "abc.1000000000"),
        ],
    );
    let id = HashId::parse("abcdefgh.4294967295.4294967295.4294967295").unwrap();
    assert_eq!(id.depth(), 3);
    assert_eq!(id.child_numbers().collect::<Vec<_>>(), [u32::MAX; 3]);
    assert_eq!(
        HashId::parse("000.4294967295").unwrap().child_number(),
        Some(u32::MAX)
    );
}

#[test]
fn hash_id_honours_narrower_specs() {
    let spec = HashSpec::new(4, 6, 1).unwrap();
    let narrow = |s: &str| HashId::parse_with(s, &spec);
    expect_accepted(narrow, &[("abcd", "abcd"), ("abcdef.7", "abcdef.7")]);
    let len = |len| K::HashLength {
        len,
        min: 4,
        max: 6,
    };
    expect_rejected(
        "HashId",
        narrow,
        &[
            ("abc", 0, len(3)),
            ("abc.1", 0, len(3)),
            ("abcdefg", 0, len(7)),
            ("abcdefX", 6, ch('X', E::DotOrEnd)),
            ("abcdeX", 5, ch('X', E::Base36Digit)),
            ("abcd.1.2", 6, K::TooDeep { max_depth: 1 }),
            ("abcd.4294967296", 5, K::Overflow { max: U32_MAX }),
            // 6 + 11 bytes at most.
            ("abcdef.4294967295x", 0, too_long(18, 17)),
        ],
    );

    let roots_only = HashSpec::new(3, 8, 0).unwrap();
    let flat = |s: &str| HashId::parse_with(s, &roots_only);
    expect_accepted(flat, &[("abc", "abc"), ("abcdefgh", "abcdefgh")]);
    expect_rejected(
        "HashId",
        flat,
        &[
            ("abc.1", 3, K::TooDeep { max_depth: 0 }),
            ("abc.", 3, K::TooDeep { max_depth: 0 }),
            ("abcdefgh.1", 0, too_long(10, 8)),
        ],
    );

    let exact = HashSpec::new(8, 8, 3).unwrap();
    let exact_parse = |s: &str| HashId::parse_with(s, &exact);
    expect_accepted(exact_parse, &[("a3f8e9zz.1.2.3", "a3f8e9zz.1.2.3")]);
    expect_rejected(
        "HashId",
        exact_parse,
        &[(
            "a3f8e9z.1",
            0,
            K::HashLength {
                len: 7,
                min: 8,
                max: 8,
            },
        )],
    );
}

// ---------------------------------------------------------------------------------
// Snowflake

#[test]
fn snowflake_decimal_rejects_hostile_input() {
    let overflow = K::Overflow { max: I64_MAX };
    let cases: Vec<(String, usize, K)> = [
        ("", 0, K::Empty),
        ("-1", 0, ch('-', E::Digit)),
        ("+1", 0, ch('+', E::Digit)),
        ("01", 0, K::LeadingZero),
        ("00", 0, K::LeadingZero),
        ("0000000000000000001", 0, K::LeadingZero),
        ("9223372036854775808", 0, overflow),
        ("9999999999999999999", 0, overflow),
        ("18446744073709551615", 0, too_long(20, 19)),
        ("18446744073709551616", 0, too_long(20, 19)),
        ("12a", 2, ch('a', E::Digit)),
        ("0x1f", 1, ch('x', E::Digit)),
        ("1e3", 1, ch('e', E::Digit)),
        ("1.5", 1, ch('.', E::Digit)),
        ("1_000", 1, ch('_', E::Digit)),
        (" 1", 0, ch(' ', E::Digit)),
        ("1 ", 1, ch(' ', E::Digit)),
        ("١٢٣", 0, ch('١', E::Digit)),
        ("12😀", 2, ch('😀', E::Digit)),
        ("7\0", 1, ch('\0', E::Digit)),
        ("1BvP7xZ5J1t", 1, ch('B', E::Digit)),
    ]
    .into_iter()
    .map(|(s, i, k)| (s.to_owned(), i, k))
    .chain([(megabyte("1"), 0, too_long(1 << 20, 19))])
    .collect();
    expect_rejected("Snowflake", Snowflake::parse, &cases);
    expect_accepted(
        Snowflake::parse,
        &[
            ("0", "0"),
            ("1", "1"),
            ("9223372036854775807", "9223372036854775807"),
            ("1767053847123456789", "1767053847123456789"),
        ],
    );
    assert_eq!(
        Snowflake::parse("9223372036854775807").unwrap(),
        Snowflake::MAX
    );
}

#[test]
fn snowflake_base62_rejects_hostile_input() {
    let overflow = K::Overflow { max: I64_MAX };
    expect_rejected(
        "Snowflake",
        Snowflake::parse_base62,
        &[
            ("", 0, K::Empty),
            ("AzL8n0Y58m8", 0, overflow),
            ("LygHa16AHYF", 0, overflow),
            ("zzzzzzzzzzz", 0, overflow),
            ("00", 0, K::LeadingZero),
            ("0A", 0, K::LeadingZero),
            ("-1", 0, ch('-', E::Base62Digit)),
            ("+1", 0, ch('+', E::Base62Digit)),
            ("1Bv+", 3, ch('+', E::Base62Digit)),
            ("1Bv ", 3, ch(' ', E::Base62Digit)),
            ("é", 0, ch('é', E::Base62Digit)),
            ("1BvP7xZ5J1tA", 0, too_long(12, 11)),
        ],
    );
    let max = Snowflake::parse_base62("AzL8n0Y58m7").unwrap();
    assert_eq!(max, Snowflake::MAX);
    assert_eq!(Snowflake::parse_base62("0").unwrap().as_u64(), 0);
    assert_eq!(Snowflake::parse_base62("z").unwrap().as_u64(), 61);
    assert_eq!(Snowflake::parse_base62("10").unwrap().as_u64(), 62);
    assert_eq!(Snowflake::MAX.to_base62().as_str(), "AzL8n0Y58m7");
}

// ---------------------------------------------------------------------------------
// Seq

#[test]
fn seq_rejects_hostile_input() {
    let narrow = K::TooNarrow { width: 3 };
    let cases: Vec<(String, usize, K)> = [
        ("", 0, K::Empty),
        ("42", 0, narrow),
        ("0", 0, narrow),
        ("1", 0, narrow),
        ("0042", 0, K::LeadingZero),
        ("0000", 0, K::LeadingZero),
        ("01000", 0, K::LeadingZero),
        ("000", 0, K::ZeroNumber),
        ("1234567890123456789", 0, too_long(19, 18)),
        ("1000000000000000000", 0, too_long(19, 18)),
        ("-42", 0, ch('-', E::Digit)),
        ("+042", 0, ch('+', E::Digit)),
        ("042 ", 3, ch(' ', E::Digit)),
        (" 042", 0, ch(' ', E::Digit)),
        ("04 2", 2, ch(' ', E::Digit)),
        ("1e3", 1, ch('e', E::Digit)),
        ("4２", 1, ch('２', E::Digit)),
        ("04\0", 2, ch('\0', E::Digit)),
        ("WORK-042", 0, ch('W', E::Digit)),
    ]
    .into_iter()
    .map(|(s, i, k)| (s.to_owned(), i, k))
    .chain([(megabyte("0"), 0, too_long(1 << 20, 18))])
    .collect();
    expect_rejected("Seq", Seq::parse, &cases);
    expect_accepted(
        Seq::parse,
        &[
            ("001", "001"),
            ("042", "042"),
            ("999", "999"),
            ("1000", "1000"),
            ("999999999999999999", "999999999999999999"),
        ],
    );
    assert_eq!(Seq::parse("999").unwrap().value(), 999);
    assert_eq!(Seq::parse("1000").unwrap().value(), 1000);
    assert_eq!(Seq::parse("999999999999999999").unwrap().value(), Seq::MAX);
}

#[test]
fn seq_widths_1_and_18() {
    let one = SeqSpec::new(1).unwrap();
    let w1 = |s: &str| Seq::parse_with(s, &one);
    expect_accepted(
        w1,
        &[
            ("1", "1"),
            ("9", "9"),
            ("10", "10"),
            ("999999999999999999", "999999999999999999"),
        ],
    );
    expect_rejected(
        "Seq",
        w1,
        &[
            ("0", 0, K::ZeroNumber),
            ("01", 0, K::LeadingZero),
            ("00", 0, K::LeadingZero),
        ],
    );

    let wide = SeqSpec::new(18).unwrap();
    let w18 = |s: &str| Seq::parse_with(s, &wide);
    expect_accepted(
        w18,
        &[
            ("000000000000000001", "000000000000000001"),
            ("100000000000000000", "100000000000000000"),
            ("999999999999999999", "999999999999999999"),
        ],
    );
    expect_rejected(
        "Seq",
        w18,
        &[
            ("1", 0, K::TooNarrow { width: 18 }),
            ("00000000000000001", 0, K::TooNarrow { width: 18 }),
            ("000000000000000000", 0, K::ZeroNumber),
            ("0000000000000000001", 0, too_long(19, 18)),
        ],
    );
    assert_eq!(
        Seq::parse_with("000000000000000001", &wide)
            .unwrap()
            .value(),
        1
    );
}

// ---------------------------------------------------------------------------------
// HexKey

#[test]
fn hex_key_rejects_hostile_input() {
    expect_rejected(
        "HexKey",
        HexKey::parse,
        &[
            ("", 0, K::Empty),
            (
                "8f4a2",
                0,
                K::KeyLength {
                    len: 5,
                    expected: 6,
                },
            ),
            (
                "8",
                0,
                K::KeyLength {
                    len: 1,
                    expected: 6,
                },
            ),
            ("8f4a2b0", 0, too_long(7, 6)),
            ("8F4A2B", 1, ch('F', E::HexDigit)),
            ("8f4a2g", 5, ch('g', E::HexDigit)),
            (" 8f4a2", 0, ch(' ', E::HexDigit)),
            ("8f4é", 3, ch('é', E::HexDigit)),
            ("8f4a2\0", 5, ch('\0', E::HexDigit)),
            ("-8f4a2", 0, ch('-', E::HexDigit)),
        ],
    );
    expect_accepted(
        HexKey::parse,
        &[
            ("8f4a2b", "8f4a2b"),
            ("000000", "000000"),
            ("ffffff", "ffffff"),
        ],
    );

    let four = HexSpec::new(4).unwrap();
    let h4 = |s: &str| HexKey::parse_with(s, &four);
    expect_accepted(h4, &[("abcd", "abcd")]);
    expect_rejected(
        "HexKey",
        h4,
        &[
            (
                "abc",
                0,
                K::KeyLength {
                    len: 3,
                    expected: 4,
                },
            ),
            ("abcde", 0, too_long(5, 4)),
        ],
    );

    let wide = HexSpec::new(32).unwrap();
    let h32 = |s: &str| HexKey::parse_with(s, &wide);
    expect_accepted(
        h32,
        &[(
            "0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef",
        )],
    );
    expect_rejected(
        "HexKey",
        h32,
        &[
            (
                "0123456789abcdef0123456789abcde",
                0,
                K::KeyLength {
                    len: 31,
                    expected: 32,
                },
            ),
            ("0123456789ABCDEF0123456789abcdef", 10, ch('A', E::HexDigit)),
        ],
    );
}

// ---------------------------------------------------------------------------------
// InstanceKey

#[test]
fn instance_key_accepts_and_splits_from_the_right() {
    let long_project = "p".repeat(48);
    let long_kind = "K".repeat(16);
    let long_hex = "f".repeat(32);
    let cases = [
        ("odin-PS-8f4a2b", "odin", "PS", "8f4a2b"),
        ("my-proj-PS-8f4a2b", "my-proj", "PS", "8f4a2b"),
        ("billing-eu-WEB-03c9d1", "billing-eu", "WEB", "03c9d1"),
        ("a-b-c-d-0000", "a-b-c", "d", "0000"),
        ("0-9-abcd", "0", "9", "abcd"),
    ];
    for (input, project, kind, hex) in cases {
        let key = InstanceKey::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(
            (key.project(), key.kind(), key.hex()),
            (project, kind, hex),
            "{input}"
        );
        assert_eq!(key.to_string(), input);
    }
    let text = format!("{long_project}-{long_kind}-{long_hex}");
    let key = InstanceKey::parse(&text).unwrap();
    assert_eq!(key.project(), long_project);
    assert_eq!(key.kind(), long_kind);
    assert_eq!(key.hex(), long_hex);
}

#[test]
fn instance_key_rejects_hostile_input() {
    let cases: Vec<(String, usize, K)> = [
        ("", 0, K::Empty),
        ("odin--PS-8f4a2b", 5, ch('-', E::Alphanumeric)),
        ("odin-PS-", 8, end(E::HexDigit)),
        ("odin-PS-8f4a2b-", 15, end(E::HexDigit)),
        ("-", 1, end(E::HexDigit)),
        (
            "PS-8f4a2b",
            0,
            K::Prefix {
                expected: "{project}-{type}",
            },
        ),
        ("8f4a2b", 6, end(E::Dash)),
        ("odin", 4, end(E::Dash)),
        ("odin-PS--8f4a2b", 8, ch('-', E::Alphanumeric)),
        ("--abcd", 1, ch('-', E::Alphanumeric)),
        ("-PS-8f4a2b", 0, ch('-', E::Alphanumeric)),
        ("odin-PS-8F4A2B", 9, ch('F', E::HexDigit)),
        ("odin-PS", 5, ch('P', E::HexDigit)),
        (
            "odin-PS-8f4",
            8,
            K::KeyLength {
                len: 3,
                expected: 4,
            },
        ),
        ("odin-P_S-8f4a2b", 6, ch('_', E::Alphanumeric)),
        ("odin-Pé-8f4a2b", 6, ch('é', E::Alphanumeric)),
        ("odin-PS-8f4a2b ", 14, ch(' ', E::HexDigit)),
        (" odin-PS-8f4a2b", 0, ch(' ', E::Alphanumeric)),
        ("ödin-PS-8f4a2b", 0, ch('ö', E::Alphanumeric)),
        ("od in-PS-8f4a2b", 2, ch(' ', E::Alphanumeric)),
        ("odin-PS-8f4a2b\0", 14, ch('\0', E::HexDigit)),
        ("odin-PS-+8f4a2b", 8, ch('+', E::HexDigit)),
    ]
    .into_iter()
    .map(|(s, i, k)| (s.to_owned(), i, k))
    .chain([
        (
            format!("odin-PS-{}", "a".repeat(33)),
            8,
            K::KeyLength {
                len: 33,
                expected: 32,
            },
        ),
        (
            format!("odin-{}-8f4a2b", "K".repeat(17)),
            5,
            K::PartTooLong {
                part: typed_id::Part::Type,
                len: 17,
                max: 16,
            },
        ),
        (
            format!("{}-PS-8f4a2b", "p".repeat(49)),
            0,
            K::PartTooLong {
                part: typed_id::Part::Project,
                len: 49,
                max: 48,
            },
        ),
        (megabyte("odin-PS-"), 0, too_long(1 << 20, 98)),
    ])
    .collect();
    expect_rejected("InstanceKey", InstanceKey::parse, &cases);
    let e = InstanceKey::parse(&format!("odin-{}-8f4a2b", "K".repeat(17))).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("the type is 17 bytes long, at most 16 are allowed at byte 5"),
        "{e}"
    );
}

#[test]
fn instance_key_from_parts_validates_each_part() {
    let key = InstanceKey::from_parts("my-proj", "PS", "8f4a2b").unwrap();
    assert_eq!(key.as_str(), "my-proj-PS-8f4a2b");
    assert_eq!(key.project(), "my-proj");

    // A '-' in the type or the hex part would move the split: rejected, pointing at it.
    let e = InstanceKey::from_parts("a", "b-c", "abcd").unwrap_err();
    assert_eq!((e.kind(), e.index()), (ch('-', E::Alphanumeric), 3), "{e}");
    assert_eq!(&e.input_snippet()[e.index()..=e.index()], "-");
    let e = InstanceKey::from_parts("a", "b", "abcd-abcd").unwrap_err();
    assert_eq!((e.kind(), e.index()), (ch('-', E::HexDigit), 8), "{e}");
    assert_eq!(&e.input_snippet()[e.index()..=e.index()], "-");

    let e = InstanceKey::from_parts("", "PS", "abcd").unwrap_err();
    assert_eq!((e.kind(), e.index()), (ch('-', E::Alphanumeric), 0));
    let e = InstanceKey::from_parts("odin", "", "abcd").unwrap_err();
    assert_eq!((e.kind(), e.index()), (ch('-', E::Alphanumeric), 5));
    let e = InstanceKey::from_parts("odin", "PS", "ABCD").unwrap_err();
    assert_eq!((e.kind(), e.index()), (ch('A', E::HexDigit), 8));
    let e = InstanceKey::from_parts(&"p".repeat(100), "PS", "abcd").unwrap_err();
    assert_eq!(e.kind(), too_long(108, 98));
}

// ---------------------------------------------------------------------------------
// Derived types: indices count from the start of the whole input, prefix included

#[test]
fn derived_hash_type_rejects_hostile_input() {
    let prefix = K::Prefix { expected: "el" };
    let max = <ElementId as TypedId>::MAX_LEN;
    let cases: Vec<(String, usize, K)> = [
        ("", 0, K::Empty),
        ("el", 0, prefix),
        ("El-a3f8e9", 0, prefix),
        ("EL-a3f8e9", 0, prefix),
        ("el_a3f8e9", 0, prefix),
        ("ela3f8e9", 0, prefix),
        ("element-a3f8e9", 0, prefix),
        (" el-a3f8e9", 0, prefix),
        ("é-a3f8e9", 0, prefix),
        ("el-", 3, end(E::Base36Digit)),
        ("el--a3f8e9", 3, ch('-', E::Base36Digit)),
        ("el-a3f8e9.0", 10, K::ZeroChild),
        ("el-a3f8e9.01", 10, K::LeadingZero),
        ("el-a3f8e9.4294967296", 10, K::Overflow { max: U32_MAX }),
        ("el-abc.1.1.1.1", 12, K::TooDeep { max_depth: 3 }),
        ("el-A3F8E9", 3, ch('A', E::Base36Digit)),
        ("el-ab", 3, hash_len(2)),
        ("el-a3fé9", 6, ch('é', E::Base36Digit)),
        ("el-a3f8e9.", 10, end(E::NonZeroDigit)),
        ("el-a3f8e9 ", 9, ch(' ', E::Base36Digit)),
        ("elem-a3f8e9.0", 12, K::ZeroChild),
        ("elem-", 5, end(E::Base36Digit)),
    ]
    .into_iter()
    .map(|(s, i, k)| (s.to_owned(), i, k))
    .chain([
        (megabyte("el-"), 0, too_long(1 << 20, max)),
        (format!("el-{}", "1".repeat(max)), 0, too_long(max + 3, max)),
    ])
    .collect();
    expect_rejected("ElementId", ElementId::parse, &cases);
    expect_accepted(
        ElementId::parse,
        &[
            ("el-a3f8e9", "el-a3f8e9"),
            ("el-a3f8e9.1.2", "el-a3f8e9.1.2"),
            ("elem-a3f8e9.1.2", "el-a3f8e9.1.2"),
            ("el-000.4294967295", "el-000.4294967295"),
            (
                "elem-abcdefgh.4294967295.4294967295.4294967295",
                "el-abcdefgh.4294967295.4294967295.4294967295",
            ),
        ],
    );
    let legacy = ElementId::parse("elem-a3f8e9.1").unwrap();
    assert_eq!(legacy, ElementId::parse("el-a3f8e9.1").unwrap());
    assert_eq!(legacy.to_text(), "el-a3f8e9.1");
}

#[test]
fn derived_types_of_other_bodies_reject_hostile_input() {
    expect_rejected(
        "WorkItemId",
        WorkItemId::parse,
        &[
            ("WORK-42", 5, K::TooNarrow { width: 3 }),
            ("WORK-0042", 5, K::LeadingZero),
            ("WORK-000", 5, K::ZeroNumber),
            ("WORK-", 5, end(E::Digit)),
            ("work-042", 0, K::Prefix { expected: "WORK" }),
            ("WORK-04a", 7, ch('a', E::Digit)),
        ],
    );
    expect_accepted(
        WorkItemId::parse,
        &[("WORK-042", "WORK-042"), ("WORK-1000", "WORK-1000")],
    );
    expect_rejected(
        "MessageId",
        MessageId::parse,
        &[
            ("msg--1", 4, ch('-', E::Digit)),
            ("msg-+1", 4, ch('+', E::Digit)),
            ("msg-01", 4, K::LeadingZero),
            ("msg-9223372036854775808", 4, K::Overflow { max: I64_MAX }),
            ("msg-", 4, end(E::Digit)),
        ],
    );
    expect_accepted(
        MessageId::parse,
        &[
            ("msg-0", "msg-0"),
            ("msg-9223372036854775807", "msg-9223372036854775807"),
        ],
    );
    expect_rejected(
        "OdinKey",
        OdinKey::parse,
        &[
            ("odin-PS-8F4A2B", 9, ch('F', E::HexDigit)),
            (
                "odin-PS-8f4a2",
                8,
                K::KeyLength {
                    len: 5,
                    expected: 6,
                },
            ),
            (
                "odin-PS-",
                8,
                K::KeyLength {
                    len: 0,
                    expected: 6,
                },
            ),
            (
                "odin-8f4a2b",
                0,
                K::Prefix {
                    expected: "odin-PS",
                },
            ),
            ("odin-PS-8f4a2b0", 0, too_long(15, 14)),
        ],
    );
    expect_accepted(OdinKey::parse, &[("odin-PS-8f4a2b", "odin-PS-8f4a2b")]);
}

// ---------------------------------------------------------------------------------
// Messages

#[test]
fn error_messages_read_well() {
    fn msg<T: Debug>(r: Result<T, ParseIdError>) -> String {
        r.expect_err("must be rejected").to_string()
    }
    let hash = |s: &str| msg(HashId::parse(s));
    assert_eq!(
        hash("a3f8e9.0"),
        r#"invalid HashId "a3f8e9.0": child number must be positive at byte 7"#
    );
    assert_eq!(
        hash("A3F8E9"),
        r#"invalid HashId "A3F8E9": found 'A' where a lowercase base36 digit (0-9, a-z) was expected at byte 0"#
    );
    assert_eq!(
        hash("abc.1.1.1.1"),
        r#"invalid HashId "abc.1.1.1.1": more than 3 child segments at byte 9"#
    );
    assert_eq!(
        hash("abc."),
        r#"invalid HashId "abc.": input ends where a digit (1-9) was expected at byte 4"#
    );
    assert_eq!(
        hash("abc.4294967296"),
        r#"invalid HashId "abc.4294967296": number is larger than 4294967295 at byte 4"#
    );
    assert_eq!(
        hash("ab"),
        r#"invalid HashId "ab": hash has 2 characters, expected 3 to 8 at byte 0"#
    );
    assert_eq!(
        hash("abc\0"),
        r#"invalid HashId "abc\0": found '\0' where a lowercase base36 digit (0-9, a-z) was expected at byte 3"#
    );
    assert_eq!(hash(""), r#"invalid HashId "": empty input"#);
    let big = "a".repeat(1_000_000);
    assert_eq!(
        hash(&big),
        format!(
            r#"invalid HashId "{}…" (1000000 bytes): input is 1000000 bytes long, the longest valid ID is 41"#,
            "a".repeat(48)
        )
    );
    assert_eq!(
        msg(Seq::parse("42")),
        r#"invalid Seq "42": number must be zero-padded to 3 digits at byte 0"#
    );
    assert_eq!(
        msg(Snowflake::parse("9223372036854775808")),
        r#"invalid Snowflake "9223372036854775808": number is larger than 9223372036854775807 at byte 0"#
    );
    assert_eq!(
        msg(InstanceKey::parse("odin--PS-8f4a2b")),
        r#"invalid InstanceKey "odin--PS-8f4a2b": found '-' where an ASCII letter or digit was expected at byte 5"#
    );
    assert_eq!(
        msg(ElementId::parse("El-a3f8e9")),
        r#"invalid ElementId "El-a3f8e9": expected prefix "el-" at byte 0"#
    );
    assert_eq!(
        msg(ElementId::parse("el-a3f8e9.0")),
        r#"invalid ElementId "el-a3f8e9.0": child number must be positive at byte 10"#
    );
    assert_eq!(
        msg(HexKey::parse("8F4A2B")),
        r#"invalid HexKey "8F4A2B": found 'F' where a lowercase hex digit (0-9, a-f) was expected at byte 1"#
    );
}
