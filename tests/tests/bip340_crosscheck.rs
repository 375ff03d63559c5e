//! Bip340 cross-check: chorus-core and the `secp256k1` crate's `musig` module interoperate.
//!
//! For random signer counts, keys and tweak sequences (plain, x-only, Taproot), each signer
//! signs through one implementation or the other at random. Both must agree on the aggregate
//! key and the aggregate nonce, accept every partial signature whichever side made it, and
//! aggregate to the same final signature, which `chorus_core::crypto::verify` accepts.

use chorus_core::crypto::{
    aggregate_nonces, generate_nonce, verify, verify_xonly, CryptoError, Dialect, KeyAggContext,
    Keypair, PartialSignature, PublicKey, PublicNonce, SecretKey, SecretNonce, SigningSession,
};
use chorus_tests::bip327_reference::tagged_hash;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secp256k1::musig;
use secp256k1::Scalar;

/// One tweak step: 0 plain, 1 x-only, 2 Taproot (the bytes are its Merkle root if odd).
type TweakStep = (u8, [u8; 32]);

fn random_keypair(rng: &mut ChaCha20Rng) -> Keypair {
    loop {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        if let Ok(secret) = SecretKey::from_secret_bytes(bytes) {
            return Keypair::from_secret_key(&secret);
        }
    }
}

/// Applies one step to both sides; returns false when the tweak was (rightly) refused.
fn tweak_both(ctx: &mut KeyAggContext, cache: &mut musig::KeyAggCache, step: &TweakStep) -> bool {
    let (kind, bytes) = step;
    let tweak = match kind {
        2 => {
            let internal = cache.agg_pk().to_byte_array();
            let root = (bytes[31] & 1 == 1).then_some(bytes);
            let parts: Vec<&[u8]> = std::iter::once(&internal[..])
                .chain(root.map(|r| &r[..]))
                .collect();
            let tweak = tagged_hash("TapTweak", &parts);
            let ours = ctx.tweak_taproot(root);
            let Ok(scalar) = Scalar::from_be_bytes(tweak) else {
                assert_eq!(ours, Err(CryptoError::InvalidTweak));
                return false;
            };
            ours.expect("taproot tweak below n");
            cache
                .pubkey_xonly_tweak_add(&scalar)
                .expect("tweak keeps the key finite");
            return true;
        }
        _ => *bytes,
    };
    let ours = if *kind == 0 {
        ctx.tweak_plain(&tweak)
    } else {
        ctx.tweak_xonly(&tweak)
    };
    let Ok(scalar) = Scalar::from_be_bytes(tweak) else {
        assert_eq!(ours, Err(CryptoError::InvalidTweak));
        return false;
    };
    ours.expect("tweak below n");
    if *kind == 0 {
        cache.pubkey_ec_tweak_add(&scalar).expect("finite");
    } else {
        cache.pubkey_xonly_tweak_add(&scalar).expect("finite");
    }
    true
}

/// A signer's secret nonce on the side that signs for it.
enum Secret {
    Ours(SecretNonce),
    Crate(musig::SecretNonce),
}

fn crate_nonce(
    cache: &musig::KeyAggCache,
    keypair: &Keypair,
    message: &[u8; 32],
    rng: &mut ChaCha20Rng,
) -> (musig::SecretNonce, musig::PublicNonce) {
    let mut rand = [0u8; 32];
    let mut extra = [0u8; 32];
    rng.fill_bytes(&mut rand);
    rng.fill_bytes(&mut extra);
    rand[0] |= 1; // never all zero
    musig::new_nonce_pair(
        musig::SessionSecretRand::assume_uniformly_random(rand),
        Some(cache),
        Some(keypair.secret_key()),
        keypair.public_key(),
        Some(message),
        Some(extra),
    )
}

/// Both key aggregations over `n` random keys with `steps` applied, and the signers in
/// signer order.
fn contexts(
    rng: &mut ChaCha20Rng,
    n: usize,
    steps: &[TweakStep],
) -> (KeyAggContext, musig::KeyAggCache, Vec<Keypair>) {
    let keypairs: Vec<Keypair> = (0..n).map(|_| random_keypair(rng)).collect();
    let keys: Vec<PublicKey> = keypairs.iter().map(Keypair::public_key).collect();
    let mut ctx = KeyAggContext::new(Dialect::Bip340, &keys).unwrap();
    let mut sorted: Vec<&PublicKey> = keys.iter().collect();
    secp256k1::sort_pubkeys(&mut sorted);
    let sorted_keys: Vec<PublicKey> = sorted.iter().map(|key| **key).collect();
    assert_eq!(ctx.signers(), sorted_keys.as_slice());
    let mut cache = musig::KeyAggCache::new(&sorted);
    for step in steps {
        tweak_both(&mut ctx, &mut cache, step);
        assert_eq!(ctx.xonly_key(), Some(cache.agg_pk()));
        assert_eq!(ctx.aggregate_key(), cache.agg_pk_full());
    }
    let signers = sorted_keys
        .iter()
        .map(|key| *keypairs.iter().find(|kp| kp.public_key() == *key).unwrap())
        .collect();
    (ctx, cache, signers)
}

