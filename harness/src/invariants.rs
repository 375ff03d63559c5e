//! The invariants of SPEC §6, checked as each step's outputs appear (every event, every
//! send, every delivery) and once more when the run ends.

use std::collections::{BTreeMap, BTreeSet};

use chorus_core::crypto::{self, Dialect, PublicKey, Signature};
use chorus_core::node::{
    AbortReason, Event, Evidence, Node, PeerId, Rejection, RejectionKind, SessionView,
};
use chorus_core::wire::SessionId;
use serde::Serialize;

use crate::plan::{Role, RunPhase, SEC};
use crate::trace::{short, Origin};

/// The invariants a run is checked against.
///
/// ```
/// use chorus_harness::Invariant;
///
/// assert_eq!(Invariant::NonceUsedOnce.name(), "nonce-used-once");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Invariant {
    /// Every honest peer elects the same coordinator.
    SameCoordinator,
    /// A completed session's signature verifies under the aggregate key.
    SignatureVerifies,
    /// Every honest peer completes a session with the same signature.
    SameSignature,
    /// No public nonce is ever sent in two signing attempts.
    NonceUsedOnce,
    /// No honest peer is ever blamed.
    NoHonestBlame,
    /// Blame carries evidence that verifies and names the blamed key.
    BlameEvidence,
    /// No honest peer is counted against for invalid signatures (the blacklist's measure).
    HonestNotPenalised,
    /// With eventual delivery and honest peers, every session completes.
    EveryoneCompletes,
    /// With k < n silent coordinators the broadcast happens after exactly k timeouts.
    FailoverAfterKTimeouts,
    /// Only the coordinator of the current failover attempt is asked to broadcast.
    BroadcastDuty,
    /// No honest message is rejected (beyond what lost messages and crashes explain).
    HonestMessageAccepted,
    /// Every message made up to be refused is refused.
    HostileMessageRejected,
    /// Every session settles on every honest peer: complete and broadcast, or ended.
    Converges,
    /// The application's commands to honest nodes succeed.
    CommandAccepted,
    /// The same seed gives the same trace.
    Deterministic,
}

impl Invariant {
    /// The invariant's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::SameCoordinator => "same-coordinator",
            Invariant::SignatureVerifies => "signature-verifies",
            Invariant::SameSignature => "same-signature",
            Invariant::NonceUsedOnce => "nonce-used-once",
            Invariant::NoHonestBlame => "no-honest-blame",
            Invariant::BlameEvidence => "blame-evidence",
            Invariant::HonestNotPenalised => "honest-not-penalised",
            Invariant::EveryoneCompletes => "everyone-completes",
            Invariant::FailoverAfterKTimeouts => "failover-after-k-timeouts",
            Invariant::BroadcastDuty => "broadcast-duty",
            Invariant::HonestMessageAccepted => "honest-message-accepted",
            Invariant::HostileMessageRejected => "hostile-message-rejected",
            Invariant::Converges => "converges",
            Invariant::CommandAccepted => "command-accepted",
            Invariant::Deterministic => "deterministic",
        }
    }
}

/// One failed invariant.
///
/// ```
/// use chorus_harness::{Invariant, Violation};
///
/// let violation = Violation { invariant: Invariant::NonceUsedOnce, t_us: 5, detail: "node 1".into() };
/// assert_eq!(violation.to_string(), "nonce-used-once at 0.000005 s: node 1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Which invariant.
    pub invariant: Invariant,
    /// When (simulated microseconds).
    pub t_us: u64,
    /// What was seen.
    pub detail: String,
}

impl core::fmt::Display for Violation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} at {}.{:06} s: {}",
            self.invariant.name(),
            self.t_us / SEC,
            self.t_us % SEC,
            self.detail
        )
    }
}

/// One honest signer's progress in one session.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    completed: bool,
    confirmed: bool,
    exhausted: bool,
    failed_coordinators: u32,
    /// The signer whose broadcast this node saw confirmed.
    confirmed_by: Option<usize>,
}

