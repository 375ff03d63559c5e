//! The discovery bad-input table: each hostile or broken record gets its own typed
//! rejection, is counted under its kind in the security metrics (exactly once), and leaves
//! the receiver's directory and request book exactly as they were.

mod discovery_support;

use chorus_core::crypto::{Keypair, PublicKey};
use chorus_core::discovery::*;
use chorus_core::node::PeerId;
use chorus_core::security::{RejectionKind, SecurityError, SecurityLimits};
use chorus_core::time::Timestamp;
use chorus_core::wire::{Channel, MAX_GOSSIP_MESSAGE};
use discovery_support::*;

/// One row: a receiver in the state the input needs, the input, and its fate.
struct Row {
    name: &'static str,
    receiver: Discovery,
    now: Timestamp,
    from: PeerId,
    channel: Channel,
    bytes: Vec<u8>,
    expected: DiscoveryError,
    kind: RejectionKind,
    /// A request whose joins must not change.
    watched: Option<RequestId>,
}

fn receiver() -> Discovery {
    Discovery::new(SecurityLimits::default(), PeerId::new(*b"receiver"))
}

fn gossip(node: &mut Discovery, now: Timestamp, from: &PeerId, message: DiscoveryMessage) {
    node.handle_message(now, from, Channel::Gossip, &message.encode())
        .expect("setup input is accepted");
}

fn row(
    name: &'static str,
    receiver: Discovery,
    from: PeerId,
    message: DiscoveryMessage,
    expected: DiscoveryError,
    kind: RejectionKind,
) -> Row {
    Row {
        name,
        receiver,
        now: at(0),
        from,
        channel: Channel::Gossip,
        bytes: message.encode(),
        expected,
        kind,
        watched: None,
    }
}

fn alice() -> Keypair {
    keypair(1)
}
fn bob() -> Keypair {
    keypair(2)
}
fn carol() -> Keypair {
    keypair(3)
}
fn mallory() -> Keypair {
    keypair(666)
}

fn trio() -> Vec<PublicKey> {
    vec![
        carol().public_key(),
        alice().public_key(),
        bob().public_key(),
    ]
}

/// A receiver holding Alice's request for Alice, Bob and Carol.
fn with_request() -> (Discovery, RequestId) {
    let mut node = receiver();
    let request = request(&alice(), &trio(), at(0));
    let id = request.id();
    gossip(
        &mut node,
        at(0),
        &peer_of(&alice()),
        DiscoveryMessage::Request(request),
    );
    (node, id)
}

fn forged_advertisement() -> Row {
    let mut forged = advertisement(&alice(), at(0), HOUR);
    forged.content.metadata.nickname = "definitely alice".into();
    row(
        "forged advertisement",
        receiver(),
        peer_of(&alice()),
        DiscoveryMessage::Advertisement(forged),
        DiscoveryError::InvalidSignature {
            record: RecordKind::Advertisement,
        },
        RejectionKind::ForgedAdvertisement,
    )
}

fn expired_advertisement() -> Row {
    let stale = advertisement(&alice(), at(0), HOUR);
    let expires_at = stale.content.expires_at;
    Row {
        now: expires_at,
        ..row(
            "expired advertisement",
            receiver(),
            peer_of(&alice()),
            DiscoveryMessage::Advertisement(stale),
            DiscoveryError::Expired {
                expires_at,
                now: expires_at,
            },
            RejectionKind::Expired,
        )
    }
}

fn second_advertisement_within_a_minute() -> Row {
    let mut node = receiver();
    gossip(
        &mut node,
        at(0),
        &peer_of(&alice()),
        DiscoveryMessage::Advertisement(advertisement(&alice(), at(0), HOUR)),
    );
    Row {
        now: at(59),
        ..row(
            "second advertisement within 60 s",
            node,
            peer_of(&alice()),
            DiscoveryMessage::Advertisement(advertisement(&alice(), at(59), HOUR)),
            SecurityError::RateLimited { retry_at: at(60) }.into(),
            RejectionKind::RateLimited,
        )
    }
}

fn sybil_advertisement(key: &Keypair, peer: &PeerId, created_at: Timestamp) -> SignerAdvertisement {
    let content = AdvertisementContent::new(
        peer.clone(),
        SignerCriteria::new(["spend"]),
        SignerMetadata::default(),
        created_at,
        HOUR,
    );
    SignerAdvertisement::sign(content, key, &[0; 32])
}

