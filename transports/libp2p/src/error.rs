//! What can go wrong while starting or steering a libp2p node.

use libp2p::Multiaddr;

/// Why a [`Libp2pTransport`](crate::Libp2pTransport) could not start or do what it was asked.
///
/// ```
/// use chorus_libp2p::{libp2p_peer_id, Libp2pError};
/// use chorus_core::node::PeerId;
///
/// let error = libp2p_peer_id(&PeerId::new([1, 2, 3])).unwrap_err();
/// assert!(matches!(error, Libp2pError::InvalidPeerId { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Libp2pError {
    /// The Kademlia protocol name is not a valid libp2p protocol (it must start with `/`).
    #[error("invalid Kademlia protocol name {name:?}: {reason}")]
    InvalidProtocol {
        /// The configured name.
        name: String,
        /// Why libp2p refused it.
        reason: String,
    },
    /// The swarm (transports, security, multiplexing or a behaviour) could not be built.
    #[error("could not build the libp2p swarm: {0}")]
    Build(String),
    /// A listen address was refused or its listener failed.
    #[error("could not listen on {address}: {reason}")]
    Listen {
        /// The address.
        address: Multiaddr,
        /// Why.
        reason: String,
    },
    /// The listeners did not report their addresses in time.
    #[error("listeners reported no address within the listen timeout")]
    ListenTimeout,
    /// A dial could not be started.
    #[error("could not dial {address}: {reason}")]
    Dial {
        /// The address.
        address: Multiaddr,
        /// Why.
        reason: String,
    },
    /// Bytes that should name a libp2p peer do not.
    #[error("not a libp2p peer id ({len} bytes)")]
    InvalidPeerId {
        /// How many bytes the id had.
        len: usize,
    },
}
