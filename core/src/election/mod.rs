//! Deterministic coordinator election and failover order.
//!
//! Every signer computes the same coordinator from the same keys, with no messages.
//! All indices here live in one index space: positions in the list of keys sorted by
//! their 33-byte compressed encoding (duplicates kept, in the caller's relative order).
//! Functions accept keys in any order and report the caller's position alongside.
//!
//! For keys given in sorted order every result equals lotus-lib 0.1.49's
//! `electCoordinator`, `getCoordinatorPriorityList` and `getBackupCoordinator`.
//!
//! # Failover order
//!
//! [`backup_coordinator`] answers exactly as lotus-lib's `getBackupCoordinator`:
//!
//! | method | backup of sorted index `i` |
//! |---|---|
//! | lexicographic, hash-based | `(i + 1) mod n` — it wraps, even back to the primary; `None` only when n = 1 |
//! | first-signer | `i + 1`, `None` after n − 1 |
//! | last-signer | `i − 1`, `None` after 0 |
//! | salted | the next signer in the salted order, `None` after the last |
//!
//! Following the wrapping answers never ends, so a failover loop must use
//! [`priority_list`] instead: it is always finite and lists every sorted index exactly
//! once, coordinator first (for the wrapping methods, one lap starting at the primary).
//!
//! # Duplicate keys
//!
//! A key given twice stays twice in `sorted_signers`; `index_mapping` stays a
//! permutation (the k-th copy in the caller's list maps to the k-th copy in the sorted
//! list), and `input_index` is the caller's first position holding the coordinator's
//! key. Nothing panics.
//!
//! ```
//! use chorus_core::election::{elect, verify_election, ElectionMethod};
//! use chorus_core::crypto::{PublicKey, SecretKey};
//!
//! let keys: Vec<PublicKey> = [3u8, 1, 2]
//!     .iter()
//!     .map(|&b| PublicKey::from_secret_key(&SecretKey::from_secret_bytes([b; 32]).unwrap()))
//!     .collect();
//! let result = elect(ElectionMethod::Lexicographic, &keys, None).unwrap();
//! assert_eq!(result.sorted_index, 0);
//! assert_eq!(keys[result.input_index], result.coordinator);
//! assert!(verify_election(&result, ElectionMethod::Lexicographic, &keys, None).is_ok());
//! ```

mod error;
mod method;
mod order;
#[cfg(test)]
mod tests;

pub use error::{ElectionError, ElectionField};
pub use method::{ElectionMethod, UnknownElectionMethod};

use secp256k1::PublicKey;

use order::Roster;

/// The outcome of an election: who coordinates, and the evidence every signer can recompute.
///
/// ```
/// use chorus_core::election::{elect, ElectionMethod};
/// use chorus_core::crypto::{PublicKey, SecretKey};
///
/// let alice = PublicKey::from_secret_key(&SecretKey::from_secret_bytes([7; 32]).unwrap());
/// let bob = PublicKey::from_secret_key(&SecretKey::from_secret_bytes([8; 32]).unwrap());
/// let result = elect(ElectionMethod::LastSigner, &[alice, bob], None).unwrap();
/// assert_eq!(result.sorted_index, 1);
/// assert_eq!(result.sorted_signers[result.sorted_index], result.coordinator);
/// assert_eq!(result.priority, vec![1, 0]);
/// assert!(result.is_coordinator(&result.coordinator));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionResult {
    /// The method that elected.
    pub method: ElectionMethod,
    /// The coordinator's key.
    pub coordinator: PublicKey,
    /// The coordinator's position in `sorted_signers`.
    pub sorted_index: usize,
    /// The first position of the coordinator's key in the caller's list.
    pub input_index: usize,
    /// All signers sorted by compressed bytes, duplicates kept.
    pub sorted_signers: Vec<PublicKey>,
    /// `index_mapping[caller's index] = sorted index`; a permutation of `0..n`.
    pub index_mapping: Vec<usize>,
    /// The failover order as sorted indices, coordinator first, every signer once.
    pub priority: Vec<usize>,
    /// SHA-256 of the concatenated sorted lowercase hex keys, lotus-lib's `electionProof`.
    pub proof: [u8; 32],
}

