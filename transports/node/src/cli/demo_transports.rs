//! How `chorus demo` makes one transport per signer: in memory, or libp2p or QUIC on
//! 127.0.0.1.

use std::time::Duration;

use chorus_core::crypto::Keypair;
use chorus_core::transport::Transport;
use chorus_memory::MemoryNetwork;

use super::CliError;

/// The transport `chorus demo` runs its signers over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DemoTransportKind {
    /// In-process: every signer in one hub.
    Memory,
    /// libp2p on 127.0.0.1 (TCP, Noise, Yamux, GossipSub, Kademlia).
    Libp2p,
    /// Raw QUIC on 127.0.0.1 between the members of a closed group.
    Quic,
}

impl DemoTransportKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            DemoTransportKind::Memory => "memory",
            DemoTransportKind::Libp2p => "libp2p",
            DemoTransportKind::Quic => "quic",
        }
    }
}

/// Makes the demo's transports, one per signer, all able to reach each other.
pub(crate) trait DemoTransports {
    /// The transport made.
    type Transport: Transport;

    /// Starts the transport of signer `index`.
    async fn start(
        &mut self,
        index: usize,
        identity: &Keypair,
    ) -> Result<Self::Transport, CliError>;

    /// How long to wait, once every signer is connected to every other, before the
    /// first publication (a gossip network exchanges subscriptions first).
    fn settle(&self) -> Duration {
        Duration::ZERO
    }

    /// Whether the transport names peers by their signer keys, so the driver may send a
    /// session message for a key its address book does not know to that key's peer.
    fn routes_by_key(&self) -> bool {
        false
    }
}

/// Every signer on one in-process [`MemoryNetwork`].
#[derive(Debug, Default)]
pub(crate) struct MemoryTransports {
    network: MemoryNetwork,
}

impl DemoTransports for MemoryTransports {
    type Transport = chorus_memory::MemoryTransport;

    async fn start(
        &mut self,
        _index: usize,
        _identity: &Keypair,
    ) -> Result<Self::Transport, CliError> {
        Ok(self.network.transport())
    }
}

/// Every signer on its own libp2p swarm on 127.0.0.1, dialing every signer started before
/// it, so the signers form a full mesh.
#[cfg(feature = "libp2p")]
#[derive(Debug, Default)]
pub(crate) struct Libp2pTransports {
    addresses: Vec<chorus_libp2p::Multiaddr>,
    heartbeat: Duration,
}

#[cfg(feature = "libp2p")]
impl DemoTransports for Libp2pTransports {
    type Transport = chorus_libp2p::Libp2pTransport;

    async fn start(
        &mut self,
        index: usize,
        _identity: &Keypair,
    ) -> Result<Self::Transport, CliError> {
        let config = chorus_libp2p::Libp2pConfig {
            bootstrap: self.addresses.clone(),
            ..chorus_libp2p::Libp2pConfig::default()
        };
        self.heartbeat = config.gossip_heartbeat;
        let transport = chorus_libp2p::Libp2pTransport::start(config)
            .await
            .map_err(|error| {
                CliError::Internal(format!(
                    "starting the libp2p transport of node {index}: {error}"
                ))
            })?;
        self.addresses.extend(transport.listen_addrs());
        Ok(transport)
    }

    fn settle(&self) -> Duration {
        self.heartbeat.saturating_mul(2)
    }
}

/// Every signer on its own QUIC endpoint on 127.0.0.1: each new signer starts with every
/// earlier one as its group and joins theirs, so the signers form a full mesh.
#[cfg(feature = "quic")]
#[derive(Debug, Default)]
pub(crate) struct QuicTransports {
    members: Vec<(chorus_quic::QuicPeer, chorus_quic::QuicGroup)>,
}

#[cfg(feature = "quic")]
impl DemoTransports for QuicTransports {
    type Transport = chorus_quic::QuicTransport;

    async fn start(
        &mut self,
        index: usize,
        identity: &Keypair,
    ) -> Result<Self::Transport, CliError> {
        let config = chorus_quic::QuicConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            peers: self.members.iter().map(|(peer, _)| *peer).collect(),
            ..chorus_quic::QuicConfig::default()
        };
        let transport = chorus_quic::QuicTransport::start(config, identity)
            .await
            .map_err(|error| {
                CliError::Internal(format!(
                    "starting the quic transport of node {index}: {error}"
                ))
            })?;
        let me = chorus_quic::QuicPeer {
            key: identity.public_key(),
            address: transport.local_addr(),
        };
        for (_, group) in &self.members {
            group.add_peer(me);
        }
        self.members.push((me, transport.group()));
        Ok(transport)
    }

    fn routes_by_key(&self) -> bool {
        true
    }
}
