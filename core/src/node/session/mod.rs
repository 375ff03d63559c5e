//! One signing session as seen by one node: who signs, where the rounds are, and the
//! inbound pipeline for the session's messages.

mod classify;
mod failover;
mod lifecycle;
mod phase;
mod rounds;

use std::collections::{BTreeMap, VecDeque};

use rand_chacha::rand_core::RngCore;
use rand_chacha::ChaCha20Rng;

use crate::crypto::{KeyAggContext, Keypair, PublicKey};
use crate::election::ElectionResult;
use crate::time::Timestamp;
use crate::timer::{TimerKind, TimerTable};
use crate::wire::{
    Channel, DecodedEnvelope, Envelope, ParsedEnvelope, ParsedPayload, Payload, Sequence,
    SessionAbort, SessionAnnounce, SessionId, SignedEnvelope, Topology,
};

use super::checks::{RejectionCounters, ReplayWindow};
use super::config::{Config, Progress};
use super::error::{AbortReason, Rejection};
use super::event::{Event, PeerId, Transmit};
use super::nonce_tracker::NonceTracker;

pub(crate) use classify::Timing;
pub(crate) use failover::TimerOutcome;
pub(crate) use phase::{Broadcast, Joining, Phase};

/// Everything a session step may touch besides the session: the node's identity,
/// randomness, limits, timers and output queues.
pub(crate) struct Io<'a> {
    pub(crate) now: Timestamp,
    pub(crate) identity: &'a Keypair,
    pub(crate) rng: &'a mut ChaCha20Rng,
    pub(crate) config: &'a Config,
    pub(crate) timers: &'a mut TimerTable,
    pub(crate) transmits: &'a mut VecDeque<Transmit>,
    pub(crate) events: &'a mut VecDeque<Event>,
    pub(crate) nonces: &'a mut NonceTracker,
    pub(crate) counters: &'a mut RejectionCounters,
}

impl Io<'_> {
    /// Arms a timer. The table holds four timers per session the node may keep, and a
    /// session has at most four kinds armed at once, so it never refuses.
    pub(crate) fn arm(&mut self, kind: TimerKind, deadline: Timestamp) {
        let _ = self.timers.set(kind, deadline);
    }

    pub(crate) fn emit(&mut self, event: Event) {
        self.events.push_back(event);
    }

    pub(crate) fn random_32(&mut self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        self.rng.fill_bytes(&mut bytes);
        bytes
    }
}

/// A message that came early, kept until its round comes.
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) from: PeerId,
    pub(crate) envelope: SignedEnvelope,
    /// The payload's points, as decoding parsed them.
    pub(crate) parsed: ParsedPayload,
}

/// One session.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: SessionId,
    pub(crate) announce: SessionAnnounce,
    /// The creator's signed announcement (part of blame evidence).
    pub(crate) announce_envelope: SignedEnvelope,
    /// The signers, parsed, in the session's (sorted) order.
    pub(crate) keys: Vec<PublicKey>,
    pub(crate) ctx: KeyAggContext,
    pub(crate) election: ElectionResult,
    /// This node's signer index.
    pub(crate) me: usize,
    /// The creator's signer index.
    pub(crate) creator: usize,
    pub(crate) progress: Progress,
    /// The last sequence number this node used in the session.
    pub(crate) last_sequence: Sequence,
    /// One replay window per signer.
    pub(crate) windows: Vec<ReplayWindow>,
    /// Early messages by (sender, sequence).
    pub(crate) held: BTreeMap<(usize, Sequence), Held>,
    pub(crate) created_at: Timestamp,
    pub(crate) last_progress: Timestamp,
    pub(crate) phase: Phase,
}

/// What a session is built from.
pub(crate) struct SessionParts {
    pub(crate) id: SessionId,
    pub(crate) announce: SessionAnnounce,
    pub(crate) announce_envelope: SignedEnvelope,
    pub(crate) keys: Vec<PublicKey>,
    pub(crate) ctx: KeyAggContext,
    pub(crate) election: ElectionResult,
    pub(crate) me: usize,
    pub(crate) creator: usize,
    pub(crate) progress: Progress,
}