impl ElectionResult {
    /// Whether `key` is the elected coordinator's key.
    ///
    /// ```
    /// use chorus_core::election::{elect, ElectionMethod};
    /// use chorus_core::crypto::{PublicKey, SecretKey};
    ///
    /// let keys: Vec<PublicKey> = [1u8, 2]
    ///     .iter()
    ///     .map(|&b| PublicKey::from_secret_key(&SecretKey::from_secret_bytes([b; 32]).unwrap()))
    ///     .collect();
    /// let result = elect(ElectionMethod::FirstSigner, &keys, None).unwrap();
    /// let others = keys.iter().filter(|key| !result.is_coordinator(key)).count();
    /// assert_eq!(others, 1);
    /// ```
    pub fn is_coordinator(&self, key: &PublicKey) -> bool {
        self.coordinator == *key
    }

    /// The proof as 64 lowercase hex characters, as lotus-lib prints it.
    ///
    /// ```
    /// use chorus_core::election::{elect, ElectionMethod};
    /// use chorus_core::crypto::{PublicKey, SecretKey};
    ///
    /// let key = PublicKey::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
    /// let result = elect(ElectionMethod::Lexicographic, &[key], None).unwrap();
    /// assert_eq!(result.proof_hex().len(), 64);
    /// ```
    pub fn proof_hex(&self) -> String {
        hex::encode(self.proof)
    }

    /// The first field, in [`ElectionField::ALL`] order, where `self` and `other` differ.
    fn first_difference(&self, other: &ElectionResult) -> Option<ElectionField> {
        ElectionField::ALL.into_iter().find(|field| match field {
            ElectionField::Method => self.method != other.method,
            ElectionField::Coordinator => self.coordinator != other.coordinator,
            ElectionField::SortedIndex => self.sorted_index != other.sorted_index,
            ElectionField::InputIndex => self.input_index != other.input_index,
            ElectionField::SortedSigners => self.sorted_signers != other.sorted_signers,
            ElectionField::IndexMapping => self.index_mapping != other.index_mapping,
            ElectionField::Priority => self.priority != other.priority,
            ElectionField::Proof => self.proof != other.proof,
        })
    }
}

/// Elects a coordinator among `keys` (any order) with `method`.
///
/// `session_id` salts the [`ElectionMethod::Salted`] order; the other methods ignore it.
///
/// # Errors
///
/// [`ElectionError::EmptyKeyList`] for no keys; [`ElectionError::MissingSessionId`] for
/// the salted method without a session id.
///
/// ```
/// use chorus_core::election::{elect, ElectionMethod};
/// use chorus_core::crypto::{PublicKey, SecretKey};
///
/// let keys: Vec<PublicKey> = [5u8, 6, 7]
///     .iter()
///     .map(|&b| PublicKey::from_secret_key(&SecretKey::from_secret_bytes([b; 32]).unwrap()))
///     .collect();
/// let result = elect(ElectionMethod::Salted, &keys, Some(&[9; 32])).unwrap();
/// assert_eq!(result.priority[0], result.sorted_index);
/// assert!(elect(ElectionMethod::Salted, &keys, None).is_err());
/// ```
pub fn elect(
    method: ElectionMethod,
    keys: &[PublicKey],
    session_id: Option<&[u8; 32]>,
) -> Result<ElectionResult, ElectionError> {
    let roster = Roster::new(keys)?;
    let priority = order::priority(method, &roster, session_id)?;
    // The roster is non-empty, so the priority list has a head, it names a sorted
    // position, and that key occurs in the caller's list.
    let sorted_index = *priority.first().ok_or(ElectionError::EmptyKeyList)?;
    let coordinator = *roster
        .signers
        .get(sorted_index)
        .ok_or(ElectionError::EmptyKeyList)?;
    let input_index = keys
        .iter()
        .position(|key| *key == coordinator)
        .ok_or(ElectionError::EmptyKeyList)?;
    let proof = roster.proof();
    Ok(ElectionResult {
        method,
        coordinator,
        sorted_index,
        input_index,
        sorted_signers: roster.signers,
        index_mapping: roster.index_mapping,
        priority,
        proof,
    })
}

