//! Sessions and fixtures shared by the benchmarks.
#![allow(dead_code)] // each bench binary uses a different part

use chorus_core::crypto::{
    aggregate_nonces, generate_nonce, verify, Dialect, KeyAggContext, Keypair, PartialSignature,
    PublicKey, SecretKey, SigningSession,
};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secp256k1::musig;

pub(crate) const SIZES: [usize; 4] = [2, 10, 100, 1000];
pub(crate) const MESSAGE: [u8; 32] = [0x42; 32];

pub(crate) fn keypairs(n: usize, seed: u64) -> Vec<Keypair> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| loop {
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            if let Ok(secret) = SecretKey::from_secret_bytes(bytes) {
                break Keypair::from_secret_key(&secret);
            }
        })
        .collect()
}

pub(crate) fn public_keys(keypairs: &[Keypair]) -> Vec<PublicKey> {
    keypairs.iter().map(Keypair::public_key).collect()
}

/// One complete n-party signing through chorus-core: key aggregation, every nonce, every
/// partial signature, every partial verified, aggregation, final verification.
pub(crate) fn chorus_session(dialect: Dialect, signers: &[Keypair], rng: &mut ChaCha20Rng) -> bool {
    let keys = public_keys(signers);
    let ctx = KeyAggContext::new(dialect, &keys).expect("non-empty key list");
    let mut secret_nonces = Vec::with_capacity(signers.len());
    let mut public_nonces = Vec::with_capacity(signers.len());
    let mut keypairs_in_order = Vec::with_capacity(signers.len());
    for key in ctx.signers() {
        let keypair = signers
            .iter()
            .find(|kp| kp.public_key() == *key)
            .expect("every signer has a keypair");
        let (secret, public) = generate_nonce(&ctx, keypair, &MESSAGE, rng).expect("signer in ctx");
        secret_nonces.push(secret);
        public_nonces.push(public);
        keypairs_in_order.push(keypair);
    }
    let aggregate = aggregate_nonces(dialect, &public_nonces).expect("valid nonces");
    let session = SigningSession::new(&ctx, &aggregate, &MESSAGE).expect("valid session");
    let partials: Vec<PartialSignature> = secret_nonces
        .into_iter()
        .zip(&keypairs_in_order)
        .enumerate()
        .map(|(index, (secret, keypair))| {
            session
                .partial_sign(&ctx, index, secret, keypair)
                .expect("honest signer")
        })
        .collect();
    let all_valid = partials
        .iter()
        .zip(&public_nonces)
        .enumerate()
        .all(|(index, (partial, nonce))| session.partial_verify(&ctx, index, partial, nonce));
    let signature = session
        .aggregate(&ctx, &partials)
        .expect("one partial per signer");
    all_valid && verify(dialect, &ctx.aggregate_key(), &MESSAGE, &signature)
}

/// The same session written directly against `secp256k1::musig`, the floor we compare with.
pub(crate) fn baseline_session(signers: &[Keypair], rng: &mut ChaCha20Rng) -> bool {
    let keys = public_keys(signers);
    let mut sorted: Vec<&PublicKey> = keys.iter().collect();
    secp256k1::sort_pubkeys(&mut sorted);
    let cache = musig::KeyAggCache::new(&sorted);
    let mut secret_nonces = Vec::with_capacity(signers.len());
    let mut public_nonces = Vec::with_capacity(signers.len());
    let mut keypairs_in_order = Vec::with_capacity(signers.len());
    for key in &sorted {
        let keypair = signers
            .iter()
            .find(|kp| kp.public_key() == **key)
            .expect("keypair");
        let mut session_rand = [0u8; 32];
        rng.fill_bytes(&mut session_rand);
        let mut extra = [0u8; 32];
        rng.fill_bytes(&mut extra);
        let (secret, public) = musig::new_nonce_pair(
            musig::SessionSecretRand::assume_uniformly_random(session_rand),
            Some(&cache),
            Some(keypair.secret_key()),
            keypair.public_key(),
            Some(&MESSAGE),
            Some(extra),
        );
        secret_nonces.push(secret);
        public_nonces.push(public);
        keypairs_in_order.push(keypair);
    }
    let nonce_refs: Vec<&musig::PublicNonce> = public_nonces.iter().collect();
    let aggregate = musig::AggregatedNonce::new(&nonce_refs);
    let session = musig::Session::new(&cache, aggregate, &MESSAGE);
    let partials: Vec<musig::PartialSignature> = secret_nonces
        .into_iter()
        .zip(&keypairs_in_order)
        .map(|(secret, keypair)| session.partial_sign(secret, keypair, &cache))
        .collect();
    let all_valid = partials
        .iter()
        .zip(&public_nonces)
        .zip(&keypairs_in_order)
        .all(|((partial, nonce), keypair)| {
            session.partial_verify(&cache, partial, nonce, keypair.public_key())
        });
    let partial_refs: Vec<&musig::PartialSignature> = partials.iter().collect();
    let signature = session.partial_sig_agg(&partial_refs);
    all_valid && signature.verify(&cache.agg_pk(), &MESSAGE).is_ok()
}
