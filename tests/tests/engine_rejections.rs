//! The bad-input table: each hostile or broken message gets its own typed rejection and
//! leaves the receiving node's observable state exactly as it was (a digest before and
//! after), apart from the sender's rejection counter. The three blame rows abort the
//! session instead, naming the culprit.

mod engine_support;

use std::time::Duration;

use chorus_core::crypto::{generate_nonce, Dialect, KeyAggContext, PartialSignature};
use chorus_core::election::ElectionMethod;
use chorus_core::node::{AbortReason, PeerId, PhaseKind, Progress, Rejection, RoutingRule};
use chorus_core::wire::*;
use engine_support::{keypair, Cluster, Fate};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// One row: the receiving node, the bytes, and the rejection they must get.
struct Fixture {
    cluster: Cluster,
    session: SessionId,
    receiver: usize,
    sender: usize,
    channel: Channel,
    bytes: Vec<u8>,
    expected: Rejection,
}

/// Three nodes, a mesh session created by node 0 with manual progress, everyone joined
/// and ready (round 0 when `commitments`, else round 1), nobody committed yet.
fn ready(seed: u8, commitments: bool) -> (Cluster, SessionId) {
    let mut cluster = Cluster::new(3, seed);
    cluster.progress = Progress::Manual;
    let mut spec = cluster.spec(Dialect::Bip340, Topology::Mesh, commitments);
    spec.progress = Progress::Manual;
    let session = cluster.sign(0, spec);
    (cluster, session)
}

/// An envelope from node `from` at the cluster's time.
fn envelope(
    cluster: &Cluster,
    session: SessionId,
    from: usize,
    sequence: u64,
    payload: Payload,
) -> Envelope {
    let key = cluster.keys[from].public_key();
    Envelope::new(session, &key, Sequence(sequence), cluster.now, payload)
}

fn sealed(cluster: &Cluster, from: usize, envelope: Envelope) -> Vec<u8> {
    engine_support::reseal(envelope, &cluster.keys[from])
}

/// A fresh round-0 commitment from node 1 (its sequence 1 was its join).
fn commit_from_one(cluster: &Cluster, session: SessionId, sequence: u64) -> Vec<u8> {
    let payload = Payload::NonceCommit(NonceCommit {
        attempt: 0,
        commitment: [0x11; 32],
    });
    sealed(cluster, 1, envelope(cluster, session, 1, sequence, payload))
}

fn fixture(
    (cluster, session): (Cluster, SessionId),
    bytes: Vec<u8>,
    expected: Rejection,
) -> Fixture {
    Fixture {
        cluster,
        session,
        receiver: 0,
        sender: 1,
        channel: Channel::Direct,
        bytes,
        expected,
    }
}

/// Two compressed "points" whose x coordinate has no y on the curve.
fn off_curve_pair() -> [u8; 66] {
    let mut bytes = [0u8; 33];
    bytes[0] = 0x02;
    for x in 1u8.. {
        bytes[32] = x;
        if secp256k1::PublicKey::from_slice(&bytes).is_err() {
            break;
        }
    }
    let mut pair = [0u8; 66];
    pair[..33].copy_from_slice(&bytes);
    pair[33..].copy_from_slice(&bytes);
    pair
}

fn decode_rows() -> Vec<(&'static str, Fixture)> {
    let (cluster, session) = ready(30, true);
    let valid = commit_from_one(&cluster, session, 2);
    let mut rows = Vec::new();
    let oversized = vec![WIRE_VERSION; MAX_GOSSIP_MESSAGE + 1];
    let mut row = fixture(
        ready(30, true),
        oversized,
        Rejection::Decode(DecodeError::Oversized {
            limit: MAX_GOSSIP_MESSAGE,
            got: MAX_GOSSIP_MESSAGE + 1,
        }),
    );
    row.channel = Channel::Gossip;
    rows.push(("oversized gossip message", row));
    rows.push((
        "empty message",
        fixture(
            ready(30, true),
            Vec::new(),
            Rejection::Decode(DecodeError::Empty),
        ),
    ));
    rows.push((
        "truncated envelope",
        fixture(
            ready(30, true),
            valid[..valid.len() - 10].to_vec(),
            Rejection::Decode(DecodeError::Truncated),
        ),
    ));
    let mut bad_version = valid.clone();
    bad_version[0] = 9;
    rows.push((
        "bad version byte",
        fixture(
            ready(30, true),
            bad_version,
            Rejection::Decode(DecodeError::UnsupportedVersion {
                expected: WIRE_VERSION,
                got: 9,
            }),
        ),
    ));
    let mut trailing = valid.clone();
    trailing.push(0);
    rows.push((
        "trailing bytes",
        fixture(
            ready(30, true),
            trailing,
            Rejection::Decode(DecodeError::TrailingBytes { count: 1 }),
        ),
    ));
    let off_curve = Payload::NonceShare(NonceShare {
        attempt: 0,
        nonce: off_curve_pair(),
    });
    rows.push((
        "point not on the curve",
        fixture(
            ready(30, true),
            sealed(&cluster, 1, envelope(&cluster, session, 1, 2, off_curve)),
            Rejection::Decode(DecodeError::InvalidPoint(PointField::PublicNonce)),
        ),
    ));
    rows
}

