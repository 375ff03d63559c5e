//! Nonces: fresh secret nonces, their public halves, and the aggregate nonce.

use core::fmt;

use rand_core::{CryptoRng, RngCore};
use secp256k1::musig;
use secp256k1::{Keypair, PublicKey};

use super::context::AggregationState;
use super::{lotus, CryptoError, Dialect, KeyAggContext};

/// How many times a 32-byte draw is retried when the generator returns only zeros.
const ZERO_DRAW_RETRIES: usize = 16;

/// A secret nonce, consumed by the one call that signs with it.
///
/// Not `Clone`, not `Copy`, not `Serialize`; `Debug` prints only the dialect. Made only by
/// [`generate_nonce`] and moved into
/// [`SigningSession::partial_sign`](super::SigningSession::partial_sign), so the type system
/// rules out signing twice with one nonce:
///
/// ```compile_fail,E0382
/// # use chorus_core::crypto::*;
/// # use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
/// # let keypair = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
/// # let ctx = KeyAggContext::new(Dialect::Bip340, &[keypair.public_key()]).unwrap();
/// # let mut rng = ChaCha20Rng::seed_from_u64(1);
/// let (secret, public) = generate_nonce(&ctx, &keypair, &[0; 32], &mut rng).unwrap();
/// let aggregate = aggregate_nonces(Dialect::Bip340, &[public]).unwrap();
/// let first = SigningSession::new(&ctx, &aggregate, &[0; 32]).unwrap();
/// let second = SigningSession::new(&ctx, &aggregate, &[1; 32]).unwrap();
/// first.partial_sign(&ctx, 0, secret, &keypair).unwrap();
/// second.partial_sign(&ctx, 0, secret, &keypair).unwrap(); // use of moved value
/// ```
///
/// and it cannot be copied to get around that:
///
/// ```compile_fail,E0599
/// # use chorus_core::crypto::*;
/// # use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
/// # let keypair = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
/// # let ctx = KeyAggContext::new(Dialect::Bip340, &[keypair.public_key()]).unwrap();
/// # let mut rng = ChaCha20Rng::seed_from_u64(1);
/// let (secret, _) = generate_nonce(&ctx, &keypair, &[0; 32], &mut rng).unwrap();
/// let copy = secret.clone(); // SecretNonce is not Clone
/// ```
///
/// What it shows when logged:
///
/// ```
/// # use chorus_core::crypto::*;
/// # use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
/// # let keypair = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
/// # let ctx = KeyAggContext::new(Dialect::Bip340, &[keypair.public_key()]).unwrap();
/// # let mut rng = ChaCha20Rng::seed_from_u64(1);
/// let (secret, _) = generate_nonce(&ctx, &keypair, &[0; 32], &mut rng).unwrap();
/// assert_eq!(secret.dialect(), Dialect::Bip340);
/// assert_eq!(format!("{secret:?}"), "SecretNonce { dialect: Bip340, .. }");
/// ```
pub struct SecretNonce {
    pub(crate) inner: SecretNonceInner,
}

/// The dialect-specific secret nonce.
pub(crate) enum SecretNonceInner {
    /// libsecp256k1's secret nonce and the key it was made for (libsecp asserts on a mismatch,
    /// so the key is checked here first).
    Bip340 {
        nonce: musig::SecretNonce,
        public_key: PublicKey,
    },
    /// The Lotus secret nonce (k1, k2 and the signer's key).
    Lotus(lotus::LotusSecretNonce),
}

impl SecretNonce {
    /// The dialect this nonce signs in.
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            SecretNonceInner::Bip340 { .. } => Dialect::Bip340,
            SecretNonceInner::Lotus(_) => Dialect::Lotus,
        }
    }

    /// Builds a Lotus secret nonce from caller-chosen scalars, for conformance vectors only.
    ///
    /// Never use this in a signer: a fixed nonce leaks the secret key.
    ///
    /// # Errors
    ///
    /// Whatever the Lotus dialect refuses as a nonce scalar (zero, or not below the order).
    #[cfg(feature = "test-vectors")]
    pub fn dangerous_lotus_from_scalars(
        k1: &[u8; 32],
        k2: &[u8; 32],
        public_key: &PublicKey,
    ) -> Result<Self, CryptoError> {
        let (secret, _public) = lotus::secret_nonce_from_scalars(k1, k2, public_key)?;
        Ok(SecretNonce {
            inner: SecretNonceInner::Lotus(secret),
        })
    }
}

