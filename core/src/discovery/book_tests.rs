//! The request book and the composed [`Discovery`].

use core::time::Duration;

use super::tests::{advertisement_at, at, keypair, peer_of, HOUR};
use super::*;
use crate::crypto::{Dialect, Keypair, PublicKey};
use crate::election::ElectionMethod;
use crate::node::PeerId;
use crate::security::{RejectionKind, SecurityError, SecurityEvent, SecurityLimits};
use crate::time::Timestamp;
use crate::wire::Channel;

const SKEW: Duration = Duration::from_secs(300);

fn keys(signers: &[&Keypair]) -> Vec<PublicKey> {
    signers.iter().map(|signer| signer.public_key()).collect()
}

fn request_by(creator: &Keypair, required: &[&Keypair], created_at: Timestamp) -> SigningRequest {
    let content = RequestContent::new(
        &keys(required),
        [0x5a; 32],
        Dialect::Bip340,
        created_at,
        HOUR,
    );
    SigningRequest::sign(content, creator, &[0; 32])
}

fn edited(
    request: &SigningRequest,
    creator: &Keypair,
    edit: impl FnOnce(&mut RequestContent),
) -> SigningRequest {
    let mut content = request.content.clone();
    edit(&mut content);
    SigningRequest::sign(content, creator, &[0; 32])
}

fn out_of_bounds(field: Field, limit: u64, got: u64) -> DiscoveryError {
    DiscoveryError::OutOfBounds { field, limit, got }
}

#[test]
fn request_key_lists_each_have_their_error() {
    let (alice, bob) = (keypair(1), keypair(2));
    let base = request_by(&alice, &[&alice, &bob], at(0));
    assert_eq!(base.validate(), Ok(()));
    let many: Vec<Keypair> = (1..=101u8).map(keypair).collect();
    let cases: Vec<(SigningRequest, DiscoveryError)> = vec![
        (
            edited(&base, &alice, |c| c.required_keys.clear()),
            DiscoveryError::Missing {
                field: Field::RequiredKeys,
            },
        ),
        (
            request_by(&alice, &many.iter().collect::<Vec<_>>(), at(0)),
            out_of_bounds(Field::RequiredKeys, 100, 101),
        ),
        (
            request_by(&alice, &[&alice, &bob, &bob], at(0)),
            DiscoveryError::DuplicateKeys,
        ),
        (
            edited(&base, &alice, |c| c.required_keys.reverse()),
            DiscoveryError::Unsorted {
                field: Field::RequiredKeys,
            },
        ),
        (
            request_by(&keypair(3), &[&alice, &bob], at(0)),
            DiscoveryError::CreatorNotRequired,
        ),
    ];
    for (request, expected) in cases {
        assert_eq!(request.validate(), Err(expected));
    }
    // A key that is no curve point: [0xff; 33] sorts last, so Bob's key (or Alice's, the
    // creator's) makes way for it.
    let mut not_a_point = base.clone();
    not_a_point.content.required_keys[0] = [0xff; 33];
    not_a_point.content.required_keys.sort_unstable();
    let expected = if not_a_point
        .content
        .signer_index(&alice.public_key().serialize())
        .is_some()
    {
        DiscoveryError::InvalidKey {
            record: RecordKind::Request,
        }
    } else {
        DiscoveryError::CreatorNotRequired
    };
    assert_eq!(not_a_point.validate(), Err(expected));
}

