//! A session's phase, with the data of that phase inside each variant.
//!
//! A transition takes the old phase by value and builds the next one, so data that must
//! not outlive its round (the secret nonce above all) moves or is dropped, never copied.

use std::collections::{BTreeMap, BTreeSet};

use crate::crypto::SigningSession;
use crate::crypto::{AggregateNonce, PartialSignature, PublicNonce, SecretNonce, Signature};
use crate::node::error::AbortReason;
use crate::node::view::PhaseKind;
use crate::wire::SignedEnvelope;

/// A value a signer sent, with the signed envelope it came in (the evidence, if it lies).
#[derive(Debug)]
pub(crate) struct Stored<T, E = SignedEnvelope> {
    pub(crate) value: T,
    pub(crate) envelope: E,
}

/// A nonce or partial signature of a round. The envelope is `None` only for the
/// aggregator's own, which it never sends: it seals them only when evidence needs them
/// ([`Session::seal_unsent_own_shares`](super::Session::seal_unsent_own_shares)), which
/// saves two signings per attempt.
pub(crate) type RoundValue<T> = Stored<T, Option<SignedEnvelope>>;

/// Where a session is.
#[derive(Debug, Default)]
pub(crate) enum Phase {
    /// Waiting for the joins (the creator) or for this node's join and the creator's
    /// session ready (everyone else).
    Init(Joining),
    /// Round 0: nonce commitments.
    NonceCommit(CommitRound),
    /// Round 1: public nonces.
    NonceExchange(NonceRound),
    /// Round 2: partial signatures.
    PartialSigExchange(Box<SignRound>),
    /// The final signature exists; the broadcast failover runs.
    Complete(Completed),
    /// Aborted, by this node or a peer.
    Aborted(AbortReason),
    /// Outlived its timeout.
    Expired,
    /// Closed by the application.
    #[default]
    Closed,
}

impl Phase {
    pub(crate) fn kind(&self) -> PhaseKind {
        match self {
            Phase::Init(_) => PhaseKind::Init,
            Phase::NonceCommit(_) => PhaseKind::NonceCommit,
            Phase::NonceExchange(_) => PhaseKind::NonceExchange,
            Phase::PartialSigExchange(_) => PhaseKind::PartialSigExchange,
            Phase::Complete(_) => PhaseKind::Complete,
            Phase::Aborted(_) => PhaseKind::Aborted,
            Phase::Expired => PhaseKind::Expired,
            Phase::Closed => PhaseKind::Closed,
        }
    }

    /// Aborted, expired or closed: nothing more happens in the session.
    pub(crate) fn is_terminal(&self) -> bool {
        matches!(self, Phase::Aborted(_) | Phase::Expired | Phase::Closed)
    }

    /// The round-1 attempt, while a round runs.
    pub(crate) fn attempt(&self) -> Option<u32> {
        match self {
            Phase::NonceCommit(round) => Some(round.attempt),
            Phase::NonceExchange(round) => Some(round.attempt),
            Phase::PartialSigExchange(round) => Some(round.attempt),
            _ => None,
        }
    }
}

/// Who has joined.
#[derive(Debug, Default)]
pub(crate) struct Joining {
    /// The signers whose join the creator accepted (the creator included); empty on the
    /// other nodes, which learn that everyone joined from the creator's session ready.
    pub(crate) joined: BTreeSet<usize>,
    /// Whether this node has joined.
    pub(crate) self_joined: bool,
}

/// This node's fresh nonce of one attempt.
#[derive(Debug)]
pub(crate) struct OwnNonce {
    pub(crate) secret: SecretNonce,
    pub(crate) public: PublicNonce,
}

/// Round 0 of one attempt.
#[derive(Debug)]
pub(crate) struct CommitRound {
    pub(crate) attempt: u32,
    /// The commitments in (this node's own once it committed; in the aggregator topology a
    /// participant holds its own and, once it arrives, the aggregator's go-ahead).
    pub(crate) commitments: BTreeMap<usize, Stored<[u8; 32]>>,
    /// The nonce this node committed to, until it is revealed.
    pub(crate) own: Option<OwnNonce>,
}

/// Round 1 of one attempt.
#[derive(Debug)]
pub(crate) struct NonceRound {
    pub(crate) attempt: u32,
    /// Round 0's commitments (empty without round 0).
    pub(crate) commitments: BTreeMap<usize, Stored<[u8; 32]>>,
    /// The nonces in, this node's own included once it shared it.
    pub(crate) nonces: BTreeMap<usize, RoundValue<PublicNonce>>,
    /// This node's secret nonce, once it has one.
    pub(crate) own_secret: Option<SecretNonce>,
}

/// Round 2 of one attempt.
#[derive(Debug)]
pub(crate) struct SignRound {
    pub(crate) attempt: u32,
    /// Round 1's nonces (an aggregator-topology participant knows only its own).
    pub(crate) nonces: BTreeMap<usize, RoundValue<PublicNonce>>,
    /// The aggregate nonce.
    pub(crate) aggregate: AggregateNonce,
    /// The aggregator's envelope carrying it (aggregator-topology participants).
    pub(crate) aggregate_envelope: Option<SignedEnvelope>,
    /// The session values under the aggregate nonce.
    pub(crate) signing: SigningSession,
    /// This node's secret nonce until it signs (signing consumes it).
    pub(crate) own_secret: Option<SecretNonce>,
    /// The partial signatures in, this node's own included once it signed.
    pub(crate) partials: BTreeMap<usize, RoundValue<PartialSignature>>,
}

/// The session's outcome and the state of the broadcast failover.
#[derive(Debug)]
pub(crate) struct Completed {
    pub(crate) signature: Signature,
    pub(crate) broadcast: Broadcast,
}

/// Where the broadcast failover is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Broadcast {
    /// Waiting for the coordinator at this position of the priority list to confirm.
    Waiting { attempt: u32 },
    /// A signer confirmed.
    Confirmed {
        transaction_id: Vec<u8>,
        signer: usize,
    },
    /// Every coordinator failed.
    Exhausted,
}
