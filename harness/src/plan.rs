//! Everything a run does that does not depend on what happens in it, drawn from the seed
//! before the first step: nodes, keys, roles, the fault mix, the sessions.

use chorus_core::crypto::{Dialect, Keypair, SecretKey};
use chorus_core::election::ElectionMethod;
use chorus_core::wire::{SessionOptions, Topology};
use serde::Serialize;

use crate::network::{Latency, NetworkPlan, Partition, PartitionMode};
use crate::rng::{derive, SimRng, Stream};
use crate::scenario::{
    ByzantineKind, CommitmentChoice, DialectChoice, FaultPreset, Scenario, TopologyChoice,
};

/// One millisecond of simulated time, in microseconds.
pub(crate) const MS: u64 = 1_000;
/// One second of simulated time, in microseconds.
pub(crate) const SEC: u64 = 1_000_000;
/// One minute of simulated time, in microseconds.
pub(crate) const MIN: u64 = 60 * SEC;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    Honest,
    Byzantine(ByzantineKind),
}

impl Role {
    pub(crate) fn is_honest(self) -> bool {
        self == Role::Honest
    }

    /// Whether a session with this signer is expected to complete.
    pub(crate) fn completes(self) -> bool {
        match self {
            Role::Honest => true,
            Role::Byzantine(kind) => !kind.disrupts(),
        }
    }

    pub(crate) fn withholds(self) -> bool {
        self == Role::Byzantine(ByzantineKind::Withhold)
    }
}

/// The part of a run a session belongs to.
///
/// ```
/// use chorus_harness::RunPhase;
///
/// assert!(RunPhase::Safety < RunPhase::Liveness);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunPhase {
    /// Faults are on; only safety is checked (and liveness for sessions nothing disturbed).
    Safety,
    /// The network healed and crashed nodes restarted; every session must complete.
    Liveness,
}

/// A session to create.
#[derive(Debug, Clone)]
pub(crate) struct SessionPlan {
    pub(crate) at: u64,
    pub(crate) creator: usize,
    /// Node indices, the creator's included.
    pub(crate) signers: Vec<usize>,
    pub(crate) message: [u8; 32],
    pub(crate) dialect: Dialect,
    pub(crate) election: ElectionMethod,
    pub(crate) options: SessionOptions,
    pub(crate) phase: RunPhase,
    /// The safety-phase session this one retries (same signers, same message).
    pub(crate) retry_of: Option<usize>,
}

/// A crash and the restart that follows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CrashPlan {
    pub(crate) node: usize,
    pub(crate) at: u64,
    pub(crate) restart_at: u64,
}

/// The fault mix one seed drew, as reported with the run.
///
/// ```
/// use chorus_harness::{FaultPreset, Scenario, Sim, SimOptions};
///
/// let scenario = Scenario { seed: 1, faults: FaultPreset::None, ..Scenario::default() };
/// let mix = Sim::new(&scenario, SimOptions::default()).run().mix;
/// assert_eq!((mix.loss_ppm, mix.partitions, mix.crashes), (0, 0, 0));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FaultMix {
    /// The latency distribution.
    pub latency: String,
    /// Per-message loss, in parts per million.
    pub loss_ppm: u32,
    /// Per-message duplication, in parts per million.
    pub duplicate_ppm: u32,
    /// Per-message extra delay (reordering), in parts per million.
    pub reorder_ppm: u32,
    /// Each node's outgoing bandwidth, bytes per second.
    pub bandwidth: Option<u64>,
    /// How many partitions the safety phase has.
    pub partitions: usize,
    /// How many crashes the safety phase has.
    pub crashes: usize,
    /// The byzantine behaviour.
    pub byzantine: String,
    /// The byzantine nodes.
    pub byzantine_nodes: Vec<usize>,
    /// When the network heals, in simulated milliseconds.
    pub heal_at_ms: u64,
}

