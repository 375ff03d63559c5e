//! A tiny in-process network for the engine tests: n nodes, a queue of messages in
//! flight, a shared clock, and a record of every event.

#![allow(dead_code)] // each test file uses a different part of this module

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use chorus_core::crypto::{Dialect, Keypair, PublicKey, SecretKey, Signature};
use chorus_core::election::ElectionMethod;
use chorus_core::node::{Config, Event, Node, PeerId, Progress, Rejection, SessionSpec};
use chorus_core::time::Timestamp;
use chorus_core::wire::{Channel, Envelope, SessionId, SessionOptions, SignedEnvelope, Topology};

/// The start of every test's clock.
pub(crate) const START: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// The signing key of test signer `index` (distinct, valid, deterministic).
pub(crate) fn keypair(index: usize) -> Keypair {
    let mut secret = [0u8; 32];
    secret[0] = 0x42;
    secret[24..].copy_from_slice(&(index as u64 + 1).to_be_bytes());
    Keypair::from_secret_key(&SecretKey::from_secret_bytes(secret).unwrap())
}

/// What a network rule does with a message.
pub(crate) enum Fate {
    Deliver,
    Drop,
    /// Deliver these bytes instead.
    Replace(Vec<u8>),
}

/// Re-signs `envelope` (after a change) as `keypair`.
pub(crate) fn reseal(envelope: Envelope, keypair: &Keypair) -> Vec<u8> {
    SignedEnvelope::seal(envelope, keypair, &[7; 32]).encode()
}

/// One message on its way.
#[derive(Debug, Clone)]
pub(crate) struct Packet {
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) channel: Channel,
    pub(crate) bytes: Vec<u8>,
}

/// n nodes and the messages between them.
pub(crate) struct Cluster {
    pub(crate) keys: Vec<Keypair>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) now: Timestamp,
    /// Every event each node emitted, in order.
    pub(crate) events: Vec<Vec<Event>>,
    /// Messages sent and not delivered yet.
    pub(crate) in_flight: VecDeque<Packet>,
    /// Every rejection a delivery got: (receiver, rejection).
    pub(crate) rejections: Vec<(usize, Rejection)>,
    /// How many messages were delivered.
    pub(crate) delivered: usize,
    /// Every packet ever sent, in order.
    pub(crate) sent: Vec<Packet>,
    /// How joiners move through the rounds.
    pub(crate) progress: Progress,
    /// Whether nodes join every announced session on their own.
    pub(crate) auto_join: bool,
    index: BTreeMap<[u8; 33], usize>,
}

impl Cluster {
    /// `n` nodes with default configuration; node `i` gets RNG seed `seed ‖ i`.
    pub(crate) fn new(n: usize, seed: u8) -> Self {
        Cluster::with_config(n, seed, Config::default())
    }

