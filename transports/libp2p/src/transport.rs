//! [`Libp2pTransport`]: one libp2p swarm, driven from `poll_incoming`.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::future::poll_fn;
use std::task::{Context, Poll, Waker};

use chorus_core::node::PeerId;
use chorus_core::transport::{Incoming, Outgoing, Transport};
use chorus_core::wire::Channel;
use futures::StreamExt;
use libp2p::core::transport::ListenerId;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{gossipsub, kad, noise, tcp, yamux, Multiaddr, StreamProtocol, Swarm, SwarmBuilder};

use crate::behaviour::Behaviour;
use crate::codec::DirectCodec;
use crate::config::Libp2pConfig;
use crate::direct::Parking;
use crate::error::Libp2pError;
use crate::stats::Libp2pStats;
use crate::{chorus_peer_id, Libp2pPeerId};

/// Swarm events handled in one `poll_incoming` call before it yields to the runtime, so
/// that a storm of events that produce nothing for the driver cannot starve other tasks.
const EVENT_BUDGET: usize = 256;

/// DHT lookups in flight at once.
const MAX_RECORD_LOOKUPS: usize = 64;

/// A Chorus transport over libp2p: TCP and QUIC, Noise, Yamux, GossipSub topics, a
/// Kademlia DHT of records, request-response for direct messages, and identify.
///
/// The swarm runs inside [`Transport::poll_incoming`]: whoever polls the transport (a
/// driver, a test) drives the network, so no task is spawned. [`Transport::send`] acts on
/// the protocols at once and wakes the last poller.
///
/// Peers are named by their libp2p [`PeerId`](Libp2pPeerId) bytes; see
/// [`chorus_peer_id`] and [`libp2p_peer_id`].
///
/// ```no_run
/// use std::future::poll_fn;
/// use chorus_core::transport::{Incoming, Outgoing, Transport};
/// use chorus_core::wire::Channel;
/// use chorus_libp2p::{Libp2pConfig, Libp2pTransport};
///
/// # async fn run() -> Result<(), chorus_libp2p::Libp2pError> {
/// let mut alice = Libp2pTransport::start(Libp2pConfig::default()).await?;
/// let bootstrap = alice.listen_addrs();
/// let mut bob = Libp2pTransport::start(Libp2pConfig { bootstrap, ..Libp2pConfig::default() }).await?;
/// bob.send(Outgoing::Direct { to: alice.local_peer(), channel: Channel::Direct, bytes: b"hi".to_vec() });
/// // Each swarm runs while its transport is polled; a driver polls each in its own task.
/// tokio::spawn(async move { while let Some(_) = poll_fn(|cx| bob.poll_incoming(cx)).await {} });
/// while let Some(item) = poll_fn(|cx| alice.poll_incoming(cx)).await {
///     if let Incoming::Message { bytes, .. } = item {
///         assert_eq!(bytes, b"hi");
///         break;
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Libp2pTransport {
    pub(crate) swarm: Swarm<Behaviour>,
    pub(crate) local: PeerId,
    pub(crate) kad_protocol: StreamProtocol,
    pub(crate) backlog: VecDeque<Incoming>,
    pub(crate) max_backlog: usize,
    /// Direct messages sent to each peer and not yet acknowledged or failed.
    pub(crate) pending_direct: BTreeMap<Libp2pPeerId, usize>,
    pub(crate) max_pending_direct: usize,
    /// DHT lookups whose first record has not been delivered yet.
    pub(crate) record_lookups: HashSet<kad::QueryId>,
    pub(crate) listeners: Vec<Listener>,
    /// Direct messages for peers that cannot be dialed yet.
    pub(crate) parking: Parking,
    pub(crate) stats: Libp2pStats,
    /// Shares the counts of requests refused while being read.
    codec: DirectCodec,
    waker: Option<Waker>,
}

/// A listener asked for at start and whether it has reported an address.
pub(crate) struct Listener {
    pub(crate) id: ListenerId,
    pub(crate) address: Multiaddr,
    pub(crate) bound: bool,
    pub(crate) failure: Option<String>,
}

