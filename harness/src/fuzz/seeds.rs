//! The `node_ops` seeds, written as values: each drives the node under test into a state
//! worth mutating from (a completed session, each kind of blame, a failover, full queues,
//! a signing request that becomes a session …), and says how to tell it got there.

use chorus_core::discovery::DiscoveryEvent;
use chorus_core::node::{AbortReason, Event, Rejection};
use chorus_core::wire::AbortCode;

use super::ops::{
    Crafted, CraftedRecord, NodeOps, Op, PayloadChoice, RecordChoice, SequenceChoice,
    SessionChoice, Setup,
};
use super::NodeOpsReport;

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
    seeds.extend(manual_and_closing_seeds());
    seeds.extend(blame_seeds());
    seeds.extend(timer_seeds());
    seeds.extend(pressure_seeds());
    seeds.extend(discovery_flow_seeds());
    seeds.extend(record_seeds());
    seeds
}

/// Discovery: a signing request that becomes a session, announced by either side.
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
    ]
}

/// Discovery records: crafted ones of every kind, and advertisements with the black- and
/// graylists.
fn record_seeds() -> Vec<NodeOpsSeed> {
    vec![
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

/// Sessions that complete: each topology and dialect, and a peer's session.
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
    ]
}

/// A session driven by hand, and one confirmed and closed by the application.
fn manual_and_closing_seeds() -> Vec<NodeOpsSeed> {
    vec![
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
                    matches!(rejection, Rejection::JoinKeyMismatch)
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
    // Peer 2 has not joined yet: a join in another signer's name is refused.
    ops.push(from_key(2, PayloadChoice::Join { key: 1 }));
    let payloads = [
        PayloadChoice::Join { key: 1 },
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
