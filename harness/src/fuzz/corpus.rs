//! The seed corpus of every target, written as values.
//!
//! `fuzz/corpus/<target>/seed-<name>` holds these bytes; the test suite checks that the
//! committed files match.

use chorus_core::crypto::{Keypair, SecretKey};
use chorus_core::discovery::{
    AdvertisementContent, AdvertisementWithdrawal, DiscoveryMessage, JoinProof, RequestContent,
    SignerAdvertisement, SignerCriteria, SignerMetadata, SigningRequest,
};
use chorus_core::node::PeerId;
use chorus_core::time::Timestamp;
use chorus_core::wire::{
    AbortCode, AggregateNonceShare, BroadcastConfirmation, Envelope, FinalSignature, Join,
    NonceCommit, NonceShare, PartialSignatureShare, Payload, Sequence, SessionAbort,
    SessionAnnounce, SessionId, SessionOptions, SessionReady, SignedEnvelope,
};

use super::scenario::ScenarioInput;
use super::seeds::node_ops_seeds;

/// One committed seed input.
///
/// ```
/// let seeds = chorus_harness::fuzz::seed_corpus();
/// assert!(seeds.iter().any(|seed| seed.target == "node_ops"));
/// assert!(seeds.iter().all(|seed| !seed.bytes.is_empty()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The fuzz target it is for.
    pub target: &'static str,
    /// Its file name in `fuzz/corpus/<target>/`.
    pub name: String,
    /// The input.
    pub bytes: Vec<u8>,
}

fn keypair(byte: u8) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).expect("a small scalar"))
}

/// Two points valid in both dialects, as a 66-byte nonce.
fn point_pair(seed: u8) -> [u8; 66] {
    let mut bytes = [0u8; 66];
    bytes[..33].copy_from_slice(&keypair(seed).public_key().serialize());
    bytes[33..].copy_from_slice(&keypair(seed.wrapping_add(1)).public_key().serialize());
    bytes
}

