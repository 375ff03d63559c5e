//! BIP340 conformance: every row of `vectors/bip340/test-vectors.csv`, signing and verifying.
//!
//! Every row runs through the BIP340 reference in `chorus_tests::bip327_reference`. Rows with
//! a 32-byte message also run through `chorus_core::crypto` (`sign_single` must reproduce the
//! signature byte for byte; `verify` and `verify_xonly` must give the expected result). The
//! API signs 32-byte digests only, so rows with other message lengths run through the
//! `secp256k1` crate's `schnorr` module, which `sign_single` and `verify` call.

use chorus_core::crypto::{
    sign_single, verify, verify_xonly, Dialect, Keypair, Signature, XOnlyPublicKey,
};
use chorus_tests::bip327_reference as reference;
use chorus_tests::{unhex, unhex_array, vectors_dir};
use secp256k1::{schnorr, Parity};

struct Row {
    index: String,
    secret_key: Option<[u8; 32]>,
    public_key: [u8; 32],
    aux_rand: Option<[u8; 32]>,
    message: Vec<u8>,
    signature: [u8; 64],
    valid: bool,
    comment: String,
}

fn read_rows() -> Vec<Row> {
    let path = vectors_dir().join("bip340").join("test-vectors.csv");
    let text = std::fs::read_to_string(&path).expect("BIP340 vector file");
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    assert!(lines.next().expect("header").starts_with("index,"));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.splitn(8, ',').collect();
            assert_eq!(fields.len(), 8, "row {line:?}");
            let optional = |field: &str| (!field.is_empty()).then(|| unhex_array::<32>(field));
            Row {
                index: fields[0].to_owned(),
                secret_key: optional(fields[1]),
                public_key: unhex_array(fields[2]),
                aux_rand: optional(fields[3]),
                message: unhex(fields[4]),
                signature: unhex_array(fields[5]),
                valid: match fields[6] {
                    "TRUE" => true,
                    "FALSE" => false,
                    other => panic!("bad verification result {other:?}"),
                },
                comment: fields[7].to_owned(),
            }
        })
        .collect()
}

fn check_signing(row: &Row, secret_key: &[u8; 32]) {
    let aux_rand = row.aux_rand.expect("a signing row has aux_rand");
    let keypair = Keypair::from_secret_bytes(*secret_key).expect("valid secret key");
    assert_eq!(
        keypair.x_only_public_key().0.to_byte_array(),
        row.public_key
    );
    assert_eq!(
        reference::schnorr_sign(&row.message, secret_key, &aux_rand),
        Some(row.signature),
        "reference signing, row {}",
        row.index
    );
    let signature = match <[u8; 32]>::try_from(row.message.as_slice()) {
        Ok(message) => sign_single(Dialect::Bip340, &keypair, &message, &aux_rand).to_bytes(),
        Err(_) => schnorr::sign_with_aux_rand(&row.message, &keypair, &aux_rand).to_byte_array(),
    };
    assert_eq!(signature, row.signature, "signing, row {}", row.index);
}

fn check_verification(row: &Row) {
    assert_eq!(
        reference::schnorr_verify(&row.message, &row.public_key, &row.signature),
        row.valid,
        "reference verification, row {} ({})",
        row.index,
        row.comment
    );
    let Ok(key) = XOnlyPublicKey::from_byte_array(row.public_key) else {
        // The key type cannot hold a point that is not on the curve: such rows must be the
        // failing ones.
        assert!(!row.valid, "row {}: valid key refused", row.index);
        assert!(reference::Point::lift_x(&row.public_key).is_none());
        return;
    };
    let signature = Signature(row.signature);
    match <[u8; 32]>::try_from(row.message.as_slice()) {
        Ok(message) => {
            assert_eq!(
                verify_xonly(&key, &message, &signature),
                row.valid,
                "row {}",
                row.index
            );
            // `verify` takes a full key and uses its x coordinate: either parity gives the same.
            for parity in [Parity::Even, Parity::Odd] {
                let full = key.public_key(parity);
                assert_eq!(
                    verify(Dialect::Bip340, &full, &message, &signature),
                    row.valid,
                    "row {}",
                    row.index
                );
            }
        }
        Err(_) => {
            let signature = schnorr::Signature::from_byte_array(row.signature);
            assert_eq!(
                schnorr::verify(&signature, &row.message, &key).is_ok(),
                row.valid,
                "row {}",
                row.index
            );
        }
    }
}

#[test]
fn bip340_test_vectors() {
    let rows = read_rows();
    let mut signed = 0;
    for row in &rows {
        if let Some(secret_key) = &row.secret_key {
            check_signing(row, secret_key);
            signed += 1;
        }
        check_verification(row);
    }
    println!(
        "test-vectors.csv: {} cases ({signed} signed, all verified)",
        rows.len()
    );
    let data_lines = std::fs::read_to_string(vectors_dir().join("bip340").join("test-vectors.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .count();
    assert_eq!(rows.len(), data_lines);
    assert!(signed > 0 && rows.iter().any(|row| !row.valid));
}
