//! The command's errors and exit codes: 0 success, 1 an input was invalid, 2 the
//! command was used wrongly or its environment failed (a database missing or
//! unreachable, a file that cannot be read).

use core::fmt;
use std::process::ExitCode;

/// Exit code when an input (an ID, a value) is invalid.
pub const EXIT_INVALID: u8 = 1;
/// Exit code for usage and environment errors.
pub const EXIT_USAGE: u8 = 2;

/// A failed command: what to tell the user, and which exit code it means.
#[derive(Debug)]
pub enum CliError {
    /// An input is invalid (exit 1).
    Invalid(String),
    /// Wrong usage, or the environment failed (exit 2).
    Usage(String),
    /// The reader of the output went away (`typed-id decode - | head`): stop quietly.
    BrokenPipe,
}

impl CliError {
    /// An invalid input.
    pub fn invalid(message: impl Into<String>) -> Self {
        CliError::Invalid(message.into())
    }

    /// A usage or environment error.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }

    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Invalid(_) => EXIT_INVALID,
            CliError::Usage(_) => EXIT_USAGE,
            CliError::BrokenPipe => 0,
        }
    }

    /// The message alone.
    pub fn message(&self) -> &str {
        match self {
            CliError::Invalid(m) | CliError::Usage(m) => m,
            CliError::BrokenPipe => "the output was closed",
        }
    }

    /// `"invalid"` or `"usage"`, for JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Invalid(_) => "invalid",
            CliError::Usage(_) | CliError::BrokenPipe => "usage",
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for CliError {}

/// Reading the input or writing the output failed. A closed pipe (`typed-id decode -
/// | head`) is not worth a message; anything else is an environment error.
impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Usage(format!("input/output error: {e}"))
        }
    }
}

/// How a command ended: success, or "some inputs were invalid" after reporting them.
pub type Outcome = Result<ExitCode, CliError>;

/// The outcome when `invalid` inputs were reported (0 when none were).
pub fn outcome(invalid: u64) -> ExitCode {
    if invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    }
}
