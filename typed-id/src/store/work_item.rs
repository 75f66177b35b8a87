//! [`WorkItemKey`]: an internal ID (unique, time-sortable) paired with the display ID
//! people read and type (`WORK-042`); [`WorkItemMeta`], the stored `_meta` object of
//! the work-item files this pairing comes from; [`StoredWorkItem`], such a file's
//! `_meta` beside the application's own keys.

use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::body::{Seq, Snowflake};
use crate::codec::{BASE62_MAX_LEN, Encoded};
use crate::error::ParseIdError;
use crate::generator::Layout;
use crate::generator::calendar::{civil_from_days, days_from_civil, days_in_month};
use crate::typed::TypedId;

/// An internal ID and a display ID for the same item, e.g. a snowflake
/// `wi-1767053847123456789` (unique across machines, never reused, sorts by time) and
/// `WORK-042` (short, per project, what people say out loud).
///
/// The internal ID is the item's identity: equality, order and hashing use it alone,
/// because a display number may be reassigned (an item moved to another project,
/// numbers compacted) while the item stays the same. `Display` writes the display ID
/// (`WORK-042`), what people look for; `Debug` shows both.
///
/// With the `serde` feature it serialises as an object with both fields, each in its
/// canonical text form: `{"id":"wi-1767053847123456789","display":"WORK-042"}`. For the
/// `_meta` object of stored work items see [`WorkItemMeta`].
///
/// ```
/// use typed_id::generator::SnowflakeGenerator;
/// use typed_id::store::{DisplayIdAllocator, MemoryStore, WorkItemKey};
/// use typed_id::{Seq, Snowflake, TypedId};
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "wi")]
/// struct WorkItemSnowflake(Snowflake);
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "WORK", width = 3)]
/// struct WorkItemId(Seq);
///
/// let snowflakes = SnowflakeGenerator::new(1)?;
/// let displays = MemoryStore::new();
/// let key = WorkItemKey::new(
///     snowflakes.generate::<WorkItemSnowflake>()?,
///     displays.next_id::<WorkItemId>("odin")?,
/// );
/// assert_eq!(key.to_string(), "WORK-001");
/// assert_eq!(key.display_number(), 1);
/// assert_eq!(key.internal_id_hex(), format!("{:#018x}", key.internal_id()));
///
/// // Renumbered, still the same item.
/// let moved = WorkItemKey::new(key.id, displays.next_id::<WorkItemId>("odin")?);
/// assert_eq!(moved, key);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct WorkItemKey<I, D> {
    /// The internal ID: unique and stable, what other records refer to.
    pub id: I,
    /// The display ID: what people read, e.g. `WORK-042`.
    pub display: D,
}

impl<I, D> WorkItemKey<I, D> {
    /// Pairs an internal ID with a display ID.
    pub const fn new(id: I, display: D) -> Self {
        WorkItemKey { id, display }
    }
}

impl<I: TypedId<Body = Snowflake>, D> WorkItemKey<I, D> {
    /// The internal ID's number, e.g. `1767053847123456789`.
    #[must_use]
    pub fn internal_id(&self) -> u64 {
        self.id.body_ref().as_u64()
    }

    /// The internal ID in hex as the reference system stores it: `0x` and 16
    /// lowercase digits, e.g. `0x1885d61c98c7f315`.
    #[must_use]
    pub fn internal_id_hex(&self) -> String {
        format!("{:#018x}", self.internal_id())
    }

    /// The internal ID in base62, e.g. `26KQhUWqEUF` (see [`Snowflake::to_base62`]).
    #[must_use]
    pub fn internal_id_base62(&self) -> Encoded<BASE62_MAX_LEN> {
        self.id.body_ref().to_base62()
    }
}

impl<I, D: TypedId<Body = Seq>> WorkItemKey<I, D> {
    /// The display ID's number: 42 for `WORK-042`.
    #[must_use]
    pub fn display_number(&self) -> u64 {
        self.display.body_ref().value()
    }
}

impl<I: PartialEq, D> PartialEq for WorkItemKey<I, D> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<I: Eq, D> Eq for WorkItemKey<I, D> {}

impl<I: PartialOrd, D> PartialOrd for WorkItemKey<I, D> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.id.partial_cmp(&other.id)
    }
}

impl<I: Ord, D> Ord for WorkItemKey<I, D> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id.cmp(&other.id)
    }
}

impl<I: Hash, D> Hash for WorkItemKey<I, D> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

/// `WORK-042`: the display ID, as people look for it.
impl<I, D: fmt::Display> fmt::Display for WorkItemKey<I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.display, f)
    }
}

