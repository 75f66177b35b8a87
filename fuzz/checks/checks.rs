//! The check behind every fuzz target, one `pub fn(&[u8])` each, in one plain file.
//!
//! Two builds use it: the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, through the
//! `typed-id-fuzz` library whose root is this file) and the stable-toolchain test
//! `tests/tests/test_fuzz_corpus.rs` (through `#[path]`), which replays every file of
//! `fuzz/corpus/<target>/` through [`TARGETS`]. A check panics when it finds a defect;
//! it never panics on input the parsers are right to reject.
//!
//! Input bytes become text with `String::from_utf8_lossy`: valid UTF-8 is used as it
//! is, anything else still reaches the parsers (with `U+FFFD` in place of bad bytes).
//! Checks that need numbers (codec and generator round trips) read them from the raw
//! bytes.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::fmt::{Debug, Display};
use std::str::FromStr;
use std::sync::LazyLock;

use arbitrary::{Arbitrary, Unstructured};
use regex::Regex;
use typed_id::codec;
use typed_id::generator::ProcessInstanceId;
use typed_id::{
    Body, HashId, HashSpec, HexKey, HexSpec, InstanceKey, ParseErrorKind, ParseIdError, Pattern,
    Seq, SeqSpec, Snowflake, SnowflakeSpec, TypedId,
};
use typed_id::{DynTypeId, TypeIdUuid};

/// A target's check: panics on a defect.
pub type Check = fn(&[u8]);

/// Every target: its name (the directory under `fuzz/corpus/` and the binary under
/// `fuzz/fuzz_targets/`) and its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("hash_body", hash_body),
    ("snowflake_body", snowflake_body),
    ("seq_body", seq_body),
    ("hex_body", hex_body),
    ("derived", derived),
    ("instance_key", instance_key),
    ("process_instance_id", process_instance_id),
    ("codec", codec),
    ("differential", differential),
    ("round_trip", round_trip),
    ("typeid", typeid),
];

// ---------------------------------------------------------------------------------
// Derived types: several option sets per body, legacy prefixes, prefixes with `-`,
// prefixes at the longest a body's inline text allows.

/// `el` at full depth and length, with a legacy prefix.
#[derive(TypedId)]
#[typed_id(prefix = "el", accept = ["elem"], max_depth = 3)]
pub struct ElementId(HashId);

/// Hashes of 4 to 6 characters, one child level.
#[derive(TypedId)]
#[typed_id(prefix = "node", min_len = 4, max_len = 6, max_depth = 1)]
pub struct NodeId(HashId);

/// No hierarchy.
#[derive(TypedId)]
#[typed_id(prefix = "doc", max_depth = 0)]
pub struct DocumentId(HashId);

/// The longest prefix a full-depth hash type can carry today (4 characters).
#[derive(TypedId)]
#[typed_id(prefix = "item")]
pub struct ItemId(HashId);

/// Legacy prefixes that overlap the canonical one: `ab-c-x1y` must read as `ab-c` +
/// `x1y`, and `a-x1y` as `a` + `x1y`.
#[derive(TypedId)]
#[typed_id(prefix = "ab", accept = ["ab-c", "a"], max_len = 5, max_depth = 2)]
pub struct NestedId(HashId);

/// Width 3, the default.
#[derive(TypedId)]
#[typed_id(prefix = "WORK", width = 3)]
pub struct WorkItemId(Seq);

/// Width 5 with legacy prefixes.
#[derive(TypedId)]
#[typed_id(prefix = "TICKET", accept = ["T", "TKT"], width = 5)]
pub struct TicketId(Seq);

/// Width 1 and the longest prefix a display type can carry today (19 characters).
#[derive(TypedId)]
#[typed_id(prefix = "Long_Seq_Prefix_19c", width = 1)]
pub struct LongSeqId(Seq);

/// Decimal snowflakes.
#[derive(TypedId)]
#[typed_id(prefix = "msg")]
pub struct MessageId(Snowflake);

/// Base62 snowflakes with a legacy prefix.
#[derive(TypedId)]
#[typed_id(prefix = "evt", encoding = "base62", accept = ["event"])]
pub struct EventId(Snowflake);

/// A prefix containing `-`, and a legacy prefix that is its first segment.
#[derive(TypedId)]
#[typed_id(prefix = "odin-PS", accept = ["odin"])]
pub struct OdinKey(HexKey);

/// The longest hex key.
#[derive(TypedId)]
#[typed_id(prefix = "sess", len = 32)]
pub struct SessionKey(HexKey);

/// A TypeID type.
#[derive(TypedId)]
#[typed_id(prefix = "user")]
pub struct UserId(TypeIdUuid);

/// A TypeID prefix with `_`, and a legacy prefix that is its last segment.
#[derive(TypedId)]
#[typed_id(prefix = "order_item", accept = ["item"])]
pub struct OrderItemId(TypeIdUuid);

