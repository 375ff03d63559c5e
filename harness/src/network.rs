//! The simulated network: a sans-IO model that decides, for each message, when it arrives
//! (latency, bandwidth, reordering), whether it is lost, and whether it arrives twice.
//!
//! Each message passes a chain of rules, as in turmoil: a partition or a loss drops it,
//! reordering delays it, duplication adds a copy. The model keeps no clock of its own: the
//! simulator hands it the time.

use core::fmt;

use serde::Serialize;

use crate::plan::{MS, SEC};
use crate::rng::SimRng;

/// A latency distribution, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Latency {
    Fixed(u64),
    Uniform(u64, u64),
    /// Usually `base` plus a little; one message in ten takes up to `spread` more.
    LongTail {
        base: u64,
        spread: u64,
    },
}

impl Latency {
    fn sample(self, rng: &mut SimRng) -> u64 {
        match self {
            Latency::Fixed(delay) => delay,
            Latency::Uniform(low, high) => rng.between(low, high),
            Latency::LongTail { base, spread } => {
                if rng.chance(100_000) {
                    base + rng.below(spread)
                } else {
                    base + rng.below(spread / 20 + 1)
                }
            }
        }
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Latency::Fixed(delay) => write!(f, "fixed {} ms", delay / MS),
            Latency::Uniform(low, high) => write!(f, "uniform {}..{} ms", low / MS, high / MS),
            Latency::LongTail { base, spread } => {
                write!(f, "long tail {} ms + up to {} ms", base / MS, spread / MS)
            }
        }
    }
}

/// Which direction a partition cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PartitionMode {
    /// Nothing crosses (symmetric).
    Both,
    /// Messages from the side to the rest are lost (asymmetric).
    FromSide,
    /// Messages from the rest to the side are lost (asymmetric).
    ToSide,
}

/// A partition: from `start` to `end` (microseconds), `side` is cut from the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Partition {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) side: Vec<bool>,
    pub(crate) mode: PartitionMode,
}

impl Partition {
    fn cuts(&self, now: u64, from: usize, to: usize) -> bool {
        if now < self.start || now >= self.end {
            return false;
        }
        let from_side = self.side.get(from).copied().unwrap_or(false);
        let to_side = self.side.get(to).copied().unwrap_or(false);
        match self.mode {
            PartitionMode::Both => from_side != to_side,
            PartitionMode::FromSide => from_side && !to_side,
            PartitionMode::ToSide => !from_side && to_side,
        }
    }
}

/// The network's parameters for one run.
#[derive(Debug, Clone)]
pub(crate) struct NetworkPlan {
    pub(crate) latency: Latency,
    /// Each node's own access delay, added on both ends of a link.
    pub(crate) access: Vec<u64>,
    pub(crate) loss_ppm: u32,
    pub(crate) duplicate_ppm: u32,
    pub(crate) reorder_ppm: u32,
    pub(crate) reorder_max: u64,
    /// Bytes per second each node can send.
    pub(crate) bandwidth: Option<u64>,
    pub(crate) partitions: Vec<Partition>,
}

/// Why the network lost a message.
///
/// ```
/// use chorus_harness::DropCause;
///
/// assert_eq!(DropCause::Partition.name(), "partition");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropCause {
    /// Random loss.
    Loss,
    /// A partition cut the link.
    Partition,
    /// The receiver was down when the message arrived.
    Crashed,
}

impl DropCause {
    /// A short name for traces.
    pub fn name(self) -> &'static str {
        match self {
            DropCause::Loss => "loss",
            DropCause::Partition => "partition",
            DropCause::Crashed => "crashed",
        }
    }
}

/// What the network does with one message: lose it, or deliver it at one or two times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Dropped(DropCause),
    /// Arrival time, and the arrival time of a duplicate.
    Delivered(u64, Option<u64>),
}

/// The network model: the plan plus each node's outgoing queue (for the bandwidth cap).
#[derive(Debug, Clone)]
pub(crate) struct Network {
    plan: NetworkPlan,
    /// When each node's link is free again (bandwidth cap).
    busy_until: Vec<u64>,
    healed: bool,
}

impl Network {
    pub(crate) fn new(plan: NetworkPlan) -> Self {
        let nodes = plan.access.len();
        Network {
            plan,
            busy_until: vec![0; nodes],
            healed: false,
        }
    }

    /// From now on nothing is lost: partitions and loss end (latency, reordering,
    /// duplication and the bandwidth cap stay: they never stop a message arriving).
    pub(crate) fn heal(&mut self) {
        self.healed = true;
    }

