//! BIP327 conformance: every case of every file in `vectors/bip327/`, valid and error cases.
//!
//! Each case runs through the BIP327 reference implementation in
//! `chorus_tests::bip327_reference` and, wherever the values fit the Bip340 API (32-byte
//! messages, parseable keys, nonces and partial signatures), through `chorus_core::crypto` too.
//! Inputs the API cannot even represent (invalid points, out-of-range scalars) are checked to be
//! refused at parse time with the typed error. Each test prints `<file>: N cases` and checks N
//! against the number of cases in the file.

use chorus_core::crypto::{
    aggregate_nonces, generate_nonce, sort_keys, verify, verify_xonly, AggregateNonce, CryptoError,
    Dialect, KeyAggContext, Keypair, PartialSignature, PublicKey, PublicNonce, SecretKey,
    SecretNonce, SigningSession,
};
use chorus_tests::bip327_reference::{self as reference, Bip327Error, ReplayRng, SessionContext};
use chorus_tests::{read_json, unhex, unhex_array};
use serde_json::Value;

/// The number of cases a vector file holds: the entries of its `*test_cases` arrays.
fn cases_in(doc: &Value) -> usize {
    doc.as_object()
        .expect("vector file is an object")
        .iter()
        .filter(|(key, _)| key.ends_with("test_cases"))
        .map(|(_, cases)| cases.as_array().expect("cases are an array").len())
        .sum()
}

fn report(file: &str, ran: usize, expected: usize) {
    println!("{file}: {ran} cases");
    assert_eq!(
        ran, expected,
        "{file}: ran {ran} cases, the file has {expected}"
    );
}

fn cases<'a>(doc: &'a Value, key: &str) -> &'a [Value] {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("missing {key}"))
}

fn hex_list(value: &Value) -> Vec<Vec<u8>> {
    value
        .as_array()
        .expect("hex list")
        .iter()
        .map(|v| unhex(v.as_str().expect("hex")))
        .collect()
}

fn indices(case: &Value, key: &str) -> Vec<usize> {
    case[key]
        .as_array()
        .unwrap_or_else(|| panic!("missing {key}"))
        .iter()
        .map(|v| v.as_u64().expect("index") as usize)
        .collect()
}

fn pick(list: &[Vec<u8>], picks: &[usize]) -> Vec<Vec<u8>> {
    picks.iter().map(|&i| list[i].clone()).collect()
}

fn flags(case: &Value) -> Vec<bool> {
    case["is_xonly"]
        .as_array()
        .expect("is_xonly")
        .iter()
        .map(|v| v.as_bool().unwrap())
        .collect()
}

fn arrays32(list: &[Vec<u8>]) -> Vec<[u8; 32]> {
    list.iter()
        .map(|bytes| bytes.as_slice().try_into().expect("32 bytes"))
        .collect()
}

fn array66(bytes: &[u8]) -> [u8; 66] {
    bytes.try_into().expect("66 bytes")
}

/// Parses keys through the API's key type; `Err(i)` names the first key that is not a point.
fn parse_keys(keys: &[Vec<u8>]) -> Result<Vec<PublicKey>, usize> {
    keys.iter()
        .enumerate()
        .map(|(i, key)| PublicKey::from_slice(key).map_err(|_| i))
        .collect()
}

/// Parses public nonces through the API; `Err(i)` names the first that is refused, after
/// checking the refusal is the typed `InvalidPublicNonce`.
fn parse_nonces(nonces: &[Vec<u8>]) -> Result<Vec<PublicNonce>, usize> {
    nonces
        .iter()
        .enumerate()
        .map(|(i, nonce)| {
            PublicNonce::from_bytes(Dialect::Bip340, &array66(nonce)).map_err(|error| {
                assert_eq!(error, CryptoError::InvalidPublicNonce);
                i
            })
        })
        .collect()
}

/// An unsorted Bip340 context over `keys` with the tweaks applied in order.
fn tweaked_context(
    keys: &[Vec<u8>],
    tweaks: &[[u8; 32]],
    is_xonly: &[bool],
) -> Result<KeyAggContext, CryptoError> {
    let keys = parse_keys(keys).expect("valid keys");
    let mut ctx = KeyAggContext::new_unsorted(Dialect::Bip340, &keys)?;
    for (tweak, xonly) in tweaks.iter().zip(is_xonly) {
        if *xonly {
            ctx.tweak_xonly(tweak)?;
        } else {
            ctx.tweak_plain(tweak)?;
        }
    }
    Ok(ctx)
}

