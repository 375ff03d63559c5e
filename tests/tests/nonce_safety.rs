//! Nonce safety: secret nonces cannot be copied, serialized or printed, in either dialect.
//!
//! The type-level half is checked at compile time below (this file does not build if
//! `SecretNonce` ever gains `Clone`, `Copy` or `Serialize`); reuse after signing is refused by
//! the compiler too (see the `compile_fail` examples on `SecretNonce`). The runtime half checks
//! that no `Debug` output of a nonce, a context or a session contains secret bytes.

use chorus_core::crypto::{
    aggregate_nonces, generate_nonce, CryptoError, Dialect, KeyAggContext, Keypair, SecretKey,
    SecretNonce, SigningSession,
};
use chorus_tests::bip327_reference::{nonce_gen_internal, NonceGenInput, ReplayRng};

/// Fails to compile when the type implements any of the traits: with one of them, the
/// `AmbiguousIfImpl<_>` lookup below has two candidates and type inference gives up.
macro_rules! assert_not_impl_any {
    ($ty:ty: $($tr:path),+ $(,)?) => {
        const _: fn() = || {
            trait AmbiguousIfImpl<A> {
                fn some_item() {}
            }
            impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
            $({
                #[allow(dead_code)]
                struct Invalid;
                impl<T: ?Sized + $tr> AmbiguousIfImpl<Invalid> for T {}
            })+
            let _ = <$ty as AmbiguousIfImpl<_>>::some_item;
        };
    };
}

assert_not_impl_any!(SecretNonce: Clone, Copy, serde::Serialize);

const MESSAGE: [u8; 32] = [0x6d; 32];
const SECRET: [u8; 32] = [0x5e; 32];
const RAND: [u8; 32] = [0x71; 32];
const EXTRA: [u8; 32] = [0x3c; 32];

fn keypair(bytes: [u8; 32]) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes(bytes).unwrap())
}

/// Every 32-byte secret as hex in both cases.
fn secret_hex(secrets: &[[u8; 32]]) -> Vec<String> {
    secrets
        .iter()
        .flat_map(|secret| [hex::encode(secret), hex::encode_upper(secret)])
        .collect()
}

fn assert_hides(text: &str, secrets: &[[u8; 32]]) {
    for hex in secret_hex(secrets) {
        assert!(!text.contains(&hex), "{text:?} shows a secret");
    }
    // Nor any byte-array rendering of a secret, e.g. `[94, 94, ...]`.
    for secret in secrets {
        let listed = format!("{:?}", &secret[..8]);
        assert!(
            !text.contains(listed.trim_end_matches(']')),
            "{text:?} lists secret bytes"
        );
    }
}

/// A Bip340 nonce made from known randomness: BIP327 NonceGen (checked against the reference
/// and the vectors in `bip327_vectors`) tells us its secret scalars k1 and k2.
#[test]
fn bip340_debug_output_shows_no_secret() {
    let signer = keypair(SECRET);
    let other = keypair([0x22; 32]);
    let ctx =
        KeyAggContext::new(Dialect::Bip340, &[signer.public_key(), other.public_key()]).unwrap();
    let mut rng = ReplayRng::new([RAND, EXTRA].concat());
    let (secret, public) = generate_nonce(&ctx, &signer, &MESSAGE, &mut rng).unwrap();

    let pk = signer.public_key().serialize();
    let aggpk = ctx.xonly_key().unwrap().to_byte_array();
    let (secnonce, pubnonce) = nonce_gen_internal(&NonceGenInput {
        rand: &RAND,
        sk: Some(&SECRET),
        pk: &pk,
        aggpk: Some(&aggpk),
        msg: Some(&MESSAGE),
        extra_in: Some(&EXTRA),
    });
    assert_eq!(
        public.to_bytes(),
        pubnonce,
        "the scalars below are this nonce's"
    );
    let k1: [u8; 32] = secnonce[..32].try_into().unwrap();
    let k2: [u8; 32] = secnonce[32..64].try_into().unwrap();
    let secrets = [k1, k2, SECRET];

    let shown = format!("{secret:?} {secret:#?}");
    assert_eq!(format!("{secret:?}"), "SecretNonce { dialect: Bip340, .. }");
    assert_hides(&shown, &secrets);

    let aggregate = aggregate_nonces(Dialect::Bip340, &[public, public]).unwrap();
    let session = SigningSession::new(&ctx, &aggregate, &MESSAGE).unwrap();
    for text in [
        format!("{ctx:?}"),
        format!("{ctx:#?}"),
        format!("{session:?}"),
    ] {
        assert_hides(&text, &secrets);
    }
    assert!(
        format!("{ctx:?}").contains(&hex::encode(pk)),
        "public keys are shown"
    );
}

