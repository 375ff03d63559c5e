//! Why discovery input or a discovery command was refused.

use core::fmt;

use crate::crypto::PublicKey;
use crate::node::PeerId;
use crate::security::{RejectionKind, SecurityError};
use crate::time::Timestamp;

use super::RequestId;

/// Which kind of signed record an error is about.
///
/// ```
/// use chorus_core::discovery::RecordKind;
///
/// assert_eq!(RecordKind::Join.to_string(), "join proof");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum RecordKind {
    /// A [`SignerAdvertisement`](super::SignerAdvertisement).
    Advertisement,
    /// An [`AdvertisementWithdrawal`](super::AdvertisementWithdrawal).
    Withdrawal,
    /// A [`SigningRequest`](super::SigningRequest).
    Request,
    /// A [`JoinProof`](super::JoinProof).
    Join,
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordKind::Advertisement => "advertisement",
            RecordKind::Withdrawal => "withdrawal",
            RecordKind::Request => "signing request",
            RecordKind::Join => "join proof",
        })
    }
}

/// A bounded field of a discovery record.
///
/// ```
/// use chorus_core::discovery::Field;
///
/// assert_eq!(Field::Nickname.to_string(), "nickname");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Field {
    /// A record's peer id (bytes).
    PeerId,
    /// An advertisement's list of transaction types (count).
    TransactionTypes,
    /// One transaction type (bytes, `a-z 0-9 . _ -`).
    TransactionType,
    /// An advertisement's nickname (bytes).
    Nickname,
    /// An advertisement's or request's description (bytes).
    Description,
    /// A reputation score (0 to 100).
    Reputation,
    /// A request's required keys (count).
    RequiredKeys,
    /// A request's transaction (bytes).
    Transaction,
    /// A record's lifetime, from creation to expiry (milliseconds).
    Lifetime,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::PeerId => "peer id",
            Field::TransactionTypes => "transaction types",
            Field::TransactionType => "transaction type",
            Field::Nickname => "nickname",
            Field::Description => "description",
            Field::Reputation => "reputation",
            Field::RequiredKeys => "required keys",
            Field::Transaction => "transaction",
            Field::Lifetime => "lifetime",
        })
    }
}

