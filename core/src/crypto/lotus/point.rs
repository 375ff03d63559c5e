//! Group operations with the point at infinity as an ordinary value (`None`).
//!
//! libsecp256k1's `PublicKey` cannot hold infinity; a sum that passes through it mid-way is
//! still fine (`combine_keys` adds everything before checking), and a final infinity is
//! reported as `None` for the caller to judge.

use crypto_bigint::{JacobiSymbol, Odd, U256};
use secp256k1::PublicKey;

use super::scalar::Scalar;

/// The field prime p of secp256k1, big-endian.
pub(crate) const FIELD_PRIME: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xfc, 0x2f,
];

const FIELD_MODULUS: Odd<U256> =
    Odd::<U256>::from_be_hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F");

/// `k·G`, or infinity for `k = 0`, in constant time: the path for secret scalars (nonces).
pub(crate) fn mul_generator(k: &Scalar) -> Option<PublicKey> {
    k.secret_key().map(|key| PublicKey::from_secret_key(&key))
}

/// `P + k·G` (with `None` as infinity for `P` and the result), for a **public** `k`: a
/// signature scalar or a tweak, never a secret.
///
/// libsecp256k1's tweak addition computes this in one variable-time multiplication, without
/// the constant-time generator multiplication and the context re-randomisation that
/// [`mul_generator`] pays for secrets — about a third of its cost on the verification paths.
pub(crate) fn add_public_multiple_of_generator(
    point: Option<PublicKey>,
    k: &Scalar,
) -> Option<PublicKey> {
    match (point, k.tweak()) {
        // Fails only when the sum is infinity.
        (Some(point), Some(tweak)) => point.add_exp_tweak(&tweak).ok(),
        (Some(point), None) => Some(point),
        (None, _) => mul_generator(k),
    }
}

/// `k·P`, or infinity for `k = 0`.
pub(crate) fn mul(point: &PublicKey, k: &Scalar) -> Option<PublicKey> {
    // libsecp refuses only a zero or non-canonical factor, which `tweak` never yields.
    k.tweak().and_then(|tweak| point.mul_tweak(&tweak).ok())
}

/// The sum of the finite points given (infinite terms contribute nothing).
pub(crate) fn sum(points: &[Option<PublicKey>]) -> Option<PublicKey> {
    let finite: Vec<&PublicKey> = points.iter().flatten().collect();
    sum_finite(&finite)
}

/// The sum of finite points; `None` when it is infinity (or there is nothing to add).
pub(crate) fn sum_finite(points: &[&PublicKey]) -> Option<PublicKey> {
    // combine_keys fails only on an empty list or an infinite total.
    PublicKey::combine_keys(points).ok()
}

/// The 32-byte x coordinate.
pub(crate) fn x_bytes(point: &PublicKey) -> [u8; 32] {
    let compressed = point.serialize();
    let mut x = [0u8; 32];
    if let Some((_, tail)) = compressed.split_first() {
        x.copy_from_slice(tail);
    }
    x
}

/// Whether y(P) is a quadratic residue mod p (bitcore's `hasSquare`, Lotus consensus).
pub(crate) fn has_square_y(point: &PublicKey) -> bool {
    let uncompressed = point.serialize_uncompressed();
    match uncompressed.split_last_chunk::<32>() {
        Some((_, y)) => is_quadratic_residue(y),
        None => false,
    }
}

/// Whether a field element (big-endian, below p) is a non-zero square mod p.
///
/// The value is public (a nonce or signature point), so variable time is fine.
pub(crate) fn is_quadratic_residue(value: &[u8; 32]) -> bool {
    let value = U256::from_be_slice(value);
    value.jacobi_symbol_vartime(&FIELD_MODULUS) == JacobiSymbol::One
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_element(value: u64) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        bytes[24..].copy_from_slice(&value.to_be_bytes());
        bytes
    }

    #[test]
    fn field_prime_constants_agree() {
        assert_eq!(U256::from_be_slice(&FIELD_PRIME), *FIELD_MODULUS.as_ref());
    }

    #[test]
    fn jacobi_separates_residues_from_non_residues() {
        // 4 = 2² is a residue; p ≡ 3 (mod 4), so −1 = p − 1 is not.
        assert!(is_quadratic_residue(&field_element(4)));
        assert!(is_quadratic_residue(&field_element(1)));
        let mut minus_one = FIELD_PRIME;
        minus_one[31] -= 1;
        assert!(!is_quadratic_residue(&minus_one));
        let mut minus_four = FIELD_PRIME;
        minus_four[31] -= 4;
        assert!(!is_quadratic_residue(&minus_four));
        // Zero is not a non-zero square.
        assert!(!is_quadratic_residue(&[0u8; 32]));
    }

    #[test]
    fn exactly_one_of_a_point_and_its_negation_has_square_y() {
        // y and −y: since −1 is a non-residue, exactly one of them is a residue.
        let key =
            PublicKey::from_secret_key(&secp256k1::SecretKey::from_secret_bytes([7; 32]).unwrap());
        assert_ne!(has_square_y(&key), has_square_y(&key.negate()));
    }

    #[test]
    fn infinity_is_handled_in_sums_and_products() {
        let one = Scalar::one();
        let g = mul_generator(&one).unwrap();
        assert!(mul_generator(&Scalar::ZERO).is_none());
        assert!(mul(&g, &Scalar::ZERO).is_none());
        assert_eq!(mul(&g, &one), Some(g));
        assert!(sum(&[Some(g), Some(g.negate())]).is_none());
        assert!(sum(&[None, None]).is_none());
        // An infinite partial sum in the middle does not stop the total.
        assert_eq!(sum(&[Some(g), Some(g.negate()), None, Some(g)]), Some(g));
        assert_eq!(x_bytes(&g), x_bytes(&g.negate()));
    }

    #[test]
    fn adding_a_public_multiple_of_the_generator_agrees_with_the_constant_time_sum() {
        let one = Scalar::one();
        let g = mul_generator(&one).unwrap();
        let scalars = [
            Scalar::ZERO,
            one,
            one.negate(),
            Scalar::reduce(&[0x5c; 32]),
            Scalar::reduce(&[0xff; 32]),
        ];
        let points = [None, Some(g), Some(g.negate()), mul_generator(&scalars[3])];
        for point in points {
            for k in scalars {
                let expected = sum(&[point, mul_generator(&k)]);
                assert_eq!(add_public_multiple_of_generator(point, &k), expected);
            }
        }
        // P + (−p)·G for P = p·G is infinity, reported as None.
        let p = scalars[3];
        assert_eq!(
            add_public_multiple_of_generator(mul_generator(&p), &p.negate()),
            None
        );
    }
}
