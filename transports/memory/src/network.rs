//! The shared hub: every peer's inbox, the topic subscriptions and the record store.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use chorus_core::discovery::MAX_PEER_ID_LEN;
use chorus_core::node::PeerId;
use chorus_core::transport::{Incoming, Outgoing};
use chorus_core::wire::Channel;

use crate::transport::MemoryTransport;
use crate::{MemoryConfig, MemoryError, MemoryStats};

/// An in-process network that any number of [`MemoryTransport`]s plug into.
///
/// Cloning it gives another handle to the same network. The crate documentation lists
/// what each kind of item does.
///
/// ```
/// use chorus_core::transport::Transport;
/// use chorus_memory::MemoryNetwork;
///
/// let network = MemoryNetwork::new();
/// let alice = network.transport();
/// let bob = network.clone().transport();
/// assert_ne!(alice.local_peer(), bob.local_peer());
/// assert_eq!(network.peers().len(), 2);
/// drop(bob);
/// assert_eq!(network.peers(), vec![alice.local_peer()]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryNetwork {
    hub: Arc<Mutex<Hub>>,
}

impl MemoryNetwork {
    /// An empty network with the default bounds.
    pub fn new() -> Self {
        MemoryNetwork::default()
    }

    /// An empty network with the given bounds.
    pub fn with_config(config: MemoryConfig) -> Self {
        MemoryNetwork {
            hub: Arc::new(Mutex::new(Hub::new(config))),
        }
    }

    /// The network's bounds.
    pub fn config(&self) -> MemoryConfig {
        self.lock().config
    }

    /// Plugs in a new transport with a peer id no other transport of this network had
    /// (`memory-1`, `memory-2`, ... as bytes).
    pub fn transport(&self) -> MemoryTransport {
        let peer = {
            let mut hub = self.lock();
            loop {
                hub.next_peer = hub.next_peer.saturating_add(1);
                let peer = PeerId::new(format!("memory-{}", hub.next_peer));
                if !hub.peers.contains_key(&peer) {
                    let incarnation = hub.join(peer.clone());
                    break (peer, incarnation);
                }
            }
        };
        MemoryTransport::new(self.clone(), peer.0, peer.1)
    }

    /// Plugs in a new transport under a chosen peer id (for instance
    /// [`PeerId::from_key`] of the node's key).
    ///
    /// # Errors
    ///
    /// [`MemoryError::PeerIdTaken`] when a transport with that id is on the network,
    /// [`MemoryError::PeerIdLength`] for an empty or too long id.
    pub fn transport_with_peer(&self, peer: PeerId) -> Result<MemoryTransport, MemoryError> {
        let length = peer.as_bytes().len();
        if length == 0 || length > MAX_PEER_ID_LEN {
            return Err(MemoryError::PeerIdLength {
                max: MAX_PEER_ID_LEN,
                got: length,
            });
        }
        let incarnation = {
            let mut hub = self.lock();
            if hub.peers.contains_key(&peer) {
                return Err(MemoryError::PeerIdTaken { peer });
            }
            hub.join(peer.clone())
        };
        Ok(MemoryTransport::new(self.clone(), peer, incarnation))
    }

    /// Takes `peer` off the network as if its process died: the others are told it
    /// disconnected, what it sends afterwards is dropped, and its transport's
    /// `poll_incoming` returns `Ready(None)`. False if it was not on the network.
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use chorus_core::transport::{Incoming, Transport};
    /// use chorus_memory::MemoryNetwork;
    ///
    /// let network = MemoryNetwork::new();
    /// let mut alice = network.transport();
    /// let mut bob = network.transport();
    /// assert!(network.kill(&bob.local_peer()));
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(bob.poll_incoming(&mut cx), Poll::Ready(None));
    /// let events: Vec<Incoming> = std::iter::from_fn(|| match alice.poll_incoming(&mut cx) {
    ///     Poll::Ready(incoming) => incoming,
    ///     Poll::Pending => None,
    /// })
    /// .collect();
    /// assert_eq!(events.last(), Some(&Incoming::Disconnected { peer: bob.local_peer() }));
    /// assert!(!network.kill(&bob.local_peer()));
    /// ```
    pub fn kill(&self, peer: &PeerId) -> bool {
        self.lock().leave(peer, None)
    }

    /// The peers on the network, in ascending order of their ids.
    pub fn peers(&self) -> Vec<PeerId> {
        self.lock().peers.keys().cloned().collect()
    }

    /// Whether `peer` is on the network.
    pub fn contains(&self, peer: &PeerId) -> bool {
        self.lock().peers.contains_key(peer)
    }

    /// Counters of what the network delivered and dropped.
    pub fn stats(&self) -> MemoryStats {
        self.lock().stats
    }

    /// The record stored under `key` and the peer that stored it.
    pub fn record(&self, key: &[u8; 32]) -> Option<(PeerId, Vec<u8>)> {
        self.lock()
            .records
            .get(key)
            .map(|record| (record.publisher.clone(), record.bytes.clone()))
    }

