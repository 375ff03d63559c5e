//! Integers modulo the group order n, built on libsecp256k1's secret-key tweak operations.
//!
//! libsecp256k1 refuses zero as a secret key, but zero is an ordinary value for a partial
//! signature sum, a nonce coefficient or a reduced hash; it is therefore represented explicitly
//! (`None`) and every operation treats it by the rules of arithmetic instead of failing.

use std::fmt;

use secp256k1::SecretKey;

/// The order n of the secp256k1 group, big-endian.
pub(crate) const GROUP_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// An integer modulo n; zero included.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scalar(Option<SecretKey>);

impl Scalar {
    /// The additive identity.
    pub(crate) const ZERO: Scalar = Scalar(None);

    /// The multiplicative identity.
    pub(crate) fn one() -> Scalar {
        let mut bytes = [0u8; 32];
        if let Some(last) = bytes.last_mut() {
            *last = 1;
        }
        Scalar::reduce(&bytes)
    }

    /// Reads a canonical encoding: `None` when the value is not below n.
    pub(crate) fn from_canonical(bytes: &[u8; 32]) -> Option<Scalar> {
        if bytes.iter().all(|&byte| byte == 0) {
            return Some(Scalar::ZERO);
        }
        SecretKey::from_secret_bytes(*bytes)
            .ok()
            .map(|key| Scalar(Some(key)))
    }

    /// Reduces any 256-bit big-endian integer modulo n.
    ///
    /// 2^256 < 2n, so one conditional subtraction is enough.
    pub(crate) fn reduce(bytes: &[u8; 32]) -> Scalar {
        match Scalar::from_canonical(bytes) {
            Some(scalar) => scalar,
            // bytes ≥ n here, so bytes − n < 2^256 − n < n is canonical; the fallback is
            // unreachable and only keeps this function total.
            None => Scalar::from_canonical(&subtract_order(bytes)).unwrap_or(Scalar::ZERO),
        }
    }

    /// Wraps a secret key (always non-zero).
    pub(crate) fn from_secret_key(key: SecretKey) -> Scalar {
        Scalar(Some(key))
    }

    /// The non-zero value as a secret key, or `None` for zero.
    pub(crate) fn secret_key(&self) -> Option<SecretKey> {
        self.0
    }

    /// The value as a libsecp256k1 tweak, or `None` for zero (libsecp multiplies only by non-zero).
    pub(crate) fn tweak(&self) -> Option<secp256k1::Scalar> {
        self.0.map(secp256k1::Scalar::from)
    }

    /// The canonical 32-byte big-endian encoding.
    pub(crate) fn to_bytes(self) -> [u8; 32] {
        self.0.map_or([0u8; 32], |key| key.to_secret_bytes())
    }

    /// Whether the value is zero.
    pub(crate) fn is_zero(&self) -> bool {
        self.0.is_none()
    }

    /// `self + other mod n`.
    pub(crate) fn add(self, other: Scalar) -> Scalar {
        match (self.0, other.tweak()) {
            (None, _) => other,
            (Some(_), None) => self,
            // libsecp rejects the tweak only when the sum is zero (the tweak is canonical).
            (Some(key), Some(tweak)) => Scalar(key.add_tweak(&tweak).ok()),
        }
    }

    /// `self · other mod n`.
    pub(crate) fn mul(self, other: Scalar) -> Scalar {
        match (self.0, other.tweak()) {
            // n is prime: a product of non-zero values is non-zero, so the error cannot occur.
            (Some(key), Some(tweak)) => Scalar(key.mul_tweak(&tweak).ok()),
            _ => Scalar::ZERO,
        }
    }

    /// `n − self mod n`.
    pub(crate) fn negate(self) -> Scalar {
        Scalar(self.0.map(SecretKey::negate))
    }

    /// `self − other mod n`.
    pub(crate) fn sub(self, other: Scalar) -> Scalar {
        self.add(other.negate())
    }
}

