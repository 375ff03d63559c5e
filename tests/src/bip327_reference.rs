//! A small BIP327 (MuSig2) and BIP340 reference implementation for the conformance tests.
//!
//! It follows BIP327's `reference.py` step by step, on libsecp256k1's public-key and
//! secret-key arithmetic, so the vector files can be run even where the `musig` module cannot
//! take their inputs: BIP327's 97-byte secret nonces, deterministic signing, messages that are
//! not 32 bytes, and inputs that the Rust types cannot even represent. Nothing here is fast or
//! constant-time; it is a test oracle, never a signer.

mod bip340;
mod replay;

pub use bip340::{schnorr_sign, schnorr_verify};
pub use replay::ReplayRng;

use secp256k1::constants::CURVE_ORDER;
use secp256k1::{Parity, PublicKey, Scalar as TweakScalar, SecretKey, XOnlyPublicKey};
use sha2::{Digest, Sha256};
use std::ops::{Add, Mul};

/// Why a BIP327 step refused its input, in the vocabulary of the vector files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bip327Error {
    /// A participant's contribution is invalid (`signer` is `None` for the aggregator's).
    InvalidContribution {
        /// Index of the culprit, when one participant is to blame.
        signer: Option<usize>,
        /// What was invalid: "pubkey", "pubnonce", "aggnonce", "aggothernonce" or "psig".
        contrib: &'static str,
    },
    /// A value error, with BIP327's reference message.
    Value(&'static str),
}

impl Bip327Error {
    /// Reads the `error` object of a vector case.
    ///
    /// # Panics
    ///
    /// Panics on an error object this module does not know.
    pub fn from_json(error: &serde_json::Value) -> Self {
        match error["type"].as_str() {
            Some("invalid_contribution") => Bip327Error::InvalidContribution {
                signer: error["signer"].as_u64().map(|index| index as usize),
                contrib: match error["contrib"].as_str() {
                    Some("pubkey") => "pubkey",
                    Some("pubnonce") => "pubnonce",
                    Some("aggnonce") => "aggnonce",
                    Some("aggothernonce") => "aggothernonce",
                    Some("psig") => "psig",
                    other => panic!("unknown contribution {other:?}"),
                },
            },
            Some("value") => Bip327Error::Value(value_message(error["message"].as_str())),
            other => panic!("unknown error type {other:?}"),
        }
    }
}

/// Maps a vector's value-error message onto the one this module raises.
fn value_message(message: Option<&str>) -> &'static str {
    [
        TWEAK_OUT_OF_RANGE,
        TWEAK_TO_INFINITY,
        SIGNER_NOT_LISTED,
        FIRST_NONCE_OUT_OF_RANGE,
    ]
    .into_iter()
    .find(|known| Some(*known) == message)
    .unwrap_or_else(|| panic!("unknown value error {message:?}"))
}

const TWEAK_OUT_OF_RANGE: &str = "The tweak must be less than n.";
const TWEAK_TO_INFINITY: &str = "The result of tweaking cannot be infinity.";
const SIGNER_NOT_LISTED: &str = "The signer's pubkey must be included in the list of pubkeys.";
const FIRST_NONCE_OUT_OF_RANGE: &str = "first secnonce value is out of range.";
const SECOND_NONCE_OUT_OF_RANGE: &str = "second secnonce value is out of range.";
const NONCE_KEY_MISMATCH: &str = "Public key does not match nonce_gen argument";
const SECRET_KEY_OUT_OF_RANGE: &str = "The secret key must be an integer in the range 1..n-1.";

/// A scalar modulo the group order; zero is `None` because `SecretKey` cannot hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scalar(Option<SecretKey>);

impl Scalar {
    /// Zero.
    pub const ZERO: Scalar = Scalar(None);

    /// One.
    pub fn one() -> Scalar {
        let mut bytes = [0u8; 32];
        bytes[31] = 1;
        Scalar::reduce(&bytes)
    }

    /// `int(bytes) mod n`.
    pub fn reduce(bytes: &[u8; 32]) -> Scalar {
        let reduced = if *bytes >= CURVE_ORDER {
            subtract(bytes, &CURVE_ORDER)
        } else {
            *bytes
        };
        Scalar(SecretKey::from_secret_bytes(reduced).ok())
    }

    /// `int(bytes)` when it is below the group order.
    pub fn checked(bytes: &[u8; 32]) -> Option<Scalar> {
        (*bytes < CURVE_ORDER).then(|| Scalar::reduce(bytes))
    }