/// Checks every field of `result` against a fresh election of `keys` (in the same
/// caller order) with the method the verifier expects.
///
/// Unlike lotus-lib's `verifyElectionResult`, which compared only the index and the
/// proof, this rejects a result whose method, coordinator key, indices, signer list,
/// mapping or priority list was altered. The expected method is a parameter because a
/// result can be self-consistent under a method other than the one agreed on (with one
/// signer every method elects alike).
///
/// # Errors
///
/// [`ElectionError::Mismatch`] naming the first differing field (in
/// [`ElectionField::ALL`] order), or any error of [`elect`].
///
/// ```
/// use chorus_core::election::{elect, verify_election, ElectionError, ElectionField, ElectionMethod};
/// use chorus_core::crypto::{PublicKey, SecretKey};
///
/// let keys: Vec<PublicKey> = [1u8, 2, 3]
///     .iter()
///     .map(|&b| PublicKey::from_secret_key(&SecretKey::from_secret_bytes([b; 32]).unwrap()))
///     .collect();
/// let mut result = elect(ElectionMethod::HashBased, &keys, None).unwrap();
/// assert_eq!(verify_election(&result, ElectionMethod::HashBased, &keys, None), Ok(()));
/// result.coordinator = keys[(result.input_index + 1) % 3];
/// assert_eq!(
///     verify_election(&result, ElectionMethod::HashBased, &keys, None),
///     Err(ElectionError::Mismatch { field: ElectionField::Coordinator })
/// );
/// ```
pub fn verify_election(
    result: &ElectionResult,
    method: ElectionMethod,
    keys: &[PublicKey],
    session_id: Option<&[u8; 32]>,
) -> Result<(), ElectionError> {
    let fresh = elect(method, keys, session_id)?;
    match result.first_difference(&fresh) {
        Some(field) => Err(ElectionError::Mismatch { field }),
        None => Ok(()),
    }
}

/// The failover order for `keys` under `method`: sorted indices, coordinator first,
/// every signer exactly once.
///
/// Equals lotus-lib's `getCoordinatorPriorityList`. For the lexicographic and hash-based
/// methods it is one lap of [`backup_coordinator`]'s wrapping order.
///
/// # Errors
///
/// As [`elect`].
///
/// ```
/// use chorus_core::election::{priority_list, ElectionMethod};
/// use chorus_core::crypto::{PublicKey, SecretKey};
///
/// let keys: Vec<PublicKey> = [1u8, 2, 3]
///     .iter()
///     .map(|&b| PublicKey::from_secret_key(&SecretKey::from_secret_bytes([b; 32]).unwrap()))
///     .collect();
/// assert_eq!(priority_list(ElectionMethod::LastSigner, &keys, None).unwrap(), vec![2, 1, 0]);
/// ```
pub fn priority_list(
    method: ElectionMethod,
    keys: &[PublicKey],
    session_id: Option<&[u8; 32]>,
) -> Result<Vec<usize>, ElectionError> {
    order::priority(method, &Roster::new(keys)?, session_id)
}

/// The sorted index of the signer that takes over when the coordinator at
/// `current_sorted_index` fails, or `None` when the method has no one left.
///
/// Equals lotus-lib's `getBackupCoordinator` (see the module docs): the lexicographic
/// and hash-based answers wrap around and so never run out when n > 1; use
/// [`priority_list`] to fail over a bounded number of times.
///
/// # Errors
///
/// [`ElectionError::IndexOutOfRange`] when `current_sorted_index >= keys.len()`, or
/// any error of [`elect`].
///
/// ```
/// use chorus_core::election::{backup_coordinator, ElectionMethod};
/// use chorus_core::crypto::{PublicKey, SecretKey};
///
/// let keys: Vec<PublicKey> = [1u8, 2, 3]
///     .iter()
///     .map(|&b| PublicKey::from_secret_key(&SecretKey::from_secret_bytes([b; 32]).unwrap()))
///     .collect();
/// assert_eq!(backup_coordinator(ElectionMethod::FirstSigner, &keys, 1, None), Ok(Some(2)));
/// assert_eq!(backup_coordinator(ElectionMethod::FirstSigner, &keys, 2, None), Ok(None));
/// assert_eq!(backup_coordinator(ElectionMethod::Lexicographic, &keys, 2, None), Ok(Some(0)));
/// ```
pub fn backup_coordinator(
    method: ElectionMethod,
    keys: &[PublicKey],
    current_sorted_index: usize,
    session_id: Option<&[u8; 32]>,
) -> Result<Option<usize>, ElectionError> {
    order::backup(
        method,
        &Roster::new(keys)?,
        current_sorted_index,
        session_id,
    )
}
