//! What a schema says about a derived type, for JSON Schema (schemars) and OpenAPI
//! (utoipa) alike: a title, a description and an example, beside the type's `PATTERN`.

use crate::body::Body;
use crate::body::{HashId, HashSpec, HexKey, HexSpec, Seq, SeqSpec, Snowflake, SnowflakeEncoding};
use crate::body::{SnowflakeSpec, TypeIdSpec, TypeIdUuid};
use crate::typed::TypedId;

/// Bodies that can show an example of themselves under given options.
#[doc(hidden)]
pub trait IdExample: Body {
    /// An example body (without prefix) valid under `spec`.
    fn example_body(spec: &Self::Spec) -> String;
}

impl IdExample for HashId {
    fn example_body(spec: &HashSpec) -> String {
        let len = usize::from(spec.max_len.min(spec.min_len.max(6)));
        let hash = "a3f8e9k2".get(..len).unwrap_or("a3f8e9k2");
        if spec.max_depth > 0 {
            format!("{hash}.1")
        } else {
            hash.to_owned()
        }
    }
}

impl IdExample for Seq {
    fn example_body(spec: &SeqSpec) -> String {
        format!("{:0width$}", 42, width = usize::from(spec.width))
    }
}

impl IdExample for HexKey {
    fn example_body(spec: &HexSpec) -> String {
        let digits = "8f4a2b0c9d1e7f3a8f4a2b0c9d1e7f3a";
        digits
            .get(..usize::from(spec.len))
            .unwrap_or(digits)
            .to_owned()
    }
}

impl IdExample for Snowflake {
    fn example_body(spec: &SnowflakeSpec) -> String {
        match spec.encoding {
            SnowflakeEncoding::Base62 => "1BvP7xZ5J1t".to_owned(),
            SnowflakeEncoding::Decimal => EXAMPLE_SNOWFLAKE.to_string(),
        }
    }
}

impl IdExample for TypeIdUuid {
    fn example_body(_: &TypeIdSpec) -> String {
        "01h455vb4pex5vsknk084sn02q".to_owned()
    }
}

/// The snowflake of the examples (2025-12-30, in this crate's default layout).
pub(crate) const EXAMPLE_SNOWFLAKE: u64 = 1_767_053_847_123_456_789;

/// A valid example of `T`'s canonical text; `None` (no example) rather than a wrong one
/// should the options ever rule the usual example out.
pub(crate) fn example<T>() -> Option<String>
where
    T: TypedId,
    T::Body: IdExample,
{
    let mut text = String::from(T::PREFIX);
    text.push(char::from(T::Body::SEPARATOR));
    text.push_str(&T::Body::example_body(&T::SPEC));
    T::parse_id(&text).ok().map(|id| id.to_string())
}

/// The description of a type serialized as its text.
pub(crate) fn text_description<T: TypedId>() -> String {
    format!(
        "{} identifier: the prefix \"{}\" and a {} body, in canonical form \
         (the pattern matches exactly what the parser accepts)",
        T::NAME,
        T::PREFIX,
        T::Body::NAME,
    )
}

/// The description of a snowflake type serialized as a number.
pub(crate) fn number_description<T: TypedId>() -> String {
    format!(
        "{} snowflake identifier as a number in 0..={}; on input its text \"{}-…\" \
         and its decimal digits in a string are accepted as well",
        T::NAME,
        i64::MAX,
        T::PREFIX,
    )
}
