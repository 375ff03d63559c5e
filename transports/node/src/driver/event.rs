//! What a driver tells the application.

use chorus_core::crypto::PublicKey;
use chorus_core::discovery::DiscoveryEvent;
use chorus_core::node::{Event, PeerId, Rejection};
use chorus_core::wire::SessionId;
use tokio::sync::broadcast;

/// Something that happened in a driven node or on its transport.
///
/// ```
/// use chorus_core::node::{Event, PeerId};
/// use chorus_core::wire::SessionId;
/// use chorus_node::driver::NodeEvent;
///
/// let event = NodeEvent::Session(Event::SessionReady { session: SessionId([1; 32]) });
/// assert_eq!(event.session(), Some(SessionId([1; 32])));
/// assert_eq!(NodeEvent::PeerConnected { peer: PeerId::new([1]) }.session(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeEvent {
    /// A session event of the core.
    Session(Event),
    /// A discovery or security event of the core.
    Discovery(DiscoveryEvent),
    /// The node refused a message from `peer` (the refusal is counted against the peer).
    Rejected {
        /// The transport peer the message came from.
        peer: PeerId,
        /// Why.
        rejection: Rejection,
    },
    /// The transport connected to `peer`.
    PeerConnected {
        /// The peer.
        peer: PeerId,
    },
    /// The transport's last connection to `peer` went down.
    PeerDisconnected {
        /// The peer.
        peer: PeerId,
    },
    /// The transport could not deliver a message to `peer`.
    Undeliverable {
        /// The peer.
        peer: PeerId,
        /// Why, for the logs.
        reason: String,
    },
    /// A session message for `to` was dropped: no peer is known for that key (see
    /// [`NodeHandle::add_peer`](super::NodeHandle::add_peer)).
    Unroutable {
        /// The session.
        session: SessionId,
        /// The recipient's key.
        to: PublicKey,
    },
}

impl NodeEvent {
    /// The session the event is about, if any.
    pub fn session(&self) -> Option<SessionId> {
        match self {
            NodeEvent::Session(event) => Some(event.session()),
            NodeEvent::Discovery(DiscoveryEvent::SessionReady(parameters)) => {
                Some(parameters.session)
            }
            NodeEvent::Unroutable { session, .. } => Some(*session),
            _ => None,
        }
    }
}

/// A subscription to a driver's [`NodeEvent`]s.
///
/// Each subscriber gets every event from the moment it subscribed, in order; one that falls
/// more than [`DriverConfig::event_capacity`](super::DriverConfig::event_capacity) events
/// behind misses the oldest ones, and [`NodeEvents::missed`] counts them. The stream ends
/// (`None`) once the driver has stopped and every event was read.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::transport::Transport;
/// use chorus_memory::MemoryNetwork;
/// use chorus_node::driver::{spawn, DriverConfig, NodeEvent};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let network = MemoryNetwork::new();
/// let identity = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32])?);
/// let mut alice = spawn(identity, network.transport(), DriverConfig::default())?;
/// let bob = network.transport();
/// assert_eq!(alice.events.next().await, Some(NodeEvent::PeerConnected { peer: bob.local_peer() }));
/// alice.handle.shutdown().await?;
/// assert_eq!(alice.events.next().await, None);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct NodeEvents {
    receiver: broadcast::Receiver<NodeEvent>,
    missed: u64,
}

impl NodeEvents {
    pub(crate) fn new(receiver: broadcast::Receiver<NodeEvent>) -> Self {
        NodeEvents {
            receiver,
            missed: 0,
        }
    }

    /// The next event; `None` once the driver stopped and every event was read.
    pub async fn next(&mut self) -> Option<NodeEvent> {
        loop {
            match self.receiver.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    self.missed = self.missed.saturating_add(skipped);
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_next(&mut self) -> Option<NodeEvent> {
        loop {
            match self.receiver.try_recv() {
                Ok(event) => return Some(event),
                Err(broadcast::error::TryRecvError::Lagged(skipped)) => {
                    self.missed = self.missed.saturating_add(skipped);
                }
                Err(_) => return None,
            }
        }
    }

    /// How many events this subscriber missed because it fell behind.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}
