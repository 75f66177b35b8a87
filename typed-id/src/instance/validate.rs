//! Is the detected instance ID good enough for where this process runs? Staging and
//! production refuse names that many instances would share (`localhost`, `default`, an
//! empty value, the application's own defaults…) or that hide characters (bidi
//! overrides, zero-width spaces) with a message that says which variable to set, and
//! warn about short names. Development refuses the same names unless the application
//! or the developer opted in to insecure IDs (a [`Validator`] flag, or the variable
//! [`DEFAULT_ALLOW_INSECURE_VAR`]); once opted in it takes anything, warning only about
//! invisible characters.

use core::fmt;
use core::str::FromStr;

use super::detect::{Detection, DetectionSource, EnvSource, Escaped, Quoted, is_invisible_format};
use crate::trace::event;

/// Default name of the variable holding the deployment environment.
pub const DEFAULT_ENVIRONMENT_VAR: &str = "APP_ENV";

/// Default name of the variable that opts in to insecure instance IDs in development
/// (`1`, `true`, `yes` or `on`; see [`Validator::allow_insecure_from_env`]). Staging
/// and production ignore it.
pub const DEFAULT_ALLOW_INSECURE_VAR: &str = "APP_ALLOW_INSECURE_INSTANCE_ID";

/// IDs shorter than this (in characters) draw a [`ValidationWarning::Short`] in staging
/// and production.
pub const MIN_RECOMMENDED_LEN: usize = 8;

/// Values that staging and production refuse as instance IDs (compared
/// case-insensitively, surrounding whitespace ignored): the placeholders, loopback
/// names and addresses that copy-pasted configuration tends to leave behind.
pub const KNOWN_DEFAULTS: &[&str] = &[
    "default",
    "localhost",
    "localhost.localdomain",
    "ip6-localhost",
    "127.0.0.1",
    "::1",
    "0.0.0.0",
    "::",
    "instance",
    "instance-id",
    "instance_id",
    "my-instance",
    "changeme",
    "change-me",
    "test",
    "unknown",
    "none",
    "null",
    "nil",
    "undefined",
    "example",
    "host",
    "hostname",
    "server",
    "app",
    "node",
    "container",
    "docker",
    "todo",
    "tbd",
    "xxx",
    "dev",
    "development",
    "staging",
    "prod",
    "production",
    "0",
    "1",
];

/// The example value error messages suggest.
const EXAMPLE_ID: &str = "orders-api-7f3c2a91";

/// Where the process runs, which decides how strict validation is.
///
/// Parsed from a variable (default `APP_ENV`): `development`, `staging`, `production`,
/// or the aliases `dev`, `stage`, `prod`; case-insensitive.
///
/// ```
/// use typed_id::instance::Environment;
///
/// assert_eq!("prod".parse::<Environment>()?, Environment::Production);
/// let err = "prd".parse::<Environment>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"unknown environment "prd": expected one of development, staging, production (or dev, stage, prod)"#
/// );
/// # Ok::<(), typed_id::instance::EnvironmentError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Environment {
    /// A developer's machine or a test run: any instance ID is accepted.
    Development,
    /// A pre-production deployment: validated like production.
    Staging,
    /// Production: known defaults and empty IDs are refused.
    Production,
}

impl Environment {
    /// All environments, least strict first.
    pub const ALL: [Environment; 3] = [
        Environment::Development,
        Environment::Staging,
        Environment::Production,
    ];

    /// The canonical name: `development`, `staging` or `production`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }

    /// Whether instance IDs are checked (staging and production).
    #[must_use]
    pub const fn is_strict(self) -> bool {
        !matches!(self, Environment::Development)
    }

