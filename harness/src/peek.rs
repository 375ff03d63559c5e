//! Reading the simulator's own traffic without the receiver's checks: the harness needs to
//! know what a message is (for traces, the nonce invariant and the byzantine peers), not
//! whether it is valid, which is the receiving node's job.

use chorus_core::wire::{Payload, PayloadKind, SignedEnvelope, WIRE_VERSION};

/// The envelope in `bytes`, if they hold one.
pub(crate) fn peek(bytes: &[u8]) -> Option<SignedEnvelope> {
    let (&version, body) = bytes.split_first()?;
    if version != WIRE_VERSION {
        return None;
    }
    postcard::from_bytes(body).ok()
}

/// The round attempt a payload belongs to, if it is a round message.
pub(crate) fn attempt(payload: &Payload) -> Option<u32> {
    match payload {
        Payload::NonceCommit(commit) => Some(commit.attempt),
        Payload::NonceShare(share) => Some(share.attempt),
        Payload::AggregateNonce(share) => Some(share.attempt),
        Payload::PartialSignature(share) => Some(share.attempt),
        _ => None,
    }
}

/// What the trace says about a message: kind, attempt, sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) kind: Option<PayloadKind>,
    pub(crate) attempt: Option<u32>,
    pub(crate) sequence: u64,
}

impl Summary {
    pub(crate) fn of(envelope: Option<&SignedEnvelope>) -> Self {
        match envelope {
            Some(signed) => Summary {
                kind: Some(signed.envelope.payload.kind()),
                attempt: attempt(&signed.envelope.payload),
                sequence: signed.envelope.sequence.0,
            },
            None => Summary {
                kind: None,
                attempt: None,
                sequence: 0,
            },
        }
    }
}