fn message32(msg: &[u8]) -> Option<[u8; 32]> {
    msg.try_into().ok()
}

fn keypair(secret: &[u8; 32]) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes(*secret).expect("valid secret key"))
}

/// Checks through the API that an input the reference refused is refused here too, with the
/// matching typed error. `keys`, `tweaks` and `is_xonly` are the case's context.
fn assert_api_refuses(
    expected: &Bip327Error,
    keys: &[Vec<u8>],
    tweaks: &[[u8; 32]],
    is_xonly: &[bool],
    nonce_input: Option<&[u8]>,
) {
    match expected {
        Bip327Error::InvalidContribution {
            signer: Some(i),
            contrib: "pubkey",
        } => {
            assert_eq!(parse_keys(keys).unwrap_err(), *i, "first invalid key");
        }
        Bip327Error::InvalidContribution {
            signer: None,
            contrib: "aggnonce",
        } => {
            let bytes = array66(nonce_input.expect("aggregate nonce"));
            assert_eq!(
                AggregateNonce::from_bytes(Dialect::Bip340, &bytes),
                Err(CryptoError::InvalidAggregateNonce)
            );
        }
        Bip327Error::InvalidContribution {
            signer: None,
            contrib: "aggothernonce",
        } => {
            // DeterministicSign aggregates it as one more public nonce.
            let bytes = array66(nonce_input.expect("aggothernonce"));
            assert_eq!(
                PublicNonce::from_bytes(Dialect::Bip340, &bytes),
                Err(CryptoError::InvalidPublicNonce)
            );
        }
        Bip327Error::Value(message) if message.contains("tweak") => {
            assert_eq!(
                tweaked_context(keys, tweaks, is_xonly).unwrap_err(),
                CryptoError::InvalidTweak
            );
        }
        other => panic!("no API check for {other:?}"),
    }
}

/// A signer outside the key list cannot get a nonce for the context, nor sign in its session.
fn assert_outsider_refused(keys: &[Vec<u8>], outsider: &Keypair) {
    let ctx = tweaked_context(keys, &[], &[]).expect("valid context");
    assert_eq!(ctx.signer_index(&outsider.public_key()), None);
    let mut rng = ReplayRng::new(vec![7; 64]);
    assert_eq!(
        generate_nonce(&ctx, outsider, &[0; 32], &mut rng).unwrap_err(),
        CryptoError::KeyMismatch
    );
    // A nonce the outsider made elsewhere is refused at every index of this session.
    let mut with_outsider: Vec<PublicKey> = ctx.signers().to_vec();
    with_outsider.push(outsider.public_key());
    let other_ctx = KeyAggContext::new(Dialect::Bip340, &with_outsider).unwrap();
    for index in 0..ctx.signers().len() {
        let mut rng = ReplayRng::new(vec![index as u8 + 1; 128]);
        let (secret, public) = generate_nonce(&other_ctx, outsider, &[0; 32], &mut rng).unwrap();
        let aggregate = aggregate_nonces(Dialect::Bip340, &[public]).unwrap();
        let session = SigningSession::new(&ctx, &aggregate, &[0; 32]).unwrap();
        assert_eq!(
            session.partial_sign(&ctx, index, secret, outsider),
            Err(CryptoError::KeyMismatch)
        );
    }
}

#[test]
fn key_sort_vectors() {
    let doc = read_json("bip327/key_sort_vectors.json");
    let pubkeys = hex_list(&doc["pubkeys"]);
    let expected = hex_list(&doc["sorted_pubkeys"]);
    assert_eq!(reference::key_sort(&pubkeys), expected);
    let parsed = parse_keys(&pubkeys).expect("valid keys");
    let sorted: Vec<Vec<u8>> = sort_keys(&parsed)
        .iter()
        .map(|k| k.serialize().to_vec())
        .collect();
    assert_eq!(sorted, expected);
    let ctx = KeyAggContext::new(Dialect::Bip340, &parsed).unwrap();
    let signers: Vec<Vec<u8>> = ctx
        .signers()
        .iter()
        .map(|k| k.serialize().to_vec())
        .collect();
    assert_eq!(signers, expected);
    // The file is one case: a key list and its sorted form.
    report("key_sort_vectors.json", 1, 1);
}