/// What the checker knows of one session.
#[derive(Debug, Clone)]
struct Tracked {
    /// Created by an honest node of the run (not announced by a byzantine peer).
    planned: bool,
    phase: RunPhase,
    /// Node index of each signer index.
    signers: Vec<Option<usize>>,
    message: [u8; 32],
    dialect: Dialect,
    aggregate_key: PublicKey,
    /// Signer indices in failover order.
    priority: Vec<usize>,
    coordinator: PublicKey,
    signature: Option<Signature>,
    /// A message of the session was lost, badly delayed, or a signer crashed.
    disturbed: bool,
    /// A signer misbehaves in a way that must stop the session.
    disrupted: bool,
    progress: BTreeMap<usize, Progress>,
}

impl Tracked {
    /// Records what an honest node's `event` says about the session; returns what fails.
    fn observe(&mut self, node: usize, event: &Event) -> Vec<(Invariant, String)> {
        let mut failures = Vec::new();
        let progress = self.progress.entry(node).or_default();
        match event {
            Event::CoordinatorElected { coordinator, .. } if *coordinator != self.coordinator => {
                failures.push((
                    Invariant::SameCoordinator,
                    format!("node {node} elected another coordinator than the creator"),
                ));
            }
            Event::SessionComplete { signature, .. } => {
                progress.completed = true;
                failures.extend(self.check_signature(node, signature));
            }
            Event::ShouldBroadcast { attempt, .. } => {
                let duty = usize::try_from(*attempt)
                    .ok()
                    .and_then(|attempt| self.priority.get(attempt))
                    .and_then(|signer| self.signers.get(*signer).copied().flatten());
                if duty != Some(node) {
                    failures.push((
                        Invariant::BroadcastDuty,
                        format!("node {node} asked to broadcast for attempt {attempt}"),
                    ));
                }
            }
            Event::CoordinatorFailed { .. } => progress.failed_coordinators += 1,
            Event::BroadcastConfirmed { signer, .. } => {
                progress.confirmed = true;
                progress.confirmed_by = Some(*signer);
            }
            Event::FailoverExhausted { .. } => progress.exhausted = true,
            _ => {}
        }
        failures
    }

    /// The first signature is verified; every later one must equal it.
    fn check_signature(
        &mut self,
        node: usize,
        signature: &Signature,
    ) -> Option<(Invariant, String)> {
        match self.signature {
            None => {
                self.signature = Some(*signature);
                let valid =
                    crypto::verify(self.dialect, &self.aggregate_key, &self.message, signature);
                (!valid).then(|| {
                    (
                        Invariant::SignatureVerifies,
                        format!("node {node} completed with a signature that does not verify"),
                    )
                })
            }
            Some(first) if first != *signature => Some((
                Invariant::SameSignature,
                format!("node {node} completed with another signature"),
            )),
            Some(_) => None,
        }
    }
}

/// A delivery, as the checker needs to see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Delivery<'a> {
    pub(crate) session: SessionId,
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) origin: Origin,
    /// The message's number; the network's duplicate has the same.
    pub(crate) id: u64,
    /// The network made a second copy of this message.
    pub(crate) duplicated: bool,
    pub(crate) must_reject: bool,
    pub(crate) fingerprint: u64,
    pub(crate) result: &'a Result<(), Rejection>,
}

/// The invariant checker of one run.
#[derive(Debug, Clone)]
pub(crate) struct Checker {
    roles: Vec<Role>,
    index: BTreeMap<[u8; 33], usize>,
    sessions: BTreeMap<SessionId, Tracked>,
    /// Every public nonce an honest node sent: (node, session, attempt).
    nonces: BTreeMap<[u8; 66], (usize, SessionId, u32)>,
    /// (receiver, message fingerprint) of every accepted delivery.
    accepted: BTreeSet<(usize, u64)>,
    /// Duplicated messages one copy of which has arrived.
    arrived: BTreeSet<u64>,
    /// (session, honest node) pairs not settled yet.
    live: BTreeSet<(SessionId, usize)>,
    violations: Vec<Violation>,
}

impl Checker {
    pub(crate) fn new(roles: Vec<Role>, keys: &[PublicKey]) -> Self {
        let index = keys
            .iter()
            .enumerate()
            .map(|(node, key)| (key.serialize(), node))
            .collect();
        Checker {
            roles,
            index,
            sessions: BTreeMap::new(),
            nonces: BTreeMap::new(),
            accepted: BTreeSet::new(),
            arrived: BTreeSet::new(),
            live: BTreeSet::new(),
            violations: Vec::new(),
        }
    }

