//! Discovery inside the node (SPEC §4): advertise, find signers, announce and join signing
//! requests, and turn a fully joined request into a session.
//!
//! When every required key has joined a request, every participant derives the same
//! [`SessionParameters`]. The creator's node then creates the session under the derived id
//! and announces it, as [`Node::create_session`] does; every other participant's node joins
//! that announcement by itself — but only if it is exactly the session the request
//! described (signers, message, dialect, election, options, creator). A creator cannot
//! swap the message after the signers agreed.

use core::time::Duration;

use rand_chacha::rand_core::RngCore;

use crate::discovery::{
    AdvertisementSpec, AdvertisementWithdrawal, Discovery, DiscoveryEvent, Outbound, RequestId,
    RequestSpec, SessionParameters, SignerAdvertisement, SignerFilter, SigningRequest,
};
use crate::security::SecurityManager;
use crate::time::Timestamp;
use crate::wire::{Channel, SessionId};

use super::config::{Progress, SessionSpec};
use super::error::{CommandError, Rejection};
use super::event::PeerId;
use super::node_impl::Node;
use super::session::Session;

/// A session this node agreed to through discovery, waiting for its creator's
/// announcement.
#[derive(Debug, Clone)]
pub(crate) struct Awaited {
    parameters: SessionParameters,
    progress: Progress,
    /// When the node gives up waiting (the stuck timeout after the request completed).
    deadline: Timestamp,
}

impl Node {
    /// The peer id this node advertises and joins from ([`Config::peer_id`](super::Config::peer_id)).
    pub fn peer_id(&self) -> &PeerId {
        self.discovery.local_peer()
    }

    /// Discovery's state: the signer directory and the book of pending signing requests.
    pub fn discovery(&self) -> &Discovery {
        &self.discovery
    }

    /// The security manager: every peer's standing, and a counter for every kind of
    /// rejected discovery input.
    pub fn security(&self) -> &SecurityManager {
        self.discovery.security()
    }

    /// Command: advertises this node's key ([`DiscoveryEvent::SignerAdvertised`]), on the
    /// topic of each transaction type and as a DHT record.
    ///
    /// ```
    /// use chorus_core::crypto::{Keypair, SecretKey};
    /// use chorus_core::discovery::{AdvertisementSpec, Destination, SignerCriteria};
    /// use chorus_core::node::{Config, Node};
    /// use chorus_core::time::Timestamp;
    /// use std::time::Duration;
    ///
    /// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
    /// let mut node = Node::new(Config::default(), key, [0; 32], Timestamp::from_millis(0));
    /// let spec = AdvertisementSpec::new(SignerCriteria::new(["spend"]), Duration::from_secs(3_600));
    /// node.advertise(Timestamp::from_millis(0), spec)?;
    /// let outbound = node.poll_discovery_transmit().unwrap();
    /// assert_eq!(outbound.destination, Destination::Topic("chorus/signers/v1/spend".into()));
    /// # Ok::<(), chorus_core::node::CommandError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CommandError::Discovery`]: within the advertisement interval of the last one, a
    /// bound of the advertisement; [`CommandError::Backpressure`].
    pub fn advertise(
        &mut self,
        now: Timestamp,
        spec: AdvertisementSpec,
    ) -> Result<SignerAdvertisement, CommandError> {
        let now = self.begin_command(now)?;
        let (aux, position) = self.draw_aux();
        let advertisement = self
            .discovery
            .advertise(now, &self.identity, spec, &aux)
            .inspect_err(|_| self.rng.set_word_pos(position))?;
        self.collect_discovery(now);
        Ok(advertisement)
    }

    /// Command: withdraws this node's advertisement, signed by its key.
    ///
    /// # Errors
    ///
    /// [`CommandError::Discovery`] when nothing is advertised;
    /// [`CommandError::Backpressure`].
    pub fn withdraw_advertisement(
        &mut self,
        now: Timestamp,
    ) -> Result<AdvertisementWithdrawal, CommandError> {
        let now = self.begin_command(now)?;
        let (aux, position) = self.draw_aux();
        let withdrawal = self
            .discovery
            .withdraw(now, &self.identity, &aux)
            .inspect_err(|_| self.rng.set_word_pos(position))?;
        self.collect_discovery(now);
        Ok(withdrawal)
    }

    /// The discovered signers that pass `filter`.
    pub fn find_signers(&self, now: Timestamp, filter: &SignerFilter) -> Vec<SignerAdvertisement> {
        self.discovery.find_signers(now, filter)
    }

