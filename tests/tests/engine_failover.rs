//! Election and failover: broadcast failover after k silent coordinators, the aggregator
//! restart before the signature exists, stuck and expired sessions, closing, and the
//! node's refusal to send a public nonce twice.

mod engine_support;

use std::collections::BTreeSet;
use std::time::Duration;

use chorus_core::crypto::Dialect;
use chorus_core::election::ElectionMethod;
use chorus_core::node::{AbortReason, Config, Event, PhaseKind, Rejection};
use chorus_core::wire::{AbortCode, Payload, SessionId, Topology};
use engine_support::{Cluster, Fate};

const BROADCAST_TIMEOUT: Duration = Duration::from_secs(300);

/// (node, attempt) of every ShouldBroadcast, by attempt.
fn should_broadcast(cluster: &Cluster) -> Vec<(usize, u32)> {
    let mut found: Vec<(usize, u32)> = cluster
        .find(|event| matches!(event, Event::ShouldBroadcast { .. }))
        .into_iter()
        .map(|(node, event)| match event {
            Event::ShouldBroadcast { attempt, .. } => (node, attempt),
            _ => unreachable!(),
        })
        .collect();
    found.sort_by_key(|(_, attempt)| *attempt);
    found
}

/// The priority list as cluster node indices (the election speaks sorted indices).
fn priority_nodes(cluster: &Cluster, session: &SessionId, asking: usize) -> Vec<usize> {
    let view = cluster.nodes[asking].session(session).unwrap();
    view.election()
        .priority
        .iter()
        .map(|sorted| cluster.index_of(&view.signers()[*sorted]))
        .collect()
}

/// k coordinators in a row never confirm; the (k+1)-th does, or, when k = n, failover is
/// exhausted.
fn failover_with_silent_coordinators(
    n: usize,
    k: usize,
    topology: Topology,
    method: ElectionMethod,
) {
    let mut cluster = Cluster::new(n, 10);
    let mut spec = cluster.spec(Dialect::Lotus, topology, false);
    spec.election = method;
    let session = cluster.sign(0, spec);
    let priority = priority_nodes(&cluster, &session, 0);
    let label = format!("n={n} k={k} {topology:?} {method}");

    for (attempt, &coordinator_node) in priority.iter().enumerate().take(k) {
        assert_eq!(
            should_broadcast(&cluster).last(),
            Some(&(coordinator_node, attempt as u32)),
            "{label}"
        );
        cluster.advance(BROADCAST_TIMEOUT);
        let failed = cluster.find(|event| {
            matches!(event, Event::CoordinatorFailed { attempt: a, .. } if *a as usize == attempt)
        });
        assert_eq!(
            failed.len(),
            n,
            "{label}: every node moves on from attempt {attempt}"
        );
        for (_, event) in failed {
            let Event::CoordinatorFailed { coordinator, .. } = event else {
                unreachable!()
            };
            assert_eq!(coordinator, cluster.keys[coordinator_node].public_key());
        }
    }
    let expected: Vec<(usize, u32)> = (0..(k + 1).min(n))
        .map(|attempt| (priority[attempt], attempt as u32))
        .collect();
    assert_eq!(
        should_broadcast(&cluster),
        expected,
        "{label}: one per attempt, in order"
    );

    let exhausted = cluster.find(|event| matches!(event, Event::FailoverExhausted { .. }));
    if k >= n {
        assert_eq!(exhausted.len(), n, "{label}");
        assert!(cluster
            .nodes
            .iter()
            .all(|node| node.session(&session).unwrap().failover_exhausted()));
        return;
    }
    assert!(exhausted.is_empty(), "{label}");
    let broadcaster = priority[k];
    let now = cluster.now;
    cluster.nodes[broadcaster]
        .notify_broadcast_complete(now, &session, b"txid")
        .unwrap();
    cluster.run();
    let confirmed = cluster.find(|event| matches!(event, Event::BroadcastConfirmed { .. }));
    assert_eq!(confirmed.len(), n, "{label}");
    // Nothing more happens: no timer of the session is left but its expiry.
    cluster.advance(BROADCAST_TIMEOUT * 4);
    assert_eq!(should_broadcast(&cluster), expected, "{label}");
    assert!(cluster
        .find(|event| matches!(event, Event::CoordinatorFailed { attempt, .. } if *attempt as usize >= k))
        .is_empty());
}

