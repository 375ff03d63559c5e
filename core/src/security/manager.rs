//! The security manager: per-peer records, listings, reputation, rate limits and quotas.

use std::collections::{BTreeMap, VecDeque};

use crate::crypto::PublicKey;
use crate::node::PeerId;
use crate::time::Timestamp;

use super::{
    BlacklistReason, RejectionKind, SecurityError, SecurityEvent, SecurityLimits, SecurityMetrics,
};

/// The best reputation score.
pub const MAX_REPUTATION: u8 = 100;

/// Reputation gained per accepted input.
const ACCEPTED_GAIN: u8 = 1;
/// Reputation lost per protocol violation.
const VIOLATION_PENALTY: u8 = 2;
/// Reputation lost per invalid signature.
const INVALID_SIGNATURE_PENALTY: u8 = 5;

/// A full peer table forgets this fraction of itself (at least one record) to make room.
const EVICTION_BATCH_DIVISOR: usize = 8;

/// What the manager remembers about one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PeerRecord {
    reputation: u8,
    invalid_signatures: u32,
    violations: u32,
    graylisted_until: Option<Timestamp>,
    blacklisted: Option<BlacklistReason>,
    last_advertisement: Option<Timestamp>,
    /// Compressed keys the peer advertised, sorted.
    keys: Vec<[u8; 33]>,
    sessions: usize,
    last_seen: Timestamp,
}

impl PeerRecord {
    fn new(reputation: u8, now: Timestamp) -> Self {
        PeerRecord {
            reputation: reputation.min(MAX_REPUTATION),
            invalid_signatures: 0,
            violations: 0,
            graylisted_until: None,
            blacklisted: None,
            last_advertisement: None,
            keys: Vec::new(),
            sessions: 0,
            last_seen: now,
        }
    }

    fn is_graylisted(&self, now: Timestamp) -> bool {
        self.graylisted_until.is_some_and(|until| until > now)
    }

    /// Lower sorts first and is forgotten first: clean, idle, long-unseen peers.
    fn eviction_rank(&self, now: Timestamp) -> (bool, bool, bool, u32, Timestamp) {
        (
            self.blacklisted.is_some(),
            self.is_graylisted(now),
            self.sessions > 0,
            self.invalid_signatures.saturating_add(self.violations),
            self.last_seen,
        )
    }
}

/// A snapshot of one peer's standing.
///
/// ```
/// use chorus_core::node::PeerId;
/// use chorus_core::security::{RejectionKind, SecurityLimits, SecurityManager};
/// use chorus_core::time::Timestamp;
///
/// let mut security = SecurityManager::new(SecurityLimits::default());
/// let peer = PeerId::new([1]);
/// security.record_rejection(Timestamp::from_millis(0), &peer, RejectionKind::ForgedJoin);
/// let standing = security.standing(&peer).unwrap();
/// assert_eq!(standing.invalid_signatures, 1);
/// assert!(standing.reputation < SecurityLimits::default().initial_reputation);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStanding {
    /// The reputation score, 0 to [`MAX_REPUTATION`].
    pub reputation: u8,
    /// Invalid signatures counted (reset when the peer is unblacklisted).
    pub invalid_signatures: u32,
    /// Violations counted since the last graylisting.
    pub violations: u32,
    /// When the current or last graylisting ends.
    pub graylisted_until: Option<Timestamp>,
    /// Why the peer is blacklisted, if it is.
    pub blacklisted: Option<BlacklistReason>,
    /// How many distinct keys the peer advertised.
    pub keys: usize,
    /// How many sessions the peer has open.
    pub sessions: usize,
}

