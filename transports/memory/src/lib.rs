//! In-process transport for Chorus nodes: many nodes in one process, for tests, examples
//! and the `chorus demo` command.
//!
//! A [`MemoryNetwork`] is a shared hub (clone it freely); each
//! [`MemoryNetwork::transport`] call plugs in one [`MemoryTransport`] with its own
//! [`PeerId`](chorus_core::node::PeerId). The transports implement
//! [`chorus_core::transport::Transport`] with the destination semantics of the network
//! transports:
//!
//! - [`Outgoing::Direct`](chorus_core::transport::Outgoing::Direct) reaches one peer (a
//!   peer that is not plugged in is reported back as
//!   [`Incoming::Undeliverable`](chorus_core::transport::Incoming::Undeliverable));
//! - [`Outgoing::Publish`](chorus_core::transport::Outgoing::Publish) reaches every
//!   subscriber of the topic except its author, from the author, on the gossip channel;
//! - [`Outgoing::PutRecord`](chorus_core::transport::Outgoing::PutRecord) stores the record
//!   in the hub (the latest one per key wins) without delivering it, and
//!   [`Outgoing::GetRecord`](chorus_core::transport::Outgoing::GetRecord) hands the stored
//!   record back to the asker as a gossip message from the peer that stored it;
//! - every message above its channel's
//!   [`max_message_len`](chorus_core::wire::Channel::max_message_len) is dropped and
//!   counted ([`MemoryStats::dropped_oversized`]); every peer's inbox is bounded
//!   ([`MemoryConfig::queue_capacity`]) and what does not fit is dropped and counted;
//! - a transport that is dropped, or killed with [`MemoryNetwork::kill`], leaves the
//!   network: the others receive
//!   [`Incoming::Disconnected`](chorus_core::transport::Incoming::Disconnected), and the
//!   killed transport's [`poll_incoming`](chorus_core::transport::Transport::poll_incoming)
//!   ends with `Ready(None)`. A new transport is announced to every other with
//!   [`Incoming::Connected`](chorus_core::transport::Incoming::Connected), and learns of
//!   them the same way.
//!
//! Delivery to one inbox keeps the order in which messages were sent.
//!
//! ```
//! use std::task::{Context, Poll, Waker};
//! use chorus_core::transport::{Incoming, Outgoing, Transport};
//! use chorus_memory::MemoryNetwork;
//!
//! let network = MemoryNetwork::new();
//! let mut alice = network.transport();
//! let mut bob = network.transport();
//! bob.send(Outgoing::Subscribe { topic: "news".into() });
//! alice.send(Outgoing::Publish { topic: "news".into(), bytes: b"hello".to_vec() });
//!
//! let mut cx = Context::from_waker(Waker::noop());
//! let mut received = Vec::new();
//! while let Poll::Ready(Some(incoming)) = bob.poll_incoming(&mut cx) {
//!     received.push(incoming);
//! }
//! assert_eq!(received.len(), 2); // alice connected, then her publication
//! assert!(matches!(&received[1], Incoming::Message { from, bytes, .. }
//!     if *from == alice.local_peer() && bytes == b"hello"));
//! ```

mod network;
mod transport;

pub use network::MemoryNetwork;
pub use transport::MemoryTransport;

/// Bounds of a [`MemoryNetwork`].
///
/// ```
/// use chorus_memory::{MemoryConfig, MemoryNetwork};
///
/// let config = MemoryConfig { queue_capacity: 16, ..MemoryConfig::default() };
/// let network = MemoryNetwork::with_config(config);
/// assert_eq!(network.config().queue_capacity, 16);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryConfig {
    /// How many undelivered items each peer's inbox holds (default 4,096); past that,
    /// new items for that peer are dropped.
    pub queue_capacity: usize,
    /// How many records the hub stores (default 10,000); a record under a new key is
    /// refused past that, one under a stored key replaces it.
    pub max_records: usize,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            queue_capacity: 4_096,
            max_records: 10_000,
        }
    }
}

/// What a [`MemoryNetwork`] did with the items it was given, since it was created.
///
/// ```
/// use chorus_core::transport::{Outgoing, Transport};
/// use chorus_core::wire::{Channel, MAX_DIRECT_MESSAGE};
/// use chorus_memory::MemoryNetwork;
///
/// let network = MemoryNetwork::new();
/// let mut alice = network.transport();
/// let bob = network.transport();
/// let too_big = vec![0; MAX_DIRECT_MESSAGE + 1];
/// alice.send(Outgoing::Direct { to: bob.local_peer(), channel: Channel::Direct, bytes: too_big });
/// assert_eq!(network.stats().dropped_oversized, 1);
/// assert_eq!(network.stats().delivered, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Messages put in a peer's inbox (one per recipient of a publication).
    pub delivered: u64,
    /// Messages dropped because they exceeded their channel's size limit.
    pub dropped_oversized: u64,
    /// Items dropped because the recipient's inbox was full.
    pub dropped_queue_full: u64,
    /// Direct messages to a peer that is not on the network.
    pub undeliverable: u64,
    /// Records stored (or replaced).
    pub records_stored: u64,
    /// Records refused because the store was full.
    pub records_refused: u64,
}

/// Why a [`MemoryNetwork`] refused a request.
///
/// ```
/// use chorus_core::node::PeerId;
/// use chorus_memory::{MemoryError, MemoryNetwork};
///
/// let network = MemoryNetwork::new();
/// let first = network.transport_with_peer(PeerId::new(*b"alice"));
/// assert!(first.is_ok());
/// let second = network.transport_with_peer(PeerId::new(*b"alice"));
/// assert!(matches!(second, Err(MemoryError::PeerIdTaken { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MemoryError {
    /// Another transport on the network already has this peer id.
    #[error("peer id {peer} is already on the network")]
    PeerIdTaken {
        /// The peer id.
        peer: chorus_core::node::PeerId,
    },
    /// The peer id is empty or longer than
    /// [`MAX_PEER_ID_LEN`](chorus_core::discovery::MAX_PEER_ID_LEN) bytes.
    #[error("a peer id must be 1 to {max} bytes long, got {got}")]
    PeerIdLength {
        /// The longest allowed.
        max: usize,
        /// The length given.
        got: usize,
    },
}
