//! A read-only look at one session.

use core::fmt;

use crate::crypto::{Dialect, PublicKey, Signature};
use crate::election::ElectionResult;
use crate::wire::{SessionId, Topology};

use super::error::AbortReason;
use super::session::{Broadcast, Phase, Session};

/// Where a session is (SPEC §3): `Init → NonceCommit (optional round 0) → NonceExchange →
/// PartialSigExchange → Complete`, and `Aborted` / `Expired` / `Closed` from anywhere.
///
/// ```
/// use chorus_core::node::PhaseKind;
///
/// assert!(PhaseKind::Closed.is_terminal());
/// assert!(!PhaseKind::Complete.is_terminal());
/// assert_eq!(PhaseKind::NonceExchange.to_string(), "nonce exchange");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PhaseKind {
    /// Signers are joining.
    Init,
    /// Round 0: nonce commitments.
    NonceCommit,
    /// Round 1: public nonces.
    NonceExchange,
    /// Round 2: partial signatures.
    PartialSigExchange,
    /// The final signature exists.
    Complete,
    /// Aborted.
    Aborted,
    /// Outlived its timeout.
    Expired,
    /// Closed by the application.
    Closed,
}

impl PhaseKind {
    /// Aborted, expired or closed.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            PhaseKind::Aborted | PhaseKind::Expired | PhaseKind::Closed
        )
    }
}

impl fmt::Display for PhaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PhaseKind::Init => "init",
            PhaseKind::NonceCommit => "nonce commit",
            PhaseKind::NonceExchange => "nonce exchange",
            PhaseKind::PartialSigExchange => "partial signature exchange",
            PhaseKind::Complete => "complete",
            PhaseKind::Aborted => "aborted",
            PhaseKind::Expired => "expired",
            PhaseKind::Closed => "closed",
        })
    }
}

/// A read-only view of one session, from [`Node::session`](super::Node::session).
///
/// Signer indices are positions in [`SessionView::signers`], the sorted signer list.
///
/// ```
/// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
/// use chorus_core::node::{Config, Node, PhaseKind, SessionSpec};
/// use chorus_core::time::Timestamp;
///
/// let now = Timestamp::from_millis(1_700_000_000_000);
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
/// let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([2; 32]).unwrap());
/// let mut node = Node::new(Config::default(), alice, [7; 32], now);
/// let spec = SessionSpec::new(vec![alice.public_key(), bob.public_key()], [9; 32], Dialect::Bip340);
/// let id = node.create_session(now, spec)?;
///
/// let view = node.session(&id).unwrap();
/// assert_eq!(view.phase(), PhaseKind::Init);
/// assert_eq!(view.signers().len(), 2);
/// assert_eq!(view.signers()[view.own_index()], alice.public_key());
/// assert_eq!(view.joined(), vec![view.own_index()]);
/// assert_eq!(view.final_signature(), None);
/// # Ok::<(), chorus_core::node::CommandError>(())
/// ```
#[derive(Clone, Copy)]
pub struct SessionView<'a> {
    session: &'a Session,
}

impl fmt::Debug for SessionView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionView")
            .field("id", &self.id())
            .field("phase", &self.phase())
            .field("attempt", &self.attempt())
            .finish_non_exhaustive()
    }
}

impl<'a> SessionView<'a> {
    pub(crate) fn new(session: &'a Session) -> Self {
        SessionView { session }
    }

    /// The session id.
    pub fn id(&self) -> SessionId {
        self.session.id
    }

    /// When the node created or first heard of the session.
    pub fn created_at(&self) -> crate::time::Timestamp {
        self.session.created_at
    }

    /// The phase.
    pub fn phase(&self) -> PhaseKind {
        self.session.phase.kind()
    }