fn envelope_rows() -> Vec<(&'static str, Fixture)> {
    let (cluster, session) = ready(31, true);
    let commit = Payload::NonceCommit(NonceCommit {
        attempt: 0,
        commitment: [0x11; 32],
    });
    let mut rows = Vec::new();

    let mut skewed = envelope(&cluster, session, 1, 2, commit.clone());
    let skew = Duration::from_secs(5 * 60) + Duration::from_millis(1);
    skewed.timestamp = cluster.now.saturating_add(skew);
    rows.push((
        "timestamp skew over 5 minutes",
        fixture(
            ready(31, true),
            sealed(&cluster, 1, skewed.clone()),
            Rejection::ClockSkew {
                now: cluster.now,
                got: skewed.timestamp,
                max: Duration::from_secs(5 * 60),
            },
        ),
    ));
    let unknown = SessionId([9; 32]);
    rows.push((
        "unknown session",
        fixture(
            ready(31, true),
            sealed(
                &cluster,
                1,
                envelope(&cluster, unknown, 1, 2, commit.clone()),
            ),
            Rejection::UnknownSession { session: unknown },
        ),
    ));
    let outsider = keypair(99);
    let stranger = Envelope::new(
        session,
        &outsider.public_key(),
        Sequence(1),
        cluster.now,
        commit.clone(),
    );
    rows.push((
        "sender not a participant",
        fixture(
            ready(31, true),
            engine_support::reseal(stranger, &outsider),
            Rejection::NotAParticipant {
                sender: outsider.public_key().serialize(),
            },
        ),
    ));
    rows.push((
        "own message echoed back",
        fixture(
            ready(31, true),
            sealed(
                &cluster,
                0,
                envelope(&cluster, session, 0, 9, commit.clone()),
            ),
            Rejection::OwnMessage,
        ),
    ));
    rows
}

fn sequence_rows() -> Vec<(&'static str, Fixture)> {
    let (cluster, session) = ready(31, true);
    let mut rows = Vec::new();
    let mut forged =
        SignedEnvelope::decode(&commit_from_one(&cluster, session, 2), Channel::Direct).unwrap();
    forged.signature[5] ^= 1;
    rows.push((
        "forged envelope signature",
        fixture(ready(31, true), forged.encode(), Rejection::BadSignature),
    ));
    rows.push((
        "sequence gap over 100",
        fixture(
            ready(31, true),
            commit_from_one(&cluster, session, 102),
            Rejection::SequenceGap {
                highest: Sequence(1),
                got: Sequence(102),
                max_gap: 100,
            },
        ),
    ));
    rows
}

