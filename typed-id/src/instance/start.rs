//! One call at start-up: detect, validate, register, lease, and start the heartbeat.

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::detect::{
    DEFAULT_OVERRIDE_VAR, DetectError, Detection, DetectionSource, EnvSource, Escaped, OsEnv,
    detect,
};
use super::error::RegistryError;
use super::fence::LeasedGenerator;
use super::heartbeat::{Heartbeat, HeartbeatBuilder};
use super::lease::{DEFAULT_LEASE_PERIOD, LeaseOptions, WorkerLease};
use super::record::{NewInstance, Registration};
use super::registry::{Registry, RegistryOptions};
use super::validate::{
    DEFAULT_ENVIRONMENT_VAR, Environment, EnvironmentError, OptInError, ValidationError,
    ValidationWarning, Validator,
};
use crate::generator::{Clock, Layout, SystemClock};
use crate::trace::event;

type OnError = Box<dyn FnMut(RegistryError) + Send>;

/// What [`start`] needs; everything but the project and the database has a default.
#[must_use]
pub struct StartConfig<C = SystemClock> {
    project: String,
    database: Database,
    registry_options: RegistryOptions,
    override_var: String,
    environment_var: String,
    default_environment: Environment,
    known_defaults: Vec<String>,
    allow_insecure: bool,
    allow_insecure_var: String,
    scope: Option<String>,
    lease_period: Duration,
    heartbeat_interval: Option<Duration>,
    layout: Layout,
    clock: C,
    status: Option<String>,
    on_heartbeat_error: Option<OnError>,
}

enum Database {
    Url(String),
    Registry(Arc<Registry>),
}

impl StartConfig<SystemClock> {
    /// An instance of `project` registered in the database at `database_url` (a SQLite
    /// path or a `postgres://` URL, see [`Registry::open`]).
    ///
    /// Defaults: override variable `APP_INSTANCE_ID`, environment variable `APP_ENV`
    /// (production when unset), no application defaults, insecure IDs refused in
    /// development unless `APP_ALLOW_INSECURE_INSTANCE_ID=1`, lease scope = the project, a 30 s lease renewed every
    /// 10 s, instances stale after 120 s, [`Layout::DEFAULT`], the system clock.
    pub fn new(project: impl Into<String>, database_url: impl Into<String>) -> Self {
        Self::with_database(project, Database::Url(database_url.into()))
    }

    /// As [`new`](Self::new), with a registry that is already open.
    pub fn with_registry(project: impl Into<String>, registry: Arc<Registry>) -> Self {
        Self::with_database(project, Database::Registry(registry))
    }

    fn with_database(project: impl Into<String>, database: Database) -> Self {
        StartConfig {
            project: project.into(),
            database,
            registry_options: RegistryOptions::new(),
            override_var: DEFAULT_OVERRIDE_VAR.to_owned(),
            environment_var: DEFAULT_ENVIRONMENT_VAR.to_owned(),
            default_environment: Environment::Production,
            known_defaults: Vec::new(),
            allow_insecure: false,
            allow_insecure_var: super::validate::DEFAULT_ALLOW_INSECURE_VAR.to_owned(),
            scope: None,
            lease_period: DEFAULT_LEASE_PERIOD,
            heartbeat_interval: None,
            layout: Layout::DEFAULT,
            clock: SystemClock,
            status: None,
            on_heartbeat_error: None,
        }
    }
}

