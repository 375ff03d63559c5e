//! How a session moves from round to round: readiness, attempts, this node's own nonce
//! and partial signature, aggregation.

use core::mem;
use core::time::Duration;
use std::collections::BTreeMap;

use crate::crypto::{
    self, aggregate_nonces, generate_nonce, AggregateNonce, CryptoError, PartialSignature,
    PublicNonce, SigningSession,
};
use crate::node::config::Progress;
use crate::node::error::AbortReason;
use crate::node::event::Event;
use crate::node::evidence::Evidence;
use crate::timer::TimerKind;
use crate::wire::{
    AggregateNonceShare, FinalSignature, NonceCommit, NonceShare, PartialSignatureShare, Payload,
    SessionReady, SignedEnvelope,
};

use super::phase::{CommitRound, NonceRound, OwnNonce, Phase, SignRound, Stored};
use super::{Io, Session};

/// How often a fresh nonce is drawn again when the tracker has seen it, before giving up.
const NONCE_DRAWS: usize = 3;

impl Session {
    /// The broadcast (and aggregator) timeout announced for the session.
    pub(crate) fn coordinator_timeout(&self) -> Duration {
        Duration::from_millis(self.announce.options.broadcast_timeout_ms)
    }

    /// The creator saw every join: it tells everyone and starts.
    pub(crate) fn declare_ready(&mut self, io: &mut Io<'_>) {
        let coordinator_index = u16::try_from(self.election.sorted_index).unwrap_or(u16::MAX);
        let payload = Payload::SessionReady(SessionReady { coordinator_index });
        let bytes = self.seal(io, payload).encode();
        self.send_to_others(io, &bytes);
        self.begin_rounds(io);
    }

    /// Every signer joined: announce it locally and start attempt 0.
    pub(crate) fn begin_rounds(&mut self, io: &mut Io<'_>) {
        io.emit(Event::SessionReady { session: self.id });
        io.emit(Event::CoordinatorElected {
            session: self.id,
            coordinator: self.election.coordinator,
            signer: self.election.sorted_index,
        });
        self.start_attempt(io, 0);
    }

    /// Starts round 1 (or 0) of `attempt` with no nonces at all: a restart never reuses
    /// anything of the previous attempt.
    pub(crate) fn start_attempt(&mut self, io: &mut Io<'_>, attempt: u32) {
        self.phase = if self.announce.options.nonce_commitments {
            Phase::NonceCommit(CommitRound {
                attempt,
                commitments: BTreeMap::new(),
                own: None,
            })
        } else {
            Phase::NonceExchange(NonceRound {
                attempt,
                commitments: BTreeMap::new(),
                nonces: BTreeMap::new(),
                own_secret: None,
            })
        };
        if self.aggregator(attempt).is_some() {
            let kind = TimerKind::AggregatorTimeout {
                session: self.id,
                attempt,
            };
            io.arm(kind, io.now.saturating_add(self.coordinator_timeout()));
        }
        // A restart carries on by itself: the application already started this round.
        if self.progress == Progress::Automatic || attempt > 0 {
            self.share_own_nonce(io);
        }
    }

    /// Whether this node still has to commit or share its nonce in the current round.
    pub(crate) fn own_nonce_pending(&self) -> bool {
        match &self.phase {
            Phase::NonceCommit(round) => !round.commitments.contains_key(&self.me),
            Phase::NonceExchange(round) => !round.nonces.contains_key(&self.me),
            _ => false,
        }
    }

