//! Fixtures shared by the discovery tests: keys, records and a gossip stand-in that pumps
//! every outbound record of a set of [`Discovery`] nodes to all the others.
#![allow(dead_code)] // each test file uses a different part

use std::time::Duration;

use chorus_core::crypto::{Dialect, Keypair, PublicKey, SecretKey};
use chorus_core::discovery::*;
use chorus_core::node::PeerId;
use chorus_core::security::SecurityLimits;
use chorus_core::time::Timestamp;
use chorus_core::wire::Channel;

pub(crate) const HOUR: Duration = Duration::from_secs(3_600);

pub(crate) fn keypair(seed: u16) -> Keypair {
    let mut bytes = [0x11; 32];
    bytes[..2].copy_from_slice(&seed.to_be_bytes());
    Keypair::from_secret_key(&SecretKey::from_secret_bytes(bytes).expect("valid secret"))
}

pub(crate) fn peer_of(keypair: &Keypair) -> PeerId {
    PeerId::from_key(&keypair.public_key())
}

pub(crate) fn at(seconds: u64) -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000 + seconds * 1_000)
}

pub(crate) fn advertisement(
    keypair: &Keypair,
    created_at: Timestamp,
    lifetime: Duration,
) -> SignerAdvertisement {
    let content = AdvertisementContent::new(
        peer_of(keypair),
        SignerCriteria::new(["spend"]),
        SignerMetadata {
            nickname: "signer".into(),
            ..SignerMetadata::default()
        },
        created_at,
        lifetime,
    );
    SignerAdvertisement::sign(content, keypair, &[0; 32])
}

pub(crate) fn request(
    creator: &Keypair,
    required: &[PublicKey],
    created_at: Timestamp,
) -> SigningRequest {
    let content = RequestContent::new(required, [0x5a; 32], Dialect::Bip340, created_at, HOUR);
    SigningRequest::sign(content, creator, &[0; 32])
}

pub(crate) fn encode(message: DiscoveryMessage) -> Vec<u8> {
    message.encode()
}

/// Discovery nodes, one per key, joined by a perfect gossip network.
pub(crate) struct Net {
    pub(crate) keys: Vec<Keypair>,
    pub(crate) nodes: Vec<Discovery>,
    pub(crate) now: Timestamp,
}

impl Net {
    pub(crate) fn new(keys: Vec<Keypair>, now: Timestamp) -> Self {
        let nodes = keys
            .iter()
            .map(|key| Discovery::new(SecurityLimits::default(), peer_of(key)))
            .collect();
        Net { keys, nodes, now }
    }

    /// Delivers every outbound record to every other node until none is left; panics on
    /// any rejection (an honest network has none).
    pub(crate) fn pump(&mut self) {
        loop {
            let mut sent = Vec::new();
            for (index, node) in self.nodes.iter_mut().enumerate() {
                while let Some(outbound) = node.poll_outbound() {
                    sent.push((index, outbound));
                }
            }
            if sent.is_empty() {
                return;
            }
            for (from, outbound) in sent {
                // Only topics: a DHT put stores the same record for later lookups.
                if matches!(outbound.destination, Destination::DhtRecord { .. }) {
                    continue;
                }
                let peer = peer_of(&self.keys[from]);
                for (to, node) in self.nodes.iter_mut().enumerate() {
                    if to != from {
                        // Every node subscribes to every topic, so a record published on
                        // two topics arrives twice: the copy is refused as a duplicate.
                        match node.handle_message(self.now, &peer, Channel::Gossip, &outbound.bytes)
                        {
                            Ok(()) | Err(DiscoveryError::StaleAdvertisement { .. }) => {}
                            Err(error) => panic!("node {to} refused node {from}: {error}"),
                        }
                    }
                }
            }
        }
    }

    pub(crate) fn events(&mut self, index: usize) -> Vec<DiscoveryEvent> {
        std::iter::from_fn(|| self.nodes[index].poll_event()).collect()
    }
}