    /// Command: announces a signing request created by this node, whose key must be among
    /// `spec.required_keys` (in any order); `progress` is how this node will move through
    /// the session's rounds.
    ///
    /// # Errors
    ///
    /// [`CommandError::Discovery`] (this node's key not required, a key listed twice, a
    /// bound, its own pending quota); [`CommandError::TooManySessions`] when this node
    /// already waits on as many requests as it may keep sessions;
    /// [`CommandError::Backpressure`].
    pub fn announce_request(
        &mut self,
        now: Timestamp,
        spec: RequestSpec,
        progress: Progress,
    ) -> Result<RequestId, CommandError> {
        let now = self.begin_command(now)?;
        self.check_agreement_room()?;
        let (aux, position) = self.draw_aux();
        let id = self
            .discovery
            .announce_request(now, &self.identity, spec, &aux)
            .inspect_err(|_| self.rng.set_word_pos(position))?;
        self.agreed.insert(id, progress);
        self.collect_discovery(now);
        Ok(id)
    }

    /// The pending signing requests that need this node's key and that it has not joined.
    pub fn requests_for_me(&self, now: Timestamp) -> Vec<&SigningRequest> {
        self.discovery
            .requests_for(now, &self.identity.public_key())
    }

    /// Command: joins signing request `request` with a signed proof naming this node's
    /// peer id; `progress` is how this node will move through the session's rounds.
    ///
    /// # Errors
    ///
    /// [`CommandError::Discovery`] (unknown or expired request, this node's key not
    /// required, joined already); [`CommandError::TooManySessions`];
    /// [`CommandError::Backpressure`].
    pub fn join_request(
        &mut self,
        now: Timestamp,
        request: &RequestId,
        progress: Progress,
    ) -> Result<(), CommandError> {
        let now = self.begin_command(now)?;
        if !self.agreed.contains_key(request) {
            self.check_agreement_room()?;
        }
        let (aux, position) = self.draw_aux();
        let previous = self.agreed.insert(*request, progress);
        if let Err(error) = self
            .discovery
            .join_request(now, &self.identity, request, &aux)
        {
            self.rng.set_word_pos(position);
            match previous {
                Some(progress) => self.agreed.insert(*request, progress),
                None => self.agreed.remove(request),
            };
            return Err(error.into());
        }
        self.collect_discovery(now);
        Ok(())
    }

    /// Blacklists `peer` by hand: its advertisements and pending requests are dropped and
    /// everything it sends is refused.
    pub fn blacklist(&mut self, now: Timestamp, peer: &PeerId) {
        self.discovery.blacklist(now, peer);
        self.collect_discovery(now);
    }

    /// Takes `peer` off the blacklist; false if it was not on it.
    pub fn unblacklist(&mut self, peer: &PeerId) -> bool {
        let lifted = self.discovery.unblacklist(peer);
        self.collect_discovery(self.clock);
        lifted
    }

    /// Graylists `peer` by hand for `duration`.
    pub fn graylist(&mut self, now: Timestamp, peer: &PeerId, duration: Duration) {
        self.discovery.graylist(now, peer, duration);
        self.collect_discovery(now);
    }

    /// Output: the next discovery record to publish (to a topic, the DHT or a peer).
    #[must_use]
    pub fn poll_discovery_transmit(&mut self) -> Option<Outbound> {
        self.discovery.poll_outbound()
    }

    /// Output: the next discovery or security event.
    #[must_use]
    pub fn poll_discovery_event(&mut self) -> Option<DiscoveryEvent> {
        self.discovery_events.pop_front()
    }

    /// Input: a discovery record (its first byte is
    /// [`DISCOVERY_FORMAT`](crate::discovery::DISCOVERY_FORMAT)).
    pub(super) fn receive_discovery(
        &mut self,
        now: Timestamp,
        from: &PeerId,
        channel: Channel,
        bytes: &[u8],
    ) -> Result<(), Rejection> {
        self.discovery
            .handle_message(now, from, channel, bytes)
            .map_err(Rejection::from)
    }

    /// Moves discovery's events to the node's queue, acting on the sessions they make.
    pub(super) fn collect_discovery(&mut self, now: Timestamp) {
        while let Some(event) = self.discovery.poll_event() {
            let ready = match &event {
                DiscoveryEvent::SessionReady(parameters) => Some(parameters.clone()),
                DiscoveryEvent::RequestExpired { request }
                | DiscoveryEvent::RequestEvicted { request } => {
                    self.agreed.remove(request);
                    None
                }
                _ => None,
            };
            self.discovery_events.push_back(event);
            if let Some(parameters) = ready {
                self.on_session_ready(now, parameters);
            }
        }
    }

