//! The parsers and the published patterns accept exactly the same strings.
//!
//! The `regex` crate is the oracle: for every grammar (several specs per body) and
//! every generated string, `Regex::new(PATTERN).is_match(s) == parse(s).is_ok()`.
//! Strings come from four sources, because uniformly random text almost never lands
//! near the boundaries where a parser and a pattern can disagree:
//!
//! - valid IDs, built from values chosen around the numeric bounds (for derived types:
//!   the type's own `proptest` strategy, `any::<T>()`, under every accepted prefix);
//! - mutations of valid IDs: case flips, inserted and deleted characters, extra dots,
//!   leading zeros, huge numbers, duplicated and truncated segments;
//! - strings over the grammar's own alphabet, and over a wider ASCII alphabet;
//! - arbitrary Unicode strings.
//!
//! A hand-picked table pins the boundary numbers, checking both the oracle and the
//! expected answer.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::string::string_regex;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use regex::Regex;
use typed_id::{
    Body, HashId, HashSpec, HexKey, HexSpec, InstanceKey, ParseErrorKind, ParseIdError, Pattern,
    Seq, SeqSpec, Snowflake, SnowflakeEncoding, SnowflakeSpec, SpecError, TypeIdSpec, TypeIdUuid,
    TypedId, codec,
};

// Derived types: prefixed grammars, legacy prefixes, prefixes containing '-'.

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
#[typed_id(prefix = "evt", encoding = "base62")]
struct EventId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "odin-PS", accept = ["odin"])]
struct OdinKey(HexKey);

#[derive(TypedId)]
#[typed_id(prefix = "sess", len = 16)]
struct SessionKey(HexKey);

#[derive(TypedId)]
#[typed_id(prefix = "user")]
struct UserId(TypeIdUuid);

#[derive(TypedId)]
#[typed_id(prefix = "order_item", accept = ["item"])]
struct OrderItemId(TypeIdUuid);

/// Cases per grammar and property; several grammars per body keep the total moderate.
const CASES: u32 = 3_000;

/// A parser reduced to its verdict.
type Parser = Box<dyn Fn(&str) -> Result<(), ParseIdError>>;

/// A grammar under test: the oracle, the parser and a generator of valid text.
struct Grammar {
    name: String,
    pattern: String,
    regex: Regex,
    parse: Parser,
    valid: BoxedStrategy<String>,
    /// A regex over the grammar's own characters, for near-valid random strings.
    alphabet: &'static str,
}

