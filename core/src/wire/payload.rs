//! The protocol messages a session exchanges, as they travel inside an envelope.
//!
//! Byte fields are fixed-size arrays or bounded vectors; points stay in their 33-byte (or
//! 66-byte, for nonce pairs) compressed encoding so the codec needs no curve arithmetic, and
//! [`Payload::validate`] parses every one of them once, when the message is decoded.

use core::fmt;

use secp256k1::PublicKey;
use serde::{Deserialize, Serialize};
use serde_with::{As, Same};

use super::hash::{tagged_hash, NONCE_COMMITMENT_TAG};
use super::{
    DecodeError, PointField, SessionAnnounce, SessionId, MAX_SIGNERS, MAX_TRANSACTION_ID_LEN,
};
use crate::crypto::{
    AggregateNonce, CryptoError, Dialect, PartialSignature, PublicNonce, Signature,
};

/// The body of a protocol message.
///
/// Postcard encodes the variant by its position, so variants are only ever appended.
///
/// ```
/// use chorus_core::wire::{Payload, PayloadKind, SessionReady};
///
/// let payload = Payload::SessionReady(SessionReady { coordinator_index: 2 });
/// assert_eq!(payload.kind(), PayloadKind::SessionReady);
/// assert!(payload.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// The creator describes a new session.
    SessionAnnounce(SessionAnnounce),
    /// A signer joins, proving it holds its key.
    Join(Join),
    /// Round 0 (optional): a signer commits to its public nonce.
    NonceCommit(NonceCommit),
    /// Round 1: a signer reveals its public nonce.
    NonceShare(NonceShare),
    /// Round 1, aggregator topology: the aggregator sends the sum of all public nonces.
    AggregateNonce(AggregateNonceShare),
    /// Round 2: a signer's partial signature.
    PartialSignature(PartialSignatureShare),
    /// The aggregated final signature (aggregator topology).
    FinalSignature(FinalSignature),
    /// The sender gives up on the session.
    SessionAbort(SessionAbort),
    /// Every required signer has joined; the session can start.
    SessionReady(SessionReady),
    /// The final transaction was broadcast.
    BroadcastConfirmation(BroadcastConfirmation),
}

/// The kind of a [`Payload`] without its data, for phase checks and rejections.
///
/// ```
/// use chorus_core::wire::PayloadKind;
///
/// assert_eq!(PayloadKind::NonceShare.to_string(), "nonce share");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum PayloadKind {
    /// [`Payload::SessionAnnounce`].
    SessionAnnounce,
    /// [`Payload::Join`].
    Join,
    /// [`Payload::NonceCommit`].
    NonceCommit,
    /// [`Payload::NonceShare`].
    NonceShare,
    /// [`Payload::AggregateNonce`].
    AggregateNonce,
    /// [`Payload::PartialSignature`].
    PartialSignature,
    /// [`Payload::FinalSignature`].
    FinalSignature,
    /// [`Payload::SessionAbort`].
    SessionAbort,
    /// [`Payload::SessionReady`].
    SessionReady,
    /// [`Payload::BroadcastConfirmation`].
    BroadcastConfirmation,
}

impl fmt::Display for PayloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PayloadKind::SessionAnnounce => "session announce",
            PayloadKind::Join => "join",
            PayloadKind::NonceCommit => "nonce commit",
            PayloadKind::NonceShare => "nonce share",
            PayloadKind::AggregateNonce => "aggregate nonce",
            PayloadKind::PartialSignature => "partial signature",
            PayloadKind::FinalSignature => "final signature",
            PayloadKind::SessionAbort => "session abort",
            PayloadKind::SessionReady => "session ready",
            PayloadKind::BroadcastConfirmation => "broadcast confirmation",
        })
    }
}

impl Payload {
    /// Which kind of message this is.
    ///
    /// ```
    /// use chorus_core::wire::{AbortCode, Payload, PayloadKind, SessionAbort};
    ///
    /// let abort = Payload::SessionAbort(SessionAbort { reason: AbortCode::Closed, blamed_signer: None });
    /// assert_eq!(abort.kind(), PayloadKind::SessionAbort);
    /// ```
    pub fn kind(&self) -> PayloadKind {
        match self {
            Payload::SessionAnnounce(_) => PayloadKind::SessionAnnounce,
            Payload::Join(_) => PayloadKind::Join,
            Payload::NonceCommit(_) => PayloadKind::NonceCommit,
            Payload::NonceShare(_) => PayloadKind::NonceShare,
            Payload::AggregateNonce(_) => PayloadKind::AggregateNonce,
            Payload::PartialSignature(_) => PayloadKind::PartialSignature,
            Payload::FinalSignature(_) => PayloadKind::FinalSignature,
            Payload::SessionAbort(_) => PayloadKind::SessionAbort,
            Payload::SessionReady(_) => PayloadKind::SessionReady,
            Payload::BroadcastConfirmation(_) => PayloadKind::BroadcastConfirmation,
        }
    }

