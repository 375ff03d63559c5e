//! How a [`Libp2pTransport`](crate::Libp2pTransport) is set up: addresses, identity and limits.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::Multiaddr;

/// The Kademlia protocol name lotus-lib peers speak, used unless configured otherwise.
///
/// ```
/// use chorus_libp2p::{Libp2pConfig, DEFAULT_KAD_PROTOCOL};
///
/// assert_eq!(Libp2pConfig::default().kad_protocol, DEFAULT_KAD_PROTOCOL);
/// ```
pub const DEFAULT_KAD_PROTOCOL: &str = "/lotus/kad/1.0.0";

/// Everything [`Libp2pTransport::start`](crate::Libp2pTransport::start) needs to build a node.
///
/// Every limit has a default sized for a signing group of up to a few hundred peers; the
/// defaults keep a hostile peer from making the node buffer more than a few megabytes.
///
/// ```
/// use std::time::Duration;
/// use chorus_libp2p::{Libp2pConfig, Multiaddr};
///
/// let quic: Multiaddr = "/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap();
/// let config = Libp2pConfig {
///     idle_timeout: Duration::from_secs(30),
///     ..Libp2pConfig::default()
/// }
/// .with_listen(quic);
/// assert_eq!(config.listen.len(), 2);
/// assert_eq!(config.kad_protocol, "/lotus/kad/1.0.0");
/// ```
#[derive(Debug, Clone)]
pub struct Libp2pConfig {
    /// Addresses to listen on. TCP (`/ip4/../tcp/..`) and QUIC (`/ip4/../udp/../quic-v1`)
    /// are both understood; port 0 picks a free port. Default: `/ip4/127.0.0.1/tcp/0`.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start and to seed the DHT with; an address should end in
    /// `/p2p/<peer id>` so that the DHT learns who is there.
    pub bootstrap: Vec<Multiaddr>,
    /// The Kademlia protocol name. Default: [`DEFAULT_KAD_PROTOCOL`].
    pub kad_protocol: String,
    /// The node's libp2p identity; `None` generates a fresh ed25519 key.
    pub identity: Option<Keypair>,
    /// How long a connection with no open stream and no protocol wanting it stays up.
    pub idle_timeout: Duration,
    /// How long a direct message may take to be written and acknowledged.
    pub request_timeout: Duration,
    /// How long [`Libp2pTransport::start`](crate::Libp2pTransport::start) waits for its
    /// listeners to report their addresses.
    pub listen_timeout: Duration,
    /// The GossipSub heartbeat (mesh maintenance and gossip to non-mesh peers).
    pub gossip_heartbeat: Duration,
    /// Established connections in total.
    pub max_connections: u32,
    /// Established connections to one peer.
    pub max_connections_per_peer: u32,
    /// Connections being set up (incoming and outgoing, each).
    pub max_pending_connections: u32,
    /// Yamux streams open at once on one connection.
    pub max_streams_per_connection: usize,
    /// Direct-message exchanges in flight at once on one connection (each way).
    pub max_direct_streams_per_connection: usize,
    /// Direct messages queued or in flight to one peer; more are reported undeliverable.
    pub max_pending_direct_per_peer: usize,
    /// Publications and forwards waiting to be written to one peer; more are dropped.
    pub max_gossip_queue_per_peer: usize,
    /// Incoming items waiting for the driver; more are dropped (and a direct message's
    /// sender sees its exchange fail).
    pub max_buffered_incoming: usize,
    /// DHT records this node stores for others and for itself.
    pub max_dht_records: usize,
}

impl Libp2pConfig {
    /// This configuration with one more listen address.
    ///
    /// ```
    /// use chorus_libp2p::Libp2pConfig;
    ///
    /// let config = Libp2pConfig::default().with_listen("/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap());
    /// assert_eq!(config.listen.len(), 2);
    /// ```
    pub fn with_listen(mut self, address: Multiaddr) -> Self {
        self.listen.push(address);
        self
    }

    /// This configuration with one more bootstrap peer.
    ///
    /// ```
    /// use chorus_libp2p::Libp2pConfig;
    ///
    /// let config = Libp2pConfig::default().with_bootstrap("/ip4/127.0.0.1/tcp/4001".parse().unwrap());
    /// assert_eq!(config.bootstrap.len(), 1);
    /// ```
    pub fn with_bootstrap(mut self, address: Multiaddr) -> Self {
        self.bootstrap.push(address);
        self
    }
}

impl Default for Libp2pConfig {
    fn default() -> Self {
        Libp2pConfig {
            listen: vec![loopback_tcp()],
            bootstrap: Vec::new(),
            kad_protocol: DEFAULT_KAD_PROTOCOL.to_owned(),
            identity: None,
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
            listen_timeout: Duration::from_secs(10),
            gossip_heartbeat: Duration::from_millis(500),
            max_connections: 512,
            max_connections_per_peer: 2,
            max_pending_connections: 64,
            max_streams_per_connection: 256,
            max_direct_streams_per_connection: 64,
            max_pending_direct_per_peer: 256,
            max_gossip_queue_per_peer: 1024,
            max_buffered_incoming: 1024,
            max_dht_records: 1024,
        }
    }
}

fn loopback_tcp() -> Multiaddr {
    use libp2p::multiaddr::Protocol;
    Multiaddr::empty()
        .with(Protocol::Ip4(std::net::Ipv4Addr::LOCALHOST))
        .with(Protocol::Tcp(0))
}
