//! Nonce generation and aggregation.
//!
//! lotus-lib derives `k1, k2` from `(sk, Q, m, extra)` alone, so without fresh `extra` a signer
//! asked to restart a session reuses its nonces against a different aggregate nonce and leaks
//! its key. Here nonces follow BIP327 NonceGen instead and always mix in caller randomness; the
//! resulting public nonces are ordinary points, indistinguishable from lotus-lib's.

use std::fmt;

use secp256k1::{Keypair, PublicKey, SecretKey};
use sha2::{Digest, Sha256};

use super::hash::{self, NONCE, NONCE_AUX};
use super::keyagg::LotusKeyAgg;
use super::point;
use super::scalar::Scalar;
use crate::crypto::CryptoError;

/// A signer's secret nonce pair `(k1, k2)` and the key it was made for.
///
/// Not `Clone`: it is moved into the one partial signature it may produce, and its scalars are
/// overwritten when it is dropped.
pub(crate) struct LotusSecretNonce {
    k1: SecretKey,
    k2: SecretKey,
    public_key: PublicKey,
}

impl LotusSecretNonce {
    /// The public key of the signer this nonce belongs to.
    pub(crate) fn public_key(&self) -> PublicKey {
        self.public_key
    }

    /// `(k1, k2)`.
    pub(super) fn scalars(&self) -> (Scalar, Scalar) {
        (
            Scalar::from_secret_key(self.k1),
            Scalar::from_secret_key(self.k2),
        )
    }
}

impl Drop for LotusSecretNonce {
    fn drop(&mut self) {
        self.k1.non_secure_erase();
        self.k2.non_secure_erase();
    }
}

impl fmt::Debug for LotusSecretNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LotusSecretNonce").finish_non_exhaustive()
    }
}

/// A signer's public nonce `(R1, R2) = (k1·G, k2·G)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LotusPublicNonce {
    pub(crate) r1: PublicKey,
    pub(crate) r2: PublicKey,
}

/// The aggregate nonce `(ΣR1_i, ΣR2_i)`; neither component is infinity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LotusAggNonce {
    pub(crate) r1: PublicKey,
    pub(crate) r2: PublicKey,
}

/// BIP327 NonceGen with every optional input present: `rand` (fresh bytes from the caller's
/// CSPRNG), the secret key, the public key, `Q` (33 bytes), the message and `extra`.
pub(crate) fn generate_nonce(
    agg: &LotusKeyAgg,
    keypair: &Keypair,
    message: &[u8; 32],
    rand: &[u8; 32],
    extra: &[u8; 32],
) -> (LotusSecretNonce, LotusPublicNonce) {
    let public_key = keypair.public_key();
    let secret = keypair.secret_key().to_secret_bytes();
    let mask = NONCE_AUX.hash(&[rand]);
    let mut seed = [0u8; 32];
    for ((out, secret_byte), mask_byte) in seed.iter_mut().zip(secret).zip(mask) {
        *out = secret_byte ^ mask_byte;
    }

    let mut base = NONCE.hasher();
    base.update(seed);
    base.update([33u8]);
    base.update(public_key.serialize());
    base.update([33u8]);
    base.update(agg.aggregate_key().serialize());
    base.update([1u8]); // message present
    base.update(32u64.to_be_bytes());
    base.update(message);
    base.update(32u32.to_be_bytes());
    base.update(extra);

    let k1 = derive_nonce_scalar(&base, 0);
    let k2 = derive_nonce_scalar(&base, 1);
    nonce_pair(k1, k2, public_key)
}

/// `k_i = TH("MuSig/nonce", … ‖ i) mod n`, never zero.
fn derive_nonce_scalar(base: &Sha256, index: u8) -> SecretKey {
    let mut hasher = base.clone();
    hasher.update([index]);
    let mut digest = hash::finish(hasher);
    loop {
        if let Some(key) = Scalar::reduce(&digest).secret_key() {
            return key;
        }
        // Reached only when the hash is 0 or n (probability 2^-255); rehashing keeps the
        // nonce unpredictable where BIP327 would abort.
        digest = hash::sha256(&[&digest]);
    }
}

fn nonce_pair(
    k1: SecretKey,
    k2: SecretKey,
    public_key: PublicKey,
) -> (LotusSecretNonce, LotusPublicNonce) {
    let public = LotusPublicNonce {
        r1: PublicKey::from_secret_key(&k1),
        r2: PublicKey::from_secret_key(&k2),
    };
    (LotusSecretNonce { k1, k2, public_key }, public)
}