    pub(crate) fn with_config(n: usize, seed: u8, config: Config) -> Self {
        let keys: Vec<Keypair> = (0..n).map(keypair).collect();
        let nodes = keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let mut rng_seed = [seed; 32];
                rng_seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
                Node::new(config.clone(), *key, rng_seed, START)
            })
            .collect();
        let index = keys
            .iter()
            .enumerate()
            .map(|(i, key)| (key.public_key().serialize(), i))
            .collect();
        Cluster {
            keys,
            nodes,
            now: START,
            events: vec![Vec::new(); n],
            in_flight: VecDeque::new(),
            rejections: Vec::new(),
            delivered: 0,
            sent: Vec::new(),
            progress: Progress::Automatic,
            auto_join: true,
            index,
        }
    }

    pub(crate) fn public_keys(&self) -> Vec<PublicKey> {
        self.keys.iter().map(Keypair::public_key).collect()
    }

    pub(crate) fn index_of(&self, key: &PublicKey) -> usize {
        self.index[&key.serialize()]
    }

    /// A spec over every node's key.
    pub(crate) fn spec(
        &self,
        dialect: Dialect,
        topology: Topology,
        commitments: bool,
    ) -> SessionSpec {
        SessionSpec {
            election: ElectionMethod::Lexicographic,
            options: SessionOptions {
                topology,
                nonce_commitments: commitments,
                ..SessionOptions::default()
            },
            ..SessionSpec::new(self.public_keys(), [0x5a; 32], dialect)
        }
    }

    /// Moves every node's queued transmits into flight and its events into the record,
    /// joining announced sessions when `auto_join`.
    pub(crate) fn collect(&mut self) {
        loop {
            let mut any = false;
            for i in 0..self.nodes.len() {
                while let Some(transmit) = self.nodes[i].poll_transmit() {
                    any = true;
                    let to = self.index_of(&transmit.to);
                    let packet = Packet {
                        from: i,
                        to,
                        channel: transmit.channel,
                        bytes: transmit.bytes,
                    };
                    self.sent.push(packet.clone());
                    self.in_flight.push_back(packet);
                }
                while let Some(event) = self.nodes[i].poll_event() {
                    any = true;
                    if let Event::SessionAnnounced { session, .. } = &event {
                        if self.auto_join {
                            let progress = self.progress;
                            self.nodes[i]
                                .join_session(self.now, session, progress)
                                .unwrap();
                        }
                    }
                    self.events[i].push(event);
                }
            }
            if !any {
                return;
            }
        }
    }

    /// Delivers one packet (the sender's peer id is its key).
    pub(crate) fn deliver(&mut self, packet: &Packet) -> Result<(), Rejection> {
        let from = PeerId::from_key(&self.keys[packet.from].public_key());
        let result =
            self.nodes[packet.to].handle_message(self.now, from, packet.channel, &packet.bytes);
        self.delivered += 1;
        if let Err(rejection) = &result {
            self.rejections.push((packet.to, rejection.clone()));
        }
        self.collect();
        result
    }

    /// Delivers everything in flight, first in first out, until the network is quiet.
    pub(crate) fn run(&mut self) {
        self.collect();
        while let Some(packet) = self.in_flight.pop_front() {
            let _ = self.deliver(&packet);
        }
    }

    /// Like [`Cluster::run`], but `rule` decides each message's fate from the packet and
    /// its decoded envelope (undecodable packets are delivered as they are).
    pub(crate) fn run_with(&mut self, mut rule: impl FnMut(&Packet, &SignedEnvelope) -> Fate) {
        self.collect();
        while let Some(mut packet) = self.in_flight.pop_front() {
            if let Ok(envelope) = SignedEnvelope::decode(&packet.bytes, packet.channel) {
                match rule(&packet, &envelope) {
                    Fate::Deliver => {}
                    Fate::Drop => continue,
                    Fate::Replace(bytes) => packet.bytes = bytes,
                }
            }
            let _ = self.deliver(&packet);
        }
    }

    /// Every packet a node has sent so far, decoded.
    pub(crate) fn sent_by(&self, node: usize) -> Vec<SignedEnvelope> {
        self.sent
            .iter()
            .filter(|packet| packet.from == node)
            .filter_map(|packet| SignedEnvelope::decode(&packet.bytes, packet.channel).ok())
            .collect()
    }

    /// Moves the clock to `at` and runs every node's due timers.
    pub(crate) fn advance_to(&mut self, at: Timestamp) {
        self.now = at;
        for node in &mut self.nodes {
            node.handle_timeout(at);
        }
        self.collect();
    }

    /// Moves the clock forward by `span`.
    pub(crate) fn advance(&mut self, span: Duration) {
        self.advance_to(self.now.saturating_add(span));
    }

    /// Creates a session on node `creator` and runs the network until it is quiet.
    pub(crate) fn sign(&mut self, creator: usize, spec: SessionSpec) -> SessionId {
        let session = self.nodes[creator].create_session(self.now, spec).unwrap();
        self.run();
        session
    }

    /// Each node's completion signature for `session`, if it completed.
    pub(crate) fn signatures(&self, session: &SessionId) -> Vec<Option<Signature>> {
        self.events
            .iter()
            .map(|events| {
                events.iter().find_map(|event| match event {
                    Event::SessionComplete {
                        session: s,
                        signature,
                    } if s == session => Some(*signature),
                    _ => None,
                })
            })
            .collect()
    }

    /// Every (node, event) matching `predicate`, in node order.
    pub(crate) fn find(&self, predicate: impl Fn(&Event) -> bool) -> Vec<(usize, Event)> {
        self.events
            .iter()
            .enumerate()
            .flat_map(|(i, events)| {
                events
                    .iter()
                    .filter(|event| predicate(event))
                    .map(move |event| (i, event.clone()))
            })
            .collect()
    }
}
