//! lotus-lib `musigKeyAgg`: list hash, coefficients and aggregate key, plus the Taproot tweak.

use std::fmt;

use secp256k1::PublicKey;

use super::hash::{KEYAGG_COEFFICIENT, KEYAGG_LIST, TAP_TWEAK};
use super::point;
use super::scalar::Scalar;
use crate::crypto::CryptoError;

/// A Lotus key aggregation: the sorted signers, their coefficients and `Q`.
///
/// Everything is computed once here so that signing and verifying never rehash the key list.
#[derive(Clone)]
pub(crate) struct LotusKeyAgg {
    keys: Vec<PublicKey>,
    coefficients: Vec<Scalar>,
    list_hash: [u8; 32],
    /// `Q = Σ a_i·P_i`, before any tweak.
    internal_key: PublicKey,
    /// `Q` after the Taproot tweaks (equal to `internal_key` without one).
    aggregate_key: PublicKey,
    /// Sum of the Taproot tweaks applied; signer 0 adds `e·t` to its partial signature.
    tweak: Scalar,
}

impl LotusKeyAgg {
    /// Aggregates keys the caller has already sorted (duplicates kept, in place).
    ///
    /// Errors: `EmptyKeyList`; `InvalidPublicKey` when `Q` is the point at infinity.
    pub(crate) fn new(sorted_keys: &[PublicKey]) -> Result<Self, CryptoError> {
        let first = sorted_keys.first().ok_or(CryptoError::EmptyKeyList)?;
        let serialized: Vec<[u8; 33]> = sorted_keys.iter().map(PublicKey::serialize).collect();

        let mut list_hasher = KEYAGG_LIST.hasher();
        for key in &serialized {
            sha2::Digest::update(&mut list_hasher, key);
        }
        let list_hash = super::hash::finish(list_hasher);

        let coefficients: Vec<Scalar> = serialized
            .iter()
            .enumerate()
            .map(|(index, key)| {
                // lotus-lib's only shortcut: the second key when it repeats the first.
                // (BIP327 instead exempts the first key different from the first.)
                if index == 1 && sorted_keys.get(1) == Some(first) {
                    Scalar::one()
                } else {
                    Scalar::reduce(&KEYAGG_COEFFICIENT.hash(&[&list_hash, key]))
                }
            })
            .collect();

        let terms: Vec<Option<PublicKey>> = sorted_keys
            .iter()
            .zip(&coefficients)
            .map(|(key, coefficient)| point::mul(key, coefficient))
            .collect();
        let internal_key = point::sum(&terms).ok_or(CryptoError::InvalidPublicKey)?;

        Ok(LotusKeyAgg {
            keys: sorted_keys.to_vec(),
            coefficients,
            list_hash,
            internal_key,
            aggregate_key: internal_key,
            tweak: Scalar::ZERO,
        })
    }

    /// `Q` as signatures verify under it (after any Taproot tweak).
    pub(crate) fn aggregate_key(&self) -> PublicKey {
        self.aggregate_key
    }

    /// Applies the Lotus Taproot key-path tweak `t = TH("TapTweak", Q ‖ merkle_root)`,
    /// `Q' = Q + t·G`; the merkle root defaults to 32 zero bytes (key path only).
    ///
    /// Errors: `InvalidTweak` when `t ≥ n` or `Q'` is the point at infinity.
    pub(crate) fn tweak_taproot(
        &mut self,
        merkle_root: Option<&[u8; 32]>,
    ) -> Result<(), CryptoError> {
        let root = merkle_root.copied().unwrap_or([0u8; 32]);
        let tweak_bytes = TAP_TWEAK.hash(&[&self.aggregate_key.serialize(), &root]);
        let tweak = Scalar::from_canonical(&tweak_bytes).ok_or(CryptoError::InvalidTweak)?;
        let tweaked = point::add_public_multiple_of_generator(Some(self.aggregate_key), &tweak)
            .ok_or(CryptoError::InvalidTweak)?;
        self.aggregate_key = tweaked;
        self.tweak = self.tweak.add(tweak);
        Ok(())
    }

    /// The signers in aggregation (sorted) order.
    pub(crate) fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// `a_i` as a scalar.
    pub(super) fn coefficient_scalar(&self, index: usize) -> Option<Scalar> {
        self.coefficients.get(index).copied()
    }

    /// The accumulated Taproot tweak (zero when untweaked).
    pub(super) fn tweak(&self) -> Scalar {
        self.tweak
    }
}

/// Intermediate values the conformance vectors check.
#[cfg(any(test, feature = "test-vectors"))]
impl LotusKeyAgg {
    /// The list hash `L`.
    pub(crate) fn list_hash(&self) -> [u8; 32] {
        self.list_hash
    }

    /// The coefficient `a_i` reduced mod n, or `None` when `index` is not a signer.
    pub(crate) fn coefficient(&self, index: usize) -> Option<[u8; 32]> {
        self.coefficients
            .get(index)
            .map(|coefficient| coefficient.to_bytes())
    }
}

impl fmt::Debug for LotusKeyAgg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LotusKeyAgg")
            .field("keys", &self.keys)
            .field("list_hash", &hex::encode(self.list_hash))
            .field("internal_key", &self.internal_key)
            .field("aggregate_key", &self.aggregate_key)
            .field("tweaked", &!self.tweak.is_zero())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secp256k1::SecretKey;

    fn key(byte: u8) -> PublicKey {
        PublicKey::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
    }

    fn sorted(keys: &[PublicKey]) -> Vec<PublicKey> {
        let mut keys = keys.to_vec();
        keys.sort_by_key(PublicKey::serialize);
        keys
    }

    #[test]
    fn empty_list_is_refused() {
        assert_eq!(
            LotusKeyAgg::new(&[]).unwrap_err(),
            CryptoError::EmptyKeyList
        );
    }

    #[test]
    fn only_a_repeated_first_key_gets_coefficient_one() {
        let keys = sorted(&[key(1), key(2), key(3)]);
        let one = Scalar::one().to_bytes();
        let repeated_first = LotusKeyAgg::new(&[keys[0], keys[0], keys[1]]).unwrap();
        assert_eq!(repeated_first.coefficient(1), Some(one));
        assert_ne!(repeated_first.coefficient(0), Some(one));
        let repeated_last = LotusKeyAgg::new(&[keys[0], keys[1], keys[1]]).unwrap();
        assert!((0..3).all(|i| repeated_last.coefficient(i) != Some(one)));
        assert_eq!(repeated_last.coefficient(3), None);
    }

    #[test]
    fn taproot_tweak_moves_the_key_by_t_g() {
        let mut agg = LotusKeyAgg::new(&sorted(&[key(4), key(5)])).unwrap();
        let q = agg.aggregate_key();
        let root = [9u8; 32];
        agg.tweak_taproot(Some(&root)).unwrap();
        let t = Scalar::reduce(&TAP_TWEAK.hash(&[&q.serialize(), &root]));
        let expected = q.combine(&point::mul_generator(&t).unwrap()).unwrap();
        assert_eq!(agg.aggregate_key(), expected);
        assert_eq!(agg.tweak(), t);

        let mut default_root = LotusKeyAgg::new(&sorted(&[key(4), key(5)])).unwrap();
        let mut zero_root = default_root.clone();
        default_root.tweak_taproot(None).unwrap();
        zero_root.tweak_taproot(Some(&[0u8; 32])).unwrap();
        assert_eq!(default_root.aggregate_key(), zero_root.aggregate_key());
    }
}