impl fmt::Debug for SecretNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretNonce")
            .field("dialect", &self.dialect())
            .finish_non_exhaustive()
    }
}

/// A public nonce: R1 || R2, 66 bytes (two 33-byte compressed points) in both dialects.
///
/// Holds the parsed form, so signing steps never parse it again.
///
/// ```
/// use chorus_core::crypto::*;
/// use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
///
/// let keypair = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
/// let ctx = KeyAggContext::new(Dialect::Lotus, &[keypair.public_key()]).unwrap();
/// let mut rng = ChaCha20Rng::seed_from_u64(1);
/// let (_secret, public) = generate_nonce(&ctx, &keypair, &[0; 32], &mut rng).unwrap();
/// let bytes = public.to_bytes();
/// assert_eq!(PublicNonce::from_bytes(Dialect::Lotus, &bytes).unwrap(), public);
/// assert_eq!(public.dialect(), Dialect::Lotus);
/// assert_eq!(PublicNonce::from_bytes(Dialect::Lotus, &[0; 66]), Err(CryptoError::InvalidPublicNonce));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PublicNonce {
    pub(crate) inner: PublicNonceInner,
}

/// The dialect-specific parsed public nonce.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum PublicNonceInner {
    /// libsecp256k1's parsed public nonce.
    Bip340(musig::PublicNonce),
    /// The two Lotus nonce points.
    Lotus(lotus::LotusPublicNonce),
}

impl PublicNonce {
    /// Parses R1 || R2.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidPublicNonce`] unless both halves are valid compressed points.
    pub fn from_bytes(dialect: Dialect, bytes: &[u8; 66]) -> Result<Self, CryptoError> {
        let inner = match dialect {
            Dialect::Bip340 => musig::PublicNonce::from_byte_array(bytes)
                .map(PublicNonceInner::Bip340)
                .map_err(|_| CryptoError::InvalidPublicNonce)?,
            Dialect::Lotus => {
                let (r1, r2) = parse_point_pair(bytes).ok_or(CryptoError::InvalidPublicNonce)?;
                PublicNonceInner::Lotus(lotus::LotusPublicNonce { r1, r2 })
            }
        };
        Ok(PublicNonce { inner })
    }

    /// Encodes R1 || R2.
    pub fn to_bytes(&self) -> [u8; 66] {
        match &self.inner {
            PublicNonceInner::Bip340(nonce) => nonce.serialize(),
            PublicNonceInner::Lotus(nonce) => encode_point_pair(&nonce.r1, &nonce.r2),
        }
    }

    /// The dialect this nonce belongs to.
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            PublicNonceInner::Bip340(_) => Dialect::Bip340,
            PublicNonceInner::Lotus(_) => Dialect::Lotus,
        }
    }
}

/// Sum of the public nonces (66 bytes; Bip340 may encode infinity as BIP327 allows).
///
/// ```
/// use chorus_core::crypto::*;
/// use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
///
/// let keypair = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
/// let ctx = KeyAggContext::new(Dialect::Bip340, &[keypair.public_key()]).unwrap();
/// let mut rng = ChaCha20Rng::seed_from_u64(1);
/// let (_secret, public) = generate_nonce(&ctx, &keypair, &[0; 32], &mut rng).unwrap();
/// let aggregate = aggregate_nonces(Dialect::Bip340, &[public]).unwrap();
/// assert_eq!(aggregate.to_bytes(), public.to_bytes());
/// assert_eq!(AggregateNonce::from_bytes(Dialect::Bip340, &aggregate.to_bytes()).unwrap(), aggregate);
/// // BIP327 encodes a point at infinity as 33 zero bytes.
/// assert!(AggregateNonce::from_bytes(Dialect::Bip340, &[0; 66]).is_ok());
/// assert!(AggregateNonce::from_bytes(Dialect::Lotus, &[0; 66]).is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AggregateNonce {
    pub(crate) inner: AggregateNonceInner,
}

