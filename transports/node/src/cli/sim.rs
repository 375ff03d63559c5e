//! `chorus sim`: the deterministic simulator — one seed (with its trace and a drawing of
//! it), or a sweep over many seeds that prints the command replaying each failure.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chorus_harness::{
    render_html, render_mermaid, sweep, write_json_lines, ByzantineKind, CommitmentChoice, Count,
    DialectChoice, FaultMix, FaultPreset, Outcome, Scenario, Sim, SimOptions, Stats, SweepOptions,
    TopologyChoice, Violation,
};
use serde::Serialize;

use super::{write_json_line, CliError, EXIT_SUCCESS};

/// Arguments of `chorus sim`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("which_seeds").required(true).args(["seed", "seeds"]))]
pub(crate) struct SimArgs {
    /// Run this one seed.
    #[arg(long, value_name = "SEED")]
    seed: Option<u64>,
    /// Run every seed from A to B (A..B excludes B, A..=B includes it).
    #[arg(long, value_name = "A..B")]
    seeds: Option<String>,
    /// Nodes per run: a number, or a range A..B / A..=B the seed picks from.
    #[arg(long, value_name = "N", default_value = "2..=6")]
    signers: Count,
    /// Sessions the safety phase starts (the liveness phase adds half as many, and retries).
    #[arg(long, value_name = "N", default_value_t = 4)]
    sessions: usize,
    /// Topology: mesh, aggregator, or mixed (drawn per session).
    #[arg(long, value_name = "TOPOLOGY", default_value = "mixed")]
    topology: TopologyChoice,
    /// Fault preset: none, latency, lossy, partition, crash, bandwidth, chaos, swarm.
    #[arg(long, value_name = "PRESET", default_value = "swarm")]
    faults: FaultPreset,
    /// Byzantine peers: none, invalid-partial, equivocate, split-view, replay, stale,
    /// wrong-phase, withhold, flood, forged, swarm.
    #[arg(long, value_name = "KIND", default_value = "none")]
    byzantine: ByzantineKind,
    /// Signature dialect: bip340, lotus, or mixed (drawn per session).
    #[arg(long, value_name = "DIALECT", default_value = "mixed")]
    dialect: DialectChoice,
    /// Round 0 (nonce commitments): on, off, or mixed (drawn per session).
    #[arg(long, value_name = "WHEN", default_value = "mixed")]
    nonce_commitments: CommitmentChoice,
    /// Write every event and message of the run as JSON lines (with --seed).
    #[arg(long, value_name = "FILE", conflicts_with = "seeds")]
    trace: Option<PathBuf>,
    /// Draw the run as a sequence diagram: FILE.html (a self-contained page) or any other
    /// name for Mermaid text (with --seed).
    #[arg(long, value_name = "FILE", conflicts_with = "seeds")]
    render: Option<PathBuf>,
    /// Run every seed twice and compare the trace hashes.
    #[arg(long)]
    determinism: bool,
    /// Worker threads for --seeds (0: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
}

/// The line printed for one seed.
#[derive(Serialize)]
struct RunLine<'a> {
    seed: u64,
    passed: bool,
    trace_hash: String,
    stats: &'a Stats,
    mix: &'a FaultMix,
    violations: &'a [Violation],
    replay: String,
}

/// The line printed after a sweep.
#[derive(Serialize)]
struct SweepLine {
    runs: u64,
    replayed: u64,
    failures: usize,
    sessions: u64,
    completed: u64,
    messages: u64,
    steps: u64,
    seconds: f64,
}

pub(crate) fn run(args: &SimArgs, out: &mut dyn Write) -> Result<i32, CliError> {
    let template = Scenario {
        seed: 0,
        signers: args.signers,
        sessions: args.sessions,
        topology: args.topology,
        faults: args.faults,
        byzantine: args.byzantine,
        dialect: args.dialect,
        nonce_commitments: args.nonce_commitments,
    };
    if args.signers.low == 0 || args.signers.high > chorus_core::wire::MAX_SIGNERS {
        return Err(CliError::invalid("--signers", "expected 1 to 1000 nodes"));
    }
    match (&args.seeds, args.seed) {
        (Some(range), _) => run_sweep(args, &template, parse_seeds(range)?, out),
        (None, Some(seed)) => run_one(args, &template.with_seed(seed), out),
        (None, None) => Err(CliError::Usage("--seed or --seeds is required".to_owned())),
    }
}

