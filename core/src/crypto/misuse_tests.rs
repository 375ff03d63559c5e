//! Every way a caller can misuse the signing API ends in a typed error, never a panic.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::*;

const MESSAGE: [u8; 32] = [0x33; 32];

fn keypair(byte: u8) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
}

/// A context over `keypairs` and those keypairs in signer order.
fn context(dialect: Dialect, keypairs: &[Keypair]) -> (KeyAggContext, Vec<Keypair>) {
    let keys: Vec<PublicKey> = keypairs.iter().map(Keypair::public_key).collect();
    let ctx = KeyAggContext::new(dialect, &keys).unwrap();
    let ordered = ctx
        .signers()
        .iter()
        .map(|key| *keypairs.iter().find(|kp| kp.public_key() == *key).unwrap())
        .collect();
    (ctx, ordered)
}

struct Round {
    secrets: Vec<SecretNonce>,
    publics: Vec<PublicNonce>,
    session: SigningSession,
}

fn round(ctx: &KeyAggContext, ordered: &[Keypair], rng: &mut ChaCha20Rng) -> Round {
    let (secrets, publics): (Vec<_>, Vec<_>) = ordered
        .iter()
        .map(|kp| generate_nonce(ctx, kp, &MESSAGE, rng).unwrap())
        .unzip();
    let aggregate = aggregate_nonces(ctx.dialect(), &publics).unwrap();
    let session = SigningSession::new(ctx, &aggregate, &MESSAGE).unwrap();
    Round {
        secrets,
        publics,
        session,
    }
}

#[test]
fn honest_sessions_verify_in_both_dialects_with_duplicate_keys() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        let (ctx, ordered) = context(dialect, &[keypair(3), keypair(1), keypair(3), keypair(2)]);
        assert_eq!(ctx.signers().len(), 4);
        let duplicate = keypair(3).public_key();
        let first = ctx.signer_index(&duplicate).unwrap();
        assert_eq!(ctx.signers()[first + 1], duplicate);
        assert!(ctx.signers()[..first].iter().all(|key| *key != duplicate));
        let Round {
            secrets,
            publics,
            session,
        } = round(&ctx, &ordered, &mut rng);
        let partials: Vec<PartialSignature> = secrets
            .into_iter()
            .enumerate()
            .map(|(i, secret)| session.partial_sign(&ctx, i, secret, &ordered[i]).unwrap())
            .collect();
        for (i, partial) in partials.iter().enumerate() {
            assert!(
                session.partial_verify(&ctx, i, partial, &publics[i]),
                "{dialect} signer {i}"
            );
        }
        let signature = session.aggregate(&ctx, &partials).unwrap();
        assert!(verify(dialect, &ctx.aggregate_key(), &MESSAGE, &signature));
        assert!(!verify(dialect, &ctx.aggregate_key(), &[0; 32], &signature));
    }
}

#[test]
fn partial_sign_refuses_wrong_index_key_nonce_and_dialect() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        let (ctx, ordered) = context(dialect, &[keypair(1), keypair(2)]);
        let Round {
            mut secrets,
            session,
            ..
        } = round(&ctx, &ordered, &mut rng);
        let second = secrets.pop().unwrap();
        let first = secrets.pop().unwrap();
        assert_eq!(
            session.partial_sign(&ctx, 2, first, &ordered[0]),
            Err(CryptoError::SignerIndexOutOfRange {
                index: 2,
                signers: 2
            })
        );
        // A keypair that is not the signer at that index.
        assert_eq!(
            session.partial_sign(&ctx, 0, second, &ordered[1]),
            Err(CryptoError::KeyMismatch)
        );
        // A nonce made for signer 1, offered by signer 0.
        let (other_secret, _) = generate_nonce(&ctx, &ordered[1], &MESSAGE, &mut rng).unwrap();
        assert_eq!(
            session.partial_sign(&ctx, 0, other_secret, &ordered[0]),
            Err(CryptoError::KeyMismatch)
        );
        // A nonce of the other dialect.
        let other_dialect = if dialect == Dialect::Bip340 {
            Dialect::Lotus
        } else {
            Dialect::Bip340
        };
        let (other_ctx, _) = context(other_dialect, &[keypair(1), keypair(2)]);
        let (foreign, _) = generate_nonce(&other_ctx, &ordered[0], &MESSAGE, &mut rng).unwrap();
        assert_eq!(
            session.partial_sign(&ctx, 0, foreign, &ordered[0]),
            Err(CryptoError::DialectMismatch {
                expected: dialect,
                got: other_dialect
            })
        );
        // A context of the other dialect.
        let (secret, _) = generate_nonce(&ctx, &ordered[0], &MESSAGE, &mut rng).unwrap();
        assert!(matches!(
            session.partial_sign(&other_ctx, 0, secret, &ordered[0]),
            Err(CryptoError::DialectMismatch { .. })
        ));
    }
}

