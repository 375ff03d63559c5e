//! Conformance with lotus-lib 0.1.49's MuSig2 and Schnorr (`vectors/lotus/musig2.json`),
//! through the public API.
//!
//! Every case of the file is run: key aggregation, full signing transcripts, negative cases
//! and single-key Schnorr signatures. Key aggregation coefficients are stored in the file as
//! lotus-lib's raw 256-bit hash values (or 1); they are compared after reduction mod n.
//! Values the API does not expose (the single-key RFC6979 nonce) are checked by recomputing
//! the signature equation here with libsecp256k1 scalar operations.

use chorus_core::crypto::{
    aggregate_nonces, sign_single, verify, AggregateNonce, Dialect, KeyAggContext, Keypair,
    PartialSignature, PublicKey, PublicNonce, SecretKey, SecretNonce, Signature, SigningSession,
};
use chorus_core::secp256k1::Scalar;
use chorus_tests::{read_json, unhex, unhex_array};
use serde_json::Value;
use sha2::{Digest, Sha256};

const FILE: &str = "lotus/musig2.json";
const GROUPS: [&str; 4] = ["keyagg", "signing", "negative", "schnorr_plain"];

fn cases<'a>(doc: &'a Value, group: &str) -> &'a [Value] {
    doc[group]
        .as_array()
        .unwrap_or_else(|| panic!("{group} is not a list"))
}

fn text<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {case}"))
}

fn flag(case: &Value, field: &str) -> bool {
    case[field]
        .as_bool()
        .unwrap_or_else(|| panic!("{field} missing"))
}

fn point(hex: &str) -> PublicKey {
    PublicKey::from_slice(&unhex(hex)).unwrap()
}

fn points(case: &Value, field: &str) -> Vec<PublicKey> {
    case[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| point(k.as_str().unwrap()))
        .collect()
}

fn keypair(hex: &str) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes(unhex_array(hex)).unwrap())
}

/// A 256-bit big-endian value mod n, through libsecp256k1: `x mod n = (x − n) + n` never
/// needs more than one subtraction, and libsecp parses only canonical scalars.
fn reduced(raw: &[u8]) -> [u8; 32] {
    let mut padded = [0u8; 32];
    padded[32 - raw.len()..].copy_from_slice(raw);
    match Scalar::from_be_bytes(padded) {
        Ok(scalar) => scalar.to_be_bytes(),
        Err(_) => {
            let order = Scalar::MAX.to_be_bytes(); // n − 1
            let mut difference = [0u8; 32];
            let mut borrow = 1u16; // subtract (n − 1) + 1
            for i in (0..32).rev() {
                let value = u16::from(padded[i]) + 256 - u16::from(order[i]) - borrow;
                difference[i] = (value & 0xff) as u8;
                borrow = u16::from(value < 256);
            }
            difference
        }
    }
}

fn keyagg_case(case: &Value) {
    let name = text(case, "name");
    let ctx = KeyAggContext::new(Dialect::Lotus, &points(case, "input_pubkeys")).unwrap();
    assert_eq!(
        ctx.signers(),
        points(case, "sorted_pubkeys"),
        "{name}: sorted keys"
    );
    assert_eq!(
        ctx.lotus_list_hash(),
        Some(unhex_array(text(case, "keyagg_list_hash_L"))),
        "{name}: L"
    );
    let raw = case["keyagg_coefficients_by_sorted_index"]
        .as_array()
        .unwrap();
    let is_one = case["coefficient_is_one"].as_array().unwrap();
    let mut one = [0u8; 32];
    one[31] = 1;
    for (index, (raw, is_one)) in raw.iter().zip(is_one).enumerate() {
        let expected = reduced(&unhex(raw.as_str().unwrap()));
        assert_eq!(
            ctx.lotus_coefficient(index),
            Some(expected),
            "{name}: a_{index}"
        );
        assert_eq!(
            expected == one,
            is_one.as_bool().unwrap(),
            "{name}: a_{index} is one"
        );
    }
    assert_eq!(ctx.lotus_coefficient(raw.len()), None, "{name}");
    assert_eq!(
        ctx.aggregate_key(),
        point(text(case, "aggregated_pubkey")),
        "{name}: Q"
    );
}

/// What a signing transcript leaves for the negative cases.
struct Transcript {
    name: String,
    ctx: KeyAggContext,
    public_nonces: Vec<PublicNonce>,
    aggregate_nonce: AggregateNonce,
    session: SigningSession,
}