fn eleventh_key_from_one_peer() -> Row {
    let mut node = receiver();
    let sybil = PeerId::new(*b"sybil");
    for index in 0..10u16 {
        let minute = u64::from(index) * 60;
        gossip(
            &mut node,
            at(minute),
            &sybil,
            DiscoveryMessage::Advertisement(sybil_advertisement(
                &keypair(100 + index),
                &sybil,
                at(minute),
            )),
        );
    }
    Row {
        now: at(600),
        ..row(
            "11th key from one peer",
            node,
            sybil.clone(),
            DiscoveryMessage::Advertisement(sybil_advertisement(&keypair(110), &sybil, at(600))),
            SecurityError::TooManyKeys { limit: 10 }.into(),
            RejectionKind::TooManyKeys,
        )
    }
}

fn creator_not_required() -> Row {
    let foreign = request(
        &mallory(),
        &[alice().public_key(), bob().public_key()],
        at(0),
    );
    row(
        "request whose creator is not a required key",
        receiver(),
        peer_of(&mallory()),
        DiscoveryMessage::Request(foreign),
        DiscoveryError::CreatorNotRequired,
        RejectionKind::CreatorNotRequired,
    )
}

fn forged_join_proof() -> Row {
    let (node, id) = with_request();
    let mut proof = JoinProof::sign(id, &bob(), peer_of(&bob()), &[0; 32]);
    proof.signature = JoinProof::sign(id, &mallory(), peer_of(&bob()), &[0; 32]).signature;
    Row {
        watched: Some(id),
        ..row(
            "forged join proof",
            node,
            peer_of(&bob()),
            DiscoveryMessage::Join(proof),
            DiscoveryError::InvalidSignature {
                record: RecordKind::Join,
            },
            RejectionKind::ForgedJoin,
        )
    }
}

fn join_by_a_key_not_required() -> Row {
    let (node, id) = with_request();
    let proof = JoinProof::sign(id, &mallory(), peer_of(&mallory()), &[0; 32]);
    Row {
        watched: Some(id),
        ..row(
            "join by a key that is not required",
            node,
            peer_of(&mallory()),
            DiscoveryMessage::Join(proof),
            DiscoveryError::NotRequired {
                key: mallory().public_key(),
            },
            RejectionKind::NotRequired,
        )
    }
}

fn replayed_join() -> Row {
    let (mut node, id) = with_request();
    let proof = JoinProof::sign(id, &bob(), peer_of(&bob()), &[0; 32]);
    gossip(
        &mut node,
        at(1),
        &peer_of(&bob()),
        DiscoveryMessage::Join(proof.clone()),
    );
    Row {
        watched: Some(id),
        ..row(
            "replayed join",
            node,
            peer_of(&bob()),
            DiscoveryMessage::Join(proof),
            DiscoveryError::JoinReplayed {
                key: bob().public_key(),
            },
            RejectionKind::JoinReplayed,
        )
    }
}

fn oversized_request() -> Row {
    let mut huge = request(&alice(), &trio(), at(0));
    huge.content.metadata.transaction = vec![0xab; 2 * MAX_GOSSIP_MESSAGE];
    let huge = SigningRequest::sign(huge.content, &alice(), &[0; 32]);
    let got = DiscoveryMessage::Request(huge.clone()).encode().len();
    row(
        "oversized request",
        receiver(),
        peer_of(&alice()),
        DiscoveryMessage::Request(huge),
        DiscoveryError::Oversized {
            limit: MAX_GOSSIP_MESSAGE,
            got,
        },
        RejectionKind::Oversized,
    )
}

fn request_with_an_oversized_field() -> Row {
    let mut big = request(&alice(), &trio(), at(0));
    big.content.metadata.transaction = vec![0xab; MAX_TRANSACTION_LEN + 1];
    let big = SigningRequest::sign(big.content, &alice(), &[0; 32]);
    Row {
        channel: Channel::Direct,
        ..row(
            "request with an oversized transaction (direct)",
            receiver(),
            peer_of(&alice()),
            DiscoveryMessage::Request(big),
            DiscoveryError::OutOfBounds {
                field: Field::Transaction,
                limit: MAX_TRANSACTION_LEN as u64,
                got: MAX_TRANSACTION_LEN as u64 + 1,
            },
            RejectionKind::OutOfBounds,
        )
    }
}

fn request_with_duplicate_keys() -> Row {
    let twice = vec![alice().public_key(), bob().public_key(), bob().public_key()];
    row(
        "request with duplicate keys",
        receiver(),
        peer_of(&alice()),
        DiscoveryMessage::Request(request(&alice(), &twice, at(0))),
        DiscoveryError::DuplicateKeys,
        RejectionKind::DuplicateKeys,
    )
}

