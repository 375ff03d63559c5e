//! After the signature: the broadcast failover. Before it: the aggregator restart. Plus
//! the session's other timers and the application's commands.

use crate::crypto::Signature;
use crate::node::config::Progress;
use crate::node::error::{AbortReason, CommandError};
use crate::node::event::Event;
use crate::timer::TimerKind;
use crate::wire::{
    AbortCode, BroadcastConfirmation, Join, Payload, PayloadKind, SessionAbort,
    MAX_TRANSACTION_ID_LEN,
};

use super::phase::{Broadcast, Completed, Phase};
use super::{Io, Session};

/// What a due timer did to its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimerOutcome {
    /// The session stays.
    Keep,
    /// The session is finished and past its lifetime: forget it.
    Remove,
}

impl Session {
    /// The final signature exists and verified: failover starts at `attempt` of the
    /// priority list (whoever aggregated it; the elected coordinator in the mesh).
    pub(crate) fn complete(&mut self, io: &mut Io<'_>, signature: Signature, attempt: u32) {
        if let Some(round) = self.phase.attempt() {
            io.timers.cancel(&TimerKind::AggregatorTimeout {
                session: self.id,
                attempt: round,
            });
        }
        io.timers
            .cancel(&TimerKind::StuckSessionCheck { session: self.id });
        // Only a confirmation can still matter once the signature exists.
        self.held.retain(|_, held| {
            held.envelope.envelope.payload.kind() == PayloadKind::BroadcastConfirmation
        });
        self.phase = Phase::Complete(Completed {
            signature,
            broadcast: Broadcast::Waiting { attempt },
        });
        io.emit(Event::SessionComplete {
            session: self.id,
            signature,
        });
        self.begin_broadcast_attempt(io, signature, attempt);
    }

    fn begin_broadcast_attempt(&mut self, io: &mut Io<'_>, signature: Signature, attempt: u32) {
        if self.priority(attempt) == Some(self.me) {
            io.emit(Event::ShouldBroadcast {
                session: self.id,
                attempt,
                signature,
            });
        }
        let kind = TimerKind::BroadcastTimeout {
            session: self.id,
            attempt,
        };
        io.arm(kind, io.now.saturating_add(self.coordinator_timeout()));
    }

    /// A signer (maybe this node) confirmed the broadcast: the failover stops.
    pub(crate) fn confirm_broadcast(
        &mut self,
        io: &mut Io<'_>,
        transaction_id: Vec<u8>,
        signer: usize,
    ) {
        let Phase::Complete(done) = &mut self.phase else {
            return;
        };
        if let Broadcast::Waiting { attempt } = done.broadcast {
            io.timers.cancel(&TimerKind::BroadcastTimeout {
                session: self.id,
                attempt,
            });
        }
        done.broadcast = Broadcast::Confirmed {
            transaction_id: transaction_id.clone(),
            signer,
        };
        io.emit(Event::BroadcastConfirmed {
            session: self.id,
            transaction_id,
            signer,
        });
    }

    /// Handles one of this session's timers that is due.
    pub(crate) fn on_timer(&mut self, io: &mut Io<'_>, kind: TimerKind) -> TimerOutcome {
        match kind {
            TimerKind::SessionExpiry { .. } => return self.on_expiry(io),
            TimerKind::StuckSessionCheck { .. } => self.on_stuck_check(io),
            TimerKind::BroadcastTimeout { attempt, .. } => self.on_broadcast_timeout(io, attempt),
            TimerKind::AggregatorTimeout { attempt, .. } => self.on_aggregator_timeout(io, attempt),
            TimerKind::Cleanup => {}
        }
        TimerOutcome::Keep
    }

    fn on_expiry(&mut self, io: &mut Io<'_>) -> TimerOutcome {
        let retention = io.now.saturating_add(io.config.expired_retention);
        let expiry = TimerKind::SessionExpiry { session: self.id };
        match &self.phase {
            Phase::Aborted(_) | Phase::Expired | Phase::Closed => TimerOutcome::Remove,
            Phase::Complete(done) => match done.broadcast {
                // The failover may outlast the session's lifetime; it runs to its end.
                Broadcast::Waiting { .. } => {
                    io.arm(expiry, retention);
                    TimerOutcome::Keep
                }
                _ => TimerOutcome::Remove,
            },
            _ => {
                let payload = Payload::SessionAbort(SessionAbort {
                    reason: AbortCode::Expired,
                    blamed_signer: None,
                });
                let bytes = self.seal(io, payload).encode();
                self.send_to_others(io, &bytes);
                self.end(io, Phase::Expired);
                io.arm(expiry, retention);
                io.emit(Event::SessionExpired { session: self.id });
                TimerOutcome::Keep
            }
        }
    }

    fn on_stuck_check(&mut self, io: &mut Io<'_>) {
        if self.phase.is_terminal() || matches!(self.phase, Phase::Complete(_)) {
            return;
        }
        let deadline = self.last_progress.saturating_add(io.config.stuck_timeout);
        if io.now >= deadline {
            self.abort(io, AbortReason::Stuck, true);
        } else {
            io.arm(TimerKind::StuckSessionCheck { session: self.id }, deadline);
        }
    }

