//! What `chorus node` agrees to sign: a TOML policy and its decision on each request.
//!
//! ```toml
//! # Transaction types this node co-signs; a request of another type, or of none, is refused.
//! transaction_types = ["spend", "swap"]
//! # The largest amount (the request's metadata); a request without an amount is refused.
//! max_amount = 5000000
//! # The only keys this node signs with (33-byte compressed, hex); omit to sign with anyone.
//! allowed_cosigners = ["02…", "03…"]
//! # Accepted dialects (default: both).
//! dialects = ["bip340", "lotus"]
//! # The most signers one request may list (default 100).
//! max_signers = 20
//! ```
//!
//! Every field is optional; an empty file allows every request that lists this node's
//! key. Unknown fields are refused, so a misspelt rule cannot silently allow everything.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use chorus_core::crypto::{Dialect, PublicKey};
use chorus_core::discovery::{SigningRequest, MAX_REQUIRED_KEYS};
use serde::Deserialize;

use super::error::CliError;
use super::parse;

/// The policy file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    transaction_types: Option<Vec<String>>,
    max_amount: Option<u64>,
    allowed_cosigners: Option<Vec<String>>,
    dialects: Option<Vec<String>>,
    max_signers: Option<usize>,
}

/// Which signing requests a node joins by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    /// `None`: any type, or none.
    transaction_types: Option<BTreeSet<String>>,
    max_amount: Option<u64>,
    /// `None`: any co-signer. Compressed keys.
    allowed_cosigners: Option<BTreeSet<[u8; 33]>>,
    dialects: BTreeSet<Dialect>,
    max_signers: usize,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The policy refuses everything (the node was started without one).
    NoPolicy,
    /// The request does not list this node's key.
    NotRequired,
    /// A dialect the policy does not allow.
    Dialect(Dialect),
    /// More signers than the policy allows.
    TooManySigners { listed: usize, max: usize },
    /// No transaction type, or one the policy does not list.
    TransactionType(Option<String>),
    /// No amount, though the policy caps amounts.
    MissingAmount,
    /// An amount above the cap.
    Amount { amount: u64, max: u64 },
    /// A co-signer the policy does not list (its compressed key, hex).
    Cosigner(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NoPolicy => f.write_str("no policy: requests are not joined"),
            Refusal::NotRequired => f.write_str("the request does not list this node's key"),
            Refusal::Dialect(dialect) => write!(f, "dialect {dialect} is not allowed"),
            Refusal::TooManySigners { listed, max } => {
                write!(f, "{listed} signers listed, at most {max} allowed")
            }
            Refusal::TransactionType(None) => f.write_str("the request names no transaction type"),
            Refusal::TransactionType(Some(kind)) => {
                write!(f, "transaction type {kind:?} is not allowed")
            }
            Refusal::MissingAmount => f.write_str("the request names no amount"),
            Refusal::Amount { amount, max } => {
                write!(f, "amount {amount} is above the maximum {max}")
            }
            Refusal::Cosigner(key) => write!(f, "co-signer {key} is not allowed"),
        }
    }
}

impl Policy {
    /// The policy of a node started without one: it joins nothing.
    pub(crate) fn refuse_all() -> Self {
        Policy {
            transaction_types: None,
            max_amount: None,
            allowed_cosigners: None,
            dialects: BTreeSet::new(),
            max_signers: 0,
        }
    }

    /// Reads a policy file.
    pub(crate) fn read(path: &Path) -> Result<Self, CliError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            CliError::invalid(
                "--policy",
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        Policy::parse(&text)
    }

