//! What a node driver and a network transport say to each other.
//!
//! [`Node`](crate::Node) speaks in [`Transmit`](crate::node::Transmit)s (to a signer key)
//! and discovery [`Outbound`]s (to a topic, a DHT key or a peer). A driver resolves signer
//! keys to peers and hands the transport [`Outgoing`] items; the transport hands back
//! [`Incoming`] items, which the driver feeds to [`Node::handle_message`](crate::Node::handle_message).
//!
//! [`Transport`] is poll-based, like a `Stream`, so this crate needs no async runtime:
//! a tokio driver waits on it with `std::future::poll_fn`, a test calls it by hand.
//! Transports are best effort: a message that cannot be delivered is dropped (and may be
//! reported as [`Incoming::Undeliverable`]); the protocol's timers and failover deal
//! with the loss.

use std::fmt;
use std::task::{Context, Poll};

use crate::discovery::{Destination, Outbound};
use crate::node::PeerId;
use crate::wire::Channel;

/// Something a driver asks its transport to send or do.
///
/// ```
/// use chorus_core::discovery::{Destination, Outbound, REQUEST_TOPIC};
/// use chorus_core::transport::Outgoing;
///
/// let outbound = Outbound { destination: Destination::Topic(REQUEST_TOPIC.into()), bytes: vec![1] };
/// let outgoing = Outgoing::from(outbound);
/// assert_eq!(outgoing, Outgoing::Publish { topic: REQUEST_TOPIC.into(), bytes: vec![1] });
/// assert_eq!(outgoing.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outgoing {
    /// Bytes for one peer (a request-response exchange, a QUIC stream).
    Direct {
        /// The recipient.
        to: PeerId,
        /// The channel, whose size limit the bytes respect.
        channel: Channel,
        /// The encoded message.
        bytes: Vec<u8>,
    },
    /// Bytes for every subscriber of a topic (GossipSub; a closed group sends them to every
    /// known peer). At most [`Channel::Gossip`]'s limit.
    Publish {
        /// The topic.
        topic: String,
        /// The encoded message.
        bytes: Vec<u8>,
    },
    /// A signed record to store in the DHT under `key` (a closed group sends it to every
    /// known peer). At most [`Channel::Gossip`]'s limit.
    PutRecord {
        /// The DHT key.
        key: [u8; 32],
        /// The record.
        bytes: Vec<u8>,
    },
    /// Look up the record stored under `key`; if found it arrives as an
    /// [`Incoming::Message`] on [`Channel::Gossip`] from the peer that published it.
    GetRecord {
        /// The DHT key.
        key: [u8; 32],
    },
    /// Receive what is published on `topic` from now on.
    Subscribe {
        /// The topic.
        topic: String,
    },
}

impl Outgoing {
    /// The number of payload bytes this item carries (0 for lookups and subscriptions).
    pub fn len(&self) -> usize {
        match self {
            Outgoing::Direct { bytes, .. }
            | Outgoing::Publish { bytes, .. }
            | Outgoing::PutRecord { bytes, .. } => bytes.len(),
            Outgoing::GetRecord { .. } | Outgoing::Subscribe { .. } => 0,
        }
    }

    /// Whether this item carries no payload bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Outbound> for Outgoing {
    /// A discovery record goes where its destination says; records to one peer travel on
    /// the direct channel.
    fn from(outbound: Outbound) -> Self {
        match outbound.destination {
            Destination::Topic(topic) => Outgoing::Publish {
                topic,
                bytes: outbound.bytes,
            },
            Destination::DhtRecord { key } => Outgoing::PutRecord {
                key,
                bytes: outbound.bytes,
            },
            Destination::Peer(to) => Outgoing::Direct {
                to,
                channel: Channel::Direct,
                bytes: outbound.bytes,
            },
        }
    }
}

