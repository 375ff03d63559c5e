//! Key aggregation: the ordered signer list, the aggregate key and its tweaks.

use core::fmt;

use secp256k1::musig::KeyAggCache;
use secp256k1::{PublicKey, XOnlyPublicKey};

use super::{bip340, lotus, CryptoError, Dialect};

/// A compressed key next to its position in the signer list, ordered by key bytes.
type KeyPosition = ([u8; 33], usize);

/// Sorts 33-byte compressed keys ascending (BIP327 KeySort; lotus-lib's order too).
///
/// Duplicates are kept.
///
/// ```
/// use chorus_core::crypto::{sort_keys, Keypair, SecretKey};
///
/// let a = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap()).public_key();
/// let b = Keypair::from_secret_key(&SecretKey::from_secret_bytes([2; 32]).unwrap()).public_key();
/// let sorted = sort_keys(&[b, a, b]);
/// assert_eq!(sorted, sort_keys(&[a, b, b]));
/// assert!(sorted[0].serialize() <= sorted[1].serialize());
/// ```
pub fn sort_keys(keys: &[PublicKey]) -> Vec<PublicKey> {
    sorted_with_bytes(keys)
        .into_iter()
        .map(|(_, key)| key)
        .collect()
}

/// Keys sorted by their compressed encoding, serializing each key once.
fn sorted_with_bytes(keys: &[PublicKey]) -> Vec<([u8; 33], PublicKey)> {
    let mut with_bytes: Vec<([u8; 33], PublicKey)> =
        keys.iter().map(|key| (key.serialize(), *key)).collect();
    with_bytes.sort_unstable_by_key(|(bytes, _)| *bytes);
    with_bytes
}

/// The dialect-specific aggregation state.
#[derive(Clone)]
pub(crate) enum AggregationState {
    /// libsecp256k1's key aggregation cache (aggregate key, tweak accumulator, parity).
    Bip340(KeyAggCache),
    /// lotus-lib's key aggregation (coefficients, Q, Taproot tweak).
    Lotus(lotus::LotusKeyAgg),
}

/// Key aggregation context: the ordered signer list, the aggregate key, tweaks applied.
///
/// Built once per signer set and shared by every session over it. Holds public data only,
/// so it is `Clone` and `Debug`.
///
/// ```
/// use chorus_core::crypto::{Dialect, KeyAggContext, Keypair, SecretKey};
///
/// let keys: Vec<_> = [[3u8; 32], [1; 32], [2; 32]]
///     .iter()
///     .map(|bytes| Keypair::from_secret_key(&SecretKey::from_secret_bytes(*bytes).unwrap()).public_key())
///     .collect();
/// let mut ctx = KeyAggContext::new(Dialect::Bip340, &keys).unwrap();
/// assert_eq!(ctx.signers().len(), 3);
/// assert_eq!(ctx.signer_index(&ctx.signers()[1]), Some(1));
/// let untweaked = ctx.xonly_key().unwrap();
/// ctx.tweak_taproot(None).unwrap();
/// assert_ne!(ctx.xonly_key().unwrap(), untweaked);
/// ```
#[derive(Clone)]
pub struct KeyAggContext {
    signers: Vec<PublicKey>,
    /// Every signer's key bytes and index, sorted by bytes then index, for O(log n) lookups.
    positions: Vec<KeyPosition>,
    state: AggregationState,
}

impl KeyAggContext {
    /// Sorts `keys` (KeySort) then aggregates them.
    ///
    /// Duplicates are allowed and keep one signer index each.
    ///
    /// # Errors
    ///
    /// [`CryptoError::EmptyKeyList`] for no keys; in the Lotus dialect,
    /// [`CryptoError::InvalidPublicKey`] when the aggregate is the point at infinity.
    ///
    /// ```
    /// use chorus_core::crypto::{CryptoError, Dialect, KeyAggContext, Keypair, SecretKey};
    ///
    /// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([7; 32]).unwrap()).public_key();
    /// let ctx = KeyAggContext::new(Dialect::Lotus, &[key, key]).unwrap();
    /// assert_eq!(ctx.signer_index(&key), Some(0));
    /// assert_eq!(KeyAggContext::new(Dialect::Lotus, &[]).unwrap_err(), CryptoError::EmptyKeyList);
    /// ```
    pub fn new(dialect: Dialect, keys: &[PublicKey]) -> Result<Self, CryptoError> {
        if keys.is_empty() {
            return Err(CryptoError::EmptyKeyList);
        }
        let sorted = sorted_with_bytes(keys);
        let signers: Vec<PublicKey> = sorted.iter().map(|(_, key)| *key).collect();
        // Sorted keys make the lookup table come out sorted too: no second sort.
        let positions = sorted
            .iter()
            .enumerate()
            .map(|(index, (bytes, _))| (*bytes, index))
            .collect();
        let state = aggregate(dialect, &signers)?;
        Ok(KeyAggContext {
            signers,
            positions,
            state,
        })
    }

