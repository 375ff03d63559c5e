//! What a node hands back to its driver: messages to send and things that happened.

use core::fmt;

use crate::crypto::{PublicKey, Signature};
use crate::wire::{Channel, SessionId};

use super::error::AbortReason;

/// The transport's name for the peer a message came from.
///
/// Opaque bytes chosen by the transport (a libp2p peer id, a QUIC connection's pinned key,
/// or — for transports that address peers by their signing key, like the in-memory one —
/// the 33-byte compressed key from [`PeerId::from_key`]). The node uses it only to count
/// rejections per peer: who *signed* a message is the envelope's sender, which the node
/// checks itself, because a message may be relayed by a peer that did not write it.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::node::PeerId;
///
/// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap()).public_key();
/// let peer = PeerId::from_key(&key);
/// assert_eq!(peer.as_bytes(), &key.serialize()[..]);
/// assert_eq!(PeerId::new(vec![0xab, 0xcd]).to_string(), "abcd");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId(Vec<u8>);

impl PeerId {
    /// A peer id made of the transport's bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        PeerId(bytes.into())
    }

    /// The peer id of a transport that addresses peers by their compressed signing key.
    pub fn from_key(key: &PublicKey) -> Self {
        PeerId(key.serialize().to_vec())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId({self})")
    }
}

/// One encoded message for one signer: the driver delivers `bytes` to the peer holding the
/// key `to`, on `channel`, and hands them to that peer's
/// [`Node::handle_message`](super::Node::handle_message).
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::node::Transmit;
/// use chorus_core::wire::{Channel, SessionId};
///
/// let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([2; 32]).unwrap()).public_key();
/// let transmit = Transmit { session: SessionId([1; 32]), to: bob, channel: Channel::Direct, bytes: vec![1, 2, 3] };
/// assert_eq!(transmit.to, bob);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The session the message belongs to.
    pub session: SessionId,
    /// The recipient's signing key.
    pub to: PublicKey,
    /// The channel to use (its size limit was respected).
    pub channel: Channel,
    /// The encoded signed envelope.
    pub bytes: Vec<u8>,
}

/// Something that happened in a session, for the application.
///
/// Signer indices are positions in the session's sorted signer list.
///
/// ```
/// use chorus_core::node::Event;
/// use chorus_core::wire::SessionId;
///
/// let event = Event::FailoverExhausted { session: SessionId([1; 32]) };
/// assert_eq!(event.session(), SessionId([1; 32]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// This node created a session and announced it to the other signers.
    SessionCreated {
        /// The new session.
        session: SessionId,
    },
    /// Another signer announced a session that lists this node's key; call
    /// [`Node::join_session`](super::Node::join_session) to take part.
    SessionAnnounced {
        /// The session.
        session: SessionId,
        /// The creator's key.
        creator: PublicKey,
        /// The message to sign.
        message: [u8; 32],
    },
    /// A signer joined (seen by the creator, who collects the joins).
    ParticipantJoined {
        /// The session.
        session: SessionId,
        /// The signer's index.
        signer: usize,
    },
    /// Every signer joined; round 1 (or round 0) can start.
    SessionReady {
        /// The session.
        session: SessionId,
    },
    /// The election named the session's coordinator (no message needed).
    CoordinatorElected {
        /// The session.
        session: SessionId,
        /// The coordinator's key.
        coordinator: PublicKey,
        /// The coordinator's index.
        signer: usize,
    },
    /// Every nonce commitment of round 0 is in; nonces are being revealed.
    NonceCommitmentsComplete {
        /// The session.
        session: SessionId,
        /// The round-1 attempt.
        attempt: u32,
    },
    /// The aggregate nonce is known; round 2 can sign (with manual progress, call
    /// [`Node::start_round2`](super::Node::start_round2)).
    NoncesComplete {
        /// The session.
        session: SessionId,
        /// The round-1 attempt.
        attempt: u32,
    },
    /// Every partial signature is in and verified (seen by whoever aggregates).
    PartialSignaturesComplete {
        /// The session.
        session: SessionId,
    },
    /// The final signature exists and verifies under the aggregate key.
    SessionComplete {
        /// The session.
        session: SessionId,
        /// The final signature.
        signature: Signature,
    },
    /// This node is the coordinator of failover `attempt`: broadcast the transaction, then
    /// call [`Node::notify_broadcast_complete`](super::Node::notify_broadcast_complete).
    ShouldBroadcast {
        /// The session.
        session: SessionId,
        /// The position in the priority list (0 = the elected coordinator).
        attempt: u32,
        /// The final signature.
        signature: Signature,
    },
    /// The coordinator of `attempt` did not confirm a broadcast in time; the next one in the
    /// priority list takes over.
    CoordinatorFailed {
        /// The session.
        session: SessionId,
        /// The failed attempt.
        attempt: u32,
        /// The failed coordinator's key.
        coordinator: PublicKey,
    },
    /// Every coordinator in the priority list failed to confirm a broadcast.
    FailoverExhausted {
        /// The session.
        session: SessionId,
    },
    /// A signer confirmed the broadcast; failover timers are cancelled.
    BroadcastConfirmed {
        /// The session.
        session: SessionId,
        /// The transaction id it reported.
        transaction_id: Vec<u8>,
        /// The confirming signer's index.
        signer: usize,
    },
    /// The aggregator of round-1 `attempt` went silent before the final signature existed;
    /// round 1 restarts with fresh nonces under the next signer in the priority list.
    AggregatorFailed {
        /// The session.
        session: SessionId,
        /// The failed attempt.
        attempt: u32,
        /// The failed aggregator's key.
        aggregator: PublicKey,
    },
    /// The session was aborted.
    SessionAborted {
        /// The session.
        session: SessionId,
        /// Why (blame carries the evidence).
        reason: AbortReason,
    },
    /// The application closed the session.
    SessionClosed {
        /// The session.
        session: SessionId,
    },
    /// The session outlived its timeout before completing.
    SessionExpired {
        /// The session.
        session: SessionId,
    },
}

impl Event {
    /// The session the event is about.
    pub fn session(&self) -> SessionId {
        match self {
            Event::SessionCreated { session }
            | Event::SessionAnnounced { session, .. }
            | Event::ParticipantJoined { session, .. }
            | Event::SessionReady { session }
            | Event::CoordinatorElected { session, .. }
            | Event::NonceCommitmentsComplete { session, .. }
            | Event::NoncesComplete { session, .. }
            | Event::PartialSignaturesComplete { session }
            | Event::SessionComplete { session, .. }
            | Event::ShouldBroadcast { session, .. }
            | Event::CoordinatorFailed { session, .. }
            | Event::FailoverExhausted { session }
            | Event::BroadcastConfirmed { session, .. }
            | Event::AggregatorFailed { session, .. }
            | Event::SessionAborted { session, .. }
            | Event::SessionClosed { session }
            | Event::SessionExpired { session } => *session,
        }
    }
}
