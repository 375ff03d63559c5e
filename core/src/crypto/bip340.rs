//! BIP340-dialect pieces the `musig` module of the `secp256k1` crate leaves to its caller.

use secp256k1::{Scalar, XOnlyPublicKey};
use sha2::{Digest, Sha256};

use super::CryptoError;

/// A hasher that has absorbed BIP340's tag prefix `SHA256(tag) || SHA256(tag)`.
pub(crate) fn tagged_hasher(tag: &[u8]) -> Sha256 {
    let tag_hash = Sha256::digest(tag);
    let mut hasher = Sha256::new();
    hasher.update(tag_hash);
    hasher.update(tag_hash);
    hasher
}

/// BIP340 tagged hash: `SHA256(SHA256(tag) || SHA256(tag) || parts...)`.
pub(crate) fn tagged_hash(tag: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = tagged_hasher(tag);
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Parses a 32-byte big-endian tweak, refusing values at or above the group order.
pub(crate) fn parse_tweak(tweak: &[u8; 32]) -> Result<Scalar, CryptoError> {
    Scalar::from_be_bytes(*tweak).map_err(|_| CryptoError::InvalidTweak)
}

/// The BIP341 key-path tweak `TaggedHash("TapTweak", x(Q) [|| merkle_root])`.
pub(crate) fn taproot_tweak(
    internal_key: &XOnlyPublicKey,
    merkle_root: Option<&[u8; 32]>,
) -> [u8; 32] {
    let key = internal_key.to_byte_array();
    match merkle_root {
        Some(root) => tagged_hash(b"TapTweak", &[&key, root]),
        None => tagged_hash(b"TapTweak", &[&key]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_hash_matches_bip340_challenge_definition() {
        // BIP340's tag prefix is the tag's SHA256 written twice; check against a direct build.
        let tag = Sha256::digest(b"BIP0340/challenge");
        let mut direct = Sha256::new();
        direct.update(tag);
        direct.update(tag);
        direct.update(b"abc");
        let expected: [u8; 32] = direct.finalize().into();
        assert_eq!(tagged_hash(b"BIP0340/challenge", &[b"a", b"bc"]), expected);
    }

    #[test]
    fn tweak_at_group_order_is_refused() {
        let order = hex::decode("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141")
            .unwrap();
        let order: [u8; 32] = order.try_into().unwrap();
        assert_eq!(parse_tweak(&order), Err(CryptoError::InvalidTweak));
        let mut below = order;
        below[31] -= 1;
        assert!(parse_tweak(&below).is_ok());
    }
}