    /// Checks what can be checked without the session: bounds, order, points, scalars.
    ///
    /// Dialect-specific checks wait for the session engine, which knows the dialect: a
    /// public nonce is two valid points in both dialects, but an aggregate nonce half may
    /// be the point at infinity (33 zero bytes) only in BIP327, so this accepts it and a
    /// Lotus session refuses it when it parses the nonce.
    ///
    /// # Errors
    ///
    /// [`DecodeError::NoSigners`], [`DecodeError::TooManySigners`],
    /// [`DecodeError::UnsortedSigners`], [`DecodeError::BroadcastTimeout`],
    /// [`DecodeError::InvalidPoint`], [`DecodeError::InvalidScalar`],
    /// [`DecodeError::SignerIndexOutOfRange`] or [`DecodeError::TransactionIdLength`], for
    /// the first field that fails.
    ///
    /// ```
    /// use chorus_core::wire::{DecodeError, NonceShare, Payload, PointField};
    ///
    /// let bogus = Payload::NonceShare(NonceShare { attempt: 0, nonce: [0; 66] });
    /// assert_eq!(bogus.validate(), Err(DecodeError::InvalidPoint(PointField::PublicNonce)));
    /// ```
    pub fn validate(&self) -> Result<(), DecodeError> {
        self.parse().map(drop)
    }

    /// Runs [`Payload::validate`]'s checks and hands back the values they parsed, so that
    /// nobody parses the same point twice.
    ///
    /// # Errors
    ///
    /// As [`Payload::validate`].
    ///
    /// ```
    /// use chorus_core::crypto::PartialSignature;
    /// use chorus_core::wire::{ParsedPayload, PartialSignatureShare, Payload};
    ///
    /// let partial = PartialSignature::from_bytes(&[7; 32]).unwrap();
    /// let payload = Payload::PartialSignature(PartialSignatureShare::new(0, &partial));
    /// assert_eq!(payload.parse(), Ok(ParsedPayload::PartialSignature(partial)));
    /// ```
    pub fn parse(&self) -> Result<ParsedPayload, DecodeError> {
        self.check_bounds()?;
        self.parse_points()
    }

    /// The checks of [`Payload::validate`] that parse no point: counts, order, options,
    /// indices, lengths.
    pub(crate) fn check_bounds(&self) -> Result<(), DecodeError> {
        match self {
            Payload::SessionAnnounce(announce) => announce.check_shape(),
            Payload::SessionAbort(SessionAbort {
                blamed_signer: Some(index),
                ..
            }) => check_signer_index(*index),
            Payload::SessionReady(ready) => check_signer_index(ready.coordinator_index),
            Payload::BroadcastConfirmation(confirmation) => {
                let got = confirmation.transaction_id.len();
                if (1..=MAX_TRANSACTION_ID_LEN).contains(&got) {
                    Ok(())
                } else {
                    Err(DecodeError::TransactionIdLength {
                        limit: MAX_TRANSACTION_ID_LEN,
                        got,
                    })
                }
            }
            _ => Ok(()),
        }
    }

    /// The costly part of [`Payload::validate`]: every curve point (a square root each) and
    /// scalar, parsed.
    pub(crate) fn parse_points(&self) -> Result<ParsedPayload, DecodeError> {
        match self {
            Payload::SessionAnnounce(announce) => {
                announce.signer_keys().map(ParsedPayload::Signers)
            }
            Payload::Join(join) => {
                parse_key(&join.key, PointField::JoinKey).map(ParsedPayload::JoinKey)
            }
            Payload::NonceShare(share) => share
                .public_nonce(Dialect::Bip340)
                .map(ParsedPayload::PublicNonce)
                .map_err(|_| DecodeError::InvalidPoint(PointField::PublicNonce)),
            Payload::AggregateNonce(share) => share
                .aggregate_nonce(Dialect::Bip340)
                .map(ParsedPayload::AggregateNonce)
                .map_err(|_| DecodeError::InvalidPoint(PointField::AggregateNonce)),
            Payload::PartialSignature(share) => share
                .partial_signature()
                .map(ParsedPayload::PartialSignature)
                .map_err(|_| DecodeError::InvalidScalar),
            Payload::NonceCommit(_)
            | Payload::FinalSignature(_)
            | Payload::SessionAbort(_)
            | Payload::SessionReady(_)
            | Payload::BroadcastConfirmation(_) => Ok(ParsedPayload::Nothing),
        }
    }
}

