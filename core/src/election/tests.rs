use secp256k1::{PublicKey, SecretKey};
use sha2::{Digest, Sha256};

use super::*;

fn key(seed: u8) -> PublicKey {
    PublicKey::from_secret_key(&SecretKey::from_secret_bytes([seed; 32]).unwrap())
}

fn keys(seeds: &[u8]) -> Vec<PublicKey> {
    seeds.iter().map(|&seed| key(seed)).collect()
}

fn sorted_by_bytes(keys: &[PublicKey]) -> Vec<PublicKey> {
    let mut sorted = keys.to_vec();
    sorted.sort_by_key(|key| key.serialize());
    sorted
}

/// The proof as lotus-lib defines it: hex strings sorted as strings, then hashed.
fn lotus_proof(keys: &[PublicKey]) -> [u8; 32] {
    let mut hexes: Vec<String> = keys.iter().map(|k| hex::encode(k.serialize())).collect();
    hexes.sort();
    Sha256::digest(hexes.concat().as_bytes()).into()
}

const SESSION: [u8; 32] = [0x5a; 32];

#[test]
fn lexicographic_elects_the_smallest_key_whatever_the_input_order() {
    let input = keys(&[9, 4, 7, 1]);
    let smallest = *sorted_by_bytes(&input).first().unwrap();
    let result = elect(ElectionMethod::Lexicographic, &input, None).unwrap();
    assert_eq!(result.coordinator, smallest);
    assert_eq!(result.sorted_index, 0);
    assert_eq!(input[result.input_index], smallest);
    assert_eq!(result.sorted_signers, sorted_by_bytes(&input));
}

#[test]
fn first_and_last_signer_elect_the_ends_of_the_sorted_list() {
    let input = keys(&[3, 8, 5, 2, 6]);
    let sorted = sorted_by_bytes(&input);
    let first = elect(ElectionMethod::FirstSigner, &input, None).unwrap();
    let last = elect(ElectionMethod::LastSigner, &input, None).unwrap();
    assert_eq!((first.sorted_index, first.coordinator), (0, sorted[0]));
    assert_eq!((last.sorted_index, last.coordinator), (4, sorted[4]));
}

#[test]
fn proof_is_sha256_of_the_hex_keys_sorted_as_strings() {
    let input = keys(&[10, 20, 30, 40]);
    let result = elect(ElectionMethod::FirstSigner, &input, None).unwrap();
    assert_eq!(result.proof, lotus_proof(&input));
    assert_eq!(result.proof_hex(), hex::encode(lotus_proof(&input)));
}

#[test]
fn hash_based_picks_the_first_four_digest_bytes_modulo_n() {
    for n in 1..=9u8 {
        let input = keys(&(1..=n).collect::<Vec<_>>());
        let digest = lotus_proof(&input);
        let expected = u32::from_be_bytes(digest[..4].try_into().unwrap()) as usize % n as usize;
        let result = elect(ElectionMethod::HashBased, &input, None).unwrap();
        assert_eq!(result.sorted_index, expected, "n = {n}");
    }
}

#[test]
fn salted_orders_signers_by_the_salted_digest() {
    let input = keys(&[11, 12, 13, 14, 15, 16]);
    let sorted = sorted_by_bytes(&input);
    let mut expected: Vec<(Vec<u8>, usize)> = sorted
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let mut data = SESSION.to_vec();
            data.extend_from_slice(&k.serialize());
            (Sha256::digest(&data).to_vec(), i)
        })
        .collect();
    expected.sort();
    let expected: Vec<usize> = expected.into_iter().map(|(_, i)| i).collect();
    let result = elect(ElectionMethod::Salted, &input, Some(&SESSION)).unwrap();
    assert_eq!(result.priority, expected);
    assert_eq!(result.sorted_index, expected[0]);
}

#[test]
fn salted_order_changes_with_the_session_id() {
    let input = keys(&[1, 2, 3, 4, 5, 6, 7, 8]);
    let a = priority_list(ElectionMethod::Salted, &input, Some(&[1; 32])).unwrap();
    let b = priority_list(ElectionMethod::Salted, &input, Some(&[2; 32])).unwrap();
    assert_ne!(a, b);
}

#[test]
fn salted_without_a_session_id_is_rejected_everywhere() {
    let input = keys(&[1, 2]);
    let missing = ElectionError::MissingSessionId;
    assert_eq!(
        elect(ElectionMethod::Salted, &input, None),
        Err(missing.clone())
    );
    assert_eq!(
        priority_list(ElectionMethod::Salted, &input, None),
        Err(missing.clone())
    );
    assert_eq!(
        backup_coordinator(ElectionMethod::Salted, &input, 0, None),
        Err(missing)
    );
}

