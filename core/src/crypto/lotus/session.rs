//! One Lotus signing session: nonce coefficient, effective nonce, challenge; partial signatures.

use std::fmt;

use secp256k1::{Keypair, PublicKey};

use super::hash::{self, NONCE_COEFFICIENT};
use super::keyagg::LotusKeyAgg;
use super::nonce::{LotusAggNonce, LotusPublicNonce, LotusSecretNonce};
use super::point;
use super::scalar::Scalar;
use crate::crypto::CryptoError;

/// The values every signer derives from `(Q, R1, R2, m)`.
#[derive(Clone)]
pub(crate) struct LotusSession {
    message: [u8; 32],
    /// The `Q` this session was built for; a different key context is refused.
    aggregate_key: PublicKey,
    /// `b = TH("MuSig/noncecoef", Q ‖ R1 ‖ R2 ‖ m) mod n`.
    nonce_coefficient: Scalar,
    /// `R = R1 + b·R2`.
    effective_nonce: PublicKey,
    /// Whether y(R) is not a quadratic residue, so every signer uses `−(k1 + b·k2)`.
    negated: bool,
    /// `e = SHA256(x(R) ‖ Q ‖ m) mod n`.
    challenge: Scalar,
}

impl LotusSession {
    /// Derives the session values.
    ///
    /// Errors: `NonceAtInfinity` when `R1 + b·R2` is the point at infinity.
    pub(crate) fn new(
        agg: &LotusKeyAgg,
        nonce: &LotusAggNonce,
        message: &[u8; 32],
    ) -> Result<Self, CryptoError> {
        let aggregate_key = agg.aggregate_key();
        let key_bytes = aggregate_key.serialize();
        let nonce_coefficient = Scalar::reduce(&NONCE_COEFFICIENT.hash(&[
            &key_bytes,
            &nonce.r1.serialize(),
            &nonce.r2.serialize(),
            message,
        ]));
        let effective_nonce =
            point::sum(&[Some(nonce.r1), point::mul(&nonce.r2, &nonce_coefficient)])
                .ok_or(CryptoError::NonceAtInfinity)?;
        let negated = !point::has_square_y(&effective_nonce);
        let r = point::x_bytes(&effective_nonce);
        let challenge = Scalar::reduce(&hash::sha256(&[&r, &key_bytes, message]));
        Ok(LotusSession {
            message: *message,
            aggregate_key,
            nonce_coefficient,
            effective_nonce,
            negated,
            challenge,
        })
    }

    /// `s_i = ±(k1 + b·k2) + e·a_i·x_i` (plus `e·t` for signer 0 under a Taproot tweak).
    ///
    /// Consumes the secret nonce. Errors: `SignerIndexOutOfRange`; `KeyMismatch` when the key
    /// pair is not signer `signer_index`, the nonce was made for another key, or `agg` is not
    /// the context this session was built for.
    pub(crate) fn partial_sign(
        &self,
        agg: &LotusKeyAgg,
        signer_index: usize,
        nonce: LotusSecretNonce,
        keypair: &Keypair,
    ) -> Result<[u8; 32], CryptoError> {
        let (signer_key, coefficient) = self.signer(agg, signer_index)?;
        let public_key = keypair.public_key();
        if public_key != signer_key || nonce.public_key() != signer_key {
            return Err(CryptoError::KeyMismatch);
        }
        let (k1, k2) = nonce.scalars();
        let mut k = k1.add(self.nonce_coefficient.mul(k2));
        if self.negated {
            k = k.negate();
        }
        let secret = Scalar::from_secret_key(keypair.secret_key());
        let signature = k
            .add(self.challenge.mul(coefficient).mul(secret))
            .add(self.tweak_share(agg, signer_index));
        Ok(signature.to_bytes())
    }

