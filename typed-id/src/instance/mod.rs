//! Instance identity, the instance registry, and leased snowflake worker IDs.
//!
//! # Running many instances
//!
//! Snowflake IDs are unique only if no two live generators share a worker ID. With a
//! database that every instance can reach, `typed-id` guarantees that: each instance
//! registers itself, leases the lowest free worker ID, and renews the lease with its
//! heartbeat. One call does it all at start-up:
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! use typed_id::instance::{start, StartConfig};
//! # let dir = std::env::temp_dir().join(format!("typed-id-doc-start-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let database_url = dir.join("registry.db").to_str().unwrap().to_owned();
//!
//! // database_url: a SQLite path, or "postgres://user@host/db"
//! let instance = start(StartConfig::new("orders", &database_url))?;
//! println!(
//!     "instance {} (from {}), worker {}",
//!     instance.id(), instance.source(), instance.worker_id()
//! );
//! for warning in instance.warnings() {
//!     eprintln!("warning: {warning}");
//! }
//!
//! let ids = instance.generator(); // Arc<LeasedGenerator>: share it across threads
//! let id = ids.next_snowflake()?;
//! assert_eq!(ids.decompose(id).worker, instance.worker_id());
//!
//! instance.shutdown()?; // stop the heartbeat, release the worker ID, close the registration
//! # std::fs::remove_dir_all(&dir).ok();
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Who am I? Detection
//!
//! [`detect`] names the instance from its environment, first match wins, without any
//! network call:
//!
//! | order | source | instance ID |
//! |---|---|---|
//! | 1 | override variable (`APP_INSTANCE_ID`, name configurable) | its value, as given |
//! | 2 | Fly.io | `FLY_ALLOC_ID` |
//! | 3 | Kubernetes (`KUBERNETES_SERVICE_HOST` set) | `HOSTNAME`, the pod name |
//! | 4 | AWS ECS | `ecs-{container id}` from the path of `ECS_CONTAINER_METADATA_URI_V4` |
//! | 5 | Google Cloud Run | `{K_REVISION}-{8 random hex digits}` |
//! | 6 | anywhere else | `{hostname}-{8 random hex digits}` |
//!
//! The result names its [`DetectionSource`], so the start-up log says why the instance
//! is called what it is. The environment is a parameter ([`EnvSource`]), so every rule
//! can be tested:
//!
//! ```
//! use typed_id::instance::{detect, DetectionSource, MapEnv};
//!
//! let env = MapEnv::new()
//!     .var("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/a1b2c3d4e5-1234567890")
//!     .var("K_REVISION", "orders-00042-xaz");
//! let found = detect(&env, "APP_INSTANCE_ID")?;
//! assert_eq!(found.id(), "ecs-a1b2c3d4e5-1234567890"); // ECS comes before Cloud Run
//! assert_eq!(found.source(), &DetectionSource::Ecs);
//!
//! let env = env.var("APP_INSTANCE_ID", "orders-eu1-3"); // the override beats everything
//! assert_eq!(detect(&env, "APP_INSTANCE_ID")?.id(), "orders-eu1-3");
//! # Ok::<(), typed_id::instance::DetectError>(())
//! ```
//!
//! ## Is that name good enough? Validation
//!
//! `APP_ENV` (name configurable) says where the process runs: `development`, `staging`
//! or `production` (`dev`, `stage`, `prod` also work; [`start`] assumes production when
//! it is unset). Staging and production refuse names that many instances would share
//! — empty or blank IDs, `localhost`, `127.0.0.1`, `default`, `changeme` and the rest of
//! [`KNOWN_DEFAULTS`], the application's own defaults ([`Validator::known_default`],
//! [`StartConfig::known_default`]), stray whitespace, invisible characters, unexpanded
//! `${PLACEHOLDERS}` — with a message that tells the operator what to set, and warn
//! (a returned [`ValidationWarning`], never printed) about IDs under 8 characters.
//! Development refuses the same names unless insecure IDs were allowed explicitly: by
//! the application ([`Validator::allow_insecure_in_development`],
//! [`StartConfig::allow_insecure_in_development`]) or by the developer with
//! `APP_ALLOW_INSECURE_INSTANCE_ID=1` ([`DEFAULT_ALLOW_INSECURE_VAR`]); staging and
//! production ignore that opt-in.
//!
//! ```
//! use typed_id::instance::{validate, Detection, DetectionSource, Environment};
//!
//! let found = Detection::new("127.0.0.1", DetectionSource::Kubernetes);
//! let err = validate(&found, Environment::Production, "APP_INSTANCE_ID").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "refusing instance ID \"127.0.0.1\" in production: it is a known default that many \
//!      instances share (detected from Kubernetes pod HOSTNAME). Set APP_INSTANCE_ID to a \
//!      name unique to this instance, e.g. APP_INSTANCE_ID=orders-api-7f3c2a91"
//! );
//! assert!(validate(&found, Environment::Development, "APP_INSTANCE_ID").is_err());
//! # Ok::<(), typed_id::instance::ValidationError>(())
//! ```
//!
//! ## The registry
//!
//! [`Registry`] keeps one row per instance in SQLite or PostgreSQL (features `sqlite`,
//! `postgres`; tables `typed_id_instances` and `typed_id_worker_leases`, created and
//! upgraded in place by the crate's embedded migrations under a lock, so instances may
//! start together). An instance is either
//!
//! - **typed**: its key `{project}-{type}-{hash}` (`odin-PS-8f4a2b`) is minted by the
//!   registry ([`NewInstance::typed`]) from an application-defined type code (`PS` for a
//!   program supervisor, `MS` for a main session, …; [`RegistryOptions::instance_types`]
//!   may restrict them) and a short hash, minted again on a duplicate. Type and hash have
//!   columns of their own, checked by the database; or
//! - **untyped**: registered under an ID chosen elsewhere ([`NewInstance::new`]: a
//!   Kubernetes pod name, an override), as every row of the first schema version is.
//!
//! Every instance carries a status, how full its context window is
//! (`context_percent`, 0–100) and what it works on (`current_epic`, up to
//! [`MAX_EPIC_CHARS`] characters), set at registration and by each heartbeat
//! ([`Progress`]). The operations are the ones an operator's tool needs:
//!
//! | call | does |
//! |---|---|
//! | [`register`](Registry::register) | mints the key or takes the caller's ID; a live duplicate is [`RegistryError::DuplicateInstance`], a closed or stale row is taken over and reported ([`Registration::replaced`]) |
//! | [`heartbeat_with`](Registry::heartbeat_with) / [`heartbeat_by_id`](Registry::heartbeat_by_id) | updates progress; returns a [`HeartbeatReport`]: state, last heartbeat, age in seconds, and whether the instance had gone stale, with a message (`last heard from 3 min ago`) |
//! | [`close`](Registry::close) / [`close_by_id`](Registry::close_by_id) | closes (idempotent) |
//! | [`list_with`](Registry::list_with) | by project or all, active only or all, sorted by project then latest heartbeat, stale rows marked, with total / active / stale / closed counts ([`InstanceList`]) |
//! | [`get`](Registry::get) | by full ID, leading prefix, or the hash alone (`8f4a2b` finds `odin-PS-8f4a2b`, by an index); several matches are listed ([`RegistryError::AmbiguousPrefix`], [`RegistryError::AmbiguousHash`]) |
//! | [`purge`](Registry::purge) | removes closed and stale rows older than an age, in batches ([`Purge`]) |
//!
//! The process that registered holds a [`Registration`] (ID plus a random incarnation)
//! and heartbeats and closes with it: if its ID was taken over after it went stale, it
//! learns on its next heartbeat that it was [superseded](RegistryError::Superseded).
//! Operators' and agents' tools hold only the ID and use the `_by_id` forms; worker-ID
//! leases always need their token. An instance is stale when its last heartbeat is
//! older than the timeout (default 120 s). Results serialise with the `serde` feature.
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! use typed_id::instance::{ListQuery, NewInstance, Progress, Registry, RegistryOptions};
//! # let dir = std::env::temp_dir().join(format!("typed-id-doc-mod-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let url = dir.join("registry.db").to_str().unwrap().to_owned();
//!
//! let registry = Registry::open_with(&url, RegistryOptions::new().instance_types(["PS", "MS"]))?;
//! let me = registry.register(&NewInstance::typed("odin", "PS").context_percent(5))?;
//! println!("registered {}", me.id()); // odin-PS-8f4a2b, say
//!
//! let report = registry.heartbeat_with(&me, &Progress::new().context_percent(40).current_epic("EPIC-7"))?;
//! if let Some(warning) = report.message() {
//!     eprintln!("{warning}"); // instance "odin-PS-8f4a2b" had gone stale and resumed: …
//! }
//!
//! // An operator types the hash from a log line:
//! let hash = me.id().rsplit('-').next().unwrap();
//! let found = registry.get(hash)?;
//! assert_eq!((found.context_percent, found.current_epic.as_deref()), (Some(40), Some("EPIC-7")));
//!
//! let odin = registry.list_with(&ListQuery::active().project("odin"))?;
//! assert_eq!((odin.counts.active, odin.counts.stale), (1, 0));
//! registry.close_by_id(me.id())?;
//! # std::fs::remove_dir_all(&dir).ok();
//! # }
//! # Ok::<(), typed_id::instance::RegistryError>(())
//! ```
//!
//! A heartbeat that fails (database down or locked, connection broken) returns a
//! [`RegistryError`] that keeps the driver's error as `source()`; the next one
//! reconnects. The [`Heartbeat`] thread does this every few seconds (with the progress
//! last given to [`Heartbeat::set_progress`]) and hands failures to a callback (or,
//! through it, a channel).
//!
//! ## Worker-ID leases and fencing
//!
//! A [`WorkerLease`] holds one worker ID of a scope (e.g. the project). It is acquired
//! in one transaction (SQLite `BEGIN IMMEDIATE`; PostgreSQL one
//! `INSERT … ON CONFLICT … DO UPDATE … WHERE expired … RETURNING`), renewed with the
//! heartbeat and released on shutdown. Its [`LeasedGenerator`] is fenced twice:
//!
//! - **in time**: past a local deadline on the monotonic clock (90 % of the lease
//!   period after the last successful renewal was *sent*) it returns
//!   [`IssueError::LeaseLapsed`] until a renewal succeeds. A process that was paused
//!   (`SIGSTOP`, a frozen VM) or cut off from the database stops issuing before its
//!   worker ID can be handed to anyone else;
//! - **in ID space**: the lease row records a high-water timestamp `H`, raised at every
//!   renewal to `max(latest issued, now) + lease period` before the generator may go
//!   there. The holder never issues above `H`; the next holder never issues at or below
//!   it. So even a holder whose clock is wrong, or which resumes in the middle of a
//!   call, cannot overlap with its successor, and a restarted worker whose clock stepped
//!   back never repeats its predecessor's IDs: it issues right above `H` when its clock
//!   is at most the generator's backwards tolerance behind, and otherwise reports
//!   [`GenerateError::ClockMovedBackwards`](crate::GenerateError::ClockMovedBackwards)
//!   until its clock catches up.
//!
//! A clean release records the exact latest timestamp, so a rolling restart reuses the
//! worker ID at once; a crashed holder's worker ID is free again one lease period after
//! its last renewal.
//!
//! ## Durability
//!
//! The fence holds only if the database keeps every lease write it acknowledged: a
//! renewal lost in a crash would let a successor inherit a high-water mark below IDs the
//! holder had already issued. So lease writes (acquire, renew, release) are durable
//! whatever the defaults: on SQLite they commit with `synchronous = FULL`; on
//! PostgreSQL the registry's sessions commit synchronously (`synchronous_commit` raised
//! to `on` when the server's default is `off` or `local`, at every connection and
//! reconnection; stronger settings are kept). Connect the registry directly or through a
//! session-mode pooler. No client can make a server run with `fsync = off` (or on a
//! disk that acknowledges writes it has not stored) durable: such a server may lose
//! acknowledged lease writes in a power cut or an operating-system crash, and after one
//! its leases' high-water marks cannot be trusted. To recover, pick a new scope, or wait
//! until the wall clock has passed the largest ID timestamp issued before the crash
//! (the items' own tables hold it) plus one lease period before leasing again.
//!
//! ## Faults and what they cost
//!
//! No fault below makes two holders issue the same snowflake (the fault suite,
//! `tests/tests/test_faults_lease.rs`, injects each one against real processes); what
//! they cost is availability, always as a typed error:
//!
//! | fault | what happens | cost |
//! |---|---|---|
//! | holder paused (`SIGSTOP`, VM freeze), also mid-renewal | its deadline passes: [`IssueError::LeaseLapsed`]; after the expiry a successor takes over above the high-water mark; the resumed holder's next renewal gets [`RegistryError::LeaseLost`] and its generator [`IssueError::LeaseEnded`]. On SQLite a holder frozen inside a write transaction keeps the database's one write lock: every registry write waits for it (failing after the busy timeout), takeovers included, until it runs again or dies | the pause, then a new lease |
//! | holder killed (`kill -9`) | nothing to clean up | its worker ID is unavailable for one lease period |
//! | database unreachable, locked past the busy timeout, or partitioned away | renewals fail with [`RegistryError::Database`] (or `Connect`); at 90 % of the period the generator refuses; a renewal once the database is back revives the lease unless a successor took it over | no IDs from the deadline until a renewal succeeds |
//! | connection ended by the server (`pg_terminate_backend`, restart) | the call fails with [`RegistryError::Database`]; the next reconnects and keeps the lease | one failed renewal |
//! | server crash (`pg_ctl stop -m immediate`) | acknowledged lease writes survive (synchronous commit); renewals fail while it is down | as unreachable |
//! | SQLite registry file deleted, or replaced by a backup | the generator checks (at most a millisecond apart) that the file at the path is the one its lease is in, and ends ([`IssueError::LeaseEnded`]); the registry's calls fail with [`RegistryError::DatabaseReplaced`]. Processes started afterwards lease from the new file, which has no high-water marks: restart every holder, and make sure the clocks are past the newest ID issued before (the items' own tables hold it) | every running holder must restart |
//! | clock steps back within the generator's tolerance | absorbed (keeps issuing from the last timestamp) | none |
//! | clock steps back beyond it, or a restarted holder's clock is behind the inherited mark | [`GenerateError::ClockMovedBackwards`](crate::GenerateError::ClockMovedBackwards) until the clock catches up | no IDs for that long |
//!
//! The fence never waits for the database: a renewal stuck on a dead TCP connection
//! delays only the heartbeat. To have such calls fail (and reconnect) in seconds, put
//! short timeouts in a PostgreSQL URL, e.g. `connect_timeout=2 keepalives_idle=5
//! keepalives_interval=2 keepalives_count=2 tcp_user_timeout=10000`.
//!
//! ## Without a database
//!
//! [`WorkerFingerprint`](crate::generator::WorkerFingerprint) derives a worker ID from
//! the host, pid, MAC and start time without coordination. That is probabilistic (two
//! of 38 processes share a worker ID with probability ½): fine for a few processes,
//! not a guarantee.