    /// The 32-byte big-endian encoding.
    pub fn to_bytes(self) -> [u8; 32] {
        self.0.map_or([0; 32], |key| key.to_secret_bytes())
    }

    /// Whether this is zero.
    pub fn is_zero(self) -> bool {
        self.0.is_none()
    }

    /// `-self mod n`.
    pub fn negate(self) -> Scalar {
        Scalar(self.0.map(SecretKey::negate))
    }
}

impl Add for Scalar {
    type Output = Scalar;

    fn add(self, other: Scalar) -> Scalar {
        match (self.0, other.0) {
            (None, _) => other,
            (_, None) => self,
            (Some(a), Some(b)) => Scalar(a.add_tweak(&TweakScalar::from(b)).ok()),
        }
    }
}

impl Mul for Scalar {
    type Output = Scalar;

    fn mul(self, other: Scalar) -> Scalar {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Scalar(a.mul_tweak(&TweakScalar::from(b)).ok()),
            _ => Scalar::ZERO,
        }
    }
}

/// `a - b` on 256-bit big-endian integers, for `a >= b`.
fn subtract(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut digit = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(digit < 0);
        if digit < 0 {
            digit += 256;
        }
        out[i] = digit as u8;
    }
    out
}

/// A curve point; the point at infinity is `None` because `PublicKey` cannot hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point(pub Option<PublicKey>);

impl Point {
    /// The point at infinity.
    pub const INFINITY: Point = Point(None);

    /// `scalar * G`.
    pub fn base_mul(scalar: Scalar) -> Point {
        Point(scalar.0.map(|key| PublicKey::from_secret_key(&key)))
    }

    /// `-self`.
    pub fn negate(self) -> Point {
        Point(self.0.map(PublicKey::negate))
    }

    /// Whether the point is finite with an even y.
    pub fn has_even_y(self) -> bool {
        self.0.is_some_and(|point| point.serialize()[0] == 0x02)
    }

    /// The 32-byte x coordinate (zeros for infinity, which callers rule out first).
    pub fn xbytes(self) -> [u8; 32] {
        self.0
            .map_or([0; 32], |point| point.x_only_public_key().0.to_byte_array())
    }

    /// The 33-byte compressed encoding, with 33 zero bytes for infinity (`cbytes_ext`).
    pub fn cbytes_ext(self) -> [u8; 33] {
        self.0.map_or([0; 33], |point| point.serialize())
    }

    /// Parses a 33-byte compressed point (`cpoint`); infinity is not accepted.
    pub fn cpoint(bytes: &[u8]) -> Option<PublicKey> {
        let array: [u8; 33] = bytes.try_into().ok()?;
        PublicKey::from_byte_array_compressed(array).ok()
    }

    /// Parses a compressed point or 33 zero bytes for infinity (`cpoint_ext`).
    pub fn cpoint_ext(bytes: &[u8]) -> Option<Point> {
        if bytes == [0u8; 33] {
            return Some(Point::INFINITY);
        }
        Point::cpoint(bytes).map(|point| Point(Some(point)))
    }

    /// The even-y point with x coordinate `x` (`lift_x`).
    pub fn lift_x(x: &[u8; 32]) -> Option<PublicKey> {
        XOnlyPublicKey::from_byte_array(*x)
            .ok()
            .map(|key| key.public_key(Parity::Even))
    }
}

impl Mul<Scalar> for Point {
    type Output = Point;

    fn mul(self, scalar: Scalar) -> Point {
        match (self.0, scalar.0) {
            (Some(point), Some(key)) => Point(point.mul_tweak(&TweakScalar::from(key)).ok()),
            _ => Point::INFINITY,
        }
    }
}

impl Add for Point {
    type Output = Point;

    fn add(self, other: Point) -> Point {
        match (self.0, other.0) {
            (None, _) => other,
            (_, None) => self,
            (Some(a), Some(b)) => Point(a.combine(&b).ok()),
        }
    }
}

/// BIP340 tagged hash of the concatenation of `parts`.
pub fn tagged_hash(tag: &str, parts: &[&[u8]]) -> [u8; 32] {
    let tag_hash = Sha256::digest(tag.as_bytes());
    let mut hasher = Sha256::new();
    hasher.update(tag_hash);
    hasher.update(tag_hash);
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

pub(crate) fn xor(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = a[i] ^ b[i];
    }
    out
}