// ---------------------------------------------------------------------------------
// Option sets for bare bodies

/// A hash spec known to be valid (a bad one fails the build here).
const fn hash_spec(min_len: u8, max_len: u8, max_depth: u8) -> HashSpec {
    match HashSpec::new(min_len, max_len, max_depth) {
        Ok(spec) => spec,
        Err(_) => panic!("an invalid hash spec in the fuzz checks"),
    }
}

const HASH_SPECS: [HashSpec; 6] = [
    HashSpec::DEFAULT,
    hash_spec(4, 6, 1),
    hash_spec(3, 8, 0),
    hash_spec(8, 8, 3),
    hash_spec(3, 3, 1),
    hash_spec(5, 7, 2),
];
const SEQ_WIDTHS: [u8; 5] = [1, 3, 5, 17, 18];
const HEX_LENS: [u8; 5] = [4, 6, 7, 16, 32];
/// `i64::MAX`: a snowflake keeps the sign bit clear.
const SNOWFLAKE_MAX: u64 = i64::MAX as u64;
/// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z in Unix milliseconds: the
/// range of a four-digit year, which is what `ProcessInstanceId` accepts.
const PROCESS_MS: (i64, i64) = (-62_167_219_200_000, 253_402_300_799_999);

// ---------------------------------------------------------------------------------
// Shared helpers

/// The input as text; also marks the start of a check (see [`check_error`]).
fn text(data: &[u8]) -> Cow<'_, str> {
    MESSAGE_CHECKED.set(false);
    String::from_utf8_lossy(data)
}

/// Up to `N` bytes from `data` at `at`, zero-filled past its end.
fn bytes_at<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = data.get(at..) {
        let n = src.len().min(N);
        out[..n].copy_from_slice(&src[..n]);
    }
    out
}

fn u64_at(data: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes_at(data, at))
}

/// What every rejection must satisfy: the right type name, a byte index on a
/// character boundary of the input, the input's length and start kept, and a message
/// of the form `invalid Type "input": reason[ at byte N]`.
fn check_error(name: &str, input: &str, e: &ParseIdError) {
    assert_eq!(e.type_name(), name, "{input:?}: {e:?}");
    assert!(
        e.index() <= input.len() && input.is_char_boundary(e.index()),
        "{name}: {input:?}: index {} is not a char boundary",
        e.index()
    );
    assert_eq!(e.input_len(), input.len(), "{name}: {input:?}");
    assert!(input.starts_with(e.input_snippet()), "{name}: {input:?}");
    // Escaping the input for the message costs several times all the parsing, and is
    // the same for every parser run on one input: format the first error of each
    // check only, for inputs short enough to be shown whole, into a reused buffer.
    if input.len() > 24 || MESSAGE_CHECKED.replace(true) {
        return;
    }
    let located = !matches!(
        e.kind(),
        ParseErrorKind::Empty | ParseErrorKind::TooLong { .. }
    );
    MESSAGE.with_borrow_mut(|msg| {
        msg.clear();
        write!(msg, "{e}").expect("formatting into a String");
        let head = msg
            .strip_prefix("invalid ")
            .and_then(|rest| rest.strip_prefix(name))
            .and_then(|rest| rest.strip_prefix(" \""))
            .and_then(|rest| rest.strip_prefix(&*input.escape_debug().to_string()))
            .is_some_and(|rest| rest.starts_with("\": "));
        assert!(head, "{input:?}: {msg}");
        if located {
            let at = msg
                .rsplit_once(" at byte ")
                .map(|(_, n)| n.parse::<usize>());
            assert_eq!(at, Some(Ok(e.index())), "{input:?}: {msg}");
        }
    });
}

thread_local! {
    static MESSAGE: RefCell<String> = const { RefCell::new(String::new()) };
    static MESSAGE_CHECKED: Cell<bool> = const { Cell::new(false) };
}

/// A parse result checked both ways: an accepted value displays as `canonical` and
/// reparses to itself; a rejection passes [`check_error`].
fn check_parsed<T: Display + Debug + PartialEq>(
    name: &str,
    input: &str,
    parsed: &Result<T, ParseIdError>,
    canonical: &str,
    reparse: impl Fn(&str) -> Result<T, ParseIdError>,
) {
    match parsed {
        Ok(v) => {
            let shown = v.to_string();
            assert_eq!(shown, canonical, "{name}: {input:?} displays differently");
            assert_eq!(reparse(&shown).as_ref(), Ok(v), "{name}: {input:?}");
        }
        Err(e) => check_error(name, input, e),
    }
}

