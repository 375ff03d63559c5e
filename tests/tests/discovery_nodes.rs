//! The whole flow on five `Node`s pumped in-process: advertise → discover → request → join
//! → ready → rounds → signature → broadcast → confirmation, in both dialects and both
//! topologies, with the creator's keys in unsorted order. Then what a node refuses: a
//! creator that announces another message than the signers agreed to, and a peer that
//! forged ten signatures.

mod discovery_support;

use std::time::Duration;

use chorus_core::crypto::{self, Dialect, Keypair, PublicKey, Signature};
use chorus_core::discovery::*;
use chorus_core::election::ElectionMethod;
use chorus_core::node::{Config, Event, Node, PeerId, Progress, Rejection, Transmit};
use chorus_core::security::{RejectionKind, SecurityError};
use chorus_core::time::Timestamp;
use chorus_core::wire::*;
use discovery_support::{at, keypair, HOUR};

const MESSAGE: [u8; 32] = [0x5a; 32];
const TRANSACTION_ID: [u8; 32] = [0x77; 32];

/// Rewrites a session message from node `usize`, or drops it.
type Tamper = Box<dyn FnMut(usize, Transmit) -> Option<Transmit>>;

/// Five nodes on a perfect network: session messages go to the signer they name, discovery
/// records on a topic reach every other node.
struct Cluster {
    keys: Vec<Keypair>,
    nodes: Vec<Node>,
    now: Timestamp,
    events: Vec<Vec<Event>>,
    discovery_events: Vec<Vec<DiscoveryEvent>>,
    /// Rewrites (or drops) session messages before delivery: the hostile creator.
    tamper: Option<Tamper>,
}

impl Cluster {
    fn new(seed: u16) -> Self {
        let keys: Vec<Keypair> = (0..5).map(|index| keypair(seed * 10 + index)).collect();
        let now = at(0);
        let nodes = keys
            .iter()
            .zip(0u8..)
            .map(|(key, rng)| Node::new(Config::default(), *key, [rng; 32], now))
            .collect();
        Cluster {
            keys,
            nodes,
            now,
            events: vec![Vec::new(); 5],
            discovery_events: vec![Vec::new(); 5],
            tamper: None,
        }
    }

    fn peer(&self, index: usize) -> PeerId {
        PeerId::from_key(&self.keys[index].public_key())
    }

    fn index_of(&self, key: &PublicKey) -> usize {
        self.keys
            .iter()
            .position(|keypair| keypair.public_key() == *key)
            .expect("a cluster key")
    }

    /// Delivers everything until the network is quiet; the coordinator asked to broadcast
    /// does so at once.
    fn pump(&mut self) {
        loop {
            let mut session_messages = Vec::new();
            let mut records = Vec::new();
            let mut broadcasts = Vec::new();
            for index in 0..self.nodes.len() {
                while let Some(event) = self.nodes[index].poll_event() {
                    if let Event::ShouldBroadcast { session, .. } = &event {
                        broadcasts.push((index, *session));
                    }
                    self.events[index].push(event);
                }
                while let Some(event) = self.nodes[index].poll_discovery_event() {
                    self.discovery_events[index].push(event);
                }
                while let Some(transmit) = self.nodes[index].poll_transmit() {
                    session_messages.push((index, transmit));
                }
                while let Some(outbound) = self.nodes[index].poll_discovery_transmit() {
                    records.push((index, outbound));
                }
            }
            if session_messages.is_empty() && records.is_empty() && broadcasts.is_empty() {
                return;
            }
            for (from, transmit) in session_messages {
                let transmit = match self.tamper.as_mut() {
                    Some(tamper) => tamper(from, transmit),
                    None => Some(transmit),
                };
                if let Some(transmit) = transmit {
                    let to = self.index_of(&transmit.to);
                    let peer = self.peer(from);
                    let outcome = self.nodes[to].handle_message(
                        self.now,
                        peer,
                        transmit.channel,
                        &transmit.bytes,
                    );
                    outcome.unwrap_or_else(|rejection| {
                        panic!("node {to} refused node {from}: {rejection}")
                    });
                }
            }
            for (from, outbound) in records {
                let Destination::Topic(_) = outbound.destination else {
                    continue; // DHT records are stored for later lookups; topics carry them now.
                };
                let peer = self.peer(from);
                for to in (0..self.nodes.len()).filter(|to| *to != from) {
                    let outcome = self.nodes[to].handle_message(
                        self.now,
                        peer.clone(),
                        Channel::Gossip,
                        &outbound.bytes,
                    );
                    outcome.unwrap_or_else(|rejection| {
                        panic!("node {to} refused record of node {from}: {rejection}")
                    });
                }
            }
            for (index, session) in broadcasts {
                self.nodes[index]
                    .notify_broadcast_complete(self.now, &session, &TRANSACTION_ID)
                    .unwrap();
            }
        }
    }

