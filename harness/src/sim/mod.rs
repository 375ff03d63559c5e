//! [`Sim`]: N nodes on a virtual clock that jumps from one scheduled action to the next.
//!
//! The queue holds message deliveries, node timers, and the application's and the fault
//! plan's actions (create a session, broadcast, crash, restart, heal). One step pops the
//! earliest action, feeds it to its node, drains that node's outputs through the network
//! model and the byzantine filter, and checks the invariants on everything that came out.

mod app;
mod queue;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use chorus_core::crypto::{Keypair, PublicKey};
use chorus_core::discovery::{DiscoveryMessage, DISCOVERY_FORMAT};
use chorus_core::node::{Config, Node, PeerId, Rejection, Transmit};
use chorus_core::time::Timestamp;
use chorus_core::wire::{Channel, SessionId, SignedEnvelope};
use serde::Serialize;

use crate::byzantine::{Byzantine, Outgoing, Sending, SessionFacts, FAKE_ANNOUNCES};
use crate::invariants::{Checker, Delivery, Invariant, Violation};
use crate::network::{DropCause, Network, Route};
use crate::peek::{self, Summary};
use crate::plan::{FaultMix, Plan, Role, MS};
use crate::rng::{derive, SimRng, Stream};
use crate::scenario::{ByzantineKind, Scenario};
use crate::trace::{kind_name, short, Origin, Trace, TraceRecord};

use queue::{Action, Packet, Queue};

/// The wall-clock time of simulated time zero (nodes check message timestamps against it).
pub const START_MS: u64 = 1_700_000_000_000;

/// How a run is observed and configured beyond its [`Scenario`].
///
/// ```
/// use chorus_harness::SimOptions;
///
/// let options = SimOptions { trace: true, ..SimOptions::default() };
/// assert!(options.trace);
/// assert_eq!((options.node_config)(0), chorus_core::node::Config::default());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SimOptions {
    /// Keep every record (for JSON lines and diagrams); the trace hash is always computed.
    pub trace: bool,
    /// The configuration of node `index`, at the start and after every restart (with
    /// `max_sessions_per_creator` raised, if need be, to what the run's plan creates).
    pub node_config: fn(usize) -> Config,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            trace: false,
            node_config: |_| Config::default(),
        }
    }
}

/// Counts of what happened in a run.
///
/// ```
/// use chorus_harness::{FaultPreset, Scenario, Sim, SimOptions};
///
/// let scenario = Scenario { seed: 9, faults: FaultPreset::None, ..Scenario::default() };
/// let stats = Sim::new(&scenario, SimOptions::default()).run().stats;
/// // Without faults every session completes and nothing is lost.
/// assert_eq!(stats.completed, stats.sessions);
/// assert_eq!(stats.dropped, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Actions executed.
    pub steps: u64,
    /// Sessions created (honest creators).
    pub sessions: u64,
    /// Sessions that completed on their creator.
    pub completed: u64,
    /// Messages put on the network.
    pub sent: u64,
    /// Deliveries (duplicates included).
    pub delivered: u64,
    /// Deliveries the receiver rejected.
    pub rejected: u64,
    /// Messages lost.
    pub dropped: u64,
    /// Duplicates the network made.
    pub duplicated: u64,
    /// Crashes.
    pub crashes: u64,
    /// Simulated time at the end, in milliseconds.
    pub virtual_ms: u64,
}

/// The result of one run.
///
/// ```
/// use chorus_harness::{Scenario, Sim, SimOptions};
///
/// let outcome = Sim::new(&Scenario::default(), SimOptions::default()).run();
/// assert!(outcome.passed());
/// assert_eq!(outcome.trace_hash_hex().len(), 64);
/// assert!(outcome.records.is_none(), "tracing was off");
/// ```
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What was run.
    pub scenario: Scenario,
    /// SHA-256 over every transmitted message (time, ends, length and a fingerprint of its
    /// bytes), every delivery's fate and every event.
    pub trace_hash: [u8; 32],
    /// Every failed invariant (empty when the run passed).
    pub violations: Vec<Violation>,
    /// Counts.
    pub stats: Stats,
    /// The fault mix the seed drew.
    pub mix: FaultMix,
    /// The records, when [`SimOptions::trace`] was set.
    pub records: Option<Vec<TraceRecord>>,
}

impl Outcome {
    /// Whether every invariant held.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The trace hash in hex.
    pub fn trace_hash_hex(&self) -> String {
        hex::encode(self.trace_hash)
    }
}