/// Something a transport hands to its driver.
///
/// ```
/// use chorus_core::node::PeerId;
/// use chorus_core::transport::Incoming;
/// use chorus_core::wire::Channel;
///
/// let incoming = Incoming::Message { from: PeerId::new([7]), channel: Channel::Direct, bytes: vec![0] };
/// assert_eq!(incoming.peer(), &PeerId::new([7]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incoming {
    /// Bytes from a peer, already bounded by the channel's size limit.
    Message {
        /// The authenticated transport peer that sent (or, for a topic or the DHT,
        /// authored) the bytes.
        from: PeerId,
        /// The channel they came on.
        channel: Channel,
        /// The bytes, not yet decoded.
        bytes: Vec<u8>,
    },
    /// A connection to a peer is up.
    Connected {
        /// The peer.
        peer: PeerId,
    },
    /// The last connection to a peer is down.
    Disconnected {
        /// The peer.
        peer: PeerId,
    },
    /// Bytes for a peer could not be delivered.
    Undeliverable {
        /// The peer.
        peer: PeerId,
        /// Why, for the logs.
        reason: String,
    },
}

impl Incoming {
    /// The peer this item is about.
    pub fn peer(&self) -> &PeerId {
        match self {
            Incoming::Message { from: peer, .. }
            | Incoming::Connected { peer }
            | Incoming::Disconnected { peer }
            | Incoming::Undeliverable { peer, .. } => peer,
        }
    }
}

impl fmt::Display for Incoming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Incoming::Message {
                from,
                channel,
                bytes,
            } => write!(f, "{} bytes from {from} on {channel}", bytes.len()),
            Incoming::Connected { peer } => write!(f, "connected to {peer}"),
            Incoming::Disconnected { peer } => write!(f, "disconnected from {peer}"),
            Incoming::Undeliverable { peer, reason } => {
                write!(f, "could not deliver to {peer}: {reason}")
            }
        }
    }
}

/// A network (or in-process) transport that a driver owns next to one [`Node`](crate::Node).
///
/// `send` never blocks: the transport queues or drops. `poll_incoming` behaves like
/// `Stream::poll_next`: `Poll::Pending` registers the waker in `cx`, `Ready(None)` means
/// the transport has shut down for good.
///
/// ```
/// use std::collections::VecDeque;
/// use std::task::{Context, Poll};
/// use chorus_core::node::PeerId;
/// use chorus_core::transport::{Incoming, Outgoing, Transport};
///
/// /// A transport that talks only to itself.
/// struct Loopback(VecDeque<Incoming>);
///
/// impl Transport for Loopback {
///     fn local_peer(&self) -> PeerId {
///         PeerId::new([1])
///     }
///     fn send(&mut self, outgoing: Outgoing) {
///         if let Outgoing::Direct { channel, bytes, .. } = outgoing {
///             self.0.push_back(Incoming::Message { from: self.local_peer(), channel, bytes });
///         }
///     }
///     fn poll_incoming(&mut self, _cx: &mut Context<'_>) -> Poll<Option<Incoming>> {
///         match self.0.pop_front() {
///             Some(incoming) => Poll::Ready(Some(incoming)),
///             None => Poll::Pending, // a real transport registers the waker here
///         }
///     }
/// }
///
/// let mut transport = Loopback(VecDeque::new());
/// transport.send(Outgoing::Direct {
///     to: PeerId::new([1]),
///     channel: chorus_core::wire::Channel::Direct,
///     bytes: vec![42],
/// });
/// let mut cx = Context::from_waker(std::task::Waker::noop());
/// assert!(matches!(transport.poll_incoming(&mut cx), Poll::Ready(Some(Incoming::Message { .. }))));
/// ```
pub trait Transport: Send + 'static {
    /// This transport's own peer id, which the node advertises and joins from.
    fn local_peer(&self) -> PeerId;

    /// Queues `outgoing` for delivery, or drops it if it cannot be queued.
    fn send(&mut self, outgoing: Outgoing);

    /// The next incoming item, if one is ready.
    fn poll_incoming(&mut self, cx: &mut Context<'_>) -> Poll<Option<Incoming>>;
}