    /// Reads the environment from the variable `var` of `env`; `default` when it is
    /// unset or blank.
    ///
    /// ```
    /// use typed_id::instance::{Environment, MapEnv};
    ///
    /// let env = MapEnv::new().var("APP_ENV", "Staging");
    /// assert_eq!(Environment::from_env(&env, "APP_ENV", Environment::Production)?, Environment::Staging);
    ///
    /// let env = MapEnv::new().var("APP_ENV", "qa");
    /// assert_eq!(
    ///     Environment::from_env(&env, "APP_ENV", Environment::Production).unwrap_err().to_string(),
    ///     "unknown environment \"qa\" in APP_ENV: expected one of development, staging, \
    ///      production (or dev, stage, prod), e.g. APP_ENV=production"
    /// );
    /// # Ok::<(), typed_id::instance::EnvironmentError>(())
    /// ```
    ///
    /// # Errors
    /// [`EnvironmentError`] for any other value; it names the variable and lists the
    /// valid values.
    pub fn from_env<E: EnvSource + ?Sized>(
        env: &E,
        var: &str,
        default: Environment,
    ) -> Result<Environment, EnvironmentError> {
        match env.var(var) {
            Some(value) if !value.trim().is_empty() => {
                value
                    .parse()
                    .map_err(|e: EnvironmentError| EnvironmentError {
                        variable: Some(var.to_owned()),
                        ..e
                    })
            }
            _ => Ok(default),
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = EnvironmentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v = s.trim();
        let eq = |name: &str| v.eq_ignore_ascii_case(name);
        if eq("development") || eq("dev") {
            Ok(Environment::Development)
        } else if eq("staging") || eq("stage") {
            Ok(Environment::Staging)
        } else if eq("production") || eq("prod") {
            Ok(Environment::Production)
        } else {
            Err(EnvironmentError {
                value: s.to_owned(),
                variable: None,
            })
        }
    }
}

/// An environment name that is none of the known ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentError {
    value: String,
    variable: Option<String>,
}

impl EnvironmentError {
    /// The value that was given.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The variable it came from, when read from the environment.
    #[must_use]
    pub fn variable(&self) -> Option<&str> {
        self.variable.as_deref()
    }
}

impl fmt::Display for EnvironmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown environment {:?}", self.value)?;
        if let Some(var) = &self.variable {
            write!(f, " in {var}")?;
        }
        f.write_str(": expected one of development, staging, production (or dev, stage, prod)")?;
        if let Some(var) = &self.variable {
            write!(f, ", e.g. {var}=production")?;
        }
        Ok(())
    }
}

impl std::error::Error for EnvironmentError {}

/// Why an instance ID was refused. New reasons may be added in minor releases.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefusalReason {
    /// The ID is empty.
    Empty,
    /// The ID is only whitespace.
    Blank,
    /// The ID is one of [`KNOWN_DEFAULTS`].
    KnownDefault,
    /// The ID is one of the application's own defaults (see
    /// [`Validator::known_default`]): the value every instance has until it is
    /// configured, such as `asyncgate-1`.
    ApplicationDefault,
    /// The ID starts or ends with whitespace (a stray space or newline in a config file).
    SurroundingWhitespace,
    /// The ID contains whitespace or control characters.
    InnerWhitespace,
    /// The ID looks like a template placeholder nobody expanded (`${HOSTNAME}`,
    /// `{{ pod_name }}`, `$(POD_NAME)`).
    UnexpandedPlaceholder,
    /// The ID contains an invisible formatting character: a Unicode format character
    /// (`Cf`: bidirectional embeddings, overrides and isolates, zero-width spaces and
    /// joiners, the byte order mark, the soft hyphen, tags) or another character Unicode
    /// marks as default-ignorable (fillers, variation selectors). Such a character can
    /// make one ID look like another in logs and dashboards, or reorder the text around
    /// it; it usually arrives with a value pasted from a document or chat.
    FormatCharacter {
        /// The first such character.
        found: char,
        /// Its byte index in the ID.
        index: usize,
    },
}

