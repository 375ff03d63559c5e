//! Inbound messages per second through `Node::handle_message`.
//!
//! - `checks_then_forged_signature`: a round-1 nonce share whose envelope signature is
//!   forged. It passes every check of SPEC §3 before the signature — size, decode (every
//!   point parsed), clock skew, known session, participant, phase, sequence — and is then
//!   refused by the signature check, changing nothing, so it can be sent again and again:
//!   the cost of the inbound pipeline itself (the security manager's blacklist, which would
//!   stop the 11th copy at admission, is lifted for it).
//! - `replayed`: the same nonce share again after it was accepted: refused by the sequence
//!   check, before the signature (what a replay flood costs).
//! - `mesh_node_n10` / `aggregator_n100`: every message one node receives in a whole
//!   session (mesh at n = 10; the aggregator's at n = 100), accepted, with everything the
//!   node does in response (signing its own messages, aggregating, verifying partial
//!   signatures): the node's end-to-end inbound rate.
//! - `security_new_peer_full_table`: one never-seen peer recorded by a security manager
//!   whose peer table is full at its default size (20,000): what a flood of fresh peer ids
//!   costs per message, making room included.
//!
//! Run with `cargo bench -p chorus-core --bench engine_inbound`; criterion prints each
//! rate as `thrpt` in elements (messages) per second.

mod engine_common;

use std::hint::black_box;
use std::time::Duration;

use chorus_core::crypto::Keypair;
use chorus_core::node::{Config, Node, PeerId, Rejection};
use chorus_core::security::{SecurityLimits, SecurityManager};
use chorus_core::time::Timestamp;
use chorus_core::wire::{PayloadKind, SignedEnvelope, Topology};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use engine_common::{
    drain_other_outputs, fresh_node, keypairs, replay, Delivery, Network, Shape, START,
};

const SEED: u64 = 3;

/// The deliveries of one recorded session, created by node 0.
fn transcript(signers: &[Keypair], shape: Shape) -> Vec<Delivery> {
    let mut network = Network::new(signers, &shape.config(), SEED);
    network.transcript = Some(Vec::new());
    network.run_session(0, shape);
    network.transcript.unwrap_or_default()
}

fn kind_of(delivery: &Delivery) -> PayloadKind {
    SignedEnvelope::decode(&delivery.bytes, delivery.channel)
        .expect("recorded bytes decode")
        .envelope
        .payload
        .kind()
}

/// Node `receiver` with every delivery to it before `stop` replayed.
fn replayed_until(
    signers: &[Keypair],
    config: &Config,
    deliveries: &[Delivery],
    receiver: usize,
    stop: usize,
) -> Node {
    let mut node = fresh_node(signers, config, SEED, receiver);
    for delivery in deliveries[..stop].iter().filter(|d| d.to == receiver) {
        replay(&mut node, signers, delivery);
    }
    node
}

fn pipeline(c: &mut Criterion) {
    let signers = keypairs(10, 10);
    let shape = Shape {
        topology: Topology::Mesh,
        commitments: false,
        cached: false,
    };
    let deliveries = transcript(&signers, shape);
    let receiver = 1;
    let position = deliveries
        .iter()
        .position(|d| d.to == receiver && kind_of(d) == PayloadKind::NonceShare)
        .expect("node 1 receives nonce shares");
    let nonce = deliveries[position].clone();
    let peer = PeerId::from_key(&signers[nonce.from].public_key());

    let mut forged = SignedEnvelope::decode(&nonce.bytes, nonce.channel).expect("decodes");
    forged.signature[10] ^= 1;
    let forged = forged.encode();
    assert!(SignedEnvelope::decode(&forged, nonce.channel).is_ok());

    let mut group = c.benchmark_group("inbound");
    group.throughput(Throughput::Elements(1));
    // The security manager blacklists a peer after 10 forged signatures (after which its
    // messages stop at admission); here the limit is lifted so that the same forged message
    // can measure the whole pipeline again and again.
    let config = Config {
        discovery: SecurityLimits {
            max_invalid_signatures: u32::MAX,
            ..SecurityLimits::default()
        },
        ..shape.config()
    };
    let mut node = replayed_until(&signers, &config, &deliveries, receiver, position);
    group.bench_function("checks_then_forged_signature", |b| {
        b.iter(|| {
            let result = node.handle_message(START, peer.clone(), nonce.channel, &forged);
            assert_eq!(result, Err(Rejection::BadSignature));
            while node.poll_event().is_some() {}
            drain_other_outputs(&mut node);
        })
    });
    replay(&mut node, &signers, &nonce);
    group.bench_function("replayed", |b| {
        b.iter(|| {
            let result = node.handle_message(START, peer.clone(), nonce.channel, &nonce.bytes);
            assert!(matches!(result, Err(Rejection::Replay { .. })));
            drain_other_outputs(&mut node);
        })
    });
    group.finish();
}

/// Every delivery to `receiver` in a recorded session, replayed into a fresh node.
fn whole_session(c: &mut Criterion, name: &str, n: usize, shape: Shape, receiver: usize) {
    let signers = keypairs(n, n as u64);
    let deliveries = transcript(&signers, shape);
    let inbound: Vec<Delivery> = deliveries
        .iter()
        .filter(|d| d.to == receiver)
        .cloned()
        .collect();
    let mut group = c.benchmark_group("inbound");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(inbound.len() as u64));
    group.bench_function(name, |b| {
        b.iter_batched(
            || fresh_node(&signers, &shape.config(), SEED, receiver),
            |mut node| {
                for delivery in &inbound {
                    replay(&mut node, &signers, delivery);
                }
                black_box(node)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn sessions(c: &mut Criterion) {
    let mesh = Shape {
        topology: Topology::Mesh,
        commitments: true,
        cached: false,
    };
    whole_session(c, "mesh_node_n10", 10, mesh, 1);
    let aggregator = Shape {
        topology: Topology::Aggregator,
        commitments: true,
        cached: false,
    };
    // Lexicographic election: the aggregator holds the smallest key.
    let signers = keypairs(100, 100);
    let coordinator = (0..signers.len())
        .min_by_key(|i| signers[*i].public_key().serialize())
        .unwrap_or(0);
    let receiver = if coordinator == 0 { 1 } else { coordinator };
    whole_session(c, "aggregator_n100", 100, aggregator, receiver);
}

fn security(c: &mut Criterion) {
    let limits = SecurityLimits::default();
    let size = limits.max_tracked_peers;
    let mut security = SecurityManager::new(limits);
    // Peer number i is seen at millisecond i, so the oldest are the first to go.
    let record = |security: &mut SecurityManager, index: u64| {
        let peer = PeerId::new(index.to_be_bytes());
        security.record_accepted(Timestamp::from_millis(index), black_box(&peer));
    };
    let mut next: u64 = 0;
    while next < size as u64 {
        record(&mut security, next);
        next += 1;
    }
    let mut group = c.benchmark_group("inbound");
    group.throughput(Throughput::Elements(1));
    group.bench_function("security_new_peer_full_table", |b| {
        b.iter(|| {
            record(&mut security, next);
            next += 1;
        })
    });
    group.finish();
    assert!(security.tracked_peers() <= size);
}

criterion_group!(benches, pipeline, sessions, security);
criterion_main!(benches);
