//! [`Node`]: inputs, commands, outputs and getters.

use std::collections::{BTreeMap, VecDeque};

use core::fmt;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use crate::crypto::{KeyAggContext, Keypair, PublicKey};
use crate::discovery::{Discovery, DiscoveryEvent, RequestId, DISCOVERY_FORMAT};
use crate::election::{elect, ElectionResult};
use crate::security::RejectionKind as SecurityRejectionKind;
use crate::time::Timestamp;
use crate::timer::{TimerKind, TimerTable};
use crate::wire::{
    Channel, DecodedEnvelope, Envelope, ParsedEnvelope, ParsedPayload, Payload, PayloadKind,
    Sequence, SessionAnnounce, SessionId, SignedEnvelope,
};

use super::checks::{check_skew, PeerRejections, RejectionCounters, ReplayWindow};
use super::config::{Config, Progress, SessionSpec};
use super::error::{CommandError, Rejection};
use super::event::{Event, PeerId, Transmit};
use super::group_cache::GroupCache;
use super::matchmaking::Awaited;
use super::nonce_tracker::NonceTracker;
use super::session::{Io, Phase, Session, SessionParts, TimerOutcome};
use super::view::SessionView;

/// The timers one session can have armed at once (expiry, stuck check, one broadcast or
/// aggregator timeout, and slack for the moment one replaces another).
const TIMERS_PER_SESSION: usize = 4;

/// One signer's sans-IO session engine.
///
/// See the [module documentation](super) for the drive loop and a three-party example.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::node::{Config, Node};
/// use chorus_core::time::Timestamp;
///
/// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
/// let mut node = Node::new(Config::default(), key, [0; 32], Timestamp::from_millis(0));
/// assert_eq!(node.public_key(), key.public_key());
/// assert!(node.poll_transmit().is_none());
/// assert!(node.poll_event().is_none());
/// assert!(node.poll_timeout().is_none());
/// ```
pub struct Node {
    config: Config,
    pub(super) identity: Keypair,
    pub(super) rng: ChaCha20Rng,
    /// The latest time seen; time handed in never moves it backwards.
    pub(super) clock: Timestamp,
    pub(super) sessions: BTreeMap<SessionId, Session>,
    timers: TimerTable,
    transmits: VecDeque<Transmit>,
    pub(super) events: VecDeque<Event>,
    pub(super) nonces: NonceTracker,
    counters: RejectionCounters,
    /// Key aggregations of recent signer groups (not part of the state digest: a cached
    /// context equals a fresh one).
    pub(super) groups: GroupCache,
    /// Advertisements, signing requests and joins, with the security manager.
    pub(super) discovery: Discovery,
    pub(super) discovery_events: VecDeque<DiscoveryEvent>,
    /// Requests this node created or joined, with the progress it chose for their session.
    pub(super) agreed: BTreeMap<RequestId, Progress>,
    /// Sessions derived from a request this node joined, until the creator announces them.
    pub(super) awaited: BTreeMap<SessionId, Awaited>,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("key", &self.identity.public_key())
            .field("clock", &self.clock)
            .field("sessions", &self.sessions.len())
            .field("timers", &self.timers.len())
            .field("transmits", &self.transmits.len())
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// The key of a node's random generator: its seed bound to its signing key and start time.
fn generator_key(seed: &[u8; 32], identity: &Keypair, now: Timestamp) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"chorus/node-generator/v1")
        .chain_update(seed)
        .chain_update(identity.public_key().serialize())
        .chain_update(now.as_millis().to_be_bytes())
        .finalize()
        .into()
}

