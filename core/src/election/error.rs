//! Why an election or its verification failed.

use core::fmt;

/// A field of an [`ElectionResult`](super::ElectionResult), named by a failed verification.
///
/// ```
/// use chorus_core::election::ElectionField;
///
/// assert_eq!(ElectionField::SortedIndex.to_string(), "sorted_index");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ElectionField {
    /// `method`.
    Method,
    /// `coordinator`.
    Coordinator,
    /// `sorted_index`.
    SortedIndex,
    /// `input_index`.
    InputIndex,
    /// `sorted_signers`.
    SortedSigners,
    /// `index_mapping`.
    IndexMapping,
    /// `priority`.
    Priority,
    /// `proof`.
    Proof,
}

impl ElectionField {
    /// Every field, in the order verification compares them.
    ///
    /// ```
    /// use chorus_core::election::ElectionField;
    ///
    /// assert_eq!(ElectionField::ALL[0], ElectionField::Method);
    /// ```
    pub const ALL: [ElectionField; 8] = [
        ElectionField::Method,
        ElectionField::Coordinator,
        ElectionField::SortedIndex,
        ElectionField::InputIndex,
        ElectionField::SortedSigners,
        ElectionField::IndexMapping,
        ElectionField::Priority,
        ElectionField::Proof,
    ];

    /// The field's name as written in [`ElectionResult`](super::ElectionResult).
    ///
    /// ```
    /// use chorus_core::election::ElectionField;
    ///
    /// assert_eq!(ElectionField::IndexMapping.name(), "index_mapping");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            ElectionField::Method => "method",
            ElectionField::Coordinator => "coordinator",
            ElectionField::SortedIndex => "sorted_index",
            ElectionField::InputIndex => "input_index",
            ElectionField::SortedSigners => "sorted_signers",
            ElectionField::IndexMapping => "index_mapping",
            ElectionField::Priority => "priority",
            ElectionField::Proof => "proof",
        }
    }
}

impl fmt::Display for ElectionField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an election, a failover query or an election check refused its input.
///
/// ```
/// use chorus_core::election::{elect, ElectionError, ElectionMethod};
///
/// assert_eq!(elect(ElectionMethod::Lexicographic, &[], None), Err(ElectionError::EmptyKeyList));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ElectionError {
    /// There are no signers to elect from.
    #[error("the key list is empty")]
    EmptyKeyList,
    /// The salted method was asked to elect without a 32-byte session id.
    #[error("the salted election needs a 32-byte session id")]
    MissingSessionId,
    /// A sorted signer index is not a position in the signer list.
    #[error("signer index {index} out of range for {signers} signers")]
    IndexOutOfRange {
        /// The index given.
        index: usize,
        /// How many signers there are.
        signers: usize,
    },
    /// An election result differs from a fresh election over the same keys.
    #[error("election result field {field} does not match a fresh election")]
    Mismatch {
        /// The first field (in [`ElectionField::ALL`] order) that differs.
        field: ElectionField,
    },
}