/// One node slot: the node itself (absent while crashed) and what survives a crash.
struct Peer {
    keypair: Keypair,
    peer_id: PeerId,
    role: Role,
    manual: bool,
    node: Option<Node>,
    /// Bumped by every crash, so actions for the old node are ignored.
    epoch: u32,
    restarts: u64,
    /// The timer entry the queue holds for the node.
    armed: Option<u64>,
}

/// A deterministic simulation of one [`Scenario`].
///
/// ```
/// use chorus_harness::{FaultPreset, Scenario, Sim, SimOptions};
///
/// let scenario = Scenario { seed: 3, faults: FaultPreset::Lossy, ..Scenario::default() };
/// let first = Sim::new(&scenario, SimOptions::default()).run();
/// assert!(first.passed(), "{:?}", first.violations);
/// // Same seed, same trace, byte for byte.
/// let second = Sim::new(&scenario, SimOptions::default()).run();
/// assert_eq!(first.trace_hash, second.trace_hash);
/// ```
pub struct Sim {
    scenario: Scenario,
    options: SimOptions,
    plan: Plan,
    now: u64,
    queue: Queue,
    peers: Vec<Peer>,
    keys: Vec<PublicKey>,
    key_index: BTreeMap<[u8; 33], usize>,
    network: Network,
    network_rng: SimRng,
    app_rng: SimRng,
    byzantine: Byzantine,
    facts: BTreeMap<SessionId, SessionFacts>,
    /// The planned session (the original, for retries) each created session comes from.
    plan_of: BTreeMap<SessionId, usize>,
    /// Planned sessions that completed on their creator.
    completed_plans: BTreeSet<usize>,
    checker: Checker,
    trace: Trace,
    stats: Stats,
    next_packet: u64,
    healed: bool,
    /// Past this simulated time the run stops, settled or not.
    limit: u64,
}

impl Sim {
    /// A run of `scenario`, everything drawn from its seed.
    pub fn new(scenario: &Scenario, options: SimOptions) -> Self {
        let plan = Plan::draw(scenario);
        let keys: Vec<PublicKey> = plan.keys.iter().map(Keypair::public_key).collect();
        let peers = plan
            .keys
            .iter()
            .enumerate()
            .map(|(index, keypair)| Peer {
                keypair: *keypair,
                peer_id: PeerId::from_key(&keypair.public_key()),
                role: plan.roles[index],
                manual: plan.manual[index],
                node: Some(Node::new(
                    node_config(&options, &plan, index),
                    *keypair,
                    derive(scenario.seed, "node", index as u64, 0),
                    Timestamp::from_millis(START_MS),
                )),
                epoch: 0,
                restarts: 0,
                armed: None,
            })
            .collect();
        let mut queue = Queue::default();
        for (index, session) in plan.sessions.iter().enumerate() {
            queue.push(session.at, Action::Create(index));
        }
        for crash in &plan.crashes {
            queue.push(crash.at, Action::Crash(crash.node));
            queue.push(crash.restart_at, Action::Restart(crash.node));
        }
        queue.push(plan.heal_at, Action::Heal);
        let last = plan.sessions.iter().map(|s| s.at).max().unwrap_or(0);
        let key_index = keys
            .iter()
            .enumerate()
            .map(|(index, key)| (key.serialize(), index))
            .collect();
        Sim {
            scenario: *scenario,
            options,
            now: 0,
            queue,
            peers,
            checker: Checker::new(plan.roles.clone(), &keys),
            keys,
            key_index,
            network: Network::new(plan.network.clone()),
            network_rng: SimRng::new(scenario.seed, Stream::Network),
            app_rng: SimRng::new(scenario.seed, Stream::Application),
            byzantine: Byzantine::new(SimRng::new(scenario.seed, Stream::Byzantine)),
            facts: BTreeMap::new(),
            plan_of: BTreeMap::new(),
            completed_plans: BTreeSet::new(),
            trace: Trace::new(options.trace),
            stats: Stats::default(),
            next_packet: 0,
            healed: false,
            limit: last.max(plan.heal_at) + 8 * 60 * crate::plan::MIN,
            plan,
        }
    }

    /// The simulated time, in microseconds since the start.
    pub fn now_us(&self) -> u64 {
        self.now
    }

    /// Node `index`, unless it is down (a crashed node's state is gone): for looking
    /// inside a run stepped with [`Sim::step`].
    ///
    /// ```
    /// use chorus_harness::{Scenario, Sim, SimOptions};
    ///
    /// let mut sim = Sim::new(&Scenario { seed: 4, ..Scenario::default() }, SimOptions::default());
    /// while sim.step() {}
    /// // The heal restarts every crashed node: all are up at the end.
    /// assert!(sim.node(0).is_some());
    /// assert!(sim.node(1_000).is_none());
    /// ```
    pub fn node(&self, index: usize) -> Option<&Node> {
        self.peers.get(index).and_then(|peer| peer.node.as_ref())
    }