fn phase_rows() -> Vec<(&'static str, Fixture)> {
    let (cluster, session) = ready(32, true);
    let mut rows = Vec::new();
    let aggregate = Payload::AggregateNonce(AggregateNonceShare {
        attempt: 0,
        nonce: [0; 66],
    });
    rows.push((
        "aggregate nonce in the mesh topology",
        fixture(
            ready(32, true),
            sealed(&cluster, 1, envelope(&cluster, session, 1, 2, aggregate)),
            Rejection::Misrouted {
                got: PayloadKind::AggregateNonce,
                rule: RoutingRule::OtherTopology,
            },
        ),
    ));
    let later = Payload::NonceCommit(NonceCommit {
        attempt: 1,
        commitment: [1; 32],
    });
    rows.push((
        "attempt the session cannot have",
        fixture(
            ready(32, true),
            sealed(&cluster, 1, envelope(&cluster, session, 1, 2, later)),
            Rejection::StaleAttempt { current: 0, got: 1 },
        ),
    ));
    let join = Payload::Join(Join::new(&cluster.keys[2].public_key()));
    let mut row = fixture(
        ready(32, true),
        sealed(&cluster, 2, envelope(&cluster, session, 2, 2, join)),
        Rejection::Misrouted {
            got: PayloadKind::Join,
            rule: RoutingRule::JoinsGoToTheCreator,
        },
    );
    row.receiver = 1;
    row.sender = 2;
    rows.push(("join sent to a signer who is not the creator", row));
    let ready_again = Payload::SessionReady(SessionReady {
        coordinator_index: 0,
    });
    let mut row = fixture(
        ready(32, true),
        sealed(&cluster, 0, envelope(&cluster, session, 0, 3, ready_again)),
        Rejection::WrongPhase {
            phase: PhaseKind::NonceCommit,
            got: PayloadKind::SessionReady,
        },
    );
    row.receiver = 1;
    row.sender = 0;
    rows.push(("session ready in the wrong phase", row));
    let announce = cluster.sent.first().unwrap().bytes.clone();
    let mut row = fixture(
        ready(32, true),
        announce,
        Rejection::SessionExists { session },
    );
    row.receiver = 1;
    row.sender = 0;
    rows.push(("announcement replayed", row));
    rows
}

fn state_rows() -> Vec<(&'static str, Fixture)> {
    vec![
        ("message for a closed session", closed_session_row()),
        ("replayed sequence", replay_row()),
        ("same commitment again", duplicate_row()),
        (
            "too many early messages from one sender",
            too_many_held_row(),
        ),
        (
            "announcement that does not list the receiver",
            not_a_signer_row(),
        ),
        (
            "announcement with a zero broadcast timeout",
            zero_timeout_row(),
        ),
    ]
}

fn closed_session_row() -> Fixture {
    let (mut cluster, session) = ready(33, true);
    let now = cluster.now;
    cluster.nodes[0].close_session(now, &session).unwrap();
    cluster.collect();
    let bytes = commit_from_one(&cluster, session, 2);
    fixture(
        (cluster, session),
        bytes,
        Rejection::SessionClosed {
            session,
            phase: PhaseKind::Closed,
        },
    )
}

fn replay_row() -> Fixture {
    let (mut cluster, session) = ready(34, true);
    let bytes = commit_from_one(&cluster, session, 2);
    let packet = engine_support::Packet {
        from: 1,
        to: 0,
        channel: Channel::Direct,
        bytes: bytes.clone(),
    };
    cluster.deliver(&packet).unwrap();
    fixture(
        (cluster, session),
        bytes,
        Rejection::Replay {
            sequence: Sequence(2),
        },
    )
}

fn duplicate_row() -> Fixture {
    let (mut cluster, session) = ready(35, true);
    let packet = engine_support::Packet {
        from: 1,
        to: 0,
        channel: Channel::Direct,
        bytes: commit_from_one(&cluster, session, 2),
    };
    cluster.deliver(&packet).unwrap();
    let bytes = commit_from_one(&cluster, session, 3);
    fixture(
        (cluster, session),
        bytes,
        Rejection::Duplicate {
            got: PayloadKind::NonceCommit,
        },
    )
}

fn too_many_held_row() -> Fixture {
    let (mut cluster, session) = ready(36, true);
    let partial = |sequence| {
        let payload = Payload::PartialSignature(PartialSignatureShare {
            attempt: 0,
            partial_signature: [sequence as u8; 32],
        });
        engine_support::Packet {
            from: 1,
            to: 0,
            channel: Channel::Direct,
            bytes: sealed(
                &cluster,
                1,
                envelope(&cluster, session, 1, sequence, payload),
            ),
        }
    };
    let early: Vec<_> = (2..10).map(partial).collect();
    let last = partial(10).bytes;
    for packet in &early {
        cluster.deliver(packet).unwrap();
    }
    assert_eq!(
        cluster.nodes[0].session(&session).unwrap().held_messages(),
        8
    );
    fixture(
        (cluster, session),
        last,
        Rejection::TooManyHeld { limit: 8 },
    )
}