/// Builds a secret nonce from given scalars, for conformance vectors only: a fixed nonce leaks
/// the key as soon as it signs twice.
///
/// Errors: `InvalidPublicNonce` when `k1` or `k2` is zero or not below n (no valid point).
#[cfg(feature = "test-vectors")]
pub(crate) fn secret_nonce_from_scalars(
    k1: &[u8; 32],
    k2: &[u8; 32],
    public_key: &PublicKey,
) -> Result<(LotusSecretNonce, LotusPublicNonce), CryptoError> {
    let k1 = SecretKey::from_secret_bytes(*k1).map_err(|_| CryptoError::InvalidPublicNonce)?;
    let k2 = SecretKey::from_secret_bytes(*k2).map_err(|_| CryptoError::InvalidPublicNonce)?;
    Ok(nonce_pair(k1, k2, *public_key))
}

/// `R1 = ΣR1_i`, `R2 = ΣR2_i` (partial sums may pass through infinity).
///
/// Errors: `EmptyNonceList`; `NonceAtInfinity` when a total is infinity (lotus-lib has no
/// encoding for it).
pub(crate) fn aggregate_nonces(nonces: &[LotusPublicNonce]) -> Result<LotusAggNonce, CryptoError> {
    if nonces.is_empty() {
        return Err(CryptoError::EmptyNonceList);
    }
    let firsts: Vec<&PublicKey> = nonces.iter().map(|nonce| &nonce.r1).collect();
    let seconds: Vec<&PublicKey> = nonces.iter().map(|nonce| &nonce.r2).collect();
    Ok(LotusAggNonce {
        r1: point::sum_finite(&firsts).ok_or(CryptoError::NonceAtInfinity)?,
        r2: point::sum_finite(&seconds).ok_or(CryptoError::NonceAtInfinity)?,
    })
}

#[cfg(test)]
pub(super) fn nonce_from_secret_keys(
    k1: SecretKey,
    k2: SecretKey,
    public_key: PublicKey,
) -> (LotusSecretNonce, LotusPublicNonce) {
    nonce_pair(k1, k2, public_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keypair(byte: u8) -> Keypair {
        Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
    }

    fn agg_of(keypairs: &[&Keypair]) -> LotusKeyAgg {
        let mut keys: Vec<PublicKey> = keypairs.iter().map(|k| k.public_key()).collect();
        keys.sort_by_key(PublicKey::serialize);
        LotusKeyAgg::new(&keys).unwrap()
    }

    #[test]
    fn nonces_depend_on_the_randomness_and_match_their_public_points() {
        let signer = keypair(1);
        let agg = agg_of(&[&signer, &keypair(2)]);
        let message = [5u8; 32];
        let (secret_a, public_a) = generate_nonce(&agg, &signer, &message, &[1; 32], &[0; 32]);
        let (_, public_b) = generate_nonce(&agg, &signer, &message, &[2; 32], &[0; 32]);
        let (_, public_c) = generate_nonce(&agg, &signer, &message, &[1; 32], &[3; 32]);
        assert_ne!(public_a, public_b);
        assert_ne!(public_a, public_c);
        assert_ne!(public_a.r1, public_a.r2);
        let (k1, k2) = secret_a.scalars();
        assert_eq!(point::mul_generator(&k1), Some(public_a.r1));
        assert_eq!(point::mul_generator(&k2), Some(public_a.r2));
        assert_eq!(secret_a.public_key(), signer.public_key());
    }

    #[test]
    fn debug_of_a_secret_nonce_shows_nothing() {
        let signer = keypair(1);
        let agg = agg_of(&[&signer]);
        let (secret, _) = generate_nonce(&agg, &signer, &[0; 32], &[1; 32], &[2; 32]);
        assert_eq!(format!("{secret:?}"), "LotusSecretNonce { .. }");
    }

    #[test]
    fn aggregation_refuses_empty_lists_and_infinite_totals() {
        assert_eq!(
            aggregate_nonces(&[]).unwrap_err(),
            CryptoError::EmptyNonceList
        );
        let a = keypair(3).public_key();
        let b = keypair(4).public_key();
        let cancelling = [
            LotusPublicNonce { r1: a, r2: b },
            LotusPublicNonce {
                r1: a.negate(),
                r2: b,
            },
        ];
        assert_eq!(
            aggregate_nonces(&cancelling).unwrap_err(),
            CryptoError::NonceAtInfinity
        );
        // Passing through infinity mid-way is fine.
        let through_infinity = [
            LotusPublicNonce { r1: a, r2: b },
            LotusPublicNonce {
                r1: a.negate(),
                r2: b.negate(),
            },
            LotusPublicNonce { r1: b, r2: a },
        ];
        let total = aggregate_nonces(&through_infinity).unwrap();
        assert_eq!(total, LotusAggNonce { r1: b, r2: a });
    }
}
