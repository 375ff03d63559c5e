//! BIP340 single-key Schnorr signing and verification for messages of any length.

use super::{tagged_hash, xor, Point, Scalar};
use secp256k1::constants::FIELD_SIZE;

/// BIP340 signing of a message of any length; `None` for a secret key out of range.
pub fn schnorr_sign(msg: &[u8], seckey: &[u8; 32], aux_rand: &[u8; 32]) -> Option<[u8; 64]> {
    let d0 = Scalar::checked(seckey).filter(|d| !d.is_zero())?;
    let p = Point::base_mul(d0);
    let d = if p.has_even_y() { d0 } else { d0.negate() };
    let t = xor(&d.to_bytes(), &tagged_hash("BIP0340/aux", &[aux_rand]));
    let k0 = Scalar::reduce(&tagged_hash("BIP0340/nonce", &[&t, &p.xbytes(), msg]));
    if k0.is_zero() {
        return None;
    }
    let r = Point::base_mul(k0);
    let k = if r.has_even_y() { k0 } else { k0.negate() };
    let e = Scalar::reduce(&tagged_hash(
        "BIP0340/challenge",
        &[&r.xbytes(), &p.xbytes(), msg],
    ));
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&r.xbytes());
    signature[32..].copy_from_slice(&(k + e * d).to_bytes());
    Some(signature)
}

/// BIP340 verification of a message of any length under a 32-byte x-only key.
pub fn schnorr_verify(msg: &[u8], pubkey: &[u8; 32], sig: &[u8; 64]) -> bool {
    let Some(p) = Point::lift_x(pubkey) else {
        return false;
    };
    let r: [u8; 32] = sig[..32].try_into().unwrap_or([0xff; 32]);
    let s_bytes: [u8; 32] = sig[32..].try_into().unwrap_or([0xff; 32]);
    let Some(s) = Scalar::checked(&s_bytes) else {
        return false;
    };
    if r >= FIELD_SIZE {
        return false;
    }
    let e = Scalar::reduce(&tagged_hash("BIP0340/challenge", &[&r, pubkey, msg]));
    let big_r = Point::base_mul(s) + Point(Some(p)) * e.negate();
    big_r != Point::INFINITY && big_r.has_even_y() && big_r.xbytes() == r
}