    /// Draws this node's nonce for the current round and commits to it or shares it.
    pub(crate) fn share_own_nonce(&mut self, io: &mut Io<'_>) {
        if !self.own_nonce_pending() {
            return;
        }
        let own = match self.fresh_nonce(io) {
            Ok(own) => own,
            Err(reason) => return self.abort(io, reason, true),
        };
        match &self.phase {
            Phase::NonceCommit(round) => {
                let attempt = round.attempt;
                let sender = io.identity.public_key().serialize();
                let commit = NonceCommit::new(&self.id, &sender, attempt, &own.public);
                let commitment = commit.commitment;
                let envelope = self.seal(io, Payload::NonceCommit(commit));
                // The aggregator keeps its commitment back: sent last, it is the go-ahead.
                if self.aggregator(attempt) != Some(self.me) {
                    self.route_round_message(io, attempt, &envelope);
                }
                if let Phase::NonceCommit(round) = &mut self.phase {
                    let stored = Stored {
                        value: commitment,
                        envelope,
                    };
                    round.commitments.insert(self.me, stored);
                    round.own = Some(own);
                }
            }
            Phase::NonceExchange(_) => self.reveal(io, own),
            _ => {}
        }
    }

    /// A fresh nonce the node has never sent.
    fn fresh_nonce(&self, io: &mut Io<'_>) -> Result<OwnNonce, AbortReason> {
        #[cfg(feature = "planted-faults")]
        if io.config.planted(crate::node::PlantedFault::RepeatNonce) {
            use rand_chacha::rand_core::SeedableRng;
            let mut fixed = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
            let (secret, public) =
                generate_nonce(&self.ctx, io.identity, &self.announce.message, &mut fixed)
                    .map_err(AbortReason::SigningFailed)?;
            return Ok(OwnNonce { secret, public });
        }
        for _ in 0..NONCE_DRAWS {
            let (secret, public) =
                generate_nonce(&self.ctx, io.identity, &self.announce.message, io.rng)
                    .map_err(AbortReason::SigningFailed)?;
            if io.nonces.remember(&public) {
                return Ok(OwnNonce { secret, public });
            }
        }
        Err(AbortReason::NonceRepeated)
    }

    /// Shares this node's public nonce (round 1) and keeps the secret one for round 2.
    fn reveal(&mut self, io: &mut Io<'_>, own: OwnNonce) {
        let Some(attempt) = self.phase.attempt() else {
            return;
        };
        let envelope = self.send_round_share(
            io,
            attempt,
            Payload::NonceShare(NonceShare::new(attempt, &own.public)),
        );
        if let Phase::NonceExchange(round) = &mut self.phase {
            let stored = Stored {
                value: own.public,
                envelope,
            };
            round.nonces.insert(self.me, stored);
            round.own_secret = Some(own.secret);
        }
    }

    /// Mesh: to everyone. Aggregator topology: to the aggregator (which keeps its own).
    fn route_round_message(&self, io: &mut Io<'_>, attempt: u32, envelope: &SignedEnvelope) {
        let bytes = envelope.encode();
        match self.aggregator(attempt) {
            None => self.send_to_others(io, &bytes),
            Some(aggregator) => self.send(io, aggregator, &bytes),
        }
    }

    /// Seals a round message and sends it, in the mesh to everyone and in the aggregator
    /// topology to the aggregator. The aggregator keeps its own unsealed (`None`).
    fn send_round_share(
        &mut self,
        io: &mut Io<'_>,
        attempt: u32,
        payload: Payload,
    ) -> Option<SignedEnvelope> {
        let to = self.aggregator(attempt);
        if to == Some(self.me) {
            return None;
        }
        let envelope = self.seal(io, payload);
        self.route_round_message(io, attempt, &envelope);
        Some(envelope)
    }

    /// Seals this node's own nonce share and partial signature of the current round if it
    /// kept them unsealed (the aggregator does), so that evidence can list them.
    fn seal_unsent_own_shares(&mut self, io: &mut Io<'_>) {
        let Phase::PartialSigExchange(round) = &self.phase else {
            return;
        };
        let attempt = round.attempt;
        let nonce = round
            .nonces
            .get(&self.me)
            .filter(|own| own.envelope.is_none())
            .map(|own| own.value);
        let partial = round
            .partials
            .get(&self.me)
            .filter(|own| own.envelope.is_none())
            .map(|own| own.value);
        let nonce =
            nonce.map(|nonce| self.seal(io, Payload::NonceShare(NonceShare::new(attempt, &nonce))));
        let partial = partial.map(|partial| {
            let share = PartialSignatureShare::new(attempt, &partial);
            self.seal(io, Payload::PartialSignature(share))
        });
        let Phase::PartialSigExchange(round) = &mut self.phase else {
            return;
        };
        if let (Some(envelope), Some(own)) = (nonce, round.nonces.get_mut(&self.me)) {
            own.envelope = Some(envelope);
        }
        if let (Some(envelope), Some(own)) = (partial, round.partials.get_mut(&self.me)) {
            own.envelope = Some(envelope);
        }
    }

