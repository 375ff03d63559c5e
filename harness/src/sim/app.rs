//! The application on top of each node: it creates the planned sessions, joins what is
//! announced, moves rounds by hand on manual nodes, and broadcasts when asked to (unless
//! it is a silent coordinator). At the heal it retries what did not complete.

use chorus_core::discovery::DiscoveryEvent;
use chorus_core::node::{Event, Progress, SessionSpec};
use chorus_core::security::SecurityEvent;
use chorus_core::wire::SessionId;

use super::queue::Action;
use super::Sim;
use crate::byzantine::SessionFacts;
use crate::invariants::Invariant;
use crate::plan::{RunPhase, SessionPlan, SEC};
use crate::trace::{event_detail, event_name, short, TraceRecord};

impl Sim {
    pub(super) fn on_event(&mut self, node: usize, event: Event) {
        let id = event.session();
        self.trace.hash_event(self.now, node, &event);
        if self.trace.recording() {
            self.trace.record(|| TraceRecord::Event {
                t_us: self.now,
                node,
                session: short(&id),
                event: event_name(&event).to_owned(),
                detail: event_detail(&event),
            });
        }
        let peer = &self.peers[node];
        let honest = peer.role.is_honest();
        if honest {
            if !self.checker.knows(&id) {
                // Announced by a byzantine peer: only safety is checked for it.
                let phase = if self.healed {
                    RunPhase::Liveness
                } else {
                    RunPhase::Safety
                };
                if let Some(view) = peer.node.as_ref().and_then(|engine| engine.session(&id)) {
                    self.checker.register(&view, phase, false);
                }
            }
            self.checker.on_event(self.now, node, &event);
        }
        let epoch = peer.epoch;
        let manual = peer.manual;
        let think = |sim: &mut Sim| sim.now + sim.app_rng.below(3 * SEC);
        match event {
            Event::SessionAnnounced { session, .. } => self.join(node, session),
            Event::SessionReady { session } if manual => {
                let at = think(self);
                self.queue.push(at, round_action(node, epoch, session, 1));
            }
            Event::NoncesComplete {
                session,
                attempt: 0,
            } if manual => {
                let at = think(self);
                self.queue.push(at, round_action(node, epoch, session, 2));
            }
            Event::ShouldBroadcast { session, .. } if !self.peers[node].role.withholds() => {
                let at = think(self);
                self.queue.push(
                    at,
                    Action::Broadcast {
                        node,
                        epoch,
                        session,
                    },
                );
            }
            Event::SessionComplete { session, .. }
                if self
                    .facts
                    .get(&session)
                    .is_some_and(|facts| facts.creator == node) =>
            {
                self.stats.completed += 1;
                if let Some(index) = self.plan_of.get(&session) {
                    self.completed_plans.insert(*index);
                }
            }
            _ => {}
        }
    }

    /// Discovery's events: only the security manager's matter here (no honest peer may
    /// be blacklisted or graylisted).
    pub(super) fn on_discovery_event(&mut self, node: usize, event: &DiscoveryEvent) {
        let DiscoveryEvent::Security(security) = event else {
            return;
        };
        let name = match security {
            SecurityEvent::PeerBlacklisted { .. } => "peer_blacklisted",
            SecurityEvent::PeerGraylisted { .. } => "peer_graylisted",
            _ => "peer_unblacklisted",
        };
        let peer = self
            .peers
            .iter()
            .position(|candidate| candidate.peer_id == *security.peer());
        self.trace
            .hash_marker(self.now, name, peer.unwrap_or(usize::MAX));
        self.trace.record(|| TraceRecord::Event {
            t_us: self.now,
            node,
            session: String::new(),
            event: name.to_owned(),
            detail: peer.map_or_else(String::new, |peer| format!("node {peer}")),
        });
        let honest_victim = peer.is_some_and(|peer| self.peers[peer].role.is_honest());
        if self.peers[node].role.is_honest() && honest_victim && name != "peer_unblacklisted" {
            self.fail(
                Invariant::HonestNotPenalised,
                format!("node {node}: {name} honest node {peer:?}"),
            );
        }
    }