/// `input` with the legacy prefix it starts with (if any) replaced by the canonical
/// one: the text a value parsed from `input` displays. The longest matching prefix
/// wins, as in the parser.
fn canonical_text<T: TypedId>(input: &str) -> Cow<'_, str> {
    let starts = |p: &str| {
        input.len() > p.len() && input.starts_with(p) && input.as_bytes()[p.len()] == b'-'
    };
    let longest = std::iter::once(T::PREFIX)
        .chain(T::ACCEPT.iter().copied())
        .filter(|p| starts(p))
        .max_by_key(|p| p.len());
    match longest {
        Some(p) if p != T::PREFIX => Cow::Owned(format!("{}{}", T::PREFIX, &input[p.len()..])),
        _ => Cow::Borrowed(input),
    }
}

// ---------------------------------------------------------------------------------
// Bodies

/// `HashId` under several option sets: accepted text is canonical and its accessors
/// agree with it; every spec accepts a subset of the default grammar.
pub fn hash_body(data: &[u8]) {
    let s = text(data);
    let s = s.as_ref();
    let default = HashId::parse(s);
    for spec in &HASH_SPECS {
        let parsed = HashId::parse_with(s, spec);
        check_parsed(HashId::NAME, s, &parsed, s, |t| HashId::parse_with(t, spec));
        let Ok(id) = parsed else { continue };
        assert_eq!(
            default.as_ref(),
            Ok(&id),
            "{s:?}: {spec:?} is wider than DEFAULT"
        );
        check_hash_accessors(&id, s, spec);
    }
}

fn check_hash_accessors(id: &HashId, s: &str, spec: &HashSpec) {
    assert_eq!(id.as_str(), s);
    let hash = id.hash_str();
    assert!(
        (usize::from(spec.min_len())..=usize::from(spec.max_len())).contains(&hash.len())
            && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'z')),
        "{s:?}: hash {hash:?} under {spec:?}"
    );
    let depth = id.depth();
    assert!(
        depth <= spec.max_depth(),
        "{s:?}: depth {depth} under {spec:?}"
    );
    assert_eq!(usize::from(depth), s.matches('.').count(), "{s:?}");
    let mut rebuilt = hash.to_owned();
    for n in id.child_numbers() {
        assert!(n >= 1, "{s:?}: child number {n}");
        rebuilt.push('.');
        rebuilt.push_str(&n.to_string());
    }
    assert_eq!(rebuilt, s, "{s:?}: child numbers do not rebuild the text");
    assert_eq!(id.root().as_str(), hash);
    assert_eq!(id.is_root(), depth == 0);
    match id.parent() {
        Some(parent) => {
            assert_eq!(Some(parent.as_str()), s.rsplit_once('.').map(|(p, _)| p));
            assert!(parent.is_ancestor_of(id) && !id.is_ancestor_of(&parent));
            assert_eq!(
                parent.child(id.child_number().unwrap_or(0)).as_ref(),
                Ok(id)
            );
        }
        None => assert_eq!(depth, 0, "{s:?}: no parent at depth {depth}"),
    }
    assert_eq!(id.ancestors().count(), usize::from(depth), "{s:?}");
    assert!(!id.is_ancestor_of(id));
    match id.child(1) {
        Ok(child) => {
            assert!(depth < 3);
            assert_eq!(child.as_str(), format!("{s}.1"));
            assert_eq!(child.parent().as_ref(), Some(id));
        }
        Err(_) => assert_eq!(depth, 3, "{s:?}: no child below depth {depth}"),
    }
    assert!(id.child(0).is_err());
}

/// Snowflakes in decimal and base62, each against a reference built from `std` and the
/// codec; values from the raw bytes round-trip through both texts.
pub fn snowflake_body(data: &[u8]) {
    let s = text(data);
    let s = s.as_ref();

    let decimal = Snowflake::parse(s);
    check_parsed(Snowflake::NAME, s, &decimal, s, Snowflake::parse);
    let canonical_decimal = !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s.len() == 1 || !s.starts_with('0'))
        && s.parse::<u64>().is_ok_and(|v| v <= SNOWFLAKE_MAX);
    assert_eq!(decimal.is_ok(), canonical_decimal, "{s:?}: {decimal:?}");
    if let Ok(v) = decimal {
        assert_eq!(s.parse::<u64>(), Ok(v.as_u64()));
        assert_eq!(i64::try_from(v.as_u64()), Ok(v.as_i64()));
    }

    let base62 = Snowflake::parse_base62(s);
    if let Err(e) = &base62 {
        check_error(Snowflake::NAME, s, e);
    }
    let reference = reference_decode(s, 62).filter(|&v| v <= SNOWFLAKE_MAX);
    assert_eq!(
        base62.as_ref().ok().map(|v| v.as_u64()),
        reference,
        "{s:?}: {base62:?}"
    );
    if let Ok(v) = base62 {
        assert_eq!(v.to_base62().as_str(), s);
        assert_eq!(Snowflake::parse(&v.to_string()), Ok(v));
    }

    let raw = u64_at(data, 0);
    assert_eq!(Snowflake::new(raw).is_ok(), raw <= SNOWFLAKE_MAX, "{raw}");
    let v = Snowflake::new(raw & SNOWFLAKE_MAX).expect("sign bit clear");
    assert_eq!(Snowflake::parse(&v.to_string()), Ok(v));
    assert_eq!(Snowflake::parse_base62(v.to_base62().as_str()), Ok(v));
    assert_eq!(Snowflake::from_i64(v.as_i64()), Ok(v));
}