#[test]
fn request_metadata_bounds_each_have_their_error() {
    let (alice, bob) = (keypair(1), keypair(2));
    let base = request_by(&alice, &[&alice, &bob], at(0));
    let cases: Vec<(SigningRequest, DiscoveryError)> = vec![
        (
            edited(&base, &alice, |c| {
                c.metadata.transaction = vec![0; MAX_TRANSACTION_LEN + 1]
            }),
            out_of_bounds(Field::Transaction, 4_096, 4_097),
        ),
        (
            edited(&base, &alice, |c| {
                c.metadata.description = "x".repeat(MAX_DESCRIPTION_LEN + 1)
            }),
            out_of_bounds(Field::Description, 512, 513),
        ),
        (
            edited(&base, &alice, |c| {
                c.metadata.description = "\u{202e}\u{0}".into()
            }),
            DiscoveryError::InvalidText {
                field: Field::Description,
            },
        ),
        (
            edited(&base, &alice, |c| {
                c.metadata.transaction_type = Some("a b".into())
            }),
            DiscoveryError::InvalidText {
                field: Field::TransactionType,
            },
        ),
        (
            edited(&base, &alice, |c| c.options.broadcast_timeout_ms = 0),
            DiscoveryError::BroadcastTimeout {
                min: 1_000,
                max: 3_600_000,
                got: 0,
            },
        ),
        (
            edited(&base, &alice, |c| {
                c.expires_at = c.created_at.saturating_add(MAX_LIFETIME * 2)
            }),
            out_of_bounds(Field::Lifetime, 86_400_000, 172_800_000),
        ),
    ];
    for (request, expected) in cases {
        assert_eq!(request.validate(), Err(expected));
    }
}

fn book() -> RequestBook {
    RequestBook::new(1_000, 4, 1 << 24, SKEW)
}

#[test]
fn insert_refuses_with_typed_errors_and_changes_nothing() {
    let (alice, bob) = (keypair(1), keypair(2));
    let peer = peer_of(&alice);
    let mut book = book();
    let genuine = request_by(&alice, &[&bob, &alice], at(0));
    let mut forged = genuine.clone();
    forged.content.message = [0; 32];
    assert_eq!(
        book.insert(at(0), forged, &peer),
        Err(DiscoveryError::InvalidSignature {
            record: RecordKind::Request
        })
    );
    let expires_at = genuine.content.expires_at;
    assert_eq!(
        book.insert(expires_at, genuine.clone(), &peer),
        Err(DiscoveryError::Expired {
            expires_at,
            now: expires_at
        })
    );
    assert!(matches!(
        book.insert(at(0), request_by(&alice, &[&bob, &alice], at(400)), &peer),
        Err(DiscoveryError::FromTheFuture { .. })
    ));
    assert!(book.is_empty());
    assert_eq!(book.pending_from(&peer), 0);

    let admission = book.insert(at(0), genuine.clone(), &peer).unwrap();
    assert_eq!(
        admission,
        RequestAdmission {
            request: genuine.id(),
            evicted: Vec::new(),
            ready: None
        }
    );
    assert_eq!(
        book.insert(at(0), genuine.clone(), &peer),
        Err(DiscoveryError::DuplicateRequest {
            request: genuine.id()
        })
    );
    assert_eq!(
        book.joined_keys(&genuine.id()),
        Some(vec![alice.public_key()])
    );
}

#[test]
fn per_peer_quota_and_eviction_of_the_oldest() {
    let (alice, bob) = (keypair(1), keypair(2));
    let mut book = RequestBook::new(5, 3, 1 << 24, SKEW);
    let requests: Vec<SigningRequest> = (0..6)
        .map(|second| request_by(&alice, &[&alice, &bob], at(second)))
        .collect();
    let (first_peer, second_peer) = (PeerId::new([1]), PeerId::new([2]));
    for request in &requests[..3] {
        book.insert(at(10), request.clone(), &first_peer).unwrap();
    }
    assert_eq!(
        book.insert(at(10), requests[3].clone(), &first_peer),
        Err(DiscoveryError::Security(SecurityError::PendingQuota {
            limit: 3
        }))
    );
    book.insert(at(10), requests[3].clone(), &second_peer)
        .unwrap();
    book.insert(at(10), requests[4].clone(), &second_peer)
        .unwrap();
    assert_eq!(book.len(), 5);
    let admission = book
        .insert(at(10), requests[5].clone(), &second_peer)
        .unwrap();
    assert_eq!(admission.evicted, vec![requests[0].id()]);
    assert_eq!(book.len(), 5);
    assert_eq!(book.pending_from(&first_peer), 2);
    assert_eq!(book.pending_from(&second_peer), 3);
}