    /// The violations found so far.
    pub fn violations(&self) -> &[Violation] {
        self.checker.violations()
    }

    /// Runs one action; returns whether there is more to do.
    pub fn step(&mut self) -> bool {
        if self.finished() {
            return false;
        }
        let Some((at, action)) = self.queue.pop() else {
            return false;
        };
        self.now = self.now.max(at);
        self.stats.steps += 1;
        match action {
            Action::Deliver(packet) => self.deliver(packet),
            Action::Timer { node, epoch } => self.fire_timer(node, epoch),
            Action::Create(index) => self.create(index),
            Action::Broadcast {
                node,
                epoch,
                session,
            } => self.broadcast(node, epoch, session),
            Action::Round {
                node,
                epoch,
                session,
                round,
            } => self.round(node, epoch, session, round),
            Action::Crash(node) => self.crash(node),
            Action::Restart(node) => self.restart(node),
            Action::Heal => self.heal(),
        }
        !self.finished()
    }

    fn finished(&self) -> bool {
        (self.queue.pending() == 0 && self.checker.settled()) || self.now > self.limit
    }

    /// Runs to the end and checks what can only be checked then.
    pub fn run(mut self) -> Outcome {
        while self.step() {}
        let nodes: Vec<Option<&Node>> = self.peers.iter().map(|peer| peer.node.as_ref()).collect();
        let peer_ids: Vec<PeerId> = self.peers.iter().map(|peer| peer.peer_id.clone()).collect();
        self.checker.finish(self.now, &nodes, &peer_ids);
        for violation in self.checker.violations() {
            let record = TraceRecord::Violation {
                t_us: violation.t_us,
                invariant: violation.invariant.name().to_owned(),
                detail: violation.detail.clone(),
            };
            self.trace.record(|| record);
        }
        self.stats.virtual_ms = self.now / MS;
        let (trace_hash, records) = self.trace.finish();
        Outcome {
            scenario: self.scenario,
            trace_hash,
            violations: self.checker.into_violations(),
            stats: self.stats,
            mix: self.plan.mix.clone(),
            records,
        }
    }

    fn timestamp(&self) -> Timestamp {
        Timestamp::from_millis(START_MS + self.now / MS)
    }

    fn alive(&self, node: usize, epoch: u32) -> bool {
        self.peers
            .get(node)
            .is_some_and(|peer| peer.epoch == epoch && peer.node.is_some())
    }

    /// Re-reads a node's next deadline and queues a timer action for it if it moved.
    fn rearm(&mut self, node: usize) {
        let Some(peer) = self.peers.get_mut(node) else {
            return;
        };
        let deadline = peer
            .node
            .as_ref()
            .and_then(Node::poll_timeout)
            .map(|(at, _)| {
                at.as_millis()
                    .saturating_sub(START_MS)
                    .saturating_mul(MS)
                    .max(self.now)
            });
        if let Some(at) = deadline {
            if peer.armed != Some(at) {
                peer.armed = Some(at);
                self.queue.push(
                    at,
                    Action::Timer {
                        node,
                        epoch: peer.epoch,
                    },
                );
            }
        }
    }

    fn fire_timer(&mut self, node: usize, epoch: u32) {
        if !self.alive(node, epoch) || self.peers[node].armed != Some(self.now) {
            return;
        }
        self.peers[node].armed = None;
        let now = self.timestamp();
        if let Some(engine) = self.peers[node].node.as_mut() {
            engine.handle_timeout(now);
        }
        self.drain(node);
    }

    /// Hands every output of `node` to the application and the network.
    fn drain(&mut self, node: usize) {
        loop {
            let Some(engine) = self.peers[node].node.as_mut() else {
                return;
            };
            if let Some(event) = engine.poll_event() {
                self.on_event(node, event);
            } else if let Some(transmit) = engine.poll_transmit() {
                self.on_transmit(node, transmit);
            } else if let Some(event) = engine.poll_discovery_event() {
                self.on_discovery_event(node, &event);
            } else if engine.poll_discovery_transmit().is_some() {
                // The simulated nodes never advertise or publish requests.
            } else {
                break;
            }
        }
        self.rearm(node);
    }

