//! [`Discovery`]: the directory, the request book and the security manager behind one
//! sans-IO input/output surface.

use core::time::Duration;
use std::collections::{BTreeMap, VecDeque};

use super::{
    signer_record_key, signer_topic, AdvertisementContent, AdvertisementWithdrawal, Destination,
    DiscoveryError, DiscoveryMessage, JoinOutcome, JoinProof, RequestBook, RequestContent,
    RequestId, RequestMetadata, SessionParameters, SignerAdvertisement, SignerCriteria,
    SignerDirectory, SignerFilter, SignerMetadata, SigningRequest, REQUEST_TOPIC,
};
use crate::crypto::{Dialect, Keypair, PublicKey};
use crate::election::ElectionMethod;
use crate::node::PeerId;
use crate::security::{
    RejectionKind, SecurityError, SecurityEvent, SecurityLimits, SecurityManager,
};
use crate::time::Timestamp;
use crate::wire::{Channel, SessionId, SessionOptions};

/// What a signer advertises: [`Discovery::advertise`]'s argument.
///
/// ```
/// use chorus_core::discovery::{AdvertisementSpec, SignerCriteria};
/// use std::time::Duration;
///
/// let spec = AdvertisementSpec::new(SignerCriteria::new(["spend"]), Duration::from_secs(3_600));
/// assert!(spec.metadata.nickname.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvertisementSpec {
    /// Which transactions the signer co-signs.
    pub criteria: SignerCriteria,
    /// How it presents itself.
    pub metadata: SignerMetadata,
    /// How long the advertisement lives.
    pub lifetime: Duration,
}

impl AdvertisementSpec {
    /// Advertises `criteria` for `lifetime`, with empty metadata.
    pub fn new(criteria: SignerCriteria, lifetime: Duration) -> Self {
        AdvertisementSpec {
            criteria,
            metadata: SignerMetadata::default(),
            lifetime,
        }
    }
}

/// What a creator requests: [`Discovery::announce_request`]'s argument.
///
/// `required_keys` may be in any order and must include the creator's key.
///
/// ```
/// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
/// use chorus_core::discovery::RequestSpec;
/// use chorus_core::election::ElectionMethod;
/// use std::time::Duration;
///
/// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap()).public_key();
/// let spec = RequestSpec { election: ElectionMethod::Salted, ..RequestSpec::new(vec![key], [0; 32], Dialect::Lotus, Duration::from_secs(60)) };
/// assert_eq!(spec.election, ElectionMethod::Salted);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    /// Every key that must sign, the creator's included, in any order.
    pub required_keys: Vec<PublicKey>,
    /// The 32-byte message to sign.
    pub message: [u8; 32],
    /// The Schnorr dialect of the final signature.
    pub dialect: Dialect,
    /// How the session elects its coordinator.
    pub election: ElectionMethod,
    /// Nonce commitments, topology and broadcast timeout of the session.
    pub options: SessionOptions,
    /// What the signers are told about the transaction.
    pub metadata: RequestMetadata,
    /// How long the request can be joined.
    pub lifetime: Duration,
}

impl RequestSpec {
    /// A request with the default election method and options, and empty metadata.
    pub fn new(
        required_keys: Vec<PublicKey>,
        message: [u8; 32],
        dialect: Dialect,
        lifetime: Duration,
    ) -> Self {
        RequestSpec {
            required_keys,
            message,
            dialect,
            election: ElectionMethod::default(),
            options: SessionOptions::default(),
            metadata: RequestMetadata::default(),
            lifetime,
        }
    }
}

/// One encoded [`DiscoveryMessage`] and where it goes.
///
/// ```
/// use chorus_core::discovery::{Destination, Outbound, REQUEST_TOPIC};
///
/// let outbound = Outbound { destination: Destination::Topic(REQUEST_TOPIC.into()), bytes: vec![0xd1] };
/// assert_eq!(outbound.bytes.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// Where to send it.
    pub destination: Destination,
    /// The encoded message (it fits a gossip message).
    pub bytes: Vec<u8>,
}