impl RefusalReason {
    fn explain(self) -> &'static str {
        match self {
            RefusalReason::Empty => "it is empty",
            RefusalReason::Blank => "it is only whitespace",
            RefusalReason::KnownDefault => "it is a known default that many instances share",
            RefusalReason::ApplicationDefault => {
                "it is this application's default, which every instance shares until it is \
                 given its own"
            }
            RefusalReason::SurroundingWhitespace => "it has leading or trailing whitespace",
            RefusalReason::InnerWhitespace => "it contains whitespace or control characters",
            RefusalReason::UnexpandedPlaceholder => {
                "it looks like a template placeholder that was never expanded"
            }
            RefusalReason::FormatCharacter { .. } => {
                "it contains an invisible formatting character"
            }
        }
    }
}

/// An instance ID refused in staging or production, or in development without the
/// opt-in to insecure IDs. `Display` is the message for the operator: what is wrong,
/// where the ID came from, and which variable to set (in development, also the
/// variable that opts in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    id: String,
    source: DetectionSource,
    environment: Environment,
    reason: RefusalReason,
    override_var: String,
    allow_insecure_var: String,
}

impl ValidationError {
    /// The refused ID.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where it came from.
    #[must_use]
    pub fn source(&self) -> &DetectionSource {
        &self.source
    }

    /// The environment that refused it.
    #[must_use]
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Why.
    #[must_use]
    pub fn reason(&self) -> RefusalReason {
        self.reason
    }

    /// The variable that fixes it.
    #[must_use]
    pub fn override_var(&self) -> &str {
        &self.override_var
    }

    /// The variable that opts in to insecure IDs (mentioned in development only).
    #[must_use]
    pub fn allow_insecure_var(&self) -> &str {
        &self.allow_insecure_var
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let var = &self.override_var;
        write!(
            f,
            "refusing instance ID {} in {}: ",
            Quoted(&self.id),
            self.environment
        )?;
        match self.reason {
            RefusalReason::FormatCharacter { found, index } => write!(
                f,
                "it contains the invisible formatting character U+{:04X} at byte {index}, \
                 which can make one ID look like another (detected from {}). Retype the \
                 value without it; such characters come with text pasted from documents \
                 and chats. ",
                u32::from(found),
                self.source,
            )?,
            reason => write!(f, "{} (detected from {}). ", reason.explain(), self.source)?,
        }
        write!(
            f,
            "Set {var} to a name unique to this instance, e.g. {var}={EXAMPLE_ID}"
        )?;
        if let DetectionSource::Override { .. } = self.source {
            write!(f, ", or unset {var} to use the platform's ID")?;
        }
        if !self.environment.is_strict() {
            write!(
                f,
                "; to accept it anyway on a development machine, set {}=1",
                self.allow_insecure_var
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// Something worth a log line that does not stop start-up. Returned, and with the
/// `tracing` feature also emitted as a `WARN` event; never printed.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValidationWarning {
    /// The ID is shorter than [`MIN_RECOMMENDED_LEN`] characters: short names are
    /// easily reused by accident across a fleet.
    Short {
        /// The ID.
        id: String,
        /// Its length in characters.
        len: usize,
        /// The variable that sets a longer one.
        override_var: String,
    },
    /// Development only: the ID contains an invisible formatting character (see
    /// [`RefusalReason::FormatCharacter`]), which staging and production refuse.
    FormatCharacter {
        /// The ID.
        id: String,
        /// The first such character.
        found: char,
        /// Its byte index in the ID.
        index: usize,
        /// The variable the ID is usually set with.
        override_var: String,
    },
    /// Staging or production: the opt-in to insecure IDs was given (flag or variable)
    /// and is ignored there.
    InsecureOptInIgnored {
        /// The environment that ignored it.
        environment: Environment,
        /// The opt-in variable.
        variable: String,
    },
    /// Development with the opt-in: the ID would be refused without it.
    InsecureAllowed {
        /// The ID.
        id: String,
        /// Why it would be refused.
        reason: RefusalReason,
    },
}

impl fmt::Display for ValidationWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationWarning::Short {
                id,
                len,
                override_var,
            } => write!(
                f,
                "instance ID {} is only {len} characters long; IDs under \
                 {MIN_RECOMMENDED_LEN} characters are easily reused by accident \
                 (consider {override_var}={EXAMPLE_ID})",
                Quoted(id),
            ),
            ValidationWarning::FormatCharacter {
                id,
                found,
                index,
                override_var,
            } => write!(
                f,
                "instance ID {} contains the invisible formatting character U+{:04X} \
                 at byte {index}; staging and production refuse it (retype {override_var} \
                 without it)",
                Quoted(id),
                u32::from(*found),
            ),
            ValidationWarning::InsecureOptInIgnored {
                environment,
                variable,
            } => write!(
                f,
                "insecure instance IDs are allowed in development only: the opt-in \
                 ({variable} or the application's flag) is ignored in {environment}"
            ),
            ValidationWarning::InsecureAllowed { id, reason } => write!(
                f,
                "accepting instance ID {} only because insecure IDs are allowed in \
                 development: {}",
                Quoted(id),
                reason.explain(),
            ),
        }
    }
}