/// The dialect-specific parsed aggregate nonce.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum AggregateNonceInner {
    /// libsecp256k1's parsed aggregate nonce.
    Bip340(musig::AggregatedNonce),
    /// The two Lotus aggregate nonce points.
    Lotus(lotus::LotusAggNonce),
}

impl AggregateNonce {
    /// Parses an aggregate nonce.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidAggregateNonce`] unless both halves are valid compressed points
    /// (Bip340 also accepts 33 zero bytes for the point at infinity).
    pub fn from_bytes(dialect: Dialect, bytes: &[u8; 66]) -> Result<Self, CryptoError> {
        let inner = match dialect {
            Dialect::Bip340 => musig::AggregatedNonce::from_byte_array(bytes)
                .map(AggregateNonceInner::Bip340)
                .map_err(|_| CryptoError::InvalidAggregateNonce)?,
            Dialect::Lotus => {
                let (r1, r2) = parse_point_pair(bytes).ok_or(CryptoError::InvalidAggregateNonce)?;
                AggregateNonceInner::Lotus(lotus::LotusAggNonce { r1, r2 })
            }
        };
        Ok(AggregateNonce { inner })
    }

    /// Encodes the aggregate nonce.
    pub fn to_bytes(&self) -> [u8; 66] {
        match &self.inner {
            AggregateNonceInner::Bip340(nonce) => nonce.serialize(),
            AggregateNonceInner::Lotus(nonce) => encode_point_pair(&nonce.r1, &nonce.r2),
        }
    }

    /// The dialect this nonce belongs to.
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            AggregateNonceInner::Bip340(_) => Dialect::Bip340,
            AggregateNonceInner::Lotus(_) => Dialect::Lotus,
        }
    }
}

/// Makes a fresh nonce pair for `keypair` to sign `message` under `ctx`.
///
/// BIP327 NonceGen with 32 bytes drawn from `rng` as `rand`, the signer's secret key, its
/// public key, the context's aggregate key and the message mixed in, plus 32 more rng bytes as
/// extra input. Bip340 goes through `secp256k1::musig::new_nonce_pair`.
///
/// # Errors
///
/// [`CryptoError::KeyMismatch`] if the keypair is not one of `ctx`'s signers;
/// [`CryptoError::ZeroRandomness`] if `rng` keeps returning only zero bytes.
///
/// ```
/// use chorus_core::crypto::*;
/// use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
///
/// let signer = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
/// let outsider = Keypair::from_secret_key(&SecretKey::from_secret_bytes([2; 32]).unwrap());
/// let ctx = KeyAggContext::new(Dialect::Bip340, &[signer.public_key()]).unwrap();
/// let mut rng = ChaCha20Rng::seed_from_u64(1);
/// assert!(generate_nonce(&ctx, &signer, &[0; 32], &mut rng).is_ok());
/// assert_eq!(
///     generate_nonce(&ctx, &outsider, &[0; 32], &mut rng).unwrap_err(),
///     CryptoError::KeyMismatch
/// );
/// ```
pub fn generate_nonce<R: RngCore + CryptoRng>(
    ctx: &KeyAggContext,
    keypair: &Keypair,
    message: &[u8; 32],
    rng: &mut R,
) -> Result<(SecretNonce, PublicNonce), CryptoError> {
    let public_key = keypair.public_key();
    if ctx.signer_index(&public_key).is_none() {
        return Err(CryptoError::KeyMismatch);
    }
    // libsecp256k1 refuses an all-zero session secret; a fresh draw replaces it.
    let rand = draw_nonzero(rng)?;
    let mut extra = [0u8; 32];
    rng.fill_bytes(&mut extra);
    let (secret, public) = match ctx.state() {
        AggregationState::Bip340(cache) => {
            let (nonce, public) = musig::new_nonce_pair(
                musig::SessionSecretRand::assume_uniformly_random(rand),
                Some(cache),
                Some(keypair.secret_key()),
                public_key,
                Some(message),
                Some(extra),
            );
            (
                SecretNonceInner::Bip340 { nonce, public_key },
                PublicNonceInner::Bip340(public),
            )
        }
        AggregationState::Lotus(agg) => {
            let (secret, public) = lotus::generate_nonce(agg, keypair, message, &rand, &extra);
            (
                SecretNonceInner::Lotus(secret),
                PublicNonceInner::Lotus(public),
            )
        }
    };
    Ok((SecretNonce { inner: secret }, PublicNonce { inner: public }))
}

