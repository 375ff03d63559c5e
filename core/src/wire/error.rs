//! Why bytes from the network are not a well-formed envelope.

use core::fmt;

/// Why [`SignedEnvelope::decode`](super::SignedEnvelope::decode) (or
/// [`Envelope::validate`](super::Envelope::validate)) refused its input.
///
/// The variants follow the order of the checks: size, version, postcard, canonical form,
/// then the bounds and curve points of the fields.
///
/// ```
/// use chorus_core::wire::{Channel, DecodeError, SignedEnvelope, MAX_GOSSIP_MESSAGE};
///
/// assert_eq!(SignedEnvelope::decode(&[], Channel::Direct), Err(DecodeError::Empty));
/// assert_eq!(
///     SignedEnvelope::decode(&[9, 0, 0], Channel::Direct),
///     Err(DecodeError::UnsupportedVersion { expected: 1, got: 9 })
/// );
/// let flood = vec![1u8; MAX_GOSSIP_MESSAGE + 1];
/// assert_eq!(
///     SignedEnvelope::decode(&flood, Channel::Gossip),
///     Err(DecodeError::Oversized { limit: MAX_GOSSIP_MESSAGE, got: MAX_GOSSIP_MESSAGE + 1 })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The message is larger than its channel allows; nothing was parsed.
    #[error("message of {got} bytes exceeds the limit of {limit} bytes")]
    Oversized {
        /// The channel's limit in bytes.
        limit: usize,
        /// The message's length in bytes.
        got: usize,
    },
    /// The message has no bytes at all.
    #[error("empty message")]
    Empty,
    /// The version byte (or the envelope's version field) is not one this code speaks.
    #[error("unsupported wire version {got} (expected {expected})")]
    UnsupportedVersion {
        /// [`WIRE_VERSION`](super::WIRE_VERSION).
        expected: u8,
        /// The version found.
        got: u8,
    },
    /// The message ends in the middle of a field.
    #[error("message truncated")]
    Truncated,
    /// The bytes are not a postcard-encoded signed envelope.
    #[error("malformed message")]
    Malformed,
    /// A whole envelope was read and bytes were left over.
    #[error("{count} trailing bytes after the envelope")]
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
    /// The envelope decodes, but not from its one canonical encoding (an over-long varint).
    ///
    /// Refusing these keeps one envelope from having many byte forms, so replay and
    /// duplicate checks can compare bytes.
    #[error("non-canonical encoding")]
    NonCanonical,
    /// A field that must be a curve point is not one.
    #[error("{0} is not a valid curve point")]
    InvalidPoint(PointField),
    /// A partial signature is not a scalar below the group order.
    #[error("partial signature is not a scalar below the group order")]
    InvalidScalar,
    /// A session announcement lists no signers.
    #[error("session announcement lists no signers")]
    NoSigners,
    /// A session announcement lists more signers than a session may have.
    #[error("{got} signers exceeds the limit of {limit}")]
    TooManySigners {
        /// [`MAX_SIGNERS`](super::MAX_SIGNERS).
        limit: usize,
        /// The number listed.
        got: usize,
    },
    /// A session announcement's signers are not in strictly ascending order of their
    /// 33-byte keys (unsorted, or a key listed twice).
    #[error("signers are not strictly sorted by their 33-byte keys")]
    UnsortedSigners,
    /// A signer index cannot be a position in any session's signer list.
    #[error("signer index {index} is not below {limit}")]
    SignerIndexOutOfRange {
        /// The index found.
        index: u16,
        /// [`MAX_SIGNERS`](super::MAX_SIGNERS).
        limit: usize,
    },
    /// A session announcement's broadcast timeout is outside the allowed range.
    #[error("broadcast timeout of {got} ms (expected {min} to {max} ms)")]
    BroadcastTimeout {
        /// [`MIN_BROADCAST_TIMEOUT_MS`](super::MIN_BROADCAST_TIMEOUT_MS).
        min: u64,
        /// [`MAX_BROADCAST_TIMEOUT_MS`](super::MAX_BROADCAST_TIMEOUT_MS).
        max: u64,
        /// The timeout announced.
        got: u64,
    },
    /// A broadcast confirmation's transaction id is empty or too long.
    #[error("transaction id of {got} bytes (expected 1 to {limit})")]
    TransactionIdLength {
        /// [`MAX_TRANSACTION_ID_LEN`](super::MAX_TRANSACTION_ID_LEN).
        limit: usize,
        /// The length found.
        got: usize,
    },
}

impl DecodeError {
    /// Maps a postcard error: running out of input is [`DecodeError::Truncated`], anything
    /// else [`DecodeError::Malformed`].
    pub(crate) fn from_postcard(error: postcard::Error) -> Self {
        match error {
            postcard::Error::DeserializeUnexpectedEnd => DecodeError::Truncated,
            _ => DecodeError::Malformed,
        }
    }
}

/// Which point field of an envelope failed to parse.
///
/// ```
/// use chorus_core::wire::{DecodeError, PointField};
///
/// let error = DecodeError::InvalidPoint(PointField::Signer { index: 3 });
/// assert_eq!(error.to_string(), "signer 3 is not a valid curve point");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum PointField {
    /// The envelope's sender key.
    Sender,
    /// A key in a session announcement's signer list, by position.
    Signer {
        /// The position in the list.
        index: usize,
    },
    /// The key a join proves ownership of.
    JoinKey,
    /// A public nonce (R1 ‖ R2).
    PublicNonce,
    /// An aggregate nonce (R1 ‖ R2).
    AggregateNonce,
}

impl fmt::Display for PointField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PointField::Sender => f.write_str("sender key"),
            PointField::Signer { index } => write!(f, "signer {index}"),
            PointField::JoinKey => f.write_str("join key"),
            PointField::PublicNonce => f.write_str("public nonce"),
            PointField::AggregateNonce => f.write_str("aggregate nonce"),
        }
    }
}