#[test]
fn one_should_broadcast_per_attempt_in_priority_order() {
    let n = 4;
    for k in 0..=n {
        failover_with_silent_coordinators(n, k, Topology::Mesh, ElectionMethod::Lexicographic);
    }
    for k in [0, 2, n] {
        failover_with_silent_coordinators(n, k, Topology::Aggregator, ElectionMethod::Salted);
        failover_with_silent_coordinators(n, k, Topology::Mesh, ElectionMethod::LastSigner);
    }
}

/// Every nonce share node `node` ever sent, with its attempt.
fn nonces_sent(cluster: &Cluster, node: usize) -> Vec<(u32, [u8; 66])> {
    let mut nonces: Vec<(u32, [u8; 66])> = cluster
        .sent_by(node)
        .into_iter()
        .filter_map(|signed| match signed.envelope.payload {
            Payload::NonceShare(share) => Some((share.attempt, share.nonce)),
            _ => None,
        })
        .collect();
    nonces.dedup();
    nonces
}

#[test]
fn a_silent_aggregator_is_replaced_and_round_one_restarts_with_fresh_nonces() {
    for commitments in [false, true] {
        let n = 4;
        let mut cluster = Cluster::new(n, 11);
        let spec = cluster.spec(Dialect::Bip340, Topology::Aggregator, commitments);
        let creator = 3;
        let session = cluster.nodes[creator]
            .create_session(cluster.now, spec)
            .unwrap();
        let priority = priority_nodes(&cluster, &session, creator);
        let silent = priority[0];
        // The first aggregator collects everything and then says nothing in attempt 0.
        cluster.run_with(|packet, signed| {
            let from_aggregator = packet.from == silent
                && signed.envelope.payload.kind() != chorus_core::wire::PayloadKind::SessionReady;
            let attempt_zero = match &signed.envelope.payload {
                Payload::AggregateNonce(share) => share.attempt == 0,
                Payload::NonceCommit(commit) => commit.attempt == 0,
                Payload::FinalSignature(_) => true,
                _ => false,
            };
            if from_aggregator && attempt_zero {
                Fate::Drop
            } else {
                Fate::Deliver
            }
        });
        assert!(cluster.signatures(&session).iter().all(Option::is_none));
        cluster.advance(BROADCAST_TIMEOUT);
        let failed =
            cluster.find(|event| matches!(event, Event::AggregatorFailed { attempt: 0, .. }));
        assert_eq!(failed.len(), n, "commitments={commitments}");
        cluster.run();

        let signatures = cluster.signatures(&session);
        assert!(signatures
            .iter()
            .all(|s| s.is_some() && *s == signatures[0]));
        for node in 0..n {
            let view = cluster.nodes[node].session(&session).unwrap();
            assert_eq!(view.phase(), PhaseKind::Complete);
        }
        // The second aggregator produced the signature, so failover starts with it.
        assert_eq!(should_broadcast(&cluster), vec![(priority[1], 1)]);
        // Every participant (all but the new aggregator) revealed one nonce per attempt it
        // took part in, never the same one twice.
        for node in 0..n {
            let nonces = nonces_sent(&cluster, node);
            let distinct: BTreeSet<[u8; 66]> = nonces.iter().map(|(_, nonce)| *nonce).collect();
            assert_eq!(distinct.len(), nonces.len());
            assert!(nonces.iter().all(|(attempt, _)| *attempt <= 1));
        }
    }
}

#[test]
fn the_node_never_sends_the_same_public_nonce_twice_across_sessions() {
    let n = 3;
    let mut cluster = Cluster::new(n, 12);
    for round in 0..6 {
        let topology = if round % 2 == 0 {
            Topology::Mesh
        } else {
            Topology::Aggregator
        };
        let spec = cluster.spec(Dialect::Bip340, topology, round % 3 == 0);
        let session = cluster.sign(round % n, spec);
        assert!(cluster.signatures(&session).iter().all(Option::is_some));
    }
    for node in 0..n {
        let nonces = nonces_sent(&cluster, node);
        let distinct: BTreeSet<[u8; 66]> = nonces.iter().map(|(_, nonce)| *nonce).collect();
        assert_eq!(distinct.len(), nonces.len(), "node {node}");
        assert!(nonces.len() >= 3);
    }
}

