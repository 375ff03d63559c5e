//! Engine bugs the fuzzers found, each kept as a plain test (the inputs that found them
//! are replayed from `fuzz/regressions/` too).

use std::time::Duration;

use chorus_core::crypto::{Dialect, Keypair, SecretKey};
use chorus_core::discovery::{AdvertisementSpec, RequestId, RequestSpec, SignerCriteria};
use chorus_core::node::{CommandError, Config, Node, Progress};
use chorus_core::time::Timestamp;
use chorus_core::wire::SessionOptions;

fn keypair(byte: u8) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
}

fn node() -> (Node, Timestamp) {
    let now = Timestamp::from_millis(1_700_000_000_000);
    (Node::new(Config::default(), keypair(1), [7; 32], now), now)
}

/// `node_ops` found: a signing request with an out-of-range broadcast timeout was refused
/// after the node had drawn the signature's randomness, so the failed command moved the
/// random generator (and the state digest).
#[test]
fn refused_request_announcement_changes_nothing() {
    let (mut node, now) = node();
    let mut spec = RequestSpec::new(
        vec![keypair(1).public_key(), keypair(2).public_key()],
        [9; 32],
        Dialect::Bip340,
        Duration::from_secs(128),
    );
    spec.options = SessionOptions {
        broadcast_timeout_ms: 0,
        ..SessionOptions::default()
    };
    let before = node.state_digest();
    let result = node.announce_request(now, spec, Progress::Automatic);
    assert!(
        matches!(result, Err(CommandError::Discovery(_))),
        "{result:?}"
    );
    assert_eq!(node.state_digest(), before);
}

/// The same draw-then-fail order in the other discovery commands.
#[test]
fn refused_discovery_commands_change_nothing() {
    let (mut node, now) = node();
    let before = node.state_digest();
    assert!(node.withdraw_advertisement(now).is_err());
    assert_eq!(
        node.state_digest(),
        before,
        "withdrawal with nothing advertised"
    );
    assert!(node
        .join_request(now, &RequestId([3; 32]), Progress::Automatic)
        .is_err());
    assert_eq!(node.state_digest(), before, "join of an unknown request");

    let spec = || AdvertisementSpec::new(SignerCriteria::new(["spend"]), Duration::from_secs(600));
    node.advertise(now, spec()).unwrap();
    while node.poll_discovery_transmit().is_some() || node.poll_discovery_event().is_some() {}
    let before = node.state_digest();
    assert!(
        node.advertise(now, spec()).is_err(),
        "a second advertisement at once"
    );
    assert_eq!(
        node.state_digest(),
        before,
        "advertisement within the interval"
    );
}
