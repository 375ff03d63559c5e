//! Why input was refused ([`Rejection`]), why a command failed ([`CommandError`]) and why a
//! session was aborted ([`AbortReason`]).

use core::time::Duration;

use crate::crypto::{CryptoError, PublicKey};
use crate::discovery::DiscoveryError;
use crate::election::ElectionError;
use crate::time::Timestamp;
use crate::wire::{AbortCode, DecodeError, PayloadKind, Sequence, SessionId};

use super::evidence::Evidence;
use super::view::PhaseKind;

/// Who may send a message kind to whom; broken by a [`Rejection::Misrouted`] message.
///
/// ```
/// use chorus_core::node::RoutingRule;
///
/// assert_eq!(RoutingRule::JoinsGoToTheCreator.to_string(), "joins go to the session's creator");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum RoutingRule {
    /// Only the creator collects joins.
    #[error("joins go to the session's creator")]
    JoinsGoToTheCreator,
    /// Only the creator declares the session ready.
    #[error("session ready comes from the session's creator")]
    ReadyComesFromTheCreator,
    /// In the aggregator topology, participants send round messages to the aggregator only.
    #[error("round messages go to the current aggregator")]
    RoundMessagesGoToTheAggregator,
    /// In the aggregator topology, only the aggregator sends the aggregate nonce and its
    /// go-ahead commitment.
    #[error("this message comes from the current aggregator")]
    ComesFromTheAggregator,
    /// The message belongs to the other topology.
    #[error("this message does not exist in the session's topology")]
    OtherTopology,
    /// Round 0 is off in this session.
    #[error("this session runs without nonce commitments")]
    NoCommitmentRound,
}