impl Node {
    /// A node signing as `identity`, drawing every random value from a ChaCha20 generator
    /// seeded with `rng_seed`.
    ///
    /// The seed must be fresh for every node *and every restart* (a driver takes it from
    /// the operating system; a simulator from its run seed). As a second line of defence
    /// the generator is keyed with the seed, the node's key and `now` together, so a node
    /// restarted by mistake with an old seed still draws new nonces once its clock has
    /// moved on; only the same seed, key and start time give the same stream (which is
    /// what makes a simulation replayable).
    pub fn new(config: Config, identity: Keypair, rng_seed: [u8; 32], now: Timestamp) -> Self {
        let timers = TimerTable::new(
            config
                .max_sessions
                .saturating_mul(TIMERS_PER_SESSION)
                .saturating_add(1),
        );
        let peer_id = config
            .peer_id
            .clone()
            .unwrap_or_else(|| PeerId::from_key(&identity.public_key()));
        Node {
            discovery: Discovery::new(config.discovery.clone(), peer_id),
            discovery_events: VecDeque::new(),
            agreed: BTreeMap::new(),
            awaited: BTreeMap::new(),
            nonces: NonceTracker::new(config.nonce_memory),
            counters: RejectionCounters::new(config.max_tracked_peers),
            groups: GroupCache::new(config.key_aggregation_cache),
            config,
            identity,
            rng: ChaCha20Rng::from_seed(generator_key(&rng_seed, &identity, now)),
            clock: now,
            sessions: BTreeMap::new(),
            timers,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// This node's signing key.
    pub fn public_key(&self) -> PublicKey {
        self.identity.public_key()
    }

    /// The node's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn advance_clock(&mut self, now: Timestamp) -> Timestamp {
        self.clock = self.clock.max(now);
        self.clock
    }

    pub(super) fn queued(&self) -> usize {
        self.transmits
            .len()
            .saturating_add(self.events.len())
            .saturating_add(self.discovery_events.len())
            .saturating_add(self.discovery.queued())
    }

    fn check_backpressure(&self) -> Result<(), Rejection> {
        let queued = self.queued();
        let limit = self.config.max_queued_outputs;
        if queued >= limit {
            return Err(Rejection::Backpressure { limit, queued });
        }
        Ok(())
    }

    pub(super) fn parts(&mut self, now: Timestamp) -> (&mut BTreeMap<SessionId, Session>, Io<'_>) {
        let io = Io {
            now,
            identity: &self.identity,
            rng: &mut self.rng,
            config: &self.config,
            timers: &mut self.timers,
            transmits: &mut self.transmits,
            events: &mut self.events,
            nonces: &mut self.nonces,
            counters: &mut self.counters,
        };
        (&mut self.sessions, io)
    }

    /// Input: `bytes` arrived from `from` on `channel`.
    ///
    /// Runs SPEC §3's checks, cheapest first — size, decode (form and bounds), clock skew,
    /// known session, sender is a participant, phase allows the message, sequence number,
    /// curve points (parsed once, here, and handed on), envelope signature, payload — and
    /// applies the message.
    ///
    /// # Errors
    ///
    /// The [`Rejection`] of the first check that fails. A rejection changes nothing but
    /// `from`'s rejection counter ([`Node::rejections`]), except that a blame rejection
    /// ([`Rejection::is_blame`]) also aborts the session.
    pub fn handle_message(
        &mut self,
        now: Timestamp,
        from: PeerId,
        channel: Channel,
        bytes: &[u8],
    ) -> Result<(), Rejection> {
        let now = self.advance_clock(now);
        let result = if bytes.first() == Some(&DISCOVERY_FORMAT) {
            self.receive_discovery(now, &from, channel, bytes)
        } else {
            self.discovery
                .admit_peer(now, &from)
                .map_err(Rejection::from)
                .and_then(|()| self.receive(now, &from, channel, bytes))
        };
        if let Err(rejection) = &result {
            self.counters.record(&from, rejection.kind());
            if *rejection == Rejection::BadSignature {
                let forged = SecurityRejectionKind::ForgedEnvelope;
                self.discovery.record_rejection(now, &from, forged);
            }
        }
        self.collect_discovery(now);
        result
    }

    fn receive(
        &mut self,
        now: Timestamp,
        from: &PeerId,
        channel: Channel,
        bytes: &[u8],
    ) -> Result<(), Rejection> {
        self.check_backpressure()?;
        let decoded = DecodedEnvelope::decode(bytes, channel)?;
        let envelope = &decoded.signed.envelope;
        check_skew(now, envelope.timestamp, self.config.max_clock_skew)?;
        if envelope.payload.kind() == PayloadKind::SessionAnnounce {
            return self.receive_announce(now, decoded);
        }
        let id = envelope.session_id;
        let (sessions, mut io) = self.parts(now);
        let session = sessions
            .get_mut(&id)
            .ok_or(Rejection::UnknownSession { session: id })?;
        session.receive(&mut io, from, decoded)?;
        session.drain_held(&mut io);
        Ok(())
    }

    fn receive_announce(
        &mut self,
        now: Timestamp,
        decoded: DecodedEnvelope,
    ) -> Result<(), Rejection> {
        let signed = &decoded.signed;
        let id = signed.envelope.session_id;
        if let Some(existing) = self.sessions.get(&id) {
            return Err(if existing.phase.is_terminal() {
                Rejection::SessionClosed {
                    session: id,
                    phase: existing.phase.kind(),
                }
            } else {
                Rejection::SessionExists { session: id }
            });
        }
        let Payload::SessionAnnounce(announce) = &signed.envelope.payload else {
            return Err(Rejection::UnknownSession { session: id });
        };
        let creator =
            announce
                .signer_index(&signed.envelope.sender)
                .ok_or(Rejection::NotAParticipant {
                    sender: signed.envelope.sender,
                })?;
        let me = announce
            .signer_index(&self.identity.public_key().serialize())
            .ok_or(Rejection::NotASigner { session: id })?;
        if creator == me {
            return Err(Rejection::OwnMessage);
        }
        ReplayWindow::default().check(signed.envelope.sequence, self.config.max_sequence_gap)?;
        if self.sessions.len() >= self.config.max_sessions {
            return Err(Rejection::TooManySessions {
                limit: self.config.max_sessions,
            });
        }
        let creator_key = &signed.envelope.sender;
        let from_creator = self
            .sessions
            .values()
            .filter(|session| {
                !session.phase.is_terminal() && !matches!(session.phase, Phase::Complete(_))
            })
            .filter(|session| session.announce.signers.get(session.creator) == Some(creator_key))
            .count();
        if from_creator >= self.config.max_sessions_per_creator {
            return Err(Rejection::TooManySessionsFromCreator {
                limit: self.config.max_sessions_per_creator,
            });
        }
        let announce = announce.clone();
        let (signed, keys) = self.authenticate_announce(decoded, &announce, creator)?;
        let invalid = |error| Rejection::InvalidPayload {
            got: PayloadKind::SessionAnnounce,
            error,
        };
        let (ctx, election) = prepare(&mut self.groups, &announce, &keys, &id).map_err(invalid)?;
        let parts = SessionParts {
            id,
            announce,
            announce_envelope: signed,
            keys,
            ctx,
            election,
            me,
            creator,
            progress: Progress::default(),
        };
        let (sessions, mut io) = self.parts(now);
        let session = Session::new(parts, &mut io);
        if let Some(creator) = session.key(creator) {
            io.emit(Event::SessionAnnounced {
                session: id,
                creator,
                message: session.announce.message,
            });
        }
        sessions.insert(id, session);
        self.join_if_awaited(now, id);
        Ok(())
    }

    /// The last checks of an announcement — its points, its signature — and its signers'
    /// keys, parsed.
    ///
    /// A signer group the node signed with lately has its keys parsed in the group cache
    /// already: equal bytes are equal points, so only the signature is left to check.
    fn authenticate_announce(
        &self,
        decoded: DecodedEnvelope,
        announce: &SessionAnnounce,
        creator: usize,
    ) -> Result<(SignedEnvelope, Vec<PublicKey>), Rejection> {
        // Only a cargo-fuzz build can skip it (`Config::fuzzing_skip_envelope_signatures`).
        let check_signature = !self.config.skips_envelope_signatures();
        if let Some(cached) = self.groups.lookup(announce.dialect, &announce.signers) {
            let keys = cached.signers().to_vec();
            let sender = keys.get(creator).ok_or(Rejection::NotAParticipant {
                sender: decoded.signed.envelope.sender,
            })?;
            if check_signature && !decoded.verify_signature_with(sender) {
                return Err(Rejection::BadSignature);
            }
            return Ok((decoded.signed, keys));
        }
        let parsed = decoded.parse_points()?;
        if check_signature && !parsed.verify_signature() {
            return Err(Rejection::BadSignature);
        }
        match parsed {
            ParsedEnvelope {
                signed,
                parsed: ParsedPayload::Signers(keys),
                ..
            } => Ok((signed, keys)),
            // A parsed announcement always carries its signers' keys.
            _ => Err(Rejection::InvalidPayload {
                got: PayloadKind::SessionAnnounce,
                error: crate::crypto::CryptoError::InvalidPublicKey,
            }),
        }
    }

    /// Input: the time is `now`; runs every timer that is due.
    ///
    /// Calling it early is harmless: nothing is due, nothing changes. While the output
    /// queues are full ([`Config::max_queued_outputs`]) due timers wait for the next call.
    ///
    /// ```
    /// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
    /// use chorus_core::node::{Config, Event, Node, SessionSpec};
    /// use chorus_core::time::Timestamp;
    /// use std::time::Duration;
    ///
    /// let now = Timestamp::from_millis(1_700_000_000_000);
    /// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
    /// let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([2; 32]).unwrap());
    /// let mut node = Node::new(Config::default(), alice, [0; 32], now);
    /// let spec = SessionSpec::new(vec![alice.public_key(), bob.public_key()], [9; 32], Dialect::Lotus);
    /// let id = node.create_session(now, spec)?;
    ///
    /// // Bob never joins: ten minutes later the session is aborted as stuck.
    /// let (deadline, _) = node.poll_timeout().unwrap();
    /// assert_eq!(deadline, now.saturating_add(Duration::from_secs(600)));
    /// node.handle_timeout(deadline);
    /// assert!(std::iter::from_fn(|| node.poll_event())
    ///     .any(|event| matches!(event, Event::SessionAborted { .. })));
    /// # Ok::<(), chorus_core::node::CommandError>(())
    /// ```
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let now = self.advance_clock(now);
        self.discovery.handle_timeout(now);
        self.collect_discovery(now);
        self.forget_unannounced(now);
        while self.queued() < self.config.max_queued_outputs {
            let Some((_, kind)) = self.timers.pop_expired(now) else {
                return;
            };
            let Some(id) = kind.session().copied() else {
                continue;
            };
            let (sessions, mut io) = self.parts(now);
            let Some(session) = sessions.get_mut(&id) else {
                continue;
            };
            match session.on_timer(&mut io, kind) {
                TimerOutcome::Keep => session.drain_held(&mut io),
                TimerOutcome::Remove => {
                    sessions.remove(&id);
                    self.timers.cancel_session(&id);
                }
            }
        }
    }