fn signing_case(case: &Value) -> Transcript {
    let name = text(case, "name");
    let message: [u8; 32] = unhex_array(text(case, "message"));
    let ctx = KeyAggContext::new(Dialect::Lotus, &points(case, "input_pubkeys")).unwrap();
    assert_eq!(ctx.signers(), points(case, "sorted_pubkeys"), "{name}");
    assert_eq!(
        ctx.aggregate_key(),
        point(text(case, "aggregated_pubkey")),
        "{name}: Q"
    );
    let signers = case["signers"].as_array().unwrap();
    assert_eq!(
        signers.len() as u64,
        case["n"].as_u64().unwrap(),
        "{name}: n"
    );

    let mut secret_nonces = Vec::new();
    let mut public_nonces = Vec::new();
    let mut keypairs = Vec::new();
    for (index, signer) in signers.iter().enumerate() {
        assert_eq!(
            signer["signer_index"].as_u64(),
            Some(index as u64),
            "{name}"
        );
        let pair = keypair(text(signer, "secret_key"));
        assert_eq!(pair.public_key(), point(text(signer, "pubkey")), "{name}");
        assert_eq!(ctx.signer_index(&pair.public_key()), Some(index), "{name}");
        let raw_coefficient = unhex(text(signer, "keyagg_coefficient"));
        assert_eq!(
            ctx.lotus_coefficient(index),
            Some(reduced(&raw_coefficient)),
            "{name}"
        );
        let k1 = unhex_array(text(signer, "secret_nonce_k1"));
        let k2 = unhex_array(text(signer, "secret_nonce_k2"));
        let secret =
            SecretNonce::dangerous_lotus_from_scalars(&k1, &k2, &pair.public_key()).unwrap();
        let mut public = [0u8; 66];
        public[..33].copy_from_slice(&unhex(text(signer, "public_nonce_R1")));
        public[33..].copy_from_slice(&unhex(text(signer, "public_nonce_R2")));
        secret_nonces.push(secret);
        public_nonces.push(PublicNonce::from_bytes(Dialect::Lotus, &public).unwrap());
        keypairs.push(pair);
    }

    let aggregate_nonce = aggregate_nonces(Dialect::Lotus, &public_nonces).unwrap();
    let aggregate_bytes = aggregate_nonce.to_bytes();
    assert_eq!(
        hex::encode(&aggregate_bytes[..33]),
        text(case, "aggregated_nonce_R1"),
        "{name}"
    );
    assert_eq!(
        hex::encode(&aggregate_bytes[33..]),
        text(case, "aggregated_nonce_R2"),
        "{name}"
    );
    let session = SigningSession::new(&ctx, &aggregate_nonce, &message).unwrap();
    check_session_values(case, &session);

    let mut partials = Vec::new();
    for (index, ((secret, pair), signer)) in secret_nonces
        .into_iter()
        .zip(&keypairs)
        .zip(signers)
        .enumerate()
    {
        let partial = session.partial_sign(&ctx, index, secret, pair).unwrap();
        assert_eq!(
            hex::encode(partial.to_bytes()),
            text(signer, "partial_sig"),
            "{name}: s_{index}"
        );
        let verdict = session.partial_verify(&ctx, index, &partial, &public_nonces[index]);
        assert_eq!(
            verdict,
            flag(signer, "partial_sig_verify"),
            "{name}: verify s_{index}"
        );
        partials.push(partial);
    }
    let signature = session.aggregate(&ctx, &partials).unwrap();
    assert_eq!(
        signature.to_string(),
        text(case, "final_signature"),
        "{name}: signature"
    );
    let verdict = verify(Dialect::Lotus, &ctx.aggregate_key(), &message, &signature);
    assert_eq!(
        verdict,
        flag(case, "final_signature_schnorr_verify"),
        "{name}: verify"
    );
    assert_eq!(
        session.aggregate(&ctx, &partials[1..]).unwrap_err(),
        chorus_core::crypto::CryptoError::WrongPartialSignatureCount {
            expected: partials.len(),
            got: partials.len() - 1
        }
    );

    Transcript {
        name: name.to_owned(),
        ctx,
        public_nonces,
        aggregate_nonce,
        session,
    }
}

fn check_session_values(case: &Value, session: &SigningSession) {
    let name = text(case, "name");
    let (b, effective, negated, e) = session.lotus_values().unwrap();
    assert_eq!(
        hex::encode(b),
        text(case, "nonce_coefficient_b"),
        "{name}: b"
    );
    assert_eq!(
        effective,
        point(text(case, "effective_nonce_R")),
        "{name}: R"
    );
    assert_eq!(
        negated,
        flag(case, "secret_nonces_negated"),
        "{name}: negated"
    );
    // The signers negate exactly when y(R) is not a square (hasSquare), whatever its parity.
    let square = flag(case, "effective_nonce_R_y_is_quadratic_residue");
    assert_eq!(flag(case, "lotus_hasSquare_of_R"), square, "{name}");
    assert_eq!(negated, !square, "{name}: negated iff y(R) is not a square");
    let even = effective.serialize()[0] == 0x02;
    assert_eq!(
        even,
        flag(case, "effective_nonce_R_y_is_even"),
        "{name}: parity"
    );
    assert_eq!(hex::encode(e), text(case, "challenge_e"), "{name}: e");
}

