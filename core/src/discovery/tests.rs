//! Records, the codec and the directory.

use core::time::Duration;

use super::*;
use crate::crypto::{Dialect, Keypair, SecretKey};
use crate::node::PeerId;
use crate::time::Timestamp;
use crate::wire::{Channel, MAX_GOSSIP_MESSAGE};

pub(super) fn keypair(byte: u8) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
}

pub(super) fn peer_of(keypair: &Keypair) -> PeerId {
    PeerId::from_key(&keypair.public_key())
}

pub(super) const HOUR: Duration = Duration::from_secs(3_600);
const SKEW: Duration = Duration::from_secs(300);

pub(super) fn at(seconds: u64) -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000 + seconds * 1_000)
}

pub(super) fn advertisement_at(
    keypair: &Keypair,
    created_at: Timestamp,
    lifetime: Duration,
) -> SignerAdvertisement {
    let content = AdvertisementContent::new(
        peer_of(keypair),
        SignerCriteria::new(["spend", "swap"]),
        SignerMetadata::default(),
        created_at,
        lifetime,
    );
    SignerAdvertisement::sign(content, keypair, &[0; 32])
}

/// Re-signs `advertisement` after `edit` changes its content.
fn edited(
    advertisement: &SignerAdvertisement,
    keypair: &Keypair,
    edit: impl FnOnce(&mut AdvertisementContent),
) -> SignerAdvertisement {
    let mut content = advertisement.content.clone();
    edit(&mut content);
    SignerAdvertisement::sign(content, keypair, &[0; 32])
}

type Edit = Box<dyn Fn(&mut AdvertisementContent)>;

fn out_of_bounds(field: Field, limit: u64, got: u64) -> DiscoveryError {
    DiscoveryError::OutOfBounds { field, limit, got }
}

/// Each edit, re-signed, must be refused with its error.
fn assert_refused(cases: Vec<(Edit, DiscoveryError)>) {
    let alice = keypair(1);
    let base = advertisement_at(&alice, at(0), HOUR);
    assert_eq!(base.validate(), Ok(()));
    for (edit, expected) in cases {
        assert_eq!(edited(&base, &alice, edit).validate(), Err(expected));
    }
}

#[test]
fn criteria_bounds_each_have_their_error() {
    assert_refused(vec![
        (
            Box::new(|c| c.criteria.transaction_types.clear()),
            DiscoveryError::Missing {
                field: Field::TransactionTypes,
            },
        ),
        (
            Box::new(|c| c.criteria = SignerCriteria::new((0..17).map(|i| format!("t{i:02}")))),
            out_of_bounds(Field::TransactionTypes, 16, 17),
        ),
        (
            Box::new(|c| c.criteria = SignerCriteria::new(["x".repeat(33)])),
            out_of_bounds(Field::TransactionType, 32, 33),
        ),
        (
            Box::new(|c| c.criteria = SignerCriteria::new(["Spend"])),
            DiscoveryError::InvalidText {
                field: Field::TransactionType,
            },
        ),
        (
            Box::new(|c| c.criteria.transaction_types.reverse()),
            DiscoveryError::Unsorted {
                field: Field::TransactionTypes,
            },
        ),
        (
            Box::new(|c| {
                c.criteria.min_amount = Some(10);
                c.criteria.max_amount = Some(9);
            }),
            DiscoveryError::AmountRange { min: 10, max: 9 },
        ),
        (
            Box::new(|c| c.criteria.trust.min_reputation = Some(101)),
            out_of_bounds(Field::Reputation, 100, 101),
        ),
    ]);
}

#[test]
fn metadata_peer_and_lifetime_bounds_each_have_their_error() {
    let too_late = |c: &mut AdvertisementContent| {
        c.expires_at = c
            .created_at
            .saturating_add(MAX_LIFETIME + Duration::from_millis(1));
    };
    let backwards = at(0).saturating_sub(Duration::from_millis(1));
    assert_refused(vec![
        (
            Box::new(|c| c.metadata.nickname = "n".repeat(65)),
            out_of_bounds(Field::Nickname, 64, 65),
        ),
        (
            Box::new(|c| c.metadata.description = "d".repeat(513)),
            out_of_bounds(Field::Description, 512, 513),
        ),
        (
            Box::new(|c| c.metadata.nickname = "bell\u{7}".into()),
            DiscoveryError::InvalidText {
                field: Field::Nickname,
            },
        ),
        (
            Box::new(|c| {
                c.metadata.reputation = Some(AdvertisedReputation {
                    score: 200,
                    ..Default::default()
                })
            }),
            out_of_bounds(Field::Reputation, 100, 200),
        ),
        (
            Box::new(|c| c.peer = PeerId::new(Vec::new())),
            DiscoveryError::Missing {
                field: Field::PeerId,
            },
        ),
        (
            Box::new(|c| c.peer = PeerId::new(vec![1; 65])),
            out_of_bounds(Field::PeerId, 64, 65),
        ),
        (
            Box::new(too_late),
            out_of_bounds(Field::Lifetime, 86_400_000, 86_400_001),
        ),
        (
            Box::new(move |c| c.expires_at = backwards),
            DiscoveryError::InvalidLifetime {
                created_at: at(0),
                expires_at: backwards,
            },
        ),
    ]);
    let mut not_a_point = advertisement_at(&keypair(1), at(0), HOUR);
    not_a_point.content.key = [0; 33];
    assert_eq!(
        not_a_point.validate(),
        Err(DiscoveryError::InvalidKey {
            record: RecordKind::Advertisement
        })
    );
    assert!(!not_a_point.verify_signature());
}