fn withdrawal_signed_by_another_key() -> Row {
    let mut node = receiver();
    let advertised = advertisement(&alice(), at(0), HOUR);
    gossip(
        &mut node,
        at(0),
        &peer_of(&alice()),
        DiscoveryMessage::Advertisement(advertised.clone()),
    );
    let withdrawal = AdvertisementWithdrawal::sign(&advertised, &mallory(), &[0; 32]);
    row(
        "withdrawal signed by another key",
        node,
        peer_of(&mallory()),
        DiscoveryMessage::Withdrawal(withdrawal),
        DiscoveryError::InvalidSignature {
            record: RecordKind::Withdrawal,
        },
        RejectionKind::ForgedWithdrawal,
    )
}

fn blacklisted_after_ten_invalid_signatures() -> Row {
    let mut node = receiver();
    let from = peer_of(&mallory());
    for attempt in 0..10u8 {
        let mut forged = sybil_advertisement(&alice(), &from, at(0));
        forged.content.metadata.nickname = format!("attempt {attempt}");
        let refused = node.handle_message(
            at(0),
            &from,
            Channel::Gossip,
            &DiscoveryMessage::Advertisement(forged).encode(),
        );
        assert_eq!(
            refused,
            Err(DiscoveryError::InvalidSignature {
                record: RecordKind::Advertisement
            })
        );
        assert_eq!(
            node.security().is_blacklisted(&from),
            attempt == 9,
            "attempt {attempt}"
        );
    }
    assert_eq!(
        node.security()
            .metrics()
            .rejections(RejectionKind::ForgedAdvertisement),
        10
    );
    // Now even a genuine advertisement from that peer is ignored.
    row(
        "peer blacklisted after 10 invalid signatures, ignored afterwards",
        node,
        from.clone(),
        DiscoveryMessage::Advertisement(advertisement(&mallory(), at(1), HOUR)),
        SecurityError::Blacklisted { peer: from }.into(),
        RejectionKind::Blacklisted,
    )
}

fn advertisement_naming_another_peer() -> Row {
    let relayed = advertisement(&alice(), at(0), HOUR);
    row(
        "advertisement delivered by another peer than it names",
        receiver(),
        peer_of(&mallory()),
        DiscoveryMessage::Advertisement(relayed),
        DiscoveryError::PeerMismatch {
            named: peer_of(&alice()),
            from: peer_of(&mallory()),
        },
        RejectionKind::PeerMismatch,
    )
}

fn request_from_the_future() -> Row {
    let early = request(&alice(), &trio(), at(3_000));
    row(
        "request created an hour ahead",
        receiver(),
        peer_of(&alice()),
        DiscoveryMessage::Request(early),
        DiscoveryError::FromTheFuture {
            created_at: at(3_000),
            now: at(0),
        },
        RejectionKind::FromTheFuture,
    )
}

fn replayed_advertisement() -> Row {
    let mut node = receiver();
    let first = advertisement(&alice(), at(0), HOUR);
    gossip(
        &mut node,
        at(0),
        &peer_of(&alice()),
        DiscoveryMessage::Advertisement(first.clone()),
    );
    gossip(
        &mut node,
        at(60),
        &peer_of(&alice()),
        DiscoveryMessage::Advertisement(advertisement(&alice(), at(60), HOUR)),
    );
    Row {
        now: at(120),
        ..row(
            "replay of an older advertisement",
            node,
            peer_of(&alice()),
            DiscoveryMessage::Advertisement(first),
            DiscoveryError::StaleAdvertisement {
                held: at(60),
                got: at(0),
            },
            RejectionKind::StaleAdvertisement,
        )
    }
}

fn join_for_an_unknown_request() -> Row {
    let proof = JoinProof::sign(RequestId([7; 32]), &bob(), peer_of(&bob()), &[0; 32]);
    row(
        "join for an unknown request",
        receiver(),
        peer_of(&bob()),
        DiscoveryMessage::Join(proof),
        DiscoveryError::UnknownRequest {
            request: RequestId([7; 32]),
        },
        RejectionKind::UnknownRequest,
    )
}

fn replayed_request() -> Row {
    let (node, id) = with_request();
    let again = request(&alice(), &trio(), at(0));
    assert_eq!(again.id(), id);
    Row {
        watched: Some(id),
        ..row(
            "replayed request",
            node,
            peer_of(&alice()),
            DiscoveryMessage::Request(again),
            DiscoveryError::DuplicateRequest { request: id },
            RejectionKind::DuplicateRequest,
        )
    }
}