    /// Output: the next message to send, if any.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Output: the next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Output: when to call [`Node::handle_timeout`] next, and for which timer.
    ///
    /// ```
    /// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
    /// use chorus_core::node::{Config, Node, SessionSpec};
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::timer::TimerKind;
    ///
    /// let now = Timestamp::from_millis(0);
    /// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
    /// let mut node = Node::new(Config::default(), alice, [0; 32], now);
    /// assert_eq!(node.poll_timeout(), None);
    /// let spec = SessionSpec::new(vec![alice.public_key()], [9; 32], Dialect::Bip340);
    /// let session = node.create_session(now, spec)?;
    /// // A lone signer completes at once; the broadcast failover timer is next.
    /// assert!(matches!(node.poll_timeout(), Some((_, TimerKind::BroadcastTimeout { attempt: 0, .. }))));
    /// assert!(node.final_signature(&session).is_some());
    /// # Ok::<(), chorus_core::node::CommandError>(())
    /// ```
    #[must_use]
    pub fn poll_timeout(&self) -> Option<(Timestamp, TimerKind)> {
        let sessions = self.timers.next();
        // Discovery's expiries (advertisements, requests, sessions never announced) are one
        // sweep: the cleanup timer.
        let cleanup = self.discovery_deadline().map(|at| (at, TimerKind::Cleanup));
        match (sessions, cleanup) {
            (Some(session), Some(cleanup)) if cleanup.0 < session.0 => Some(cleanup),
            (None, cleanup) => cleanup,
            (session, _) => session,
        }
    }