#[test]
fn the_advertisement_signature_covers_every_field() {
    let alice = keypair(1);
    let genuine = advertisement_at(&alice, at(0), HOUR);
    let tampers: Vec<Edit> = vec![
        Box::new(|c| c.peer = PeerId::new(*b"elsewhere")),
        Box::new(|c| c.criteria.transaction_types.push("zzz".into())),
        Box::new(|c| c.criteria.max_amount = Some(1)),
        Box::new(|c| c.criteria.trust.requires_verification = true),
        Box::new(|c| c.metadata.fees = Some(1)),
        Box::new(|c| c.metadata.response_time_ms = Some(1)),
        Box::new(|c| c.created_at = at(1)),
        Box::new(|c| c.expires_at = at(2)),
        // The same x coordinate with the other parity: BIP340 alone would not notice.
        Box::new(|c| c.key[0] ^= 1),
    ];
    for tamper in tampers {
        let mut forged = genuine.clone();
        tamper(&mut forged.content);
        assert!(!forged.verify_signature(), "{:?}", forged.content);
    }
    assert!(genuine.verify_signature());
}

#[test]
fn withdrawal_signature_binds_key_and_advertisement() {
    let alice = keypair(1);
    let advertisement = advertisement_at(&alice, at(0), HOUR);
    let withdrawal = AdvertisementWithdrawal::sign(&advertisement, &alice, &[0; 32]);
    assert!(withdrawal.verify_signature());
    let mut other = withdrawal.clone();
    other.content.advertisement = AdvertisementId([0; 32]);
    assert!(!other.verify_signature());
    assert!(
        !AdvertisementWithdrawal::sign(&advertisement, &keypair(2), &[0; 32]).verify_signature()
    );
}

/// A request as large as every bound allows.
fn largest_request() -> SigningRequest {
    let keys: Vec<_> = (1..=MAX_REQUIRED_KEYS as u8)
        .map(|b| keypair(b).public_key())
        .collect();
    let mut content = RequestContent::new(
        &keys,
        [0xff; 32],
        Dialect::Lotus,
        Timestamp::MAX.saturating_sub(MAX_LIFETIME),
        MAX_LIFETIME,
    );
    content.options.broadcast_timeout_ms = crate::wire::MAX_BROADCAST_TIMEOUT_MS;
    content.metadata = RequestMetadata {
        transaction: vec![0xff; MAX_TRANSACTION_LEN],
        amount: Some(u64::MAX),
        transaction_type: Some("t".repeat(MAX_TRANSACTION_TYPE_LEN)),
        description: "\u{10ffff}".repeat(MAX_DESCRIPTION_LEN / 4),
    };
    SigningRequest::sign(content, &keypair(1), &[0; 32])
}

