//! One signing session: partial signatures, their checks, and the final signature.

use core::fmt;
use core::str::FromStr;

use secp256k1::musig;
use secp256k1::{Keypair, Scalar, XOnlyPublicKey};

use super::context::AggregationState;
use super::nonce::{dialect_mismatch, AggregateNonceInner, PublicNonceInner, SecretNonceInner};
use super::{lotus, AggregateNonce, CryptoError, Dialect, KeyAggContext, PublicNonce, SecretNonce};

/// A 32-byte partial signature: a scalar below the group order.
///
/// ```
/// use chorus_core::crypto::{CryptoError, PartialSignature};
///
/// let partial = PartialSignature::from_bytes(&[7; 32]).unwrap();
/// assert_eq!(partial.to_bytes(), [7; 32]);
/// assert_eq!(PartialSignature::from_bytes(&[0xff; 32]), Err(CryptoError::InvalidPartialSignature));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PartialSignature([u8; 32]);

impl PartialSignature {
    /// Reads a big-endian scalar.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidPartialSignature`] when the value is not below the group order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        Scalar::from_be_bytes(*bytes).map_err(|_| CryptoError::InvalidPartialSignature)?;
        Ok(PartialSignature(*bytes))
    }

    /// The big-endian scalar.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// libsecp256k1's form of the same scalar.
    fn to_musig(self) -> Result<musig::PartialSignature, CryptoError> {
        musig::PartialSignature::from_byte_array(&self.0)
            .map_err(|_| CryptoError::InvalidPartialSignature)
    }
}

/// A 64-byte final Schnorr signature (either dialect).
///
/// Displayed as lowercase hex and parsed back from hex of either case.
///
/// ```
/// use chorus_core::crypto::{CryptoError, Signature};
///
/// let signature = Signature([0xab; 64]);
/// let text = signature.to_string();
/// assert_eq!(text, "ab".repeat(64));
/// assert_eq!(text.parse::<Signature>().unwrap(), signature);
/// assert_eq!(Signature::from_bytes(&signature.to_bytes()), signature);
/// assert_eq!(Signature::from_slice(&[0; 63]), Err(CryptoError::InvalidSignature));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    /// Wraps 64 bytes.
    pub fn from_bytes(bytes: &[u8; 64]) -> Self {
        Signature(*bytes)
    }

    /// Reads a signature from a slice.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidSignature`] unless the slice is 64 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        bytes
            .try_into()
            .map(Signature)
            .map_err(|_| CryptoError::InvalidSignature)
    }

    /// The 64 bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl FromStr for Signature {
    type Err = CryptoError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| CryptoError::InvalidSignature)?;
        Ok(Signature(bytes))
    }
}

/// One signing session: an aggregate nonce and a message bound to a key context.
///
/// Every call takes the same [`KeyAggContext`] the session was made with.
///
/// ```
/// use chorus_core::crypto::*;
/// use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
///
/// let keypair = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
/// let ctx = KeyAggContext::new(Dialect::Lotus, &[keypair.public_key()]).unwrap();
/// let message = [0x42; 32];
/// let mut rng = ChaCha20Rng::seed_from_u64(1);
/// let (secret, public) = generate_nonce(&ctx, &keypair, &message, &mut rng).unwrap();
/// let aggregate = aggregate_nonces(Dialect::Lotus, &[public]).unwrap();
/// let session = SigningSession::new(&ctx, &aggregate, &message).unwrap();
/// let partial = session.partial_sign(&ctx, 0, secret, &keypair).unwrap();
/// assert!(session.partial_verify(&ctx, 0, &partial, &public));
/// let signature = session.aggregate(&ctx, &[partial]).unwrap();
/// assert!(verify(Dialect::Lotus, &ctx.aggregate_key(), &message, &signature));
/// ```
pub struct SigningSession {
    state: SessionState,
    message: [u8; 32],
}

/// The dialect-specific session values (nonce coefficient, final nonce, challenge).
enum SessionState {
    /// libsecp256k1's session and the aggregate key it was made under, to refuse a foreign
    /// context (libsecp256k1 would silently produce garbage).
    Bip340 {
        session: musig::Session,
        aggregate_key: XOnlyPublicKey,
    },
    Lotus(lotus::LotusSession),
}