fn join(signer: &Keypair, request: RequestId) -> JoinProof {
    JoinProof::sign(request, signer, peer_of(signer), &[0; 32])
}

/// A book holding Alice's request for Alice, Bob and Carol.
fn book_with_request() -> (RequestBook, SigningRequest) {
    let (alice, bob, carol) = (keypair(1), keypair(2), keypair(3));
    let mut book = book();
    let request = request_by(&alice, &[&carol, &alice, &bob], at(0));
    book.insert(at(0), request.clone(), &peer_of(&alice))
        .unwrap();
    (book, request)
}

#[test]
fn bad_joins_are_refused_and_change_nothing() {
    let (alice, bob, carol, mallory) = (keypair(1), keypair(2), keypair(3), keypair(6));
    let (mut book, request) = book_with_request();
    let id = request.id();
    let unknown = RequestId([0; 32]);
    let mut forged = join(&bob, id);
    forged.signature = join(&mallory, id).signature;
    let expires_at = request.content.expires_at;
    let cases = [
        (
            at(1),
            join(&bob, unknown),
            peer_of(&bob),
            DiscoveryError::UnknownRequest { request: unknown },
        ),
        (
            at(1),
            join(&mallory, id),
            peer_of(&mallory),
            DiscoveryError::NotRequired {
                key: mallory.public_key(),
            },
        ),
        (
            at(1),
            join(&bob, id),
            peer_of(&carol),
            DiscoveryError::PeerMismatch {
                named: peer_of(&bob),
                from: peer_of(&carol),
            },
        ),
        (
            at(1),
            join(&alice, id),
            peer_of(&alice),
            DiscoveryError::JoinReplayed {
                key: alice.public_key(),
            },
        ),
        (
            at(1),
            forged,
            peer_of(&bob),
            DiscoveryError::InvalidSignature {
                record: RecordKind::Join,
            },
        ),
        (
            expires_at,
            join(&bob, id),
            peer_of(&bob),
            DiscoveryError::Expired {
                expires_at,
                now: expires_at,
            },
        ),
    ];
    for (now, proof, from, expected) in cases {
        assert_eq!(book.join(now, proof, &from), Err(expected));
    }
    assert_eq!(book.joined_keys(&id), Some(vec![alice.public_key()]));
    assert_eq!(book.requests_for(at(1), &bob.public_key()).len(), 1);
}

#[test]
fn the_last_join_completes_the_session_and_replays_stay_out() {
    let (alice, bob, carol) = (keypair(1), keypair(2), keypair(3));
    let (mut book, request) = book_with_request();
    let id = request.id();
    assert_eq!(
        book.join(at(1), join(&bob, id), &peer_of(&bob)),
        Ok(JoinOutcome::Joined {
            remaining: 1,
            evicted: Vec::new()
        })
    );
    assert!(book.requests_for(at(1), &bob.public_key()).is_empty());
    assert_eq!(
        book.join(at(1), join(&bob, id), &peer_of(&bob)),
        Err(DiscoveryError::JoinReplayed {
            key: bob.public_key()
        })
    );
    let JoinOutcome::Ready(session) = book
        .join(at(2), join(&carol, id), &peer_of(&carol))
        .unwrap()
    else {
        panic!("the last join makes the session ready");
    };
    let mut sorted = keys(&[&alice, &bob, &carol]);
    sorted.sort_by_key(PublicKey::serialize);
    assert_eq!(session.signers, sorted);
    assert_eq!(
        session.peers,
        sorted.iter().map(PeerId::from_key).collect::<Vec<_>>()
    );
    assert_eq!((session.creator, session.request), (alice.public_key(), id));
    assert_eq!(session.election, ElectionMethod::Lexicographic);
    let expected = session_id_for(
        &id,
        &request.content.required_keys,
        ElectionMethod::Lexicographic,
    );
    assert_eq!(session.session, expected);
    // Completed: the request is gone from the pending book but cannot be replayed.
    assert!(book.is_empty());
    assert!(book.is_completed(&id));
    assert_eq!(
        book.insert(at(3), request, &peer_of(&alice)),
        Err(DiscoveryError::DuplicateRequest { request: id })
    );
    assert_eq!(
        book.join(at(3), join(&carol, id), &peer_of(&carol)),
        Err(DiscoveryError::JoinReplayed {
            key: carol.public_key()
        })
    );
    assert_eq!(book.prune_expired(at(3_600)), Vec::<RequestId>::new());
    assert!(!book.is_completed(&id));
}

