//! Unit tests of the node as a whole; the protocol-level tests are in the `chorus-tests`
//! crate (`tests/tests/engine_*.rs`).

use std::collections::VecDeque;
use std::time::Duration;

use super::*;
use crate::crypto::{generate_nonce, Dialect, KeyAggContext, Keypair, PublicNonce, SecretKey};
use crate::time::Timestamp;
use crate::wire::{Payload, SessionId, SignedEnvelope, Topology};

const START: Timestamp = Timestamp::from_millis(1_700_000_000_000);

fn keypair(byte: u8) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
}

/// Two nodes; node 0 creates a mesh session without round 0, both with manual progress.
fn pair(config: Config) -> (Vec<Node>, SessionId) {
    let keys = [keypair(1), keypair(2)];
    let mut nodes: Vec<Node> = keys
        .iter()
        .zip(0u8..)
        .map(|(key, seed)| Node::new(config.clone(), *key, [seed; 32], START))
        .collect();
    let mut spec = SessionSpec::new(
        keys.iter().map(Keypair::public_key).collect(),
        [3; 32],
        Dialect::Bip340,
    );
    spec.options.nonce_commitments = false;
    spec.options.topology = Topology::Mesh;
    spec.progress = Progress::Manual;
    let session = nodes[0].create_session(START, spec).unwrap();
    pump(&mut nodes, START);
    (nodes, session)
}

/// Delivers everything until quiet, joining announced sessions by hand.
fn pump(nodes: &mut [Node], now: Timestamp) {
    loop {
        let mut queue = VecDeque::new();
        for (index, node) in nodes.iter_mut().enumerate() {
            while let Some(event) = node.poll_event() {
                if let Event::SessionAnnounced { session, .. } = event {
                    node.join_session(now, &session, Progress::Manual).unwrap();
                }
            }
            while let Some(transmit) = node.poll_transmit() {
                queue.push_back((index, transmit));
            }
        }
        if queue.is_empty() {
            return;
        }
        for (from, transmit) in queue {
            let to = nodes
                .iter()
                .position(|node| node.public_key() == transmit.to)
                .unwrap();
            let peer = PeerId::from_key(&nodes[from].public_key());
            nodes[to]
                .handle_message(now, peer, transmit.channel, &transmit.bytes)
                .unwrap();
        }
    }
}

/// The next `count` nonces node `node` would draw for `session`.
fn upcoming_nonces(node: &Node, session: &SessionId, count: usize) -> Vec<PublicNonce> {
    let view = node.session(session).unwrap();
    let ctx = KeyAggContext::new(view.dialect(), view.signers()).unwrap();
    let mut rng = node.rng.clone();
    (0..count)
        .map(|_| {
            generate_nonce(&ctx, &node.identity, view.message(), &mut rng)
                .unwrap()
                .1
        })
        .collect()
}

fn shared_nonce(node: &mut Node) -> Option<[u8; 66]> {
    std::iter::from_fn(|| node.poll_transmit()).find_map(|transmit| {
        match SignedEnvelope::decode(&transmit.bytes, transmit.channel)
            .ok()?
            .envelope
            .payload
        {
            Payload::NonceShare(share) => Some(share.nonce),
            _ => None,
        }
    })
}

#[test]
fn a_nonce_the_node_already_sent_is_never_sent_again() {
    let (mut nodes, session) = pair(Config::default());
    let upcoming = upcoming_nonces(&nodes[0], &session, 2);
    // Pretend the generator's next output had been sent before (a restart with an old seed).
    assert!(nodes[0].nonces.remember(&upcoming[0]));
    nodes[0].start_round1(START, &session).unwrap();
    let sent = shared_nonce(&mut nodes[0]).unwrap();
    assert_ne!(sent, upcoming[0].to_bytes());
    assert_eq!(sent, upcoming[1].to_bytes());
}