impl Session {
    /// A session in `Init`, with its expiry and stuck timers armed.
    pub(crate) fn new(parts: SessionParts, io: &mut Io<'_>) -> Self {
        let SessionParts {
            id,
            announce,
            announce_envelope,
            keys,
            ctx,
            election,
            me,
            creator,
            progress,
        } = parts;
        let mut joining = Joining::default();
        if me == creator {
            joining.joined.insert(me);
            joining.self_joined = true;
        }
        let mut windows = vec![ReplayWindow::default(); keys.len()];
        if me != creator {
            if let Some(window) = windows.get_mut(creator) {
                window.record(announce_envelope.envelope.sequence);
            }
        }
        let last_sequence = if me == creator {
            announce_envelope.envelope.sequence
        } else {
            Sequence(0)
        };
        io.arm(
            TimerKind::SessionExpiry { session: id },
            io.now.saturating_add(io.config.session_timeout),
        );
        io.arm(
            TimerKind::StuckSessionCheck { session: id },
            io.now.saturating_add(io.config.stuck_timeout),
        );
        Session {
            id,
            announce,
            announce_envelope,
            keys,
            ctx,
            election,
            me,
            creator,
            progress,
            last_sequence,
            windows,
            held: BTreeMap::new(),
            created_at: io.now,
            last_progress: io.now,
            phase: Phase::Init(joining),
        }
    }

