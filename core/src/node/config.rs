//! What a node is configured with, and what a caller asks for when it creates a session.

use core::time::Duration;

use crate::crypto::{Dialect, PublicKey};
use crate::election::ElectionMethod;
use crate::security::SecurityLimits;
use crate::wire::SessionOptions;

use super::event::PeerId;

/// Limits and timeouts of a [`Node`](super::Node), with the defaults of SPEC §7.
///
/// Every collection the node keeps is bounded by one of these numbers, so no peer can make
/// it grow without limit.
///
/// ```
/// use chorus_core::node::Config;
/// use std::time::Duration;
///
/// let config = Config::default();
/// assert_eq!(config.session_timeout, Duration::from_secs(2 * 60 * 60));
/// assert_eq!(config.stuck_timeout, Duration::from_secs(10 * 60));
/// assert_eq!(config.max_clock_skew, Duration::from_secs(5 * 60));
/// assert_eq!(config.max_sequence_gap, 100);
///
/// let small = Config { max_sessions: 4, ..Config::default() };
/// assert_eq!(small.max_sessions, 4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// How long a session may live before it expires (default 2 h).
    pub session_timeout: Duration,
    /// How long a session may go without progress before it is aborted as stuck
    /// (default 10 min).
    pub stuck_timeout: Duration,
    /// How long an expired session is kept (so late messages get
    /// [`Rejection::SessionClosed`](super::Rejection::SessionClosed)) before it is forgotten
    /// (default 10 min).
    pub expired_retention: Duration,
    /// The largest difference between a message's timestamp and the node's time
    /// (default 5 min).
    pub max_clock_skew: Duration,
    /// How far a sender's sequence number may jump ahead of the highest one seen from it
    /// (default 100).
    pub max_sequence_gap: u64,
    /// The most sessions the node keeps at once, finished ones included (default 1,000).
    pub max_sessions: usize,
    /// The most sessions one creator may have announced to this node that are still being
    /// signed (default 16), so a single peer cannot fill the node's session table.
    pub max_sessions_per_creator: usize,
    /// How many early messages (for a later round or attempt) the node holds per sender and
    /// session until their round comes (default 8).
    pub max_held_per_sender: usize,
    /// Inputs are refused while this many transmits or events wait to be polled
    /// (default 100,000); one input may still queue a full fan-out on top.
    pub max_queued_outputs: usize,
    /// How many public nonces the node remembers to make sure it never sends one twice
    /// (default 65,536).
    pub nonce_memory: usize,
    /// How many peers the node keeps rejection counters for (default 4,096); past that the
    /// peer with the fewest rejections is forgotten.
    pub max_tracked_peers: usize,
    /// How many signer groups' key aggregations the node keeps, so a group that signs again
    /// skips aggregating its keys (default 16; 0 turns the cache off).
    pub key_aggregation_cache: usize,
    /// Discovery's limits: advertisement rate, keys per peer, blacklist and graylist,
    /// pending-request and directory caps (SPEC §7 defaults).
    pub discovery: SecurityLimits,
    /// The transport's name for this node, which its advertisements and join proofs carry;
    /// `None` (the default) means [`PeerId::from_key`] of the node's key, as transports that
    /// address peers by their signing key (the in-memory one) name it.
    pub peer_id: Option<PeerId>,
    /// A deliberate bug for the simulator's own tests; `None` by default. Exists only with
    /// the test-only `planted-faults` feature.
    #[cfg(feature = "planted-faults")]
    pub planted_fault: Option<PlantedFault>,
    /// Envelope signatures go unchecked, so that a fuzzer's mutated messages reach deep
    /// states; `false` by default. The field exists only in cargo-fuzz builds
    /// (`--cfg fuzzing`), so no normal build can turn it on.
    #[cfg(fuzzing)]
    pub fuzzing_skip_envelope_signatures: bool,
}

/// A deliberate bug a test switches on in one node, to prove that the simulator's
/// invariants catch real bugs.
///
/// Test-only: it exists only with the `planted-faults` feature, which only the simulator's
/// tests enable (as a dev-dependency feature, so no normal build has it). Never enable it
/// in a signer.
///
/// ```
/// use chorus_core::node::{Config, PlantedFault};
///
/// let config = Config { planted_fault: Some(PlantedFault::RepeatNonce), ..Config::default() };
/// assert_ne!(config, Config::default());
/// ```
#[cfg(feature = "planted-faults")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum PlantedFault {
    /// Every nonce is drawn from one fixed seed and the nonce tracker is skipped: the same
    /// key, aggregate key and message give the same nonce again (lotus-lib's deterministic
    /// nonces).
    RepeatNonce,
    /// Envelopes are accepted without checking their signature.
    SkipEnvelopeSignature,
}

