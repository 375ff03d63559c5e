//! The engine benchmarks' shared parts: the floor (n separate signers written directly
//! against `secp256k1::musig`) and an in-process network that pumps bytes between Nodes.
#![allow(dead_code)] // each bench binary uses a different part

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use chorus_core::crypto::{Dialect, Keypair, PublicKey, SecretKey};
use chorus_core::election::ElectionMethod;
use chorus_core::node::{Config, Event, Node, PeerId, Progress, SessionSpec};
use chorus_core::time::Timestamp;
use chorus_core::wire::{Channel, SessionId, SessionOptions, Topology};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secp256k1::musig;

/// The message every benchmarked session signs.
pub(crate) const MESSAGE: [u8; 32] = [0x42; 32];

/// The clock every benchmarked network starts at.
pub(crate) const START: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// `n` distinct key pairs drawn from a seeded generator.
pub(crate) fn keypairs(n: usize, seed: u64) -> Vec<Keypair> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| loop {
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            if let Ok(secret) = SecretKey::from_secret_bytes(bytes) {
                break Keypair::from_secret_key(&secret);
            }
        })
        .collect()
}

/// The floor: one n-party MuSig2 signing by `signers.len()` separate signers, each written
/// directly against `secp256k1::musig` and each doing its own work — sorting and
/// aggregating the keys, drawing its nonce, building its session from the aggregate nonce,
/// signing — while the first signer also aggregates the nonces, verifies every partial
/// signature, aggregates them and verifies the final signature. No messages, no envelopes,
/// no checks beyond the cryptographic ones.
pub(crate) fn floor_session(signers: &[Keypair], rng: &mut ChaCha20Rng) -> bool {
    let keys: Vec<PublicKey> = signers.iter().map(Keypair::public_key).collect();
    let caches: Vec<musig::KeyAggCache> = signers
        .iter()
        .map(|_| {
            let mut sorted: Vec<&PublicKey> = keys.iter().collect();
            secp256k1::sort_pubkeys(&mut sorted);
            musig::KeyAggCache::new(&sorted)
        })
        .collect();
    let mut secret_nonces = Vec::with_capacity(signers.len());
    let mut public_nonces = Vec::with_capacity(signers.len());
    for (signer, cache) in signers.iter().zip(&caches) {
        let mut session_rand = [0u8; 32];
        rng.fill_bytes(&mut session_rand);
        let (secret, public) = musig::new_nonce_pair(
            musig::SessionSecretRand::assume_uniformly_random(session_rand),
            Some(cache),
            Some(signer.secret_key()),
            signer.public_key(),
            Some(&MESSAGE),
            None,
        );
        secret_nonces.push(secret);
        public_nonces.push(public);
    }
    let nonce_refs: Vec<&musig::PublicNonce> = public_nonces.iter().collect();
    let aggregate = musig::AggregatedNonce::new(&nonce_refs);
    let sessions: Vec<musig::Session> = caches
        .iter()
        .map(|cache| musig::Session::new(cache, aggregate, &MESSAGE))
        .collect();
    let partials: Vec<musig::PartialSignature> = secret_nonces
        .into_iter()
        .zip(signers)
        .zip(sessions.iter().zip(&caches))
        .map(|((secret, signer), (session, cache))| session.partial_sign(secret, signer, cache))
        .collect();
    let (aggregator_session, aggregator_cache) = (&sessions[0], &caches[0]);
    let all_valid =
        partials
            .iter()
            .zip(&public_nonces)
            .zip(&keys)
            .all(|((partial, nonce), key)| {
                aggregator_session.partial_verify(aggregator_cache, partial, nonce, *key)
            });
    let partial_refs: Vec<&musig::PartialSignature> = partials.iter().collect();
    let signature = aggregator_session.partial_sig_agg(&partial_refs);
    all_valid
        && signature
            .verify(&aggregator_cache.agg_pk(), &MESSAGE)
            .is_ok()
}

/// How a benchmarked session is set up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) topology: Topology,
    pub(crate) commitments: bool,
    /// Whether the nodes keep the key aggregation of the (repeated) signer group.
    pub(crate) cached: bool,
}

impl Shape {
    pub(crate) fn label(&self) -> String {
        let topology = match self.topology {
            Topology::Aggregator => "aggregator",
            Topology::Mesh => "mesh",
        };
        let round0 = if self.commitments {
            "with round 0"
        } else {
            "no round 0"
        };
        let cached = if self.cached {
            ", cached key aggregation"
        } else {
            ""
        };
        format!("{topology}, {round0}{cached}")
    }

    /// The node configuration of this shape.
    pub(crate) fn config(&self) -> Config {
        Config {
            key_aggregation_cache: if self.cached { 16 } else { 0 },
            ..Config::default()
        }
    }
}

/// n Nodes in one process and the bytes in flight between them.
///
/// The nodes live across sessions, as a deployed signer group does; between two timed
/// sessions [`Network::forget_sessions`] closes the finished session on every node and lets
/// its expiry timer remove it.
pub(crate) struct Network {
    pub(crate) keys: Vec<Keypair>,
    pub(crate) nodes: Vec<Node>,
    peers: Vec<PeerId>,
    index: BTreeMap<[u8; 33], usize>,
    in_flight: VecDeque<(usize, usize, Channel, Vec<u8>)>,
    pub(crate) now: Timestamp,
    pub(crate) completed: usize,
    pub(crate) delivered: usize,
    /// Every delivery, in order, when recording.
    pub(crate) transcript: Option<Vec<Delivery>>,
}

