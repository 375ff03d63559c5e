//! The book of pending signing requests, their joins, and the sessions they become.

use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet};

use super::codec::{parse_key, tagged_hash, SESSION_TAG};
use super::directory::check_time;
use super::footprint::{heap, peer_heap, TREE_SLOT};
use super::{DiscoveryError, JoinProof, RecordKind, RequestId, SigningRequest};
use crate::crypto::{Dialect, PublicKey};
use crate::election::ElectionMethod;
use crate::node::PeerId;
use crate::security::SecurityError;
use crate::time::Timestamp;
use crate::wire::{SessionId, SessionOptions};

/// The session every participant of a fully joined request derives, identically.
///
/// ```
/// use chorus_core::discovery::{session_id_for, RequestId};
/// use chorus_core::election::ElectionMethod;
///
/// let id = session_id_for(&RequestId([1; 32]), &[[2; 33], [3; 33]], ElectionMethod::Salted);
/// assert_ne!(id, session_id_for(&RequestId([1; 32]), &[[2; 33], [3; 33]], ElectionMethod::Lexicographic));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionParameters {
    /// The request the session comes from.
    pub request: RequestId,
    /// The session id: see [`session_id_for`].
    pub session: SessionId,
    /// The request's creator.
    pub creator: PublicKey,
    /// The signers, ascending by their 33-byte keys: the session's one index space.
    pub signers: Vec<PublicKey>,
    /// `peers[i]` is where `signers[i]` joined from.
    pub peers: Vec<PeerId>,
    /// The 32-byte message to sign.
    pub message: [u8; 32],
    /// The Schnorr dialect of the final signature.
    pub dialect: Dialect,
    /// How the coordinator is elected.
    pub election: ElectionMethod,
    /// Nonce commitments, topology and broadcast timeout.
    pub options: SessionOptions,
}

/// The session id of a request: `tagged_hash("chorus/request-session/v1", request id ‖
/// each sorted 33-byte signer key ‖ election method name)`.
///
/// The request id already commits to the keys and the method; naming them again keeps the
/// derivation self-evident for anyone who checks it.
pub fn session_id_for(
    request: &RequestId,
    sorted_signers: &[[u8; 33]],
    election: ElectionMethod,
) -> SessionId {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(sorted_signers.len() + 2);
    parts.push(request.as_bytes());
    parts.extend(sorted_signers.iter().map(|key| &key[..]));
    parts.push(election.name().as_bytes());
    SessionId(tagged_hash(SESSION_TAG, &parts))
}

/// What [`RequestBook::insert`] did.
///
/// ```
/// use chorus_core::discovery::{RequestAdmission, RequestId};
///
/// let admission = RequestAdmission { request: RequestId([1; 32]), evicted: Vec::new(), ready: None };
/// assert!(admission.ready.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAdmission {
    /// The request's id.
    pub request: RequestId,
    /// The oldest pending requests, evicted to make room.
    pub evicted: Vec<RequestId>,
    /// The session, when the creator is the only required key.
    pub ready: Option<SessionParameters>,
}

/// What [`RequestBook::join`] did.
///
/// ```
/// use chorus_core::discovery::JoinOutcome;
///
/// let outcome = JoinOutcome::Joined { remaining: 2, evicted: Vec::new() };
/// assert!(matches!(outcome, JoinOutcome::Joined { remaining: 2, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinOutcome {
    /// The join was recorded; `remaining` keys have yet to join.
    Joined {
        /// Keys still to join.
        remaining: usize,
        /// The oldest pending requests, evicted to make room for the join's memory.
        evicted: Vec<RequestId>,
    },
    /// The join was the last one: the session is ready.
    Ready(Box<SessionParameters>),
}

#[derive(Debug, Clone)]
struct PendingRequest {
    request: SigningRequest,
    /// The peer that delivered the request; the creator joined from it.
    origin: PeerId,
    arrival: u64,
    /// The estimated memory of this entry, as counted in the book's total.
    footprint: usize,
    creator_index: u16,
    /// The other joins: (index in the required keys, peer it joined from), ascending by
    /// index. Empty, so allocation-free, while only the creator has joined.
    joined: Vec<(u16, PeerId)>,
}

