//! The world of the `node_ops` target: one node under test, honest peers around it, the
//! messages in flight between them, and the invariants checked after every step.

use std::collections::BTreeMap;

use chorus_core::crypto::{Keypair, SecretKey};
use chorus_core::discovery::{DiscoveryMessage, RequestId};
use chorus_core::node::{CommandError, Config, Event, Node, PeerId, Progress, Rejection};
use chorus_core::time::Timestamp;
use chorus_core::wire::{Channel, SessionId, SignedEnvelope};

use super::craft::Crafter;
use super::ops::{Op, Setup};
use super::outputs::OutputChecker;
use super::NodeOpsReport;

/// The clock's start: a plausible present, in milliseconds since the epoch.
const START_MS: u64 = 1_700_000_000_000;
/// The most deliveries one `DeliverAll` makes.
const MAX_DELIVERIES: usize = 256;
/// The most messages in flight; older ones are lost beyond it.
const MAX_IN_FLIGHT: usize = 512;
/// How many of the messages the node under test received are kept to be sent again.
const MAX_RECEIVED: usize = 32;
/// What one input may queue on top of a full output queue (the node checks the limit
/// before it takes an input, and one input may fan out): generous for five signers.
const FAN_OUT_SLACK: usize = 96;

/// A message on its way from one node to another.
#[derive(Debug)]
struct Packet {
    from: usize,
    to: usize,
    channel: Channel,
    bytes: Vec<u8>,
}

/// The node under test (index 0), its honest peers, and everything in between.
pub(super) struct World {
    pub(super) now: Timestamp,
    /// Node keys by index, then one stranger key no node holds.
    pub(super) keys: Vec<Keypair>,
    nodes: Vec<Node>,
    config: Config,
    in_flight: Vec<Packet>,
    /// Messages the node under test received (that decoded), for resends and mutations.
    received: Vec<(Channel, Vec<u8>)>,
    /// Every session id seen, in order of first sight.
    pub(super) known: Vec<SessionId>,
    /// Every signing request seen, in order of first sight.
    pub(super) requests: Vec<RequestId>,
    /// The highest sequence number seen per (key index, session).
    pub(super) sequences: BTreeMap<(usize, SessionId), u64>,
    /// The driver does not drain the node under test's outputs.
    backlog: bool,
    /// The node under test took in an envelope whose signature does not verify.
    forgeries_accepted: bool,
    peers_confirm_broadcasts: bool,
    checker: OutputChecker,
    crafter: Crafter,
    /// Print the node under test's events and rejections (`CHORUS_FUZZ_TRACE`).
    pub(super) trace: bool,
    /// What the node under test did.
    pub(super) report: NodeOpsReport,
}

fn keypair(index: usize) -> Keypair {
    let byte = u8::try_from(index).map_or(0xee, |index| index.wrapping_add(1));
    let secret = SecretKey::from_secret_bytes([byte; 32]).expect("a small scalar is a key");
    Keypair::from_secret_key(&secret)
}

/// The node under test's configuration: every limit small enough to be reached, and, in a
/// cargo-fuzz build, envelope signatures unchecked so that mutated messages get through.
fn config(setup: &Setup) -> Config {
    Config {
        max_sessions: 1 + usize::from(setup.max_sessions % 4),
        max_held_per_sender: usize::from(setup.max_held_per_sender % 5),
        max_queued_outputs: 1 + usize::from(setup.max_queued_outputs % 64),
        nonce_memory: 1 + usize::from(setup.nonce_memory % 16),
        max_tracked_peers: 1 + usize::from(setup.max_tracked_peers % 4),
        key_aggregation_cache: usize::from(setup.key_aggregation_cache % 3),
        max_sequence_gap: 1 + u64::from(setup.max_sequence_gap % 128),
        #[cfg(fuzzing)]
        fuzzing_skip_envelope_signatures: true,
        ..Config::default()
    }
}

impl World {
    pub(super) fn new(setup: &Setup) -> Self {
        let node_count = 2 + usize::from(setup.peers % 3);
        let keys: Vec<Keypair> = (0..=node_count).map(keypair).collect();
        let now = Timestamp::from_millis(START_MS);
        let config = config(setup);
        let nodes = keys
            .iter()
            .take(node_count)
            .zip(0u8..)
            .map(|(key, index)| {
                let (config, seed) = match index {
                    0 => (config.clone(), [setup.rng_seed; 32]),
                    _ => (Config::default(), [index.wrapping_add(0x80); 32]),
                };
                Node::new(config, *key, seed, now)
            })
            .collect();
        World {
            now,
            keys,
            nodes,
            config,
            in_flight: Vec::new(),
            received: Vec::new(),
            known: Vec::new(),
            requests: Vec::new(),
            sequences: BTreeMap::new(),
            backlog: false,
            forgeries_accepted: false,
            peers_confirm_broadcasts: setup.peers_confirm_broadcasts,
            checker: OutputChecker::default(),
            crafter: Crafter::default(),
            trace: false,
            report: NodeOpsReport::default(),
        }
    }

