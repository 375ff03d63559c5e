//! Chorus core: sans-IO MuSig2 multi-party signing.
//!
//! This crate is pure: no I/O, no clock, no threads, no OS randomness. Time and seeds
//! are inputs. It holds
//!
//! - [`crypto`]: MuSig2 in two Schnorr dialects, [`crypto::Dialect::Bip340`] (BIP327 /
//!   BIP340, through libsecp256k1's audited `musig` module) and
//!   [`crypto::Dialect::Lotus`] (lotus-lib compatible), behind one API;
//! - [`election`]: deterministic coordinator election and failover order.
//!
//! The session engine (`Node`, signed wire messages, rounds, blame, failover timers)
//! and discovery build on these.

pub mod crypto;
pub mod election;
pub mod time;
pub mod timer;
pub mod wire;

pub use secp256k1;