impl Grammar {
    fn new<T>(
        name: impl Into<String>,
        pattern: &str,
        parse: impl Fn(&str) -> Result<T, ParseIdError> + 'static,
        valid: BoxedStrategy<String>,
        alphabet: &'static str,
    ) -> Self {
        Grammar {
            name: name.into(),
            pattern: pattern.to_owned(),
            regex: Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}")),
            parse: Box::new(move |s| parse(s).map(|_| ())),
            valid,
            alphabet,
        }
    }

    /// The oracle's verdict and the parser's must be the same; a rejection must carry
    /// a byte index on a character boundary of the input.
    fn agree(&self, s: &str) -> Result<(), TestCaseError> {
        let matched = self.regex.is_match(s);
        let parsed = (self.parse)(s);
        if let Err(e) = &parsed {
            prop_assert!(
                e.index() <= s.len() && s.is_char_boundary(e.index()),
                "{}: {s:?}: error index {} is not a char boundary",
                self.name,
                e.index()
            );
        }
        prop_assert_eq!(
            matched,
            parsed.is_ok(),
            "{}: {:?}: pattern {} says {}, parser says {:?}",
            self.name,
            s,
            self.pattern,
            matched,
            parsed
        );
        Ok(())
    }

    /// Valid, mutated, near-valid and arbitrary strings.
    fn inputs(&self) -> BoxedStrategy<String> {
        let mutated = (self.valid.clone(), prop::collection::vec(mutation(), 1..4))
            .prop_map(|(s, m)| apply(&s, &m));
        prop_oneof![
            2 => self.valid.clone(),
            6 => mutated,
            2 => string_regex(self.alphabet).unwrap(),
            1 => string_regex(r"[0-9a-zA-Z.\-+ ]{0,50}").unwrap(),
            1 => any::<String>(),
        ]
        .boxed()
    }

    fn check_generated(&self) {
        let mut runner = TestRunner::new(Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(e) = runner.run(&self.inputs(), |s| self.agree(&s)) {
            panic!("{}: {e}", self.name);
        }
    }

    /// Checks the oracle, the parser and the expected answer on hand-picked input.
    fn check_table(&self, cases: &[(&str, bool)]) {
        let mut failures = Vec::new();
        for &(s, valid) in cases {
            let matched = self.regex.is_match(s);
            let parsed = (self.parse)(s);
            if matched != valid || parsed.is_ok() != valid {
                failures.push(format!(
                    "{s:?}: expected {valid}, pattern {matched}, parser {parsed:?}"
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{}:\n{}",
            self.name,
            failures.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------
// Mutations of valid text

/// Fragments spliced into valid IDs: separators, signs, zeros, case, non-ASCII, and
/// numbers just inside and just outside every bound.
const FRAGMENTS: &[&str] = &[
    "0",
    "00",
    "1",
    "9",
    ".",
    "..",
    ".0",
    ".01",
    ".1",
    ".4294967295",
    "-",
    "--",
    "+",
    " ",
    "A",
    "Z",
    "z",
    "f",
    "g",
    "é",
    "\0",
    "4294967295",
    "4294967296",
    "9999999999",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999",
    "999999999999999999",
    "1000000000000000000",
    "AzL8n0Y58m7",
    "AzL8n0Y58m8",
];

#[derive(Clone, Debug)]
enum Mutation {
    FlipCase(Index),
    Insert(Index, &'static str),
    Delete(Index),
    Replace(Index, char),
    Truncate(Index),
    /// Repeats the text between two positions right after it.
    Duplicate(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::FlipCase),
        (any::<Index>(), prop::sample::select(FRAGMENTS)).prop_map(|(i, f)| Mutation::Insert(i, f)),
        any::<Index>().prop_map(Mutation::Delete),
        (
            any::<Index>(),
            prop::sample::select(&['0', '1', '9', 'a', 'z', 'A', '.', '-', '+', ' ', 'é'][..])
        )
            .prop_map(|(i, c)| Mutation::Replace(i, c)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Duplicate(a, b)),
    ]
}

fn apply(s: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for m in mutations {
        let len = chars.len();
        match m {
            Mutation::FlipCase(i) if len > 0 => {
                let c = &mut chars[i.index(len)];
                *c = if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                };
            }
            Mutation::Insert(i, fragment) => {
                let at = i.index(len + 1);
                chars.splice(at..at, fragment.chars());
            }
            Mutation::Delete(i) if len > 0 => {
                chars.remove(i.index(len));
            }
            Mutation::Replace(i, c) if len > 0 => chars[i.index(len)] = *c,
            Mutation::Truncate(i) => chars.truncate(i.index(len + 1)),
            Mutation::Duplicate(a, b) => {
                let (a, b) = (a.index(len + 1), b.index(len + 1));
                let (from, to) = (a.min(b), a.max(b));
                let copy: Vec<char> = chars[from..to].to_vec();
                chars.splice(to..to, copy);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

// ---------------------------------------------------------------------------------
// Valid text generators

fn child_number() -> impl Strategy<Value = u32> {
    prop_oneof![
        1u32..=12,
        1u32..=u32::MAX,
        4_294_967_000u32..=u32::MAX,
        Just(u32::MAX),
        Just(1_000_000_000),
    ]
}

fn valid_hash(spec: HashSpec) -> BoxedStrategy<String> {
    let hash = string_regex(&format!(
        "[0-9a-z]{{{},{}}}",
        spec.min_len(),
        spec.max_len()
    ))
    .unwrap();
    let depth = usize::from(spec.max_depth());
    (hash, prop::collection::vec(child_number(), 0..=depth))
        .prop_map(|(mut s, children)| {
            for n in children {
                s.push('.');
                s.push_str(&n.to_string());
            }
            s
        })
        .boxed()
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

fn valid_seq(width: u8) -> BoxedStrategy<String> {
    let w = usize::from(width);
    seq_value().prop_map(move |v| format!("{v:0w$}")).boxed()
}

fn snowflake_value() -> impl Strategy<Value = u64> {
    let max = i64::MAX as u64;
    prop_oneof![
        0u64..=1_000,
        0u64..=max,
        Just(max),
        (max - 1_000)..=max,
        (0u32..19).prop_map(|k| 10u64.pow(k)),
        (0u32..11).prop_map(|k| 62u64.pow(k)),
    ]
}

fn valid_hex(len: u8) -> BoxedStrategy<String> {
    string_regex(&format!("[0-9a-f]{{{len}}}")).unwrap().boxed()
}

// ---------------------------------------------------------------------------------
// The grammars

fn hash_grammar(spec: HashSpec) -> Grammar {
    let pattern = Pattern::anchored(&spec.pattern()).unwrap();
    Grammar::new(
        format!("HashId {spec:?}"),
        pattern.as_str(),
        move |s| HashId::parse_with(s, &spec),
        valid_hash(spec),
        r"[0-9a-z.]{0,45}",
    )
}

fn hash_grammars() -> Vec<Grammar> {
    let mut grammars = vec![Grammar::new(
        "HashId::PATTERN",
        HashId::PATTERN,
        HashId::parse,
        valid_hash(HashSpec::DEFAULT),
        r"[0-9a-zA-Z.]{0,45}",
    )];
    for (min, max, depth) in [
        (4, 8, 3),
        (3, 3, 1),
        (4, 6, 2),
        (8, 8, 3),
        (3, 8, 0),
        (5, 7, 0),
    ] {
        grammars.push(hash_grammar(HashSpec::new(min, max, depth).unwrap()));
    }
    grammars
}

fn seq_grammar(width: u8) -> Grammar {
    let spec = SeqSpec::new(width).unwrap();
    let pattern = Pattern::anchored(&spec.pattern()).unwrap();
    Grammar::new(
        format!("Seq width {width}"),
        pattern.as_str(),
        move |s| Seq::parse_with(s, &spec),
        valid_seq(width),
        r"[0-9]{0,21}",
    )
}

fn snowflake_grammars() -> Vec<Grammar> {
    vec![
        Grammar::new(
            "Snowflake::PATTERN",
            Snowflake::PATTERN,
            Snowflake::parse,
            snowflake_value().prop_map(|v| v.to_string()).boxed(),
            r"[0-9]{0,22}",
        ),
        Grammar::new(
            "Snowflake::BASE62_PATTERN",
            Snowflake::BASE62_PATTERN,
            Snowflake::parse_base62,
            snowflake_value()
                .prop_map(|v| codec::encode_base62(v).as_str().to_owned())
                .boxed(),
            r"[0-9A-Za-z]{0,13}",
        ),
    ]
}

fn hex_grammar(len: u8) -> Grammar {
    let spec = HexSpec::new(len).unwrap();
    let pattern = Pattern::anchored(&spec.pattern()).unwrap();
    Grammar::new(
        format!("HexKey len {len}"),
        pattern.as_str(),
        move |s| HexKey::parse_with(s, &spec),
        valid_hex(len),
        r"[0-9a-fA-G]{0,34}",
    )
}

/// A derived type's grammar: its `PATTERN` against its `parse`, with valid text from
/// the type's own strategy (`any::<T>()`, canonical prefix only) put under every
/// accepted prefix.
fn typed_grammar<T>(body_pattern: Pattern, alphabet: &'static str) -> Grammar
where
    T: TypedId + Arbitrary,
{
    let separator = <T::Body as Body>::SEPARATOR;
    assert_eq!(
        T::PATTERN,
        Pattern::prefixed_with(T::PREFIX, T::ACCEPT, separator, &body_pattern)
            .unwrap()
            .as_str(),
        "{}",
        T::NAME
    );
    let prefixes: Vec<&'static str> = std::iter::once(T::PREFIX)
        .chain(T::ACCEPT.iter().copied())
        .collect();
    let valid = (prop::sample::select(prefixes), any::<T>())
        .prop_map(move |(p, id)| {
            let text = id.to_string();
            let body = text
                .strip_prefix(T::PREFIX)
                .and_then(|rest| rest.strip_prefix(char::from(separator)))
                .unwrap_or_else(|| panic!("{text:?} does not start with {}", T::PREFIX));
            format!("{p}{}{body}", char::from(separator))
        })
        .boxed();
    Grammar::new(T::NAME, T::PATTERN, T::parse_id, valid, alphabet)
}

fn typed_grammars() -> Vec<Grammar> {
    let typeid = TypeIdSpec::DEFAULT.pattern();
    vec![
        typed_grammar::<ElementId>(
            HashSpec::DEFAULT.pattern(),
            r"(el|elem|e|El)?-?[0-9a-z.]{0,30}",
        ),
        typed_grammar::<NodeId>(
            HashSpec::new(4, 6, 1).unwrap().pattern(),
            r"(node|nod)?-?[0-9a-z.]{0,20}",
        ),
        typed_grammar::<DocumentId>(
            HashSpec::new(3, 8, 0).unwrap().pattern(),
            r"(doc)?-?[0-9a-z.]{0,12}",
        ),
        typed_grammar::<WorkItemId>(
            SeqSpec::new(3).unwrap().pattern(),
            r"(WORK|work)?-?[0-9]{0,21}",
        ),
        typed_grammar::<TicketId>(
            SeqSpec::new(5).unwrap().pattern(),
            r"(TICKET|T|TICK)?-?[0-9]{0,21}",
        ),
        typed_grammar::<MessageId>(SnowflakeSpec::DECIMAL.pattern(), r"(msg)?-?[0-9]{0,22}"),
        typed_grammar::<EventId>(
            SnowflakeSpec::BASE62.pattern(),
            r"(evt)?-?[0-9A-Za-z]{0,13}",
        ),
        typed_grammar::<OdinKey>(
            HexSpec::new(6).unwrap().pattern(),
            r"(odin-PS|odin|odin-ps|PS)?-?[0-9a-f]{0,8}",
        ),
        typed_grammar::<SessionKey>(
            HexSpec::new(16).unwrap().pattern(),
            r"(sess)?-?[0-9a-fA-F]{0,18}",
        ),
        typed_grammar::<UserId>(typeid, r"(user|usr|User)?[_-]?[0-9a-zA-Z]{0,28}"),
        typed_grammar::<OrderItemId>(
            typeid,
            r"(order_item|item|order|_item)?[_-]?[0-9a-hjkmnp-tv-zILOU]{0,28}",
        ),
    ]
}

// ---------------------------------------------------------------------------------
// Properties

#[test]
fn published_patterns_are_the_anchored_spec_patterns() {
    assert_eq!(
        HashId::PATTERN,
        Pattern::anchored(&HashSpec::DEFAULT.pattern())
            .unwrap()
            .as_str()
    );
    assert_eq!(
        Seq::PATTERN,
        Pattern::anchored(&SeqSpec::DEFAULT.pattern())
            .unwrap()
            .as_str()
    );
    assert_eq!(
        Snowflake::PATTERN,
        Pattern::anchored(&SnowflakeSpec::DECIMAL.pattern())
            .unwrap()
            .as_str()
    );
    assert_eq!(
        Snowflake::BASE62_PATTERN,
        Pattern::anchored(&SnowflakeSpec::BASE62.pattern())
            .unwrap()
            .as_str()
    );
    assert_eq!(
        HexKey::PATTERN,
        Pattern::anchored(&HexSpec::DEFAULT.pattern())
            .unwrap()
            .as_str()
    );
    for p in [
        HashId::PATTERN,
        Seq::PATTERN,
        Snowflake::PATTERN,
        Snowflake::BASE62_PATTERN,
        HexKey::PATTERN,
        InstanceKey::PATTERN,
    ] {
        assert!(p.starts_with('^') && p.ends_with('$'), "{p}");
        Regex::new(p).unwrap();
    }
}

#[test]
fn hash_id_parser_matches_pattern() {
    for g in hash_grammars() {
        g.check_generated();
    }
}

#[test]
fn seq_parser_matches_pattern() {
    for width in [1, 3, 18] {
        seq_grammar(width).check_generated();
    }
    Grammar::new(
        "Seq::PATTERN",
        Seq::PATTERN,
        Seq::parse,
        valid_seq(3),
        r"[0-9]{0,21}",
    )
    .check_generated();
}

#[test]
fn snowflake_parser_matches_pattern() {
    for g in snowflake_grammars() {
        g.check_generated();
    }
}

#[test]
fn hex_key_parser_matches_pattern() {
    for len in [4, 6, 32] {
        hex_grammar(len).check_generated();
    }
}

#[test]
fn derived_parser_matches_pattern() {
    for g in typed_grammars() {
        g.check_generated();
    }
}

/// `InstanceKey::PATTERN` cannot bound the project's length (48 bytes) without
/// look-ahead; apart from that it is exact. Inputs whose project is longer are
/// checked separately below.
#[test]
fn instance_key_parser_matches_pattern_up_to_project_length() {
    let valid = (
        string_regex("[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8}){0,4}").unwrap(),
        string_regex("[A-Za-z0-9]{1,16}").unwrap(),
        string_regex("[0-9a-f]{4,32}").unwrap(),
    )
        .prop_map(|(p, k, h)| format!("{p}-{k}-{h}"))
        .boxed();
    let g = Grammar::new(
        "InstanceKey::PATTERN",
        InstanceKey::PATTERN,
        InstanceKey::parse,
        valid,
        r"[0-9a-zA-Z\-]{0,60}",
    );
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&g.inputs(), |s| {
        let project_len = s.rsplitn(3, '-').nth(2).map_or(0, str::len);
        if project_len > 48 {
            return Ok(());
        }
        g.agree(&s)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn instance_key_project_length_is_checked_by_the_parser() {
    let re = Regex::new(InstanceKey::PATTERN).unwrap();
    let at_limit = format!("{}-PS-8f4a2b", "p".repeat(48));
    assert!(re.is_match(&at_limit) && InstanceKey::parse(&at_limit).is_ok());
    let over = format!("{}-PS-8f4a2b", "p".repeat(49));
    assert!(re.is_match(&over), "the pattern has no length bound");
    assert_eq!(
        InstanceKey::parse(&over).unwrap_err().kind(),
        ParseErrorKind::PartTooLong {
            part: typed_id::Part::Project,
            len: 49,
            max: 48
        }
    );
}

// ---------------------------------------------------------------------------------
// Hand-picked boundaries

#[test]
fn boundary_table() {
    let default_hash = &hash_grammars()[0];
    default_hash.check_table(&[
        ("abc.4294967295", true),
        ("abc.4294967296", false),
        ("abc.4294967290", true),
        ("abc.4294967299", false),
        ("abc.4294967305", false),
        ("abc.4300000000", false),
        ("abc.3999999999", true),
        ("abc.1000000000", true),
        ("abc.9999999999", false),
        ("abc.10000000000", false),
        ("000.4294967295", true),
        ("abc.0", false),
        ("abc.01", false),
        ("abc.1.1.1", true),
        ("abc.1.1.1.1", false),
        ("ab", false),
        ("abcdefgh", true),
        ("abcdefghi", false),
        ("ABC", false),
        ("", false),
        ("abc.", false),
        (".1", false),
        ("abc..1", false),
        ("abc.1\n", false),
        ("abc\n", false),
    ]);
    hash_grammar(HashSpec::new(3, 8, 0).unwrap()).check_table(&[("abc", true), ("abc.1", false)]);
    hash_grammar(HashSpec::new(4, 4, 1).unwrap()).check_table(&[
        ("abcd.4294967295", true),
        ("abcd.1.1", false),
        ("abc", false),
        ("abcde", false),
    ]);

    let [decimal, base62] = <[Grammar; 2]>::try_from(snowflake_grammars()).ok().unwrap();
    decimal.check_table(&[
        ("0", true),
        ("9223372036854775807", true),
        ("9223372036854775808", false),
        ("9223372036854775799", true),
        ("9223372036854775810", false),
        ("9223372036854775900", false),
        ("9199999999999999999", true),
        ("9300000000000000000", false),
        ("999999999999999999", true),
        ("10000000000000000000", false),
        ("18446744073709551615", false),
        ("01", false),
        ("-1", false),
        ("+1", false),
        ("", false),
        ("0\n", false),
    ]);
    base62.check_table(&[
        ("0", true),
        ("00", false),
        ("AzL8n0Y58m7", true),
        ("AzL8n0Y58m8", false),
        ("AzL8n0Y58m6", true),
        ("AzL8n0Y58mz", false),
        ("AzL8n0Y58l9", true),
        ("AzL8n0Y59", true),
        ("B0000000000", false),
        ("Az", true),
        ("zzzzzzzzzz", true),
        ("zzzzzzzzzzz", false),
        ("10000000000", true),
        ("LygHa16AHYF", false),
    ]);

    seq_grammar(3).check_table(&[
        ("001", true),
        ("000", false),
        ("42", false),
        ("042", true),
        ("0042", false),
        ("999", true),
        ("1000", true),
        ("999999999999999999", true),
        ("1000000000000000000", false),
        ("0999999999999999999", false),
    ]);
    seq_grammar(1).check_table(&[("1", true), ("0", false), ("01", false), ("10", true)]);
    seq_grammar(18).check_table(&[
        ("000000000000000001", true),
        ("999999999999999999", true),
        ("00000000000000001", false),
        ("0000000000000000001", false),
        ("000000000000000000", false),
    ]);

    let typed = typed_grammars();
    let find = |name: &str| typed.iter().find(|g| g.name == name).unwrap();
    find("ElementId").check_table(&[
        ("el-a3f8e9.1.2", true),
        ("elem-a3f8e9.1.2", true),
        ("el-abc.4294967295", true),
        ("el-abc.4294967296", false),
        ("El-a3f8e9", false),
        ("element-a3f8e9", false),
        ("el-", false),
        ("el", false),
        ("-abc", false),
        ("elabc", false),
        ("el--abc", false),
        ("el-abc.1.1.1.1", false),
    ]);
    find("OdinKey").check_table(&[
        ("odin-PS-8f4a2b", true),
        ("odin-8f4a2b", true),
        ("odin-PS-8F4A2B", false),
        ("odin-PS8f4a2b", false),
        ("PS-8f4a2b", false),
        ("odin-PS-", false),
    ]);
    find("TicketId").check_table(&[
        ("TICKET-00042", true),
        ("T-00042", true),
        ("TICKET-0042", false),
        ("TICKET-100000", true),
        ("TICKET-000000", false),
    ]);
    find("MessageId").check_table(&[
        ("msg-0", true),
        ("msg-9223372036854775807", true),
        ("msg-9223372036854775808", false),
        ("msg--1", false),
    ]);
    find("EventId").check_table(&[("evt-AzL8n0Y58m7", true), ("evt-AzL8n0Y58m8", false)]);

    hex_grammar(6).check_table(&[
        ("8f4a2b", true),
        ("8f4a2", false),
        ("8f4a2b0", false),
        ("8F4A2B", false),
    ]);
}

// ---------------------------------------------------------------------------------------
// Options and patterns: every public constructor and pattern function, extreme values,
// typed errors and never a panic. (Specs used to have public fields: `SeqSpec { width:
// 19 }` overflowed in `Seq::with_spec`, `SeqSpec { width: 0 }.pattern()` underflowed,
// and `Pattern::prefixed` indexed past its buffer; the fields are private now, see the
// `compile_fail` examples on the spec types.)

/// A regex for the whole of `pattern`, which must compile.
fn compiles(pattern: &Pattern) -> Regex {
    Regex::new(pattern.as_str()).unwrap_or_else(|e| panic!("{pattern:?}: {e}"))
}

#[test]
fn hash_spec_new_checks_every_bound() {
    for min_len in 0..=u8::MAX {
        for max_len in 0..=u8::MAX {
            for max_depth in (0..=8).chain([127, 128, 254, 255]) {
                let got = HashSpec::new(min_len, max_len, max_depth);
                let expected_field = if !(3..=8).contains(&min_len) {
                    Some(("min_len", min_len, 3))
                } else if !(min_len..=8).contains(&max_len) {
                    Some(("max_len", max_len, min_len))
                } else if max_depth > 3 {
                    Some(("max_depth", max_depth, 0))
                } else {
                    None
                };
                match (got, expected_field) {
                    (Ok(spec), None) => {
                        assert_eq!(
                            (spec.min_len(), spec.max_len(), spec.max_depth()),
                            (min_len, max_len, max_depth)
                        );
                        let anchored = Pattern::anchored(&spec.pattern()).unwrap();
                        let re = compiles(&anchored);
                        let longest = format!(
                            "{}{}",
                            "z".repeat(usize::from(max_len)),
                            ".4294967295".repeat(usize::from(max_depth))
                        );
                        assert_eq!(longest.len(), spec.max_text_len());
                        assert!(re.is_match(&longest));
                        assert!(HashId::parse_with(&longest, &spec).is_ok());
                    }
                    (Err(err), Some((field, value, min))) => {
                        let max = if field == "max_depth" { 3 } else { 8 };
                        assert_eq!(
                            err,
                            SpecError::OutOfRange {
                                spec: "HashSpec",
                                field,
                                value,
                                min,
                                max
                            }
                        );
                        assert_eq!(
                            err.to_string(),
                            format!("invalid HashSpec: {field} {value} is outside {min}..={max}")
                        );
                    }
                    (got, expected) => {
                        panic!(
                            "({min_len}, {max_len}, {max_depth}): {got:?}, expected {expected:?}"
                        )
                    }
                }
            }
        }
    }
}

#[test]
fn seq_and_hex_spec_new_check_their_range() {
    for n in 0..=u8::MAX {
        match SeqSpec::new(n) {
            Ok(spec) => {
                assert!((1..=18).contains(&n));
                assert_eq!(spec.width(), n);
                compiles(&Pattern::anchored(&spec.pattern()).unwrap());
                assert_eq!(spec.max_text_len(), 18);
            }
            Err(err) => {
                assert!(n == 0 || n > 18, "{n}");
                assert_eq!(
                    err.to_string(),
                    format!("invalid SeqSpec: width {n} is outside 1..=18")
                );
            }
        }
        match HexSpec::new(n) {
            Ok(spec) => {
                assert!((4..=32).contains(&n));
                assert_eq!(spec.len(), n);
                assert_eq!(spec.max_text_len(), usize::from(n));
                let re = compiles(&Pattern::anchored(&spec.pattern()).unwrap());
                assert!(re.is_match(&"f".repeat(usize::from(n))));
            }
            Err(err) => {
                assert!(!(4..=32).contains(&n), "{n}");
                assert_eq!(
                    err,
                    SpecError::OutOfRange {
                        spec: "HexSpec",
                        field: "len",
                        value: n,
                        min: 4,
                        max: 32
                    }
                );
            }
        }
    }
    for encoding in [SnowflakeEncoding::Decimal, SnowflakeEncoding::Base62] {
        let spec = SnowflakeSpec::new(encoding);
        assert_eq!(spec.encoding(), encoding);
        compiles(&Pattern::anchored(&spec.pattern()).unwrap());
    }
}

/// Inputs at and around every limit, and hostile ones.
fn extreme_inputs() -> Vec<String> {
    let mut inputs: Vec<String> = ["", "0", "1", "-", ".", "é", "\0", "\u{202E}"]
        .map(String::from)
        .to_vec();
    for len in [
        3, 4, 8, 9, 17, 18, 19, 20, 32, 33, 46, 47, 64, 255, 256, 1025, 70_000,
    ] {
        for c in ['0', '1', '9', 'a', 'f', 'z', 'Z', '.', 'é'] {
            inputs.push(c.to_string().repeat(len));
        }
        inputs.push(format!("abc{}", ".1".repeat(len)));
        inputs.push(format!("abc.{}", "9".repeat(len)));
    }
    inputs.push(u64::MAX.to_string());
    inputs.push(i64::MAX.to_string());
    inputs.push(format!("{}8", i64::MAX / 10));
    inputs
}

#[test]
fn body_functions_take_extreme_values_under_every_spec() {
    let inputs = extreme_inputs();
    let mut values = vec![0, 1, 9, 10, Seq::MAX - 1, Seq::MAX, Seq::MAX + 1];
    values.extend([i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX - 1, u64::MAX]);
    values.extend((1..=19).map(|k| 10u64.pow(k) - 1));
    for width in 1..=18 {
        let spec = SeqSpec::new(width).unwrap();
        for &v in &values {
            match Seq::with_spec(v, &spec) {
                Ok(seq) => {
                    assert!((1..=Seq::MAX).contains(&v));
                    let digits = v.to_string().len().max(usize::from(width));
                    assert_eq!(seq.as_str().len(), digits);
                    assert_eq!(Seq::parse_with(seq.as_str(), &spec).unwrap(), seq);
                }
                Err(_) => assert!(v == 0 || v > Seq::MAX, "{v}"),
            }
        }
        for input in &inputs {
            let _ = Seq::parse_with(input, &spec);
        }
    }
    for min in 3..=8 {
        for max in min..=8 {
            for depth in 0..=3 {
                let spec = HashSpec::new(min, max, depth).unwrap();
                for input in &inputs {
                    let _ = HashId::parse_with(input, &spec);
                }
            }
        }
    }
    for len in 4..=32 {
        let spec = HexSpec::new(len).unwrap();
        for input in &inputs {
            let _ = HexKey::parse_with(input, &spec);
        }
    }
    for len in 0..=u8::MAX {
        for &v in &values {
            let got = HashId::from_hash_value(v, len);
            assert_eq!(got.is_ok(), (3..=8).contains(&len), "{v} {len}");
        }
        for bytes in 0..=20 {
            let got = HexKey::from_bytes(&vec![0xa5; bytes], len);
            assert_eq!(
                got.is_ok(),
                (4..=32).contains(&len) && bytes * 2 >= usize::from(len),
                "{bytes} bytes, {len} digits"
            );
        }
    }
    for &v in &values {
        assert_eq!(Snowflake::new(v).is_ok(), v <= i64::MAX as u64);
    }
    for v in [i64::MIN, -1, 0, 1, i64::MAX] {
        assert_eq!(Snowflake::from_i64(v).is_ok(), v >= 0);
    }
    for input in &inputs {
        let _ = Snowflake::parse(input);
        let _ = Snowflake::parse_base62(input);
        let _ = InstanceKey::parse(input);
        let _ = InstanceKey::from_parts(input, input, input);
        let _ = InstanceKey::from_parts(input, "PS", "8f4a2b");
    }
}

#[test]
fn pattern_functions_report_what_does_not_fit() {
    let body = SeqSpec::DEFAULT.pattern();
    let base = Pattern::anchored(&body).unwrap().as_str().len(); // ^ body $
    // prefixed: ^ prefix - body $
    for len in (0..=1100).chain([4096, 70_000]) {
        let prefix = "p".repeat(len);
        let needed = base + len + 1;
        match Pattern::prefixed(&prefix, &[], &body) {
            Ok(p) => {
                assert!(needed <= 1024, "{len}");
                assert_eq!(p.as_str(), format!("^{prefix}-{}$", body.as_str()));
                // Anchoring a whole pattern again adds two bytes, which may not fit.
                let again = Pattern::anchored(&p);
                assert_eq!(again.is_ok(), needed + 2 <= 1024, "{len}");
            }
            Err(err) => {
                assert!(needed > 1024, "{len}");
                assert_eq!(
                    err,
                    SpecError::PatternTooLong {
                        len: needed,
                        max: 1024
                    }
                );
                assert!(err.to_string().contains("at most 1024"), "{err}");
            }
        }
    }
    // Many legacy prefixes: `^(?:p|a|a|…)-body$`.
    let legacy = "a".repeat(32);
    for count in [0, 1, 10, 20, 30, 40, 1000] {
        let accept = vec![legacy.as_str(); count];
        let got = Pattern::prefixed("p", &accept, &body);
        let needed = if count == 0 {
            base + 2
        } else {
            base + 2 + 4 + 33 * count
        };
        match got {
            Ok(p) => {
                assert!(needed <= 1024, "{count}");
                assert_eq!(p.as_str().len(), needed);
                compiles(&p);
            }
            Err(err) => assert_eq!(
                err,
                SpecError::PatternTooLong {
                    len: needed,
                    max: 1024
                }
            ),
        }
    }
    // Prefixes are written as given, multi-byte characters included, and never cut.
    for c in ['é', '😀'] {
        for count in [100, 300, 1000] {
            let prefix = c.to_string().repeat(count);
            if let Ok(p) = Pattern::prefixed(&prefix, &[&prefix], &body) {
                assert!(p.as_str().contains(&prefix));
            }
        }
    }
    assert_eq!(Pattern::new().as_str(), "");
    assert_eq!(Pattern::default().as_str(), "");
    assert_eq!(Pattern::anchored(&Pattern::new()).unwrap().as_str(), "^$");
}
