//! Signed envelopes: who sent which payload, when, in which session, and the codec.

use secp256k1::{Keypair, PublicKey};
use serde::{Deserialize, Serialize};
use serde_with::{As, Same};

use super::decoded::DecodedEnvelope;
use super::hash::{tagged_hash, ENVELOPE_TAG};
use super::payload::parse_key;
use super::{
    Channel, DecodeError, ParsedPayload, Payload, PointField, Sequence, SessionId, WIRE_VERSION,
};
use crate::crypto::{self, Dialect, Signature};
use crate::time::Timestamp;

/// A protocol message with its routing and replay-protection header, before signing.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::time::Timestamp;
/// use chorus_core::wire::*;
///
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
/// let envelope = Envelope::new(
///     SessionId([1; 32]),
///     &alice.public_key(),
///     Sequence(7),
///     Timestamp::from_millis(1_000),
///     Payload::SessionReady(SessionReady { coordinator_index: 0 }),
/// );
/// assert_eq!(envelope.version, WIRE_VERSION);
/// assert_eq!(envelope.sender_key().unwrap(), alice.public_key());
/// assert!(envelope.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The wire format version, [`WIRE_VERSION`]; signed, so it cannot be downgraded.
    pub version: u8,
    /// The session the payload belongs to.
    pub session_id: SessionId,
    /// The sender's compressed key, which signs the envelope.
    #[serde(with = "As::<[Same; 33]>")]
    pub sender: [u8; 33],
    /// The sender's message counter in this session, strictly increasing.
    pub sequence: Sequence,
    /// When the sender made the message (checked against the receiver's clock for skew).
    pub timestamp: Timestamp,
    /// The protocol message.
    pub payload: Payload,
}

impl Envelope {
    /// An envelope of the current [`WIRE_VERSION`] from `sender`.
    pub fn new(
        session_id: SessionId,
        sender: &PublicKey,
        sequence: Sequence,
        timestamp: Timestamp,
        payload: Payload,
    ) -> Self {
        Envelope {
            version: WIRE_VERSION,
            session_id,
            sender: sender.serialize(),
            sequence,
            timestamp,
            payload,
        }
    }

    /// The sender's key, parsed.
    ///
    /// # Errors
    ///
    /// [`DecodeError::InvalidPoint`] (`Sender`) when the bytes are not a curve point.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::wire::*;
    ///
    /// let mut envelope = Envelope::new(
    ///     SessionId([1; 32]),
    ///     &chorus_core::crypto::Keypair::from_secret_key(
    ///         &chorus_core::crypto::SecretKey::from_secret_bytes([1; 32]).unwrap(),
    ///     ).public_key(),
    ///     Sequence(1),
    ///     Timestamp::from_millis(0),
    ///     Payload::SessionReady(SessionReady { coordinator_index: 0 }),
    /// );
    /// envelope.sender = [0; 33];
    /// assert_eq!(envelope.sender_key(), Err(DecodeError::InvalidPoint(PointField::Sender)));
    /// ```
    pub fn sender_key(&self) -> Result<PublicKey, DecodeError> {
        parse_key(&self.sender, PointField::Sender)
    }

    /// The 32 bytes the sender signs: `tagged_hash("chorus/envelope/v1", postcard(envelope))`.
    ///
    /// The postcard encoding covers every field, the version and the full 33-byte sender key
    /// included: BIP340 verifies under the x-only key, so without the prefix byte in the
    /// signed data a signature would stand for two different sender keys.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::wire::*;
    ///
    /// let key = chorus_core::crypto::Keypair::from_secret_key(
    ///     &chorus_core::crypto::SecretKey::from_secret_bytes([1; 32]).unwrap(),
    /// ).public_key();
    /// let payload = Payload::SessionReady(SessionReady { coordinator_index: 0 });
    /// let first = Envelope::new(SessionId([1; 32]), &key, Sequence(1), Timestamp::from_millis(0), payload.clone());
    /// let second = Envelope::new(SessionId([1; 32]), &key, Sequence(2), Timestamp::from_millis(0), payload);
    /// assert_ne!(first.signing_digest(), second.signing_digest());
    /// ```
    pub fn signing_digest(&self) -> [u8; 32] {
        tagged_hash(ENVELOPE_TAG, &[&postcard_append(self, Vec::new())])
    }

    /// Checks the version, the sender key and the payload's bounds and points.
    ///
    /// [`SignedEnvelope::decode`] runs this on everything it returns; a sender can run it
    /// before sealing to make sure peers will accept the message.
    ///
    /// # Errors
    ///
    /// [`DecodeError::UnsupportedVersion`], [`DecodeError::InvalidPoint`], or whatever
    /// [`Payload::validate`] refuses.
    pub fn validate(&self) -> Result<(), DecodeError> {
        self.parse().map(drop)
    }

    /// [`Envelope::validate`], handing back the sender's key and the payload's values as
    /// parsed.
    fn parse(&self) -> Result<(PublicKey, ParsedPayload), DecodeError> {
        self.check_version()?;
        let sender = self.sender_key()?;
        Ok((sender, self.payload.parse()?))
    }

    /// The version field is [`WIRE_VERSION`].
    pub(super) fn check_version(&self) -> Result<(), DecodeError> {
        if self.version == WIRE_VERSION {
            Ok(())
        } else {
            Err(DecodeError::UnsupportedVersion {
                expected: WIRE_VERSION,
                got: self.version,
            })
        }
    }
}

