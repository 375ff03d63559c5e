//! Signer advertisements and their withdrawals.

use core::time::Duration;

use serde::{Deserialize, Serialize};
use serde_with::{As, Same};

use super::codec::{
    self, is_display_text, is_transaction_type, parse_key, record_digest, ADVERTISEMENT_TAG,
    WITHDRAWAL_TAG,
};
use super::error::{check_len, check_non_empty_len};
use super::{
    AdvertisementId, DiscoveryError, Field, RecordKind, MAX_DESCRIPTION_LEN, MAX_LIFETIME,
    MAX_NICKNAME_LEN, MAX_PEER_ID_LEN, MAX_TRANSACTION_TYPES, MAX_TRANSACTION_TYPE_LEN,
};
use crate::crypto::{Keypair, PublicKey};
use crate::node::PeerId;
use crate::security::MAX_REPUTATION;
use crate::time::Timestamp;

/// What a signer requires of the sessions it joins.
///
/// ```
/// use chorus_core::discovery::TrustRequirements;
///
/// let trust = TrustRequirements { min_reputation: Some(80), requires_verification: true };
/// assert!(trust.requires_verification);
/// assert_eq!(TrustRequirements::default().min_reputation, None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustRequirements {
    /// The lowest reputation (0 to 100) the signer accepts from a requester.
    pub min_reputation: Option<u8>,
    /// Whether the signer requires requesters to have a verified identity.
    pub requires_verification: bool,
}

/// Which transactions a signer is willing to co-sign.
///
/// ```
/// use chorus_core::discovery::SignerCriteria;
///
/// let criteria = SignerCriteria::new(["swap", "spend", "swap"]);
/// // Sorted and without duplicates: the one canonical form.
/// assert_eq!(criteria.transaction_types, ["spend", "swap"]);
/// assert!(criteria.accepts_amount(1_000));
///
/// let bounded = SignerCriteria { min_amount: Some(10), max_amount: Some(20), ..criteria };
/// assert!(bounded.accepts_amount(15));
/// assert!(!bounded.accepts_amount(21));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerCriteria {
    /// The transaction types, strictly ascending; 1 to
    /// [`MAX_TRANSACTION_TYPES`](super::MAX_TRANSACTION_TYPES), each 1 to
    /// [`MAX_TRANSACTION_TYPE_LEN`](super::MAX_TRANSACTION_TYPE_LEN) bytes of
    /// `a-z 0-9 . _ -`.
    pub transaction_types: Vec<String>,
    /// The smallest amount the signer signs for, if any.
    pub min_amount: Option<u64>,
    /// The largest amount the signer signs for, if any.
    pub max_amount: Option<u64>,
    /// What the signer requires of requesters.
    pub trust: TrustRequirements,
}

impl SignerCriteria {
    /// Criteria for `transaction_types` (sorted, duplicates dropped), any amount, no trust
    /// requirements.
    pub fn new<I, S>(transaction_types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut types: Vec<String> = transaction_types.into_iter().map(Into::into).collect();
        types.sort_unstable();
        types.dedup();
        SignerCriteria {
            transaction_types: types,
            min_amount: None,
            max_amount: None,
            trust: TrustRequirements::default(),
        }
    }

    /// Whether the signer signs for `amount`.
    pub fn accepts_amount(&self, amount: u64) -> bool {
        self.min_amount.is_none_or(|min| amount >= min)
            && self.max_amount.is_none_or(|max| amount <= max)
    }

    /// Whether the signer signs transactions of `transaction_type`.
    pub fn accepts_type(&self, transaction_type: &str) -> bool {
        self.transaction_types
            .binary_search_by(|held| held.as_str().cmp(transaction_type))
            .is_ok()
    }

    fn validate(&self) -> Result<(), DiscoveryError> {
        let types = &self.transaction_types;
        check_non_empty_len(Field::TransactionTypes, types.len(), MAX_TRANSACTION_TYPES)?;
        for transaction_type in types {
            check_len(
                Field::TransactionType,
                transaction_type.len(),
                MAX_TRANSACTION_TYPE_LEN,
            )?;
            if !is_transaction_type(transaction_type) {
                return Err(DiscoveryError::InvalidText {
                    field: Field::TransactionType,
                });
            }
        }
        if types
            .windows(2)
            .any(|pair| matches!(pair, [first, second] if first >= second))
        {
            return Err(DiscoveryError::Unsorted {
                field: Field::TransactionTypes,
            });
        }
        if let (Some(min), Some(max)) = (self.min_amount, self.max_amount) {
            if min > max {
                return Err(DiscoveryError::AmountRange { min, max });
            }
        }
        check_score(self.trust.min_reputation)
    }
}

