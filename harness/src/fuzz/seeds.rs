//! The seed corpus, written as values: each seed drives a target into a state worth
//! mutating from (a completed session, each kind of blame, a failover, full queues …).
//!
//! `fuzz/corpus/<target>/seed-<name>` holds these bytes; the test suite checks that the
//! committed files match and that every `node_ops` seed still reaches its state.

use chorus_core::crypto::{Keypair, SecretKey};
use chorus_core::discovery::{
    AdvertisementContent, AdvertisementWithdrawal, DiscoveryEvent, DiscoveryMessage, JoinProof,
    RequestContent, SignerAdvertisement, SignerCriteria, SignerMetadata, SigningRequest,
};
use chorus_core::node::{AbortReason, Event, PeerId, Rejection};
use chorus_core::time::Timestamp;
use chorus_core::wire::{
    AbortCode, AggregateNonceShare, BroadcastConfirmation, Envelope, FinalSignature, Join,
    NonceCommit, NonceShare, PartialSignatureShare, Payload, Sequence, SessionAbort,
    SessionAnnounce, SessionId, SessionOptions, SessionReady, SignedEnvelope,
};

use super::ops::{
    Crafted, CraftedRecord, NodeOps, Op, PayloadChoice, RecordChoice, SequenceChoice,
    SessionChoice, Setup,
};
use super::scenario::ScenarioInput;
use super::NodeOpsReport;

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

/// A `node_ops` seed, the state it must reach, and how to tell.
#[derive(Debug, Clone)]
pub struct NodeOpsSeed {
    /// Its name (the file is `seed-<name>`).
    pub name: &'static str,
    /// The operations.
    pub input: NodeOps,
    /// Whether a run's report shows the state the seed is for.
    pub reached: fn(&NodeOpsReport) -> bool,
}

fn setup(peers_confirm_broadcasts: bool) -> Setup {
    Setup {
        peers: 1, // two peers: keys 1 and 2; key 3 is the stranger
        max_sessions: 3,
        max_held_per_sender: 4,
        max_queued_outputs: 63,
        nonce_memory: 15,
        max_tracked_peers: 3,
        key_aggregation_cache: 1,
        max_sequence_gap: 99,
        peers_confirm_broadcasts,
        rng_seed: 7,
    }
}

/// A session of the node under test and both peers.
fn session(nonce_commitments: bool, aggregator: bool, manual: bool) -> SessionChoice {
    SessionChoice {
        others: 0b110,
        message: 0x5a,
        lotus: false,
        election: 0,
        nonce_commitments,
        aggregator,
        broadcast_timeout_ms: 60_000,
        manual,
    }
}

/// An envelope sealed by peer 1 in the first known session, under its next sequence number.
fn from_peer(payload: PayloadChoice) -> Op {
    from_key(1, payload)
}

/// An envelope sealed by key `sender` in the first known session, under its next sequence
/// number.
fn from_key(sender: u8, payload: PayloadChoice) -> Op {
    Op::Crafted(Box::new(Crafted {
        sender,
        from: sender,
        session: 0,
        sequence: SequenceChoice::Next,
        time_offset_ms: 0,
        payload,
        forge_signature: false,
        gossip: false,
    }))
}

fn has_event(report: &NodeOpsReport, wanted: fn(&Event) -> bool) -> bool {
    report.events.iter().any(wanted)
}

fn has_rejection(report: &NodeOpsReport, wanted: fn(&Rejection) -> bool) -> bool {
    report.rejections.iter().any(wanted)
}

fn blamed(report: &NodeOpsReport, code: AbortCode) -> bool {
    report.events.iter().any(|event| {
        matches!(event, Event::SessionAborted { reason: reason @ AbortReason::Blame { .. }, .. }
            if reason.code() == code)
    })
}

/// Every `node_ops` seed.
pub fn node_ops_seeds() -> Vec<NodeOpsSeed> {
    let mut seeds = completing_seeds();
    seeds.extend(blame_seeds());
    seeds.extend(timer_seeds());
    seeds.extend(pressure_seeds());
    seeds.extend(discovery_flow_seeds());
    seeds
}

