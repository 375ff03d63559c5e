//! Errors of the MuSig2 steps.

use super::Dialect;

/// Why a cryptographic step refused its input.
///
/// ```
/// use chorus_core::crypto::{CryptoError, Dialect, KeyAggContext};
///
/// assert_eq!(KeyAggContext::new(Dialect::Bip340, &[]).unwrap_err(), CryptoError::EmptyKeyList);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A key aggregation was asked for no keys.
    #[error("the key list is empty")]
    EmptyKeyList,
    /// A nonce aggregation was asked for no nonces.
    #[error("the nonce list is empty")]
    EmptyNonceList,
    /// The operation does not exist in this dialect.
    #[error("{operation} is not supported in the {dialect} dialect")]
    UnsupportedInDialect {
        /// What was asked.
        operation: &'static str,
        /// The dialect that lacks it.
        dialect: Dialect,
    },
    /// A tweak is not a scalar below the group order, or it moved the key to infinity.
    #[error("invalid tweak")]
    InvalidTweak,
    /// The bytes are not a point on the curve.
    #[error("invalid public key")]
    InvalidPublicKey,
    /// The bytes are not two valid points.
    #[error("invalid public nonce")]
    InvalidPublicNonce,
    /// The bytes are not a valid aggregate nonce.
    #[error("invalid aggregate nonce")]
    InvalidAggregateNonce,
    /// The bytes are not a scalar below the group order.
    #[error("invalid partial signature")]
    InvalidPartialSignature,
    /// The bytes are not a well-formed signature.
    #[error("invalid signature encoding")]
    InvalidSignature,
    /// A Lotus aggregate nonce component is the point at infinity (lotus-lib cannot encode it).
    #[error("aggregate nonce is the point at infinity")]
    NonceAtInfinity,
    /// A signer index is not a position in the signer list.
    #[error("signer index {index} out of range for {signers} signers")]
    SignerIndexOutOfRange {
        /// The index given.
        index: usize,
        /// How many signers the context has.
        signers: usize,
    },
    /// The key pair is not the signer's key, or the secret nonce was made for another key.
    #[error("key does not match the signer or the nonce")]
    KeyMismatch,
    /// Values of two dialects were mixed.
    #[error("expected a {expected} value, got a {got} value")]
    DialectMismatch {
        /// The dialect of the context.
        expected: Dialect,
        /// The dialect of the value passed.
        got: Dialect,
    },
    /// Aggregation needs exactly one partial signature per signer.
    #[error("expected {expected} partial signatures, got {got}")]
    WrongPartialSignatureCount {
        /// The number of signers.
        expected: usize,
        /// The number given.
        got: usize,
    },
    /// The aggregate signature scalar is zero (Lotus cannot encode it).
    #[error("aggregate signature is zero")]
    ZeroSignature,
    /// The random number generator returned only zero bytes, again and again.
    #[error("the random number generator returned only zero bytes")]
    ZeroRandomness,
}