fn run_one(args: &SimArgs, scenario: &Scenario, out: &mut dyn Write) -> Result<i32, CliError> {
    let options = SimOptions {
        trace: args.trace.is_some() || args.render.is_some(),
        ..SimOptions::default()
    };
    let mut outcome = Sim::new(scenario, options).run();
    if args.determinism {
        let again = Sim::new(scenario, options).run();
        if again.trace_hash != outcome.trace_hash {
            outcome.violations.push(Violation {
                invariant: chorus_harness::Invariant::Deterministic,
                t_us: 0,
                detail: format!("second run gave trace hash {}", again.trace_hash_hex()),
            });
        }
    }
    if let Some(path) = &args.trace {
        let records = outcome.records.as_deref().unwrap_or_default();
        write_file(path, "--trace", |file| write_json_lines(records, file))?;
    }
    if let Some(path) = &args.render {
        let drawing = if path.extension().is_some_and(|ext| ext == "html") {
            render_html(&outcome)
        } else {
            render_mermaid(&outcome)
        };
        write_file(path, "--render", |file| file.write_all(drawing.as_bytes()))?;
    }
    write_json_line(out, &run_line(&outcome))?;
    match outcome.violations.first() {
        None => Ok(EXIT_SUCCESS),
        Some(first) => Err(CliError::Internal(format!(
            "seed {} violated {} invariant(s), first {first}; replay: {}",
            scenario.seed,
            outcome.violations.len(),
            scenario.replay_command()
        ))),
    }
}

fn run_line(outcome: &Outcome) -> RunLine<'_> {
    RunLine {
        seed: outcome.scenario.seed,
        passed: outcome.passed(),
        trace_hash: outcome.trace_hash_hex(),
        stats: &outcome.stats,
        mix: &outcome.mix,
        violations: &outcome.violations,
        replay: outcome.scenario.replay_command(),
    }
}

fn run_sweep(
    args: &SimArgs,
    template: &Scenario,
    seeds: Range<u64>,
    out: &mut dyn Write,
) -> Result<i32, CliError> {
    let options = SweepOptions {
        threads: args.threads,
        determinism: args.determinism,
        ..SweepOptions::default()
    };
    let started = Instant::now();
    let report = sweep(template, seeds, &options);
    for failure in &report.failures {
        write_json_line(out, failure)?;
    }
    write_json_line(
        out,
        &SweepLine {
            runs: report.runs,
            replayed: report.replayed,
            failures: report.failures.len(),
            sessions: report.sessions,
            completed: report.completed,
            messages: report.messages,
            steps: report.steps,
            seconds: started.elapsed().as_secs_f64(),
        },
    )?;
    match report.failures.first() {
        None => Ok(EXIT_SUCCESS),
        Some(first) => Err(CliError::Internal(format!(
            "{} of {} seeds violated invariants; first replay: {}",
            report.failures.len(),
            report.runs,
            first.replay
        ))),
    }
}

/// `A..B` (B excluded) or `A..=B`.
fn parse_seeds(text: &str) -> Result<Range<u64>, CliError> {
    let invalid = || CliError::invalid("--seeds", "expected A..B or A..=B with A <= B");
    let number = |part: &str| part.trim().parse::<u64>().map_err(|_| invalid());
    let range = if let Some((low, high)) = text.split_once("..=") {
        number(low)?..number(high)?.checked_add(1).ok_or_else(invalid)?
    } else if let Some((low, high)) = text.split_once("..") {
        number(low)?..number(high)?
    } else {
        return Err(invalid());
    };
    if range.start > range.end {
        return Err(invalid());
    }
    Ok(range)
}

