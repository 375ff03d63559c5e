//! MuSig2 step and full-session benchmarks: Bip340 and Lotus through chorus-core, against a
//! baseline that calls the `secp256k1` crate's `musig` module directly.
//!
//! Run with `cargo bench -p chorus-core --bench musig`; `core/benches/summarize.py` turns
//! criterion's medians into the README table.

use std::hint::black_box;
use std::time::Duration;

mod common;

use chorus_core::crypto::{
    aggregate_nonces, generate_nonce, Dialect, KeyAggContext, Keypair, PartialSignature, PublicKey,
    PublicNonce, SigningSession,
};
use common::{baseline_session, chorus_session, keypairs, public_keys, MESSAGE, SIZES};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use secp256k1::musig;

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
