//! A cargo-fuzz build (`--cfg fuzzing`) may skip envelope signature checks through
//! `Config::fuzzing_skip_envelope_signatures`, a field that exists only in that build; a
//! normal build must refuse forged envelopes both where a session is announced and inside a
//! running session.

use chorus_core::crypto::{Dialect, Keypair, SecretKey};
use chorus_core::node::{Config, Event, Node, PeerId, Rejection, SessionSpec};
use chorus_core::time::Timestamp;
use chorus_core::wire::{
    Channel, Envelope, Payload, Sequence, SessionAnnounce, SessionId, SessionOptions, SessionReady,
    SignedEnvelope,
};

const NOW: u64 = 1_700_000_000_000;

fn keypair(byte: u8) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
}

/// `envelope` sealed by its sender, then its signature replaced by `mallory`'s over the
/// same digest.
fn forged(envelope: Envelope, sender: &Keypair, mallory: &Keypair) -> Vec<u8> {
    let genuine = SignedEnvelope::seal(envelope, sender, &[0; 32]);
    let forged = SignedEnvelope::seal(genuine.envelope.clone(), mallory, &[0; 32]);
    let bytes = SignedEnvelope {
        envelope: genuine.envelope,
        signature: forged.signature,
    }
    .encode();
    assert!(!SignedEnvelope::decode(&bytes, Channel::Direct)
        .unwrap()
        .verify_signature());
    bytes
}

#[test]
fn this_build_is_not_a_fuzzing_build() {
    // Checked at compile time: with `--cfg fuzzing` this file does not build.
    const {
        assert!(
            !cfg!(fuzzing),
            "the test suite must not be built as a fuzzing build"
        )
    };
}

#[test]
fn forged_announcement_is_rejected() {
    let now = Timestamp::from_millis(NOW);
    let (alice, bob, mallory) = (keypair(1), keypair(2), keypair(3));
    let mut node = Node::new(Config::default(), bob, [0; 32], now);
    let announce = SessionAnnounce::new(
        &[alice.public_key(), bob.public_key()],
        [9; 32],
        Dialect::Bip340,
        Default::default(),
        SessionOptions::default(),
    )
    .unwrap();
    let envelope = Envelope::new(
        SessionId([7; 32]),
        &alice.public_key(),
        Sequence(1),
        now,
        Payload::SessionAnnounce(announce),
    );
    let bytes = forged(envelope, &alice, &mallory);
    let before = node.state_digest();
    let from = PeerId::from_key(&alice.public_key());
    assert_eq!(
        node.handle_message(now, from, Channel::Direct, &bytes),
        Err(Rejection::BadSignature)
    );
    assert_eq!(node.state_digest(), before);
    assert_eq!(node.session_ids().count(), 0);
}

#[test]
fn forged_message_in_a_session_is_rejected() {
    let now = Timestamp::from_millis(NOW);
    let (alice, bob, mallory) = (keypair(1), keypair(2), keypair(3));
    let mut creator = Node::new(Config::default(), alice, [0; 32], now);
    let mut node = Node::new(Config::default(), bob, [1; 32], now);
    let signers = vec![alice.public_key(), bob.public_key()];
    let session = creator
        .create_session(now, SessionSpec::new(signers, [9; 32], Dialect::Bip340))
        .unwrap();
    let announcement = creator.poll_transmit().unwrap();
    let from = PeerId::from_key(&alice.public_key());
    node.handle_message(now, from.clone(), Channel::Direct, &announcement.bytes)
        .unwrap();
    assert!(matches!(
        node.poll_event(),
        Some(Event::SessionAnnounced { .. })
    ));

    // A join was not sent, so the creator's session ready is the next message bob takes.
    node.join_session(now, &session, Default::default())
        .unwrap();
    let coordinator_index =
        u16::try_from(node.session(&session).unwrap().election().sorted_index).unwrap();
    let envelope = Envelope::new(
        session,
        &alice.public_key(),
        Sequence(2),
        now,
        Payload::SessionReady(SessionReady { coordinator_index }),
    );
    let bytes = forged(envelope.clone(), &alice, &mallory);
    let before = node.state_digest();
    assert_eq!(
        node.handle_message(now, from.clone(), Channel::Direct, &bytes),
        Err(Rejection::BadSignature)
    );
    assert_eq!(node.state_digest(), before);

    // The same message, genuinely signed, is taken: only the signature was wrong.
    let genuine = SignedEnvelope::seal(envelope, &alice, &[0; 32]).encode();
    assert_eq!(
        node.handle_message(now, from, Channel::Direct, &genuine),
        Ok(())
    );
}