/// A signer's self-reported track record.
///
/// Self-reported: a directory can filter on it, but only the local
/// [`SecurityManager`](crate::security::SecurityManager) reputation is first-hand.
///
/// ```
/// use chorus_core::discovery::AdvertisedReputation;
///
/// let record = AdvertisedReputation { score: 90, completed_signings: 120, ..Default::default() };
/// assert_eq!(record.failed_signings, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvertisedReputation {
    /// The score, 0 to 100.
    pub score: u8,
    /// Sessions the signer completed.
    pub completed_signings: u64,
    /// Sessions the signer failed.
    pub failed_signings: u64,
    /// Its average response time, in milliseconds.
    pub average_response_time_ms: u64,
    /// Whether its identity is verified.
    pub verified_identity: bool,
}

/// How a signer presents itself.
///
/// ```
/// use chorus_core::discovery::SignerMetadata;
///
/// let metadata = SignerMetadata { nickname: "alice".into(), fees: Some(500), ..Default::default() };
/// assert!(metadata.description.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerMetadata {
    /// A display name, at most [`MAX_NICKNAME_LEN`](super::MAX_NICKNAME_LEN) bytes, no
    /// control characters.
    pub nickname: String,
    /// A description of the service, at most
    /// [`MAX_DESCRIPTION_LEN`](super::MAX_DESCRIPTION_LEN) bytes, no control characters.
    pub description: String,
    /// The fee per signature, in the chain's smallest unit.
    pub fees: Option<u64>,
    /// The typical response time, in milliseconds.
    pub response_time_ms: Option<u64>,
    /// The signer's self-reported track record.
    pub reputation: Option<AdvertisedReputation>,
}

impl SignerMetadata {
    fn validate(&self) -> Result<(), DiscoveryError> {
        check_text(Field::Nickname, &self.nickname, MAX_NICKNAME_LEN)?;
        check_text(Field::Description, &self.description, MAX_DESCRIPTION_LEN)?;
        check_score(self.reputation.map(|reputation| reputation.score))
    }
}

/// The signed part of a [`SignerAdvertisement`].
///
/// ```
/// use chorus_core::discovery::{AdvertisementContent, SignerCriteria, SignerMetadata};
/// use chorus_core::node::PeerId;
/// use chorus_core::time::Timestamp;
/// use std::time::Duration;
///
/// let content = AdvertisementContent::new(
///     PeerId::new([1]),
///     SignerCriteria::new(["spend"]),
///     SignerMetadata::default(),
///     Timestamp::from_millis(1_000),
///     Duration::from_secs(3_600),
/// );
/// assert_eq!(content.expires_at, Timestamp::from_millis(3_601_000));
/// assert_eq!(content.lifetime(), Duration::from_secs(3_600));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvertisementContent {
    /// The advertised signing key (compressed), which signs the advertisement.
    #[serde(with = "As::<[Same; 33]>")]
    pub key: [u8; 33],
    /// The peer that holds the key, to reach it directly; it must be the peer that
    /// delivers the advertisement.
    #[serde(with = "codec::peer_id")]
    pub peer: PeerId,
    /// Which transactions the signer co-signs.
    pub criteria: SignerCriteria,
    /// How the signer presents itself.
    pub metadata: SignerMetadata,
    /// When the advertisement was made.
    pub created_at: Timestamp,
    /// When it stops being valid; at most [`MAX_LIFETIME`](super::MAX_LIFETIME) after
    /// `created_at`.
    pub expires_at: Timestamp,
}

impl AdvertisementContent {
    /// An advertisement made at `created_at` that lives for `lifetime`; the key is filled
    /// in by [`SignerAdvertisement::sign`].
    pub fn new(
        peer: PeerId,
        criteria: SignerCriteria,
        metadata: SignerMetadata,
        created_at: Timestamp,
        lifetime: Duration,
    ) -> Self {
        AdvertisementContent {
            key: [0; 33],
            peer,
            criteria,
            metadata,
            created_at,
            expires_at: created_at.saturating_add(lifetime),
        }
    }

