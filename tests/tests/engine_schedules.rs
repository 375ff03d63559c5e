//! Any delivery schedule — messages in any order, some delivered twice, some held back —
//! ends with every node holding the same valid signature.
//!
//! The network delivers every message eventually; which one goes next, and whether a copy
//! of it stays in flight to arrive again later, is drawn by proptest. No time passes, so no
//! timer fires: completion comes from the messages alone.

mod engine_support;

use chorus_core::crypto::{self, Dialect};
use chorus_core::node::{PhaseKind, RejectionKind};
use chorus_core::wire::Topology;
use engine_support::Cluster;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// The rejections a second copy of a message may get: it was seen (replay), its content
/// was (duplicate), or its session moved on (wrong phase, session exists).
const COPY_REJECTIONS: [RejectionKind; 4] = [
    RejectionKind::Replay,
    RejectionKind::Duplicate,
    RejectionKind::WrongPhase,
    RejectionKind::SessionExists,
];

struct Schedule {
    picks: Vec<u32>,
    copies: Vec<bool>,
}

fn run_schedule(cluster: &mut Cluster, schedule: &Schedule) -> Result<(), TestCaseError> {
    // Each message in flight, with whether it is a duplicate copy.
    let mut flight: Vec<(engine_support::Packet, bool)> = Vec::new();
    let mut step = 0;
    loop {
        cluster.collect();
        flight.extend(cluster.in_flight.drain(..).map(|packet| (packet, false)));
        if flight.is_empty() {
            return Ok(());
        }
        let pick = schedule.picks.get(step).copied().unwrap_or(0) as usize;
        let (packet, is_copy) = flight.remove(pick % flight.len());
        if !is_copy && schedule.copies.get(step).copied().unwrap_or(false) {
            flight.push((packet.clone(), true));
        }
        step += 1;
        if let Err(rejection) = cluster.deliver(&packet) {
            prop_assert!(
                is_copy,
                "an original was rejected at step {}: {}",
                step,
                rejection
            );
            prop_assert!(
                COPY_REJECTIONS.contains(&rejection.kind()),
                "a copy was rejected at step {}: {}",
                step,
                rejection
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::with_cases(64)
    })]

    #[test]
    fn any_delivery_schedule_completes_with_one_valid_signature(
        n in 2usize..=4,
        lotus in any::<bool>(),
        aggregator in any::<bool>(),
        commitments in any::<bool>(),
        creator in 0usize..4,
        seed in any::<u8>(),
        picks in vec(any::<u32>(), 0..400),
        copies in vec(proptest::bool::weighted(0.2), 0..400),
    ) {
        let dialect = if lotus { Dialect::Lotus } else { Dialect::Bip340 };
        let topology = if aggregator { Topology::Aggregator } else { Topology::Mesh };
        let mut cluster = Cluster::new(n, seed);
        let spec = cluster.spec(dialect, topology, commitments);
        let session = cluster.nodes[creator % n].create_session(cluster.now, spec).unwrap();
        run_schedule(&mut cluster, &Schedule { picks, copies })?;

        let signatures = cluster.signatures(&session);
        let first = signatures[0];
        prop_assert!(first.is_some(), "node 0 did not complete");
        for (node, signature) in signatures.iter().enumerate() {
            prop_assert_eq!(*signature, first, "node {}", node);
            let view = cluster.nodes[node].session(&session).unwrap();
            prop_assert_eq!(view.phase(), PhaseKind::Complete);
            prop_assert_eq!(view.held_messages(), 0);
        }
        let view = cluster.nodes[0].session(&session).unwrap();
        let signature = first.unwrap_or(crypto::Signature([0; 64]));
        prop_assert!(crypto::verify(dialect, &view.aggregate_key(), &[0x5a; 32], &signature));
    }
}