fn non_canonical_bytes() -> Row {
    let mut bytes = DiscoveryMessage::Advertisement(advertisement(&alice(), at(0), HOUR)).encode();
    // The peer id's length prefix (33, after the format byte, the variant and the key) as
    // an over-long varint.
    let length_at = 1 + 1 + 33;
    assert_eq!(bytes[length_at], 33);
    bytes[length_at] |= 0x80;
    bytes.insert(length_at + 1, 0);
    Row {
        bytes,
        ..row(
            "non-canonical encoding",
            receiver(),
            peer_of(&alice()),
            DiscoveryMessage::Join(JoinProof::sign(
                RequestId([0; 32]),
                &alice(),
                peer_of(&alice()),
                &[0; 32],
            )),
            DiscoveryError::NonCanonical,
            RejectionKind::Malformed,
        )
    }
}

fn graylisted_after_ten_violations() -> Row {
    let mut node = receiver();
    let from = peer_of(&mallory());
    for _ in 0..10 {
        let twice = vec![
            mallory().public_key(),
            bob().public_key(),
            bob().public_key(),
        ];
        let refused = node.handle_message(
            at(0),
            &from,
            Channel::Gossip,
            &DiscoveryMessage::Request(request(&mallory(), &twice, at(0))).encode(),
        );
        assert_eq!(refused, Err(DiscoveryError::DuplicateKeys));
    }
    let until = at(600);
    row(
        "peer graylisted after 10 violations, ignored meanwhile",
        node,
        from.clone(),
        DiscoveryMessage::Advertisement(advertisement(&mallory(), at(0), HOUR)),
        SecurityError::Graylisted { peer: from, until }.into(),
        RejectionKind::Graylisted,
    )
}

/// What a rejection must leave alone.
fn snapshot(
    node: &Discovery,
    watched: Option<RequestId>,
) -> (
    Vec<SignerAdvertisement>,
    usize,
    Option<Vec<PublicKey>>,
    bool,
) {
    (
        node.directory().iter().collect(),
        node.book().len(),
        watched.and_then(|id| node.book().joined_keys(&id)),
        watched.is_some_and(|id| node.book().is_completed(&id)),
    )
}

#[test]
fn every_bad_input_is_refused_typed_counted_and_harmless() {
    let rows = [
        forged_advertisement(),
        expired_advertisement(),
        second_advertisement_within_a_minute(),
        eleventh_key_from_one_peer(),
        creator_not_required(),
        forged_join_proof(),
        join_by_a_key_not_required(),
        replayed_join(),
        oversized_request(),
        request_with_an_oversized_field(),
        request_with_duplicate_keys(),
        withdrawal_signed_by_another_key(),
        blacklisted_after_ten_invalid_signatures(),
        advertisement_naming_another_peer(),
        request_from_the_future(),
        replayed_advertisement(),
        join_for_an_unknown_request(),
        replayed_request(),
        non_canonical_bytes(),
        graylisted_after_ten_violations(),
    ];
    assert!(rows.len() >= 12);
    let count = rows.len();
    for mut row in rows {
        while row.receiver.poll_event().is_some() {}
        let before = snapshot(&row.receiver, row.watched);
        let metrics = row.receiver.security().metrics().clone();
        let outcome = row
            .receiver
            .handle_message(row.now, &row.from, row.channel, &row.bytes);
        assert_eq!(outcome, Err(row.expected.clone()), "{}", row.name);
        assert_eq!(row.expected.kind(), row.kind, "{}", row.name);
        let after = row.receiver.security().metrics();
        assert_eq!(
            after.rejections(row.kind),
            metrics.rejections(row.kind) + 1,
            "{}: counter",
            row.name
        );
        assert_eq!(
            after.total_rejections(),
            metrics.total_rejections() + 1,
            "{}: counted once",
            row.name
        );
        assert_eq!(
            snapshot(&row.receiver, row.watched),
            before,
            "{}: state changed",
            row.name
        );
        // No session and no discovery happened.
        let events: Vec<_> = std::iter::from_fn(|| row.receiver.poll_event()).collect();
        assert!(
            !events.iter().any(|event| matches!(
                event,
                DiscoveryEvent::SessionReady(_)
                    | DiscoveryEvent::SignerDiscovered { .. }
                    | DiscoveryEvent::ParticipantJoined { .. }
            )),
            "{}: {events:?}",
            row.name
        );
        println!("ok  {:<62} {}", row.name, row.kind);
    }
    println!("{count} bad inputs refused");
}