#[test]
fn key_agg_vectors() {
    let doc = read_json("bip327/key_agg_vectors.json");
    let pubkeys = hex_list(&doc["pubkeys"]);
    let tweaks = arrays32(&hex_list(&doc["tweaks"]));
    let mut ran = 0;
    for case in cases(&doc, "valid_test_cases") {
        let keys = pick(&pubkeys, &indices(case, "key_indices"));
        let expected: [u8; 32] = unhex_array(case["expected"].as_str().unwrap());
        let model = reference::key_agg(&keys).unwrap();
        assert_eq!(model.xonly(), expected);
        let ctx = tweaked_context(&keys, &[], &[]).unwrap();
        assert_eq!(ctx.xonly_key().unwrap().to_byte_array(), expected);
        assert_eq!(ctx.aggregate_key().serialize(), model.q.cbytes_ext());
        // KeyAggContext::new is KeyAgg over KeySort.
        let sorted_model = reference::key_agg(&reference::key_sort(&keys)).unwrap();
        let sorted = KeyAggContext::new(Dialect::Bip340, &parse_keys(&keys).unwrap()).unwrap();
        assert_eq!(
            sorted.xonly_key().unwrap().to_byte_array(),
            sorted_model.xonly()
        );
        ran += 1;
    }
    for case in cases(&doc, "error_test_cases") {
        let keys = pick(&pubkeys, &indices(case, "key_indices"));
        let case_tweaks: Vec<[u8; 32]> = indices(case, "tweak_indices")
            .iter()
            .map(|&i| tweaks[i])
            .collect();
        let is_xonly = flags(case);
        let expected = Bip327Error::from_json(&case["error"]);
        assert_eq!(
            reference::key_agg_and_tweak(&keys, &case_tweaks, &is_xonly).unwrap_err(),
            expected,
            "{}",
            case["comment"]
        );
        assert_api_refuses(&expected, &keys, &case_tweaks, &is_xonly, None);
        ran += 1;
    }
    report("key_agg_vectors.json", ran, cases_in(&doc));
}

fn optional_hex(value: &Value) -> Option<Vec<u8>> {
    value.as_str().map(unhex)
}

#[test]
fn nonce_gen_vectors() {
    let doc = read_json("bip327/nonce_gen_vectors.json");
    let mut ran = 0;
    for case in cases(&doc, "test_cases") {
        let rand: [u8; 32] = unhex_array(case["rand_"].as_str().unwrap());
        let sk: Option<[u8; 32]> = case["sk"].as_str().map(unhex_array);
        let pk = unhex(case["pk"].as_str().unwrap());
        let aggpk = optional_hex(&case["aggpk"]);
        let msg = optional_hex(&case["msg"]);
        let extra_in = optional_hex(&case["extra_in"]);
        let expected_secnonce = unhex(case["expected_secnonce"].as_str().unwrap());
        let expected_pubnonce: [u8; 66] = unhex_array(case["expected_pubnonce"].as_str().unwrap());
        let input = reference::NonceGenInput {
            rand: &rand,
            sk: sk.as_ref(),
            pk: &pk,
            aggpk: aggpk.as_deref(),
            msg: msg.as_deref(),
            extra_in: extra_in.as_deref(),
        };
        let (secnonce, pubnonce) = reference::nonce_gen_internal(&input);
        assert_eq!(secnonce, expected_secnonce);
        assert_eq!(pubnonce, expected_pubnonce);
        let parsed = PublicNonce::from_bytes(Dialect::Bip340, &expected_pubnonce).unwrap();
        assert_eq!(parsed.to_bytes(), expected_pubnonce);
        // libsecp256k1 takes the inputs when there is no aggregate key and the message and
        // extra input are absent or 32 bytes: its NonceGen must agree byte for byte.
        let fits = |value: &Option<Vec<u8>>| value.as_ref().is_none_or(|v| v.len() == 32);
        if aggpk.is_none() && fits(&msg) && fits(&extra_in) {
            let (_, musig_public) = secp256k1::musig::new_nonce_pair(
                secp256k1::musig::SessionSecretRand::assume_uniformly_random(rand),
                None,
                sk.map(|sk| SecretKey::from_secret_bytes(sk).unwrap()),
                PublicKey::from_slice(&pk).unwrap(),
                msg.as_deref().map(|m| m.try_into().unwrap()),
                extra_in.as_deref().map(|e| e.try_into().unwrap()),
            );
            assert_eq!(musig_public.serialize(), expected_pubnonce);
        }
        ran += 1;
    }
    report("nonce_gen_vectors.json", ran, cases_in(&doc));
}

