//! The effect of each message kind once it passed the checks and its round has come.
//!
//! Every handler first checks the payload against the session (the last step of SPEC §3's
//! order: dialect-specific parsing, the commitment, the partial signature) without
//! touching anything, then changes the session. A check that proves the sender
//! misbehaved aborts the session with blame and returns the matching rejection.

use crate::crypto::{self, SigningSession};
use crate::node::error::{AbortReason, Rejection};
use crate::node::event::Event;
use crate::node::evidence::Evidence;
use crate::wire::{NonceCommit, ParsedPayload, Payload, PayloadKind, SignedEnvelope};

use super::phase::{Broadcast, Phase, Stored};
use super::{Io, Session};

impl Session {
    /// Applies a message whose timing is [`Timing::Now`](super::Timing::Now), then moves
    /// the rounds on as far as they go.
    pub(crate) fn apply(
        &mut self,
        io: &mut Io<'_>,
        sender: usize,
        signed: SignedEnvelope,
        parsed: ParsedPayload,
    ) -> Result<(), Rejection> {
        let result = match signed.envelope.payload.kind() {
            PayloadKind::Join => self.on_join(io, sender, &signed),
            PayloadKind::SessionReady => self.on_ready(io, &signed),
            PayloadKind::NonceCommit => self.on_commit(io, sender, signed),
            PayloadKind::NonceShare => self.on_nonce(io, sender, signed, parsed),
            PayloadKind::AggregateNonce => self.on_aggregate_nonce(io, sender, signed, parsed),
            PayloadKind::PartialSignature => self.on_partial(io, sender, signed, parsed),
            PayloadKind::FinalSignature => self.on_final_signature(io, sender, &signed),
            PayloadKind::BroadcastConfirmation => self.on_confirmation(io, sender, &signed),
            PayloadKind::SessionAbort => self.on_abort(io, sender, &signed),
            got => Err(Rejection::WrongPhase {
                phase: self.phase.kind(),
                got,
            }),
        };
        if result.is_ok() {
            self.advance(io);
        }
        result
    }

    fn wrong_phase(&self, got: PayloadKind) -> Rejection {
        Rejection::WrongPhase {
            phase: self.phase.kind(),
            got,
        }
    }

    /// Aborts with blame and returns `rejection` for the caller to report.
    fn blame(
        &mut self,
        io: &mut Io<'_>,
        signer: usize,
        evidence: Evidence,
        rejection: Rejection,
    ) -> Rejection {
        if let Some(key) = self.key(signer) {
            let reason = AbortReason::Blame {
                signer,
                key,
                evidence: Box::new(evidence),
            };
            self.abort(io, reason, true);
        }
        rejection
    }

    /// A repeat of a stored value: a harmless duplicate if equal, equivocation if not.
    ///
    /// Only this node's own values can lack an envelope, and `receive` refuses this node's
    /// own messages before they get here.
    fn repeat<T: PartialEq>(
        &mut self,
        io: &mut Io<'_>,
        sender: usize,
        stored: (T, Option<SignedEnvelope>),
        fresh: (T, SignedEnvelope),
    ) -> Rejection {
        let got = fresh.1.envelope.payload.kind();
        if stored.0 == fresh.0 {
            return Rejection::Duplicate { got };
        }
        let Some(first) = stored.1 else {
            return Rejection::OwnMessage;
        };
        let evidence = Evidence::Equivocation {
            first,
            second: fresh.1,
        };
        self.blame(
            io,
            sender,
            evidence,
            Rejection::Equivocation {
                signer: sender,
                got,
            },
        )
    }

    fn on_join(
        &mut self,
        io: &mut Io<'_>,
        sender: usize,
        signed: &SignedEnvelope,
    ) -> Result<(), Rejection> {
        let Payload::Join(join) = &signed.envelope.payload else {
            return Err(self.wrong_phase(PayloadKind::Join));
        };
        let Phase::Init(joining) = &self.phase else {
            return Err(self.wrong_phase(PayloadKind::Join));
        };
        if join.key != signed.envelope.sender {
            return Err(Rejection::JoinKeyMismatch);
        }
        if joining.joined.contains(&sender) {
            return Err(Rejection::Duplicate {
                got: PayloadKind::Join,
            });
        }
        // The envelope's signature, checked before any payload, is the sender's signature
        // over this session's id and this join: the proof that the joiner holds the key.
        let everyone = if let Phase::Init(joining) = &mut self.phase {
            joining.joined.insert(sender);
            joining.joined.len() == self.keys.len()
        } else {
            false
        };
        io.emit(Event::ParticipantJoined {
            session: self.id,
            signer: sender,
        });
        if everyone {
            self.declare_ready(io);
        }
        Ok(())
    }