impl PendingRequest {
    fn has_joined(&self, index: u16) -> bool {
        index == self.creator_index
            || self
                .joined
                .binary_search_by_key(&index, |(joined, _)| *joined)
                .is_ok()
    }

    /// The boxed entry, the heap blocks it owns, and its three B-tree slots (pending,
    /// arrival, expiry).
    fn estimate_footprint(&self) -> usize {
        heap(core::mem::size_of::<PendingRequest>())
            + self.request.heap_footprint()
            + peer_heap(&self.origin)
            + heap(self.joined.capacity() * core::mem::size_of::<(u16, PeerId)>())
            + self
                .joined
                .iter()
                .map(|(_, peer)| peer_heap(peer))
                .sum::<usize>()
            + 3 * TREE_SLOT
    }

    fn joined_count(&self) -> usize {
        self.joined.len() + 1
    }

    /// Every joined index with its peer, ascending.
    fn joins(&self) -> impl Iterator<Item = (u16, &PeerId)> + '_ {
        let (before, after) = self.joined.split_at(
            self.joined
                .partition_point(|(index, _)| *index < self.creator_index),
        );
        before
            .iter()
            .map(|(index, peer)| (*index, peer))
            .chain(std::iter::once((self.creator_index, &self.origin)))
            .chain(after.iter().map(|(index, peer)| (*index, peer)))
    }
}

/// The signing requests this node knows of, until every required key has joined.
///
/// [`RequestBook::insert`] checks a request completely and charges it to the peer that
/// delivered it: at most `max_per_peer` pending per peer, at most `max_total` in all and at
/// most `max_bytes` of estimated memory — the oldest pending requests are evicted to make
/// room (joins, which add memory, can evict too). The creator counts as joined (its
/// signature on the request proves its key). [`RequestBook::join`] records a join proof;
/// the last one turns the request into [`SessionParameters`] that every participant
/// derives identically, whatever order the joins arrived in. A completed request is
/// remembered (by id, until it expires) so neither it nor its joins can be replayed.
///
/// ```
/// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
/// use chorus_core::discovery::*;
/// use chorus_core::node::PeerId;
/// use chorus_core::time::Timestamp;
/// use std::time::Duration;
///
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
/// let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xb0; 32]).unwrap());
/// let (alice_peer, bob_peer) = (PeerId::new(*b"alice"), PeerId::new(*b"bob"));
/// let now = Timestamp::from_millis(0);
///
/// let content = RequestContent::new(
///     &[bob.public_key(), alice.public_key()], [7; 32], Dialect::Bip340, now, Duration::from_secs(600),
/// );
/// let request = SigningRequest::sign(content, &alice, &[0; 32]);
///
/// let mut book = RequestBook::new(100, 10, 1 << 20, Duration::from_secs(300));
/// let id = book.insert(now, request, &alice_peer)?.request;
/// assert_eq!(book.requests_for(now, &bob.public_key()).len(), 1);
///
/// let proof = JoinProof::sign(id, &bob, bob_peer.clone(), &[0; 32]);
/// let JoinOutcome::Ready(session) = book.join(now, proof, &bob_peer)? else { panic!("not ready") };
/// assert_eq!(session.signers.len(), 2);
/// assert!(session.signers.windows(2).all(|pair| pair[0].serialize() < pair[1].serialize()));
/// # Ok::<(), DiscoveryError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RequestBook {
    max_total: usize,
    max_per_peer: usize,
    max_bytes: usize,
    /// Estimated memory of the pending and completed requests and per-peer counters.
    bytes: usize,
    max_clock_skew: Duration,
    // Boxed: B-tree nodes hold eleven slots each, mostly half full; small slots waste less.
    pending: BTreeMap<RequestId, Box<PendingRequest>>,
    arrivals: BTreeMap<u64, RequestId>,
    expiry: BTreeSet<(Timestamp, RequestId)>,
    per_peer: BTreeMap<PeerId, usize>,
    next_arrival: u64,
    /// Completed requests: id → expiry.
    completed: BTreeMap<RequestId, Timestamp>,
    completed_expiry: BTreeSet<(Timestamp, RequestId)>,
}