/// `generate_nonce` is BIP327 NonceGen: replaying its two 32-byte draws as `rand'` and
/// `extra_in` through the reference gives the same public nonce.
#[test]
fn generate_nonce_is_bip327_nonce_gen() {
    let doc = read_json("bip327/nonce_gen_vectors.json");
    let case = &cases(&doc, "test_cases")[0];
    let rand: [u8; 32] = unhex_array(case["rand_"].as_str().unwrap());
    let sk: [u8; 32] = unhex_array(case["sk"].as_str().unwrap());
    let msg: [u8; 32] = unhex_array(case["msg"].as_str().unwrap());
    let extra: [u8; 32] = unhex_array(case["extra_in"].as_str().unwrap());
    let signer = keypair(&sk);
    let others = [keypair(&[0x11; 32]), keypair(&[0x22; 32])];
    let keys = [
        others[0].public_key(),
        signer.public_key(),
        others[1].public_key(),
    ];
    for mut ctx in [
        KeyAggContext::new(Dialect::Bip340, &keys).unwrap(),
        KeyAggContext::new_unsorted(Dialect::Bip340, &keys).unwrap(),
    ] {
        for tweaked in [false, true] {
            if tweaked {
                ctx.tweak_taproot(None).unwrap();
            }
            let mut rng = ReplayRng::new([rand, extra].concat());
            let (secret, public) = generate_nonce(&ctx, &signer, &msg, &mut rng).unwrap();
            let aggpk = ctx.xonly_key().unwrap().to_byte_array();
            let pk = signer.public_key().serialize();
            let (_, expected) = reference::nonce_gen_internal(&reference::NonceGenInput {
                rand: &rand,
                sk: Some(&sk),
                pk: &pk,
                aggpk: Some(&aggpk),
                msg: Some(&msg),
                extra_in: Some(&extra),
            });
            assert_eq!(public.to_bytes(), expected);
            assert_eq!(format!("{secret:?}"), "SecretNonce { dialect: Bip340, .. }");
        }
    }
}

#[test]
fn nonce_agg_vectors() {
    let doc = read_json("bip327/nonce_agg_vectors.json");
    let pnonces = hex_list(&doc["pnonces"]);
    let mut ran = 0;
    for case in cases(&doc, "valid_test_cases") {
        let nonces = pick(&pnonces, &indices(case, "pnonce_indices"));
        let expected: [u8; 66] = unhex_array(case["expected"].as_str().unwrap());
        assert_eq!(reference::nonce_agg(&nonces).unwrap(), expected);
        let parsed = parse_nonces(&nonces).unwrap();
        let aggregate = aggregate_nonces(Dialect::Bip340, &parsed).unwrap();
        assert_eq!(aggregate.to_bytes(), expected);
        assert_eq!(
            AggregateNonce::from_bytes(Dialect::Bip340, &expected).unwrap(),
            aggregate
        );
        ran += 1;
    }
    for case in cases(&doc, "error_test_cases") {
        let nonces = pick(&pnonces, &indices(case, "pnonce_indices"));
        let expected = Bip327Error::from_json(&case["error"]);
        assert_eq!(reference::nonce_agg(&nonces).unwrap_err(), expected);
        let Bip327Error::InvalidContribution {
            signer: Some(signer),
            contrib: "pubnonce",
        } = expected
        else {
            panic!("unexpected error {expected:?}");
        };
        assert_eq!(parse_nonces(&nonces).unwrap_err(), signer);
        ran += 1;
    }
    report("nonce_agg_vectors.json", ran, cases_in(&doc));
}

/// The signing file's fixed values.
struct SignVerifyFile {
    sk: [u8; 32],
    pubkeys: Vec<Vec<u8>>,
    secnonces: Vec<Vec<u8>>,
    pnonces: Vec<Vec<u8>>,
    aggnonces: Vec<Vec<u8>>,
    msgs: Vec<Vec<u8>>,
}

