//! The records a closed group stores in place of a DHT.
//!
//! `PutRecord` sends the record to every peer, which keeps it here; `GetRecord` answers
//! from here, or asks the peers, whose replies are delivered only while the lookup is
//! outstanding.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chorus_core::node::PeerId;

/// Lookups waiting for a reply; older ones are forgotten first.
const MAX_WANTED: usize = 256;

/// A stored record and the authenticated peer that stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredRecord {
    pub(crate) author: PeerId,
    pub(crate) bytes: Vec<u8>,
}

/// Records by key, bounded, oldest evicted first, plus the lookups in flight.
#[derive(Debug)]
pub(crate) struct RecordStore {
    capacity: usize,
    records: BTreeMap<[u8; 32], StoredRecord>,
    order: VecDeque<[u8; 32]>,
    wanted: BTreeSet<[u8; 32]>,
    wanted_order: VecDeque<[u8; 32]>,
}

impl RecordStore {
    pub(crate) fn new(capacity: usize) -> Self {
        RecordStore {
            capacity,
            records: BTreeMap::new(),
            order: VecDeque::new(),
            wanted: BTreeSet::new(),
            wanted_order: VecDeque::new(),
        }
    }

    /// Stores (or replaces) the record under `key`.
    pub(crate) fn insert(&mut self, key: [u8; 32], record: StoredRecord) {
        if self.capacity == 0 {
            return;
        }
        if self.records.insert(key, record).is_none() {
            self.order.push_back(key);
            while self.records.len() > self.capacity {
                match self.order.pop_front() {
                    Some(oldest) => {
                        self.records.remove(&oldest);
                    }
                    None => break,
                }
            }
        }
    }

    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<&StoredRecord> {
        self.records.get(key)
    }

    /// Notes a lookup sent to the peers.
    pub(crate) fn want(&mut self, key: [u8; 32]) {
        if self.wanted.insert(key) {
            self.wanted_order.push_back(key);
            while self.wanted.len() > MAX_WANTED {
                match self.wanted_order.pop_front() {
                    Some(oldest) => {
                        self.wanted.remove(&oldest);
                    }
                    None => break,
                }
            }
        }
    }

    /// Takes a reply: whether a lookup for `key` was outstanding (it no longer is).
    pub(crate) fn answer(&mut self, key: &[u8; 32]) -> bool {
        if self.wanted.remove(key) {
            self.wanted_order.retain(|wanted| wanted != key);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(byte: u8) -> StoredRecord {
        StoredRecord {
            author: PeerId::new([byte]),
            bytes: vec![byte],
        }
    }

    #[test]
    fn keeps_the_newest_records_up_to_capacity() {
        let mut store = RecordStore::new(2);
        store.insert([1; 32], record(1));
        store.insert([2; 32], record(2));
        store.insert([1; 32], record(11));
        store.insert([3; 32], record(3));
        assert_eq!(store.get(&[1; 32]), None);
        assert_eq!(store.get(&[2; 32]), Some(&record(2)));
        assert_eq!(store.get(&[3; 32]), Some(&record(3)));
    }

    #[test]
    fn replacing_a_record_keeps_one_entry() {
        let mut store = RecordStore::new(2);
        store.insert([1; 32], record(1));
        store.insert([1; 32], record(9));
        store.insert([2; 32], record(2));
        assert_eq!(store.get(&[1; 32]), Some(&record(9)));
        assert_eq!(store.get(&[2; 32]), Some(&record(2)));
    }

    #[test]
    fn a_reply_is_taken_once_and_only_if_wanted() {
        let mut store = RecordStore::new(0);
        assert!(!store.answer(&[1; 32]));
        store.want([1; 32]);
        assert!(store.answer(&[1; 32]));
        assert!(!store.answer(&[1; 32]));
        store.insert([1; 32], record(1));
        assert_eq!(store.get(&[1; 32]), None);
    }

    #[test]
    fn outstanding_lookups_are_bounded() {
        let mut store = RecordStore::new(0);
        for index in 0..=MAX_WANTED {
            let mut key = [0; 32];
            key[..8].copy_from_slice(&(index as u64).to_be_bytes());
            store.want(key);
        }
        assert!(!store.answer(&[0; 32]));
        let mut last = [0; 32];
        last[..8].copy_from_slice(&(MAX_WANTED as u64).to_be_bytes());
        assert!(store.answer(&last));
    }
}