#[test]
fn a_node_restarted_with_its_old_seed_draws_new_nonces_once_its_clock_moved_on() {
    let key = keypair(1);
    let session = {
        let (nodes, session) = pair(Config::default());
        let view = nodes[0].session(&session).unwrap();
        (view.dialect(), view.signers().to_vec(), *view.message())
    };
    let ctx = KeyAggContext::new(session.0, &session.1).unwrap();
    let first_nonce = |started: Timestamp, seed: u8| {
        let node = Node::new(Config::default(), key, [seed; 32], started);
        let mut rng = node.rng.clone();
        generate_nonce(&ctx, &node.identity, &session.2, &mut rng)
            .unwrap()
            .1
    };
    // Replayable: the same seed, key and start time give the same stream...
    assert_eq!(first_nonce(START, 0), first_nonce(START, 0));
    // ...but a restart one millisecond later with the same seed does not.
    let later = START.saturating_add(Duration::from_millis(1));
    assert_ne!(first_nonce(START, 0), first_nonce(later, 0));
    assert_ne!(first_nonce(START, 0), first_nonce(START, 1));
}

#[test]
fn a_generator_that_keeps_repeating_aborts_the_session() {
    let (mut nodes, session) = pair(Config::default());
    for nonce in upcoming_nonces(&nodes[0], &session, 3) {
        assert!(nodes[0].nonces.remember(&nonce));
    }
    nodes[0].start_round1(START, &session).unwrap();
    let view = nodes[0].session(&session).unwrap();
    assert_eq!(view.abort_reason(), Some(&AbortReason::NonceRepeated));
    assert!(shared_nonce(&mut nodes[0]).is_none());
}

#[test]
fn time_never_moves_backwards_and_early_timeouts_change_nothing() {
    let (mut nodes, _) = pair(Config::default());
    let (deadline, _) = nodes[0].poll_timeout().unwrap();
    let before = nodes[0].state_digest();
    let early = deadline.saturating_sub(Duration::from_millis(1));
    nodes[0].handle_timeout(early);
    assert_eq!(nodes[0].state_digest(), before);
    // An input from the past is judged at the node's latest time.
    nodes[0].handle_timeout(START);
    assert_eq!(nodes[0].clock, early);
}

#[test]
fn a_node_with_full_output_queues_refuses_input_until_drained() {
    let config = Config {
        max_queued_outputs: 2,
        ..Config::default()
    };
    let (mut nodes, session) = pair(config);
    nodes[0].start_round1(START, &session).unwrap();
    nodes[1].start_round1(START, &session).unwrap();
    let transmit = nodes[1].poll_transmit().unwrap();
    // Two events wait on node 0 (none drained): the nonce share is refused, unread.
    nodes[0].events.push_back(Event::SessionReady { session });
    nodes[0].events.push_back(Event::SessionReady { session });
    let before = nodes[0].state_digest();
    let peer = PeerId::from_key(&nodes[1].public_key());
    let refused = nodes[0].handle_message(START, peer.clone(), transmit.channel, &transmit.bytes);
    assert_eq!(
        refused,
        Err(Rejection::Backpressure {
            limit: 2,
            queued: 3
        })
    );
    assert_eq!(nodes[0].state_digest(), before);
    while nodes[0].poll_event().is_some() {}
    while nodes[0].poll_transmit().is_some() {}
    assert_eq!(
        nodes[0].handle_message(START, peer, transmit.channel, &transmit.bytes),
        Ok(())
    );
}