    /// The time from creation to expiry (zero when the expiry comes first).
    pub fn lifetime(&self) -> Duration {
        Duration::from_millis(
            self.expires_at
                .as_millis()
                .saturating_sub(self.created_at.as_millis()),
        )
    }
}

/// A signer's signed announcement that it is available, and for what.
///
/// The key signs (BIP340) the advertisement's id, `tagged_hash("chorus/advertisement/v1",
/// postcard(content))`: a canonical binary encoding, so every receiver checks the same
/// bytes. Fields are public and unchecked, as they arrive from the network:
/// [`SignerAdvertisement::validate`] checks the bounds,
/// [`SignerAdvertisement::verify_signature`] the signature.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::discovery::*;
/// use chorus_core::node::PeerId;
/// use chorus_core::time::Timestamp;
/// use std::time::Duration;
///
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
/// let content = AdvertisementContent::new(
///     PeerId::from_key(&alice.public_key()),
///     SignerCriteria::new(["spend", "swap"]),
///     SignerMetadata { nickname: "alice".into(), ..Default::default() },
///     Timestamp::from_millis(0),
///     Duration::from_secs(3_600),
/// );
/// let advertisement = SignerAdvertisement::sign(content, &alice, &[0; 32]);
/// assert_eq!(advertisement.key()?, alice.public_key());
/// advertisement.validate()?;
/// assert!(advertisement.verify_signature());
///
/// let mut tampered = advertisement.clone();
/// tampered.content.metadata.nickname = "mallory".into();
/// assert!(!tampered.verify_signature());
/// # Ok::<(), DiscoveryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerAdvertisement {
    /// What is advertised.
    pub content: AdvertisementContent,
    /// BIP340 signature by `content.key` over the advertisement's id.
    #[serde(with = "As::<[Same; 64]>")]
    pub signature: [u8; 64],
}

impl SignerAdvertisement {
    /// Signs `content` as `keypair` (whose key replaces `content.key`), with `aux_rand` as
    /// BIP340's auxiliary randomness.
    pub fn sign(mut content: AdvertisementContent, keypair: &Keypair, aux_rand: &[u8; 32]) -> Self {
        content.key = keypair.public_key().serialize();
        let id = AdvertisementId(record_digest(ADVERTISEMENT_TAG, &content));
        SignerAdvertisement {
            content,
            signature: codec::sign_digest(keypair, id.as_bytes(), aux_rand),
        }
    }

    /// The id: the tagged hash of the content's canonical encoding, which the key signs.
    pub fn id(&self) -> AdvertisementId {
        AdvertisementId(record_digest(ADVERTISEMENT_TAG, &self.content))
    }

    /// The advertised key, parsed.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::InvalidKey`] when it is not a curve point.
    pub fn key(&self) -> Result<PublicKey, DiscoveryError> {
        parse_key(&self.content.key).ok_or(DiscoveryError::InvalidKey {
            record: RecordKind::Advertisement,
        })
    }

    /// Checks every bound, cheapest first, then the key.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::Missing`], [`DiscoveryError::OutOfBounds`],
    /// [`DiscoveryError::InvalidText`], [`DiscoveryError::Unsorted`],
    /// [`DiscoveryError::AmountRange`], [`DiscoveryError::InvalidLifetime`] or
    /// [`DiscoveryError::InvalidKey`], for the first that fails.
    pub fn validate(&self) -> Result<(), DiscoveryError> {
        let content = &self.content;
        check_non_empty_len(
            Field::PeerId,
            content.peer.as_bytes().len(),
            MAX_PEER_ID_LEN,
        )?;
        content.criteria.validate()?;
        content.metadata.validate()?;
        check_lifetime(content.created_at, content.expires_at)?;
        self.key().map(drop)
    }

    /// Whether the signature is the advertised key's over this advertisement.
    pub fn verify_signature(&self) -> bool {
        self.key()
            .is_ok_and(|key| codec::verify_digest(&key, self.id().as_bytes(), &self.signature))
    }

    /// Whether the advertisement has expired at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.content.expires_at <= now
    }
}

