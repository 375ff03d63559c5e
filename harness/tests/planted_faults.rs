//! The invariants bite: a bug planted in one node (a test-only feature of chorus-core)
//! makes a sweep report a violation within 1,000 seeds, and a run that does not replay
//! fails determinism mode.

use std::sync::atomic::{AtomicU64, Ordering};

use chorus_core::node::{Config, PlantedFault};
use chorus_harness::{
    sweep, ByzantineKind, FaultPreset, Invariant, Scenario, Sim, SimOptions, SweepOptions,
    SweepReport,
};

fn planted(index: usize, fault: PlantedFault) -> Config {
    Config {
        planted_fault: (index == 0).then_some(fault),
        ..Config::default()
    }
}

/// The sweep up to its first failing seed; that seed must pass without the planted bug.
fn first_failure(template: &Scenario, node_config: fn(usize) -> Config) -> SweepReport {
    let options = SweepOptions {
        threads: 2,
        stop_at_first_failure: true,
        node_config,
        ..SweepOptions::default()
    };
    let report = sweep(template, 0..1_000, &options);
    if let Some(failure) = report.failures.first() {
        let honest = Sim::new(&template.with_seed(failure.seed), SimOptions::default()).run();
        assert!(honest.passed(), "{:?}", honest.violations);
    }
    report
}

#[test]
fn a_node_that_draws_the_same_nonce_again_is_caught_within_a_thousand_seeds() {
    let template = Scenario {
        faults: FaultPreset::Swarm,
        ..Scenario::default()
    };
    let report = first_failure(&template, |index| planted(index, PlantedFault::RepeatNonce));
    let failure = report
        .failures
        .first()
        .expect("no seed caught the repeated nonce");
    println!(
        "caught at seed {} ({} runs): {}",
        failure.seed, report.runs, failure.replay
    );
    for violation in &failure.violations {
        println!("    {violation}");
    }
    assert!(failure
        .violations
        .iter()
        .any(|violation| violation.invariant == Invariant::NonceUsedOnce));
}

#[test]
fn a_node_that_skips_envelope_signatures_is_caught_within_a_thousand_seeds() {
    let template = Scenario {
        faults: FaultPreset::Swarm,
        byzantine: ByzantineKind::Forged,
        ..Scenario::default()
    };
    let report = first_failure(&template, |index| {
        planted(index, PlantedFault::SkipEnvelopeSignature)
    });
    let failure = report.failures.first().expect("no seed caught the forgery");
    println!(
        "caught at seed {} ({} runs): {}",
        failure.seed, report.runs, failure.replay
    );
    for violation in &failure.violations {
        println!("    {violation}");
    }
    assert!(failure
        .violations
        .iter()
        .any(|violation| violation.invariant == Invariant::HostileMessageRejected));
}

/// Simulations started so far by [`every_other_run_planted`].
static RUNS: AtomicU64 = AtomicU64::new(0);

/// Node 0 draws fixed nonces in every other simulation: the second run of a seed differs
/// from the first.
fn every_other_run_planted(index: usize) -> Config {
    // Node 0's configuration is asked for first when a simulation starts.
    let run = if index == 0 {
        RUNS.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        RUNS.load(Ordering::SeqCst)
    };
    Config {
        planted_fault: (index == 0 && run % 2 == 1).then_some(PlantedFault::RepeatNonce),
        ..Config::default()
    }
}

#[test]
fn determinism_mode_catches_a_run_that_does_not_replay() {
    let template = Scenario {
        signers: chorus_harness::Count::exactly(3),
        sessions: 1,
        faults: FaultPreset::None,
        ..Scenario::default()
    };
    let options = SweepOptions {
        threads: 1,
        determinism: true,
        node_config: every_other_run_planted,
        ..SweepOptions::default()
    };
    let report = sweep(&template, 0..3, &options);
    assert_eq!((report.runs, report.replayed), (3, 3));
    assert_eq!(report.failures.len(), 3, "{:?}", report.failures);
    for failure in &report.failures {
        assert!(failure
            .violations
            .iter()
            .any(|violation| violation.invariant == Invariant::Deterministic));
    }
    // The same sweep without the planted difference replays exactly.
    let honest = SweepOptions {
        node_config: SweepOptions::default().node_config,
        ..options
    };
    let report = sweep(&template, 0..3, &honest);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}
