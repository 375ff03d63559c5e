//! The directory of signers discovered on the network.

use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet};

use super::codec::parse_key;
use super::entry::{type_bit, StoredAdvertisement};
use super::footprint::TREE_SLOT;
use super::{AdvertisementWithdrawal, DiscoveryError, RecordKind, SignerAdvertisement};
use crate::crypto::PublicKey;
use crate::node::PeerId;
use crate::time::Timestamp;

/// The default for [`SignerFilter::max_results`].
pub const DEFAULT_MAX_RESULTS: usize = 100;

/// What a caller looks for in the directory.
///
/// ```
/// use chorus_core::discovery::SignerFilter;
///
/// let filter = SignerFilter { transaction_type: Some("spend".into()), amount: Some(5_000_000), ..Default::default() };
/// assert_eq!(filter.max_results, chorus_core::discovery::DEFAULT_MAX_RESULTS);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerFilter {
    /// Only signers that co-sign this transaction type.
    pub transaction_type: Option<String>,
    /// Only signers that co-sign this amount.
    pub amount: Option<u64>,
    /// Only signers whose advertised reputation score is at least this (signers that
    /// advertise none are left out).
    pub min_reputation: Option<u8>,
    /// At most this many results.
    pub max_results: usize,
}

impl Default for SignerFilter {
    fn default() -> Self {
        SignerFilter {
            transaction_type: None,
            amount: None,
            min_reputation: None,
            max_results: DEFAULT_MAX_RESULTS,
        }
    }
}

impl SignerFilter {
    /// Whether `advertisement` passes the filter.
    pub fn matches(&self, advertisement: &SignerAdvertisement) -> bool {
        let criteria = &advertisement.content.criteria;
        let score = advertisement
            .content
            .metadata
            .reputation
            .map(|reputation| reputation.score);
        self.transaction_type
            .as_deref()
            .is_none_or(|wanted| criteria.accepts_type(wanted))
            && self
                .amount
                .is_none_or(|amount| criteria.accepts_amount(amount))
            && self
                .min_reputation
                .is_none_or(|min| score.is_some_and(|score| score >= min))
    }
}

/// What [`SignerDirectory::insert`] changed.
///
/// ```
/// use chorus_core::discovery::DirectoryInsert;
///
/// let insert = DirectoryInsert { replaced: false, evicted: Vec::new() };
/// assert!(!insert.replaced);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryInsert {
    /// Whether an older advertisement of the same key was replaced.
    pub replaced: bool,
    /// The keys whose advertisements were evicted to make room (those expiring first).
    pub evicted: Vec<PublicKey>,
}

/// A withdrawn advertisement's memory: its slots in two B-trees.
const WITHDRAWN_FOOTPRINT: usize = 2 * TREE_SLOT;

/// The advertisements of signers discovered on the network, one per key, with expiry.
///
/// [`SignerDirectory::insert`] checks an advertisement completely — bounds, peer, time,
/// staleness, then the signature — and changes nothing when it refuses it. A withdrawal
/// must be signed by the advertised key and name the advertisement it withdraws; the
/// directory then remembers the withdrawn advertisement until it would have expired, so a
/// replay of it is refused as stale.
///
/// Bounded twice: at most `capacity` advertisements (and as many withdrawals), and at most
/// `max_bytes` of estimated memory for all of them; past either, the advertisements that
/// expire first make room. Advertisements are kept in their canonical encoding (a third of
/// their decoded size), so lookups return decoded copies.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::discovery::*;
/// use chorus_core::node::PeerId;
/// use chorus_core::time::Timestamp;
/// use std::time::Duration;
///
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
/// let peer = PeerId::from_key(&alice.public_key());
/// let now = Timestamp::from_millis(0);
/// let content = AdvertisementContent::new(
///     peer.clone(), SignerCriteria::new(["spend"]), SignerMetadata::default(), now, Duration::from_secs(600),
/// );
/// let advertisement = SignerAdvertisement::sign(content, &alice, &[0; 32]);
///
/// let mut directory = SignerDirectory::new(1_000, 1 << 20, Duration::from_secs(300));
/// directory.insert(now, advertisement.clone(), &peer)?;
/// let filter = SignerFilter { transaction_type: Some("spend".into()), ..Default::default() };
/// assert_eq!(directory.find(now, &filter), vec![advertisement.clone()]);
///
/// let withdrawal = AdvertisementWithdrawal::sign(&advertisement, &alice, &[0; 32]);
/// directory.withdraw(withdrawal)?;
/// assert!(directory.find(now, &filter).is_empty());
/// // The withdrawn advertisement cannot be replayed back in.
/// assert!(directory.insert(now, advertisement, &peer).is_err());
/// # Ok::<(), DiscoveryError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SignerDirectory {
    capacity: usize,
    max_bytes: usize,
    /// Estimated memory of the advertisements and withdrawals held.
    bytes: usize,
    max_clock_skew: Duration,
    entries: BTreeMap<[u8; 33], StoredAdvertisement>,
    expiry: BTreeSet<(Timestamp, [u8; 33])>,
    /// Withdrawn advertisements: key → (created at, expires at).
    withdrawn: BTreeMap<[u8; 33], (Timestamp, Timestamp)>,
    withdrawn_expiry: BTreeSet<(Timestamp, [u8; 33])>,
}