/// Why [`Node::handle_message`](super::Node::handle_message) refused a message.
///
/// Listed in the order the checks run, cheapest first (SPEC §3). A rejection changes no
/// state except the sending peer's rejection counter — with one exception: a rejection
/// that proves a participant misbehaved (the three *blame* variants) also aborts the
/// session with [`AbortReason::Blame`], since the session cannot complete any more.
///
/// ```
/// use chorus_core::node::{Rejection, RejectionKind};
/// use chorus_core::wire::Sequence;
///
/// let rejection = Rejection::Replay { sequence: Sequence(3) };
/// assert_eq!(rejection.kind(), RejectionKind::Replay);
/// assert!(!rejection.is_blame());
/// assert_eq!(rejection.to_string(), "sequence #3 was already seen (or is too old)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The driver has not drained the output queues; the input was not looked at.
    #[error("{queued} outputs wait to be polled (limit {limit})")]
    Backpressure {
        /// [`Config::max_queued_outputs`](super::Config::max_queued_outputs).
        limit: usize,
        /// Transmits and events waiting.
        queued: usize,
    },
    /// The bytes are not a well-formed envelope (size, version, postcard, points …).
    #[error("undecodable message: {0}")]
    Decode(#[from] DecodeError),
    /// The message's timestamp is too far from the node's time.
    #[error("message time {got} is too far from {now} (at most {max:?} apart)")]
    ClockSkew {
        /// The node's time.
        now: Timestamp,
        /// The message's timestamp.
        got: Timestamp,
        /// [`Config::max_clock_skew`](super::Config::max_clock_skew).
        max: Duration,
    },
    /// No session with this id is known (its announcement comes first).
    #[error("unknown session {session}")]
    UnknownSession {
        /// The session id.
        session: SessionId,
    },
    /// The session is closed, aborted or expired.
    #[error("session {session} is {phase}")]
    SessionClosed {
        /// The session id.
        session: SessionId,
        /// Its final phase.
        phase: PhaseKind,
    },
    /// An announcement for a session id that is already known.
    #[error("session {session} was already announced")]
    SessionExists {
        /// The session id.
        session: SessionId,
    },
    /// An announcement that does not list this node's key.
    #[error("this node is not a signer of session {session}")]
    NotASigner {
        /// The session id.
        session: SessionId,
    },
    /// The node keeps as many sessions as it may.
    #[error("too many sessions (limit {limit})")]
    TooManySessions {
        /// [`Config::max_sessions`](super::Config::max_sessions).
        limit: usize,
    },
    /// This session's creator already has as many sessions on this node as it may.
    #[error("too many sessions from this creator (limit {limit})")]
    TooManySessionsFromCreator {
        /// [`Config::max_sessions_per_creator`](super::Config::max_sessions_per_creator).
        limit: usize,
    },
    /// The envelope's sender is not one of the session's signers.
    #[error("sender {} is not a signer of the session", hex::encode(sender))]
    NotAParticipant {
        /// The sender's key bytes.
        sender: [u8; 33],
    },
    /// The envelope names this node as its sender (an echo).
    #[error("message signed by this node itself")]
    OwnMessage,
    /// The session's phase does not take this kind of message.
    #[error("{got} not accepted while the session is in {phase}")]
    WrongPhase {
        /// The session's phase.
        phase: PhaseKind,
        /// The message kind.
        got: PayloadKind,
    },
    /// The message went to, or came from, the wrong participant.
    #[error("misrouted {got}: {rule}")]
    Misrouted {
        /// The message kind.
        got: PayloadKind,
        /// The rule it breaks.
        rule: RoutingRule,
    },
    /// The message belongs to an earlier round-1 attempt.
    #[error("message for attempt {got}, the session is at attempt {current}")]
    StaleAttempt {
        /// The session's attempt.
        current: u32,
        /// The message's attempt.
        got: u32,
    },
    /// The message comes early and the sender already has as many early messages held as
    /// it may.
    #[error("too many early messages held for this sender (limit {limit})")]
    TooManyHeld {
        /// [`Config::max_held_per_sender`](super::Config::max_held_per_sender).
        limit: usize,
    },
    /// The sender's sequence number was seen before, or is older than the replay window.
    #[error("sequence {sequence} was already seen (or is too old)")]
    Replay {
        /// The sequence number.
        sequence: Sequence,
    },
    /// The sender's sequence number jumps too far ahead.
    #[error("sequence {got} is more than {max_gap} past {highest}")]
    SequenceGap {
        /// The highest sequence number seen from the sender.
        highest: Sequence,
        /// The message's sequence number.
        got: Sequence,
        /// [`Config::max_sequence_gap`](super::Config::max_sequence_gap).
        max_gap: u64,
    },
    /// The envelope's signature is not the sender's.
    #[error("envelope signature does not verify")]
    BadSignature,
    /// A join for another key than the envelope's sender.
    #[error("join names another key than its sender")]
    JoinKeyMismatch,
    /// A session ready naming another coordinator than this node's election.
    #[error("coordinator {got} announced, election says {expected}")]
    CoordinatorMismatch {
        /// This node's elected coordinator index.
        expected: u16,
        /// The index in the message.
        got: u16,
    },
    /// The same content again under a new sequence number.
    #[error("duplicate {got}")]
    Duplicate {
        /// The message kind.
        got: PayloadKind,
    },
    /// The payload does not parse in the session's dialect, or the announced session
    /// cannot be set up.
    #[error("invalid {got}: {error}")]
    InvalidPayload {
        /// The message kind.
        got: PayloadKind,
        /// Why.
        error: CryptoError,
    },
    /// A final signature that does not verify under the aggregate key.
    #[error("final signature does not verify")]
    InvalidFinalSignature,
    /// Blame: a revealed nonce does not match the signer's commitment.
    #[error("signer {signer}'s nonce does not match its commitment")]
    NonceCommitmentMismatch {
        /// The blamed signer's index.
        signer: usize,
    },
    /// Blame: a partial signature that does not verify.
    #[error("signer {signer}'s partial signature does not verify")]
    InvalidPartialSignature {
        /// The blamed signer's index.
        signer: usize,
    },
    /// Blame: a second, different value of one kind for one attempt.
    #[error("signer {signer} sent two different {got} messages")]
    Equivocation {
        /// The blamed signer's index.
        signer: usize,
        /// The message kind.
        got: PayloadKind,
    },
    /// A discovery record (advertisement, withdrawal, signing request, join proof) was
    /// refused — or the sender is blacklisted or graylisted, which refuses its session
    /// messages too. The node's [`SecurityManager`](crate::security::SecurityManager)
    /// counts it by [`RejectionKind`](crate::security::RejectionKind).
    #[error("discovery: {0}")]
    Discovery(#[from] DiscoveryError),
}

/// The kind of a [`Rejection`], without its data: the key of the per-peer counters.
///
/// ```
/// use chorus_core::node::{Rejection, RejectionKind};
///
/// assert_eq!(Rejection::BadSignature.kind(), RejectionKind::BadSignature);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is the kind of the same-named Rejection variant
pub enum RejectionKind {
    Backpressure,
    Decode,
    ClockSkew,
    UnknownSession,
    SessionClosed,
    SessionExists,
    NotASigner,
    TooManySessions,
    TooManySessionsFromCreator,
    NotAParticipant,
    OwnMessage,
    WrongPhase,
    Misrouted,
    StaleAttempt,
    TooManyHeld,
    Replay,
    SequenceGap,
    BadSignature,
    JoinKeyMismatch,
    CoordinatorMismatch,
    Duplicate,
    InvalidPayload,
    InvalidFinalSignature,
    NonceCommitmentMismatch,
    InvalidPartialSignature,
    Equivocation,
    Discovery,
}

impl Rejection {
    /// The variant without its data.
    pub fn kind(&self) -> RejectionKind {
        match self {
            Rejection::Backpressure { .. } => RejectionKind::Backpressure,
            Rejection::Decode(_) => RejectionKind::Decode,
            Rejection::ClockSkew { .. } => RejectionKind::ClockSkew,
            Rejection::UnknownSession { .. } => RejectionKind::UnknownSession,
            Rejection::SessionClosed { .. } => RejectionKind::SessionClosed,
            Rejection::SessionExists { .. } => RejectionKind::SessionExists,
            Rejection::NotASigner { .. } => RejectionKind::NotASigner,
            Rejection::TooManySessions { .. } => RejectionKind::TooManySessions,
            Rejection::TooManySessionsFromCreator { .. } => {
                RejectionKind::TooManySessionsFromCreator
            }
            Rejection::NotAParticipant { .. } => RejectionKind::NotAParticipant,
            Rejection::OwnMessage => RejectionKind::OwnMessage,
            Rejection::WrongPhase { .. } => RejectionKind::WrongPhase,
            Rejection::Misrouted { .. } => RejectionKind::Misrouted,
            Rejection::StaleAttempt { .. } => RejectionKind::StaleAttempt,
            Rejection::TooManyHeld { .. } => RejectionKind::TooManyHeld,
            Rejection::Replay { .. } => RejectionKind::Replay,
            Rejection::SequenceGap { .. } => RejectionKind::SequenceGap,
            Rejection::BadSignature => RejectionKind::BadSignature,
            Rejection::JoinKeyMismatch => RejectionKind::JoinKeyMismatch,
            Rejection::CoordinatorMismatch { .. } => RejectionKind::CoordinatorMismatch,
            Rejection::Duplicate { .. } => RejectionKind::Duplicate,
            Rejection::InvalidPayload { .. } => RejectionKind::InvalidPayload,
            Rejection::InvalidFinalSignature => RejectionKind::InvalidFinalSignature,
            Rejection::NonceCommitmentMismatch { .. } => RejectionKind::NonceCommitmentMismatch,
            Rejection::InvalidPartialSignature { .. } => RejectionKind::InvalidPartialSignature,
            Rejection::Equivocation { .. } => RejectionKind::Equivocation,
            Rejection::Discovery(_) => RejectionKind::Discovery,
        }
    }

    /// Whether the rejection proves a participant misbehaved (and so aborted the session
    /// with [`AbortReason::Blame`]).
    ///
    /// ```
    /// use chorus_core::node::Rejection;
    ///
    /// assert!(Rejection::InvalidPartialSignature { signer: 1 }.is_blame());
    /// ```
    pub fn is_blame(&self) -> bool {
        matches!(
            self,
            Rejection::NonceCommitmentMismatch { .. }
                | Rejection::InvalidPartialSignature { .. }
                | Rejection::Equivocation { .. }
        )
    }
}

/// Why a command ([`Node::create_session`](super::Node::create_session) and the others)
/// failed; the node is unchanged.
///
/// ```
/// use chorus_core::node::CommandError;
/// use chorus_core::wire::SessionId;
///
/// let error = CommandError::UnknownSession { session: SessionId([0; 32]) };
/// assert!(error.to_string().starts_with("unknown session"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The driver has not drained the output queues.
    #[error("{queued} outputs wait to be polled (limit {limit})")]
    Backpressure {
        /// [`Config::max_queued_outputs`](super::Config::max_queued_outputs).
        limit: usize,
        /// Transmits and events waiting.
        queued: usize,
    },
    /// The signer list is empty, too long, or lists a key twice.
    #[error("invalid signer list: {0}")]
    InvalidSigners(DecodeError),
    /// The session options are refused (a broadcast timeout out of range).
    #[error("invalid session options: {0}")]
    InvalidOptions(DecodeError),
    /// The node's own key is not in the signer list.
    #[error("this node's key is not among the signers")]
    NotASigner,
    /// Key aggregation failed.
    #[error("cannot aggregate the keys: {0}")]
    Crypto(#[from] CryptoError),
    /// The election failed.
    #[error("cannot elect a coordinator: {0}")]
    Election(#[from] ElectionError),
    /// The node keeps as many sessions as it may.
    #[error("too many sessions (limit {limit})")]
    TooManySessions {
        /// [`Config::max_sessions`](super::Config::max_sessions).
        limit: usize,
    },
    /// No session with this id is known.
    #[error("unknown session {session}")]
    UnknownSession {
        /// The session id.
        session: SessionId,
    },
    /// The session's phase does not allow the command.
    #[error("not possible while the session is in {phase}")]
    WrongPhase {
        /// The session's phase.
        phase: PhaseKind,
    },
    /// The command was already carried out.
    #[error("already done")]
    AlreadyDone,
    /// A transaction id of the wrong length.
    #[error("transaction id of {got} bytes (expected 1 to {limit})")]
    TransactionIdLength {
        /// [`MAX_TRANSACTION_ID_LEN`](crate::wire::MAX_TRANSACTION_ID_LEN).
        limit: usize,
        /// The length given.
        got: usize,
    },
    /// A discovery command failed (advertise, withdraw, announce or join a request).
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
}

/// Why a session was aborted.
///
/// ```
/// use chorus_core::node::AbortReason;
/// use chorus_core::wire::AbortCode;
///
/// assert_eq!(AbortReason::Stuck.code(), AbortCode::Stuck);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AbortReason {
    /// A participant proved to misbehave; `evidence` lets anyone check the accusation
    /// ([`Evidence::verify`]).
    Blame {
        /// The blamed signer's index.
        signer: usize,
        /// The blamed signer's key.
        key: PublicKey,
        /// The signed envelopes that prove it.
        evidence: Box<Evidence>,
    },
    /// Another participant aborted the session.
    PeerAborted {
        /// The aborting signer's index.
        signer: usize,
        /// Its reason.
        code: AbortCode,
        /// The signer it blamed, if any (its accusation, not checked here).
        blamed_signer: Option<usize>,
    },
    /// No progress for [`Config::stuck_timeout`](super::Config::stuck_timeout).
    Stuck,
    /// Every signer in the priority list failed as aggregator.
    AggregatorsExhausted,
    /// The signing arithmetic refused (e.g. a Lotus aggregate nonce at infinity).
    SigningFailed(CryptoError),
    /// The random generator produced a public nonce this node had already sent; it refuses
    /// to send it again.
    NonceRepeated,
}

impl AbortReason {
    /// The code sent to the other participants in the session abort message.
    pub fn code(&self) -> AbortCode {
        match self {
            AbortReason::Blame { evidence, .. } => evidence.code(),
            AbortReason::PeerAborted { code, .. } => *code,
            AbortReason::Stuck => AbortCode::Stuck,
            AbortReason::AggregatorsExhausted => AbortCode::FailoverExhausted,
            AbortReason::SigningFailed(_) | AbortReason::NonceRepeated => {
                AbortCode::ProtocolViolation
            }
        }
    }
}