    fn on_transmit(&mut self, from: usize, transmit: Transmit) {
        let Some(&to) = self.key_index.get(&transmit.to.serialize()) else {
            return;
        };
        let bytes: Rc<[u8]> = transmit.bytes.into();
        let role = self.peers[from].role;
        let outgoing = match role {
            Role::Byzantine(kind) if kind != ByzantineKind::Withhold => {
                let sending = Sending {
                    me: from,
                    kind,
                    keypair: &self.peers[from].keypair,
                    now: self.timestamp(),
                    to,
                    bytes,
                    facts: self.facts.get(&transmit.session),
                    keys: &self.keys,
                };
                self.byzantine.outgoing(&sending)
            }
            _ => vec![Outgoing {
                to,
                bytes,
                origin: if role.is_honest() {
                    Origin::Honest
                } else {
                    Origin::Byzantine
                },
                must_reject: false,
                delay: 0,
            }],
        };
        for message in outgoing {
            self.send(from, transmit.channel, message);
        }
    }

    /// Puts one message on the network.
    fn send(&mut self, from: usize, channel: Channel, message: Outgoing) {
        let id = self.next_packet;
        self.next_packet += 1;
        self.stats.sent += 1;
        let sent_at = self.now + message.delay;
        let session =
            peek::header(&message.bytes).map_or(SessionId([0; 32]), |header| header.session);
        if message.origin == Origin::Honest {
            if let Some((header, attempt, nonce)) = peek::nonce_share(&message.bytes) {
                self.checker
                    .on_nonce_sent(self.now, from, (header.session, attempt), nonce);
            }
        }
        let print = fingerprint(&message.bytes);
        self.trace.hash_transmit(
            (sent_at, id),
            (from, message.to),
            message.bytes.len(),
            print,
        );
        if self.trace.recording() {
            let envelope = peek::peek(&message.bytes);
            let record = send_record((id, sent_at), (from, channel), &message, envelope.as_ref());
            self.trace.record(|| record);
        }
        let route = self.network.route(
            sent_at,
            (from, message.to),
            message.bytes.len(),
            message.origin != Origin::Injected,
            &mut self.network_rng,
        );
        let packet = Packet {
            id,
            from,
            to: message.to,
            channel,
            bytes: message.bytes,
            session,
            origin: message.origin,
            duplicate: false,
            duplicated: false,
            must_reject: message.must_reject,
            sent_at,
            fingerprint: print,
        };
        match route {
            Route::Dropped(cause) => self.lost(&packet, sent_at, cause),
            Route::Delivered(arrival, duplicate) => {
                let mut packet = packet;
                if let Some(again) = duplicate {
                    self.stats.duplicated += 1;
                    packet.duplicated = true;
                    let copy = Packet {
                        duplicate: true,
                        ..packet.clone()
                    };
                    self.queue.push(again, Action::Deliver(copy));
                }
                self.queue.push(arrival, Action::Deliver(packet));
            }
        }
    }

    fn lost(&mut self, packet: &Packet, at: u64, cause: DropCause) {
        self.stats.dropped += 1;
        if packet.origin != Origin::Injected {
            self.checker.on_lost(&packet.session);
        }
        self.trace.hash_fate(at, packet.id, cause.name());
        self.trace.record(|| TraceRecord::Drop {
            t_us: at,
            id: packet.id,
            from: packet.from,
            to: packet.to,
            cause,
        });
    }

