//! libp2p transport for Chorus nodes.
//!
//! This crate will hold one libp2p `Swarm` per node (TCP and QUIC, Noise, Yamux):
//! GossipSub topics for signer advertisements and signing requests, a Kademlia DHT
//! (protocol `/lotus/kad/1.0.0` by default) of signed records, request-response for
//! direct session messages, and identify. It drives a [`chorus_core`] node; the node
//! engine it needs is not built yet, so for now the crate only names that core.

pub use chorus_core;