/// The signed part of an [`AdvertisementWithdrawal`]: which advertisement, of which key.
///
/// ```
/// use chorus_core::discovery::{AdvertisementId, WithdrawalContent};
///
/// let content = WithdrawalContent { key: [2; 33], advertisement: AdvertisementId([7; 32]) };
/// assert_eq!(content.advertisement, AdvertisementId([7; 32]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalContent {
    /// The advertised key; only it can sign the withdrawal.
    #[serde(with = "As::<[Same; 33]>")]
    pub key: [u8; 33],
    /// The advertisement withdrawn: a replayed withdrawal cannot remove a newer one.
    pub advertisement: AdvertisementId,
}

/// A signer's signed withdrawal of its advertisement.
///
/// Signed by the advertised key itself, over `tagged_hash("chorus/withdrawal/v1",
/// postcard(content))`: lotus-lib's unsigned "signer unavailable" message let anyone evict
/// anyone's advertisement.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::discovery::*;
/// use chorus_core::node::PeerId;
/// use chorus_core::time::Timestamp;
/// use std::time::Duration;
///
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
/// let mallory = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0x66; 32]).unwrap());
/// let content = AdvertisementContent::new(
///     PeerId::new([1]), SignerCriteria::new(["spend"]), SignerMetadata::default(),
///     Timestamp::from_millis(0), Duration::from_secs(60),
/// );
/// let advertisement = SignerAdvertisement::sign(content, &alice, &[0; 32]);
///
/// assert!(AdvertisementWithdrawal::sign(&advertisement, &alice, &[0; 32]).verify_signature());
/// // Mallory can name Alice's advertisement, but cannot sign for Alice's key.
/// assert!(!AdvertisementWithdrawal::sign(&advertisement, &mallory, &[0; 32]).verify_signature());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvertisementWithdrawal {
    /// What is withdrawn.
    pub content: WithdrawalContent,
    /// BIP340 signature by `content.key`.
    #[serde(with = "As::<[Same; 64]>")]
    pub signature: [u8; 64],
}

impl AdvertisementWithdrawal {
    /// Withdraws `advertisement`, signing as `keypair` (which must hold the advertised key
    /// for the withdrawal to verify).
    pub fn sign(
        advertisement: &SignerAdvertisement,
        keypair: &Keypair,
        aux_rand: &[u8; 32],
    ) -> Self {
        let content = WithdrawalContent {
            key: advertisement.content.key,
            advertisement: advertisement.id(),
        };
        let digest = record_digest(WITHDRAWAL_TAG, &content);
        AdvertisementWithdrawal {
            content,
            signature: codec::sign_digest(keypair, &digest, aux_rand),
        }
    }

    /// The withdrawn key, parsed.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::InvalidKey`] when it is not a curve point.
    pub fn key(&self) -> Result<PublicKey, DiscoveryError> {
        parse_key(&self.content.key).ok_or(DiscoveryError::InvalidKey {
            record: RecordKind::Withdrawal,
        })
    }

    /// Whether the signature is the withdrawn key's over this withdrawal.
    pub fn verify_signature(&self) -> bool {
        let digest = record_digest(WITHDRAWAL_TAG, &self.content);
        self.key()
            .is_ok_and(|key| codec::verify_digest(&key, &digest, &self.signature))
    }
}

/// Checks a text field's length and characters.
fn check_text(field: Field, text: &str, limit: usize) -> Result<(), DiscoveryError> {
    check_len(field, text.len(), limit)?;
    if is_display_text(text) {
        Ok(())
    } else {
        Err(DiscoveryError::InvalidText { field })
    }
}

/// Checks an optional 0-to-100 score.
fn check_score(score: Option<u8>) -> Result<(), DiscoveryError> {
    match score {
        Some(score) if score > MAX_REPUTATION => Err(DiscoveryError::OutOfBounds {
            field: Field::Reputation,
            limit: u64::from(MAX_REPUTATION),
            got: u64::from(score),
        }),
        _ => Ok(()),
    }
}

/// Checks that a record expires after it was created, within [`MAX_LIFETIME`].
pub(crate) fn check_lifetime(
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Result<(), DiscoveryError> {
    let Some(lifetime) = expires_at.as_millis().checked_sub(created_at.as_millis()) else {
        return Err(DiscoveryError::InvalidLifetime {
            created_at,
            expires_at,
        });
    };
    let limit = u64::try_from(MAX_LIFETIME.as_millis()).unwrap_or(u64::MAX);
    if lifetime > limit {
        return Err(DiscoveryError::OutOfBounds {
            field: Field::Lifetime,
            limit,
            got: lifetime,
        });
    }
    Ok(())
}
