//! Discovery records on the wire.

use serde::{Deserialize, Serialize};

use super::codec::postcard_bytes;
use super::{
    AdvertisementWithdrawal, DiscoveryError, JoinProof, SignerAdvertisement, SigningRequest,
    DISCOVERY_FORMAT,
};
use crate::wire::Channel;

/// One discovery record as it travels: on the wire, the byte [`DISCOVERY_FORMAT`]
/// followed by the postcard encoding of this enum.
///
/// The format byte differs from every [`WIRE_VERSION`](crate::wire::WIRE_VERSION) of
/// session envelopes, so one input path can tell the two apart by the first byte.
/// Postcard encodes the variant by its position, so variants are only ever appended.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::discovery::{DiscoveryError, DiscoveryMessage, JoinProof, RequestId, DISCOVERY_FORMAT};
/// use chorus_core::node::PeerId;
/// use chorus_core::wire::Channel;
///
/// let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xb0; 32]).unwrap());
/// let message = DiscoveryMessage::Join(JoinProof::sign(RequestId([1; 32]), &bob, PeerId::new([2]), &[0; 32]));
/// let bytes = message.encode();
/// assert_eq!(bytes[0], DISCOVERY_FORMAT);
/// assert_eq!(DiscoveryMessage::decode(&bytes, Channel::Gossip)?, message);
/// assert_eq!(DiscoveryMessage::decode(&bytes[..10], Channel::Gossip), Err(DiscoveryError::Truncated));
/// # Ok::<(), DiscoveryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiscoveryMessage {
    /// A signer advertises itself.
    Advertisement(SignerAdvertisement),
    /// A signer withdraws its advertisement.
    Withdrawal(AdvertisementWithdrawal),
    /// A creator asks keys to sign.
    Request(SigningRequest),
    /// A signer joins a request.
    Join(JoinProof),
}

impl DiscoveryMessage {
    /// The wire form: [`DISCOVERY_FORMAT`], then postcard.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = vec![DISCOVERY_FORMAT];
        bytes.extend_from_slice(&postcard_bytes(self));
        bytes
    }

    /// Reads a discovery message from `bytes` received on `channel`.
    ///
    /// Checks, cheapest first: the channel's size limit (before parsing anything), the
    /// format byte, postcard, no trailing bytes, canonical encoding, then the record's own
    /// bounds and keys (`validate`). Signatures, time and the stores' rules are checked
    /// when the record is inserted. Never panics.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::Oversized`], [`DiscoveryError::Empty`],
    /// [`DiscoveryError::UnknownFormat`], [`DiscoveryError::Truncated`],
    /// [`DiscoveryError::Malformed`], [`DiscoveryError::TrailingBytes`],
    /// [`DiscoveryError::NonCanonical`], or what the record's `validate` refuses.
    pub fn decode(bytes: &[u8], channel: Channel) -> Result<Self, DiscoveryError> {
        let limit = channel.max_message_len();
        if bytes.len() > limit {
            return Err(DiscoveryError::Oversized {
                limit,
                got: bytes.len(),
            });
        }
        let (&format, body) = bytes.split_first().ok_or(DiscoveryError::Empty)?;
        if format != DISCOVERY_FORMAT {
            return Err(DiscoveryError::UnknownFormat {
                expected: DISCOVERY_FORMAT,
                got: format,
            });
        }
        let (message, rest) = postcard::take_from_bytes::<DiscoveryMessage>(body)
            .map_err(DiscoveryError::from_postcard)?;
        if !rest.is_empty() {
            return Err(DiscoveryError::TrailingBytes { count: rest.len() });
        }
        // Postcard accepts over-long varints; only the one encoding we would produce counts.
        if message.encode() != bytes {
            return Err(DiscoveryError::NonCanonical);
        }
        message.validate()?;
        Ok(message)
    }

    /// Checks the record's bounds and keys.
    ///
    /// # Errors
    ///
    /// What the record's `validate` (or, for a withdrawal, `key`) refuses.
    pub fn validate(&self) -> Result<(), DiscoveryError> {
        match self {
            DiscoveryMessage::Advertisement(advertisement) => advertisement.validate(),
            DiscoveryMessage::Withdrawal(withdrawal) => withdrawal.key().map(drop),
            DiscoveryMessage::Request(request) => request.validate(),
            DiscoveryMessage::Join(proof) => proof.validate(),
        }
    }
}
