//! Single-key Schnorr signatures and final-signature verification in both dialects.

use secp256k1::{schnorr, Keypair, PublicKey, XOnlyPublicKey};

use super::{lotus, Dialect, Signature};

/// Verifies a final signature.
///
/// Bip340: BIP340 verification under the x-only form of `key`. Lotus: lotus-lib's Schnorr
/// verification under the full key.
///
/// ```
/// use chorus_core::crypto::*;
///
/// let keypair = Keypair::from_secret_key(&SecretKey::from_secret_bytes([3; 32]).unwrap());
/// let message = [1; 32];
/// for dialect in [Dialect::Bip340, Dialect::Lotus] {
///     let signature = sign_single(dialect, &keypair, &message, &[0; 32]);
///     assert!(verify(dialect, &keypair.public_key(), &message, &signature));
///     assert!(!verify(dialect, &keypair.public_key(), &[2; 32], &signature));
/// }
/// ```
pub fn verify(
    dialect: Dialect,
    key: &PublicKey,
    message: &[u8; 32],
    signature: &Signature,
) -> bool {
    match dialect {
        Dialect::Bip340 => verify_xonly(&key.x_only_public_key().0, message, signature),
        Dialect::Lotus => lotus::verify(key, message, &signature.0),
    }
}

/// BIP340 verification with a 32-byte x-only key.
///
/// ```
/// use chorus_core::crypto::*;
///
/// let keypair = Keypair::from_secret_key(&SecretKey::from_secret_bytes([3; 32]).unwrap());
/// let signature = sign_single(Dialect::Bip340, &keypair, &[1; 32], &[9; 32]);
/// assert!(verify_xonly(&keypair.x_only_public_key().0, &[1; 32], &signature));
/// ```
pub fn verify_xonly(key: &XOnlyPublicKey, message: &[u8; 32], signature: &Signature) -> bool {
    schnorr::verify(
        &schnorr::Signature::from_byte_array(signature.0),
        message,
        key,
    )
    .is_ok()
}

/// Single-key Schnorr signature.
///
/// Bip340: BIP340 with `aux_rand` as its 32 bytes of auxiliary randomness. Lotus: lotus-lib
/// (bitcore) `Schnorr.sign`, whose nonce is derived from the key and message alone, so
/// `aux_rand` is not used.
///
/// ```
/// use chorus_core::crypto::*;
///
/// let keypair = Keypair::from_secret_key(&SecretKey::from_secret_bytes([3; 32]).unwrap());
/// let first = sign_single(Dialect::Bip340, &keypair, &[1; 32], &[0; 32]);
/// let second = sign_single(Dialect::Bip340, &keypair, &[1; 32], &[1; 32]);
/// assert_ne!(first, second);
/// ```
pub fn sign_single(
    dialect: Dialect,
    keypair: &Keypair,
    message: &[u8; 32],
    aux_rand: &[u8; 32],
) -> Signature {
    match dialect {
        Dialect::Bip340 => {
            Signature(schnorr::sign_with_aux_rand(message, keypair, aux_rand).to_byte_array())
        }
        Dialect::Lotus => Signature(lotus::sign(keypair, message)),
    }
}