    pub(crate) fn violations(&self) -> &[Violation] {
        &self.violations
    }

    pub(crate) fn into_violations(self) -> Vec<Violation> {
        self.violations
    }

    pub(crate) fn fail(&mut self, invariant: Invariant, t_us: u64, detail: String) {
        self.violations.push(Violation {
            invariant,
            t_us,
            detail,
        });
    }

    fn honest(&self, node: usize) -> bool {
        self.roles.get(node).is_some_and(|role| role.is_honest())
    }

    pub(crate) fn knows(&self, session: &SessionId) -> bool {
        self.sessions.contains_key(session)
    }

    /// Starts tracking a session, from a node's view of it.
    pub(crate) fn register(&mut self, view: &SessionView<'_>, phase: RunPhase, planned: bool) {
        let signers: Vec<Option<usize>> = view
            .signers()
            .iter()
            .map(|key| self.index.get(&key.serialize()).copied())
            .collect();
        let disrupted = signers.iter().any(|node| match node {
            Some(node) => !self.roles.get(*node).is_some_and(|role| role.completes()),
            None => true,
        });
        let election = view.election();
        self.sessions.insert(
            view.id(),
            Tracked {
                planned,
                phase,
                signers,
                message: *view.message(),
                dialect: view.dialect(),
                aggregate_key: view.aggregate_key(),
                priority: election.priority.clone(),
                coordinator: election.coordinator,
                signature: None,
                disturbed: false,
                disrupted,
                progress: BTreeMap::new(),
            },
        );
    }

    /// A message of `session` was lost, or arrived after `delay` microseconds.
    pub(crate) fn on_lost(&mut self, session: &SessionId) {
        if let Some(tracked) = self.sessions.get_mut(session) {
            tracked.disturbed = true;
        }
    }

    pub(crate) fn on_delay(&mut self, session: &SessionId, delay: u64) {
        // A minute in flight is beyond any latency the model draws for a healthy link:
        // only a saturated bandwidth cap does that, and then timeouts may fire.
        if delay > 60 * SEC {
            self.on_lost(session);
        }
    }

    /// A node crashed: its sessions are disturbed and it no longer holds any.
    pub(crate) fn on_crash(&mut self, node: usize) {
        let held: Vec<SessionId> = self
            .live
            .iter()
            .filter(|(_, holder)| *holder == node)
            .map(|(session, _)| *session)
            .collect();
        for (id, tracked) in &mut self.sessions {
            if !tracked.signers.contains(&Some(node)) {
                continue;
            }
            let unsettled = self
                .live
                .range((*id, 0)..=(*id, usize::MAX))
                .next()
                .is_some();
            if unsettled {
                tracked.disturbed = true;
            }
        }
        for session in &held {
            self.live.remove(&(*session, node));
        }
    }

    /// An honest node sent the public `nonce` for `attempt` of `session`: it must be new.
    pub(crate) fn on_nonce_sent(
        &mut self,
        t_us: u64,
        node: usize,
        (session, attempt): (SessionId, u32),
        nonce: [u8; 66],
    ) {
        let here = (node, session, attempt);
        match self.nonces.get(&nonce) {
            None => {
                self.nonces.insert(nonce, here);
            }
            Some(first) if *first == here => {}
            Some(&(first_node, first_session, first_attempt)) => self.fail(
                Invariant::NonceUsedOnce,
                t_us,
                format!(
                    "node {node} sent the public nonce of node {first_node} session {} attempt \
                     {first_attempt} again in session {} attempt {attempt}",
                    short(&first_session),
                    short(&session),
                ),
            ),
        }
    }

