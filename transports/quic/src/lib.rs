//! Raw QUIC transport for Chorus nodes.
//!
//! This crate will hold quinn endpoints whose self-signed TLS certificates are bound to
//! each node's signer key, carrying length-prefixed postcard frames between the members
//! of a group that already know each other's addresses. It drives a [`chorus_core`]
//! node; the node engine it needs is not built yet, so for now the crate only names
//! that core.

pub use chorus_core;
