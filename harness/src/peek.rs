//! Reading the simulator's own traffic without the receiver's checks: the harness needs to
//! know what a message is (for traces, the nonce invariant and the byzantine peers), not
//! whether it is valid, which is the receiving node's job.

use chorus_core::wire::{Payload, PayloadKind, SessionId, SignedEnvelope, WIRE_VERSION};

/// The position of [`Payload::NonceShare`] among the payload variants (postcard writes an
/// enum's variant index); a test checks it against the decoder.
const NONCE_SHARE_VARIANT: u32 = 3;
/// The encoded length of a public nonce (two compressed points).
const NONCE_LEN: usize = 66;

/// The envelope in `bytes`, if they hold one.
pub(crate) fn peek(bytes: &[u8]) -> Option<SignedEnvelope> {
    let (&version, body) = bytes.split_first()?;
    if version != WIRE_VERSION {
        return None;
    }
    postcard::from_bytes(body).ok()
}

/// The first fields of an envelope, read from where postcard puts them without decoding
/// the rest (every message passes here, and a full decode of each would cost more than
/// the simulator's own bookkeeping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) session: SessionId,
    /// The payload's variant index.
    variant: u32,
}

/// A cursor over postcard bytes: raw bytes for fixed-size arrays, LEB128 for integers.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.0.split_at_checked(count)?;
        self.0 = rest;
        Some(taken)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let (&byte, rest) = self.0.split_first()?;
            self.0 = rest;
            value |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// The wire version byte, then the envelope up to its payload's variant index.
    fn header(&mut self) -> Option<Header> {
        let [wire_version, _envelope_version] = self.take(2)? else {
            return None;
        };
        if *wire_version != WIRE_VERSION {
            return None;
        }
        let session = SessionId(self.take(32)?.try_into().ok()?);
        self.take(33)?; // the sender
        self.varint()?; // the sequence
        self.varint()?; // the timestamp
        let variant = u32::try_from(self.varint()?).ok()?;
        Some(Header { session, variant })
    }
}

/// The session and payload variant of the envelope in `bytes`, if they look like one.
pub(crate) fn header(bytes: &[u8]) -> Option<Header> {
    Reader(bytes).header()
}

/// The attempt and public nonce of a nonce share, read as [`header`] reads.
pub(crate) fn nonce_share(bytes: &[u8]) -> Option<(Header, u32, [u8; NONCE_LEN])> {
    let mut reader = Reader(bytes);
    let header = reader.header()?;
    if header.variant != NONCE_SHARE_VARIANT {
        return None;
    }
    let attempt = u32::try_from(reader.varint()?).ok()?;
    let nonce = reader.take(NONCE_LEN)?.try_into().ok()?;
    Some((header, attempt, nonce))
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

#[cfg(test)]
mod tests {
    use chorus_core::crypto::{Keypair, SecretKey};
    use chorus_core::time::Timestamp;
    use chorus_core::wire::{
        AggregateNonceShare, Envelope, NonceCommit, NonceShare, PartialSignatureShare, Sequence,
        SessionReady,
    };

    use super::*;

    fn sealed(sequence: u64, payload: Payload) -> Vec<u8> {
        let secret = SecretKey::from_secret_bytes([0x5c; 32]).unwrap();
        let keypair = Keypair::from_secret_key(&secret);
        let envelope = Envelope::new(
            SessionId([0xa7; 32]),
            &keypair.public_key(),
            Sequence(sequence),
            Timestamp::from_millis(1_700_000_000_123),
            payload,
        );
        SignedEnvelope::seal(envelope, &keypair, &[9; 32]).encode()
    }

    #[test]
    fn the_header_reader_agrees_with_the_decoder() {
        let mut nonce = [0u8; NONCE_LEN];
        nonce
            .iter_mut()
            .zip(0u8..)
            .for_each(|(byte, value)| *byte = value);
        let payloads = [
            Payload::NonceShare(NonceShare {
                attempt: 300,
                nonce,
            }),
            Payload::NonceCommit(NonceCommit {
                attempt: 1,
                commitment: [3; 32],
            }),
            Payload::AggregateNonce(AggregateNonceShare { attempt: 1, nonce }),
            Payload::SessionReady(SessionReady {
                coordinator_index: 2,
            }),
            Payload::PartialSignature(PartialSignatureShare {
                attempt: 3,
                partial_signature: [7; 32],
            }),
        ];
        for sequence in [1, 200, u64::MAX] {
            for payload in &payloads {
                let bytes = sealed(sequence, payload.clone());
                let decoded = peek(&bytes).unwrap();
                let read = header(&bytes).unwrap();
                assert_eq!(read.session, decoded.envelope.session_id);
                let share = nonce_share(&bytes);
                match &decoded.envelope.payload {
                    Payload::NonceShare(expected) => {
                        let (_, attempt, nonce) = share.unwrap();
                        assert_eq!((attempt, nonce), (expected.attempt, expected.nonce));
                    }
                    _ => assert_eq!(share, None),
                }
            }
        }
        assert_eq!(header(&[]), None);
        assert_eq!(header(&[WIRE_VERSION + 1; 200]), None);
        assert_eq!(header(&sealed(1, payloads[0].clone())[..70]), None);
    }
}