    /// Whether `peer`'s transport number `incarnation` is on the network.
    pub(crate) fn is_live(&self, peer: &PeerId, incarnation: u64) -> bool {
        self.lock().mailbox(peer, incarnation).is_some()
    }

    /// Carries out `outgoing` for `from`'s transport number `incarnation`.
    pub(crate) fn submit(&self, from: &PeerId, incarnation: u64, outgoing: Outgoing) {
        let mut hub = self.lock();
        if hub.mailbox(from, incarnation).is_none() {
            tracing::trace!(%from, "dropped an item from a peer that left");
            return;
        }
        hub.submit(from, outgoing);
    }

    /// The next item in the inbox of `peer`'s transport number `incarnation`, `Some(None)`
    /// when the inbox is empty (the waker is registered), `None` when that transport is no
    /// longer on the network.
    pub(crate) fn take(
        &self,
        peer: &PeerId,
        incarnation: u64,
        waker: &Waker,
    ) -> Option<Option<Incoming>> {
        let mut hub = self.lock();
        let mailbox = hub.mailbox(peer, incarnation)?;
        match mailbox.queue.pop_front() {
            Some(incoming) => Some(Some(incoming)),
            None => {
                match &mut mailbox.waker {
                    Some(registered) if registered.will_wake(waker) => {}
                    slot => *slot = Some(waker.clone()),
                }
                Some(None)
            }
        }
    }

    /// Takes `peer`'s transport number `incarnation` off the network (it was dropped).
    pub(crate) fn leave(&self, peer: &PeerId, incarnation: u64) {
        self.lock().leave(peer, Some(incarnation));
    }

    /// The hub, even if a thread panicked while holding it: every update of the hub
    /// leaves it consistent, so a poisoned lock guards nothing half-done.
    fn lock(&self) -> MutexGuard<'_, Hub> {
        self.hub.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One peer's inbox.
#[derive(Debug, Default)]
struct Mailbox {
    /// Which transport under this peer id owns the inbox: a killed transport that is still
    /// around must not touch the inbox of a new transport under the same id.
    incarnation: u64,
    queue: VecDeque<Incoming>,
    /// The task waiting on an empty inbox.
    waker: Option<Waker>,
    /// The topics the peer subscribed to (to unsubscribe it when it leaves).
    topics: BTreeSet<String>,
}

/// A stored record.
#[derive(Debug)]
struct Record {
    publisher: PeerId,
    bytes: Vec<u8>,
}

#[derive(Debug)]
struct Hub {
    config: MemoryConfig,
    next_peer: u64,
    next_incarnation: u64,
    peers: BTreeMap<PeerId, Mailbox>,
    subscribers: BTreeMap<String, BTreeSet<PeerId>>,
    records: BTreeMap<[u8; 32], Record>,
    stats: MemoryStats,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(MemoryConfig::default())
    }
}

impl Hub {
    fn new(config: MemoryConfig) -> Self {
        Hub {
            config,
            next_peer: 0,
            next_incarnation: 0,
            peers: BTreeMap::new(),
            subscribers: BTreeMap::new(),
            records: BTreeMap::new(),
            stats: MemoryStats::default(),
        }
    }

    /// Adds `peer` (whose id is free) and introduces it to everyone; returns the
    /// incarnation of its transport.
    fn join(&mut self, peer: PeerId) -> u64 {
        self.next_incarnation = self.next_incarnation.saturating_add(1);
        let incarnation = self.next_incarnation;
        let others: Vec<PeerId> = self.peers.keys().cloned().collect();
        let mailbox = Mailbox {
            incarnation,
            ..Mailbox::default()
        };
        self.peers.insert(peer.clone(), mailbox);
        for other in others {
            self.push(&other, Incoming::Connected { peer: peer.clone() });
            self.push(&peer, Incoming::Connected { peer: other });
        }
        tracing::debug!(%peer, "memory peer joined");
        incarnation
    }

    /// The inbox of `peer`'s transport number `incarnation`, if it is on the network.
    fn mailbox(&mut self, peer: &PeerId, incarnation: u64) -> Option<&mut Mailbox> {
        self.peers
            .get_mut(peer)
            .filter(|mailbox| mailbox.incarnation == incarnation)
    }

    /// Removes `peer` (only its transport number `incarnation`, if given), tells everyone,
    /// and wakes its own task so it sees the end.
    fn leave(&mut self, peer: &PeerId, incarnation: Option<u64>) -> bool {
        let owned = self.peers.get(peer).is_some_and(|mailbox| {
            incarnation.is_none_or(|incarnation| mailbox.incarnation == incarnation)
        });
        let Some(mailbox) = owned.then(|| self.peers.remove(peer)).flatten() else {
            return false;
        };
        for topic in &mailbox.topics {
            if let Some(subscribers) = self.subscribers.get_mut(topic) {
                subscribers.remove(peer);
                if subscribers.is_empty() {
                    self.subscribers.remove(topic);
                }
            }
        }
        if let Some(waker) = mailbox.waker {
            waker.wake();
        }
        let others: Vec<PeerId> = self.peers.keys().cloned().collect();
        for other in others {
            self.push(&other, Incoming::Disconnected { peer: peer.clone() });
        }
        tracing::debug!(%peer, "memory peer left");
        true
    }