/// Checks instance IDs: the built-in [`KNOWN_DEFAULTS`] and the application's own,
/// by environment, with or without the development opt-in to insecure IDs.
///
/// - **Staging and production** refuse empty and blank IDs, [`KNOWN_DEFAULTS`], the
///   application's defaults ([`known_default`](Self::known_default)), invisible
///   formatting characters ([`RefusalReason::FormatCharacter`]), surrounding or inner
///   whitespace, control characters and unexpanded placeholders, with a
///   [`ValidationError`] that says which variable to set, and warn about IDs under
///   [`MIN_RECOMMENDED_LEN`] characters. The opt-in is ignored there (with a
///   [`ValidationWarning::InsecureOptInIgnored`]).
/// - **Development** refuses the same IDs, the message adding how to opt in, unless
///   insecure IDs were allowed explicitly: by the application
///   ([`allow_insecure_in_development`](Self::allow_insecure_in_development)) or by
///   the developer, with the variable `APP_ALLOW_INSECURE_INSTANCE_ID=1`
///   ([`DEFAULT_ALLOW_INSECURE_VAR`], name configurable, read by
///   [`allow_insecure_from_env`](Self::allow_insecure_from_env) and by
///   [`start`](super::start)). Then it accepts anything, with a
///   [`ValidationWarning::InsecureAllowed`] for an ID it would have refused.
///
/// ```
/// use typed_id::instance::{Detection, DetectionSource, Environment, MapEnv, Validator};
///
/// // Every instance of this application starts as `asyncgate-1` until configured.
/// let validator = Validator::new("ASYNCGATE_INSTANCE_ID").known_default("asyncgate-1");
/// let found = Detection::new("asyncgate-1", DetectionSource::Override {
///     variable: "ASYNCGATE_INSTANCE_ID".into(),
/// });
/// let err = validator.validate(&found, Environment::Production).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "refusing instance ID \"asyncgate-1\" in production: it is this application's \
///      default, which every instance shares until it is given its own (detected from \
///      override ASYNCGATE_INSTANCE_ID). Set ASYNCGATE_INSTANCE_ID to a name unique to \
///      this instance, e.g. ASYNCGATE_INSTANCE_ID=orders-api-7f3c2a91, or unset \
///      ASYNCGATE_INSTANCE_ID to use the platform's ID"
/// );
///
/// // Development refuses it too, unless the developer opts in.
/// assert!(validator.validate(&found, Environment::Development).is_err());
/// let env = MapEnv::new().var("APP_ALLOW_INSECURE_INSTANCE_ID", "1");
/// let relaxed = validator.clone().allow_insecure_from_env(&env)?;
/// assert_eq!(relaxed.validate(&found, Environment::Development).map(|w| w.len()), Ok(1));
/// // ...which staging and production ignore.
/// assert!(relaxed.validate(&found, Environment::Staging).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    override_var: String,
    allow_insecure_var: String,
    known_defaults: Vec<String>,
    allow_insecure: bool,
}

