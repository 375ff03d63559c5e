//! Chorus core: sans-IO MuSig2 multi-party signing.
//!
//! This crate is pure: no I/O, no clock, no threads, no OS randomness. Time and seeds
//! are inputs. It holds
//!
//! - [`crypto`]: MuSig2 in two Schnorr dialects, [`crypto::Dialect::Bip340`] (BIP327 /
//!   BIP340, through libsecp256k1's audited `musig` module) and
//!   [`crypto::Dialect::Lotus`] (lotus-lib compatible), behind one API;
//! - [`election`]: deterministic coordinator election and failover order;
//! - [`wire`]: signed envelopes and their codec;
//! - [`discovery`]: signer advertisements, signing requests and joins, from which every
//!   participant derives the same session;
//! - [`security`]: per-peer rate limits, quotas, blacklist, graylist and reputation;
//! - [`node`]: the session engine, [`Node`], which runs the rounds, blame, election and
//!   failover as `input -> (state, outputs)` transitions (its documentation shows the
//!   drive loop);
//! - [`transport`]: what a driver and a network transport exchange, so that transports
//!   (in-process, libp2p, QUIC) plug into any driver.

pub mod crypto;
pub mod discovery;
pub mod election;
pub mod node;
pub mod security;
pub mod time;
pub mod timer;
pub mod transport;
pub mod wire;

pub use node::Node;
pub use secp256k1;
