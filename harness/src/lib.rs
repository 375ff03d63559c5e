//! Deterministic simulator for Chorus.
//!
//! This crate will hold `Sim`: many [`chorus_core`] nodes stepped on a virtual clock
//! over a seeded, sans-IO network model (latency, loss, duplication, reordering,
//! partitions, crash and restart), byzantine peers, invariants checked after every
//! step, and seeds that replay a run byte for byte. The node engine it steps is not
//! built yet, so for now the crate only names that core.

pub use chorus_core;