    /// A view of one session.
    pub fn session(&self, id: &SessionId) -> Option<SessionView<'_>> {
        self.sessions.get(id).map(SessionView::new)
    }

    /// The ids of every session the node keeps.
    pub fn session_ids(&self) -> impl Iterator<Item = SessionId> + '_ {
        self.sessions.keys().copied()
    }

    /// How many of `peer`'s messages were rejected, by kind.
    ///
    /// ```
    /// use chorus_core::crypto::{Keypair, SecretKey};
    /// use chorus_core::node::{Config, Node, PeerId, RejectionKind};
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::wire::Channel;
    ///
    /// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
    /// let mut node = Node::new(Config::default(), key, [0; 32], Timestamp::from_millis(0));
    /// let mallory = PeerId::new(*b"mallory");
    /// let _ = node.handle_message(Timestamp::from_millis(0), mallory.clone(), Channel::Gossip, &[]);
    /// let counts = node.rejections(&mallory).unwrap();
    /// assert_eq!(counts.count(RejectionKind::Decode), 1);
    /// ```
    pub fn rejections(&self, peer: &PeerId) -> Option<&PeerRejections> {
        self.counters.get(peer)
    }

    /// A digest of the node's state: sessions (phases, rounds, held messages, replay
    /// windows), timers, queued outputs, the remembered nonces, the position of the random
    /// generator and discovery's state (in summary: the sizes and next expiries of its
    /// stores) — everything but the rejection counters, the peers' standing and security
    /// events those counters lead to, and the time of the latest input.
    ///
    /// Two equal digests mean equal state, which is how tests show that a rejected input
    /// changed nothing.
    ///
    /// ```
    /// use chorus_core::crypto::{Keypair, SecretKey};
    /// use chorus_core::node::{Config, Node, PeerId};
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::wire::Channel;
    ///
    /// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
    /// let mut node = Node::new(Config::default(), key, [0; 32], Timestamp::from_millis(0));
    /// let before = node.state_digest();
    /// assert!(node.handle_message(Timestamp::from_millis(5), PeerId::new([9]), Channel::Direct, b"junk").is_err());
    /// assert_eq!(node.state_digest(), before);
    /// ```
    pub fn state_digest(&self) -> [u8; 32] {
        let rendering = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}",
            self.sessions,
            self.timers,
            self.transmits,
            self.events,
            self.nonces,
            self.rng.get_word_pos(),
            self.discovery_rendering(),
        );
        Sha256::digest(rendering.as_bytes()).into()
    }

    fn command_session(
        &mut self,
        now: Timestamp,
        id: &SessionId,
        command: impl FnOnce(&mut Session, &mut Io<'_>) -> Result<(), CommandError>,
    ) -> Result<(), CommandError> {
        let now = self.advance_clock(now);
        let queued = self.queued();
        let limit = self.config.max_queued_outputs;
        if queued >= limit {
            return Err(CommandError::Backpressure { limit, queued });
        }
        let (sessions, mut io) = self.parts(now);
        let session = sessions
            .get_mut(id)
            .ok_or(CommandError::UnknownSession { session: *id })?;
        command(session, &mut io)?;
        session.drain_held(&mut io);
        Ok(())
    }

    /// Command: creates a session and announces it to the other signers; this node is its
    /// creator and has joined.
    ///
    /// ```
    /// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
    /// use chorus_core::node::{CommandError, Config, Event, Node, SessionSpec};
    /// use chorus_core::time::Timestamp;
    ///
    /// let now = Timestamp::from_millis(0);
    /// let key = |byte| Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap());
    /// let mut node = Node::new(Config::default(), key(1), [0; 32], now);
    /// let signers = vec![key(1).public_key(), key(2).public_key(), key(3).public_key()];
    /// let id = node.create_session(now, SessionSpec::new(signers, [9; 32], Dialect::Bip340))?;
    /// assert_eq!(node.poll_event(), Some(Event::SessionCreated { session: id }));
    /// // The announcement goes to the two other signers.
    /// assert_eq!(std::iter::from_fn(|| node.poll_transmit()).count(), 2);
    ///
    /// let strangers = vec![key(4).public_key()];
    /// assert_eq!(
    ///     node.create_session(now, SessionSpec::new(strangers, [9; 32], Dialect::Bip340)),
    ///     Err(CommandError::NotASigner)
    /// );
    /// # Ok::<(), CommandError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CommandError::InvalidOptions`] for a broadcast timeout outside
    /// [`MIN_BROADCAST_TIMEOUT_MS`](crate::wire::MIN_BROADCAST_TIMEOUT_MS) to
    /// [`MAX_BROADCAST_TIMEOUT_MS`](crate::wire::MAX_BROADCAST_TIMEOUT_MS),
    /// [`CommandError::InvalidSigners`] for an empty or too long list or a key listed
    /// twice, [`CommandError::NotASigner`] when this node's key is missing,
    /// [`CommandError::TooManySessions`], [`CommandError::Backpressure`].
    pub fn create_session(
        &mut self,
        now: Timestamp,
        spec: SessionSpec,
    ) -> Result<SessionId, CommandError> {
        self.start_session(now, spec, None)
    }

    /// [`Node::create_session`], with the session id `fixed` (one that every participant of
    /// a signing request derived) instead of a fresh random one.
    pub(super) fn start_session(
        &mut self,
        now: Timestamp,
        spec: SessionSpec,
        fixed: Option<SessionId>,
    ) -> Result<SessionId, CommandError> {
        let now = self.advance_clock(now);
        let queued = self.queued();
        let limit = self.config.max_queued_outputs;
        if queued >= limit {
            return Err(CommandError::Backpressure { limit, queued });
        }
        spec.options
            .validate()
            .map_err(CommandError::InvalidOptions)?;
        let announce = SessionAnnounce::new(
            &spec.signers,
            spec.message,
            spec.dialect,
            spec.election,
            spec.options,
        )
        .map_err(CommandError::InvalidSigners)?;
        let own_key = self.identity.public_key();
        let me = announce
            .signer_index(&own_key.serialize())
            .ok_or(CommandError::NotASigner)?;
        if self.sessions.len() >= self.config.max_sessions {
            return Err(CommandError::TooManySessions {
                limit: self.config.max_sessions,
            });
        }
        let id = match fixed {
            Some(id) if self.sessions.contains_key(&id) => return Err(CommandError::AlreadyDone),
            Some(id) => id,
            None => loop {
                let mut salt = [0u8; 32];
                self.rng.fill_bytes(&mut salt);
                let id = session_id(&own_key, &announce, &salt);
                if !self.sessions.contains_key(&id) {
                    break id;
                }
            },
        };
        let mut keys = spec.signers;
        keys.sort_unstable_by_key(PublicKey::serialize);
        let (ctx, election) = prepare(&mut self.groups, &announce, &keys, &id)?;
        let mut aux = [0u8; 32];
        self.rng.fill_bytes(&mut aux);
        let envelope = Envelope::new(
            id,
            &own_key,
            Sequence(1),
            now,
            Payload::SessionAnnounce(announce.clone()),
        );
        let announce_envelope = SignedEnvelope::seal(envelope, &self.identity, &aux);
        let bytes = announce_envelope.encode();
        let parts = SessionParts {
            id,
            announce,
            announce_envelope,
            keys,
            ctx,
            election,
            me,
            creator: me,
            progress: spec.progress,
        };
        let (sessions, mut io) = self.parts(now);
        let mut session = Session::new(parts, &mut io);
        session.send_to_others(&mut io, &bytes);
        io.emit(Event::SessionCreated { session: id });
        if session.signers() == 1 {
            session.declare_ready(&mut io);
            session.advance(&mut io);
        }
        sessions.insert(id, session);
        Ok(id)
    }

    /// Command: joins a session another signer announced
    /// ([`Event::SessionAnnounced`]), sending a key-ownership proof to its creator.
    ///
    /// # Errors
    ///
    /// [`CommandError::UnknownSession`], [`CommandError::AlreadyDone`] (joined before, or
    /// the creator), [`CommandError::WrongPhase`], [`CommandError::Backpressure`].
    pub fn join_session(
        &mut self,
        now: Timestamp,
        id: &SessionId,
        progress: Progress,
    ) -> Result<(), CommandError> {
        self.command_session(now, id, |session, io| session.join(io, progress))
    }

    /// Command: round 1 by hand (with [`Progress::Manual`]): commit to or share this
    /// node's fresh nonce.
    ///
    /// # Errors
    ///
    /// [`CommandError::WrongPhase`] before the session is ready or after round 1,
    /// [`CommandError::AlreadyDone`], [`CommandError::UnknownSession`].
    pub fn start_round1(&mut self, now: Timestamp, id: &SessionId) -> Result<(), CommandError> {
        self.command_session(now, id, Session::start_round1)
    }

    /// Command: round 2 by hand (with [`Progress::Manual`], after
    /// [`Event::NoncesComplete`]): sign and send the partial signature.
    ///
    /// # Errors
    ///
    /// [`CommandError::WrongPhase`] outside round 2, [`CommandError::AlreadyDone`],
    /// [`CommandError::UnknownSession`].
    pub fn start_round2(&mut self, now: Timestamp, id: &SessionId) -> Result<(), CommandError> {
        self.command_session(now, id, Session::start_round2)
    }

    /// Command: this node broadcast the transaction `transaction_id`; every signer is told
    /// and stops its failover timers ([`Event::BroadcastConfirmed`]).
    ///
    /// ```
    /// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
    /// use chorus_core::node::{CommandError, Config, Event, Node, SessionSpec};
    /// use chorus_core::time::Timestamp;
    ///
    /// let now = Timestamp::from_millis(0);
    /// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
    /// let mut node = Node::new(Config::default(), alice, [0; 32], now);
    /// let spec = SessionSpec::new(vec![alice.public_key()], [9; 32], Dialect::Lotus);
    /// let id = node.create_session(now, spec)?;
    /// assert!(std::iter::from_fn(|| node.poll_event())
    ///     .any(|event| matches!(event, Event::ShouldBroadcast { attempt: 0, .. })));
    ///
    /// node.notify_broadcast_complete(now, &id, &[0xab; 32])?;
    /// assert!(matches!(node.poll_event(), Some(Event::BroadcastConfirmed { .. })));
    /// assert_eq!(node.session(&id).unwrap().confirmed_transaction(), Some(&[0xab; 32][..]));
    /// assert_eq!(node.notify_broadcast_complete(now, &id, b"again"), Err(CommandError::AlreadyDone));
    /// # Ok::<(), CommandError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CommandError::TransactionIdLength`], [`CommandError::WrongPhase`] before the
    /// session is complete, [`CommandError::AlreadyDone`], [`CommandError::UnknownSession`].
    pub fn notify_broadcast_complete(
        &mut self,
        now: Timestamp,
        id: &SessionId,
        transaction_id: &[u8],
    ) -> Result<(), CommandError> {
        self.command_session(now, id, |session, io| {
            session.notify_broadcast_complete(io, transaction_id)
        })
    }

    /// Command: closes a session; if it was still running, the other signers are sent an
    /// abort.
    ///
    /// ```
    /// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
    /// use chorus_core::node::{Config, Event, Node, PhaseKind, SessionSpec};
    /// use chorus_core::time::Timestamp;
    ///
    /// let now = Timestamp::from_millis(0);
    /// let key = |byte| Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap());
    /// let mut node = Node::new(Config::default(), key(1), [0; 32], now);
    /// let signers = vec![key(1).public_key(), key(2).public_key()];
    /// let id = node.create_session(now, SessionSpec::new(signers, [9; 32], Dialect::Bip340))?;
    /// node.close_session(now, &id)?;
    /// assert_eq!(node.session(&id).unwrap().phase(), PhaseKind::Closed);
    /// assert!(std::iter::from_fn(|| node.poll_event()).any(|event| event == Event::SessionClosed { session: id }));
    /// assert!(node.close_session(now, &id).is_err());
    /// # Ok::<(), chorus_core::node::CommandError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CommandError::WrongPhase`] when it is already closed, aborted or expired,
    /// [`CommandError::UnknownSession`].
    pub fn close_session(&mut self, now: Timestamp, id: &SessionId) -> Result<(), CommandError> {
        self.command_session(now, id, Session::close)
    }

    /// The final signature of a completed session.
    pub fn final_signature(&self, id: &SessionId) -> Option<crate::crypto::Signature> {
        self.session(id).and_then(|view| view.final_signature())
    }
}