    fn deliver(&mut self, packet: Packet) {
        let now = self.timestamp();
        let from_id = self.peers[packet.from].peer_id.clone();
        let to = packet.to;
        let Some(engine) = self.peers[to].node.as_mut() else {
            self.lost(&packet, self.now, DropCause::Crashed);
            return;
        };
        let result = engine.handle_message(now, from_id, packet.channel, &packet.bytes);
        self.stats.delivered += 1;
        if packet.origin != Origin::Injected {
            self.checker
                .on_delay(&packet.session, self.now.saturating_sub(packet.sent_at));
        }
        let outcome: Cow<'static, str> = match &result {
            Ok(()) => Cow::Borrowed("accepted"),
            Err(Rejection::Discovery(error)) => {
                self.stats.rejected += 1;
                Cow::Owned(format!("Discovery:{:?}", error.kind()))
            }
            Err(rejection) => {
                self.stats.rejected += 1;
                Cow::Owned(format!("{:?}", rejection.kind()))
            }
        };
        self.trace.hash_fate(self.now, packet.id, &outcome);
        self.trace.record(|| TraceRecord::Deliver {
            t_us: self.now,
            id: packet.id,
            from: packet.from,
            to,
            duplicate: packet.duplicate,
            outcome: outcome.into_owned(),
        });
        self.checker.on_delivery(
            self.now,
            Delivery {
                session: packet.session,
                from: packet.from,
                to,
                origin: packet.origin,
                id: packet.id,
                duplicated: packet.duplicated,
                must_reject: packet.must_reject,
                fingerprint: packet.fingerprint,
                result: &result,
            },
        );
        if !self.peers[to].role.is_honest() {
            self.byzantine.observe(&packet.bytes);
        }
        self.drain(to);
    }

    fn crash(&mut self, node: usize) {
        if self.healed || self.peers[node].node.is_none() {
            return;
        }
        let peer = &mut self.peers[node];
        peer.node = None;
        peer.epoch += 1;
        peer.armed = None;
        self.stats.crashes += 1;
        self.checker.on_crash(node);
        self.trace.hash_marker(self.now, "crash", node);
        self.trace.record(|| TraceRecord::Crash {
            t_us: self.now,
            node,
        });
    }

    fn restart(&mut self, node: usize) {
        if self.peers[node].node.is_some() {
            return;
        }
        let now = self.timestamp();
        let seed = self.scenario.seed;
        let config = node_config(&self.options, &self.plan, node);
        let peer = &mut self.peers[node];
        peer.restarts += 1;
        let rng_seed = derive(seed, "node", node as u64, peer.restarts);
        peer.node = Some(Node::new(config, peer.keypair, rng_seed, now));
        self.trace.hash_marker(self.now, "restart", node);
        self.trace.record(|| TraceRecord::Restart {
            t_us: self.now,
            node,
        });
        self.rearm(node);
    }

    fn heal(&mut self) {
        self.healed = true;
        self.network.heal();
        self.trace.hash_marker(self.now, "heal", 0);
        self.trace.record(|| TraceRecord::Heal { t_us: self.now });
        for node in 0..self.peers.len() {
            self.restart(node);
        }
        self.schedule_retries();
    }

    fn fail(&mut self, invariant: Invariant, detail: String) {
        self.checker.fail(invariant, self.now, detail);
    }
}

/// Node `index`'s configuration: the caller's, with the limit on sessions one creator may
/// have open on a node raised to what the plan can create (each planned session, a retry of
/// each, and a flooder's own), so a long plan never meets it; core's tests cover the limit.
fn node_config(options: &SimOptions, plan: &Plan, index: usize) -> Config {
    let mut config = (options.node_config)(index);
    let most = 2 * plan.sessions.len() + FAKE_ANNOUNCES;
    config.max_sessions_per_creator = config.max_sessions_per_creator.max(most);
    config
}

/// The trace record of a message put on the network.
fn send_record(
    (id, t_us): (u64, u64),
    (from, channel): (usize, Channel),
    message: &Outgoing,
    envelope: Option<&SignedEnvelope>,
) -> TraceRecord {
    let summary = Summary::of(envelope);
    let kind = match summary.kind {
        Some(kind) => kind_name(kind),
        None if message.bytes.first() == Some(&DISCOVERY_FORMAT) => {
            match DiscoveryMessage::decode(&message.bytes, channel) {
                Ok(DiscoveryMessage::Advertisement(_)) => "advertisement",
                Ok(DiscoveryMessage::Withdrawal(_)) => "withdrawal",
                Ok(DiscoveryMessage::Request(_)) => "signing_request",
                Ok(DiscoveryMessage::Join(_)) => "join_proof",
                Err(_) => "undecodable",
            }
            .to_owned()
        }
        None => "undecodable".to_owned(),
    };
    let session = envelope.map_or(SessionId([0; 32]), |signed| signed.envelope.session_id);
    TraceRecord::Send {
        t_us,
        id,
        from,
        to: message.to,
        session: short(&session),
        kind,
        attempt: summary.attempt,
        sequence: summary.sequence,
        size: message.bytes.len(),
        origin: message.origin,
    }
}

/// A cheap fingerprint of a message's bytes, to recognise the same message when it arrives
/// again by another path, and to stand for the message in the trace hash.
///
/// FNV-1a over 8-byte words with a rotation after each multiplication (so differences in
/// high bits reach the low ones). Every step is a bijection of the state, so two messages of
/// the same length that differ in a single word always get different fingerprints.
fn fingerprint(bytes: &[u8]) -> u64 {
    const PRIME: u64 = 0x0100_0000_01b3;
    let mix = |hash: u64, word: u64| (hash ^ word).wrapping_mul(PRIME).rotate_left(29);
    let mut chunks = bytes.chunks_exact(8);
    let mut hash = mix(0xcbf2_9ce4_8422_2325, bytes.len() as u64);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = mix(hash, u64::from_le_bytes(word));
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    mix(hash, u64::from_le_bytes(tail))
}
