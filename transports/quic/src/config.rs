//! The transport's configuration and the peers file.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use chorus_core::crypto::PublicKey;
use serde::Deserialize;

use crate::error::QuicError;

/// Settings of a [`QuicTransport`](crate::QuicTransport).
///
/// Build it with [`QuicConfig::new`] or struct update syntax over [`QuicConfig::default`].
///
/// ```
/// use std::time::Duration;
/// use chorus_quic::QuicConfig;
///
/// let config = QuicConfig {
///     listen: "127.0.0.1:9001".parse().unwrap(),
///     idle_timeout: Duration::from_secs(10),
///     ..QuicConfig::default()
/// };
/// assert!(config.peers.is_empty());
/// assert!(config.keep_alive < config.idle_timeout);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuicConfig {
    /// The UDP address to listen on (port 0 picks a free port; see
    /// [`QuicTransport::local_addr`](crate::QuicTransport::local_addr)).
    pub listen: SocketAddr,
    /// The group: the only peers this node dials and accepts. An entry with the node's
    /// own key is ignored, so every member can share one peers file.
    pub peers: Vec<QuicPeer>,
    /// A connection with no traffic for this long is closed; also bounds a handshake and
    /// the time one frame may take to arrive.
    pub idle_timeout: Duration,
    /// How often an idle connection is pinged to keep it (and NAT bindings) alive; zero
    /// disables keep-alive. Must be below `idle_timeout`.
    pub keep_alive: Duration,
    /// The longest wait between two attempts to reach a peer; the wait starts at 100 ms
    /// and doubles after each failure.
    pub max_backoff: Duration,
    /// Frames waiting for a peer's connection to come up; more are dropped and reported
    /// as [`Incoming::Undeliverable`](chorus_core::transport::Incoming::Undeliverable).
    pub max_pending_per_peer: usize,
    /// Records (from `PutRecord`) kept for lookups; the oldest go first.
    pub max_records: usize,
}

impl QuicConfig {
    /// The default settings, listening on `listen`, with the group `peers`.
    ///
    /// ```
    /// use chorus_quic::QuicConfig;
    ///
    /// let config = QuicConfig::new("127.0.0.1:0".parse().unwrap(), Vec::new());
    /// assert_eq!(config.listen.port(), 0);
    /// ```
    pub fn new(listen: SocketAddr, peers: Vec<QuicPeer>) -> Self {
        QuicConfig {
            listen,
            peers,
            ..QuicConfig::default()
        }
    }

    pub(crate) fn validate(&self) -> Result<(), QuicError> {
        if self.idle_timeout.is_zero() {
            return Err(QuicError::InvalidConfig(
                "idle_timeout must be positive".into(),
            ));
        }
        if quinn::IdleTimeout::try_from(self.idle_timeout).is_err() {
            return Err(QuicError::InvalidConfig(format!(
                "idle_timeout {:?} is too long",
                self.idle_timeout
            )));
        }
        if !self.keep_alive.is_zero() && self.keep_alive >= self.idle_timeout {
            return Err(QuicError::InvalidConfig(format!(
                "keep_alive {:?} must be below idle_timeout {:?}",
                self.keep_alive, self.idle_timeout
            )));
        }
        if self.max_backoff < crate::peer::INITIAL_BACKOFF {
            return Err(QuicError::InvalidConfig(format!(
                "max_backoff must be at least {:?}",
                crate::peer::INITIAL_BACKOFF
            )));
        }
        Ok(())
    }
}

impl Default for QuicConfig {
    /// Listens on `127.0.0.1:0` with no peers, a 30 s idle timeout, a 5 s keep-alive,
    /// backoff up to 10 s, 256 pending frames per peer and 1024 records.
    fn default() -> Self {
        QuicConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            peers: Vec::new(),
            idle_timeout: Duration::from_secs(30),
            keep_alive: Duration::from_secs(5),
            max_backoff: Duration::from_secs(10),
            max_pending_per_peer: 256,
            max_records: 1024,
        }
    }
}

