//! "Phase allows this message" (SPEC §3): whether a message from a signer can take effect
//! now, must wait for a later round, or is refused.
//!
//! Messages overtake each other on real networks: a peer's round-2 partial signature can
//! arrive before the last round-1 nonce. Such a message is not wrong, only early, so it is
//! held (bounded per sender) and runs when its round comes.

use crate::node::error::{Rejection, RoutingRule};
use crate::node::view::PhaseKind;
use crate::wire::{Payload, PayloadKind, Topology};

use super::phase::{Broadcast, Phase};
use super::Session;

/// When a message that passed the phase check takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timing {
    /// In the current phase.
    Now,
    /// In a later round or attempt: hold it.
    Later,
}

/// How far the rounds of an attempt have come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// Joined, waiting for the session to be ready.
    Ready,
    Commit,
    Nonce,
    Sign,
}

impl Session {
    /// Decides whether `payload` from `sender` runs now, later, or not at all. Reads only.
    pub(crate) fn classify(&self, sender: usize, payload: &Payload) -> Result<Timing, Rejection> {
        let got = payload.kind();
        let wrong_phase = || Rejection::WrongPhase {
            phase: self.phase.kind(),
            got,
        };
        match payload {
            Payload::SessionAnnounce(_) => Err(Rejection::SessionExists { session: self.id }),
            Payload::Join(_) => {
                if self.me != self.creator {
                    return Err(misrouted(got, RoutingRule::JoinsGoToTheCreator));
                }
                match &self.phase {
                    Phase::Init(_) => Ok(Timing::Now),
                    _ => Err(wrong_phase()),
                }
            }
            Payload::SessionReady(_) => {
                if sender != self.creator {
                    return Err(misrouted(got, RoutingRule::ReadyComesFromTheCreator));
                }
                match &self.phase {
                    Phase::Init(joining) if joining.self_joined => Ok(Timing::Now),
                    _ => Err(wrong_phase()),
                }
            }
            Payload::SessionAbort(_) => match &self.phase {
                Phase::Complete(_) => Err(wrong_phase()),
                _ => Ok(Timing::Now),
            },
            Payload::BroadcastConfirmation(_) => match &self.phase {
                Phase::Init(joining) if !joining.self_joined => Err(wrong_phase()),
                Phase::Complete(done) => match done.broadcast {
                    Broadcast::Confirmed { .. } => Err(Rejection::Duplicate { got }),
                    _ => Ok(Timing::Now),
                },
                _ => Ok(Timing::Later),
            },
            Payload::FinalSignature(_) => {
                if self.topology() == Topology::Mesh {
                    return Err(misrouted(got, RoutingRule::OtherTopology));
                }
                match &self.phase {
                    Phase::Init(joining) if !joining.self_joined => Err(wrong_phase()),
                    Phase::Complete(_) => Err(wrong_phase()),
                    _ => Ok(Timing::Now),
                }
            }
            Payload::NonceCommit(commit) => self.classify_round(sender, got, commit.attempt),
            Payload::NonceShare(share) => self.classify_round(sender, got, share.attempt),
            Payload::AggregateNonce(share) => self.classify_round(sender, got, share.attempt),
            Payload::PartialSignature(share) => self.classify_round(sender, got, share.attempt),
        }
    }