/// `WorkItemKey { display: WORK-042, id: wi-1767053847123456789 }`.
impl<I: fmt::Display, D: fmt::Display> fmt::Debug for WorkItemKey<I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WorkItemKey {{ display: {}, id: {} }}",
            self.display, self.id
        )
    }
}

/// The `_meta` object of a stored work item, as the reference system writes it:
///
/// ```json
/// {"_meta": {"internal_id": "1767053847123456789", "internal_id_hex": "0x1885d61c98c7f315",
///            "display_id": "WORK-042", "created_at": "2026-01-09T14:30:00Z", "worker_id": 742},
///  "title": "…", "status": "in_progress"}
/// ```
///
/// `internal_id` is the snowflake in decimal (a string, so JavaScript readers keep every
/// digit), `internal_id_hex` the same number in hex, `display_id` the display ID,
/// `created_at` an RFC 3339 time, `worker_id` the worker that issued the snowflake.
/// Reading checks that they agree ([`WorkItemMetaError`]): the hex must be the decimal's
/// value, the display ID must parse as `D`, the time must be RFC 3339 with a zone.
/// `created_at` keeps the text it was read with, so a file read and written again is
/// unchanged. Other keys inside `_meta` are ignored; the keys beside it belong to the
/// application (see [`StoredWorkItem`], or put a `#[serde(rename = "_meta")]` field of
/// this type in your own struct).
///
/// ```
/// use typed_id::generator::Layout;
/// use typed_id::store::{WorkItemKey, WorkItemMeta};
/// use typed_id::{Seq, Snowflake, TypedId};
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "wi")]
/// struct WorkItemSnowflake(Snowflake);
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "WORK", width = 3)]
/// struct WorkItemId(Seq);
///
/// let meta = WorkItemMeta::<WorkItemSnowflake, WorkItemId>::from_fields(
///     "1767053847123456789", "0x1885d61c98c7f315", "WORK-042", "2026-01-09T14:30:00Z", 742,
/// )?;
/// assert_eq!(meta.key().display_number(), 42);
/// assert_eq!(meta.created_at(), "2026-01-09T14:30:00Z");
/// assert_eq!(meta.created_at_unix_ms(), 1_767_969_000_000);
///
/// let err = WorkItemMeta::<WorkItemSnowflake, WorkItemId>::from_fields(
///     "1767053847123456789", "0x188a1c2d3e4f5678", "WORK-042", "2026-01-09T14:30:00Z", 742,
/// ).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "internal_id_hex \"0x188a1c2d3e4f5678\" does not match internal_id \
///      1767053847123456789, which is 0x1885d61c98c7f315"
/// );
///
/// // A new item: time and worker from the snowflake itself.
/// let id = WorkItemSnowflake::parse("wi-1767053847123456789")?;
/// let fresh = WorkItemMeta::from_snowflake(
///     WorkItemKey::new(id, WorkItemId::parse("WORK-043")?),
///     &Layout::DEFAULT,
/// );
/// assert_eq!(fresh.worker_id(), u64::from(Layout::DEFAULT.decompose(id.to_body()).worker));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct WorkItemMeta<I, D> {
    key: WorkItemKey<I, D>,
    created_at: String,
    created_at_unix_ms: i64,
    worker_id: u64,
}

