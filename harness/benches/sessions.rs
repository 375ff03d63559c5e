//! Simulated 3-party sessions per second on one core, with real cryptography.
//!
//! Three figures, each over the same mix (both dialects, with and without nonce
//! commitments):
//! 1. the cryptography of a 3-party mesh session alone — key aggregation on every node,
//!    nonces, nonce aggregation, partial signatures and their verification, aggregation,
//!    final verification, join proofs, and every envelope signed once and checked by each
//!    receiver: the ceiling;
//! 2. three engines pumping bytes to each other in a plain loop (no network model);
//! 3. the simulator with faults (swarm and chaos presets, tracing off, invariants on).
//!
//! `cargo bench -p chorus-harness --bench sessions` (add `-- --quick` for a short run).

use std::time::{Duration, Instant};

use chorus_core::crypto::{
    self, aggregate_nonces, generate_nonce, sign_single, Dialect, KeyAggContext, Keypair,
    PublicNonce, SecretKey, Signature, SigningSession,
};
use chorus_core::node::{Config, Event, Node, PeerId, Progress, SessionSpec};
use chorus_core::time::Timestamp;
use chorus_core::wire::{
    Envelope, Join, Payload, Sequence, SessionId, SessionOptions, SessionReady, SignedEnvelope,
};
use chorus_harness::{Count, FaultPreset, Scenario, Sim, SimOptions, TopologyChoice};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const SIGNERS: usize = 3;

fn keypair(index: usize) -> Keypair {
    let mut secret = [0x42u8; 32];
    secret[31] = index as u8 + 1;
    Keypair::from_secret_key(&SecretKey::from_secret_bytes(secret).expect("valid key"))
}

/// One envelope sealed by `sender` and checked by each of `receivers` nodes.
fn envelope_round(sender: &Keypair, receivers: usize, aux: &[u8; 32]) {
    let envelope = Envelope::new(
        SessionId([7; 32]),
        &sender.public_key(),
        Sequence(1),
        Timestamp::from_millis(0),
        Payload::SessionReady(SessionReady {
            coordinator_index: 0,
        }),
    );
    let sealed = SignedEnvelope::seal(envelope, sender, aux);
    for _ in 0..receivers {
        assert!(sealed.verify_signature());
    }
}