    fn on_broadcast_timeout(&mut self, io: &mut Io<'_>, attempt: u32) {
        let Phase::Complete(done) = &self.phase else {
            return;
        };
        if done.broadcast != (Broadcast::Waiting { attempt }) {
            return;
        }
        let signature = done.signature;
        if let Some(coordinator) = self.priority(attempt).and_then(|signer| self.key(signer)) {
            io.emit(Event::CoordinatorFailed {
                session: self.id,
                attempt,
                coordinator,
            });
        }
        let next = attempt.saturating_add(1);
        let exhausted = self.priority(next).is_none() || next == attempt;
        if let Phase::Complete(done) = &mut self.phase {
            done.broadcast = if exhausted {
                Broadcast::Exhausted
            } else {
                Broadcast::Waiting { attempt: next }
            };
        }
        if exhausted {
            io.emit(Event::FailoverExhausted { session: self.id });
        } else {
            self.begin_broadcast_attempt(io, signature, next);
        }
    }

    fn on_aggregator_timeout(&mut self, io: &mut Io<'_>, attempt: u32) {
        if self.phase.attempt() != Some(attempt) {
            return;
        }
        if let Some(aggregator) = self.aggregator(attempt).and_then(|signer| self.key(signer)) {
            io.emit(Event::AggregatorFailed {
                session: self.id,
                attempt,
                aggregator,
            });
        }
        let next = attempt.saturating_add(1);
        if self.aggregator(next).is_none() || next == attempt {
            self.abort(io, AbortReason::AggregatorsExhausted, true);
        } else {
            self.start_attempt(io, next);
            self.advance(io);
        }
    }

    /// This node joins the session: its signed join (the envelope's signature proves it holds
    /// its key) goes to the creator.
    pub(crate) fn join(&mut self, io: &mut Io<'_>, progress: Progress) -> Result<(), CommandError> {
        let Phase::Init(joining) = &self.phase else {
            return Err(self.not_now());
        };
        if joining.self_joined {
            return Err(CommandError::AlreadyDone);
        }
        let join = Join::new(&io.identity.public_key());
        let bytes = self.seal(io, Payload::Join(join)).encode();
        self.send(io, self.creator, &bytes);
        if let Phase::Init(joining) = &mut self.phase {
            joining.self_joined = true;
        }
        self.progress = progress;
        self.last_progress = io.now;
        Ok(())
    }

    /// Round 1 by hand: commit to (or share) this node's nonce.
    pub(crate) fn start_round1(&mut self, io: &mut Io<'_>) -> Result<(), CommandError> {
        match &self.phase {
            Phase::NonceCommit(_) | Phase::NonceExchange(_) if self.own_nonce_pending() => {}
            Phase::NonceCommit(_) | Phase::NonceExchange(_) | Phase::PartialSigExchange(_) => {
                return Err(CommandError::AlreadyDone)
            }
            _ => return Err(self.not_now()),
        }
        self.share_own_nonce(io);
        self.advance(io);
        self.last_progress = io.now;
        Ok(())
    }

    /// Round 2 by hand: sign and send the partial signature.
    pub(crate) fn start_round2(&mut self, io: &mut Io<'_>) -> Result<(), CommandError> {
        match &self.phase {
            Phase::PartialSigExchange(_) if self.own_partial_pending() => {}
            Phase::PartialSigExchange(_) => return Err(CommandError::AlreadyDone),
            _ => return Err(self.not_now()),
        }
        self.sign_own(io);
        self.advance(io);
        self.last_progress = io.now;
        Ok(())
    }

    /// This node broadcast the transaction: tell every signer.
    pub(crate) fn notify_broadcast_complete(
        &mut self,
        io: &mut Io<'_>,
        transaction_id: &[u8],
    ) -> Result<(), CommandError> {
        let got = transaction_id.len();
        if !(1..=MAX_TRANSACTION_ID_LEN).contains(&got) {
            return Err(CommandError::TransactionIdLength {
                limit: MAX_TRANSACTION_ID_LEN,
                got,
            });
        }
        match &self.phase {
            Phase::Complete(done) if matches!(done.broadcast, Broadcast::Confirmed { .. }) => {
                return Err(CommandError::AlreadyDone)
            }
            Phase::Complete(_) => {}
            _ => return Err(self.not_now()),
        }
        let payload = Payload::BroadcastConfirmation(BroadcastConfirmation {
            transaction_id: transaction_id.to_vec(),
        });
        let bytes = self.seal(io, payload).encode();
        self.send_to_others(io, &bytes);
        self.confirm_broadcast(io, transaction_id.to_vec(), self.me);
        Ok(())
    }

    /// The application closes the session; peers are told if it was still running.
    pub(crate) fn close(&mut self, io: &mut Io<'_>) -> Result<(), CommandError> {
        if self.phase.is_terminal() {
            return Err(self.not_now());
        }
        if !matches!(self.phase, Phase::Complete(_)) {
            let payload = Payload::SessionAbort(SessionAbort {
                reason: AbortCode::Closed,
                blamed_signer: None,
            });
            let bytes = self.seal(io, payload).encode();
            self.send_to_others(io, &bytes);
        }
        self.end(io, Phase::Closed);
        io.emit(Event::SessionClosed { session: self.id });
        Ok(())
    }

    fn not_now(&self) -> CommandError {
        CommandError::WrongPhase {
            phase: self.phase.kind(),
        }
    }
}
