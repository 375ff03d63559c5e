//! End-to-end tests of the `chorus` binary: output formats, exit codes, and agreement with
//! the secp256k1 crate and the conformance vectors.

use std::process::Command;

use secp256k1::musig::KeyAggCache;
use secp256k1::{schnorr, PublicKey, SecretKey, XOnlyPublicKey};
use serde_json::Value;

const LOTUS_MUSIG2: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/lotus/musig2.json"
);
const LOTUS_ELECTION: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/lotus/election.json"
);
const BIP340_VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/bip340/test-vectors.csv"
);

/// The generator point, compressed: a valid key.
const GENERATOR: &str = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
/// x = 5 is not the x coordinate of any curve point (5^3 + 7 is not a square mod p).
const OFF_CURVE: &str = "020000000000000000000000000000000000000000000000000000000000000005";
const ORDER: &str = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
const MESSAGE: &str = "243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89";
const SECRET: &str = "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef";
/// The secret key 1, whose public key is the generator.
const GENERATOR_SECRET: &str = "0000000000000000000000000000000000000000000000000000000000000001";

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn chorus(args: &[&str]) -> Outcome {
    let output = Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(args)
        .output()
        .expect("the chorus binary runs");
    Outcome {
        code: output.status.code().expect("chorus exits, not killed"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs a command that must succeed with exactly one line on stdout, and returns the line.
fn chorus_line(args: &[&str]) -> String {
    let outcome = chorus(args);
    assert_eq!(outcome.code, 0, "{args:?}: {}", outcome.stderr);
    assert!(outcome.stderr.is_empty(), "{args:?}: {}", outcome.stderr);
    let mut lines = outcome.stdout.lines();
    let line = lines.next().expect("one line of output").to_owned();
    assert_eq!(lines.next(), None, "{args:?}: more than one line");
    line
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).expect("the line is JSON")
}

fn read_json(path: &str) -> Value {
    let text = std::fs::read_to_string(path).expect("vector file readable");
    serde_json::from_str(&text).expect("vector file is JSON")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| item.as_str().expect("a string").to_owned())
        .collect()
}

fn key(text: &str) -> PublicKey {
    PublicKey::from_slice(&hex::decode(text).unwrap()).unwrap()
}

fn quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("\"{item}\"")).collect();
    format!("[{}]", quoted.join(","))
}