    pub(crate) fn on_delivery(&mut self, t_us: u64, delivery: Delivery<'_>) {
        // Whichever copy of a duplicated message arrives second meets a repeat.
        let repeat = delivery.duplicated && !self.arrived.insert(delivery.id);
        if !self.honest(delivery.to) {
            return;
        }
        let rejection = match delivery.result {
            Ok(()) => {
                self.accepted.insert((delivery.to, delivery.fingerprint));
                if delivery.origin == Origin::Injected {
                    // A relayed or replayed message took effect: the byzantine peer now
                    // shapes the session (a restarted node may even rejoin it).
                    self.on_lost(&delivery.session);
                }
                if delivery.must_reject {
                    self.fail(
                        Invariant::HostileMessageRejected,
                        t_us,
                        format!(
                            "node {} accepted a made-up message from node {} in session {}",
                            delivery.to,
                            delivery.from,
                            short(&delivery.session)
                        ),
                    );
                }
                return;
            }
            Err(rejection) => rejection,
        };
        if delivery.origin != Origin::Honest || repeat {
            return;
        }
        let kind = rejection.kind();
        let seen_before = self.accepted.contains(&(delivery.to, delivery.fingerprint));
        let excused = match kind {
            // A relayed copy (a byzantine replay) arrived first and was accepted.
            _ if seen_before => true,
            // Lost messages, crashes and aborts leave peers in different phases; a node
            // restarted without memory and drawn back into a session (by a replayed
            // announcement) numbers its messages from 1 again, which peers refuse as replays.
            RejectionKind::UnknownSession
            | RejectionKind::SessionClosed
            | RejectionKind::WrongPhase
            | RejectionKind::StaleAttempt
            | RejectionKind::TooManyHeld
            | RejectionKind::ClockSkew
            | RejectionKind::Duplicate
            | RejectionKind::Replay => self
                .sessions
                .get(&delivery.session)
                .is_none_or(|tracked| tracked.disturbed || tracked.disrupted),
            _ => false,
        };
        if !excused {
            self.fail(
                Invariant::HonestMessageAccepted,
                t_us,
                format!(
                    "node {} rejected honest node {}'s message in session {}: {rejection}",
                    delivery.to,
                    delivery.from,
                    short(&delivery.session)
                ),
            );
        }
    }

    /// An honest node emitted `event`.
    pub(crate) fn on_event(&mut self, t_us: u64, node: usize, event: &Event) {
        let id = event.session();
        match event {
            Event::SessionCreated { .. } | Event::SessionAnnounced { .. } => {
                self.live.insert((id, node));
            }
            Event::BroadcastConfirmed { .. }
            | Event::FailoverExhausted { .. }
            | Event::SessionAborted { .. }
            | Event::SessionClosed { .. }
            | Event::SessionExpired { .. } => {
                self.live.remove(&(id, node));
            }
            _ => {}
        }
        let Some(tracked) = self.sessions.get_mut(&id) else {
            return;
        };
        let mut failures = tracked.observe(node, event);
        if let Event::SessionAborted {
            reason:
                AbortReason::Blame {
                    signer,
                    key,
                    evidence,
                },
            ..
        } = event
        {
            failures.extend(self.check_blame(node, *signer, key, evidence));
        }
        for (invariant, detail) in failures {
            self.fail(
                invariant,
                t_us,
                format!("{detail} (session {})", short(&id)),
            );
        }
    }

    /// An honest node blamed `signer`: it must be byzantine, and the evidence must say so.
    fn check_blame(
        &self,
        node: usize,
        signer: usize,
        key: &PublicKey,
        evidence: &Evidence,
    ) -> Vec<(Invariant, String)> {
        let mut failures = Vec::new();
        let blamed = self.index.get(&key.serialize()).copied();
        if blamed.is_none_or(|blamed| self.roles.get(blamed) == Some(&Role::Honest)) {
            failures.push((
                Invariant::NoHonestBlame,
                format!("node {node} blamed honest signer {signer} (node {blamed:?})"),
            ));
        }
        if evidence.verify().ok() != Some(*key) {
            failures.push((
                Invariant::BlameEvidence,
                format!("node {node}'s evidence against signer {signer} does not verify"),
            ));
        }
        failures
    }

    /// Whether every honest node has settled every session it holds.
    pub(crate) fn settled(&self) -> bool {
        self.live.is_empty()
    }

    /// The checks that need the whole run: liveness, failover, convergence, penalties.
    pub(crate) fn finish(&mut self, t_us: u64, nodes: &[Option<&Node>], peers: &[PeerId]) {
        let unsettled: Vec<String> = self
            .live
            .iter()
            .take(5)
            .map(|(session, node)| format!("node {node} session {}", short(session)))
            .collect();
        if !unsettled.is_empty() {
            self.fail(
                Invariant::Converges,
                t_us,
                format!("still unsettled: {}", unsettled.join(", ")),
            );
        }
        let sessions: Vec<(SessionId, Tracked)> = self
            .sessions
            .iter()
            .map(|(id, tracked)| (*id, tracked.clone()))
            .collect();
        for (id, tracked) in &sessions {
            self.check_completion(t_us, id, tracked);
        }
        self.check_penalties(t_us, nodes, peers);
    }

