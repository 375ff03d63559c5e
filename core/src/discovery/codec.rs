//! Hashing, signing and serde adapters shared by the discovery records.

use serde::{Deserialize, Serialize};

use crate::crypto::{self, Dialect, Keypair, PublicKey, Signature};

/// The tag of advertisement ids (which the advertiser signs).
pub(crate) const ADVERTISEMENT_TAG: &[u8] = b"chorus/advertisement/v1";
/// The tag of withdrawal digests.
pub(crate) const WITHDRAWAL_TAG: &[u8] = b"chorus/withdrawal/v1";
/// The tag of request ids (which the creator signs).
pub(crate) const REQUEST_TAG: &[u8] = b"chorus/signing-request/v1";
/// The tag of join-proof digests.
pub(crate) const JOIN_TAG: &[u8] = b"chorus/request-join/v1";
/// The tag of session ids derived from a request.
pub(crate) const SESSION_TAG: &[u8] = b"chorus/request-session/v1";
/// The tag of DHT keys of advertisements.
pub(crate) const SIGNER_RECORD_TAG: &[u8] = b"chorus/dht/signer/v1";

/// BIP340's tagged hash, the one implementation every layer uses.
pub(crate) use crate::crypto::bip340::tagged_hash;

/// The postcard encoding of `value`.
///
/// Postcard fails only when its output buffer is full or a sequence does not know its
/// length; a growing `Vec` and these record types (structs, slices, `Vec`s, strings) rule
/// out both, so the empty fallback is never taken. It exists because the core must not
/// panic.
pub(crate) fn postcard_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).unwrap_or_default()
}

/// `tagged_hash(tag, postcard(value))`: the canonical binary digest of a record.
pub(crate) fn record_digest<T: Serialize>(tag: &[u8], value: &T) -> [u8; 32] {
    tagged_hash(tag, &[&postcard_bytes(value)])
}

/// A BIP340 signature over `digest`, whatever dialect a session later signs in: discovery
/// records only authenticate a key holder, as envelopes do.
pub(crate) fn sign_digest(keypair: &Keypair, digest: &[u8; 32], aux_rand: &[u8; 32]) -> [u8; 64] {
    crypto::sign_single(Dialect::Bip340, keypair, digest, aux_rand).to_bytes()
}

/// Whether `signature` is `key`'s BIP340 signature over `digest`.
///
/// BIP340 verifies under the x-only key; every digest covers the full 33-byte key, so a
/// signature cannot stand for the key of the other parity.
pub(crate) fn verify_digest(key: &PublicKey, digest: &[u8; 32], signature: &[u8; 64]) -> bool {
    crypto::verify(
        Dialect::Bip340,
        key,
        digest,
        &Signature::from_bytes(signature),
    )
}

/// Parses a 33-byte compressed key.
pub(crate) fn parse_key(bytes: &[u8; 33]) -> Option<PublicKey> {
    PublicKey::from_byte_array_compressed(*bytes).ok()
}

/// Serde for [`PeerId`](crate::node::PeerId) as a length-prefixed byte string.
pub(crate) mod peer_id {
    use serde::{Deserializer, Serializer};

    use super::{Deserialize, Serialize};
    use crate::node::PeerId;

    pub(crate) fn serialize<S: Serializer>(
        peer: &PeerId,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        peer.as_bytes().serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<PeerId, D::Error> {
        Vec::<u8>::deserialize(deserializer).map(PeerId::new)
    }
}

/// Whether `text` is a transaction type: 1 or more of `a-z 0-9 . _ -`, so it can name a
/// topic as it is.
pub(crate) fn is_transaction_type(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"._-".contains(&byte)
        })
}

/// Whether free text is displayable as it is: no control characters.
pub(crate) fn is_display_text(text: &str) -> bool {
    !text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::PeerId;

    #[test]
    fn tags_are_distinct() {
        let tags = [
            ADVERTISEMENT_TAG,
            WITHDRAWAL_TAG,
            REQUEST_TAG,
            JOIN_TAG,
            SESSION_TAG,
            SIGNER_RECORD_TAG,
            b"chorus/join/v1",
            b"chorus/envelope/v1",
        ];
        let unique: std::collections::BTreeSet<_> = tags.iter().collect();
        assert_eq!(unique.len(), tags.len());
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "peer_id")]
        peer: PeerId,
    }

    #[test]
    fn peer_ids_round_trip_as_length_prefixed_bytes() {
        let holder = Holder {
            peer: PeerId::new(vec![1, 2, 3]),
        };
        let bytes = postcard_bytes(&holder);
        assert_eq!(bytes, [3, 1, 2, 3]);
        assert_eq!(postcard::from_bytes::<Holder>(&bytes).unwrap(), holder);
    }

    #[test]
    fn transaction_types_are_topic_safe() {
        for good in ["spend", "swap", "coin-join", "v1.2_x"] {
            assert!(is_transaction_type(good), "{good}");
        }
        for bad in ["", "Spend", "a b", "a/b", "é", "x\n"] {
            assert!(!is_transaction_type(bad), "{bad:?}");
        }
    }

    #[test]
    fn display_text_refuses_control_characters() {
        assert!(is_display_text("Alice's wallet — fast"));
        assert!(!is_display_text("evil\u{1b}[2J"));
    }
}