    pub(super) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub(super) fn target(&self) -> &Node {
        &self.nodes[0]
    }

    pub(super) fn node(&self, index: usize) -> &Node {
        &self.nodes[index]
    }

    pub(super) fn node_mut(&mut self, index: usize) -> &mut Node {
        &mut self.nodes[index]
    }

    /// The transport peer id `pick` names: a node's key-derived id, or a stranger's.
    pub(super) fn peer_id(&self, pick: u8) -> PeerId {
        match self.keys.get(usize::from(pick)) {
            Some(key) => PeerId::from_key(&key.public_key()),
            None => PeerId::new([pick]),
        }
    }

    /// The session `pick` names: a known one, unless `pick` is one of the top 32 values
    /// (or none is known), which name unknown ids.
    pub(super) fn session(&self, pick: u8) -> SessionId {
        match self.known.len() {
            known if known > 0 && pick < 224 => self.known[usize::from(pick) % known],
            _ => SessionId([pick; 32]),
        }
    }

    fn learn_session(&mut self, id: SessionId) {
        if !self.known.contains(&id) {
            self.known.push(id);
        }
    }

    /// Notes the sender's sequence number in a message on the wire.
    fn learn_sequence(&mut self, sender: usize, bytes: &[u8]) {
        let Some(body) = bytes.get(1..) else {
            return;
        };
        if let Ok(signed) = postcard::from_bytes::<SignedEnvelope>(body) {
            let envelope = &signed.envelope;
            self.learn_session(envelope.session_id);
            let highest = self
                .sequences
                .entry((sender, envelope.session_id))
                .or_insert(0);
            *highest = (*highest).max(envelope.sequence.0);
        }
    }

    /// Runs one operation and checks the invariants that hold between steps.
    pub(super) fn apply(&mut self, op: &Op) {
        match op {
            Op::Deliver { pick } => {
                if !self.in_flight.is_empty() {
                    let index = usize::from(*pick) % self.in_flight.len();
                    let packet = self.in_flight.remove(index);
                    self.deliver(packet);
                }
            }
            Op::DeliverAll => {
                for _ in 0..MAX_DELIVERIES {
                    if self.in_flight.is_empty() {
                        break;
                    }
                    let packet = self.in_flight.remove(0);
                    self.deliver(packet);
                }
            }
            Op::Drop { pick } => {
                if !self.in_flight.is_empty() {
                    let index = usize::from(*pick) % self.in_flight.len();
                    self.in_flight.remove(index);
                }
            }
            Op::Resend { pick, from } => {
                if let Some((channel, bytes)) = self.pick_received(*pick) {
                    let from = self.peer_id(*from);
                    self.feed_target(from, channel, &bytes);
                }
            }
            Op::Mutate { pick, edits } => {
                if let Some((channel, mut bytes)) = self.pick_received(*pick) {
                    for (position, mask) in edits {
                        let len = bytes.len();
                        if let Some(byte) = bytes.get_mut(usize::from(*position) % len.max(1)) {
                            *byte ^= mask;
                        }
                    }
                    let from = self.peer_id(0);
                    self.feed_target(from, channel, &bytes);
                }
            }
            Op::Raw {
                from,
                gossip,
                bytes,
            } => {
                let channel = if *gossip {
                    Channel::Gossip
                } else {
                    Channel::Direct
                };
                self.feed_target(self.peer_id(*from), channel, bytes);
            }
            Op::Crafted(crafted) => {
                let mut crafter = core::mem::take(&mut self.crafter);
                let (from, channel, bytes) = crafter.craft(self, crafted);
                self.crafter = crafter;
                self.feed_target(from, channel, &bytes);
            }
            _ => self.apply_command_or_time(op),
        }
        self.check_bounds();
    }