/// A member of the group: its signer key and where it listens.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_quic::QuicPeer;
///
/// let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap()).public_key();
/// let peer = QuicPeer { key, address: "127.0.0.1:9001".parse().unwrap() };
/// assert_eq!(peer.peer_id(), chorus_core::node::PeerId::from_key(&key));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuicPeer {
    /// The peer's signer key, to which its TLS certificate must be bound.
    pub key: PublicKey,
    /// The peer's UDP address.
    pub address: SocketAddr,
}

impl QuicPeer {
    /// The chorus peer id of this peer: its compressed signer key.
    ///
    /// ```
    /// # use chorus_core::crypto::{Keypair, SecretKey};
    /// # let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap()).public_key();
    /// let peer = chorus_quic::QuicPeer { key, address: "127.0.0.1:9001".parse().unwrap() };
    /// assert_eq!(peer.peer_id().as_bytes(), &key.serialize()[..]);
    /// ```
    pub fn peer_id(&self) -> chorus_core::node::PeerId {
        chorus_core::node::PeerId::from_key(&self.key)
    }
}

/// Reads a peers file: TOML with one `[[peer]]` table per member.
///
/// ```toml
/// [[peer]]
/// key = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"
/// address = "127.0.0.1:9001"
/// ```
///
/// # Errors
///
/// [`QuicError::PeersFileUnreadable`] if the file cannot be read, otherwise what
/// [`parse_peers`] returns.
///
/// ```no_run
/// let peers = chorus_quic::read_peers_file("peers.toml")?;
/// println!("{} peers", peers.len());
/// # Ok::<(), chorus_quic::QuicError>(())
/// ```
pub fn read_peers_file(path: impl AsRef<Path>) -> Result<Vec<QuicPeer>, QuicError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| QuicError::PeersFileUnreadable {
        path: path.to_owned(),
        source,
    })?;
    parse_peers(&text)
}

/// Parses the text of a peers file (see [`read_peers_file`]).
///
/// Keys are 33-byte compressed secp256k1 keys in hex (either case); addresses are
/// `IP:port` (host names are not resolved); unknown fields are refused; a key may appear
/// once. An empty text is an empty group.
///
/// # Errors
///
/// [`QuicError::PeersFileSyntax`], [`QuicError::InvalidPeerKey`],
/// [`QuicError::InvalidPeerAddress`] or [`QuicError::DuplicatePeer`].
///
/// ```
/// let peers = chorus_quic::parse_peers(
///     r#"
///     [[peer]]
///     key = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"
///     address = "127.0.0.1:9001"
///     "#,
/// )?;
/// assert_eq!(peers[0].address.port(), 9001);
/// # Ok::<(), chorus_quic::QuicError>(())
/// ```
pub fn parse_peers(text: &str) -> Result<Vec<QuicPeer>, QuicError> {
    let file: PeersFile = toml::from_str(text)?;
    let mut seen = BTreeSet::new();
    let mut peers = Vec::with_capacity(file.peer.len());
    for (index, entry) in file.peer.into_iter().enumerate() {
        let key = parse_key(index, &entry.key)?;
        let address = entry
            .address
            .parse()
            .map_err(|_| QuicError::InvalidPeerAddress {
                index,
                address: entry.address.clone(),
            })?;
        if !seen.insert(key.serialize()) {
            return Err(QuicError::DuplicatePeer {
                index,
                key: entry.key.to_ascii_lowercase(),
            });
        }
        peers.push(QuicPeer { key, address });
    }
    Ok(peers)
}