    fn on_ready(&mut self, io: &mut Io<'_>, signed: &SignedEnvelope) -> Result<(), Rejection> {
        let Payload::SessionReady(ready) = &signed.envelope.payload else {
            return Err(self.wrong_phase(PayloadKind::SessionReady));
        };
        let expected = u16::try_from(self.election.sorted_index).unwrap_or(u16::MAX);
        if ready.coordinator_index != expected {
            return Err(Rejection::CoordinatorMismatch {
                expected,
                got: ready.coordinator_index,
            });
        }
        self.begin_rounds(io);
        Ok(())
    }

    fn on_commit(
        &mut self,
        io: &mut Io<'_>,
        sender: usize,
        signed: SignedEnvelope,
    ) -> Result<(), Rejection> {
        let Payload::NonceCommit(commit) = &signed.envelope.payload else {
            return Err(self.wrong_phase(PayloadKind::NonceCommit));
        };
        let commitment = commit.commitment;
        let (commitments, may_add) = match &self.phase {
            Phase::NonceCommit(round) => (&round.commitments, true),
            Phase::NonceExchange(round) => (&round.commitments, false),
            _ => return Err(self.wrong_phase(PayloadKind::NonceCommit)),
        };
        if let Some(stored) = commitments.get(&sender) {
            let stored = (stored.value, Some(stored.envelope.clone()));
            return Err(self.repeat(io, sender, stored, (commitment, signed)));
        }
        if !may_add {
            return Err(self.wrong_phase(PayloadKind::NonceCommit));
        }
        if let Phase::NonceCommit(round) = &mut self.phase {
            let stored = Stored {
                value: commitment,
                envelope: signed,
            };
            round.commitments.insert(sender, stored);
        }
        Ok(())
    }

    fn on_nonce(
        &mut self,
        io: &mut Io<'_>,
        sender: usize,
        signed: SignedEnvelope,
        parsed: ParsedPayload,
    ) -> Result<(), Rejection> {
        let got = PayloadKind::NonceShare;
        let Payload::NonceShare(share) = &signed.envelope.payload else {
            return Err(self.wrong_phase(got));
        };
        // Decoding parsed the nonce as Bip340's; another dialect parses it its own way.
        let public = match parsed {
            ParsedPayload::PublicNonce(nonce) if nonce.dialect() == self.announce.dialect => nonce,
            _ => share
                .public_nonce(self.announce.dialect)
                .map_err(|error| Rejection::InvalidPayload { got, error })?,
        };
        let (nonces, round_commitments) = match &self.phase {
            Phase::NonceExchange(round) => (&round.nonces, Some(&round.commitments)),
            Phase::PartialSigExchange(round) => (&round.nonces, None),
            _ => return Err(self.wrong_phase(got)),
        };
        if let Some(stored) = nonces.get(&sender) {
            let stored = (stored.value, stored.envelope.clone());
            return Err(self.repeat(io, sender, stored, (public, signed)));
        }
        let Some(commitments) = round_commitments else {
            return Err(self.wrong_phase(got));
        };
        if self.announce.options.nonce_commitments {
            let Some(commit) = commitments.get(&sender) else {
                return Err(self.wrong_phase(got));
            };
            let expected = NonceCommit {
                attempt: share.attempt,
                commitment: commit.value,
            };
            if !expected.matches(&self.id, &signed.envelope.sender, share) {
                let evidence = Evidence::NonceCommitmentMismatch {
                    commitment: commit.envelope.clone(),
                    reveal: signed,
                };
                let rejection = Rejection::NonceCommitmentMismatch { signer: sender };
                return Err(self.blame(io, sender, evidence, rejection));
            }
        }
        if let Phase::NonceExchange(round) = &mut self.phase {
            let stored = Stored {
                value: public,
                envelope: Some(signed),
            };
            round.nonces.insert(sender, stored);
        }
        Ok(())
    }

    fn on_aggregate_nonce(
        &mut self,
        io: &mut Io<'_>,
        sender: usize,
        signed: SignedEnvelope,
        parsed: ParsedPayload,
    ) -> Result<(), Rejection> {
        let got = PayloadKind::AggregateNonce;
        let Payload::AggregateNonce(share) = &signed.envelope.payload else {
            return Err(self.wrong_phase(got));
        };
        let aggregate = match parsed {
            ParsedPayload::AggregateNonce(nonce) if nonce.dialect() == self.announce.dialect => {
                nonce
            }
            _ => share
                .aggregate_nonce(self.announce.dialect)
                .map_err(|error| Rejection::InvalidPayload { got, error })?,
        };
        match &self.phase {
            Phase::NonceExchange(_) => {
                let signing = SigningSession::new(&self.ctx, &aggregate, &self.announce.message)
                    .map_err(|error| Rejection::InvalidPayload { got, error })?;
                self.enter_sign_round(io, aggregate, signing, Some(signed));
                Ok(())
            }
            Phase::PartialSigExchange(round) => match &round.aggregate_envelope {
                Some(stored) => {
                    let stored = (round.aggregate, Some(stored.clone()));
                    Err(self.repeat(io, sender, stored, (aggregate, signed)))
                }
                None => Err(self.wrong_phase(got)),
            },
            _ => Err(self.wrong_phase(got)),
        }
    }