impl RequestBook {
    /// An empty book holding at most `max_total` pending requests, `max_per_peer` from any
    /// one peer, in at most `max_bytes` of estimated memory, refusing requests created more
    /// than `max_clock_skew` ahead.
    pub fn new(
        max_total: usize,
        max_per_peer: usize,
        max_bytes: usize,
        max_clock_skew: Duration,
    ) -> Self {
        RequestBook {
            max_total: max_total.max(1),
            max_per_peer,
            max_bytes,
            bytes: 0,
            max_clock_skew,
            pending: BTreeMap::new(),
            arrivals: BTreeMap::new(),
            expiry: BTreeSet::new(),
            per_peer: BTreeMap::new(),
            next_arrival: 0,
            completed: BTreeMap::new(),
            completed_expiry: BTreeSet::new(),
        }
    }

    /// Adds `request`, delivered by `from`, with its creator joined from `from`.
    ///
    /// # Errors
    ///
    /// Whatever [`SigningRequest::validate`] refuses; [`DiscoveryError::FromTheFuture`],
    /// [`DiscoveryError::Expired`]; [`DiscoveryError::DuplicateRequest`] for a request
    /// held or completed; [`SecurityError::PendingQuota`] when `from` has its quota
    /// pending; [`DiscoveryError::InvalidSignature`]. Nothing changes then.
    pub fn insert(
        &mut self,
        now: Timestamp,
        request: SigningRequest,
        from: &PeerId,
    ) -> Result<RequestAdmission, DiscoveryError> {
        request.validate()?;
        let content = &request.content;
        check_time(
            now,
            self.max_clock_skew,
            content.created_at,
            content.expires_at,
        )?;
        let id = request.id();
        if self.pending.contains_key(&id) || self.completed.contains_key(&id) {
            return Err(DiscoveryError::DuplicateRequest { request: id });
        }
        if self.pending_from(from) >= self.max_per_peer {
            return Err(SecurityError::PendingQuota {
                limit: self.max_per_peer,
            }
            .into());
        }
        if !request.verify_signature() {
            return Err(DiscoveryError::InvalidSignature {
                record: RecordKind::Request,
            });
        }
        let creator_index = content
            .signer_index(&content.creator)
            .and_then(|index| u16::try_from(index).ok())
            .ok_or(DiscoveryError::CreatorNotRequired)?;
        let arrival = self.next_arrival;
        let mut entry = Box::new(PendingRequest {
            request,
            origin: from.clone(),
            arrival,
            footprint: 0,
            creator_index,
            joined: Vec::new(),
        });
        entry.footprint = entry.estimate_footprint();
        let expires_at = entry.request.content.expires_at;
        let evicted = self.make_room(1, entry.footprint, None);
        self.next_arrival = self.next_arrival.saturating_add(1);
        self.arrivals.insert(arrival, id);
        self.expiry.insert((expires_at, id));
        self.charge_peer(from);
        self.bytes = self.bytes.saturating_add(entry.footprint);
        self.pending.insert(id, entry);
        let ready = self.complete_if_ready(&id);
        Ok(RequestAdmission {
            request: id,
            evicted,
            ready,
        })
    }

