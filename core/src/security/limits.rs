//! The configurable limits of the security manager and the discovery stores.

use core::time::Duration;

/// Every limit that guards discovery against abuse, with the defaults of SPEC §7 where it
/// names one.
///
/// The numbers bound both behaviour (how often a peer may advertise, how many strikes it
/// gets) and memory (how many peers, pending requests and directory entries are kept), so
/// no peer can make a node grow without limit.
///
/// ```
/// use chorus_core::security::SecurityLimits;
/// use std::time::Duration;
///
/// let limits = SecurityLimits::default();
/// assert_eq!(limits.advertisement_interval, Duration::from_secs(60));
/// assert_eq!(limits.max_keys_per_peer, 10);
/// assert_eq!(limits.max_invalid_signatures, 10);
///
/// let strict = SecurityLimits { max_pending_requests_per_peer: 2, ..SecurityLimits::default() };
/// assert_eq!(strict.max_pending_requests_per_peer, 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityLimits {
    /// The shortest time between two advertisements from one peer (default 60 s).
    pub advertisement_interval: Duration,
    /// How many distinct signing keys one peer may advertise (default 10).
    pub max_keys_per_peer: usize,
    /// Invalid signatures from one peer before it is blacklisted (default 10).
    pub max_invalid_signatures: u32,
    /// Other protocol violations (malformed or out-of-bounds records, rate-limit and quota
    /// breaches …) from one peer before it is graylisted (default 10).
    pub max_violations: u32,
    /// How long a graylisted peer is ignored (default 10 min).
    pub graylist_duration: Duration,
    /// The reputation score a newly seen peer starts with, out of 100 (default 50).
    pub initial_reputation: u8,
    /// The most signing requests kept pending at once, from everyone (default 100,000);
    /// past that the oldest pending request is evicted.
    pub max_pending_requests: usize,
    /// The most signing requests one peer may have pending at once (default 16).
    pub max_pending_requests_per_peer: usize,
    /// The most memory pending signing requests may take, estimated, in bytes (default
    /// 112 MiB: 100,000 typical requests take 108 MB); past that the oldest pending request
    /// is evicted.
    /// Without it the largest requests the field bounds allow would take about sixteen
    /// times the memory of typical ones.
    pub max_pending_memory: usize,
    /// The most sessions open at once (default 1,000).
    pub max_sessions: usize,
    /// The most sessions one peer may have open at once (default 16).
    pub max_sessions_per_peer: usize,
    /// The most advertisements the signer directory keeps (default 100,000); past that
    /// the one that expires first is evicted.
    pub max_directory_entries: usize,
    /// The most memory the signer directory may take, estimated, in bytes (default 56 MiB:
    /// 100,000 typical advertisements take 49 MB); past that the advertisement that expires
    /// first is evicted.
    pub max_directory_memory: usize,
    /// How many peers the security manager keeps records for (default 20,000); past that
    /// the record of the least suspicious, least recently seen peer is forgotten.
    pub max_tracked_peers: usize,
    /// How many security events wait to be polled before the oldest is dropped
    /// (default 1,024).
    pub max_queued_events: usize,
    /// How far in the future a record's creation time may be (default 5 min).
    pub max_clock_skew: Duration,
}

impl Default for SecurityLimits {
    fn default() -> Self {
        SecurityLimits {
            advertisement_interval: Duration::from_secs(60),
            max_keys_per_peer: 10,
            max_invalid_signatures: 10,
            max_violations: 10,
            graylist_duration: Duration::from_secs(10 * 60),
            initial_reputation: 50,
            max_pending_requests: 100_000,
            max_pending_requests_per_peer: 16,
            max_pending_memory: 112 << 20,
            max_sessions: 1_000,
            max_sessions_per_peer: 16,
            max_directory_entries: 100_000,
            max_directory_memory: 56 << 20,
            max_tracked_peers: 20_000,
            max_queued_events: 1_024,
            max_clock_skew: Duration::from_secs(5 * 60),
        }
    }
}