/// The points and scalars of a [`Payload`], parsed by [`Payload::parse`].
///
/// Nonces are parsed as BIP327 nonces (the wire does not know the session's dialect); a
/// Lotus session parses its nonces again in its own dialect.
///
/// ```
/// use chorus_core::wire::{ParsedPayload, Payload, SessionReady};
///
/// let ready = Payload::SessionReady(SessionReady { coordinator_index: 0 });
/// assert_eq!(ready.parse(), Ok(ParsedPayload::Nothing));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParsedPayload {
    /// The payload holds no point or scalar.
    Nothing,
    /// A session announcement's signers, in the announced (sorted) order.
    Signers(Vec<PublicKey>),
    /// A join's key.
    JoinKey(PublicKey),
    /// A nonce share's public nonce, in the Bip340 dialect.
    PublicNonce(PublicNonce),
    /// An aggregate nonce, in the Bip340 dialect.
    AggregateNonce(AggregateNonce),
    /// A partial signature's scalar.
    PartialSignature(PartialSignature),
}

/// Parses a 33-byte compressed key, naming the field on failure.
pub(crate) fn parse_key(bytes: &[u8; 33], field: PointField) -> Result<PublicKey, DecodeError> {
    PublicKey::from_byte_array_compressed(*bytes).map_err(|_| DecodeError::InvalidPoint(field))
}

/// A signer index must be a position in some session's list, whatever its size.
fn check_signer_index(index: u16) -> Result<(), DecodeError> {
    if usize::from(index) < MAX_SIGNERS {
        Ok(())
    } else {
        Err(DecodeError::SignerIndexOutOfRange {
            index,
            limit: MAX_SIGNERS,
        })
    }
}

/// A signer's request to take part.
///
/// The join needs no signature of its own: the envelope that carries it is signed by its
/// sender over the session id, the sender's key and this payload, and the session accepts
/// a join only when `key` is that sender's key. The envelope's signature is therefore the
/// proof that the joiner holds `key`, bound to this session (it cannot be replayed into
/// another one, whose id differs) — one signature and one check per join instead of two.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::wire::Join;
///
/// let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xb0; 32]).unwrap());
/// let join = Join::new(&bob.public_key());
/// assert_eq!(join.key, bob.public_key().serialize());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Join {
    /// The joining signer's compressed key; it must be the envelope's sender.
    #[serde(with = "As::<[Same; 33]>")]
    pub key: [u8; 33],
}

impl Join {
    /// `key` joins the session of the envelope that will carry it.
    pub fn new(key: &PublicKey) -> Self {
        Join {
            key: key.serialize(),
        }
    }
}

/// Round 0: a hash commitment to the public nonce the sender will reveal.
///
/// The commitment is `tagged_hash("chorus/nonce-commitment/v1", session_id ‖ signer ‖
/// attempt (u32 big-endian) ‖ nonce)`: binding the session, the signer and the attempt keeps
/// a peer from echoing someone else's commitment as its own.
///
/// ```
/// use chorus_core::crypto::*;
/// use chorus_core::wire::{NonceCommit, NonceShare, SessionId};
/// use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
///
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
/// let ctx = KeyAggContext::new(Dialect::Bip340, &[alice.public_key()])?;
/// let (_secret, public) = generate_nonce(&ctx, &alice, &[0; 32], &mut ChaCha20Rng::seed_from_u64(1))?;
/// let session = SessionId([4; 32]);
/// let signer = alice.public_key().serialize();
///
/// let commit = NonceCommit::new(&session, &signer, 0, &public);
/// assert!(commit.matches(&session, &signer, &NonceShare::new(0, &public)));
/// assert!(!commit.matches(&session, &signer, &NonceShare::new(1, &public)));
/// # Ok::<(), CryptoError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceCommit {
    /// Which round-1 attempt the nonce is for (0 first; a restart after a failed
    /// aggregator takes the next number and fresh nonces).
    pub attempt: u32,
    /// The commitment hash.
    pub commitment: [u8; 32],
}

impl NonceCommit {
    /// Commits `signer` to `nonce` for `attempt` of `session_id`.
    pub fn new(
        session_id: &SessionId,
        signer: &[u8; 33],
        attempt: u32,
        nonce: &PublicNonce,
    ) -> Self {
        NonceCommit {
            attempt,
            commitment: NonceCommit::commitment_for(session_id, signer, attempt, &nonce.to_bytes()),
        }
    }

