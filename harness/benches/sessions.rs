//! Simulated 3-party sessions per second on one core, with real cryptography.
//!
//! Each figure is sessions per second of this thread's CPU time (a busy machine does not
//! inflate it), over the simulator's mix: both dialects, with and without nonce
//! commitments, mesh and aggregator topologies.
//! 1. The cryptography of a 3-party session alone, called directly ([`crypto_session`]):
//!    key aggregation, nonces, nonce aggregation, partial signatures (checked
//!    one by one in the mesh), aggregation and final verification, every envelope signed
//!    by its sender and checked by each receiver. Nothing else, so no simulated session can
//!    be cheaper: the ceiling. Printed per dialect first (the two dialects interleaved).
//! 2. Three engines pumping bytes to each other in a plain loop (mesh, no network model),
//!    side by side with 3.
//! 3. The simulator without faults in the mesh: every session completes, so the difference
//!    from 2 is the simulator's own cost (network model, scheduling, invariants, trace hash).
//! 4. The simulator with faults (the swarm and chaos presets, topologies mixed, tracing off,
//!    every invariant checked), measured side by side with 1 — one simulated seed or one
//!    crypto-only session at a time, whichever is behind — so load on the machine hits both
//!    alike; the summary gives both rates and their ratio.
//! 5. The same for plain sessions only (`--topology aggregator --dialect bip340
//!    --nonce-commitments off`) against the ceiling of that one shape.
//!
//! `cargo bench -p chorus-harness --bench sessions` (add `-- --quick` for a short run).

use std::time::Duration;

use cpu_time::ThreadTime;

use chorus_core::crypto::{
    self, aggregate_nonces, generate_nonce, Dialect, KeyAggContext, Keypair, PublicNonce,
    SecretKey, Signature, SigningSession,
};
use chorus_core::node::{Config, Event, Node, PeerId, Progress, SessionSpec};
use chorus_core::time::Timestamp;
use chorus_core::wire::{
    Envelope, Payload, Sequence, SessionId, SessionOptions, SessionReady, SignedEnvelope,
};
use chorus_harness::{
    CommitmentChoice, Count, DialectChoice, FaultPreset, Scenario, Sim, SimOptions, TopologyChoice,
};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const SIGNERS: usize = 3;

fn keypair(index: usize) -> Keypair {
    let mut secret = [0x42u8; 32];
    secret[31] = index as u8 + 1;
    Keypair::from_secret_key(&SecretKey::from_secret_bytes(secret).expect("valid key"))
}

/// One envelope sealed by `sender` and checked by each of `receivers` nodes (which know
/// the sender's key already and hash what they received).
fn envelope_round(sender: &Keypair, receivers: usize, aux: &[u8; 32]) {
    let key = sender.public_key();
    let envelope = Envelope::new(
        SessionId([7; 32]),
        &key,
        Sequence(1),
        Timestamp::from_millis(0),
        Payload::SessionReady(SessionReady {
            coordinator_index: 0,
        }),
    );
    let sealed = SignedEnvelope::seal(envelope, sender, aux);
    let signature = Signature::from_bytes(&sealed.signature);
    for _ in 0..receivers {
        let digest = sealed.envelope.signing_digest();
        assert!(crypto::verify(Dialect::Bip340, &key, &digest, &signature));
    }
}

/// What a session of the mix is.
#[derive(Debug, Clone, Copy)]
struct Shape {
    dialect: Dialect,
    commitments: bool,
    /// Signer 0 aggregates (aggregator topology) instead of everyone sending to everyone.
    aggregator: bool,
}