impl Validator {
    /// A validator whose messages tell the operator to set `override_var` (the
    /// instance ID's override variable, e.g. `APP_INSTANCE_ID`); no application
    /// defaults, no opt-in, opt-in variable [`DEFAULT_ALLOW_INSECURE_VAR`].
    #[must_use]
    pub fn new(override_var: impl Into<String>) -> Self {
        Validator {
            override_var: override_var.into(),
            allow_insecure_var: DEFAULT_ALLOW_INSECURE_VAR.to_owned(),
            known_defaults: Vec::new(),
            allow_insecure: false,
        }
    }

    /// Adds one of the application's own defaults (compared like [`KNOWN_DEFAULTS`]:
    /// case-insensitively, surrounding whitespace ignored), refused with
    /// [`RefusalReason::ApplicationDefault`].
    #[must_use]
    pub fn known_default(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        let trimmed = id.trim();
        if !trimmed.is_empty() {
            self.known_defaults.push(trimmed.to_owned());
        }
        self
    }

    /// Adds several of the application's own defaults.
    #[must_use]
    pub fn known_defaults<S: Into<String>>(self, ids: impl IntoIterator<Item = S>) -> Self {
        ids.into_iter().fold(self, Self::known_default)
    }

    /// The application's own defaults.
    #[must_use]
    pub fn application_defaults(&self) -> &[String] {
        &self.known_defaults
    }

    /// Allows insecure IDs in development (the application's explicit opt-in, e.g.
    /// for its test suite); staging and production ignore it.
    #[must_use]
    pub fn allow_insecure_in_development(mut self, allow: bool) -> Self {
        self.allow_insecure = allow;
        self
    }

    /// The name of the opt-in variable, for messages and
    /// [`allow_insecure_from_env`](Self::allow_insecure_from_env) (default
    /// [`DEFAULT_ALLOW_INSECURE_VAR`]).
    #[must_use]
    pub fn allow_insecure_var(mut self, name: impl Into<String>) -> Self {
        self.allow_insecure_var = name.into();
        self
    }

    /// Whether insecure IDs are allowed in development (flag or variable).
    #[must_use]
    pub fn allows_insecure(&self) -> bool {
        self.allow_insecure
    }

    /// Also opts in when the opt-in variable of `env` says so: `1`, `true`, `yes` or
    /// `on` (case-insensitive) opt in; `0`, `false`, `no`, `off`, blank or unset leave
    /// the validator as it was (a flag set by the application stays set).
    ///
    /// # Errors
    /// [`OptInError`] for any other value: a typo must not silently mean either.
    pub fn allow_insecure_from_env<E: EnvSource + ?Sized>(
        mut self,
        env: &E,
    ) -> Result<Self, OptInError> {
        let Some(value) = env.var(&self.allow_insecure_var) else {
            return Ok(self);
        };
        let v = value.trim();
        let is = |names: &[&str]| names.iter().any(|n| v.eq_ignore_ascii_case(n));
        if is(&["1", "true", "yes", "on"]) {
            self.allow_insecure = true;
        } else if !(v.is_empty() || is(&["0", "false", "no", "off"])) {
            return Err(OptInError {
                variable: self.allow_insecure_var.clone(),
                value,
            });
        }
        Ok(self)
    }

    /// Checks `detection` for `environment` (see the type's docs).
    ///
    /// With the `tracing` feature each warning is also a `WARN` event on
    /// `typed_id::instance` (`warning`, `instance_id`, `environment`); a refusal is
    /// only returned, for the caller to report.
    ///
    /// # Errors
    /// [`ValidationError`] with the operator-facing message.
    pub fn validate(
        &self,
        detection: &Detection,
        environment: Environment,
    ) -> Result<Vec<ValidationWarning>, ValidationError> {
        let warnings = self.check(detection, environment)?;
        for warning in &warnings {
            event!(
                instance,
                WARN,
                "instance ID accepted with a warning",
                warning = %warning,
                instance_id = %Escaped(detection.id()),
                environment = %environment,
            );
        }
        Ok(warnings)
    }