#[test]
fn other_methods_ignore_the_session_id() {
    let input = keys(&[4, 5, 6]);
    for method in [
        ElectionMethod::Lexicographic,
        ElectionMethod::HashBased,
        ElectionMethod::FirstSigner,
        ElectionMethod::LastSigner,
    ] {
        let with = elect(method, &input, Some(&SESSION)).unwrap();
        let without = elect(method, &input, None).unwrap();
        assert_eq!(with, without, "{method}");
    }
}

#[test]
fn empty_key_list_is_rejected_by_every_function() {
    for method in ElectionMethod::ALL {
        let empty = ElectionError::EmptyKeyList;
        assert_eq!(elect(method, &[], Some(&SESSION)), Err(empty.clone()));
        assert_eq!(
            priority_list(method, &[], Some(&SESSION)),
            Err(empty.clone())
        );
        assert_eq!(
            backup_coordinator(method, &[], 0, Some(&SESSION)),
            Err(empty)
        );
    }
    let result = elect(ElectionMethod::FirstSigner, &keys(&[1]), None).unwrap();
    assert_eq!(
        verify_election(&result, ElectionMethod::FirstSigner, &[], None),
        Err(ElectionError::EmptyKeyList)
    );
}

#[test]
fn backup_of_an_index_past_the_end_is_out_of_range() {
    let input = keys(&[1, 2, 3]);
    for method in ElectionMethod::ALL {
        for index in [3, usize::MAX] {
            assert_eq!(
                backup_coordinator(method, &input, index, Some(&SESSION)),
                Err(ElectionError::IndexOutOfRange { index, signers: 3 })
            );
        }
    }
}

#[test]
fn wrapping_methods_return_to_zero_after_the_last_index() {
    let input = keys(&[1, 2, 3, 4]);
    for method in [ElectionMethod::Lexicographic, ElectionMethod::HashBased] {
        let backups: Vec<_> = (0..4)
            .map(|i| backup_coordinator(method, &input, i, None).unwrap())
            .collect();
        assert_eq!(
            backups,
            vec![Some(1), Some(2), Some(3), Some(0)],
            "{method}"
        );
    }
}

#[test]
fn a_single_signer_has_no_backup_under_any_method() {
    let input = keys(&[1]);
    for method in ElectionMethod::ALL {
        assert_eq!(
            backup_coordinator(method, &input, 0, Some(&SESSION)),
            Ok(None)
        );
        assert_eq!(priority_list(method, &input, Some(&SESSION)), Ok(vec![0]));
    }
}

#[test]
fn first_and_last_signer_backups_run_out_at_the_ends() {
    let input = keys(&[1, 2, 3]);
    let first: Vec<_> = (0..3)
        .map(|i| backup_coordinator(ElectionMethod::FirstSigner, &input, i, None).unwrap())
        .collect();
    let last: Vec<_> = (0..3)
        .map(|i| backup_coordinator(ElectionMethod::LastSigner, &input, i, None).unwrap())
        .collect();
    assert_eq!(first, vec![Some(1), Some(2), None]);
    assert_eq!(last, vec![None, Some(0), Some(1)]);
}

#[test]
fn priority_lists_are_permutations_led_by_the_coordinator() {
    let input = keys(&[21, 22, 23, 24, 25, 26, 27]);
    for method in ElectionMethod::ALL {
        let result = elect(method, &input, Some(&SESSION)).unwrap();
        let mut seen = result.priority.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..input.len()).collect::<Vec<_>>(), "{method}");
        assert_eq!(result.priority[0], result.sorted_index, "{method}");
        assert_eq!(
            priority_list(method, &input, Some(&SESSION)).unwrap(),
            result.priority
        );
    }
}

#[test]
fn walking_backups_from_the_coordinator_follows_the_priority_list() {
    let input = keys(&[31, 32, 33, 34, 35]);
    for method in ElectionMethod::ALL {
        let result = elect(method, &input, Some(&SESSION)).unwrap();
        let mut current = result.sorted_index;
        for &expected in &result.priority[1..] {
            current = backup_coordinator(method, &input, current, Some(&SESSION))
                .unwrap()
                .unwrap();
            assert_eq!(current, expected, "{method}");
        }
    }
}

#[test]
fn index_mapping_sends_each_input_position_to_its_key_in_the_sorted_list() {
    let input = keys(&[5, 1, 4, 2, 3]);
    let result = elect(ElectionMethod::Lexicographic, &input, None).unwrap();
    for (input_index, &sorted_index) in result.index_mapping.iter().enumerate() {
        assert_eq!(result.sorted_signers[sorted_index], input[input_index]);
    }
}