impl SignVerifyFile {
    fn read(doc: &Value) -> Self {
        SignVerifyFile {
            sk: unhex_array(doc["sk"].as_str().unwrap()),
            pubkeys: hex_list(&doc["pubkeys"]),
            secnonces: hex_list(&doc["secnonces"]),
            pnonces: hex_list(&doc["pnonces"]),
            aggnonces: hex_list(&doc["aggnonces"]),
            msgs: hex_list(&doc["msgs"]),
        }
    }

    fn session(&self, case: &Value, aggnonce: Vec<u8>) -> SessionContext {
        SessionContext {
            aggnonce,
            pubkeys: pick(&self.pubkeys, &indices(case, "key_indices")),
            tweaks: vec![],
            is_xonly: vec![],
            msg: self.msgs[case["msg_index"].as_u64().unwrap() as usize].clone(),
        }
    }
}

/// Through the API: the partial signature verifies for `signer` and for no other index.
fn api_partial_verifies(
    ctx: &KeyAggContext,
    nonces: &[Vec<u8>],
    msg: &[u8; 32],
    signer: usize,
    psig: &[u8; 32],
) -> bool {
    let parsed = parse_nonces(nonces).expect("valid nonces");
    let aggregate = aggregate_nonces(Dialect::Bip340, &parsed).unwrap();
    let session = SigningSession::new(ctx, &aggregate, msg).unwrap();
    match PartialSignature::from_bytes(psig) {
        Ok(partial) => {
            let valid = session.partial_verify(ctx, signer, &partial, &parsed[signer]);
            let other = (signer + 1) % parsed.len();
            if valid && ctx.signers()[other] != ctx.signers()[signer] {
                assert!(!session.partial_verify(ctx, other, &partial, &parsed[other]));
            }
            valid
        }
        Err(error) => {
            assert_eq!(error, CryptoError::InvalidPartialSignature);
            assert_eq!(
                reference::Scalar::checked(psig),
                None,
                "refused only at or above n"
            );
            false
        }
    }
}

/// Runs one case of the signing file.
type CaseCheck = fn(&SignVerifyFile, &Value);

/// A valid signature: the reference reproduces it, the API verifies it.
fn sign_valid_case(file: &SignVerifyFile, case: &Value) {
    let nonces = pick(&file.pnonces, &indices(case, "nonce_indices"));
    let aggnonce = file.aggnonces[case["aggnonce_index"].as_u64().unwrap() as usize].clone();
    let signer = case["signer_index"].as_u64().unwrap() as usize;
    let expected: [u8; 32] = unhex_array(case["expected"].as_str().unwrap());
    assert_eq!(reference::nonce_agg(&nonces).unwrap().to_vec(), aggnonce);
    let session = file.session(case, aggnonce.clone());
    assert_eq!(
        reference::sign(&file.secnonces[0], &file.sk, &session).unwrap(),
        expected
    );
    assert!(reference::partial_sig_verify(&expected, &nonces, &session, signer).unwrap());
    if let Some(msg) = message32(&session.msg) {
        let ctx = tweaked_context(&session.pubkeys, &[], &[]).unwrap();
        let parsed = AggregateNonce::from_bytes(Dialect::Bip340, &array66(&aggnonce)).unwrap();
        assert_eq!(parsed.to_bytes().to_vec(), aggnonce);
        assert!(api_partial_verifies(&ctx, &nonces, &msg, signer, &expected));
    }
}

/// A refused signing: the reference raises the error, the API refuses the input.
fn sign_error_case(file: &SignVerifyFile, case: &Value) {
    let aggnonce = file.aggnonces[case["aggnonce_index"].as_u64().unwrap() as usize].clone();
    let secnonce = &file.secnonces[case["secnonce_index"].as_u64().unwrap() as usize];
    let session = file.session(case, aggnonce.clone());
    let expected = Bip327Error::from_json(&case["error"]);
    assert_eq!(
        reference::sign(secnonce, &file.sk, &session).unwrap_err(),
        expected
    );
    match &expected {
        Bip327Error::Value(message) if message.contains("pubkey must be included") => {
            assert_outsider_refused(&session.pubkeys, &keypair(&file.sk));
        }
        Bip327Error::Value(message) if message.contains("secnonce") => {
            // A Bip340 SecretNonce comes only from generate_nonce, and reuse does not
            // compile (see SecretNonce's doctests); the scalar-level constructor refuses
            // a zero k1 like the reference does.
            let k2: [u8; 32] = secnonce[32..64].try_into().unwrap();
            let signer = PublicKey::from_slice(&secnonce[64..]).unwrap();
            assert!(SecretNonce::dangerous_lotus_from_scalars(&[0; 32], &k2, &signer).is_err());
        }
        _ => assert_api_refuses(&expected, &session.pubkeys, &[], &[], Some(&aggnonce)),
    }
}