    /// The rules of [`validate`](Self::validate).
    fn check(
        &self,
        detection: &Detection,
        environment: Environment,
    ) -> Result<Vec<ValidationWarning>, ValidationError> {
        let id = detection.id();
        let refused = refusal(id, &self.known_defaults);
        let mut warnings = Vec::new();
        if !environment.is_strict() && self.allow_insecure {
            // An invisible character is never meant: worth its own warning even here,
            // since it is cheapest to fix before the value reaches a stricter
            // environment.
            if let Some((index, found)) = first_invisible(id) {
                warnings.push(ValidationWarning::FormatCharacter {
                    id: id.to_owned(),
                    found,
                    index,
                    override_var: self.override_var.clone(),
                });
            } else if let Some(reason) = refused {
                warnings.push(ValidationWarning::InsecureAllowed {
                    id: id.to_owned(),
                    reason,
                });
            }
            return Ok(warnings);
        }
        if let Some(reason) = refused {
            return Err(ValidationError {
                id: id.to_owned(),
                source: detection.source().clone(),
                environment,
                reason,
                override_var: self.override_var.clone(),
                allow_insecure_var: self.allow_insecure_var.clone(),
            });
        }
        if !environment.is_strict() {
            return Ok(warnings);
        }
        if self.allow_insecure {
            warnings.push(ValidationWarning::InsecureOptInIgnored {
                environment,
                variable: self.allow_insecure_var.clone(),
            });
        }
        let len = id.chars().count();
        if len < MIN_RECOMMENDED_LEN {
            warnings.push(ValidationWarning::Short {
                id: id.to_owned(),
                len,
                override_var: self.override_var.clone(),
            });
        }
        Ok(warnings)
    }
}

/// The opt-in variable holds a value that is neither yes nor no.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptInError {
    variable: String,
    value: String,
}

impl OptInError {
    /// The variable.
    #[must_use]
    pub fn variable(&self) -> &str {
        &self.variable
    }

    /// Its value.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for OptInError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid value {} in {}: expected 1, true, yes or on to allow insecure instance \
             IDs in development, or 0, false, no, off (or unset) to refuse them",
            Quoted(&self.value),
            self.variable
        )
    }
}

impl std::error::Error for OptInError {}

/// Checks a detected ID for `environment` with [`Validator::new`]`(override_var)`: no
/// application defaults, and no opt-in to insecure IDs, so development refuses what
/// staging and production refuse (see [`Validator`]). `override_var` is the variable
/// the messages tell the operator to set.
///
/// ```
/// use typed_id::instance::{validate, Detection, DetectionSource, Environment};
///
/// let found = Detection::new("localhost", DetectionSource::Override { variable: "APP_INSTANCE_ID".into() });
/// let err = validate(&found, Environment::Production, "APP_INSTANCE_ID").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "refusing instance ID \"localhost\" in production: it is a known default that many \
///      instances share (detected from override APP_INSTANCE_ID). Set APP_INSTANCE_ID to a \
///      name unique to this instance, e.g. APP_INSTANCE_ID=orders-api-7f3c2a91, or unset \
///      APP_INSTANCE_ID to use the platform's ID"
/// );
/// let err = validate(&found, Environment::Development, "APP_INSTANCE_ID").unwrap_err();
/// assert!(err.to_string().ends_with(
///     "; to accept it anyway on a development machine, set APP_ALLOW_INSECURE_INSTANCE_ID=1"
/// ));
///
/// let found = Detection::new("web-1", DetectionSource::Kubernetes);
/// let warnings = validate(&found, Environment::Staging, "APP_INSTANCE_ID")?;
/// assert_eq!(warnings.len(), 1);
/// assert!(validate(&found, Environment::Development, "APP_INSTANCE_ID")?.is_empty());
/// # Ok::<(), typed_id::instance::ValidationError>(())
/// ```
///
/// # Errors
/// [`ValidationError`] with the operator-facing message.
pub fn validate(
    detection: &Detection,
    environment: Environment,
    override_var: &str,
) -> Result<Vec<ValidationWarning>, ValidationError> {
    Validator::new(override_var).validate(detection, environment)
}