#[test]
fn duplicate_keys_are_kept_and_mapped_one_to_one() {
    let input = keys(&[2, 1, 2, 3, 1]);
    let result = elect(ElectionMethod::LastSigner, &input, None).unwrap();
    assert_eq!(result.sorted_signers, sorted_by_bytes(&input));
    let mut targets = result.index_mapping.clone();
    targets.sort_unstable();
    assert_eq!(targets, vec![0, 1, 2, 3, 4]);
    for (input_index, &sorted_index) in result.index_mapping.iter().enumerate() {
        assert_eq!(result.sorted_signers[sorted_index], input[input_index]);
    }
}

#[test]
fn duplicate_coordinator_reports_its_first_input_position() {
    let input = keys(&[7, 7, 7]);
    for method in ElectionMethod::ALL {
        let result = elect(method, &input, Some(&SESSION)).unwrap();
        assert_eq!(result.input_index, 0, "{method}");
        assert_eq!(result.index_mapping, vec![0, 1, 2]);
        assert_eq!(
            verify_election(&result, method, &input, Some(&SESSION)),
            Ok(())
        );
    }
    let last = elect(ElectionMethod::LastSigner, &input, None).unwrap();
    assert_eq!(last.sorted_index, 2);
}

#[test]
fn verify_accepts_a_fresh_result_for_every_method() {
    let input = keys(&[9, 8, 7, 6]);
    for method in ElectionMethod::ALL {
        let result = elect(method, &input, Some(&SESSION)).unwrap();
        assert_eq!(
            verify_election(&result, method, &input, Some(&SESSION)),
            Ok(())
        );
    }
}

fn assert_mismatch(result: &ElectionResult, input: &[PublicKey], field: ElectionField) {
    assert_eq!(
        verify_election(result, ElectionMethod::HashBased, input, None),
        Err(ElectionError::Mismatch { field })
    );
}

#[test]
fn verify_names_the_single_field_that_was_tampered() {
    let input = keys(&[41, 42, 43]);
    let honest = elect(ElectionMethod::HashBased, &input, None).unwrap();
    let other_key = *honest
        .sorted_signers
        .iter()
        .find(|k| **k != honest.coordinator)
        .unwrap();

    let mut t = honest.clone();
    t.method = ElectionMethod::Lexicographic;
    assert_mismatch(&t, &input, ElectionField::Method);
    let mut t = honest.clone();
    t.coordinator = other_key;
    assert_mismatch(&t, &input, ElectionField::Coordinator);
    let mut t = honest.clone();
    t.sorted_index = (t.sorted_index + 1) % 3;
    assert_mismatch(&t, &input, ElectionField::SortedIndex);
    let mut t = honest.clone();
    t.input_index = (t.input_index + 1) % 3;
    assert_mismatch(&t, &input, ElectionField::InputIndex);
    let mut t = honest.clone();
    t.sorted_signers.reverse();
    assert_mismatch(&t, &input, ElectionField::SortedSigners);
    let mut t = honest.clone();
    t.index_mapping.swap(0, 1);
    assert_mismatch(&t, &input, ElectionField::IndexMapping);
    let mut t = honest.clone();
    t.priority.swap(1, 2);
    assert_mismatch(&t, &input, ElectionField::Priority);
    let mut t = honest;
    t.proof[31] ^= 1;
    assert_mismatch(&t, &input, ElectionField::Proof);
}

#[test]
fn verify_rejects_a_result_checked_under_another_method_even_with_one_signer() {
    let input = keys(&[1]);
    let result = elect(ElectionMethod::Lexicographic, &input, None).unwrap();
    for method in ElectionMethod::ALL {
        let verdict = verify_election(&result, method, &input, Some(&SESSION));
        if method == ElectionMethod::Lexicographic {
            assert_eq!(verdict, Ok(()));
        } else {
            let field = ElectionField::Method;
            assert_eq!(verdict, Err(ElectionError::Mismatch { field }));
        }
    }
}

#[test]
fn method_names_round_trip_and_ignore_case() {
    for method in ElectionMethod::ALL {
        assert_eq!(method.to_string().parse::<ElectionMethod>(), Ok(method));
        assert_eq!(
            method.name().to_uppercase().parse::<ElectionMethod>(),
            Ok(method)
        );
    }
    assert_eq!(ElectionMethod::default(), ElectionMethod::Lexicographic);
    assert!("hash_based".parse::<ElectionMethod>().is_err());
    assert!("".parse::<ElectionMethod>().is_err());
}

#[test]
fn field_names_match_the_result_struct() {
    let names: Vec<_> = ElectionField::ALL.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        names,
        [
            "method",
            "coordinator",
            "sorted_index",
            "input_index",
            "sorted_signers",
            "index_mapping",
            "priority",
            "proof"
        ]
    );
}