    /// Aggregates `keys` in the given order (BIP327 allows any order).
    ///
    /// # Errors
    ///
    /// [`CryptoError::EmptyKeyList`] for no keys; [`CryptoError::UnsupportedInDialect`] in the
    /// Lotus dialect, whose keys are always sorted.
    ///
    /// ```
    /// use chorus_core::crypto::{Dialect, KeyAggContext, Keypair, SecretKey};
    ///
    /// let a = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap()).public_key();
    /// let b = Keypair::from_secret_key(&SecretKey::from_secret_bytes([2; 32]).unwrap()).public_key();
    /// let ab = KeyAggContext::new_unsorted(Dialect::Bip340, &[a, b]).unwrap();
    /// let ba = KeyAggContext::new_unsorted(Dialect::Bip340, &[b, a]).unwrap();
    /// assert_eq!(ab.signers(), &[a, b]);
    /// assert_ne!(ab.xonly_key(), ba.xonly_key());
    /// assert!(KeyAggContext::new_unsorted(Dialect::Lotus, &[a, b]).is_err());
    /// ```
    pub fn new_unsorted(dialect: Dialect, keys: &[PublicKey]) -> Result<Self, CryptoError> {
        if keys.is_empty() {
            return Err(CryptoError::EmptyKeyList);
        }
        if dialect == Dialect::Lotus {
            return Err(CryptoError::UnsupportedInDialect {
                operation: "unsorted key aggregation",
                dialect,
            });
        }
        let mut positions: Vec<KeyPosition> = keys
            .iter()
            .enumerate()
            .map(|(index, key)| (key.serialize(), index))
            .collect();
        positions.sort_unstable();
        let state = aggregate(dialect, keys)?;
        Ok(KeyAggContext {
            signers: keys.to_vec(),
            positions,
            state,
        })
    }

    /// The dialect this context aggregates in.
    pub fn dialect(&self) -> Dialect {
        match self.state {
            AggregationState::Bip340(_) => Dialect::Bip340,
            AggregationState::Lotus(_) => Dialect::Lotus,
        }
    }

    /// Signers in aggregation order: signer index `i` means `signers()[i]`.
    pub fn signers(&self) -> &[PublicKey] {
        &self.signers
    }

    /// First index of `key` in [`signers`](Self::signers), found in O(log n).
    pub fn signer_index(&self, key: &PublicKey) -> Option<usize> {
        let bytes = key.serialize();
        let first = self
            .positions
            .partition_point(|(candidate, _)| *candidate < bytes);
        match self.positions.get(first) {
            Some((candidate, index)) if *candidate == bytes => Some(*index),
            _ => None,
        }
    }

    /// The aggregate (possibly tweaked) key as a full 33-byte point.
    ///
    /// Bip340: libsecp256k1's full aggregate point after tweaks; Lotus: Q.
    pub fn aggregate_key(&self) -> PublicKey {
        match &self.state {
            AggregationState::Bip340(cache) => cache.agg_pk_full(),
            AggregationState::Lotus(agg) => agg.aggregate_key(),
        }
    }

    /// Bip340: the x-only key a BIP340 signature verifies under; Lotus: `None`.
    pub fn xonly_key(&self) -> Option<XOnlyPublicKey> {
        match &self.state {
            AggregationState::Bip340(cache) => Some(cache.agg_pk()),
            AggregationState::Lotus(_) => None,
        }
    }

    /// Applies a plain (BIP327 "non-x-only") tweak; Bip340 only.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidTweak`] when the tweak is not below the group order or the result is
    /// the point at infinity (the context is then unchanged);
    /// [`CryptoError::UnsupportedInDialect`] in the Lotus dialect.
    ///
    /// ```
    /// use chorus_core::crypto::{CryptoError, Dialect, KeyAggContext, Keypair, SecretKey};
    ///
    /// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([5; 32]).unwrap()).public_key();
    /// let mut ctx = KeyAggContext::new(Dialect::Bip340, &[key]).unwrap();
    /// ctx.tweak_plain(&[1; 32]).unwrap();
    /// assert_eq!(ctx.tweak_plain(&[0xff; 32]), Err(CryptoError::InvalidTweak));
    /// ```
    pub fn tweak_plain(&mut self, tweak: &[u8; 32]) -> Result<(), CryptoError> {
        self.tweak_bip340(tweak, "plain tweak", |cache, scalar| {
            cache.pubkey_ec_tweak_add(scalar).map(drop)
        })
    }