/// Round one: each signer's secret nonce on its side, and every public nonce in both forms.
struct NonceRound {
    secrets: Vec<Secret>,
    ours: Vec<PublicNonce>,
    theirs: Vec<musig::PublicNonce>,
}

fn nonce_round(
    ctx: &KeyAggContext,
    cache: &musig::KeyAggCache,
    signers: &[Keypair],
    ours_mask: &[bool],
    message: &[u8; 32],
    rng: &mut ChaCha20Rng,
) -> NonceRound {
    let mut round = NonceRound {
        secrets: vec![],
        ours: vec![],
        theirs: vec![],
    };
    for (keypair, ours) in signers.iter().zip(ours_mask) {
        if *ours {
            let (secret, public) = generate_nonce(ctx, keypair, message, rng).unwrap();
            round
                .theirs
                .push(musig::PublicNonce::from_byte_array(&public.to_bytes()).unwrap());
            round.ours.push(public);
            round.secrets.push(Secret::Ours(secret));
        } else {
            let (secret, public) = crate_nonce(cache, keypair, message, rng);
            round
                .ours
                .push(PublicNonce::from_bytes(Dialect::Bip340, &public.serialize()).unwrap());
            round.theirs.push(public);
            round.secrets.push(Secret::Crate(secret));
        }
    }
    round
}

fn cross_check(seed: u64, n: usize, steps: &[TweakStep], ours_mask: &[bool], message: [u8; 32]) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (ctx, cache, signers) = contexts(&mut rng, n, steps);
    let NonceRound {
        secrets,
        ours,
        theirs,
    } = nonce_round(&ctx, &cache, &signers, ours_mask, &message, &mut rng);
    let aggregate = aggregate_nonces(Dialect::Bip340, &ours).unwrap();
    let crate_aggregate = musig::AggregatedNonce::new(&theirs.iter().collect::<Vec<_>>());
    assert_eq!(aggregate.to_bytes(), crate_aggregate.serialize());
    let session = SigningSession::new(&ctx, &aggregate, &message).unwrap();
    let crate_session = musig::Session::new(&cache, crate_aggregate, &message);

    let partials: Vec<PartialSignature> = secrets
        .into_iter()
        .zip(&signers)
        .enumerate()
        .map(|(index, (secret, keypair))| match secret {
            Secret::Ours(secret) => session.partial_sign(&ctx, index, secret, keypair).unwrap(),
            Secret::Crate(secret) => {
                let partial = crate_session.partial_sign(secret, keypair, &cache);
                PartialSignature::from_bytes(&partial.serialize()).unwrap()
            }
        })
        .collect();
    let crate_partials: Vec<musig::PartialSignature> = partials
        .iter()
        .map(|p| musig::PartialSignature::from_byte_array(&p.to_bytes()).unwrap())
        .collect();
    for index in 0..n {
        assert!(session.partial_verify(&ctx, index, &partials[index], &ours[index]));
        let key = signers[index].public_key();
        assert!(crate_session.partial_verify(&cache, &crate_partials[index], &theirs[index], key));
        if n > 1 {
            let other = (index + 1) % n;
            assert!(!session.partial_verify(&ctx, other, &partials[index], &ours[other]));
        }
    }
    let signature = session.aggregate(&ctx, &partials).unwrap();
    let crate_signature = crate_session.partial_sig_agg(&crate_partials.iter().collect::<Vec<_>>());
    assert_eq!(
        signature.to_bytes(),
        *crate_signature.assume_valid().as_byte_array()
    );
    assert!(verify(
        Dialect::Bip340,
        &ctx.aggregate_key(),
        &message,
        &signature
    ));
    assert!(verify_xonly(&cache.agg_pk(), &message, &signature));
    assert!(crate_signature.verify(&cache.agg_pk(), &message).is_ok());
}

fn tweak_step() -> impl Strategy<Value = TweakStep> {
    (0u8..3, any::<[u8; 32]>())
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::with_cases(48)
    })]

    #[test]
    fn bip340_interoperates_with_the_musig_module(
        seed in any::<u64>(),
        n in 1usize..=20,
        steps in prop::collection::vec(tweak_step(), 0..5),
        ours_mask in prop::collection::vec(any::<bool>(), 20),
        message in any::<[u8; 32]>(),
    ) {
        cross_check(seed, n, &steps, &ours_mask, message);
    }
}

/// Tweaks at or above the group order never reach the crate: both sides refuse them.
#[test]
fn out_of_range_tweaks_are_refused_on_both_sides() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let keys: Vec<PublicKey> = (0..3)
        .map(|_| random_keypair(&mut rng).public_key())
        .collect();
    let mut ctx = KeyAggContext::new(Dialect::Bip340, &keys).unwrap();
    let mut sorted: Vec<&PublicKey> = keys.iter().collect();
    secp256k1::sort_pubkeys(&mut sorted);
    let mut cache = musig::KeyAggCache::new(&sorted);
    assert!(!tweak_both(&mut ctx, &mut cache, &(0, [0xff; 32])));
    assert!(!tweak_both(&mut ctx, &mut cache, &(1, [0xff; 32])));
    assert_eq!(ctx.xonly_key(), Some(cache.agg_pk()));
    cross_check(
        10,
        3,
        &[(2, [0; 32]), (2, [1; 32]), (0, [2; 32])],
        &[true, false, true],
        [5; 32],
    );
}