#[test]
fn a_request_for_the_creator_alone_is_ready_at_once() {
    let alice = keypair(1);
    let mut book = book();
    let admission = book
        .insert(
            at(0),
            request_by(&alice, &[&alice], at(0)),
            &peer_of(&alice),
        )
        .unwrap();
    assert_eq!(admission.ready.unwrap().signers, vec![alice.public_key()]);
    assert!(book.is_empty());
    assert_eq!(book.pending_from(&peer_of(&alice)), 0);
}

#[test]
fn pending_requests_expire_and_leave_with_their_peer() {
    let (alice, bob) = (keypair(1), keypair(2));
    let mut book = book();
    let first = request_by(&alice, &[&alice, &bob], at(0));
    let second = request_by(&bob, &[&alice, &bob], at(10));
    book.insert(at(10), first.clone(), &peer_of(&alice))
        .unwrap();
    book.insert(at(10), second.clone(), &peer_of(&bob)).unwrap();
    assert_eq!(book.next_expiry(), Some(first.content.expires_at));
    assert_eq!(
        book.prune_expired(first.content.expires_at),
        vec![first.id()]
    );
    assert_eq!(book.remove_peer(&peer_of(&bob)), vec![second.id()]);
    assert!(book.is_empty());
    assert_eq!(book.next_expiry(), None);
}

fn discovery(keypair: &Keypair) -> Discovery {
    Discovery::new(SecurityLimits::default(), peer_of(keypair))
}

fn drain_events(node: &mut Discovery) -> Vec<DiscoveryEvent> {
    std::iter::from_fn(|| node.poll_event()).collect()
}

#[test]
fn advertise_publishes_per_type_and_respects_its_own_rate_limit() {
    let alice = keypair(1);
    let mut node = discovery(&alice);
    let spec = AdvertisementSpec::new(SignerCriteria::new(["swap", "spend"]), HOUR);
    let advertisement = node
        .advertise(at(0), &alice, spec.clone(), &[0; 32])
        .unwrap();
    let destinations: Vec<Destination> = std::iter::from_fn(|| node.poll_outbound())
        .map(|o| o.destination)
        .collect();
    assert_eq!(
        destinations,
        [
            Destination::Topic(signer_topic("spend")),
            Destination::Topic(signer_topic("swap")),
            Destination::DhtRecord {
                key: signer_record_key(&advertisement.content.key)
            },
        ]
    );
    assert_eq!(
        drain_events(&mut node),
        [DiscoveryEvent::SignerAdvertised {
            key: alice.public_key()
        }]
    );
    assert_eq!(
        node.advertise(at(59), &alice, spec.clone(), &[0; 32]),
        Err(DiscoveryError::Security(SecurityError::RateLimited {
            retry_at: at(60)
        }))
    );
    assert!(node.advertise(at(60), &alice, spec, &[0; 32]).is_ok());

    let withdrawal = node.withdraw(at(61), &alice, &[0; 32]).unwrap();
    assert!(withdrawal.verify_signature());
    assert_eq!(
        node.withdraw(at(62), &alice, &[0; 32]),
        Err(DiscoveryError::NotAdvertised {
            key: alice.public_key()
        })
    );
}

