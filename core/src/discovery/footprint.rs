//! Estimated resident memory of stored records, which the stores' memory budgets count.
//!
//! Count caps alone do not bound memory: the largest signing request the field bounds allow
//! takes about sixteen times the memory of a typical one. So each store also adds up an
//! estimate of what each record costs — the value itself, every heap block it owns, and its
//! slots in the store's B-trees — and evicts when the sum passes its budget. The estimate
//! follows glibc's allocator (16-byte-aligned chunks with an 8-byte header, 32 bytes at
//! least); the memory benchmark checks it against the resident set size.

use super::SigningRequest;
use crate::node::PeerId;

/// One entry's slot in a B-tree (key, value or pointer), amortized over nodes that are
/// about two-thirds full.
pub(crate) const TREE_SLOT: usize = 64;

/// What the allocator sets aside for a `len`-byte block.
pub(crate) const fn heap(len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let chunk = (len + 8 + 15) & !15;
    if chunk < 32 {
        32
    } else {
        chunk
    }
}

/// The heap blocks a peer id owns.
pub(crate) fn peer_heap(peer: &PeerId) -> usize {
    heap(peer.as_bytes().len())
}

impl SigningRequest {
    /// The heap blocks the request owns (not the request value itself, nor the store's
    /// slots).
    pub(crate) fn heap_footprint(&self) -> usize {
        let content = &self.content;
        let metadata = &content.metadata;
        heap(content.required_keys.len() * 33)
            + heap(metadata.transaction.len())
            + metadata
                .transaction_type
                .as_ref()
                .map_or(0, |kind| heap(kind.len()))
            + heap(metadata.description.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_rounds_like_glibc() {
        assert_eq!(heap(0), 0);
        assert_eq!(heap(1), 32);
        assert_eq!(heap(24), 32);
        assert_eq!(heap(25), 48);
        assert_eq!(heap(33), 48);
        assert_eq!(heap(250), 272);
    }
}
