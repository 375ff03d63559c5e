//! Replays every committed fuzz input — the seed corpus in `fuzz/corpus/<target>/` and the
//! crash regressions in `fuzz/regressions/<target>/` — through the fuzz bodies, on stable
//! Rust without a fuzzer. A body panics on the bug it looks for, so a failing file names a
//! regression.

use std::fs;
use std::path::{Path, PathBuf};

use chorus_harness::fuzz::{self, NodeOps};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz")
}

/// Every file of `fuzz/<kind>/<target>/`, sorted, with its bytes.
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = fs::read(&path).expect("readable corpus file");
            (path, bytes)
        })
        .collect()
}

/// Runs `body` on every seed and regression input of `target`; returns how many ran.
fn replay(target: &str, body: fn(&[u8])) -> usize {
    let corpus = inputs("corpus", target);
    assert!(
        !corpus.is_empty(),
        "no seed corpus in fuzz/corpus/{target}: the replay would check nothing"
    );
    let regressions = inputs("regressions", target);
    for (path, bytes) in corpus.iter().chain(&regressions) {
        eprintln!("{target}: {}", path.display());
        body(bytes);
    }
    println!(
        "{target}: {} corpus files, {} regressions replayed",
        corpus.len(),
        regressions.len()
    );
    corpus.len() + regressions.len()
}

#[test]
fn decode_corpus_replays_cleanly() {
    replay("decode", fuzz::decode);
}

#[test]
fn decode_crypto_corpus_replays_cleanly() {
    replay("decode_crypto", fuzz::decode_crypto);
}

#[test]
fn node_ops_corpus_replays_cleanly() {
    replay("node_ops", fuzz::node_ops);
}

#[test]
fn scenario_corpus_replays_cleanly() {
    replay("scenario", fuzz::scenario);
}

#[test]
fn every_fuzz_target_has_a_replayed_corpus() {
    let targets: Vec<String> = fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .expect("fuzz/fuzz_targets exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_owned()))
        .collect();
    assert!(!targets.is_empty());
    for target in targets {
        assert!(
            ["decode", "decode_crypto", "node_ops", "scenario"].contains(&target.as_str()),
            "fuzz target {target} has no replay test here"
        );
    }
}

#[test]
fn committed_seeds_match_their_definitions() {
    let seeds = fuzz::seed_corpus();
    assert!(!seeds.is_empty());
    for seed in seeds {
        let path = fuzz_dir().join("corpus").join(seed.target).join(&seed.name);
        let committed = fs::read(&path).unwrap_or_else(|error| {
            panic!(
                "{}: {error}; write the seeds with \
                 `cargo run -p chorus-harness --features fuzz --example fuzz_seeds`",
                path.display()
            )
        });
        assert_eq!(
            committed,
            seed.bytes,
            "{} differs from its definition",
            path.display()
        );
    }
}

#[test]
fn node_ops_seeds_reach_their_states() {
    for seed in fuzz::node_ops_seeds() {
        let bytes = seed.input.to_bytes();
        let drawn = NodeOps::from_bytes(&bytes).unwrap();
        assert_eq!(
            format!("{drawn:?}"),
            format!("{:?}", seed.input),
            "{}",
            seed.name
        );
        let report = fuzz::run_node_ops(&seed.input);
        assert!(
            (seed.reached)(&report),
            "seed {} did not reach its state: {report:#?}",
            seed.name
        );
    }
}

#[test]
fn decode_seeds_are_well_formed_messages() {
    use chorus_core::discovery::DiscoveryMessage;
    use chorus_core::wire::{Channel, SignedEnvelope};

    let mut messages = 0;
    for seed in fuzz::seed_corpus() {
        if seed.target != "decode" || seed.name.ends_with("-pair") || seed.name.ends_with("-text") {
            continue;
        }
        let envelope = SignedEnvelope::decode(&seed.bytes, Channel::Gossip);
        let record = DiscoveryMessage::decode(&seed.bytes, Channel::Gossip);
        assert!(
            envelope.is_ok() || record.is_ok(),
            "{}: {envelope:?} / {record:?}",
            seed.name
        );
        messages += 1;
    }
    assert!(messages >= 14, "only {messages} decode seeds");
}
