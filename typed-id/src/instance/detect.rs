//! Where this instance's name comes from: an explicit override, the platform it runs on,
//! or the hostname plus a random suffix — read from the environment only, with no
//! network call, so detection is instant and works in any sandbox.
//!
//! The environment is a parameter ([`EnvSource`]): production code passes [`OsEnv`],
//! tests pass a [`MapEnv`] (or a closure) and get the same answer every time.

use core::fmt;
use std::collections::BTreeMap;

use crate::generator::EntropyError;
use crate::trace::event;

/// Default name of the explicit override variable.
pub const DEFAULT_OVERRIDE_VAR: &str = "APP_INSTANCE_ID";

/// Fly.io's per-machine allocation ID.
const FLY_ALLOC_ID: &str = "FLY_ALLOC_ID";
/// Set in every Kubernetes pod; `HOSTNAME` is then the pod name.
const KUBERNETES_SERVICE_HOST: &str = "KUBERNETES_SERVICE_HOST";
const HOSTNAME: &str = "HOSTNAME";
/// AWS ECS task metadata endpoint, `http://169.254.170.2/v4/{container id}`.
const ECS_METADATA_URI: &str = "ECS_CONTAINER_METADATA_URI_V4";
/// Google Cloud Run revision name (shared by all instances of the revision).
const K_REVISION: &str = "K_REVISION";
/// Hostname used by the fallback when the OS reports none.
const UNKNOWN_HOST: &str = "host";

/// Where detection reads variables, the hostname and randomness from.
///
/// Implemented by [`OsEnv`] (the real process), [`MapEnv`] (a fixed map, for tests and
/// configuration files) and any `Fn(&str) -> Option<String>` (variables from the
/// closure, hostname and randomness from the OS).
///
/// ```
/// use typed_id::instance::{detect, DetectionSource};
///
/// let env = |name: &str| (name == "FLY_ALLOC_ID").then(|| "3d8d9e3a2b7e48".to_owned());
/// let found = detect(&env, "APP_INSTANCE_ID")?;
/// assert_eq!(found.id(), "3d8d9e3a2b7e48");
/// assert_eq!(found.source(), &DetectionSource::FlyIo);
/// # Ok::<(), typed_id::instance::DetectError>(())
/// ```
pub trait EnvSource {
    /// The value of the environment variable `name`, if set and valid Unicode.
    fn var(&self, name: &str) -> Option<String>;

    /// The machine's hostname (default: the operating system's).
    fn hostname(&self) -> Option<String> {
        crate::generator::hostname()
    }

    /// 32 random bits for suffixes (default: the operating system's generator).
    ///
    /// # Errors
    /// [`DetectError::Entropy`] when no randomness is available.
    fn random_u32(&self) -> Result<u32, DetectError> {
        let mut buf = [0u8; 4];
        crate::generator::fill_random(&mut buf).map_err(|e| match e {
            crate::generator::GenerateError::Entropy(e) => DetectError::Entropy(e),
            // `fill_random` only fails with `Entropy`; keep the mapping total anyway.
            _ => DetectError::NoRandomness,
        })?;
        Ok(u32::from_be_bytes(buf))
    }
}

impl<F: Fn(&str) -> Option<String>> EnvSource for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The real process environment, hostname and random generator.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsEnv;

impl EnvSource for OsEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed environment: variables from a map, a given hostname, and "random" bits from
/// a counter, so every detection branch can be tested deterministically.
///
/// ```
/// use typed_id::instance::{detect, MapEnv};
///
/// let env = MapEnv::new().hostname("web-1").random(0xa7f3_c92d);
/// assert_eq!(detect(&env, "APP_INSTANCE_ID")?.id(), "web-1-a7f3c92d");
/// # Ok::<(), typed_id::instance::DetectError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MapEnv {
    vars: BTreeMap<String, String>,
    hostname: Option<String>,
    random: Option<u32>,
}

impl MapEnv {
    /// No variables, no hostname, randomness from the OS.
    #[must_use]
    pub fn new() -> Self {
        MapEnv::default()
    }

    /// Sets a variable.
    #[must_use]
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Sets the hostname (default: none, so the fallback uses `host`).
    #[must_use]
    pub fn hostname(mut self, hostname: &str) -> Self {
        self.hostname = Some(hostname.to_owned());
        self
    }

