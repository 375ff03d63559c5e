//! MuSig2 in two Schnorr dialects behind one API.
//!
//! [`Dialect::Bip340`] runs BIP327 MuSig2 through libsecp256k1's `musig` module and produces
//! BIP340 signatures; [`Dialect::Lotus`] is lotus-lib's MuSig2 and produces Lotus Schnorr
//! signatures. The steps are the same in both: aggregate the keys ([`KeyAggContext`]), make a
//! fresh nonce per signer ([`generate_nonce`]), sum the public nonces ([`aggregate_nonces`]),
//! then sign, check and combine within a [`SigningSession`].
//!
//! A two-party BIP340 signing, both signers in one process:
//!
//! ```
//! use chorus_core::crypto::*;
//! use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
//!
//! let mut rng = ChaCha20Rng::seed_from_u64(2024);
//! let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
//! let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xb0; 32]).unwrap());
//! let message = [0x5a; 32];
//!
//! // Both build the same context: keys are sorted, so the order they were listed in is moot.
//! let ctx = KeyAggContext::new(Dialect::Bip340, &[bob.public_key(), alice.public_key()])?;
//! let alice_index = ctx.signer_index(&alice.public_key()).unwrap();
//! let bob_index = ctx.signer_index(&bob.public_key()).unwrap();
//!
//! // Round 1: each makes a fresh nonce and publishes its public half.
//! let (alice_secret, alice_public) = generate_nonce(&ctx, &alice, &message, &mut rng)?;
//! let (bob_secret, bob_public) = generate_nonce(&ctx, &bob, &message, &mut rng)?;
//! let mut public_nonces = [alice_public; 2];
//! public_nonces[bob_index] = bob_public;
//! let aggregate = aggregate_nonces(Dialect::Bip340, &public_nonces)?;
//!
//! // Round 2: each signs, consuming its secret nonce, and publishes the partial signature.
//! let session = SigningSession::new(&ctx, &aggregate, &message)?;
//! let alice_partial = session.partial_sign(&ctx, alice_index, alice_secret, &alice)?;
//! let bob_partial = session.partial_sign(&ctx, bob_index, bob_secret, &bob)?;
//! assert!(session.partial_verify(&ctx, bob_index, &bob_partial, &bob_public));
//!
//! let mut partials = [alice_partial; 2];
//! partials[bob_index] = bob_partial;
//! let signature = session.aggregate(&ctx, &partials)?;
//! assert!(verify_xonly(&ctx.xonly_key().unwrap(), &message, &signature));
//! # Ok::<(), CryptoError>(())
//! ```

pub(crate) mod bip340;
mod context;
mod dialect;
mod error;
pub(crate) mod lotus;
#[cfg(test)]
mod misuse_tests;
mod nonce;
mod session;
mod single;

pub use context::{sort_keys, KeyAggContext};
pub use dialect::{Dialect, UnknownDialect};
pub use error::CryptoError;
pub use nonce::{aggregate_nonces, generate_nonce, AggregateNonce, PublicNonce, SecretNonce};
pub use secp256k1::{Keypair, PublicKey, SecretKey, XOnlyPublicKey};
pub use session::{PartialSignature, Signature, SigningSession};
pub use single::{sign_single, verify, verify_xonly};