/// A wrong partial signature: neither the reference nor the API accepts it.
fn verify_fail_case(file: &SignVerifyFile, case: &Value) {
    let psig: [u8; 32] = unhex_array(case["sig"].as_str().unwrap());
    let nonces = pick(&file.pnonces, &indices(case, "nonce_indices"));
    let signer = case["signer_index"].as_u64().unwrap() as usize;
    let session = file.session(case, vec![]);
    assert!(!reference::partial_sig_verify(&psig, &nonces, &session, signer).unwrap());
    let ctx = tweaked_context(&session.pubkeys, &[], &[]).unwrap();
    let msg = message32(&session.msg).expect("32-byte message");
    assert!(!api_partial_verifies(&ctx, &nonces, &msg, signer, &psig));
}

/// A malformed verification input: the reference raises, the API refuses to parse.
fn verify_error_case(file: &SignVerifyFile, case: &Value) {
    let psig: [u8; 32] = unhex_array(case["sig"].as_str().unwrap());
    let nonces = pick(&file.pnonces, &indices(case, "nonce_indices"));
    let signer = case["signer_index"].as_u64().unwrap() as usize;
    let session = file.session(case, vec![]);
    let expected = Bip327Error::from_json(&case["error"]);
    assert_eq!(
        reference::partial_sig_verify(&psig, &nonces, &session, signer).unwrap_err(),
        expected
    );
    match expected {
        Bip327Error::InvalidContribution {
            signer: Some(i),
            contrib: "pubnonce",
        } => {
            assert_eq!(parse_nonces(&nonces).unwrap_err(), i);
        }
        _ => assert_api_refuses(&expected, &session.pubkeys, &[], &[], None),
    }
}

#[test]
fn sign_verify_vectors() {
    let doc = read_json("bip327/sign_verify_vectors.json");
    let file = SignVerifyFile::read(&doc);
    let sections: [(&str, CaseCheck); 4] = [
        ("valid_test_cases", sign_valid_case),
        ("sign_error_test_cases", sign_error_case),
        ("verify_fail_test_cases", verify_fail_case),
        ("verify_error_test_cases", verify_error_case),
    ];
    let mut ran = 0;
    for (key, check) in sections {
        for case in cases(&doc, key) {
            check(&file, case);
            ran += 1;
        }
    }
    report("sign_verify_vectors.json", ran, cases_in(&doc));
}

