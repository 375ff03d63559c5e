//! Property tests of Lotus MuSig2 signing through the public API: any group of 1 to 20
//! signers, with or without a Taproot tweak, produces a signature that verifies; every honest
//! partial signature verifies and a tampered one does not.

use chorus_core::crypto::{
    aggregate_nonces, generate_nonce, verify, Dialect, KeyAggContext, Keypair, PartialSignature,
    PublicKey, SecretKey, SigningSession,
};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn random_keypair(rng: &mut ChaCha20Rng) -> Keypair {
    loop {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        if let Ok(secret) = SecretKey::from_secret_bytes(bytes) {
            return Keypair::from_secret_key(&secret);
        }
    }
}

/// The same partial signature with its lowest bit flipped (`None` if that leaves the range).
fn tampered(partial: &PartialSignature) -> Option<PartialSignature> {
    let mut bytes = partial.to_bytes();
    bytes[31] ^= 1;
    PartialSignature::from_bytes(&bytes).ok()
}

struct Outcome {
    all_partials_verify: bool,
    tampered_rejected: bool,
    signature_verifies: bool,
}

fn sign_with(
    signers: usize,
    repeat_a_key: bool,
    merkle_root: Option<[u8; 32]>,
    message: [u8; 32],
    seed: u64,
) -> Outcome {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut keypairs: Vec<Keypair> = (0..signers).map(|_| random_keypair(&mut rng)).collect();
    if repeat_a_key {
        keypairs.push(keypairs[0]);
    }
    let keys: Vec<PublicKey> = keypairs.iter().map(Keypair::public_key).collect();
    let mut ctx = KeyAggContext::new(Dialect::Lotus, &keys).unwrap();
    if let Some(root) = merkle_root {
        ctx.tweak_taproot(Some(&root)).unwrap();
    }
    let ordered: Vec<Keypair> = ctx
        .signers()
        .iter()
        .map(|key| {
            *keypairs
                .iter()
                .find(|pair| pair.public_key() == *key)
                .unwrap()
        })
        .collect();

    let (secrets, publics): (Vec<_>, Vec<_>) = ordered
        .iter()
        .map(|pair| generate_nonce(&ctx, pair, &message, &mut rng).unwrap())
        .unzip();
    let aggregate_nonce = aggregate_nonces(Dialect::Lotus, &publics).unwrap();
    let session = SigningSession::new(&ctx, &aggregate_nonce, &message).unwrap();
    let partials: Vec<PartialSignature> = secrets
        .into_iter()
        .zip(&ordered)
        .enumerate()
        .map(|(index, (secret, pair))| session.partial_sign(&ctx, index, secret, pair).unwrap())
        .collect();

    let all_partials_verify = partials
        .iter()
        .zip(&publics)
        .enumerate()
        .all(|(index, (partial, public))| session.partial_verify(&ctx, index, partial, public));
    let tampered_rejected =
        partials
            .iter()
            .zip(&publics)
            .enumerate()
            .all(|(index, (partial, public))| {
                tampered(partial)
                    .is_none_or(|bad| !session.partial_verify(&ctx, index, &bad, public))
            });
    let signature = session.aggregate(&ctx, &partials).unwrap();
    Outcome {
        all_partials_verify,
        tampered_rejected,
        signature_verifies: verify(Dialect::Lotus, &ctx.aggregate_key(), &message, &signature),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn lotus_signing_round_trips(
        signers in 1usize..=20,
        repeat_a_key in any::<bool>(),
        merkle_root in prop::option::of(any::<[u8; 32]>()),
        tweaked in any::<bool>(),
        message in any::<[u8; 32]>(),
        seed in any::<u64>(),
    ) {
        // Half of the tweaked runs use the key-path default root (None = 32 zero bytes).
        let root = match (tweaked, merkle_root) {
            (false, _) => None,
            (true, Some(root)) => Some(root),
            (true, None) => Some([0u8; 32]),
        };
        let outcome = sign_with(signers, repeat_a_key, root, message, seed);
        prop_assert!(outcome.all_partials_verify);
        prop_assert!(outcome.tampered_rejected);
        prop_assert!(outcome.signature_verifies);
    }
}

#[test]
fn taproot_none_equals_a_zero_merkle_root() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let keys: Vec<PublicKey> = (0..3)
        .map(|_| random_keypair(&mut rng).public_key())
        .collect();
    let mut with_none = KeyAggContext::new(Dialect::Lotus, &keys).unwrap();
    let mut with_zero = with_none.clone();
    let untweaked = with_none.aggregate_key();
    with_none.tweak_taproot(None).unwrap();
    with_zero.tweak_taproot(Some(&[0u8; 32])).unwrap();
    assert_eq!(with_none.aggregate_key(), with_zero.aggregate_key());
    assert_ne!(with_none.aggregate_key(), untweaked);
}
