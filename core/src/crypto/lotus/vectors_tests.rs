//! The lotus-lib conformance vectors (`tests/vectors/lotus/musig2.json`) run against this
//! module's internal interface; the public API runs them again in `chorus-tests`.
//!
//! Key aggregation coefficients in the file are lotus-lib's raw 256-bit hash values (or 1);
//! they are compared after reduction mod n, which is what this module stores.

use secp256k1::{Keypair, PublicKey, SecretKey};
use serde_json::Value;

use super::nonce::nonce_from_secret_keys;
use super::scalar::Scalar;
use super::{aggregate_nonces, sign, verify, LotusKeyAgg, LotusPublicNonce, LotusSession};

/// The vector file, embedded when the tests compile: the core reads no files, not even in
/// its tests.
const MUSIG2_VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/vectors/lotus/musig2.json"
));

fn vectors() -> Value {
    serde_json::from_str(MUSIG2_VECTORS).expect("vector JSON")
}

fn text(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("missing {field}"))
        .to_owned()
}

fn bytes<const N: usize>(value: &Value, field: &str) -> [u8; N] {
    hex::decode(text(value, field)).unwrap().try_into().unwrap()
}

fn key(value: &Value, field: &str) -> PublicKey {
    PublicKey::from_slice(&hex::decode(text(value, field)).unwrap()).unwrap()
}

fn keys(value: &Value, field: &str) -> Vec<PublicKey> {
    value[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| PublicKey::from_slice(&hex::decode(k.as_str().unwrap()).unwrap()).unwrap())
        .collect()
}

fn sorted(keys: &[PublicKey]) -> Vec<PublicKey> {
    let mut keys = keys.to_vec();
    keys.sort_by_key(PublicKey::serialize);
    keys
}

fn cases<'a>(file: &'a Value, group: &str) -> &'a Vec<Value> {
    let list = file[group].as_array().unwrap();
    assert!(!list.is_empty(), "no {group} cases");
    list
}

#[test]
fn keyagg_cases() {
    let file = vectors();
    for case in cases(&file, "keyagg") {
        let name = text(case, "name");
        let sorted_keys = keys(case, "sorted_pubkeys");
        assert_eq!(sorted(&keys(case, "input_pubkeys")), sorted_keys, "{name}");
        let agg = LotusKeyAgg::new(&sorted_keys).unwrap();
        assert_eq!(agg.list_hash(), bytes(case, "keyagg_list_hash_L"), "{name}");
        let raw = case["keyagg_coefficients_by_sorted_index"]
            .as_array()
            .unwrap();
        let is_one = case["coefficient_is_one"].as_array().unwrap();
        for (index, (raw, is_one)) in raw.iter().zip(is_one).enumerate() {
            let raw = hex::decode(raw.as_str().unwrap()).unwrap();
            let mut padded = [0u8; 32];
            padded[32 - raw.len()..].copy_from_slice(&raw);
            let reduced = Scalar::reduce(&padded).to_bytes();
            assert_eq!(agg.coefficient(index), Some(reduced), "{name} a_{index}");
            assert_eq!(
                reduced == Scalar::one().to_bytes(),
                is_one.as_bool().unwrap(),
                "{name}"
            );
        }
        assert_eq!(agg.coefficient(raw.len()), None);
        assert_eq!(
            agg.aggregate_key(),
            key(case, "aggregated_pubkey"),
            "{name}"
        );
    }
}

struct Transcript {
    agg: LotusKeyAgg,
    nonces: Vec<LotusPublicNonce>,
    partials: Vec<[u8; 32]>,
    session: LotusSession,
}

fn run_signing(case: &Value) -> Transcript {
    let name = text(case, "name");
    let sorted_keys = keys(case, "sorted_pubkeys");
    assert_eq!(sorted(&keys(case, "input_pubkeys")), sorted_keys, "{name}");
    let agg = LotusKeyAgg::new(&sorted_keys).unwrap();
    assert_eq!(
        agg.aggregate_key(),
        key(case, "aggregated_pubkey"),
        "{name}"
    );
    let message: [u8; 32] = bytes(case, "message");
    let signers = case["signers"].as_array().unwrap();
    assert_eq!(signers.len() as u64, case["n"].as_u64().unwrap());

    let mut secrets = Vec::new();
    let mut nonces = Vec::new();
    for (index, signer) in signers.iter().enumerate() {
        assert_eq!(signer["signer_index"].as_u64(), Some(index as u64));
        let keypair = Keypair::from_secret_key(
            &SecretKey::from_secret_bytes(bytes(signer, "secret_key")).unwrap(),
        );
        assert_eq!(keypair.public_key(), key(signer, "pubkey"));
        assert_eq!(keypair.public_key(), sorted_keys[index]);
        let raw: [u8; 32] = bytes(signer, "keyagg_coefficient");
        assert_eq!(
            agg.coefficient(index),
            Some(Scalar::reduce(&raw).to_bytes())
        );
        let k1 = SecretKey::from_secret_bytes(bytes(signer, "secret_nonce_k1")).unwrap();
        let k2 = SecretKey::from_secret_bytes(bytes(signer, "secret_nonce_k2")).unwrap();
        let (secret, public) = nonce_from_secret_keys(k1, k2, keypair.public_key());
        assert_eq!(public.r1, key(signer, "public_nonce_R1"), "{name}");
        assert_eq!(public.r2, key(signer, "public_nonce_R2"), "{name}");
        secrets.push((secret, keypair));
        nonces.push(public);
    }

    let agg_nonce = aggregate_nonces(&nonces).unwrap();
    assert_eq!(agg_nonce.r1, key(case, "aggregated_nonce_R1"), "{name}");
    assert_eq!(agg_nonce.r2, key(case, "aggregated_nonce_R2"), "{name}");
    let session = LotusSession::new(&agg, &agg_nonce, &message).unwrap();
    assert_eq!(
        session.nonce_coefficient(),
        bytes(case, "nonce_coefficient_b"),
        "{name}"
    );
    let effective = session.effective_nonce();
    assert_eq!(effective, key(case, "effective_nonce_R"), "{name}");
    let qr = case["effective_nonce_R_y_is_quadratic_residue"]
        .as_bool()
        .unwrap();
    assert_eq!(super::point::has_square_y(&effective), qr, "{name}");
    assert_eq!(case["lotus_hasSquare_of_R"].as_bool().unwrap(), qr);
    let negated = case["secret_nonces_negated"].as_bool().unwrap();
    assert_eq!(session.nonces_negated(), negated, "{name}");
    assert_eq!(session.challenge(), bytes(case, "challenge_e"), "{name}");

    let mut partials = Vec::new();
    for ((index, (secret, keypair)), signer) in secrets.into_iter().enumerate().zip(signers) {
        let partial = session.partial_sign(&agg, index, secret, &keypair).unwrap();
        assert_eq!(partial, bytes(signer, "partial_sig"), "{name} s_{index}");
        let expected = signer["partial_sig_verify"].as_bool().unwrap();
        assert_eq!(
            session.partial_verify(&agg, index, &partial, &nonces[index]),
            expected
        );
        partials.push(partial);
    }
    let signature = session.aggregate(&agg, &partials).unwrap();
    assert_eq!(signature, bytes(case, "final_signature"), "{name}");
    let verifies = case["final_signature_schnorr_verify"].as_bool().unwrap();
    assert_eq!(
        verify(&agg.aggregate_key(), &message, &signature),
        verifies,
        "{name}"
    );
    Transcript {
        agg,
        nonces,
        partials,
        session,
    }
}

