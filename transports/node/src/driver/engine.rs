//! The state a driver's commands act on: the node, its clock and its address book.

use chorus_core::crypto::PublicKey;
use chorus_core::node::{AbortReason, Node, PhaseKind, SessionView};
use chorus_core::time::Timestamp;
use chorus_core::wire::{SessionId, Topology};
use chorus_core::{crypto::Dialect, crypto::Signature, election::ElectionResult};

use super::address_book::AddressBook;
use super::clock::Clock;

/// What a driver did since it started.
///
/// ```
/// use chorus_node::driver::DriverStats;
///
/// let stats = DriverStats::default();
/// assert_eq!(stats.unroutable_transmits, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DriverStats {
    /// Messages the transport delivered to the node.
    pub messages_received: u64,
    /// Of those, the ones the node refused.
    pub messages_rejected: u64,
    /// Session messages handed to the transport.
    pub transmits_sent: u64,
    /// Session messages dropped because no peer was known for the recipient's key.
    pub unroutable_transmits: u64,
    /// Discovery records handed to the transport.
    pub records_sent: u64,
    /// Items the transport reported as undeliverable.
    pub undeliverable: u64,
    /// Timer expiries handed to the node.
    pub timeouts: u64,
    /// Commands carried out.
    pub commands: u64,
    /// Discovery messages that came before their signing request and were held for it.
    pub early_messages_held: u64,
    /// Of those, the ones offered to the node again once the request was known.
    pub early_messages_replayed: u64,
}

/// A snapshot of one session, owned, so it can leave the driver.
///
/// ```
/// use chorus_core::node::PhaseKind;
/// use chorus_node::driver::SessionStatus;
///
/// fn is_signed(status: &SessionStatus) -> bool {
///     status.final_signature.is_some() && status.phase == PhaseKind::Complete
/// }
/// # let _ = is_signed;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionStatus {
    /// The session.
    pub session: SessionId,
    /// Its phase.
    pub phase: PhaseKind,
    /// The signers, sorted (the session's one index space).
    pub signers: Vec<PublicKey>,
    /// This node's index.
    pub own_index: usize,
    /// The creator's index.
    pub creator_index: usize,
    /// The Schnorr dialect.
    pub dialect: Dialect,
    /// How round messages travel.
    pub topology: Topology,
    /// The aggregate key.
    pub aggregate_key: PublicKey,
    /// The election's result: coordinator, priority list and proof.
    pub election: ElectionResult,
    /// The round-1 attempt under way, if the rounds started.
    pub attempt: Option<u32>,
    /// The indices of the signers that joined.
    pub joined: Vec<usize>,
    /// The indices of the signers whose nonce arrived.
    pub nonces_received: Vec<usize>,
    /// The indices of the signers whose partial signature arrived.
    pub partial_signatures_received: Vec<usize>,
    /// The final signature, once it exists.
    pub final_signature: Option<Signature>,
    /// The failover attempt under way (0 = the elected coordinator), once signed.
    pub broadcast_attempt: Option<u32>,
    /// The transaction id a signer confirmed, once one did.
    pub confirmed_transaction: Option<Vec<u8>>,
    /// Whether every coordinator in the priority list failed to confirm a broadcast.
    pub failover_exhausted: bool,
    /// Why the session was aborted, if it was.
    pub abort_reason: Option<AbortReason>,
}

impl SessionStatus {
    pub(crate) fn of(view: &SessionView<'_>) -> Self {
        SessionStatus {
            session: view.id(),
            phase: view.phase(),
            signers: view.signers().to_vec(),
            own_index: view.own_index(),
            creator_index: view.creator_index(),
            dialect: view.dialect(),
            topology: view.topology(),
            aggregate_key: view.aggregate_key(),
            election: view.election().clone(),
            attempt: view.attempt(),
            joined: view.joined(),
            nonces_received: view.nonces_received(),
            partial_signatures_received: view.partial_signatures_received(),
            final_signature: view.final_signature(),
            broadcast_attempt: view.broadcast_attempt(),
            confirmed_transaction: view.confirmed_transaction().map(<[u8]>::to_vec),
            failover_exhausted: view.failover_exhausted(),
            abort_reason: view.abort_reason().cloned(),
        }
    }
}

/// The node and what the driver keeps beside it; commands run against it.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) node: Node,
    pub(crate) clock: Clock,
    pub(crate) book: AddressBook,
    pub(crate) stats: DriverStats,
}

impl Engine {
    /// The current time for the node.
    pub(crate) fn now(&mut self) -> Timestamp {
        self.clock.now()
    }
}