#[test]
fn the_largest_records_fit_one_gossip_message() {
    let request = largest_request();
    assert_eq!(request.validate(), Ok(()));
    let bytes = DiscoveryMessage::Request(request).encode();
    assert!(bytes.len() <= MAX_GOSSIP_MESSAGE, "{} bytes", bytes.len());
    assert!(DiscoveryMessage::decode(&bytes, Channel::Gossip).is_ok());

    let alice = keypair(1);
    let mut criteria = SignerCriteria::new((0..MAX_TRANSACTION_TYPES).map(|i| format!("{i:0>32}")));
    criteria.min_amount = Some(u64::MAX);
    criteria.max_amount = Some(u64::MAX);
    criteria.trust.min_reputation = Some(100);
    let metadata = SignerMetadata {
        nickname: "\u{10ffff}".repeat(MAX_NICKNAME_LEN / 4),
        description: "\u{10ffff}".repeat(MAX_DESCRIPTION_LEN / 4),
        fees: Some(u64::MAX),
        response_time_ms: Some(u64::MAX),
        reputation: Some(AdvertisedReputation {
            score: 100,
            completed_signings: u64::MAX,
            failed_signings: u64::MAX,
            average_response_time_ms: u64::MAX,
            verified_identity: true,
        }),
    };
    let content = AdvertisementContent::new(
        PeerId::new(vec![0xff; MAX_PEER_ID_LEN]),
        criteria,
        metadata,
        Timestamp::MAX.saturating_sub(MAX_LIFETIME),
        MAX_LIFETIME,
    );
    let advertisement = SignerAdvertisement::sign(content, &alice, &[0; 32]);
    assert_eq!(advertisement.validate(), Ok(()));
    let bytes = DiscoveryMessage::Advertisement(advertisement).encode();
    assert!(bytes.len() <= MAX_GOSSIP_MESSAGE, "{} bytes", bytes.len());
}