/// Sums the public nonces of every signer.
///
/// # Errors
///
/// [`CryptoError::EmptyNonceList`] for no nonces; [`CryptoError::DialectMismatch`] when a
/// nonce belongs to the other dialect; [`CryptoError::NonceAtInfinity`] (Lotus) when a sum is
/// the point at infinity.
///
/// ```
/// use chorus_core::crypto::*;
///
/// assert_eq!(aggregate_nonces(Dialect::Bip340, &[]), Err(CryptoError::EmptyNonceList));
/// ```
pub fn aggregate_nonces(
    dialect: Dialect,
    nonces: &[PublicNonce],
) -> Result<AggregateNonce, CryptoError> {
    if nonces.is_empty() {
        return Err(CryptoError::EmptyNonceList);
    }
    let inner = match dialect {
        Dialect::Bip340 => {
            let parsed = nonces
                .iter()
                .map(|nonce| match &nonce.inner {
                    PublicNonceInner::Bip340(parsed) => Ok(parsed),
                    PublicNonceInner::Lotus(_) => Err(dialect_mismatch(dialect, Dialect::Lotus)),
                })
                .collect::<Result<Vec<&musig::PublicNonce>, CryptoError>>()?;
            AggregateNonceInner::Bip340(musig::AggregatedNonce::new(&parsed))
        }
        Dialect::Lotus => {
            let parsed = nonces
                .iter()
                .map(|nonce| match &nonce.inner {
                    PublicNonceInner::Lotus(parsed) => Ok(*parsed),
                    PublicNonceInner::Bip340(_) => Err(dialect_mismatch(dialect, Dialect::Bip340)),
                })
                .collect::<Result<Vec<lotus::LotusPublicNonce>, CryptoError>>()?;
            AggregateNonceInner::Lotus(lotus::aggregate_nonces(&parsed)?)
        }
    };
    Ok(AggregateNonce { inner })
}

/// The error for a value of dialect `got` handed to a step running in `expected`.
pub(crate) fn dialect_mismatch(expected: Dialect, got: Dialect) -> CryptoError {
    CryptoError::DialectMismatch { expected, got }
}

/// Draws 32 bytes that are not all zero.
fn draw_nonzero<R: RngCore + CryptoRng>(rng: &mut R) -> Result<[u8; 32], CryptoError> {
    let mut bytes = [0u8; 32];
    for _ in 0..ZERO_DRAW_RETRIES {
        rng.fill_bytes(&mut bytes);
        if bytes != [0u8; 32] {
            return Ok(bytes);
        }
    }
    Err(CryptoError::ZeroRandomness)
}

/// Parses two 33-byte compressed points.
fn parse_point_pair(bytes: &[u8; 66]) -> Option<(PublicKey, PublicKey)> {
    let (first, second) = bytes.split_first_chunk::<33>()?;
    let r1 = PublicKey::from_byte_array_compressed(*first).ok()?;
    let r2 = PublicKey::from_byte_array_compressed(second.try_into().ok()?).ok()?;
    Some((r1, r2))
}

/// Encodes two points as 33-byte compressed halves.
fn encode_point_pair(r1: &PublicKey, r2: &PublicKey) -> [u8; 66] {
    let mut bytes = [0u8; 66];
    let (first, second) = bytes.split_at_mut(33);
    first.copy_from_slice(&r1.serialize());
    second.copy_from_slice(&r2.serialize());
    bytes
}