    pub(crate) fn signers(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn topology(&self) -> Topology {
        self.announce.options.topology
    }

    /// The signer at position `attempt` of the priority list.
    pub(crate) fn priority(&self, attempt: u32) -> Option<usize> {
        let position = usize::try_from(attempt).ok()?;
        self.election.priority.get(position).copied()
    }

    /// The aggregator of round-1 `attempt` (aggregator topology only).
    pub(crate) fn aggregator(&self, attempt: u32) -> Option<usize> {
        match self.topology() {
            Topology::Aggregator => self.priority(attempt),
            Topology::Mesh => None,
        }
    }

    pub(crate) fn key(&self, signer: usize) -> Option<PublicKey> {
        self.keys.get(signer).copied()
    }

    /// Seals `payload` under this node's next sequence number.
    pub(crate) fn seal(&mut self, io: &mut Io<'_>, payload: Payload) -> SignedEnvelope {
        self.last_sequence = Sequence(self.last_sequence.0.saturating_add(1));
        let envelope = Envelope::new(
            self.id,
            &io.identity.public_key(),
            self.last_sequence,
            io.now,
            payload,
        );
        let aux = io.random_32();
        SignedEnvelope::seal(envelope, io.identity, &aux)
    }

    pub(crate) fn send(&self, io: &mut Io<'_>, to: usize, bytes: &[u8]) {
        if to == self.me {
            return;
        }
        if let Some(key) = self.key(to) {
            io.transmits.push_back(Transmit {
                session: self.id,
                to: key,
                channel: Channel::Direct,
                bytes: bytes.to_vec(),
            });
        }
    }

    pub(crate) fn send_to_others(&self, io: &mut Io<'_>, bytes: &[u8]) {
        for signer in 0..self.signers() {
            self.send(io, signer, bytes);
        }
    }

    /// Ends the session with `reason`, telling the other signers when `notify`.
    pub(crate) fn abort(&mut self, io: &mut Io<'_>, reason: AbortReason, notify: bool) {
        if notify {
            let blamed_signer = match &reason {
                AbortReason::Blame { signer, .. } => u16::try_from(*signer).ok(),
                _ => None,
            };
            let payload = Payload::SessionAbort(SessionAbort {
                reason: reason.code(),
                blamed_signer,
            });
            let bytes = self.seal(io, payload).encode();
            self.send_to_others(io, &bytes);
        }
        self.end(io, Phase::Aborted(reason.clone()));
        io.emit(Event::SessionAborted {
            session: self.id,
            reason,
        });
    }

    /// Moves to a terminal phase: early messages are dropped and every timer but the
    /// expiry (which removes the session later) is cancelled.
    pub(crate) fn end(&mut self, io: &mut Io<'_>, phase: Phase) {
        self.phase = phase;
        self.held.clear();
        let expiry = TimerKind::SessionExpiry { session: self.id };
        let deadline = io.timers.deadline(&expiry);
        io.timers.cancel_session(&self.id);
        if let Some(deadline) = deadline {
            io.arm(expiry, deadline);
        }
    }

    /// The checks of SPEC §3 from "sender is a participant" on, then the message's effect.
    pub(crate) fn receive(
        &mut self,
        io: &mut Io<'_>,
        from: &PeerId,
        decoded: DecodedEnvelope,
    ) -> Result<(), Rejection> {
        let signed = &decoded.signed;
        if self.phase.is_terminal() {
            return Err(Rejection::SessionClosed {
                session: self.id,
                phase: self.phase.kind(),
            });
        }
        let sender = self.announce.signer_index(&signed.envelope.sender).ok_or(
            Rejection::NotAParticipant {
                sender: signed.envelope.sender,
            },
        )?;
        if sender == self.me {
            return Err(Rejection::OwnMessage);
        }
        let timing = self.classify(sender, &signed.envelope.payload)?;
        let sequence = signed.envelope.sequence;
        // Every signer has a window; the default stands in only to avoid indexing.
        let window = self.windows.get(sender).copied().unwrap_or_default();
        window.check(sequence, io.config.max_sequence_gap)?;
        #[cfg(feature = "planted-faults")]
        let skip_check = io
            .config
            .planted(crate::node::PlantedFault::SkipEnvelopeSignature);
        #[cfg(not(feature = "planted-faults"))]
        let skip_check = false;
        // The session parsed its signers' keys when it was announced.
        let parsed = match self.keys.get(sender) {
            Some(key) => decoded.parse_points_with_sender(key)?,
            None => decoded.parse_points()?,
        };
        if !skip_check && !io.config.skips_envelope_signatures() && !parsed.verify_signature() {
            return Err(Rejection::BadSignature);
        }
        let ParsedEnvelope { signed, parsed, .. } = parsed;
        match timing {
            Timing::Later => self.hold(io, sender, from, signed, parsed)?,
            Timing::Now => self.apply(io, sender, signed, parsed)?,
        }
        if let Some(window) = self.windows.get_mut(sender) {
            window.record(sequence);
        }
        self.last_progress = io.now;
        Ok(())
    }

    fn hold(
        &mut self,
        io: &mut Io<'_>,
        sender: usize,
        from: &PeerId,
        envelope: SignedEnvelope,
        parsed: ParsedPayload,
    ) -> Result<(), Rejection> {
        let limit = io.config.max_held_per_sender;
        let held = self
            .held
            .range((sender, Sequence(0))..=(sender, Sequence(u64::MAX)))
            .count();
        if held >= limit {
            return Err(Rejection::TooManyHeld { limit });
        }
        let key = (sender, envelope.envelope.sequence);
        self.held.insert(
            key,
            Held {
                from: from.clone(),
                envelope,
                parsed,
            },
        );
        Ok(())
    }

    /// Runs the early messages whose round has come, until none is left that can run.
    pub(crate) fn drain_held(&mut self, io: &mut Io<'_>) {
        loop {
            if self.held.is_empty() || self.phase.is_terminal() {
                return;
            }
            let mut progressed = false;
            let keys: Vec<(usize, Sequence)> = self.held.keys().copied().collect();
            for key in keys {
                if self.phase.is_terminal() {
                    return;
                }
                let timing = match self.held.get(&key) {
                    Some(held) => self.classify(key.0, &held.envelope.envelope.payload),
                    None => continue,
                };
                if let Ok(Timing::Later) = timing {
                    continue;
                }
                let Some(held) = self.held.remove(&key) else {
                    continue;
                };
                let result = timing.and_then(|_| self.apply(io, key.0, held.envelope, held.parsed));
                if let Err(rejection) = result {
                    io.counters.record(&held.from, rejection.kind());
                }
                progressed = true;
            }
            if !progressed {
                return;
            }
        }
    }
}