    /// Checks `s_i·G == ±(R1_i + b·R2_i) + e·a_i·P_i` (with signer 0's `e·t` removed first).
    ///
    /// False for anything malformed or mismatched; never panics.
    pub(crate) fn partial_verify(
        &self,
        agg: &LotusKeyAgg,
        signer_index: usize,
        partial: &[u8; 32],
        nonce: &LotusPublicNonce,
    ) -> bool {
        let Ok((signer_key, coefficient)) = self.signer(agg, signer_index) else {
            return false;
        };
        let Some(signature) = Scalar::from_canonical(partial) else {
            return false;
        };
        let signature = signature.sub(self.tweak_share(agg, signer_index));
        let (first, second_factor) = if self.negated {
            (nonce.r1.negate(), self.nonce_coefficient.negate())
        } else {
            (nonce.r1, self.nonce_coefficient)
        };
        // The equation holds exactly when the four terms sum to infinity; zero scalars
        // simply drop their term instead of failing. The signature is public, so its
        // multiple of G is added in variable time.
        let nonce_and_key = point::sum(&[
            Some(first),
            point::mul(&nonce.r2, &second_factor),
            point::mul(&signer_key, &self.challenge.mul(coefficient)),
        ]);
        point::add_public_multiple_of_generator(nonce_and_key, &signature.negate()).is_none()
    }

    /// `(x(R), Σ s_i mod n)`: exactly one partial signature per signer, in signer order.
    ///
    /// Does not verify. Errors: `WrongPartialSignatureCount`, `InvalidPartialSignature` (a
    /// scalar not below n), `ZeroSignature`, `KeyMismatch` for a foreign key context.
    pub(crate) fn aggregate(
        &self,
        agg: &LotusKeyAgg,
        partials: &[[u8; 32]],
    ) -> Result<[u8; 64], CryptoError> {
        if agg.aggregate_key() != self.aggregate_key {
            return Err(CryptoError::KeyMismatch);
        }
        if partials.len() != agg.keys().len() {
            return Err(CryptoError::WrongPartialSignatureCount {
                expected: agg.keys().len(),
                got: partials.len(),
            });
        }
        let mut total = Scalar::ZERO;
        for partial in partials {
            let partial =
                Scalar::from_canonical(partial).ok_or(CryptoError::InvalidPartialSignature)?;
            total = total.add(partial);
        }
        if total.is_zero() {
            return Err(CryptoError::ZeroSignature);
        }
        let mut signature = [0u8; 64];
        let (r, s) = signature.split_at_mut(32);
        r.copy_from_slice(&point::x_bytes(&self.effective_nonce));
        s.copy_from_slice(&total.to_bytes());
        Ok(signature)
    }

    /// The signer's key and coefficient, after checking `agg` is this session's context.
    fn signer(&self, agg: &LotusKeyAgg, index: usize) -> Result<(PublicKey, Scalar), CryptoError> {
        if agg.aggregate_key() != self.aggregate_key {
            return Err(CryptoError::KeyMismatch);
        }
        let out_of_range = CryptoError::SignerIndexOutOfRange {
            index,
            signers: agg.keys().len(),
        };
        let key = agg.keys().get(index).copied().ok_or(out_of_range.clone())?;
        let coefficient = agg.coefficient_scalar(index).ok_or(out_of_range)?;
        Ok((key, coefficient))
    }

    /// `e·t` for signer 0 (zero without a tweak, and for everyone else): one signer carries
    /// the tweak so that `Σ s_i·G = R + e·(Q + t·G)`.
    fn tweak_share(&self, agg: &LotusKeyAgg, index: usize) -> Scalar {
        if index == 0 {
            self.challenge.mul(agg.tweak())
        } else {
            Scalar::ZERO
        }
    }
}

/// Intermediate values the conformance vectors check.
#[cfg(any(test, feature = "test-vectors"))]
impl LotusSession {
    /// `b`.
    pub(crate) fn nonce_coefficient(&self) -> [u8; 32] {
        self.nonce_coefficient.to_bytes()
    }

    /// `R = R1 + b·R2`.
    pub(crate) fn effective_nonce(&self) -> PublicKey {
        self.effective_nonce
    }

    /// Whether the signers negate their nonces (y(R) is not a quadratic residue).
    pub(crate) fn nonces_negated(&self) -> bool {
        self.negated
    }

    /// `e`.
    pub(crate) fn challenge(&self) -> [u8; 32] {
        self.challenge.to_bytes()
    }
}