/// Everything drawn from the seed before the run starts.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) keys: Vec<Keypair>,
    pub(crate) roles: Vec<Role>,
    /// Nodes that move through the rounds by hand, after a think time.
    pub(crate) manual: Vec<bool>,
    pub(crate) network: NetworkPlan,
    pub(crate) crashes: Vec<CrashPlan>,
    pub(crate) heal_at: u64,
    pub(crate) sessions: Vec<SessionPlan>,
    pub(crate) mix: FaultMix,
}

/// Which faults a run has, before intensities are drawn.
#[derive(Debug, Clone, Copy, Default)]
struct Switches {
    heavy_latency: bool,
    loss: bool,
    duplicate: bool,
    reorder: bool,
    partition: bool,
    crash: bool,
    bandwidth: bool,
}

impl Switches {
    fn of(preset: FaultPreset, rng: &mut SimRng) -> Self {
        let all = Switches {
            heavy_latency: true,
            loss: true,
            duplicate: true,
            reorder: true,
            partition: true,
            crash: true,
            bandwidth: true,
        };
        match preset {
            FaultPreset::None => Switches::default(),
            FaultPreset::Latency => Switches {
                heavy_latency: true,
                duplicate: true,
                reorder: true,
                ..Switches::default()
            },
            FaultPreset::Lossy => Switches {
                loss: true,
                duplicate: true,
                reorder: true,
                ..Switches::default()
            },
            FaultPreset::Partition => Switches {
                partition: true,
                ..Switches::default()
            },
            FaultPreset::Crash => Switches {
                crash: true,
                ..Switches::default()
            },
            FaultPreset::Bandwidth => Switches {
                bandwidth: true,
                ..Switches::default()
            },
            FaultPreset::Chaos => all,
            FaultPreset::Swarm => Switches {
                heavy_latency: rng.coin(),
                loss: rng.coin(),
                duplicate: rng.coin(),
                reorder: rng.coin(),
                partition: rng.coin(),
                crash: rng.coin(),
                bandwidth: rng.coin(),
            },
        }
    }
}