/// Discovery: a signing request that becomes a session, from either side, and
/// advertisements with the black- and graylists.
fn discovery_flow_seeds() -> Vec<NodeOpsSeed> {
    let from_peer_one = SessionChoice {
        others: 0b101, // the node under test and peer 2, besides peer 1
        ..session(true, false, false)
    };
    vec![
        NodeOpsSeed {
            name: "request-becomes-session",
            input: NodeOps {
                setup: setup(true),
                ops: vec![
                    Op::AnnounceRequest {
                        node: 0,
                        session: session(true, false, false),
                        lifetime_s: 3_600,
                    },
                    Op::DeliverAll,
                    Op::DeliverAll,
                    Op::DeliverAll,
                ],
            },
            reached: |report| {
                report
                    .discovery_events
                    .iter()
                    .any(|event| matches!(event, DiscoveryEvent::SessionReady(_)))
                    && has_event(report, |event| {
                        matches!(event, Event::SessionComplete { .. })
                    })
            },
        },
        NodeOpsSeed {
            name: "node-joins-a-peer-request",
            input: NodeOps {
                setup: setup(true),
                ops: vec![
                    Op::AnnounceRequest {
                        node: 1,
                        session: from_peer_one,
                        lifetime_s: 3_600,
                    },
                    Op::DeliverAll,
                    Op::JoinRequest {
                        pick: 0,
                        manual: false,
                    },
                    Op::DeliverAll,
                    Op::DeliverAll,
                    Op::DeliverAll,
                ],
            },
            reached: |report| {
                has_event(report, |event| {
                    matches!(event, Event::SessionComplete { .. })
                })
            },
        },
        NodeOpsSeed {
            name: "crafted-records",
            input: NodeOps {
                setup: setup(true),
                ops: crafted_record_ops(),
            },
            reached: |report| {
                let discovered = |wanted: fn(&DiscoveryEvent) -> bool| {
                    report.discovery_events.iter().any(wanted)
                };
                discovered(|event| matches!(event, DiscoveryEvent::RequestReceived { .. }))
                    && discovered(|event| matches!(event, DiscoveryEvent::SignerDiscovered { .. }))
                    && discovered(|event| matches!(event, DiscoveryEvent::SignerWithdrawn { .. }))
                    && has_rejection(report, |rejection| {
                        matches!(rejection, Rejection::Discovery(_))
                    })
            },
        },
        NodeOpsSeed {
            name: "advertise-find-and-block",
            input: NodeOps {
                setup: setup(true),
                ops: vec![
                    Op::Advertise {
                        node: 0,
                        types: 3,
                        lifetime_s: 3_600,
                    },
                    Op::Advertise {
                        node: 1,
                        types: 1,
                        lifetime_s: 3_600,
                    },
                    Op::DeliverAll,
                    Op::FindSigners { types: 1 },
                    Op::Blacklist { peer: 2 },
                    Op::Advertise {
                        node: 2,
                        types: 2,
                        lifetime_s: 600,
                    },
                    Op::DeliverAll,
                    Op::Graylist {
                        peer: 1,
                        seconds: 60,
                    },
                    Op::Unblacklist { peer: 2 },
                    Op::Withdraw,
                    Op::DeliverAll,
                    Op::Advance { millis: 3_600_000 },
                ],
            },
            reached: |report| {
                report
                    .discovery_events
                    .iter()
                    .any(|event| matches!(event, DiscoveryEvent::SignerDiscovered { .. }))
            },
        },
    ]
}

fn with_peer_two() -> SessionChoice {
    SessionChoice {
        others: 0b101,
        ..session(true, false, false)
    }
}

