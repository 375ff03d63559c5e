//! libp2p transport for Chorus nodes.
//!
//! [`Libp2pTransport`] implements [`chorus_core::transport::Transport`] with one libp2p
//! swarm per node:
//!
//! - TCP (no Nagle delay) and QUIC, Noise, Yamux, with connection and stream limits and
//!   an idle timeout;
//! - GossipSub for topics (signed and strictly validated; a message is *from* its verified
//!   author, not the peer that forwarded it; message id = SHA-256 of the data);
//! - a Kademlia DHT (protocol `/lotus/kad/1.0.0` unless configured) with a bounded record
//!   store, for signed discovery records;
//! - request-response ([`DIRECT_PROTOCOL`]) for direct messages: one short stream per
//!   message, a hard size limit enforced while reading, a one-byte acknowledgement;
//! - identify, whose reports feed the DHT's routing table so that a direct message to a
//!   peer that is not connected dials it; a message for a peer whose address nobody knows
//!   yet waits (up to the request timeout) for that peer to connect or for the DHT to find
//!   it, and is then reported as
//!   [`Incoming::Undeliverable`](chorus_core::transport::Incoming::Undeliverable).
//!
//! Everything is bounded (connections, streams, queued messages, DHT records, items waiting
//! for the driver), and everything dropped is counted in [`Libp2pStats`]; no input panics.
//!
//! Chorus names a libp2p peer by the bytes of its [`PeerId`](Libp2pPeerId): see
//! [`chorus_peer_id`] and [`libp2p_peer_id`].
//!
//! ```no_run
//! use chorus_core::transport::{Outgoing, Transport};
//! use chorus_libp2p::{Libp2pConfig, Libp2pTransport};
//!
//! # async fn run() -> Result<(), chorus_libp2p::Libp2pError> {
//! let mut node = Libp2pTransport::start(Libp2pConfig::default()).await?;
//! node.send(Outgoing::Subscribe { topic: chorus_core::discovery::REQUEST_TOPIC.into() });
//! while let Some(incoming) = std::future::poll_fn(|cx| node.poll_incoming(cx)).await {
//!     println!("{incoming}");
//! }
//! # Ok(()) }
//! ```

mod behaviour;
mod codec;
mod config;
mod direct;
mod error;
mod events;
mod stats;
mod transport;

pub use chorus_core;
pub use codec::{
    DirectAck, DirectCodec, DirectFrame, FrameError, RefusedRequests, DIRECT_PROTOCOL,
};
pub use config::{Libp2pConfig, DEFAULT_KAD_PROTOCOL};
pub use error::Libp2pError;
pub use libp2p;
pub use libp2p::{Multiaddr, PeerId as Libp2pPeerId};
pub use stats::Libp2pStats;
pub use transport::Libp2pTransport;

/// The Chorus peer id of a libp2p peer: the bytes of its [`PeerId`](Libp2pPeerId).
///
/// ```
/// use chorus_libp2p::{chorus_peer_id, libp2p_peer_id, Libp2pPeerId};
///
/// let peer = Libp2pPeerId::random();
/// assert_eq!(chorus_peer_id(&peer).as_bytes(), peer.to_bytes());
/// assert_eq!(libp2p_peer_id(&chorus_peer_id(&peer)).unwrap(), peer);
/// ```
pub fn chorus_peer_id(peer: &Libp2pPeerId) -> chorus_core::node::PeerId {
    chorus_core::node::PeerId::new(peer.to_bytes())
}

/// The libp2p peer a Chorus peer id names.
///
/// ```
/// use chorus_libp2p::{chorus_peer_id, libp2p_peer_id, Libp2pPeerId};
///
/// let peer = Libp2pPeerId::random();
/// assert_eq!(libp2p_peer_id(&chorus_peer_id(&peer)).unwrap(), peer);
/// assert!(libp2p_peer_id(&chorus_core::node::PeerId::new([0; 3])).is_err());
/// ```
///
/// # Errors
///
/// [`Libp2pError::InvalidPeerId`] if the bytes are not a libp2p peer id (a multihash).
pub fn libp2p_peer_id(peer: &chorus_core::node::PeerId) -> Result<Libp2pPeerId, Libp2pError> {
    Libp2pPeerId::from_bytes(peer.as_bytes()).map_err(|_| Libp2pError::InvalidPeerId {
        len: peer.as_bytes().len(),
    })
}
