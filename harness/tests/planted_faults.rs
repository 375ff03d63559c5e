//! The invariants bite: a bug planted in one node (a test-only feature of chorus-core)
//! makes a sweep report a violation within 1,000 seeds.

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
