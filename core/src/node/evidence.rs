//! Evidence of misbehaviour: the signed envelopes that prove a blame, checkable by anyone.

use crate::crypto::{
    aggregate_nonces, CryptoError, KeyAggContext, PublicKey, PublicNonce, SigningSession,
};
use crate::wire::{AbortCode, Payload, PayloadKind, SignedEnvelope};

/// The signed envelopes that prove a signer misbehaved.
///
/// Each envelope carries its sender's signature, so a third party who trusts nothing but
/// the signatures can check the accusation with [`Evidence::verify`].
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::node::{Evidence, EvidenceError};
/// use chorus_core::time::Timestamp;
/// use chorus_core::wire::*;
///
/// let mallory = Keypair::from_secret_key(&SecretKey::from_secret_bytes([6; 32]).unwrap());
/// let commit = |commitment| {
///     let envelope = Envelope::new(
///         SessionId([1; 32]),
///         &mallory.public_key(),
///         Sequence(1),
///         Timestamp::from_millis(0),
///         Payload::NonceCommit(NonceCommit { attempt: 0, commitment }),
///     );
///     SignedEnvelope::seal(envelope, &mallory, &[0; 32])
/// };
/// let evidence = Evidence::Equivocation { first: commit([1; 32]), second: commit([2; 32]) };
/// assert_eq!(evidence.verify(), Ok(mallory.public_key()));
///
/// let same = Evidence::Equivocation { first: commit([1; 32]), second: commit([1; 32]) };
/// assert_eq!(same.verify(), Err(EvidenceError::NoMisbehaviour));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Evidence {
    /// A partial signature that does not verify: the session's announcement, every
    /// signer's nonce share of that attempt (from which the aggregate nonce follows), and the
    /// partial signature.
    InvalidPartialSignature {
        /// The creator's signed session announcement.
        announce: SignedEnvelope,
        /// One signed nonce share per signer, for the partial signature's attempt.
        nonces: Vec<SignedEnvelope>,
        /// The blamed signer's signed partial signature.
        partial: SignedEnvelope,
    },
    /// A revealed nonce that does not match the same signer's commitment.
    NonceCommitmentMismatch {
        /// The signed commitment.
        commitment: SignedEnvelope,
        /// The signed nonce share.
        reveal: SignedEnvelope,
    },
    /// Two different messages of one kind for one attempt, both signed by the same signer.
    Equivocation {
        /// The first.
        first: SignedEnvelope,
        /// The second.
        second: SignedEnvelope,
    },
}

/// Why [`Evidence::verify`] does not uphold an accusation.
///
/// ```
/// use chorus_core::node::EvidenceError;
///
/// assert_eq!(EvidenceError::BadSignature.to_string(), "an envelope's signature does not verify");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// An envelope is not signed by its sender.
    #[error("an envelope's signature does not verify")]
    BadSignature,
    /// The envelopes belong to different sessions.
    #[error("the envelopes belong to different sessions")]
    SessionMismatch,
    /// The envelopes come from different senders where one is expected.
    #[error("the envelopes come from different senders")]
    SenderMismatch,
    /// An envelope holds the wrong kind of message.
    #[error("unexpected {got} in the evidence")]
    WrongKind {
        /// The kind found.
        got: PayloadKind,
    },
    /// The messages belong to different round-1 attempts.
    #[error("the messages belong to different attempts")]
    AttemptMismatch,
    /// A sender is not a signer of the announced session.
    #[error("a sender is not a signer of the session")]
    NotASigner,
    /// The nonce shares are not exactly one per signer.
    #[error("the nonce shares are not exactly one per signer")]
    IncompleteNonces,
    /// The session cannot be rebuilt from the announcement and nonces.
    #[error("the session cannot be rebuilt: {0}")]
    Crypto(#[from] CryptoError),
    /// The envelopes are consistent with honest behaviour.
    #[error("the envelopes show no misbehaviour")]
    NoMisbehaviour,
}

impl Evidence {
    /// Checks the accusation and returns the key of the signer it proves guilty.
    ///
    /// # Errors
    ///
    /// The [`EvidenceError`] of the first check that fails: a bad signature, inconsistent
    /// envelopes, or envelopes that show no misbehaviour at all.
    pub fn verify(&self) -> Result<PublicKey, EvidenceError> {
        match self {
            Evidence::InvalidPartialSignature {
                announce,
                nonces,
                partial,
            } => verify_invalid_partial(announce, nonces, partial),
            Evidence::NonceCommitmentMismatch { commitment, reveal } => {
                let key = same_sender(commitment, reveal)?;
                let (Payload::NonceCommit(commit), Payload::NonceShare(share)) =
                    (&commitment.envelope.payload, &reveal.envelope.payload)
                else {
                    return Err(wrong_kind(commitment, reveal, PayloadKind::NonceCommit));
                };
                if commit.attempt != share.attempt {
                    return Err(EvidenceError::AttemptMismatch);
                }
                let envelope = &commitment.envelope;
                if commit.matches(&envelope.session_id, &envelope.sender, share) {
                    return Err(EvidenceError::NoMisbehaviour);
                }
                Ok(key)
            }
            Evidence::Equivocation { first, second } => {
                let key = same_sender(first, second)?;
                let (Some(one), Some(other)) = (
                    attempt_of(&first.envelope.payload),
                    attempt_of(&second.envelope.payload),
                ) else {
                    return Err(wrong_kind(first, second, PayloadKind::NonceShare));
                };
                if first.envelope.payload.kind() != second.envelope.payload.kind() {
                    return Err(EvidenceError::WrongKind {
                        got: second.envelope.payload.kind(),
                    });
                }
                if one != other {
                    return Err(EvidenceError::AttemptMismatch);
                }
                if first.envelope.payload == second.envelope.payload {
                    return Err(EvidenceError::NoMisbehaviour);
                }
                Ok(key)
            }
        }
    }

