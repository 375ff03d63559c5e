//! The libp2p protocols one Chorus node runs, and how they are configured.

use chorus_core::wire::Channel;
use libp2p::identity::Keypair;
use libp2p::kad::store::{MemoryStore, MemoryStoreConfig};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{connection_limits, gossipsub, identify, kad, request_response, StreamProtocol};
use sha2::{Digest, Sha256};

use crate::codec::DirectCodec;
use crate::config::Libp2pConfig;
use crate::error::Libp2pError;

/// What GossipSub adds around a published payload (author, sequence number, topic,
/// signature, key and protobuf framing), with room to spare.
pub(crate) const GOSSIP_ENVELOPE_OVERHEAD: usize = 1024;

/// The identify protocol version Chorus nodes announce.
const IDENTIFY_PROTOCOL: &str = "/chorus/id/1.0.0";

/// Room for the key, publisher and framing around a DHT record's value.
const KAD_PACKET_OVERHEAD: usize = 4096;

/// The protocols of one node, driven by one swarm.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub(crate) limits: connection_limits::Behaviour,
    pub(crate) identify: identify::Behaviour,
    pub(crate) gossipsub: gossipsub::Behaviour,
    pub(crate) kademlia: kad::Behaviour<MemoryStore>,
    pub(crate) direct: request_response::Behaviour<DirectCodec>,
}

impl Behaviour {
    /// Builds the protocols for the node whose identity is `key`; direct messages use
    /// `codec`.
    pub(crate) fn new(
        key: &Keypair,
        config: &Libp2pConfig,
        codec: DirectCodec,
    ) -> Result<Self, Libp2pError> {
        let local = key.public().to_peer_id();
        let limits = connection_limits::ConnectionLimits::default()
            .with_max_established(Some(config.max_connections))
            .with_max_established_per_peer(Some(config.max_connections_per_peer))
            .with_max_pending_incoming(Some(config.max_pending_connections))
            .with_max_pending_outgoing(Some(config.max_pending_connections));
        let identify = identify::Behaviour::new(identify::Config::new(
            IDENTIFY_PROTOCOL.to_owned(),
            key.public(),
        ));
        let direct = request_response::Behaviour::with_codec(
            codec,
            [(
                DirectCodec::protocol(),
                request_response::ProtocolSupport::Full,
            )],
            request_response::Config::default()
                .with_request_timeout(config.request_timeout)
                .with_max_concurrent_streams(config.max_direct_streams_per_connection),
        );
        Ok(Behaviour {
            limits: connection_limits::Behaviour::new(limits),
            identify,
            gossipsub: gossipsub_behaviour(key, config)?,
            kademlia: kademlia_behaviour(local, config)?,
            direct,
        })
    }
}

fn gossipsub_behaviour(
    key: &Keypair,
    config: &Libp2pConfig,
) -> Result<gossipsub::Behaviour, Libp2pError> {
    let gossip_config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Strict)
        .max_transmit_size(Channel::Gossip.max_message_len() + GOSSIP_ENVELOPE_OVERHEAD)
        .message_id_fn(|message: &gossipsub::Message| {
            gossipsub::MessageId::new(&Sha256::digest(&message.data))
        })
        .flood_publish(true)
        .connection_handler_queue_len(config.max_gossip_queue_per_peer.max(1))
        .heartbeat_interval(config.gossip_heartbeat)
        .heartbeat_initial_delay(config.gossip_heartbeat)
        .build()
        .map_err(|error| Libp2pError::Build(format!("gossipsub: {error}")))?;
    gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Signed(key.clone()),
        gossip_config,
    )
    .map_err(|error| Libp2pError::Build(format!("gossipsub: {error}")))
}

fn kademlia_behaviour(
    local: libp2p::PeerId,
    config: &Libp2pConfig,
) -> Result<kad::Behaviour<MemoryStore>, Libp2pError> {
    let protocol =
        StreamProtocol::try_from_owned(config.kad_protocol.clone()).map_err(|error| {
            Libp2pError::InvalidProtocol {
                name: config.kad_protocol.clone(),
                reason: error.to_string(),
            }
        })?;
    let mut kad_config = kad::Config::new(protocol);
    kad_config.set_max_packet_size(Channel::Gossip.max_message_len() + KAD_PACKET_OVERHEAD);
    let store = MemoryStore::with_config(
        local,
        MemoryStoreConfig {
            max_records: config.max_dht_records,
            // The store refuses values of `max_value_bytes` or more.
            max_value_bytes: Channel::Gossip.max_message_len() + 1,
            max_provided_keys: config.max_dht_records,
            max_providers_per_key: kad::K_VALUE.get(),
        },
    );
    let mut kademlia = kad::Behaviour::with_config(local, store, kad_config);
    // Without a confirmed public address Kademlia stays a client and answers no one, which
    // on a LAN or loopback group would leave every record unreachable.
    kademlia.set_mode(Some(kad::Mode::Server));
    Ok(kademlia)
}