    /// Parses a policy from TOML text.
    pub(crate) fn parse(text: &str) -> Result<Self, CliError> {
        let file: PolicyFile = toml::from_str(text).map_err(|error| {
            CliError::invalid(
                "--policy",
                format!("not a valid policy: {}", error.message()),
            )
        })?;
        let allowed_cosigners = file
            .allowed_cosigners
            .map(|keys| {
                keys.iter()
                    .enumerate()
                    .map(|(position, text)| {
                        let argument = format!("--policy allowed_cosigners #{}", position + 1);
                        parse::public_key(&argument, text).map(|key| key.serialize())
                    })
                    .collect::<Result<BTreeSet<_>, _>>()
            })
            .transpose()?;
        let dialects = match file.dialects {
            None => [Dialect::Bip340, Dialect::Lotus].into_iter().collect(),
            Some(names) => names
                .iter()
                .map(|name| {
                    name.parse::<Dialect>().map_err(|_| {
                        CliError::invalid("--policy dialects", "expected bip340 or lotus")
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let max_signers = file.max_signers.unwrap_or(MAX_REQUIRED_KEYS);
        if max_signers < 2 {
            return Err(CliError::invalid(
                "--policy max_signers",
                "must be at least 2",
            ));
        }
        Ok(Policy {
            transaction_types: file
                .transaction_types
                .map(|kinds| kinds.into_iter().collect()),
            max_amount: file.max_amount,
            allowed_cosigners,
            dialects,
            max_signers,
        })
    }

    /// Whether this node, holding `own_key`, joins `request`.
    pub(crate) fn decide(
        &self,
        request: &SigningRequest,
        own_key: &PublicKey,
    ) -> Result<(), Refusal> {
        if self.dialects.is_empty() {
            return Err(Refusal::NoPolicy);
        }
        if !request.requires(own_key) {
            return Err(Refusal::NotRequired);
        }
        let content = &request.content;
        if !self.dialects.contains(&content.dialect) {
            return Err(Refusal::Dialect(content.dialect));
        }
        let listed = content.required_keys.len();
        if listed > self.max_signers {
            return Err(Refusal::TooManySigners {
                listed,
                max: self.max_signers,
            });
        }
        let metadata = &content.metadata;
        if let Some(allowed) = &self.transaction_types {
            match &metadata.transaction_type {
                Some(kind) if allowed.contains(kind) => {}
                other => return Err(Refusal::TransactionType(other.clone())),
            }
        }
        if let Some(max) = self.max_amount {
            match metadata.amount {
                None => return Err(Refusal::MissingAmount),
                Some(amount) if amount > max => return Err(Refusal::Amount { amount, max }),
                Some(_) => {}
            }
        }
        if let Some(allowed) = &self.allowed_cosigners {
            let own = own_key.serialize();
            let stranger = content
                .required_keys
                .iter()
                .find(|key| **key != own && !allowed.contains(*key));
            if let Some(stranger) = stranger {
                return Err(Refusal::Cosigner(hex::encode(stranger)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chorus_core::crypto::{Keypair, SecretKey};
    use chorus_core::discovery::{RequestContent, RequestMetadata};
    use chorus_core::time::Timestamp;

    use super::*;

    fn keypair(byte: u8) -> Keypair {
        Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
    }

    /// A request by key 1 for keys 1..=`signers`.
    fn request(signers: u8, dialect: Dialect, metadata: RequestMetadata) -> SigningRequest {
        let creator = keypair(1);
        let keys: Vec<PublicKey> = (1..=signers)
            .map(|byte| keypair(byte).public_key())
            .collect();
        let content = RequestContent {
            metadata,
            ..RequestContent::new(
                &keys,
                [9; 32],
                dialect,
                Timestamp::from_millis(0),
                Duration::from_secs(600),
            )
        };
        SigningRequest::sign(content, &creator, &[0; 32])
    }

    fn spend(amount: Option<u64>) -> RequestMetadata {
        RequestMetadata {
            amount,
            transaction_type: Some("spend".into()),
            ..RequestMetadata::default()
        }
    }

    fn hex_key(byte: u8) -> String {
        hex::encode(keypair(byte).public_key().serialize())
    }

    #[test]
    fn an_empty_policy_allows_any_request_for_this_key() {
        let policy = Policy::parse("").unwrap();
        let me = keypair(2).public_key();
        assert_eq!(
            policy.decide(&request(3, Dialect::Lotus, RequestMetadata::default()), &me),
            Ok(())
        );
        assert_eq!(
            policy.decide(
                &request(3, Dialect::Bip340, spend(None)),
                &keypair(9).public_key()
            ),
            Err(Refusal::NotRequired)
        );
    }

    #[test]
    fn no_policy_refuses_everything() {
        let me = keypair(2).public_key();
        assert_eq!(
            Policy::refuse_all().decide(&request(2, Dialect::Bip340, spend(Some(1))), &me),
            Err(Refusal::NoPolicy)
        );
    }

    #[test]
    fn transaction_types_and_amounts_are_checked() {
        let policy = Policy::parse("transaction_types = [\"spend\"]\nmax_amount = 1000\n").unwrap();
        let me = keypair(2).public_key();
        assert_eq!(
            policy.decide(&request(2, Dialect::Bip340, spend(Some(1000))), &me),
            Ok(())
        );
        assert_eq!(
            policy.decide(&request(2, Dialect::Bip340, spend(Some(1001))), &me),
            Err(Refusal::Amount {
                amount: 1001,
                max: 1000
            })
        );
        assert_eq!(
            policy.decide(&request(2, Dialect::Bip340, spend(None)), &me),
            Err(Refusal::MissingAmount)
        );
        let swap = RequestMetadata {
            transaction_type: Some("swap".into()),
            amount: Some(1),
            ..RequestMetadata::default()
        };
        assert_eq!(
            policy.decide(&request(2, Dialect::Bip340, swap), &me),
            Err(Refusal::TransactionType(Some("swap".into())))
        );
        assert_eq!(
            policy.decide(
                &request(2, Dialect::Bip340, RequestMetadata::default()),
                &me
            ),
            Err(Refusal::TransactionType(None))
        );
    }

    #[test]
    fn co_signers_must_be_listed_when_a_list_is_given() {
        let text = format!(
            "allowed_cosigners = [\"{}\", \"{}\"]\n",
            hex_key(1),
            hex_key(3).to_uppercase()
        );
        let policy = Policy::parse(&text).unwrap();
        let me = keypair(2).public_key();
        assert_eq!(
            policy.decide(&request(3, Dialect::Bip340, spend(None)), &me),
            Ok(())
        );
        assert_eq!(
            policy.decide(&request(4, Dialect::Bip340, spend(None)), &me),
            Err(Refusal::Cosigner(hex_key(4)))
        );
    }

    #[test]
    fn dialects_and_signer_counts_are_checked() {
        let policy = Policy::parse("dialects = [\"LOTUS\"]\nmax_signers = 3\n").unwrap();
        let me = keypair(2).public_key();
        assert_eq!(
            policy.decide(&request(3, Dialect::Lotus, spend(None)), &me),
            Ok(())
        );
        assert_eq!(
            policy.decide(&request(3, Dialect::Bip340, spend(None)), &me),
            Err(Refusal::Dialect(Dialect::Bip340))
        );
        assert_eq!(
            policy.decide(&request(4, Dialect::Lotus, spend(None)), &me),
            Err(Refusal::TooManySigners { listed: 4, max: 3 })
        );
    }

    #[test]
    fn bad_policies_are_refused_with_one_line() {
        for text in [
            "max_amount = \"lots\"",
            "transaction_type = [\"spend\"]",
            "allowed_cosigners = [\"02\"]",
            "dialects = [\"schnorr\"]",
            "max_signers = 1",
            "[[",
        ] {
            let error = Policy::parse(text).unwrap_err().to_string();
            assert!(error.starts_with("invalid --policy"), "{text}: {error}");
            assert!(!error.contains('\n'), "{text}: {error}");
        }
    }

    #[test]
    fn refusals_read_well() {
        assert_eq!(
            Refusal::Amount { amount: 5, max: 4 }.to_string(),
            "amount 5 is above the maximum 4"
        );
        assert_eq!(
            Refusal::TransactionType(Some("swap".into())).to_string(),
            "transaction type \"swap\" is not allowed"
        );
    }
}
