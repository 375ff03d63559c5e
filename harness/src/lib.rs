//! Deterministic simulator for Chorus.
//!
//! [`Sim`] steps N [`chorus_core::Node`]s on a virtual clock that jumps to the next
//! deadline, over a seeded, sans-IO network model (latency distributions, loss,
//! duplication, reordering, symmetric and asymmetric partitions, a bandwidth cap), with
//! nodes that crash and restart without their memory, and byzantine peers. The fault mix
//! itself is drawn from the seed (swarm testing). A run has a safety phase with faults,
//! then the network heals and a liveness phase must converge. The invariants of SPEC §6
//! are checked on every step's outputs; a run's trace hash covers every transmitted message
//! (through a fingerprint of its bytes) and every event, so the same seed replays byte for
//! byte.
//!
//! ```
//! use chorus_harness::{sweep, FaultPreset, Scenario, SweepOptions};
//!
//! let template = Scenario { faults: FaultPreset::Chaos, ..Scenario::default() };
//! let report = sweep(&template, 0..8, &SweepOptions { determinism: true, ..SweepOptions::default() });
//! assert_eq!((report.runs, report.replayed), (8, 8));
//! for failure in &report.failures {
//!     // Each failure names the command that replays it.
//!     eprintln!("{}: {}", failure.replay, failure.violations[0]);
//! }
//! assert!(report.failures.is_empty());
//! ```

mod byzantine;
#[cfg(feature = "fuzz")]
pub mod fuzz;
mod invariants;
mod network;
mod peek;
mod plan;
mod render;
mod rng;
mod scenario;
mod sim;
mod sweep;
mod trace;

pub use chorus_core;
pub use invariants::{Invariant, Violation};
pub use network::DropCause;
pub use plan::{FaultMix, RunPhase};
pub use render::{render_html, render_mermaid};
pub use scenario::{
    ByzantineKind, CommitmentChoice, Count, DialectChoice, FaultPreset, InvalidCount, Scenario,
    TopologyChoice, UnknownName,
};
pub use sim::{Outcome, Sim, SimOptions, Stats, START_MS};
pub use sweep::{sweep, Failure, SweepOptions, SweepReport};
pub use trace::{write_json_lines, Origin, TraceRecord};
