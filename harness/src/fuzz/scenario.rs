//! Bytes → a whole simulated run: the scenario's knobs are drawn from the bytes, and every
//! invariant the simulator checks must hold.

use arbitrary::{Arbitrary, Unstructured};

use crate::scenario::{ByzantineKind, Count, FaultPreset, Scenario, TopologyChoice};
use crate::sim::{Sim, SimOptions};

/// The most signers a fuzzed run has: small runs are fast, and most bugs show with few.
const MAX_SIGNERS: usize = 5;
/// The most sessions the safety phase of a fuzzed run starts.
const MAX_SESSIONS: usize = 3;

const TOPOLOGIES: [TopologyChoice; 3] = [
    TopologyChoice::Mesh,
    TopologyChoice::Aggregator,
    TopologyChoice::Mixed,
];

/// The knobs of one simulated run, as drawn from fuzz input.
///
/// ```
/// use arbitrary::{Arbitrary, Unstructured};
/// use chorus_harness::fuzz::ScenarioInput;
///
/// let input = ScenarioInput::arbitrary(&mut Unstructured::new(&[0; 32])).unwrap();
/// let scenario = input.scenario();
/// assert_eq!(scenario.seed, 0);
/// assert!(scenario.signers.low >= 1 && scenario.signers.low <= scenario.signers.high);
/// ```
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct ScenarioInput {
    /// The run's seed.
    pub seed: u64,
    /// The fewest signers (1 to 5).
    pub signers_low: u8,
    /// How many more signers a session may have (up to 5 in all).
    pub signers_spread: u8,
    /// Safety-phase sessions (1 to 3).
    pub sessions: u8,
    /// The topology, modulo the choices (always the aggregator topology for nonce
    /// equivocation and split views).
    pub topology: u8,
    /// The fault preset, modulo the presets.
    pub faults: u8,
    /// The byzantine behaviour, modulo the kinds.
    pub byzantine: u8,
    /// Run it twice and compare the trace hashes.
    pub determinism: bool,
}

impl ScenarioInput {
    /// The scenario these knobs describe.
    pub fn scenario(&self) -> Scenario {
        let byzantine = ByzantineKind::ALL[usize::from(self.byzantine) % ByzantineKind::ALL.len()];
        // In the mesh topology a signer showing different nonces to different peers makes
        // honest peers blame each other, which the engine does not prevent yet (see
        // `ByzantineKind::SWARM`): those kinds run where one aggregator sees every nonce.
        let topology = match byzantine {
            ByzantineKind::Equivocate | ByzantineKind::SplitView => TopologyChoice::Aggregator,
            _ => TOPOLOGIES[usize::from(self.topology) % TOPOLOGIES.len()],
        };
        let low = 1 + usize::from(self.signers_low) % MAX_SIGNERS;
        let high = (low + usize::from(self.signers_spread) % MAX_SIGNERS).min(MAX_SIGNERS);
        Scenario {
            seed: self.seed,
            signers: Count { low, high },
            sessions: 1 + usize::from(self.sessions) % MAX_SESSIONS,
            topology,
            faults: FaultPreset::ALL[usize::from(self.faults) % FaultPreset::ALL.len()],
            byzantine,
            ..Scenario::default()
        }
    }
}

/// Runs the simulated scenario `bytes` describe ([`ScenarioInput`]) to the end.
///
/// # Panics
///
/// When the simulation breaks an invariant (the message names it and the command that
/// replays the run), or, in determinism mode, when two runs of one seed differ.
///
/// ```
/// chorus_harness::fuzz::scenario(&[3; 16]);
/// ```
pub fn scenario(bytes: &[u8]) {
    let Ok(input) = ScenarioInput::arbitrary_take_rest(Unstructured::new(bytes)) else {
        return;
    };
    run_scenario(&input);
}

/// [`scenario`] on knobs already drawn.
///
/// # Panics
///
/// As [`scenario`].
pub fn run_scenario(input: &ScenarioInput) {
    let scenario = input.scenario();
    let outcome = Sim::new(&scenario, SimOptions::default()).run();
    assert!(
        outcome.passed(),
        "`{}` broke invariants: {:?}",
        scenario.replay_command(),
        outcome.violations
    );
    if input.determinism {
        let again = Sim::new(&scenario, SimOptions::default()).run();
        assert_eq!(
            outcome.trace_hash,
            again.trace_hash,
            "`{}` is not deterministic",
            scenario.replay_command()
        );
    }
}