#[test]
fn signing_and_negative_cases() {
    let file = vectors();
    let transcripts: Vec<(String, Transcript)> = cases(&file, "signing")
        .iter()
        .map(|case| (text(case, "name"), run_signing(case)))
        .collect();
    let transcript = |name: &str| &transcripts.iter().find(|(n, _)| n == name).unwrap().1;
    let signing_cases = cases(&file, "signing");

    for case in cases(&file, "negative") {
        let name = text(case, "name");
        let source = transcript(&text(case, "transcript"));
        if let Some(expected) = case["musigPartialSigVerify"].as_bool() {
            let index = case["signer_index"].as_u64().unwrap() as usize;
            let partial: [u8; 32] = bytes(case, "partial_sig");
            let session = match case.get("message") {
                Some(_) => {
                    let agg_nonce = aggregate_nonces(&source.nonces).unwrap();
                    LotusSession::new(&source.agg, &agg_nonce, &bytes(case, "message")).unwrap()
                }
                None => source.session.clone(),
            };
            // Whatever the tampering, checked against signer 0's nonce as in the file.
            let verdict = session.partial_verify(&source.agg, index, &partial, &source.nonces[0]);
            assert_eq!(verdict, expected, "{name}");
        } else {
            let expected = case["schnorr_verify"].as_bool().unwrap();
            let verdict = verify(
                &key(case, "pubkey"),
                &bytes(case, "msg"),
                &bytes(case, "sig"),
            );
            assert_eq!(verdict, expected, "{name}");
        }
    }
    // lotus-lib aggregates any number of partials; this module insists on one per signer.
    let n3 = transcript("sign_n3");
    let missing = cases(&file, "negative")
        .iter()
        .find(|case| text(case, "name") == "final_sig_missing_one_partial")
        .unwrap();
    let missing_s = &bytes::<64>(missing, "sig")[32..];
    let pair_sums: Vec<[u8; 32]> = [(0, 1), (0, 2), (1, 2)]
        .iter()
        .map(|&(i, j)| {
            let a = Scalar::from_canonical(&n3.partials[i]).unwrap();
            a.add(Scalar::from_canonical(&n3.partials[j]).unwrap())
                .to_bytes()
        })
        .collect();
    assert!(pair_sums.iter().any(|sum| sum[..] == *missing_s));
    assert_eq!(
        n3.session.aggregate(&n3.agg, &n3.partials[..2]),
        Err(crate::crypto::CryptoError::WrongPartialSignatureCount {
            expected: 3,
            got: 2
        })
    );
    assert_eq!(signing_cases.len(), transcripts.len());
}

#[test]
fn schnorr_plain_cases() {
    let file = vectors();
    for case in cases(&file, "schnorr_plain") {
        let name = text(case, "name");
        let keypair = Keypair::from_secret_key(
            &SecretKey::from_secret_bytes(bytes(case, "secret_key")).unwrap(),
        );
        assert_eq!(keypair.public_key(), key(case, "pubkey"), "{name}");
        let message: [u8; 32] = bytes(case, "msg");
        let nonce = super::schnorr::rfc6979_nonce_for_tests(&keypair, &message);
        assert_eq!(nonce, bytes(case, "rfc6979_nonce_k"), "{name}");
        let signature = sign(&keypair, &message);
        assert_eq!(signature, bytes(case, "sig"), "{name}");
        assert_eq!(
            verify(&keypair.public_key(), &message, &signature),
            case["schnorr_verify"].as_bool().unwrap()
        );
        let mut wrong = message;
        wrong[0] ^= 1;
        let expected = case["schnorr_verify_wrong_msg"].as_bool().unwrap();
        assert_eq!(
            verify(&keypair.public_key(), &wrong, &signature),
            expected,
            "{name}"
        );
    }
}
