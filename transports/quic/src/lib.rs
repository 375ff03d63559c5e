//! Raw QUIC transport for Chorus nodes whose group members know each other's keys and
//! addresses.
//!
//! [`QuicTransport`] implements [`chorus_core::transport::Transport`] over
//! [quinn](https://docs.rs/quinn) endpoints with mutual TLS 1.3. Each member is a
//! [`QuicPeer`] — a signer key and a UDP address, usually from a peers file
//! ([`read_peers_file`]) — and its chorus [`PeerId`] is [`PeerId::from_key`] of its signer
//! key, so a driver resolves a signer key to a peer without a lookup (the node driver's
//! `route_unknown_keys_by_key` setting does exactly that).
//!
//! ```no_run
//! use chorus_core::crypto::{Keypair, SecretKey};
//! use chorus_core::transport::{Outgoing, Transport};
//! use chorus_core::wire::Channel;
//! use chorus_quic::{read_peers_file, QuicConfig, QuicTransport};
//!
//! # async fn run() -> Result<(), chorus_quic::QuicError> {
//! let signer = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
//! let peers = read_peers_file("peers.toml")?;
//! let bob = peers[0].peer_id();
//! let config = QuicConfig::new("0.0.0.0:9001".parse().unwrap(), peers);
//! let mut transport = QuicTransport::start(config, &signer).await?;
//! transport.send(Outgoing::Direct { to: bob, channel: Channel::Direct, bytes: vec![1, 2, 3] });
//! let incoming = std::future::poll_fn(|cx| transport.poll_incoming(cx)).await;
//! println!("{incoming:?}");
//! # Ok(())
//! # }
//! ```
//!
//! # Certificates bound to signer keys
//!
//! Every start generates a fresh Ed25519 *certificate key* and a self-signed certificate
//! for it. The signer key (the secp256k1 key the node signs MuSig2 sessions with) binds
//! that certificate to itself with a BIP340 signature over
//! [`identity::binding_message`]: a tagged hash (tag `chorus/quic-cert/v1`) of the signer's
//! compressed key and the certificate's DER `SubjectPublicKeyInfo`. The key and signature
//! travel in a custom, non-critical X.509 extension ([`identity::BINDING_OID`]) rather
//! than in the subject or a subject alternative name: names have meanings that other
//! software checks (DNS syntax, URI syntax, length limits per label), while an extension
//! is opaque to everyone but us and is looked up by its identifier, exactly once.
//!
//! Both sides verify. A client accepts a server only if its certificate is bound to the
//! key of the peer it dialed; a server accepts a client only if its certificate is bound
//! to a key of the group, and attributes the connection to that key. Both also verify the
//! TLS 1.3 handshake signature with the certificate key (rustls's
//! `verify_tls13_signature` with the provider's algorithms), and TLS session resumption is
//! off, so every connection proves both facts afresh.
//!
//! Why this is sound: to be accepted as signer `P`, a peer must present a certificate
//! whose binding verifies under `P` — which only the holder of `P`'s secret key can
//! produce for a given certificate key, because BIP340 signatures are unforgeable and the
//! signed message names the exact certificate key (and `P` itself, and a tag no other
//! protocol signs). Copying someone else's bound certificate does not help: the TLS
//! handshake signature must verify under the certificate key inside it, so an impostor
//! would also need that certificate's private key, which never leaves its owner. The
//! certificate's own self-signature and validity dates are not checked because they add
//! nothing: the binding, not a certificate authority, is the trust anchor.
//!
//! # Wire format
//!
//! Connections offer the application protocol [`ALPN`] (`chorus/1`); bidirectional
//! streams are not allowed. One message per unidirectional stream: a kind byte, a header,
//! a 4-byte big-endian payload length and the payload (the bytes the core encoded,
//! postcard), then the end of the stream. Kinds: `0x00` direct on the gossip channel,
//! `0x01` direct on the direct channel, `0x02` publication (then a 1-byte topic length and
//! the UTF-8 topic), `0x03` record (then the 32-byte key), `0x04` record lookup (the
//! 32-byte key, no payload), `0x05` record reply (the 32-byte key). The receiver reads the
//! length first and refuses one above the channel's limit
//! ([`Channel::max_message_len`](chorus_core::wire::Channel::max_message_len); the gossip
//! limit for publications and records) before allocating anything: it stops that stream
//! with error code 1 (`2` for any other malformed stream, `3` for one that stalls beyond
//! the idle timeout) and keeps the connection.
//!
//! # Group semantics
//!
//! - `Direct` goes to one member (to the node itself, it loops back); a peer outside the
//!   group is reported as [`Incoming::Undeliverable`].
//! - `Publish` goes to every member with its topic; a receiver delivers it (on the gossip
//!   channel) only if it has `Subscribe`d to that topic. A node does not receive its own
//!   publications.
//! - `PutRecord` stores the record locally and on every member, as a DHT would; it is not
//!   delivered to their nodes. `GetRecord` answers from the local store if it can (the
//!   message comes "from" the member that stored it), else asks every connected member
//!   and delivers the replies that arrive while the lookup is outstanding (the first one
//!   ends it).
//!
//! # Connections
//!
//! Every member is dialed at start; a failed dial is retried after 100 ms, doubling up to
//! [`QuicConfig::max_backoff`]. A dialed connection counts (and [`Incoming::Connected`] is
//! reported) only once the server has confirmed the handshake, since with TLS 1.3 a
//! client finishes its side before the server has checked the client's certificate. Both sides dial when they have no connection, so a
//! simultaneous dial (or a restart) can leave two connections: both are read, and frames
//! go out on the newest. Frames for a member that is not connected wait in a bounded
//! queue. Keep-alive and the idle timeout are configurable ([`QuicConfig`]). Dropping the
//! transport closes the endpoint and stops every task; [`QuicTransport::shutdown`] also
//! waits for the connections to close.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use chorus_core::crypto::{Keypair, PublicKey};
use chorus_core::node::PeerId;
use chorus_core::transport::{Incoming, Outgoing, Transport};
use chorus_core::wire::Channel;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