/// BIP327 KeySort: ascending 33-byte encodings.
pub fn key_sort(pubkeys: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut sorted = pubkeys.to_vec();
    sorted.sort();
    sorted
}

/// BIP327 key generation context: the (tweaked) aggregate point, `gacc` and `tacc`.
#[derive(Debug, Clone, Copy)]
pub struct KeyGenContext {
    /// The aggregate point Q.
    pub q: Point,
    /// The accumulated sign factor.
    pub gacc: Scalar,
    /// The accumulated tweak.
    pub tacc: Scalar,
}

impl KeyGenContext {
    /// The x-only aggregate key.
    pub fn xonly(&self) -> [u8; 32] {
        self.q.xbytes()
    }
}

fn second_key(pubkeys: &[Vec<u8>]) -> Vec<u8> {
    let first = pubkeys.first();
    pubkeys
        .iter()
        .find(|key| Some(*key) != first)
        .cloned()
        .unwrap_or_else(|| vec![0; 33])
}

/// BIP327 KeyAggCoeff.
pub fn key_agg_coeff(pubkeys: &[Vec<u8>], pk: &[u8]) -> Scalar {
    let list: Vec<u8> = pubkeys.concat();
    let list_hash = tagged_hash("KeyAgg list", &[&list]);
    if pk == second_key(pubkeys).as_slice() {
        return Scalar::one();
    }
    Scalar::reduce(&tagged_hash("KeyAgg coefficient", &[&list_hash, pk]))
}

/// BIP327 KeyAgg.
///
/// # Errors
///
/// `InvalidContribution { signer, "pubkey" }` for the first key that is not a point.
pub fn key_agg(pubkeys: &[Vec<u8>]) -> Result<KeyGenContext, Bip327Error> {
    let mut q = Point::INFINITY;
    for (index, pk) in pubkeys.iter().enumerate() {
        let point = Point::cpoint(pk).ok_or(Bip327Error::InvalidContribution {
            signer: Some(index),
            contrib: "pubkey",
        })?;
        q = q + Point(Some(point)) * key_agg_coeff(pubkeys, pk);
    }
    Ok(KeyGenContext {
        q,
        gacc: Scalar::one(),
        tacc: Scalar::ZERO,
    })
}

/// BIP327 ApplyTweak.
///
/// # Errors
///
/// The reference's value errors for a tweak not below n or a result at infinity.
pub fn apply_tweak(
    ctx: &KeyGenContext,
    tweak: &[u8; 32],
    is_xonly: bool,
) -> Result<KeyGenContext, Bip327Error> {
    let g = if is_xonly && !ctx.q.has_even_y() {
        Scalar::one().negate()
    } else {
        Scalar::one()
    };
    let t = Scalar::checked(tweak).ok_or(Bip327Error::Value(TWEAK_OUT_OF_RANGE))?;
    let q = ctx.q * g + Point::base_mul(t);
    if q == Point::INFINITY {
        return Err(Bip327Error::Value(TWEAK_TO_INFINITY));
    }
    Ok(KeyGenContext {
        q,
        gacc: g * ctx.gacc,
        tacc: t + g * ctx.tacc,
    })
}

/// KeyAgg followed by every tweak in order.
///
/// # Errors
///
/// As [`key_agg`] and [`apply_tweak`].
pub fn key_agg_and_tweak(
    pubkeys: &[Vec<u8>],
    tweaks: &[[u8; 32]],
    is_xonly: &[bool],
) -> Result<KeyGenContext, Bip327Error> {
    let mut ctx = key_agg(pubkeys)?;
    for (tweak, xonly) in tweaks.iter().zip(is_xonly) {
        ctx = apply_tweak(&ctx, tweak, *xonly)?;
    }
    Ok(ctx)
}

/// The inputs of BIP327 NonceGen (`None` for an absent optional input).
#[derive(Debug, Clone, Copy)]
pub struct NonceGenInput<'a> {
    /// 32 bytes of fresh randomness.
    pub rand: &'a [u8; 32],
    /// The signer's secret key.
    pub sk: Option<&'a [u8; 32]>,
    /// The signer's 33-byte public key.
    pub pk: &'a [u8],
    /// The 32-byte x-only aggregate key.
    pub aggpk: Option<&'a [u8]>,
    /// The message, of any length.
    pub msg: Option<&'a [u8]>,
    /// Extra input, of any length.
    pub extra_in: Option<&'a [u8]>,
}