/// Something that happened in discovery, for the application.
///
/// ```
/// use chorus_core::discovery::{DiscoveryEvent, RequestId};
///
/// let event = DiscoveryEvent::RequestExpired { request: RequestId([1; 32]) };
/// assert!(matches!(event, DiscoveryEvent::RequestExpired { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiscoveryEvent {
    /// This node published an advertisement.
    SignerAdvertised {
        /// The advertised key.
        key: PublicKey,
    },
    /// Another signer's advertisement was added to (or refreshed in) the directory.
    SignerDiscovered {
        /// The signer's key.
        key: PublicKey,
        /// Its peer.
        peer: PeerId,
    },
    /// An advertisement was withdrawn (by this node or, signed, by its signer).
    SignerWithdrawn {
        /// The signer's key.
        key: PublicKey,
    },
    /// An advertisement in the directory expired.
    SignerExpired {
        /// The signer's key.
        key: PublicKey,
    },
    /// This node announced a signing request.
    RequestCreated {
        /// The request.
        request: RequestId,
    },
    /// Another node's signing request arrived; see [`Discovery::requests_for`].
    RequestReceived {
        /// The request.
        request: RequestId,
        /// Its creator.
        creator: PublicKey,
    },
    /// This node joined a signing request.
    RequestJoined {
        /// The request.
        request: RequestId,
    },
    /// Another signer joined a signing request.
    ParticipantJoined {
        /// The request.
        request: RequestId,
        /// The joining key.
        key: PublicKey,
        /// The peer it joined from.
        peer: PeerId,
    },
    /// Every required key joined: the session every participant derives.
    SessionReady(SessionParameters),
    /// A pending request expired before every key joined.
    RequestExpired {
        /// The request.
        request: RequestId,
    },
    /// A pending request was evicted to make room for a newer one.
    RequestEvicted {
        /// The request.
        request: RequestId,
    },
    /// A peer's standing changed.
    Security(SecurityEvent),
    /// The node could not start the session of a request it created (its session table is
    /// full, or its output queues are).
    SessionNotStarted {
        /// The request.
        request: RequestId,
        /// The session it would have become.
        session: SessionId,
    },
    /// The creator announced the session of a request this node joined, but not as the
    /// request described it (other signers, message, dialect, election or options); the
    /// node did not join it.
    AnnouncementMismatch {
        /// The request.
        request: RequestId,
        /// The session.
        session: SessionId,
    },
}

/// Discovery for one node: the [`SignerDirectory`], the [`RequestBook`] and the
/// [`SecurityManager`] behind one sans-IO surface.
///
/// Inputs are bytes from peers ([`Discovery::handle_message`]), the application's commands
/// ([`Discovery::advertise`], [`Discovery::announce_request`], …) and the time
/// ([`Discovery::handle_timeout`]); outputs wait in bounded queues for
/// [`Discovery::poll_outbound`] and [`Discovery::poll_event`]. Every refused input is a
/// typed [`DiscoveryError`], changes nothing but the sender's standing, and is counted
/// under its [`RejectionKind`](crate::security::RejectionKind); input from a blacklisted or
/// graylisted peer is refused before it is even decoded. A blacklisted peer's
/// advertisements and pending requests are dropped.
///
/// The module documentation shows three nodes running the whole flow.
///
/// ```
/// use chorus_core::discovery::{Discovery, DiscoveryError};
/// use chorus_core::node::PeerId;
/// use chorus_core::security::{RejectionKind, SecurityLimits};
/// use chorus_core::time::Timestamp;
/// use chorus_core::wire::Channel;
///
/// let mut discovery = Discovery::new(SecurityLimits::default(), PeerId::new(*b"me"));
/// let mallory = PeerId::new(*b"mallory");
/// let error = discovery.handle_message(Timestamp::from_millis(0), &mallory, Channel::Gossip, b"junk");
/// assert!(matches!(error, Err(DiscoveryError::UnknownFormat { .. })));
/// assert_eq!(discovery.security().metrics().rejections(RejectionKind::Malformed), 1);
/// ```
#[derive(Debug, Clone)]
pub struct Discovery {
    local_peer: PeerId,
    security: SecurityManager,
    directory: SignerDirectory,
    book: RequestBook,
    own_advertisements: BTreeMap<[u8; 33], SignerAdvertisement>,
    last_own_advertisement: Option<Timestamp>,
    outbound: VecDeque<Outbound>,
    events: VecDeque<DiscoveryEvent>,
}

