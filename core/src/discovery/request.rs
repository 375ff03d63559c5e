//! Signing requests and the proofs that join them.

use core::time::Duration;

use serde::{Deserialize, Serialize};
use serde_with::{As, Same};

use super::advertisement::check_lifetime;
use super::codec::{
    self, is_display_text, is_transaction_type, parse_key, record_digest, JOIN_TAG, REQUEST_TAG,
};
use super::error::{check_len, check_non_empty_len};
use super::{
    DiscoveryError, Field, RecordKind, RequestId, MAX_DESCRIPTION_LEN, MAX_PEER_ID_LEN,
    MAX_REQUIRED_KEYS, MAX_TRANSACTION_LEN, MAX_TRANSACTION_TYPE_LEN,
};
use crate::crypto::{Dialect, Keypair, PublicKey};
use crate::election::ElectionMethod;
use crate::node::PeerId;
use crate::time::Timestamp;
use crate::wire::{SessionOptions, MAX_BROADCAST_TIMEOUT_MS, MIN_BROADCAST_TIMEOUT_MS};

/// What a signing request tells the signers about the transaction.
///
/// ```
/// use chorus_core::discovery::RequestMetadata;
///
/// let metadata = RequestMetadata {
///     transaction: vec![0x02, 0x00],
///     amount: Some(5_000_000),
///     transaction_type: Some("spend".into()),
///     description: "3-of-3 spend".into(),
/// };
/// assert_eq!(metadata.transaction_hex(), "0200");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestMetadata {
    /// The unsigned transaction (lotus-lib's `transactionHex`, as bytes: one encoding, half
    /// the size); at most [`MAX_TRANSACTION_LEN`](super::MAX_TRANSACTION_LEN) bytes.
    pub transaction: Vec<u8>,
    /// The amount moved, in the chain's smallest unit.
    pub amount: Option<u64>,
    /// The transaction type, as signers advertise them.
    pub transaction_type: Option<String>,
    /// A description for the signers, at most
    /// [`MAX_DESCRIPTION_LEN`](super::MAX_DESCRIPTION_LEN) bytes, no control characters.
    pub description: String,
}

impl RequestMetadata {
    /// The transaction as lowercase hex.
    pub fn transaction_hex(&self) -> String {
        hex::encode(&self.transaction)
    }

    fn validate(&self) -> Result<(), DiscoveryError> {
        check_len(
            Field::Transaction,
            self.transaction.len(),
            MAX_TRANSACTION_LEN,
        )?;
        if let Some(transaction_type) = &self.transaction_type {
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
        check_len(
            Field::Description,
            self.description.len(),
            MAX_DESCRIPTION_LEN,
        )?;
        if !is_display_text(&self.description) {
            return Err(DiscoveryError::InvalidText {
                field: Field::Description,
            });
        }
        Ok(())
    }
}

/// The signed part of a [`SigningRequest`].
///
/// `required_keys` is kept strictly ascending by their 33-byte encoding — the session's
/// one index space — so the order a creator lists the keys in changes neither the
/// encoding nor the [`RequestId`].
///
/// ```
/// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
/// use chorus_core::discovery::RequestContent;
/// use chorus_core::time::Timestamp;
/// use std::time::Duration;
///
/// let key = |byte| Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap()).public_key();
/// let now = Timestamp::from_millis(0);
/// let one = RequestContent::new(&[key(3), key(1), key(2)], [9; 32], Dialect::Lotus, now, Duration::from_secs(60));
/// let two = RequestContent::new(&[key(2), key(3), key(1)], [9; 32], Dialect::Lotus, now, Duration::from_secs(60));
/// assert_eq!(one, two);
/// assert_eq!(one.id(), two.id());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContent {
    /// The creator's key (compressed); it must be a required key, and it signs.
    #[serde(with = "As::<[Same; 33]>")]
    pub creator: [u8; 33],
    /// Every key that must sign (n-of-n), strictly ascending; 1 to
    /// [`MAX_REQUIRED_KEYS`](super::MAX_REQUIRED_KEYS).
    #[serde(with = "As::<Vec<[Same; 33]>>")]
    pub required_keys: Vec<[u8; 33]>,
    /// The 32-byte message to sign (the transaction's sighash).
    pub message: [u8; 32],
    /// The Schnorr dialect of the final signature.
    pub dialect: Dialect,
    /// How the session elects its coordinator.
    pub election: ElectionMethod,
    /// Nonce commitments, topology and broadcast timeout of the session.
    pub options: SessionOptions,
    /// What the signers are told about the transaction.
    pub metadata: RequestMetadata,
    /// When the request was made.
    pub created_at: Timestamp,
    /// When it stops being joinable; at most [`MAX_LIFETIME`](super::MAX_LIFETIME) after
    /// `created_at`.
    pub expires_at: Timestamp,
}