impl SignerDirectory {
    /// An empty directory keeping at most `capacity` advertisements (and as many
    /// withdrawals) in at most `max_bytes` of estimated memory, refusing advertisements
    /// created more than `max_clock_skew` ahead.
    pub fn new(capacity: usize, max_bytes: usize, max_clock_skew: Duration) -> Self {
        SignerDirectory {
            capacity: capacity.max(1),
            max_bytes,
            bytes: 0,
            max_clock_skew,
            entries: BTreeMap::new(),
            expiry: BTreeSet::new(),
            withdrawn: BTreeMap::new(),
            withdrawn_expiry: BTreeSet::new(),
        }
    }

    /// Adds (or refreshes) `advertisement`, delivered by `from`.
    ///
    /// When the directory is full (by count or by memory), the advertisements that expire
    /// first make room.
    ///
    /// # Errors
    ///
    /// Whatever [`SignerAdvertisement::validate`] refuses; [`DiscoveryError::PeerMismatch`]
    /// when it names another peer than `from`; [`DiscoveryError::FromTheFuture`],
    /// [`DiscoveryError::Expired`]; [`DiscoveryError::StaleAdvertisement`] when it is no
    /// newer than the one held or withdrawn; [`DiscoveryError::InvalidSignature`].
    pub fn insert(
        &mut self,
        now: Timestamp,
        advertisement: SignerAdvertisement,
        from: &PeerId,
    ) -> Result<DirectoryInsert, DiscoveryError> {
        advertisement.validate()?;
        let content = &advertisement.content;
        if content.peer != *from {
            return Err(DiscoveryError::PeerMismatch {
                named: content.peer.clone(),
                from: from.clone(),
            });
        }
        check_time(
            now,
            self.max_clock_skew,
            content.created_at,
            content.expires_at,
        )?;
        self.check_fresh(&advertisement)?;
        if !advertisement.verify_signature() {
            return Err(DiscoveryError::InvalidSignature {
                record: RecordKind::Advertisement,
            });
        }
        let key = content.key;
        let stored = StoredAdvertisement::new(&advertisement);
        let replaced = self.remove_entry(&key).is_some();
        self.remove_withdrawn(&key);
        let needed = stored.footprint();
        let mut evicted = Vec::new();
        while !self.entries.is_empty()
            && (self.entries.len() >= self.capacity
                || self.bytes.saturating_add(needed) > self.max_bytes)
        {
            let Some(key) = self.evict_first_expiring() else {
                break;
            };
            evicted.extend(parse_key(&key));
        }
        self.bytes = self.bytes.saturating_add(needed);
        self.expiry.insert((stored.expires_at, key));
        self.entries.insert(key, stored);
        Ok(DirectoryInsert { replaced, evicted })
    }

    /// Refuses an advertisement no newer than the one held or withdrawn for its key — a
    /// replay, or the same advertisement arriving again on a second topic.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::StaleAdvertisement`].
    pub fn check_fresh(&self, advertisement: &SignerAdvertisement) -> Result<(), DiscoveryError> {
        let content = &advertisement.content;
        let held = self
            .entries
            .get(&content.key)
            .map(|held| held.created_at)
            .into_iter()
            .chain(
                self.withdrawn
                    .get(&content.key)
                    .map(|(created_at, _)| *created_at),
            )
            .max();
        match held {
            Some(held) if held >= content.created_at => Err(DiscoveryError::StaleAdvertisement {
                held,
                got: content.created_at,
            }),
            _ => Ok(()),
        }
    }

    /// Removes the advertisement `withdrawal` names, if it is the one held for its key and
    /// the withdrawal is signed by that key; returns it.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::InvalidKey`]; [`DiscoveryError::UnknownAdvertisement`] when the
    /// named advertisement is not held (never was, expired, or was replaced);
    /// [`DiscoveryError::InvalidSignature`] when the advertised key did not sign it.
    pub fn withdraw(
        &mut self,
        withdrawal: AdvertisementWithdrawal,
    ) -> Result<SignerAdvertisement, DiscoveryError> {
        withdrawal.key()?;
        let key = withdrawal.content.key;
        let held = self
            .entries
            .get(&key)
            .and_then(StoredAdvertisement::decode)
            .ok_or(DiscoveryError::UnknownAdvertisement)?;
        if held.id() != withdrawal.content.advertisement {
            return Err(DiscoveryError::UnknownAdvertisement);
        }
        if !withdrawal.verify_signature() {
            return Err(DiscoveryError::InvalidSignature {
                record: RecordKind::Withdrawal,
            });
        }
        self.remove_entry(&key);
        if self.withdrawn.len() >= self.capacity {
            if let Some((_, first)) = self.withdrawn_expiry.first().copied() {
                self.remove_withdrawn(&first);
            }
        }
        let (created_at, expires_at) = (held.content.created_at, held.content.expires_at);
        self.withdrawn.insert(key, (created_at, expires_at));
        self.withdrawn_expiry.insert((expires_at, key));
        self.bytes = self.bytes.saturating_add(WITHDRAWN_FOOTPRINT);
        Ok(held)
    }