fn parse_key(index: usize, text: &str) -> Result<PublicKey, QuicError> {
    let invalid = |reason: String| QuicError::InvalidPeerKey { index, reason };
    let bytes = hex::decode(text).map_err(|error| invalid(error.to_string()))?;
    if bytes.len() != 33 {
        return Err(invalid(format!(
            "expected 33 bytes (compressed), got {}",
            bytes.len()
        )));
    }
    PublicKey::from_slice(&bytes).map_err(|_| invalid("not a point on secp256k1".into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeersFile {
    #[serde(default)]
    peer: Vec<PeerEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerEntry {
    key: String,
    address: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chorus_core::crypto::{Keypair, SecretKey};

    fn key_hex(byte: u8) -> String {
        let keypair = Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap());
        hex::encode(keypair.public_key().serialize())
    }

    fn entry(key: &str, address: &str) -> String {
        format!("[[peer]]\nkey = \"{key}\"\naddress = \"{address}\"\n")
    }

    #[test]
    fn parses_peers_in_order() {
        let text = entry(&key_hex(1), "127.0.0.1:9001") + &entry(&key_hex(2), "[::1]:9002");
        let peers = parse_peers(&text).unwrap();
        assert_eq!(peers.len(), 2);
        assert_eq!(hex::encode(peers[0].key.serialize()), key_hex(1));
        assert_eq!(peers[0].address, "127.0.0.1:9001".parse().unwrap());
        assert_eq!(hex::encode(peers[1].key.serialize()), key_hex(2));
        assert_eq!(peers[1].address, "[::1]:9002".parse().unwrap());
    }

    #[test]
    fn accepts_upper_case_hex_and_an_empty_file() {
        let peers = parse_peers(&entry(&key_hex(3).to_uppercase(), "10.0.0.1:1")).unwrap();
        assert_eq!(hex::encode(peers[0].key.serialize()), key_hex(3));
        assert!(parse_peers("").unwrap().is_empty());
    }

    #[test]
    fn refuses_bad_keys() {
        let uncompressed = "04".to_owned() + &"11".repeat(64);
        let off_curve = "02".to_owned() + &"ff".repeat(32);
        for key in ["zz", "02", uncompressed.as_str(), off_curve.as_str()] {
            let error = parse_peers(&entry(key, "127.0.0.1:1")).unwrap_err();
            assert!(
                matches!(error, QuicError::InvalidPeerKey { index: 0, .. }),
                "{key}: {error}"
            );
        }
    }

    #[test]
    fn refuses_bad_addresses() {
        for address in ["localhost:9001", "127.0.0.1", "127.0.0.1:70000", ""] {
            let error = parse_peers(&entry(&key_hex(1), address)).unwrap_err();
            assert!(
                matches!(&error, QuicError::InvalidPeerAddress { index: 0, address: a } if a == address),
                "{address}: {error}"
            );
        }
    }

    #[test]
    fn refuses_duplicates_and_unknown_fields() {
        let twice = entry(&key_hex(1), "127.0.0.1:1") + &entry(&key_hex(1), "127.0.0.1:2");
        assert!(matches!(
            parse_peers(&twice),
            Err(QuicError::DuplicatePeer { index: 1, .. })
        ));
        let extra = entry(&key_hex(1), "127.0.0.1:1") + "name = \"alice\"\n";
        assert!(matches!(
            parse_peers(&extra),
            Err(QuicError::PeersFileSyntax(_))
        ));
        assert!(matches!(
            parse_peers("[[peer]]\nkey = \"02\"\n"),
            Err(QuicError::PeersFileSyntax(_))
        ));
        assert!(matches!(
            parse_peers("peer = 3"),
            Err(QuicError::PeersFileSyntax(_))
        ));
    }

    #[test]
    fn reads_a_file_and_reports_a_missing_one() {
        let path =
            std::env::temp_dir().join(format!("chorus-quic-peers-{}.toml", std::process::id()));
        std::fs::write(&path, entry(&key_hex(4), "127.0.0.1:4")).unwrap();
        let peers = read_peers_file(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(peers.len(), 1);
        assert!(matches!(
            read_peers_file(&path),
            Err(QuicError::PeersFileUnreadable { .. })
        ));
    }

    #[test]
    fn validation_checks_timeouts_and_backoff() {
        let config = QuicConfig::default();
        assert!(config.validate().is_ok());
        let zero_idle = QuicConfig {
            idle_timeout: Duration::ZERO,
            ..config.clone()
        };
        assert!(zero_idle.validate().is_err());
        let slow_ping = QuicConfig {
            keep_alive: Duration::from_secs(60),
            ..config.clone()
        };
        assert!(slow_ping.validate().is_err());
        let no_ping = QuicConfig {
            keep_alive: Duration::ZERO,
            ..config.clone()
        };
        assert!(no_ping.validate().is_ok());
        let tiny_backoff = QuicConfig {
            max_backoff: Duration::from_millis(1),
            ..config
        };
        assert!(tiny_backoff.validate().is_err());
    }
}
