//! The session announcement: who signs what, in which dialect, with which options.

use core::fmt;
use core::str::FromStr;

use secp256k1::PublicKey;
use serde::{Deserialize, Serialize};
use serde_with::{As, Same};

use super::payload::parse_key;
use super::{
    DecodeError, PointField, MAX_BROADCAST_TIMEOUT_MS, MAX_SIGNERS, MIN_BROADCAST_TIMEOUT_MS,
};
use crate::crypto::Dialect;
use crate::election::ElectionMethod;

/// How participants route round messages.
///
/// ```
/// use chorus_core::wire::Topology;
///
/// assert_eq!(Topology::default(), Topology::Mesh);
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum Topology {
    /// Every participant sends its nonces and partial signatures to every other one
    /// (O(n²) messages), as lotus-lib does.
    #[default]
    Mesh,
    /// Participants send to the elected coordinator, which returns the aggregate nonce and
    /// the final signature (O(n) messages).
    Aggregator,
}

impl Topology {
    /// Both topologies.
    pub const ALL: [Topology; 2] = [Topology::Mesh, Topology::Aggregator];

    /// The lowercase name: `mesh` or `aggregator`.
    ///
    /// ```
    /// use chorus_core::wire::Topology;
    ///
    /// assert_eq!(Topology::Aggregator.name(), "aggregator");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Topology::Mesh => "mesh",
            Topology::Aggregator => "aggregator",
        }
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text named no topology.
///
/// ```
/// use chorus_core::wire::{Topology, UnknownTopology};
///
/// assert_eq!("Mesh".parse::<Topology>(), Ok(Topology::Mesh));
/// assert_eq!("ring".parse::<Topology>(), Err(UnknownTopology("ring".to_owned())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown topology {0:?} (expected \"mesh\" or \"aggregator\")")]
pub struct UnknownTopology(pub String);

impl FromStr for Topology {
    type Err = UnknownTopology;

    /// Parses a topology name, ignoring ASCII case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Topology::ALL
            .into_iter()
            .find(|topology| text.eq_ignore_ascii_case(topology.name()))
            .ok_or_else(|| UnknownTopology(text.to_owned()))
    }
}

/// Per-session choices the creator announces.
///
/// ```
/// use chorus_core::wire::{SessionOptions, Topology};
///
/// let options = SessionOptions::default();
/// assert!(options.nonce_commitments);
/// assert_eq!(options.topology, Topology::Mesh);
/// assert_eq!(options.broadcast_timeout_ms, 300_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionOptions {
    /// Whether round 0 (nonce commitments) runs before nonces are revealed.
    pub nonce_commitments: bool,
    /// How round messages are routed.
    pub topology: Topology,
    /// How long every participant waits for a broadcast confirmation before it moves on to
    /// the next coordinator (and, in the aggregator topology, for the aggregator before the
    /// next one restarts round 1), in milliseconds: [`MIN_BROADCAST_TIMEOUT_MS`] to
    /// [`MAX_BROADCAST_TIMEOUT_MS`].
    pub broadcast_timeout_ms: u64,
}

impl SessionOptions {
    /// Checks that the broadcast timeout lies within [`MIN_BROADCAST_TIMEOUT_MS`] and
    /// [`MAX_BROADCAST_TIMEOUT_MS`].
    ///
    /// A zero timeout would move every participant through the whole priority list at
    /// once, and an absurdly long one keeps a failed coordinator's session alive for ever.
    ///
    /// # Errors
    ///
    /// [`DecodeError::BroadcastTimeout`] outside the range.
    ///
    /// ```
    /// use chorus_core::wire::{DecodeError, SessionOptions, MIN_BROADCAST_TIMEOUT_MS};
    ///
    /// assert_eq!(SessionOptions::default().validate(), Ok(()));
    /// let hasty = SessionOptions { broadcast_timeout_ms: 0, ..SessionOptions::default() };
    /// assert!(matches!(hasty.validate(), Err(DecodeError::BroadcastTimeout { got: 0, .. })));
    /// let shortest = SessionOptions { broadcast_timeout_ms: MIN_BROADCAST_TIMEOUT_MS, ..hasty };
    /// assert_eq!(shortest.validate(), Ok(()));
    /// ```
    pub fn validate(&self) -> Result<(), DecodeError> {
        let got = self.broadcast_timeout_ms;
        if (MIN_BROADCAST_TIMEOUT_MS..=MAX_BROADCAST_TIMEOUT_MS).contains(&got) {
            Ok(())
        } else {
            Err(DecodeError::BroadcastTimeout {
                min: MIN_BROADCAST_TIMEOUT_MS,
                max: MAX_BROADCAST_TIMEOUT_MS,
                got,
            })
        }
    }
}

impl Default for SessionOptions {
    /// Commitments on, mesh, and the 5-minute broadcast timeout of SPEC §7.
    fn default() -> Self {
        SessionOptions {
            nonce_commitments: true,
            topology: Topology::Mesh,
            broadcast_timeout_ms: 300_000,
        }
    }
}