/// Display numbers at several widths against a reference: the text is exactly the
/// number zero-padded to the width.
pub fn seq_body(data: &[u8]) {
    let s = text(data);
    let s = s.as_ref();
    for width in SEQ_WIDTHS {
        let spec = SeqSpec::new(width).expect("SEQ_WIDTHS are valid");
        let parsed = Seq::parse_with(s, &spec);
        check_parsed(Seq::NAME, s, &parsed, s, |t| Seq::parse_with(t, &spec));
        let w = usize::from(width);
        let reference = s
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse::<u64>().ok())
            .flatten()
            .filter(|v| (1..=Seq::MAX).contains(v) && format!("{v:0w$}") == s);
        assert_eq!(
            parsed.as_ref().ok().map(Seq::value),
            reference,
            "{s:?} at width {width}: {parsed:?}"
        );
        if let Ok(v) = parsed {
            assert_eq!(v.as_str(), s);
            assert_eq!(
                Seq::with_spec(v.value(), &spec).map(|b| b.to_string()),
                Ok(s.to_owned())
            );
        }

        let value = u64_at(data, 0) % (Seq::MAX + 1);
        match Seq::with_spec(value, &spec) {
            Ok(n) => {
                assert_eq!(n.value(), value);
                assert_eq!(Seq::parse_with(n.as_str(), &spec), Ok(n));
            }
            Err(_) => assert_eq!(value, 0),
        }
    }
}

/// Hex keys of several lengths against a reference; keys built from the raw bytes
/// parse back.
pub fn hex_body(data: &[u8]) {
    let s = text(data);
    let s = s.as_ref();
    for len in HEX_LENS {
        let spec = HexSpec::new(len).expect("HEX_LENS are valid");
        let parsed = HexKey::parse_with(s, &spec);
        check_parsed(HexKey::NAME, s, &parsed, s, |t| {
            HexKey::parse_with(t, &spec)
        });
        let reference = s.len() == usize::from(len)
            && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        assert_eq!(parsed.is_ok(), reference, "{s:?} at len {len}: {parsed:?}");

        match HexKey::from_bytes(data, len) {
            Ok(key) => {
                let expected: String = data
                    .iter()
                    .flat_map(|b| [b >> 4, b & 0x0f])
                    .take(usize::from(len))
                    .map(|n| char::from_digit(u32::from(n), 16).unwrap_or('?'))
                    .collect();
                assert_eq!(key.as_str(), expected);
                assert_eq!(HexKey::parse_with(key.as_str(), &spec), Ok(key));
            }
            Err(_) => assert!(data.len() * 2 < usize::from(len)),
        }
    }
}

// ---------------------------------------------------------------------------------
// Derived types

/// One derived type: parse and `FromStr` agree; accepted text displays canonically
/// (legacy prefix replaced), reparses to the same value, fits `MAX_LEN`, and converts
/// to its body and back; rejections name the type.
fn derived_one<T>(s: &str)
where
    T: TypedId + FromStr<Err = ParseIdError> + TryFrom<<T as TypedId>::Body>,
    <T as TryFrom<<T as TypedId>::Body>>::Error: Debug,
{
    let parsed = T::parse_id(s);
    assert_eq!(s.parse::<T>(), parsed, "{}: {s:?}", T::NAME);
    let canonical = canonical_text::<T>(s);
    check_parsed(T::NAME, s, &parsed, &canonical, T::parse_id);
    match parsed {
        Ok(id) => {
            assert!(s.len() <= T::MAX_LEN, "{}: {s:?} is over MAX_LEN", T::NAME);
            assert_eq!(format!("{id:?}"), format!("{}({:?})", T::NAME, canonical));
            assert_eq!(
                T::try_from(id.to_body()).ok(),
                Some(id),
                "{}: {s:?}",
                T::NAME
            );
        }
        Err(e) if s.len() > T::MAX_LEN => assert!(
            matches!(e.kind(), ParseErrorKind::TooLong { .. }),
            "{}: {s:?}: {e:?}",
            T::NAME
        ),
        Err(_) => {}
    }
}

