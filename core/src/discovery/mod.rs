//! Discovery: signers advertise, creators request, signers join, sessions form.
//!
//! The three phases of SPEC §4, sans-IO:
//!
//! 1. **Advertise.** A signer publishes a [`SignerAdvertisement`] — its key, what it signs
//!    ([`SignerCriteria`]), how it presents itself ([`SignerMetadata`]), an expiry — signed
//!    by that key, and can withdraw it with an [`AdvertisementWithdrawal`] signed by the
//!    same key. Others keep what they hear in a [`SignerDirectory`] and search it with a
//!    [`SignerFilter`].
//! 2. **Request.** A creator who picked its co-signers publishes a [`SigningRequest`]
//!    (required keys, message, dialect, election method, metadata), signed by the creator,
//!    who must be a required key. Its [`RequestId`] is the tagged hash of its canonical
//!    postcard encoding, with the keys sorted: the same whatever order they were given in.
//! 3. **Join.** Each required signer publishes a [`JoinProof`] naming the request and the
//!    peer it joins from. A [`RequestBook`] collects them; with the last one every
//!    participant derives the same [`SessionParameters`] (session id, sorted signers,
//!    election), whatever order the joins arrived in.
//!
//! [`Discovery`] composes the directory, the book and the
//! [`SecurityManager`](crate::security::SecurityManager): it takes bytes from peers,
//! commands from the application and the time, and queues [`Outbound`] records (to an
//! abstract [`Destination`]: a topic, a DHT record or a peer, which each transport maps
//! its own way) and [`DiscoveryEvent`]s. Every rejection is typed ([`DiscoveryError`]) and
//! counted against the peer that sent it.
//!
//! Every string and list is bounded (the `MAX_*` constants), so the largest possible record
//! fits one gossip message.
//!
//! ```
//! use chorus_core::crypto::{Dialect, Keypair, SecretKey};
//! use chorus_core::discovery::*;
//! use chorus_core::node::PeerId;
//! use chorus_core::security::SecurityLimits;
//! use chorus_core::time::Timestamp;
//! use chorus_core::wire::Channel;
//! use std::time::Duration;
//!
//! let now = Timestamp::from_millis(1_700_000_000_000);
//! let keys: Vec<Keypair> = (1..=3u8)
//!     .map(|byte| Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap()))
//!     .collect();
//! let peers: Vec<PeerId> = keys.iter().map(|key| PeerId::from_key(&key.public_key())).collect();
//! let mut nodes: Vec<Discovery> =
//!     peers.iter().map(|peer| Discovery::new(SecurityLimits::default(), peer.clone())).collect();
//!
//! // Every outbound record reaches every other node (a stand-in for gossip).
//! fn pump(nodes: &mut [Discovery], peers: &[PeerId], now: Timestamp) {
//!     loop {
//!         let mut sent = Vec::new();
//!         for (index, node) in nodes.iter_mut().enumerate() {
//!             while let Some(outbound) = node.poll_outbound() {
//!                 sent.push((index, outbound));
//!             }
//!         }
//!         if sent.is_empty() {
//!             return;
//!         }
//!         for (from, outbound) in sent {
//!             for (to, node) in nodes.iter_mut().enumerate() {
//!                 if to != from {
//!                     let _ = node.handle_message(now, &peers[from], Channel::Gossip, &outbound.bytes);
//!                 }
//!             }
//!         }
//!     }
//! }
//!
//! // Phase 0: nodes 1 and 2 advertise.
//! for index in 1..3 {
//!     let spec = AdvertisementSpec::new(SignerCriteria::new(["spend"]), Duration::from_secs(3_600));
//!     nodes[index].advertise(now, &keys[index], spec, &[0; 32])?;
//! }
//! pump(&mut nodes, &peers, now);
//!
//! // Phase 1: node 0 discovers them.
//! let filter = SignerFilter { transaction_type: Some("spend".into()), ..Default::default() };
//! let mut signers: Vec<_> = nodes[0].find_signers(now, &filter).iter().map(|ad| ad.key().unwrap()).collect();
//! assert_eq!(signers.len(), 2);
//!
//! // Phase 2: node 0 requests a 3-of-3 signature.
//! signers.push(keys[0].public_key());
//! let spec = RequestSpec::new(signers, [0x5a; 32], Dialect::Bip340, Duration::from_secs(600));
//! let request = nodes[0].announce_request(now, &keys[0], spec, &[0; 32])?;
//! pump(&mut nodes, &peers, now);
//!
//! // Phase 3: the others find it and join; everyone derives the same session.
//! for index in 1..3 {
//!     let found = nodes[index].requests_for(now, &keys[index].public_key());
//!     assert_eq!(found[0].id(), request);
//!     nodes[index].join_request(now, &keys[index], &request, &[0; 32])?;
//! }
//! pump(&mut nodes, &peers, now);
//!
//! let sessions: Vec<SessionParameters> = nodes
//!     .iter_mut()
//!     .map(|node| {
//!         std::iter::from_fn(|| node.poll_event())
//!             .find_map(|event| match event {
//!                 DiscoveryEvent::SessionReady(parameters) => Some(parameters),
//!                 _ => None,
//!             })
//!             .unwrap()
//!     })
//!     .collect();
//! assert!(sessions.iter().all(|session| *session == sessions[0]));
//! # Ok::<(), DiscoveryError>(())
//! ```

use core::fmt;
use core::str::FromStr;
use core::time::Duration;

use serde::{Deserialize, Serialize};

