//! What the registry stores and returns: the instance to register, the instance as
//! stored, and the results of heartbeats, lists, closes and purges.
//!
//! Plain data, below the registry and its errors: nothing here talks to a database.
//! With the `serde` feature every result serialises (as a JSON object with the field
//! names below), for tools that print them.

use core::fmt;
use std::time::{Duration, SystemTime};

use super::detect::DetectionSource;
use super::validate::Environment;
use crate::body::InstanceKey;
use crate::generator::system_time;

/// How an instance ID is chosen at registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum IdChoice {
    /// The caller's ID, stored as given; the row has no type.
    Given(String),
    /// The caller's key `{project}-{type}-{hash}`; the row has the key's type.
    Key(InstanceKey),
    /// The registry mints `{project}-{type}-{hash}`.
    Mint(String),
}

/// What to register: the ID (or the type of a key the registry mints), the project,
/// where it runs, and its initial progress.
///
/// ```
/// use typed_id::instance::NewInstance;
///
/// // A key `odin-PS-…` minted by the registry:
/// let supervisor = NewInstance::typed("odin", "PS").context_percent(12).current_epic("EPIC-7");
/// assert_eq!(supervisor.id(), None);
/// assert_eq!(supervisor.instance_type(), Some("PS"));
///
/// // An ID chosen elsewhere (a Kubernetes pod name, an override): no type.
/// let pod = NewInstance::new("orders-7d9f8c6b5-x2k4p", "orders");
/// assert_eq!(pod.id(), Some("orders-7d9f8c6b5-x2k4p"));
/// assert_eq!(pod.instance_type(), None);
/// ```
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInstance {
    pub(crate) id: IdChoice,
    pub(crate) project: String,
    pub(crate) hostname: Option<String>,
    pub(crate) pid: Option<u32>,
    pub(crate) source: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) context_percent: Option<u8>,
    pub(crate) current_epic: Option<String>,
}

impl NewInstance {
    /// An instance of `project` under the caller's `id` (any text of 1 to 255 bytes),
    /// on this host, with this process's pid. The row has no type.
    pub fn new(id: impl Into<String>, project: impl Into<String>) -> Self {
        Self::with(IdChoice::Given(id.into()), project.into())
    }

    /// An instance of `project` with type `instance_type` (an application-defined
    /// code such as `PS` or `MS`: 1 to 16 ASCII letters and digits), whose key
    /// `{project}-{type}-{hash}` the registry mints at registration (see
    /// [`Registry::register`](super::Registry::register)). The project must fit the
    /// key grammar: ASCII letters and digits in `-`-separated segments, at most 48 bytes.
    pub fn typed(project: impl Into<String>, instance_type: impl Into<String>) -> Self {
        Self::with(IdChoice::Mint(instance_type.into()), project.into())
    }

    /// An instance under a key the caller already holds (`odin-PS-8f4a2b`): its project
    /// and type are the key's.
    pub fn key(key: InstanceKey) -> Self {
        let project = key.project().to_owned();
        Self::with(IdChoice::Key(key), project)
    }

    fn with(id: IdChoice, project: String) -> Self {
        NewInstance {
            id,
            project,
            hostname: crate::generator::hostname(),
            pid: Some(std::process::id()),
            source: None,
            environment: None,
            status: None,
            context_percent: None,
            current_epic: None,
        }
    }

    /// The hostname (default: this machine's).
    pub fn hostname(mut self, hostname: Option<&str>) -> Self {
        self.hostname = hostname.map(str::to_owned);
        self
    }

    /// The process ID (default: this process's).
    pub fn pid(mut self, pid: Option<u32>) -> Self {
        self.pid = pid;
        self
    }

    /// Records where the ID came from.
    pub fn source(mut self, source: &DetectionSource) -> Self {
        self.source = Some(source.name().to_owned());
        self
    }