/// The creator's description of a session: who signs what, how.
///
/// `signers` is the one index space of the session: the signers' 33-byte compressed keys in
/// strictly ascending byte order. Every signer index anywhere refers to this list.
///
/// ```
/// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
/// use chorus_core::election::ElectionMethod;
/// use chorus_core::wire::{DecodeError, SessionAnnounce, SessionOptions};
///
/// let keys: Vec<_> = [3u8, 1, 2]
///     .iter()
///     .map(|&b| Keypair::from_secret_key(&SecretKey::from_secret_bytes([b; 32]).unwrap()).public_key())
///     .collect();
/// let announce = SessionAnnounce::new(
///     &keys, [9; 32], Dialect::Bip340, ElectionMethod::Lexicographic, SessionOptions::default(),
/// )?;
/// assert!(announce.signers.windows(2).all(|pair| pair[0] < pair[1]));
/// assert_eq!(announce.signer_keys()?.len(), 3);
///
/// // The same key twice is refused: it would make signer indices ambiguous.
/// let twice = [keys[0], keys[0]];
/// assert_eq!(
///     SessionAnnounce::new(&twice, [9; 32], Dialect::Bip340, ElectionMethod::Lexicographic, SessionOptions::default()),
///     Err(DecodeError::UnsortedSigners)
/// );
/// # Ok::<(), DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAnnounce {
    /// The signers' compressed keys, strictly ascending; 1 to [`MAX_SIGNERS`].
    #[serde(with = "As::<Vec<[Same; 33]>>")]
    pub signers: Vec<[u8; 33]>,
    /// The 32-byte message to sign (typically a transaction sighash).
    pub message: [u8; 32],
    /// The Schnorr dialect of the final signature.
    pub dialect: Dialect,
    /// How the coordinator is elected.
    pub election: ElectionMethod,
    /// Commitments, topology and broadcast timeout.
    pub options: SessionOptions,
}

impl SessionAnnounce {
    /// Describes a session, sorting `signers` into the session's index space.
    ///
    /// # Errors
    ///
    /// [`DecodeError::NoSigners`] or [`DecodeError::TooManySigners`] for a count outside
    /// 1 to [`MAX_SIGNERS`]; [`DecodeError::UnsortedSigners`] when a key is listed twice;
    /// [`DecodeError::BroadcastTimeout`] for a broadcast timeout out of range.
    pub fn new(
        signers: &[PublicKey],
        message: [u8; 32],
        dialect: Dialect,
        election: ElectionMethod,
        options: SessionOptions,
    ) -> Result<Self, DecodeError> {
        let mut sorted: Vec<[u8; 33]> = signers.iter().map(PublicKey::serialize).collect();
        sorted.sort_unstable();
        let announce = SessionAnnounce {
            signers: sorted,
            message,
            dialect,
            election,
            options,
        };
        // The keys are parsed points already: only the bounds, order and options remain.
        announce.check_shape()?;
        Ok(announce)
    }

    /// The signers as parsed keys, in the session's order.
    ///
    /// # Errors
    ///
    /// [`DecodeError::InvalidPoint`] naming the first signer that is not a curve point
    /// (never for an announcement that passed [`Payload::validate`]).
    pub fn signer_keys(&self) -> Result<Vec<PublicKey>, DecodeError> {
        self.signers
            .iter()
            .enumerate()
            .map(|(index, key)| parse_key(key, PointField::Signer { index }))
            .collect()
    }

    /// The position of `key` in the signer list, if it is a signer.
    ///
    /// ```
    /// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
    /// use chorus_core::election::ElectionMethod;
    /// use chorus_core::wire::{SessionAnnounce, SessionOptions};
    ///
    /// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap()).public_key();
    /// let announce = SessionAnnounce::new(
    ///     &[key], [0; 32], Dialect::Lotus, ElectionMethod::Salted, SessionOptions::default(),
    /// ).unwrap();
    /// assert_eq!(announce.signer_index(&key.serialize()), Some(0));
    /// assert_eq!(announce.signer_index(&[2; 33]), None);
    /// ```
    pub fn signer_index(&self, key: &[u8; 33]) -> Option<usize> {
        self.signers.binary_search(key).ok()
    }

    /// Everything but the points: the signer count, their order, the options.
    pub(super) fn check_shape(&self) -> Result<(), DecodeError> {
        let count = self.signers.len();
        if count == 0 {
            return Err(DecodeError::NoSigners);
        }
        if count > MAX_SIGNERS {
            return Err(DecodeError::TooManySigners {
                limit: MAX_SIGNERS,
                got: count,
            });
        }
        if self
            .signers
            .windows(2)
            .any(|pair| matches!(pair, [first, second] if first >= second))
        {
            return Err(DecodeError::UnsortedSigners);
        }
        self.options.validate()
    }
}
