//! The drive loop: one node, one transport, commands, and the node's timers.

use std::future::poll_fn;
use std::time::Duration;

use chorus_core::crypto::Keypair;
use chorus_core::discovery::{signer_topic, DiscoveryEvent, REQUEST_TOPIC};
use chorus_core::discovery::{DiscoveryError, EarlyMessages};
use chorus_core::node::{Event, Node, PeerId, Rejection, Transmit};
use chorus_core::transport::{Incoming, Outgoing, Transport};
use chorus_core::wire::Channel;
use rand::RngCore;
use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::Instrument;

use super::address_book::AddressBook;
use super::clock::Clock;
use super::config::DriverConfig;
use super::engine::{DriverStats, Engine};
use super::error::DriverError;
use super::event::{NodeEvent, NodeEvents};
use super::handle::{Command, NodeHandle};

/// Why a driver stopped.
///
/// ```
/// use chorus_node::driver::StopReason;
///
/// assert_ne!(StopReason::Shutdown, StopReason::HandlesDropped);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// [`NodeHandle::shutdown`] was called.
    Shutdown,
    /// Every [`NodeHandle`] was dropped.
    HandlesDropped,
    /// The transport ended (`poll_incoming` returned `Ready(None)`).
    TransportClosed,
}

/// What a driver's task returns when it stops.
///
/// ```
/// use chorus_node::driver::{DriverReport, DriverStats, StopReason};
///
/// let report = DriverReport { reason: StopReason::Shutdown, stats: DriverStats::default() };
/// assert_eq!(report.stats.messages_received, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverReport {
    /// Why it stopped.
    pub reason: StopReason,
    /// What it did.
    pub stats: DriverStats,
}

/// A driver spawned on the current tokio runtime: its handle, a first event
/// subscription (taken before the driver started, so it misses nothing) and its task.
///
/// The [`NodeHandle`] example shows one in use.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_memory::MemoryNetwork;
/// use chorus_node::driver::{spawn, DriverConfig, StopReason};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let identity = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32])?);
/// let running = spawn(identity, MemoryNetwork::new().transport(), DriverConfig::default())?;
/// drop(running.handle); // the last handle: the driver stops
/// assert_eq!(running.task.await?.reason, StopReason::HandlesDropped);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct RunningNode {
    /// Commands.
    pub handle: NodeHandle,
    /// Events from the start.
    pub events: NodeEvents,
    /// The driver's task; it returns when the driver stops.
    pub task: tokio::task::JoinHandle<DriverReport>,
}

/// Spawns a [`NodeDriver`] for `identity` over `transport` on the current tokio runtime.
///
/// # Errors
///
/// [`DriverError::NoRuntime`] outside a tokio runtime.
pub fn spawn<T: Transport>(
    identity: Keypair,
    transport: T,
    config: DriverConfig,
) -> Result<RunningNode, DriverError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| DriverError::NoRuntime)?;
    let (driver, handle, events) = NodeDriver::new(identity, transport, config);
    let task = runtime.spawn(driver.run());
    Ok(RunningNode {
        handle,
        events,
        task,
    })
}

/// Runs one [`Node`] on tokio with one [`Transport`], real time and OS randomness.
///
/// The loop waits on three things at once — a command from a [`NodeHandle`], an item
/// from the transport, the node's next deadline ([`Node::poll_timeout`]) — feeds whichever
/// comes first to the node, then drains the node's outputs: discovery events first (they
/// fill the address book), then session events, session messages (each resolved from its
/// signer key to a transport peer through the [`AddressBook`]) and discovery records.
/// [`spawn`] runs it as a task; [`NodeDriver::run`] lets the caller run it.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_memory::MemoryNetwork;
/// use chorus_node::driver::{DriverConfig, NodeDriver, StopReason};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let identity = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32])?);
/// let (driver, handle, _events) = NodeDriver::new(identity, MemoryNetwork::new().transport(), DriverConfig::default());
/// let task = tokio::spawn(driver.run());
/// handle.shutdown().await?;
/// assert_eq!(task.await?.reason, StopReason::Shutdown);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct NodeDriver<T> {
    engine: Engine,
    transport: T,
    commands: mpsc::Receiver<Command>,
    events: broadcast::Sender<NodeEvent>,
    transaction_types: Vec<String>,
    route_unknown_keys_by_key: bool,
    early: EarlyMessages,
}

impl<T: Transport> NodeDriver<T> {
    /// A driver for `identity` over `transport`, its first handle and a first event
    /// subscription. The node's rng seed comes from the operating system's randomness
    /// (through `rand`'s thread generator, which is seeded and reseeded from it).
    pub fn new(
        identity: Keypair,
        transport: T,
        config: DriverConfig,
    ) -> (Self, NodeHandle, NodeEvents) {
        let peer_id = transport.local_peer();
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        let mut clock = Clock::new();
        let node_config = chorus_core::node::Config {
            peer_id: Some(peer_id.clone()),
            ..config.node
        };
        let node = Node::new(node_config, identity, seed, clock.now());
        let (command_sender, commands) = mpsc::channel(config.command_capacity.max(1));
        let (events, first_subscriber) = broadcast::channel(config.event_capacity.max(1));
        let handle = NodeHandle::new(command_sender, identity.public_key(), peer_id);
        let driver = NodeDriver {
            engine: Engine {
                node,
                clock,
                book: AddressBook::new(config.address_book_capacity),
                stats: DriverStats::default(),
            },
            transport,
            commands,
            events,
            transaction_types: config.transaction_types,
            route_unknown_keys_by_key: config.route_unknown_keys_by_key,
            early: EarlyMessages::default(),
        };
        (driver, handle, NodeEvents::new(first_subscriber))
    }

