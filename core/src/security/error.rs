//! Why the security manager refused a peer ([`SecurityError`]) and the kinds of rejection it
//! counts ([`RejectionKind`]).

use core::fmt;

use crate::node::PeerId;
use crate::time::Timestamp;

/// Why the security manager refused a peer's input or a quota.
///
/// ```
/// use chorus_core::node::PeerId;
/// use chorus_core::security::{RejectionKind, SecurityError};
///
/// let error = SecurityError::Blacklisted { peer: PeerId::new([7]) };
/// assert_eq!(error.kind(), RejectionKind::Blacklisted);
/// assert_eq!(error.to_string(), "peer 07 is blacklisted");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityError {
    /// The peer is blacklisted: everything it sends is ignored.
    #[error("peer {peer} is blacklisted")]
    Blacklisted {
        /// The peer.
        peer: PeerId,
    },
    /// The peer is graylisted until `until`: everything it sends is ignored until then.
    #[error("peer {peer} is graylisted until {until}")]
    Graylisted {
        /// The peer.
        peer: PeerId,
        /// When the graylisting ends.
        until: Timestamp,
    },
    /// The peer advertised less than the advertisement interval ago.
    #[error("advertisement rate limit: next one allowed at {retry_at}")]
    RateLimited {
        /// The earliest time the peer may advertise again.
        retry_at: Timestamp,
    },
    /// The peer already advertised as many distinct keys as it may.
    #[error("peer already advertised {limit} keys")]
    TooManyKeys {
        /// [`SecurityLimits::max_keys_per_peer`](super::SecurityLimits::max_keys_per_peer).
        limit: usize,
    },
    /// The peer already has as many pending signing requests as it may.
    #[error("peer already has {limit} pending signing requests")]
    PendingQuota {
        /// [`SecurityLimits::max_pending_requests_per_peer`](super::SecurityLimits::max_pending_requests_per_peer).
        limit: usize,
    },
    /// The peer already has as many open sessions as it may.
    #[error("peer already has {limit} open sessions")]
    SessionQuota {
        /// [`SecurityLimits::max_sessions_per_peer`](super::SecurityLimits::max_sessions_per_peer).
        limit: usize,
    },
    /// As many sessions are open as the node allows.
    #[error("{limit} sessions are open already")]
    TooManySessions {
        /// [`SecurityLimits::max_sessions`](super::SecurityLimits::max_sessions).
        limit: usize,
    },
}

impl SecurityError {
    /// The counter this rejection is counted under.
    pub fn kind(&self) -> RejectionKind {
        match self {
            SecurityError::Blacklisted { .. } => RejectionKind::Blacklisted,
            SecurityError::Graylisted { .. } => RejectionKind::Graylisted,
            SecurityError::RateLimited { .. } => RejectionKind::RateLimited,
            SecurityError::TooManyKeys { .. } => RejectionKind::TooManyKeys,
            SecurityError::PendingQuota { .. } => RejectionKind::PendingQuota,
            SecurityError::SessionQuota { .. } => RejectionKind::SessionQuota,
            SecurityError::TooManySessions { .. } => RejectionKind::TooManySessions,
        }
    }
}

/// Every reason discovery input is refused, as a counter name.
///
/// Three families: signature failures ([`RejectionKind::is_invalid_signature`]) count
/// towards blacklisting; protocol violations ([`RejectionKind::is_violation`]) count
/// towards graylisting; the rest (expired, unknown or duplicate records, input from peers
/// already listed) can happen to honest peers on a slow or duplicating network and only
/// count.
///
/// ```
/// use chorus_core::security::RejectionKind;
///
/// assert!(RejectionKind::ForgedAdvertisement.is_invalid_signature());
/// assert!(RejectionKind::RateLimited.is_violation());
/// assert!(!RejectionKind::Expired.is_violation());
/// assert_eq!(RejectionKind::JoinReplayed.to_string(), "join-replayed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// Input from a blacklisted peer.
    Blacklisted,
    /// Input from a graylisted peer.
    Graylisted,
    /// An advertisement within the advertisement interval.
    RateLimited,
    /// An advertisement for one key more than a peer may have.
    TooManyKeys,
    /// A signing request past the peer's pending quota.
    PendingQuota,
    /// A session past the peer's session quota.
    SessionQuota,
    /// A session past the node's session limit.
    TooManySessions,
    /// An advertisement whose signature is not its key's.
    ForgedAdvertisement,
    /// A withdrawal whose signature is not the advertised key's.
    ForgedWithdrawal,
    /// A signing request whose signature is not its creator's.
    ForgedRequest,
    /// A join proof whose signature is not the joining key's.
    ForgedJoin,
    /// A session envelope whose signature is not its sender's (counted by the node).
    ForgedEnvelope,
    /// A message larger than its channel allows.
    Oversized,
    /// Bytes that are not a discovery message in its one canonical encoding.
    Malformed,
    /// A key that is not a point on the curve.
    InvalidKey,
    /// A field outside its bounds (too long, too many items, bad range or characters).
    OutOfBounds,
    /// A signing request that lists a key twice.
    DuplicateKeys,
    /// A signing request whose creator is not one of its required keys.
    CreatorNotRequired,
    /// A record that names another peer than the one that delivered it.
    PeerMismatch,
    /// A record created too far in the future.
    FromTheFuture,
    /// A record past its expiry.
    Expired,
    /// An advertisement no newer than the one already held (or withdrawn).
    StaleAdvertisement,
    /// A withdrawal of an advertisement that is not held.
    UnknownAdvertisement,
    /// A signing request that is already held.
    DuplicateRequest,
    /// A join for a signing request that is not held.
    UnknownRequest,
    /// A join by a key the signing request does not require.
    NotRequired,
    /// A join by a key that already joined.
    JoinReplayed,
    /// Input refused because the node's output queues are full (not the peer's fault).
    Backpressure,
}