    /// The abort code a blame on this evidence is announced with.
    ///
    /// ```
    /// # use chorus_core::crypto::{Keypair, SecretKey};
    /// # use chorus_core::node::Evidence;
    /// # use chorus_core::time::Timestamp;
    /// # use chorus_core::wire::*;
    /// # let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([6; 32]).unwrap());
    /// # let envelope = Envelope::new(SessionId([1; 32]), &key.public_key(), Sequence(1),
    /// #     Timestamp::from_millis(0), Payload::SessionReady(SessionReady { coordinator_index: 0 }));
    /// # let sealed = SignedEnvelope::seal(envelope, &key, &[0; 32]);
    /// let evidence = Evidence::Equivocation { first: sealed.clone(), second: sealed };
    /// assert_eq!(evidence.code(), AbortCode::Equivocation);
    /// ```
    pub fn code(&self) -> AbortCode {
        match self {
            Evidence::InvalidPartialSignature { .. } => AbortCode::InvalidPartialSignature,
            Evidence::NonceCommitmentMismatch { .. } => AbortCode::NonceCommitmentMismatch,
            Evidence::Equivocation { .. } => AbortCode::Equivocation,
        }
    }
}

/// The round-1 attempt of the message kinds a signer can equivocate on.
pub(crate) fn attempt_of(payload: &Payload) -> Option<u32> {
    match payload {
        Payload::NonceCommit(commit) => Some(commit.attempt),
        Payload::NonceShare(share) => Some(share.attempt),
        Payload::AggregateNonce(share) => Some(share.attempt),
        Payload::PartialSignature(share) => Some(share.attempt),
        _ => None,
    }
}

fn wrong_kind(
    first: &SignedEnvelope,
    second: &SignedEnvelope,
    wanted: PayloadKind,
) -> EvidenceError {
    let got = if first.envelope.payload.kind() == wanted {
        second.envelope.payload.kind()
    } else {
        first.envelope.payload.kind()
    };
    EvidenceError::WrongKind { got }
}

fn authentic(envelope: &SignedEnvelope) -> Result<(), EvidenceError> {
    if envelope.verify_signature() {
        Ok(())
    } else {
        Err(EvidenceError::BadSignature)
    }
}

/// Both envelopes authentic, of one session, from one sender: that sender's key.
fn same_sender(
    first: &SignedEnvelope,
    second: &SignedEnvelope,
) -> Result<PublicKey, EvidenceError> {
    authentic(first)?;
    authentic(second)?;
    if first.envelope.session_id != second.envelope.session_id {
        return Err(EvidenceError::SessionMismatch);
    }
    if first.envelope.sender != second.envelope.sender {
        return Err(EvidenceError::SenderMismatch);
    }
    first
        .envelope
        .sender_key()
        .map_err(|_| EvidenceError::BadSignature)
}

fn verify_invalid_partial(
    announce: &SignedEnvelope,
    nonces: &[SignedEnvelope],
    partial: &SignedEnvelope,
) -> Result<PublicKey, EvidenceError> {
    authentic(announce)?;
    authentic(partial)?;
    let session_id = announce.envelope.session_id;
    let Payload::SessionAnnounce(spec) = &announce.envelope.payload else {
        return Err(EvidenceError::WrongKind {
            got: announce.envelope.payload.kind(),
        });
    };
    let Payload::PartialSignature(share) = &partial.envelope.payload else {
        return Err(EvidenceError::WrongKind {
            got: partial.envelope.payload.kind(),
        });
    };
    if partial.envelope.session_id != session_id {
        return Err(EvidenceError::SessionMismatch);
    }
    let blamed = spec
        .signer_index(&partial.envelope.sender)
        .ok_or(EvidenceError::NotASigner)?;
    let mut public_nonces: Vec<Option<PublicNonce>> = vec![None; spec.signers.len()];
    for envelope in nonces {
        authentic(envelope)?;
        if envelope.envelope.session_id != session_id {
            return Err(EvidenceError::SessionMismatch);
        }
        let Payload::NonceShare(nonce) = &envelope.envelope.payload else {
            return Err(EvidenceError::WrongKind {
                got: envelope.envelope.payload.kind(),
            });
        };
        if nonce.attempt != share.attempt {
            return Err(EvidenceError::AttemptMismatch);
        }
        let index = spec
            .signer_index(&envelope.envelope.sender)
            .ok_or(EvidenceError::NotASigner)?;
        let slot = public_nonces
            .get_mut(index)
            .ok_or(EvidenceError::NotASigner)?;
        if slot.replace(nonce.public_nonce(spec.dialect)?).is_some() {
            return Err(EvidenceError::IncompleteNonces);
        }
    }
    let public_nonces: Vec<PublicNonce> = public_nonces
        .into_iter()
        .collect::<Option<_>>()
        .ok_or(EvidenceError::IncompleteNonces)?;
    let keys = spec.signer_keys().map_err(|_| EvidenceError::NotASigner)?;
    let ctx = KeyAggContext::new(spec.dialect, &keys)?;
    let aggregate = aggregate_nonces(spec.dialect, &public_nonces)?;
    let session = SigningSession::new(&ctx, &aggregate, &spec.message)?;
    let blamed_nonce = public_nonces
        .get(blamed)
        .ok_or(EvidenceError::IncompleteNonces)?;
    let partial_signature = share.partial_signature()?;
    if session.partial_verify(&ctx, blamed, &partial_signature, blamed_nonce) {
        return Err(EvidenceError::NoMisbehaviour);
    }
    keys.get(blamed).copied().ok_or(EvidenceError::NotASigner)
}