    /// Records the environment.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment.as_str().to_owned());
        self
    }

    /// An initial status (free text, e.g. a small JSON document).
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// How full the instance's context window is, 0 to 100 (checked at registration).
    pub fn context_percent(mut self, percent: u8) -> Self {
        self.context_percent = Some(percent);
        self
    }

    /// What the instance works on: free text of 1 to
    /// [`MAX_EPIC_CHARS`](super::MAX_EPIC_CHARS) characters without control
    /// characters (checked at registration).
    pub fn current_epic(mut self, epic: impl Into<String>) -> Self {
        self.current_epic = Some(epic.into());
        self
    }

    /// The instance ID, unless the registry is to mint it.
    #[must_use]
    pub fn id(&self) -> Option<&str> {
        match &self.id {
            IdChoice::Given(id) => Some(id),
            IdChoice::Key(key) => Some(key.as_str()),
            IdChoice::Mint(_) => None,
        }
    }

    /// The project.
    #[must_use]
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The instance type, for a typed instance.
    #[must_use]
    pub fn instance_type(&self) -> Option<&str> {
        match &self.id {
            IdChoice::Given(_) => None,
            IdChoice::Key(key) => Some(key.kind()),
            IdChoice::Mint(kind) => Some(kind),
        }
    }
}

/// Where an instance stands at the time of a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InstanceState {
    /// Registered, heartbeat within the stale timeout.
    Active,
    /// Registered, but its last heartbeat is older than the stale timeout (its process
    /// presumably died; its ID may be registered again).
    Stale,
    /// Closed.
    Closed,
}

impl InstanceState {
    /// `active`, `stale` or `closed`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            InstanceState::Active => "active",
            InstanceState::Stale => "stale",
            InstanceState::Closed => "closed",
        }
    }
}

impl fmt::Display for InstanceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One instance as the registry knows it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceRecord {
    /// The instance ID (for a typed instance its key, `odin-PS-8f4a2b`).
    pub id: String,
    /// Its project.
    pub project: String,
    /// Its type (`PS`, `MS`, …); `None` for an ID the caller chose.
    pub instance_type: Option<String>,
    /// The hash part of its key (`8f4a2b`); `None` for an ID the caller chose.
    pub key_hash: Option<String>,
    /// Where it runs, if recorded.
    pub hostname: Option<String>,
    /// Its process ID, if recorded.
    pub pid: Option<u32>,
    /// How its ID was detected ([`DetectionSource::name`]), if recorded.
    pub source: Option<String>,
    /// Its environment, if recorded.
    pub environment: Option<String>,
    /// When it registered, Unix milliseconds.
    pub created_at_ms: u64,
    /// Its last heartbeat (or registration), Unix milliseconds.
    pub last_heartbeat_ms: u64,
    /// How long before the query its last heartbeat was, milliseconds (by the
    /// registry's clock; 0 for a heartbeat from the future).
    pub heartbeat_age_ms: u64,
    /// The status sent with its last heartbeat that had one.
    pub status: Option<String>,
    /// How full its context window was at its last report, percent.
    pub context_percent: Option<u8>,
    /// What it was working on at its last report.
    pub current_epic: Option<String>,
    /// When it closed, Unix milliseconds; `None` while active.
    pub closed_at_ms: Option<u64>,
    /// Whether its last heartbeat is older than the stale timeout (at the time of the
    /// query). Closed instances are never stale.
    pub stale: bool,
}

impl InstanceRecord {
    /// When it registered.
    #[must_use]
    pub fn created_at(&self) -> SystemTime {
        system_time(self.created_at_ms)
    }

    /// Its last heartbeat.
    #[must_use]
    pub fn last_heartbeat(&self) -> SystemTime {
        system_time(self.last_heartbeat_ms)
    }

    /// When it closed.
    #[must_use]
    pub fn closed_at(&self) -> Option<SystemTime> {
        self.closed_at_ms.map(system_time)
    }

    /// Whether it has not been closed (stale instances are not closed).
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.closed_at_ms.is_none()
    }

    /// Active, stale or closed.
    #[must_use]
    pub fn state(&self) -> InstanceState {
        match (self.closed_at_ms, self.stale) {
            (Some(_), _) => InstanceState::Closed,
            (None, true) => InstanceState::Stale,
            (None, false) => InstanceState::Active,
        }
    }
}

/// A successful registration: what to pass to [`Registry::heartbeat`] and
/// [`Registry::close`], which only the process holding it can call.
///
/// [`Registry::heartbeat`]: super::Registry::heartbeat
/// [`Registry::close`]: super::Registry::close
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub(crate) id: String,
    pub(crate) instance_type: Option<String>,
    pub(crate) incarnation: i64,
    pub(crate) replaced: Option<InstanceRecord>,
}

impl Registration {
    /// The instance ID (the minted key, for a typed instance).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The instance type, for a typed instance.
    #[must_use]
    pub fn instance_type(&self) -> Option<&str> {
        self.instance_type.as_deref()
    }

