//! MuSig2 step and full-session benchmarks: Bip340 and Lotus through chorus-core, against a
//! baseline that calls the `secp256k1` crate's `musig` module directly.
//!
//! Run with `cargo bench -p chorus-core --bench musig`; `core/benches/summarize.py` turns
//! criterion's medians into the README table.

use std::hint::black_box;
use std::time::Duration;

use chorus_core::crypto::{
    aggregate_nonces, generate_nonce, verify, Dialect, KeyAggContext, Keypair, PartialSignature,
    PublicKey, PublicNonce, SecretKey, SigningSession,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secp256k1::musig;

const SIZES: [usize; 4] = [2, 10, 100, 1000];
const MESSAGE: [u8; 32] = [0x42; 32];

fn keypairs(n: usize, seed: u64) -> Vec<Keypair> {
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

fn public_keys(keypairs: &[Keypair]) -> Vec<PublicKey> {
    keypairs.iter().map(Keypair::public_key).collect()
}

/// One complete n-party signing through chorus-core: key aggregation, every nonce, every
/// partial signature, every partial verified, aggregation, final verification.
fn chorus_session(dialect: Dialect, signers: &[Keypair], rng: &mut ChaCha20Rng) -> bool {
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
fn baseline_session(signers: &[Keypair], rng: &mut ChaCha20Rng) -> bool {
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

fn full_session(c: &mut Criterion) {
    let mut group = c.benchmark_group("full_session");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    for n in SIZES {
        let signers = keypairs(n, n as u64);
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        group.bench_with_input(BenchmarkId::new("baseline", n), &signers, |b, s| {
            b.iter(|| assert!(baseline_session(black_box(s), &mut rng)))
        });
        group.bench_with_input(BenchmarkId::new("bip340", n), &signers, |b, s| {
            b.iter(|| assert!(chorus_session(Dialect::Bip340, black_box(s), &mut rng)))
        });
        group.bench_with_input(BenchmarkId::new("lotus", n), &signers, |b, s| {
            b.iter(|| assert!(chorus_session(Dialect::Lotus, black_box(s), &mut rng)))
        });
    }
    group.finish();
}

fn key_aggregation(c: &mut Criterion) {
    let mut group = c.benchmark_group("key_aggregation");
    group.sample_size(20);
    for n in SIZES {
        let keys = public_keys(&keypairs(n, n as u64));
        group.bench_with_input(BenchmarkId::new("baseline", n), &keys, |b, keys| {
            b.iter(|| {
                let mut sorted: Vec<&PublicKey> = keys.iter().collect();
                secp256k1::sort_pubkeys(&mut sorted);
                musig::KeyAggCache::new(&sorted).agg_pk_full()
            })
        });
        for dialect in [Dialect::Bip340, Dialect::Lotus] {
            group.bench_with_input(BenchmarkId::new(dialect.name(), n), &keys, |b, keys| {
                b.iter(|| KeyAggContext::new(dialect, keys).map(|ctx| ctx.aggregate_key()))
            });
        }
    }
    group.finish();
}

/// A 3-signer context, its nonces and a session, shared by the single-step benchmarks.
struct Fixture {
    signers: Vec<Keypair>,
    ctx: KeyAggContext,
    public_nonces: Vec<PublicNonce>,
    session: SigningSession,
    partials: Vec<PartialSignature>,
}

fn fixture(dialect: Dialect, n: usize) -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let signers = keypairs(n, 1234);
    let ctx = KeyAggContext::new(dialect, &public_keys(&signers)).expect("keys");
    let ordered: Vec<Keypair> = ctx
        .signers()
        .iter()
        .map(|key| {
            *signers
                .iter()
                .find(|kp| kp.public_key() == *key)
                .expect("keypair")
        })
        .collect();
    let (secret_nonces, public_nonces): (Vec<_>, Vec<_>) = ordered
        .iter()
        .map(|kp| generate_nonce(&ctx, kp, &MESSAGE, &mut rng).expect("nonce"))
        .unzip();
    let aggregate = aggregate_nonces(dialect, &public_nonces).expect("aggregate");
    let session = SigningSession::new(&ctx, &aggregate, &MESSAGE).expect("session");
    let partials = secret_nonces
        .into_iter()
        .zip(&ordered)
        .enumerate()
        .map(|(i, (secret, kp))| session.partial_sign(&ctx, i, secret, kp).expect("sign"))
        .collect();
    Fixture {
        signers: ordered,
        ctx,
        public_nonces,
        session,
        partials,
    }
}

fn single_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("steps");
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        let fx = fixture(dialect, 3);
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let name = dialect.name();
        group.bench_function(BenchmarkId::new("nonce_generation", name), |b| {
            b.iter(|| generate_nonce(&fx.ctx, &fx.signers[0], &MESSAGE, &mut rng).map(|p| p.1))
        });
        group.bench_function(BenchmarkId::new("partial_sign", name), |b| {
            b.iter_batched(
                || {
                    generate_nonce(&fx.ctx, &fx.signers[0], &MESSAGE, &mut rng)
                        .expect("nonce")
                        .0
                },
                |secret| fx.session.partial_sign(&fx.ctx, 0, secret, &fx.signers[0]),
                criterion::BatchSize::SmallInput,
            )
        });
        group.bench_function(BenchmarkId::new("partial_verify", name), |b| {
            b.iter(|| {
                fx.session
                    .partial_verify(&fx.ctx, 1, &fx.partials[1], &fx.public_nonces[1])
            })
        });
        group.bench_function(BenchmarkId::new("nonce_aggregation", name), |b| {
            b.iter(|| aggregate_nonces(dialect, black_box(&fx.public_nonces)))
        });
        group.bench_function(BenchmarkId::new("signature_aggregation", name), |b| {
            b.iter(|| fx.session.aggregate(&fx.ctx, black_box(&fx.partials)))
        });
        group.bench_function(BenchmarkId::new("session_context", name), |b| {
            let aggregate = aggregate_nonces(dialect, &fx.public_nonces).expect("aggregate");
            b.iter(|| SigningSession::new(&fx.ctx, black_box(&aggregate), &MESSAGE))
        });
    }
    group.finish();
}

/// The single steps through `secp256k1::musig` directly, the floor for the rows above.
fn baseline_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("steps");
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let signers = keypairs(3, 1234);
    let mut keys: Vec<PublicKey> = public_keys(&signers);
    keys.sort_by_key(PublicKey::serialize);
    let key_refs: Vec<&PublicKey> = keys.iter().collect();
    let cache = musig::KeyAggCache::new(&key_refs);
    let ordered: Vec<Keypair> = keys
        .iter()
        .map(|key| {
            *signers
                .iter()
                .find(|kp| kp.public_key() == *key)
                .expect("keypair")
        })
        .collect();
    let mut fresh_nonce = |keypair: &Keypair| {
        let mut session_rand = [0u8; 32];
        rng.fill_bytes(&mut session_rand);
        let mut extra = [0u8; 32];
        rng.fill_bytes(&mut extra);
        musig::new_nonce_pair(
            musig::SessionSecretRand::assume_uniformly_random(session_rand),
            Some(&cache),
            Some(keypair.secret_key()),
            keypair.public_key(),
            Some(&MESSAGE),
            Some(extra),
        )
    };
    let (secret_nonces, public_nonces): (Vec<_>, Vec<_>) =
        ordered.iter().map(&mut fresh_nonce).unzip();
    let nonce_refs: Vec<&musig::PublicNonce> = public_nonces.iter().collect();
    let aggregate = musig::AggregatedNonce::new(&nonce_refs);
    let session = musig::Session::new(&cache, aggregate, &MESSAGE);
    let partials: Vec<musig::PartialSignature> = secret_nonces
        .into_iter()
        .zip(&ordered)
        .map(|(secret, kp)| session.partial_sign(secret, kp, &cache))
        .collect();
    let partial_refs: Vec<&musig::PartialSignature> = partials.iter().collect();
    group.bench_function(BenchmarkId::new("nonce_generation", "baseline"), |b| {
        b.iter(|| fresh_nonce(&ordered[0]).1)
    });
    group.bench_function(BenchmarkId::new("partial_sign", "baseline"), |b| {
        b.iter_batched(
            || fresh_nonce(&ordered[0]).0,
            |secret| session.partial_sign(secret, &ordered[0], &cache),
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function(BenchmarkId::new("partial_verify", "baseline"), |b| {
        b.iter(|| {
            session.partial_verify(
                &cache,
                &partials[1],
                &public_nonces[1],
                ordered[1].public_key(),
            )
        })
    });
    group.bench_function(BenchmarkId::new("nonce_aggregation", "baseline"), |b| {
        b.iter(|| musig::AggregatedNonce::new(black_box(&nonce_refs)))
    });
    group.bench_function(BenchmarkId::new("signature_aggregation", "baseline"), |b| {
        b.iter(|| session.partial_sig_agg(black_box(&partial_refs)))
    });
    group.bench_function(BenchmarkId::new("session_context", "baseline"), |b| {
        b.iter(|| musig::Session::new(&cache, black_box(aggregate), &MESSAGE))
    });
    group.finish();
}

criterion_group!(
    benches,
    key_aggregation,
    baseline_steps,
    single_steps,
    full_session
);
criterion_main!(benches);