/// The hierarchy helpers of a derived hash type agree with its text.
macro_rules! check_hierarchy {
    ($t:ty, $s:expr, $max_depth:expr) => {
        if let Ok(id) = <$t>::parse($s) {
            let shown = id.to_string();
            let depth = id.depth();
            assert!(depth <= $max_depth);
            assert_eq!(usize::from(depth), shown.matches('.').count());
            match id.parent() {
                Some(p) => {
                    assert_eq!(
                        Some(p.to_string().as_str()),
                        shown.rsplit_once('.').map(|(a, _)| a)
                    );
                    assert!(p.is_ancestor_of(&id) && !id.is_ancestor_of(&p));
                }
                None => assert_eq!(depth, 0),
            }
            assert_eq!(id.ancestors().count(), usize::from(depth));
            match id.child(7) {
                Ok(c) => {
                    assert!(depth < $max_depth);
                    assert_eq!(c.to_string(), format!("{shown}.7"));
                    assert_eq!(<$t>::parse(&c.to_string()), Ok(c));
                }
                Err(_) => assert_eq!(depth, $max_depth),
            }
        }
    };
}

/// Every derived type on the same input.
pub fn derived(data: &[u8]) {
    let s = text(data);
    let s = s.as_ref();
    derived_one::<ElementId>(s);
    derived_one::<NodeId>(s);
    derived_one::<DocumentId>(s);
    derived_one::<ItemId>(s);
    derived_one::<NestedId>(s);
    derived_one::<WorkItemId>(s);
    derived_one::<TicketId>(s);
    derived_one::<LongSeqId>(s);
    derived_one::<MessageId>(s);
    derived_one::<EventId>(s);
    derived_one::<OdinKey>(s);
    derived_one::<SessionKey>(s);
    check_hierarchy!(ElementId, s, 3);
    check_hierarchy!(NodeId, s, 1);
    check_hierarchy!(ItemId, s, 3);
    check_hierarchy!(NestedId, s, 2);
}

// ---------------------------------------------------------------------------------
// Instance keys and process IDs

/// `InstanceKey::parse`, and `from_parts` on the input split at `|`.
pub fn instance_key(data: &[u8]) {
    let s = text(data);
    let s = s.as_ref();
    let parsed = InstanceKey::parse(s);
    check_parsed("InstanceKey", s, &parsed, s, InstanceKey::parse);
    if let Ok(key) = parsed {
        assert_eq!(key.as_str(), s);
        assert_eq!(format!("{}-{}-{}", key.project(), key.kind(), key.hex()), s);
        assert!(key.project().len() <= 48 && key.kind().len() <= 16, "{s:?}");
        assert_eq!(
            InstanceKey::from_parts(key.project(), key.kind(), key.hex()),
            Ok(key)
        );
    }

    let mut parts = s.splitn(3, '|');
    if let (Some(project), Some(kind), Some(hex)) = (parts.next(), parts.next(), parts.next()) {
        match InstanceKey::from_parts(project, kind, hex) {
            Ok(key) => {
                assert_eq!((key.project(), key.kind(), key.hex()), (project, kind, hex));
                assert_eq!(InstanceKey::parse(key.as_str()), Ok(key));
            }
            Err(e) => {
                assert!(e.index() <= e.input_len(), "{s:?}: {e:?}");
                let _ = e.to_string();
            }
        }
    }
}

/// `ProcessInstanceId::parse` (only what `Display` writes is accepted, current and
/// legacy forms); IDs built from the raw bytes display and parse back.
pub fn process_instance_id(data: &[u8]) {
    let s = text(data);
    let s = s.as_ref();
    let parsed = ProcessInstanceId::parse(s);
    check_parsed("ProcessInstanceId", s, &parsed, s, ProcessInstanceId::parse);
    if let Ok(id) = parsed {
        let rebuilt = if id.is_legacy() {
            // The legacy, second-precision form: whole seconds, no random part.
            assert_eq!((id.unix_ms() % 1000, id.random()), (0, 0), "{s:?}");
            ProcessInstanceId::from_legacy_parts(id.unix_ms() / 1000, id.pid())
        } else {
            ProcessInstanceId::from_parts(id.unix_ms(), id.pid(), id.random())
        };
        assert_eq!(rebuilt.ok(), Some(id));
        let _ = id.timestamp();
    }

    let raw_ms = i64::from_le_bytes(bytes_at(data, 0));
    let pid = u32::from_le_bytes(bytes_at(data, 8));
    let random = u32::from_le_bytes(bytes_at(data, 12));
    let in_range = (PROCESS_MS.0..=PROCESS_MS.1).contains(&raw_ms);
    assert_eq!(
        ProcessInstanceId::from_parts(raw_ms, pid, random).is_ok(),
        in_range,
        "{raw_ms}"
    );
    let ms = PROCESS_MS.0 + raw_ms.rem_euclid(PROCESS_MS.1 - PROCESS_MS.0 + 1);
    let id = ProcessInstanceId::from_parts(ms, pid, random).expect("in range");
    let shown = id.to_string();
    assert_eq!(ProcessInstanceId::parse(&shown), Ok(id), "{shown}");
    assert_eq!((id.unix_ms(), id.pid(), id.random()), (ms, pid, random));
}