mod detect;
mod validate;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod error;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod fence;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod heartbeat;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod lease;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod lifecycle;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod lookup;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod record;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod registry;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod registry_sql;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod start;

pub use detect::{
    DEFAULT_OVERRIDE_VAR, DetectError, Detection, DetectionSource, EnvSource, MapEnv, OsEnv, detect,
};
pub use validate::{
    DEFAULT_ALLOW_INSECURE_VAR, DEFAULT_ENVIRONMENT_VAR, Environment, EnvironmentError,
    KNOWN_DEFAULTS, MIN_RECOMMENDED_LEN, OptInError, RefusalReason, ValidationError,
    ValidationWarning, Validator, validate,
};

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use error::RegistryError;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use fence::{IssueError, LeasedGenerator};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use heartbeat::{DEFAULT_HEARTBEAT_INTERVAL, Heartbeat, HeartbeatBuilder};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use lease::{DEFAULT_LEASE_PERIOD, LeaseOptions, LeaseRecord, LeaseStats, WorkerLease};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use lifecycle::MAX_EPIC_CHARS;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use record::{
    CloseReport, HeartbeatReport, InstanceCounts, InstanceList, InstanceRecord, InstanceState,
    ListQuery, NewInstance, Progress, Purge, PurgeReport, Registration, human_age,
};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use registry::{DEFAULT_STALE_AFTER, Registry, RegistryOptions};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use start::{Instance, StartConfig, StartError, start, start_with_env};