    /// Records `proof`, delivered by `from`.
    ///
    /// Checks, cheapest first: the proof's bounds, that it names `from`, that the request
    /// is pending and unexpired, that the key is required and has not joined, then the
    /// signature. Nothing changes when one fails.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::InvalidKey`] or a peer-id bound; [`DiscoveryError::PeerMismatch`];
    /// [`DiscoveryError::UnknownRequest`]; [`DiscoveryError::Expired`];
    /// [`DiscoveryError::NotRequired`]; [`DiscoveryError::JoinReplayed`] (also for any join
    /// to a completed request); [`DiscoveryError::InvalidSignature`].
    pub fn join(
        &mut self,
        now: Timestamp,
        proof: JoinProof,
        from: &PeerId,
    ) -> Result<JoinOutcome, DiscoveryError> {
        proof.validate()?;
        let key = proof.key()?;
        let content = &proof.content;
        if content.peer != *from {
            return Err(DiscoveryError::PeerMismatch {
                named: content.peer.clone(),
                from: from.clone(),
            });
        }
        if self.completed.contains_key(&content.request) {
            return Err(DiscoveryError::JoinReplayed { key });
        }
        let entry = self
            .pending
            .get(&content.request)
            .ok_or(DiscoveryError::UnknownRequest {
                request: content.request,
            })?;
        if entry.request.is_expired(now) {
            return Err(DiscoveryError::Expired {
                expires_at: entry.request.content.expires_at,
                now,
            });
        }
        let index = entry
            .request
            .content
            .signer_index(&content.key)
            .and_then(|index| u16::try_from(index).ok())
            .ok_or(DiscoveryError::NotRequired { key })?;
        if entry.has_joined(index) {
            return Err(DiscoveryError::JoinReplayed { key });
        }
        if !proof.verify_signature() {
            return Err(DiscoveryError::InvalidSignature {
                record: RecordKind::Join,
            });
        }
        let request = content.request;
        let required = entry.request.content.required_keys.len();
        if let Some(entry) = self.pending.get_mut(&request) {
            let position = entry.joined.partition_point(|(joined, _)| *joined < index);
            entry.joined.insert(position, (index, proof.content.peer));
            let footprint = entry.estimate_footprint();
            let grown = footprint.saturating_sub(entry.footprint);
            entry.footprint = footprint;
            self.bytes = self.bytes.saturating_add(grown);
            if entry.joined_count() < required {
                let remaining = required - entry.joined_count();
                let evicted = self.make_room(0, 0, Some(&request));
                return Ok(JoinOutcome::Joined { remaining, evicted });
            }
        }
        self.complete_if_ready(&request)
            .map(|parameters| JoinOutcome::Ready(Box::new(parameters)))
            .ok_or(DiscoveryError::UnknownRequest { request })
    }

    /// The pending, unexpired requests that require `key` and that it has not joined.
    pub fn requests_for(&self, now: Timestamp, key: &PublicKey) -> Vec<&SigningRequest> {
        let key = key.serialize();
        self.pending
            .values()
            .filter(|entry| !entry.request.is_expired(now))
            .filter(|entry| {
                entry
                    .request
                    .content
                    .signer_index(&key)
                    .and_then(|index| u16::try_from(index).ok())
                    .is_some_and(|index| !entry.has_joined(index))
            })
            .map(|entry| &entry.request)
            .collect()
    }

    /// The pending request `id`.
    pub fn get(&self, id: &RequestId) -> Option<&SigningRequest> {
        self.pending.get(id).map(|entry| &entry.request)
    }

    /// The keys that joined pending request `id` so far, ascending.
    pub fn joined_keys(&self, id: &RequestId) -> Option<Vec<PublicKey>> {
        let entry = self.pending.get(id)?;
        let keys = &entry.request.content.required_keys;
        Some(
            entry
                .joins()
                .filter_map(|(index, _)| keys.get(usize::from(index)).and_then(parse_key))
                .collect(),
        )
    }

    /// Whether request `id` completed (every key joined) and is still remembered.
    pub fn is_completed(&self, id: &RequestId) -> bool {
        self.completed.contains_key(id)
    }

    /// The estimated memory of everything held, in bytes.
    pub fn memory(&self) -> usize {
        self.bytes
    }

    /// How many requests are pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no request is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// How many pending requests `peer` delivered.
    pub fn pending_from(&self, peer: &PeerId) -> usize {
        self.per_peer.get(peer).copied().unwrap_or(0)
    }

    /// When the next pending (or remembered completed) request expires.
    pub fn next_expiry(&self) -> Option<Timestamp> {
        let pending = self.expiry.first().map(|(at, _)| *at);
        let completed = self.completed_expiry.first().map(|(at, _)| *at);
        pending.into_iter().chain(completed).min()
    }

    /// Drops everything expired at `now`; returns the pending requests that expired.
    pub fn prune_expired(&mut self, now: Timestamp) -> Vec<RequestId> {
        while let Some((at, id)) = self.completed_expiry.first().copied() {
            if at > now {
                break;
            }
            self.forget_completed(&id, at);
        }
        let mut expired = Vec::new();
        while let Some((at, id)) = self.expiry.first().copied() {
            if at > now {
                break;
            }
            self.remove(&id);
            expired.push(id);
        }
        expired
    }