impl RejectionKind {
    /// Every kind, in declaration order.
    pub const ALL: [RejectionKind; 28] = [
        RejectionKind::Blacklisted,
        RejectionKind::Graylisted,
        RejectionKind::RateLimited,
        RejectionKind::TooManyKeys,
        RejectionKind::PendingQuota,
        RejectionKind::SessionQuota,
        RejectionKind::TooManySessions,
        RejectionKind::ForgedAdvertisement,
        RejectionKind::ForgedWithdrawal,
        RejectionKind::ForgedRequest,
        RejectionKind::ForgedJoin,
        RejectionKind::ForgedEnvelope,
        RejectionKind::Oversized,
        RejectionKind::Malformed,
        RejectionKind::InvalidKey,
        RejectionKind::OutOfBounds,
        RejectionKind::DuplicateKeys,
        RejectionKind::CreatorNotRequired,
        RejectionKind::PeerMismatch,
        RejectionKind::FromTheFuture,
        RejectionKind::Expired,
        RejectionKind::StaleAdvertisement,
        RejectionKind::UnknownAdvertisement,
        RejectionKind::DuplicateRequest,
        RejectionKind::UnknownRequest,
        RejectionKind::NotRequired,
        RejectionKind::JoinReplayed,
        RejectionKind::Backpressure,
    ];

    /// Whether the input carried a signature that does not verify (counts towards the
    /// blacklist).
    pub const fn is_invalid_signature(self) -> bool {
        matches!(
            self,
            RejectionKind::ForgedAdvertisement
                | RejectionKind::ForgedWithdrawal
                | RejectionKind::ForgedRequest
                | RejectionKind::ForgedJoin
                | RejectionKind::ForgedEnvelope
        )
    }

    /// Whether no honest peer sends such input (counts towards the graylist).
    ///
    /// Expiry, duplicates, unknown records and replays are not violations: a slow or
    /// duplicating network produces them from honest peers.
    pub const fn is_violation(self) -> bool {
        matches!(
            self,
            RejectionKind::RateLimited
                | RejectionKind::TooManyKeys
                | RejectionKind::PendingQuota
                | RejectionKind::SessionQuota
                | RejectionKind::Oversized
                | RejectionKind::Malformed
                | RejectionKind::InvalidKey
                | RejectionKind::OutOfBounds
                | RejectionKind::DuplicateKeys
                | RejectionKind::CreatorNotRequired
                | RejectionKind::PeerMismatch
                | RejectionKind::FromTheFuture
                | RejectionKind::NotRequired
        )
    }

    /// The kebab-case counter name.
    pub const fn name(self) -> &'static str {
        match self {
            RejectionKind::Blacklisted => "blacklisted",
            RejectionKind::Graylisted => "graylisted",
            RejectionKind::RateLimited => "rate-limited",
            RejectionKind::TooManyKeys => "too-many-keys",
            RejectionKind::PendingQuota => "pending-quota",
            RejectionKind::SessionQuota => "session-quota",
            RejectionKind::TooManySessions => "too-many-sessions",
            RejectionKind::ForgedAdvertisement => "forged-advertisement",
            RejectionKind::ForgedWithdrawal => "forged-withdrawal",
            RejectionKind::ForgedRequest => "forged-request",
            RejectionKind::ForgedJoin => "forged-join",
            RejectionKind::ForgedEnvelope => "forged-envelope",
            RejectionKind::Oversized => "oversized",
            RejectionKind::Malformed => "malformed",
            RejectionKind::InvalidKey => "invalid-key",
            RejectionKind::OutOfBounds => "out-of-bounds",
            RejectionKind::DuplicateKeys => "duplicate-keys",
            RejectionKind::CreatorNotRequired => "creator-not-required",
            RejectionKind::PeerMismatch => "peer-mismatch",
            RejectionKind::FromTheFuture => "from-the-future",
            RejectionKind::Expired => "expired",
            RejectionKind::StaleAdvertisement => "stale-advertisement",
            RejectionKind::UnknownAdvertisement => "unknown-advertisement",
            RejectionKind::DuplicateRequest => "duplicate-request",
            RejectionKind::UnknownRequest => "unknown-request",
            RejectionKind::NotRequired => "not-required",
            RejectionKind::JoinReplayed => "join-replayed",
            RejectionKind::Backpressure => "backpressure",
        }
    }
}

impl fmt::Display for RejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_families_disjoint() {
        let names: std::collections::BTreeSet<_> =
            RejectionKind::ALL.iter().map(|kind| kind.name()).collect();
        assert_eq!(names.len(), RejectionKind::ALL.len());
        for kind in RejectionKind::ALL {
            assert!(
                !(kind.is_violation() && kind.is_invalid_signature()),
                "{kind}"
            );
        }
    }
}