#[test]
fn rejections_are_counted_and_blacklisting_drops_what_the_peer_delivered() {
    let (me, mallory) = (keypair(1), keypair(6));
    let mallory_peer = peer_of(&mallory);
    let mut node = discovery(&me);
    let advertisement = advertisement_at(&mallory, at(0), HOUR);
    let bytes = DiscoveryMessage::Advertisement(advertisement.clone()).encode();
    node.handle_message(at(0), &mallory_peer, Channel::Gossip, &bytes)
        .unwrap();
    let request = request_by(&mallory, &[&mallory, &me], at(0));
    let bytes = DiscoveryMessage::Request(request).encode();
    node.handle_message(at(0), &mallory_peer, Channel::Gossip, &bytes)
        .unwrap();
    assert_eq!((node.directory().len(), node.book().len()), (1, 1));
    drain_events(&mut node);

    let other = request_by(&mallory, &[&mallory, &me], at(1));
    for round in 0..10u8 {
        let mut forged_request = other.clone();
        forged_request.content.message[0] = round;
        let bytes = DiscoveryMessage::Request(forged_request).encode();
        assert_eq!(
            node.handle_message(at(1), &mallory_peer, Channel::Gossip, &bytes),
            Err(DiscoveryError::InvalidSignature {
                record: RecordKind::Request
            })
        );
    }
    assert_eq!(
        node.security()
            .metrics()
            .rejections(RejectionKind::ForgedRequest),
        10
    );
    assert!(node.security().is_blacklisted(&mallory_peer));
    assert_eq!((node.directory().len(), node.book().len()), (0, 0));
    assert!(matches!(
        drain_events(&mut node).as_slice(),
        [DiscoveryEvent::Security(
            SecurityEvent::PeerBlacklisted { .. }
        )]
    ));
    assert_eq!(
        node.handle_message(at(2), &mallory_peer, Channel::Gossip, b"anything"),
        Err(DiscoveryError::Security(SecurityError::Blacklisted {
            peer: mallory_peer.clone()
        }))
    );
    assert_eq!(
        node.security()
            .metrics()
            .rejections(RejectionKind::Blacklisted),
        1
    );
    assert!(node.unblacklist(&mallory_peer));
    assert!(matches!(
        node.handle_message(at(2), &mallory_peer, Channel::Gossip, b"anything"),
        Err(DiscoveryError::UnknownFormat { .. })
    ));
}

#[test]
fn outputs_apply_backpressure_until_polled() {
    let me = keypair(1);
    let limits = SecurityLimits {
        max_queued_events: 2,
        ..SecurityLimits::default()
    };
    let mut node = Discovery::new(limits, peer_of(&me));
    for byte in 2..4 {
        let signer = keypair(byte);
        let bytes =
            DiscoveryMessage::Advertisement(advertisement_at(&signer, at(0), HOUR)).encode();
        node.handle_message(at(0), &peer_of(&signer), Channel::Gossip, &bytes)
            .unwrap();
    }
    let signer = keypair(4);
    let bytes = DiscoveryMessage::Advertisement(advertisement_at(&signer, at(0), HOUR)).encode();
    assert_eq!(
        node.handle_message(at(0), &peer_of(&signer), Channel::Gossip, &bytes),
        Err(DiscoveryError::Backpressure {
            limit: 2,
            queued: 2
        })
    );
    assert_eq!(
        node.security().metrics().total_rejections(),
        0,
        "not the peer's fault"
    );
    drain_events(&mut node);
    assert!(node
        .handle_message(at(0), &peer_of(&signer), Channel::Gossip, &bytes)
        .is_ok());
}

#[test]
fn timeouts_expire_advertisements_and_requests() {
    let (me, alice) = (keypair(1), keypair(2));
    let mut node = discovery(&me);
    let bytes = DiscoveryMessage::Advertisement(advertisement_at(&alice, at(0), HOUR)).encode();
    node.handle_message(at(0), &peer_of(&alice), Channel::Gossip, &bytes)
        .unwrap();
    let request = request_by(&alice, &[&alice, &me], at(0));
    let content = RequestContent {
        expires_at: at(1_800),
        ..request.content.clone()
    };
    let request = SigningRequest::sign(content, &alice, &[0; 32]);
    let bytes = DiscoveryMessage::Request(request.clone()).encode();
    node.handle_message(at(0), &peer_of(&alice), Channel::Gossip, &bytes)
        .unwrap();
    drain_events(&mut node);
    assert_eq!(node.poll_timeout(), Some(at(1_800)));
    node.handle_timeout(at(1_799));
    assert!(drain_events(&mut node).is_empty());
    node.handle_timeout(at(1_800));
    assert_eq!(
        drain_events(&mut node),
        [DiscoveryEvent::RequestExpired {
            request: request.id()
        }]
    );
    node.handle_timeout(at(3_600));
    assert_eq!(
        drain_events(&mut node),
        [DiscoveryEvent::SignerExpired {
            key: alice.public_key()
        }]
    );
    assert_eq!(node.poll_timeout(), None);
}

