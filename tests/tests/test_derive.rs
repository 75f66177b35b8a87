//! The API `#[derive(TypedId)]` generates, for every body kind and attribute option.

use std::collections::{BTreeSet, HashSet};

use typed_id::{HashId, IdError, ParseErrorKind, Seq, Snowflake, TypedId};

#[derive(TypedId)]
#[typed_id(prefix = "el", accept = ["elem", "element"])]
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
#[typed_id(prefix = "TICKET", width = 5)]
struct TicketId(Seq);

#[derive(TypedId)]
#[typed_id(prefix = "msg")]
struct MessageId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "evt", encoding = "base62")]
struct EventId(Snowflake);

#[derive(TypedId)]
#[typed_id(prefix = "odin-PS")]
struct OdinKey(typed_id::HexKey);

#[derive(TypedId)]
#[typed_id(prefix = "sess", len = 16)]
struct SessionKey(typed_id::HexKey);

// Bodies under other names: a type alias and a re-export, named by `kind`.
type Counter = Seq;
type Flake = Snowflake;

mod bodies {
    pub use typed_id::{HashId as Digest, HexKey as Token};
}

#[derive(TypedId)]
#[typed_id(prefix = "TASK", kind = "seq", width = 4)]
struct TaskId(Counter);

#[derive(TypedId)]
#[typed_id(prefix = "blob", kind = "hash", min_len = 5, max_depth = 1)]
struct BlobId(bodies::Digest);

#[derive(TypedId)]
#[typed_id(prefix = "ping", kind = "snowflake", encoding = "base62")]
struct PingId(Flake);

#[derive(TypedId)]
#[typed_id(prefix = "tok", kind = "hex", len = 8)]
struct TokenKey(bodies::Token);

// `kind` agreeing with a body named directly is allowed (and redundant).
#[derive(TypedId)]
#[typed_id(prefix = "pg", kind = "hash")]
struct PageId(HashId);

#[test]
fn constants_and_patterns() {
    assert_eq!(ElementId::PREFIX, "el");
    assert_eq!(<ElementId as TypedId>::NAME, "ElementId");
    assert_eq!(<ElementId as TypedId>::ACCEPT, ["elem", "element"]);
    assert!(ElementId::PATTERN.starts_with("^(?:el|elem|element)-[0-9a-z]{3,8}(?:\\."));
    assert_eq!(NodeId::PATTERN.matches("(?:\\.").count(), 1);
    assert!(NodeId::PATTERN.starts_with("^node-[0-9a-z]{4,6}"));
    assert_eq!(DocumentId::PATTERN, "^doc-[0-9a-z]{3,8}$");
    assert_eq!(OdinKey::PATTERN, "^odin-PS-[0-9a-f]{6}$");
    assert_eq!(SessionKey::PATTERN, "^sess-[0-9a-f]{16}$");
    assert!(WorkItemId::PATTERN.starts_with("^WORK-(?:"));
    // The longest accepted input: longest prefix, '-', longest body.
    assert_eq!(
        <ElementId as TypedId>::MAX_LEN,
        "element".len() + 1 + 8 + 3 * 11
    );
}