impl SigningSession {
    /// Derives the session values from the aggregate nonce and the message.
    ///
    /// # Errors
    ///
    /// [`CryptoError::DialectMismatch`] when the nonce and context dialects differ; whatever
    /// the Lotus dialect refuses (e.g. [`CryptoError::NonceAtInfinity`]).
    pub fn new(
        ctx: &KeyAggContext,
        aggregate_nonce: &AggregateNonce,
        message: &[u8; 32],
    ) -> Result<Self, CryptoError> {
        let state = match (ctx.state(), &aggregate_nonce.inner) {
            (AggregationState::Bip340(cache), AggregateNonceInner::Bip340(nonce)) => {
                SessionState::Bip340 {
                    session: musig::Session::new(cache, *nonce, message),
                    aggregate_key: cache.agg_pk(),
                }
            }
            (AggregationState::Lotus(agg), AggregateNonceInner::Lotus(nonce)) => {
                SessionState::Lotus(lotus::LotusSession::new(agg, nonce, message)?)
            }
            _ => return Err(dialect_mismatch(ctx.dialect(), aggregate_nonce.dialect())),
        };
        Ok(SigningSession {
            state,
            message: *message,
        })
    }

    /// The dialect of this session.
    pub fn dialect(&self) -> Dialect {
        match self.state {
            SessionState::Bip340 { .. } => Dialect::Bip340,
            SessionState::Lotus(_) => Dialect::Lotus,
        }
    }

    /// The message being signed.
    pub fn message(&self) -> &[u8; 32] {
        &self.message
    }

    /// Signs as signer `signer_index`, consuming the secret nonce.
    ///
    /// # Errors
    ///
    /// [`CryptoError::SignerIndexOutOfRange`]; [`CryptoError::KeyMismatch`] when `keypair` is
    /// not `ctx.signers()[signer_index]` or the nonce was made for another key;
    /// [`CryptoError::DialectMismatch`] when the context, session or nonce dialects differ;
    /// [`CryptoError::KeyMismatch`] too when `ctx` is not the context the session was made with.
    /// The nonce is dropped on every error: a refused nonce is never offered again.
    pub fn partial_sign(
        &self,
        ctx: &KeyAggContext,
        signer_index: usize,
        secret_nonce: SecretNonce,
        keypair: &Keypair,
    ) -> Result<PartialSignature, CryptoError> {
        self.check_context(ctx)?;
        let signer = ctx
            .signers()
            .get(signer_index)
            .ok_or(CryptoError::SignerIndexOutOfRange {
                index: signer_index,
                signers: ctx.signers().len(),
            })?;
        let public_key = keypair.public_key();
        // Stored keys are normalised, so comparing the stored form is exact.
        if !public_key.eq_fast_unstable(signer) {
            return Err(CryptoError::KeyMismatch);
        }
        match (&self.state, ctx.state(), secret_nonce.inner) {
            (
                SessionState::Bip340 {
                    session,
                    aggregate_key,
                },
                AggregationState::Bip340(cache),
                SecretNonceInner::Bip340 {
                    nonce,
                    public_key: nonce_key,
                },
            ) => {
                // libsecp256k1 aborts on a nonce made for another key: refuse it here.
                if !nonce_key.eq_fast_unstable(&public_key) || !same_key(cache, aggregate_key) {
                    return Err(CryptoError::KeyMismatch);
                }
                Ok(PartialSignature(
                    session.partial_sign(nonce, keypair, cache).serialize(),
                ))
            }
            (
                SessionState::Lotus(session),
                AggregationState::Lotus(agg),
                SecretNonceInner::Lotus(nonce),
            ) => {
                let bytes = session.partial_sign(agg, signer_index, nonce, keypair)?;
                PartialSignature::from_bytes(&bytes)
            }
            (_, _, SecretNonceInner::Bip340 { .. }) => {
                Err(dialect_mismatch(self.dialect(), Dialect::Bip340))
            }
            (_, _, SecretNonceInner::Lotus(_)) => {
                Err(dialect_mismatch(self.dialect(), Dialect::Lotus))
            }
        }
    }

    /// Checks signer `signer_index`'s partial signature against its public nonce.
    ///
    /// Returns `false` for any mismatch (dialects, index out of range, wrong nonce or key);
    /// never panics.
    pub fn partial_verify(
        &self,
        ctx: &KeyAggContext,
        signer_index: usize,
        partial: &PartialSignature,
        public_nonce: &PublicNonce,
    ) -> bool {
        let Some(signer) = ctx.signers().get(signer_index) else {
            return false;
        };
        match (&self.state, ctx.state(), &public_nonce.inner) {
            (
                SessionState::Bip340 {
                    session,
                    aggregate_key,
                },
                AggregationState::Bip340(cache),
                PublicNonceInner::Bip340(nonce),
            ) => {
                same_key(cache, aggregate_key)
                    && partial.to_musig().is_ok_and(|partial| {
                        session.partial_verify(cache, &partial, nonce, *signer)
                    })
            }
            (
                SessionState::Lotus(session),
                AggregationState::Lotus(agg),
                PublicNonceInner::Lotus(nonce),
            ) => session.partial_verify(agg, signer_index, &partial.0, nonce),
            _ => false,
        }
    }

