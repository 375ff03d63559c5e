//! Many seeds: each run is independent, so seeds are spread over threads; the report lists
//! failures in seed order, each with the command that replays it.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use chorus_core::node::Config;
use serde::Serialize;

use crate::invariants::{Invariant, Violation};
use crate::scenario::Scenario;
use crate::sim::{Outcome, Sim, SimOptions};

/// How a sweep runs.
///
/// ```
/// use chorus_harness::SweepOptions;
///
/// let options = SweepOptions::default();
/// assert_eq!(options.threads, 0);
/// assert!(!options.determinism && !options.stop_at_first_failure);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SweepOptions {
    /// Worker threads (0: one per available core).
    pub threads: usize,
    /// Run every seed twice and compare the trace hashes.
    pub determinism: bool,
    /// Stop once the smallest failing seed is known (every smaller seed still runs).
    pub stop_at_first_failure: bool,
    /// The configuration of node `index` (see [`SimOptions::node_config`]).
    pub node_config: fn(usize) -> Config,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            threads: 0,
            determinism: false,
            stop_at_first_failure: false,
            node_config: SimOptions::default().node_config,
        }
    }
}

/// One failing seed.
///
/// ```
/// use chorus_harness::{Failure, Scenario};
///
/// let scenario = Scenario { seed: 5, ..Scenario::default() };
/// let failure = Failure { seed: 5, replay: scenario.replay_command(), violations: Vec::new() };
/// assert!(failure.replay.starts_with("chorus sim --seed 5 "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// The `chorus sim` command that replays it.
    pub replay: String,
    /// What failed.
    pub violations: Vec<Violation>,
}

/// What a sweep found.
///
/// ```
/// use chorus_harness::SweepReport;
///
/// let report = SweepReport::default();
/// assert_eq!((report.runs, report.replayed, report.failures.len()), (0, 0, 0));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Seeds run (each counted once in determinism mode).
    pub runs: u64,
    /// Seeds run a second time with their trace hashes compared (determinism mode).
    pub replayed: u64,
    /// Sessions created over all runs.
    pub sessions: u64,
    /// Sessions completed over all runs.
    pub completed: u64,
    /// Messages sent over all runs.
    pub messages: u64,
    /// Steps over all runs.
    pub steps: u64,
    /// Failing seeds, smallest first.
    pub failures: Vec<Failure>,
}

/// Runs `template` for every seed in `seeds`.
///
/// ```
/// use chorus_harness::{sweep, FaultPreset, Scenario, SweepOptions};
///
/// let template = Scenario { faults: FaultPreset::None, ..Scenario::default() };
/// let report = sweep(&template, 10..14, &SweepOptions::default());
/// assert_eq!((report.runs, report.replayed), (4, 0));
/// assert!(report.failures.is_empty());
/// assert!(report.completed > 0);
/// ```
pub fn sweep(template: &Scenario, seeds: Range<u64>, options: &SweepOptions) -> SweepReport {
    let next = AtomicU64::new(seeds.start);
    let first_failure = AtomicU64::new(u64::MAX);
    let report = Mutex::new(SweepReport::default());
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        threads => threads,
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                let stop =
                    options.stop_at_first_failure && seed >= first_failure.load(Ordering::Relaxed);
                if seed >= seeds.end || stop {
                    return;
                }
                let scenario = template.with_seed(seed);
                let (outcome, violations) = run_checked(&scenario, options);
                if !violations.is_empty() {
                    first_failure.fetch_min(seed, Ordering::Relaxed);
                }
                if let Ok(mut report) = report.lock() {
                    add(&mut report, &outcome, violations, options.determinism);
                }
            });
        }
    });
    let mut report = report.into_inner().unwrap_or_default();
    report.failures.sort_by_key(|failure| failure.seed);
    if options.stop_at_first_failure {
        report.failures.truncate(1);
    }
    report
}

/// One seed, twice in determinism mode.
fn run_checked(scenario: &Scenario, options: &SweepOptions) -> (Outcome, Vec<Violation>) {
    let sim_options = SimOptions {
        trace: false,
        node_config: options.node_config,
    };
    let outcome = Sim::new(scenario, sim_options).run();
    let mut violations = outcome.violations.clone();
    if options.determinism {
        let again = Sim::new(scenario, sim_options).run();
        if again.trace_hash != outcome.trace_hash {
            violations.push(Violation {
                invariant: Invariant::Deterministic,
                t_us: 0,
                detail: format!(
                    "two runs gave trace hashes {} and {}",
                    outcome.trace_hash_hex(),
                    again.trace_hash_hex()
                ),
            });
        }
    }
    (outcome, violations)
}

fn add(report: &mut SweepReport, outcome: &Outcome, violations: Vec<Violation>, replayed: bool) {
    report.runs += 1;
    report.replayed += u64::from(replayed);
    report.sessions += outcome.stats.sessions;
    report.completed += outcome.stats.completed;
    report.messages += outcome.stats.sent;
    report.steps += outcome.stats.steps;
    if !violations.is_empty() {
        report.failures.push(Failure {
            seed: outcome.scenario.seed,
            replay: outcome.scenario.replay_command(),
            violations,
        });
    }
}