/// Guards a node against abusive peers: blacklist and graylist, reputation, the
/// advertisement rate limit, the keys-per-peer limit and session quotas, with a counter for
/// every kind of rejection.
///
/// Sans-IO like the rest of the core: time is an argument, events wait in a bounded queue
/// for [`SecurityManager::poll_event`], and every map is bounded by [`SecurityLimits`].
///
/// A peer's standing has two tracks. Invalid signatures count towards the blacklist
/// ([`SecurityLimits::max_invalid_signatures`]), which only a manual
/// [`SecurityManager::unblacklist`] lifts. Other violations count towards the graylist
/// ([`SecurityLimits::max_violations`]), which lifts by itself after
/// [`SecurityLimits::graylist_duration`]. The reputation score (0 to 100) sums both, and
/// accepted input raises it.
///
/// ```
/// use chorus_core::node::PeerId;
/// use chorus_core::security::{RejectionKind, SecurityEvent, SecurityLimits, SecurityManager};
/// use chorus_core::time::Timestamp;
///
/// let mut security = SecurityManager::new(SecurityLimits::default());
/// let mallory = PeerId::new(*b"mallory");
/// let now = Timestamp::from_millis(1_000);
/// for _ in 0..10 {
///     assert!(security.check_peer(now, &mallory).is_ok());
///     security.record_rejection(now, &mallory, RejectionKind::ForgedAdvertisement);
/// }
/// assert!(security.is_blacklisted(&mallory));
/// assert!(matches!(security.poll_event(), Some(SecurityEvent::PeerBlacklisted { .. })));
/// assert!(security.check_peer(now, &mallory).is_err());
///
/// assert!(security.unblacklist(&mallory));
/// assert!(security.check_peer(now, &mallory).is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct SecurityManager {
    limits: SecurityLimits,
    peers: BTreeMap<PeerId, PeerRecord>,
    open_sessions: usize,
    metrics: SecurityMetrics,
    events: VecDeque<SecurityEvent>,
}

