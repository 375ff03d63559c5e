//! The node's memory of the public nonces it has sent, so it never sends one twice.
//!
//! A public nonce that appears twice means its secret nonce may sign twice under different
//! aggregate nonces, which reveals the signing key. Fresh ChaCha20 output makes a repeat
//! practically impossible — unless the node was restarted with the same seed, or the
//! generator is broken. The tracker is the last line of defence against both: the node
//! refuses to send a nonce the tracker has seen.

use std::collections::{BTreeSet, VecDeque};

use sha2::{Digest, Sha256};

use crate::crypto::PublicNonce;

/// A public nonce's fingerprint: the first 16 bytes of SHA-256 over its 66 bytes.
type Fingerprint = [u8; 16];

/// The last `capacity` public nonces this node sent, as fingerprints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NonceTracker {
    seen: BTreeSet<Fingerprint>,
    order: VecDeque<Fingerprint>,
    capacity: usize,
}

impl NonceTracker {
    pub(crate) fn new(capacity: usize) -> Self {
        NonceTracker {
            seen: BTreeSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Records `nonce` as sent; false (and nothing recorded) if it was sent before.
    pub(crate) fn remember(&mut self, nonce: &PublicNonce) -> bool {
        let fingerprint = fingerprint(nonce);
        if !self.seen.insert(fingerprint) {
            return false;
        }
        self.order.push_back(fingerprint);
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        true
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }
}

fn fingerprint(nonce: &PublicNonce) -> Fingerprint {
    let digest: [u8; 32] = Sha256::digest(nonce.to_bytes()).into();
    let (fingerprint, _) = digest.split_first_chunk::<16>().unwrap_or((&[0; 16], &[]));
    *fingerprint
}

#[cfg(test)]
mod tests {
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;
    use crate::crypto::{generate_nonce, Dialect, KeyAggContext, Keypair, SecretKey};

    fn nonces(count: usize) -> Vec<PublicNonce> {
        let keypair = Keypair::from_secret_key(&SecretKey::from_secret_bytes([5; 32]).unwrap());
        let ctx = KeyAggContext::new(Dialect::Bip340, &[keypair.public_key()]).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        (0..count)
            .map(|_| {
                generate_nonce(&ctx, &keypair, &[1; 32], &mut rng)
                    .unwrap()
                    .1
            })
            .collect()
    }

    #[test]
    fn refuses_a_nonce_it_has_seen() {
        let mut tracker = NonceTracker::new(8);
        let [first, second] = <[PublicNonce; 2]>::try_from(nonces(2)).unwrap();
        assert!(tracker.remember(&first));
        assert!(tracker.remember(&second));
        assert!(!tracker.remember(&first));
        assert_eq!(tracker.len(), 2);
    }

    #[test]
    fn forgets_the_oldest_past_its_capacity() {
        let mut tracker = NonceTracker::new(2);
        let all = nonces(3);
        for nonce in &all {
            assert!(tracker.remember(nonce));
        }
        assert_eq!(tracker.len(), 2);
        // The oldest fell out; the two newest are still refused.
        assert!(!tracker.remember(&all[2]));
        assert!(!tracker.remember(&all[1]));
        assert!(tracker.remember(&all[0]));
    }
}
