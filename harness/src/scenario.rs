//! What one simulated run is asked to do: the seed and the knobs a person turns on the
//! command line. Everything else is drawn from the seed.

use core::fmt;
use core::str::FromStr;

/// Which network faults a run may suffer; the intensities are drawn from the seed.
///
/// ```
/// use chorus_harness::FaultPreset;
///
/// let preset: FaultPreset = "lossy".parse().unwrap();
/// assert_eq!(preset, FaultPreset::Lossy);
/// assert_eq!(preset.to_string(), "lossy");
/// assert!(!FaultPreset::Latency.loses_messages());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum FaultPreset {
    /// Short, steady latency; nothing goes wrong.
    None,
    /// Latency distributions with long tails, reordering and duplication; every message
    /// still arrives.
    Latency,
    /// Loss, duplication and reordering.
    Lossy,
    /// Symmetric and asymmetric partitions.
    Partition,
    /// Nodes crash and restart without their memory.
    Crash,
    /// A cap on every node's outgoing bandwidth.
    Bandwidth,
    /// Everything at once.
    Chaos,
    /// Each fault switched on or off by the seed (swarm testing).
    #[default]
    Swarm,
}

impl FaultPreset {
    /// Every preset, in the order the command line lists them.
    pub const ALL: [FaultPreset; 8] = [
        FaultPreset::None,
        FaultPreset::Latency,
        FaultPreset::Lossy,
        FaultPreset::Partition,
        FaultPreset::Crash,
        FaultPreset::Bandwidth,
        FaultPreset::Chaos,
        FaultPreset::Swarm,
    ];

    /// The preset's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            FaultPreset::None => "none",
            FaultPreset::Latency => "latency",
            FaultPreset::Lossy => "lossy",
            FaultPreset::Partition => "partition",
            FaultPreset::Crash => "crash",
            FaultPreset::Bandwidth => "bandwidth",
            FaultPreset::Chaos => "chaos",
            FaultPreset::Swarm => "swarm",
        }
    }

    /// Whether the preset can lose messages (so not every session must complete).
    pub fn loses_messages(self) -> bool {
        !matches!(
            self,
            FaultPreset::None | FaultPreset::Latency | FaultPreset::Bandwidth
        )
    }
}

/// How the byzantine peers of a run misbehave.
///
/// ```
/// use chorus_harness::ByzantineKind;
///
/// let kind: ByzantineKind = "invalid-partial".parse().unwrap();
/// assert_eq!(kind, ByzantineKind::InvalidPartial);
/// assert!(kind.disrupts());
/// assert!(!ByzantineKind::Replay.disrupts());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ByzantineKind {
    /// Every peer is honest.
    #[default]
    None,
    /// Sends partial signatures that do not verify.
    InvalidPartial,
    /// Sends two different nonces (or commitments, or aggregate nonces) to the same peer.
    Equivocate,
    /// Shows different nonces to different peers (never both to one peer).
    SplitView,
    /// Replays messages it has seen, to anyone.
    Replay,
    /// Sends messages with old timestamps, and its own messages of finished sessions.
    Stale,
    /// Sends correctly signed messages that the phase or topology does not allow.
    WrongPhase,
    /// Signs honestly but, elected to broadcast, stays silent (failover must take over).
    Withhold,
    /// Floods peers with junk, oversized messages, unknown sessions and fake announcements.
    Flood,
    /// Forges messages in honest peers' names (their key as sender, its own signature).
    Forged,
    /// A kind drawn from the seed (see [`ByzantineKind::SWARM`]).
    Swarm,
}

impl ByzantineKind {
    /// Every kind, in the order the command line lists them.
    pub const ALL: [ByzantineKind; 11] = [
        ByzantineKind::None,
        ByzantineKind::InvalidPartial,
        ByzantineKind::Equivocate,
        ByzantineKind::SplitView,
        ByzantineKind::Replay,
        ByzantineKind::Stale,
        ByzantineKind::WrongPhase,
        ByzantineKind::Withhold,
        ByzantineKind::Flood,
        ByzantineKind::Forged,
        ByzantineKind::Swarm,
    ];

    /// The kinds [`ByzantineKind::Swarm`] draws from. Nonce equivocation and split views
    /// are left out: in the mesh topology a signer that shows different nonces to
    /// different peers (or whose second nonce overtakes the first) makes honest peers
    /// blame each other, which the engine does not prevent yet; run them with
    /// `--topology aggregator`, or on their own to see it.
    pub const SWARM: [ByzantineKind; 8] = [
        ByzantineKind::None,
        ByzantineKind::InvalidPartial,
        ByzantineKind::Replay,
        ByzantineKind::Stale,
        ByzantineKind::WrongPhase,
        ByzantineKind::Withhold,
        ByzantineKind::Flood,
        ByzantineKind::Forged,
    ];

