//! The sorted signer list and the failover orders each method derives from it.

use secp256k1::PublicKey;
use sha2::{Digest, Sha256};

use super::{ElectionError, ElectionMethod};

/// The signers in the one index space (sorted by compressed bytes) and where each
/// caller position landed.
pub(super) struct Roster {
    /// Keys sorted ascending by their 33-byte encoding, duplicates kept.
    pub(super) signers: Vec<PublicKey>,
    /// `index_mapping[input_index] = sorted_index`; a permutation of `0..n`.
    pub(super) index_mapping: Vec<usize>,
}

impl Roster {
    /// Sorts `keys`; equal keys keep the caller's relative order, so the mapping stays a
    /// permutation even with duplicates.
    pub(super) fn new(keys: &[PublicKey]) -> Result<Self, ElectionError> {
        if keys.is_empty() {
            return Err(ElectionError::EmptyKeyList);
        }
        let mut entries: Vec<([u8; 33], usize, PublicKey)> = keys
            .iter()
            .enumerate()
            .map(|(input_index, key)| (key.serialize(), input_index, *key))
            .collect();
        // Ordering by (bytes, input index) is a stable sort by bytes.
        entries.sort_by_key(|(bytes, input_index, _)| (*bytes, *input_index));
        let mut index_mapping = vec![0; keys.len()];
        for (sorted_index, (_, input_index, _)) in entries.iter().enumerate() {
            if let Some(slot) = index_mapping.get_mut(*input_index) {
                *slot = sorted_index;
            }
        }
        let signers = entries.into_iter().map(|(_, _, key)| key).collect();
        Ok(Roster {
            signers,
            index_mapping,
        })
    }

    pub(super) fn len(&self) -> usize {
        self.signers.len()
    }

    /// lotus-lib's election proof: SHA-256 of the UTF-8 concatenation of the lowercase
    /// hex keys sorted as strings. Fixed-length lowercase hex sorts exactly like the
    /// bytes, so the sorted signer list gives the same string.
    pub(super) fn proof(&self) -> [u8; 32] {
        let mut text = String::with_capacity(self.signers.len().saturating_mul(66));
        for key in &self.signers {
            text.push_str(&hex::encode(key.serialize()));
        }
        Sha256::digest(text.as_bytes()).into()
    }

    /// Rejects an index that is not a sorted position.
    pub(super) fn check_index(&self, index: usize) -> Result<(), ElectionError> {
        if index < self.len() {
            Ok(())
        } else {
            Err(ElectionError::IndexOutOfRange {
                index,
                signers: self.len(),
            })
        }
    }
}

/// The failover order of a method: sorted indices, coordinator first, each signer once.
pub(super) fn priority(
    method: ElectionMethod,
    roster: &Roster,
    session_id: Option<&[u8; 32]>,
) -> Result<Vec<usize>, ElectionError> {
    let n = roster.len();
    let order = match method {
        ElectionMethod::Lexicographic | ElectionMethod::FirstSigner => (0..n).collect(),
        ElectionMethod::LastSigner => (0..n).rev().collect(),
        ElectionMethod::HashBased => {
            let primary = hash_based_index(&roster.proof(), n);
            // lotus-lib's backups wrap forever; one lap is the useful, finite part.
            (0..n).map(|step| (primary + step) % n).collect()
        }
        ElectionMethod::Salted => {
            salted_order(roster, session_id.ok_or(ElectionError::MissingSessionId)?)
        }
    };
    Ok(order)
}

/// lotus-lib's `getBackupCoordinator`: the signer that takes over from `current`.
pub(super) fn backup(
    method: ElectionMethod,
    roster: &Roster,
    current: usize,
    session_id: Option<&[u8; 32]>,
) -> Result<Option<usize>, ElectionError> {
    roster.check_index(current)?;
    let n = roster.len();
    let next = match method {
        // lotus-lib wraps from n − 1 back to 0 (which may be the primary again) and
        // answers null only when the wrap lands on `current` itself, i.e. n = 1.
        ElectionMethod::Lexicographic | ElectionMethod::HashBased => {
            Some((current + 1) % n).filter(|&next| next != current)
        }
        ElectionMethod::FirstSigner => Some(current + 1).filter(|&next| next < n),
        ElectionMethod::LastSigner => current.checked_sub(1),
        ElectionMethod::Salted => {
            let order = salted_order(roster, session_id.ok_or(ElectionError::MissingSessionId)?);
            order
                .iter()
                .position(|&index| index == current)
                .and_then(|position| order.get(position + 1).copied())
        }
    };
    Ok(next)
}

/// `u32be(hash[0..4]) mod n`, lotus-lib's hash-based pick.
pub(super) fn hash_based_index(hash: &[u8; 32], n: usize) -> usize {
    let [a, b, c, d, ..] = *hash;
    let value = u64::from(u32::from_be_bytes([a, b, c, d]));
    // The remainder is below n, so it fits back into usize.
    (value % n as u64) as usize
}

/// Sorted indices ordered by `SHA256(session_id ‖ key33)`; equal digests (equal keys)
/// fall back to the sorted index, which is the key-byte order.
fn salted_order(roster: &Roster, session_id: &[u8; 32]) -> Vec<usize> {
    let mut salted: Vec<([u8; 32], usize)> = roster
        .signers
        .iter()
        .enumerate()
        .map(|(sorted_index, key)| {
            let mut hasher = Sha256::new();
            hasher.update(session_id);
            hasher.update(key.serialize());
            (hasher.finalize().into(), sorted_index)
        })
        .collect();
    salted.sort();
    salted
        .into_iter()
        .map(|(_, sorted_index)| sorted_index)
        .collect()
}