/// The first invisible formatting character in `id` and its byte index.
fn first_invisible(id: &str) -> Option<(usize, char)> {
    id.char_indices().find(|&(_, c)| is_invisible_format(c))
}

/// The first reason to refuse `id`, if any; `application` holds the application's own
/// defaults (trimmed).
fn refusal(id: &str, application: &[String]) -> Option<RefusalReason> {
    let trimmed = id.trim();
    if id.is_empty() {
        return Some(RefusalReason::Empty);
    }
    if trimmed.is_empty() {
        return Some(RefusalReason::Blank);
    }
    if KNOWN_DEFAULTS
        .iter()
        .any(|d| d.eq_ignore_ascii_case(trimmed))
    {
        return Some(RefusalReason::KnownDefault);
    }
    if application.iter().any(|d| d.eq_ignore_ascii_case(trimmed)) {
        return Some(RefusalReason::ApplicationDefault);
    }
    if let Some((index, found)) = first_invisible(id) {
        return Some(RefusalReason::FormatCharacter { found, index });
    }
    if trimmed.len() != id.len() {
        return Some(RefusalReason::SurroundingWhitespace);
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(RefusalReason::InnerWhitespace);
    }
    if id.contains("${") || id.contains("{{") || id.contains("$(") || id.starts_with('$') {
        return Some(RefusalReason::UnexpandedPlaceholder);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal_(id: &str) -> Option<RefusalReason> {
        refusal(id, &[])
    }

    #[test]
    fn refusals() {
        assert_eq!(refusal_(""), Some(RefusalReason::Empty));
        assert_eq!(refusal_(" \t\n"), Some(RefusalReason::Blank));
        assert_eq!(refusal_("LocalHost"), Some(RefusalReason::KnownDefault));
        assert_eq!(refusal_(" localhost\n"), Some(RefusalReason::KnownDefault));
        assert_eq!(
            refusal_("web-1\n"),
            Some(RefusalReason::SurroundingWhitespace)
        );
        assert_eq!(refusal_("web 1"), Some(RefusalReason::InnerWhitespace));
        assert_eq!(refusal_("web\u{7}1"), Some(RefusalReason::InnerWhitespace));
        assert_eq!(
            refusal_("${HOSTNAME}"),
            Some(RefusalReason::UnexpandedPlaceholder)
        );
        assert_eq!(refusal_("{{ pod }}"), Some(RefusalReason::InnerWhitespace));
        assert_eq!(
            refusal_("{{pod}}"),
            Some(RefusalReason::UnexpandedPlaceholder)
        );
        assert_eq!(
            refusal_("$(POD_NAME)"),
            Some(RefusalReason::UnexpandedPlaceholder)
        );
        assert_eq!(
            refusal_("$HOSTNAME"),
            Some(RefusalReason::UnexpandedPlaceholder)
        );
        assert_eq!(
            refusal_("web\u{202E}1"),
            Some(RefusalReason::FormatCharacter {
                found: '\u{202E}',
                index: 3
            })
        );
        // A byte order mark is not whitespace to `trim`: still caught, with its index.
        assert_eq!(
            refusal_("\u{FEFF}localhost"),
            Some(RefusalReason::FormatCharacter {
                found: '\u{FEFF}',
                index: 0
            })
        );
        assert_eq!(refusal_("orders-api-7f3c2a91"), None);
        assert_eq!(refusal_("localhost-7f3c2a91"), None);
    }
}