impl<I: TypedId<Body = Snowflake>, D: TypedId<Body = Seq>> WorkItemMeta<I, D> {
    /// The `_meta` of `key`, created at `created_at` (written as RFC 3339 in UTC,
    /// `2026-01-09T14:30:00Z`, with milliseconds when there are any) by `worker_id`.
    ///
    /// # Errors
    /// [`WorkItemMetaError::CreatedAt`] for a time outside the years 0000 to 9999.
    pub fn new(
        key: WorkItemKey<I, D>,
        created_at: SystemTime,
        worker_id: u64,
    ) -> Result<Self, WorkItemMetaError> {
        let unix_ms = match created_at.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => {
                let ms = before.duration().as_nanos().div_ceil(1_000_000);
                i64::try_from(ms).map_or(i64::MIN, |ms| -ms)
            }
        };
        let text = format_rfc3339(unix_ms).ok_or_else(|| WorkItemMetaError::CreatedAt {
            value: format!("{created_at:?}"),
            reason: "outside the years 0000 to 9999",
        })?;
        Ok(WorkItemMeta {
            key,
            created_at: text,
            created_at_unix_ms: unix_ms,
            worker_id,
        })
    }

    /// The `_meta` of `key` with the time and worker read from the snowflake under
    /// `layout`.
    #[must_use]
    pub fn from_snowflake(key: WorkItemKey<I, D>, layout: &Layout) -> Self {
        let parts = layout.decompose(key.id.to_body());
        let unix_ms = i64::try_from(parts.timestamp_ms).unwrap_or(i64::MAX);
        // A layout's timestamps stay far below the year 10000 only for sane epochs;
        // clamp rather than fail for the others.
        let unix_ms = unix_ms.min(MAX_UNIX_MS);
        WorkItemMeta {
            key,
            created_at: format_rfc3339(unix_ms).unwrap_or_default(),
            created_at_unix_ms: unix_ms,
            worker_id: u64::from(parts.worker),
        }
    }

    /// Checks the fields of a stored `_meta` and builds it: `internal_id` canonical
    /// decimal within the snowflake range, `internal_id_hex` (`0x`, 1 to 16 hex digits,
    /// either case) of the same value, `display_id` a valid `D`, `created_at` RFC 3339
    /// with a zone (`Z` or `±hh:mm`).
    ///
    /// # Errors
    /// A [`WorkItemMetaError`] naming the field and what is wrong with it.
    pub fn from_fields(
        internal_id: &str,
        internal_id_hex: &str,
        display_id: &str,
        created_at: &str,
        worker_id: u64,
    ) -> Result<Self, WorkItemMetaError> {
        let value = parse_decimal(internal_id).ok_or_else(|| WorkItemMetaError::InternalId {
            value: snippet(internal_id),
        })?;
        let snowflake = Snowflake::new(value).map_err(|_| WorkItemMetaError::InternalId {
            value: snippet(internal_id),
        })?;
        let hex = parse_hex(internal_id_hex).ok_or_else(|| WorkItemMetaError::InternalIdHex {
            value: snippet(internal_id_hex),
        })?;
        if hex != value {
            return Err(WorkItemMetaError::HexMismatch {
                hex: snippet(internal_id_hex),
                internal_id: value,
            });
        }
        let display = D::parse_id(display_id).map_err(WorkItemMetaError::DisplayId)?;
        let created_at_unix_ms =
            parse_rfc3339(created_at).map_err(|reason| WorkItemMetaError::CreatedAt {
                value: snippet(created_at),
                reason,
            })?;
        Ok(WorkItemMeta {
            key: WorkItemKey::new(I::from_body_unchecked(snowflake), display),
            created_at: created_at.to_owned(),
            created_at_unix_ms,
            worker_id,
        })
    }
}

impl<I, D> WorkItemMeta<I, D> {
    /// The key: internal and display ID.
    #[must_use]
    pub fn key(&self) -> &WorkItemKey<I, D> {
        &self.key
    }

    /// The key, by value.
    #[must_use]
    pub fn into_key(self) -> WorkItemKey<I, D> {
        self.key
    }

    /// Replaces the display ID (the item was renumbered); the rest stays.
    pub fn set_display(&mut self, display: D) {
        self.key.display = display;
    }

    /// `created_at` as stored, e.g. `2026-01-09T14:30:00Z`.
    #[must_use]
    pub fn created_at(&self) -> &str {
        &self.created_at
    }

    /// `created_at` in milliseconds since the Unix epoch (negative before it).
    #[must_use]
    pub fn created_at_unix_ms(&self) -> i64 {
        self.created_at_unix_ms
    }

    /// `created_at` as a [`SystemTime`].
    #[must_use]
    pub fn created_at_time(&self) -> SystemTime {
        let ms = self.created_at_unix_ms;
        if ms >= 0 {
            UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
        }
    }

    /// The worker that issued the internal ID.
    #[must_use]
    pub fn worker_id(&self) -> u64 {
        self.worker_id
    }
}

impl<I: fmt::Display, D: fmt::Display> fmt::Debug for WorkItemMeta<I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkItemMeta")
            .field("key", &self.key)
            .field("created_at", &self.created_at)
            .field("worker_id", &self.worker_id)
            .finish()
    }
}

/// Why a stored `_meta` object was refused. New reasons may be added in minor releases.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkItemMetaError {
    /// `internal_id` is not canonical decimal text of a snowflake (0 to `i64::MAX`, no
    /// sign, no leading zero).
    InternalId {
        /// The value (cut to 64 characters).
        value: String,
    },
    /// `internal_id_hex` is not `0x` followed by 1 to 16 hex digits.
    InternalIdHex {
        /// The value (cut to 64 characters).
        value: String,
    },
    /// `internal_id_hex` is well formed but another number than `internal_id`.
    HexMismatch {
        /// The hex value (cut to 64 characters).
        hex: String,
        /// `internal_id`.
        internal_id: u64,
    },
    /// `display_id` does not parse as the display ID type.
    DisplayId(ParseIdError),
    /// `created_at` is not an RFC 3339 time with a zone.
    CreatedAt {
        /// The value (cut to 64 characters).
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
}

