//! End-to-end tests of `chorus demo` (and of `chorus node`'s argument checks): the whole
//! flow over driver-backed nodes, failover with silent coordinators, the JSON and human
//! outputs, and one-line errors for bad input.

use std::process::Command;
use std::time::{Duration, Instant};

use secp256k1::{schnorr, PublicKey};
use serde_json::Value;

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn chorus(args: &[&str]) -> Outcome {
    let output = Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(args)
        .output()
        .expect("the chorus binary runs");
    Outcome {
        code: output.status.code().expect("chorus exits, not killed"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs a demo with `--json`; returns its one output line, parsed.
fn demo_json(args: &[&str]) -> Value {
    let mut all = vec!["demo", "--json"];
    all.extend_from_slice(args);
    let outcome = chorus(&all);
    assert_eq!(outcome.code, 0, "{args:?}: {}", outcome.stderr);
    assert!(outcome.stderr.is_empty(), "{args:?}: {}", outcome.stderr);
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: one JSON line");
    serde_json::from_str(lines[0]).expect("the line is JSON")
}

fn bytes<const N: usize>(value: &Value) -> [u8; N] {
    let mut out = [0u8; N];
    hex::decode_to_slice(value.as_str().expect("a hex string"), &mut out).expect("hex");
    out
}

/// Checks a BIP340 session's signature with libsecp256k1, independently of chorus.
fn assert_bip340_signature_verifies(session: &Value) {
    let aggregate = PublicKey::from_byte_array_compressed(bytes::<33>(&session["aggregate_key"]))
        .expect("a valid aggregate key");
    let (xonly, _) = aggregate.x_only_public_key();
    let signature = schnorr::Signature::from_byte_array(bytes::<64>(&session["signature"]));
    let message = bytes::<32>(&session["message"]);
    signature
        .verify(&message, &xonly)
        .expect("the demo's signature verifies under its aggregate key");
}

#[test]
fn three_signers_sign_broadcast_and_confirm() {
    let started = Instant::now();
    let line = demo_json(&["--signers", "3"]);
    assert_eq!(line["signers"], 3);
    assert_eq!(line["transport"], "memory");
    assert_eq!(line["dialect"], "bip340");
    assert_eq!(line["keys"].as_array().unwrap().len(), 3);
    let sessions = line["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    let session = &sessions[0];
    assert_bip340_signature_verifies(session);
    assert_eq!(
        session["coordinator"], session["broadcaster"],
        "no failover without silence"
    );
    assert_eq!(session["broadcast_attempt"], 0);
    assert!(session["failovers"].as_array().unwrap().is_empty());
    for phase in ["request_join", "rounds", "broadcast"] {
        assert!(
            session["timings_ms"][phase].as_f64().unwrap() >= 0.0,
            "{phase}"
        );
    }
    let total = line["timings_ms"]["total"].as_f64().unwrap();
    assert!(total < started.elapsed().as_secs_f64() * 1_000.0);
}

#[test]
fn a_silent_coordinator_hands_over_to_the_next() {
    let line = demo_json(&["--signers", "3", "--silent-coordinators", "1"]);
    let session = &line["sessions"][0];
    assert_bip340_signature_verifies(session);
    let failovers = session["failovers"].as_array().unwrap();
    assert_eq!(failovers.len(), 1);
    assert_eq!(failovers[0]["attempt"], 0);
    assert_eq!(
        failovers[0]["node"], session["coordinator"],
        "the elected coordinator was silent"
    );
    assert_ne!(session["broadcaster"], session["coordinator"]);
    assert_eq!(session["broadcast_attempt"], 1);
    let keys = line["keys"].as_array().unwrap();
    let silent = failovers[0]["node"].as_u64().unwrap() as usize;
    assert_eq!(failovers[0]["key"], keys[silent]);
    // Every signer waited out the broadcast timeout (1000 ms by default) first.
    assert!(session["timings_ms"]["broadcast"].as_f64().unwrap() >= 900.0);
}

#[test]
fn lotus_mesh_sessions_run_one_after_the_other() {
    let line = demo_json(&[
        "--signers",
        "4",
        "--dialect",
        "lotus",
        "--topology",
        "mesh",
        "--sessions",
        "2",
    ]);
    assert_eq!(line["topology"], "mesh");
    let sessions = line["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_ne!(sessions[0]["session"], sessions[1]["session"]);
    assert_ne!(sessions[0]["message"], sessions[1]["message"]);
    assert_eq!(
        sessions[0]["aggregate_key"], sessions[1]["aggregate_key"],
        "one signer group"
    );
    assert_ne!(sessions[0]["signature"], sessions[1]["signature"]);
}

#[test]
fn the_human_output_tells_the_story() {
    let outcome = chorus(&["demo", "--signers", "3", "--silent-coordinators", "1"]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert!(outcome.stderr.is_empty(), "{}", outcome.stderr);
    let text = &outcome.stdout;
    for expected in [
        "chorus demo: 3 signers over memory",
        "discover: node 0 found 2 signers",
        "join: all 3 signers joined",
        "election: node ",
        "round 2: partial signatures aggregated",
        "stays silent",
        "failover: node ",
        "confirmation: all 3 signers",
        "\nresult\n",
        "  signature       ",
        "  aggregate key   ",
        "  failover        attempt 0: node ",
        "  phases          request/join ",
        "\ntimings\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains('{'), "no JSON without --json");
}

#[test]
fn rust_log_shows_the_drivers_logs_on_stderr() {
    let output = Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(["demo", "--signers", "2", "--json"])
        .env("RUST_LOG", "chorus_node=debug")
        .output()
        .expect("the chorus binary runs");
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("node driver started"), "{stderr}");
    assert!(
        stderr.contains("session{id="),
        "spans name the session: {stderr}"
    );
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 1);
}

#[cfg(feature = "libp2p")]
#[test]
fn the_demo_runs_over_libp2p_on_localhost() {
    let line = demo_json(&["--signers", "3", "--transport", "libp2p"]);
    assert_eq!(line["transport"], "libp2p");
    assert_bip340_signature_verifies(&line["sessions"][0]);
}

#[cfg(feature = "quic")]
#[test]
fn the_demo_runs_over_quic_on_localhost() {
    let outcome = chorus(&["demo", "--signers", "3", "--transport", "quic"]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert!(
        outcome.stdout.contains("3 signers over quic"),
        "{}",
        outcome.stdout
    );
    let signature = outcome
        .stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("signature"))
        .expect("the result shows the signature")
        .trim();
    assert_eq!(signature.len(), 128, "{signature}");
    assert!(signature.bytes().all(|byte| byte.is_ascii_hexdigit()));
}

#[cfg(feature = "quic")]
#[test]
fn a_silent_coordinator_hands_over_to_the_next_over_quic() {
    let line = demo_json(&[
        "--signers",
        "3",
        "--transport",
        "quic",
        "--silent-coordinators",
        "1",
    ]);
    assert_eq!(line["transport"], "quic");
    let session = &line["sessions"][0];
    assert_bip340_signature_verifies(session);
    assert_eq!(session["broadcast_attempt"], 1);
    let failovers = session["failovers"].as_array().unwrap();
    assert_eq!(failovers.len(), 1);
    assert_eq!(failovers[0]["node"], session["coordinator"]);
    assert_ne!(session["broadcaster"], session["coordinator"]);
}

/// Refused input: exit 2, nothing on stdout, one `error:` line on stderr.
fn assert_refused(args: &[&str], mentions: &str) {
    let outcome = chorus(args);
    assert_eq!(outcome.code, 2, "{args:?}");
    assert!(outcome.stdout.is_empty(), "{args:?}: {}", outcome.stdout);
    assert_eq!(
        outcome.stderr.lines().count(),
        1,
        "{args:?}: {}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.starts_with("error: "),
        "{args:?}: {}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains(mentions),
        "{args:?}: {}",
        outcome.stderr
    );
}

#[test]
fn bad_demo_flags_exit_2_with_one_line() {
    let started = Instant::now();
    assert_refused(&["demo", "--signers", "1"], "--signers");
    assert_refused(&["demo", "--signers", "101"], "--signers");
    assert_refused(&["demo", "--signers", "three"], "--signers");
    assert_refused(
        &["demo", "--signers", "3", "--silent-coordinators", "3"],
        "--silent-coordinators",
    );
    assert_refused(&["demo", "--transport", "carrier-pigeon"], "--transport");
    assert_refused(&["demo", "--dialect", "rsa"], "--dialect");
    assert_refused(&["demo", "--topology", "ring"], "--topology");
    assert_refused(&["demo", "--sessions", "0"], "--sessions");
    assert_refused(
        &["demo", "--broadcast-timeout-ms", "300"],
        "--broadcast-timeout-ms",
    );
    assert_refused(&["demo", "--bogus"], "--bogus");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "refusals are immediate"
    );
}

#[test]
fn bad_node_settings_exit_2_with_one_line() {
    let directory = std::env::temp_dir().join(format!("chorus-cli-node-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let key = directory.join("signer.key");
    std::fs::write(&key, format!("{}\n", "11".repeat(32))).unwrap();
    let bad_key = directory.join("bad.key");
    std::fs::write(&bad_key, "not hex\n").unwrap();
    let policy = directory.join("policy.toml");
    std::fs::write(&policy, "max_amount = \"lots\"\n").unwrap();
    let key = key.to_str().unwrap();

    assert_refused(&["node"], "--key");
    assert_refused(
        &["node", "--key", directory.join("missing").to_str().unwrap()],
        "--key",
    );
    assert_refused(&["node", "--key", bad_key.to_str().unwrap()], "--key");
    assert_refused(
        &["node", "--key", key, "--policy", policy.to_str().unwrap()],
        "--policy",
    );
    assert_refused(
        &[
            "node",
            "--key",
            key,
            "--transport",
            "quic",
            "--listen",
            "127.0.0.1:0",
        ],
        "--peers",
    );
    assert_refused(&["node", "--key", key, "--transport", "quic"], "--peers");
    // Without --listen, the node listens at its own entry of the peers file.
    let peers = directory.join("peers.toml");
    std::fs::write(
        &peers,
        "[[peer]]\nkey = \"02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5\"\naddress = \"127.0.0.1:9\"\n",
    )
    .unwrap();
    let peers = peers.to_str().unwrap();
    assert_refused(
        &[
            "node",
            "--key",
            key,
            "--transport",
            "quic",
            "--peers",
            peers,
        ],
        "--listen",
    );
    assert_refused(
        &[
            "node",
            "--key",
            key,
            "--transport",
            "quic",
            "--peers",
            directory.join("missing-peers.toml").to_str().unwrap(),
        ],
        "--peers",
    );
    assert_refused(
        &["node", "--key", key, "--listen", "not-a-multiaddr"],
        "--listen",
    );
    assert_refused(
        &[
            "node",
            "--config",
            directory.join("missing.toml").to_str().unwrap(),
        ],
        "--config",
    );
    std::fs::remove_dir_all(&directory).unwrap();
}