    /// Makes [`EnvSource::random_u32`] return `value` (default: the OS generator).
    #[must_use]
    pub fn random(mut self, value: u32) -> Self {
        self.random = Some(value);
        self
    }
}

impl EnvSource for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn hostname(&self) -> Option<String> {
        self.hostname.clone()
    }

    fn random_u32(&self) -> Result<u32, DetectError> {
        match self.random {
            Some(r) => Ok(r),
            None => OsEnv.random_u32(),
        }
    }
}

/// Which rule produced the instance ID. `Display` is a phrase for start-up logs:
/// `instance web-1-a7f3c92d (from hostname + random suffix)`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DetectionSource {
    /// The explicit override variable (its name is kept for messages).
    Override {
        /// The variable's name, e.g. `APP_INSTANCE_ID`.
        variable: String,
    },
    /// Fly.io: `FLY_ALLOC_ID`.
    FlyIo,
    /// Kubernetes: the pod name in `HOSTNAME`, trusted because
    /// `KUBERNETES_SERVICE_HOST` is set.
    Kubernetes,
    /// AWS ECS: `ecs-{container id}`, the container ID taken from the path of
    /// `ECS_CONTAINER_METADATA_URI_V4`.
    Ecs,
    /// Google Cloud Run: `{K_REVISION}-{8 random hex digits}` (the revision name alone
    /// is shared by all its instances).
    CloudRun,
    /// No platform detected: `{hostname}-{8 random hex digits}`.
    Fallback,
}

impl DetectionSource {
    /// A short, stable name for storing in the registry: `override`, `fly`,
    /// `kubernetes`, `ecs`, `cloud-run` or `fallback`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            DetectionSource::Override { .. } => "override",
            DetectionSource::FlyIo => "fly",
            DetectionSource::Kubernetes => "kubernetes",
            DetectionSource::Ecs => "ecs",
            DetectionSource::CloudRun => "cloud-run",
            DetectionSource::Fallback => "fallback",
        }
    }

    /// Whether the ID is the same after a restart of this instance (override, Fly.io,
    /// Kubernetes, ECS) or new every time (Cloud Run, fallback).
    #[must_use]
    pub fn is_stable(&self) -> bool {
        !matches!(self, DetectionSource::CloudRun | DetectionSource::Fallback)
    }
}

impl fmt::Display for DetectionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetectionSource::Override { variable } => {
                f.write_str("override ")?;
                write_escaped(f, variable)
            }
            DetectionSource::FlyIo => f.write_str("Fly.io FLY_ALLOC_ID"),
            DetectionSource::Kubernetes => f.write_str("Kubernetes pod HOSTNAME"),
            DetectionSource::Ecs => f.write_str("AWS ECS ECS_CONTAINER_METADATA_URI_V4"),
            DetectionSource::CloudRun => f.write_str("Google Cloud Run K_REVISION + random suffix"),
            DetectionSource::Fallback => f.write_str("hostname + random suffix"),
        }
    }
}

/// The detected instance ID and the rule that produced it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Detection {
    id: String,
    source: DetectionSource,
}

impl Detection {
    /// A detection result from parts (e.g. an ID read from a configuration file).
    #[must_use]
    pub fn new(id: impl Into<String>, source: DetectionSource) -> Self {
        Detection {
            id: id.into(),
            source,
        }
    }

    /// The instance ID.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Which rule produced it.
    #[must_use]
    pub fn source(&self) -> &DetectionSource {
        &self.source
    }

    /// The ID, consuming the result.
    #[must_use]
    pub fn into_id(self) -> String {
        self.id
    }
}

impl fmt::Display for Detection {
    /// `web-1-a7f3c92d (from hostname + random suffix)`. Control characters (`\n`),
    /// invisible formatting characters (`\u{202e}`, see
    /// [`RefusalReason::FormatCharacter`]) and backslashes (`\\`) are escaped, so a
    /// start-up log line shows exactly what was detected and cannot be reordered or
    /// hidden by the ID itself.
    ///
    /// [`RefusalReason::FormatCharacter`]: super::RefusalReason::FormatCharacter
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, &self.id)?;
        write!(f, " (from {})", self.source)
    }
}

/// `text` escaped as [`Detection`]'s `Display` escapes it, for log fields.
pub(crate) struct Escaped<'a>(pub(crate) &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0)
    }
}

