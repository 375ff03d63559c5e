//! Properties of coordinator election over random signer sets.
//!
//! The outcome must not depend on the caller's key order, verification must accept an
//! honest result and name any single tampered field, and the failover order must be a
//! finite permutation that the step-by-step backups follow.

use chorus_core::election::{
    backup_coordinator, elect, priority_list, verify_election, ElectionError, ElectionField,
    ElectionMethod, ElectionResult,
};
use chorus_core::secp256k1::{PublicKey, SecretKey};
use proptest::prelude::*;
use proptest::sample::Index;

fn secret_key() -> impl Strategy<Value = SecretKey> {
    any::<[u8; 32]>().prop_filter_map("not a valid scalar", |bytes| {
        SecretKey::from_secret_bytes(bytes).ok()
    })
}

/// 1 to 20 keys; a quarter of the sets copy one key over another to exercise duplicates.
fn signer_keys() -> impl Strategy<Value = Vec<PublicKey>> {
    (
        prop::collection::vec(secret_key(), 1..=20),
        prop::bool::weighted(0.25),
        any::<Index>(),
        any::<Index>(),
    )
        .prop_map(|(secrets, duplicate, from, to)| {
            let mut keys: Vec<PublicKey> = secrets.iter().map(PublicKey::from_secret_key).collect();
            if duplicate {
                let copied = keys[from.index(keys.len())];
                let slot = to.index(keys.len());
                keys[slot] = copied;
            }
            keys
        })
}

/// The keys, the same keys in another order, and a session id.
fn scenario() -> impl Strategy<Value = (Vec<PublicKey>, Vec<PublicKey>, [u8; 32])> {
    (signer_keys(), any::<[u8; 32]>()).prop_flat_map(|(keys, session_id)| {
        (
            Just(keys.clone()),
            Just(keys).prop_shuffle(),
            Just(session_id),
        )
    })
}

/// A valid key that is not in `keys`.
fn outside_key(keys: &[PublicKey]) -> PublicKey {
    (1u8..)
        .map(|b| PublicKey::from_secret_key(&SecretKey::from_secret_bytes([b; 32]).unwrap()))
        .find(|candidate| !keys.contains(candidate))
        .unwrap()
}

/// One altered copy of `honest` per field (several for the method), each labelled with
/// the field a verifier must name.
fn single_field_tampers(
    honest: &ElectionResult,
    keys: &[PublicKey],
    position: Index,
    bit: u8,
) -> Vec<(ElectionField, ElectionResult)> {
    let n = honest.sorted_signers.len();
    let stranger = outside_key(keys);
    let mut tampers = Vec::new();
    let mut with = |field, change: &dyn Fn(&mut ElectionResult)| {
        let mut tampered = honest.clone();
        change(&mut tampered);
        tampers.push((field, tampered));
    };
    for method in ElectionMethod::ALL
        .into_iter()
        .filter(|m| *m != honest.method)
    {
        with(ElectionField::Method, &|r| r.method = method);
    }
    with(ElectionField::Coordinator, &|r| r.coordinator = stranger);
    with(ElectionField::SortedIndex, &|r| r.sorted_index += 1);
    with(ElectionField::InputIndex, &|r| r.input_index += 1);
    with(ElectionField::SortedSigners, &|r| {
        r.sorted_signers[position.index(n)] = stranger
    });
    with(ElectionField::SortedSigners, &|r| {
        r.sorted_signers.push(stranger)
    });
    with(ElectionField::IndexMapping, &|r| {
        if n > 1 {
            r.index_mapping.swap(0, n - 1);
        } else {
            r.index_mapping[0] = 1;
        }
    });
    with(ElectionField::Priority, &|r| {
        if n > 1 {
            r.priority.swap(n - 2, n - 1);
        } else {
            r.priority.push(0);
        }
    });
    with(ElectionField::Proof, &|r| {
        r.proof[usize::from(bit / 8)] ^= 1 << (bit % 8)
    });
    tampers
}

