//! Proptest strategies for well-formed wire values: every point on the curve, every bound
//! respected, so that whatever they produce must survive an encode/decode round trip.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use secp256k1::{Keypair, PublicKey, SecretKey};

use super::*;
use crate::crypto::{Dialect, PartialSignature};
use crate::election::ElectionMethod;
use crate::time::Timestamp;

/// Every abort reason, so the strategy covers them all.
pub(crate) const ABORT_CODES: [AbortCode; 8] = [
    AbortCode::Closed,
    AbortCode::Expired,
    AbortCode::Stuck,
    AbortCode::InvalidPartialSignature,
    AbortCode::NonceCommitmentMismatch,
    AbortCode::Equivocation,
    AbortCode::ProtocolViolation,
    AbortCode::FailoverExhausted,
];

pub(crate) fn secret_key() -> impl Strategy<Value = SecretKey> {
    any::<[u8; 32]>().prop_filter_map("not below the group order", |bytes| {
        SecretKey::from_secret_bytes(bytes).ok()
    })
}

pub(crate) fn keypair() -> impl Strategy<Value = Keypair> {
    secret_key().prop_map(|secret| Keypair::from_secret_key(&secret))
}

/// A valid compressed point.
pub(crate) fn point() -> impl Strategy<Value = [u8; 33]> {
    secret_key().prop_map(|secret| PublicKey::from_secret_key(&secret).serialize())
}

fn point_pair() -> impl Strategy<Value = [u8; 66]> {
    (point(), point()).prop_map(|(first, second)| concat_halves(&first, &second))
}

/// A BIP327 aggregate nonce: each half a point or the 33-zero-byte point at infinity.
fn aggregate_half() -> impl Strategy<Value = [u8; 33]> {
    prop_oneof![4 => point(), 1 => Just([0u8; 33])]
}

fn concat_halves(first: &[u8; 33], second: &[u8; 33]) -> [u8; 66] {
    let mut pair = [0u8; 66];
    pair[..33].copy_from_slice(first);
    pair[33..].copy_from_slice(second);
    pair
}

fn session_announce() -> impl Strategy<Value = SessionAnnounce> {
    let options = (
        any::<bool>(),
        select(vec![Topology::Mesh, Topology::Aggregator]),
        MIN_BROADCAST_TIMEOUT_MS..=MAX_BROADCAST_TIMEOUT_MS,
    )
        .prop_map(
            |(nonce_commitments, topology, broadcast_timeout_ms)| SessionOptions {
                nonce_commitments,
                topology,
                broadcast_timeout_ms,
            },
        );
    (
        vec(point(), 1..24),
        any::<[u8; 32]>(),
        select(vec![Dialect::Bip340, Dialect::Lotus]),
        select(ElectionMethod::ALL.to_vec()),
        options,
    )
        .prop_map(|(mut signers, message, dialect, election, options)| {
            signers.sort_unstable();
            signers.dedup();
            SessionAnnounce {
                signers,
                message,
                dialect,
                election,
                options,
            }
        })
}

fn partial_signature() -> impl Strategy<Value = [u8; 32]> {
    any::<[u8; 32]>().prop_filter("not below the group order", |bytes| {
        PartialSignature::from_bytes(bytes).is_ok()
    })
}

fn signer_index() -> impl Strategy<Value = u16> {
    0..u16::try_from(MAX_SIGNERS).unwrap_or(u16::MAX)
}

/// Any payload that passes [`Payload::validate`].
pub(crate) fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        session_announce().prop_map(Payload::SessionAnnounce),
        point().prop_map(|key| Payload::Join(Join { key })),
        (any::<u32>(), any::<[u8; 32]>()).prop_map(|(attempt, commitment)| {
            Payload::NonceCommit(NonceCommit {
                attempt,
                commitment,
            })
        }),
        (any::<u32>(), point_pair())
            .prop_map(|(attempt, nonce)| Payload::NonceShare(NonceShare { attempt, nonce })),
        (any::<u32>(), aggregate_half(), aggregate_half()).prop_map(|(attempt, r1, r2)| {
            Payload::AggregateNonce(AggregateNonceShare {
                attempt,
                nonce: concat_halves(&r1, &r2),
            })
        }),
        (any::<u32>(), partial_signature()).prop_map(|(attempt, partial_signature)| {
            Payload::PartialSignature(PartialSignatureShare {
                attempt,
                partial_signature,
            })
        }),
        any::<[u8; 64]>()
            .prop_map(|signature| Payload::FinalSignature(FinalSignature { signature })),
        (
            select(ABORT_CODES.to_vec()),
            proptest::option::of(signer_index())
        )
            .prop_map(
                |(reason, blamed_signer)| Payload::SessionAbort(SessionAbort {
                    reason,
                    blamed_signer
                })
            ),
        signer_index().prop_map(|coordinator_index| {
            Payload::SessionReady(SessionReady { coordinator_index })
        }),
        vec(any::<u8>(), 1..=MAX_TRANSACTION_ID_LEN).prop_map(|transaction_id| {
            Payload::BroadcastConfirmation(BroadcastConfirmation { transaction_id })
        }),
    ]
}

/// Any envelope that passes [`Envelope::validate`].
pub(crate) fn envelope() -> impl Strategy<Value = Envelope> {
    (
        any::<[u8; 32]>(),
        point(),
        any::<u64>(),
        any::<u64>(),
        payload(),
    )
        .prop_map(|(session, sender, sequence, timestamp, payload)| Envelope {
            version: WIRE_VERSION,
            session_id: SessionId(session),
            sender,
            sequence: Sequence(sequence),
            timestamp: Timestamp::from_millis(timestamp),
            payload,
        })
}

/// A well-formed signed envelope whose signature is 64 arbitrary bytes.
pub(crate) fn signed_envelope() -> impl Strategy<Value = SignedEnvelope> {
    (envelope(), any::<[u8; 64]>()).prop_map(|(envelope, signature)| SignedEnvelope {
        envelope,
        signature,
    })
}

/// An envelope genuinely sealed by a random key.
pub(crate) fn sealed_envelope() -> impl Strategy<Value = SignedEnvelope> {
    (envelope(), keypair(), any::<[u8; 32]>()).prop_map(|(envelope, keypair, aux_rand)| {
        SignedEnvelope::seal(envelope, &keypair, &aux_rand)
    })
}