impl Discovery {
    /// Discovery for the node reachable as `local_peer`, with `limits`.
    pub fn new(limits: SecurityLimits, local_peer: PeerId) -> Self {
        Discovery {
            local_peer,
            directory: SignerDirectory::new(
                limits.max_directory_entries,
                limits.max_directory_memory,
                limits.max_clock_skew,
            ),
            book: RequestBook::new(
                limits.max_pending_requests,
                limits.max_pending_requests_per_peer,
                limits.max_pending_memory,
                limits.max_clock_skew,
            ),
            security: SecurityManager::new(limits),
            own_advertisements: BTreeMap::new(),
            last_own_advertisement: None,
            outbound: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The peer id this node joins and advertises from.
    pub fn local_peer(&self) -> &PeerId {
        &self.local_peer
    }

    /// The security manager (counters, standings).
    pub fn security(&self) -> &SecurityManager {
        &self.security
    }

    /// The directory of discovered signers.
    pub fn directory(&self) -> &SignerDirectory {
        &self.directory
    }

    /// The book of pending signing requests.
    pub fn book(&self) -> &RequestBook {
        &self.book
    }

    /// The next outbound record, oldest first.
    pub fn poll_outbound(&mut self) -> Option<Outbound> {
        self.outbound.pop_front()
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<DiscoveryEvent> {
        self.events.pop_front()
    }

    /// When [`Discovery::handle_timeout`] has something to expire.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let directory = self.directory.next_expiry();
        let book = self.book.next_expiry();
        directory.into_iter().chain(book).min()
    }

    /// Expires advertisements and requests whose time has come (an early call is a
    /// harmless no-op).
    pub fn handle_timeout(&mut self, now: Timestamp) {
        for key in self.directory.prune_expired(now) {
            self.events.push_back(DiscoveryEvent::SignerExpired { key });
        }
        for request in self.book.prune_expired(now) {
            self.events
                .push_back(DiscoveryEvent::RequestExpired { request });
        }
        self.own_advertisements
            .retain(|_, advertisement| !advertisement.is_expired(now));
    }

    /// Handles bytes `from` a peer, received on `channel`.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::Backpressure`] while the output queues are full;
    /// [`SecurityError::Blacklisted`] or [`SecurityError::Graylisted`] before anything is
    /// decoded; whatever [`DiscoveryMessage::decode`] refuses; then what the record's store
    /// refuses (see [`Discovery::receive`]).
    pub fn handle_message(
        &mut self,
        now: Timestamp,
        from: &PeerId,
        channel: Channel,
        bytes: &[u8],
    ) -> Result<(), DiscoveryError> {
        self.check_backpressure()?;
        self.admit_peer(now, from)?;
        let message = DiscoveryMessage::decode(bytes, channel);
        let message = self.counted(now, from, message)?;
        self.receive(now, from, message)
    }

    /// Handles a record `from` a peer that the transport already decoded (a DHT record,
    /// say).
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::Backpressure`]; [`SecurityError::Blacklisted`] or
    /// [`SecurityError::Graylisted`]; for an advertisement [`SecurityError::RateLimited`],
    /// [`SecurityError::TooManyKeys`] and what [`SignerDirectory::insert`] refuses; for a
    /// withdrawal what [`SignerDirectory::withdraw`] refuses; for a request what
    /// [`RequestBook::insert`] refuses; for a join what [`RequestBook::join`] refuses.
    pub fn receive(
        &mut self,
        now: Timestamp,
        from: &PeerId,
        message: DiscoveryMessage,
    ) -> Result<(), DiscoveryError> {
        self.check_backpressure()?;
        self.admit_peer(now, from)?;
        let outcome = match message {
            DiscoveryMessage::Advertisement(advertisement) => {
                self.receive_advertisement(now, from, advertisement)
            }
            DiscoveryMessage::Withdrawal(withdrawal) => self.receive_withdrawal(withdrawal),
            DiscoveryMessage::Request(request) => self.receive_request(now, from, request),
            DiscoveryMessage::Join(proof) => self.receive_join(now, from, proof),
        };
        self.counted(now, from, outcome)?;
        self.security.record_accepted(now, from);
        Ok(())
    }

    fn receive_advertisement(
        &mut self,
        now: Timestamp,
        from: &PeerId,
        advertisement: SignerAdvertisement,
    ) -> Result<(), DiscoveryError> {
        let key = advertisement.key()?;
        // A copy of what is held (one advertisement travels on a topic per transaction
        // type) is a harmless duplicate, not a second advertisement within the interval.
        self.directory.check_fresh(&advertisement)?;
        self.security.check_advertisement(now, from, &key)?;
        self.directory.insert(now, advertisement, from)?;
        self.security.record_advertisement(now, from, &key);
        self.events.push_back(DiscoveryEvent::SignerDiscovered {
            key,
            peer: from.clone(),
        });
        Ok(())
    }

    fn receive_withdrawal(
        &mut self,
        withdrawal: AdvertisementWithdrawal,
    ) -> Result<(), DiscoveryError> {
        let removed = self.directory.withdraw(withdrawal)?;
        let key = removed.key()?;
        self.events
            .push_back(DiscoveryEvent::SignerWithdrawn { key });
        Ok(())
    }

    fn receive_request(
        &mut self,
        now: Timestamp,
        from: &PeerId,
        request: SigningRequest,
    ) -> Result<(), DiscoveryError> {
        let creator = request.creator()?;
        let admission = self.book.insert(now, request, from)?;
        for request in admission.evicted {
            self.events
                .push_back(DiscoveryEvent::RequestEvicted { request });
        }
        self.events.push_back(DiscoveryEvent::RequestReceived {
            request: admission.request,
            creator,
        });
        if let Some(parameters) = admission.ready {
            self.events
                .push_back(DiscoveryEvent::SessionReady(parameters));
        }
        Ok(())
    }

    fn receive_join(
        &mut self,
        now: Timestamp,
        from: &PeerId,
        proof: JoinProof,
    ) -> Result<(), DiscoveryError> {
        let key = proof.key()?;
        let request = proof.content.request;
        let outcome = self.book.join(now, proof, from)?;
        self.events.push_back(DiscoveryEvent::ParticipantJoined {
            request,
            key,
            peer: from.clone(),
        });
        if let JoinOutcome::Ready(parameters) = outcome {
            self.events
                .push_back(DiscoveryEvent::SessionReady(*parameters));
        }
        Ok(())
    }

    /// Advertises `keypair`'s key from this node, on the topic of each transaction type
    /// and as a DHT record.
    ///
    /// # Errors
    ///
    /// [`SecurityError::RateLimited`] within the advertisement interval of this node's last
    /// advertisement (peers would refuse it); [`SecurityError::TooManyKeys`] past the
    /// keys-per-peer limit (likewise); what [`SignerAdvertisement::validate`] refuses.
    pub fn advertise(
        &mut self,
        now: Timestamp,
        keypair: &Keypair,
        spec: AdvertisementSpec,
        aux_rand: &[u8; 32],
    ) -> Result<SignerAdvertisement, DiscoveryError> {
        let limits = self.security.limits();
        if let Some(last) = self.last_own_advertisement {
            let retry_at = last.saturating_add(limits.advertisement_interval);
            if now < retry_at {
                return Err(SecurityError::RateLimited { retry_at }.into());
            }
        }
        let key = keypair.public_key().serialize();
        if !self.own_advertisements.contains_key(&key)
            && self.own_advertisements.len() >= limits.max_keys_per_peer
        {
            return Err(SecurityError::TooManyKeys {
                limit: limits.max_keys_per_peer,
            }
            .into());
        }
        let content = AdvertisementContent::new(
            self.local_peer.clone(),
            spec.criteria,
            spec.metadata,
            now,
            spec.lifetime,
        );
        let advertisement = SignerAdvertisement::sign(content, keypair, aux_rand);
        advertisement.validate()?;
        self.last_own_advertisement = Some(now);
        self.own_advertisements.insert(key, advertisement.clone());
        let message = DiscoveryMessage::Advertisement(advertisement.clone());
        self.publish_signer_record(&advertisement, &message);
        self.events.push_back(DiscoveryEvent::SignerAdvertised {
            key: keypair.public_key(),
        });
        Ok(advertisement)
    }

    /// Withdraws this node's advertisement of `keypair`'s key, signed by that key, where
    /// the advertisement went.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::NotAdvertised`] when this node holds no unexpired advertisement
    /// of the key.
    pub fn withdraw(
        &mut self,
        now: Timestamp,
        keypair: &Keypair,
        aux_rand: &[u8; 32],
    ) -> Result<AdvertisementWithdrawal, DiscoveryError> {
        let key = keypair.public_key();
        let advertisement = self
            .own_advertisements
            .remove(&key.serialize())
            .filter(|advertisement| !advertisement.is_expired(now))
            .ok_or(DiscoveryError::NotAdvertised { key })?;
        let withdrawal = AdvertisementWithdrawal::sign(&advertisement, keypair, aux_rand);
        let message = DiscoveryMessage::Withdrawal(withdrawal.clone());
        self.publish_signer_record(&advertisement, &message);
        self.events
            .push_back(DiscoveryEvent::SignerWithdrawn { key });
        Ok(withdrawal)
    }

    /// The discovered signers that pass `filter` (see [`SignerDirectory::find`]).
    pub fn find_signers(&self, now: Timestamp, filter: &SignerFilter) -> Vec<SignerAdvertisement> {
        self.directory.find(now, filter)
    }

    /// Announces a signing request created by `keypair` on the request topic and as a DHT
    /// record; returns its id.
    ///
    /// # Errors
    ///
    /// What [`SigningRequest::validate`] refuses ([`DiscoveryError::CreatorNotRequired`]
    /// when `keypair`'s key is not required, [`DiscoveryError::DuplicateKeys`], a bound);
    /// what [`RequestBook::insert`] refuses (a duplicate, this node's own pending quota).
    pub fn announce_request(
        &mut self,
        now: Timestamp,
        keypair: &Keypair,
        spec: RequestSpec,
        aux_rand: &[u8; 32],
    ) -> Result<RequestId, DiscoveryError> {
        let mut content = RequestContent::new(
            &spec.required_keys,
            spec.message,
            spec.dialect,
            now,
            spec.lifetime,
        );
        content.election = spec.election;
        content.options = spec.options;
        content.metadata = spec.metadata;
        let request = SigningRequest::sign(content, keypair, aux_rand);
        let local_peer = self.local_peer.clone();
        let admission = self.book.insert(now, request.clone(), &local_peer)?;
        let id = admission.request;
        let bytes = DiscoveryMessage::Request(request).encode();
        self.outbound.push_back(Outbound {
            destination: Destination::Topic(REQUEST_TOPIC.into()),
            bytes: bytes.clone(),
        });
        self.outbound.push_back(Outbound {
            destination: Destination::DhtRecord { key: id.0 },
            bytes,
        });
        for request in admission.evicted {
            self.events
                .push_back(DiscoveryEvent::RequestEvicted { request });
        }
        self.events
            .push_back(DiscoveryEvent::RequestCreated { request: id });
        if let Some(parameters) = admission.ready {
            self.events
                .push_back(DiscoveryEvent::SessionReady(parameters));
        }
        Ok(id)
    }

    /// The pending requests that need `key` and that it has not joined yet.
    pub fn requests_for(&self, now: Timestamp, key: &PublicKey) -> Vec<&SigningRequest> {
        self.book.requests_for(now, key)
    }

    /// Joins `request` as `keypair`'s key from this node, publishing the proof on the
    /// request topic.
    ///
    /// # Errors
    ///
    /// What [`RequestBook::join`] refuses: [`DiscoveryError::UnknownRequest`],
    /// [`DiscoveryError::Expired`], [`DiscoveryError::NotRequired`],
    /// [`DiscoveryError::JoinReplayed`].
    pub fn join_request(
        &mut self,
        now: Timestamp,
        keypair: &Keypair,
        request: &RequestId,
        aux_rand: &[u8; 32],
    ) -> Result<JoinProof, DiscoveryError> {
        let proof = JoinProof::sign(*request, keypair, self.local_peer.clone(), aux_rand);
        let local_peer = self.local_peer.clone();
        let outcome = self.book.join(now, proof.clone(), &local_peer)?;
        self.outbound.push_back(Outbound {
            destination: Destination::Topic(REQUEST_TOPIC.into()),
            bytes: DiscoveryMessage::Join(proof.clone()).encode(),
        });
        self.events
            .push_back(DiscoveryEvent::RequestJoined { request: *request });
        if let JoinOutcome::Ready(parameters) = outcome {
            self.events
                .push_back(DiscoveryEvent::SessionReady(*parameters));
        }
        Ok(proof)
    }

    /// Blacklists `peer` by hand and drops what it delivered.
    pub fn blacklist(&mut self, now: Timestamp, peer: &PeerId) {
        self.security.blacklist(now, peer);
        self.forward_security_events();
    }

    /// Takes `peer` off the blacklist; false if it was not on it.
    pub fn unblacklist(&mut self, peer: &PeerId) -> bool {
        let lifted = self.security.unblacklist(peer);
        self.forward_security_events();
        lifted
    }

    /// Graylists `peer` by hand for `duration`.
    pub fn graylist(&mut self, now: Timestamp, peer: &PeerId, duration: Duration) {
        self.security.graylist(now, peer, duration);
        self.forward_security_events();
    }

    /// Publishes an advertisement or its withdrawal on each of its transaction types'
    /// topics and under its DHT key.
    fn publish_signer_record(
        &mut self,
        advertisement: &SignerAdvertisement,
        message: &DiscoveryMessage,
    ) {
        let bytes = message.encode();
        for transaction_type in &advertisement.content.criteria.transaction_types {
            self.outbound.push_back(Outbound {
                destination: Destination::Topic(signer_topic(transaction_type)),
                bytes: bytes.clone(),
            });
        }
        self.outbound.push_back(Outbound {
            destination: Destination::DhtRecord {
                key: signer_record_key(&advertisement.content.key),
            },
            bytes,
        });
    }

    fn check_backpressure(&self) -> Result<(), DiscoveryError> {
        let limit = self.security.limits().max_queued_events;
        let queued = self.outbound.len() + self.events.len();
        if queued >= limit {
            return Err(DiscoveryError::Backpressure { limit, queued });
        }
        Ok(())
    }

    /// How many outbound records and events wait to be polled.
    pub fn queued(&self) -> usize {
        self.outbound.len() + self.events.len()
    }

    /// Refuses a blacklisted or graylisted peer, counting the refusal: the node asks before
    /// it looks at a session envelope.
    ///
    /// # Errors
    ///
    /// [`SecurityError::Blacklisted`] or [`SecurityError::Graylisted`].
    pub fn admit_peer(&mut self, now: Timestamp, from: &PeerId) -> Result<(), DiscoveryError> {
        let admitted = self
            .security
            .check_peer(now, from)
            .map_err(DiscoveryError::from);
        self.counted(now, from, admitted)
    }

    /// Counts a rejection of `from`'s input made elsewhere (a session envelope whose
    /// signature failed, say) and applies its consequences, blacklisting included.
    pub fn record_rejection(&mut self, now: Timestamp, from: &PeerId, kind: RejectionKind) {
        self.security.record_rejection(now, from, kind);
        self.forward_security_events();
    }

    /// Counts a refusal against `from` and applies its consequences.
    fn counted<T>(
        &mut self,
        now: Timestamp,
        from: &PeerId,
        outcome: Result<T, DiscoveryError>,
    ) -> Result<T, DiscoveryError> {
        if let Err(error) = &outcome {
            self.security.record_rejection(now, from, error.kind());
            self.forward_security_events();
        }
        outcome
    }

    /// Moves security events into the event queue, dropping a newly blacklisted peer's
    /// advertisements and pending requests.
    fn forward_security_events(&mut self) {
        while let Some(event) = self.security.poll_event() {
            if let SecurityEvent::PeerBlacklisted { peer, .. } = &event {
                self.directory.remove_peer(peer);
                self.book.remove_peer(peer);
            }
            self.events.push_back(DiscoveryEvent::Security(event));
        }
    }
}