fn check_permutation_invariance(
    method: ElectionMethod,
    ours: &ElectionResult,
    keys: &[PublicKey],
    shuffled: &[PublicKey],
    session_id: &[u8; 32],
) -> Result<(), TestCaseError> {
    let theirs = elect(method, shuffled, Some(session_id)).unwrap();
    prop_assert_eq!(theirs.method, method);
    prop_assert_eq!(theirs.coordinator, ours.coordinator);
    prop_assert_eq!(theirs.sorted_index, ours.sorted_index);
    prop_assert_eq!(&theirs.sorted_signers, &ours.sorted_signers);
    prop_assert_eq!(&theirs.priority, &ours.priority);
    prop_assert_eq!(theirs.proof, ours.proof);
    for (input, result) in [(keys, ours), (shuffled, &theirs)] {
        let first = input.iter().position(|k| *k == result.coordinator);
        prop_assert_eq!(first, Some(result.input_index));
        prop_assert_eq!(
            result.sorted_signers[result.sorted_index],
            result.coordinator
        );
        let mut targets = result.index_mapping.clone();
        targets.sort_unstable();
        prop_assert_eq!(targets, (0..input.len()).collect::<Vec<_>>());
        for (i, &s) in result.index_mapping.iter().enumerate() {
            prop_assert_eq!(result.sorted_signers[s], input[i]);
        }
        prop_assert_eq!(
            verify_election(result, method, input, Some(session_id)),
            Ok(())
        );
    }
    for current in 0..keys.len() {
        prop_assert_eq!(
            backup_coordinator(method, keys, current, Some(session_id)),
            backup_coordinator(method, shuffled, current, Some(session_id))
        );
    }
    Ok(())
}

fn check_failover_order(
    method: ElectionMethod,
    ours: &ElectionResult,
    keys: &[PublicKey],
    session_id: &[u8; 32],
) -> Result<(), TestCaseError> {
    let n = keys.len();
    let priority = priority_list(method, keys, Some(session_id)).unwrap();
    prop_assert_eq!(&priority, &ours.priority);
    prop_assert_eq!(priority[0], ours.sorted_index);
    let mut sorted = priority.clone();
    sorted.sort_unstable();
    prop_assert_eq!(sorted, (0..n).collect::<Vec<_>>());

    let mut current = ours.sorted_index;
    for &expected in &priority[1..] {
        let next = backup_coordinator(method, keys, current, Some(session_id)).unwrap();
        prop_assert_eq!(next, Some(expected));
        current = expected;
    }
    // Past the last signer lotus-lib's wrapping methods return to the primary.
    let after_last = backup_coordinator(method, keys, current, Some(session_id)).unwrap();
    let wraps = matches!(
        method,
        ElectionMethod::Lexicographic | ElectionMethod::HashBased
    );
    let expected = if wraps && n > 1 {
        Some(priority[0])
    } else {
        None
    };
    prop_assert_eq!(after_last, expected);
    prop_assert_eq!(
        backup_coordinator(method, keys, n, Some(session_id)),
        Err(ElectionError::IndexOutOfRange {
            index: n,
            signers: n
        })
    );
    for key in keys {
        prop_assert_eq!(ours.is_coordinator(key), *key == ours.coordinator);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn election_is_order_independent_verifiable_and_fails_over_in_priority_order(
        (keys, shuffled, session_id) in scenario(),
        position in any::<Index>(),
        bit in any::<u8>(),
    ) {
        for method in ElectionMethod::ALL {
            let ours = elect(method, &keys, Some(&session_id)).unwrap();
            check_permutation_invariance(method, &ours, &keys, &shuffled, &session_id)?;
            check_failover_order(method, &ours, &keys, &session_id)?;
            for (field, tampered) in single_field_tampers(&ours, &keys, position, bit) {
                prop_assert_eq!(
                    verify_election(&tampered, method, &keys, Some(&session_id)),
                    Err(ElectionError::Mismatch { field }),
                    "{} tamper of {}", method, field
                );
            }
        }
    }
}
