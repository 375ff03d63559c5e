//! lotus-lib's hashes: BIP340-style tagged hashes with cached midstates, and plain SHA-256.
//!
//! `TH(tag, x) = SHA256(SHA256(tag) ‖ SHA256(tag) ‖ x)`. The 64-byte prefix is exactly one
//! SHA-256 block, so the hasher state after it is computed once per tag and cloned: each
//! tagged hash then costs the compressions of its data only.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// A tag whose prefixed hasher state is computed on first use.
pub(crate) struct Tag(LazyLock<Sha256>);

impl Tag {
    /// A hasher that has already absorbed `SHA256(tag) ‖ SHA256(tag)`.
    pub(crate) fn hasher(&self) -> Sha256 {
        Sha256::clone(&self.0)
    }

    /// `TH(tag, parts[0] ‖ parts[1] ‖ …)`.
    pub(crate) fn hash(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut hasher = self.hasher();
        for part in parts {
            hasher.update(part);
        }
        finish(hasher)
    }
}

fn prefixed(tag: &str) -> Sha256 {
    crate::crypto::bip340::tagged_hasher(tag.as_bytes())
}

/// `L = TH("KeyAgg list", keys)`.
pub(crate) static KEYAGG_LIST: Tag = Tag(LazyLock::new(|| prefixed("KeyAgg list")));
/// `a_i = TH("KeyAgg coefficient", L ‖ P_i)`.
pub(crate) static KEYAGG_COEFFICIENT: Tag = Tag(LazyLock::new(|| prefixed("KeyAgg coefficient")));
/// `b = TH("MuSig/noncecoef", Q ‖ R1 ‖ R2 ‖ m)`.
pub(crate) static NONCE_COEFFICIENT: Tag = Tag(LazyLock::new(|| prefixed("MuSig/noncecoef")));
/// BIP327 NonceGen's masking of the caller's randomness.
pub(crate) static NONCE_AUX: Tag = Tag(LazyLock::new(|| prefixed("MuSig/aux")));
/// BIP327 NonceGen's nonce derivation.
pub(crate) static NONCE: Tag = Tag(LazyLock::new(|| prefixed("MuSig/nonce")));
/// `t = TH("TapTweak", Q ‖ merkle_root)`.
pub(crate) static TAP_TWEAK: Tag = Tag(LazyLock::new(|| prefixed("TapTweak")));

/// Plain `SHA256(parts[0] ‖ parts[1] ‖ …)` (the Lotus Schnorr challenge).
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    finish(hasher)
}

/// The 32-byte digest of a hasher.
pub(crate) fn finish(hasher: Sha256) -> [u8; 32] {
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uncached_tagged_hash(tag: &str, data: &[u8]) -> [u8; 32] {
        let tag_hash = Sha256::digest(tag.as_bytes());
        let mut whole = Vec::new();
        whole.extend_from_slice(&tag_hash);
        whole.extend_from_slice(&tag_hash);
        whole.extend_from_slice(data);
        Sha256::digest(&whole).into()
    }

    #[test]
    fn cached_midstates_equal_the_definition() {
        let data: Vec<u8> = (0u8..=200).collect();
        for (tag, name) in [
            (&KEYAGG_LIST, "KeyAgg list"),
            (&KEYAGG_COEFFICIENT, "KeyAgg coefficient"),
            (&NONCE_COEFFICIENT, "MuSig/noncecoef"),
            (&NONCE_AUX, "MuSig/aux"),
            (&NONCE, "MuSig/nonce"),
            (&TAP_TWEAK, "TapTweak"),
        ] {
            assert_eq!(
                tag.hash(&[&data[..17], &data[17..]]),
                uncached_tagged_hash(name, &data)
            );
            assert_eq!(tag.hash(&[]), uncached_tagged_hash(name, &[]));
        }
    }

    #[test]
    fn plain_sha256_matches_the_known_empty_digest() {
        assert_eq!(
            hex::encode(sha256(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(sha256(&[b"ab", b"c"]), sha256(&[b"abc"]));
    }
}