/// Writes `text` with backslashes (`\\`), control characters (`\n`, `\u{7}`), line and
/// paragraph separators and invisible formatting characters (`\u{202e}`) escaped.
fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    let mut rest = text;
    while let Some((at, c)) = rest
        .char_indices()
        .find(|&(_, c)| c == '\\' || needs_escape(c))
    {
        f.write_str(&rest[..at])?;
        if c.is_control() {
            write!(f, "{}", c.escape_debug())?;
        } else if c == '\\' {
            f.write_str("\\\\")?;
        } else {
            write!(f, "{}", c.escape_unicode())?;
        }
        rest = &rest[at + c.len_utf8()..];
    }
    f.write_str(rest)
}

/// `text` in double quotes, escaped as `{:?}` escapes it and with invisible formatting
/// characters escaped too (`Debug` shows some of them raw, e.g. the Hangul filler): how
/// error messages quote an ID.
pub(crate) struct Quoted<'a>(pub(crate) &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            if is_invisible_format(c) {
                write!(f, "{}", c.escape_unicode())?;
            } else if c == '\'' {
                f.write_str("'")?;
            } else {
                write!(f, "{}", c.escape_debug())?;
            }
        }
        f.write_str("\"")
    }
}

/// Characters a log line must not show raw.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_invisible_format(c)
}

/// Whether `c` is a Unicode format character (general category `Cf`) or another
/// default-ignorable code point: characters that render as nothing (or reorder the text
/// around them) and so let one string pass for another. The ranges are those of
/// Unicode 16, with unassigned code points inside them included (a future format
/// character is refused too).
pub(crate) fn is_invisible_format(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD // soft hyphen
            | 0x034F // combining grapheme joiner
            | 0x0600..=0x0605 // Arabic number signs
            | 0x061C // Arabic letter mark
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x115F..=0x1160 // Hangul fillers
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F // Mongolian variation selectors, vowel separator
            | 0x200B..=0x200F // zero-width space, (non-)joiner, LRM, RLM
            | 0x202A..=0x202E // bidi embeddings and overrides
            | 0x2060..=0x206F // word joiner, invisible operators, bidi isolates
            | 0x3164 // Hangul filler
            | 0xFE00..=0xFE0F // variation selectors
            | 0xFEFF // byte order mark, zero-width no-break space
            | 0xFFA0 // halfwidth Hangul filler
            | 0xFFF0..=0xFFFB // interlinear annotation
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F // Egyptian hieroglyph format controls
            | 0x1BCA0..=0x1BCA3 // shorthand format controls
            | 0x1D173..=0x1D17A // musical symbol format controls
            | 0xE0000..=0xE0FFF // tags, variation selectors supplement
    )
}

/// Detection could not finish. New reasons may be added in minor releases.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectError {
    /// The operating system's random generator failed (needed for Cloud Run and the
    /// fallback).
    Entropy(EntropyError),
    /// A custom [`EnvSource`] has no randomness to give.
    NoRandomness,
}

impl fmt::Display for DetectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetectError::Entropy(e) => {
                write!(f, "cannot make a random instance ID suffix: {e}")
            }
            DetectError::NoRandomness => {
                f.write_str("cannot make a random instance ID suffix: no randomness available")
            }
        }
    }
}

impl std::error::Error for DetectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DetectError::Entropy(e) => Some(e),
            DetectError::NoRandomness => None,
        }
    }
}