    /// The row this registration took over — a closed or stale instance with the same
    /// ID — if any. Worth a log line. (A minted key never takes a row over.)
    #[must_use]
    pub fn replaced(&self) -> Option<&InstanceRecord> {
        self.replaced.as_ref()
    }
}

/// What a heartbeat reports besides being alive: a status, how full the context window
/// is, what the instance works on. Each part left unset keeps its stored value.
///
/// ```
/// use typed_id::instance::Progress;
///
/// let progress = Progress::new().context_percent(64).current_epic("EPIC-12 search");
/// let clear = Progress::new().current_epic(""); // an empty epic clears the stored one
/// # let _ = (progress, clear);
/// ```
#[must_use]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub(crate) status: Option<String>,
    pub(crate) context_percent: Option<u8>,
    pub(crate) current_epic: Option<String>,
}

impl Progress {
    /// Nothing but the heartbeat itself.
    pub fn new() -> Self {
        Progress::default()
    }

    /// A new status (free text, e.g. a small JSON document).
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// How full the context window is, 0 to 100.
    pub fn context_percent(mut self, percent: u8) -> Self {
        self.context_percent = Some(percent);
        self
    }

    /// What the instance now works on (at most
    /// [`MAX_EPIC_CHARS`](super::MAX_EPIC_CHARS) characters, no control characters);
    /// an empty string clears it.
    pub fn current_epic(mut self, epic: impl Into<String>) -> Self {
        self.current_epic = Some(epic.into());
        self
    }
}

/// What a heartbeat found and did.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatReport {
    /// The instance ID.
    pub id: String,
    /// Its state after the heartbeat (always [`InstanceState::Active`]: a closed
    /// instance refuses heartbeats).
    pub state: InstanceState,
    /// This heartbeat's time, Unix milliseconds.
    pub last_heartbeat_ms: u64,
    /// The heartbeat before this one (or the registration), Unix milliseconds.
    pub previous_heartbeat_ms: u64,
    /// Whole seconds between the two.
    pub age_secs: u64,
    /// Whether the instance had gone stale (no heartbeat for longer than the stale
    /// timeout) and this heartbeat resumed it. Until now any process could have taken
    /// its ID over; worth a warning.
    pub was_stale: bool,
}

impl HeartbeatReport {
    /// For a stale resume, a sentence saying so: `instance "odin-PS-8f4a2b" had gone
    /// stale and resumed: last heard from 3 min ago`; `None` otherwise.
    #[must_use]
    pub fn message(&self) -> Option<String> {
        self.was_stale.then(|| {
            format!(
                "instance {:?} had gone stale and resumed: last heard from {} ago",
                self.id,
                human_age(Duration::from_millis(
                    self.last_heartbeat_ms
                        .saturating_sub(self.previous_heartbeat_ms)
                ))
            )
        })
    }
}

/// A duration as an operator reads it: `42 s`, `3 min`, `5 h`, `12 d` (rounded down).
#[must_use]
pub fn human_age(age: Duration) -> String {
    let s = age.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s / 60),
        3_600..86_400 => format!("{} h", s / 3_600),
        _ => format!("{} d", s / 86_400),
    }
}

/// What closing by ID did.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseReport {
    /// The instance, as it is now (closed).
    pub instance: InstanceRecord,
    /// Whether it had been closed before (closing is idempotent).
    pub already_closed: bool,
    /// Whether it had gone stale before it was closed.
    pub was_stale: bool,
}

/// Which instances [`Registry::list`](super::Registry::list) returns.
#[must_use]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub(crate) project: Option<String>,
    pub(crate) include_closed: bool,
}

impl ListQuery {
    /// Active and stale instances of every project.
    pub fn active() -> Self {
        ListQuery::default()
    }

    /// Every instance, closed ones included.
    pub fn all() -> Self {
        ListQuery {
            project: None,
            include_closed: true,
        }
    }

    /// Only instances of `project`.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }
}

/// How many instances there are, by state.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstanceCounts {
    /// All rows (of the project, if one was given): `active + stale + closed`.
    pub total: u64,
    /// Not closed, heartbeat within the stale timeout.
    pub active: u64,
    /// Not closed, heartbeat older than the stale timeout.
    pub stale: u64,
    /// Closed.
    pub closed: u64,
}

/// A list of instances with the counts of the project (or of the whole registry).
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceList {
    /// The instances, by project, then most recent heartbeat first.
    pub instances: Vec<InstanceRecord>,
    /// Counts over every state, whatever the query listed.
    pub counts: InstanceCounts,
}

