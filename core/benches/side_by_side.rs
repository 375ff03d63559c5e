//! Full n-party sessions of Bip340, Lotus and the raw `secp256k1::musig` baseline, interleaved.
//!
//! Each round runs one baseline, one Bip340 and one Lotus session back to back, so a burst of
//! load on a noisy machine hits all three alike; the medians over the rounds and their ratios
//! are printed as a Markdown table. Run with
//! `cargo bench -p chorus-core --bench side_by_side` (optionally `-- ROUNDS`).

// The clock ban protects the core library; a benchmark exists to read the clock.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::{Duration, Instant};

use chorus_core::crypto::Dialect;
use common::{baseline_session, chorus_session, keypairs, SIZES};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn rounds_for(n: usize, requested: Option<usize>) -> usize {
    requested.unwrap_or(match n {
        0..=10 => 400,
        11..=100 => 60,
        _ => 15,
    })
}

fn time<F: FnMut() -> bool>(mut run: F) -> Duration {
    let start = Instant::now();
    assert!(
        run(),
        "a benchmarked session failed to produce a valid signature"
    );
    start.elapsed()
}

fn main() {
    // `cargo bench` passes `--bench`; a bare number overrides the round count.
    let requested = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok());
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    println!("| n | rounds | baseline median | Bip340 median | Bip340 / baseline | Lotus median | Lotus / baseline |");
    println!("|---|---|---|---|---|---|---|");
    for n in SIZES {
        let signers = keypairs(n, n as u64);
        let rounds = rounds_for(n, requested);
        let (mut base, mut bip, mut lotus) = (Vec::new(), Vec::new(), Vec::new());
        // One untimed round warms caches and the allocator.
        time(|| baseline_session(&signers, &mut rng));
        for _ in 0..rounds {
            base.push(time(|| baseline_session(&signers, &mut rng)));
            bip.push(time(|| chorus_session(Dialect::Bip340, &signers, &mut rng)));
            lotus.push(time(|| chorus_session(Dialect::Lotus, &signers, &mut rng)));
        }
        let (b, p, l) = (median(&mut base), median(&mut bip), median(&mut lotus));
        println!(
            "| {n} | {rounds} | {:.3} ms | {:.3} ms | {:.2}× | {:.3} ms | {:.2}× |",
            b.as_secs_f64() * 1e3,
            p.as_secs_f64() * 1e3,
            p.as_secs_f64() / b.as_secs_f64(),
            l.as_secs_f64() * 1e3,
            l.as_secs_f64() / b.as_secs_f64(),
        );
    }
}