impl fmt::Display for WorkItemMetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkItemMetaError::InternalId { value } => write!(
                f,
                "internal_id {value:?} is not a snowflake: expected decimal digits \
                 without sign or leading zero, at most 9223372036854775807"
            ),
            WorkItemMetaError::InternalIdHex { value } => write!(
                f,
                "internal_id_hex {value:?} is not hex: expected 0x and 1 to 16 hex digits"
            ),
            WorkItemMetaError::HexMismatch { hex, internal_id } => write!(
                f,
                "internal_id_hex {hex:?} does not match internal_id {internal_id}, which \
                 is {internal_id:#018x}"
            ),
            WorkItemMetaError::DisplayId(e) => write!(f, "display_id: {e}"),
            WorkItemMetaError::CreatedAt { value, reason } => write!(
                f,
                "created_at {value:?} is not an RFC 3339 time such as \
                 2026-01-09T14:30:00Z: {reason}"
            ),
        }
    }
}

impl std::error::Error for WorkItemMetaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WorkItemMetaError::DisplayId(e) => Some(e),
            _ => None,
        }
    }
}

/// A stored work item: its [`WorkItemMeta`] under `_meta`, and the application's own
/// keys beside it in `data` (any type that serialises as a map or a struct: your own
/// struct, a `HashMap`, a `serde_json::Map`). With the `serde` feature it reads and
/// writes the reference system's files as they are:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use std::collections::BTreeMap;
/// use typed_id::store::StoredWorkItem;
/// use typed_id::{Seq, Snowflake, TypedId};
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "wi")]
/// struct WorkItemSnowflake(Snowflake);
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "WORK", width = 3)]
/// struct WorkItemId(Seq);
///
/// let file = r#"{"_meta":{"internal_id":"1767053847123456789","internal_id_hex":"0x1885d61c98c7f315","display_id":"WORK-042","created_at":"2026-01-09T14:30:00Z","worker_id":742},"status":"in_progress","title":"Fix the login bug"}"#;
/// let item: StoredWorkItem<WorkItemSnowflake, WorkItemId, BTreeMap<String, String>> =
///     serde_json::from_str(file)?;
/// assert_eq!(item.meta.key().to_string(), "WORK-042");
/// assert_eq!(item.data["status"], "in_progress");
/// assert_eq!(serde_json::to_string(&item)?, file);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `data` must not have a `_meta` key of its own: reading hands `_meta` to `meta` only,
/// and writing a struct field named `_meta` is an error.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredWorkItem<I, D, T> {
    /// The `_meta` object.
    pub meta: WorkItemMeta<I, D>,
    /// Every other key.
    pub data: T,
}

impl<I: fmt::Display, D: fmt::Display, T: fmt::Debug> fmt::Debug for StoredWorkItem<I, D, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredWorkItem")
            .field("meta", &self.meta)
            .field("data", &self.data)
            .finish()
    }
}

impl<I, D, T> StoredWorkItem<I, D, T> {
    /// A stored item from its `_meta` and the application's keys.
    pub fn new(meta: WorkItemMeta<I, D>, data: T) -> Self {
        StoredWorkItem { meta, data }
    }
}

/// 9999-12-31T23:59:59.999Z.
const MAX_UNIX_MS: i64 = 253_402_300_799_999;
/// 0000-01-01T00:00:00Z.
const MIN_UNIX_MS: i64 = -62_167_219_200_000;