    /// Runs the drive loop until the driver is shut down, every handle is dropped, or the
    /// transport ends; then drops the transport and returns what happened.
    pub async fn run(self) -> DriverReport {
        let key = self.engine.node.public_key().serialize();
        let span = tracing::info_span!("node", key = %hex::encode(&key[..4]));
        self.run_loop().instrument(span).await
    }

    async fn run_loop(mut self) -> DriverReport {
        self.subscribe_topics();
        tracing::info!(peer = %self.transport.local_peer(), "node driver started");
        let mut shutdown_reply: Option<oneshot::Sender<()>> = None;
        let reason = loop {
            self.drain_outputs();
            let wait = self.time_to_deadline();
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(Command::Run(work)) => {
                        self.engine.stats.commands = self.engine.stats.commands.saturating_add(1);
                        work(&mut self.engine);
                    }
                    Some(Command::Subscribe(reply)) => {
                        let _ = reply.send(NodeEvents::new(self.events.subscribe()));
                    }
                    Some(Command::Shutdown(reply)) => {
                        shutdown_reply = Some(reply);
                        break StopReason::Shutdown;
                    }
                    None => break StopReason::HandlesDropped,
                },
                incoming = poll_fn(|cx| self.transport.poll_incoming(cx)) => match incoming {
                    Some(incoming) => self.on_incoming(incoming),
                    None => break StopReason::TransportClosed,
                },
                () = sleep_for(wait) => self.on_deadline(),
            }
        };
        let NodeDriver {
            engine,
            transport,
            mut commands,
            ..
        } = self;
        drop(transport);
        commands.close();
        tracing::info!(?reason, "node driver stopped");
        if let Some(reply) = shutdown_reply {
            let _ = reply.send(());
        }
        DriverReport {
            reason,
            stats: engine.stats,
        }
    }

    /// Subscribes to the request topic and the configured advertisement topics.
    fn subscribe_topics(&mut self) {
        let topics = std::iter::once(REQUEST_TOPIC.to_owned())
            .chain(self.transaction_types.iter().map(|kind| signer_topic(kind)));
        for topic in topics {
            tracing::debug!(%topic, "subscribing");
            self.transport.send(Outgoing::Subscribe { topic });
        }
    }

    /// How long until the node's next deadline, if it has one.
    fn time_to_deadline(&mut self) -> Option<Duration> {
        let (deadline, _) = self.engine.node.poll_timeout()?;
        let now = self.engine.now();
        Some(deadline.saturating_duration_since(now))
    }

    fn on_deadline(&mut self) {
        let now = self.engine.now();
        self.engine.stats.timeouts = self.engine.stats.timeouts.saturating_add(1);
        self.engine.node.handle_timeout(now);
    }

    fn on_incoming(&mut self, incoming: Incoming) {
        match incoming {
            Incoming::Message {
                from,
                channel,
                bytes,
            } => {
                let stats = &mut self.engine.stats;
                stats.messages_received = stats.messages_received.saturating_add(1);
                self.deliver(from, channel, bytes, true);
            }
            Incoming::Connected { peer } => {
                tracing::debug!(%peer, "peer connected");
                self.emit(NodeEvent::PeerConnected { peer });
            }
            Incoming::Disconnected { peer } => {
                tracing::debug!(%peer, "peer disconnected");
                self.emit(NodeEvent::PeerDisconnected { peer });
            }
            Incoming::Undeliverable { peer, reason } => {
                let stats = &mut self.engine.stats;
                stats.undeliverable = stats.undeliverable.saturating_add(1);
                tracing::debug!(%peer, %reason, "undeliverable");
                self.emit(NodeEvent::Undeliverable { peer, reason });
            }
            // `Incoming` may grow; what this driver does not know it logs and skips.
            other => tracing::debug!(incoming = %other, "transport item ignored"),
        }
    }

    /// Drains every output of the node; discovery events first, so the address book
    /// knows a session's peers before its messages are routed.
    fn drain_outputs(&mut self) {
        loop {
            let mut drained = false;
            while let Some(event) = self.engine.node.poll_discovery_event() {
                drained = true;
                self.learn_peers(&event);
                tracing::debug!(?event, "discovery event");
                let arrived = match &event {
                    DiscoveryEvent::RequestReceived { request, .. } => Some(*request),
                    _ => None,
                };
                self.emit(NodeEvent::Discovery(event));
                if let Some(request) = arrived {
                    self.replay_early_messages(&request);
                }
            }
            while let Some(event) = self.engine.node.poll_event() {
                drained = true;
                log_session_event(&event);
                self.emit(NodeEvent::Session(event));
            }
            while let Some(transmit) = self.engine.node.poll_transmit() {
                drained = true;
                self.route(transmit);
            }
            while let Some(outbound) = self.engine.node.poll_discovery_transmit() {
                drained = true;
                let stats = &mut self.engine.stats;
                stats.records_sent = stats.records_sent.saturating_add(1);
                tracing::trace!(destination = %outbound.destination, len = outbound.bytes.len(), "record");
                self.transport.send(Outgoing::from(outbound));
            }
            if !drained {
                return;
            }
        }
    }

    /// Hands one message to the node. A discovery message for a request this node has not
    /// heard of yet is held (when `may_hold`) and offered again once the request arrives.
    fn deliver(&mut self, from: PeerId, channel: Channel, bytes: Vec<u8>, may_hold: bool) {
        let _span = tracing::debug_span!("peer", peer = %from).entered();
        tracing::trace!(len = bytes.len(), %channel, "message");
        let now = self.engine.now();
        let outcome = self
            .engine
            .node
            .handle_message(now, from.clone(), channel, &bytes);
        let Err(rejection) = outcome else {
            return;
        };
        if let Rejection::Discovery(DiscoveryError::UnknownRequest { request }) = &rejection {
            if may_hold {
                let stats = &mut self.engine.stats;
                stats.early_messages_held = stats.early_messages_held.saturating_add(1);
                tracing::debug!(request = %request, "message before its request; held");
                if self.early.hold(now, *request, from, channel, bytes) {
                    tracing::debug!("early-message buffer full; the oldest was dropped");
                }
                return;
            }
        }
        let stats = &mut self.engine.stats;
        stats.messages_rejected = stats.messages_rejected.saturating_add(1);
        tracing::debug!(%rejection, len = bytes.len(), %channel, "message refused");
        self.emit(NodeEvent::Rejected {
            peer: from,
            rejection,
        });
    }

    /// Offers the node again what came before `request` did.
    fn replay_early_messages(&mut self, request: &chorus_core::discovery::RequestId) {
        let now = self.engine.now();
        for message in self.early.take(now, request) {
            let stats = &mut self.engine.stats;
            stats.early_messages_replayed = stats.early_messages_replayed.saturating_add(1);
            self.deliver(message.from, message.channel, message.bytes, false);
        }
    }

    /// Fills the address book from what signers signed: their advertisements and joins.
    fn learn_peers(&mut self, event: &DiscoveryEvent) {
        let own = self.engine.node.public_key();
        match event {
            DiscoveryEvent::SignerDiscovered { key, peer }
            | DiscoveryEvent::ParticipantJoined { key, peer, .. }
                if *key != own =>
            {
                self.engine.book.insert(key, peer.clone());
            }
            DiscoveryEvent::SessionReady(parameters) => {
                for (key, peer) in parameters.signers.iter().zip(&parameters.peers) {
                    if *key != own {
                        self.engine.book.insert(key, peer.clone());
                    }
                }
            }
            _ => {}
        }
    }

    /// Sends a session message to the peer that holds its recipient's key.
    fn route(&mut self, transmit: Transmit) {
        let peer = match self.engine.book.get(&transmit.to) {
            Some(peer) => Some(peer.clone()),
            None if self.route_unknown_keys_by_key => Some(PeerId::from_key(&transmit.to)),
            None => None,
        };
        let Some(to) = peer else {
            let stats = &mut self.engine.stats;
            stats.unroutable_transmits = stats.unroutable_transmits.saturating_add(1);
            let session = transmit.session;
            let _span = tracing::info_span!("session", id = %short(&session.0)).entered();
            tracing::warn!(to = %hex::encode(transmit.to.serialize()), "no peer known for a signer; message dropped");
            self.emit(NodeEvent::Unroutable {
                session,
                to: transmit.to,
            });
            return;
        };
        let stats = &mut self.engine.stats;
        stats.transmits_sent = stats.transmits_sent.saturating_add(1);
        self.transport.send(Outgoing::Direct {
            to,
            channel: transmit.channel,
            bytes: transmit.bytes,
        });
    }

    fn emit(&self, event: NodeEvent) {
        // No subscriber is not an error: events are for whoever listens.
        let _ = self.events.send(event);
    }
}

/// Logs a session event inside the session's span.
fn log_session_event(event: &Event) {
    let _span = tracing::info_span!("session", id = %short(&event.session().0)).entered();
    match event {
        Event::SessionAborted { reason, .. } => tracing::warn!(?reason, "session aborted"),
        Event::CoordinatorFailed { attempt, .. } => {
            tracing::warn!(attempt, "coordinator failed; next one takes over");
        }
        Event::FailoverExhausted { .. } => tracing::warn!("failover exhausted"),
        other => tracing::debug!(event = ?other, "session event"),
    }
}

/// The first 4 bytes of an id, in hex: enough to tell sessions apart in logs.
fn short(bytes: &[u8; 32]) -> String {
    hex::encode(&bytes[..4])
}

/// Sleeps for `wait`, or for ever without a deadline.
async fn sleep_for(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