#[test]
fn decode_refuses_each_malformation() {
    let bob = keypair(2);
    let message = DiscoveryMessage::Join(JoinProof::sign(
        RequestId([1; 32]),
        &bob,
        PeerId::new([9, 9, 9]),
        &[0; 32],
    ));
    let bytes = message.encode();
    assert_eq!(
        DiscoveryMessage::decode(&bytes, Channel::Gossip),
        Ok(message)
    );
    assert_eq!(
        DiscoveryMessage::decode(&[], Channel::Gossip),
        Err(DiscoveryError::Empty)
    );
    let mut wrong_format = bytes.clone();
    wrong_format[0] = crate::wire::WIRE_VERSION;
    assert_eq!(
        DiscoveryMessage::decode(&wrong_format, Channel::Gossip),
        Err(DiscoveryError::UnknownFormat {
            expected: DISCOVERY_FORMAT,
            got: 1
        })
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_eq!(
        DiscoveryMessage::decode(&trailing, Channel::Gossip),
        Err(DiscoveryError::TrailingBytes { count: 1 })
    );
    // The peer id's length prefix (3) as an over-long varint: 0x83 0x00.
    let length_at = 1 + 1 + 32 + 33;
    assert_eq!(bytes[length_at], 3);
    let mut over_long = bytes.clone();
    over_long[length_at] = 0x83;
    over_long.insert(length_at + 1, 0);
    assert_eq!(
        DiscoveryMessage::decode(&over_long, Channel::Gossip),
        Err(DiscoveryError::NonCanonical)
    );
    let mut bad_variant = bytes.clone();
    bad_variant[1] = 9;
    assert_eq!(
        DiscoveryMessage::decode(&bad_variant, Channel::Gossip),
        Err(DiscoveryError::Malformed)
    );
    let flood = vec![DISCOVERY_FORMAT; MAX_GOSSIP_MESSAGE + 1];
    assert_eq!(
        DiscoveryMessage::decode(&flood, Channel::Gossip),
        Err(DiscoveryError::Oversized {
            limit: MAX_GOSSIP_MESSAGE,
            got: MAX_GOSSIP_MESSAGE + 1
        })
    );
    for len in 0..bytes.len() {
        assert!(
            DiscoveryMessage::decode(&bytes[..len], Channel::Direct).is_err(),
            "prefix {len}"
        );
    }
    assert_eq!(
        DiscoveryMessage::decode(&message_with_key([0; 33]), Channel::Gossip),
        Err(DiscoveryError::InvalidKey {
            record: RecordKind::Join
        })
    );
}

fn message_with_key(key: [u8; 33]) -> Vec<u8> {
    let mut proof = JoinProof::sign(RequestId([1; 32]), &keypair(2), PeerId::new([1]), &[0; 32]);
    proof.content.key = key;
    DiscoveryMessage::Join(proof).encode()
}

fn directory() -> SignerDirectory {
    SignerDirectory::new(1_000, 1 << 24, SKEW)
}

#[test]
fn directory_refuses_with_typed_errors_and_stays_unchanged() {
    let alice = keypair(1);
    let peer = peer_of(&alice);
    let mut directory = directory();
    let genuine = advertisement_at(&alice, at(0), HOUR);

    let mut forged = genuine.clone();
    forged.content.metadata.nickname = "forged".into();
    assert_eq!(
        directory.insert(at(0), forged, &peer),
        Err(DiscoveryError::InvalidSignature {
            record: RecordKind::Advertisement
        })
    );
    assert_eq!(
        directory.insert(at(0), genuine.clone(), &PeerId::new(*b"relay")),
        Err(DiscoveryError::PeerMismatch {
            named: peer.clone(),
            from: PeerId::new(*b"relay")
        })
    );
    let expires_at = genuine.content.expires_at;
    assert_eq!(
        directory.insert(expires_at, genuine.clone(), &peer),
        Err(DiscoveryError::Expired {
            expires_at,
            now: expires_at
        })
    );
    let future = advertisement_at(&alice, at(301), HOUR);
    assert_eq!(
        directory.insert(at(0), future, &peer),
        Err(DiscoveryError::FromTheFuture {
            created_at: at(301),
            now: at(0)
        })
    );
    assert!(directory.is_empty());

    assert_eq!(
        directory.insert(at(0), genuine.clone(), &peer),
        Ok(DirectoryInsert {
            replaced: false,
            evicted: Vec::new()
        })
    );
    assert_eq!(
        directory.insert(at(1), genuine.clone(), &peer),
        Err(DiscoveryError::StaleAdvertisement {
            held: at(0),
            got: at(0)
        })
    );
    let newer = advertisement_at(&alice, at(60), HOUR);
    assert_eq!(
        directory.insert(at(60), newer.clone(), &peer),
        Ok(DirectoryInsert {
            replaced: true,
            evicted: Vec::new()
        })
    );
    assert_eq!(directory.get(&alice.public_key()), Some(newer));
    assert_eq!(directory.len(), 1);
}

#[test]
fn directory_evicts_the_advertisement_expiring_first() {
    let mut directory = SignerDirectory::new(2, 1 << 24, SKEW);
    let (a, b, c) = (keypair(1), keypair(2), keypair(3));
    directory
        .insert(at(0), advertisement_at(&a, at(0), HOUR * 3), &peer_of(&a))
        .unwrap();
    directory
        .insert(at(0), advertisement_at(&b, at(0), HOUR), &peer_of(&b))
        .unwrap();
    let insert = directory
        .insert(at(0), advertisement_at(&c, at(0), HOUR * 2), &peer_of(&c))
        .unwrap();
    assert_eq!(insert.evicted, vec![b.public_key()]);
    assert_eq!(directory.len(), 2);
    assert!(directory.get(&b.public_key()).is_none());
}

#[test]
fn withdrawals_must_be_signed_by_the_advertised_key_and_name_the_current_advertisement() {
    let alice = keypair(1);
    let peer = peer_of(&alice);
    let mut directory = directory();
    let first = advertisement_at(&alice, at(0), HOUR);
    directory.insert(at(0), first.clone(), &peer).unwrap();
    let stale_withdrawal = AdvertisementWithdrawal::sign(&first, &alice, &[0; 32]);

    assert_eq!(
        directory.withdraw(AdvertisementWithdrawal::sign(&first, &keypair(6), &[0; 32])),
        Err(DiscoveryError::InvalidSignature {
            record: RecordKind::Withdrawal
        })
    );
    let mut unknown_key = stale_withdrawal.clone();
    unknown_key.content.key = keypair(7).public_key().serialize();
    assert_eq!(
        directory.withdraw(unknown_key),
        Err(DiscoveryError::UnknownAdvertisement)
    );

    let second = advertisement_at(&alice, at(60), HOUR);
    directory.insert(at(60), second.clone(), &peer).unwrap();
    // A replayed withdrawal of the first advertisement cannot remove the second.
    assert_eq!(
        directory.withdraw(stale_withdrawal),
        Err(DiscoveryError::UnknownAdvertisement)
    );
    assert_eq!(directory.get(&alice.public_key()), Some(second.clone()));

    let removed = directory
        .withdraw(AdvertisementWithdrawal::sign(&second, &alice, &[1; 32]))
        .unwrap();
    assert_eq!(removed, second);
    assert!(directory.is_empty());
    // Neither advertisement can be replayed back; a newer one is welcome.
    for replay in [first, second] {
        assert!(matches!(
            directory.insert(at(61), replay, &peer),
            Err(DiscoveryError::StaleAdvertisement { .. })
        ));
    }
    let third = advertisement_at(&alice, at(120), HOUR);
    assert!(directory.insert(at(120), third, &peer).is_ok());
}

#[test]
fn find_filters_orders_and_limits() {
    let mut directory = directory();
    let mut expected = Vec::new();
    for (byte, score, max_amount, types) in [
        (1u8, Some(90u8), Some(1_000u64), vec!["spend"]),
        (2, Some(50), None, vec!["spend", "swap"]),
        (3, None, None, vec!["spend"]),
        (4, Some(95), Some(10), vec!["spend"]),
        (5, Some(99), None, vec!["swap"]),
    ] {
        let signer = keypair(byte);
        let mut criteria = SignerCriteria::new(types);
        criteria.max_amount = max_amount;
        let metadata = SignerMetadata {
            reputation: score.map(|score| AdvertisedReputation {
                score,
                ..Default::default()
            }),
            ..Default::default()
        };
        let content = AdvertisementContent::new(peer_of(&signer), criteria, metadata, at(0), HOUR);
        let advertisement = SignerAdvertisement::sign(content, &signer, &[0; 32]);
        directory
            .insert(at(0), advertisement.clone(), &peer_of(&signer))
            .unwrap();
        expected.push(advertisement);
    }
    let keys = |found: Vec<SignerAdvertisement>| -> Vec<u8> {
        found
            .iter()
            .map(|ad| {
                (1..=5)
                    .find(|b| keypair(*b).public_key().serialize() == ad.content.key)
                    .unwrap()
            })
            .collect()
    };
    let spend = SignerFilter {
        transaction_type: Some("spend".into()),
        ..Default::default()
    };
    assert_eq!(keys(directory.find(at(0), &spend)), [4, 1, 2, 3]);
    let spend_500 = SignerFilter {
        amount: Some(500),
        ..spend.clone()
    };
    assert_eq!(keys(directory.find(at(0), &spend_500)), [1, 2, 3]);
    let reputable = SignerFilter {
        min_reputation: Some(90),
        ..Default::default()
    };
    assert_eq!(keys(directory.find(at(0), &reputable)), [5, 4, 1]);
    let two = SignerFilter {
        max_results: 2,
        ..Default::default()
    };
    assert_eq!(keys(directory.find(at(0), &two)), [5, 4]);
    assert!(
        directory
            .find(at(3_600), &SignerFilter::default())
            .is_empty(),
        "expired"
    );
    assert_eq!(directory.next_expiry(), Some(at(3_600)));
    assert_eq!(directory.prune_expired(at(3_599)).len(), 0);
    assert_eq!(directory.prune_expired(at(3_600)).len(), 5);
    assert!(directory.is_empty());
    assert_eq!(directory.next_expiry(), None);
}

#[test]
fn directory_drops_a_peers_advertisements() {
    let mut directory = directory();
    let (a, b) = (keypair(1), keypair(2));
    directory
        .insert(at(0), advertisement_at(&a, at(0), HOUR), &peer_of(&a))
        .unwrap();
    directory
        .insert(at(0), advertisement_at(&b, at(0), HOUR), &peer_of(&b))
        .unwrap();
    assert_eq!(directory.remove_peer(&peer_of(&a)), vec![a.public_key()]);
    assert_eq!(directory.len(), 1);
    assert!(directory.get(&b.public_key()).is_some());
}

#[test]
fn the_directory_memory_budget_evicts_what_expires_first() {
    let signers: Vec<Keypair> = (1..=3).map(keypair).collect();
    let advertisements: Vec<SignerAdvertisement> = signers
        .iter()
        .zip([3u32, 1, 2])
        .map(|(signer, hours)| advertisement_at(signer, at(0), HOUR * hours))
        .collect();
    let mut probe = directory();
    for (signer, advertisement) in signers.iter().zip(&advertisements).take(2) {
        probe
            .insert(at(0), advertisement.clone(), &peer_of(signer))
            .unwrap();
    }
    let two = probe.memory();
    let mut directory = SignerDirectory::new(1_000, two + 10, SKEW);
    for (signer, advertisement) in signers.iter().zip(&advertisements).take(2) {
        directory
            .insert(at(0), advertisement.clone(), &peer_of(signer))
            .unwrap();
    }
    let insert = directory
        .insert(at(0), advertisements[2].clone(), &peer_of(&signers[2]))
        .unwrap();
    assert_eq!(insert.evicted, vec![signers[1].public_key()]);
    assert!(directory.memory() <= two + 10);
}

#[test]
fn directory_memory_accounting_returns_to_zero() {
    let (alice, bob) = (keypair(1), keypair(2));
    let mut directory = directory();
    let advertisement = advertisement_at(&alice, at(0), HOUR);
    directory
        .insert(at(0), advertisement.clone(), &peer_of(&alice))
        .unwrap();
    directory
        .insert(at(0), advertisement_at(&bob, at(0), HOUR), &peer_of(&bob))
        .unwrap();
    directory
        .withdraw(AdvertisementWithdrawal::sign(
            &advertisement,
            &alice,
            &[0; 32],
        ))
        .unwrap();
    assert!(directory.memory() > 0);
    directory.prune_expired(at(3_600));
    assert!(directory.is_empty());
    assert_eq!(directory.memory(), 0);
}