    fn on_partial(
        &mut self,
        io: &mut Io<'_>,
        sender: usize,
        signed: SignedEnvelope,
        parsed: ParsedPayload,
    ) -> Result<(), Rejection> {
        let got = PayloadKind::PartialSignature;
        let Payload::PartialSignature(share) = &signed.envelope.payload else {
            return Err(self.wrong_phase(got));
        };
        let partial = match parsed {
            ParsedPayload::PartialSignature(partial) => partial,
            _ => share
                .partial_signature()
                .map_err(|error| Rejection::InvalidPayload { got, error })?,
        };
        let Phase::PartialSigExchange(round) = &self.phase else {
            return Err(self.wrong_phase(got));
        };
        if let Some(stored) = round.partials.get(&sender) {
            let stored = (stored.value, stored.envelope.clone());
            return Err(self.repeat(io, sender, stored, (partial, signed)));
        }
        // The mesh checks every partial signature as it comes; the aggregator checks the
        // final signature first and looks at partials only if it fails.
        if self.aggregator(round.attempt).is_none() {
            let Some(nonce) = round.nonces.get(&sender) else {
                return Err(self.wrong_phase(got));
            };
            if !round
                .signing
                .partial_verify(&self.ctx, sender, &partial, &nonce.value)
            {
                let evidence = Evidence::InvalidPartialSignature {
                    announce: self.announce_envelope.clone(),
                    // The mesh sends, and so seals, every nonce share.
                    nonces: round
                        .nonces
                        .values()
                        .filter_map(|n| n.envelope.clone())
                        .collect(),
                    partial: signed,
                };
                let rejection = Rejection::InvalidPartialSignature { signer: sender };
                return Err(self.blame(io, sender, evidence, rejection));
            }
        }
        if let Phase::PartialSigExchange(round) = &mut self.phase {
            let stored = Stored {
                value: partial,
                envelope: Some(signed),
            };
            round.partials.insert(sender, stored);
        }
        Ok(())
    }

    fn on_final_signature(
        &mut self,
        io: &mut Io<'_>,
        sender: usize,
        signed: &SignedEnvelope,
    ) -> Result<(), Rejection> {
        let Payload::FinalSignature(message) = &signed.envelope.payload else {
            return Err(self.wrong_phase(PayloadKind::FinalSignature));
        };
        let signature = message.signature();
        let key = self.ctx.aggregate_key();
        if !crypto::verify(
            self.announce.dialect,
            &key,
            &self.announce.message,
            &signature,
        ) {
            return Err(Rejection::InvalidFinalSignature);
        }
        // The broadcast failover starts with whoever aggregated the signature.
        let position = self
            .election
            .priority
            .iter()
            .position(|signer| *signer == sender)
            .and_then(|position| u32::try_from(position).ok())
            .unwrap_or(0);
        self.complete(io, signature, position);
        Ok(())
    }

    fn on_confirmation(
        &mut self,
        io: &mut Io<'_>,
        sender: usize,
        signed: &SignedEnvelope,
    ) -> Result<(), Rejection> {
        let got = PayloadKind::BroadcastConfirmation;
        let Payload::BroadcastConfirmation(confirmation) = &signed.envelope.payload else {
            return Err(self.wrong_phase(got));
        };
        match &self.phase {
            Phase::Complete(done) if !matches!(done.broadcast, Broadcast::Confirmed { .. }) => {}
            _ => return Err(self.wrong_phase(got)),
        }
        self.confirm_broadcast(io, confirmation.transaction_id.clone(), sender);
        Ok(())
    }

    fn on_abort(
        &mut self,
        io: &mut Io<'_>,
        sender: usize,
        signed: &SignedEnvelope,
    ) -> Result<(), Rejection> {
        let Payload::SessionAbort(abort) = &signed.envelope.payload else {
            return Err(self.wrong_phase(PayloadKind::SessionAbort));
        };
        let reason = AbortReason::PeerAborted {
            signer: sender,
            code: abort.reason,
            blamed_signer: abort.blamed_signer.map(usize::from),
        };
        self.abort(io, reason, false);
        Ok(())
    }
}