fn not_a_signer_row() -> Fixture {
    let (cluster, session) = ready(37, true);
    let others = vec![
        cluster.keys[1].public_key(),
        cluster.keys[2].public_key(),
        keypair(50).public_key(),
    ];
    let announce = SessionAnnounce::new(
        &others,
        [1; 32],
        Dialect::Lotus,
        ElectionMethod::Salted,
        SessionOptions::default(),
    )
    .unwrap();
    let foreign = SessionId([0x77; 32]);
    let bytes = sealed(
        &cluster,
        1,
        envelope(&cluster, foreign, 1, 1, Payload::SessionAnnounce(announce)),
    );
    let mut row = fixture(
        (cluster, session),
        bytes,
        Rejection::NotASigner { session: foreign },
    );
    row.session = session;
    row
}

/// Node 1 announces a new session to node 0 whose broadcast timeout is 0: every failover
/// attempt would expire at once.
fn zero_timeout_row() -> Fixture {
    let (cluster, session) = ready(38, true);
    let mut announce = SessionAnnounce::new(
        &cluster.public_keys(),
        [1; 32],
        Dialect::Bip340,
        ElectionMethod::Lexicographic,
        SessionOptions::default(),
    )
    .unwrap();
    announce.options.broadcast_timeout_ms = 0;
    let fresh = SessionId([0x78; 32]);
    let bytes = sealed(
        &cluster,
        1,
        envelope(&cluster, fresh, 1, 1, Payload::SessionAnnounce(announce)),
    );
    fixture(
        (cluster, session),
        bytes,
        Rejection::Decode(DecodeError::BroadcastTimeout {
            min: MIN_BROADCAST_TIMEOUT_MS,
            max: MAX_BROADCAST_TIMEOUT_MS,
            got: 0,
        }),
    )
}

/// A session where node 1 joined and node 2 did not: the creator still collects joins.
fn joining(seed: u8) -> (Cluster, SessionId) {
    let mut cluster = Cluster::new(3, seed);
    cluster.auto_join = false;
    let spec = cluster.spec(Dialect::Lotus, Topology::Mesh, false);
    let session = cluster.nodes[0].create_session(cluster.now, spec).unwrap();
    cluster.run();
    let now = cluster.now;
    cluster.nodes[1]
        .join_session(now, &session, Progress::Automatic)
        .unwrap();
    cluster.run();
    (cluster, session)
}

fn join_rows() -> Vec<(&'static str, Fixture)> {
    let mut rows = Vec::new();
    let (cluster, session) = joining(38);
    let stolen = Join::new(&cluster.keys[1].public_key());
    let mut row = fixture(
        joining(38),
        sealed(
            &cluster,
            2,
            envelope(&cluster, session, 2, 1, Payload::Join(stolen)),
        ),
        Rejection::JoinKeyMismatch,
    );
    row.sender = 2;
    rows.push(("join naming another signer's key", row));
    let view = cluster.nodes[1].session(&session).unwrap();
    let expected = view.election().sorted_index as u16;
    let wrong = (expected + 1) % 3;
    let ready = Payload::SessionReady(SessionReady {
        coordinator_index: wrong,
    });
    let mut row = fixture(
        joining(38),
        sealed(&cluster, 0, envelope(&cluster, session, 0, 5, ready)),
        Rejection::CoordinatorMismatch {
            expected,
            got: wrong,
        },
    );
    row.receiver = 1;
    row.sender = 0;
    rows.push(("session ready naming another coordinator", row));
    rows
}