    /// Moves through every round whose inputs are complete.
    pub(crate) fn advance(&mut self, io: &mut Io<'_>) {
        loop {
            let moved = match &self.phase {
                Phase::NonceCommit(_) => self.finish_commit_round(io),
                Phase::NonceExchange(_) => self.finish_nonce_round(io),
                Phase::PartialSigExchange(_) => self.finish_sign_round(io),
                _ => false,
            };
            if !moved {
                return;
            }
        }
    }

    fn finish_commit_round(&mut self, io: &mut Io<'_>) -> bool {
        let Phase::NonceCommit(round) = &self.phase else {
            return false;
        };
        let aggregator = self.aggregator(round.attempt);
        let complete = match aggregator {
            Some(aggregator) if aggregator != self.me => {
                round.commitments.contains_key(&self.me)
                    && round.commitments.contains_key(&aggregator)
            }
            _ => round.commitments.len() == self.signers(),
        };
        if !complete {
            return false;
        }
        if aggregator == Some(self.me) {
            if let Some(own) = round.commitments.get(&self.me) {
                self.send_to_others(io, &own.envelope.encode());
            }
        }
        let Phase::NonceCommit(round) = mem::take(&mut self.phase) else {
            return false;
        };
        let attempt = round.attempt;
        self.phase = Phase::NonceExchange(NonceRound {
            attempt,
            commitments: round.commitments,
            nonces: BTreeMap::new(),
            own_secret: None,
        });
        io.emit(Event::NonceCommitmentsComplete {
            session: self.id,
            attempt,
        });
        if let Some(own) = round.own {
            self.reveal(io, own);
        }
        true
    }

    fn finish_nonce_round(&mut self, io: &mut Io<'_>) -> bool {
        let Phase::NonceExchange(round) = &self.phase else {
            return false;
        };
        let attempt = round.attempt;
        let aggregator = self.aggregator(attempt);
        // A participant of the aggregator topology waits for the aggregate nonce.
        if aggregator.is_some_and(|aggregator| aggregator != self.me)
            || round.nonces.len() != self.signers()
        {
            return false;
        }
        let nonces: Vec<PublicNonce> = round.nonces.values().map(|stored| stored.value).collect();
        let signing = aggregate_nonces(self.announce.dialect, &nonces).and_then(|aggregate| {
            SigningSession::new(&self.ctx, &aggregate, &self.announce.message)
                .map(|signing| (aggregate, signing))
        });
        let (aggregate, signing) = match signing {
            Ok(pair) => pair,
            Err(error) => {
                self.abort(io, AbortReason::SigningFailed(error), true);
                return false;
            }
        };
        if aggregator == Some(self.me) {
            let share = AggregateNonceShare::new(attempt, &aggregate);
            let bytes = self.seal(io, Payload::AggregateNonce(share)).encode();
            self.send_to_others(io, &bytes);
        }
        self.enter_sign_round(io, aggregate, signing, None);
        true
    }