/// One payload of every kind, named, as `alice` sends it in `session`.
fn wire_payloads(
    alice: &Keypair,
    bob: &Keypair,
    session: &SessionId,
) -> [(&'static str, Payload); 10] {
    let announce = SessionAnnounce::new(
        &[alice.public_key(), bob.public_key()],
        [9; 32],
        chorus_core::crypto::Dialect::Lotus,
        chorus_core::election::ElectionMethod::Salted,
        SessionOptions::default(),
    )
    .expect("a valid announcement");
    [
        ("announce", Payload::SessionAnnounce(announce)),
        ("join", Payload::Join(Join::new(&alice.public_key()))),
        (
            "nonce-commit",
            Payload::NonceCommit(NonceCommit {
                attempt: 0,
                commitment: NonceCommit::commitment_for(
                    session,
                    &alice.public_key().serialize(),
                    0,
                    &point_pair(3),
                ),
            }),
        ),
        (
            "nonce-share",
            Payload::NonceShare(NonceShare {
                attempt: 0,
                nonce: point_pair(3),
            }),
        ),
        (
            "aggregate-nonce",
            Payload::AggregateNonce(AggregateNonceShare {
                attempt: 1,
                nonce: point_pair(5),
            }),
        ),
        (
            "partial-signature",
            Payload::PartialSignature(PartialSignatureShare {
                attempt: 0,
                partial_signature: [7; 32],
            }),
        ),
        (
            "final-signature",
            Payload::FinalSignature(FinalSignature { signature: [8; 64] }),
        ),
        (
            "abort",
            Payload::SessionAbort(SessionAbort {
                reason: AbortCode::Equivocation,
                blamed_signer: Some(1),
            }),
        ),
        (
            "ready",
            Payload::SessionReady(SessionReady {
                coordinator_index: 1,
            }),
        ),
        (
            "confirm",
            Payload::BroadcastConfirmation(BroadcastConfirmation {
                transaction_id: vec![0xab; 32],
            }),
        ),
    ]
}

/// One envelope of every payload kind, sealed, and pairs that are blame evidence.
fn decode_seeds() -> Vec<Seed> {
    let alice = keypair(1);
    let bob = keypair(2);
    let session = SessionId([0x42; 32]);
    let payloads = wire_payloads(&alice, &bob, &session);
    let seal = |sequence: u64, payload: Payload| {
        let envelope = Envelope::new(
            session,
            &alice.public_key(),
            Sequence(sequence),
            Timestamp::from_millis(1_700_000_000_000),
            payload,
        );
        SignedEnvelope::seal(envelope, &alice, &[0; 32]).encode()
    };
    let mut seeds: Vec<Seed> = payloads
        .into_iter()
        .zip(1u64..)
        .map(|((name, payload), sequence)| Seed {
            target: "decode",
            name: format!("seed-{name}"),
            bytes: seal(sequence, payload),
        })
        .collect();
    // Evidence pairs: two-byte split position, then the two envelopes.
    let pair = |first: Vec<u8>, second: Vec<u8>| {
        let split = u16::try_from(first.len()).expect("a short envelope");
        let mut bytes = split.to_be_bytes().to_vec();
        bytes.extend(first);
        bytes.extend(second);
        bytes
    };
    let share = |seed: u8| {
        Payload::NonceShare(NonceShare {
            attempt: 0,
            nonce: point_pair(seed),
        })
    };
    seeds.push(Seed {
        target: "decode",
        name: "seed-equivocation-pair".to_owned(),
        bytes: pair(seal(20, share(3)), seal(21, share(11))),
    });
    let commit = Payload::NonceCommit(NonceCommit {
        attempt: 0,
        commitment: [1; 32],
    });
    seeds.push(Seed {
        target: "decode",
        name: "seed-commitment-mismatch-pair".to_owned(),
        bytes: pair(seal(22, commit), seal(23, share(3))),
    });
    seeds.extend(discovery_seeds(&alice, &bob));
    seeds.push(Seed {
        target: "decode",
        name: "seed-session-id-text".to_owned(),
        bytes: "42".repeat(32).into_bytes(),
    });
    seeds
}

/// One discovery record of every kind.
fn discovery_seeds(alice: &Keypair, bob: &Keypair) -> Vec<Seed> {
    let now = Timestamp::from_millis(1_700_000_000_000);
    let hour = core::time::Duration::from_secs(3_600);
    let advertisement = SignerAdvertisement::sign(
        AdvertisementContent::new(
            PeerId::new([1; 8]),
            SignerCriteria::new(["swap"]),
            SignerMetadata::default(),
            now,
            hour,
        ),
        alice,
        &[0; 32],
    );
    let content = RequestContent::new(
        &[alice.public_key(), bob.public_key()],
        [9; 32],
        chorus_core::crypto::Dialect::Bip340,
        now,
        hour,
    );
    let request = SigningRequest::sign(content, alice, &[0; 32]);
    let join = JoinProof::sign(request.id(), bob, PeerId::new([2; 8]), &[0; 32]);
    let withdrawal = AdvertisementWithdrawal::sign(&advertisement, alice, &[0; 32]);
    [
        (
            "advertisement",
            DiscoveryMessage::Advertisement(advertisement),
        ),
        ("withdrawal", DiscoveryMessage::Withdrawal(withdrawal)),
        ("signing-request", DiscoveryMessage::Request(request)),
        ("join-proof", DiscoveryMessage::Join(join)),
    ]
    .into_iter()
    .map(|(name, message)| Seed {
        target: "decode",
        name: format!("seed-discovery-{name}"),
        bytes: message.encode(),
    })
    .collect()
}

fn decode_crypto_seeds() -> Vec<Seed> {
    [0u8, 1]
        .into_iter()
        .map(|dialect| {
            let mut bytes = vec![dialect];
            for byte in 1..=4 {
                bytes.extend(keypair(byte).public_key().serialize());
            }
            Seed {
                target: "decode_crypto",
                name: format!("seed-four-keys-dialect-{dialect}"),
                bytes,
            }
        })
        .collect()
}

/// Small runs across the fault presets and byzantine behaviours.
fn scenario_seeds() -> Vec<Seed> {
    let runs: [(&str, u8, u8, u8); 8] = [
        ("clean-mesh", 0, 0, 0),
        ("lossy-aggregator", 1, 2, 1),
        ("partition-equivocate", 2, 3, 2),
        ("crash-invalid-partial", 2, 4, 1),
        ("chaos-replay", 2, 6, 4),
        ("swarm-forged", 2, 7, 9),
        ("latency-split-view", 0, 1, 3),
        ("bandwidth-swarm", 1, 5, 10),
    ];
    runs.into_iter()
        .zip(1u64..)
        .map(|((name, topology, faults, byzantine), seed)| {
            let input = ScenarioInput {
                seed,
                signers_low: 1,
                signers_spread: 2,
                sessions: 1,
                topology,
                faults,
                byzantine,
                determinism: seed == 1,
            };
            Seed {
                target: "scenario",
                name: format!("seed-{name}"),
                bytes: input.to_bytes(),
            }
        })
        .collect()
}

/// Every seed of every target.
pub fn seed_corpus() -> Vec<Seed> {
    let mut seeds: Vec<Seed> = node_ops_seeds()
        .into_iter()
        .map(|seed| Seed {
            target: "node_ops",
            name: format!("seed-{}", seed.name),
            bytes: seed.input.to_bytes(),
        })
        .collect();
    seeds.extend(decode_seeds());
    seeds.extend(decode_crypto_seeds());
    seeds.extend(scenario_seeds());
    seeds
}