/// BIP327 NonceGen with its randomness given: returns (97-byte secnonce, 66-byte pubnonce).
pub fn nonce_gen_internal(input: &NonceGenInput<'_>) -> (Vec<u8>, [u8; 66]) {
    let rand = match input.sk {
        Some(sk) => xor(sk, &tagged_hash("MuSig/aux", &[input.rand])),
        None => *input.rand,
    };
    let aggpk = input.aggpk.unwrap_or(&[]);
    let msg_prefixed: Vec<u8> = match input.msg {
        None => vec![0],
        Some(msg) => [&[1u8][..], &(msg.len() as u64).to_be_bytes(), msg].concat(),
    };
    let extra_in = input.extra_in.unwrap_or(&[]);
    let nonce_hash = |i: u8| {
        Scalar::reduce(&tagged_hash(
            "MuSig/nonce",
            &[
                &rand,
                &[input.pk.len() as u8],
                input.pk,
                &[aggpk.len() as u8],
                aggpk,
                &msg_prefixed,
                &(extra_in.len() as u32).to_be_bytes(),
                extra_in,
                &[i],
            ],
        ))
    };
    let (k1, k2) = (nonce_hash(0), nonce_hash(1));
    let secnonce = [&k1.to_bytes()[..], &k2.to_bytes(), input.pk].concat();
    (secnonce, pubnonce_of(k1, k2))
}

fn pubnonce_of(k1: Scalar, k2: Scalar) -> [u8; 66] {
    let mut pubnonce = [0u8; 66];
    pubnonce[..33].copy_from_slice(&Point::base_mul(k1).cbytes_ext());
    pubnonce[33..].copy_from_slice(&Point::base_mul(k2).cbytes_ext());
    pubnonce
}

/// BIP327 NonceAgg.
///
/// # Errors
///
/// `InvalidContribution { signer, "pubnonce" }` for the first half that is not a point.
pub fn nonce_agg(pubnonces: &[Vec<u8>]) -> Result<[u8; 66], Bip327Error> {
    let mut aggnonce = [0u8; 66];
    for half in 0..2 {
        let mut sum = Point::INFINITY;
        for (index, pubnonce) in pubnonces.iter().enumerate() {
            let bytes = pubnonce.get(half * 33..(half + 1) * 33).unwrap_or(&[]);
            let point = Point::cpoint(bytes).ok_or(Bip327Error::InvalidContribution {
                signer: Some(index),
                contrib: "pubnonce",
            })?;
            sum = sum + Point(Some(point));
        }
        aggnonce[half * 33..(half + 1) * 33].copy_from_slice(&sum.cbytes_ext());
    }
    Ok(aggnonce)
}

/// BIP327 SessionContext.
#[derive(Debug, Clone)]
pub struct SessionContext {
    /// The aggregate nonce.
    pub aggnonce: Vec<u8>,
    /// The signers' 33-byte keys, in aggregation order.
    pub pubkeys: Vec<Vec<u8>>,
    /// Tweaks, applied in order.
    pub tweaks: Vec<[u8; 32]>,
    /// Whether each tweak is x-only.
    pub is_xonly: Vec<bool>,
    /// The message, of any length.
    pub msg: Vec<u8>,
}

/// The values BIP327 derives from a session context.
#[derive(Debug, Clone, Copy)]
pub struct SessionValues {
    /// The tweaked key generation context.
    pub keygen: KeyGenContext,
    /// The nonce coefficient.
    pub b: Scalar,
    /// The final nonce point.
    pub r: Point,
    /// The challenge.
    pub e: Scalar,
}

/// BIP327 GetSessionValues.
///
/// # Errors
///
/// Key aggregation and tweak errors; `InvalidContribution { None, "aggnonce" }`.
pub fn session_values(session: &SessionContext) -> Result<SessionValues, Bip327Error> {
    let keygen = key_agg_and_tweak(&session.pubkeys, &session.tweaks, &session.is_xonly)?;
    let q_x = keygen.xonly();
    let b = Scalar::reduce(&tagged_hash(
        "MuSig/noncecoef",
        &[&session.aggnonce, &q_x, &session.msg],
    ));
    let invalid = Bip327Error::InvalidContribution {
        signer: None,
        contrib: "aggnonce",
    };
    let r1 = Point::cpoint_ext(session.aggnonce.get(..33).unwrap_or(&[])).ok_or(invalid.clone())?;
    let r2 = Point::cpoint_ext(session.aggnonce.get(33..).unwrap_or(&[])).ok_or(invalid)?;
    let sum = r1 + r2 * b;
    let r = if sum == Point::INFINITY {
        Point::base_mul(Scalar::one())
    } else {
        sum
    };
    let e = Scalar::reduce(&tagged_hash(
        "BIP0340/challenge",
        &[&r.xbytes(), &q_x, &session.msg],
    ));
    Ok(SessionValues { keygen, b, r, e })
}

