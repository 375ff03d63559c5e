//! Fuzz bodies: what the cargo-fuzz targets in `fuzz/` run, compiled in every build that
//! enables the `fuzz` feature so that they never rot, and replayed over the committed seed
//! corpus by the test suite on stable Rust.
//!
//! - [`decode`]: bytes → every wire type and crypto encoding;
//! - [`decode_crypto`]: bytes → every parser and verifier of the crypto and election API;
//! - [`node_ops`]: bytes → a sequence of [`Op`]s against one [`Node`](chorus_core::Node)
//!   among honest peers, with invariants checked after every step;
//! - [`scenario`]: bytes → a whole simulated run ([`crate::Sim`]).
//!
//! Each body takes raw bytes, exactly as the fuzzer hands them over, so a corpus file
//! replays the same way under the fuzzer and in a test. A body panics when it finds a bug.
//!
//! In a cargo-fuzz build (`--cfg fuzzing`) the node under test of [`node_ops`] skips
//! envelope signature checks (`Config::fuzzing_skip_envelope_signatures`, a field that
//! exists only in that build), so that mutated messages reach deep states; [`scenario`]
//! keeps them, since forged messages are one of its byzantine behaviours.
//!
//! ```
//! use chorus_harness::fuzz;
//!
//! fuzz::decode(&[1, 2, 3]);
//! fuzz::node_ops(b"any bytes at all");
//! ```

mod corpus;
mod craft;
mod crypto;
mod decode;
mod encode;
mod matchmaking;
mod ops;
mod outputs;
mod scenario;
mod seeds;
mod world;

use chorus_core::discovery::DiscoveryEvent;
use chorus_core::node::{Event, Rejection};

pub use arbitrary;
pub use corpus::{seed_corpus, Seed};
pub use crypto::decode_crypto;
pub use decode::decode;
pub use ops::{
    Crafted, CraftedRecord, NodeOps, Op, PayloadChoice, RecordChoice, SequenceChoice,
    SessionChoice, Setup,
};
pub use scenario::{run_scenario, scenario, ScenarioInput};
pub use seeds::{node_ops_seeds, NodeOpsSeed};

/// The most operations one input runs, so that one input stays fast.
pub const MAX_OPS: usize = 64;

/// Runs the operations `bytes` describe ([`NodeOps`], drawn with `arbitrary`) against one
/// node among honest peers.
///
/// After every step: nothing panicked; a rejected message or failed command changed no
/// state ([`Node::state_digest`](chorus_core::Node::state_digest)) unless it was blame;
/// the output queue, the sessions kept and the early messages held stay within the
/// configured limits; every message the node sends is a well-formed envelope it signed,
/// with no sequence number or public nonce used twice; every signature it reports
/// verifies; every blame carries evidence that checks; an early timeout changes nothing
/// and a timeout leaves no due timer behind.
///
/// # Panics
///
/// When an invariant breaks: the message says which.
///
/// ```
/// chorus_harness::fuzz::node_ops(&[0x42; 256]);
/// ```
pub fn node_ops(bytes: &[u8]) {
    if let Ok(input) = NodeOps::from_bytes(bytes) {
        run_node_ops(&input);
    }
}

/// What the node under test of a [`node_ops`] run did.
///
/// ```
/// use chorus_harness::fuzz::{run_node_ops, NodeOps, Op, SessionChoice, Setup};
///
/// let setup = Setup {
///     peers: 0,
///     max_sessions: 3,
///     max_held_per_sender: 4,
///     max_queued_outputs: 63,
///     nonce_memory: 15,
///     max_tracked_peers: 3,
///     key_aggregation_cache: 1,
///     max_sequence_gap: 99,
///     peers_confirm_broadcasts: true,
///     rng_seed: 7,
/// };
/// let session = SessionChoice {
///     others: 0b10, // the node under test and its one peer
///     message: 9,
///     lotus: false,
///     election: 0,
///     nonce_commitments: true,
///     aggregator: false,
///     broadcast_timeout_ms: 60_000,
///     manual: false,
/// };
/// let report = run_node_ops(&NodeOps { setup, ops: vec![Op::Create(session), Op::DeliverAll] });
/// assert!(report
///     .events
///     .iter()
///     .any(|event| matches!(event, chorus_core::node::Event::SessionComplete { .. })));
/// ```
#[derive(Debug, Clone, Default)]
pub struct NodeOpsReport {
    /// Every event the node under test emitted, in order.
    pub events: Vec<Event>,
    /// Every rejection of a message handed to the node under test, in order.
    pub rejections: Vec<Rejection>,
    /// Every discovery event the node under test emitted, in order.
    pub discovery_events: Vec<DiscoveryEvent>,
}

/// [`node_ops`] on operations already drawn; returns what the node under test did.
///
/// # Panics
///
/// As [`node_ops`].
pub fn run_node_ops(input: &NodeOps) -> NodeOpsReport {
    // Triage aid: `CHORUS_FUZZ_TRACE=1` prints each operation before it runs.
    let trace = std::env::var_os("CHORUS_FUZZ_TRACE").is_some();
    if trace {
        eprintln!("{:?}", input.setup);
    }
    let mut world = world::World::new(&input.setup);
    world.trace = trace;
    for (step, op) in input.ops.iter().take(MAX_OPS).enumerate() {
        if trace {
            eprintln!("step {step} at {}: {op:?}", world.now);
        }
        world.apply(op);
    }
    world.report
}
