//! The sweep CI runs on every change: 2,000 seeds over every fault preset, with byzantine
//! peers drawn from the seed. The first seeds of each preset also run a second time, to
//! prove the trace replays byte for byte (`chorus sim --determinism` does that for every
//! seed of a sweep). Sized so the debug build finishes well within three minutes on two
//! cores; the time it took is printed.

use std::time::Instant;

use chorus_harness::{
    sweep, ByzantineKind, Count, FaultPreset, Scenario, SweepOptions, SweepReport,
};

const SEEDS_PER_PRESET: u64 = 250;
/// Seeds of each preset that run twice: 256 of the 2,000.
const TWICE_PER_PRESET: u64 = 32;

#[test]
fn two_thousand_seeds_over_every_fault_preset_hold_every_invariant() {
    let started = Instant::now();
    let once = SweepOptions {
        threads: 2,
        ..SweepOptions::default()
    };
    let twice = SweepOptions {
        determinism: true,
        ..once
    };
    let mut runs = 0;
    let mut replayed = 0;
    let mut failures = Vec::new();
    let mut collect = |report: SweepReport| {
        runs += report.runs;
        replayed += report.replayed;
        failures.extend(report.failures);
    };
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
        let middle = first + TWICE_PER_PRESET;
        collect(sweep(&template, first..middle, &twice));
        collect(sweep(&template, middle..first + SEEDS_PER_PRESET, &once));
    }
    println!(
        "{runs} seeds ({replayed} of them twice, trace hashes compared) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for failure in &failures {
        println!("{}", failure.replay);
        for violation in &failure.violations {
            println!("    {violation}");
        }
    }
    assert_eq!(runs, 2_000);
    assert_eq!(replayed, 256);
    assert!(failures.is_empty(), "{} failing seeds", failures.len());
}