#[test]
fn malformed_invocations_exit_2_with_one_line_on_stderr() {
    let short_message = &MESSAGE[..62];
    let odd_key = &GENERATOR[..65];
    let bad_digit_key = format!("zz{}", &GENERATOR[2..]);
    let xonly_generator = &GENERATOR[2..];
    let zero_secret = "0".repeat(64);
    let short_signature = "00".repeat(63);
    let signature = "00".repeat(64);
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["frobnicate"],
        vec!["keygen", "--count", "0"],
        vec!["keygen", "--count", "100001"],
        vec!["keygen", "--count", "many"],
        vec!["keygen", "--bogus"],
        vec!["keyagg", "--dialect", "bip340"],
        vec!["keyagg", GENERATOR],
        vec!["keyagg", "--dialect", "schnorr", GENERATOR],
        vec!["keyagg", "--dialect", "lotus", "--no-sort", GENERATOR],
        vec!["keyagg", "--dialect", "bip340", odd_key],
        vec!["keyagg", "--dialect", "bip340", &bad_digit_key],
        vec!["keyagg", "--dialect", "bip340", xonly_generator],
        vec!["keyagg", "--dialect", "lotus", GENERATOR, OFF_CURVE],
        vec!["elect"],
        vec!["elect", "--method", "random", GENERATOR],
        vec!["elect", "--method", "salted", GENERATOR],
        vec![
            "elect",
            "--method",
            "salted",
            "--session-id",
            "abcd",
            GENERATOR,
        ],
        vec!["sign", "--dialect", "bip340", "--message", MESSAGE],
        vec![
            "sign",
            "--dialect",
            "bip340",
            "--message",
            MESSAGE,
            "--generate",
            "2",
            SECRET,
        ],
        vec![
            "sign",
            "--dialect",
            "bip340",
            "--message",
            MESSAGE,
            "--generate",
            "1001",
        ],
        vec![
            "sign",
            "--dialect",
            "bip340",
            "--message",
            MESSAGE,
            &zero_secret,
        ],
        vec![
            "sign",
            "--dialect",
            "lotus",
            "--message",
            MESSAGE,
            SECRET,
            ORDER,
        ],
        vec![
            "sign",
            "--dialect",
            "lotus",
            "--message",
            short_message,
            SECRET,
        ],
        vec![
            "sign",
            "--dialect",
            "lotus",
            "--message",
            MESSAGE,
            SECRET,
            SECRET,
        ],
        vec![
            "sign",
            "--dialect",
            "bip340",
            "--message",
            MESSAGE,
            "--topology",
            "ring",
            SECRET,
        ],
        vec![
            "sign",
            "--dialect",
            "bip340",
            "--message",
            MESSAGE,
            "--election",
            "random",
            SECRET,
        ],
        vec![
            "verify",
            "--dialect",
            "bip340",
            "--key",
            GENERATOR,
            "--message",
            MESSAGE,
        ],
        vec![
            "verify",
            "--dialect",
            "lotus",
            "--key",
            xonly_generator,
            "--message",
            MESSAGE,
            "--signature",
            &signature,
        ],
        vec![
            "verify",
            "--dialect",
            "bip340",
            "--key",
            GENERATOR,
            "--message",
            MESSAGE,
            "--signature",
            &short_signature,
        ],
        vec![
            "verify",
            "--dialect",
            "bip340",
            "--key",
            &OFF_CURVE[2..],
            "--message",
            MESSAGE,
            "--signature",
            &signature,
        ],
    ];
    assert!(cases.len() >= 20);
    for args in &cases {
        let outcome = chorus(args);
        assert_eq!(outcome.code, 2, "{args:?}: {}", outcome.stderr);
        assert!(outcome.stdout.is_empty(), "{args:?}: {}", outcome.stdout);
        assert_eq!(
            outcome.stderr.lines().count(),
            1,
            "{args:?}: {}",
            outcome.stderr
        );
        assert!(
            outcome.stderr.starts_with("error: "),
            "{args:?}: {}",
            outcome.stderr
        );
        assert!(!outcome.stderr.contains("panicked"), "{args:?}");
    }
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    for args in [&["--help"][..], &["sign", "--help"][..]] {
        let outcome = chorus(args);
        assert_eq!(outcome.code, 0, "{args:?}");
        assert!(outcome.stdout.contains("Usage"), "{args:?}");
        assert!(outcome.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn keygen_prints_matching_key_pairs() {
    let outcome = chorus(&["keygen", "--count", "4"]);
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert_eq!(lines.len(), 4);
    let mut secrets = Vec::new();
    for line in lines {
        let value = json(line);
        let secret_hex = value["secret"].as_str().expect("secret is a string");
        let public_hex = value["public"].as_str().expect("public is a string");
        assert_eq!(
            line,
            format!(r#"{{"secret":"{secret_hex}","public":"{public_hex}"}}"#)
        );
        let secret =
            SecretKey::from_secret_bytes(hex::decode(secret_hex).unwrap().try_into().unwrap())
                .unwrap();
        let public = PublicKey::from_secret_key(&secret);
        assert_eq!(public_hex, hex::encode(public.serialize()));
        secrets.push(secret_hex.to_owned());
    }
    secrets.sort();
    secrets.dedup();
    assert_eq!(secrets.len(), 4, "fresh keys are distinct");
}

#[test]
fn keyagg_bip340_agrees_with_libsecp_sorted_and_unsorted() {
    let vectors = read_json(LOTUS_MUSIG2);
    let given = strings(&vectors["keyagg"][2]["input_pubkeys"]);
    assert!(given.len() >= 3);
    let mut sorted = given.clone();
    sorted.sort();
    assert_ne!(sorted, given, "the input must exercise sorting");

    for (flags, order) in [(&[][..], &sorted), (&["--no-sort"][..], &given)] {
        let mut args = vec!["keyagg", "--dialect", "bip340"];
        args.extend_from_slice(flags);
        args.extend(given.iter().map(String::as_str));
        let line = chorus_line(&args);

        let keys: Vec<PublicKey> = order.iter().map(|text| key(text)).collect();
        let cache = KeyAggCache::new(&keys.iter().collect::<Vec<_>>());
        let expected = format!(
            r#"{{"aggregate_key":"{}","xonly_key":"{}","sorted_keys":{}}}"#,
            hex::encode(cache.agg_pk_full().serialize()),
            hex::encode(cache.agg_pk().to_byte_array()),
            quoted_list(order),
        );
        assert_eq!(line, expected, "{flags:?}");
    }
}

#[test]
fn keyagg_lotus_agrees_with_the_vectors() {
    let vectors = read_json(LOTUS_MUSIG2);
    let cases = vectors["keyagg"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let inputs = strings(&case["input_pubkeys"]);
        // Upper case input is accepted; output is lower case.
        let uppercase: Vec<String> = inputs.iter().map(|text| text.to_uppercase()).collect();
        let mut args = vec!["keyagg", "--dialect", "lotus"];
        args.extend(uppercase.iter().map(String::as_str));
        let line = chorus_line(&args);
        let expected = format!(
            r#"{{"aggregate_key":"{}","xonly_key":null,"sorted_keys":{}}}"#,
            case["aggregated_pubkey"].as_str().unwrap(),
            quoted_list(&strings(&case["sorted_pubkeys"])),
        );
        assert_eq!(line, expected, "{}", case["name"]);
    }
    println!("keyagg lotus: {} vector cases", cases.len());
}

/// Runs `chorus elect` and returns the parsed line after checking its field order.
fn elect(method: &str, session_id: Option<&str>, keys: &[String]) -> Value {
    let mut args = vec!["elect", "--method", method];
    if let Some(session_id) = session_id {
        args.extend(["--session-id", session_id]);
    }
    args.extend(keys.iter().map(String::as_str));
    let line = chorus_line(&args);
    let value = json(&line);
    let priority: Vec<String> = value["priority"]
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    let expected = format!(
        r#"{{"coordinator":"{}","sorted_index":{},"input_index":{},"priority":[{}],"proof":"{}"}}"#,
        value["coordinator"].as_str().unwrap(),
        value["sorted_index"],
        value["input_index"],
        priority.join(","),
        value["proof"].as_str().unwrap(),
    );
    assert_eq!(line, expected, "field order");
    value
}

#[test]
fn elect_agrees_with_the_vectors_and_ignores_input_order() {
    let vectors = read_json(LOTUS_ELECTION);
    let mut checked = 0;
    for key_set in vectors["key_sets"].as_array().unwrap() {
        for (method, expected) in key_set["methods"].as_object().unwrap() {
            let election = &expected["electCoordinator"];
            let sorted = strings(&election["sortedSigners"]);
            let result = elect(method, None, &sorted);
            assert_eq!(result["coordinator"], election["coordinatorPublicKey"]);
            assert_eq!(result["sorted_index"], election["coordinatorIndex"]);
            assert_eq!(result["input_index"], election["coordinatorIndex"]);
            assert_eq!(result["priority"], expected["getCoordinatorPriorityList"]);
            assert_eq!(result["proof"], election["electionProof"]);
            checked += 1;

            if sorted.len() >= 3 {
                let mut reversed = sorted.clone();
                reversed.reverse();
                let permuted = elect(method, None, &reversed);
                let coordinator = result["coordinator"].as_str().unwrap();
                let position = reversed.iter().position(|k| k == coordinator).unwrap();
                assert_eq!(permuted["input_index"], position);
                for field in ["coordinator", "sorted_index", "priority", "proof"] {
                    assert_eq!(permuted[field], result[field], "{method} {field}");
                }
            }
        }
    }
    assert!(checked >= 12);
    println!("elect: {checked} vector cases");
}

#[test]
fn salted_election_ignores_input_order() {
    let vectors = read_json(LOTUS_MUSIG2);
    let keys = strings(&vectors["keyagg"][2]["input_pubkeys"]);
    let mut sorted = keys.clone();
    sorted.sort();
    let session_id = "5a".repeat(32);
    let given = elect("salted", Some(&session_id), &keys);
    let in_order = elect("salted", Some(&session_id), &sorted);
    for field in ["coordinator", "sorted_index", "priority", "proof"] {
        assert_eq!(given[field], in_order[field], "{field}");
    }
    let coordinator = given["coordinator"].as_str().unwrap();
    assert_eq!(
        given["input_index"],
        keys.iter().position(|k| k == coordinator).unwrap()
    );
}

fn verify(dialect: &str, key: &str, message: &str, signature: &str) -> Outcome {
    chorus(&[
        "verify",
        "--dialect",
        dialect,
        "--key",
        key,
        "--message",
        message,
        "--signature",
        signature,
    ])
}

fn assert_verdict(outcome: &Outcome, valid: bool) {
    let (code, word) = if valid {
        (0, "valid\n")
    } else {
        (1, "invalid\n")
    };
    assert_eq!(outcome.code, code, "{}", outcome.stderr);
    assert_eq!(outcome.stdout, word);
    assert!(outcome.stderr.is_empty(), "{}", outcome.stderr);
}

fn flip_lowest_bit(signature: &str) -> String {
    let mut bytes = hex::decode(signature).unwrap();
    bytes[63] ^= 1;
    hex::encode(bytes)
}

#[test]
fn sign_then_verify_round_trips_in_both_dialects() {
    for dialect in ["bip340", "lotus"] {
        for signers in [1, 2, 5] {
            let count = signers.to_string();
            let line = chorus_line(&[
                "sign",
                "--dialect",
                dialect,
                "--message",
                MESSAGE,
                "--generate",
                &count,
            ]);
            let value = json(&line);
            let aggregate_key = value["aggregate_key"].as_str().unwrap();
            let signature = value["signature"].as_str().unwrap();
            let listed = strings(&value["signers"]);
            assert_eq!(listed.len(), signers);
            assert!(listed.windows(2).all(|pair| pair[0] <= pair[1]), "sorted");
            let xonly = match value["xonly_key"].as_str() {
                Some(xonly) => format!("\"{xonly}\""),
                None => "null".to_owned(),
            };
            let coordinator = value["coordinator"].as_str().unwrap();
            assert!(listed.iter().any(|signer| signer == coordinator));
            assert_eq!(
                line,
                format!(
                    r#"{{"aggregate_key":"{aggregate_key}","xonly_key":{xonly},"signature":"{signature}","signers":{},"coordinator":"{coordinator}","topology":"aggregator"}}"#,
                    quoted_list(&listed)
                )
            );
            assert_verdict(&verify(dialect, aggregate_key, MESSAGE, signature), true);
            if signers == 2 {
                let flipped = flip_lowest_bit(signature);
                assert_verdict(&verify(dialect, aggregate_key, MESSAGE, &flipped), false);
            }
            if dialect == "bip340" {
                check_with_libsecp(&value);
            } else {
                assert!(value["xonly_key"].is_null());
            }
        }
    }
}

/// The BIP340 signature verifies with the secp256k1 crate alone, under the x-only key, and
/// the aggregate key is the one libsecp computes for the listed signers.
fn check_with_libsecp(value: &Value) {
    let xonly_hex = value["xonly_key"].as_str().unwrap();
    let xonly =
        XOnlyPublicKey::from_byte_array(hex::decode(xonly_hex).unwrap().try_into().unwrap())
            .unwrap();
    let signature = schnorr::Signature::from_byte_array(
        hex::decode(value["signature"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
    );
    let message = hex::decode(MESSAGE).unwrap();
    assert!(schnorr::verify(&signature, &message, &xonly).is_ok());
    let signers: Vec<PublicKey> = strings(&value["signers"]).iter().map(|k| key(k)).collect();
    let cache = KeyAggCache::new(&signers.iter().collect::<Vec<_>>());
    assert_eq!(cache.agg_pk(), xonly);
    assert_eq!(
        hex::encode(cache.agg_pk_full().serialize()),
        value["aggregate_key"].as_str().unwrap()
    );
}

#[test]
fn sign_with_given_secrets_lists_their_keys_sorted() {
    let vectors = read_json(LOTUS_MUSIG2);
    let case = &vectors["keyagg"][2];
    let secrets = strings(&case["input_secret_keys"]);
    let mut expected: Vec<String> = secrets
        .iter()
        .map(|secret| {
            let secret =
                SecretKey::from_secret_bytes(hex::decode(secret).unwrap().try_into().unwrap())
                    .unwrap();
            hex::encode(PublicKey::from_secret_key(&secret).serialize())
        })
        .collect();
    expected.sort();
    for dialect in ["bip340", "lotus"] {
        let mut args = vec!["sign", "--dialect", dialect, "--message", MESSAGE];
        args.extend(secrets.iter().map(String::as_str));
        let value = json(&chorus_line(&args));
        assert_eq!(strings(&value["signers"]), expected, "{dialect}");
        if dialect == "lotus" {
            assert_eq!(value["aggregate_key"], case["aggregated_pubkey"]);
        } else {
            check_with_libsecp(&value);
        }
    }
}

#[test]
fn verify_agrees_with_the_bip340_vectors() {
    let text = std::fs::read_to_string(BIP340_VECTORS).expect("BIP340 vectors readable");
    // Valid signatures, a wrong R parity, r = p, s = n, and a key that is not on the curve.
    let picked = ["0", "4", "5", "6", "12", "13"];
    let mut checked = 0;
    for row in text.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        if !picked.contains(&fields[0]) {
            continue;
        }
        let (key, message, signature) = (fields[2], fields[4], fields[5]);
        let outcome = verify("bip340", key, message, signature);
        if fields[7] == "public key not on the curve" {
            assert_eq!(outcome.code, 2, "row {}", fields[0]);
            assert_eq!(outcome.stderr.lines().count(), 1);
        } else {
            assert_verdict(&outcome, fields[6] == "TRUE");
        }
        checked += 1;
    }
    assert_eq!(checked, picked.len());
    println!("verify bip340: {checked} vector rows");
}

#[test]
fn verify_agrees_with_the_lotus_vectors() {
    let vectors = read_json(LOTUS_MUSIG2);
    let mut checked = 0;
    for case in vectors["schnorr_plain"].as_array().unwrap() {
        let key = case["pubkey"].as_str().unwrap();
        let message = case["msg"].as_str().unwrap();
        let signature = case["sig"].as_str().unwrap();
        assert_verdict(&verify("lotus", key, message, signature), true);
        checked += 1;
    }
    let transcript = &vectors["signing"][0];
    assert_verdict(
        &verify(
            "lotus",
            transcript["aggregated_pubkey"].as_str().unwrap(),
            transcript["message"].as_str().unwrap(),
            transcript["final_signature"].as_str().unwrap(),
        ),
        true,
    );
    checked += 1;
    println!("verify lotus: {checked} vector cases");
}

#[test]
fn verify_bip340_accepts_a_32_byte_key() {
    let line = chorus_line(&[
        "sign",
        "--dialect",
        "bip340",
        "--message",
        MESSAGE,
        "--generate",
        "3",
    ]);
    let value = json(&line);
    let outcome = verify(
        "bip340",
        value["xonly_key"].as_str().unwrap(),
        MESSAGE,
        value["signature"].as_str().unwrap(),
    );
    assert_verdict(&outcome, true);
}

/// `chorus sign` runs the protocol in either topology with every election method: the
/// signature verifies, and the coordinator it reports is the one `chorus elect` names for
/// the same signers (salted elections depend on the session id, so only membership is
/// checked for them).
#[test]
fn sign_runs_both_topologies_and_every_election_method() {
    let vectors = read_json(LOTUS_MUSIG2);
    let secrets = strings(&vectors["keyagg"][2]["input_secret_keys"]);
    let methods = [
        "lexicographic",
        "hash-based",
        "first-signer",
        "last-signer",
        "salted",
    ];
    for (dialect, topology, method) in ["bip340", "lotus"]
        .into_iter()
        .flat_map(|dialect| ["mesh", "aggregator"].map(|topology| (dialect, topology)))
        .flat_map(|(dialect, topology)| methods.map(|method| (dialect, topology, method)))
    {
        let mut args = vec![
            "sign",
            "--dialect",
            dialect,
            "--message",
            MESSAGE,
            "--topology",
            topology,
            "--election",
            method,
        ];
        args.extend(secrets.iter().map(String::as_str));
        let value = json(&chorus_line(&args));
        let label = format!("{dialect} {topology} {method}");
        assert_eq!(value["topology"], topology, "{label}");
        let signers = strings(&value["signers"]);
        let coordinator = value["coordinator"].as_str().unwrap();
        if method == "salted" {
            assert!(signers.iter().any(|k| k == coordinator), "{label}");
        } else {
            let elected = elect(method, None, &signers);
            assert_eq!(elected["coordinator"], value["coordinator"], "{label}");
        }
        assert_verdict(
            &verify(
                dialect,
                value["aggregate_key"].as_str().unwrap(),
                MESSAGE,
                value["signature"].as_str().unwrap(),
            ),
            true,
        );
    }
}

#[test]
fn sign_refuses_a_signer_listed_twice_without_repeating_the_key() {
    let outcome = chorus(&[
        "sign",
        "--dialect",
        "bip340",
        "--message",
        MESSAGE,
        SECRET,
        GENERATOR_SECRET,
        SECRET,
    ]);
    assert_eq!(outcome.code, 2, "{}", outcome.stderr);
    assert!(outcome.stdout.is_empty());
    assert_eq!(
        outcome.stderr,
        "error: invalid SECRET #3: the same key as SECRET #1 (each signer signs once)\n"
    );
    assert!(!outcome.stderr.contains(SECRET));
}