    /// The unexpired advertisements that pass `filter`: the highest advertised reputation
    /// first, then by key; at most `filter.max_results`.
    pub fn find(&self, now: Timestamp, filter: &SignerFilter) -> Vec<SignerAdvertisement> {
        let wanted_bit = filter.transaction_type.as_deref().map_or(0, type_bit);
        let mut candidates: Vec<(&[u8; 33], &StoredAdvertisement)> = self
            .entries
            .iter()
            .filter(|(_, stored)| stored.may_match(now, filter, wanted_bit))
            .collect();
        candidates
            .sort_by(|(a_key, a), (b_key, b)| b.score.cmp(&a.score).then_with(|| a_key.cmp(b_key)));
        candidates
            .into_iter()
            .filter_map(|(_, stored)| stored.decode())
            .filter(|advertisement| filter.matches(advertisement))
            .take(filter.max_results)
            .collect()
    }

    /// The advertisement held for `key`.
    pub fn get(&self, key: &PublicKey) -> Option<SignerAdvertisement> {
        self.entries
            .get(&key.serialize())
            .and_then(StoredAdvertisement::decode)
    }

    /// Whether an advertisement is held for `key`.
    pub fn contains(&self, key: &PublicKey) -> bool {
        self.entries.contains_key(&key.serialize())
    }

    /// The estimated memory of everything held, in bytes.
    pub fn memory(&self) -> usize {
        self.bytes
    }

    /// How many advertisements are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no advertisement is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every advertisement held, by key, decoded one at a time.
    pub fn iter(&self) -> impl Iterator<Item = SignerAdvertisement> + '_ {
        self.entries
            .values()
            .filter_map(StoredAdvertisement::decode)
    }

    /// When the next advertisement (or remembered withdrawal) expires.
    pub fn next_expiry(&self) -> Option<Timestamp> {
        let entry = self.expiry.first().map(|(at, _)| *at);
        let withdrawn = self.withdrawn_expiry.first().map(|(at, _)| *at);
        entry.into_iter().chain(withdrawn).min()
    }

    /// Drops everything expired at `now`; returns the keys whose advertisements expired.
    pub fn prune_expired(&mut self, now: Timestamp) -> Vec<PublicKey> {
        while let Some((at, key)) = self.withdrawn_expiry.first().copied() {
            if at > now {
                break;
            }
            self.remove_withdrawn(&key);
        }
        let mut expired = Vec::new();
        while let Some((at, key)) = self.expiry.first().copied() {
            if at > now {
                break;
            }
            self.remove_entry(&key);
            expired.extend(parse_key(&key));
        }
        expired
    }

    /// Drops every advertisement `peer` delivered (when it is blacklisted); returns their
    /// keys.
    pub fn remove_peer(&mut self, peer: &PeerId) -> Vec<PublicKey> {
        let keys: Vec<[u8; 33]> = self
            .entries
            .iter()
            .filter(|(_, stored)| stored.is_from(peer))
            .map(|(key, _)| *key)
            .collect();
        for key in &keys {
            self.remove_entry(key);
        }
        keys.iter().filter_map(parse_key).collect()
    }

    fn remove_entry(&mut self, key: &[u8; 33]) -> Option<StoredAdvertisement> {
        let removed = self.entries.remove(key)?;
        self.expiry.remove(&(removed.expires_at, *key));
        self.bytes = self.bytes.saturating_sub(removed.footprint());
        Some(removed)
    }

    fn remove_withdrawn(&mut self, key: &[u8; 33]) {
        if let Some((_, expires_at)) = self.withdrawn.remove(key) {
            self.withdrawn_expiry.remove(&(expires_at, *key));
            self.bytes = self.bytes.saturating_sub(WITHDRAWN_FOOTPRINT);
        }
    }

    fn evict_first_expiring(&mut self) -> Option<[u8; 33]> {
        let (_, key) = self.expiry.first().copied()?;
        self.remove_entry(&key).map(|_| key)
    }
}

/// Refuses a record created more than `max_clock_skew` after `now`, or expired at `now`.
pub(crate) fn check_time(
    now: Timestamp,
    max_clock_skew: Duration,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Result<(), DiscoveryError> {
    if created_at > now.saturating_add(max_clock_skew) {
        return Err(DiscoveryError::FromTheFuture { created_at, now });
    }
    if expires_at <= now {
        return Err(DiscoveryError::Expired { expires_at, now });
    }
    Ok(())
}
