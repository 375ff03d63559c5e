//! Turning swarm events into [`Incoming`] items and counters.

use chorus_core::transport::Incoming;
use chorus_core::wire::Channel;
use libp2p::request_response::{self, InboundFailure, Message};
use libp2p::swarm::SwarmEvent;
use libp2p::{gossipsub, identify, kad};

use crate::behaviour::BehaviourEvent;
use crate::codec::{DirectAck, DirectFrame};
use crate::transport::Libp2pTransport;
use crate::{chorus_peer_id, Libp2pPeerId};

impl Libp2pTransport {
    pub(crate) fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Direct(event)) => self.on_direct(event),
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(event)) => self.on_gossip(event),
            SwarmEvent::Behaviour(BehaviourEvent::Kademlia(event)) => self.on_kademlia(event),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(event)) => self.on_identify(event),
            SwarmEvent::Behaviour(BehaviourEvent::Limits(never)) => match never {},
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } if num_established.get() == 1 => {
                self.unpark(&peer_id);
                self.push_incoming(Incoming::Connected {
                    peer: chorus_peer_id(&peer_id),
                });
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.push_incoming(Incoming::Disconnected {
                    peer: chorus_peer_id(&peer_id),
                });
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                tracing::debug!(%error, "incoming connection failed");
                self.stats.connection_errors += 1;
            }
            SwarmEvent::NewListenAddr { listener_id, .. } => {
                if let Some(listener) = self.listeners.iter_mut().find(|l| l.id == listener_id) {
                    listener.bound = true;
                }
            }
            SwarmEvent::ListenerClosed {
                listener_id,
                reason: Err(error),
                ..
            } => self.on_listener_failure(listener_id, error.to_string()),
            SwarmEvent::ListenerError { listener_id, error } => {
                self.on_listener_failure(listener_id, error.to_string());
            }
            _ => {}
        }
    }

    fn on_listener_failure(
        &mut self,
        listener_id: libp2p::core::transport::ListenerId,
        reason: String,
    ) {
        tracing::warn!(%reason, "listener failed");
        if let Some(listener) = self.listeners.iter_mut().find(|l| l.id == listener_id) {
            if !listener.bound {
                listener.failure = Some(reason);
            }
        }
    }

    fn on_direct(&mut self, event: request_response::Event<DirectFrame, DirectAck>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let delivered = self.push_incoming(Incoming::Message {
                    from: chorus_peer_id(&peer),
                    channel: request.channel,
                    bytes: request.bytes,
                });
                // A message the driver will never see is not acknowledged: dropping the
                // response channel fails the sender's exchange, so it learns of the loss.
                if delivered {
                    self.stats.delivered_direct += 1;
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .direct
                        .send_response(channel, DirectAck);
                }
            }
            request_response::Event::Message {
                peer,
                message: Message::Response { .. },
                ..
            } => {
                self.stats.acknowledged_direct += 1;
                self.settle_direct(peer);
            }
            request_response::Event::OutboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "direct message not delivered");
                self.stats.failed_direct += 1;
                self.settle_direct(peer);
                self.push_incoming(Incoming::Undeliverable {
                    peer: chorus_peer_id(&peer),
                    reason: error.to_string(),
                });
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                self.on_inbound_failure(peer, error);
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_inbound_failure(&mut self, peer: Libp2pPeerId, error: InboundFailure) {
        tracing::debug!(%peer, %error, "inbound direct message failed");
        // A request refused while being read never gets here: the codec counts it. A
        // message dropped for a full backlog was counted when it was dropped.
        if !matches!(error, InboundFailure::ResponseOmission) {
            self.stats.inbound_failures += 1;
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message { message, .. } = event else {
            return;
        };
        // Strict validation has checked the author's signature over the message, so the
        // author, not the peer that forwarded it, is who it is from.
        let Some(author) = message.source else {
            self.stats.dropped_undecodable += 1;
            return;
        };
        if message.data.len() > Channel::Gossip.max_message_len() {
            self.stats.dropped_oversized += 1;
            return;
        }
        if self.push_incoming(Incoming::Message {
            from: chorus_peer_id(&author),
            channel: Channel::Gossip,
            bytes: message.data,
        }) {
            self.stats.delivered_gossip += 1;
        }
    }

    fn on_kademlia(&mut self, event: kad::Event) {
        let (id, result) = match event {
            kad::Event::OutboundQueryProgressed { id, result, .. } => (id, result),
            kad::Event::RoutingUpdated { peer, .. } => return self.unpark(&peer),
            _ => return,
        };
        match result {
            kad::QueryResult::GetClosestPeers(Ok(found)) => self.on_peers_found(found.peers),
            kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(found))) => {
                if !self.record_lookups.remove(&id) {
                    return;
                }
                if let Some(mut query) = self.swarm.behaviour_mut().kademlia.query_mut(&id) {
                    query.finish();
                }
                self.deliver_record(found);
            }
            kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FinishedWithNoAdditionalRecord {
                ..
            })) => {
                self.record_lookups.remove(&id);
            }
            kad::QueryResult::GetRecord(Err(error)) => {
                tracing::debug!(%error, "record lookup found nothing");
                if self.record_lookups.remove(&id) {
                    self.stats.records_not_found += 1;
                }
            }
            kad::QueryResult::PutRecord(Err(error)) => {
                tracing::debug!(%error, "record kept locally only");
                self.stats.failed_record_puts += 1;
            }
            _ => {}
        }
    }

    /// Peers a DHT lookup found, with their addresses: a parked message for one of them
    /// can leave now.
    fn on_peers_found(&mut self, peers: Vec<kad::PeerInfo>) {
        for info in peers {
            if !self.is_parked(&info.peer_id) || info.addrs.is_empty() {
                continue;
            }
            let kademlia = &mut self.swarm.behaviour_mut().kademlia;
            for address in info.addrs {
                kademlia.add_address(&info.peer_id, address);
            }
            self.unpark(&info.peer_id);
        }
    }

    fn deliver_record(&mut self, found: kad::PeerRecord) {
        let kad::PeerRecord { peer, record } = found;
        if record.value.len() > Channel::Gossip.max_message_len() {
            self.stats.dropped_oversized += 1;
            return;
        }
        let publisher = record
            .publisher
            .or(peer)
            .map(|peer| chorus_peer_id(&peer))
            .unwrap_or_else(|| self.local.clone());
        if self.push_incoming(Incoming::Message {
            from: publisher,
            channel: Channel::Gossip,
            bytes: record.value,
        }) {
            self.stats.delivered_records += 1;
        }
    }

    fn on_identify(&mut self, event: identify::Event) {
        let identify::Event::Received { peer_id, info, .. } = event else {
            return;
        };
        if !info.protocols.contains(&self.kad_protocol) {
            return;
        }
        let kademlia = &mut self.swarm.behaviour_mut().kademlia;
        for address in info.listen_addrs {
            kademlia.add_address(&peer_id, address);
        }
    }
}
