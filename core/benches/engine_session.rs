//! Full signing sessions through n Nodes in one process, against the floor of n separate
//! signers written directly against `secp256k1::musig`, interleaved.
//!
//! Every round runs one floor session and then one session of each engine shape back to
//! back, so a burst of load on a noisy machine hits them all alike; the medians over the
//! rounds and their ratios to the floor's median are printed as a Markdown table. Times are
//! the thread's CPU time (a shared machine that preempts the thread does not inflate them);
//! the last column gives the wall-clock ratio for comparison.
//!
//! ```text
//! cargo bench -p chorus-core --bench engine_session                # n = 2, 10, 100
//! cargo bench -p chorus-core --bench engine_session -- 10 1000     # only these sizes
//! cargo bench -p chorus-core --bench engine_session -- rounds=50   # fixed round count
//! cargo bench -p chorus-core --bench engine_session -- only=mesh   # shapes matching the text
//! ```

// The clock ban protects the core library; a benchmark exists to read the clock.
#![allow(clippy::disallowed_methods)]

mod engine_common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use chorus_core::crypto::{sign_single, verify, Dialect, PublicKey};
use cpu_time::ThreadTime;

use chorus_core::wire::Topology;
use engine_common::{floor_session, keypairs, Network, Shape};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The engine shapes, each with the largest n it runs at.
const SHAPES: [(Shape, usize); 8] = [
    (shape(Topology::Aggregator, true, false), 1000),
    (shape(Topology::Aggregator, false, false), 100),
    (shape(Topology::Mesh, true, false), 100),
    (shape(Topology::Mesh, false, false), 100),
    (shape(Topology::Aggregator, true, true), 1000),
    (shape(Topology::Aggregator, false, true), 1000),
    (shape(Topology::Mesh, true, true), 100),
    (shape(Topology::Mesh, false, true), 100),
];

const fn shape(topology: Topology, commitments: bool, cached: bool) -> Shape {
    Shape {
        topology,
        commitments,
        cached,
    }
}

/// Each run's time twice: the thread's CPU time — what the table reports, because a busy
/// machine preempting the thread does not inflate it — and the wall clock.
#[derive(Debug, Clone, Default)]
struct Samples {
    cpu: Vec<Duration>,
    wall: Vec<Duration>,
}

impl Samples {
    fn time<T>(&mut self, run: impl FnOnce() -> T) -> T {
        let (cpu, wall) = (ThreadTime::now(), Instant::now());
        let result = run();
        self.cpu.push(cpu.elapsed());
        self.wall.push(wall.elapsed());
        result
    }

    /// The CPU-time and wall-clock medians.
    fn medians(&mut self) -> (Duration, Duration) {
        (median(&mut self.cpu), median(&mut self.wall))
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn default_rounds(n: usize) -> usize {
    match n {
        0..=2 => 300,
        3..=10 => 100,
        11..=100 => 9,
        _ => 3,
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1e3)
}

struct Arguments {
    sizes: Vec<usize>,
    rounds: Option<usize>,
    /// Only the shapes whose label contains this text (`mesh`, `aggregator`, `no round 0`).
    only: Option<String>,
}

fn arguments() -> Arguments {
    let mut sizes = Vec::new();
    let mut rounds = None;
    let mut only = None;
    for argument in std::env::args().skip(1) {
        if let Some(count) = argument.strip_prefix("rounds=") {
            rounds = count.parse().ok();
        } else if let Some(text) = argument.strip_prefix("only=") {
            only = Some(text.to_owned());
        } else if let Ok(n) = argument.parse::<usize>() {
            if !sizes.contains(&n) {
                sizes.push(n);
            }
        }
    }
    if sizes.is_empty() {
        sizes = vec![2, 10, 100];
    }
    Arguments {
        sizes,
        rounds,
        only,
    }
}

/// The medians of the single operations every envelope costs, for reading the table: each
/// message sent is signed once, each message received is verified once.
fn primitives() {
    let signer = &keypairs(1, 99)[0];
    let key = signer.public_key();
    let digest = [7u8; 32];
    let signature = sign_single(Dialect::Bip340, signer, &digest, &[1; 32]);
    let compressed = key.serialize();
    let time_each = |operation: &mut dyn FnMut()| {
        let mut samples: Vec<Duration> = (0..301)
            .map(|_| {
                let start = Instant::now();
                operation();
                start.elapsed()
            })
            .collect();
        median(&mut samples).as_secs_f64() * 1e6
    };
    let sign = time_each(&mut || {
        black_box(sign_single(Dialect::Bip340, signer, &digest, &[1; 32]));
    });
    let verify = time_each(&mut || {
        assert!(verify(Dialect::Bip340, &key, &digest, &signature));
    });
    let parse = time_each(&mut || {
        black_box(PublicKey::from_byte_array_compressed(compressed).is_ok());
    });
    println!(
        "BIP340 envelope signature: sign {sign:.1} µs, verify {verify:.1} µs; \
         compressed key parse {parse:.1} µs (medians)\n"
    );
}

fn main() {
    let arguments = arguments();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    primitives();
    println!(
        "| n | rounds | floor median | shape | messages | engine median | engine / floor | wall-clock ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &n in &arguments.sizes {
        let signers = keypairs(n, n as u64);
        let rounds = arguments.rounds.unwrap_or_else(|| default_rounds(n));
        let shapes: Vec<Shape> = SHAPES
            .iter()
            .filter(|(_, up_to)| n <= *up_to)
            .map(|(shape, _)| *shape)
            .filter(|shape| {
                let only = arguments.only.as_deref().unwrap_or("");
                shape.label().contains(only)
            })
            .collect();
        let mut networks: Vec<Network> = shapes
            .iter()
            .map(|shape| Network::new(&signers, &shape.config(), n as u64))
            .collect();
        // One untimed session warms caches and the allocator, and fills the key aggregation
        // cache of the cached shapes (the largest sizes warm only those, to save minutes).
        let warm_all = n <= 100;
        if warm_all {
            assert!(
                floor_session(&signers, &mut rng),
                "the floor session failed"
            );
        }
        let mut messages = vec![0; shapes.len()];
        for ((shape, network), messages) in shapes.iter().zip(&mut networks).zip(&mut messages) {
            if warm_all || shape.cached {
                let session = network.run_session(0, *shape);
                network.forget_sessions(&session);
                *messages = network.delivered;
            }
        }
        let mut floor = Samples::default();
        let mut engine: Vec<Samples> = vec![Samples::default(); shapes.len()];
        for round in 0..rounds {
            floor.time(|| {
                assert!(
                    floor_session(&signers, &mut rng),
                    "the floor session failed"
                );
            });
            let runs = shapes
                .iter()
                .zip(&mut networks)
                .zip(&mut engine)
                .zip(&mut messages);
            for (((shape, network), samples), messages) in runs {
                let creator = round % n;
                let delivered = network.delivered;
                let session = samples.time(|| network.run_session(creator, *shape));
                *messages = network.delivered - delivered;
                network.forget_sessions(&session);
            }
        }
        let (floor_cpu, floor_wall) = floor.medians();
        for ((shape, samples), messages) in shapes.iter().zip(&mut engine).zip(&messages) {
            let (cpu, wall) = samples.medians();
            println!(
                "| {n} | {rounds} | {} | {} | {messages} | {} | {:.2}× | {:.2}× |",
                ms(floor_cpu),
                shape.label(),
                ms(cpu),
                cpu.as_secs_f64() / floor_cpu.as_secs_f64(),
                wall.as_secs_f64() / floor_wall.as_secs_f64(),
            );
        }
    }
}