    fn apply_command_or_time(&mut self, op: &Op) {
        let now = self.now;
        match op {
            Op::Create(choice) => {
                let spec = choice.spec(&self.keys, 0);
                self.target_command(|node| node.create_session(now, spec).map(drop));
            }
            Op::PeerCreate { peer, session } => {
                let peer = 1 + usize::from(*peer) % (self.node_count() - 1);
                let spec = session.spec(&self.keys, peer);
                let _ = self.nodes[peer].create_session(now, spec);
                self.drain_peer(peer);
            }
            Op::Join { session, manual } => {
                let id = self.session(*session);
                let progress = if *manual {
                    Progress::Manual
                } else {
                    Progress::Automatic
                };
                self.target_command(|node| node.join_session(now, &id, progress));
            }
            Op::StartRound1 { session } => {
                let id = self.session(*session);
                self.target_command(|node| node.start_round1(now, &id));
            }
            Op::StartRound2 { session } => {
                let id = self.session(*session);
                self.target_command(|node| node.start_round2(now, &id));
            }
            Op::ConfirmBroadcast {
                session,
                transaction_id,
            } => {
                let id = self.session(*session);
                self.target_command(|node| {
                    node.notify_broadcast_complete(now, &id, transaction_id)
                });
            }
            Op::Close { session } => {
                let id = self.session(*session);
                self.target_command(|node| node.close_session(now, &id));
            }
            Op::Advance { millis } => {
                self.now = self
                    .now
                    .saturating_add(core::time::Duration::from_millis(u64::from(*millis)));
                self.run_timers();
            }
            Op::NextDeadline => {
                if let Some((deadline, _)) = self.target().poll_timeout() {
                    self.now = self.now.max(deadline);
                }
                self.run_timers();
            }
            Op::EarlyTimeout => self.early_timeout(),
            Op::Backlog { on } => {
                self.backlog = *on;
                self.drain_target();
            }
            _ => self.apply_discovery(op),
        }
    }

    fn pick_received(&self, pick: u8) -> Option<(Channel, Vec<u8>)> {
        let count = self.received.len();
        (count > 0).then(|| self.received[usize::from(pick) % count].clone())
    }

    fn deliver(&mut self, packet: Packet) {
        let from = PeerId::from_key(&self.keys[packet.from].public_key());
        if packet.to == 0 {
            self.feed_target(from, packet.channel, &packet.bytes);
        } else {
            let now = self.now;
            let _ = self.nodes[packet.to].handle_message(now, from, packet.channel, &packet.bytes);
            self.drain_peer(packet.to);
        }
    }

    /// Hands `bytes` to the node under test and checks what a rejection may change.
    pub(super) fn feed_target(&mut self, from: PeerId, channel: Channel, bytes: &[u8]) {
        let before = self.nodes[0].state_digest();
        let result = self.nodes[0].handle_message(self.now, from, channel, bytes);
        if self.trace {
            eprintln!("  message: {result:?}");
        }
        if let Err(rejection) = &result {
            self.report.rejections.push(rejection.clone());
        }
        let accepted = match &result {
            Ok(()) => true,
            Err(rejection) if rejection.is_blame() => true,
            Err(Rejection::Backpressure { limit, queued }) => {
                assert!(self.backlog, "backpressure while every output was drained");
                assert!(queued >= limit, "backpressure below the limit");
                false
            }
            Err(rejection) => {
                assert_eq!(
                    self.nodes[0].state_digest(),
                    before,
                    "the rejection {rejection:?} changed the node's state"
                );
                false
            }
        };
        let envelope = SignedEnvelope::decode(bytes, channel);
        if let Ok(signed) = &envelope {
            if accepted && !signed.verify_signature() {
                // Only the fuzzing build skips envelope signatures.
                if !cfg!(fuzzing) {
                    panic!("the node accepted a forged envelope");
                }
                self.forgeries_accepted = true;
            }
        }
        if envelope.is_ok() || DiscoveryMessage::decode(bytes, channel).is_ok() {
            if self.received.len() >= MAX_RECEIVED {
                self.received.remove(0);
            }
            self.received.push((channel, bytes.to_vec()));
        }
        self.drain_target();
    }

    /// Runs a command on the node under test; a failed command must change nothing.
    fn target_command(&mut self, command: impl FnOnce(&mut Node) -> Result<(), CommandError>) {
        self.node_command(0, command);
    }

    /// Runs a command on node `index`; on the node under test, a failed command must change
    /// nothing.
    pub(super) fn node_command(
        &mut self,
        index: usize,
        command: impl FnOnce(&mut Node) -> Result<(), CommandError>,
    ) {
        if index != 0 {
            let _ = command(&mut self.nodes[index]);
            return self.drain_peer(index);
        }
        let before = self.nodes[0].state_digest();
        if let Err(error) = command(&mut self.nodes[0]) {
            if let CommandError::Backpressure { .. } = error {
                assert!(self.backlog, "backpressure while every output was drained");
            }
            assert_eq!(
                self.nodes[0].state_digest(),
                before,
                "the failed command ({error}) changed the node's state"
            );
        }
        self.drain_target();
    }

    fn run_timers(&mut self) {
        let now = self.now;
        for peer in 1..self.node_count() {
            self.nodes[peer].handle_timeout(now);
            self.drain_peer(peer);
        }
        self.nodes[0].handle_timeout(now);
        let drained = self.drain_target();
        if let Some(drained) = drained {
            if drained < self.config.max_queued_outputs {
                // With room in the queues, every due timer ran.
                if let Some((deadline, kind)) = self.nodes[0].poll_timeout() {
                    assert!(deadline > now, "{kind:?} due at {deadline} left at {now}");
                }
            }
        }
    }