/// At most 64 characters of `s`, for error messages.
fn snippet(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Canonical decimal (no sign, no leading zero) that fits a `u64`.
fn parse_decimal(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 20 || (b[0] == b'0' && b.len() > 1) {
        return None;
    }
    b.iter().try_fold(0u64, |acc, &c| {
        let d = c.checked_sub(b'0').filter(|d| *d <= 9)?;
        acc.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// `0x` (or `0X`) and 1 to 16 hex digits of either case.
fn parse_hex(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    digits.bytes().try_fold(0u64, |acc, c| {
        let d = (c as char).to_digit(16)?;
        Some((acc << 4) | u64::from(d))
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)` (`t` or a space may stand for `T`, `z`
/// for `Z`) in milliseconds since the Unix epoch; the fraction is cut to milliseconds.
fn parse_rfc3339(s: &str) -> Result<i64, &'static str> {
    let b = s.as_bytes();
    if b.len() > 64 {
        return Err("too long");
    }
    let num = |at: usize, width: usize| -> Result<u64, &'static str> {
        let part = b.get(at..at + width).ok_or("too short")?;
        part.iter().try_fold(0u64, |acc, &c| {
            if c.is_ascii_digit() {
                Ok(acc * 10 + u64::from(c - b'0'))
            } else {
                Err("a digit was expected")
            }
        })
    };
    let sep = |at: usize, ok: &[u8], what: &'static str| match b.get(at) {
        Some(c) if ok.contains(c) => Ok(()),
        _ => Err(what),
    };
    let year = num(0, 4)?;
    sep(4, b"-", "expected '-' after the year")?;
    let month = num(5, 2)?;
    sep(7, b"-", "expected '-' after the month")?;
    let day = num(8, 2)?;
    sep(10, b"Tt ", "expected 'T' between date and time")?;
    let hour = num(11, 2)?;
    sep(13, b":", "expected ':' after the hour")?;
    let minute = num(14, 2)?;
    sep(16, b":", "expected ':' after the minutes")?;
    let second = num(17, 2)?;
    if !(1..=12).contains(&month) {
        return Err("the month is not 01 to 12");
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err("no such day in that month");
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err("the time of day is out of range");
    }
    let mut at = 19;
    let mut millis = 0u64;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let digits = b[at..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err("expected digits after '.'");
        }
        for (i, &c) in b[at..at + digits].iter().take(3).enumerate() {
            millis += u64::from(c - b'0') * [100, 10, 1][i];
        }
        at += digits;
    }
    let offset_min: i64 = match b.get(at) {
        Some(b'Z' | b'z') if at + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if at + 6 == b.len() => {
            let h = num(at + 1, 2)?;
            sep(at + 3, b":", "expected ':' in the zone offset")?;
            let m = num(at + 4, 2)?;
            if h > 23 || m > 59 {
                return Err("the zone offset is out of range");
            }
            let off = (h * 60 + m) as i64;
            if sign == b'-' { -off } else { off }
        }
        None => return Err("a zone (Z or ±hh:mm) is required"),
        _ => return Err("expected a zone (Z or ±hh:mm) at the end"),
    };
    // A leap second counts as the last millisecond's next second, as most systems do.
    let days = days_from_civil(year as i64, month as u32, day as u32);
    let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64 - offset_min * 60;
    Ok(secs * 1000 + millis as i64)
}

/// `unix_ms` as `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` when the milliseconds are not 0;
/// `None` outside the years 0000 to 9999.
fn format_rfc3339(unix_ms: i64) -> Option<String> {
    if !(MIN_UNIX_MS..=MAX_UNIX_MS).contains(&unix_ms) {
        return None;
    }
    let secs = unix_ms.div_euclid(1000);
    let ms = unix_ms.rem_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let (h, mi, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    Some(if ms == 0 {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
    })
}

#[cfg(feature = "serde")]
mod serde_impl {
    //! Hand-written, because the runtime crate uses serde without its derive macros.

    use core::fmt;
    use core::marker::PhantomData;

    use serde::de::value::MapAccessDeserializer;
    use serde::de::{self, DeserializeSeed, IntoDeserializer as _, MapAccess, SeqAccess, Visitor};
    use serde::ser::{self, Impossible, SerializeMap as _, SerializeStruct as _};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{StoredWorkItem, WorkItemKey, WorkItemMeta};
    use crate::body::{Seq, Snowflake};
    use crate::typed::TypedId;

    const FIELDS: &[&str] = &["id", "display"];

    impl<I: Serialize, D: Serialize> Serialize for WorkItemKey<I, D> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut s = serializer.serialize_struct("WorkItemKey", 2)?;
            s.serialize_field("id", &self.id)?;
            s.serialize_field("display", &self.display)?;
            s.end()
        }
    }

    enum Field {
        Id,
        Display,
        Other,
    }

    impl<'de> Deserialize<'de> for Field {
        fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
            struct FieldVisitor;
            impl Visitor<'_> for FieldVisitor {
                type Value = Field;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a field name")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                    Ok(match v {
                        "id" => Field::Id,
                        "display" => Field::Display,
                        _ => Field::Other,
                    })
                }
            }
            deserializer.deserialize_identifier(FieldVisitor)
        }
    }

    struct KeyVisitor<I, D>(PhantomData<(I, D)>);

    impl<'de, I: Deserialize<'de>, D: Deserialize<'de>> Visitor<'de> for KeyVisitor<I, D> {
        type Value = WorkItemKey<I, D>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a work item key {\"id\": …, \"display\": …}")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let id = seq
                .next_element()?
                .ok_or_else(|| de::Error::invalid_length(0, &self))?;
            let display = seq
                .next_element()?
                .ok_or_else(|| de::Error::invalid_length(1, &self))?;
            Ok(WorkItemKey { id, display })
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut id = None;
            let mut display = None;
            while let Some(field) = map.next_key::<Field>()? {
                match field {
                    Field::Id if id.is_some() => return Err(de::Error::duplicate_field("id")),
                    Field::Id => id = Some(map.next_value()?),
                    Field::Display if display.is_some() => {
                        return Err(de::Error::duplicate_field("display"));
                    }
                    Field::Display => display = Some(map.next_value()?),
                    Field::Other => {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
            }
            Ok(WorkItemKey {
                id: id.ok_or_else(|| de::Error::missing_field("id"))?,
                display: display.ok_or_else(|| de::Error::missing_field("display"))?,
            })
        }
    }

    impl<'de, I: Deserialize<'de>, D: Deserialize<'de>> Deserialize<'de> for WorkItemKey<I, D> {
        fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
            deserializer.deserialize_struct("WorkItemKey", FIELDS, KeyVisitor(PhantomData))
        }
    }

    // -------------------------------------------------------------------------------
    // `_meta`

    const META_FIELDS: &[&str] = &[
        "internal_id",
        "internal_id_hex",
        "display_id",
        "created_at",
        "worker_id",
    ];

    impl<I: TypedId<Body = Snowflake>, D: TypedId<Body = Seq>> Serialize for WorkItemMeta<I, D> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut s = serializer.serialize_struct("WorkItemMeta", 5)?;
            s.serialize_field("internal_id", &self.key.internal_id().to_string())?;
            s.serialize_field("internal_id_hex", &self.key.internal_id_hex())?;
            s.serialize_field("display_id", self.key.display.to_text().as_str())?;
            s.serialize_field("created_at", &self.created_at)?;
            s.serialize_field("worker_id", &self.worker_id)?;
            s.end()
        }
    }

    /// A decimal number as a string (how the reference writes it) or a JSON number.
    struct Decimal(String);

    impl<'de> Deserialize<'de> for Decimal {
        fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Decimal;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a snowflake as a decimal string")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                    Ok(Decimal(v.to_owned()))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
                    Ok(Decimal(v.to_string()))
                }
            }
            deserializer.deserialize_any(V)
        }
    }

    /// A field's value whose errors name the field (`worker_id: invalid value: …`).
    struct Named<T>(&'static str, PhantomData<T>);

    impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Named<T> {
        type Value = T;

        fn deserialize<De: Deserializer<'de>>(self, deserializer: De) -> Result<T, De::Error> {
            T::deserialize(deserializer)
                .map_err(|e| de::Error::custom(format_args!("{}: {e}", self.0)))
        }
    }

    struct MetaVisitor<I, D>(PhantomData<(I, D)>);

    impl<'de, I: TypedId<Body = Snowflake>, D: TypedId<Body = Seq>> Visitor<'de> for MetaVisitor<I, D> {
        type Value = WorkItemMeta<I, D>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(
                "a work item _meta object {\"internal_id\", \"internal_id_hex\", \
                 \"display_id\", \"created_at\", \"worker_id\"}",
            )
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut id: Option<Decimal> = None;
            let mut hex: Option<String> = None;
            let mut display: Option<String> = None;
            let mut created: Option<String> = None;
            let mut worker: Option<u64> = None;
            fn put<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
                map: &mut A,
                slot: &mut Option<T>,
                name: &'static str,
            ) -> Result<(), A::Error> {
                if slot.is_some() {
                    return Err(de::Error::duplicate_field(name));
                }
                *slot = Some(map.next_value_seed(Named(name, PhantomData))?);
                Ok(())
            }
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                match &*key {
                    "internal_id" => put(&mut map, &mut id, "internal_id")?,
                    "internal_id_hex" => put(&mut map, &mut hex, "internal_id_hex")?,
                    "display_id" => put(&mut map, &mut display, "display_id")?,
                    "created_at" => put(&mut map, &mut created, "created_at")?,
                    "worker_id" => put(&mut map, &mut worker, "worker_id")?,
                    _ => {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
            }
            let missing = <A::Error as de::Error>::missing_field;
            WorkItemMeta::from_fields(
                &id.ok_or_else(|| missing("internal_id"))?.0,
                &hex.ok_or_else(|| missing("internal_id_hex"))?,
                &display.ok_or_else(|| missing("display_id"))?,
                &created.ok_or_else(|| missing("created_at"))?,
                worker.ok_or_else(|| missing("worker_id"))?,
            )
            .map_err(|e| de::Error::custom(format_args!("invalid work item _meta: {e}")))
        }
    }

    impl<'de, I: TypedId<Body = Snowflake>, D: TypedId<Body = Seq>> Deserialize<'de>
        for WorkItemMeta<I, D>
    {
        fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
            deserializer.deserialize_struct("WorkItemMeta", META_FIELDS, MetaVisitor(PhantomData))
        }
    }

    // -------------------------------------------------------------------------------
    // `_meta` beside the application's keys

    impl<I: TypedId<Body = Snowflake>, D: TypedId<Body = Seq>, T: Serialize> Serialize
        for StoredWorkItem<I, D, T>
    {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(None)?;
            map.serialize_entry("_meta", &self.meta)?;
            self.data.serialize(Flat(&mut map))?;
            map.end()
        }
    }

    /// Writes a map's or a struct's entries into the enclosing map.
    struct Flat<'a, M>(&'a mut M);

    fn not_a_map<E: ser::Error>(what: &str) -> E {
        E::custom(format_args!(
            "a stored work item's data must serialise as a map or a struct, not {what}"
        ))
    }

    macro_rules! refuse {
        ($($method:ident($($arg:ty),*) $what:literal;)*) => {$(
            fn $method(self, $(_: $arg),*) -> Result<(), M::Error> {
                Err(not_a_map($what))
            }
        )*};
    }

    impl<'a, M: ser::SerializeMap> Serializer for Flat<'a, M> {
        type Ok = ();
        type Error = M::Error;
        type SerializeSeq = Impossible<(), M::Error>;
        type SerializeTuple = Impossible<(), M::Error>;
        type SerializeTupleStruct = Impossible<(), M::Error>;
        type SerializeTupleVariant = Impossible<(), M::Error>;
        type SerializeMap = Self;
        type SerializeStruct = Self;
        type SerializeStructVariant = Impossible<(), M::Error>;

        refuse! {
            serialize_bool(bool) "a boolean";
            serialize_i8(i8) "a number";
            serialize_i16(i16) "a number";
            serialize_i32(i32) "a number";
            serialize_i64(i64) "a number";
            serialize_u8(u8) "a number";
            serialize_u16(u16) "a number";
            serialize_u32(u32) "a number";
            serialize_u64(u64) "a number";
            serialize_f32(f32) "a number";
            serialize_f64(f64) "a number";
            serialize_char(char) "a character";
            serialize_str(&str) "a string";
            serialize_bytes(&[u8]) "bytes";
            serialize_unit_variant(&'static str, u32, &'static str) "an enum variant";
        }

        /// No keys besides `_meta`.
        fn serialize_none(self) -> Result<(), M::Error> {
            Ok(())
        }

        fn serialize_some<V: Serialize + ?Sized>(self, value: &V) -> Result<(), M::Error> {
            value.serialize(self)
        }

        fn serialize_unit(self) -> Result<(), M::Error> {
            Ok(())
        }

        fn serialize_unit_struct(self, _: &'static str) -> Result<(), M::Error> {
            Ok(())
        }

        fn serialize_newtype_struct<V: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &V,
        ) -> Result<(), M::Error> {
            value.serialize(self)
        }

        fn serialize_newtype_variant<V: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &V,
        ) -> Result<(), M::Error> {
            Err(not_a_map("an enum variant"))
        }

        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, M::Error> {
            Err(not_a_map("a sequence"))
        }

        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, M::Error> {
            Err(not_a_map("a tuple"))
        }

        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, M::Error> {
            Err(not_a_map("a tuple struct"))
        }

        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, M::Error> {
            Err(not_a_map("an enum variant"))
        }

        fn serialize_map(self, _: Option<usize>) -> Result<Self, M::Error> {
            Ok(self)
        }

        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, M::Error> {
            Ok(self)
        }

        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, M::Error> {
            Err(not_a_map("an enum variant"))
        }
    }

    impl<M: ser::SerializeMap> ser::SerializeMap for Flat<'_, M> {
        type Ok = ();
        type Error = M::Error;

        fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), M::Error> {
            self.0.serialize_key(key)
        }

        fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), M::Error> {
            self.0.serialize_value(value)
        }

        fn end(self) -> Result<(), M::Error> {
            Ok(())
        }
    }

    impl<M: ser::SerializeMap> ser::SerializeStruct for Flat<'_, M> {
        type Ok = ();
        type Error = M::Error;

        fn serialize_field<V: Serialize + ?Sized>(
            &mut self,
            key: &'static str,
            value: &V,
        ) -> Result<(), M::Error> {
            if key == "_meta" {
                return Err(ser::Error::custom(
                    "a stored work item's data has a field named `_meta`, which is the \
                     item's own",
                ));
            }
            self.0.serialize_entry(key, value)
        }

        fn end(self) -> Result<(), M::Error> {
            Ok(())
        }
    }

    /// The outer map with `_meta` taken out: what the application's type reads.
    struct WithoutMeta<'m, A, I, D> {
        map: A,
        meta: &'m mut Option<WorkItemMeta<I, D>>,
    }

    impl<'de, A, I, D> MapAccess<'de> for WithoutMeta<'_, A, I, D>
    where
        A: MapAccess<'de>,
        I: TypedId<Body = Snowflake>,
        D: TypedId<Body = Seq>,
    {
        type Error = A::Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(
            &mut self,
            seed: K,
        ) -> Result<Option<K::Value>, A::Error> {
            loop {
                let Some(key) = self.map.next_key::<std::borrow::Cow<'de, str>>()? else {
                    return Ok(None);
                };
                if key == "_meta" {
                    if self.meta.is_some() {
                        return Err(de::Error::duplicate_field("_meta"));
                    }
                    *self.meta = Some(self.map.next_value()?);
                    continue;
                }
                let key: String = key.into_owned();
                return seed.deserialize(key.into_deserializer()).map(Some);
            }
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(
            &mut self,
            seed: V,
        ) -> Result<V::Value, A::Error> {
            self.map.next_value_seed(seed)
        }
    }

    struct StoredVisitor<I, D, T>(PhantomData<(I, D, T)>);

    impl<'de, I, D, T> Visitor<'de> for StoredVisitor<I, D, T>
    where
        I: TypedId<Body = Snowflake>,
        D: TypedId<Body = Seq>,
        T: Deserialize<'de>,
    {
        type Value = StoredWorkItem<I, D, T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a stored work item: an object with a \"_meta\" object")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            let mut meta = None;
            let data = T::deserialize(MapAccessDeserializer::new(WithoutMeta {
                map,
                meta: &mut meta,
            }))?;
            let meta = meta.ok_or_else(|| de::Error::missing_field("_meta"))?;
            Ok(StoredWorkItem { meta, data })
        }
    }

    impl<'de, I, D, T> Deserialize<'de> for StoredWorkItem<I, D, T>
    where
        I: TypedId<Body = Snowflake>,
        D: TypedId<Body = Seq>,
        T: Deserialize<'de>,
    {
        fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
            deserializer.deserialize_map(StoredVisitor(PhantomData))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_refuses_what_it_should() {
        for (text, ms) in [
            ("2026-01-09T14:30:00Z", 1_767_969_000_000),
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59.999Z", -1),
            ("2000-02-29T12:00:00.500Z", 951_825_600_500),
            ("9999-12-31T23:59:59.999Z", MAX_UNIX_MS),
            ("0000-01-01T00:00:00Z", MIN_UNIX_MS),
        ] {
            assert_eq!(parse_rfc3339(text), Ok(ms), "{text}");
            assert_eq!(format_rfc3339(ms).as_deref(), Some(text));
        }
        assert_eq!(
            parse_rfc3339("2026-01-09T16:30:00+02:00"),
            parse_rfc3339("2026-01-09T14:30:00Z")
        );
        assert_eq!(
            parse_rfc3339("2026-01-09 14:30:00.123456789z"),
            Ok(1_767_969_000_123)
        );
        for bad in [
            "",
            "2026-01-09",
            "2026-01-09T14:30:00",
            "2026-01-09T14:30:00+0200",
            "2026-01-09T14:30:00Zjunk",
            "2026-13-09T14:30:00Z",
            "2025-02-29T14:30:00Z",
            "2026-01-09T24:30:00Z",
            "2026-01-09T14:30:00.Z",
            "2026-01-09T14:30:00+24:00",
            "２026-01-09T14:30:00Z",
            "+2026-01-09T14:30:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?}");
        }
        assert_eq!(format_rfc3339(MAX_UNIX_MS + 1), None);
    }

    #[test]
    fn numbers_are_strict() {
        assert_eq!(
            parse_decimal("1767053847123456789"),
            Some(1_767_053_847_123_456_789)
        );
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "01",
            "+1",
            "-1",
            "1 ",
            "18446744073709551616",
            "1e3",
            "١",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
        assert_eq!(parse_hex("0x1885D61C98C7F315"), Some(0x1885_d61c_98c7_f315));
        assert_eq!(parse_hex("0X0f"), Some(15));
        for bad in ["", "0x", "1885", "0x10000000000000000", "0xg", "0x 1", "x1"] {
            assert_eq!(parse_hex(bad), None, "{bad:?}");
        }
    }
}
