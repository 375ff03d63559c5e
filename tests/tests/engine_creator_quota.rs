//! One creator cannot fill a node's session table: past `max_sessions_per_creator`
//! sessions still being signed, its announcements are refused, while other creators and
//! finished sessions are unaffected.

mod engine_support;

use chorus_core::crypto::Dialect;
use chorus_core::node::{Config, Rejection, SessionSpec};
use engine_support::Cluster;

fn spec(cluster: &Cluster, message_byte: u8) -> SessionSpec {
    SessionSpec::new(cluster.public_keys(), [message_byte; 32], Dialect::Bip340)
}

#[test]
fn announcements_past_the_per_creator_quota_are_refused() {
    let config = Config {
        max_sessions_per_creator: 2,
        ..Config::default()
    };
    let mut cluster = Cluster::with_config(2, 3, config);
    // Announcements are delivered but nobody joins, so the sessions stay open.
    cluster.auto_join = false;
    for byte in 1..=3u8 {
        let spec = spec(&cluster, byte);
        cluster.nodes[0].create_session(cluster.now, spec).unwrap();
        cluster.run();
    }
    let refused: Vec<&Rejection> = cluster
        .rejections
        .iter()
        .filter(|(receiver, _)| *receiver == 1)
        .map(|(_, rejection)| rejection)
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "exactly the third announcement is refused: {refused:?}"
    );
    assert!(matches!(
        refused[0],
        Rejection::TooManySessionsFromCreator { limit: 2 }
    ));

    // Another creator is not affected by node 0's quota.
    let spec = spec(&cluster, 9);
    cluster.nodes[1].create_session(cluster.now, spec).unwrap();
    cluster.run();
    assert_eq!(cluster.rejections.len(), 1, "{:?}", cluster.rejections);
}

#[test]
fn completed_sessions_do_not_count_against_the_quota() {
    let config = Config {
        max_sessions_per_creator: 2,
        ..Config::default()
    };
    let mut cluster = Cluster::with_config(3, 4, config);
    for byte in 1..=5u8 {
        let spec = spec(&cluster, byte);
        let session = cluster.sign(0, spec);
        assert!(
            cluster.signatures(&session).iter().all(Option::is_some),
            "session {byte} completed on every node"
        );
    }
    assert!(cluster.rejections.is_empty(), "{:?}", cluster.rejections);
}