/// The cryptography of one 3-party mesh session, as the engines do it.
fn crypto_session(dialect: Dialect, commitments: bool, keys: &[Keypair], rng: &mut ChaCha20Rng) {
    let public: Vec<_> = keys.iter().map(Keypair::public_key).collect();
    let message = [0x5a; 32];
    let aux = [3u8; 32];
    let others = SIGNERS - 1;
    let contexts: Vec<KeyAggContext> = (0..SIGNERS)
        .map(|_| KeyAggContext::new(dialect, &public).expect("key aggregation"))
        .collect();
    let ctx = &contexts[0];
    // Announce, joins (with their proofs), session ready.
    envelope_round(&keys[0], others, &aux);
    for joiner in &keys[1..] {
        let join = Join::new(&SessionId([7; 32]), joiner, &aux);
        envelope_round(joiner, 1, &aux);
        assert!(join.verify(&SessionId([7; 32])));
    }
    envelope_round(&keys[0], others, &aux);
    if commitments {
        for key in keys {
            envelope_round(key, others, &aux);
        }
    }
    let mut secrets = Vec::new();
    let mut nonces: Vec<PublicNonce> = Vec::new();
    for key in keys {
        let (secret, nonce) = generate_nonce(ctx, key, &message, rng).expect("nonce");
        secrets.push(secret);
        nonces.push(nonce);
        envelope_round(key, others, &aux);
    }
    let index = |key: &Keypair| ctx.signer_index(&key.public_key()).expect("signer");
    let mut sorted_nonces = vec![nonces[0]; SIGNERS];
    for (key, nonce) in keys.iter().zip(&nonces) {
        sorted_nonces[index(key)] = *nonce;
    }
    let sessions: Vec<SigningSession> = contexts
        .iter()
        .map(|ctx| {
            let aggregate = aggregate_nonces(dialect, &sorted_nonces).expect("aggregate nonce");
            SigningSession::new(ctx, &aggregate, &message).expect("session")
        })
        .collect();
    let mut partials = vec![None; SIGNERS];
    for (key, secret) in keys.iter().zip(secrets) {
        let partial = sessions[0]
            .partial_sign(ctx, index(key), secret, key)
            .expect("partial");
        envelope_round(key, others, &aux);
        partials[index(key)] = Some(partial);
    }
    let partials: Vec<_> = partials.into_iter().flatten().collect();
    for (verifier, session) in sessions.iter().enumerate() {
        for (signer, partial) in partials.iter().enumerate() {
            if signer != verifier {
                assert!(session.partial_verify(ctx, signer, partial, &sorted_nonces[signer]));
            }
        }
    }
    for session in &sessions {
        let signature: Signature = session.aggregate(ctx, &partials).expect("aggregate");
        assert!(crypto::verify(
            dialect,
            &ctx.aggregate_key(),
            &message,
            &signature
        ));
    }
    // The broadcast confirmation.
    envelope_round(&keys[0], others, &aux);
    let _ = sign_single(Dialect::Bip340, &keys[0], &message, &aux);
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

/// This thread's CPU time: the machine may be shared, and only the time this thread ran
/// counts (Linux's schedstat; elsewhere the wall clock).
struct CpuClock {
    wall: Instant,
    cpu_ns: Option<u64>,
}

fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

impl CpuClock {
    fn start() -> Self {
        CpuClock {
            wall: Instant::now(),
            cpu_ns: thread_cpu_ns(),
        }
    }

    fn elapsed(&self) -> Duration {
        match (self.cpu_ns, thread_cpu_ns()) {
            (Some(start), Some(now)) => Duration::from_nanos(now.saturating_sub(start)),
            _ => self.wall.elapsed(),
        }
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

/// Sessions per CPU second of the cryptography alone.
fn measure_crypto(budget: Duration, keys: &[Keypair]) -> f64 {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let started = CpuClock::start();
    let mut sessions = 0u64;
    while started.elapsed() < budget {
        let dialect = if sessions.is_multiple_of(2) {
            Dialect::Bip340
        } else {
            Dialect::Lotus
        };
        crypto_session(dialect, sessions % 4 < 2, keys, &mut rng);
        sessions += 1;
    }
    rate("crypto only (the ceiling)", sessions, started.elapsed())
}

/// Sessions per CPU second of three engines in a plain loop.
fn measure_engines(budget: Duration, keys: &[Keypair]) -> f64 {
    let now = Timestamp::from_millis(1_700_000_000_000);
    let config = Config {
        max_sessions: 100_000,
        ..Config::default()
    };
    let mut nodes: Vec<Node> = keys
        .iter()
        .zip(0u8..)
        .map(|(key, seed)| Node::new(config.clone(), *key, [seed; 32], now))
        .collect();
    let started = CpuClock::start();
    let mut sessions = 0u64;
    while started.elapsed() < budget {
        engine_session(sessions, keys, &mut nodes, now);
        sessions += 1;
    }
    rate(
        "engines in a plain loop (mesh, no network model)",
        sessions,
        started.elapsed(),
    )
}

/// Sessions per CPU second of the simulator: (created, completed).
fn measure_sim(budget: Duration, faults: FaultPreset, topology: TopologyChoice) -> (f64, f64) {
    let template = Scenario {
        signers: Count::exactly(SIGNERS),
        sessions: 20,
        topology,
        faults,
        ..Scenario::default()
    };
    let started = CpuClock::start();
    let (mut created, mut completed, mut seed) = (0u64, 0u64, 0u64);
    while started.elapsed() < budget {
        let outcome = Sim::new(&template.with_seed(seed), SimOptions::default()).run();
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.violations);
        created += outcome.stats.sessions;
        completed += outcome.stats.completed;
        seed += 1;
    }
    let elapsed = started.elapsed();
    let label = format!("simulator --faults {faults} --topology {topology}");
    let rates = (
        rate(&format!("{label}, created"), created, elapsed),
        rate(&format!("{label}, completed"), completed, elapsed),
    );
    println!("    ({seed} seeds)");
    rates
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let budget = Duration::from_secs(if quick { 2 } else { 10 });
    let keys: Vec<Keypair> = (0..SIGNERS).map(keypair).collect();
    println!(
        "one core, real cryptography, {SIGNERS} signers, both dialects, with and without nonce commitments"
    );
    let ceiling = measure_crypto(budget, &keys);
    let engines = measure_engines(budget, &keys);
    let (_, finished) = measure_sim(budget, FaultPreset::None, TopologyChoice::Mesh);
    // The same sessions as the plain loop, and every one completes: the difference is the
    // simulator's own cost (network model, scheduling, invariants, trace hash).
    let own = 1_000.0 / finished - 1_000.0 / engines;
    println!(
        "    the simulator's own cost: {own:.3} ms per session, {:.0}% of the crypto's {:.3} ms",
        100.0 * own * ceiling / 1_000.0,
        1_000.0 / ceiling
    );
    for faults in [FaultPreset::Swarm, FaultPreset::Chaos] {
        let (created, _) = measure_sim(budget, faults, TopologyChoice::Mixed);
        println!(
            "    sessions created at {:.0}% of the crypto-only ceiling",
            100.0 * created / ceiling
        );
    }
}
