//! MuSig2 in two Schnorr dialects behind one API.

mod dialect;
mod error;
pub(crate) mod lotus;

pub use dialect::{Dialect, UnknownDialect};
pub use error::CryptoError;
pub use secp256k1::{Keypair, PublicKey, SecretKey, XOnlyPublicKey};
