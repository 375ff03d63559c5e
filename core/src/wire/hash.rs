//! Domain-separated hashes of the wire layer.
//!
//! Each kind of signed or committed value gets its own BIP340-style tag, so a signature
//! made for one purpose (an envelope, a nonce commitment) can never be replayed as another, nor
//! as a signature over a transaction.

/// The tag of envelope signatures.
pub(crate) const ENVELOPE_TAG: &[u8] = b"chorus/envelope/v1";
/// The tag of nonce commitments.
pub(crate) const NONCE_COMMITMENT_TAG: &[u8] = b"chorus/nonce-commitment/v1";

/// BIP340's tagged hash, the one implementation every layer uses.
pub(crate) use crate::crypto::bip340::tagged_hash;

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn tagged_hash_prefixes_the_tag_digest_twice() {
        let tag_hash = Sha256::digest(b"chorus/test");
        let mut preimage = Vec::new();
        preimage.extend_from_slice(&tag_hash);
        preimage.extend_from_slice(&tag_hash);
        preimage.extend_from_slice(b"abc");
        let expected: [u8; 32] = Sha256::digest(&preimage).into();
        assert_eq!(tagged_hash(b"chorus/test", &[b"a", b"bc"]), expected);
    }

    #[test]
    fn tags_separate_domains() {
        let data: &[&[u8]] = &[&[1; 32]];
        assert_ne!(
            tagged_hash(ENVELOPE_TAG, data),
            tagged_hash(NONCE_COMMITMENT_TAG, data)
        );
    }
}