    fn submit(&mut self, from: &PeerId, outgoing: Outgoing) {
        match outgoing {
            Outgoing::Direct { to, channel, bytes } => self.direct(from, to, channel, bytes),
            Outgoing::Publish { topic, bytes } => self.publish(from, &topic, bytes),
            Outgoing::PutRecord { key, bytes } => self.put_record(from, key, bytes),
            Outgoing::GetRecord { key } => self.get_record(from, &key),
            Outgoing::Subscribe { topic } => self.subscribe(from, topic),
            // `Outgoing` may grow; an item this network does not know is dropped.
            _ => tracing::warn!(%from, "dropped an item the memory network does not handle"),
        }
    }

    fn direct(&mut self, from: &PeerId, to: PeerId, channel: Channel, bytes: Vec<u8>) {
        if !self.fits(channel, bytes.len()) {
            return;
        }
        if !self.peers.contains_key(&to) {
            self.stats.undeliverable = self.stats.undeliverable.saturating_add(1);
            let reason = "the peer is not on the memory network".to_owned();
            self.push(from, Incoming::Undeliverable { peer: to, reason });
            return;
        }
        let message = Incoming::Message {
            from: from.clone(),
            channel,
            bytes,
        };
        self.deliver(&to, message);
    }

    fn publish(&mut self, from: &PeerId, topic: &str, bytes: Vec<u8>) {
        if !self.fits(Channel::Gossip, bytes.len()) {
            return;
        }
        let recipients: Vec<PeerId> = self
            .subscribers
            .get(topic)
            .map(|subscribers| {
                subscribers
                    .iter()
                    .filter(|peer| *peer != from)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for to in recipients {
            let message = Incoming::Message {
                from: from.clone(),
                channel: Channel::Gossip,
                bytes: bytes.clone(),
            };
            self.deliver(&to, message);
        }
    }

    fn put_record(&mut self, from: &PeerId, key: [u8; 32], bytes: Vec<u8>) {
        if !self.fits(Channel::Gossip, bytes.len()) {
            return;
        }
        if !self.records.contains_key(&key) && self.records.len() >= self.config.max_records {
            self.stats.records_refused = self.stats.records_refused.saturating_add(1);
            tracing::warn!(%from, "record store full; record refused");
            return;
        }
        let publisher = from.clone();
        self.records.insert(key, Record { publisher, bytes });
        self.stats.records_stored = self.stats.records_stored.saturating_add(1);
    }

    fn get_record(&mut self, from: &PeerId, key: &[u8; 32]) {
        let Some(record) = self.records.get(key) else {
            return;
        };
        let message = Incoming::Message {
            from: record.publisher.clone(),
            channel: Channel::Gossip,
            bytes: record.bytes.clone(),
        };
        self.deliver(from, message);
    }

    fn subscribe(&mut self, from: &PeerId, topic: String) {
        if let Some(mailbox) = self.peers.get_mut(from) {
            mailbox.topics.insert(topic.clone());
            self.subscribers
                .entry(topic)
                .or_default()
                .insert(from.clone());
        }
    }

    /// Whether `len` bytes fit `channel`; counts and logs the drop when they do not.
    fn fits(&mut self, channel: Channel, len: usize) -> bool {
        let limit = channel.max_message_len();
        if len <= limit {
            return true;
        }
        self.stats.dropped_oversized = self.stats.dropped_oversized.saturating_add(1);
        tracing::warn!(%channel, len, limit, "dropped an oversized message");
        false
    }

    /// Puts a message in `to`'s inbox and counts it.
    fn deliver(&mut self, to: &PeerId, message: Incoming) {
        if self.push(to, message) {
            self.stats.delivered = self.stats.delivered.saturating_add(1);
        }
    }

    /// Puts `incoming` in `to`'s inbox if there is room, and wakes its task.
    fn push(&mut self, to: &PeerId, incoming: Incoming) -> bool {
        let capacity = self.config.queue_capacity;
        let Some(mailbox) = self.peers.get_mut(to) else {
            return false;
        };
        if mailbox.queue.len() >= capacity {
            self.stats.dropped_queue_full = self.stats.dropped_queue_full.saturating_add(1);
            tracing::warn!(peer = %to, capacity, "inbox full; dropped an item");
            return false;
        }
        mailbox.queue.push_back(incoming);
        if let Some(waker) = mailbox.waker.take() {
            waker.wake();
        }
        true
    }
}
