//! How the directory stores an advertisement: its canonical encoding and a summary to
//! filter on.

use core::mem::size_of;

use super::codec::postcard_bytes;
use super::footprint::{heap, TREE_SLOT};
use super::{SignerAdvertisement, SignerFilter};
use crate::node::PeerId;
use crate::time::Timestamp;

/// One advertisement in the directory.
///
/// The postcard encoding takes a third of the memory of the decoded value and its eight
/// heap blocks; searches read the summary and decode only what they return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredAdvertisement {
    encoded: Box<[u8]>,
    pub(crate) created_at: Timestamp,
    pub(crate) expires_at: Timestamp,
    min_amount: Option<u64>,
    max_amount: Option<u64>,
    pub(crate) score: Option<u8>,
    /// One bit per transaction type ([`type_bit`]): a type whose bit is clear is certainly
    /// not listed; decoding settles the rest.
    type_bits: u64,
}

/// The bit of a transaction type in [`StoredAdvertisement`]'s filter: FNV-1a, mod 64.
pub(crate) fn type_bit(transaction_type: &str) -> u64 {
    let hash = transaction_type
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    1 << (hash % 64)
}

impl StoredAdvertisement {
    pub(crate) fn new(advertisement: &SignerAdvertisement) -> Self {
        let content = &advertisement.content;
        let criteria = &content.criteria;
        StoredAdvertisement {
            // Copied into a block of the exact size: shrinking postcard's doubled buffer in
            // place would leave a fragment behind every entry.
            encoded: Box::from(postcard_bytes(advertisement).as_slice()),
            created_at: content.created_at,
            expires_at: content.expires_at,
            min_amount: criteria.min_amount,
            max_amount: criteria.max_amount,
            score: content
                .metadata
                .reputation
                .map(|reputation| reputation.score),
            type_bits: criteria
                .transaction_types
                .iter()
                .fold(0, |bits, kind| bits | type_bit(kind)),
        }
    }

    /// The advertisement (`None` only if the encoding were corrupt, which the directory
    /// never stores).
    pub(crate) fn decode(&self) -> Option<SignerAdvertisement> {
        postcard::from_bytes(&self.encoded).ok()
    }

    /// The advertised peer, read straight from the encoding: after the 33-byte key comes
    /// the peer id's length (one byte: at most
    /// [`MAX_PEER_ID_LEN`](super::MAX_PEER_ID_LEN), below 128) and its bytes.
    pub(crate) fn peer_bytes(&self) -> Option<&[u8]> {
        let len = usize::from(*self.encoded.get(33)?);
        self.encoded.get(34..34 + len)
    }

    /// Whether the peer that advertised is `peer`.
    pub(crate) fn is_from(&self, peer: &PeerId) -> bool {
        self.peer_bytes() == Some(peer.as_bytes())
    }

    /// Whether the advertisement may pass `filter` at `now`: false means it certainly does
    /// not; true is settled by [`SignerFilter::matches`] on the decoded advertisement.
    pub(crate) fn may_match(&self, now: Timestamp, filter: &SignerFilter, wanted_bit: u64) -> bool {
        self.expires_at > now
            && self.type_bits & wanted_bit == wanted_bit
            && filter.amount.is_none_or(|amount| {
                self.min_amount.is_none_or(|min| amount >= min)
                    && self.max_amount.is_none_or(|max| amount <= max)
            })
            && filter
                .min_reputation
                .is_none_or(|min| self.score.is_some_and(|score| score >= min))
    }

    /// Its memory in the directory: the encoding's heap block, and its slots in the entry
    /// and expiry B-trees (the entry slot holds the key and this summary, in nodes about
    /// two-thirds full).
    pub(crate) fn footprint(&self) -> usize {
        heap(self.encoded.len()) + (33 + size_of::<StoredAdvertisement>()) * 3 / 2 + TREE_SLOT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Keypair, SecretKey};
    use crate::discovery::{AdvertisementContent, SignerCriteria, SignerMetadata, MAX_PEER_ID_LEN};

    #[test]
    fn round_trips_and_reads_the_peer_from_the_encoding() {
        let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
        for peer in [PeerId::new([7]), PeerId::new(vec![9; MAX_PEER_ID_LEN])] {
            let content = AdvertisementContent::new(
                peer.clone(),
                SignerCriteria::new(["spend", "swap"]),
                SignerMetadata::default(),
                Timestamp::from_millis(5),
                core::time::Duration::from_secs(60),
            );
            let advertisement = SignerAdvertisement::sign(content, &alice, &[0; 32]);
            let stored = StoredAdvertisement::new(&advertisement);
            assert_eq!(stored.decode(), Some(advertisement));
            assert!(stored.is_from(&peer));
            assert!(!stored.is_from(&PeerId::new([8])));
        }
    }

    #[test]
    fn the_type_filter_never_misses_a_listed_type() {
        let types: Vec<String> = (0..200).map(|index| format!("type-{index}")).collect();
        let bits = types
            .iter()
            .take(16)
            .fold(0, |bits, kind| bits | type_bit(kind));
        for kind in types.iter().take(16) {
            assert_eq!(bits & type_bit(kind), type_bit(kind));
        }
        // And it rules most others out.
        let ruled_out = types[16..]
            .iter()
            .filter(|kind| bits & type_bit(kind) == 0)
            .count();
        assert!(ruled_out > 50, "{ruled_out}");
    }
}