/// Detects this instance's ID. First match wins:
///
/// 1. the override variable `override_var` (e.g. `APP_INSTANCE_ID`) when it is set —
///    even to an empty value, so that a misconfiguration reaches validation instead of
///    being papered over;
/// 2. Fly.io: `FLY_ALLOC_ID`;
/// 3. Kubernetes: `HOSTNAME` when `KUBERNETES_SERVICE_HOST` is set;
/// 4. AWS ECS: `ecs-{container id}`, the last path segment of
///    `ECS_CONTAINER_METADATA_URI_V4` (the URI is parsed, never fetched);
/// 5. Google Cloud Run: `{K_REVISION}-{8 random hex digits}`;
/// 6. otherwise `{hostname}-{8 random hex digits}` (`host-…` without a hostname).
///
/// Platform variables that are blank are treated as unset, and an ECS URI without a
/// container segment is skipped. Values are used as given, except that platform values
/// are trimmed.
///
/// ```
/// use typed_id::instance::{detect, DetectionSource, MapEnv};
///
/// let env = MapEnv::new()
///     .var("KUBERNETES_SERVICE_HOST", "10.0.0.1")
///     .var("HOSTNAME", "orders-api-7d9f8b6c4-x2x9k")
///     .var("K_REVISION", "ignored-because-kubernetes-came-first");
/// let found = detect(&env, "APP_INSTANCE_ID")?;
/// assert_eq!(found.id(), "orders-api-7d9f8b6c4-x2x9k");
/// assert_eq!(found.to_string(), "orders-api-7d9f8b6c4-x2x9k (from Kubernetes pod HOSTNAME)");
/// # Ok::<(), typed_id::instance::DetectError>(())
/// ```
///
/// With the `tracing` feature the result is an `INFO` event on `typed_id::instance`
/// (`instance_id`, `source`, `from`, `stable`), so start-up logs say which source won.
///
/// # Errors
/// [`DetectError`] when a random suffix is needed and no randomness is available.
pub fn detect<E: EnvSource + ?Sized>(
    env: &E,
    override_var: &str,
) -> Result<Detection, DetectError> {
    let found = first_match(env, override_var)?;
    event!(
        instance,
        INFO,
        "instance ID detected",
        instance_id = %Escaped(found.id()),
        source = found.source().name(),
        from = %found.source(),
        stable = found.source().is_stable(),
    );
    Ok(found)
}

/// The rules of [`detect`], in order.
fn first_match<E: EnvSource + ?Sized>(
    env: &E,
    override_var: &str,
) -> Result<Detection, DetectError> {
    if let Some(id) = env.var(override_var) {
        return Ok(Detection::new(
            id,
            DetectionSource::Override {
                variable: override_var.to_owned(),
            },
        ));
    }
    let platform = |name: &str| {
        env.var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if let Some(id) = platform(FLY_ALLOC_ID) {
        return Ok(Detection::new(id, DetectionSource::FlyIo));
    }
    if platform(KUBERNETES_SERVICE_HOST).is_some()
        && let Some(id) = platform(HOSTNAME)
    {
        return Ok(Detection::new(id, DetectionSource::Kubernetes));
    }
    if let Some(container) = platform(ECS_METADATA_URI)
        .as_deref()
        .and_then(ecs_container_id)
    {
        return Ok(Detection::new(
            format!("ecs-{container}"),
            DetectionSource::Ecs,
        ));
    }
    if let Some(revision) = platform(K_REVISION) {
        let suffix = env.random_u32()?;
        return Ok(Detection::new(
            format!("{revision}-{suffix:08x}"),
            DetectionSource::CloudRun,
        ));
    }
    let host = env
        .hostname()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| UNKNOWN_HOST.to_owned());
    let suffix = env.random_u32()?;
    Ok(Detection::new(
        format!("{host}-{suffix:08x}"),
        DetectionSource::Fallback,
    ))
}

/// The container ID in an ECS task metadata URI: the last segment of its path
/// (`http://169.254.170.2/v4/6d6b…-3412340021` → `6d6b…-3412340021`). The path must have
/// a version segment before it, and the ID may contain only ASCII letters, digits, `-`,
/// `_` and `.`.
fn ecs_container_id(uri: &str) -> Option<&str> {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    // Drop the authority; what is left is the path.
    let (_, path) = rest.split_once('/')?;
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let _version = segments.next()?;
    let id = segments.next_back()?;
    id.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        .then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecs_uris() {
        assert_eq!(
            ecs_container_id("http://169.254.170.2/v4/6d6b5c1e2f-3412340021"),
            Some("6d6b5c1e2f-3412340021")
        );
        assert_eq!(
            ecs_container_id("http://169.254.170.2/v4/abc123/"),
            Some("abc123")
        );
        assert_eq!(
            ecs_container_id("http://169.254.170.2/v4/abc123?x=1"),
            Some("abc123")
        );
        assert_eq!(ecs_container_id("http://169.254.170.2/v4/"), None);
        assert_eq!(ecs_container_id("http://169.254.170.2"), None);
        assert_eq!(ecs_container_id("http://169.254.170.2/v4/a%20b"), None);
        assert_eq!(ecs_container_id(""), None);
    }
}