#[test]
fn tweak_vectors() {
    let doc = read_json("bip327/tweak_vectors.json");
    let sk: [u8; 32] = unhex_array(doc["sk"].as_str().unwrap());
    let pubkeys = hex_list(&doc["pubkeys"]);
    let secnonce = unhex(doc["secnonce"].as_str().unwrap());
    let pnonces = hex_list(&doc["pnonces"]);
    let aggnonce = unhex(doc["aggnonce"].as_str().unwrap());
    let tweaks = arrays32(&hex_list(&doc["tweaks"]));
    let msg: [u8; 32] = unhex_array(doc["msg"].as_str().unwrap());
    let mut ran = 0;
    let mut run = |case: &Value| {
        let keys = pick(&pubkeys, &indices(case, "key_indices"));
        let nonces = pick(&pnonces, &indices(case, "nonce_indices"));
        let case_tweaks: Vec<[u8; 32]> = indices(case, "tweak_indices")
            .iter()
            .map(|&i| tweaks[i])
            .collect();
        let is_xonly = flags(case);
        let signer = case["signer_index"].as_u64().unwrap() as usize;
        assert_eq!(reference::nonce_agg(&nonces).unwrap().to_vec(), aggnonce);
        let session = SessionContext {
            aggnonce: aggnonce.clone(),
            pubkeys: keys.clone(),
            tweaks: case_tweaks.clone(),
            is_xonly: is_xonly.clone(),
            msg: msg.to_vec(),
        };
        if let Some(expected) = case["expected"].as_str() {
            let expected: [u8; 32] = unhex_array(expected);
            assert_eq!(reference::sign(&secnonce, &sk, &session).unwrap(), expected);
            assert!(reference::partial_sig_verify(&expected, &nonces, &session, signer).unwrap());
            let ctx = tweaked_context(&keys, &case_tweaks, &is_xonly).unwrap();
            let model = reference::key_agg_and_tweak(&keys, &case_tweaks, &is_xonly).unwrap();
            assert_eq!(ctx.aggregate_key().serialize(), model.q.cbytes_ext());
            assert!(api_partial_verifies(&ctx, &nonces, &msg, signer, &expected));
        } else {
            let expected = Bip327Error::from_json(&case["error"]);
            assert_eq!(
                reference::sign(&secnonce, &sk, &session).unwrap_err(),
                expected
            );
            assert_api_refuses(&expected, &keys, &case_tweaks, &is_xonly, None);
        }
        ran += 1;
    };
    cases(&doc, "valid_test_cases").iter().for_each(&mut run);
    cases(&doc, "error_test_cases").iter().for_each(&mut run);
    report("tweak_vectors.json", ran, cases_in(&doc));
}

/// The aggregated signature matches through the reference and the API, and verifies.
fn sig_agg_valid(
    session: &SessionContext,
    nonces: &[Vec<u8>],
    psigs: &[[u8; 32]],
    expected: [u8; 64],
) {
    assert_eq!(
        reference::partial_sig_agg(psigs, session).unwrap(),
        expected
    );
    let model =
        reference::key_agg_and_tweak(&session.pubkeys, &session.tweaks, &session.is_xonly).unwrap();
    assert!(reference::schnorr_verify(
        &session.msg,
        &model.xonly(),
        &expected
    ));

    let msg = message32(&session.msg).expect("32-byte message");
    let ctx = tweaked_context(&session.pubkeys, &session.tweaks, &session.is_xonly).unwrap();
    let aggregate = aggregate_nonces(Dialect::Bip340, &parse_nonces(nonces).unwrap()).unwrap();
    assert_eq!(aggregate.to_bytes().to_vec(), session.aggnonce);
    let signing = SigningSession::new(&ctx, &aggregate, &msg).unwrap();
    let partials: Vec<PartialSignature> = psigs
        .iter()
        .map(|p| PartialSignature::from_bytes(p).unwrap())
        .collect();
    let signature = signing.aggregate(&ctx, &partials).unwrap();
    assert_eq!(signature.to_bytes(), expected);
    assert!(verify_xonly(&ctx.xonly_key().unwrap(), &msg, &signature));
    assert!(verify(
        Dialect::Bip340,
        &ctx.aggregate_key(),
        &msg,
        &signature
    ));
}

/// The reference blames the signer whose partial signature the API refuses to parse.
fn sig_agg_error(session: &SessionContext, psigs: &[[u8; 32]], error: &Value) {
    let expected = Bip327Error::from_json(error);
    assert_eq!(
        reference::partial_sig_agg(psigs, session).unwrap_err(),
        expected
    );
    let Bip327Error::InvalidContribution {
        signer: Some(signer),
        contrib: "psig",
    } = expected
    else {
        panic!("unexpected error {expected:?}");
    };
    let refused: Vec<usize> = psigs
        .iter()
        .enumerate()
        .filter(|(_, p)| PartialSignature::from_bytes(p).is_err())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(refused, vec![signer]);
    assert_eq!(
        PartialSignature::from_bytes(&psigs[signer]),
        Err(CryptoError::InvalidPartialSignature)
    );
}