impl Libp2pTransport {
    /// Builds the swarm, starts listening, waits until every listener knows its address,
    /// then dials the bootstrap peers (and adds them to the DHT).
    ///
    /// Needs a tokio runtime.
    ///
    /// ```no_run
    /// use chorus_libp2p::{Libp2pConfig, Libp2pTransport};
    ///
    /// # async fn run() -> Result<(), chorus_libp2p::Libp2pError> {
    /// let node = Libp2pTransport::start(Libp2pConfig::default()).await?;
    /// println!("listening on {:?}", node.listen_addrs());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Libp2pError::InvalidProtocol`] for a bad Kademlia protocol name,
    /// [`Libp2pError::Build`] if the swarm cannot be built, [`Libp2pError::Listen`] if an
    /// address cannot be listened on, [`Libp2pError::ListenTimeout`] if a listener does
    /// not report an address in time, [`Libp2pError::Dial`] if a bootstrap address cannot
    /// be dialed at all.
    pub async fn start(config: Libp2pConfig) -> Result<Self, Libp2pError> {
        let key = config
            .identity
            .clone()
            .unwrap_or_else(Keypair::generate_ed25519);
        let kad_protocol =
            StreamProtocol::try_from_owned(config.kad_protocol.clone()).map_err(|error| {
                Libp2pError::InvalidProtocol {
                    name: config.kad_protocol.clone(),
                    reason: error.to_string(),
                }
            })?;
        let codec = DirectCodec::default();
        let swarm = build_swarm(key, &config, codec.clone())?;
        let local = chorus_peer_id(swarm.local_peer_id());
        let mut transport = Libp2pTransport {
            swarm,
            local,
            kad_protocol,
            backlog: VecDeque::new(),
            max_backlog: config.max_buffered_incoming.max(1),
            pending_direct: BTreeMap::new(),
            max_pending_direct: config.max_pending_direct_per_peer.max(1),
            record_lookups: HashSet::new(),
            listeners: Vec::new(),
            parking: Parking::new(config.request_timeout),
            stats: Libp2pStats::default(),
            codec,
            waker: None,
        };
        for address in &config.listen {
            let id = transport
                .swarm
                .listen_on(address.clone())
                .map_err(|error| Libp2pError::Listen {
                    address: address.clone(),
                    reason: error.to_string(),
                })?;
            transport.listeners.push(Listener {
                id,
                address: address.clone(),
                bound: false,
                failure: None,
            });
        }
        tokio::time::timeout(config.listen_timeout, transport.wait_for_listeners())
            .await
            .map_err(|_| Libp2pError::ListenTimeout)??;
        for address in &config.bootstrap {
            transport.dial(address.clone())?;
        }
        if !config.bootstrap.is_empty() {
            // With no peer id in any bootstrap address there is nobody to ask yet; the
            // routing table then fills from identify as connections come up.
            let _ = transport.swarm.behaviour_mut().kademlia.bootstrap();
        }
        Ok(transport)
    }

    async fn wait_for_listeners(&mut self) -> Result<(), Libp2pError> {
        poll_fn(|cx| loop {
            if let Some(failed) = self.listeners.iter().find(|l| l.failure.is_some()) {
                return Poll::Ready(Err(Libp2pError::Listen {
                    address: failed.address.clone(),
                    reason: failed.failure.clone().unwrap_or_default(),
                }));
            }
            if self.listeners.iter().all(|listener| listener.bound) {
                return Poll::Ready(Ok(()));
            }
            match self.swarm.poll_next_unpin(cx) {
                Poll::Ready(Some(event)) => self.on_swarm_event(event),
                Poll::Ready(None) => return Poll::Ready(Err(Libp2pError::ListenTimeout)),
                Poll::Pending => return Poll::Pending,
            }
        })
        .await
    }