    fn check_completion(&mut self, t_us: u64, id: &SessionId, tracked: &Tracked) {
        let must_complete = tracked.planned
            && !tracked.disrupted
            && (tracked.phase == RunPhase::Liveness || !tracked.disturbed);
        if !must_complete {
            return;
        }
        let silent = tracked
            .priority
            .iter()
            .take_while(|signer| {
                tracked
                    .signers
                    .get(**signer)
                    .copied()
                    .flatten()
                    .and_then(|node| self.roles.get(node))
                    .is_some_and(|role| role.withholds())
            })
            .count();
        let everyone_silent = silent == tracked.priority.len();
        let honest: Vec<usize> = tracked
            .signers
            .iter()
            .flatten()
            .copied()
            .filter(|node| self.honest(*node))
            .collect();
        for node in honest {
            let progress = tracked.progress.get(&node).copied().unwrap_or_default();
            let problem = if !progress.completed {
                Some((Invariant::EveryoneCompletes, "did not complete".to_owned()))
            } else if everyone_silent && !progress.exhausted {
                Some((
                    Invariant::FailoverAfterKTimeouts,
                    "every coordinator is silent but failover did not end".to_owned(),
                ))
            } else if !everyone_silent && !progress.confirmed {
                Some((
                    Invariant::EveryoneCompletes,
                    "never saw the broadcast".to_owned(),
                ))
            } else if !everyone_silent && !self.failover_matches(tracked, node, progress, silent) {
                Some((
                    Invariant::FailoverAfterKTimeouts,
                    format!(
                        "{silent} silent coordinators, {} failed here, broadcast by signer {:?}",
                        progress.failed_coordinators, progress.confirmed_by
                    ),
                ))
            } else {
                None
            };
            if let Some((invariant, detail)) = problem {
                self.fail(
                    invariant,
                    t_us,
                    format!(
                        "node {node} in {:?} session {}: {detail}",
                        tracked.phase,
                        short(id)
                    ),
                );
            }
        }
    }

    /// With `silent` silent coordinators first in the priority list, the broadcast comes
    /// from the next one, which saw all `silent` of them fail; no node saw more fail (a
    /// node whose timers started later may see the confirmation before its own timeouts).
    fn failover_matches(
        &self,
        tracked: &Tracked,
        node: usize,
        progress: Progress,
        silent: usize,
    ) -> bool {
        let Some(broadcaster) = tracked.priority.get(silent).copied() else {
            return false;
        };
        let failed = progress.failed_coordinators as usize;
        let is_broadcaster = tracked.signers.get(broadcaster).copied().flatten() == Some(node);
        progress.confirmed_by == Some(broadcaster)
            && failed <= silent
            && (!is_broadcaster || failed == silent)
    }

    fn check_penalties(&mut self, t_us: u64, nodes: &[Option<&Node>], peers: &[PeerId]) {
        for (receiver, node) in nodes.iter().enumerate() {
            let Some(node) = node.filter(|_| self.honest(receiver)) else {
                continue;
            };
            for (sender, peer) in peers.iter().enumerate() {
                if !self.honest(sender) {
                    continue;
                }
                let penalised = node.rejections(peer).map_or(0, |counts| {
                    counts.count(RejectionKind::BadSignature)
                        + counts.count(RejectionKind::InvalidPayload)
                });
                // The security manager's two tracks: invalid signatures (towards the
                // blacklist) and violations (towards the graylist).
                let strikes = node.security().standing(peer).map_or(0, |standing| {
                    u64::from(standing.invalid_signatures) + u64::from(standing.violations)
                });
                if penalised > 0 || strikes > 0 {
                    self.fail(
                        Invariant::HonestNotPenalised,
                        t_us,
                        format!(
                            "node {receiver} counts {penalised} invalid messages and {strikes} \
                             security strikes against honest node {sender}"
                        ),
                    );
                }
            }
        }
    }
}