    /// Drops every pending request `peer` delivered (when it is blacklisted).
    pub fn remove_peer(&mut self, peer: &PeerId) -> Vec<RequestId> {
        let ids: Vec<RequestId> = self
            .pending
            .iter()
            .filter(|(_, entry)| entry.origin == *peer)
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            self.remove(id);
        }
        ids
    }

    /// Drops pending request `id`; returns it.
    pub fn remove(&mut self, id: &RequestId) -> Option<SigningRequest> {
        let entry = self.pending.remove(id)?;
        self.arrivals.remove(&entry.arrival);
        self.expiry.remove(&(entry.request.content.expires_at, *id));
        self.bytes = self.bytes.saturating_sub(entry.footprint);
        self.release_peer(&entry.origin);
        Some(entry.request)
    }

    /// Evicts the oldest pending requests (never `keep`) until `count` more requests and
    /// `bytes` more memory fit.
    fn make_room(
        &mut self,
        count: usize,
        bytes: usize,
        keep: Option<&RequestId>,
    ) -> Vec<RequestId> {
        let mut evicted = Vec::new();
        while self.pending.len() + count > self.max_total
            || self.bytes.saturating_add(bytes) > self.max_bytes
        {
            let oldest = self.arrivals.values().find(|id| Some(*id) != keep).copied();
            let Some(oldest) = oldest else {
                break;
            };
            self.remove(&oldest);
            evicted.push(oldest);
        }
        evicted
    }

    /// Counts a pending request against `peer` (a new counter's memory too).
    fn charge_peer(&mut self, peer: &PeerId) {
        let count = self.per_peer.entry(peer.clone()).or_insert(0);
        if *count == 0 {
            self.bytes = self.bytes.saturating_add(peer_counter_footprint(peer));
        }
        *count += 1;
    }

    fn release_peer(&mut self, peer: &PeerId) {
        if let Some(count) = self.per_peer.get_mut(peer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_peer.remove(peer);
                self.bytes = self.bytes.saturating_sub(peer_counter_footprint(peer));
            }
        }
    }

    fn forget_completed(&mut self, id: &RequestId, expires_at: Timestamp) {
        if self.completed.remove(id).is_some() {
            self.completed_expiry.remove(&(expires_at, *id));
            self.bytes = self.bytes.saturating_sub(COMPLETED_FOOTPRINT);
        }
    }

    /// Turns request `id` into a session if every key joined; it is then remembered as
    /// completed (within the same bound as pending requests).
    fn complete_if_ready(&mut self, id: &RequestId) -> Option<SessionParameters> {
        let entry = self.pending.get(id)?;
        let keys = &entry.request.content.required_keys;
        if entry.joined_count() < keys.len() {
            return None;
        }
        let parameters = session_parameters(*id, entry)?;
        let expires_at = entry.request.content.expires_at;
        self.remove(id);
        if self.completed.len() >= self.max_total {
            if let Some((at, first)) = self.completed_expiry.first().copied() {
                self.forget_completed(&first, at);
            }
        }
        self.completed.insert(*id, expires_at);
        self.completed_expiry.insert((expires_at, *id));
        self.bytes = self.bytes.saturating_add(COMPLETED_FOOTPRINT);
        Some(parameters)
    }
}

/// A completed request's memory: its slots in two B-trees.
const COMPLETED_FOOTPRINT: usize = 2 * TREE_SLOT;

/// A per-peer counter's memory: its B-tree slot and the peer id's heap block.
fn peer_counter_footprint(peer: &PeerId) -> usize {
    TREE_SLOT + peer_heap(peer)
}

/// The session of a fully joined request (`None` only for a request that failed
/// validation, which the book never holds).
fn session_parameters(request_id: RequestId, entry: &PendingRequest) -> Option<SessionParameters> {
    let request = &entry.request;
    let content = &request.content;
    let signers = request.required_keys().ok()?;
    let peers = entry.joins().map(|(_, peer)| peer.clone()).collect();
    Some(SessionParameters {
        request: request_id,
        session: session_id_for(&request_id, &content.required_keys, content.election),
        creator: request.creator().ok()?,
        signers,
        peers,
        message: content.message,
        dialect: content.dialect,
        election: content.election,
        options: content.options,
    })
}