    /// A request this node created or joined is complete: the creator creates the session,
    /// the others wait for its announcement.
    fn on_session_ready(&mut self, now: Timestamp, parameters: SessionParameters) {
        let Some(progress) = self.agreed.remove(&parameters.request) else {
            return;
        };
        let (request, session) = (parameters.request, parameters.session);
        if parameters.creator == self.identity.public_key() {
            let spec = SessionSpec {
                signers: parameters.signers,
                message: parameters.message,
                dialect: parameters.dialect,
                election: parameters.election,
                options: parameters.options,
                progress,
            };
            if self.start_session(now, spec, Some(session)).is_err() {
                self.discovery_events
                    .push_back(DiscoveryEvent::SessionNotStarted { request, session });
            }
            return;
        }
        let deadline = now.saturating_add(self.config().stuck_timeout);
        let awaited = Awaited {
            parameters,
            progress,
            deadline,
        };
        self.awaited.insert(session, awaited);
        self.join_if_awaited(now, session);
    }

    /// Joins session `id` if this node agreed to it through discovery and its creator
    /// announced it as the request described.
    pub(super) fn join_if_awaited(&mut self, now: Timestamp, id: SessionId) {
        let Some(awaited) = self.awaited.get(&id) else {
            return;
        };
        let Some(session) = self.sessions.get(&id) else {
            return;
        };
        let matches = announced_as_requested(session, &awaited.parameters);
        let (request, progress) = (awaited.parameters.request, awaited.progress);
        self.awaited.remove(&id);
        if !matches {
            self.discovery_events
                .push_back(DiscoveryEvent::AnnouncementMismatch {
                    request,
                    session: id,
                });
            return;
        }
        let (sessions, mut io) = self.parts(now);
        if let Some(session) = sessions.get_mut(&id) {
            // A session that moved on without this node (aborted, expired) is not joined.
            if session.join(&mut io, progress).is_ok() {
                session.drain_held(&mut io);
            }
        }
    }

    /// Gives up on awaited sessions whose creator never announced them.
    pub(super) fn forget_unannounced(&mut self, now: Timestamp) {
        self.awaited.retain(|_, awaited| awaited.deadline > now);
    }

    /// When discovery next has something to expire.
    pub(super) fn discovery_deadline(&self) -> Option<Timestamp> {
        let awaited = self.awaited.values().map(|awaited| awaited.deadline).min();
        self.discovery
            .poll_timeout()
            .into_iter()
            .chain(awaited)
            .min()
    }

    /// Discovery's part of [`Node::state_digest`]: the stores in summary (their records are
    /// many), the node's own bookkeeping in full, and the queued events but the security
    /// events (consequences of rejection counters, which the digest leaves out).
    pub(super) fn discovery_rendering(&self) -> String {
        let directory = self.discovery.directory();
        let book = self.discovery.book();
        let events: Vec<&DiscoveryEvent> = self
            .discovery_events
            .iter()
            .filter(|event| !matches!(event, DiscoveryEvent::Security(_)))
            .collect();
        format!(
            "{}/{}/{:?}|{}/{}/{:?}|{}|{:?}|{:?}|{:?}",
            directory.len(),
            directory.memory(),
            directory.next_expiry(),
            book.len(),
            book.memory(),
            book.next_expiry(),
            self.discovery.queued(),
            events,
            self.agreed,
            self.awaited,
        )
    }

    fn begin_command(&mut self, now: Timestamp) -> Result<Timestamp, CommandError> {
        let now = self.clock.max(now);
        self.clock = now;
        let queued = self.queued();
        let limit = self.config().max_queued_outputs;
        if queued >= limit {
            return Err(CommandError::Backpressure { limit, queued });
        }
        Ok(now)
    }

    /// Room for one more request this node waits on: no more than it may keep sessions.
    fn check_agreement_room(&self) -> Result<(), CommandError> {
        let limit = self.config().max_sessions;
        if self.agreed.len() >= limit {
            return Err(CommandError::TooManySessions { limit });
        }
        Ok(())
    }

    fn random_32(&mut self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        self.rng.fill_bytes(&mut bytes);
        bytes
    }

    /// Fresh signing randomness, and the generator's position before it was drawn: a
    /// command that fails afterwards rewinds to it, so that it changes nothing (the state
    /// digest covers the position).
    fn draw_aux(&mut self) -> ([u8; 32], u128) {
        let position = self.rng.get_word_pos();
        (self.random_32(), position)
    }
}

/// Whether `session`, as its creator announced it, is the one `parameters` describe.
fn announced_as_requested(session: &Session, parameters: &SessionParameters) -> bool {
    let announce = &session.announce;
    session.keys == parameters.signers
        && session.keys.get(session.creator) == Some(&parameters.creator)
        && announce.message == parameters.message
        && announce.dialect == parameters.dialect
        && announce.election == parameters.election
        && announce.options == parameters.options
}