mod config;
mod connection;
mod error;
mod frame;
pub mod identity;
mod network;
mod peer;
mod records;
mod tls;

pub use chorus_core;
pub use config::{parse_peers, read_peers_file, QuicConfig, QuicPeer};
pub use error::{BindingError, QuicError};

use connection::{Delivery, Shared, CLOSE_SHUTDOWN};
use identity::BoundCertificate;
use network::Network;
use peer::PeerSettings;
use records::RecordStore;
use tls::PeerKeys;

/// The TLS application protocol (ALPN) both sides of a connection must offer.
///
/// ```
/// assert_eq!(chorus_quic::ALPN, b"chorus/1");
/// ```
pub const ALPN: &[u8] = b"chorus/1";

/// Items queued from the transport to the network task before `send` drops them.
const COMMAND_QUEUE: usize = 1024;

/// Items queued from the network tasks to the transport before they wait.
const DELIVERY_QUEUE: usize = 1024;

/// A QUIC transport for one node of a closed group; see the [crate documentation](crate).
///
/// Background tasks on the current tokio runtime own the endpoint and the connections;
/// this handle talks to them over bounded channels. Dropping it shuts them down.
///
/// ```no_run
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_core::transport::Transport;
/// use chorus_quic::{QuicConfig, QuicPeer, QuicTransport};
///
/// # async fn run() -> Result<(), chorus_quic::QuicError> {
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
/// let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([2; 32]).unwrap());
/// let mut a = QuicTransport::start(QuicConfig::default(), &alice).await?;
/// let mut b = QuicTransport::start(QuicConfig::default(), &bob).await?;
/// a.add_peer(QuicPeer { key: bob.public_key(), address: b.local_addr() });
/// b.add_peer(QuicPeer { key: alice.public_key(), address: a.local_addr() });
/// let connected = std::future::poll_fn(|cx| a.poll_incoming(cx)).await;
/// println!("{connected:?}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct QuicTransport {
    local_key: PublicKey,
    local_peer: PeerId,
    local_addr: SocketAddr,
    endpoint: quinn::Endpoint,
    group: QuicGroup,
    commands: mpsc::Sender<Outgoing>,
    deliveries: mpsc::Receiver<Delivery>,
    subscriptions: BTreeSet<String>,
    local_incoming: VecDeque<Incoming>,
    waker: Option<Waker>,
    network: Option<tokio::task::JoinHandle<()>>,
}

