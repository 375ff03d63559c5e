//! What peers send each other: signed envelopes around protocol payloads, their postcard
//! codec and the size limits of each channel.
//!
//! Every protocol message is a [`Payload`] inside an [`Envelope`] (session id, sender key,
//! per-sender [`Sequence`], [`Timestamp`](crate::time::Timestamp)), sealed into a
//! [`SignedEnvelope`] by the sender's BIP340 signature. On the wire it is one version byte,
//! [`WIRE_VERSION`], followed by the postcard encoding of the signed envelope.
//!
//! [`SignedEnvelope::decode`] runs the checks that need nothing but the bytes, cheapest
//! first: the channel's size limit, the version byte, postcard, canonical form, then bounds
//! and curve points. It does not verify the signature: the session engine does that once
//! the cheaper session checks have passed. The engine decodes in two steps,
//! [`DecodedEnvelope`] (form and bounds) and [`ParsedEnvelope`] (curve points), so that a
//! message its session checks refuse costs no point parsing, and a parsed point is never
//! parsed again.
//!
//! Only public values travel: public nonces, partial signatures, final signatures. A secret
//! nonce has no wire form.
//!
//! ```
//! use chorus_core::crypto::{Keypair, SecretKey};
//! use chorus_core::time::Timestamp;
//! use chorus_core::wire::*;
//!
//! let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
//! let envelope = Envelope::new(
//!     SessionId([7; 32]),
//!     &alice.public_key(),
//!     Sequence(1),
//!     Timestamp::from_millis(1_700_000_000_000),
//!     Payload::SessionReady(SessionReady { coordinator_index: 0 }),
//! );
//! let sealed = SignedEnvelope::seal(envelope, &alice, &[0; 32]);
//! let bytes = sealed.encode();
//! assert_eq!(bytes[0], WIRE_VERSION);
//!
//! let received = SignedEnvelope::decode(&bytes, Channel::Gossip)?;
//! assert_eq!(received, sealed);
//! assert!(received.verify_signature());
//! # Ok::<(), DecodeError>(())
//! ```

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

mod announce;
mod decoded;
mod envelope;
mod error;
mod hash;
mod payload;
#[cfg(test)]
mod strategy;
#[cfg(test)]
mod tests;

pub use announce::{SessionAnnounce, SessionOptions, Topology, UnknownTopology};
pub use decoded::{DecodedEnvelope, ParsedEnvelope};
pub use envelope::{Envelope, SignedEnvelope};
pub use error::{DecodeError, PointField};
pub use payload::{
    AbortCode, AggregateNonceShare, BroadcastConfirmation, FinalSignature, Join, NonceCommit,
    NonceShare, ParsedPayload, PartialSignatureShare, Payload, PayloadKind, SessionAbort,
    SessionReady,
};

/// The wire format version: the first byte of every encoded envelope, and the envelope's
/// own `version` field.
pub const WIRE_VERSION: u8 = 1;

/// The largest message accepted from a gossip topic, in bytes (SPEC §7).
pub const MAX_GOSSIP_MESSAGE: usize = 10_000;

/// The largest message accepted on a direct peer-to-peer stream, in bytes (SPEC §7).
pub const MAX_DIRECT_MESSAGE: usize = 100_000;

/// The most signers one session may have.
pub const MAX_SIGNERS: usize = 1_000;

/// The shortest broadcast timeout a session may announce: one second, in milliseconds.
pub const MIN_BROADCAST_TIMEOUT_MS: u64 = 1_000;

/// The longest broadcast timeout a session may announce: one hour, in milliseconds.
pub const MAX_BROADCAST_TIMEOUT_MS: u64 = 60 * 60 * 1_000;

/// The longest transaction id a broadcast confirmation may carry, in bytes.
pub const MAX_TRANSACTION_ID_LEN: usize = 64;

/// Which way a message arrived, and so how large it may be.
///
/// Gossip fans a message out to many peers, so it gets the tighter limit.
///
/// ```
/// use chorus_core::wire::{Channel, MAX_DIRECT_MESSAGE, MAX_GOSSIP_MESSAGE};
///
/// assert_eq!(Channel::Gossip.max_message_len(), MAX_GOSSIP_MESSAGE);
/// assert_eq!(Channel::Direct.max_message_len(), MAX_DIRECT_MESSAGE);
/// assert_eq!(Channel::Direct.to_string(), "direct");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Channel {
    /// A publish/subscribe topic (GossipSub): at most [`MAX_GOSSIP_MESSAGE`] bytes.
    Gossip,
    /// A direct stream to one peer: at most [`MAX_DIRECT_MESSAGE`] bytes.
    Direct,
}

impl Channel {
    /// The largest encoded message this channel accepts, in bytes.
    ///
    /// ```
    /// use chorus_core::wire::Channel;
    ///
    /// assert!(Channel::Gossip.max_message_len() < Channel::Direct.max_message_len());
    /// ```
    pub const fn max_message_len(self) -> usize {
        match self {
            Channel::Gossip => MAX_GOSSIP_MESSAGE,
            Channel::Direct => MAX_DIRECT_MESSAGE,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Channel::Gossip => "gossip",
            Channel::Direct => "direct",
        })
    }
}

/// A session's 32-byte identifier.
///
/// Displayed as 64 lowercase hex characters and parsed back from hex of either case;
/// `Debug` shows the hex too.
///
/// ```
/// use chorus_core::wire::SessionId;
///
/// let id = SessionId([0xab; 32]);
/// let text = id.to_string();
/// assert_eq!(text, "ab".repeat(32));
/// assert_eq!(text.parse::<SessionId>().unwrap(), id);
/// assert!("not hex".parse::<SessionId>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SessionId(pub [u8; 32]);

impl SessionId {
    /// The 32 bytes.
    ///
    /// ```
    /// use chorus_core::wire::SessionId;
    ///
    /// assert_eq!(SessionId([1; 32]).as_bytes(), &[1; 32]);
    /// ```
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// The text was not 64 hex characters.
///
/// ```
/// use chorus_core::wire::{InvalidSessionId, SessionId};
///
/// assert_eq!("00".parse::<SessionId>(), Err(InvalidSessionId));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a session id is 64 hex characters")]
pub struct InvalidSessionId;

impl FromStr for SessionId {
    type Err = InvalidSessionId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| InvalidSessionId)?;
        Ok(SessionId(bytes))
    }
}

/// A sender's message counter within one session; replay protection wants it strictly
/// increasing.
///
/// ```
/// use chorus_core::wire::Sequence;
///
/// let first = Sequence(1);
/// assert_eq!(first.next(), Some(Sequence(2)));
/// assert_eq!(Sequence(u64::MAX).next(), None);
/// assert!(first < Sequence(2));
/// assert_eq!(first.to_string(), "#1");
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Sequence(pub u64);

impl Sequence {
    /// The following number, or `None` once the counter is exhausted.
    ///
    /// ```
    /// use chorus_core::wire::Sequence;
    ///
    /// assert_eq!(Sequence(0).next(), Some(Sequence(1)));
    /// ```
    pub fn next(self) -> Option<Sequence> {
        self.0.checked_add(1).map(Sequence)
    }
}

impl fmt::Display for Sequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}