    /// The addresses the node listens on, each ending in `/p2p/<its peer id>`, ready to be
    /// given to other nodes as bootstrap addresses.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chorus_libp2p::Libp2pError> {
    /// let node = chorus_libp2p::Libp2pTransport::start(Default::default()).await?;
    /// assert!(node.listen_addrs()[0].to_string().contains("/p2p/"));
    /// # Ok(()) }
    /// ```
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        let local = *self.swarm.local_peer_id();
        self.swarm
            .listeners()
            .map(|address| address.clone().with_p2p(local).unwrap_or_else(|a| a))
            .collect()
    }

    /// The node's libp2p peer id.
    ///
    /// ```no_run
    /// use chorus_core::transport::Transport;
    ///
    /// # async fn run() -> Result<(), chorus_libp2p::Libp2pError> {
    /// let node = chorus_libp2p::Libp2pTransport::start(Default::default()).await?;
    /// assert_eq!(chorus_libp2p::chorus_peer_id(&node.peer_id()), node.local_peer());
    /// # Ok(()) }
    /// ```
    pub fn peer_id(&self) -> Libp2pPeerId {
        *self.swarm.local_peer_id()
    }

    /// Dials `addr`; an address ending in `/p2p/<peer id>` also teaches the DHT (and so
    /// later direct messages) where that peer is.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chorus_libp2p::Libp2pError> {
    /// let mut node = chorus_libp2p::Libp2pTransport::start(Default::default()).await?;
    /// node.dial("/ip4/127.0.0.1/tcp/4001".parse().unwrap())?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Libp2pError::Dial`] if the dial cannot even start (unsupported address, dialing
    /// itself, connection limits).
    pub fn dial(&mut self, addr: Multiaddr) -> Result<(), Libp2pError> {
        if let Some(peer) = peer_in_address(&addr) {
            self.swarm
                .behaviour_mut()
                .kademlia
                .add_address(&peer, addr.clone());
        }
        self.swarm
            .dial(addr.clone())
            .map_err(|error| Libp2pError::Dial {
                address: addr,
                reason: error.to_string(),
            })?;
        self.wake();
        Ok(())
    }

    /// Records that `peer` can be reached at `addr`, without dialing; a later direct
    /// message to `peer` dials it there.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chorus_libp2p::Libp2pError> {
    /// let mut node = chorus_libp2p::Libp2pTransport::start(Default::default()).await?;
    /// let other = chorus_libp2p::Libp2pPeerId::random();
    /// node.add_address(other, "/ip4/127.0.0.1/tcp/4001".parse().unwrap());
    /// # Ok(()) }
    /// ```
    pub fn add_address(&mut self, peer: Libp2pPeerId, addr: Multiaddr) {
        self.swarm.behaviour_mut().kademlia.add_address(&peer, addr);
    }

    /// The peers with at least one open connection.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chorus_libp2p::Libp2pError> {
    /// let node = chorus_libp2p::Libp2pTransport::start(Default::default()).await?;
    /// assert!(node.connected_peers().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn connected_peers(&self) -> Vec<Libp2pPeerId> {
        self.swarm.connected_peers().copied().collect()
    }

    /// The connected peers known to be subscribed to `topic`: a publication reaches at
    /// least these.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chorus_libp2p::Libp2pError> {
    /// let node = chorus_libp2p::Libp2pTransport::start(Default::default()).await?;
    /// assert!(node.topic_peers(chorus_core::discovery::REQUEST_TOPIC).is_empty());
    /// # Ok(()) }
    /// ```
    pub fn topic_peers(&self, topic: &str) -> Vec<Libp2pPeerId> {
        let hash = gossipsub::IdentTopic::new(topic).hash();
        self.swarm
            .behaviour()
            .gossipsub
            .all_peers()
            .filter(|(_, topics)| topics.contains(&&hash))
            .map(|(peer, _)| *peer)
            .collect()
    }

    /// What the node has delivered, refused and dropped so far.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), chorus_libp2p::Libp2pError> {
    /// let node = chorus_libp2p::Libp2pTransport::start(Default::default()).await?;
    /// assert_eq!(node.stats().delivered(), 0);
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> Libp2pStats {
        let refused = self.codec.refused();
        let mut stats = self.stats;
        stats.dropped_oversized += refused.oversized;
        stats.dropped_undecodable += refused.malformed;
        stats.inbound_failures += refused.broken;
        stats
    }

    /// Queues `item` for the driver, or drops and counts it if too many are waiting.
    pub(crate) fn push_incoming(&mut self, item: Incoming) -> bool {
        if self.backlog.len() >= self.max_backlog {
            self.stats.dropped_backlog += 1;
            return false;
        }
        self.backlog.push_back(item);
        self.stats.peak_backlog = self.stats.peak_backlog.max(self.backlog.len());
        true
    }

    fn publish(&mut self, topic: String, bytes: Vec<u8>) {
        if bytes.len() > Channel::Gossip.max_message_len() {
            self.stats.refused_outgoing += 1;
            return;
        }
        let topic = gossipsub::IdentTopic::new(topic);
        if let Err(error) = self.swarm.behaviour_mut().gossipsub.publish(topic, bytes) {
            tracing::debug!(%error, "publication refused");
            self.stats.failed_publish += 1;
        }
    }

    fn put_record(&mut self, key: [u8; 32], bytes: Vec<u8>) {
        if bytes.len() > Channel::Gossip.max_message_len() {
            self.stats.refused_outgoing += 1;
            return;
        }
        let record = kad::Record::new(kad::RecordKey::new(&key), bytes);
        let kademlia = &mut self.swarm.behaviour_mut().kademlia;
        if let Err(error) = kademlia.put_record(record, kad::Quorum::One) {
            tracing::debug!(%error, "record not stored");
            self.stats.refused_outgoing += 1;
        }
    }

    fn get_record(&mut self, key: [u8; 32]) {
        if self.record_lookups.len() >= MAX_RECORD_LOOKUPS {
            self.stats.refused_outgoing += 1;
            return;
        }
        let kademlia = &mut self.swarm.behaviour_mut().kademlia;
        let query = kademlia.get_record(kad::RecordKey::new(&key));
        self.record_lookups.insert(query);
    }

    fn subscribe(&mut self, topic: String) {
        let topic = gossipsub::IdentTopic::new(topic);
        if let Err(error) = self.swarm.behaviour_mut().gossipsub.subscribe(&topic) {
            tracing::debug!(%error, "subscription refused");
            self.stats.refused_outgoing += 1;
        }
    }

    fn wake(&mut self) {
        if let Some(waker) = &self.waker {
            waker.wake_by_ref();
        }
    }
}