#[test]
fn a_second_copy_of_an_advertisement_is_a_duplicate_not_a_violation() {
    let (me, alice) = (keypair(1), keypair(2));
    let mut node = discovery(&me);
    let bytes = DiscoveryMessage::Advertisement(advertisement_at(&alice, at(0), HOUR)).encode();
    node.handle_message(at(0), &peer_of(&alice), Channel::Gossip, &bytes)
        .unwrap();
    assert_eq!(
        node.handle_message(at(1), &peer_of(&alice), Channel::Gossip, &bytes),
        Err(DiscoveryError::StaleAdvertisement {
            held: at(0),
            got: at(0)
        })
    );
    let standing = node.security().standing(&peer_of(&alice)).unwrap();
    assert_eq!(standing.violations, 0);
    assert_eq!(
        node.security()
            .metrics()
            .rejections(RejectionKind::RateLimited),
        0
    );
}

#[test]
fn the_memory_budget_evicts_the_oldest_and_counts_joins() {
    let (alice, bob, carol) = (keypair(1), keypair(2), keypair(3));
    let peer = peer_of(&alice);
    let requests: Vec<SigningRequest> = (0..4)
        .map(|second| request_by(&alice, &[&alice, &bob, &carol], at(second)))
        .collect();
    let mut probe = book();
    for request in &requests[..3] {
        probe.insert(at(10), request.clone(), &peer).unwrap();
    }
    let three = probe.memory();
    let mut book = RequestBook::new(1_000, 100, three + 100, SKEW);
    for request in &requests[..3] {
        assert!(book
            .insert(at(10), request.clone(), &peer)
            .unwrap()
            .evicted
            .is_empty());
    }
    assert_eq!(book.memory(), three);
    let admission = book.insert(at(10), requests[3].clone(), &peer).unwrap();
    assert_eq!(admission.evicted, vec![requests[0].id()]);
    assert!(book.memory() <= three + 100);

    // A join grows the entry past the budget: the oldest other request makes room.
    let id = requests[3].id();
    let proof = JoinProof::sign(id, &bob, peer_of(&bob), &[0; 32]);
    let JoinOutcome::Joined {
        remaining: 1,
        evicted,
    } = book.join(at(11), proof, &peer_of(&bob)).unwrap()
    else {
        panic!("one key left to join");
    };
    assert_eq!(evicted, vec![requests[1].id()]);
    assert!(book.get(&id).is_some());
    assert!(book.memory() <= three + 100);
}

#[test]
fn memory_accounting_returns_to_zero() {
    let (alice, bob) = (keypair(1), keypair(2));
    let mut book = book();
    let request = request_by(&alice, &[&alice, &bob], at(0));
    let id = book
        .insert(at(0), request.clone(), &peer_of(&alice))
        .unwrap()
        .request;
    let other = request_by(&bob, &[&alice, &bob], at(1));
    book.insert(at(1), other, &peer_of(&bob)).unwrap();
    assert!(book.memory() > 0);
    let proof = JoinProof::sign(id, &bob, peer_of(&bob), &[0; 32]);
    assert!(matches!(
        book.join(at(2), proof, &peer_of(&bob)),
        Ok(JoinOutcome::Ready(_))
    ));
    book.prune_expired(
        request
            .content
            .expires_at
            .saturating_add(Duration::from_secs(1)),
    );
    assert!(book.is_empty());
    assert_eq!(book.memory(), 0);
}