fn session_key_agg_coeff(session: &SessionContext, pk: &[u8]) -> Result<Scalar, Bip327Error> {
    if !session.pubkeys.iter().any(|key| key.as_slice() == pk) {
        return Err(Bip327Error::Value(SIGNER_NOT_LISTED));
    }
    Ok(key_agg_coeff(&session.pubkeys, pk))
}

/// The sign factor `g` of the aggregate key: -1 when Q has an odd y.
fn parity_factor(q: Point) -> Scalar {
    if q.has_even_y() {
        Scalar::one()
    } else {
        Scalar::one().negate()
    }
}

/// BIP327 Sign with a 97-byte secret nonce.
///
/// # Errors
///
/// The reference's errors, in its order: session values, nonce range, key checks.
pub fn sign(
    secnonce: &[u8],
    sk: &[u8; 32],
    session: &SessionContext,
) -> Result<[u8; 32], Bip327Error> {
    let values = session_values(session)?;
    let scalar_at = |range: core::ops::Range<usize>| -> Option<Scalar> {
        let bytes: [u8; 32] = secnonce.get(range)?.try_into().ok()?;
        Scalar::checked(&bytes).filter(|k| !k.is_zero())
    };
    let k1_ = scalar_at(0..32).ok_or(Bip327Error::Value(FIRST_NONCE_OUT_OF_RANGE))?;
    let k2_ = scalar_at(32..64).ok_or(Bip327Error::Value(SECOND_NONCE_OUT_OF_RANGE))?;
    let (k1, k2) = if values.r.has_even_y() {
        (k1_, k2_)
    } else {
        (k1_.negate(), k2_.negate())
    };
    let d_ = Scalar::checked(sk)
        .filter(|d| !d.is_zero())
        .ok_or(Bip327Error::Value(SECRET_KEY_OUT_OF_RANGE))?;
    let pk = Point::base_mul(d_).cbytes_ext();
    if secnonce.get(64..97) != Some(&pk[..]) {
        return Err(Bip327Error::Value(NONCE_KEY_MISMATCH));
    }
    let a = session_key_agg_coeff(session, &pk)?;
    let d = parity_factor(values.keygen.q) * values.keygen.gacc * d_;
    let s = k1 + values.b * k2 + values.e * a * d;
    let psig = s.to_bytes();
    let pubnonce = pubnonce_of(k1_, k2_);
    assert!(
        partial_sig_verify_internal(&psig, &pubnonce, &pk, session)?,
        "the reference's own partial signature must verify"
    );
    Ok(psig)
}

/// BIP327 PartialSigVerifyInternal.
///
/// # Errors
///
/// Session-value errors and a signer missing from the key list.
pub fn partial_sig_verify_internal(
    psig: &[u8; 32],
    pubnonce: &[u8],
    pk: &[u8],
    session: &SessionContext,
) -> Result<bool, Bip327Error> {
    let values = session_values(session)?;
    let Some(s) = Scalar::checked(psig) else {
        return Ok(false);
    };
    let (Some(r1), Some(r2)) = (
        Point::cpoint(pubnonce.get(..33).unwrap_or(&[])),
        Point::cpoint(pubnonce.get(33..).unwrap_or(&[])),
    ) else {
        return Ok(false);
    };
    let re_s_ = Point(Some(r1)) + Point(Some(r2)) * values.b;
    let re_s = if values.r.has_even_y() {
        re_s_
    } else {
        re_s_.negate()
    };
    let Some(p) = Point::cpoint(pk) else {
        return Ok(false);
    };
    let a = session_key_agg_coeff(session, pk)?;
    let g_ = parity_factor(values.keygen.q) * values.keygen.gacc;
    Ok(Point::base_mul(s) == re_s + Point(Some(p)) * (values.e * a * g_))
}

