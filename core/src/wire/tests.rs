//! Codec tests: round trips, every refusal, and tampering.

use proptest::prelude::*;
use secp256k1::{Keypair, PublicKey, SecretKey};

use super::strategy::{self, ABORT_CODES};
use super::*;
use crate::crypto::{self, Dialect, PublicNonce};
use crate::election::ElectionMethod;
use crate::time::Timestamp;

fn keypair(byte: u8) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
}

/// `count` distinct valid keys, sorted.
fn sorted_keys(count: usize) -> Vec<[u8; 33]> {
    let mut keys: Vec<[u8; 33]> = (1..=count as u64)
        .map(|n| {
            let mut secret = [0u8; 32];
            secret[24..].copy_from_slice(&n.to_be_bytes());
            PublicKey::from_secret_key(&SecretKey::from_secret_bytes(secret).unwrap()).serialize()
        })
        .collect();
    keys.sort_unstable();
    keys
}

fn announce_with(signers: Vec<[u8; 33]>) -> Payload {
    Payload::SessionAnnounce(SessionAnnounce {
        signers,
        message: [0x5a; 32],
        dialect: Dialect::Bip340,
        election: ElectionMethod::Lexicographic,
        options: SessionOptions::default(),
    })
}

/// An envelope from key 0xa1 with one-byte sequence and timestamp varints.
fn envelope_with(payload: Payload) -> Envelope {
    Envelope::new(
        SessionId([0x11; 32]),
        &keypair(0xa1).public_key(),
        Sequence(5),
        Timestamp::from_millis(100),
        payload,
    )
}

fn ready() -> Payload {
    Payload::SessionReady(SessionReady {
        coordinator_index: 0,
    })
}

/// Encodes `payload` in a sealed envelope and decodes it from a direct stream.
fn decode_payload(payload: Payload) -> Result<SignedEnvelope, DecodeError> {
    let sealed = SignedEnvelope::seal(envelope_with(payload), &keypair(0xa1), &[0; 32]);
    SignedEnvelope::decode(&sealed.encode(), Channel::Direct)
}

/// Where the payload starts in the encoded form of `envelope` (after the version byte).
fn payload_offset(envelope: &Envelope) -> usize {
    let whole = postcard::to_allocvec(envelope).unwrap().len();
    let payload = postcard::to_allocvec(&envelope.payload).unwrap().len();
    1 + whole - payload
}

fn not_a_point() -> [u8; 33] {
    // x = 2^256 - 1 is not a field element, so no curve point has it.
    let mut bytes = [0xff; 33];
    bytes[0] = 0x02;
    bytes
}