    /// The commitment hash of `nonce` (R1 ‖ R2) for `signer` and `attempt` of `session_id`.
    ///
    /// ```
    /// use chorus_core::wire::{NonceCommit, SessionId};
    ///
    /// let session = SessionId([1; 32]);
    /// assert_ne!(
    ///     NonceCommit::commitment_for(&session, &[2; 33], 0, &[3; 66]),
    ///     NonceCommit::commitment_for(&session, &[2; 33], 1, &[3; 66])
    /// );
    /// ```
    pub fn commitment_for(
        session_id: &SessionId,
        signer: &[u8; 33],
        attempt: u32,
        nonce: &[u8; 66],
    ) -> [u8; 32] {
        tagged_hash(
            NONCE_COMMITMENT_TAG,
            &[session_id.as_bytes(), signer, &attempt.to_be_bytes(), nonce],
        )
    }

    /// Whether `share` reveals the nonce this commits `signer` to, for the same attempt.
    pub fn matches(&self, session_id: &SessionId, signer: &[u8; 33], share: &NonceShare) -> bool {
        self.attempt == share.attempt
            && self.commitment
                == NonceCommit::commitment_for(session_id, signer, share.attempt, &share.nonce)
    }
}

/// Round 1: the sender's public nonce (R1 ‖ R2, two compressed points).
///
/// ```
/// use chorus_core::crypto::*;
/// use chorus_core::wire::NonceShare;
/// use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
///
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
/// let ctx = KeyAggContext::new(Dialect::Lotus, &[alice.public_key()])?;
/// let (_secret, public) = generate_nonce(&ctx, &alice, &[0; 32], &mut ChaCha20Rng::seed_from_u64(1))?;
/// let share = NonceShare::new(0, &public);
/// assert_eq!(share.public_nonce(Dialect::Lotus)?, public);
/// # Ok::<(), CryptoError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceShare {
    /// Which round-1 attempt this nonce is for.
    pub attempt: u32,
    /// R1 ‖ R2.
    #[serde(with = "As::<[Same; 66]>")]
    pub nonce: [u8; 66],
}

impl NonceShare {
    /// Shares `nonce` for `attempt`.
    pub fn new(attempt: u32, nonce: &PublicNonce) -> Self {
        NonceShare {
            attempt,
            nonce: nonce.to_bytes(),
        }
    }

    /// The nonce parsed for `dialect`.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidPublicNonce`] unless both halves are curve points.
    pub fn public_nonce(&self, dialect: Dialect) -> Result<PublicNonce, CryptoError> {
        PublicNonce::from_bytes(dialect, &self.nonce)
    }
}

/// Round 1, aggregator topology: the sum of every signer's public nonce.
///
/// ```
/// use chorus_core::crypto::*;
/// use chorus_core::wire::AggregateNonceShare;
/// use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
///
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
/// let ctx = KeyAggContext::new(Dialect::Bip340, &[alice.public_key()])?;
/// let (_secret, public) = generate_nonce(&ctx, &alice, &[0; 32], &mut ChaCha20Rng::seed_from_u64(1))?;
/// let aggregate = aggregate_nonces(Dialect::Bip340, &[public])?;
/// let share = AggregateNonceShare::new(0, &aggregate);
/// assert_eq!(share.aggregate_nonce(Dialect::Bip340)?, aggregate);
/// # Ok::<(), CryptoError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateNonceShare {
    /// Which round-1 attempt the nonces were collected in.
    pub attempt: u32,
    /// The aggregate R1 ‖ R2.
    #[serde(with = "As::<[Same; 66]>")]
    pub nonce: [u8; 66],
}

impl AggregateNonceShare {
    /// Shares `nonce` for `attempt`.
    pub fn new(attempt: u32, nonce: &AggregateNonce) -> Self {
        AggregateNonceShare {
            attempt,
            nonce: nonce.to_bytes(),
        }
    }

    /// The aggregate nonce parsed for `dialect`.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidAggregateNonce`] unless both halves are curve points (or, in
    /// Bip340 only, the 33-zero-byte encoding of infinity).
    pub fn aggregate_nonce(&self, dialect: Dialect) -> Result<AggregateNonce, CryptoError> {
        AggregateNonce::from_bytes(dialect, &self.nonce)
    }
}