impl RequestContent {
    /// A request for `required_keys` (any order: they are sorted here) to sign `message` in
    /// `dialect`, made at `created_at` and joinable for `lifetime`, with the default
    /// election, options and empty metadata. The creator is filled in by
    /// [`SigningRequest::sign`].
    pub fn new(
        required_keys: &[PublicKey],
        message: [u8; 32],
        dialect: Dialect,
        created_at: Timestamp,
        lifetime: Duration,
    ) -> Self {
        let mut keys: Vec<[u8; 33]> = required_keys.iter().map(PublicKey::serialize).collect();
        keys.sort_unstable();
        RequestContent {
            creator: [0; 33],
            required_keys: keys,
            message,
            dialect,
            election: ElectionMethod::default(),
            options: SessionOptions::default(),
            metadata: RequestMetadata::default(),
            created_at,
            expires_at: created_at.saturating_add(lifetime),
        }
    }

    /// The request's id: `tagged_hash("chorus/signing-request/v1", postcard(content))`.
    pub fn id(&self) -> RequestId {
        RequestId(record_digest(REQUEST_TAG, self))
    }

    /// The position of `key` in the required keys, if it is one.
    pub fn signer_index(&self, key: &[u8; 33]) -> Option<usize> {
        self.required_keys.binary_search(key).ok()
    }
}

/// A creator's signed request that a set of keys sign a message together.
///
/// The creator signs (BIP340) the request's [`RequestId`], the tagged hash of the
/// content's canonical postcard encoding — never JSON text, whose many spellings of one
/// value each need their own check. Fields are public and unchecked, as they arrive from
/// the network: [`SigningRequest::validate`] checks the bounds and the creator's
/// membership, [`SigningRequest::verify_signature`] the signature.
///
/// ```
/// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
/// use chorus_core::discovery::{DiscoveryError, RequestContent, SigningRequest};
/// use chorus_core::time::Timestamp;
/// use std::time::Duration;
///
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xa1; 32]).unwrap());
/// let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xb0; 32]).unwrap());
/// let content = RequestContent::new(
///     &[bob.public_key(), alice.public_key()], [7; 32], Dialect::Bip340,
///     Timestamp::from_millis(0), Duration::from_secs(600),
/// );
/// let request = SigningRequest::sign(content.clone(), &alice, &[0; 32]);
/// request.validate()?;
/// assert!(request.verify_signature());
/// assert!(request.requires(&bob.public_key()));
///
/// // Carol is not a required key, so she cannot create this request.
/// let carol = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xca; 32]).unwrap());
/// let foreign = SigningRequest::sign(content, &carol, &[0; 32]);
/// assert_eq!(foreign.validate(), Err(DiscoveryError::CreatorNotRequired));
/// # Ok::<(), DiscoveryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningRequest {
    /// What is requested.
    pub content: RequestContent,
    /// BIP340 signature by `content.creator` over the request id.
    #[serde(with = "As::<[Same; 64]>")]
    pub signature: [u8; 64],
}

impl SigningRequest {
    /// Signs `content` as `keypair` (whose key becomes `content.creator`), with `aux_rand`
    /// as BIP340's auxiliary randomness.
    pub fn sign(mut content: RequestContent, keypair: &Keypair, aux_rand: &[u8; 32]) -> Self {
        content.creator = keypair.public_key().serialize();
        let id = content.id();
        SigningRequest {
            content,
            signature: codec::sign_digest(keypair, id.as_bytes(), aux_rand),
        }
    }

    /// The request's id (see [`RequestContent::id`]).
    pub fn id(&self) -> RequestId {
        self.content.id()
    }

    /// The creator's key, parsed.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::InvalidKey`] when it is not a curve point.
    pub fn creator(&self) -> Result<PublicKey, DiscoveryError> {
        parse_key(&self.content.creator).ok_or(INVALID_REQUEST_KEY)
    }

    /// The required keys, parsed, in the session's (ascending) order.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::InvalidKey`] when one is not a curve point.
    pub fn required_keys(&self) -> Result<Vec<PublicKey>, DiscoveryError> {
        self.content
            .required_keys
            .iter()
            .map(|key| parse_key(key).ok_or(INVALID_REQUEST_KEY))
            .collect()
    }

    /// Whether `key` is one of the required keys.
    pub fn requires(&self, key: &PublicKey) -> bool {
        self.content.signer_index(&key.serialize()).is_some()
    }