/// Why discovery input (or a discovery command) was refused.
///
/// Every variant maps to the [`RejectionKind`] counter it is counted under
/// ([`DiscoveryError::kind`]).
///
/// ```
/// use chorus_core::discovery::{DiscoveryError, Field};
/// use chorus_core::security::RejectionKind;
///
/// let error = DiscoveryError::OutOfBounds { field: Field::Nickname, limit: 64, got: 65 };
/// assert_eq!(error.kind(), RejectionKind::OutOfBounds);
/// assert_eq!(error.to_string(), "nickname is 65, outside the limit of 64");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The security manager refused the peer or a quota.
    #[error(transparent)]
    Security(#[from] SecurityError),
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
    /// The first byte is not [`DISCOVERY_FORMAT`](super::DISCOVERY_FORMAT).
    #[error("not a discovery message (format byte {got:#04x}, expected {expected:#04x})")]
    UnknownFormat {
        /// [`DISCOVERY_FORMAT`](super::DISCOVERY_FORMAT).
        expected: u8,
        /// The byte found.
        got: u8,
    },
    /// The message ends in the middle of a field.
    #[error("message truncated")]
    Truncated,
    /// The bytes are not a postcard-encoded discovery message.
    #[error("malformed message")]
    Malformed,
    /// A whole message was read and bytes were left over.
    #[error("{count} trailing bytes after the message")]
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
    /// The message decodes, but not from its one canonical encoding.
    #[error("non-canonical encoding")]
    NonCanonical,
    /// A list that must be strictly ascending is not (it is listed in another order).
    #[error("{field} are not in ascending order")]
    Unsorted {
        /// The list.
        field: Field,
    },
    /// A key in the record is not a point on the curve.
    #[error("a key in the {record} is not a valid curve point")]
    InvalidKey {
        /// The record.
        record: RecordKind,
    },
    /// A field is empty that must not be.
    #[error("{field} is empty")]
    Missing {
        /// The field.
        field: Field,
    },
    /// A field exceeds its bound (a length, a count, a score or a lifetime).
    #[error("{field} is {got}, outside the limit of {limit}")]
    OutOfBounds {
        /// The field.
        field: Field,
        /// Its bound.
        limit: u64,
        /// What was found.
        got: u64,
    },
    /// A text field holds characters it may not (control characters, or outside
    /// `a-z 0-9 . _ -` for a transaction type).
    #[error("{field} holds characters it may not")]
    InvalidText {
        /// The field.
        field: Field,
    },
    /// An advertisement's minimum amount is above its maximum.
    #[error("minimum amount {min} is above maximum amount {max}")]
    AmountRange {
        /// The minimum.
        min: u64,
        /// The maximum.
        max: u64,
    },
    /// A record expires before it was created.
    #[error("expires at {expires_at}, before its creation at {created_at}")]
    InvalidLifetime {
        /// The creation time.
        created_at: Timestamp,
        /// The expiry.
        expires_at: Timestamp,
    },
    /// A signing request's broadcast timeout is outside the range sessions accept.
    #[error("broadcast timeout of {got} ms (expected {min} to {max})")]
    BroadcastTimeout {
        /// [`MIN_BROADCAST_TIMEOUT_MS`](crate::wire::MIN_BROADCAST_TIMEOUT_MS).
        min: u64,
        /// [`MAX_BROADCAST_TIMEOUT_MS`](crate::wire::MAX_BROADCAST_TIMEOUT_MS).
        max: u64,
        /// The timeout found.
        got: u64,
    },
    /// A signing request lists a key twice.
    #[error("a required key is listed twice")]
    DuplicateKeys,
    /// A signing request's creator is not one of its required keys.
    #[error("the creator is not one of the required keys")]
    CreatorNotRequired,
    /// The record's signature is not its signer's.
    #[error("the {record}'s signature does not verify")]
    InvalidSignature {
        /// The record.
        record: RecordKind,
    },
    /// The record names another peer than the one that delivered it.
    #[error("record names peer {named}, but came from {from}")]
    PeerMismatch {
        /// The peer the record names.
        named: PeerId,
        /// The peer that delivered it.
        from: PeerId,
    },
    /// The record was created too far in the future.
    #[error("created at {created_at}, too far after {now}")]
    FromTheFuture {
        /// The record's creation time.
        created_at: Timestamp,
        /// The receiver's time.
        now: Timestamp,
    },
    /// The record has expired.
    #[error("expired at {expires_at} (now {now})")]
    Expired {
        /// The record's expiry.
        expires_at: Timestamp,
        /// The receiver's time.
        now: Timestamp,
    },
    /// An advertisement no newer than the one held (or withdrawn) for its key.
    #[error("advertisement created at {got} is not newer than {held}")]
    StaleAdvertisement {
        /// The creation time of the advertisement held or withdrawn.
        held: Timestamp,
        /// The creation time of the one received.
        got: Timestamp,
    },
    /// A withdrawal of an advertisement that is not held (or has been replaced).
    #[error("no such advertisement to withdraw")]
    UnknownAdvertisement,
    /// This node has no advertisement of its own for the key.
    #[error("this node does not advertise key {}", hex::encode(key.serialize()))]
    NotAdvertised {
        /// The key.
        key: PublicKey,
    },
    /// The signing request is already held.
    #[error("signing request {request} is already held")]
    DuplicateRequest {
        /// The request.
        request: RequestId,
    },
    /// No signing request with this id is held. A join can overtake its request on a
    /// network that does not order messages from different senders: a driver keeps such a
    /// message in an [`EarlyMessages`](super::EarlyMessages) and offers it again when the
    /// request arrives.
    #[error("unknown signing request {request}")]
    UnknownRequest {
        /// The request.
        request: RequestId,
    },
    /// The key is not one of the request's required keys.
    #[error("key {} is not required by the request", hex::encode(key.serialize()))]
    NotRequired {
        /// The key.
        key: PublicKey,
    },
    /// The key already joined the request.
    #[error("key {} already joined the request", hex::encode(key.serialize()))]
    JoinReplayed {
        /// The key.
        key: PublicKey,
    },
    /// The output queues are full: poll them before giving more input.
    #[error("{queued} outputs wait to be polled (limit {limit})")]
    Backpressure {
        /// [`SecurityLimits::max_queued_events`](crate::security::SecurityLimits::max_queued_events).
        limit: usize,
        /// Outbound records and events waiting.
        queued: usize,
    },
}

