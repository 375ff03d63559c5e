//! Decoding in two steps, for the session engine: [`DecodedEnvelope`] (the bytes' form and
//! bounds, cheap) and [`ParsedEnvelope`] (the curve points, a square root each).
//!
//! [`SignedEnvelope::decode`] runs both at once. The engine runs its own cheap checks —
//! clock skew, known session, participant, phase, sequence — between the two, so a replayed
//! or misdirected message is refused before any point is parsed, and hands the parsed
//! points on, so no point is parsed twice.

use secp256k1::PublicKey;

use super::hash::{tagged_hash, ENVELOPE_TAG};
use super::{Channel, DecodeError, ParsedPayload, Payload, SignedEnvelope, WIRE_VERSION};
use crate::crypto::{self, Dialect, Signature};

/// The length of an envelope signature.
const SIGNATURE_LEN: usize = 64;

/// A [`SignedEnvelope`] read from bytes whose form and bounds are checked but whose curve
/// points are not parsed yet ([`DecodedEnvelope::parse_points`] does that).
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
///     Payload::NonceShare(NonceShare { attempt: 0, nonce: [0; 66] }),
/// );
/// let sealed = SignedEnvelope::seal(envelope, &alice, &[0; 32]);
/// // [0; 66] is not a pair of points: the form is fine, the points are not.
/// let decoded = DecodedEnvelope::decode(&sealed.encode(), Channel::Direct)?;
/// assert_eq!(decoded.signed.envelope.sequence, Sequence(1));
/// assert_eq!(
///     decoded.parse_points().unwrap_err(),
///     DecodeError::InvalidPoint(PointField::PublicNonce)
/// );
/// # Ok::<(), DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedEnvelope {
    /// The envelope and its signature, unauthenticated.
    pub signed: SignedEnvelope,
    /// [`Envelope::signing_digest`](super::Envelope::signing_digest), hashed from the
    /// received bytes.
    signing_digest: [u8; 32],
}