proptest! {
    #[test]
    fn encode_then_decode_is_the_identity(signed in strategy::signed_envelope()) {
        let bytes = signed.encode();
        prop_assert_eq!(SignedEnvelope::decode(&bytes, Channel::Direct), Ok(signed.clone()));
        let over_gossip = SignedEnvelope::decode(&bytes, Channel::Gossip);
        if bytes.len() <= MAX_GOSSIP_MESSAGE {
            prop_assert_eq!(over_gossip, Ok(signed));
        } else {
            prop_assert_eq!(
                over_gossip,
                Err(DecodeError::Oversized { limit: MAX_GOSSIP_MESSAGE, got: bytes.len() })
            );
        }
    }

    #[test]
    fn sealed_envelopes_verify_after_a_round_trip(sealed in strategy::sealed_envelope()) {
        let decoded = SignedEnvelope::decode(&sealed.encode(), Channel::Direct).unwrap();
        prop_assert!(decoded.verify_signature());
        prop_assert_eq!(decoded, sealed);
    }

    #[test]
    fn flipping_any_byte_breaks_decoding_or_the_signature(
        sealed in strategy::sealed_envelope(),
        position in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let mut bytes = sealed.encode();
        let position = position.index(bytes.len());
        bytes[position] ^= mask;
        if let Ok(tampered) = SignedEnvelope::decode(&bytes, Channel::Direct) {
            prop_assert_ne!(&tampered, &sealed);
            prop_assert!(!tampered.verify_signature(), "byte {} ^ {:#04x} still verifies", position, mask);
        }
    }

    #[test]
    fn decoding_hands_back_what_it_parsed(sealed in strategy::sealed_envelope()) {
        let bytes = sealed.encode();
        let decoded = DecodedEnvelope::decode(&bytes, Channel::Direct)
            .unwrap()
            .parse_points()
            .unwrap();
        // The digest hashed from the received bytes is the one of the decoded envelope.
        prop_assert_eq!(decoded.signing_digest(), sealed.envelope.signing_digest());
        prop_assert_eq!(decoded.sender, sealed.envelope.sender_key().unwrap());
        prop_assert_eq!(&decoded.parsed, &sealed.envelope.payload.parse().unwrap());
        prop_assert!(decoded.verify_signature());
        prop_assert_eq!(&decoded.signed, &sealed);
        // A caller holding the sender's key gets the same; a wrong key is ignored.
        for key in [decoded.sender, keypair(0x77).public_key()] {
            let with_sender = DecodedEnvelope::decode(&bytes, Channel::Direct)
                .unwrap()
                .parse_points_with_sender(&key)
                .unwrap();
            prop_assert_eq!(&with_sender, &decoded);
        }
    }

    #[test]
    fn a_tampered_decoded_envelope_never_verifies(
        sealed in strategy::sealed_envelope(),
        position in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let mut bytes = sealed.encode();
        let position = position.index(bytes.len());
        bytes[position] ^= mask;
        let parsed = DecodedEnvelope::decode(&bytes, Channel::Direct)
            .and_then(DecodedEnvelope::parse_points);
        prop_assert_eq!(parsed.is_ok(), SignedEnvelope::decode(&bytes, Channel::Direct).is_ok());
        if let Ok(tampered) = parsed {
            prop_assert_eq!(tampered.signing_digest(), tampered.signed.envelope.signing_digest());
            prop_assert!(!tampered.verify_signature(), "byte {} ^ {:#04x} still verifies", position, mask);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        for channel in [Channel::Gossip, Channel::Direct] {
            let _ = SignedEnvelope::decode(&bytes, channel);
            let mut versioned = vec![WIRE_VERSION];
            versioned.extend_from_slice(&bytes);
            if let Ok(decoded) = SignedEnvelope::decode(&versioned, channel) {
                // Whatever decodes is canonical and valid.
                prop_assert_eq!(decoded.encode(), versioned);
                prop_assert_eq!(decoded.envelope.validate(), Ok(()));
            }
        }
    }
}

#[test]
fn every_payload_kind_round_trips() {
    let alice = keypair(0xa1);
    let session = SessionId([0x11; 32]);
    let ctx = crypto::KeyAggContext::new(Dialect::Bip340, &[alice.public_key()]).unwrap();
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(7);
    let (_secret, public) = crypto::generate_nonce(&ctx, &alice, &[0; 32], &mut rng).unwrap();
    let aggregate = crypto::aggregate_nonces(Dialect::Bip340, &[public]).unwrap();
    let signer = alice.public_key().serialize();
    let mut payloads = vec![
        announce_with(sorted_keys(3)),
        Payload::Join(Join::new(&alice.public_key())),
        Payload::NonceCommit(NonceCommit::new(&session, &signer, 0, &public)),
        Payload::NonceShare(NonceShare::new(0, &public)),
        Payload::AggregateNonce(AggregateNonceShare::new(0, &aggregate)),
        Payload::PartialSignature(PartialSignatureShare {
            attempt: 3,
            partial_signature: [7; 32],
        }),
        Payload::FinalSignature(FinalSignature::new(&crypto::Signature([9; 64]))),
        ready(),
        Payload::BroadcastConfirmation(BroadcastConfirmation {
            transaction_id: vec![0xee; 32],
        }),
    ];
    payloads.extend(ABORT_CODES.iter().map(|&reason| {
        Payload::SessionAbort(SessionAbort {
            reason,
            blamed_signer: Some(2),
        })
    }));
    for payload in payloads {
        let decoded = decode_payload(payload.clone()).unwrap();
        assert_eq!(decoded.envelope.payload, payload);
        assert!(decoded.verify_signature());
    }
}

#[test]
fn rejects_messages_over_the_channel_limit_before_parsing() {
    // Garbage that postcard would refuse: the size check must come first.
    let gossip_flood = vec![0xff; MAX_GOSSIP_MESSAGE + 1];
    assert_eq!(
        SignedEnvelope::decode(&gossip_flood, Channel::Gossip),
        Err(DecodeError::Oversized {
            limit: MAX_GOSSIP_MESSAGE,
            got: MAX_GOSSIP_MESSAGE + 1
        })
    );
    let direct_flood = vec![0xff; MAX_DIRECT_MESSAGE + 1];
    assert_eq!(
        SignedEnvelope::decode(&direct_flood, Channel::Direct),
        Err(DecodeError::Oversized {
            limit: MAX_DIRECT_MESSAGE,
            got: MAX_DIRECT_MESSAGE + 1
        })
    );
}

#[test]
fn a_large_announcement_fits_direct_but_not_gossip() {
    let sealed = SignedEnvelope::seal(
        envelope_with(announce_with(sorted_keys(400))),
        &keypair(0xa1),
        &[0; 32],
    );
    let bytes = sealed.encode();
    assert!(bytes.len() > MAX_GOSSIP_MESSAGE && bytes.len() <= MAX_DIRECT_MESSAGE);
    assert_eq!(SignedEnvelope::decode(&bytes, Channel::Direct), Ok(sealed));
    assert_eq!(
        SignedEnvelope::decode(&bytes, Channel::Gossip),
        Err(DecodeError::Oversized {
            limit: MAX_GOSSIP_MESSAGE,
            got: bytes.len()
        })
    );
}

#[test]
fn rejects_an_empty_message() {
    assert_eq!(
        SignedEnvelope::decode(&[], Channel::Gossip),
        Err(DecodeError::Empty)
    );
}

#[test]
fn rejects_an_unknown_version_byte() {
    let mut bytes = decode_payload(ready()).unwrap().encode();
    for version in [0, 2, 0xff] {
        bytes[0] = version;
        assert_eq!(
            SignedEnvelope::decode(&bytes, Channel::Direct),
            Err(DecodeError::UnsupportedVersion {
                expected: WIRE_VERSION,
                got: version
            })
        );
    }
}

#[test]
fn rejects_an_unknown_envelope_version_field() {
    let mut envelope = envelope_with(ready());
    envelope.version = 2;
    let bytes = SignedEnvelope::seal(envelope, &keypair(0xa1), &[0; 32]).encode();
    assert_eq!(bytes[0], WIRE_VERSION);
    assert_eq!(
        SignedEnvelope::decode(&bytes, Channel::Direct),
        Err(DecodeError::UnsupportedVersion {
            expected: WIRE_VERSION,
            got: 2
        })
    );
}

#[test]
fn rejects_every_truncation() {
    let bytes = decode_payload(announce_with(sorted_keys(2)))
        .unwrap()
        .encode();
    for length in 1..bytes.len() {
        assert_eq!(
            SignedEnvelope::decode(&bytes[..length], Channel::Direct),
            Err(DecodeError::Truncated),
            "truncated to {length} bytes"
        );
    }
}

#[test]
fn rejects_trailing_bytes() {
    let mut bytes = decode_payload(ready()).unwrap().encode();
    bytes.extend_from_slice(&[0, 0, 0]);
    assert_eq!(
        SignedEnvelope::decode(&bytes, Channel::Direct),
        Err(DecodeError::TrailingBytes { count: 3 })
    );
}

#[test]
fn rejects_an_unknown_payload_variant_as_malformed() {
    let sealed = decode_payload(ready()).unwrap();
    let mut bytes = sealed.encode();
    let offset = payload_offset(&sealed.envelope);
    assert_eq!(bytes[offset], 8, "SessionReady is the ninth variant");
    bytes[offset] = 0x7f;
    assert_eq!(
        SignedEnvelope::decode(&bytes, Channel::Direct),
        Err(DecodeError::Malformed)
    );
}

#[test]
fn rejects_an_over_long_varint_as_non_canonical() {
    let sealed = decode_payload(ready()).unwrap();
    let bytes = sealed.encode();
    // Version byte, envelope version, session id, sender: then the sequence varint (5).
    let sequence_at = 1 + 1 + 32 + 33;
    assert_eq!(bytes[sequence_at], 5);
    let mut padded = bytes[..sequence_at].to_vec();
    padded.extend_from_slice(&[0x85, 0x00]);
    padded.extend_from_slice(&bytes[sequence_at + 1..]);
    assert_eq!(
        SignedEnvelope::decode(&padded, Channel::Direct),
        Err(DecodeError::NonCanonical)
    );
}

#[test]
fn rejects_each_point_field_off_the_curve() {
    let bad = not_a_point();
    let mut unsorted_bad = sorted_keys(2);
    unsorted_bad.push(bad);
    unsorted_bad.sort_unstable();
    let bad_index = unsorted_bad.iter().position(|key| *key == bad).unwrap();
    let valid = sorted_keys(1)[0];
    let mut half_bad = [0u8; 66];
    half_bad[..33].copy_from_slice(&valid);
    half_bad[33..].copy_from_slice(&bad);
    let cases = [
        (
            announce_with(unsorted_bad),
            PointField::Signer { index: bad_index },
        ),
        (Payload::Join(Join { key: bad }), PointField::JoinKey),
        (
            Payload::NonceShare(NonceShare {
                attempt: 0,
                nonce: half_bad,
            }),
            PointField::PublicNonce,
        ),
        (
            Payload::NonceShare(NonceShare {
                attempt: 0,
                nonce: [0; 66],
            }),
            PointField::PublicNonce,
        ),
        (
            Payload::AggregateNonce(AggregateNonceShare {
                attempt: 0,
                nonce: half_bad,
            }),
            PointField::AggregateNonce,
        ),
    ];
    for (payload, field) in cases {
        assert_eq!(
            decode_payload(payload),
            Err(DecodeError::InvalidPoint(field))
        );
    }
}

#[test]
fn rejects_a_sender_off_the_curve() {
    let sealed = decode_payload(ready()).unwrap();
    let mut bytes = sealed.encode();
    let sender_at = 1 + 1 + 32;
    bytes[sender_at..sender_at + 33].copy_from_slice(&not_a_point());
    assert_eq!(
        SignedEnvelope::decode(&bytes, Channel::Direct),
        Err(DecodeError::InvalidPoint(PointField::Sender))
    );
}

#[test]
fn public_nonce_check_agrees_in_both_dialects() {
    let valid = sorted_keys(2);
    let mut pair = [0u8; 66];
    pair[..33].copy_from_slice(&valid[0]);
    pair[33..].copy_from_slice(&valid[1]);
    let mut half_bad = pair;
    half_bad[33..].copy_from_slice(&not_a_point());
    for (bytes, accepted) in [(pair, true), (half_bad, false), ([0; 66], false)] {
        for dialect in [Dialect::Bip340, Dialect::Lotus] {
            assert_eq!(PublicNonce::from_bytes(dialect, &bytes).is_ok(), accepted);
        }
    }
}

#[test]
fn rejects_a_partial_signature_not_below_the_order() {
    let payload = Payload::PartialSignature(PartialSignatureShare {
        attempt: 0,
        partial_signature: [0xff; 32],
    });
    assert_eq!(decode_payload(payload), Err(DecodeError::InvalidScalar));
}

#[test]
fn signer_count_is_bounded_from_one_to_the_maximum() {
    assert_eq!(
        decode_payload(announce_with(Vec::new())),
        Err(DecodeError::NoSigners)
    );
    let many = sorted_keys(MAX_SIGNERS + 1);
    assert_eq!(
        decode_payload(announce_with(many.clone())),
        Err(DecodeError::TooManySigners {
            limit: MAX_SIGNERS,
            got: MAX_SIGNERS + 1
        })
    );
    let most = many[..MAX_SIGNERS].to_vec();
    let decoded = decode_payload(announce_with(most.clone())).unwrap();
    assert_eq!(decoded.envelope.payload, announce_with(most));
}

#[test]
fn rejects_unsorted_or_repeated_signers() {
    let mut reversed = sorted_keys(3);
    reversed.reverse();
    assert_eq!(
        decode_payload(announce_with(reversed)),
        Err(DecodeError::UnsortedSigners)
    );
    let key = sorted_keys(1)[0];
    assert_eq!(
        decode_payload(announce_with(vec![key, key])),
        Err(DecodeError::UnsortedSigners)
    );
}

#[test]
fn rejects_signer_indices_no_session_can_have() {
    let limit = u16::try_from(MAX_SIGNERS).unwrap();
    let expected = Err(DecodeError::SignerIndexOutOfRange {
        index: limit,
        limit: MAX_SIGNERS,
    });
    let ready = Payload::SessionReady(SessionReady {
        coordinator_index: limit,
    });
    assert_eq!(decode_payload(ready), expected);
    let abort = Payload::SessionAbort(SessionAbort {
        reason: AbortCode::Equivocation,
        blamed_signer: Some(limit),
    });
    assert_eq!(decode_payload(abort), expected);
}

#[test]
fn rejects_empty_or_overlong_transaction_ids() {
    for got in [0, MAX_TRANSACTION_ID_LEN + 1] {
        let payload = Payload::BroadcastConfirmation(BroadcastConfirmation {
            transaction_id: vec![1; got],
        });
        assert_eq!(
            decode_payload(payload),
            Err(DecodeError::TransactionIdLength {
                limit: MAX_TRANSACTION_ID_LEN,
                got
            })
        );
    }
}

#[test]
fn a_signature_by_another_key_does_not_verify() {
    let envelope = envelope_with(ready());
    let genuine = SignedEnvelope::seal(envelope.clone(), &keypair(0xa1), &[0; 32]);
    let forged = SignedEnvelope {
        envelope,
        signature: SignedEnvelope::seal(genuine.envelope.clone(), &keypair(0x66), &[0; 32])
            .signature,
    };
    assert!(genuine.verify_signature());
    assert!(!forged.verify_signature());
}

#[test]
fn a_signature_moved_to_another_envelope_does_not_verify() {
    let genuine = SignedEnvelope::seal(envelope_with(ready()), &keypair(0xa1), &[0; 32]);
    let mut replayed = genuine.clone();
    replayed.envelope.sequence = Sequence(6);
    assert!(!replayed.verify_signature());
    let mut other_session = genuine.clone();
    other_session.envelope.session_id = SessionId([0x12; 32]);
    assert!(!other_session.verify_signature());
}

#[test]
fn negating_the_sender_key_breaks_the_signature() {
    // BIP340 verifies under the x-only key, which the 0x02/0x03 prefix does not change:
    // only the sender bytes inside the signed digest tell the two keys apart.
    let genuine = SignedEnvelope::seal(envelope_with(ready()), &keypair(0xa1), &[0; 32]);
    let mut negated = genuine.clone();
    negated.envelope.sender[0] ^= 0x01;
    assert!(negated.envelope.sender_key().is_ok());
    assert!(!negated.verify_signature());
}

#[test]
fn seal_names_the_signing_key_as_sender() {
    let mut envelope = envelope_with(ready());
    envelope.sender = keypair(0x01).public_key().serialize();
    let sealed = SignedEnvelope::seal(envelope, &keypair(0xa1), &[0; 32]);
    assert_eq!(
        sealed.envelope.sender,
        keypair(0xa1).public_key().serialize()
    );
    assert!(sealed.verify_signature());
}

#[test]
fn a_join_is_proven_by_its_envelope_signature_bound_to_session_and_key() {
    let bob = keypair(0xb0);
    let join = Payload::Join(Join::new(&bob.public_key()));
    let envelope = Envelope::new(
        SessionId([3; 32]),
        &bob.public_key(),
        Sequence(1),
        Timestamp::from_millis(0),
        join,
    );
    let sealed = SignedEnvelope::seal(envelope, &bob, &[2; 32]);
    assert!(sealed.verify_signature());
    let mut elsewhere = sealed.clone();
    elsewhere.envelope.session_id = SessionId([4; 32]);
    assert!(
        !elsewhere.verify_signature(),
        "replayed into another session"
    );
    let mut stolen = sealed.clone();
    stolen.envelope.sender = keypair(0xc0).public_key().serialize();
    if let Payload::Join(join) = &mut stolen.envelope.payload {
        join.key = stolen.envelope.sender;
    }
    assert!(!stolen.verify_signature(), "claimed by another key");
}

#[test]
fn nonce_commitments_bind_session_signer_and_nonce() {
    let alice = keypair(0xa1);
    let ctx = crypto::KeyAggContext::new(Dialect::Bip340, &[alice.public_key()]).unwrap();
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(9);
    let (_first_secret, first) = crypto::generate_nonce(&ctx, &alice, &[0; 32], &mut rng).unwrap();
    let (_second_secret, second) =
        crypto::generate_nonce(&ctx, &alice, &[0; 32], &mut rng).unwrap();
    let session = SessionId([3; 32]);
    let signer = alice.public_key().serialize();
    let commit = NonceCommit::new(&session, &signer, 0, &first);
    assert!(commit.matches(&session, &signer, &NonceShare::new(0, &first)));
    assert!(!commit.matches(&session, &signer, &NonceShare::new(0, &second)));
    assert!(!commit.matches(&SessionId([4; 32]), &signer, &NonceShare::new(0, &first)));
    let other = keypair(0xb0).public_key().serialize();
    assert!(!commit.matches(&session, &other, &NonceShare::new(0, &first)));
}

#[test]
fn a_broadcast_timeout_out_of_range_is_refused() {
    let with_timeout = |broadcast_timeout_ms| {
        Payload::SessionAnnounce(SessionAnnounce {
            signers: sorted_keys(2),
            message: [0x5a; 32],
            dialect: Dialect::Bip340,
            election: ElectionMethod::Lexicographic,
            options: SessionOptions {
                broadcast_timeout_ms,
                ..SessionOptions::default()
            },
        })
    };
    for got in [
        0,
        1,
        MIN_BROADCAST_TIMEOUT_MS - 1,
        MAX_BROADCAST_TIMEOUT_MS + 1,
        u64::MAX,
    ] {
        assert_eq!(
            decode_payload(with_timeout(got)),
            Err(DecodeError::BroadcastTimeout {
                min: MIN_BROADCAST_TIMEOUT_MS,
                max: MAX_BROADCAST_TIMEOUT_MS,
                got
            }),
            "{got} ms"
        );
    }
    for fine in [MIN_BROADCAST_TIMEOUT_MS, 300_000, MAX_BROADCAST_TIMEOUT_MS] {
        assert!(decode_payload(with_timeout(fine)).is_ok(), "{fine} ms");
    }
    let keys: Vec<PublicKey> = [1u8, 2].iter().map(|b| keypair(*b).public_key()).collect();
    let options = SessionOptions {
        broadcast_timeout_ms: 0,
        ..SessionOptions::default()
    };
    assert!(matches!(
        SessionAnnounce::new(
            &keys,
            [0; 32],
            Dialect::Bip340,
            ElectionMethod::Lexicographic,
            options
        ),
        Err(DecodeError::BroadcastTimeout { got: 0, .. })
    ));
}
