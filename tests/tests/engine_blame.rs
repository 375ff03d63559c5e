//! Blame: an invalid partial signature, a nonce that breaks its commitment, or two
//! different nonces from one signer abort the session naming that signer, with signed
//! evidence a third party can check.

mod engine_support;

use chorus_core::crypto::{generate_nonce, Dialect, KeyAggContext, PublicKey};
use chorus_core::election::{elect, ElectionMethod};
use chorus_core::node::{AbortReason, Event, Evidence, EvidenceError, Progress, Rejection};
use chorus_core::wire::{AbortCode, NonceShare, Payload, SessionId, Topology};
use engine_support::{reseal, Cluster, Fate};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The byzantine node in every test.
const MALLORY: usize = 1;

/// Every blame abort: (node, blamed signer index, blamed key, evidence).
fn blames(cluster: &Cluster) -> Vec<(usize, usize, PublicKey, Evidence)> {
    cluster
        .find(|event| {
            matches!(
                event,
                Event::SessionAborted {
                    reason: AbortReason::Blame { .. },
                    ..
                }
            )
        })
        .into_iter()
        .map(|(node, event)| match event {
            Event::SessionAborted {
                reason:
                    AbortReason::Blame {
                        signer,
                        key,
                        evidence,
                    },
                ..
            } => (node, signer, key, *evidence),
            _ => unreachable!(),
        })
        .collect()
}

/// Mallory's index in the session's sorted signer list.
fn sorted_index(cluster: &Cluster, session: &SessionId, node: usize) -> usize {
    let view = cluster.nodes[0].session(session).unwrap();
    let key = cluster.keys[node].public_key();
    view.signers().iter().position(|k| *k == key).unwrap()
}

/// Checks that the `expected` honest nodes blamed Mallory with evidence that verifies.
fn assert_blamed(cluster: &Cluster, session: &SessionId, expected: &[usize]) {
    assert_blamed_culprit(cluster, session, expected, MALLORY);
}

/// Checks that the `expected` honest nodes blamed `culprit` with evidence that verifies.
fn assert_blamed_culprit(
    cluster: &Cluster,
    session: &SessionId,
    expected: &[usize],
    culprit: usize,
) {
    let mallory = cluster.keys[culprit].public_key();
    let index = sorted_index(cluster, session, culprit);
    let found = blames(cluster);
    let accusers: Vec<usize> = found.iter().map(|(node, ..)| *node).collect();
    assert_eq!(accusers, expected);
    for (_, signer, key, evidence) in found {
        assert_eq!((signer, key), (index, mallory));
        assert_eq!(evidence.verify(), Ok(mallory));
    }
}

#[test]
fn an_invalid_partial_signature_is_blamed_in_the_mesh() {
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        let mut cluster = Cluster::new(3, 20);
        let spec = cluster.spec(dialect, Topology::Mesh, true);
        let session = cluster.nodes[0].create_session(cluster.now, spec).unwrap();
        let mallory = cluster.keys[MALLORY];
        cluster.run_with(|packet, signed| {
            let mut envelope = signed.envelope.clone();
            match &mut envelope.payload {
                Payload::PartialSignature(share) if packet.from == MALLORY => {
                    share.partial_signature[31] ^= 1;
                    Fate::Replace(reseal(envelope, &mallory))
                }
                _ => Fate::Deliver,
            }
        });
        assert_blamed(&cluster, &session, &[0, 2]);
        let index = sorted_index(&cluster, &session, MALLORY);
        assert!(cluster
            .rejections
            .iter()
            .any(|(_, r)| *r == Rejection::InvalidPartialSignature { signer: index }));
    }
}

#[test]
fn the_aggregator_finds_the_invalid_partial_signature_when_the_final_one_fails() {
    let mut cluster = Cluster::new(4, 21);
    let spec = cluster.spec(Dialect::Lotus, Topology::Aggregator, false);
    let elected = elect(ElectionMethod::Lexicographic, &cluster.public_keys(), None).unwrap();
    let aggregator = cluster.index_of(&elected.coordinator);
    let culprit = (aggregator + 1) % 4;
    let session = cluster.nodes[3].create_session(cluster.now, spec).unwrap();
    let culprit_key = cluster.keys[culprit];
    cluster.run_with(|packet, signed| {
        let mut envelope = signed.envelope.clone();
        match &mut envelope.payload {
            Payload::PartialSignature(share) if packet.from == culprit => {
                share.partial_signature[0] ^= 0x10;
                Fate::Replace(reseal(envelope, &culprit_key))
            }
            _ => Fate::Deliver,
        }
    });
    assert_blamed_culprit(&cluster, &session, &[aggregator], culprit);
    // The others hear of it through the aggregator's abort.
    let index = sorted_index(&cluster, &session, culprit);
    let told = cluster.find(|event| {
        matches!(event, Event::SessionAborted { reason: AbortReason::PeerAborted {
            code: AbortCode::InvalidPartialSignature, blamed_signer: Some(b), .. }, .. } if *b == index)
    });
    assert_eq!(told.len(), 3);
}