#[test]
fn hash_ids_parse_display_and_navigate() {
    let id = ElementId::parse("el-a3f8e9.1.2").unwrap();
    assert_eq!(id.to_text(), "el-a3f8e9.1.2");
    assert_eq!(id.to_string(), "el-a3f8e9.1.2");
    assert_eq!(format!("{id:?}"), r#"ElementId("el-a3f8e9.1.2")"#);
    assert_eq!(id.depth(), 2);
    assert_eq!(id.parent().unwrap().to_text(), "el-a3f8e9.1");
    assert_eq!(id.root().to_text(), "el-a3f8e9");
    assert_eq!(id.child(30).unwrap().to_text(), "el-a3f8e9.1.2.30");
    assert_eq!(
        id.child(1).unwrap().child(1),
        Err(IdError::TooDeep { max_depth: 3 })
    );
    assert_eq!(id.child(0), Err(IdError::Zero));
    let ancestors: Vec<String> = id.ancestors().map(|a| a.to_string()).collect();
    assert_eq!(ancestors, ["el-a3f8e9.1", "el-a3f8e9"]);
    assert!(id.root().is_ancestor_of(&id));
    assert!(!id.is_ancestor_of(&id.root()));
    assert_eq!(id.body().as_str(), "a3f8e9.1.2");
}

#[test]
fn depth_and_length_options_are_enforced() {
    let node = NodeId::parse("node-abcd.7").unwrap();
    assert_eq!(node.child(1), Err(IdError::TooDeep { max_depth: 1 }));
    let err = NodeId::parse("node-abcd.7.1").unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::TooDeep { max_depth: 1 });
    assert_eq!(err.index(), 11);
    assert_eq!(
        NodeId::parse("node-abc").unwrap_err().kind(),
        ParseErrorKind::HashLength {
            len: 3,
            min: 4,
            max: 6
        }
    );
    assert_eq!(
        DocumentId::parse("doc-abc.1").unwrap_err().kind(),
        ParseErrorKind::TooDeep { max_depth: 0 }
    );
}

#[test]
fn legacy_prefixes_parse_to_the_canonical_form() {
    for text in ["el-abc.1", "elem-abc.1", "element-abc.1"] {
        let id: ElementId = text.parse().unwrap();
        assert_eq!(id.to_text(), "el-abc.1");
        assert_eq!(id, ElementId::parse("el-abc.1").unwrap());
    }
    let err = ElementId::parse("elements-abc").unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::Prefix { expected: "el" });
    assert_eq!(
        err.to_string(),
        r#"invalid ElementId "elements-abc": expected prefix "el-" at byte 0"#
    );
}

#[test]
fn errors_name_the_type_and_the_byte() {
    let err = ElementId::parse("El-a3f8e9").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid ElementId "El-a3f8e9": expected prefix "el-" at byte 0"#
    );
    let err = ElementId::parse("el-a3f8e9.0").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid ElementId "el-a3f8e9.0": child number must be positive at byte 10"#
    );
    assert_eq!(err.type_name(), "ElementId");
    let err = ElementId::parse(&"el-".repeat(100_000)).unwrap_err();
    assert!(matches!(
        err.kind(),
        ParseErrorKind::TooLong { len: 300_000, .. }
    ));
    assert_eq!(
        ElementId::parse("").unwrap_err().kind(),
        ParseErrorKind::Empty
    );
    assert!(ElementId::parse("el-").is_err());
    assert!(ElementId::try_from(String::from("el-ABC")).is_err());
}

#[test]
fn display_ids() {
    let w = WorkItemId::new(42).unwrap();
    assert_eq!(w.to_text(), "WORK-042");
    assert_eq!(w.value(), 42);
    assert_eq!(WorkItemId::new(1000).unwrap().to_text(), "WORK-1000");
    assert_eq!(WorkItemId::parse("WORK-042").unwrap(), w);
    assert_eq!(
        WorkItemId::parse("WORK-42").unwrap_err().kind(),
        ParseErrorKind::TooNarrow { width: 3 }
    );
    assert_eq!(WorkItemId::new(0), Err(IdError::Zero));
    assert_eq!(TicketId::new(7).unwrap().to_string(), "TICKET-00007");
    // Ordered by number, not by text.
    assert!(WorkItemId::new(999).unwrap() < WorkItemId::new(1000).unwrap());
    // A body converts into any display type at that type's width.
    let body: Seq = w.into();
    assert_eq!(body.as_str(), "042");
    assert_eq!(TicketId::try_from(body).unwrap().to_text(), "TICKET-00042");
}