    /// The signers' keys, sorted: the session's index space.
    pub fn signers(&self) -> &'a [PublicKey] {
        &self.session.keys
    }

    /// This node's index.
    pub fn own_index(&self) -> usize {
        self.session.me
    }

    /// The creator's index.
    pub fn creator_index(&self) -> usize {
        self.session.creator
    }

    /// The message being signed.
    pub fn message(&self) -> &'a [u8; 32] {
        &self.session.announce.message
    }

    /// The Schnorr dialect.
    pub fn dialect(&self) -> Dialect {
        self.session.announce.dialect
    }

    /// The topology.
    pub fn topology(&self) -> Topology {
        self.session.topology()
    }

    /// The aggregate key the final signature verifies under.
    pub fn aggregate_key(&self) -> PublicKey {
        self.session.ctx.aggregate_key()
    }

    /// The election result (coordinator, priority list, proof).
    pub fn election(&self) -> &'a ElectionResult {
        &self.session.election
    }

    /// The round-1 attempt, while the rounds run (0 unless an aggregator failed).
    pub fn attempt(&self) -> Option<u32> {
        self.session.phase.attempt()
    }

    /// The signers the creator has seen join (on the creator; elsewhere this node only,
    /// once it joined, or everyone once the session is ready).
    pub fn joined(&self) -> Vec<usize> {
        match &self.session.phase {
            Phase::Init(joining) if self.session.me == self.session.creator => {
                joining.joined.iter().copied().collect()
            }
            Phase::Init(joining) if joining.self_joined => vec![self.session.me],
            Phase::Init(_) => Vec::new(),
            _ => (0..self.session.keys.len()).collect(),
        }
    }

    /// The signers whose round-0 commitment this node holds, in the current attempt.
    pub fn commitments_received(&self) -> Vec<usize> {
        match &self.session.phase {
            Phase::NonceCommit(round) => round.commitments.keys().copied().collect(),
            Phase::NonceExchange(round) => round.commitments.keys().copied().collect(),
            _ => Vec::new(),
        }
    }

    /// The signers whose public nonce this node holds, in the current attempt.
    pub fn nonces_received(&self) -> Vec<usize> {
        match &self.session.phase {
            Phase::NonceExchange(round) => round.nonces.keys().copied().collect(),
            Phase::PartialSigExchange(round) => round.nonces.keys().copied().collect(),
            _ => Vec::new(),
        }
    }

    /// The signers whose partial signature this node holds, in the current attempt.
    pub fn partial_signatures_received(&self) -> Vec<usize> {
        match &self.session.phase {
            Phase::PartialSigExchange(round) => round.partials.keys().copied().collect(),
            _ => Vec::new(),
        }
    }

    /// The final signature, once the session is complete.
    pub fn final_signature(&self) -> Option<Signature> {
        match &self.session.phase {
            Phase::Complete(done) => Some(done.signature),
            _ => None,
        }
    }

    /// Which position of the priority list the broadcast failover waits on.
    pub fn broadcast_attempt(&self) -> Option<u32> {
        match &self.session.phase {
            Phase::Complete(done) => match done.broadcast {
                Broadcast::Waiting { attempt } => Some(attempt),
                _ => None,
            },
            _ => None,
        }
    }

    /// The transaction id of the confirmed broadcast.
    pub fn confirmed_transaction(&self) -> Option<&'a [u8]> {
        match &self.session.phase {
            Phase::Complete(done) => match &done.broadcast {
                Broadcast::Confirmed { transaction_id, .. } => Some(transaction_id),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether every coordinator failed to confirm a broadcast.
    pub fn failover_exhausted(&self) -> bool {
        matches!(&self.session.phase, Phase::Complete(done) if done.broadcast == Broadcast::Exhausted)
    }

    /// Why the session was aborted.
    pub fn abort_reason(&self) -> Option<&'a AbortReason> {
        match &self.session.phase {
            Phase::Aborted(reason) => Some(reason),
            _ => None,
        }
    }

    /// How many early messages wait for their round.
    pub fn held_messages(&self) -> usize {
        self.session.held.len()
    }
}
