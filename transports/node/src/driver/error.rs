//! Why a driver command failed.

use chorus_core::node::CommandError;

/// Why a [`NodeHandle`](super::NodeHandle) call failed.
///
/// ```
/// use chorus_core::node::CommandError;
/// use chorus_node::driver::DriverError;
///
/// let error = DriverError::from(CommandError::NotASigner);
/// assert_eq!(error.to_string(), "this node's key is not among the signers");
/// assert_eq!(error.command_error(), Some(&CommandError::NotASigner));
/// assert_eq!(DriverError::Stopped.command_error(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The driver has stopped (shut down, every handle dropped, or its transport ended).
    #[error("the node driver has stopped")]
    Stopped,
    /// The node refused the command.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// [`spawn`](super::spawn) was called outside a tokio runtime.
    #[error("the node driver needs a tokio runtime")]
    NoRuntime,
}

impl DriverError {
    /// The node's refusal, if that is what this is.
    pub fn command_error(&self) -> Option<&CommandError> {
        match self {
            DriverError::Command(error) => Some(error),
            DriverError::Stopped | DriverError::NoRuntime => None,
        }
    }
}