fn write_file(
    path: &Path,
    argument: &str,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), CliError> {
    let failed = |error: std::io::Error| CliError::invalid(argument, error.to_string());
    let mut file = BufWriter::new(File::create(path).map_err(failed)?);
    write(&mut file).and_then(|()| file.flush()).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{run_with, EXIT_FAILURE};

    fn run_capture(args: &[&str]) -> (i32, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let args = std::iter::once("chorus")
            .chain(args.iter().copied())
            .map(std::ffi::OsString::from);
        let code = run_with(args, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn one_seed_prints_one_line_with_its_hash_and_replay_command() {
        let args = ["sim", "--seed", "4", "--faults", "lossy", "--determinism"];
        let (code, out, err) = run_capture(&args);
        assert_eq!(code, EXIT_SUCCESS, "{err}");
        let line: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(line["passed"], true);
        assert_eq!(line["trace_hash"].as_str().unwrap().len(), 64);
        let replay = line["replay"].as_str().unwrap();
        assert!(replay.starts_with("chorus sim --seed 4 "));
        // The replay command is itself a valid command line with the same result.
        let replay_args: Vec<&str> = replay.split(' ').skip(1).collect();
        let (code, again, _) = run_capture(&replay_args);
        assert_eq!(code, EXIT_SUCCESS);
        let again: serde_json::Value = serde_json::from_str(again.trim()).unwrap();
        assert_eq!(again["trace_hash"], line["trace_hash"]);
    }

    #[test]
    fn fixed_dialect_and_round_0_show_in_the_replay_command_and_change_the_run() {
        let hash_and_replay = |extra: &[&str]| {
            let mut args = vec!["sim", "--seed", "6", "--signers", "3", "--faults", "lossy"];
            args.extend_from_slice(extra);
            let (code, out, err) = run_capture(&args);
            assert_eq!(code, EXIT_SUCCESS, "{err}");
            let line: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
            assert_eq!(line["passed"], true);
            let replay = line["replay"].as_str().unwrap().to_owned();
            (line["trace_hash"].as_str().unwrap().to_owned(), replay)
        };
        let (mixed, mixed_replay) = hash_and_replay(&[]);
        assert!(!mixed_replay.contains("--dialect"));
        let fixed = ["--dialect", "bip340", "--nonce-commitments", "off"];
        let (bitcoin, replay) = hash_and_replay(&fixed);
        assert!(replay.ends_with(" --dialect bip340 --nonce-commitments off"));
        assert_ne!(bitcoin, mixed);
        let replay_args: Vec<&str> = replay.split(' ').skip(1).collect();
        let (code, again, _) = run_capture(&replay_args);
        assert_eq!(code, EXIT_SUCCESS);
        let again: serde_json::Value = serde_json::from_str(again.trim()).unwrap();
        assert_eq!(again["trace_hash"].as_str(), Some(bitcoin.as_str()));
    }

    #[test]
    fn a_sweep_prints_a_summary_line() {
        let args = [
            "sim",
            "--seeds",
            "0..3",
            "--signers",
            "2..=3",
            "--sessions",
            "1",
        ];
        let (code, out, err) = run_capture(&args);
        assert_eq!(code, EXIT_SUCCESS, "{err}");
        let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(summary["runs"], 3);
        assert_eq!(summary["replayed"], 0);
        assert_eq!(summary["failures"], 0);
    }

    #[test]
    fn a_determinism_sweep_runs_every_seed_twice() {
        let args = [
            "sim",
            "--seeds",
            "10..=13",
            "--signers",
            "3",
            "--sessions",
            "1",
            "--faults",
            "chaos",
            "--determinism",
        ];
        let (code, out, err) = run_capture(&args);
        assert_eq!(code, EXIT_SUCCESS, "{err}");
        let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(summary["runs"], 4);
        assert_eq!(summary["replayed"], 4);
        assert_eq!(summary["failures"], 0);
    }

    #[test]
    fn trace_and_render_write_their_files() {
        let directory = std::env::temp_dir().join(format!("chorus-sim-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let trace = directory.join("run.jsonl");
        let page = directory.join("run.html");
        let diagram = directory.join("run.mmd");
        for render in [&page, &diagram] {
            let args = [
                "sim",
                "--seed",
                "1",
                "--sessions",
                "1",
                "--trace",
                trace.to_str().unwrap(),
                "--render",
                render.to_str().unwrap(),
            ];
            let (code, _, err) = run_capture(&args);
            assert_eq!(code, EXIT_SUCCESS, "{err}");
        }
        let lines = std::fs::read_to_string(&trace).unwrap();
        assert!(lines.lines().count() > 10);
        assert!(std::fs::read_to_string(&page)
            .unwrap()
            .starts_with("<!DOCTYPE html>"));
        assert!(std::fs::read_to_string(&diagram)
            .unwrap()
            .starts_with("sequenceDiagram"));
        std::fs::remove_dir_all(&directory).unwrap();
    }

    #[test]
    fn bad_arguments_are_refused_on_one_line() {
        for args in [
            &["sim"][..],
            &["sim", "--seeds", "5..2"][..],
            &["sim", "--seed", "1", "--faults", "sunny"][..],
            &["sim", "--seed", "1", "--dialect", "ed25519"][..],
            &["sim", "--seed", "1", "--nonce-commitments", "maybe"][..],
            &["sim", "--seed", "1", "--signers", "0"][..],
            &["sim", "--seeds", "0..2", "--trace", "x.jsonl"][..],
        ] {
            let (code, out, err) = run_capture(args);
            assert_ne!(code, EXIT_SUCCESS, "{args:?}");
            assert_ne!(code, EXIT_FAILURE, "{args:?}");
            assert!(out.is_empty(), "{args:?}");
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        }
    }

    #[test]
    fn seed_ranges_parse_both_ways() {
        assert_eq!(parse_seeds("3..7").unwrap(), 3..7);
        assert_eq!(parse_seeds("3..=7").unwrap(), 3..8);
        assert!(parse_seeds("7..3").is_err());
        assert!(parse_seeds("7").is_err());
        assert!(parse_seeds("0..=18446744073709551615").is_err());
    }
}