#[test]
fn sig_agg_vectors() {
    let doc = read_json("bip327/sig_agg_vectors.json");
    let pubkeys = hex_list(&doc["pubkeys"]);
    let pnonces = hex_list(&doc["pnonces"]);
    let tweaks = arrays32(&hex_list(&doc["tweaks"]));
    let psigs = arrays32(&hex_list(&doc["psigs"]));
    let msg: [u8; 32] = unhex_array(doc["msg"].as_str().unwrap());
    let mut ran = 0;
    let mut run = |case: &Value| {
        let nonces = pick(&pnonces, &indices(case, "nonce_indices"));
        let case_psigs: Vec<[u8; 32]> = indices(case, "psig_indices")
            .iter()
            .map(|&i| psigs[i])
            .collect();
        let session = SessionContext {
            aggnonce: unhex(case["aggnonce"].as_str().unwrap()),
            pubkeys: pick(&pubkeys, &indices(case, "key_indices")),
            tweaks: indices(case, "tweak_indices")
                .iter()
                .map(|&i| tweaks[i])
                .collect(),
            is_xonly: flags(case),
            msg: msg.to_vec(),
        };
        assert_eq!(
            reference::nonce_agg(&nonces).unwrap().to_vec(),
            session.aggnonce
        );
        match case["expected"].as_str() {
            Some(expected) => sig_agg_valid(&session, &nonces, &case_psigs, unhex_array(expected)),
            None => sig_agg_error(&session, &case_psigs, &case["error"]),
        }
        ran += 1;
    };
    cases(&doc, "valid_test_cases").iter().for_each(&mut run);
    cases(&doc, "error_test_cases").iter().for_each(&mut run);
    report("sig_agg_vectors.json", ran, cases_in(&doc));
}

#[test]
fn det_sign_vectors() {
    let doc = read_json("bip327/det_sign_vectors.json");
    let sk: [u8; 32] = unhex_array(doc["sk"].as_str().unwrap());
    let pubkeys = hex_list(&doc["pubkeys"]);
    let msgs = hex_list(&doc["msgs"]);
    let mut ran = 0;
    let mut run = |case: &Value| {
        let keys = pick(&pubkeys, &indices(case, "key_indices"));
        let tweaks = arrays32(&hex_list(&case["tweaks"]));
        let is_xonly = flags(case);
        let msg = msgs[case["msg_index"].as_u64().unwrap() as usize].clone();
        let rand: Option<[u8; 32]> = case["rand"].as_str().map(unhex_array);
        let aggothernonce = unhex(case["aggothernonce"].as_str().unwrap());
        let signer = case["signer_index"].as_u64().unwrap() as usize;
        let template = SessionContext {
            aggnonce: vec![],
            pubkeys: keys.clone(),
            tweaks: tweaks.clone(),
            is_xonly: is_xonly.clone(),
            msg: msg.clone(),
        };
        let result = reference::deterministic_sign(&sk, &aggothernonce, &template, rand.as_ref());
        if let Some(expected) = case["expected"].as_array() {
            let pubnonce: [u8; 66] = unhex_array(expected[0].as_str().unwrap());
            let psig: [u8; 32] = unhex_array(expected[1].as_str().unwrap());
            assert_eq!(result.unwrap(), (pubnonce, psig), "{}", case["comment"]);
            assert_eq!(keys[signer], keypair(&sk).public_key().serialize().to_vec());
            if let Some(msg) = message32(&msg) {
                let ctx = tweaked_context(&keys, &tweaks, &is_xonly).unwrap();
                let nonces = vec![pubnonce.to_vec(), aggothernonce.clone()];
                let ours = parse_nonces(&nonces).unwrap();
                let aggregate = aggregate_nonces(Dialect::Bip340, &ours).unwrap();
                let session = SigningSession::new(&ctx, &aggregate, &msg).unwrap();
                let partial = PartialSignature::from_bytes(&psig).unwrap();
                assert!(session.partial_verify(&ctx, signer, &partial, &ours[0]));
            }
        } else {
            let expected = Bip327Error::from_json(&case["error"]);
            assert_eq!(result.unwrap_err(), expected, "{}", case["comment"]);
            match &expected {
                Bip327Error::Value(message) if message.contains("pubkey must be included") => {
                    assert_outsider_refused(&keys, &keypair(&sk));
                }
                _ => assert_api_refuses(&expected, &keys, &tweaks, &is_xonly, Some(&aggothernonce)),
            }
        }
        ran += 1;
    };
    cases(&doc, "valid_test_cases").iter().for_each(&mut run);
    cases(&doc, "error_test_cases").iter().for_each(&mut run);
    report("det_sign_vectors.json", ran, cases_in(&doc));
}
