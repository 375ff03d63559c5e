//! One task per group member: it dials (with backoff), holds the member's connections and
//! writes the frames addressed to it.
//!
//! Both sides dial when they have no connection, so two connections may exist after a
//! simultaneous dial or a restart. Both are read; frames go out on the newest, which after
//! a restart is the live one while the dead one waits for its idle timeout.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chorus_core::node::PeerId;
use chorus_core::transport::Incoming;
use quinn::{Connection, ConnectionError, Endpoint};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::connection::{read_connection, write_frame, Delivery, Shared, CLOSE_EXCESS};
use crate::tls::SERVER_NAME;
use crate::QuicPeer;

/// The first wait after a failed dial; it doubles up to the configured maximum.
pub(crate) const INITIAL_BACKOFF: Duration = Duration::from_millis(100);

/// More connections than this to one peer close the oldest.
const MAX_CONNECTIONS_PER_PEER: usize = 4;

/// A connection that lasted this long resets the backoff when it ends.
const STABLE_CONNECTION: Duration = Duration::from_secs(1);

/// A frame, shared between the peers it is sent to.
pub(crate) type FrameBytes = Arc<[u8]>;

/// What the network task tells a peer task.
#[derive(Debug)]
pub(crate) enum PeerCommand {
    /// Write this frame to the peer.
    Send(FrameBytes),
    /// The peer dialed us and its certificate is bound to its key.
    Accepted(Connection),
    /// The peer moved to another address.
    SetAddress(SocketAddr),
}

/// What a peer task's own sub-tasks tell it.
enum PeerEvent {
    Dialed(Result<Connection, String>),
    Closed { id: usize, error: ConnectionError },
    Unsent { frame: FrameBytes, failed_on: usize },
}

/// The settings every peer task shares.
#[derive(Debug, Clone)]
pub(crate) struct PeerSettings {
    pub(crate) endpoint: Endpoint,
    pub(crate) dial_timeout: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) max_pending: usize,
    pub(crate) shared: Shared,
}

struct LiveConnection {
    connection: Connection,
    since: Instant,
}

/// The state of one peer task.
pub(crate) struct PeerTask {
    peer: QuicPeer,
    peer_id: PeerId,
    client: quinn::ClientConfig,
    settings: PeerSettings,
    connections: Vec<LiveConnection>,
    pending: VecDeque<FrameBytes>,
    backoff: Duration,
    next_dial: Instant,
    dialing: bool,
    tasks: JoinSet<()>,
    events: mpsc::Sender<PeerEvent>,
}

impl PeerTask {
    /// Runs the task for `peer` until `inbox` closes.
    pub(crate) async fn run(
        peer: QuicPeer,
        client: quinn::ClientConfig,
        settings: PeerSettings,
        mut inbox: mpsc::Receiver<PeerCommand>,
    ) {
        let (events, mut event_rx) = mpsc::channel(64);
        let mut task = PeerTask {
            peer,
            peer_id: peer.peer_id(),
            client,
            settings,
            connections: Vec::new(),
            pending: VecDeque::new(),
            backoff: INITIAL_BACKOFF,
            next_dial: Instant::now(),
            dialing: false,
            tasks: JoinSet::new(),
            events,
        };
        loop {
            let dial_at = (task.connections.is_empty() && !task.dialing).then_some(task.next_dial);
            tokio::select! {
                command = inbox.recv() => match command {
                    Some(command) => task.on_command(command).await,
                    None => break,
                },
                Some(event) = event_rx.recv() => task.on_event(event).await,
                () = wait_until(dial_at) => task.dial(),
                Some(_) = task.tasks.join_next(), if !task.tasks.is_empty() => {}
            }
        }
    }

    async fn on_command(&mut self, command: PeerCommand) {
        match command {
            PeerCommand::Send(frame) => self.send(frame, None).await,
            PeerCommand::Accepted(connection) => self.add_connection(connection).await,
            PeerCommand::SetAddress(address) => {
                if address != self.peer.address {
                    self.peer.address = address;
                    self.backoff = INITIAL_BACKOFF;
                    self.next_dial = Instant::now();
                }
            }
        }
    }

    async fn on_event(&mut self, event: PeerEvent) {
        match event {
            PeerEvent::Dialed(Ok(connection)) => {
                self.dialing = false;
                self.add_connection(connection).await;
            }
            PeerEvent::Dialed(Err(reason)) => {
                self.dialing = false;
                tracing::debug!(peer = %self.peer_id, %reason, "dial failed");
                self.schedule_dial();
            }
            PeerEvent::Closed { id, error } => self.remove_connection(id, &error).await,
            PeerEvent::Unsent { frame, failed_on } => self.send(frame, Some(failed_on)).await,
        }
    }

