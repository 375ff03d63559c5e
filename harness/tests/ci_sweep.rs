//! The sweep CI runs on every change: 2,000 seeds over every fault preset, with byzantine
//! peers drawn from the seed, each seed run twice to prove the trace replays byte for byte.
//! Sized so the debug build finishes well within three minutes on two cores.

use std::time::Instant;

use chorus_harness::{sweep, ByzantineKind, Count, FaultPreset, Scenario, SweepOptions};

const SEEDS_PER_PRESET: u64 = 250;

#[test]
fn two_thousand_seeds_over_every_fault_preset_hold_every_invariant() {
    let started = Instant::now();
    let options = SweepOptions {
        threads: 2,
        determinism: true,
        ..SweepOptions::default()
    };
    let mut runs = 0;
    let mut failures = Vec::new();
    for (index, faults) in FaultPreset::ALL.into_iter().enumerate() {
        let template = Scenario {
            signers: Count { low: 2, high: 4 },
            sessions: 2,
            faults,
            byzantine: ByzantineKind::Swarm,
            ..Scenario::default()
        };
        // Each preset gets its own seeds, so the sweep covers 2,000 distinct runs.
        let first = index as u64 * SEEDS_PER_PRESET;
        let report = sweep(&template, first..first + SEEDS_PER_PRESET, &options);
        runs += report.runs;
        failures.extend(report.failures);
    }
    println!(
        "{runs} seeds (each twice) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for failure in &failures {
        println!("{}", failure.replay);
        for violation in &failure.violations {
            println!("    {violation}");
        }
    }
    assert_eq!(runs, 2_000);
    assert!(failures.is_empty(), "{} failing seeds", failures.len());
}