impl SecurityManager {
    /// A manager with no history.
    pub fn new(limits: SecurityLimits) -> Self {
        SecurityManager {
            limits,
            peers: BTreeMap::new(),
            open_sessions: 0,
            metrics: SecurityMetrics::default(),
            events: VecDeque::new(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &SecurityLimits {
        &self.limits
    }

    /// The counters.
    pub fn metrics(&self) -> &SecurityMetrics {
        &self.metrics
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<SecurityEvent> {
        self.events.pop_front()
    }

    /// Whether `peer`'s input may be looked at at all.
    ///
    /// # Errors
    ///
    /// [`SecurityError::Blacklisted`] or [`SecurityError::Graylisted`].
    pub fn check_peer(&self, now: Timestamp, peer: &PeerId) -> Result<(), SecurityError> {
        let Some(record) = self.peers.get(peer) else {
            return Ok(());
        };
        if record.blacklisted.is_some() {
            return Err(SecurityError::Blacklisted { peer: peer.clone() });
        }
        match record.graylisted_until {
            Some(until) if until > now => Err(SecurityError::Graylisted {
                peer: peer.clone(),
                until,
            }),
            _ => Ok(()),
        }
    }

    /// Whether `peer` may advertise `key` now: the advertisement interval has passed since
    /// its last advertisement, and `key` is one it advertised before or it has room for
    /// another.
    ///
    /// # Errors
    ///
    /// [`SecurityError::RateLimited`] or [`SecurityError::TooManyKeys`].
    pub fn check_advertisement(
        &self,
        now: Timestamp,
        peer: &PeerId,
        key: &PublicKey,
    ) -> Result<(), SecurityError> {
        let Some(record) = self.peers.get(peer) else {
            return Ok(());
        };
        if let Some(last) = record.last_advertisement {
            let retry_at = last.saturating_add(self.limits.advertisement_interval);
            if now < retry_at {
                return Err(SecurityError::RateLimited { retry_at });
            }
        }
        let known = record.keys.binary_search(&key.serialize()).is_ok();
        if !known && record.keys.len() >= self.limits.max_keys_per_peer {
            return Err(SecurityError::TooManyKeys {
                limit: self.limits.max_keys_per_peer,
            });
        }
        Ok(())
    }

    /// Records an accepted advertisement of `key` by `peer` (starting its interval, and
    /// counting the key against its limit).
    pub fn record_advertisement(&mut self, now: Timestamp, peer: &PeerId, key: &PublicKey) {
        let limit = self.limits.max_keys_per_peer;
        let record = self.record_mut(now, peer);
        record.last_advertisement = Some(now);
        let key = key.serialize();
        if let Err(position) = record.keys.binary_search(&key) {
            if record.keys.len() < limit {
                record.keys.insert(position, key);
            }
        }
        self.record_accepted(now, peer);
    }

    /// Records accepted input from `peer`, which raises its reputation.
    pub fn record_accepted(&mut self, now: Timestamp, peer: &PeerId) {
        let record = self.record_mut(now, peer);
        record.reputation = record
            .reputation
            .saturating_add(ACCEPTED_GAIN)
            .min(MAX_REPUTATION);
        self.metrics.count_accepted();
    }

    /// Counts a rejection of `peer`'s input and applies its consequence: an invalid
    /// signature counts towards the blacklist, a violation towards the graylist (see
    /// [`RejectionKind`]); either lowers the reputation.
    pub fn record_rejection(&mut self, now: Timestamp, peer: &PeerId, kind: RejectionKind) {
        self.metrics.count_rejection(kind);
        if kind.is_invalid_signature() {
            self.strike_invalid_signature(now, peer);
        } else if kind.is_violation() {
            self.strike_violation(now, peer);
        }
    }

    fn strike_invalid_signature(&mut self, now: Timestamp, peer: &PeerId) {
        let threshold = self.limits.max_invalid_signatures;
        let record = self.record_mut(now, peer);
        record.invalid_signatures = record.invalid_signatures.saturating_add(1);
        record.reputation = record.reputation.saturating_sub(INVALID_SIGNATURE_PENALTY);
        let count = record.invalid_signatures;
        if count >= threshold && record.blacklisted.is_none() {
            self.set_blacklisted(peer, BlacklistReason::InvalidSignatures { count });
        }
    }

    fn strike_violation(&mut self, now: Timestamp, peer: &PeerId) {
        let threshold = self.limits.max_violations;
        let record = self.record_mut(now, peer);
        record.violations = record.violations.saturating_add(1);
        record.reputation = record.reputation.saturating_sub(VIOLATION_PENALTY);
        if record.violations >= threshold && !record.is_graylisted(now) {
            let duration = self.limits.graylist_duration;
            self.graylist(now, peer, duration);
        }
    }

    /// Blacklists `peer` by hand: its input is ignored until [`SecurityManager::unblacklist`].
    pub fn blacklist(&mut self, now: Timestamp, peer: &PeerId) {
        self.record_mut(now, peer);
        self.set_blacklisted(peer, BlacklistReason::Manual);
    }

    fn set_blacklisted(&mut self, peer: &PeerId, reason: BlacklistReason) {
        if let Some(record) = self.peers.get_mut(peer) {
            record.blacklisted = Some(reason);
            self.metrics.count_blacklisting();
            self.push_event(SecurityEvent::PeerBlacklisted {
                peer: peer.clone(),
                reason,
            });
        }
    }

    /// Takes `peer` off the blacklist and forgives its invalid signatures; false if it was
    /// not blacklisted.
    pub fn unblacklist(&mut self, peer: &PeerId) -> bool {
        let Some(record) = self.peers.get_mut(peer) else {
            return false;
        };
        if record.blacklisted.take().is_none() {
            return false;
        }
        record.invalid_signatures = 0;
        self.push_event(SecurityEvent::PeerUnblacklisted { peer: peer.clone() });
        true
    }

    /// Graylists `peer` for `duration` from `now` (extending a graylisting that ends
    /// sooner) and forgives the violations counted so far.
    pub fn graylist(&mut self, now: Timestamp, peer: &PeerId, duration: core::time::Duration) {
        let record = self.record_mut(now, peer);
        let until = now.saturating_add(duration);
        record.graylisted_until = Some(record.graylisted_until.map_or(until, |old| old.max(until)));
        record.violations = 0;
        let until = record.graylisted_until.unwrap_or(until);
        self.metrics.count_graylisting();
        self.push_event(SecurityEvent::PeerGraylisted {
            peer: peer.clone(),
            until,
        });
    }

    /// Whether `peer` is blacklisted.
    pub fn is_blacklisted(&self, peer: &PeerId) -> bool {
        self.peers
            .get(peer)
            .is_some_and(|record| record.blacklisted.is_some())
    }

    /// When `peer`'s graylisting ends, if it is graylisted at `now`.
    pub fn graylisted_until(&self, now: Timestamp, peer: &PeerId) -> Option<Timestamp> {
        self.peers
            .get(peer)
            .filter(|record| record.is_graylisted(now))
            .and_then(|record| record.graylisted_until)
    }

    /// `peer`'s reputation score (the initial score for a peer never seen).
    pub fn reputation(&self, peer: &PeerId) -> u8 {
        self.peers.get(peer).map_or(
            self.limits.initial_reputation.min(MAX_REPUTATION),
            |record| record.reputation,
        )
    }

    /// A snapshot of `peer`'s record, if the manager keeps one.
    pub fn standing(&self, peer: &PeerId) -> Option<PeerStanding> {
        self.peers.get(peer).map(|record| PeerStanding {
            reputation: record.reputation,
            invalid_signatures: record.invalid_signatures,
            violations: record.violations,
            graylisted_until: record.graylisted_until,
            blacklisted: record.blacklisted,
            keys: record.keys.len(),
            sessions: record.sessions,
        })
    }

    /// Every blacklisted peer, in order.
    pub fn blacklisted_peers(&self) -> impl Iterator<Item = &PeerId> + '_ {
        self.peers
            .iter()
            .filter(|(_, record)| record.blacklisted.is_some())
            .map(|(peer, _)| peer)
    }

    /// How many peers the manager keeps records for.
    pub fn tracked_peers(&self) -> usize {
        self.peers.len()
    }

    /// Opens a session charged to `peer`, within the per-peer and total session quotas.
    ///
    /// # Errors
    ///
    /// [`SecurityError::TooManySessions`] or [`SecurityError::SessionQuota`]; nothing is
    /// charged then.
    pub fn admit_session(&mut self, now: Timestamp, peer: &PeerId) -> Result<(), SecurityError> {
        if self.open_sessions >= self.limits.max_sessions {
            return Err(SecurityError::TooManySessions {
                limit: self.limits.max_sessions,
            });
        }
        let limit = self.limits.max_sessions_per_peer;
        let record = self.record_mut(now, peer);
        if record.sessions >= limit {
            return Err(SecurityError::SessionQuota { limit });
        }
        record.sessions += 1;
        self.open_sessions += 1;
        Ok(())
    }

    /// Releases a session charged to `peer` by [`SecurityManager::admit_session`].
    pub fn release_session(&mut self, peer: &PeerId) {
        if let Some(record) = self.peers.get_mut(peer) {
            record.sessions = record.sessions.saturating_sub(1);
        }
        self.open_sessions = self.open_sessions.saturating_sub(1);
    }

    /// How many sessions are open.
    pub fn open_sessions(&self) -> usize {
        self.open_sessions
    }

    /// `peer`'s record, created (and, when the table is full, another forgotten) if needed.
    fn record_mut(&mut self, now: Timestamp, peer: &PeerId) -> &mut PeerRecord {
        if !self.peers.contains_key(peer) && self.peers.len() >= self.limits.max_tracked_peers {
            self.forget_least_important(now);
        }
        let initial = self.limits.initial_reputation;
        let record = self
            .peers
            .entry(peer.clone())
            .or_insert_with(|| PeerRecord::new(initial, now));
        record.last_seen = record.last_seen.max(now);
        record
    }

    /// Makes room in a full table by forgetting its lowest-ranked records (see
    /// [`PeerRecord::eviction_rank`]): one in [`EVICTION_BATCH_DIVISOR`] of them at once,
    /// so that a flood of new peer ids pays one scan of the table per many new records
    /// instead of one per record.
    fn forget_least_important(&mut self, now: Timestamp) {
        let batch = (self.peers.len() / EVICTION_BATCH_DIVISOR).max(1);
        let mut ranked: Vec<_> = self
            .peers
            .iter()
            .map(|(id, record)| (record.eviction_rank(now), id))
            .collect();
        if batch < ranked.len() {
            ranked.select_nth_unstable(batch - 1);
            ranked.truncate(batch);
        }
        let victims: Vec<PeerId> = ranked.into_iter().map(|(_, id)| id.clone()).collect();
        for victim in &victims {
            self.peers.remove(victim);
        }
    }

    fn push_event(&mut self, event: SecurityEvent) {
        if self.events.len() >= self.limits.max_queued_events.max(1) {
            self.events.pop_front();
            self.metrics.count_dropped_event();
        }
        self.events.push_back(event);
    }
}