// ---------------------------------------------------------------------------------
// Codecs

/// Canonical base36 (lowercase) or base62 text decoded with `u128` arithmetic: `None`
/// unless the text is non-empty, in the alphabet, without a leading zero, and at most
/// `u64::MAX`.
fn reference_decode(s: &str, base: u32) -> Option<u64> {
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    let mut v: u128 = 0;
    for b in s.bytes() {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'z' if base == 36 => b - b'a' + 10,
            b'A'..=b'Z' if base == 62 => b - b'A' + 10,
            b'a'..=b'z' if base == 62 => b - b'a' + 36,
            _ => return None,
        };
        v = v * u128::from(base) + u128::from(d);
        if v > u128::from(u64::MAX) {
            return None;
        }
    }
    u64::try_from(v).ok()
}

/// The public base36/base62 codec against [`reference_decode`], and encode → decode
/// on values from the raw bytes.
pub fn codec(data: &[u8]) {
    let s = text(data);
    let s = s.as_ref();
    for (base, decoded) in [(36, codec::decode_base36(s)), (62, codec::decode_base62(s))] {
        assert_eq!(decoded.ok(), reference_decode(s, base), "base{base} {s:?}");
        match decoded {
            Ok(v) => {
                let encoded = if base == 36 {
                    codec::encode_base36(v).to_string()
                } else {
                    codec::encode_base62(v).to_string()
                };
                assert_eq!(encoded, s, "base{base}");
            }
            Err(e) => {
                assert!(
                    e.index() <= s.len() && s.is_char_boundary(e.index()),
                    "base{base} {s:?}: {e:?}"
                );
                let _ = e.to_string();
            }
        }
    }

    let v = u64_at(data, 0);
    let b36 = codec::encode_base36(v);
    assert_eq!(codec::decode_base36(b36.as_str()), Ok(v));
    assert_eq!(b36.as_bytes(), b36.as_str().as_bytes());
    let b62 = codec::encode_base62(v);
    assert_eq!(codec::decode_base62(b62.as_str()), Ok(v));
    let width = usize::from(data.get(8).copied().unwrap_or(0) % 12) + 1;
    let fixed = codec::encode_base36_fixed(v, width).expect("widths 1..=12 are valid");
    assert_eq!(fixed.as_str().len(), width);
    let trimmed = fixed.as_str().trim_start_matches('0');
    let back = if trimmed.is_empty() {
        0
    } else {
        codec::decode_base36(trimmed).expect("fixed-width text decodes")
    };
    assert_eq!(back, v % 36u64.pow(width as u32), "{v} at width {width}");
}

// ---------------------------------------------------------------------------------
// Parser against pattern

/// A parser reduced to its verdict, beside the pattern it must agree with.
struct Oracle {
    name: String,
    regex: Regex,
    parses: Box<dyn Fn(&str) -> bool + Send + Sync>,
}

impl Oracle {
    fn new<T, E>(
        name: impl Into<String>,
        pattern: &str,
        parse: impl Fn(&str) -> Result<T, E> + Send + Sync + 'static,
    ) -> Self {
        Oracle {
            name: name.into(),
            regex: Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}")),
            parses: Box::new(move |s| parse(s).is_ok()),
        }
    }

    fn typed<T: TypedId>() -> Self {
        Oracle::new(T::NAME, T::PATTERN, T::parse_id)
    }
}

