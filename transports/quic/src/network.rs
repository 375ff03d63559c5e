//! The task that owns the endpoint: it accepts connections, starts one task per peer and
//! routes what the transport asks for.

use std::collections::BTreeMap;
use std::sync::Arc;

use chorus_core::crypto::PublicKey;
use chorus_core::node::PeerId;
use chorus_core::transport::{Incoming, Outgoing};
use chorus_core::wire::Channel;
use quinn::{Connection, Endpoint};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::connection::{Delivery, CLOSE_REFUSED};
use crate::error::QuicError;
use crate::frame::Frame;
use crate::identity::BoundCertificate;
use crate::peer::{FrameBytes, PeerCommand, PeerSettings, PeerTask};
use crate::records::StoredRecord;
use crate::tls::{client_config, connection_peer_key};
use crate::QuicPeer;

/// Frames queued for one peer task before the network task waits for it.
const PEER_INBOX: usize = 256;

/// The network task's state.
pub(crate) struct Network {
    local_peer: PeerId,
    endpoint: Endpoint,
    identity: Arc<BoundCertificate>,
    transport: Arc<quinn::TransportConfig>,
    settings: PeerSettings,
    peers: BTreeMap<[u8; 33], mpsc::Sender<PeerCommand>>,
    tasks: JoinSet<()>,
    accepted: mpsc::Sender<(PublicKey, Connection)>,
    accepted_rx: mpsc::Receiver<(PublicKey, Connection)>,
}

impl Network {
    pub(crate) fn new(
        local_peer: PeerId,
        endpoint: Endpoint,
        identity: Arc<BoundCertificate>,
        transport: Arc<quinn::TransportConfig>,
        settings: PeerSettings,
    ) -> Self {
        let (accepted, accepted_rx) = mpsc::channel(64);
        Network {
            local_peer,
            endpoint,
            identity,
            transport,
            settings,
            peers: BTreeMap::new(),
            tasks: JoinSet::new(),
            accepted,
            accepted_rx,
        }
    }

    /// Starts a task for `peer`, or moves the existing one to `peer.address`.
    ///
    /// # Errors
    ///
    /// [`QuicError`] if the client TLS configuration for the peer cannot be built.
    pub(crate) async fn add_peer(&mut self, peer: QuicPeer) -> Result<(), QuicError> {
        if let Some(inbox) = self.peers.get(&peer.key.serialize()) {
            // Fails only if the peer task ended, which happens only at shutdown.
            let _ = inbox.send(PeerCommand::SetAddress(peer.address)).await;
            return Ok(());
        }
        let client = client_config(&self.identity, peer.key, self.transport.clone())?;
        let (inbox, inbox_rx) = mpsc::channel(PEER_INBOX);
        self.tasks
            .spawn(PeerTask::run(peer, client, self.settings.clone(), inbox_rx));
        self.peers.insert(peer.key.serialize(), inbox);
        Ok(())
    }

    /// Runs until the transport is dropped (its command channel closes) or the endpoint
    /// closes.
    pub(crate) async fn run(
        mut self,
        mut commands: mpsc::Receiver<Outgoing>,
        mut added: mpsc::UnboundedReceiver<QuicPeer>,
    ) {
        loop {
            tokio::select! {
                outgoing = commands.recv() => match outgoing {
                    Some(outgoing) => self.route(outgoing).await,
                    None => break,
                },
                Some(peer) = added.recv() => {
                    if let Err(error) = self.add_peer(peer).await {
                        tracing::warn!(%error, "cannot add a peer");
                    }
                }
                incoming = self.endpoint.accept() => match incoming {
                    Some(incoming) => self.spawn_handshake(incoming),
                    None => break,
                },
                Some((key, connection)) = self.accepted_rx.recv() => self.hand_over(key, connection).await,
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
            }
        }
    }

    fn spawn_handshake(&mut self, incoming: quinn::Incoming) {
        let accepted = self.accepted.clone();
        self.tasks.spawn(async move {
            let remote = incoming.remote_address();
            let connection = match incoming.await {
                Ok(connection) => connection,
                Err(error) => {
                    tracing::debug!(%remote, %error, "refused an incoming connection");
                    return;
                }
            };
            match connection_peer_key(&connection) {
                Ok(key) => {
                    let _ = accepted.send((key, connection)).await;
                }
                Err(error) => {
                    tracing::debug!(%remote, %error, "refused an incoming connection");
                    connection.close(CLOSE_REFUSED, b"unbound certificate");
                }
            }
        });
    }

    async fn hand_over(&mut self, key: PublicKey, connection: Connection) {
        match self.peers.get(&key.serialize()) {
            Some(inbox) => {
                let _ = inbox.send(PeerCommand::Accepted(connection)).await;
            }
            None => connection.close(CLOSE_REFUSED, b"not a member of the group"),
        }
    }

    async fn route(&mut self, outgoing: Outgoing) {
        match outgoing {
            Outgoing::Direct { to, channel, bytes } => self.send_direct(to, channel, bytes).await,
            Outgoing::Publish { topic, bytes } => {
                self.broadcast(Frame::Publication { topic, bytes }).await;
            }
            Outgoing::PutRecord { key, bytes } => {
                self.settings.shared.records().insert(
                    key,
                    StoredRecord {
                        author: self.local_peer.clone(),
                        bytes: bytes.clone(),
                    },
                );
                self.broadcast(Frame::Record { key, bytes }).await;
            }
            Outgoing::GetRecord { key } => self.get_record(key).await,
            other => tracing::debug!(?other, "nothing to send for this item"),
        }
    }

    async fn send_direct(&mut self, to: PeerId, channel: Channel, bytes: Vec<u8>) {
        if to == self.local_peer {
            let from = self.local_peer.clone();
            let incoming = Incoming::Message {
                from,
                channel,
                bytes,
            };
            self.settings
                .shared
                .deliver(Delivery::Incoming(incoming))
                .await;
            return;
        }
        let reason = match <[u8; 33]>::try_from(to.as_bytes()) {
            Ok(key) => match self.peers.get(&key) {
                Some(inbox) => match (Frame::Direct { channel, bytes }).encode() {
                    Ok(frame) => {
                        let _ = inbox.send(PeerCommand::Send(frame.into())).await;
                        return;
                    }
                    Err(error) => error.to_string(),
                },
                None => "not a member of the group".to_owned(),
            },
            Err(_) => "not a QUIC peer id (a 33-byte key)".to_owned(),
        };
        let incoming = Incoming::Undeliverable { peer: to, reason };
        self.settings
            .shared
            .deliver(Delivery::Incoming(incoming))
            .await;
    }

    async fn get_record(&mut self, key: [u8; 32]) {
        let stored = self.settings.shared.records().get(&key).cloned();
        match stored {
            Some(record) => {
                let incoming = Incoming::Message {
                    from: record.author,
                    channel: Channel::Gossip,
                    bytes: record.bytes,
                };
                self.settings
                    .shared
                    .deliver(Delivery::Incoming(incoming))
                    .await;
            }
            None => {
                self.settings.shared.records().want(key);
                self.broadcast(Frame::RecordLookup { key }).await;
            }
        }
    }

    async fn broadcast(&mut self, frame: Frame) {
        let frame: FrameBytes = match frame.encode() {
            Ok(frame) => frame.into(),
            Err(error) => {
                tracing::warn!(%error, "dropping a frame for the group");
                return;
            }
        };
        for inbox in self.peers.values() {
            let _ = inbox.send(PeerCommand::Send(frame.clone())).await;
        }
    }
}