/// Sessions that complete: each topology and dialect, a peer's session, manual rounds,
/// closing and confirming.
fn completing_seeds() -> Vec<NodeOpsSeed> {
    let lotus_aggregator = SessionChoice {
        lotus: true,
        election: 4,
        ..session(true, true, false)
    };
    vec![
        NodeOpsSeed {
            name: "mesh-session-completes",
            input: NodeOps {
                setup: setup(true),
                ops: vec![
                    Op::Create(session(true, false, false)),
                    Op::DeliverAll,
                    Op::DeliverAll,
                ],
            },
            reached: |report| {
                has_event(report, |event| {
                    matches!(event, Event::SessionComplete { .. })
                }) && has_event(report, |event| {
                    matches!(event, Event::BroadcastConfirmed { .. })
                })
            },
        },
        NodeOpsSeed {
            name: "lotus-aggregator-completes",
            input: NodeOps {
                setup: setup(true),
                ops: vec![Op::Create(lotus_aggregator), Op::DeliverAll, Op::DeliverAll],
            },
            reached: |report| {
                has_event(report, |event| {
                    matches!(event, Event::SessionComplete { .. })
                })
            },
        },
        NodeOpsSeed {
            name: "peer-creates-node-joins",
            input: NodeOps {
                setup: setup(true),
                ops: vec![
                    Op::PeerCreate {
                        peer: 1,
                        session: with_peer_two(),
                    },
                    Op::DeliverAll,
                    Op::Join {
                        session: 0,
                        manual: false,
                    },
                    Op::DeliverAll,
                    Op::DeliverAll,
                ],
            },
            reached: |report| {
                has_event(report, |event| {
                    matches!(event, Event::SessionAnnounced { .. })
                }) && has_event(report, |event| {
                    matches!(event, Event::SessionComplete { .. })
                })
            },
        },
        NodeOpsSeed {
            name: "manual-rounds",
            input: NodeOps {
                setup: setup(true),
                ops: vec![
                    Op::Create(session(true, false, true)),
                    Op::DeliverAll,
                    Op::StartRound1 { session: 0 },
                    Op::DeliverAll,
                    Op::StartRound2 { session: 0 },
                    Op::DeliverAll,
                ],
            },
            reached: |report| {
                has_event(report, |event| {
                    matches!(event, Event::SessionComplete { .. })
                })
            },
        },
        NodeOpsSeed {
            name: "close-and-confirm",
            input: NodeOps {
                setup: setup(false),
                ops: vec![
                    Op::Create(session(true, false, false)),
                    Op::DeliverAll,
                    Op::DeliverAll,
                    Op::ConfirmBroadcast {
                        session: 0,
                        transaction_id: vec![0xab; 32],
                    },
                    Op::ConfirmBroadcast {
                        session: 0,
                        transaction_id: Vec::new(),
                    },
                    Op::Close { session: 0 },
                    Op::Close { session: 0 },
                ],
            },
            reached: |report| {
                has_event(report, |event| {
                    matches!(event, Event::BroadcastConfirmed { .. })
                }) && has_event(report, |event| matches!(event, Event::SessionClosed { .. }))
            },
        },
    ]
}

/// Each kind of blame, and a peer's abort.
fn blame_seeds() -> Vec<NodeOpsSeed> {
    vec![
        NodeOpsSeed {
            name: "equivocating-nonce-blamed",
            input: NodeOps {
                setup: setup(true),
                ops: vec![
                    Op::Create(session(false, false, true)),
                    Op::DeliverAll,
                    from_peer(PayloadChoice::NonceShare {
                        attempt: 0,
                        nonce_seed: 5,
                    }),
                    Op::DeliverAll,
                ],
            },
            reached: |report| blamed(report, AbortCode::Equivocation),
        },
        NodeOpsSeed {
            name: "invalid-partial-blamed",
            input: NodeOps {
                setup: setup(true),
                ops: vec![
                    Op::Create(session(false, false, true)),
                    Op::DeliverAll,
                    Op::StartRound1 { session: 0 },
                    from_peer(PayloadChoice::PartialSignature {
                        attempt: 0,
                        scalar: [7; 32],
                    }),
                    Op::DeliverAll,
                    Op::StartRound2 { session: 0 },
                    Op::DeliverAll,
                ],
            },
            reached: |report| blamed(report, AbortCode::InvalidPartialSignature),
        },
        NodeOpsSeed {
            name: "commitment-mismatch-blamed",
            input: NodeOps {
                setup: setup(true),
                ops: vec![
                    Op::Create(session(true, false, true)),
                    Op::DeliverAll,
                    Op::StartRound1 { session: 0 },
                    from_peer(PayloadChoice::NonceShare {
                        attempt: 0,
                        nonce_seed: 9,
                    }),
                    Op::DeliverAll,
                ],
            },
            reached: |report| blamed(report, AbortCode::NonceCommitmentMismatch),
        },
        NodeOpsSeed {
            name: "peer-aborts",
            input: NodeOps {
                setup: setup(true),
                ops: vec![
                    Op::Create(session(true, false, true)),
                    Op::DeliverAll,
                    from_peer(PayloadChoice::Abort {
                        reason: 2,
                        blamed: None,
                    }),
                ],
            },
            reached: |report| {
                has_event(report, |event| {
                    matches!(
                        event,
                        Event::SessionAborted {
                            reason: AbortReason::PeerAborted { .. },
                            ..
                        }
                    )
                })
            },
        },
    ]
}