#[test]
fn a_session_without_progress_is_aborted_as_stuck() {
    let mut cluster = Cluster::new(3, 13);
    cluster.auto_join = false;
    let spec = cluster.spec(Dialect::Lotus, Topology::Mesh, true);
    let session = cluster.nodes[0].create_session(cluster.now, spec).unwrap();
    cluster.run();
    let now = cluster.now;
    cluster.nodes[1]
        .join_session(now, &session, Default::default())
        .unwrap();
    cluster.run();
    // Node 2 never joins.
    cluster.advance(Duration::from_secs(9 * 60));
    assert!(cluster
        .find(|event| matches!(event, Event::SessionAborted { .. }))
        .is_empty());
    cluster.advance(Duration::from_secs(60));
    let aborted = cluster.find(|event| {
        matches!(
            event,
            Event::SessionAborted {
                reason: AbortReason::Stuck,
                ..
            }
        )
    });
    assert_eq!(
        aborted.len(),
        3,
        "every node that knows the session gives up"
    );
    cluster.run();
    for node in &cluster.nodes {
        assert_eq!(node.session(&session).unwrap().phase(), PhaseKind::Aborted);
    }
}

#[test]
fn a_session_expires_then_is_forgotten() {
    let config = Config {
        session_timeout: Duration::from_secs(60 * 60),
        stuck_timeout: Duration::from_secs(3 * 60 * 60),
        ..Config::default()
    };
    let mut cluster = Cluster::with_config(2, 14, config);
    cluster.auto_join = false;
    let spec = cluster.spec(Dialect::Bip340, Topology::Mesh, false);
    let session = cluster.nodes[0].create_session(cluster.now, spec).unwrap();
    cluster.run();
    cluster.advance(Duration::from_secs(60 * 60));
    let expired = cluster.find(|event| matches!(event, Event::SessionExpired { .. }));
    assert_eq!(expired.len(), 2);
    for node in &cluster.nodes {
        assert_eq!(node.session(&session).unwrap().phase(), PhaseKind::Expired);
    }
    // A late join is refused as a message for a finished session ...
    let now = cluster.now;
    assert!(cluster.nodes[1]
        .join_session(now, &session, Default::default())
        .is_err());
    // ... and after the retention time the session is gone.
    cluster.advance(Duration::from_secs(10 * 60));
    assert!(cluster
        .nodes
        .iter()
        .all(|node| node.session(&session).is_none()));
    assert!(cluster
        .nodes
        .iter()
        .all(|node| node.poll_timeout().is_none()));
}

fn closed_by_peer(cluster: &Cluster, session: &SessionId) -> usize {
    cluster
        .find(|event| {
            matches!(event, Event::SessionAborted { session: s, reason: AbortReason::PeerAborted { code: AbortCode::Closed, .. } } if s == session)
        })
        .len()
}

#[test]
fn closing_a_running_session_aborts_it_everywhere() {
    let mut cluster = Cluster::new(3, 15);
    let mut spec = cluster.spec(Dialect::Lotus, Topology::Mesh, true);
    spec.progress = chorus_core::node::Progress::Manual;
    cluster.progress = chorus_core::node::Progress::Manual;
    let session = cluster.sign(1, spec);
    let now = cluster.now;
    cluster.nodes[2].close_session(now, &session).unwrap();
    cluster.run();
    assert_eq!(closed_by_peer(&cluster, &session), 2);
    assert_eq!(
        cluster
            .find(|event| matches!(event, Event::SessionClosed { .. }))
            .len(),
        1
    );
    for node in &cluster.nodes {
        assert!(node.session(&session).unwrap().phase().is_terminal());
        assert!(node.poll_timeout().is_some_and(|(_, kind)| matches!(
            kind,
            chorus_core::timer::TimerKind::SessionExpiry { .. }
        )));
    }
    // A closed session refuses its messages.
    let bytes = cluster.sent.last().unwrap().bytes.clone();
    let from = chorus_core::node::PeerId::new([1]);
    let result =
        cluster.nodes[0].handle_message(now, from, chorus_core::wire::Channel::Direct, &bytes);
    assert!(matches!(result, Err(Rejection::SessionClosed { .. })));
}