impl Plan {
    pub(crate) fn draw(scenario: &Scenario) -> Plan {
        let mut rng = SimRng::new(scenario.seed, Stream::Plan);
        let nodes = rng
            .between_usize(scenario.signers.low, scenario.signers.high)
            .max(1);
        let keys = (0..nodes)
            .map(|index| node_key(scenario.seed, index))
            .collect();
        let (roles, byzantine) = draw_roles(scenario.byzantine, nodes, &mut rng);
        let manual = (0..nodes).map(|_| rng.chance(300_000)).collect();
        let switches = Switches::of(scenario.faults, &mut rng);
        let heal_at = rng.between(3 * MIN, 15 * MIN);
        let network = draw_network(&switches, nodes, heal_at, &mut rng);
        let crashes = if switches.crash {
            (0..rng.between(1, 3))
                .map(|_| {
                    let at = rng.below(heal_at);
                    let down = rng.between(SEC, 5 * MIN);
                    CrashPlan {
                        node: rng.index(nodes),
                        at,
                        restart_at: (at + down).min(heal_at),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut plan = Plan {
            keys,
            roles,
            manual,
            network,
            crashes,
            heal_at,
            sessions: Vec::new(),
            mix: FaultMix::default(),
        };
        // The first session of each phase has every eligible node as a signer; the
        // others a random group.
        for index in 0..scenario.sessions {
            let at = rng.below(heal_at.saturating_sub(MIN).max(SEC));
            plan.draw_session(scenario, RunPhase::Safety, at, index == 0, &mut rng);
        }
        for index in 0..scenario.sessions.div_ceil(2).max(1) {
            let at = heal_at + rng.between(SEC, 30 * SEC);
            plan.draw_session(scenario, RunPhase::Liveness, at, index == 0, &mut rng);
        }
        plan.mix = plan.describe(scenario.byzantine, byzantine);
        plan
    }

    fn describe(&self, asked: ByzantineKind, kind: ByzantineKind) -> FaultMix {
        let network = &self.network;
        FaultMix {
            latency: network.latency.to_string(),
            loss_ppm: network.loss_ppm,
            duplicate_ppm: network.duplicate_ppm,
            reorder_ppm: network.reorder_ppm,
            bandwidth: network.bandwidth,
            partitions: network.partitions.len(),
            crashes: self.crashes.len(),
            byzantine: if asked == ByzantineKind::Swarm {
                format!("swarm:{kind}")
            } else {
                kind.to_string()
            },
            byzantine_nodes: (0..self.roles.len())
                .filter(|node| !self.roles[*node].is_honest())
                .collect(),
            heal_at_ms: self.heal_at / MS,
        }
    }

    /// Draws one session (with `everyone` eligible as signers, or a random group): the
    /// creator is honest; liveness sessions take only signers that let a session complete.
    fn draw_session(
        &mut self,
        scenario: &Scenario,
        phase: RunPhase,
        at: u64,
        everyone: bool,
        rng: &mut SimRng,
    ) {
        let nodes = self.roles.len();
        let eligible: Vec<usize> = (0..nodes)
            .filter(|node| phase == RunPhase::Safety || self.roles[*node].completes())
            .collect();
        let creators: Vec<usize> = eligible
            .iter()
            .copied()
            .filter(|node| self.roles[*node].is_honest())
            .collect();
        let Some(&creator) = creators.get(rng.index(creators.len())) else {
            return;
        };
        let size = if everyone || eligible.len() <= 3 {
            eligible.len()
        } else {
            rng.between_usize(2, eligible.len())
        };
        let mut others: Vec<usize> = eligible.into_iter().filter(|n| *n != creator).collect();
        let mut signers = vec![creator];
        while signers.len() < size && !others.is_empty() {
            signers.push(others.swap_remove(rng.index(others.len())));
        }
        signers.sort_unstable();
        let topology = match scenario.topology {
            TopologyChoice::Mesh => Topology::Mesh,
            TopologyChoice::Aggregator => Topology::Aggregator,
            TopologyChoice::Mixed if rng.coin() => Topology::Aggregator,
            TopologyChoice::Mixed => Topology::Mesh,
        };
        let election = ElectionMethod::ALL[rng.index(ElectionMethod::ALL.len())];
        self.sessions.push(SessionPlan {
            at,
            creator,
            signers,
            message: rng.bytes32(),
            // Both draws happen whatever the choice, so fixing one knob changes nothing
            // else the seed draws.
            dialect: match (scenario.dialect, rng.coin()) {
                (DialectChoice::Bip340, _) | (DialectChoice::Mixed, false) => Dialect::Bip340,
                (DialectChoice::Lotus, _) | (DialectChoice::Mixed, true) => Dialect::Lotus,
            },
            election,
            options: SessionOptions {
                nonce_commitments: match (scenario.nonce_commitments, rng.coin()) {
                    (CommitmentChoice::On, _) => true,
                    (CommitmentChoice::Off, _) => false,
                    (CommitmentChoice::Mixed, drawn) => drawn,
                },
                topology,
                broadcast_timeout_ms: [30_000, 60_000, 300_000][rng.index(3)],
            },
            phase,
            retry_of: None,
        });
    }
}

/// Node `index`'s signing key for `seed` (a fresh group for every seed).
fn node_key(seed: u64, index: usize) -> Keypair {
    let mut generation = 0;
    loop {
        let bytes = derive(seed, "key", index as u64, generation);
        if let Ok(secret) = SecretKey::from_secret_bytes(bytes) {
            return Keypair::from_secret_key(&secret);
        }
        generation += 1;
    }
}

fn draw_roles(asked: ByzantineKind, nodes: usize, rng: &mut SimRng) -> (Vec<Role>, ByzantineKind) {
    let kind = match asked {
        ByzantineKind::Swarm => ByzantineKind::SWARM[rng.index(ByzantineKind::SWARM.len())],
        other => other,
    };
    let mut roles = vec![Role::Honest; nodes];
    if kind == ByzantineKind::None || nodes < 2 {
        return (roles, kind);
    }
    // At least one honest node creates the sessions; silent coordinators may be all
    // but one, other misbehaviour stays a minority.
    let most = match kind {
        ByzantineKind::Withhold => nodes - 1,
        _ => ((nodes - 1) / 3).max(1),
    };
    let count = rng.between_usize(1, most);
    let mut candidates: Vec<usize> = (0..nodes).collect();
    for _ in 0..count {
        let node = candidates.swap_remove(rng.index(candidates.len()));
        roles[node] = Role::Byzantine(kind);
    }
    (roles, kind)
}

fn draw_network(switches: &Switches, nodes: usize, heal_at: u64, rng: &mut SimRng) -> NetworkPlan {
    let latency = if switches.heavy_latency {
        match rng.below(3) {
            0 => Latency::Fixed(rng.between(MS, 800 * MS)),
            1 => {
                let low = rng.between(MS, 100 * MS);
                Latency::Uniform(low, low + rng.between(MS, 2 * SEC))
            }
            _ => Latency::LongTail {
                base: rng.between(MS, 100 * MS),
                spread: rng.between(10 * MS, 3 * SEC),
            },
        }
    } else if rng.coin() {
        Latency::Fixed(rng.between(MS, 20 * MS))
    } else {
        let low = rng.between(MS, 10 * MS);
        Latency::Uniform(low, low + rng.between(MS, 40 * MS))
    };
    let access = (0..nodes)
        .map(|_| {
            if switches.heavy_latency {
                rng.below(200 * MS)
            } else {
                rng.below(5 * MS)
            }
        })
        .collect();
    let partitions = if switches.partition && nodes >= 2 {
        (0..rng.between(1, 3))
            .map(|_| draw_partition(nodes, heal_at, rng))
            .collect()
    } else {
        Vec::new()
    };
    NetworkPlan {
        latency,
        access,
        loss_ppm: if switches.loss {
            rng.between(10_000, 200_000) as u32
        } else {
            0
        },
        duplicate_ppm: if switches.duplicate {
            rng.between(1_000, 50_000) as u32
        } else {
            0
        },
        reorder_ppm: if switches.reorder {
            rng.between(10_000, 300_000) as u32
        } else {
            0
        },
        reorder_max: rng.between(10 * MS, 3 * SEC),
        bandwidth: switches.bandwidth.then(|| rng.between(4_000, 512_000)),
        partitions,
    }
}

fn draw_partition(nodes: usize, heal_at: u64, rng: &mut SimRng) -> Partition {
    let start = rng.below(heal_at);
    let end = (start + rng.between(SEC, 10 * MIN)).min(heal_at);
    let mut side = vec![false; nodes];
    // A non-empty proper subset.
    let size = rng.between_usize(1, nodes - 1);
    let mut candidates: Vec<usize> = (0..nodes).collect();
    for _ in 0..size {
        side[candidates.swap_remove(rng.index(candidates.len()))] = true;
    }
    let mode = match rng.below(3) {
        0 => PartitionMode::Both,
        1 => PartitionMode::FromSide,
        _ => PartitionMode::ToSide,
    };
    Partition {
        start,
        end,
        side,
        mode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Count;

    fn plan(seed: u64, byzantine: ByzantineKind, faults: FaultPreset) -> Plan {
        Plan::draw(&Scenario {
            seed,
            signers: Count { low: 4, high: 7 },
            faults,
            byzantine,
            ..Scenario::default()
        })
    }

    #[test]
    fn creators_are_honest_and_liveness_signers_can_complete() {
        for seed in 0..50 {
            let plan = plan(seed, ByzantineKind::InvalidPartial, FaultPreset::Chaos);
            assert!(plan.roles.iter().any(|role| !role.is_honest()));
            for session in &plan.sessions {
                assert!(plan.roles[session.creator].is_honest());
                assert!(session.signers.contains(&session.creator));
                if session.phase == RunPhase::Liveness {
                    assert!(session.at > plan.heal_at);
                    assert!(session
                        .signers
                        .iter()
                        .all(|node| plan.roles[*node].completes()));
                } else {
                    assert!(session.at < plan.heal_at);
                }
            }
        }
    }

    #[test]
    fn the_swarm_switches_faults_on_and_off_by_seed() {
        let mixes: Vec<FaultMix> = (0..40)
            .map(|seed| plan(seed, ByzantineKind::None, FaultPreset::Swarm).mix)
            .collect();
        assert!(mixes.iter().any(|mix| mix.loss_ppm == 0));
        assert!(mixes.iter().any(|mix| mix.loss_ppm > 0));
        assert!(mixes.iter().any(|mix| mix.crashes == 0));
        assert!(mixes.iter().any(|mix| mix.crashes > 0));
        assert!(mixes.iter().any(|mix| mix.bandwidth.is_some()));
        assert!(mixes.iter().any(|mix| mix.partitions > 0));
    }

    #[test]
    fn presets_without_loss_never_lose_or_crash() {
        for preset in [
            FaultPreset::None,
            FaultPreset::Latency,
            FaultPreset::Bandwidth,
        ] {
            assert!(!preset.loses_messages());
            for seed in 0..20 {
                let plan = plan(seed, ByzantineKind::None, preset);
                assert_eq!(plan.network.loss_ppm, 0);
                assert!(plan.network.partitions.is_empty());
                assert!(plan.crashes.is_empty());
            }
        }
    }

    #[test]
    fn fixing_the_dialect_or_round_0_changes_nothing_else_the_seed_draws() {
        let drawn = |dialect, nonce_commitments| {
            Plan::draw(&Scenario {
                seed: 11,
                sessions: 40,
                dialect,
                nonce_commitments,
                ..Scenario::default()
            })
        };
        let mixed = drawn(DialectChoice::Mixed, CommitmentChoice::Mixed);
        let bitcoin = drawn(DialectChoice::Bip340, CommitmentChoice::Off);
        let lotus = drawn(DialectChoice::Lotus, CommitmentChoice::On);
        assert!(mixed.sessions.iter().any(|s| s.dialect == Dialect::Lotus));
        assert!(mixed.sessions.iter().any(|s| s.dialect == Dialect::Bip340));
        assert!(mixed.sessions.iter().any(|s| s.options.nonce_commitments));
        assert!(mixed.sessions.iter().any(|s| !s.options.nonce_commitments));
        assert_eq!(mixed.sessions.len(), bitcoin.sessions.len());
        for ((mixed, bitcoin), lotus) in mixed
            .sessions
            .iter()
            .zip(&bitcoin.sessions)
            .zip(&lotus.sessions)
        {
            assert_eq!(bitcoin.dialect, Dialect::Bip340);
            assert!(!bitcoin.options.nonce_commitments);
            assert_eq!(lotus.dialect, Dialect::Lotus);
            assert!(lotus.options.nonce_commitments);
            for fixed in [bitcoin, lotus] {
                assert_eq!(
                    (
                        fixed.at,
                        fixed.creator,
                        &fixed.signers,
                        fixed.message,
                        fixed.election
                    ),
                    (
                        mixed.at,
                        mixed.creator,
                        &mixed.signers,
                        mixed.message,
                        mixed.election
                    )
                );
                assert_eq!(fixed.options.topology, mixed.options.topology);
                assert_eq!(
                    fixed.options.broadcast_timeout_ms,
                    mixed.options.broadcast_timeout_ms
                );
            }
        }
        assert_eq!(mixed.mix, bitcoin.mix);
    }

    #[test]
    fn silent_coordinators_may_be_all_but_one() {
        let most = (0..200)
            .map(|seed| plan(seed, ByzantineKind::Withhold, FaultPreset::None))
            .map(|plan| plan.roles.iter().filter(|role| role.withholds()).count())
            .max();
        assert_eq!(most, Some(6));
    }
}