/// The key aggregation and election of a session over `keys` (the announced signers,
/// parsed, in the announced order).
fn prepare(
    groups: &mut GroupCache,
    announce: &SessionAnnounce,
    keys: &[PublicKey],
    id: &SessionId,
) -> Result<(KeyAggContext, ElectionResult), crate::crypto::CryptoError> {
    use crate::crypto::CryptoError;
    let ctx = groups.context(announce.dialect, &announce.signers, keys)?;
    // A session lists 1 to MAX_SIGNERS keys, so the election (which fails only on an empty
    // list) cannot fail here.
    let election = elect(announce.election, keys, Some(id.as_bytes()))
        .map_err(|_| CryptoError::EmptyKeyList)?;
    Ok((ctx, election))
}

/// `SHA256(SHA256(tag) ‖ SHA256(tag) ‖ creator ‖ postcard(announce) ‖ salt)`: unique per
/// session, and it names the creator and what is signed.
fn session_id(creator: &PublicKey, announce: &SessionAnnounce, salt: &[u8; 32]) -> SessionId {
    let tag = Sha256::digest(b"chorus/session-id/v1");
    let encoded = postcard::to_allocvec(announce).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(tag);
    hasher.update(tag);
    hasher.update(creator.serialize());
    hasher.update(&encoded);
    hasher.update(salt);
    SessionId(hasher.finalize().into())
}