    /// Applies an x-only tweak; Bip340 only.
    ///
    /// # Errors
    ///
    /// As [`tweak_plain`](Self::tweak_plain).
    ///
    /// ```
    /// use chorus_core::crypto::{CryptoError, Dialect, KeyAggContext, Keypair, SecretKey};
    ///
    /// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([5; 32]).unwrap()).public_key();
    /// let mut lotus = KeyAggContext::new(Dialect::Lotus, &[key]).unwrap();
    /// assert!(matches!(lotus.tweak_xonly(&[1; 32]), Err(CryptoError::UnsupportedInDialect { .. })));
    /// ```
    pub fn tweak_xonly(&mut self, tweak: &[u8; 32]) -> Result<(), CryptoError> {
        self.tweak_bip340(tweak, "x-only tweak", |cache, scalar| {
            cache.pubkey_xonly_tweak_add(scalar).map(drop)
        })
    }

    /// Applies the BIP341 / Lotus Taproot key-path tweak.
    ///
    /// Bip340: `t = TaggedHash("TapTweak", xonly(Q) [|| merkle_root])`, applied as an x-only
    /// tweak. Lotus: `t = TaggedHash("TapTweak", Q33 || merkle_root)` with `merkle_root`
    /// defaulting to 32 zero bytes, `Q' = Q + t*G`.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidTweak`] when `t` is not below the group order or `Q'` is the point
    /// at infinity; the context is then unchanged.
    ///
    /// ```
    /// use chorus_core::crypto::{Dialect, KeyAggContext, Keypair, SecretKey};
    ///
    /// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([9; 32]).unwrap()).public_key();
    /// let mut ctx = KeyAggContext::new(Dialect::Lotus, &[key]).unwrap();
    /// let internal = ctx.aggregate_key();
    /// ctx.tweak_taproot(Some(&[0xab; 32])).unwrap();
    /// assert_ne!(ctx.aggregate_key(), internal);
    /// ```
    pub fn tweak_taproot(&mut self, merkle_root: Option<&[u8; 32]>) -> Result<(), CryptoError> {
        let tweak = match &mut self.state {
            AggregationState::Bip340(cache) => bip340::taproot_tweak(&cache.agg_pk(), merkle_root),
            AggregationState::Lotus(agg) => {
                let mut tweaked = agg.clone();
                tweaked.tweak_taproot(merkle_root)?;
                *agg = tweaked;
                return Ok(());
            }
        };
        self.tweak_bip340(&tweak, "taproot tweak", |cache, scalar| {
            cache.pubkey_xonly_tweak_add(scalar).map(drop)
        })
    }

    /// Applies `apply` to a copy of the cache and keeps the copy only on success.
    fn tweak_bip340<E>(
        &mut self,
        tweak: &[u8; 32],
        operation: &'static str,
        apply: impl FnOnce(&mut KeyAggCache, &secp256k1::Scalar) -> Result<(), E>,
    ) -> Result<(), CryptoError> {
        let dialect = self.dialect();
        let AggregationState::Bip340(cache) = &mut self.state else {
            return Err(CryptoError::UnsupportedInDialect { operation, dialect });
        };
        let scalar = bip340::parse_tweak(tweak)?;
        let mut tweaked = *cache;
        apply(&mut tweaked, &scalar).map_err(|_| CryptoError::InvalidTweak)?;
        *cache = tweaked;
        Ok(())
    }

    /// The dialect-specific aggregation state, for the signing steps.
    pub(crate) fn state(&self) -> &AggregationState {
        &self.state
    }
}

#[cfg(feature = "test-vectors")]
impl KeyAggContext {
    /// The Lotus key-list hash L, for conformance vectors; `None` for Bip340.
    pub fn lotus_list_hash(&self) -> Option<[u8; 32]> {
        match &self.state {
            AggregationState::Lotus(agg) => Some(agg.list_hash()),
            AggregationState::Bip340(_) => None,
        }
    }

    /// The Lotus key coefficient `a_i` of signer `index` (reduced mod n), for conformance
    /// vectors; `None` for Bip340 or an index out of range.
    pub fn lotus_coefficient(&self, index: usize) -> Option<[u8; 32]> {
        match &self.state {
            AggregationState::Lotus(agg) => agg.coefficient(index),
            AggregationState::Bip340(_) => None,
        }
    }
}

/// Runs the dialect's key aggregation over a non-empty key list in signer order.
fn aggregate(dialect: Dialect, signers: &[PublicKey]) -> Result<AggregationState, CryptoError> {
    match dialect {
        Dialect::Bip340 => {
            let refs: Vec<&PublicKey> = signers.iter().collect();
            if refs.is_empty() {
                return Err(CryptoError::EmptyKeyList);
            }
            Ok(AggregationState::Bip340(KeyAggCache::new(&refs)))
        }
        Dialect::Lotus => lotus::LotusKeyAgg::new(signers).map(AggregationState::Lotus),
    }
}

impl fmt::Debug for KeyAggContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyAggContext")
            .field("dialect", &self.dialect())
            .field("signers", &self.signers)
            .field("aggregate_key", &self.aggregate_key())
            .finish()
    }
}