impl DecodedEnvelope {
    /// Reads a signed envelope from `bytes` received on `channel`.
    ///
    /// Checks, cheapest first: the channel's size limit (before parsing anything), the
    /// version byte, postcard, no trailing bytes, the envelope's version field, canonical
    /// encoding, then the payload's bounds (signer count and order, options, indices,
    /// lengths). Never panics.
    ///
    /// # Errors
    ///
    /// The [`DecodeError`] of the first check that fails.
    pub fn decode(bytes: &[u8], channel: Channel) -> Result<Self, DecodeError> {
        let limit = channel.max_message_len();
        if bytes.len() > limit {
            return Err(DecodeError::Oversized {
                limit,
                got: bytes.len(),
            });
        }
        let (&version, body) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if version != WIRE_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                expected: WIRE_VERSION,
                got: version,
            });
        }
        let (signed, rest) = postcard::take_from_bytes::<SignedEnvelope>(body)
            .map_err(DecodeError::from_postcard)?;
        if !rest.is_empty() {
            return Err(DecodeError::TrailingBytes { count: rest.len() });
        }
        signed.envelope.check_version()?;
        // Postcard accepts over-long varints; only the one encoding we would produce counts.
        if signed.encode() != bytes {
            return Err(DecodeError::NonCanonical);
        }
        signed.envelope.payload.check_bounds()?;
        // Canonical bytes are the version, postcard(envelope), then the 64 signature bytes
        // (a fixed-size array has no length prefix): the signed part is right there.
        let signing_digest = body
            .len()
            .checked_sub(SIGNATURE_LEN)
            .and_then(|end| body.get(..end))
            .map_or_else(
                || signed.envelope.signing_digest(),
                |encoded| tagged_hash(ENVELOPE_TAG, &[encoded]),
            );
        Ok(DecodedEnvelope {
            signed,
            signing_digest,
        })
    }

    /// Whether the signature is `sender`'s over the envelope, for a caller that holds the
    /// sender's key parsed already (false when `sender` is not the envelope's sender).
    ///
    /// ```
    /// use chorus_core::crypto::{Keypair, SecretKey};
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::wire::*;
    ///
    /// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
    /// let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xb0; 32]).unwrap());
    /// let envelope = Envelope::new(
    ///     SessionId([1; 32]),
    ///     &alice.public_key(),
    ///     Sequence(1),
    ///     Timestamp::from_millis(0),
    ///     Payload::SessionReady(SessionReady { coordinator_index: 0 }),
    /// );
    /// let bytes = SignedEnvelope::seal(envelope, &alice, &[0; 32]).encode();
    /// let decoded = DecodedEnvelope::decode(&bytes, Channel::Direct)?;
    /// assert!(decoded.verify_signature_with(&alice.public_key()));
    /// assert!(!decoded.verify_signature_with(&bob.public_key()));
    /// # Ok::<(), DecodeError>(())
    /// ```
    pub fn verify_signature_with(&self, sender: &PublicKey) -> bool {
        sender.serialize() == self.signed.envelope.sender
            && verify_envelope(sender, &self.signing_digest, &self.signed.signature)
    }

    /// Parses the sender's key and every point and scalar of the payload.
    ///
    /// # Errors
    ///
    /// [`DecodeError::InvalidPoint`] or [`DecodeError::InvalidScalar`] for the first that
    /// fails.
    pub fn parse_points(self) -> Result<ParsedEnvelope, DecodeError> {
        let sender = self.signed.envelope.sender_key()?;
        self.parse_payload_points(sender)
    }

    /// [`DecodedEnvelope::parse_points`] for a caller that holds the sender's key parsed
    /// already (a session knows its signers' keys): only the payload's points are parsed.
    /// A `sender` that is not the envelope's sender is ignored and the sender's key is
    /// parsed instead.
    ///
    /// # Errors
    ///
    /// As [`DecodedEnvelope::parse_points`].
    pub fn parse_points_with_sender(
        self,
        sender: &PublicKey,
    ) -> Result<ParsedEnvelope, DecodeError> {
        if sender.serialize() == self.signed.envelope.sender {
            self.parse_payload_points(*sender)
        } else {
            self.parse_points()
        }
    }

    fn parse_payload_points(self, sender: PublicKey) -> Result<ParsedEnvelope, DecodeError> {
        let parsed = match &self.signed.envelope.payload {
            // An honest join names its sender's key, parsed already: equal bytes, equal point.
            Payload::Join(join) if join.key == self.signed.envelope.sender => {
                ParsedPayload::JoinKey(sender)
            }
            payload => payload.parse_points()?,
        };
        Ok(ParsedEnvelope {
            signed: self.signed,
            sender,
            parsed,
            signing_digest: self.signing_digest,
        })
    }
}

/// A [`DecodedEnvelope`] with its points parsed: everything [`SignedEnvelope::decode`]
/// checks has passed, and the parsed values are at hand.
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
/// let sealed = SignedEnvelope::seal(envelope, &alice, &[0; 32]);
/// let parsed = DecodedEnvelope::decode(&sealed.encode(), Channel::Direct)?.parse_points()?;
/// assert_eq!(parsed.sender, alice.public_key());
/// assert_eq!(parsed.parsed, ParsedPayload::Nothing);
/// assert_eq!(parsed.signing_digest(), sealed.envelope.signing_digest());
/// assert!(parsed.verify_signature());
/// assert_eq!(parsed.signed, sealed);
/// # Ok::<(), DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEnvelope {
    /// The envelope and its signature.
    pub signed: SignedEnvelope,
    /// `signed.envelope.sender`, parsed.
    pub sender: PublicKey,
    /// The payload's points and scalars, parsed.
    pub parsed: ParsedPayload,
    signing_digest: [u8; 32],
}

impl ParsedEnvelope {
    /// The 32 bytes the sender signed
    /// ([`Envelope::signing_digest`](super::Envelope::signing_digest)).
    pub fn signing_digest(&self) -> [u8; 32] {
        self.signing_digest
    }

    /// Whether the signature is the sender's over the envelope: the same answer as
    /// [`SignedEnvelope::verify_signature`], without parsing the key or encoding the
    /// envelope again.
    pub fn verify_signature(&self) -> bool {
        verify_envelope(&self.sender, &self.signing_digest, &self.signed.signature)
    }
}

/// BIP340 verification of an envelope signature.
fn verify_envelope(sender: &PublicKey, digest: &[u8; 32], signature: &[u8; 64]) -> bool {
    crypto::verify(
        Dialect::Bip340,
        sender,
        digest,
        &Signature::from_bytes(signature),
    )
}