#[test]
fn snowflake_ids() {
    let m = MessageId::from_u64(1_767_053_847_123_456_789).unwrap();
    assert_eq!(m.to_string(), "msg-1767053847123456789");
    assert_eq!(m.as_u64(), 1_767_053_847_123_456_789);
    assert_eq!(MessageId::parse("msg-1767053847123456789").unwrap(), m);
    assert!(MessageId::from_u64(u64::MAX).is_err());
    let e = EventId::from_u64(m.as_u64()).unwrap();
    let text = e.to_string();
    assert!(text.starts_with("evt-") && text.len() <= 4 + 11);
    assert_eq!(EventId::parse(&text).unwrap(), e);
    assert!(
        EventId::parse("evt-1767053847123456789").is_err(),
        "decimal is not base62 text here"
    );
    assert!(MessageId::from_u64(5).unwrap() < MessageId::from_u64(6).unwrap());
    assert_eq!(size_of::<MessageId>(), 8);
    // The sign bit is always clear, so it serves as the niche for `None`.
    assert_eq!(size_of::<Option<MessageId>>(), 8);
    assert_eq!(size_of::<Option<Snowflake>>(), 8);
    assert_eq!(size_of::<Option<EventId>>(), 8);
    // Order, equality and the default survive the stored form, at both ends.
    let zero = MessageId::from_u64(0).unwrap();
    let max = MessageId::from_u64(i64::MAX as u64).unwrap();
    assert!(zero < m && m < max);
    assert_eq!(Snowflake::default().as_u64(), 0);
    assert_eq!(zero.to_string(), "msg-0");
    assert_eq!(max.to_string(), format!("msg-{}", i64::MAX));
    assert_eq!(Some(zero).map(|z| z.as_u64()), Some(0));
}

/// `to_text()` gives every kind's canonical text on the stack, equal to `Display`, and
/// `Display` agrees with `std`'s formatting of the number for snowflakes at every digit
/// count (the digits are written by hand, eight at a time).
#[test]
fn to_text_and_display_agree_for_every_kind() {
    let texts = [
        ElementId::parse("el-a3f8e9.1.2").unwrap().to_text(),
        WorkItemId::new(42).unwrap().to_text(),
        OdinKey::parse("odin-PS-8f4a2b").unwrap().to_text(),
        MessageId::from_u64(1_767_053_847_123_456_789)
            .unwrap()
            .to_text(),
        EventId::from_u64(1_767_053_847_123_456_789)
            .unwrap()
            .to_text(),
    ];
    let expected = [
        "el-a3f8e9.1.2".to_owned(),
        "WORK-042".to_owned(),
        "odin-PS-8f4a2b".to_owned(),
        "msg-1767053847123456789".to_owned(),
        format!(
            "evt-{}",
            typed_id::codec::encode_base62(1_767_053_847_123_456_789)
        ),
    ];
    for (text, expected) in texts.iter().zip(&expected) {
        assert_eq!(text.as_str(), expected);
        assert_eq!(&**text, expected.as_str());
    }
    let mut reused = String::new();
    for k in 0..19u32 {
        for v in [
            10u64.pow(k) - 1,
            10u64.pow(k),
            10u64.pow(k) + 7,
            3u64.pow(k.min(39)),
        ] {
            let id = MessageId::from_u64(v).unwrap();
            assert_eq!(id.to_string(), format!("msg-{v}"));
            assert_eq!(id.to_text().as_str(), format!("msg-{v}"));
            assert_eq!(Snowflake::new(v).unwrap().to_string(), v.to_string());
            reused.clear();
            use std::fmt::Write as _;
            write!(reused, "{id}").unwrap();
            assert_eq!(reused, format!("msg-{v}"));
            let e = EventId::from_u64(v).unwrap();
            assert_eq!(EventId::parse(e.to_text().as_str()).unwrap(), e);
        }
    }
}

#[test]
fn instance_keys() {
    let k = OdinKey::parse("odin-PS-8f4a2b").unwrap();
    assert_eq!(k.to_text(), "odin-PS-8f4a2b");
    assert_eq!(k.body().as_str(), "8f4a2b");
    assert!(OdinKey::parse("odin-8f4a2b").is_err());
    assert!(OdinKey::parse("odin-PS-8F4A2B").is_err());
    assert!(SessionKey::parse("sess-0123456789abcdef").is_ok());
}