impl Transport for Libp2pTransport {
    fn local_peer(&self) -> PeerId {
        self.local.clone()
    }

    fn send(&mut self, outgoing: Outgoing) {
        match outgoing {
            Outgoing::Direct { to, channel, bytes } => self.send_direct(to, channel, bytes),
            Outgoing::Publish { topic, bytes } => self.publish(topic, bytes),
            Outgoing::PutRecord { key, bytes } => self.put_record(key, bytes),
            Outgoing::GetRecord { key } => self.get_record(key),
            Outgoing::Subscribe { topic } => self.subscribe(topic),
            other => {
                tracing::debug!(?other, "outgoing item this transport does not know");
                self.stats.refused_outgoing += 1;
            }
        }
        // The protocols queue work that only the swarm's next poll sends.
        self.wake();
    }

    fn poll_incoming(&mut self, cx: &mut Context<'_>) -> Poll<Option<Incoming>> {
        if !self
            .waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            self.waker = Some(cx.waker().clone());
        }
        self.poll_parking(cx);
        for _ in 0..EVENT_BUDGET {
            if let Some(item) = self.backlog.pop_front() {
                return Poll::Ready(Some(item));
            }
            match self.swarm.poll_next_unpin(cx) {
                Poll::Ready(Some(event)) => self.on_swarm_event(event),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
        if let Some(item) = self.backlog.pop_front() {
            return Poll::Ready(Some(item));
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl std::fmt::Debug for Libp2pTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Libp2pTransport")
            .field("peer_id", self.swarm.local_peer_id())
            .field("backlog", &self.backlog.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn build_swarm(
    key: Keypair,
    config: &Libp2pConfig,
    codec: DirectCodec,
) -> Result<Swarm<Behaviour>, Libp2pError> {
    let behaviour = Behaviour::new(&key, config, codec)?;
    let mut yamux_config = yamux::Config::default();
    yamux_config.set_max_num_streams(config.max_streams_per_connection);
    let max_streams = u32::try_from(config.max_streams_per_connection).unwrap_or(u32::MAX);
    let idle_timeout = config.idle_timeout;
    let swarm = SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            // Nagle's algorithm would hold each small protocol message back for an ack.
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            move || yamux_config,
        )
        .map_err(|error| Libp2pError::Build(format!("tcp: {error}")))?
        .with_quic_config(|mut quic| {
            quic.max_concurrent_stream_limit = max_streams;
            quic
        })
        .with_behaviour(|_| behaviour)
        .map_err(|error| Libp2pError::Build(format!("behaviour: {error}")))?
        .with_swarm_config(|swarm| {
            swarm
                .with_idle_connection_timeout(idle_timeout)
                // Every stream this node opens proposes one protocol (or its preferred one
                // first), so it can send its first bytes with the proposal instead of
                // waiting a round trip for the answer.
                .with_substream_upgrade_protocol_override(libp2p::core::upgrade::Version::V1Lazy)
        })
        .build();
    Ok(swarm)
}

/// The peer id an address ends with (`/p2p/<peer id>`), if any.
pub(crate) fn peer_in_address(address: &Multiaddr) -> Option<Libp2pPeerId> {
    address.iter().find_map(|protocol| match protocol {
        Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}