/// The cryptography of one 3-party session, as the engines do it: key aggregation (once:
/// nodes cache a group's), the announcement, joins and their proofs, session ready, round 0
/// if asked, nonces, partial signatures, the final signature, the broadcast confirmation,
/// with every envelope signed by its sender and checked by each receiver. In the mesh every
/// node aggregates the nonces, checks every other partial signature and the final
/// signature; in the aggregator topology signer 0 does that (checking the final signature
/// only), sends the aggregate nonce and the final signature, and the others check it.
fn crypto_session(shape: Shape, keys: &[Keypair], rng: &mut ChaCha20Rng) {
    let Shape {
        dialect,
        commitments,
        aggregator,
    } = shape;
    let public: Vec<_> = keys.iter().map(Keypair::public_key).collect();
    let message = [0x5a; 32];
    let aux = [3u8; 32];
    let others = SIGNERS - 1;
    // To everyone else, or (a participant of the aggregator topology) to the aggregator.
    let fan_out = |signer: usize| if aggregator && signer != 0 { 1 } else { others };
    // Nonces and partial signatures: the aggregator neither sends nor seals its own.
    let shares_own = |signer: usize| !(aggregator && signer == 0);
    let ctx = KeyAggContext::new(dialect, &public).expect("key aggregation");
    envelope_round(&keys[0], others, &aux);
    for joiner in &keys[1..] {
        envelope_round(joiner, 1, &aux);
    }
    envelope_round(&keys[0], others, &aux);
    if commitments {
        for (signer, key) in keys.iter().enumerate() {
            envelope_round(key, fan_out(signer), &aux);
        }
    }
    let index = |key: &Keypair| ctx.signer_index(&key.public_key()).expect("signer");
    let mut secrets = Vec::new();
    let mut nonces: Vec<PublicNonce> = Vec::new();
    for (signer, key) in keys.iter().enumerate() {
        let (secret, nonce) = generate_nonce(&ctx, key, &message, rng).expect("nonce");
        secrets.push(secret);
        nonces.push(nonce);
        if shares_own(signer) {
            envelope_round(key, fan_out(signer), &aux);
        }
    }
    let mut sorted_nonces = vec![nonces[0]; SIGNERS];
    for (key, nonce) in keys.iter().zip(&nonces) {
        sorted_nonces[index(key)] = *nonce;
    }
    let aggregations = if aggregator { 1 } else { SIGNERS };
    let mut aggregate = None;
    for _ in 0..aggregations {
        aggregate = Some(aggregate_nonces(dialect, &sorted_nonces).expect("aggregate nonce"));
    }
    let aggregate = aggregate.expect("aggregated");
    if aggregator {
        envelope_round(&keys[0], others, &aux);
    }
    let sessions: Vec<SigningSession> = (0..SIGNERS)
        .map(|_| SigningSession::new(&ctx, &aggregate, &message).expect("session"))
        .collect();
    let mut partials = vec![None; SIGNERS];
    for ((signer, key), secret) in keys.iter().enumerate().zip(secrets) {
        let partial = sessions[signer]
            .partial_sign(&ctx, index(key), secret, key)
            .expect("partial");
        if shares_own(signer) {
            envelope_round(key, fan_out(signer), &aux);
        }
        partials[index(key)] = Some(partial);
    }
    let partials: Vec<_> = partials.into_iter().flatten().collect();
    let finishers = if aggregator {
        1
    } else {
        for (verifier, session) in sessions.iter().enumerate() {
            for (signer, partial) in partials.iter().enumerate() {
                if signer != verifier {
                    assert!(session.partial_verify(&ctx, signer, partial, &sorted_nonces[signer]));
                }
            }
        }
        SIGNERS
    };
    let key = ctx.aggregate_key();
    for session in &sessions[..finishers] {
        let signature: Signature = session.aggregate(&ctx, &partials).expect("aggregate");
        assert!(crypto::verify(dialect, &key, &message, &signature));
        if aggregator {
            // The final signature, to each participant, which checks it.
            envelope_round(&keys[0], others, &aux);
            for _ in 0..others {
                assert!(crypto::verify(dialect, &key, &message, &signature));
            }
        }
    }
    // The broadcast confirmation.
    envelope_round(&keys[0], others, &aux);
}

/// One 3-party session through three engines and a plain loop.
fn engine_session(round: u64, keys: &[Keypair], nodes: &mut [Node], now: Timestamp) {
    let spec = SessionSpec {
        options: SessionOptions {
            nonce_commitments: round % 4 < 2,
            ..SessionOptions::default()
        },
        ..SessionSpec::new(
            keys.iter().map(Keypair::public_key).collect(),
            [round as u8; 32],
            if round.is_multiple_of(2) {
                Dialect::Bip340
            } else {
                Dialect::Lotus
            },
        )
    };
    let session = nodes[0].create_session(now, spec).expect("create");
    let mut complete = 0;
    loop {
        let mut idle = true;
        for index in 0..nodes.len() {
            while let Some(event) = nodes[index].poll_event() {
                match event {
                    Event::SessionAnnounced { session, .. } => nodes[index]
                        .join_session(now, &session, Progress::Automatic)
                        .expect("join"),
                    Event::ShouldBroadcast { session, .. } => nodes[index]
                        .notify_broadcast_complete(now, &session, &[1; 32])
                        .expect("broadcast"),
                    Event::SessionComplete { .. } => complete += 1,
                    _ => {}
                }
            }
            while let Some(transmit) = nodes[index].poll_transmit() {
                idle = false;
                let from = PeerId::from_key(&keys[index].public_key());
                let to = keys
                    .iter()
                    .position(|key| key.public_key() == transmit.to)
                    .expect("a signer");
                let _ = nodes[to].handle_message(now, from, transmit.channel, &transmit.bytes);
            }
        }
        if idle {
            break;
        }
    }
    assert_eq!(complete, SIGNERS, "session {session} did not complete");
    for node in nodes.iter_mut() {
        let _ = node.close_session(now, &session);
    }
}