    fn ready_sessions(&self, index: usize) -> Vec<SessionParameters> {
        self.discovery_events[index]
            .iter()
            .filter_map(|event| match event {
                DiscoveryEvent::SessionReady(parameters) => Some(parameters.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Phases 0 to 2: four nodes advertise, node 0 finds them and requests a 5-of-5 signature,
/// listing the keys out of order.
fn advertise_discover_request(
    cluster: &mut Cluster,
    dialect: Dialect,
    topology: Topology,
) -> RequestId {
    for index in 1..5 {
        let mut spec = AdvertisementSpec::new(SignerCriteria::new(["spend"]), HOUR);
        spec.metadata.nickname = format!("signer {index}");
        let now = cluster.now;
        cluster.nodes[index].advertise(now, spec).unwrap();
    }
    cluster.pump();
    let filter = SignerFilter {
        transaction_type: Some("spend".into()),
        ..SignerFilter::default()
    };
    let mut keys: Vec<PublicKey> = cluster.nodes[0]
        .find_signers(cluster.now, &filter)
        .iter()
        .map(|ad| ad.key().unwrap())
        .collect();
    assert_eq!(keys.len(), 4, "node 0 discovers the four signers");
    keys.push(cluster.keys[0].public_key());
    keys.sort_by_key(PublicKey::serialize);
    keys.reverse();
    keys.swap(1, 3);
    let mut sorted = keys.clone();
    sorted.sort_by_key(PublicKey::serialize);
    assert_ne!(keys, sorted, "the creator lists the keys out of order");

    let mut spec = RequestSpec::new(keys, MESSAGE, dialect, Duration::from_secs(600));
    spec.election = ElectionMethod::HashBased;
    spec.options = SessionOptions {
        topology,
        ..SessionOptions::default()
    };
    spec.metadata = RequestMetadata {
        transaction: vec![0x02; 120],
        amount: Some(5_000_000),
        transaction_type: Some("spend".into()),
        description: "5-of-5 spend".into(),
    };
    let now = cluster.now;
    let request = cluster.nodes[0]
        .announce_request(now, spec, Progress::Automatic)
        .unwrap();
    cluster.pump();
    request
}

/// Phase 3: the four others find the request and join.
fn join_all(cluster: &mut Cluster, request: RequestId) {
    for index in 1..5 {
        let now = cluster.now;
        let found: Vec<RequestId> = cluster.nodes[index]
            .requests_for_me(now)
            .iter()
            .map(|found| found.id())
            .collect();
        assert_eq!(found, [request], "node {index} sees the request");
        cluster.nodes[index]
            .join_request(now, &request, Progress::Automatic)
            .unwrap();
    }
    cluster.pump();
}

fn run_whole_flow(seed: u16, dialect: Dialect, topology: Topology) {
    let mut cluster = Cluster::new(seed);
    let request = advertise_discover_request(&mut cluster, dialect, topology);
    join_all(&mut cluster, request);

    // Every node derived the same session from the request.
    let parameters = cluster.ready_sessions(0);
    assert_eq!(parameters.len(), 1);
    let parameters = parameters[0].clone();
    for index in 0..5 {
        assert_eq!(
            cluster.ready_sessions(index),
            std::slice::from_ref(&parameters),
            "node {index}"
        );
    }
    let id = parameters.session;
    let mut sorted: Vec<PublicKey> = cluster.keys.iter().map(Keypair::public_key).collect();
    sorted.sort_by_key(PublicKey::serialize);
    assert_eq!(parameters.signers, sorted);

    // The rounds ran, everyone holds one valid signature, one coordinator broadcast, and
    // everyone saw the confirmation.
    let mut signatures: Vec<Signature> = Vec::new();
    let mut broadcasters = Vec::new();
    for index in 0..5 {
        let view = cluster.nodes[index]
            .session(&id)
            .expect("the derived session exists on every node");
        assert_eq!(
            view.election().coordinator,
            cluster.nodes[0]
                .session(&id)
                .unwrap()
                .election()
                .coordinator
        );
        let signature = cluster.nodes[index].final_signature(&id).expect("signed");
        assert!(crypto::verify(
            dialect,
            &view.aggregate_key(),
            &MESSAGE,
            &signature
        ));
        signatures.push(signature);
        for event in &cluster.events[index] {
            match event {
                Event::ShouldBroadcast {
                    session, attempt, ..
                } => {
                    assert_eq!((*session, *attempt), (id, 0));
                    broadcasters.push(index);
                }
                Event::SessionAborted { .. } | Event::SessionExpired { .. } => {
                    panic!("node {index}: {event:?}")
                }
                _ => {}
            }
        }
        assert!(
            cluster.events[index].iter().any(|event| matches!(
                event,
                Event::BroadcastConfirmed { session, transaction_id, .. } if *session == id && transaction_id[..] == TRANSACTION_ID
            )),
            "node {index} saw the confirmation"
        );
        assert_eq!(view.confirmed_transaction(), Some(&TRANSACTION_ID[..]));
        assert_eq!(
            cluster.nodes[index].security().metrics().total_rejections(),
            0,
            "node {index}"
        );
    }
    assert!(signatures
        .iter()
        .all(|signature| *signature == signatures[0]));
    assert_eq!(broadcasters.len(), 1, "exactly one coordinator broadcasts");
    let coordinator = cluster.nodes[0]
        .session(&id)
        .unwrap()
        .election()
        .coordinator;
    assert_eq!(cluster.keys[broadcasters[0]].public_key(), coordinator);
    println!(
        "{dialect}/{topology}: session {id} signed by 5 nodes, broadcast by node {}",
        broadcasters[0]
    );
}

#[test]
fn five_nodes_from_advertisement_to_broadcast_confirmation() {
    for (seed, dialect, topology) in [
        (1, Dialect::Bip340, Topology::Mesh),
        (2, Dialect::Lotus, Topology::Mesh),
        (3, Dialect::Bip340, Topology::Aggregator),
        (4, Dialect::Lotus, Topology::Aggregator),
    ] {
        run_whole_flow(seed, dialect, topology);
    }
}

#[test]
fn participants_refuse_a_session_announced_with_another_message() {
    let mut cluster = Cluster::new(5);
    let request = advertise_discover_request(&mut cluster, Dialect::Bip340, Topology::Mesh);
    // Node 0 announces the session with a message of its choosing instead.
    let creator = cluster.keys[0];
    cluster.tamper = Some(Box::new(move |from, transmit: Transmit| {
        let signed = SignedEnvelope::decode(&transmit.bytes, transmit.channel).unwrap();
        let Payload::SessionAnnounce(mut announce) = signed.envelope.payload.clone() else {
            return Some(transmit);
        };
        assert_eq!(from, 0);
        announce.message = [0x66; 32];
        let mut envelope = signed.envelope;
        envelope.payload = Payload::SessionAnnounce(announce);
        let bytes = SignedEnvelope::seal(envelope, &creator, &[0; 32]).encode();
        Some(Transmit { bytes, ..transmit })
    }));
    join_all(&mut cluster, request);
    let id = cluster.ready_sessions(0)[0].session;
    for index in 1..5 {
        assert!(
            cluster.discovery_events[index].contains(&DiscoveryEvent::AnnouncementMismatch {
                request,
                session: id
            }),
            "node {index} noticed"
        );
        assert_eq!(
            cluster.nodes[index].session(&id).unwrap().phase(),
            chorus_core::node::PhaseKind::Init
        );
        assert!(cluster.nodes[index].final_signature(&id).is_none());
    }
}

#[test]
fn a_peer_that_forged_ten_signatures_is_refused_everywhere() {
    let mut cluster = Cluster::new(6);
    let mallory = keypair(666);
    let mallory_peer = PeerId::from_key(&mallory.public_key());
    let now = cluster.now;
    for attempt in 0..10u8 {
        let content = AdvertisementContent::new(
            mallory_peer.clone(),
            SignerCriteria::new(["spend"]),
            SignerMetadata {
                nickname: format!("attempt {attempt}"),
                ..SignerMetadata::default()
            },
            now,
            HOUR,
        );
        let mut forged = SignerAdvertisement::sign(content, &mallory, &[0; 32]);
        forged.signature[0] ^= 1;
        let bytes = DiscoveryMessage::Advertisement(forged).encode();
        let refused =
            cluster.nodes[0].handle_message(now, mallory_peer.clone(), Channel::Gossip, &bytes);
        assert_eq!(
            refused,
            Err(Rejection::Discovery(DiscoveryError::InvalidSignature {
                record: RecordKind::Advertisement
            }))
        );
    }
    assert!(cluster.nodes[0].security().is_blacklisted(&mallory_peer));
    assert!(
        std::iter::from_fn(|| cluster.nodes[0].poll_discovery_event()).any(|event| matches!(
            event,
            DiscoveryEvent::Security(chorus_core::security::SecurityEvent::PeerBlacklisted { .. })
        ))
    );
    // Its session messages are refused before they are decoded.
    let envelope = Envelope::new(
        SessionId([1; 32]),
        &mallory.public_key(),
        Sequence(1),
        now,
        Payload::SessionReady(SessionReady {
            coordinator_index: 0,
        }),
    );
    let bytes = SignedEnvelope::seal(envelope, &mallory, &[0; 32]).encode();
    let refused =
        cluster.nodes[0].handle_message(now, mallory_peer.clone(), Channel::Direct, &bytes);
    assert_eq!(
        refused,
        Err(Rejection::Discovery(
            SecurityError::Blacklisted {
                peer: mallory_peer.clone()
            }
            .into()
        ))
    );
    assert_eq!(
        cluster.nodes[0]
            .security()
            .metrics()
            .rejections(RejectionKind::Blacklisted),
        1
    );
    let counters = cluster.nodes[0].rejections(&mallory_peer).unwrap();
    assert_eq!(
        counters.count(chorus_core::node::RejectionKind::Discovery),
        11
    );
}

#[test]
fn forged_session_envelopes_count_towards_the_blacklist() {
    let mut cluster = Cluster::new(7);
    let now = cluster.now;
    let signers = cluster.keys.iter().map(Keypair::public_key).collect();
    let spec = chorus_core::node::SessionSpec::new(signers, MESSAGE, Dialect::Bip340);
    let id = cluster.nodes[0].create_session(now, spec).unwrap();
    // A relay forwards joins that claim to come from node 1 but are signed by Mallory.
    let mallory = keypair(667);
    let relay = PeerId::new(*b"relay");
    for sequence in 1..=10u64 {
        let join = Join::new(&cluster.keys[1].public_key());
        let envelope = Envelope::new(
            id,
            &cluster.keys[1].public_key(),
            Sequence(sequence),
            now,
            Payload::Join(join),
        );
        let mut forged = SignedEnvelope::seal(envelope, &mallory, &[0; 32]);
        forged.envelope.sender = cluster.keys[1].public_key().serialize();
        let refused =
            cluster.nodes[0].handle_message(now, relay.clone(), Channel::Direct, &forged.encode());
        assert_eq!(refused, Err(Rejection::BadSignature), "forgery {sequence}");
    }
    let security = cluster.nodes[0].security();
    assert_eq!(
        security.metrics().rejections(RejectionKind::ForgedEnvelope),
        10
    );
    assert!(security.is_blacklisted(&relay));
    // The genuine node 1 is a different peer and is not affected.
    assert!(!security.is_blacklisted(&cluster.peer(1)));
}

#[test]
fn discovery_expiry_is_the_cleanup_timeout() {
    let mut cluster = Cluster::new(8);
    let now = cluster.now;
    cluster.nodes[1]
        .advertise(
            now,
            AdvertisementSpec::new(SignerCriteria::new(["spend"]), HOUR),
        )
        .unwrap();
    cluster.pump();
    let key = cluster.keys[1].public_key();
    assert!(cluster.nodes[0].discovery().directory().contains(&key));
    let expiry = now.saturating_add(HOUR);
    assert_eq!(
        cluster.nodes[0].poll_timeout(),
        Some((expiry, chorus_core::timer::TimerKind::Cleanup))
    );
    cluster.nodes[0].handle_timeout(expiry.saturating_sub(Duration::from_millis(1)));
    assert!(
        cluster.nodes[0].discovery().directory().contains(&key),
        "an early timeout changes nothing"
    );
    cluster.nodes[0].handle_timeout(expiry);
    assert!(!cluster.nodes[0].discovery().directory().contains(&key));
    assert_eq!(
        cluster.nodes[0].poll_discovery_event(),
        Some(DiscoveryEvent::SignerExpired { key })
    );
    assert_eq!(cluster.nodes[0].poll_timeout(), None);
}