/// An [`Envelope`] with its sender's signature: what travels between peers.
///
/// The signature is single-key BIP340 Schnorr by the sender over
/// [`Envelope::signing_digest`], whatever dialect the session signs its transaction in:
/// the envelope only authenticates a peer, so one scheme for every session keeps the check
/// uniform, and BIP340 is libsecp256k1's audited code with auxiliary randomness in its
/// nonce (lotus-lib's single-signature nonce depends on key and message alone).
///
/// Fields are public and unchecked: a value from [`SignedEnvelope::decode`] is well-formed
/// but not yet authentic; [`SignedEnvelope::verify_signature`] decides that.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::time::Timestamp;
/// use chorus_core::wire::*;
///
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
/// let mallory = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0x66; 32]).unwrap());
/// let envelope = Envelope::new(
///     SessionId([1; 32]),
///     &alice.public_key(),
///     Sequence(1),
///     Timestamp::from_millis(0),
///     Payload::SessionReady(SessionReady { coordinator_index: 0 }),
/// );
/// let genuine = SignedEnvelope::seal(envelope.clone(), &alice, &[0; 32]);
/// assert!(genuine.verify_signature());
///
/// // Mallory's signature on an envelope that names Alice as its sender.
/// let forged = SignedEnvelope {
///     envelope,
///     signature: chorus_core::crypto::sign_single(
///         chorus_core::crypto::Dialect::Bip340,
///         &mallory,
///         &genuine.envelope.signing_digest(),
///         &[0; 32],
///     ).to_bytes(),
/// };
/// assert!(!forged.verify_signature());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedEnvelope {
    /// The signed envelope.
    pub envelope: Envelope,
    /// BIP340 signature by `envelope.sender` over `envelope.signing_digest()`.
    #[serde(with = "As::<[Same; 64]>")]
    pub signature: [u8; 64],
}

impl SignedEnvelope {
    /// Signs `envelope` as `keypair`, with `aux_rand` as BIP340's auxiliary randomness.
    ///
    /// The envelope's `sender` is set to `keypair`'s key first, so a sealed envelope always
    /// names the key that signed it.
    pub fn seal(mut envelope: Envelope, keypair: &Keypair, aux_rand: &[u8; 32]) -> Self {
        envelope.sender = keypair.public_key().serialize();
        let signature = crypto::sign_single(
            Dialect::Bip340,
            keypair,
            &envelope.signing_digest(),
            aux_rand,
        );
        SignedEnvelope {
            envelope,
            signature: signature.to_bytes(),
        }
    }

    /// Whether the signature is the sender's over this envelope (false when the sender is
    /// not a curve point).
    pub fn verify_signature(&self) -> bool {
        let Ok(sender) = self.envelope.sender_key() else {
            return false;
        };
        crypto::verify(
            Dialect::Bip340,
            &sender,
            &self.envelope.signing_digest(),
            &Signature::from_bytes(&self.signature),
        )
    }

    /// The wire form: [`WIRE_VERSION`], then the postcard encoding of the signed envelope.
    ///
    /// ```
    /// use chorus_core::crypto::{Keypair, SecretKey};
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::wire::*;
    ///
    /// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
    /// let envelope = Envelope::new(
    ///     SessionId([1; 32]),
    ///     &alice.public_key(),
    ///     Sequence(1),
    ///     Timestamp::from_millis(0),
    ///     Payload::SessionReady(SessionReady { coordinator_index: 0 }),
    /// );
    /// let bytes = SignedEnvelope::seal(envelope, &alice, &[0; 32]).encode();
    /// assert_eq!(bytes.first(), Some(&WIRE_VERSION));
    /// assert!(bytes.len() <= Channel::Gossip.max_message_len());
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        postcard_append(self, vec![WIRE_VERSION])
    }

    /// Reads a signed envelope from `bytes` received on `channel`.
    ///
    /// Checks, cheapest first, each before any work the next one costs: the channel's size
    /// limit (before parsing anything), the version byte, postcard, no trailing bytes, the
    /// envelope's version field, canonical encoding, then [`Envelope::validate`] (signer
    /// bounds and order, options, every point on the curve). The signature is not verified
    /// here: the session engine verifies it after its own cheaper checks (timestamp skew,
    /// membership, phase, sequence). Never panics.
    ///
    /// # Errors
    ///
    /// The [`DecodeError`] of the first check that fails.
    ///
    /// ```
    /// use chorus_core::wire::{Channel, DecodeError, SignedEnvelope, WIRE_VERSION};
    ///
    /// assert_eq!(SignedEnvelope::decode(&[WIRE_VERSION], Channel::Direct), Err(DecodeError::Truncated));
    /// ```
    pub fn decode(bytes: &[u8], channel: Channel) -> Result<Self, DecodeError> {
        DecodedEnvelope::decode(bytes, channel)?
            .parse_points()
            .map(|parsed| parsed.signed)
    }
}

/// Appends the postcard encoding of `value` to `out`.
///
/// Postcard fails only when its output buffer is full or a sequence does not know its
/// length; a growing `Vec` and the wire types (slices, arrays, `Vec`s) rule out both, so
/// the empty fallback is never taken. It exists because the core must not panic.
fn postcard_append<T: Serialize>(value: &T, out: Vec<u8>) -> Vec<u8> {
    postcard::to_extend(value, out).unwrap_or_default()
}