    /// Sums the partial signatures into the final signature.
    ///
    /// Takes exactly one partial signature per signer, in signer order. Does not verify them.
    ///
    /// # Errors
    ///
    /// [`CryptoError::WrongPartialSignatureCount`]; [`CryptoError::DialectMismatch`];
    /// [`CryptoError::KeyMismatch`] when `ctx` is not the session's context;
    /// [`CryptoError::ZeroSignature`] (Lotus) when the sum is zero.
    pub fn aggregate(
        &self,
        ctx: &KeyAggContext,
        partials: &[PartialSignature],
    ) -> Result<Signature, CryptoError> {
        self.check_context(ctx)?;
        let expected = ctx.signers().len();
        if partials.len() != expected {
            return Err(CryptoError::WrongPartialSignatureCount {
                expected,
                got: partials.len(),
            });
        }
        match (&self.state, ctx.state()) {
            (
                SessionState::Bip340 {
                    session,
                    aggregate_key,
                },
                AggregationState::Bip340(cache),
            ) => {
                if !same_key(cache, aggregate_key) {
                    return Err(CryptoError::KeyMismatch);
                }
                sum_bip340(session, partials).map(Signature)
            }
            (SessionState::Lotus(session), AggregationState::Lotus(agg)) => {
                let scalars: Vec<[u8; 32]> = partials.iter().map(|partial| partial.0).collect();
                session.aggregate(agg, &scalars).map(Signature)
            }
            _ => Err(dialect_mismatch(ctx.dialect(), self.dialect())),
        }
    }

    /// Refuses a context of the other dialect.
    fn check_context(&self, ctx: &KeyAggContext) -> Result<(), CryptoError> {
        if ctx.dialect() == self.dialect() {
            Ok(())
        } else {
            Err(dialect_mismatch(ctx.dialect(), self.dialect()))
        }
    }
}

#[cfg(feature = "test-vectors")]
impl SigningSession {
    /// The Lotus session values `(b, R, negated, e)`, for conformance vectors; `None` for Bip340.
    ///
    /// `b` is the nonce coefficient, `R` the effective nonce before normalisation, `negated`
    /// whether the nonces were negated to give R a quadratic-residue y, `e` the challenge.
    pub fn lotus_values(&self) -> Option<([u8; 32], secp256k1::PublicKey, bool, [u8; 32])> {
        match &self.state {
            SessionState::Lotus(session) => Some((
                session.nonce_coefficient(),
                session.effective_nonce(),
                session.nonces_negated(),
                session.challenge(),
            )),
            SessionState::Bip340 { .. } => None,
        }
    }
}

/// libsecp256k1's signature aggregation over our partial signatures.
fn sum_bip340(
    session: &musig::Session,
    partials: &[PartialSignature],
) -> Result<[u8; 64], CryptoError> {
    let parsed = partials
        .iter()
        .map(|partial| partial.to_musig())
        .collect::<Result<Vec<musig::PartialSignature>, CryptoError>>()?;
    let refs: Vec<&musig::PartialSignature> = parsed.iter().collect();
    if refs.is_empty() {
        // libsecp256k1's aggregation panics on an empty list.
        return Err(CryptoError::WrongPartialSignatureCount {
            expected: 1,
            got: 0,
        });
    }
    Ok(*session
        .partial_sig_agg(&refs)
        .assume_valid()
        .as_byte_array())
}

/// Whether the cache's aggregate key is `key`.
///
/// libsecp256k1 stores keys normalised, so comparing the stored form is exact within one
/// process, and spares the two serialisations `==` costs on every aggregation.
fn same_key(cache: &musig::KeyAggCache, key: &XOnlyPublicKey) -> bool {
    cache.agg_pk().eq_fast_unstable(key)
}

impl fmt::Debug for SigningSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningSession")
            .field("dialect", &self.dialect())
            .field("message", &hex::encode(self.message))
            .finish_non_exhaustive()
    }
}
