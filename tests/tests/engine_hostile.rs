//! Hostile bytes at any point of a session: a node never panics, and whatever it rejects
//! leaves its state untouched (or, for a blame, aborts the session and nothing else).
//!
//! Each case replays the first `k` messages of a real three-party session, then hands one
//! node a corrupted copy of a real message (bytes flipped, cut, or extended) or pure noise.

mod engine_support;

use chorus_core::crypto::Dialect;
use chorus_core::node::{PeerId, PhaseKind};
use chorus_core::wire::{Channel, Topology};
use engine_support::Cluster;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// How a real message is spoiled.
#[derive(Debug, Clone)]
enum Spoil {
    /// XOR these bytes in at these positions.
    Flip(Vec<(usize, u8)>),
    /// Keep only a prefix.
    Cut(usize),
    /// Append noise.
    Extend(Vec<u8>),
    /// Replace with noise.
    Noise(Vec<u8>),
}

fn spoil() -> impl Strategy<Value = Spoil> {
    prop_oneof![
        4 => vec((any::<usize>(), 1u8..), 1..4).prop_map(Spoil::Flip),
        1 => any::<usize>().prop_map(Spoil::Cut),
        1 => vec(any::<u8>(), 1..16).prop_map(Spoil::Extend),
        1 => vec(any::<u8>(), 0..300).prop_map(Spoil::Noise),
    ]
}

fn apply(spoil: &Spoil, mut bytes: Vec<u8>) -> Vec<u8> {
    match spoil {
        Spoil::Flip(flips) => {
            for (position, mask) in flips {
                let index = position % bytes.len().max(1);
                if let Some(byte) = bytes.get_mut(index) {
                    *byte ^= mask;
                }
            }
            bytes
        }
        Spoil::Cut(length) => {
            bytes.truncate(length % bytes.len().max(1));
            bytes
        }
        Spoil::Extend(noise) => {
            bytes.extend_from_slice(noise);
            bytes
        }
        Spoil::Noise(noise) => noise.clone(),
    }
}

/// A cluster with a session whose first `steps` messages were delivered, first in first out.
fn replay(
    aggregator: bool,
    commitments: bool,
    steps: usize,
) -> (Cluster, chorus_core::wire::SessionId) {
    let mut cluster = Cluster::new(3, 60);
    let topology = if aggregator {
        Topology::Aggregator
    } else {
        Topology::Mesh
    };
    let spec = cluster.spec(Dialect::Lotus, topology, commitments);
    let session = cluster.nodes[0].create_session(cluster.now, spec).unwrap();
    cluster.collect();
    for _ in 0..steps {
        let Some(packet) = cluster.in_flight.pop_front() else {
            break;
        };
        let _ = cluster.deliver(&packet);
    }
    (cluster, session)
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::with_cases(128)
    })]

    #[test]
    fn hostile_bytes_never_panic_and_rejections_change_nothing(
        aggregator in any::<bool>(),
        commitments in any::<bool>(),
        steps in 0usize..40,
        victim in 0usize..3,
        pick in any::<usize>(),
        spoil in spoil(),
        gossip in any::<bool>(),
    ) {
        let (mut cluster, session) = replay(aggregator, commitments, steps);
        let sent = &cluster.sent;
        let original = sent[pick % sent.len()].bytes.clone();
        let bytes = apply(&spoil, original);
        let channel = if gossip { Channel::Gossip } else { Channel::Direct };
        let node = &mut cluster.nodes[victim];
        let before = node.state_digest();
        let phase_before = node.session(&session).map(|view| view.phase());
        let result = node.handle_message(cluster.now, PeerId::new([0xee]), channel, &bytes);
        if let Err(rejection) = result {
            if rejection.is_blame() {
                let phase = node.session(&session).map(|view| view.phase());
                prop_assert_eq!(phase, Some(PhaseKind::Aborted));
            } else {
                prop_assert_eq!(node.state_digest(), before, "{}", rejection);
                prop_assert_eq!(node.session(&session).map(|view| view.phase()), phase_before);
            }
            let counted = node.rejections(&PeerId::new([0xee])).map(|c| c.total());
            prop_assert_eq!(counted, Some(1));
        }
    }
}