    fn join(&mut self, node: usize, session: SessionId) {
        let now = self.timestamp();
        let peer = &mut self.peers[node];
        let progress = if peer.manual {
            Progress::Manual
        } else {
            Progress::Automatic
        };
        let honest = peer.role.is_honest();
        let Some(engine) = peer.node.as_mut() else {
            return;
        };
        if let Err(error) = engine.join_session(now, &session, progress) {
            if honest {
                self.fail(
                    Invariant::CommandAccepted,
                    format!(
                        "node {node} could not join session {}: {error}",
                        short(&session)
                    ),
                );
            }
        }
    }

    pub(super) fn create(&mut self, index: usize) {
        let Some(plan) = self.plan.sessions.get(index).cloned() else {
            return;
        };
        let now = self.timestamp();
        let peer = &mut self.peers[plan.creator];
        let progress = if peer.manual {
            Progress::Manual
        } else {
            Progress::Automatic
        };
        let Some(engine) = peer.node.as_mut() else {
            // The creator is down: the session is never created (a retry may follow).
            return;
        };
        let spec = SessionSpec {
            signers: plan.signers.iter().map(|node| self.keys[*node]).collect(),
            message: plan.message,
            dialect: plan.dialect,
            election: plan.election,
            options: plan.options,
            progress,
        };
        let id = match engine.create_session(now, spec) {
            Ok(id) => id,
            Err(error) => {
                let detail = format!("node {} could not create a session: {error}", plan.creator);
                self.fail(Invariant::CommandAccepted, detail);
                return;
            }
        };
        if let Some(view) = engine.session(&id) {
            self.checker.register(&view, plan.phase, true);
        }
        self.stats.sessions += 1;
        self.plan_of.insert(id, plan.retry_of.unwrap_or(index));
        self.facts.insert(
            id,
            SessionFacts {
                signers: plan.signers.clone(),
                creator: plan.creator,
                topology: plan.options.topology,
                commitments: plan.options.nonce_commitments,
            },
        );
        self.trace.hash_marker(self.now, "create", plan.creator);
        self.trace.record(|| TraceRecord::Create {
            t_us: self.now,
            node: plan.creator,
            session: short(&id),
            signers: plan.signers.clone(),
            topology: format!("{:?}", plan.options.topology).to_lowercase(),
            phase: plan.phase,
        });
        self.drain(plan.creator);
    }

    pub(super) fn broadcast(&mut self, node: usize, epoch: u32, session: SessionId) {
        if !self.alive(node, epoch) {
            return;
        }
        let now = self.timestamp();
        let Some(engine) = self.peers[node].node.as_mut() else {
            return;
        };
        let Some(signature) = engine.final_signature(&session) else {
            return;
        };
        let transaction_id = &signature.to_bytes()[..32];
        // Someone else's confirmation may have come first: nothing left to do then.
        let _ = engine.notify_broadcast_complete(now, &session, transaction_id);
        self.drain(node);
    }

    pub(super) fn round(&mut self, node: usize, epoch: u32, session: SessionId, round: u8) {
        if !self.alive(node, epoch) {
            return;
        }
        let now = self.timestamp();
        let Some(engine) = self.peers[node].node.as_mut() else {
            return;
        };
        // The session may have moved on (aborted, restarted) while the user thought.
        let _ = if round == 1 {
            engine.start_round1(now, &session)
        } else {
            engine.start_round2(now, &session)
        };
        self.drain(node);
    }

    /// At the heal: every safety-phase session that did not complete is tried again
    /// (same signers, same message) if its signers can complete it.
    pub(super) fn schedule_retries(&mut self) {
        let safety: Vec<usize> = (0..self.plan.sessions.len())
            .filter(|index| self.plan.sessions[*index].phase == RunPhase::Safety)
            .collect();
        for index in safety {
            let plan = &self.plan.sessions[index];
            let completable = plan
                .signers
                .iter()
                .all(|node| self.plan.roles[*node].completes());
            if self.completed_plans.contains(&index) || !completable {
                continue;
            }
            let retry = SessionPlan {
                at: self.now + self.app_rng.between(SEC, 30 * SEC),
                phase: RunPhase::Liveness,
                retry_of: Some(index),
                ..plan.clone()
            };
            let at = retry.at;
            self.plan.sessions.push(retry);
            self.queue
                .push(at, Action::Create(self.plan.sessions.len() - 1));
        }
    }
}

fn round_action(node: usize, epoch: u32, session: SessionId, round: u8) -> Action {
    Action::Round {
        node,
        epoch,
        session,
        round,
    }
}