#[test]
fn body_conversions_check_the_target_type() {
    let deep = HashId::parse("abcd.1.2").unwrap();
    assert_eq!(ElementId::try_from(deep).unwrap().to_text(), "el-abcd.1.2");
    assert!(matches!(
        NodeId::try_from(deep),
        Err(IdError::Shape(ParseErrorKind::TooDeep { .. }))
    ));
    let short = HashId::parse("abc").unwrap();
    assert!(NodeId::try_from(short).is_err());
    // A body taken out of one type and put into another gets the other's prefix.
    let node = NodeId::try_from(ElementId::parse("el-abcd").unwrap().body()).unwrap();
    assert_eq!(node.to_text(), "node-abcd");
}

#[test]
fn equality_order_and_hash_follow_the_body() {
    let ids: Vec<ElementId> = ["el-abc.2", "el-abc", "el-abc.10", "el-abd", "el-abc.1"]
        .iter()
        .map(|s| ElementId::parse(s).unwrap())
        .collect();
    let sorted: Vec<String> = ids
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .iter()
        .map(ToString::to_string)
        .collect();
    // Byte order, as a database's C collation sorts the text.
    assert_eq!(
        sorted,
        ["el-abc", "el-abc.1", "el-abc.10", "el-abc.2", "el-abd"]
    );
    let set: HashSet<ElementId> = ids.iter().copied().chain(ids.iter().copied()).collect();
    assert_eq!(set.len(), 5);
    let a = ElementId::parse("elem-abc").unwrap();
    let b = ElementId::parse("el-abc").unwrap();
    assert_eq!(a, b);
}

#[test]
fn ids_are_small_copy_values() {
    fn assert_copy<T: Copy + Send + Sync + 'static>() {}
    assert_copy::<ElementId>();
    assert_copy::<WorkItemId>();
    // The value keeps its body only: the size is the body's, whatever the prefix.
    assert_eq!(size_of::<ElementId>(), size_of::<HashId>());
    assert!(size_of::<ElementId>() <= 48, "el at full depth");
    assert!(size_of::<WorkItemId>() <= 24, "WORK + width 3");
    assert_eq!(size_of::<TicketId>(), size_of::<WorkItemId>());
    assert_eq!(size_of::<OdinKey>(), size_of::<SessionKey>());
}

/// The longest prefix (32 bytes) at the deepest options: parsed, displayed and as small
/// as a two-letter prefix (a trybuild `pass` case checks the same at compile time).
#[test]
fn any_prefix_fits_any_options() {
    #[derive(TypedId)]
    #[typed_id(prefix = "order_line_item_fulfilment_event", max_depth = 3)]
    struct FulfilmentEventId(HashId);

    #[derive(TypedId)]
    #[typed_id(prefix = "order_line_item_fulfilment_event", width = 18)]
    struct LongDisplayId(Seq);

    assert_eq!(size_of::<FulfilmentEventId>(), size_of::<ElementId>());
    assert_eq!(size_of::<LongDisplayId>(), size_of::<WorkItemId>());
    let deepest = "order_line_item_fulfilment_event-zzzzzzzz.4294967295.4294967295.4294967295";
    let id = FulfilmentEventId::parse(deepest).unwrap();
    assert_eq!(id.to_text(), deepest);
    assert_eq!(id.to_string(), deepest);
    assert_eq!(format!("{id:?}"), format!("FulfilmentEventId({deepest:?})"));
    assert_eq!(
        id.parent().unwrap().to_text(),
        &deepest[..deepest.len() - 11]
    );
    let err = FulfilmentEventId::parse(&format!("{deepest}.1")).unwrap_err();
    assert!(err.to_string().contains("FulfilmentEventId"), "{err}");
    let n = LongDisplayId::new(Seq::MAX).unwrap();
    assert_eq!(
        n.to_string(),
        "order_line_item_fulfilment_event-999999999999999999"
    );
    assert_eq!(LongDisplayId::parse(&n.to_text()), Ok(n));
    assert_eq!(
        LongDisplayId::new(7).unwrap().to_text(),
        format!("order_line_item_fulfilment_event-{:018}", 7)
    );
}