impl QuicTransport {
    /// Binds `config.listen`, generates a certificate bound to `signer` and starts dialing
    /// `config.peers` (an entry for `signer`'s own key is skipped).
    ///
    /// Must run inside a tokio runtime, which the background tasks then use.
    ///
    /// # Errors
    ///
    /// [`QuicError::InvalidConfig`] for out-of-range settings, [`QuicError::Bind`] if the
    /// address cannot be bound, [`QuicError::Certificate`] or [`QuicError::Tls`] if the
    /// TLS set-up fails.
    ///
    /// ```no_run
    /// use chorus_core::crypto::{Keypair, SecretKey};
    /// use chorus_quic::{QuicConfig, QuicTransport};
    ///
    /// # async fn run() -> Result<(), chorus_quic::QuicError> {
    /// let signer = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
    /// let transport = QuicTransport::start(QuicConfig::default(), &signer).await?;
    /// println!("listening on {}", transport.local_addr());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(config: QuicConfig, signer: &Keypair) -> Result<Self, QuicError> {
        config.validate()?;
        let local_key = signer.public_key();
        let local_peer = PeerId::from_key(&local_key);
        let identity = Arc::new(BoundCertificate::generate(signer)?);
        let transport = Arc::new(transport_config(&config)?);
        let peer_keys = Arc::new(PeerKeys::default());
        let members: Vec<QuicPeer> = config
            .peers
            .iter()
            .filter(|peer| peer.key != local_key)
            .copied()
            .collect();
        for peer in &members {
            peer_keys.insert(&peer.key);
        }
        let server = tls::server_config(&identity, peer_keys.clone(), transport.clone())?;
        let bind_error = |source| QuicError::Bind {
            address: config.listen,
            source,
        };
        let endpoint = quinn::Endpoint::server(server, config.listen).map_err(bind_error)?;
        let local_addr = endpoint.local_addr().map_err(bind_error)?;
        let (commands, command_rx) = mpsc::channel(COMMAND_QUEUE);
        let (added, added_rx) = mpsc::unbounded_channel();
        let (delivery_tx, deliveries) = mpsc::channel(DELIVERY_QUEUE);
        let settings = PeerSettings {
            endpoint: endpoint.clone(),
            dial_timeout: config.idle_timeout,
            max_backoff: config.max_backoff,
            max_pending: config.max_pending_per_peer,
            shared: Shared {
                deliveries: delivery_tx,
                records: Arc::new(Mutex::new(RecordStore::new(config.max_records))),
                frame_timeout: config.idle_timeout,
            },
        };
        let mut network = Network::new(
            local_peer.clone(),
            endpoint.clone(),
            identity,
            transport,
            settings,
        );
        for peer in members {
            network.add_peer(peer).await?;
        }
        let network = tokio::spawn(network.run(command_rx, added_rx));
        Ok(QuicTransport {
            local_key,
            local_peer,
            local_addr,
            endpoint,
            group: QuicGroup {
                local_key,
                peer_keys,
                added,
            },
            commands,
            deliveries,
            subscriptions: BTreeSet::new(),
            local_incoming: VecDeque::new(),
            waker: None,
            network: Some(network),
        })
    }

    /// The UDP address the transport listens on (with the actual port if the
    /// configuration asked for port 0).
    ///
    /// ```no_run
    /// # async fn run(transport: chorus_quic::QuicTransport) {
    /// let peer_entry = format!("address = \"{}\"", transport.local_addr());
    /// # }
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The signer key this transport's certificate is bound to.
    ///
    /// ```no_run
    /// # async fn run(transport: chorus_quic::QuicTransport) {
    /// let key_hex = hex::encode(transport.local_key().serialize());
    /// # }
    /// ```
    pub fn local_key(&self) -> PublicKey {
        self.local_key
    }

    /// Adds a member to the group (it is accepted and dialed from now on), or updates the
    /// address of a known one. The node's own key is ignored.
    ///
    /// ```no_run
    /// use chorus_core::crypto::{Keypair, SecretKey};
    /// use chorus_quic::QuicPeer;
    ///
    /// # async fn run(mut transport: chorus_quic::QuicTransport) {
    /// let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([2; 32]).unwrap());
    /// transport.add_peer(QuicPeer { key: bob.public_key(), address: "127.0.0.1:9002".parse().unwrap() });
    /// # }
    /// ```
    pub fn add_peer(&mut self, peer: QuicPeer) {
        self.group.add_peer(peer);
    }

    /// A handle that adds members to this transport's group, and keeps working after the
    /// transport itself has moved into a driver.
    ///
    /// ```no_run
    /// # async fn run(transport: chorus_quic::QuicTransport, bob: chorus_quic::QuicPeer) {
    /// let group = transport.group();
    /// // ... hand `transport` to a node driver, then later:
    /// group.add_peer(bob);
    /// # }
    /// ```
    pub fn group(&self) -> QuicGroup {
        self.group.clone()
    }

    /// Closes every connection, stops the background tasks and waits until the
    /// connections are closed (so the UDP port can be bound again).
    ///
    /// ```no_run
    /// # async fn run(transport: chorus_quic::QuicTransport) {
    /// transport.shutdown().await;
    /// # }
    /// ```
    pub async fn shutdown(mut self) {
        self.endpoint.close(CLOSE_SHUTDOWN, b"shutdown");
        if let Some(network) = self.network.take() {
            network.abort();
            // The task was aborted; its result says only that.
            let _ = network.await;
        }
        self.endpoint.wait_idle().await;
    }

    fn push_local(&mut self, incoming: Incoming) {
        self.local_incoming.push_back(incoming);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// Adds members to a running [`QuicTransport`]'s group from anywhere (see
/// [`QuicTransport::group`]); cheap to clone.
///
/// ```no_run
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_quic::{QuicConfig, QuicPeer, QuicTransport};
///
/// # async fn run() -> Result<(), chorus_quic::QuicError> {
/// let alice = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap());
/// let bob = Keypair::from_secret_key(&SecretKey::from_secret_bytes([2; 32]).unwrap());
/// let first = QuicTransport::start(QuicConfig::default(), &alice).await?;
/// let group = first.group();
/// let bob_peers = vec![QuicPeer { key: alice.public_key(), address: first.local_addr() }];
/// let second = QuicTransport::start(QuicConfig { peers: bob_peers, ..QuicConfig::default() }, &bob).await?;
/// group.add_peer(QuicPeer { key: bob.public_key(), address: second.local_addr() });
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct QuicGroup {
    local_key: PublicKey,
    peer_keys: Arc<PeerKeys>,
    added: mpsc::UnboundedSender<QuicPeer>,
}

impl QuicGroup {
    /// Adds a member (it is accepted and dialed from now on), or updates the address of a
    /// known one; the transport's own key is ignored, and so is everything once the
    /// transport is gone.
    ///
    /// ```no_run
    /// # fn run(group: chorus_quic::QuicGroup, bob: chorus_quic::QuicPeer) {
    /// group.add_peer(bob);
    /// # }
    /// ```
    pub fn add_peer(&self, peer: QuicPeer) {
        if peer.key == self.local_key {
            return;
        }
        self.peer_keys.insert(&peer.key);
        // Fails only after the network task ended, when there is nothing left to add to.
        let _ = self.added.send(peer);
    }
}

impl Transport for QuicTransport {
    fn local_peer(&self) -> PeerId {
        self.local_peer.clone()
    }

    fn send(&mut self, outgoing: Outgoing) {
        if let Outgoing::Subscribe { topic } = outgoing {
            self.subscriptions.insert(topic);
            return;
        }
        match self.commands.try_send(outgoing) {
            Ok(()) => {}
            Err(TrySendError::Full(outgoing)) => {
                let peer = match &outgoing {
                    Outgoing::Direct { to, .. } => to.clone(),
                    _ => self.local_peer.clone(),
                };
                let reason = "the transport's send queue is full".to_owned();
                self.push_local(Incoming::Undeliverable { peer, reason });
            }
            // The network task has ended; `poll_incoming` reports the end.
            Err(TrySendError::Closed(_)) => {}
        }
    }

    fn poll_incoming(&mut self, cx: &mut Context<'_>) -> Poll<Option<Incoming>> {
        if let Some(incoming) = self.local_incoming.pop_front() {
            return Poll::Ready(Some(incoming));
        }
        loop {
            match self.deliveries.poll_recv(cx) {
                Poll::Ready(Some(Delivery::Incoming(incoming))) => {
                    return Poll::Ready(Some(incoming))
                }
                Poll::Ready(Some(Delivery::Publication { topic, from, bytes })) => {
                    if self.subscriptions.contains(&topic) {
                        return Poll::Ready(Some(Incoming::Message {
                            from,
                            channel: Channel::Gossip,
                            bytes,
                        }));
                    }
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {
                    self.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
    }
}

impl Drop for QuicTransport {
    fn drop(&mut self) {
        self.endpoint.close(CLOSE_SHUTDOWN, b"shutdown");
        if let Some(network) = self.network.take() {
            network.abort();
        }
    }
}

/// The QUIC transport parameters both client and server use.
fn transport_config(config: &QuicConfig) -> Result<quinn::TransportConfig, QuicError> {
    let idle = quinn::IdleTimeout::try_from(config.idle_timeout)
        .map_err(|_| QuicError::InvalidConfig("idle_timeout is too long".into()))?;
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_idle_timeout(Some(idle))
        .keep_alive_interval((!config.keep_alive.is_zero()).then_some(config.keep_alive))
        .max_concurrent_bidi_streams(quinn::VarInt::from_u32(0));
    Ok(transport)
}