static ORACLES: LazyLock<Vec<Oracle>> = LazyLock::new(|| {
    let mut all = vec![
        Oracle::typed::<ElementId>(),
        Oracle::typed::<NodeId>(),
        Oracle::typed::<DocumentId>(),
        Oracle::typed::<ItemId>(),
        Oracle::typed::<NestedId>(),
        Oracle::typed::<WorkItemId>(),
        Oracle::typed::<TicketId>(),
        Oracle::typed::<LongSeqId>(),
        Oracle::typed::<MessageId>(),
        Oracle::typed::<EventId>(),
        Oracle::typed::<OdinKey>(),
        Oracle::typed::<SessionKey>(),
        Oracle::new("HashId::PATTERN", HashId::PATTERN, HashId::parse),
        Oracle::new("Seq::PATTERN", Seq::PATTERN, Seq::parse),
        Oracle::new("Snowflake::PATTERN", Snowflake::PATTERN, Snowflake::parse),
        Oracle::new(
            "Snowflake::BASE62_PATTERN",
            Snowflake::BASE62_PATTERN,
            Snowflake::parse_base62,
        ),
        Oracle::new("HexKey::PATTERN", HexKey::PATTERN, HexKey::parse),
    ];
    for spec in HASH_SPECS {
        let pattern = Pattern::anchored(&spec.pattern()).expect("a body pattern fits");
        all.push(Oracle::new(
            format!("HashId {spec:?}"),
            pattern.as_str(),
            move |s| HashId::parse_with(s, &spec),
        ));
    }
    for width in SEQ_WIDTHS {
        let spec = SeqSpec::new(width).expect("SEQ_WIDTHS are valid");
        let pattern = Pattern::anchored(&spec.pattern()).expect("a body pattern fits");
        all.push(Oracle::new(
            format!("Seq {spec:?}"),
            pattern.as_str(),
            move |s| Seq::parse_with(s, &spec),
        ));
    }
    for len in HEX_LENS {
        let spec = HexSpec::new(len).expect("HEX_LENS are valid");
        let pattern = Pattern::anchored(&spec.pattern()).expect("a body pattern fits");
        all.push(Oracle::new(
            format!("HexKey {spec:?}"),
            pattern.as_str(),
            move |s| HexKey::parse_with(s, &spec),
        ));
    }
    for spec in [SnowflakeSpec::DECIMAL, SnowflakeSpec::BASE62] {
        let pattern = Pattern::anchored(&spec.pattern()).expect("a body pattern fits");
        all.push(Oracle::new(
            format!("Snowflake {spec:?}"),
            pattern.as_str(),
            move |s| {
                if spec == SnowflakeSpec::BASE62 {
                    Snowflake::parse_base62(s)
                } else {
                    Snowflake::parse(s)
                }
            },
        ));
    }
    all
});

static INSTANCE_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(InstanceKey::PATTERN).expect("InstanceKey::PATTERN compiles"));

/// Every derived type's parser against its `PATTERN` (and every body's, under each
/// option set) through the `regex` crate: the verdicts must be the same on every input.
pub fn differential(data: &[u8]) {
    let s = text(data);
    let s = s.as_ref();
    for oracle in ORACLES.iter() {
        let matched = oracle.regex.is_match(s);
        let parsed = (oracle.parses)(s);
        assert_eq!(
            matched,
            parsed,
            "{}: {s:?}: pattern {} says {matched}, parser says {parsed}",
            oracle.name,
            oracle.regex.as_str()
        );
    }
    // The pattern cannot bound the project's length (48 bytes) without look-ahead:
    // text with a longer project matches the pattern and only the parser rejects it
    // (as too long a project, or as too long a key when that is what it checks first).
    let matched = INSTANCE_KEY.is_match(s);
    let parsed = InstanceKey::parse(s);
    if matched != parsed.is_ok() {
        let project_len = s.rsplitn(3, '-').nth(2).map_or(0, str::len);
        assert!(
            matched && project_len > 48,
            "InstanceKey: {s:?}: pattern says {matched}, parser says {parsed:?}"
        );
    }
}

// ---------------------------------------------------------------------------------
// Round trips

/// parse → display → parse is the identity, and display of a parsed value is the
/// input (only canonical text parses; a legacy prefix is replaced by the canonical one).
fn round_trip_one<T, E>(s: &str, canonical: &str, parse: impl Fn(&str) -> Result<T, E>)
where
    T: Display + Debug + PartialEq,
    E: Debug,
{
    if let Ok(v) = parse(s) {
        let shown = v.to_string();
        assert_eq!(shown, canonical, "{s:?} displays as {shown:?}");
        let again = parse(&shown).unwrap_or_else(|e| panic!("{s:?} → {shown:?} → {e:?}"));
        assert_eq!(again, v, "{s:?} → {shown:?}");
        assert_eq!(again.to_string(), shown);
    }
}

fn round_trip_typed<T: TypedId>(s: &str) {
    round_trip_one(s, &canonical_text::<T>(s), T::parse_id);
}