#[test]
fn a_foreign_context_of_the_same_dialect_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        let (ctx, ordered) = context(dialect, &[keypair(1), keypair(2)]);
        let (foreign_ctx, _) = context(dialect, &[keypair(1), keypair(4)]);
        let Round {
            mut secrets,
            publics,
            session,
        } = round(&ctx, &ordered, &mut rng);
        let shared = keypair(1);
        let own_index = ctx.signer_index(&shared.public_key()).unwrap();
        let index = foreign_ctx.signer_index(&shared.public_key()).unwrap();
        let secret = secrets.swap_remove(own_index);
        assert_eq!(
            session.partial_sign(&foreign_ctx, index, secret, &shared),
            Err(CryptoError::KeyMismatch)
        );
        let partial = PartialSignature::from_bytes(&[1; 32]).unwrap();
        assert!(!session.partial_verify(&foreign_ctx, index, &partial, &publics[0]));
        assert_eq!(
            session.aggregate(&foreign_ctx, &[partial, partial]),
            Err(CryptoError::KeyMismatch)
        );
    }
}

#[test]
fn partial_verify_and_aggregate_refuse_mismatches() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let (ctx, ordered) = context(Dialect::Bip340, &[keypair(1), keypair(2)]);
    let Round {
        mut secrets,
        publics,
        session,
    } = round(&ctx, &ordered, &mut rng);
    let partial = session
        .partial_sign(&ctx, 0, secrets.remove(0), &ordered[0])
        .unwrap();
    assert!(session.partial_verify(&ctx, 0, &partial, &publics[0]));
    assert!(!session.partial_verify(&ctx, 1, &partial, &publics[1]));
    assert!(!session.partial_verify(&ctx, 0, &partial, &publics[1]));
    assert!(!session.partial_verify(&ctx, 7, &partial, &publics[0]));
    let (lotus_ctx, lotus_ordered) = context(Dialect::Lotus, &[keypair(1), keypair(2)]);
    let (_, lotus_public) =
        generate_nonce(&lotus_ctx, &lotus_ordered[0], &MESSAGE, &mut rng).unwrap();
    assert!(!session.partial_verify(&ctx, 0, &partial, &lotus_public));
    assert!(!session.partial_verify(&lotus_ctx, 0, &partial, &publics[0]));
    assert_eq!(
        session.aggregate(&ctx, &[partial]),
        Err(CryptoError::WrongPartialSignatureCount {
            expected: 2,
            got: 1
        })
    );
    assert_eq!(
        aggregate_nonces(Dialect::Bip340, &[publics[0], lotus_public]),
        Err(CryptoError::DialectMismatch {
            expected: Dialect::Bip340,
            got: Dialect::Lotus
        })
    );
    let lotus_aggregate = aggregate_nonces(Dialect::Lotus, &[lotus_public]).unwrap();
    assert_eq!(
        SigningSession::new(&ctx, &lotus_aggregate, &MESSAGE).unwrap_err(),
        CryptoError::DialectMismatch {
            expected: Dialect::Bip340,
            got: Dialect::Lotus
        }
    );
}

/// Returns zero bytes forever: a broken generator.
struct ZeroRng;

impl RngCore for ZeroRng {
    fn next_u32(&mut self) -> u32 {
        0
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        dst.fill(0);
    }
}

impl rand_chacha::rand_core::CryptoRng for ZeroRng {}