fn rate(label: &str, sessions: u64, elapsed: Duration) -> f64 {
    let per_second = sessions as f64 / elapsed.as_secs_f64();
    println!(
        "{label:<52} {sessions:>6} sessions in {:>6.2} s CPU = {per_second:>6.1}/s ({:.3} ms each)",
        elapsed.as_secs_f64(),
        1_000.0 / per_second
    );
    per_second
}

/// The simulator's mix of session shapes: every combination of topology and nonce
/// commitments in turn, for each of `dialects`.
fn mix_of(dialects: &[Dialect]) -> Vec<Shape> {
    let mut shapes = Vec::new();
    for dialect in dialects {
        for (commitments, aggregator) in
            [(true, false), (false, false), (true, true), (false, true)]
        {
            shapes.push(Shape {
                dialect: *dialect,
                commitments,
                aggregator,
            });
        }
    }
    shapes
}

/// The one shape of `--topology aggregator --dialect bip340 --nonce-commitments off`: a
/// Bitcoin wallet's plain 3-party session, the session the 1.5 ms estimate counts.
const PLAIN: Shape = Shape {
    dialect: Dialect::Bip340,
    commitments: false,
    aggregator: true,
};

/// The cryptography of session number `count` of `shapes`, taken in turn.
fn crypto_of(count: u64, shapes: &[Shape], keys: &[Keypair], rng: &mut ChaCha20Rng) {
    crypto_session(shapes[count as usize % shapes.len()], keys, rng);
}

/// Sessions per CPU second of the cryptography alone, per dialect, the two interleaved
/// (one session of each in turn) so that a change in the machine's speed hits both alike.
fn measure_dialects(budget: Duration, keys: &[Keypair]) {
    let dialects = [Dialect::Bip340, Dialect::Lotus];
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut spent = [Duration::ZERO; 2];
    let mut sessions = [0u64; 2];
    while spent.iter().sum::<Duration>() < budget {
        for (index, dialect) in dialects.iter().enumerate() {
            let started = ThreadTime::now();
            crypto_of(sessions[index], &mix_of(&[*dialect]), keys, &mut rng);
            spent[index] += started.elapsed();
            sessions[index] += 1;
        }
    }
    for (index, dialect) in dialects.iter().enumerate() {
        let label = format!("crypto only, {dialect:?} sessions (interleaved)");
        rate(&label, sessions[index], spent[index]);
    }
}

/// Three engines pumping one session at a time to each other in a plain loop.
struct EngineLoop {
    nodes: Vec<Node>,
    now: Timestamp,
    sessions: u64,
    cpu: Duration,
}

impl EngineLoop {
    fn new(keys: &[Keypair]) -> Self {
        let now = Timestamp::from_millis(1_700_000_000_000);
        let config = Config {
            max_sessions: 100_000,
            ..Config::default()
        };
        let nodes = keys
            .iter()
            .zip(0u8..)
            .map(|(key, seed)| Node::new(config.clone(), *key, [seed; 32], now))
            .collect();
        EngineLoop {
            nodes,
            now,
            sessions: 0,
            cpu: Duration::ZERO,
        }
    }

    fn run_session(&mut self, keys: &[Keypair]) {
        let started = ThreadTime::now();
        engine_session(self.sessions, keys, &mut self.nodes, self.now);
        self.cpu += started.elapsed();
        self.sessions += 1;
    }
}

/// The simulator's own cost: the simulator without faults in the mesh (every session
/// completes) side by side with the same sessions through three engines in a plain loop,
/// one simulated seed or one plain-loop session at a time, whichever is behind in CPU time.
fn own_cost(budget: Duration, keys: &[Keypair]) {
    println!("side by side, the simulator without faults and the engines in a plain loop:");
    let template = SimWork::template(FaultPreset::None, TopologyChoice::Mesh);
    let mut work = SimWork::default();
    let mut engines = EngineLoop::new(keys);
    while work.cpu + engines.cpu < 2 * budget {
        if engines.cpu < work.cpu {
            engines.run_session(keys);
        } else {
            work.run_seed(&template);
        }
    }
    let plain = rate(
        "engines in a plain loop (mesh, no network model)",
        engines.sessions,
        engines.cpu,
    );
    let (_, steady) = work.report(&template);
    // The same sessions, and every one completes: the difference is the simulator's own
    // cost (network model, scheduling, invariants, trace hash).
    let own = 1_000.0 / steady - 1_000.0 / plain;
    println!(
        "    the simulator's own cost: {own:.3} ms per session, {:.0}% of the engines' {:.3} ms",
        100.0 * own * plain / 1_000.0,
        1_000.0 / plain
    );
}