impl<C: Clock + 'static> StartConfig<C> {
    /// The name of the explicit override variable (default `APP_INSTANCE_ID`).
    pub fn override_var(mut self, name: impl Into<String>) -> Self {
        self.override_var = name.into();
        self
    }

    /// The name of the environment variable (default `APP_ENV`).
    pub fn environment_var(mut self, name: impl Into<String>) -> Self {
        self.environment_var = name.into();
        self
    }

    /// The environment when the variable is unset (default production: strict unless
    /// told otherwise).
    pub fn default_environment(mut self, environment: Environment) -> Self {
        self.default_environment = environment;
        self
    }

    /// Adds one of the application's own default instance IDs (`asyncgate-1`, the
    /// value in its sample configuration), refused like the built-in
    /// [`KNOWN_DEFAULTS`](super::KNOWN_DEFAULTS) with a message that says which
    /// variable to set; see [`Validator::known_default`].
    pub fn known_default(mut self, id: impl Into<String>) -> Self {
        self.known_defaults.push(id.into());
        self
    }

    /// Allows insecure instance IDs (known defaults, blanks, placeholders…) when the
    /// environment is development; staging and production ignore it. Without it,
    /// development accepts them only when the developer sets the opt-in variable
    /// (`APP_ALLOW_INSECURE_INSTANCE_ID=1`, see [`allow_insecure_var`](Self::allow_insecure_var)).
    pub fn allow_insecure_in_development(mut self, allow: bool) -> Self {
        self.allow_insecure = allow;
        self
    }

    /// The name of the variable that opts in to insecure IDs in development (default
    /// [`DEFAULT_ALLOW_INSECURE_VAR`](super::DEFAULT_ALLOW_INSECURE_VAR),
    /// `APP_ALLOW_INSECURE_INSTANCE_ID`).
    pub fn allow_insecure_var(mut self, name: impl Into<String>) -> Self {
        self.allow_insecure_var = name.into();
        self
    }

    /// Registry options (stale timeout, registry clock, SQLite settings); used when
    /// the registry is opened from a URL.
    pub fn registry_options(mut self, options: RegistryOptions) -> Self {
        self.registry_options = options;
        self
    }

    /// The lease scope (default: the project). Generators whose IDs must not collide
    /// share a scope.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The lease period (default 30 s).
    pub fn lease_period(mut self, period: Duration) -> Self {
        self.lease_period = period;
        self
    }

    /// Time between heartbeats (default a third of the lease period).
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = Some(interval);
        self
    }

    /// The snowflake layout.
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The generator's clock.
    pub fn clock<C2: Clock + 'static>(self, clock: C2) -> StartConfig<C2> {
        StartConfig {
            project: self.project,
            database: self.database,
            registry_options: self.registry_options,
            override_var: self.override_var,
            environment_var: self.environment_var,
            default_environment: self.default_environment,
            known_defaults: self.known_defaults,
            allow_insecure: self.allow_insecure,
            allow_insecure_var: self.allow_insecure_var,
            scope: self.scope,
            lease_period: self.lease_period,
            heartbeat_interval: self.heartbeat_interval,
            layout: self.layout,
            clock,
            status: self.status,
            on_heartbeat_error: self.on_heartbeat_error,
        }
    }

    /// The status registered and sent with heartbeats.
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// Receives heartbeat and renewal failures (on the heartbeat thread).
    pub fn on_heartbeat_error(mut self, f: impl FnMut(RegistryError) + Send + 'static) -> Self {
        self.on_heartbeat_error = Some(Box::new(f));
        self
    }
}

impl<C> fmt::Debug for StartConfig<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartConfig")
            .field("project", &self.project)
            .field("override_var", &self.override_var)
            .field("environment_var", &self.environment_var)
            .field("default_environment", &self.default_environment)
            .field("known_defaults", &self.known_defaults)
            .field("allow_insecure", &self.allow_insecure)
            .field("allow_insecure_var", &self.allow_insecure_var)
            .field("scope", &self.scope)
            .field("lease_period", &self.lease_period)
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

/// Why [`start`] failed. New reasons may be added in minor releases.
#[non_exhaustive]
#[derive(Debug)]
pub enum StartError {
    /// The environment variable holds an unknown value.
    Environment(EnvironmentError),
    /// The opt-in variable for insecure IDs holds neither yes nor no.
    OptIn(OptInError),
    /// Detection needed randomness and had none.
    Detect(DetectError),
    /// The instance ID is not acceptable in this environment.
    Validation(ValidationError),
    /// Opening the registry, registering or leasing failed.
    Registry(RegistryError),
    /// The heartbeat thread could not be started.
    Heartbeat(std::io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Environment(e) => fmt::Display::fmt(e, f),
            StartError::OptIn(e) => fmt::Display::fmt(e, f),
            StartError::Detect(e) => fmt::Display::fmt(e, f),
            StartError::Validation(e) => fmt::Display::fmt(e, f),
            StartError::Registry(e) => fmt::Display::fmt(e, f),
            StartError::Heartbeat(e) => write!(f, "cannot start the heartbeat thread: {e}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Environment(e) => std::error::Error::source(e),
            StartError::OptIn(e) => std::error::Error::source(e),
            StartError::Detect(e) => std::error::Error::source(e),
            StartError::Validation(e) => std::error::Error::source(e),
            StartError::Registry(e) => std::error::Error::source(e),
            StartError::Heartbeat(e) => Some(e),
        }
    }
}

impl From<RegistryError> for StartError {
    fn from(e: RegistryError) -> Self {
        StartError::Registry(e)
    }
}

/// A started instance: its identity, its registration, its leased generator and the
/// heartbeat that keeps them alive. [`shutdown`](Self::shutdown) (or dropping it) stops
/// the heartbeat, releases the lease and closes the registration.
pub struct Instance<C: Clock + 'static = SystemClock> {
    detection: Detection,
    environment: Environment,
    warnings: Vec<ValidationWarning>,
    registry: Arc<Registry>,
    registration: Registration,
    lease: Arc<WorkerLease<C>>,
    heartbeat: Option<Heartbeat>,
    closed: bool,
}