/// One message handed to a node.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) channel: Channel,
    pub(crate) bytes: Vec<u8>,
}

impl Network {
    pub(crate) fn new(signers: &[Keypair], config: &Config, seed: u64) -> Self {
        let nodes = (0..signers.len())
            .map(|i| fresh_node(signers, config, seed, i))
            .collect();
        Network {
            keys: signers.to_vec(),
            nodes,
            peers: signers
                .iter()
                .map(|key| PeerId::from_key(&key.public_key()))
                .collect(),
            index: signers
                .iter()
                .enumerate()
                .map(|(i, key)| (key.public_key().serialize(), i))
                .collect(),
            in_flight: VecDeque::new(),
            now: START,
            completed: 0,
            delivered: 0,
            transcript: None,
        }
    }

    pub(crate) fn spec(&self, shape: Shape) -> SessionSpec {
        SessionSpec {
            election: ElectionMethod::Lexicographic,
            options: SessionOptions {
                topology: shape.topology,
                nonce_commitments: shape.commitments,
                ..SessionOptions::default()
            },
            ..SessionSpec::new(
                self.keys.iter().map(Keypair::public_key).collect(),
                MESSAGE,
                Dialect::Bip340,
            )
        }
    }

    /// Moves node `i`'s outputs into flight, joining announced sessions.
    fn drain(&mut self, i: usize) {
        let now = self.now;
        let node = &mut self.nodes[i];
        loop {
            let mut any = false;
            while let Some(event) = node.poll_event() {
                any = true;
                match event {
                    Event::SessionAnnounced { session, .. } => {
                        node.join_session(now, &session, Progress::Automatic)
                            .expect("join an announced session");
                    }
                    Event::SessionComplete { .. } => self.completed += 1,
                    Event::SessionAborted { reason, .. } => panic!("aborted: {reason:?}"),
                    _ => {}
                }
            }
            while let Some(transmit) = node.poll_transmit() {
                any = true;
                let to = self.index[&transmit.to.serialize()];
                self.in_flight
                    .push_back((i, to, transmit.channel, transmit.bytes));
            }
            if !any {
                return;
            }
        }
    }

    /// One complete session created by node `creator`: returns once every message was
    /// delivered, and checks that every node completed.
    pub(crate) fn run_session(&mut self, creator: usize, shape: Shape) -> SessionId {
        self.completed = 0;
        let spec = self.spec(shape);
        let session = self.nodes[creator]
            .create_session(self.now, spec)
            .expect("create the session");
        self.drain(creator);
        while let Some((from, to, channel, bytes)) = self.in_flight.pop_front() {
            let peer = self.peers[from].clone();
            self.nodes[to]
                .handle_message(self.now, peer, channel, &bytes)
                .expect("an honest network delivers only acceptable messages");
            self.delivered += 1;
            if let Some(transcript) = &mut self.transcript {
                transcript.push(Delivery {
                    from,
                    to,
                    channel,
                    bytes,
                });
            }
            self.drain(to);
        }
        assert_eq!(self.completed, self.nodes.len(), "every node completes");
        session
    }

    /// Closes `session` everywhere and moves the clock past its expiry, so the nodes hold
    /// no session any more.
    pub(crate) fn forget_sessions(&mut self, session: &SessionId) {
        for node in &mut self.nodes {
            node.close_session(self.now, session)
                .expect("close a completed session");
            while node.poll_event().is_some() {}
            while node.poll_transmit().is_some() {}
        }
        let config = self.nodes[0].config().clone();
        self.now = self
            .now
            .saturating_add(config.session_timeout + config.expired_retention)
            .saturating_add(Duration::from_millis(1));
        for node in &mut self.nodes {
            node.handle_timeout(self.now);
            assert!(node.session(session).is_none(), "the session was forgotten");
            while node.poll_event().is_some() {}
            while node.poll_transmit().is_some() {}
        }
    }
}

/// A fresh node that plays node `index` of a [`Network`] made by `Network::new(signers,
/// config, seed)`: same key, same seed, same start.
pub(crate) fn fresh_node(signers: &[Keypair], config: &Config, seed: u64, index: usize) -> Node {
    let mut rng_seed = [0u8; 32];
    rng_seed[..8].copy_from_slice(&seed.to_be_bytes());
    rng_seed[8..16].copy_from_slice(&(index as u64).to_be_bytes());
    Node::new(config.clone(), signers[index], rng_seed, START)
}

/// Hands `delivery` to `node` as the network did, then does what the network's driver did
/// with the node's outputs: joins announced sessions, drops the transmits.
pub(crate) fn replay(node: &mut Node, signers: &[Keypair], delivery: &Delivery) {
    let peer = PeerId::from_key(&signers[delivery.from].public_key());
    node.handle_message(START, peer, delivery.channel, &delivery.bytes)
        .expect("a recorded delivery is accepted again");
    while let Some(event) = node.poll_event() {
        if let Event::SessionAnnounced { session, .. } = event {
            node.join_session(START, &session, Progress::Automatic)
                .expect("join an announced session");
        }
    }
    drain_other_outputs(node);
}

/// Drops a node's queued transmits and discovery outputs, as a driver that has nothing to
/// do with them would, so no queue grows.
pub(crate) fn drain_other_outputs(node: &mut Node) {
    while node.poll_transmit().is_some() {}
    while node.poll_discovery_event().is_some() {}
    while node.poll_discovery_transmit().is_some() {}
}