/// Node 0 holds every commitment and waits for node 1's reveal, which was lost.
fn awaiting_reveal(seed: u8) -> (Cluster, SessionId) {
    let (mut cluster, session) = ready(seed, true);
    for node in 0..3 {
        let now = cluster.now;
        cluster.nodes[node].start_round1(now, &session).unwrap();
    }
    cluster.run_with(|packet, signed| {
        let lost = packet.from == 1
            && packet.to == 0
            && signed.envelope.payload.kind() == PayloadKind::NonceShare;
        if lost {
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    (cluster, session)
}

fn blame_rows() -> Vec<(&'static str, Fixture)> {
    let mut rows = Vec::new();
    let (cluster, session) = awaiting_reveal(39);
    let ctx = KeyAggContext::new(Dialect::Bip340, &cluster.public_keys()).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (_, other) = generate_nonce(&ctx, &cluster.keys[1], &[0x5a; 32], &mut rng).unwrap();
    let reveal = Payload::NonceShare(NonceShare::new(0, &other));
    let index = signer_index(&cluster, &session, 1);
    rows.push((
        "nonce that does not match its commitment",
        fixture(
            awaiting_reveal(39),
            sealed(
                &cluster,
                1,
                envelope(&cluster, session, 1, 9, reveal.clone()),
            ),
            Rejection::NonceCommitmentMismatch { signer: index },
        ),
    ));

    let (cluster, session) = ready(40, false);
    let signing = |seed| {
        let (mut cluster, session) = ready(seed, false);
        for node in 0..3 {
            let now = cluster.now;
            cluster.nodes[node].start_round1(now, &session).unwrap();
        }
        cluster.run();
        (cluster, session)
    };
    let scalar = PartialSignature::from_bytes(&[3; 32]).unwrap();
    let partial = Payload::PartialSignature(PartialSignatureShare::new(0, &scalar));
    let index = signer_index(&cluster, &session, 1);
    rows.push((
        "invalid partial signature",
        fixture(
            signing(40),
            sealed(&cluster, 1, envelope(&cluster, session, 1, 9, partial)),
            Rejection::InvalidPartialSignature { signer: index },
        ),
    ));
    let ctx = KeyAggContext::new(Dialect::Bip340, &cluster.public_keys()).unwrap();
    let (_, second) = generate_nonce(&ctx, &cluster.keys[1], &[0x5a; 32], &mut rng).unwrap();
    let equivocation = Payload::NonceShare(NonceShare::new(0, &second));
    rows.push((
        "second, different nonce (equivocation)",
        fixture(
            signing(40),
            sealed(&cluster, 1, envelope(&cluster, session, 1, 9, equivocation)),
            Rejection::Equivocation {
                signer: index,
                got: PayloadKind::NonceShare,
            },
        ),
    ));
    rows
}

fn signer_index(cluster: &Cluster, session: &SessionId, node: usize) -> usize {
    let view = cluster.nodes[0].session(session).unwrap();
    let key = cluster.keys[node].public_key();
    view.signers().iter().position(|k| *k == key).unwrap()
}

#[test]
fn every_bad_input_gets_its_own_rejection_and_changes_nothing() {
    let rows: Vec<(&str, Fixture)> = [
        decode_rows(),
        envelope_rows(),
        sequence_rows(),
        phase_rows(),
        state_rows(),
        join_rows(),
        blame_rows(),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(rows.len() >= 15);
    let mut kinds = std::collections::BTreeSet::new();
    println!("{:<48} rejection", "bad input");
    for (name, mut row) in rows {
        let receiver = row.receiver;
        let culprit_index = signer_index(&row.cluster, &row.session, row.sender);
        let culprit_key = row.cluster.keys[row.sender].public_key();
        let peer = PeerId::from_key(&row.cluster.keys[row.sender].public_key());
        let node = &mut row.cluster.nodes[receiver];
        let counted_before = node.rejections(&peer).map_or(0, |counts| counts.total());
        let before = node.state_digest();
        let now = row.cluster.now;
        let result = node.handle_message(now, peer.clone(), row.channel, &row.bytes);
        assert_eq!(result, Err(row.expected.clone()), "{name}");
        println!("{name:<48} {}", row.expected);
        kinds.insert(row.expected.kind());
        let counts = node.rejections(&peer).unwrap();
        assert_eq!(counts.total(), counted_before + 1, "{name}: counted");
        if row.expected.is_blame() {
            let view = node.session(&row.session).unwrap();
            let Some(AbortReason::Blame {
                signer, evidence, ..
            }) = view.abort_reason()
            else {
                panic!("{name}: not aborted with blame: {:?}", view.abort_reason());
            };
            assert_eq!(*signer, culprit_index);
            assert_eq!(evidence.verify(), Ok(culprit_key));
        } else {
            assert_eq!(node.state_digest(), before, "{name}: state changed");
            assert!(node.poll_transmit().is_none(), "{name}: sent something");
        }
    }
    println!("{} distinct rejection kinds", kinds.len());
    assert!(kinds.len() >= 15);
}

#[test]
fn the_digest_sees_an_accepted_message() {
    let (mut cluster, session) = ready(41, true);
    let before = cluster.nodes[0].state_digest();
    let bytes = commit_from_one(&cluster, session, 2);
    let peer = PeerId::from_key(&cluster.keys[1].public_key());
    let now = cluster.now;
    assert_eq!(
        cluster.nodes[0].handle_message(now, peer, Channel::Direct, &bytes),
        Ok(())
    );
    assert_ne!(cluster.nodes[0].state_digest(), before);
}