/// Timers: a stuck and expired session, the broadcast failover, the aggregator failover.
fn timer_seeds() -> Vec<NodeOpsSeed> {
    vec![
        NodeOpsSeed {
            name: "stuck-then-expired",
            input: NodeOps {
                setup: setup(true),
                ops: vec![
                    Op::Create(session(true, false, false)),
                    Op::Advance { millis: 600_000 },
                    Op::EarlyTimeout,
                    Op::NextDeadline,
                    Op::NextDeadline,
                    Op::DeliverAll,
                ],
            },
            reached: |report| {
                has_event(report, |event| {
                    matches!(
                        event,
                        Event::SessionAborted {
                            reason: AbortReason::Stuck,
                            ..
                        }
                    )
                })
            },
        },
        NodeOpsSeed {
            name: "failover-exhausted",
            input: NodeOps {
                setup: setup(false),
                ops: vec![
                    Op::Create(SessionChoice {
                        broadcast_timeout_ms: 1_000,
                        ..session(true, false, false)
                    }),
                    Op::DeliverAll,
                    Op::DeliverAll,
                    Op::NextDeadline,
                    Op::NextDeadline,
                    Op::NextDeadline,
                    Op::NextDeadline,
                ],
            },
            reached: |report| {
                has_event(report, |event| {
                    matches!(event, Event::CoordinatorFailed { .. })
                }) && has_event(report, |event| {
                    matches!(event, Event::FailoverExhausted { .. })
                })
            },
        },
        NodeOpsSeed {
            name: "aggregator-fails-over",
            input: NodeOps {
                setup: setup(true),
                ops: vec![
                    Op::Create(SessionChoice {
                        election: 2, // the first signer aggregates first: a peer
                        broadcast_timeout_ms: 1_000,
                        ..session(false, true, false)
                    }),
                    // The announcements, then the joins: the node under test is ready, but
                    // the aggregator never hears of it in time.
                    Op::Deliver { pick: 0 },
                    Op::Deliver { pick: 0 },
                    Op::Deliver { pick: 0 },
                    Op::Deliver { pick: 0 },
                    Op::NextDeadline,
                    Op::DeliverAll,
                    Op::DeliverAll,
                ],
            },
            reached: |report| {
                has_event(report, |event| {
                    matches!(event, Event::AggregatorFailed { .. })
                })
            },
        },
    ]
}

/// Full output queues, and hostile bytes of every kind.
fn pressure_seeds() -> Vec<NodeOpsSeed> {
    vec![
        NodeOpsSeed {
            name: "backlog-backpressure",
            input: NodeOps {
                setup: Setup {
                    max_queued_outputs: 3,
                    ..setup(true)
                },
                ops: vec![
                    Op::Backlog { on: true },
                    Op::Create(session(true, false, false)),
                    Op::Create(session(false, false, false)),
                    Op::PeerCreate {
                        peer: 0,
                        session: with_peer_two(),
                    },
                    Op::DeliverAll,
                    Op::Backlog { on: false },
                    Op::DeliverAll,
                ],
            },
            reached: |report| {
                has_rejection(report, |rejection| {
                    matches!(rejection, Rejection::Backpressure { .. })
                })
            },
        },
        NodeOpsSeed {
            name: "hostile-bytes",
            input: NodeOps {
                setup: setup(true),
                ops: hostile_ops(),
            },
            reached: |report| {
                has_rejection(report, |rejection| {
                    matches!(rejection, Rejection::Decode(_))
                }) && has_rejection(report, |rejection| {
                    matches!(rejection, Rejection::Replay { .. })
                }) && has_rejection(report, |rejection| {
                    matches!(rejection, Rejection::InvalidJoinProof)
                })
            },
        },
    ]
}

/// Discovery records signed by known keys: a request the node under test joins, joins,
/// an advertisement and its withdrawal, and records that must be refused.
fn crafted_record_ops() -> Vec<Op> {
    let record = |signer: u8, lifetime_s: u32, other_peer: bool, record: RecordChoice| {
        Op::CraftedRecord(Box::new(CraftedRecord {
            signer,
            from: signer,
            other_peer,
            time_offset_ms: 0,
            lifetime_s,
            record,
            gossip: true,
        }))
    };
    let request = SessionChoice {
        others: 0b101,
        ..session(true, false, false)
    };
    vec![
        record(1, 3_600, false, RecordChoice::Request(request)),
        Op::JoinRequest {
            pick: 0,
            manual: false,
        },
        record(2, 3_600, false, RecordChoice::Join { request: 0 }),
        record(1, 3_600, false, RecordChoice::Advertisement { types: 3 }),
        record(1, 3_600, false, RecordChoice::Withdrawal { types: 3 }),
        record(2, 200_000, false, RecordChoice::Advertisement { types: 1 }),
        record(2, 3_600, true, RecordChoice::Advertisement { types: 2 }),
        record(3, 3_600, false, RecordChoice::Join { request: 0 }),
        Op::DeliverAll,
        Op::DeliverAll,
    ]
}