#[test]
fn a_nonce_that_breaks_its_commitment_is_blamed() {
    let mut cluster = Cluster::new(3, 22);
    let spec = cluster.spec(Dialect::Bip340, Topology::Mesh, true);
    let session = cluster.nodes[2].create_session(cluster.now, spec).unwrap();
    let mallory = cluster.keys[MALLORY];
    let ctx = KeyAggContext::new(Dialect::Bip340, &cluster.public_keys()).unwrap();
    let (_, other_nonce) = generate_nonce(
        &ctx,
        &mallory,
        &[0x5a; 32],
        &mut ChaCha20Rng::seed_from_u64(5),
    )
    .unwrap();
    cluster.run_with(|packet, signed| {
        let mut envelope = signed.envelope.clone();
        match &mut envelope.payload {
            Payload::NonceShare(share) if packet.from == MALLORY => {
                *share = NonceShare::new(share.attempt, &other_nonce);
                Fate::Replace(reseal(envelope, &mallory))
            }
            _ => Fate::Deliver,
        }
    });
    assert_blamed(&cluster, &session, &[0, 2]);
    for (_, _, _, evidence) in blames(&cluster) {
        assert!(matches!(evidence, Evidence::NonceCommitmentMismatch { .. }));
    }
}

#[test]
fn two_different_nonces_from_one_signer_are_blamed_as_equivocation() {
    let mut cluster = Cluster::new(3, 23);
    cluster.progress = Progress::Manual;
    let mut spec = cluster.spec(Dialect::Lotus, Topology::Mesh, false);
    spec.progress = Progress::Manual;
    let session = cluster.sign(0, spec);
    for node in 0..3 {
        let now = cluster.now;
        cluster.nodes[node].start_round1(now, &session).unwrap();
    }
    cluster.run();
    // Everyone has every nonce and waits for round 2. Mallory now sends another nonce.
    let mallory = cluster.keys[MALLORY];
    let first = cluster
        .sent_by(MALLORY)
        .into_iter()
        .find(|signed| matches!(signed.envelope.payload, Payload::NonceShare(_)))
        .unwrap();
    let ctx = KeyAggContext::new(Dialect::Lotus, &cluster.public_keys()).unwrap();
    let (_, second_nonce) = generate_nonce(
        &ctx,
        &mallory,
        &[0x5a; 32],
        &mut ChaCha20Rng::seed_from_u64(6),
    )
    .unwrap();
    let mut envelope = first.envelope.clone();
    envelope.sequence = chorus_core::wire::Sequence(first.envelope.sequence.0 + 5);
    envelope.payload = Payload::NonceShare(NonceShare::new(0, &second_nonce));
    let packet = engine_support::Packet {
        from: MALLORY,
        to: 0,
        channel: chorus_core::wire::Channel::Direct,
        bytes: reseal(envelope, &mallory),
    };
    let index = sorted_index(&cluster, &session, MALLORY);
    assert_eq!(
        cluster.deliver(&packet),
        Err(Rejection::Equivocation {
            signer: index,
            got: chorus_core::wire::PayloadKind::NonceShare
        })
    );
    assert_blamed(&cluster, &session, &[0]);
    let (_, _, _, evidence) = blames(&cluster).remove(0);
    let Evidence::Equivocation { first: stored, .. } = &evidence else {
        panic!("{evidence:?}")
    };
    assert_eq!(*stored, first);
}

#[test]
fn evidence_that_shows_nothing_or_was_altered_is_refused() {
    let mut cluster = Cluster::new(3, 24);
    let spec = cluster.spec(Dialect::Bip340, Topology::Mesh, false);
    let session = cluster.nodes[0].create_session(cluster.now, spec).unwrap();
    let mallory = cluster.keys[MALLORY];
    cluster.run_with(|packet, signed| {
        let mut envelope = signed.envelope.clone();
        match &mut envelope.payload {
            Payload::PartialSignature(share) if packet.from == MALLORY => {
                share.partial_signature[31] ^= 1;
                Fate::Replace(reseal(envelope, &mallory))
            }
            _ => Fate::Deliver,
        }
    });
    assert_blamed(&cluster, &session, &[0, 2]);
    let (_, _, _, evidence) = blames(&cluster).remove(0);
    let Evidence::InvalidPartialSignature {
        announce,
        nonces,
        partial,
    } = evidence
    else {
        panic!("wrong evidence kind")
    };
    // Mallory's genuine partial signature (as Mallory sent it to nobody) proves nothing.
    let mut honest = partial.envelope.clone();
    if let Payload::PartialSignature(share) = &mut honest.payload {
        share.partial_signature[31] ^= 1;
    }
    let honest = chorus_core::wire::SignedEnvelope::seal(honest, &mallory, &[1; 32]);
    let cleared = Evidence::InvalidPartialSignature {
        announce: announce.clone(),
        nonces: nonces.clone(),
        partial: honest,
    };
    assert_eq!(cleared.verify(), Err(EvidenceError::NoMisbehaviour));
    // A forged signature on any envelope voids the evidence.
    let mut forged = partial.clone();
    forged.signature[0] ^= 1;
    let tampered = Evidence::InvalidPartialSignature {
        announce: announce.clone(),
        nonces: nonces.clone(),
        partial: forged,
    };
    assert_eq!(tampered.verify(), Err(EvidenceError::BadSignature));
    // Missing a nonce, the aggregate nonce cannot be rebuilt.
    let incomplete = Evidence::InvalidPartialSignature {
        announce,
        nonces: nonces[1..].to_vec(),
        partial,
    };
    assert_eq!(incomplete.verify(), Err(EvidenceError::IncompleteNonces));
}