mod advertisement;
mod book;
#[cfg(test)]
mod book_tests;
mod codec;
mod directory;
mod early;
mod entry;
mod error;
mod footprint;
mod message;
mod request;
mod service;
#[cfg(test)]
mod tests;

pub use advertisement::{
    AdvertisedReputation, AdvertisementContent, AdvertisementWithdrawal, SignerAdvertisement,
    SignerCriteria, SignerMetadata, TrustRequirements, WithdrawalContent,
};
pub use book::{session_id_for, JoinOutcome, RequestAdmission, RequestBook, SessionParameters};
pub use directory::{DirectoryInsert, SignerDirectory, SignerFilter, DEFAULT_MAX_RESULTS};
pub use early::{EarlyMessage, EarlyMessages, EARLY_MESSAGE_WINDOW, MAX_EARLY_MESSAGES};
pub use error::{DiscoveryError, Field, RecordKind};
pub use message::DiscoveryMessage;
pub use request::{JoinContent, JoinProof, RequestContent, RequestMetadata, SigningRequest};
pub use service::{AdvertisementSpec, Discovery, DiscoveryEvent, Outbound, RequestSpec};

use crate::node::PeerId;

/// The first byte of every encoded [`DiscoveryMessage`].
pub const DISCOVERY_FORMAT: u8 = 0xd1;

/// The most transaction types one advertisement lists.
pub const MAX_TRANSACTION_TYPES: usize = 16;

/// The longest transaction type, in bytes.
pub const MAX_TRANSACTION_TYPE_LEN: usize = 32;

/// The longest nickname, in bytes.
pub const MAX_NICKNAME_LEN: usize = 64;

/// The longest description (of a signer or a request), in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 512;

/// The longest peer id, in bytes (a libp2p peer id is at most 42).
pub const MAX_PEER_ID_LEN: usize = 64;

/// The most keys one signing request may require; its encoding then still fits one gossip
/// message.
pub const MAX_REQUIRED_KEYS: usize = 100;

/// The longest transaction a signing request may carry, in bytes.
pub const MAX_TRANSACTION_LEN: usize = 4_096;

/// The longest lifetime of an advertisement or a signing request.
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The topic signing requests and join proofs are published on.
pub const REQUEST_TOPIC: &str = "chorus/requests/v1";

/// The topic advertisements for `transaction_type` are published on.
///
/// ```
/// assert_eq!(chorus_core::discovery::signer_topic("spend"), "chorus/signers/v1/spend");
/// ```
pub fn signer_topic(transaction_type: &str) -> String {
    format!("chorus/signers/v1/{transaction_type}")
}

/// The DHT key under which `key`'s advertisement (or its withdrawal) is stored:
/// `tagged_hash("chorus/dht/signer/v1", key33)`.
///
/// ```
/// use chorus_core::discovery::signer_record_key;
///
/// assert_ne!(signer_record_key(&[2; 33]), signer_record_key(&[3; 33]));
/// ```
pub fn signer_record_key(key: &[u8; 33]) -> [u8; 32] {
    codec::tagged_hash(codec::SIGNER_RECORD_TAG, &[key])
}

/// Where an outbound record goes; each transport maps these its own way (GossipSub topics
/// and Kademlia records in libp2p, a broadcast to every connection in QUIC, a loop in
/// memory).
///
/// ```
/// use chorus_core::discovery::{signer_topic, Destination, REQUEST_TOPIC};
///
/// let topic = Destination::Topic(REQUEST_TOPIC.into());
/// assert_ne!(topic, Destination::Topic(signer_topic("spend")));
/// assert_eq!(Destination::DhtRecord { key: [1; 32] }.to_string(), format!("dht:{}", "01".repeat(32)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Destination {
    /// A publish/subscribe topic: [`signer_topic`] per transaction type, or
    /// [`REQUEST_TOPIC`].
    Topic(String),
    /// A signed record stored in the DHT under `key` (the bytes are the record).
    DhtRecord {
        /// The DHT key: [`signer_record_key`] or a [`RequestId`]'s bytes.
        key: [u8; 32],
    },
    /// One peer, directly.
    Peer(PeerId),
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Topic(topic) => write!(f, "topic:{topic}"),
            Destination::DhtRecord { key } => write!(f, "dht:{}", hex::encode(key)),
            Destination::Peer(peer) => write!(f, "peer:{peer}"),
        }
    }
}

/// Defines a 32-byte identifier shown as hex.
macro_rules! hash_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The 32 bytes.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = hex::FromHexError;

            /// Parses 64 hex characters of either case.
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(text, &mut bytes)?;
                Ok($name(bytes))
            }
        }
    };
}

hash_id! {
    /// A signing request's id: `tagged_hash("chorus/signing-request/v1",
    /// postcard(content))`, which the creator signs.
    ///
    /// ```
    /// use chorus_core::discovery::RequestId;
    ///
    /// let id = RequestId([0xab; 32]);
    /// assert_eq!(id.to_string(), "ab".repeat(32));
    /// assert_eq!(id.to_string().parse::<RequestId>().unwrap(), id);
    /// assert!("xyz".parse::<RequestId>().is_err());
    /// ```
    RequestId
}

hash_id! {
    /// An advertisement's id: `tagged_hash("chorus/advertisement/v1", postcard(content))`,
    /// which the advertised key signs and a withdrawal names.
    ///
    /// ```
    /// use chorus_core::discovery::AdvertisementId;
    ///
    /// let id = AdvertisementId([1; 32]);
    /// assert_eq!(format!("{id:?}"), format!("AdvertisementId({})", "01".repeat(32)));
    /// ```
    AdvertisementId
}
