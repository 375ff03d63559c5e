//! Single-key Lotus Schnorr (bitcore / lotus-lib `Schnorr.sign` and `Schnorr.verify`).

use hmac::{Hmac, KeyInit, Mac};
use secp256k1::{Keypair, PublicKey, SecretKey};
use sha2::Sha256;

use super::hash;
use super::point::{self, FIELD_PRIME};
use super::scalar::Scalar;

/// bitcore's RFC6979 additional data, which separates Schnorr nonces from ECDSA nonces.
const NONCE_ALGORITHM: &[u8; 16] = b"Schnorr+SHA256  ";

/// Verifies a Lotus Schnorr signature `r ‖ s` on a 32-byte message under a full 33-byte key.
///
/// Rejects `r ≥ p`, `s ≥ n`, and `R = s·G − e·P` at infinity, with a non-square y, or with
/// `x(R) ≠ r`, where `e = SHA256(r ‖ P ‖ m) mod n`.
pub(crate) fn verify(key: &PublicKey, message: &[u8; 32], signature: &[u8; 64]) -> bool {
    let Some((r, s)) = split_signature(signature) else {
        return false;
    };
    if r >= FIELD_PRIME {
        return false;
    }
    let Some(s) = Scalar::from_canonical(&s) else {
        return false;
    };
    let challenge = Scalar::reduce(&hash::sha256(&[&r, &key.serialize(), message]));
    // s is public: one variable-time multiple of G added to −e·P.
    let Some(nonce) =
        point::add_public_multiple_of_generator(point::mul(key, &challenge.negate()), &s)
    else {
        return false;
    };
    point::has_square_y(&nonce) && point::x_bytes(&nonce) == r
}

/// Signs like bitcore's `Schnorr.sign(m, sk, "big")`: deterministic RFC6979 nonce `k`,
/// negated when y(k·G) is not a quadratic residue, `s = k + SHA256(r ‖ P ‖ m)·x`.
pub(crate) fn sign(keypair: &Keypair, message: &[u8; 32]) -> [u8; 64] {
    let secret = keypair.secret_key();
    let mut nonce = rfc6979_nonce(&secret, message);
    let nonce_point = PublicKey::from_secret_key(&nonce);
    if !point::has_square_y(&nonce_point) {
        nonce = nonce.negate();
    }
    let r = point::x_bytes(&nonce_point);
    let challenge = Scalar::reduce(&hash::sha256(&[
        &r,
        &keypair.public_key().serialize(),
        message,
    ]));
    let s = Scalar::from_secret_key(nonce).add(challenge.mul(Scalar::from_secret_key(secret)));
    let mut signature = [0u8; 64];
    let (r_out, s_out) = signature.split_at_mut(32);
    r_out.copy_from_slice(&r);
    s_out.copy_from_slice(&s.to_bytes());
    signature
}

/// bitcore's `nonceFunctionRFC6979`: HMAC-SHA256 DRBG seeded with
/// `x ‖ m ‖ "Schnorr+SHA256  "`, first output in `[1, n)`.
fn rfc6979_nonce(secret: &SecretKey, message: &[u8; 32]) -> SecretKey {
    let secret_bytes = secret.to_secret_bytes();
    let seed: [&[u8]; 3] = [&secret_bytes, message, NONCE_ALGORITHM];
    let mut k = [0u8; 32];
    let mut v = [1u8; 32];
    for separator in [0u8, 1u8] {
        let mut input: Vec<&[u8]> = vec![&v, std::slice::from_ref(&separator)];
        input.extend_from_slice(&seed);
        k = hmac_sha256(&k, &input);
        v = hmac_sha256(&k, &[&v]);
    }
    loop {
        v = hmac_sha256(&k, &[&v]);
        if let Ok(nonce) = SecretKey::from_secret_bytes(v) {
            return nonce;
        }
        // Out of range (probability 2^-128): RFC6979 §3.2 step h.3.
        k = hmac_sha256(&k, &[&v, &[0u8]]);
        v = hmac_sha256(&k, &[&v]);
    }
}

#[cfg(test)]
pub(super) fn rfc6979_nonce_for_tests(keypair: &Keypair, message: &[u8; 32]) -> [u8; 32] {
    rfc6979_nonce(&keypair.secret_key(), message).to_secret_bytes()
}

fn hmac_sha256(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC zero-pads keys shorter than the 64-byte block, so this is the 32-byte key.
    let mut block_key = [0u8; 64];
    if let Some(prefix) = block_key.first_chunk_mut::<32>() {
        *prefix = *key;
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block_key.into());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn split_signature(signature: &[u8; 64]) -> Option<([u8; 32], [u8; 32])> {
    let (r, s) = signature.split_first_chunk::<32>()?;
    let s: &[u8; 32] = s.try_into().ok()?;
    Some((*r, *s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keypair(byte: u8) -> Keypair {
        Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe" (zero-padded here to 32 bytes, as HMAC does).
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            hex::encode(hmac_sha256(&key, &[b"what do ya want ", b"for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn signatures_verify_and_bind_message_and_key() {
        let signer = keypair(11);
        let message = [42u8; 32];
        let signature = sign(&signer, &message);
        assert!(verify(&signer.public_key(), &message, &signature));
        assert!(!verify(&signer.public_key(), &[43u8; 32], &signature));
        assert!(!verify(&keypair(12).public_key(), &message, &signature));
        assert_eq!(sign(&signer, &message), signature, "deterministic");
    }

    #[test]
    fn malformed_signatures_are_rejected() {
        let signer = keypair(11);
        let message = [42u8; 32];
        let signature = sign(&signer, &message);
        let mut zero_s = signature;
        zero_s[32..].fill(0);
        assert!(!verify(&signer.public_key(), &message, &zero_s));
        let mut huge_r = signature;
        huge_r[..32].fill(0xff);
        assert!(!verify(&signer.public_key(), &message, &huge_r));
        assert!(!verify(&signer.public_key(), &message, &[0u8; 64]));
    }
}