#[test]
fn a_generator_stuck_at_zero_is_an_error_not_a_panic() {
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        let (ctx, ordered) = context(dialect, &[keypair(1)]);
        assert_eq!(
            generate_nonce(&ctx, &ordered[0], &MESSAGE, &mut ZeroRng).unwrap_err(),
            CryptoError::ZeroRandomness
        );
    }
}

#[test]
fn nonces_are_fresh_for_the_same_key_and_message() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        let (ctx, ordered) = context(dialect, &[keypair(1), keypair(2)]);
        let (_, first) = generate_nonce(&ctx, &ordered[0], &MESSAGE, &mut rng).unwrap();
        let (_, second) = generate_nonce(&ctx, &ordered[0], &MESSAGE, &mut rng).unwrap();
        assert_ne!(first, second);
    }
}

#[test]
fn failed_tweaks_leave_the_context_unchanged_and_lotus_refuses_bip327_tweaks() {
    let (mut ctx, _) = context(Dialect::Bip340, &[keypair(1), keypair(2)]);
    let before = ctx.aggregate_key();
    assert_eq!(ctx.tweak_xonly(&[0xff; 32]), Err(CryptoError::InvalidTweak));
    assert_eq!(ctx.tweak_plain(&[0xff; 32]), Err(CryptoError::InvalidTweak));
    assert_eq!(ctx.aggregate_key(), before);
    ctx.tweak_plain(&[0; 32]).unwrap();
    assert_eq!(ctx.aggregate_key(), before);

    let (mut lotus, _) = context(Dialect::Lotus, &[keypair(1), keypair(2)]);
    let unsupported = |operation| CryptoError::UnsupportedInDialect {
        operation,
        dialect: Dialect::Lotus,
    };
    assert_eq!(lotus.tweak_plain(&[1; 32]), Err(unsupported("plain tweak")));
    assert_eq!(
        lotus.tweak_xonly(&[1; 32]),
        Err(unsupported("x-only tweak"))
    );
    assert_eq!(lotus.xonly_key(), None);
}

#[test]
fn public_values_round_trip_through_bytes() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        let (ctx, ordered) = context(dialect, &[keypair(1), keypair(2)]);
        let Round { publics, .. } = round(&ctx, &ordered, &mut rng);
        for public in &publics {
            assert_eq!(
                PublicNonce::from_bytes(dialect, &public.to_bytes()).unwrap(),
                *public
            );
        }
        let aggregate = aggregate_nonces(dialect, &publics).unwrap();
        assert_eq!(
            AggregateNonce::from_bytes(dialect, &aggregate.to_bytes()).unwrap(),
            aggregate
        );
        assert_eq!(aggregate.dialect(), dialect);
    }
    let mut garbage = [0u8; 66];
    rng.fill_bytes(&mut garbage);
    garbage[0] = 0x05;
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        assert_eq!(
            PublicNonce::from_bytes(dialect, &garbage),
            Err(CryptoError::InvalidPublicNonce)
        );
        assert_eq!(
            AggregateNonce::from_bytes(dialect, &garbage),
            Err(CryptoError::InvalidAggregateNonce)
        );
    }
}

#[test]
fn single_signatures_verify_only_in_their_own_dialect() {
    let keypair = keypair(9);
    let bip340 = sign_single(Dialect::Bip340, &keypair, &MESSAGE, &[4; 32]);
    let lotus = sign_single(Dialect::Lotus, &keypair, &MESSAGE, &[4; 32]);
    assert!(verify(
        Dialect::Bip340,
        &keypair.public_key(),
        &MESSAGE,
        &bip340
    ));
    assert!(verify(
        Dialect::Lotus,
        &keypair.public_key(),
        &MESSAGE,
        &lotus
    ));
    assert!(!verify(
        Dialect::Lotus,
        &keypair.public_key(),
        &MESSAGE,
        &bip340
    ));
    assert!(!verify(
        Dialect::Bip340,
        &keypair.public_key(),
        &MESSAGE,
        &lotus
    ));
    assert!(!verify(
        Dialect::Bip340,
        &keypair.public_key(),
        &MESSAGE,
        &Signature([0xff; 64])
    ));
    assert!(!verify(
        Dialect::Lotus,
        &keypair.public_key(),
        &MESSAGE,
        &Signature([0xff; 64])
    ));
}