    /// The fate of `size` bytes sent from `from` to `to` at `now`; `queued` messages wait
    /// for the sender's link (a byzantine flood does not: it would only slow its sender).
    pub(crate) fn route(
        &mut self,
        now: u64,
        (from, to): (usize, usize),
        size: usize,
        queued: bool,
        rng: &mut SimRng,
    ) -> Route {
        if !self.healed {
            if self
                .plan
                .partitions
                .iter()
                .any(|partition| partition.cuts(now, from, to))
            {
                return Route::Dropped(DropCause::Partition);
            }
            if rng.chance(self.plan.loss_ppm) {
                return Route::Dropped(DropCause::Loss);
            }
        }
        let departure = if queued {
            self.depart(now, from, size)
        } else {
            now
        };
        let arrival = departure + self.delay(from, to, rng);
        let duplicate = rng
            .chance(self.plan.duplicate_ppm)
            .then(|| departure + self.delay(from, to, rng));
        Route::Delivered(arrival, duplicate)
    }

    /// When the message leaves its sender's link, queued behind what it sent before.
    fn depart(&mut self, now: u64, from: usize, size: usize) -> u64 {
        let Some(bandwidth) = self.plan.bandwidth.filter(|bandwidth| *bandwidth > 0) else {
            return now;
        };
        let Some(busy) = self.busy_until.get_mut(from) else {
            return now;
        };
        let transfer = (size as u64).saturating_mul(SEC).div_ceil(bandwidth);
        let start = (*busy).max(now);
        *busy = start.saturating_add(transfer);
        *busy
    }

    fn delay(&self, from: usize, to: usize, rng: &mut SimRng) -> u64 {
        let access = |node: usize| self.plan.access.get(node).copied().unwrap_or(0);
        let mut delay = self.plan.latency.sample(rng) + access(from) + access(to);
        if rng.chance(self.plan.reorder_ppm) {
            delay += rng.below(self.plan.reorder_max + 1);
        }
        delay.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    fn plan(nodes: usize) -> NetworkPlan {
        NetworkPlan {
            latency: Latency::Fixed(10 * MS),
            access: vec![0; nodes],
            loss_ppm: 0,
            duplicate_ppm: 0,
            reorder_ppm: 0,
            reorder_max: 0,
            bandwidth: None,
            partitions: Vec::new(),
        }
    }

    #[test]
    fn an_asymmetric_partition_cuts_one_direction_until_it_ends() {
        let partition = Partition {
            start: 0,
            end: SEC,
            side: vec![true, false],
            mode: PartitionMode::FromSide,
        };
        let mut network = Network::new(NetworkPlan {
            partitions: vec![partition],
            ..plan(2)
        });
        let mut rng = SimRng::new(1, Stream::Network);
        assert_eq!(
            network.route(0, (0, 1), 10, true, &mut rng),
            Route::Dropped(DropCause::Partition)
        );
        assert_eq!(
            network.route(0, (1, 0), 10, true, &mut rng),
            Route::Delivered(10 * MS, None)
        );
        assert_eq!(
            network.route(SEC, (0, 1), 10, true, &mut rng),
            Route::Delivered(SEC + 10 * MS, None)
        );
    }

    #[test]
    fn the_bandwidth_cap_queues_messages_behind_each_other() {
        let mut network = Network::new(NetworkPlan {
            bandwidth: Some(1_000),
            ..plan(2)
        });
        let mut rng = SimRng::new(1, Stream::Network);
        // 500 bytes at 1,000 bytes/s take half a second each.
        assert_eq!(
            network.route(0, (0, 1), 500, true, &mut rng),
            Route::Delivered(SEC / 2 + 10 * MS, None)
        );
        assert_eq!(
            network.route(0, (0, 1), 500, true, &mut rng),
            Route::Delivered(SEC + 10 * MS, None)
        );
    }

    #[test]
    fn healing_ends_loss_and_partitions() {
        let mut network = Network::new(NetworkPlan {
            loss_ppm: 1_000_000,
            ..plan(2)
        });
        let mut rng = SimRng::new(1, Stream::Network);
        assert_eq!(
            network.route(0, (0, 1), 1, true, &mut rng),
            Route::Dropped(DropCause::Loss)
        );
        network.heal();
        assert!(matches!(
            network.route(0, (0, 1), 1, true, &mut rng),
            Route::Delivered(..)
        ));
    }
}