    /// A timeout call before anything is due changes nothing.
    fn early_timeout(&mut self) {
        let due = self.nodes[0]
            .poll_timeout()
            .is_some_and(|(deadline, _)| deadline <= self.now);
        if due {
            return self.run_timers();
        }
        let before = self.nodes[0].state_digest();
        self.nodes[0].handle_timeout(self.now);
        assert_eq!(
            self.nodes[0].state_digest(),
            before,
            "an early timeout changed state"
        );
        self.drain_target();
    }

    /// Drains the node under test (unless backlogged), checking every output; returns how
    /// many outputs there were.
    fn drain_target(&mut self) -> Option<usize> {
        if self.backlog {
            return None;
        }
        self.checker.observe(&self.nodes[0]);
        let mut count = 0usize;
        while let Some(transmit) = self.nodes[0].poll_transmit() {
            count += 1;
            self.checker.transmit(&self.nodes[0], &transmit);
            self.learn_sequence(0, &transmit.bytes);
            self.route(0, transmit.to, transmit.channel, transmit.bytes);
        }
        while let Some(event) = self.nodes[0].poll_event() {
            count += 1;
            if self.trace {
                eprintln!("  event: {event:?}");
            }
            self.checker.event(&event, self.forgeries_accepted);
            self.learn_session(event.session());
            self.report.events.push(event);
        }
        while let Some(outbound) = self.nodes[0].poll_discovery_transmit() {
            count += 1;
            self.route_discovery(0, outbound);
        }
        while let Some(event) = self.nodes[0].poll_discovery_event() {
            count += 1;
            if self.trace {
                eprintln!("  discovery: {event:?}");
            }
            self.learn_request(&event);
            self.report.discovery_events.push(event);
        }
        let limit = self.config.max_queued_outputs + FAN_OUT_SLACK;
        assert!(count <= limit, "{count} outputs queued (limit {limit})");
        Some(count)
    }

    /// Drains a peer, which acts as an honest application: it joins every session it is
    /// asked to, and confirms broadcasts when the setup says so.
    fn drain_peer(&mut self, peer: usize) {
        loop {
            let mut idle = true;
            while let Some(transmit) = self.nodes[peer].poll_transmit() {
                idle = false;
                self.learn_sequence(peer, &transmit.bytes);
                self.route(peer, transmit.to, transmit.channel, transmit.bytes);
            }
            while let Some(event) = self.nodes[peer].poll_event() {
                idle = false;
                self.learn_session(event.session());
                self.peer_reacts(peer, &event);
            }
            while let Some(outbound) = self.nodes[peer].poll_discovery_transmit() {
                idle = false;
                self.route_discovery(peer, outbound);
            }
            while let Some(event) = self.nodes[peer].poll_discovery_event() {
                idle = false;
                self.peer_reacts_to_discovery(peer, &event);
            }
            if idle {
                return;
            }
        }
    }

    fn peer_reacts(&mut self, peer: usize, event: &Event) {
        let now = self.now;
        let node = &mut self.nodes[peer];
        match event {
            Event::SessionAnnounced { session, .. } => {
                let _ = node.join_session(now, session, Progress::Automatic);
            }
            Event::ShouldBroadcast {
                session, attempt, ..
            } if self.peers_confirm_broadcasts => {
                let transaction_id = attempt.to_be_bytes();
                let _ = node.notify_broadcast_complete(now, session, &transaction_id);
            }
            _ => {}
        }
    }

    fn route(
        &mut self,
        from: usize,
        to: chorus_core::crypto::PublicKey,
        channel: Channel,
        bytes: Vec<u8>,
    ) {
        if let Some(to) = self.nodes.iter().position(|node| node.public_key() == to) {
            self.send_packet(from, to, channel, bytes);
        }
    }

    /// Puts a message from node `from` to node `to` in flight.
    pub(super) fn send_packet(&mut self, from: usize, to: usize, channel: Channel, bytes: Vec<u8>) {
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            self.in_flight.remove(0);
        }
        self.in_flight.push(Packet {
            from,
            to,
            channel,
            bytes,
        });
    }

    /// Bounds that hold whatever happened: sessions, and early messages held per session.
    fn check_bounds(&mut self) {
        self.checker.observe(&self.nodes[0]);
        let node = self.target();
        let sessions = node.session_ids().count();
        assert!(
            sessions <= self.config.max_sessions,
            "{sessions} sessions kept"
        );
        for id in node.session_ids() {
            let Some(view) = node.session(&id) else {
                panic!("session {id} listed but not kept");
            };
            let limit = self.config.max_held_per_sender * view.signers().len();
            assert!(
                view.held_messages() <= limit,
                "{} held messages",
                view.held_messages()
            );
        }
    }
}