impl fmt::Debug for LotusSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LotusSession")
            .field("message", &hex::encode(self.message))
            .field("aggregate_key", &self.aggregate_key)
            .field(
                "nonce_coefficient",
                &hex::encode(self.nonce_coefficient.to_bytes()),
            )
            .field("effective_nonce", &self.effective_nonce)
            .field("negated", &self.negated)
            .field("challenge", &hex::encode(self.challenge.to_bytes()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::nonce::generate_nonce;
    use super::super::{aggregate_nonces, verify};
    use super::*;
    use secp256k1::SecretKey;

    struct Signers {
        keypairs: Vec<Keypair>,
        agg: LotusKeyAgg,
    }

    fn signers(seeds: &[u8]) -> Signers {
        let mut keypairs: Vec<Keypair> = seeds
            .iter()
            .map(|&seed| {
                Keypair::from_secret_key(&SecretKey::from_secret_bytes([seed; 32]).unwrap())
            })
            .collect();
        keypairs.sort_by_key(|keypair| keypair.public_key().serialize());
        let keys: Vec<PublicKey> = keypairs.iter().map(Keypair::public_key).collect();
        let agg = LotusKeyAgg::new(&keys).unwrap();
        Signers { keypairs, agg }
    }

    fn nonces(
        signers: &Signers,
        message: &[u8; 32],
        round: u8,
    ) -> (Vec<LotusSecretNonce>, Vec<LotusPublicNonce>) {
        signers
            .keypairs
            .iter()
            .enumerate()
            .map(|(index, keypair)| {
                let rand = [round ^ (index as u8); 32];
                generate_nonce(&signers.agg, keypair, message, &rand, &[round; 32])
            })
            .unzip()
    }

    fn sign_all(
        signers: &Signers,
        message: &[u8; 32],
        round: u8,
    ) -> (LotusSession, Vec<LotusPublicNonce>, Vec<[u8; 32]>) {
        let (secrets, publics) = nonces(signers, message, round);
        let session =
            LotusSession::new(&signers.agg, &aggregate_nonces(&publics).unwrap(), message).unwrap();
        let partials = secrets
            .into_iter()
            .zip(&signers.keypairs)
            .enumerate()
            .map(|(index, (secret, keypair))| {
                session
                    .partial_sign(&signers.agg, index, secret, keypair)
                    .unwrap()
            })
            .collect();
        (session, publics, partials)
    }

    #[test]
    fn full_signing_verifies_with_and_without_taproot() {
        let message = [7u8; 32];
        let mut group = signers(&[1, 2, 3, 4]);
        let mut negated_seen = [false; 2];
        for round in 0..8 {
            if round == 3 {
                group.agg.tweak_taproot(Some(&[round; 32])).unwrap();
            }
            let (session, publics, partials) = sign_all(&group, &message, round);
            negated_seen[usize::from(session.nonces_negated())] = true;
            for (index, partial) in partials.iter().enumerate() {
                assert!(session.partial_verify(&group.agg, index, partial, &publics[index]));
                let mut tampered = *partial;
                tampered[31] ^= 1;
                assert!(!session.partial_verify(&group.agg, index, &tampered, &publics[index]));
            }
            let signature = session.aggregate(&group.agg, &partials).unwrap();
            assert!(
                verify(&group.agg.aggregate_key(), &message, &signature),
                "round {round}"
            );
        }
        assert_eq!(
            negated_seen,
            [true, true],
            "both nonce normalisations exercised"
        );
    }

    #[test]
    fn partial_sign_refuses_wrong_keys_and_indices() {
        let group = signers(&[1, 2]);
        let message = [9u8; 32];
        let (secrets, publics) = nonces(&group, &message, 0);
        let session =
            LotusSession::new(&group.agg, &aggregate_nonces(&publics).unwrap(), &message).unwrap();
        let mut secrets = secrets.into_iter();
        let first = secrets.next().unwrap();
        let second = secrets.next().unwrap();
        assert_eq!(
            session.partial_sign(&group.agg, 1, first, &group.keypairs[0]),
            Err(CryptoError::KeyMismatch)
        );
        assert_eq!(
            session.partial_sign(&group.agg, 0, second, &group.keypairs[0]),
            Err(CryptoError::KeyMismatch),
            "nonce made for signer 1"
        );
        let (extra, _) = nonces(&group, &message, 1);
        let extra = extra.into_iter().next().unwrap();
        assert_eq!(
            session.partial_sign(&group.agg, 2, extra, &group.keypairs[0]),
            Err(CryptoError::SignerIndexOutOfRange {
                index: 2,
                signers: 2
            })
        );
        let other = signers(&[3, 4]);
        let (other_secret, _) = nonces(&other, &message, 0);
        let other_secret = other_secret.into_iter().next().unwrap();
        assert_eq!(
            session.partial_sign(&other.agg, 0, other_secret, &other.keypairs[0]),
            Err(CryptoError::KeyMismatch),
            "foreign key context"
        );
    }

    #[test]
    fn partial_verify_rejects_hostile_input_without_panicking() {
        let group = signers(&[5, 6, 7]);
        let message = [1u8; 32];
        let (session, publics, partials) = sign_all(&group, &message, 0);
        assert!(!session.partial_verify(&group.agg, 3, &partials[0], &publics[0]));
        assert!(!session.partial_verify(&group.agg, usize::MAX, &partials[0], &publics[0]));
        assert!(!session.partial_verify(&group.agg, 0, &[0xff; 32], &publics[0]));
        assert!(!session.partial_verify(&group.agg, 0, &[0u8; 32], &publics[0]));
        assert!(!session.partial_verify(&group.agg, 0, &partials[0], &publics[1]));
        let swapped = LotusPublicNonce {
            r1: publics[0].r2,
            r2: publics[0].r1,
        };
        assert!(!session.partial_verify(&group.agg, 0, &partials[0], &swapped));
        // Degenerate input (a zero partial, a nonce made of a point and its negation) is just
        // wrong: the check compares points and answers false instead of erroring out.
        let cancelling = LotusPublicNonce {
            r1: publics[0].r1,
            r2: publics[0].r1.negate(),
        };
        assert!(!session.partial_verify(&group.agg, 0, &[0u8; 32], &cancelling));
        let other = signers(&[8, 9, 10]);
        assert!(!session.partial_verify(&other.agg, 0, &partials[0], &publics[0]));
    }

    #[test]
    fn aggregation_tolerates_zero_partial_sums_and_counts_partials() {
        let group = signers(&[1, 2, 3]);
        let message = [3u8; 32];
        let (session, _, partials) = sign_all(&group, &message, 0);
        let x = Scalar::from_canonical(&partials[0]).unwrap();
        let hostile = [partials[0], x.negate().to_bytes(), partials[2]];
        let signature = session.aggregate(&group.agg, &hostile).unwrap();
        assert_eq!(signature[32..], partials[2]);
        let all_zero = [partials[0], x.negate().to_bytes(), [0u8; 32]];
        assert_eq!(
            session.aggregate(&group.agg, &all_zero),
            Err(CryptoError::ZeroSignature)
        );
        assert_eq!(
            session.aggregate(&group.agg, &partials[..2]),
            Err(CryptoError::WrongPartialSignatureCount {
                expected: 3,
                got: 2
            })
        );
        let out_of_range = [partials[0], partials[1], [0xff; 32]];
        assert_eq!(
            session.aggregate(&group.agg, &out_of_range),
            Err(CryptoError::InvalidPartialSignature)
        );
    }

    #[test]
    fn a_single_signer_and_repeated_keys_sign_too() {
        for seeds in [&[4u8][..], &[4, 4], &[4, 4, 5], &[5, 4, 4]] {
            let group = signers(seeds);
            let message = [2u8; 32];
            let (session, publics, partials) = sign_all(&group, &message, 1);
            for (index, partial) in partials.iter().enumerate() {
                assert!(session.partial_verify(&group.agg, index, partial, &publics[index]));
            }
            let signature = session.aggregate(&group.agg, &partials).unwrap();
            assert!(
                verify(&group.agg.aggregate_key(), &message, &signature),
                "{seeds:?}"
            );
        }
    }

    #[test]
    fn debug_shows_public_values_only() {
        let group = signers(&[1]);
        let (session, _, _) = sign_all(&group, &[0u8; 32], 0);
        let text = format!("{session:?}");
        assert!(text.contains(&hex::encode(session.challenge())));
        assert!(text.contains(&hex::encode(session.nonce_coefficient())));
    }
}
