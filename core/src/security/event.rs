//! What the security manager reports, and its counters.

use std::collections::BTreeMap;

use crate::node::PeerId;
use crate::time::Timestamp;

use super::RejectionKind;

/// Why a peer was blacklisted.
///
/// ```
/// use chorus_core::security::BlacklistReason;
///
/// assert_eq!(BlacklistReason::InvalidSignatures { count: 10 }.to_string(), "10 invalid signatures");
/// assert_eq!(BlacklistReason::Manual.to_string(), "blacklisted by hand");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum BlacklistReason {
    /// The peer sent this many records whose signatures did not verify.
    #[error("{count} invalid signatures")]
    InvalidSignatures {
        /// How many.
        count: u32,
    },
    /// The application blacklisted the peer.
    #[error("blacklisted by hand")]
    Manual,
}

/// A change in a peer's standing, for the application (and the transport, which may want
/// to disconnect the peer).
///
/// ```
/// use chorus_core::node::PeerId;
/// use chorus_core::security::{BlacklistReason, SecurityEvent};
///
/// let event = SecurityEvent::PeerBlacklisted { peer: PeerId::new([1]), reason: BlacklistReason::Manual };
/// assert_eq!(event.peer(), &PeerId::new([1]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityEvent {
    /// The peer is blacklisted: its input is ignored until it is unblacklisted by hand.
    PeerBlacklisted {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: BlacklistReason,
    },
    /// The peer was taken off the blacklist by hand.
    PeerUnblacklisted {
        /// The peer.
        peer: PeerId,
    },
    /// The peer is graylisted: its input is ignored until `until`.
    PeerGraylisted {
        /// The peer.
        peer: PeerId,
        /// When the graylisting ends.
        until: Timestamp,
    },
}

impl SecurityEvent {
    /// The peer the event is about.
    pub fn peer(&self) -> &PeerId {
        match self {
            SecurityEvent::PeerBlacklisted { peer, .. }
            | SecurityEvent::PeerUnblacklisted { peer }
            | SecurityEvent::PeerGraylisted { peer, .. } => peer,
        }
    }
}

/// The security manager's counters: every rejection by kind, and the listings.
///
/// ```
/// use chorus_core::node::PeerId;
/// use chorus_core::security::{RejectionKind, SecurityLimits, SecurityManager};
/// use chorus_core::time::Timestamp;
///
/// let mut security = SecurityManager::new(SecurityLimits::default());
/// security.record_rejection(Timestamp::from_millis(0), &PeerId::new([1]), RejectionKind::Expired);
/// assert_eq!(security.metrics().rejections(RejectionKind::Expired), 1);
/// assert_eq!(security.metrics().total_rejections(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityMetrics {
    rejections: BTreeMap<RejectionKind, u64>,
    total_rejections: u64,
    accepted: u64,
    blacklistings: u64,
    graylistings: u64,
    dropped_events: u64,
}

impl SecurityMetrics {
    /// Rejections of one kind.
    pub fn rejections(&self, kind: RejectionKind) -> u64 {
        self.rejections.get(&kind).copied().unwrap_or(0)
    }

    /// Rejections of every kind.
    pub fn total_rejections(&self) -> u64 {
        self.total_rejections
    }

    /// Every kind with a non-zero count, in [`RejectionKind`] order.
    pub fn iter(&self) -> impl Iterator<Item = (RejectionKind, u64)> + '_ {
        self.rejections.iter().map(|(kind, count)| (*kind, *count))
    }

    /// Inputs accepted.
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// How many times a peer was blacklisted (automatically or by hand).
    pub fn blacklistings(&self) -> u64 {
        self.blacklistings
    }

    /// How many times a peer was graylisted.
    pub fn graylistings(&self) -> u64 {
        self.graylistings
    }

    /// Events dropped because nobody polled them in time.
    pub fn dropped_events(&self) -> u64 {
        self.dropped_events
    }

    pub(super) fn count_rejection(&mut self, kind: RejectionKind) {
        let count = self.rejections.entry(kind).or_insert(0);
        *count = count.saturating_add(1);
        self.total_rejections = self.total_rejections.saturating_add(1);
    }

    pub(super) fn count_accepted(&mut self) {
        self.accepted = self.accepted.saturating_add(1);
    }

    pub(super) fn count_blacklisting(&mut self) {
        self.blacklistings = self.blacklistings.saturating_add(1);
    }

    pub(super) fn count_graylisting(&mut self) {
        self.graylistings = self.graylistings.saturating_add(1);
    }

    pub(super) fn count_dropped_event(&mut self) {
        self.dropped_events = self.dropped_events.saturating_add(1);
    }
}
