//! The key aggregations of the signer groups a node signed with lately.
//!
//! Aggregating n keys costs n hashes and an n-point multiplication — 30 ms at n = 1,000 —
//! and a group that signs together usually signs again. The cache keeps the last few
//! groups' [`KeyAggContext`]s so a repeated group skips the work. A context depends only
//! on the dialect and the sorted key list, so a cached one is the same value a fresh
//! aggregation would give.

use std::collections::{BTreeMap, VecDeque};

use sha2::{Digest, Sha256};

use crate::crypto::{CryptoError, Dialect, KeyAggContext, PublicKey};

/// A signer group's fingerprint: SHA-256 over the dialect and the sorted keys.
type GroupId = [u8; 32];

/// The last `capacity` signer groups' key aggregations (none when `capacity` is 0).
#[derive(Clone)]
pub(crate) struct GroupCache {
    contexts: BTreeMap<GroupId, KeyAggContext>,
    order: VecDeque<GroupId>,
    capacity: usize,
}

impl core::fmt::Debug for GroupCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GroupCache")
            .field("groups", &self.contexts.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl GroupCache {
    pub(crate) fn new(capacity: usize) -> Self {
        GroupCache {
            contexts: BTreeMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// The cached key aggregation of the group whose compressed keys are `signers` (in the
    /// session's sorted order), if the group signed lately. Its
    /// [`signers`](KeyAggContext::signers) are those keys, parsed.
    pub(crate) fn lookup(&self, dialect: Dialect, signers: &[[u8; 33]]) -> Option<&KeyAggContext> {
        if self.capacity == 0 {
            return None;
        }
        let cached = self.contexts.get(&group_id(dialect, signers))?;
        // A fingerprint match is a match; comparing the keys costs little and makes the
        // cache correct without relying on that.
        let same = cached.dialect() == dialect
            && cached.signers().len() == signers.len()
            && cached
                .signers()
                .iter()
                .zip(signers)
                .all(|(key, bytes)| key.serialize() == *bytes);
        same.then_some(cached)
    }

    /// The key aggregation of `keys` (sorted, as a session lists them; `signers` are their
    /// compressed forms) in `dialect`, from the cache when the group signed lately.
    pub(crate) fn context(
        &mut self,
        dialect: Dialect,
        signers: &[[u8; 33]],
        keys: &[PublicKey],
    ) -> Result<KeyAggContext, CryptoError> {
        if let Some(cached) = self.lookup(dialect, signers) {
            return Ok(cached.clone());
        }
        let context = KeyAggContext::new(dialect, keys)?;
        if self.capacity == 0 {
            return Ok(context);
        }
        let id = group_id(dialect, signers);
        if self.contexts.insert(id, context.clone()).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.contexts.remove(&oldest);
            }
        }
        Ok(context)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.contexts.len()
    }
}

fn group_id(dialect: Dialect, signers: &[[u8; 33]]) -> GroupId {
    let mut hasher = Sha256::new();
    hasher.update(b"chorus/signer-group/v1");
    hasher.update(dialect.name().as_bytes());
    for key in signers {
        hasher.update(key);
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Keypair, SecretKey};

    fn compressed(keys: &[PublicKey]) -> Vec<[u8; 33]> {
        keys.iter().map(PublicKey::serialize).collect()
    }

    fn keys(bytes: &[u8]) -> Vec<PublicKey> {
        let mut keys: Vec<PublicKey> = bytes
            .iter()
            .map(|byte| {
                Keypair::from_secret_key(&SecretKey::from_secret_bytes([*byte; 32]).unwrap())
                    .public_key()
            })
            .collect();
        keys.sort_by_key(PublicKey::serialize);
        keys
    }

    #[test]
    fn a_cached_context_equals_a_fresh_one() {
        let mut cache = GroupCache::new(2);
        let group = keys(&[1, 2, 3]);
        for dialect in [Dialect::Bip340, Dialect::Lotus] {
            let fresh = KeyAggContext::new(dialect, &group).unwrap();
            assert!(cache.lookup(dialect, &compressed(&group)).is_none());
            for _ in 0..2 {
                let cached = cache.context(dialect, &compressed(&group), &group).unwrap();
                assert_eq!(cached.dialect(), dialect);
                assert_eq!(cached.signers(), fresh.signers());
                assert_eq!(cached.aggregate_key(), fresh.aggregate_key());
            }
        }
        assert_eq!(cache.len(), 2, "one entry per dialect");
        let looked_up = cache.lookup(Dialect::Lotus, &compressed(&group)).unwrap();
        assert_eq!(looked_up.signers(), group.as_slice());
        assert!(cache
            .lookup(Dialect::Lotus, &compressed(&keys(&[1, 2])))
            .is_none());
    }

    #[test]
    fn keeps_at_most_its_capacity_and_forgets_the_oldest() {
        let mut cache = GroupCache::new(2);
        for group in [keys(&[1, 2]), keys(&[3, 4]), keys(&[5, 6])] {
            cache
                .context(Dialect::Bip340, &compressed(&group), &group)
                .unwrap();
        }
        assert_eq!(cache.len(), 2);
        let oldest = group_id(Dialect::Bip340, &compressed(&keys(&[1, 2])));
        assert!(!cache.contexts.contains_key(&oldest));
    }

    #[test]
    fn capacity_zero_caches_nothing() {
        let mut cache = GroupCache::new(0);
        let group = keys(&[1, 2]);
        let context = cache
            .context(Dialect::Bip340, &compressed(&group), &group)
            .unwrap();
        assert_eq!(context.signers(), group.as_slice());
        assert_eq!(cache.len(), 0);
        assert!(cache.lookup(Dialect::Bip340, &compressed(&group)).is_none());
        assert_eq!(
            cache.context(Dialect::Bip340, &[], &[]).unwrap_err(),
            CryptoError::EmptyKeyList
        );
    }
}