    /// The kind's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            ByzantineKind::None => "none",
            ByzantineKind::InvalidPartial => "invalid-partial",
            ByzantineKind::Equivocate => "equivocate",
            ByzantineKind::SplitView => "split-view",
            ByzantineKind::Replay => "replay",
            ByzantineKind::Stale => "stale",
            ByzantineKind::WrongPhase => "wrong-phase",
            ByzantineKind::Withhold => "withhold",
            ByzantineKind::Flood => "flood",
            ByzantineKind::Forged => "forged",
            ByzantineKind::Swarm => "swarm",
        }
    }

    /// Whether a session with such a peer among its signers cannot be expected to
    /// complete: the honest peers must abort it, blaming the culprit, or stop listening to
    /// a forger (blacklisted after too many bad signatures).
    pub fn disrupts(self) -> bool {
        matches!(
            self,
            ByzantineKind::InvalidPartial
                | ByzantineKind::Equivocate
                | ByzantineKind::SplitView
                | ByzantineKind::Forged
        )
    }
}

/// Which topology the sessions of a run use.
///
/// ```
/// use chorus_harness::TopologyChoice;
///
/// assert_eq!("mixed".parse::<TopologyChoice>(), Ok(TopologyChoice::Mixed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum TopologyChoice {
    /// Every participant sends to every other.
    Mesh,
    /// Participants talk through the elected aggregator.
    Aggregator,
    /// Each session's topology is drawn from the seed.
    #[default]
    Mixed,
}

impl TopologyChoice {
    /// The choice's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            TopologyChoice::Mesh => "mesh",
            TopologyChoice::Aggregator => "aggregator",
            TopologyChoice::Mixed => "mixed",
        }
    }
}

/// Which signature dialect the sessions of a run use.
///
/// ```
/// use chorus_harness::DialectChoice;
///
/// assert_eq!("bip340".parse::<DialectChoice>(), Ok(DialectChoice::Bip340));
/// assert_eq!(DialectChoice::default().to_string(), "mixed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum DialectChoice {
    /// BIP340 / BIP327 (Bitcoin).
    Bip340,
    /// The Lotus dialect (lotus-lib).
    Lotus,
    /// Each session's dialect is drawn from the seed.
    #[default]
    Mixed,
}

impl DialectChoice {
    /// Every choice, in the order the command line lists them.
    pub const ALL: [DialectChoice; 3] = [
        DialectChoice::Bip340,
        DialectChoice::Lotus,
        DialectChoice::Mixed,
    ];

    /// The choice's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            DialectChoice::Bip340 => "bip340",
            DialectChoice::Lotus => "lotus",
            DialectChoice::Mixed => "mixed",
        }
    }
}

/// Whether the sessions of a run commit to their nonces first (round 0).
///
/// ```
/// use chorus_harness::CommitmentChoice;
///
/// assert_eq!("off".parse::<CommitmentChoice>(), Ok(CommitmentChoice::Off));
/// assert_eq!(CommitmentChoice::default().to_string(), "mixed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum CommitmentChoice {
    /// Every session runs round 0.
    On,
    /// No session runs round 0.
    Off,
    /// Drawn from the seed for each session.
    #[default]
    Mixed,
}

impl CommitmentChoice {
    /// Every choice, in the order the command line lists them.
    pub const ALL: [CommitmentChoice; 3] = [
        CommitmentChoice::On,
        CommitmentChoice::Off,
        CommitmentChoice::Mixed,
    ];

    /// The choice's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            CommitmentChoice::On => "on",
            CommitmentChoice::Off => "off",
            CommitmentChoice::Mixed => "mixed",
        }
    }
}

/// A name the command line does not know.
///
/// ```
/// use chorus_harness::{FaultPreset, UnknownName};
///
/// let error = "sunny".parse::<FaultPreset>().unwrap_err();
/// assert!(error.to_string().contains("sunny"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// What was given.
    pub got: String,
    /// The names that exist.
    pub expected: Vec<&'static str>,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown name `{}` (expected one of: {})",
            self.got,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownName {}

fn parse_name<T: Copy>(
    text: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<T, UnknownName> {
    let wanted = text.trim().to_ascii_lowercase();
    all.iter()
        .copied()
        .find(|item| name(*item) == wanted)
        .ok_or_else(|| UnknownName {
            got: text.to_owned(),
            expected: all.iter().map(|item| name(*item)).collect(),
        })
}

impl FromStr for FaultPreset {
    type Err = UnknownName;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_name(text, &FaultPreset::ALL, FaultPreset::name)
    }
}

impl FromStr for ByzantineKind {
    type Err = UnknownName;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_name(text, &ByzantineKind::ALL, ByzantineKind::name)
    }
}

impl FromStr for TopologyChoice {
    type Err = UnknownName;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let all = [
            TopologyChoice::Mesh,
            TopologyChoice::Aggregator,
            TopologyChoice::Mixed,
        ];
        parse_name(text, &all, TopologyChoice::name)
    }
}

impl FromStr for DialectChoice {
    type Err = UnknownName;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_name(text, &DialectChoice::ALL, DialectChoice::name)
    }
}