    /// Checks the bounds, the keys' order, the creator's membership, then every key,
    /// cheapest first.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::Missing`] or [`DiscoveryError::OutOfBounds`] (required keys,
    /// transaction, description, lifetime), [`DiscoveryError::InvalidText`],
    /// [`DiscoveryError::BroadcastTimeout`],
    /// [`DiscoveryError::DuplicateKeys`], [`DiscoveryError::Unsorted`],
    /// [`DiscoveryError::CreatorNotRequired`] or [`DiscoveryError::InvalidKey`].
    pub fn validate(&self) -> Result<(), DiscoveryError> {
        let content = &self.content;
        let keys = &content.required_keys;
        check_non_empty_len(Field::RequiredKeys, keys.len(), MAX_REQUIRED_KEYS)?;
        content.metadata.validate()?;
        check_lifetime(content.created_at, content.expires_at)?;
        if content.options.validate().is_err() {
            return Err(DiscoveryError::BroadcastTimeout {
                min: MIN_BROADCAST_TIMEOUT_MS,
                max: MAX_BROADCAST_TIMEOUT_MS,
                got: content.options.broadcast_timeout_ms,
            });
        }
        for pair in keys.windows(2) {
            if let [first, second] = pair {
                if first == second {
                    return Err(DiscoveryError::DuplicateKeys);
                }
                if first > second {
                    return Err(DiscoveryError::Unsorted {
                        field: Field::RequiredKeys,
                    });
                }
            }
        }
        if content.signer_index(&content.creator).is_none() {
            return Err(DiscoveryError::CreatorNotRequired);
        }
        self.required_keys().map(drop)
    }

    /// Whether the signature is the creator's over this request.
    pub fn verify_signature(&self) -> bool {
        self.creator().is_ok_and(|creator| {
            codec::verify_digest(&creator, self.id().as_bytes(), &self.signature)
        })
    }

    /// Whether the request has expired at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.content.expires_at <= now
    }
}

const INVALID_REQUEST_KEY: DiscoveryError = DiscoveryError::InvalidKey {
    record: RecordKind::Request,
};

/// The signed part of a [`JoinProof`].
///
/// ```
/// use chorus_core::discovery::{JoinContent, RequestId};
/// use chorus_core::node::PeerId;
///
/// let content = JoinContent { request: RequestId([1; 32]), key: [2; 33], peer: PeerId::new([3]) };
/// assert_eq!(content.peer, PeerId::new([3]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinContent {
    /// The request joined.
    pub request: RequestId,
    /// The joining key (compressed); it signs.
    #[serde(with = "As::<[Same; 33]>")]
    pub key: [u8; 33],
    /// The peer that holds the key, where the session's messages for it go; it must be the
    /// peer that delivers the proof.
    #[serde(with = "codec::peer_id")]
    pub peer: PeerId,
}

/// A signer's signed statement that it joins a signing request, from a named peer.
///
/// The key signs (BIP340) `tagged_hash("chorus/request-join/v1", postcard(content))`: the
/// proof names the request, so it cannot be replayed into another one, and the peer, so
/// nobody else can claim to be where the key is.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::discovery::{JoinProof, RequestId};
/// use chorus_core::node::PeerId;
///
/// let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([0xb0; 32]).unwrap());
/// let proof = JoinProof::sign(RequestId([5; 32]), &bob, PeerId::from_key(&bob.public_key()), &[0; 32]);
/// assert!(proof.verify_signature());
///
/// let mut moved = proof.clone();
/// moved.content.peer = PeerId::new(*b"mallory");
/// assert!(!moved.verify_signature());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinProof {
    /// What is stated.
    pub content: JoinContent,
    /// BIP340 signature by `content.key`.
    #[serde(with = "As::<[Same; 64]>")]
    pub signature: [u8; 64],
}

impl JoinProof {
    /// Joins `request` as `keypair`'s key from `peer`.
    pub fn sign(request: RequestId, keypair: &Keypair, peer: PeerId, aux_rand: &[u8; 32]) -> Self {
        let content = JoinContent {
            request,
            key: keypair.public_key().serialize(),
            peer,
        };
        let digest = record_digest(JOIN_TAG, &content);
        JoinProof {
            content,
            signature: codec::sign_digest(keypair, &digest, aux_rand),
        }
    }

    /// The joining key, parsed.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::InvalidKey`] when it is not a curve point.
    pub fn key(&self) -> Result<PublicKey, DiscoveryError> {
        parse_key(&self.content.key).ok_or(DiscoveryError::InvalidKey {
            record: RecordKind::Join,
        })
    }

    /// Checks the peer id's bounds and the key.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::Missing`] or [`DiscoveryError::OutOfBounds`] for the peer id,
    /// [`DiscoveryError::InvalidKey`].
    pub fn validate(&self) -> Result<(), DiscoveryError> {
        let peer = self.content.peer.as_bytes();
        check_non_empty_len(Field::PeerId, peer.len(), MAX_PEER_ID_LEN)?;
        self.key().map(drop)
    }

    /// Whether the signature is the joining key's over this proof.
    pub fn verify_signature(&self) -> bool {
        let digest = record_digest(JOIN_TAG, &self.content);
        self.key()
            .is_ok_and(|key| codec::verify_digest(&key, &digest, &self.signature))
    }
}