impl DiscoveryError {
    /// The counter this rejection is counted under.
    pub fn kind(&self) -> RejectionKind {
        match self {
            DiscoveryError::Security(error) => error.kind(),
            DiscoveryError::Oversized { .. } => RejectionKind::Oversized,
            DiscoveryError::Empty
            | DiscoveryError::UnknownFormat { .. }
            | DiscoveryError::Truncated
            | DiscoveryError::Malformed
            | DiscoveryError::TrailingBytes { .. }
            | DiscoveryError::NonCanonical
            | DiscoveryError::Unsorted { .. } => RejectionKind::Malformed,
            DiscoveryError::InvalidKey { .. } => RejectionKind::InvalidKey,
            DiscoveryError::Missing { .. }
            | DiscoveryError::OutOfBounds { .. }
            | DiscoveryError::InvalidText { .. }
            | DiscoveryError::AmountRange { .. }
            | DiscoveryError::BroadcastTimeout { .. }
            | DiscoveryError::InvalidLifetime { .. } => RejectionKind::OutOfBounds,
            DiscoveryError::DuplicateKeys => RejectionKind::DuplicateKeys,
            DiscoveryError::CreatorNotRequired => RejectionKind::CreatorNotRequired,
            DiscoveryError::InvalidSignature { record } => match record {
                RecordKind::Advertisement => RejectionKind::ForgedAdvertisement,
                RecordKind::Withdrawal => RejectionKind::ForgedWithdrawal,
                RecordKind::Request => RejectionKind::ForgedRequest,
                RecordKind::Join => RejectionKind::ForgedJoin,
            },
            DiscoveryError::PeerMismatch { .. } => RejectionKind::PeerMismatch,
            DiscoveryError::FromTheFuture { .. } => RejectionKind::FromTheFuture,
            DiscoveryError::Expired { .. } => RejectionKind::Expired,
            DiscoveryError::StaleAdvertisement { .. } => RejectionKind::StaleAdvertisement,
            DiscoveryError::UnknownAdvertisement | DiscoveryError::NotAdvertised { .. } => {
                RejectionKind::UnknownAdvertisement
            }
            DiscoveryError::DuplicateRequest { .. } => RejectionKind::DuplicateRequest,
            DiscoveryError::UnknownRequest { .. } => RejectionKind::UnknownRequest,
            DiscoveryError::NotRequired { .. } => RejectionKind::NotRequired,
            DiscoveryError::JoinReplayed { .. } => RejectionKind::JoinReplayed,
            DiscoveryError::Backpressure { .. } => RejectionKind::Backpressure,
        }
    }

    /// Maps a postcard error: running out of input is [`DiscoveryError::Truncated`],
    /// anything else [`DiscoveryError::Malformed`].
    pub(crate) fn from_postcard(error: postcard::Error) -> Self {
        match error {
            postcard::Error::DeserializeUnexpectedEnd => DiscoveryError::Truncated,
            _ => DiscoveryError::Malformed,
        }
    }
}

/// Checks `len ≤ limit` for `field`.
pub(crate) fn check_len(field: Field, len: usize, limit: usize) -> Result<(), DiscoveryError> {
    if len > limit {
        return Err(DiscoveryError::OutOfBounds {
            field,
            limit: limit as u64,
            got: len as u64,
        });
    }
    Ok(())
}

/// Checks `1 ≤ len ≤ limit` for `field`.
pub(crate) fn check_non_empty_len(
    field: Field,
    len: usize,
    limit: usize,
) -> Result<(), DiscoveryError> {
    if len == 0 {
        return Err(DiscoveryError::Missing { field });
    }
    check_len(field, len, limit)
}