impl Config {
    /// Whether the test-only planted bug `fault` is switched on (never, without the
    /// `planted-faults` feature).
    #[cfg(feature = "planted-faults")]
    pub(crate) fn planted(&self, fault: PlantedFault) -> bool {
        self.planted_fault == Some(fault)
    }

    /// Whether envelope signatures go unchecked (only ever in a cargo-fuzz build).
    #[cfg(fuzzing)]
    pub(crate) fn skips_envelope_signatures(&self) -> bool {
        self.fuzzing_skip_envelope_signatures
    }

    /// Whether envelope signatures go unchecked: never, outside a cargo-fuzz build.
    #[cfg(not(fuzzing))]
    pub(crate) fn skips_envelope_signatures(&self) -> bool {
        false
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_timeout: Duration::from_secs(2 * 60 * 60),
            stuck_timeout: Duration::from_secs(10 * 60),
            expired_retention: Duration::from_secs(10 * 60),
            max_clock_skew: Duration::from_secs(5 * 60),
            max_sequence_gap: 100,
            max_sessions: 1_000,
            max_sessions_per_creator: 16,
            max_held_per_sender: 8,
            max_queued_outputs: 100_000,
            nonce_memory: 65_536,
            max_tracked_peers: 4_096,
            key_aggregation_cache: 16,
            discovery: SecurityLimits::default(),
            peer_id: None,
            #[cfg(feature = "planted-faults")]
            planted_fault: None,
            #[cfg(fuzzing)]
            fuzzing_skip_envelope_signatures: false,
        }
    }
}

/// Whether a session moves from round to round on its own.
///
/// ```
/// use chorus_core::node::Progress;
///
/// assert_eq!(Progress::default(), Progress::Automatic);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Progress {
    /// The node shares its nonce as soon as the session is ready and signs as soon as every
    /// nonce is in.
    #[default]
    Automatic,
    /// The application calls [`Node::start_round1`](super::Node::start_round1) and
    /// [`Node::start_round2`](super::Node::start_round2) itself, after the
    /// [`Event::SessionReady`](super::Event::SessionReady) and
    /// [`Event::NoncesComplete`](super::Event::NoncesComplete) events.
    Manual,
}

/// What the creator of a session asks for.
///
/// `signers` may be in any order (the session sorts them: one index space) and must list
/// the creating node's own key.
///
/// ```
/// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
/// use chorus_core::election::ElectionMethod;
/// use chorus_core::node::{Progress, SessionSpec};
/// use chorus_core::wire::{SessionOptions, Topology};
///
/// let key = |byte| Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap()).public_key();
/// let spec = SessionSpec {
///     options: SessionOptions { topology: Topology::Aggregator, ..SessionOptions::default() },
///     ..SessionSpec::new(vec![key(1), key(2)], [7; 32], Dialect::Lotus)
/// };
/// assert_eq!(spec.election, ElectionMethod::Lexicographic);
/// assert_eq!(spec.progress, Progress::Automatic);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSpec {
    /// Every signer's key, the creator's included, in any order.
    pub signers: Vec<PublicKey>,
    /// The 32-byte message to sign.
    pub message: [u8; 32],
    /// The Schnorr dialect of the final signature.
    pub dialect: Dialect,
    /// How the coordinator is elected.
    pub election: ElectionMethod,
    /// Nonce commitments, topology and broadcast timeout (announced to every signer).
    pub options: SessionOptions,
    /// Whether this node moves through the rounds on its own (a local choice, not announced).
    pub progress: Progress,
}

impl SessionSpec {
    /// A spec with the default election method, options and automatic progress.
    ///
    /// ```
    /// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
    /// use chorus_core::node::SessionSpec;
    ///
    /// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap()).public_key();
    /// let spec = SessionSpec::new(vec![key], [0; 32], Dialect::Bip340);
    /// assert_eq!(spec.signers.len(), 1);
    /// ```
    pub fn new(signers: Vec<PublicKey>, message: [u8; 32], dialect: Dialect) -> Self {
        SessionSpec {
            signers,
            message,
            dialect,
            election: ElectionMethod::default(),
            options: SessionOptions::default(),
            progress: Progress::default(),
        }
    }
}