#[test]
fn a_broadcast_timeout_out_of_range_is_refused_when_created_and_when_announced() {
    use crate::wire::{
        DecodeError, Envelope, Sequence, SessionAnnounce, MAX_BROADCAST_TIMEOUT_MS,
        MIN_BROADCAST_TIMEOUT_MS,
    };

    let keys = [keypair(1), keypair(2)];
    let signers: Vec<_> = keys.iter().map(Keypair::public_key).collect();
    let mut creator = Node::new(Config::default(), keys[0], [0; 32], START);
    for got in [
        0,
        MIN_BROADCAST_TIMEOUT_MS - 1,
        MAX_BROADCAST_TIMEOUT_MS + 1,
    ] {
        let mut spec = SessionSpec::new(signers.clone(), [3; 32], Dialect::Bip340);
        spec.options.broadcast_timeout_ms = got;
        let expected = DecodeError::BroadcastTimeout {
            min: MIN_BROADCAST_TIMEOUT_MS,
            max: MAX_BROADCAST_TIMEOUT_MS,
            got,
        };
        let before = creator.state_digest();
        assert_eq!(
            creator.create_session(START, spec),
            Err(CommandError::InvalidOptions(expected))
        );
        assert_eq!(creator.state_digest(), before);

        // A creator that skips the check still cannot get the session announced.
        let mut announce = SessionAnnounce::new(
            &signers,
            [3; 32],
            Dialect::Bip340,
            crate::election::ElectionMethod::Lexicographic,
            crate::wire::SessionOptions::default(),
        )
        .unwrap();
        announce.options.broadcast_timeout_ms = got;
        let envelope = Envelope::new(
            SessionId([9; 32]),
            &keys[0].public_key(),
            Sequence(1),
            START,
            Payload::SessionAnnounce(announce),
        );
        let bytes = SignedEnvelope::seal(envelope, &keys[0], &[0; 32]).encode();
        let mut receiver = Node::new(Config::default(), keys[1], [1; 32], START);
        let before = receiver.state_digest();
        let peer = PeerId::from_key(&keys[0].public_key());
        assert_eq!(
            receiver.handle_message(START, peer, crate::wire::Channel::Direct, &bytes),
            Err(Rejection::Decode(expected))
        );
        assert_eq!(receiver.state_digest(), before);
    }
    let mut spec = SessionSpec::new(signers, [3; 32], Dialect::Bip340);
    spec.options.broadcast_timeout_ms = MIN_BROADCAST_TIMEOUT_MS;
    assert!(creator.create_session(START, spec).is_ok());
}

#[test]
fn a_repeated_signer_group_reuses_its_key_aggregation() {
    let (nodes, first) = pair(Config::default());
    assert_eq!(nodes[1].groups.len(), 1);
    let (uncached, second) = pair(Config {
        key_aggregation_cache: 0,
        ..Config::default()
    });
    assert_eq!(uncached[1].groups.len(), 0);
    // Same keys, same aggregate key, cache or not.
    assert_eq!(
        nodes[1].session(&first).unwrap().aggregate_key(),
        uncached[1].session(&second).unwrap().aggregate_key()
    );
}

#[test]
fn an_announcement_of_a_cached_group_is_still_authenticated() {
    use crate::wire::{Channel, DecodedEnvelope};

    let keys = [keypair(1), keypair(2)];
    let mut creator = Node::new(Config::default(), keys[0], [0; 32], START);
    let mut receiver = Node::new(Config::default(), keys[1], [1; 32], START);
    let spec = || {
        SessionSpec::new(
            keys.iter().map(Keypair::public_key).collect(),
            [3; 32],
            Dialect::Bip340,
        )
    };
    let peer = PeerId::from_key(&keys[0].public_key());
    for round in 0..2 {
        creator.create_session(START, spec()).unwrap();
        let announce = std::iter::from_fn(|| creator.poll_transmit())
            .find(|transmit| transmit.to == keys[1].public_key())
            .unwrap();
        let mut forged = DecodedEnvelope::decode(&announce.bytes, Channel::Direct)
            .unwrap()
            .signed;
        forged.signature[0] ^= 1;
        let before = receiver.state_digest();
        assert_eq!(
            receiver.handle_message(START, peer.clone(), Channel::Direct, &forged.encode()),
            Err(Rejection::BadSignature),
            "round {round}"
        );
        assert_eq!(receiver.state_digest(), before, "round {round}");
        receiver
            .handle_message(START, peer.clone(), Channel::Direct, &announce.bytes)
            .unwrap();
        // The second round finds the group in the cache.
        assert_eq!(receiver.groups.len(), 1, "round {round}");
    }
    assert_eq!(receiver.session_ids().count(), 2);
}