/// A Lotus nonce with chosen scalars (the conformance constructor) never shows them.
#[test]
fn lotus_debug_output_shows_no_secret() {
    let k1 = [0x1a; 32];
    let k2 = [0x2b; 32];
    let signer = keypair(SECRET);
    let ctx = KeyAggContext::new(Dialect::Lotus, &[signer.public_key()]).unwrap();
    let secret = SecretNonce::dangerous_lotus_from_scalars(&k1, &k2, &signer.public_key()).unwrap();
    assert_eq!(format!("{secret:?}"), "SecretNonce { dialect: Lotus, .. }");
    assert_hides(&format!("{secret:#?}"), &[k1, k2, SECRET]);

    let mut rng = ReplayRng::new([RAND, EXTRA].concat());
    let (fresh, public) = generate_nonce(&ctx, &signer, &MESSAGE, &mut rng).unwrap();
    assert_eq!(format!("{fresh:?}"), "SecretNonce { dialect: Lotus, .. }");
    let aggregate = aggregate_nonces(Dialect::Lotus, &[public]).unwrap();
    let session = SigningSession::new(&ctx, &aggregate, &MESSAGE).unwrap();
    for text in [
        format!("{ctx:?}"),
        format!("{session:?}"),
        format!("{session:#?}"),
    ] {
        assert_hides(&text, &[k1, k2, SECRET]);
    }
    // The chosen nonce belongs to another public nonce: signing with it in this session is
    // allowed by the key checks, and consumes it.
    let partial = session.partial_sign(&ctx, 0, secret, &signer).unwrap();
    assert!(!session.partial_verify(&ctx, 0, &partial, &public));
    assert!(session.partial_verify(
        &ctx,
        0,
        &session.partial_sign(&ctx, 0, fresh, &signer).unwrap(),
        &public
    ));
}

/// Zero scalars cannot make a Lotus nonce (BIP327 refuses them as "out of range" too).
#[test]
fn zero_nonce_scalars_are_refused() {
    let key = keypair(SECRET).public_key();
    assert!(matches!(
        SecretNonce::dangerous_lotus_from_scalars(&[0; 32], &[1; 32], &key),
        Err(CryptoError::InvalidPublicNonce)
    ));
    assert!(SecretNonce::dangerous_lotus_from_scalars(&[1; 32], &[0; 32], &key).is_err());
}

/// The same key, aggregate key and message never give the same nonce twice: the nonce is
/// not derived from them alone (lotus-lib's deterministic nonce leaks keys on a restart).
#[test]
fn nonces_depend_on_fresh_randomness() {
    let signer = keypair(SECRET);
    for dialect in [Dialect::Bip340, Dialect::Lotus] {
        let ctx = KeyAggContext::new(dialect, &[signer.public_key()]).unwrap();
        let mut first_rng = ReplayRng::new([RAND, EXTRA].concat());
        let mut second_rng = ReplayRng::new([EXTRA, RAND].concat());
        let mut again_rng = ReplayRng::new([RAND, EXTRA].concat());
        let (_, first) = generate_nonce(&ctx, &signer, &MESSAGE, &mut first_rng).unwrap();
        let (_, second) = generate_nonce(&ctx, &signer, &MESSAGE, &mut second_rng).unwrap();
        let (_, again) = generate_nonce(&ctx, &signer, &MESSAGE, &mut again_rng).unwrap();
        assert_ne!(first, second, "{dialect}");
        // Only replaying the exact randomness repeats a nonce.
        assert_eq!(first, again, "{dialect}");
    }
}