fn negative_case(case: &Value, transcripts: &[Transcript]) {
    let name = text(case, "name");
    let source = transcripts
        .iter()
        .find(|t| t.name == text(case, "transcript"))
        .unwrap_or_else(|| panic!("{name}: unknown transcript"));
    if let Some(expected) = case["musigPartialSigVerify"].as_bool() {
        let index = case["signer_index"].as_u64().unwrap() as usize;
        let partial =
            PartialSignature::from_bytes(&unhex_array(text(case, "partial_sig"))).unwrap();
        let session = match case.get("message") {
            Some(message) => SigningSession::new(
                &source.ctx,
                &source.aggregate_nonce,
                &unhex_array(message.as_str().unwrap()),
            )
            .unwrap(),
            None => SigningSession::new(
                &source.ctx,
                &source.aggregate_nonce,
                source.session.message(),
            )
            .unwrap(),
        };
        // Each tampered partial is checked against signer 0's nonce, as in the file.
        let verdict =
            session.partial_verify(&source.ctx, index, &partial, &source.public_nonces[0]);
        assert_eq!(verdict, expected, "{name}");
    } else {
        let signature = Signature::from_slice(&unhex(text(case, "sig"))).unwrap();
        let message = unhex_array(text(case, "msg"));
        let verdict = verify(
            Dialect::Lotus,
            &point(text(case, "pubkey")),
            &message,
            &signature,
        );
        assert_eq!(verdict, flag(case, "schnorr_verify"), "{name}");
    }
}

fn schnorr_plain_case(case: &Value) {
    let name = text(case, "name");
    let pair = keypair(text(case, "secret_key"));
    assert_eq!(pair.public_key(), point(text(case, "pubkey")), "{name}");
    let message: [u8; 32] = unhex_array(text(case, "msg"));
    // Lotus Schnorr nonces are deterministic: the auxiliary bytes must not matter.
    let signature = sign_single(Dialect::Lotus, &pair, &message, &[0u8; 32]);
    assert_eq!(
        sign_single(Dialect::Lotus, &pair, &message, &[0xa5; 32]),
        signature,
        "{name}"
    );
    assert_eq!(
        signature.to_string(),
        text(case, "sig"),
        "{name}: signature"
    );
    check_schnorr_nonce(case, &pair, &message, &signature);
    let public_key = pair.public_key();
    assert_eq!(
        verify(Dialect::Lotus, &public_key, &message, &signature),
        flag(case, "schnorr_verify")
    );
    let mut wrong = message;
    wrong[31] ^= 0x80;
    let verdict = verify(Dialect::Lotus, &public_key, &wrong, &signature);
    assert_eq!(
        verdict,
        flag(case, "schnorr_verify_wrong_msg"),
        "{name}: wrong message"
    );
}

/// The signature is `r = x(k·G)`, `s = ±k + SHA256(r ‖ P ‖ m)·x` for the file's RFC6979 `k`,
/// with `−k` exactly when y(k·G) is not a square.
fn check_schnorr_nonce(case: &Value, pair: &Keypair, message: &[u8; 32], signature: &Signature) {
    let name = text(case, "name");
    let k = SecretKey::from_secret_bytes(unhex_array(text(case, "rfc6979_nonce_k"))).unwrap();
    let nonce_point = PublicKey::from_secret_key(&k);
    let bytes = signature.to_bytes();
    assert_eq!(
        nonce_point.serialize()[1..],
        bytes[..32],
        "{name}: r = x(kG)"
    );
    assert_eq!(
        nonce_point.serialize()[0] == 0x02,
        flag(case, "kG_y_is_even"),
        "{name}"
    );
    let square = flag(case, "kG_y_is_quadratic_residue");
    assert_eq!(flag(case, "lotus_hasSquare_of_kG"), square, "{name}");
    let challenge = Sha256::new()
        .chain_update(&bytes[..32])
        .chain_update(pair.public_key().serialize())
        .chain_update(message)
        .finalize();
    let challenge = Scalar::from_be_bytes(reduced(&challenge)).unwrap();
    let signed_nonce = if square { k } else { k.negate() };
    let key_term = pair.secret_key().mul_tweak(&challenge).unwrap();
    let s = signed_nonce.add_tweak(&Scalar::from(key_term)).unwrap();
    assert_eq!(s.to_secret_bytes()[..], bytes[32..], "{name}: s = ±k + e·x");
}

#[test]
fn lotus_musig2_vectors() {
    let doc = read_json(FILE);
    let expected: usize = GROUPS.iter().map(|group| cases(&doc, group).len()).sum();
    let mut checked = 0;

    for case in cases(&doc, "keyagg") {
        keyagg_case(case);
        checked += 1;
    }
    let mut transcripts = Vec::new();
    for case in cases(&doc, "signing") {
        transcripts.push(signing_case(case));
        checked += 1;
    }
    for case in cases(&doc, "negative") {
        negative_case(case, &transcripts);
        checked += 1;
    }
    for case in cases(&doc, "schnorr_plain") {
        schnorr_plain_case(case);
        checked += 1;
    }

    println!("{FILE}: {checked} cases");
    assert_eq!(checked, expected);
    assert!(checked > 0, "the vector file holds no cases");
}