/// Every parser in the crate, round-tripped on the same input.
pub fn round_trip(data: &[u8]) {
    let s = text(data);
    let s = s.as_ref();
    round_trip_typed::<ElementId>(s);
    round_trip_typed::<NodeId>(s);
    round_trip_typed::<DocumentId>(s);
    round_trip_typed::<ItemId>(s);
    round_trip_typed::<NestedId>(s);
    round_trip_typed::<WorkItemId>(s);
    round_trip_typed::<TicketId>(s);
    round_trip_typed::<LongSeqId>(s);
    round_trip_typed::<MessageId>(s);
    round_trip_typed::<EventId>(s);
    round_trip_typed::<OdinKey>(s);
    round_trip_typed::<SessionKey>(s);
    for spec in HASH_SPECS {
        round_trip_one(s, s, |t| HashId::parse_with(t, &spec));
    }
    for width in SEQ_WIDTHS {
        round_trip_one(s, s, |t| {
            Seq::parse_with(t, &SeqSpec::new(width).expect("SEQ_WIDTHS are valid"))
        });
    }
    for len in HEX_LENS {
        round_trip_one(s, s, |t| {
            HexKey::parse_with(t, &HexSpec::new(len).expect("HEX_LENS are valid"))
        });
    }
    round_trip_one(s, s, Snowflake::parse);
    round_trip_one(s, s, |t| {
        Snowflake::parse_base62(t).map(|v| v.to_base62().to_string())
    });
    round_trip_one(s, s, InstanceKey::parse);
    round_trip_one(s, s, ProcessInstanceId::parse);
    round_trip_one(s, s, |t| codec::decode_base36(t).map(codec::encode_base36));
    round_trip_one(s, s, |t| codec::decode_base62(t).map(codec::encode_base62));
}

// ---------------------------------------------------------------------------------
// TypeID

static TYPEID_PATTERNS: LazyLock<[Regex; 3]> = LazyLock::new(|| {
    [DynTypeId::PATTERN, UserId::PATTERN, OrderItemId::PATTERN]
        .map(|p| Regex::new(p).expect("TypeID patterns compile"))
});

/// TypeIDs: the dynamic parser and two derived types on the input as text (each agrees
/// with its `PATTERN`, round-trips, and agrees with the others on what they share), and
/// values built from the raw bytes (the derived types' `arbitrary::Arbitrary`, a UUID
/// from 16 bytes) display, match the patterns and parse back.
pub fn typeid(data: &[u8]) {
    let s = text(data);
    let s = s.as_ref();
    let [dyn_pattern, user_pattern, order_pattern] = &*TYPEID_PATTERNS;

    let parsed = DynTypeId::parse(s);
    assert_eq!(
        dyn_pattern.is_match(s),
        parsed.is_ok(),
        "TypeID: {s:?}: {parsed:?}"
    );
    match &parsed {
        Ok(id) => {
            assert_eq!(id.to_string(), s, "TypeID: {s:?} displays differently");
            assert_eq!(DynTypeId::new(id.prefix(), id.uuid()).as_ref(), Ok(id));
            assert!(DynTypeId::is_valid_prefix(id.prefix()));
        }
        Err(e) => check_error(DynTypeId::NAME, s, e),
    }

    let user = UserId::parse(s);
    assert_eq!(
        user_pattern.is_match(s),
        user.is_ok(),
        "UserId: {s:?}: {user:?}"
    );
    derived_one::<UserId>(s);
    // A UserId is exactly a TypeID whose prefix is `user`.
    let as_user = parsed.as_ref().ok().filter(|id| id.prefix() == "user");
    assert_eq!(
        user.as_ref().ok().map(|u| u.uuid()),
        as_user.map(|id| id.uuid()),
        "{s:?}"
    );

    let order = OrderItemId::parse(s);
    assert_eq!(
        order_pattern.is_match(s),
        order.is_ok(),
        "OrderItemId: {s:?}: {order:?}"
    );
    match &order {
        Ok(id) => {
            let shown = id.to_string();
            let body = s
                .strip_prefix("order_item_")
                .or_else(|| s.strip_prefix("item_"));
            assert_eq!(Some(&shown["order_item_".len()..]), body, "{s:?}");
            assert_eq!(OrderItemId::parse(&shown).as_ref(), Ok(id));
        }
        Err(e) => check_error(OrderItemId::NAME, s, e),
    }

    // Values from the raw bytes.
    let uuid = TypeIdUuid::from_bytes(bytes_at(data, 0));
    let suffix = uuid.to_string();
    assert_eq!(TypeIdUuid::parse(&suffix), Ok(uuid));
    assert_eq!(DynTypeId::parse(&suffix).map(|id| id.uuid()), Ok(uuid));
    let mut u = Unstructured::new(data);
    let user = UserId::arbitrary(&mut u).expect("every input gives a UserId");
    let order = OrderItemId::arbitrary(&mut u).expect("every input gives an OrderItemId");
    for (text, pattern) in [
        (user.to_string(), user_pattern),
        (order.to_string(), order_pattern),
    ] {
        assert!(pattern.is_match(&text), "{text:?} from {data:?}");
        assert!(dyn_pattern.is_match(&text), "{text:?}");
        assert_eq!(
            DynTypeId::parse(&text).map(|id| id.to_string()),
            Ok(text.clone())
        );
    }
    assert_eq!(UserId::parse(&user.to_string()), Ok(user));
    assert_eq!(OrderItemId::parse(&order.to_string()), Ok(order));
}
