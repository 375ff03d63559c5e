//! The only source of randomness in a run: ChaCha8 streams derived from the run's seed.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

/// Independent streams, so drawing more in one place never shifts another.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stream {
    /// The plan: nodes, keys, faults, sessions.
    Plan = 1,
    /// The network's per-message fates.
    Network = 2,
    /// The honest applications' delays.
    Application = 3,
    /// The byzantine peers' choices.
    Byzantine = 4,
}

/// A seeded generator with the few draws the simulator needs (integer arithmetic only,
/// so a run replays identically on every platform).
#[derive(Debug, Clone)]
pub(crate) struct SimRng(ChaCha8Rng);

impl SimRng {
    pub(crate) fn new(seed: u64, stream: Stream) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream as u64);
        SimRng(rng)
    }

    /// A value in `0..bound` (0 when `bound` is 0).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        self.0.next_u64() % bound
    }

    /// A value in `low..=high`.
    pub(crate) fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        low + self.below(high - low + 1)
    }

    /// A `usize` in `low..=high`.
    pub(crate) fn between_usize(&mut self, low: usize, high: usize) -> usize {
        let drawn = self.between(low as u64, high as u64);
        usize::try_from(drawn).unwrap_or(low)
    }

    /// An index into a collection of `len` items.
    pub(crate) fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(len as u64)).unwrap_or(0)
    }

    /// True with probability `ppm` in a million.
    pub(crate) fn chance(&mut self, ppm: u32) -> bool {
        ppm > 0 && self.0.next_u32() % 1_000_000 < ppm
    }

    /// A fair coin.
    pub(crate) fn coin(&mut self) -> bool {
        self.0.next_u32() & 1 == 1
    }

    pub(crate) fn bytes32(&mut self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        self.0.fill_bytes(&mut bytes);
        bytes
    }
}

/// 32 bytes derived from the run's seed and a purpose (node RNG seeds, keys): distinct
/// purposes never collide, and a restarted node gets a seed it never had.
pub(crate) fn derive(seed: u64, purpose: &str, index: u64, generation: u64) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"chorus-sim/v1/");
    hasher.update(purpose.as_bytes());
    hasher.update(seed.to_be_bytes());
    hasher.update(index.to_be_bytes());
    hasher.update(generation.to_be_bytes());
    hasher.finalize().into()
}
