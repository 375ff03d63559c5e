//! Which transport peer holds which signer key.

use std::collections::BTreeMap;

use chorus_core::crypto::PublicKey;
use chorus_core::node::PeerId;

/// A bounded map from signer keys to the transport peers that hold them.
///
/// The core addresses session messages by signer key; the transport by peer. The driver
/// fills the book from what the keys themselves signed — advertisements
/// ([`DiscoveryEvent::SignerDiscovered`](chorus_core::discovery::DiscoveryEvent::SignerDiscovered)),
/// join proofs ([`DiscoveryEvent::ParticipantJoined`](chorus_core::discovery::DiscoveryEvent::ParticipantJoined),
/// [`DiscoveryEvent::SessionReady`](chorus_core::discovery::DiscoveryEvent::SessionReady))
/// — and from the application ([`NodeHandle::add_peer`](super::NodeHandle::add_peer)).
/// The newest entry for a key wins; past the capacity, the entry written longest ago is
/// forgotten.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::node::PeerId;
/// use chorus_node::driver::AddressBook;
///
/// let key = |byte| Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap()).public_key();
/// let mut book = AddressBook::new(2);
/// book.insert(&key(1), PeerId::new(*b"one"));
/// book.insert(&key(2), PeerId::new(*b"two"));
/// book.insert(&key(1), PeerId::new(*b"uno")); // refreshed: now the newest
/// book.insert(&key(3), PeerId::new(*b"three")); // full: key 2 is forgotten
/// assert_eq!(book.get(&key(1)), Some(&PeerId::new(*b"uno")));
/// assert_eq!(book.get(&key(2)), None);
/// assert_eq!(book.len(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct AddressBook {
    capacity: usize,
    entries: BTreeMap<[u8; 33], Entry>,
    /// Keys by the stamp of their latest write, oldest first.
    order: BTreeMap<u64, [u8; 33]>,
    next_stamp: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    peer: PeerId,
    stamp: u64,
}

impl AddressBook {
    /// An empty book that holds at most `capacity` keys (at least one).
    pub fn new(capacity: usize) -> Self {
        AddressBook {
            capacity: capacity.max(1),
            ..AddressBook::default()
        }
    }

    /// Records that `key` is held by `peer`; true when that changed the book's answer.
    pub fn insert(&mut self, key: &PublicKey, peer: PeerId) -> bool {
        let key = key.serialize();
        let stamp = self.next_stamp;
        self.next_stamp = self.next_stamp.saturating_add(1);
        let changed = match self.entries.get_mut(&key) {
            Some(entry) => {
                self.order.remove(&entry.stamp);
                let changed = entry.peer != peer;
                *entry = Entry { peer, stamp };
                changed
            }
            None => {
                if self.entries.len() >= self.capacity {
                    if let Some((_, oldest)) = self.order.pop_first() {
                        self.entries.remove(&oldest);
                    }
                }
                self.entries.insert(key, Entry { peer, stamp });
                true
            }
        };
        self.order.insert(stamp, key);
        changed
    }

    /// The peer that holds `key`, if known.
    pub fn get(&self, key: &PublicKey) -> Option<&PeerId> {
        self.entries.get(&key.serialize()).map(|entry| &entry.peer)
    }

    /// Forgets `key`; returns the peer it mapped to.
    pub fn remove(&mut self, key: &PublicKey) -> Option<PeerId> {
        let entry = self.entries.remove(&key.serialize())?;
        self.order.remove(&entry.stamp);
        Some(entry.peer)
    }

    /// How many keys the book maps.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the book maps no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chorus_core::crypto::{Keypair, SecretKey};

    fn key(byte: u8) -> PublicKey {
        Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap()).public_key()
    }

    #[test]
    fn reports_whether_an_insert_changed_the_answer() {
        let mut book = AddressBook::new(4);
        assert!(book.insert(&key(1), PeerId::new(*b"a")));
        assert!(!book.insert(&key(1), PeerId::new(*b"a")));
        assert!(book.insert(&key(1), PeerId::new(*b"b")));
        assert_eq!(book.len(), 1);
    }

    #[test]
    fn evicts_the_entry_written_longest_ago() {
        let mut book = AddressBook::new(3);
        for byte in 1..=3 {
            book.insert(&key(byte), PeerId::new([byte]));
        }
        book.insert(&key(1), PeerId::new([1]));
        book.insert(&key(4), PeerId::new([4]));
        assert_eq!(book.get(&key(2)), None);
        for byte in [1, 3, 4] {
            assert_eq!(book.get(&key(byte)), Some(&PeerId::new([byte])));
        }
        assert_eq!(book.order.len(), book.entries.len());
    }

    #[test]
    fn removal_forgets_the_key_and_its_place() {
        let mut book = AddressBook::new(0);
        assert!(book.insert(&key(1), PeerId::new([1])));
        assert_eq!(book.remove(&key(1)), Some(PeerId::new([1])));
        assert!(book.is_empty());
        assert!(book.order.is_empty());
        assert_eq!(book.remove(&key(1)), None);
    }
}