/// Which old instances [`Registry::purge`](super::Registry::purge) removes.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Purge {
    pub(crate) older_than: Duration,
    pub(crate) batch_size: u32,
    pub(crate) stale: bool,
}

impl Purge {
    /// Default rows deleted per transaction.
    pub const DEFAULT_BATCH_SIZE: u32 = 500;

    /// Closed instances closed longer ago than `age`, and stale instances whose last
    /// heartbeat is older than `age` (never one still within the stale timeout), in
    /// batches of [`DEFAULT_BATCH_SIZE`](Self::DEFAULT_BATCH_SIZE).
    pub fn older_than(age: Duration) -> Self {
        Purge {
            older_than: age,
            batch_size: Self::DEFAULT_BATCH_SIZE,
            stale: true,
        }
    }

    /// Rows deleted per transaction (at least 1), so a large purge never holds the
    /// database's write lock for long.
    pub fn batch_size(mut self, rows: u32) -> Self {
        self.batch_size = rows.max(1);
        self
    }

    /// Whether stale instances are removed too (default `true`); `false` removes
    /// closed ones only.
    pub fn stale(mut self, stale: bool) -> Self {
        self.stale = stale;
        self
    }
}

/// What a purge removed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Closed instances removed.
    pub closed: u64,
    /// Stale instances removed.
    pub stale: u64,
    /// Delete statements run (each its own transaction).
    pub batches: u64,
}

#[cfg(feature = "serde")]
mod serde_impl {
    //! Hand-written (the runtime crate uses serde without its derive macros), one
    //! field list per type.

    use serde::ser::{Serialize, SerializeStruct as _, Serializer};

    use super::{
        CloseReport, HeartbeatReport, InstanceCounts, InstanceList, InstanceRecord, InstanceState,
        PurgeReport,
    };

    /// `Serialize` for `$ty` as a struct of the named fields, each value an expression
    /// of the value `$r`.
    macro_rules! serialize_struct {
        ($ty:ident, |$r:ident| { $($field:ident: $value:expr),+ $(,)? }) => {
            impl Serialize for $ty {
                fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    let $r = self;
                    let fields = [$(stringify!($field)),+].len();
                    let mut st = s.serialize_struct(stringify!($ty), fields)?;
                    $(st.serialize_field(stringify!($field), &$value)?;)+
                    st.end()
                }
            }
        };
    }

    impl Serialize for InstanceState {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.as_str())
        }
    }

    serialize_struct!(InstanceRecord, |r| {
        id: r.id,
        project: r.project,
        instance_type: r.instance_type,
        key_hash: r.key_hash,
        state: r.state(),
        hostname: r.hostname,
        pid: r.pid,
        source: r.source,
        environment: r.environment,
        created_at_ms: r.created_at_ms,
        last_heartbeat_ms: r.last_heartbeat_ms,
        heartbeat_age_ms: r.heartbeat_age_ms,
        status: r.status,
        context_percent: r.context_percent,
        current_epic: r.current_epic,
        closed_at_ms: r.closed_at_ms,
        stale: r.stale,
    });

    serialize_struct!(HeartbeatReport, |r| {
        id: r.id,
        state: r.state,
        last_heartbeat_ms: r.last_heartbeat_ms,
        previous_heartbeat_ms: r.previous_heartbeat_ms,
        age_secs: r.age_secs,
        was_stale: r.was_stale,
        message: r.message(),
    });

    serialize_struct!(CloseReport, |r| {
        instance: r.instance,
        already_closed: r.already_closed,
        was_stale: r.was_stale,
    });

    serialize_struct!(InstanceCounts, |r| {
        total: r.total,
        active: r.active,
        stale: r.stale,
        closed: r.closed,
    });

    serialize_struct!(InstanceList, |r| {
        instances: r.instances,
        counts: r.counts,
    });

    serialize_struct!(PurgeReport, |r| {
        closed: r.closed,
        stale: r.stale,
        batches: r.batches,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_an_operator_would_say_them() {
        let cases = [
            (0, "0 s"),
            (59, "59 s"),
            (60, "1 min"),
            (185, "3 min"),
            (3_599, "59 min"),
            (3_600, "1 h"),
            (86_399, "23 h"),
            (86_400, "1 d"),
            (30 * 86_400 + 5, "30 d"),
        ];
        for (secs, text) in cases {
            assert_eq!(human_age(Duration::from_secs(secs)), text, "{secs}");
        }
    }
}