impl fmt::Debug for Scalar {
    // Scalars also hold secret intermediate values: never print them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Scalar(..)")
    }
}

/// `bytes − n` for `bytes ≥ n`, big-endian with borrow.
fn subtract_order(bytes: &[u8; 32]) -> [u8; 32] {
    let mut difference = [0u8; 32];
    let mut borrow = 0u8;
    for ((out, &minuend), &subtrahend) in difference
        .iter_mut()
        .rev()
        .zip(bytes.iter().rev())
        .zip(GROUP_ORDER.iter().rev())
    {
        let (partial, borrow_a) = minuend.overflowing_sub(subtrahend);
        let (value, borrow_b) = partial.overflowing_sub(borrow);
        *out = value;
        borrow = u8::from(borrow_a || borrow_b);
    }
    difference
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_u64(value: u64) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        bytes[24..].copy_from_slice(&value.to_be_bytes());
        bytes
    }

    fn order_plus(value: u8) -> [u8; 32] {
        let mut bytes = GROUP_ORDER;
        bytes[31] += value; // n ends in 0x41: no carry for small values
        bytes
    }

    #[test]
    fn zero_is_canonical_and_identity() {
        let zero = Scalar::from_canonical(&[0u8; 32]).unwrap();
        assert!(zero.is_zero());
        let seven = Scalar::reduce(&from_u64(7));
        assert_eq!(zero.add(seven), seven);
        assert_eq!(seven.add(zero), seven);
        assert!(zero.mul(seven).is_zero());
        assert!(seven.mul(zero).is_zero());
        assert!(zero.negate().is_zero());
        assert_eq!(zero.to_bytes(), [0u8; 32]);
        assert!(zero.tweak().is_none() && zero.secret_key().is_none());
    }

    #[test]
    fn sums_reaching_zero_stay_usable() {
        let five = Scalar::reduce(&from_u64(5));
        let sum = five.add(five.negate());
        assert!(sum.is_zero());
        assert_eq!(sum.add(five), five);
        assert!(five.sub(five).is_zero());
    }

    #[test]
    fn reduction_subtracts_the_order_once() {
        assert!(Scalar::from_canonical(&GROUP_ORDER).is_none());
        assert!(Scalar::reduce(&GROUP_ORDER).is_zero());
        assert_eq!(Scalar::reduce(&order_plus(5)).to_bytes(), from_u64(5));
        // 2^256 − 1 ≡ 2^256 − 1 − n = 0x14551231950b75fc4402da1732fc9bebe (mod n)
        let reduced = Scalar::reduce(&[0xff; 32]).to_bytes();
        assert_eq!(
            hex::encode(reduced),
            "000000000000000000000000000000014551231950b75fc4402da1732fc9bebe"
        );
        let just_below = {
            let mut bytes = GROUP_ORDER;
            bytes[31] -= 1;
            bytes
        };
        assert_eq!(Scalar::reduce(&just_below).to_bytes(), just_below);
    }

    #[test]
    fn arithmetic_matches_small_integers() {
        let six = Scalar::reduce(&from_u64(6));
        let seven = Scalar::reduce(&from_u64(7));
        assert_eq!(six.mul(seven).to_bytes(), from_u64(42));
        assert_eq!(six.add(seven).to_bytes(), from_u64(13));
        assert_eq!(seven.sub(six), Scalar::one());
        // −1 is n − 1
        let minus_one = Scalar::one().negate().to_bytes();
        let mut expected = GROUP_ORDER;
        expected[31] -= 1;
        assert_eq!(minus_one, expected);
        // (n − 1)·(n − 1) = 1
        assert_eq!(
            Scalar::one().negate().mul(Scalar::one().negate()),
            Scalar::one()
        );
    }

    #[test]
    fn debug_hides_the_value() {
        assert_eq!(format!("{:?}", Scalar::reduce(&from_u64(9))), "Scalar(..)");
    }
}