/// What the simulator did: sessions created and completed, seeds run, CPU time.
#[derive(Default)]
struct SimWork {
    created: u64,
    completed: u64,
    seeds: u64,
    cpu: Duration,
}

impl SimWork {
    fn template(faults: FaultPreset, topology: TopologyChoice) -> Scenario {
        Scenario {
            signers: Count::exactly(SIGNERS),
            sessions: 20,
            topology,
            faults,
            ..Scenario::default()
        }
    }

    /// [`template`](Self::template) with only [`PLAIN`] sessions.
    fn plain_template(faults: FaultPreset) -> Scenario {
        Scenario {
            dialect: DialectChoice::Bip340,
            nonce_commitments: CommitmentChoice::Off,
            ..Self::template(faults, TopologyChoice::Aggregator)
        }
    }

    /// Runs the next seed of `template`, tracing off, every invariant checked.
    fn run_seed(&mut self, template: &Scenario) {
        let started = ThreadTime::now();
        let outcome = Sim::new(&template.with_seed(self.seeds), SimOptions::default()).run();
        self.cpu += started.elapsed();
        assert!(
            outcome.passed(),
            "{}: {:?}",
            outcome.scenario.replay_command(),
            outcome.violations
        );
        self.created += outcome.stats.sessions;
        self.completed += outcome.stats.completed;
        self.seeds += 1;
    }

    /// Prints the rates; returns (created, completed) per CPU second.
    fn report(&self, template: &Scenario) -> (f64, f64) {
        let label = format!(
            "simulator --faults {} --topology {}",
            template.faults, template.topology
        );
        let created = rate(&format!("{label}, created"), self.created, self.cpu);
        let completed = rate(&format!("{label}, completed"), self.completed, self.cpu);
        println!(
            "    ({} seeds of {} sessions and their retries, {SIGNERS} signers, tracing off, invariants on)",
            self.seeds, template.sessions
        );
        (created, completed)
    }
}

/// The simulator running `template` and the crypto-only ceiling of `shapes` (the same
/// sessions' shapes) measured side by side: one simulated seed or one crypto-only session
/// at a time, whichever is behind in CPU time, so load on the machine hits both alike.
/// Returns (ceiling, created, completed) per second.
fn side_by_side(
    budget: Duration,
    template: &Scenario,
    shapes: &[Shape],
    keys: &[Keypair],
) -> (f64, f64, f64) {
    println!(
        "side by side with the ceiling, --faults {} --topology {} --dialect {} --nonce-commitments {}:",
        template.faults, template.topology, template.dialect, template.nonce_commitments
    );
    let mut work = SimWork::default();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (mut crypto_sessions, mut crypto_cpu) = (0u64, Duration::ZERO);
    while work.cpu + crypto_cpu < 2 * budget {
        if crypto_cpu < work.cpu {
            let started = ThreadTime::now();
            crypto_of(crypto_sessions, shapes, keys, &mut rng);
            crypto_cpu += started.elapsed();
            crypto_sessions += 1;
        } else {
            work.run_seed(template);
        }
    }
    let ceiling = rate("crypto only (the ceiling)", crypto_sessions, crypto_cpu);
    let (created, completed) = work.report(template);
    println!(
        "    simulator / ceiling: {:.2} (sessions created), {:.2} (sessions completed)",
        created / ceiling,
        completed / ceiling
    );
    (ceiling, created, completed)
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let budget = Duration::from_secs(if quick { 2 } else { 10 });
    let keys: Vec<Keypair> = (0..SIGNERS).map(keypair).collect();
    println!(
        "one thread, its CPU time; real cryptography; {SIGNERS} signers; both dialects, with and without nonce commitments"
    );
    measure_dialects(budget, &keys);
    own_cost(budget, &keys);
    let mixed = mix_of(&[Dialect::Bip340, Dialect::Lotus]);
    let mut summary = Vec::new();
    for faults in [FaultPreset::Swarm, FaultPreset::Chaos] {
        let template = SimWork::template(faults, TopologyChoice::Mixed);
        summary.push((template, side_by_side(budget, &template, &mixed, &keys)));
    }
    for faults in [FaultPreset::Swarm, FaultPreset::Chaos] {
        let template = SimWork::plain_template(faults);
        summary.push((template, side_by_side(budget, &template, &[PLAIN], &keys)));
    }
    println!("summary (sessions per CPU second of one thread):");
    for (template, (ceiling, created, completed)) in summary {
        println!(
            "    --faults {} --topology {} --dialect {} --nonce-commitments {}: simulator {created:.1}/s created, {completed:.1}/s completed; crypto-only ceiling {ceiling:.1}/s; completed / ceiling {:.2}",
            template.faults,
            template.topology,
            template.dialect,
            template.nonce_commitments,
            completed / ceiling
        );
    }
}
