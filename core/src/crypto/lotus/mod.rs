//! The Lotus dialect of MuSig2 (lotus-lib compatible), on libsecp256k1 point and scalar operations.
//!
//! lotus-lib adapts BIP327 to Lotus Schnorr signatures: keys stay 33-byte compressed points,
//! the effective nonce is normalised to a quadratic-residue y instead of an even y, and the
//! challenge is a plain SHA-256 of `r ‖ Q ‖ m`. Every step here reproduces lotus-lib 0.1.49
//! byte for byte (see the conformance vectors), except nonce generation, which always mixes in
//! fresh caller randomness.
//!
//! Zero is a legitimate intermediate value in several places (a partial sum, a reduced hash),
//! so scalars carry zero explicitly and points carry infinity explicitly instead of failing.

mod hash;
mod keyagg;
mod nonce;
mod point;
mod scalar;
mod schnorr;
mod session;

#[cfg(test)]
mod vectors_tests;

pub(crate) use keyagg::LotusKeyAgg;
#[cfg(feature = "test-vectors")]
pub(crate) use nonce::secret_nonce_from_scalars;
pub(crate) use nonce::{
    aggregate_nonces, generate_nonce, LotusAggNonce, LotusPublicNonce, LotusSecretNonce,
};
pub(crate) use schnorr::{sign, verify};
pub(crate) use session::LotusSession;