    /// Round 1 is over: the aggregate nonce is known.
    pub(crate) fn enter_sign_round(
        &mut self,
        io: &mut Io<'_>,
        aggregate: AggregateNonce,
        signing: SigningSession,
        aggregate_envelope: Option<SignedEnvelope>,
    ) {
        let Phase::NonceExchange(round) = mem::take(&mut self.phase) else {
            return;
        };
        let attempt = round.attempt;
        self.phase = Phase::PartialSigExchange(Box::new(SignRound {
            attempt,
            nonces: round.nonces,
            aggregate,
            aggregate_envelope,
            signing,
            own_secret: round.own_secret,
            partials: BTreeMap::new(),
        }));
        io.emit(Event::NoncesComplete {
            session: self.id,
            attempt,
        });
        if self.progress == Progress::Automatic || attempt > 0 {
            self.sign_own(io);
        }
    }

    /// Whether this node can still sign in the current round.
    pub(crate) fn own_partial_pending(&self) -> bool {
        matches!(&self.phase, Phase::PartialSigExchange(round) if round.own_secret.is_some())
    }

    /// Signs (consuming the secret nonce) and sends the partial signature.
    pub(crate) fn sign_own(&mut self, io: &mut Io<'_>) {
        let Phase::PartialSigExchange(round) = &mut self.phase else {
            return;
        };
        let Some(secret) = round.own_secret.take() else {
            return;
        };
        let attempt = round.attempt;
        let signed = round
            .signing
            .partial_sign(&self.ctx, self.me, secret, io.identity);
        let partial = match signed {
            Ok(partial) => partial,
            Err(error) => return self.abort(io, AbortReason::SigningFailed(error), true),
        };
        let share = PartialSignatureShare::new(attempt, &partial);
        let envelope = self.send_round_share(io, attempt, Payload::PartialSignature(share));
        if let Phase::PartialSigExchange(round) = &mut self.phase {
            let stored = Stored {
                value: partial,
                envelope,
            };
            round.partials.insert(self.me, stored);
        }
    }

    fn finish_sign_round(&mut self, io: &mut Io<'_>) -> bool {
        let Phase::PartialSigExchange(round) = &self.phase else {
            return false;
        };
        let attempt = round.attempt;
        let aggregator = self.aggregator(attempt);
        if aggregator.is_some_and(|aggregator| aggregator != self.me)
            || round.partials.len() != self.signers()
        {
            return false;
        }
        let partials: Vec<PartialSignature> =
            round.partials.values().map(|stored| stored.value).collect();
        let signature = match round.signing.aggregate(&self.ctx, &partials) {
            Ok(signature) => signature,
            Err(error) => {
                self.abort(io, AbortReason::SigningFailed(error), true);
                return false;
            }
        };
        let key = self.ctx.aggregate_key();
        if !crypto::verify(
            self.announce.dialect,
            &key,
            &self.announce.message,
            &signature,
        ) {
            self.seal_unsent_own_shares(io);
            let reason = self
                .find_culprit()
                .unwrap_or(AbortReason::SigningFailed(CryptoError::InvalidSignature));
            self.abort(io, reason, true);
            return false;
        }
        io.emit(Event::PartialSignaturesComplete { session: self.id });
        if aggregator == Some(self.me) {
            let bytes = self
                .seal(io, Payload::FinalSignature(FinalSignature::new(&signature)))
                .encode();
            self.send_to_others(io, &bytes);
        }
        self.complete(io, signature, attempt);
        true
    }

    /// The final signature failed: the first signer whose partial signature does not
    /// verify, with the evidence.
    fn find_culprit(&self) -> Option<AbortReason> {
        let Phase::PartialSigExchange(round) = &self.phase else {
            return None;
        };
        round.partials.iter().find_map(|(signer, partial)| {
            let nonce = round.nonces.get(signer)?;
            if round
                .signing
                .partial_verify(&self.ctx, *signer, &partial.value, &nonce.value)
            {
                return None;
            }
            let evidence = Evidence::InvalidPartialSignature {
                announce: self.announce_envelope.clone(),
                nonces: round
                    .nonces
                    .values()
                    .filter_map(|n| n.envelope.clone())
                    .collect(),
                partial: partial.envelope.clone()?,
            };
            Some(AbortReason::Blame {
                signer: *signer,
                key: self.key(*signer)?,
                evidence: Box::new(evidence),
            })
        })
    }
}
