//! The election methods and their names.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a session's signers choose their coordinator.
///
/// Every method works on the signers sorted by their 33-byte compressed keys, so the
/// caller's order never changes the outcome. The names (for `Display`, `FromStr` and
/// serde) are lotus-lib's: `lexicographic`, `hash-based`, `first-signer`, `last-signer`,
/// plus `salted`, which lotus-lib does not have.
///
/// ```
/// use chorus_core::election::ElectionMethod;
///
/// let method: ElectionMethod = "hash-based".parse().unwrap();
/// assert_eq!(method, ElectionMethod::HashBased);
/// assert_eq!(ElectionMethod::default().to_string(), "lexicographic");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ElectionMethod {
    /// The smallest key; backups follow in sorted order and wrap around.
    #[default]
    Lexicographic,
    /// `u32be(SHA256(concatenated sorted hex keys)[0..4]) mod n`; backups `(i + 1) mod n`.
    HashBased,
    /// Sorted index 0; backups 1, 2, …, n − 1, then none.
    FirstSigner,
    /// Sorted index n − 1; backups n − 2, …, 0, then none.
    LastSigner,
    /// The key with the smallest `SHA256(session_id ‖ key33)`; backups in that order.
    ///
    /// A new session id reshuffles the order, so no key can be ground to win every session.
    Salted,
}

impl ElectionMethod {
    /// Every method, in declaration order.
    ///
    /// ```
    /// use chorus_core::election::ElectionMethod;
    ///
    /// assert_eq!(ElectionMethod::ALL.len(), 5);
    /// ```
    pub const ALL: [ElectionMethod; 5] = [
        ElectionMethod::Lexicographic,
        ElectionMethod::HashBased,
        ElectionMethod::FirstSigner,
        ElectionMethod::LastSigner,
        ElectionMethod::Salted,
    ];

    /// The lowercase name used in configuration, on the command line and in JSON.
    ///
    /// ```
    /// use chorus_core::election::ElectionMethod;
    ///
    /// assert_eq!(ElectionMethod::LastSigner.name(), "last-signer");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            ElectionMethod::Lexicographic => "lexicographic",
            ElectionMethod::HashBased => "hash-based",
            ElectionMethod::FirstSigner => "first-signer",
            ElectionMethod::LastSigner => "last-signer",
            ElectionMethod::Salted => "salted",
        }
    }

    /// Whether the method needs a session id to elect.
    ///
    /// ```
    /// use chorus_core::election::ElectionMethod;
    ///
    /// assert!(ElectionMethod::Salted.needs_session_id());
    /// assert!(!ElectionMethod::Lexicographic.needs_session_id());
    /// ```
    pub const fn needs_session_id(self) -> bool {
        matches!(self, ElectionMethod::Salted)
    }
}

impl fmt::Display for ElectionMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text named no known election method.
///
/// ```
/// use chorus_core::election::{ElectionMethod, UnknownElectionMethod};
///
/// let err = "random".parse::<ElectionMethod>().unwrap_err();
/// assert_eq!(err, UnknownElectionMethod("random".to_owned()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown election method {0:?} (expected \"lexicographic\", \"hash-based\", \
     \"first-signer\", \"last-signer\" or \"salted\")"
)]
pub struct UnknownElectionMethod(pub String);

impl FromStr for ElectionMethod {
    type Err = UnknownElectionMethod;

    /// Parses a method name, ignoring ASCII case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ElectionMethod::ALL
            .into_iter()
            .find(|method| text.eq_ignore_ascii_case(method.name()))
            .ok_or_else(|| UnknownElectionMethod(text.to_owned()))
    }
}
