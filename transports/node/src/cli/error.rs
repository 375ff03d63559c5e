//! Why a command failed, and the exit code each failure maps to.

use std::io;

use chorus_core::crypto::CryptoError;
use chorus_core::election::ElectionError;

/// Exit code of a successful command (and of `verify` on a valid signature).
pub const EXIT_SUCCESS: i32 = 0;
/// Exit code of `verify` when the signature does not verify.
pub const EXIT_INVALID: i32 = 1;
/// Exit code for input the program refuses: bad hex, bad keys, unknown flags, ...
pub const EXIT_BAD_INPUT: i32 = 2;
/// Exit code when the output cannot be written or a check the program makes on its own
/// work fails (which would be a bug).
pub const EXIT_FAILURE: i32 = 3;

/// Why a command failed.
///
/// Every message is a single line, and none repeats the value that was refused.
///
/// ```
/// use chorus_node::cli::{CliError, EXIT_BAD_INPUT};
///
/// let error = CliError::invalid("--message", "expected 32 bytes");
/// assert_eq!(error.to_string(), "invalid --message: expected 32 bytes");
/// assert_eq!(error.exit_code(), EXIT_BAD_INPUT);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The command line does not parse (unknown flag, missing argument, bad number, ...).
    #[error("{0}")]
    Usage(String),
    /// An argument parsed but its value is refused.
    #[error("invalid {argument}: {reason}")]
    InvalidArgument {
        /// The argument, as the user knows it (`--message`, `PUBKEY #2`).
        argument: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The crypto layer refused the input.
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// The election refused the input.
    #[error("{0}")]
    Election(#[from] ElectionError),
    /// A check of the program's own result failed; this is a bug, not bad input.
    #[error("internal check failed: {0}")]
    Internal(String),
    /// Standard output could not be written.
    #[error("cannot write output: {0}")]
    Output(#[from] io::Error),
}

impl CliError {
    /// A refused argument value.
    pub fn invalid(argument: impl Into<String>, reason: impl Into<String>) -> Self {
        CliError::InvalidArgument {
            argument: argument.into(),
            reason: reason.into(),
        }
    }

    /// The exit code this failure ends the program with.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_)
            | CliError::InvalidArgument { .. }
            | CliError::Crypto(_)
            | CliError::Election(_) => EXIT_BAD_INPUT,
            CliError::Internal(_) | CliError::Output(_) => EXIT_FAILURE,
        }
    }

    /// Whether the reader of standard output went away (`chorus keygen | head -1`): not
    /// worth a message, and not a failure of the command itself.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output(error) if error.kind() == io::ErrorKind::BrokenPipe)
    }
}