    /// The round messages: topology, attempt, routing, then timing.
    fn classify_round(
        &self,
        sender: usize,
        got: PayloadKind,
        attempt: u32,
    ) -> Result<Timing, Rejection> {
        let topology = self.topology();
        if got == PayloadKind::NonceCommit && !self.announce.options.nonce_commitments {
            return Err(misrouted(got, RoutingRule::NoCommitmentRound));
        }
        if got == PayloadKind::AggregateNonce && topology == Topology::Mesh {
            return Err(misrouted(got, RoutingRule::OtherTopology));
        }
        let (stage, current) = match &self.phase {
            Phase::Init(joining) if joining.self_joined => (Stage::Ready, 0),
            Phase::NonceCommit(round) => (Stage::Commit, round.attempt),
            Phase::NonceExchange(round) => (Stage::Nonce, round.attempt),
            Phase::PartialSigExchange(round) => (Stage::Sign, round.attempt),
            _ => {
                return Err(Rejection::WrongPhase {
                    phase: self.phase.kind(),
                    got,
                })
            }
        };
        let last_attempt = match topology {
            Topology::Mesh => 0,
            Topology::Aggregator => self.signers().saturating_sub(1),
        };
        let out_of_range = usize::try_from(attempt).map_or(true, |a| a > last_attempt);
        if attempt < current || out_of_range {
            return Err(Rejection::StaleAttempt {
                current,
                got: attempt,
            });
        }
        if attempt > current {
            return Ok(Timing::Later);
        }
        self.check_route(sender, got, attempt)?;
        self.round_timing(stage, got)
    }

    /// Aggregator topology: participants talk to the aggregator, the aggregator to all.
    fn check_route(&self, sender: usize, got: PayloadKind, attempt: u32) -> Result<(), Rejection> {
        let Some(aggregator) = self.aggregator(attempt) else {
            return Ok(());
        };
        let i_aggregate = self.me == aggregator;
        let allowed = match got {
            // A participant's commitment goes to the aggregator; the aggregator's own
            // commitment, sent once every commitment is in, is everyone's go-ahead.
            PayloadKind::NonceCommit => i_aggregate || sender == aggregator,
            PayloadKind::AggregateNonce => !i_aggregate && sender == aggregator,
            _ => i_aggregate,
        };
        if allowed {
            return Ok(());
        }
        let rule = if i_aggregate || got == PayloadKind::AggregateNonce {
            RoutingRule::ComesFromTheAggregator
        } else {
            RoutingRule::RoundMessagesGoToTheAggregator
        };
        Err(misrouted(got, rule))
    }

    /// Within the current attempt: now, or once the node's own rounds caught up.
    fn round_timing(&self, stage: Stage, got: PayloadKind) -> Result<Timing, Rejection> {
        let wanted = match got {
            PayloadKind::NonceCommit => Stage::Commit,
            PayloadKind::NonceShare | PayloadKind::AggregateNonce => Stage::Nonce,
            _ => Stage::Sign,
        };
        if stage < wanted {
            return Ok(Timing::Later);
        }
        match (stage, got) {
            // The aggregator's go-ahead only makes sense once this node has committed.
            (Stage::Commit, PayloadKind::NonceCommit) if self.awaits_own_commit() => {
                Ok(Timing::Later)
            }
            // An aggregate nonce is for a node that has shared its own nonce.
            (Stage::Nonce, PayloadKind::AggregateNonce) if !self.shared_own_nonce() => {
                Ok(Timing::Later)
            }
            // One round on, a repeat is still checked against what was stored (duplicate
            // or equivocation); two rounds on, the values are gone.
            (Stage::Sign, PayloadKind::NonceCommit) => Err(Rejection::WrongPhase {
                phase: PhaseKind::PartialSigExchange,
                got,
            }),
            _ => Ok(Timing::Now),
        }
    }

    /// Aggregator topology, round 0, this node not the aggregator and not committed yet.
    fn awaits_own_commit(&self) -> bool {
        match &self.phase {
            Phase::NonceCommit(round) => {
                self.aggregator(round.attempt).is_some_and(|a| a != self.me)
                    && !round.commitments.contains_key(&self.me)
            }
            _ => false,
        }
    }

    fn shared_own_nonce(&self) -> bool {
        match &self.phase {
            Phase::NonceExchange(round) => round.nonces.contains_key(&self.me),
            _ => false,
        }
    }
}

fn misrouted(got: PayloadKind, rule: RoutingRule) -> Rejection {
    Rejection::Misrouted { got, rule }
}