/// Hostile inputs around one running session: replays, bit flips, junk, a forged
/// signature, and crafted messages of every kind.
fn hostile_ops() -> Vec<Op> {
    let mut ops = vec![
        Op::Create(session(true, false, true)),
        Op::Deliver { pick: 0 },
        Op::Deliver { pick: 0 },
        Op::Deliver { pick: 0 },
        Op::Resend { pick: 0, from: 9 },
        Op::Mutate {
            pick: 0,
            edits: vec![(40, 0xff), (3, 1)],
        },
        Op::Raw {
            from: 200,
            gossip: true,
            bytes: vec![1, 2, 3],
        },
        Op::Crafted(Box::new(Crafted {
            sender: 2,
            from: 7,
            session: 0,
            sequence: SequenceChoice::Next,
            time_offset_ms: 1_000,
            payload: PayloadChoice::Ready { coordinator: None },
            forge_signature: true,
            gossip: true,
        })),
        Op::Crafted(Box::new(Crafted {
            sender: 2,
            from: 2,
            session: 255,
            sequence: SequenceChoice::Exact(1),
            time_offset_ms: -2_000,
            payload: PayloadChoice::Announce(SessionChoice {
                others: 0b1001,
                ..session(true, false, false)
            }),
            forge_signature: false,
            gossip: false,
        })),
    ];
    // Peer 2 has not joined yet: its join's proof is checked.
    ops.push(from_key(
        2,
        PayloadChoice::Join {
            key: 2,
            valid_proof: false,
        },
    ));
    let payloads = [
        PayloadChoice::Join {
            key: 1,
            valid_proof: true,
        },
        PayloadChoice::Ready {
            coordinator: Some(3),
        },
        PayloadChoice::NonceCommit {
            attempt: 0,
            nonce_seed: 1,
        },
        PayloadChoice::AggregateNonce {
            attempt: 0,
            nonce_seed: 2,
        },
        PayloadChoice::FinalSignature {
            real: true,
            fill: 3,
        },
        PayloadChoice::Confirm {
            transaction_id: vec![1; 70],
        },
        PayloadChoice::Abort {
            reason: 5,
            blamed: Some(1),
        },
    ];
    ops.extend(payloads.into_iter().map(from_peer));
    ops.push(Op::DeliverAll);
    ops
}

fn keypair(byte: u8) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).expect("a small scalar"))
}

/// One envelope of every payload kind, sealed, and pairs that are blame evidence.
fn decode_seeds() -> Vec<Seed> {
    let alice = keypair(1);
    let bob = keypair(2);
    let session = SessionId([0x42; 32]);
    let nonce = |seed: u8| {
        let mut bytes = [0u8; 66];
        bytes[..33].copy_from_slice(&keypair(seed).public_key().serialize());
        bytes[33..].copy_from_slice(&keypair(seed.wrapping_add(1)).public_key().serialize());
        bytes
    };
    let announce = SessionAnnounce::new(
        &[alice.public_key(), bob.public_key()],
        [9; 32],
        chorus_core::crypto::Dialect::Lotus,
        chorus_core::election::ElectionMethod::Salted,
        SessionOptions::default(),
    )
    .expect("a valid announcement");
    let payloads = [
        ("announce", Payload::SessionAnnounce(announce)),
        ("join", Payload::Join(Join::new(&session, &alice, &[0; 32]))),
        (
            "nonce-commit",
            Payload::NonceCommit(NonceCommit {
                attempt: 0,
                commitment: NonceCommit::commitment_for(
                    &session,
                    &alice.public_key().serialize(),
                    0,
                    &nonce(3),
                ),
            }),
        ),
        (
            "nonce-share",
            Payload::NonceShare(NonceShare {
                attempt: 0,
                nonce: nonce(3),
            }),
        ),
        (
            "aggregate-nonce",
            Payload::AggregateNonce(AggregateNonceShare {
                attempt: 1,
                nonce: nonce(5),
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
    ];
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
            nonce: nonce(seed),
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
