//! In-process transport for Chorus nodes.
//!
//! This crate will hold a transport that carries the transmits of many
//! [`chorus_core`] nodes inside one process, with the same destination semantics as
//! the network transports (direct peer, topic, DHT record), for tests and examples.
//! The sans-IO session engine it drives is not built yet, so for now the crate only
//! names the core it will drive.

pub use chorus_core;