    /// Writes `frame` on the newest connection, or queues it until one is up. A frame whose
    /// write failed on connection `failed_on` waits for another connection.
    async fn send(&mut self, frame: FrameBytes, failed_on: Option<usize>) {
        match self.connections.last() {
            Some(live) if Some(live.connection.stable_id()) != failed_on => {
                let connection = live.connection.clone();
                self.spawn_write(connection, frame);
            }
            _ if self.pending.len() < self.settings.max_pending => self.pending.push_back(frame),
            _ => {
                self.undeliverable("not connected and the send queue is full".into())
                    .await;
            }
        }
    }

    fn spawn_write(&mut self, connection: Connection, frame: FrameBytes) {
        let events = self.events.clone();
        self.tasks.spawn(async move {
            if let Err(reason) = write_frame(&connection, &frame).await {
                tracing::debug!(%reason, "write failed, keeping the frame for another connection");
                let failed_on = connection.stable_id();
                // The peer task outlives its sub-tasks, so this only fails at shutdown.
                let _ = events.send(PeerEvent::Unsent { frame, failed_on }).await;
            }
        });
    }

    fn dial(&mut self) {
        self.dialing = true;
        let connecting = self.settings.endpoint.connect_with(
            self.client.clone(),
            self.peer.address,
            SERVER_NAME,
        );
        let events = self.events.clone();
        let timeout = self.settings.dial_timeout;
        self.tasks.spawn(async move {
            let result = match connecting {
                Err(error) => Err(error.to_string()),
                Ok(connecting) => {
                    let handshake = async {
                        let connection = connecting.await.map_err(|error| error.to_string())?;
                        confirmed(&connection).await?;
                        Ok(connection)
                    };
                    match tokio::time::timeout(timeout, handshake).await {
                        Ok(result) => result,
                        Err(_) => Err("the handshake timed out".into()),
                    }
                }
            };
            let _ = events.send(PeerEvent::Dialed(result)).await;
        });
    }

    fn schedule_dial(&mut self) {
        self.next_dial = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(self.settings.max_backoff);
    }

    async fn add_connection(&mut self, connection: Connection) {
        let id = connection.stable_id();
        let events = self.events.clone();
        let reader = read_connection(
            connection.clone(),
            self.peer_id.clone(),
            self.settings.shared.clone(),
        );
        self.tasks.spawn(async move {
            let error = reader.await;
            let _ = events.send(PeerEvent::Closed { id, error }).await;
        });
        self.connections.push(LiveConnection {
            connection: connection.clone(),
            since: Instant::now(),
        });
        if self.connections.len() > MAX_CONNECTIONS_PER_PEER {
            let oldest = self.connections.remove(0);
            oldest
                .connection
                .close(CLOSE_EXCESS, b"too many connections");
        }
        if self.connections.len() == 1 {
            tracing::debug!(peer = %self.peer_id, address = %connection.remote_address(), "connected");
            self.settings
                .shared
                .deliver(Delivery::Incoming(Incoming::Connected {
                    peer: self.peer_id.clone(),
                }))
                .await;
        }
        while let Some(frame) = self.pending.pop_front() {
            self.spawn_write(connection.clone(), frame);
        }
    }

    async fn remove_connection(&mut self, id: usize, error: &ConnectionError) {
        let Some(position) = self
            .connections
            .iter()
            .position(|live| live.connection.stable_id() == id)
        else {
            return;
        };
        let closed = self.connections.remove(position);
        tracing::debug!(peer = %self.peer_id, %error, "connection closed");
        if closed.since.elapsed() >= STABLE_CONNECTION {
            self.backoff = INITIAL_BACKOFF;
        }
        if self.connections.is_empty() {
            self.settings
                .shared
                .deliver(Delivery::Incoming(Incoming::Disconnected {
                    peer: self.peer_id.clone(),
                }))
                .await;
            self.schedule_dial();
        }
    }

    async fn undeliverable(&self, reason: String) {
        self.settings
            .shared
            .deliver(Delivery::Incoming(Incoming::Undeliverable {
                peer: self.peer_id.clone(),
                reason,
            }))
            .await;
    }
}

/// How often a dialer looks for the server's confirmation of the handshake.
const CONFIRMATION_POLL: Duration = Duration::from_millis(1);

/// Waits until the server has confirmed the handshake (sent `HANDSHAKE_DONE`).
///
/// With TLS 1.3 a client completes its handshake before the server has checked the
/// client's certificate, so a server that refuses us would otherwise look connected for a
/// round trip. quinn reports the confirmation only in its frame counters.
async fn confirmed(connection: &Connection) -> Result<(), String> {
    let poll = async {
        while connection.stats().frame_rx.handshake_done == 0 {
            tokio::time::sleep(CONFIRMATION_POLL).await;
        }
    };
    tokio::select! {
        () = poll => Ok(()),
        error = connection.closed() => Err(error.to_string()),
    }
}

async fn wait_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
