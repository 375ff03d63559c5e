//! The session engine's happy path: n Nodes pumped in one process complete one session,
//! in both dialects, both topologies, with and without round 0; the elected coordinator is
//! asked to broadcast; its confirmation stops every failover timer.

mod engine_support;

use chorus_core::crypto::{self, sort_keys, Dialect, PublicKey, Signature};
use chorus_core::node::{Event, PhaseKind, Progress};
use chorus_core::timer::TimerKind;
use chorus_core::wire::{SessionId, Topology};
use engine_support::Cluster;
use secp256k1::musig;

/// The signature checked without the engine: libsecp256k1's own MuSig2 key aggregation and
/// BIP340 verification (Bip340), or the crypto module's Lotus verifier.
fn independently_valid(dialect: Dialect, keys: &[PublicKey], signature: &Signature) -> bool {
    match dialect {
        Dialect::Bip340 => {
            let sorted = sort_keys(keys);
            let refs: Vec<&PublicKey> = sorted.iter().collect();
            let cache = musig::KeyAggCache::new(&refs);
            let signature = secp256k1::schnorr::Signature::from_byte_array(signature.to_bytes());
            secp256k1::schnorr::verify(&signature, &[0x5a; 32], &cache.agg_pk()).is_ok()
        }
        Dialect::Lotus => {
            let ctx = crypto::KeyAggContext::new(Dialect::Lotus, keys).unwrap();
            crypto::verify(Dialect::Lotus, &ctx.aggregate_key(), &[0x5a; 32], signature)
        }
    }
}

/// Runs one session to completion and the broadcast confirmation; returns the number of
/// messages delivered.
fn run_session(n: usize, dialect: Dialect, topology: Topology, commitments: bool) -> usize {
    let mut cluster = Cluster::new(n, 1);
    let spec = cluster.spec(dialect, topology, commitments);
    let creator = n / 2;
    let session = cluster.sign(creator, spec);
    let label = format!("n={n} {dialect} {topology:?} commitments={commitments}");

    let signatures = cluster.signatures(&session);
    let first = signatures[0].unwrap_or_else(|| panic!("{label}: node 0 did not complete"));
    for (i, signature) in signatures.iter().enumerate() {
        assert_eq!(*signature, Some(first), "{label}: node {i}");
        let view = cluster.nodes[i].session(&session).unwrap();
        assert_eq!(view.phase(), PhaseKind::Complete, "{label}: node {i}");
        assert!(crypto::verify(
            dialect,
            &view.aggregate_key(),
            &[0x5a; 32],
            &first
        ));
    }
    assert!(
        independently_valid(dialect, &cluster.public_keys(), &first),
        "{label}"
    );
    assert!(
        cluster.rejections.is_empty(),
        "{label}: {:?}",
        cluster.rejections
    );

    let broadcasters = cluster.find(|event| matches!(event, Event::ShouldBroadcast { .. }));
    assert_eq!(broadcasters.len(), 1, "{label}");
    let (broadcaster, _) = broadcasters[0];
    let view = cluster.nodes[0].session(&session).unwrap();
    assert_eq!(
        cluster.keys[broadcaster].public_key(),
        view.election().coordinator,
        "{label}: the elected coordinator broadcasts"
    );
    for node in &cluster.nodes {
        assert!(
            armed(node.poll_timeout(), &session),
            "{label}: broadcast timer"
        );
    }
    let delivered = cluster.delivered;

    cluster.nodes[broadcaster]
        .notify_broadcast_complete(cluster.now, &session, &[0xab; 32])
        .unwrap();
    cluster.run();
    let confirmed = cluster.find(|event| matches!(event, Event::BroadcastConfirmed { .. }));
    assert_eq!(
        confirmed.len(),
        n,
        "{label}: everyone hears of the broadcast"
    );
    for node in &cluster.nodes {
        assert!(
            !armed(node.poll_timeout(), &session),
            "{label}: timers cancelled"
        );
        let view = node.session(&session).unwrap();
        assert_eq!(view.confirmed_transaction(), Some(&[0xab; 32][..]));
    }
    delivered
}

/// Whether a broadcast timeout of `session` is the next timer.
fn armed(next: Option<(chorus_core::time::Timestamp, TimerKind)>, session: &SessionId) -> bool {
    matches!(next, Some((_, TimerKind::BroadcastTimeout { session: s, .. })) if s == *session)
}

#[test]
fn sessions_complete_for_every_size_dialect_and_topology() {
    for n in [1, 2, 3, 5, 10] {
        for dialect in [Dialect::Bip340, Dialect::Lotus] {
            for topology in [Topology::Mesh, Topology::Aggregator] {
                for commitments in [false, true] {
                    run_session(n, dialect, topology, commitments);
                }
            }
        }
    }
}

#[test]
fn the_aggregator_topology_sends_linearly_many_messages() {
    let n = 10;
    let mesh = run_session(n, Dialect::Bip340, Topology::Mesh, false);
    let aggregator = run_session(n, Dialect::Bip340, Topology::Aggregator, false);
    // Mesh: announce, join, ready, then nonces and partials all-to-all.
    assert_eq!(mesh, 3 * (n - 1) + 2 * n * (n - 1));
    // Aggregator: announce, join, ready, nonce in, aggregate out, partial in, final out.
    assert_eq!(aggregator, 7 * (n - 1));
}

#[test]
fn manual_progress_waits_for_the_round_commands() {
    let n = 3;
    let mut cluster = Cluster::new(n, 2);
    cluster.progress = Progress::Manual;
    let mut spec = cluster.spec(Dialect::Lotus, Topology::Mesh, true);
    spec.progress = Progress::Manual;
    let session = cluster.sign(0, spec);
    for node in &cluster.nodes {
        assert_eq!(
            node.session(&session).unwrap().phase(),
            PhaseKind::NonceCommit
        );
    }
    for i in 0..n {
        let now = cluster.now;
        cluster.nodes[i].start_round1(now, &session).unwrap();
        assert!(cluster.nodes[i].start_round1(now, &session).is_err());
    }
    cluster.run();
    for node in &cluster.nodes {
        assert_eq!(
            node.session(&session).unwrap().phase(),
            PhaseKind::PartialSigExchange
        );
    }
    assert_eq!(
        cluster
            .find(|event| matches!(event, Event::NoncesComplete { .. }))
            .len(),
        n
    );
    for i in 0..n {
        let now = cluster.now;
        cluster.nodes[i].start_round2(now, &session).unwrap();
    }
    cluster.run();
    let signatures = cluster.signatures(&session);
    assert!(signatures
        .iter()
        .all(|s| s.is_some() && *s == signatures[0]));
}

#[test]
fn a_single_signer_completes_without_messages() {
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        let mut cluster = Cluster::new(1, 3);
        let spec = cluster.spec(dialect, Topology::Aggregator, true);
        let session = cluster.sign(0, spec);
        assert_eq!(cluster.delivered, 0);
        assert!(cluster.signatures(&session)[0].is_some());
    }
}

#[test]
fn a_hundred_signers_complete_in_the_aggregator_topology() {
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        run_session(100, dialect, Topology::Aggregator, false);
    }
}

/// 19,800 signed round messages, each verified: about 7 s unoptimised, so it runs in
/// `cargo test --release` only.
#[cfg(not(debug_assertions))]
#[test]
fn a_hundred_signers_complete_in_the_mesh_topology() {
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        run_session(100, dialect, Topology::Mesh, true);
    }
}