impl<C: Clock + 'static> Instance<C> {
    /// The instance ID.
    #[must_use]
    pub fn id(&self) -> &str {
        self.detection.id()
    }

    /// Where the ID came from.
    #[must_use]
    pub fn source(&self) -> &DetectionSource {
        self.detection.source()
    }

    /// The environment it was validated for.
    #[must_use]
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Validation warnings, for the start-up log.
    #[must_use]
    pub fn warnings(&self) -> &[ValidationWarning] {
        &self.warnings
    }

    /// The leased worker ID.
    #[must_use]
    pub fn worker_id(&self) -> u32 {
        self.lease.worker()
    }

    /// The snowflake generator bound to the lease.
    #[must_use]
    pub fn generator(&self) -> Arc<LeasedGenerator<C>> {
        self.lease.generator()
    }

    /// The registry.
    #[must_use]
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The registration (for manual heartbeats).
    #[must_use]
    pub fn registration(&self) -> &Registration {
        &self.registration
    }

    /// The lease.
    #[must_use]
    pub fn lease(&self) -> &Arc<WorkerLease<C>> {
        &self.lease
    }

    /// The heartbeat (status updates, failure counts).
    #[must_use]
    pub fn heartbeat(&self) -> &Heartbeat {
        self.heartbeat
            .as_ref()
            .expect("the heartbeat runs until shutdown")
    }

    /// Stops the heartbeat, releases the lease (recording the high-water mark) and
    /// closes the registration.
    ///
    /// # Errors
    /// The first failure; the remaining steps are still attempted.
    pub fn shutdown(mut self) -> Result<(), RegistryError> {
        self.close()
    }

    fn close(&mut self) -> Result<(), RegistryError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        if let Some(heartbeat) = self.heartbeat.take() {
            heartbeat.stop();
        }
        let released = self.lease.release();
        let closed = self.registry.close(&self.registration);
        released.and(closed)
    }
}

impl<C: Clock + 'static> Drop for Instance<C> {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl<C: Clock + 'static> fmt::Debug for Instance<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instance")
            .field("id", &self.id())
            .field("source", self.source())
            .field("environment", &self.environment)
            .field("worker_id", &self.worker_id())
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

/// Starts an instance from the process environment: see [`start_with_env`].
///
/// # Errors
/// As [`start_with_env`].
pub fn start<C: Clock + 'static>(config: StartConfig<C>) -> Result<Instance<C>, StartError> {
    start_with_env(config, &OsEnv)
}

/// Detects the instance ID in `env`, validates it for the environment named by the
/// environment variable, opens the registry (applying migrations), registers the
/// instance, leases the lowest free worker ID, builds the generator on it and starts the
/// heartbeat. A failure after registering closes the registration again.
///
/// # Errors
/// [`StartError`]: an unknown environment or opt-in value, an ID refused (in staging
/// and production, or in development without the opt-in to insecure IDs; the message
/// says which variable to set), or a registry failure.
pub fn start_with_env<C: Clock + 'static, E: EnvSource + ?Sized>(
    config: StartConfig<C>,
    env: &E,
) -> Result<Instance<C>, StartError> {
    let environment =
        Environment::from_env(env, &config.environment_var, config.default_environment)
            .map_err(StartError::Environment)?;
    let validator = Validator::new(config.override_var.clone())
        .known_defaults(config.known_defaults)
        .allow_insecure_var(config.allow_insecure_var)
        .allow_insecure_in_development(config.allow_insecure)
        .allow_insecure_from_env(env)
        .map_err(StartError::OptIn)?;
    let detection = detect(env, &config.override_var).map_err(StartError::Detect)?;
    let warnings = validator
        .validate(&detection, environment)
        .map_err(StartError::Validation)?;
    let registry = match config.database {
        Database::Url(url) => Arc::new(Registry::open_with(&url, config.registry_options)?),
        Database::Registry(registry) => registry,
    };
    let mut new = NewInstance::new(detection.id(), &config.project)
        .source(detection.source())
        .environment(environment);
    if let Some(status) = &config.status {
        new = new.status(status.clone());
    }
    let registration = registry.register(&new)?;
    let scope = config.scope.unwrap_or_else(|| config.project.clone());
    let options = LeaseOptions::new(scope, detection.id())
        .period(config.lease_period)
        .layout(config.layout)
        .clock(config.clock);
    let lease = match WorkerLease::acquire(registry.clone(), options) {
        Ok(lease) => Arc::new(lease),
        Err(e) => {
            let _ = registry.close(&registration);
            return Err(e.into());
        }
    };
    let mut heartbeat: HeartbeatBuilder = Heartbeat::builder(registry.clone())
        .instance(registration.clone())
        .lease(lease.clone());
    if let Some(interval) = config.heartbeat_interval {
        heartbeat = heartbeat.interval(interval);
    }
    if let Some(status) = config.status {
        heartbeat = heartbeat.status(status);
    }
    if let Some(f) = config.on_heartbeat_error {
        heartbeat = heartbeat.on_error(f);
    }
    let heartbeat = match heartbeat.spawn() {
        Ok(h) => h,
        Err(e) => {
            let _ = lease.release();
            let _ = registry.close(&registration);
            return Err(StartError::Heartbeat(e));
        }
    };
    event!(
        instance,
        INFO,
        "instance started",
        instance_id = %Escaped(detection.id()),
        source = detection.source().name(),
        environment = %environment,
        project = %Escaped(&config.project),
        worker = lease.worker(),
        warnings = warnings.len(),
    );
    Ok(Instance {
        detection,
        environment,
        warnings,
        registry,
        registration,
        lease,
        heartbeat: Some(heartbeat),
        closed: false,
    })
}