/// BIP327 PartialSigVerify: aggregates the nonces, then checks signer `i`.
///
/// # Errors
///
/// Nonce aggregation and session-value errors.
pub fn partial_sig_verify(
    psig: &[u8; 32],
    pubnonces: &[Vec<u8>],
    session_template: &SessionContext,
    i: usize,
) -> Result<bool, Bip327Error> {
    let aggnonce = nonce_agg(pubnonces)?;
    let session = SessionContext {
        aggnonce: aggnonce.to_vec(),
        ..session_template.clone()
    };
    let pk = session.pubkeys.get(i).cloned().unwrap_or_default();
    let pubnonce = pubnonces.get(i).cloned().unwrap_or_default();
    partial_sig_verify_internal(psig, &pubnonce, &pk, &session)
}

/// BIP327 PartialSigAgg.
///
/// # Errors
///
/// `InvalidContribution { signer, "psig" }` for a partial signature not below n.
pub fn partial_sig_agg(
    psigs: &[[u8; 32]],
    session: &SessionContext,
) -> Result<[u8; 64], Bip327Error> {
    let values = session_values(session)?;
    let mut s = Scalar::ZERO;
    for (index, psig) in psigs.iter().enumerate() {
        let s_i = Scalar::checked(psig).ok_or(Bip327Error::InvalidContribution {
            signer: Some(index),
            contrib: "psig",
        })?;
        s = s + s_i;
    }
    let g = parity_factor(values.keygen.q);
    s = s + values.e * g * values.keygen.tacc;
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&values.r.xbytes());
    signature[32..].copy_from_slice(&s.to_bytes());
    Ok(signature)
}

/// BIP327 DeterministicSign: returns (pubnonce, psig).
///
/// # Errors
///
/// Key, tweak, aggregate-nonce (`InvalidContribution { None, "aggothernonce" }`) and signing
/// errors.
pub fn deterministic_sign(
    sk: &[u8; 32],
    aggothernonce: &[u8],
    session_template: &SessionContext,
    rand: Option<&[u8; 32]>,
) -> Result<([u8; 66], [u8; 32]), Bip327Error> {
    let sk_ = match rand {
        Some(rand) => xor(sk, &tagged_hash("MuSig/aux", &[rand])),
        None => *sk,
    };
    let aggpk = key_agg_and_tweak(
        &session_template.pubkeys,
        &session_template.tweaks,
        &session_template.is_xonly,
    )?
    .xonly();
    let msg = &session_template.msg;
    let det_nonce = |i: u8| {
        Scalar::reduce(&tagged_hash(
            "MuSig/deterministic/nonce",
            &[
                &sk_,
                aggothernonce,
                &aggpk,
                &(msg.len() as u64).to_be_bytes(),
                msg,
                &[i],
            ],
        ))
    };
    let (k1, k2) = (det_nonce(0), det_nonce(1));
    let pubnonce = pubnonce_of(k1, k2);
    let d = Scalar::checked(sk).ok_or(Bip327Error::Value(SECRET_KEY_OUT_OF_RANGE))?;
    let pk = Point::base_mul(d).cbytes_ext();
    let secnonce = [&k1.to_bytes()[..], &k2.to_bytes(), &pk].concat();
    let aggnonce = nonce_agg(&[pubnonce.to_vec(), aggothernonce.to_vec()]).map_err(|_| {
        Bip327Error::InvalidContribution {
            signer: None,
            contrib: "aggothernonce",
        }
    })?;
    let session = SessionContext {
        aggnonce: aggnonce.to_vec(),
        ..session_template.clone()
    };
    Ok((pubnonce, sign(&secnonce, sk, &session)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_arithmetic_wraps_at_the_group_order() {
        let minus_one = Scalar::one().negate();
        assert!((minus_one + Scalar::one()).is_zero());
        assert_eq!(minus_one * minus_one, Scalar::one());
        assert_eq!(Scalar::reduce(&CURVE_ORDER), Scalar::ZERO);
        assert_eq!(Scalar::checked(&CURVE_ORDER), None);
        let mut order_plus_two = CURVE_ORDER;
        order_plus_two[31] += 2;
        assert_eq!(
            Scalar::reduce(&order_plus_two),
            Scalar::one() + Scalar::one()
        );
    }

    #[test]
    fn points_handle_infinity_and_doubling() {
        let g = Point::base_mul(Scalar::one());
        assert_eq!(g + g.negate(), Point::INFINITY);
        assert_eq!(g + g, Point::base_mul(Scalar::one() + Scalar::one()));
        assert_eq!(Point::cpoint_ext(&[0; 33]), Some(Point::INFINITY));
        assert_eq!(Point::cpoint(&[0; 33]), None);
    }
}
