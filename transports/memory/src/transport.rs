//! One node's end of a [`MemoryNetwork`].

use std::task::{Context, Poll};

use chorus_core::node::PeerId;
use chorus_core::transport::{Incoming, Outgoing, Transport};

use crate::network::MemoryNetwork;

/// One node's connection to a [`MemoryNetwork`]; dropping it takes the node off the
/// network.
///
/// ```
/// use std::task::{Context, Poll, Waker};
/// use chorus_core::transport::{Incoming, Outgoing, Transport};
/// use chorus_core::wire::Channel;
/// use chorus_memory::MemoryNetwork;
///
/// let network = MemoryNetwork::new();
/// let mut alice = network.transport();
/// let mut bob = network.transport();
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(matches!(bob.poll_incoming(&mut cx), Poll::Ready(Some(Incoming::Connected { .. }))));
///
/// alice.send(Outgoing::Direct { to: bob.local_peer(), channel: Channel::Direct, bytes: vec![7] });
/// assert_eq!(
///     bob.poll_incoming(&mut cx),
///     Poll::Ready(Some(Incoming::Message { from: alice.local_peer(), channel: Channel::Direct, bytes: vec![7] }))
/// );
/// assert_eq!(bob.poll_incoming(&mut cx), Poll::Pending);
/// ```
#[derive(Debug)]
pub struct MemoryTransport {
    network: MemoryNetwork,
    peer: PeerId,
    /// Tells this transport apart from a later one under the same peer id.
    incarnation: u64,
}

impl MemoryTransport {
    pub(crate) fn new(network: MemoryNetwork, peer: PeerId, incarnation: u64) -> Self {
        MemoryTransport {
            network,
            peer,
            incarnation,
        }
    }

    /// The network this transport is plugged into.
    pub fn network(&self) -> &MemoryNetwork {
        &self.network
    }

    /// Whether this transport is still on its network (it was not killed).
    pub fn is_connected(&self) -> bool {
        self.network.is_live(&self.peer, self.incarnation)
    }
}

impl Transport for MemoryTransport {
    fn local_peer(&self) -> PeerId {
        self.peer.clone()
    }

    fn send(&mut self, outgoing: Outgoing) {
        self.network.submit(&self.peer, self.incarnation, outgoing);
    }

    fn poll_incoming(&mut self, cx: &mut Context<'_>) -> Poll<Option<Incoming>> {
        match self.network.take(&self.peer, self.incarnation, cx.waker()) {
            None => Poll::Ready(None),
            Some(Some(incoming)) => Poll::Ready(Some(incoming)),
            Some(None) => Poll::Pending,
        }
    }
}

impl Drop for MemoryTransport {
    fn drop(&mut self) {
        self.network.leave(&self.peer, self.incarnation);
    }
}