#[test]
fn generic_code_can_use_the_trait() {
    fn parse_any<T: TypedId>(s: &str) -> Result<T, typed_id::ParseIdError> {
        T::parse_id(s)
    }
    let id: ElementId = parse_any("el-abc").unwrap();
    assert_eq!(id.to_body().as_str(), "abc");
    let err = parse_any::<WorkItemId>("el-abc").unwrap_err();
    assert_eq!(err.type_name(), "WorkItemId");
}

#[test]
fn derived_types_generate_their_own_kind() {
    use typed_id::generator::{
        HashIdGenerator, HashInput, ManualClock, MemoryCollisionCheck, SnowflakeGenerator,
    };

    let clock = ManualClock::now();
    let snowflakes = SnowflakeGenerator::builder()
        .worker(9)
        .clock(clock)
        .build()
        .unwrap();
    let a = MessageId::generate(&snowflakes).unwrap();
    let b = MessageId::generate(&&snowflakes).unwrap();
    assert!(a < b);
    assert_eq!(snowflakes.decompose(b.body()).worker, 9);
    let e = EventId::generate(&std::sync::Arc::new(snowflakes)).unwrap();
    assert!(e.to_string().starts_with("evt-"));

    let hashes = HashIdGenerator::new();
    let taken = MemoryCollisionCheck::new();
    let input = HashInput::new("title", "alice", 1_767_053_847_123_456_789);
    let first = NodeId::generate(&hashes, &input, &taken).unwrap();
    assert!(first.to_text().starts_with("node-"));
    assert!((4..=6).contains(&first.body().hash_str().len()), "{first}");
    assert!(taken.contains(&first.to_text()), "generation claims the ID");
    // The same input again: the first candidate is taken, so the next nonce wins.
    let second = NodeId::generate(&hashes, &input, &taken).unwrap();
    assert_ne!(first, second);

    let key = OdinKey::generate().unwrap();
    assert!(OdinKey::parse(&key.to_text()).is_ok());
    assert_ne!(key, OdinKey::generate().unwrap());
}

#[test]
fn kind_names_the_body_of_an_alias_or_re_export() {
    let task = TaskId::new(7).unwrap();
    assert_eq!(task.to_text(), "TASK-0007");
    assert_eq!(task.value(), 7);
    assert_eq!(TaskId::parse("TASK-0007").unwrap(), task);
    let body: Counter = task.into();
    assert_eq!(body.as_str(), "0007");

    let blob = BlobId::parse("blob-abcde.3").unwrap();
    assert_eq!(blob.depth(), 1);
    assert_eq!(blob.root().to_text(), "blob-abcde");
    assert_eq!(blob.child(1), Err(IdError::TooDeep { max_depth: 1 }));
    assert!(BlobId::parse("blob-abcd").is_err(), "min_len = 5 applies");
    assert!(BlobId::PATTERN.starts_with("^blob-[0-9a-z]{5,8}"));

    let ping = PingId::from_u64(1_767_053_847_123_456_789).unwrap();
    assert_eq!(
        PingId::parse(&ping.to_string()).unwrap().as_u64(),
        ping.as_u64()
    );
    assert!(
        PingId::parse("ping-1767053847123456789").is_err(),
        "base62 applies"
    );

    let token = TokenKey::parse("tok-0123abcd").unwrap();
    assert_eq!(token.body().as_str(), "0123abcd");
    assert_eq!(TokenKey::PATTERN, "^tok-[0-9a-f]{8}$");

    assert_eq!(PageId::parse("pg-abc.1.2").unwrap().depth(), 2);
}