impl FromStr for CommitmentChoice {
    type Err = UnknownName;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_name(text, &CommitmentChoice::ALL, CommitmentChoice::name)
    }
}

impl fmt::Display for DialectChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for CommitmentChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for FaultPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for ByzantineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for TopologyChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A number, or a range `A..B` (B excluded) or `A..=B` the seed picks from.
///
/// ```
/// use chorus_harness::Count;
///
/// assert_eq!("3".parse::<Count>().unwrap(), Count::exactly(3));
/// assert_eq!("2..5".parse::<Count>().unwrap(), Count { low: 2, high: 4 });
/// assert_eq!("2..=5".parse::<Count>().unwrap().to_string(), "2..=5");
/// assert!("5..2".parse::<Count>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Count {
    /// The smallest value.
    pub low: usize,
    /// The largest value (included).
    pub high: usize,
}

impl Count {
    /// Exactly `value`.
    pub const fn exactly(value: usize) -> Self {
        Count {
            low: value,
            high: value,
        }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.low == self.high {
            write!(f, "{}", self.low)
        } else {
            write!(f, "{}..={}", self.low, self.high)
        }
    }
}

/// A count or range that does not parse.
///
/// ```
/// use chorus_harness::Count;
///
/// let error = "x".parse::<Count>().unwrap_err();
/// assert!(error.to_string().contains("x"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidCount(pub String);

impl fmt::Display for InvalidCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a number or a non-empty range A..B / A..=B",
            self.0
        )
    }
}

impl std::error::Error for InvalidCount {}

impl FromStr for Count {
    type Err = InvalidCount;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidCount(text.to_owned());
        let number = |part: &str| part.trim().parse::<usize>().map_err(|_| invalid());
        let (low, high) = if let Some((low, high)) = text.split_once("..=") {
            (number(low)?, number(high)?)
        } else if let Some((low, high)) = text.split_once("..") {
            (
                number(low)?,
                number(high)?.checked_sub(1).ok_or_else(invalid)?,
            )
        } else {
            let value = number(text)?;
            (value, value)
        };
        if low > high {
            return Err(invalid());
        }
        Ok(Count { low, high })
    }
}

/// One run: a seed and the knobs of `chorus sim`.
///
/// ```
/// use chorus_harness::{ByzantineKind, CommitmentChoice, DialectChoice, FaultPreset, Scenario};
///
/// let scenario = Scenario { seed: 7, byzantine: ByzantineKind::Replay, ..Scenario::default() };
/// assert_eq!(
///     scenario.replay_command(),
///     "chorus sim --seed 7 --signers 2..=6 --sessions 4 --topology mixed --faults swarm --byzantine replay"
/// );
/// assert_eq!(scenario.faults, FaultPreset::Swarm);
///
/// let bitcoin = Scenario { dialect: DialectChoice::Bip340, nonce_commitments: CommitmentChoice::Off, ..scenario };
/// assert!(bitcoin.replay_command().ends_with("--byzantine replay --dialect bip340 --nonce-commitments off"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scenario {
    /// The seed everything else is drawn from.
    pub seed: u64,
    /// How many nodes (signers) the run has.
    pub signers: Count,
    /// How many sessions the safety phase starts (the liveness phase adds its own).
    pub sessions: usize,
    /// The topology of the sessions.
    pub topology: TopologyChoice,
    /// The network faults.
    pub faults: FaultPreset,
    /// The byzantine behaviour.
    pub byzantine: ByzantineKind,
    /// The signature dialect of the sessions.
    pub dialect: DialectChoice,
    /// Whether the sessions run round 0 (nonce commitments).
    pub nonce_commitments: CommitmentChoice,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            seed: 0,
            signers: Count { low: 2, high: 6 },
            sessions: 4,
            topology: TopologyChoice::Mixed,
            faults: FaultPreset::Swarm,
            byzantine: ByzantineKind::None,
            dialect: DialectChoice::Mixed,
            nonce_commitments: CommitmentChoice::Mixed,
        }
    }
}

impl Scenario {
    /// The same scenario with another seed.
    pub fn with_seed(&self, seed: u64) -> Self {
        Scenario { seed, ..*self }
    }

    /// The `chorus sim` command line that replays this run exactly (the dialect and
    /// round-0 knobs appear only when they are not drawn from the seed).
    pub fn replay_command(&self) -> String {
        let mut command = format!(
            "chorus sim --seed {} --signers {} --sessions {} --topology {} --faults {} --byzantine {}",
            self.seed, self.signers, self.sessions, self.topology, self.faults, self.byzantine
        );
        if self.dialect != DialectChoice::Mixed {
            command.push_str(&format!(" --dialect {}", self.dialect));
        }
        if self.nonce_commitments != CommitmentChoice::Mixed {
            command.push_str(&format!(" --nonce-commitments {}", self.nonce_commitments));
        }
        command
    }
}