/// Round 2: the sender's partial signature (a 32-byte scalar).
///
/// ```
/// use chorus_core::crypto::PartialSignature;
/// use chorus_core::wire::PartialSignatureShare;
///
/// let partial = PartialSignature::from_bytes(&[7; 32]).unwrap();
/// let share = PartialSignatureShare::new(0, &partial);
/// assert_eq!(share.partial_signature().unwrap(), partial);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialSignatureShare {
    /// Which round-1 attempt's aggregate nonce this signs under.
    pub attempt: u32,
    /// The big-endian scalar.
    pub partial_signature: [u8; 32],
}

impl PartialSignatureShare {
    /// Shares `partial_signature` made under `attempt`'s aggregate nonce.
    pub fn new(attempt: u32, partial_signature: &PartialSignature) -> Self {
        PartialSignatureShare {
            attempt,
            partial_signature: partial_signature.to_bytes(),
        }
    }

    /// The scalar parsed.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidPartialSignature`] unless it is below the group order.
    pub fn partial_signature(&self) -> Result<PartialSignature, CryptoError> {
        PartialSignature::from_bytes(&self.partial_signature)
    }
}

/// The aggregated 64-byte final signature, in the session's dialect.
///
/// ```
/// use chorus_core::crypto::Signature;
/// use chorus_core::wire::FinalSignature;
///
/// let message = FinalSignature::new(&Signature([3; 64]));
/// assert_eq!(message.signature(), Signature([3; 64]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalSignature {
    /// The signature bytes.
    #[serde(with = "As::<[Same; 64]>")]
    pub signature: [u8; 64],
}

impl FinalSignature {
    /// Wraps `signature`.
    pub fn new(signature: &Signature) -> Self {
        FinalSignature {
            signature: signature.to_bytes(),
        }
    }

    /// The signature (verify it under the aggregate key before trusting it).
    pub fn signature(&self) -> Signature {
        Signature::from_bytes(&self.signature)
    }
}

/// Why a participant aborts a session.
///
/// Postcard encodes the variant by its position, so variants are only ever appended.
///
/// ```
/// use chorus_core::wire::AbortCode;
///
/// assert_eq!(AbortCode::Equivocation.to_string(), "equivocation");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AbortCode {
    /// The participant closed the session on purpose.
    Closed,
    /// The session outlived its timeout.
    Expired,
    /// The session made no progress for too long.
    Stuck,
    /// A partial signature did not verify.
    InvalidPartialSignature,
    /// A revealed nonce did not match its commitment.
    NonceCommitmentMismatch,
    /// A signer sent two different nonces (or partial signatures) for one attempt.
    Equivocation,
    /// A message broke the protocol in some other way.
    ProtocolViolation,
    /// Every coordinator in the priority list failed to broadcast.
    FailoverExhausted,
}

impl fmt::Display for AbortCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AbortCode::Closed => "closed",
            AbortCode::Expired => "expired",
            AbortCode::Stuck => "stuck",
            AbortCode::InvalidPartialSignature => "invalid partial signature",
            AbortCode::NonceCommitmentMismatch => "nonce commitment mismatch",
            AbortCode::Equivocation => "equivocation",
            AbortCode::ProtocolViolation => "protocol violation",
            AbortCode::FailoverExhausted => "failover exhausted",
        })
    }
}

/// The sender gives up on the session, naming the culprit when there is one.
///
/// ```
/// use chorus_core::wire::{AbortCode, SessionAbort};
///
/// let abort = SessionAbort { reason: AbortCode::InvalidPartialSignature, blamed_signer: Some(1) };
/// assert_eq!(abort.blamed_signer, Some(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAbort {
    /// Why.
    pub reason: AbortCode,
    /// The blamed signer's index in the announced signer list, if one is to blame.
    pub blamed_signer: Option<u16>,
}

/// Every required signer has joined; the session starts.
///
/// ```
/// use chorus_core::wire::SessionReady;
///
/// let ready = SessionReady { coordinator_index: 0 };
/// assert_eq!(ready.coordinator_index, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionReady {
    /// The sender's elected coordinator as an index in the signer list; receivers compare
    /// it with their own election.
    pub coordinator_index: u16,
}

/// The final transaction was broadcast; every participant cancels its failover timers.
///
/// ```
/// use chorus_core::wire::{BroadcastConfirmation, Payload};
///
/// let confirmation = BroadcastConfirmation { transaction_id: vec![0xab; 32] };
/// assert!(Payload::BroadcastConfirmation(confirmation).validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastConfirmation {
    /// The transaction id, 1 to [`MAX_TRANSACTION_ID_LEN`] bytes.
    pub transaction_id: Vec<u8>,
}
