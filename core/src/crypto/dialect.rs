//! The two Schnorr dialects a session can sign in.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

/// Which Schnorr dialect a session signs in.
///
/// Chosen per session and carried in the signing request.
///
/// ```
/// use chorus_core::crypto::Dialect;
///
/// let dialect: Dialect = "lotus".parse().unwrap();
/// assert_eq!(dialect, Dialect::Lotus);
/// assert_eq!(Dialect::Bip340.to_string(), "bip340");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Dialect {
    /// BIP327 MuSig2 producing BIP340 signatures (Bitcoin, Taproot).
    Bip340,
    /// lotus-lib's MuSig2 producing Lotus Schnorr signatures.
    Lotus,
}

impl Dialect {
    /// The lowercase name used on the command line and in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::Bip340 => "bip340",
            Dialect::Lotus => "lotus",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text named no known dialect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dialect {0:?} (expected \"bip340\" or \"lotus\")")]
pub struct UnknownDialect(pub String);

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.eq_ignore_ascii_case("bip340") {
            Ok(Dialect::Bip340)
        } else if text.eq_ignore_ascii_case("lotus") {
            Ok(Dialect::Lotus)
        } else {
            Err(UnknownDialect(text.to_owned()))
        }
    }
}
