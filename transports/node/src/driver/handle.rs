//! The application's side of a driver: async commands.

use chorus_core::crypto::{PublicKey, Signature};
use chorus_core::discovery::{
    AdvertisementSpec, AdvertisementWithdrawal, RequestId, RequestSpec, SignerAdvertisement,
    SignerFilter, SigningRequest,
};
use chorus_core::node::{CommandError, Node, PeerId, Progress, SessionSpec};
use chorus_core::wire::SessionId;
use tokio::sync::{mpsc, oneshot};

use super::engine::{DriverStats, Engine, SessionStatus};
use super::error::DriverError;
use super::event::NodeEvents;

/// A command for the driver: work to do on its engine, or a request about the driver.
pub(crate) enum Command {
    /// Runs against the engine; the driver drains the node's outputs afterwards.
    Run(Box<dyn FnOnce(&mut Engine) + Send>),
    /// A new event subscription.
    Subscribe(oneshot::Sender<NodeEvents>),
    /// Stop; the sender is told once the transport is gone.
    Shutdown(oneshot::Sender<()>),
}

/// A cloneable handle on a running [`NodeDriver`](super::NodeDriver): every method sends
/// one command and resolves with the node's answer.
///
/// The driver stops when [`NodeHandle::shutdown`] is called or when every handle is
/// dropped; afterwards every method returns [`DriverError::Stopped`].
///
/// ```
/// use chorus_core::crypto::{Dialect, Keypair, SecretKey};
/// use chorus_core::node::{Event, SessionSpec};
/// use chorus_memory::MemoryNetwork;
/// use chorus_node::driver::{spawn, DriverConfig, NodeEvent};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let network = MemoryNetwork::new();
/// let identity = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32])?);
/// let node = spawn(identity, network.transport(), DriverConfig::default())?;
/// let (handle, mut events) = (node.handle.clone(), node.events);
///
/// // A lone signer signs at once and is asked to broadcast.
/// let spec = SessionSpec::new(vec![identity.public_key()], [7; 32], Dialect::Bip340);
/// let session = handle.create_session(spec).await?;
/// while let Some(event) = events.next().await {
///     if let NodeEvent::Session(Event::ShouldBroadcast { .. }) = event {
///         handle.notify_broadcast_complete(&session, [0xab; 32]).await?;
///         break;
///     }
/// }
/// let status = handle.session_status(&session).await?.expect("the session exists");
/// assert_eq!(status.confirmed_transaction, Some(vec![0xab; 32]));
///
/// handle.shutdown().await?;
/// let report = node.task.await?;
/// assert!(report.stats.commands >= 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct NodeHandle {
    commands: mpsc::Sender<Command>,
    public_key: PublicKey,
    peer_id: PeerId,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Run(_) => "Run",
            Command::Subscribe(_) => "Subscribe",
            Command::Shutdown(_) => "Shutdown",
        })
    }
}

impl NodeHandle {
    pub(crate) fn new(
        commands: mpsc::Sender<Command>,
        public_key: PublicKey,
        peer_id: PeerId,
    ) -> Self {
        NodeHandle {
            commands,
            public_key,
            peer_id,
        }
    }

    /// The node's signing key.
    pub fn public_key(&self) -> PublicKey {
        self.public_key
    }

    /// The transport's peer id, which the node advertises and joins from.
    pub fn peer_id(&self) -> &PeerId {
        &self.peer_id
    }

    /// Whether the driver is still running.
    pub fn is_running(&self) -> bool {
        !self.commands.is_closed()
    }

    /// Resolves once the driver has stopped.
    pub async fn stopped(&self) {
        self.commands.closed().await;
    }

    /// Runs `work` against the engine and returns its result.
    async fn call<R, F>(&self, work: F) -> Result<R, DriverError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Engine) -> R + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(move |engine: &mut Engine| {
            // The caller may have given up waiting; the work is done either way.
            let _ = reply.send(work(engine));
        });
        self.commands
            .send(Command::Run(job))
            .await
            .map_err(|_| DriverError::Stopped)?;
        answer.await.map_err(|_| DriverError::Stopped)
    }

    /// Runs a node command at the driver's current time.
    async fn command<R, F>(&self, work: F) -> Result<R, DriverError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Node, chorus_core::time::Timestamp) -> Result<R, CommandError>
            + Send
            + 'static,
    {
        self.call(move |engine| {
            let now = engine.now();
            work(&mut engine.node, now)
        })
        .await?
        .map_err(DriverError::from)
    }

    /// A new subscription to the driver's events, from now on.
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`].
    pub async fn subscribe(&self) -> Result<NodeEvents, DriverError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Subscribe(reply))
            .await
            .map_err(|_| DriverError::Stopped)?;
        answer.await.map_err(|_| DriverError::Stopped)
    }

    /// Advertises this node's key ([`Node::advertise`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Command`] as [`Node::advertise`] refuses; [`DriverError::Stopped`].
    pub async fn advertise(
        &self,
        spec: AdvertisementSpec,
    ) -> Result<SignerAdvertisement, DriverError> {
        self.command(move |node, now| node.advertise(now, spec))
            .await
    }

    /// Withdraws this node's advertisement ([`Node::withdraw_advertisement`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Command`] when nothing is advertised; [`DriverError::Stopped`].
    pub async fn withdraw_advertisement(&self) -> Result<AdvertisementWithdrawal, DriverError> {
        self.command(|node, now| node.withdraw_advertisement(now))
            .await
    }

    /// The discovered signers that pass `filter` ([`Node::find_signers`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`].
    pub async fn find_signers(
        &self,
        filter: SignerFilter,
    ) -> Result<Vec<SignerAdvertisement>, DriverError> {
        self.call(move |engine| {
            let now = engine.now();
            engine.node.find_signers(now, &filter)
        })
        .await
    }

    /// Announces a signing request created by this node ([`Node::announce_request`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Command`] as [`Node::announce_request`] refuses;
    /// [`DriverError::Stopped`].
    pub async fn announce_request(
        &self,
        spec: RequestSpec,
        progress: Progress,
    ) -> Result<RequestId, DriverError> {
        self.command(move |node, now| node.announce_request(now, spec, progress))
            .await
    }

    /// The pending requests that need this node's key and that it has not joined
    /// ([`Node::requests_for_me`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`].
    pub async fn requests_for_me(&self) -> Result<Vec<SigningRequest>, DriverError> {
        self.call(|engine| {
            let now = engine.now();
            engine
                .node
                .requests_for_me(now)
                .into_iter()
                .cloned()
                .collect()
        })
        .await
    }

    /// Joins signing request `request` ([`Node::join_request`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Command`] as [`Node::join_request`] refuses; [`DriverError::Stopped`].
    pub async fn join_request(
        &self,
        request: &RequestId,
        progress: Progress,
    ) -> Result<(), DriverError> {
        let request = *request;
        self.command(move |node, now| node.join_request(now, &request, progress))
            .await
    }

    /// Creates and announces a session with signers whose peers the driver knows
    /// ([`Node::create_session`]; see [`NodeHandle::add_peer`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Command`] as [`Node::create_session`] refuses;
    /// [`DriverError::Stopped`].
    pub async fn create_session(&self, spec: SessionSpec) -> Result<SessionId, DriverError> {
        self.command(move |node, now| node.create_session(now, spec))
            .await
    }

    /// Joins a session another signer announced ([`Node::join_session`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Command`] as [`Node::join_session`] refuses; [`DriverError::Stopped`].
    pub async fn join_session(
        &self,
        session: &SessionId,
        progress: Progress,
    ) -> Result<(), DriverError> {
        let session = *session;
        self.command(move |node, now| node.join_session(now, &session, progress))
            .await
    }

    /// Round 1 by hand ([`Node::start_round1`], with [`Progress::Manual`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Command`] as [`Node::start_round1`] refuses; [`DriverError::Stopped`].
    pub async fn start_round1(&self, session: &SessionId) -> Result<(), DriverError> {
        let session = *session;
        self.command(move |node, now| node.start_round1(now, &session))
            .await
    }

    /// Round 2 by hand ([`Node::start_round2`], with [`Progress::Manual`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Command`] as [`Node::start_round2`] refuses; [`DriverError::Stopped`].
    pub async fn start_round2(&self, session: &SessionId) -> Result<(), DriverError> {
        let session = *session;
        self.command(move |node, now| node.start_round2(now, &session))
            .await
    }

    /// Tells every signer that this node broadcast transaction `transaction_id`
    /// ([`Node::notify_broadcast_complete`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Command`] as [`Node::notify_broadcast_complete`] refuses;
    /// [`DriverError::Stopped`].
    pub async fn notify_broadcast_complete(
        &self,
        session: &SessionId,
        transaction_id: impl Into<Vec<u8>>,
    ) -> Result<(), DriverError> {
        let (session, transaction_id) = (*session, transaction_id.into());
        self.command(move |node, now| {
            node.notify_broadcast_complete(now, &session, &transaction_id)
        })
        .await
    }

    /// Closes a session ([`Node::close_session`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Command`] as [`Node::close_session`] refuses; [`DriverError::Stopped`].
    pub async fn close_session(&self, session: &SessionId) -> Result<(), DriverError> {
        let session = *session;
        self.command(move |node, now| node.close_session(now, &session))
            .await
    }

    /// Records that signer `key` is reached at transport peer `peer`; true when that
    /// changed the address book.
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`].
    pub async fn add_peer(&self, key: PublicKey, peer: PeerId) -> Result<bool, DriverError> {
        self.call(move |engine| engine.book.insert(&key, peer))
            .await
    }

    /// The transport peer the driver sends `key`'s session messages to, if it knows one.
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`].
    pub async fn address_of(&self, key: PublicKey) -> Result<Option<PeerId>, DriverError> {
        self.call(move |engine| engine.book.get(&key).cloned())
            .await
    }

    /// Blacklists `peer` by hand ([`Node::blacklist`]).
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`].
    pub async fn blacklist(&self, peer: PeerId) -> Result<(), DriverError> {
        self.call(move |engine| {
            let now = engine.now();
            engine.node.blacklist(now, &peer);
        })
        .await
    }

    /// Takes `peer` off the blacklist ([`Node::unblacklist`]); false if it was not on it.
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`].
    pub async fn unblacklist(&self, peer: PeerId) -> Result<bool, DriverError> {
        self.call(move |engine| engine.node.unblacklist(&peer))
            .await
    }

    /// A snapshot of session `session`, if the node keeps it.
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`].
    pub async fn session_status(
        &self,
        session: &SessionId,
    ) -> Result<Option<SessionStatus>, DriverError> {
        let session = *session;
        self.call(move |engine| {
            engine
                .node
                .session(&session)
                .map(|view| SessionStatus::of(&view))
        })
        .await
    }

    /// The ids of every session the node keeps.
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`].
    pub async fn session_ids(&self) -> Result<Vec<SessionId>, DriverError> {
        self.call(|engine| engine.node.session_ids().collect())
            .await
    }

    /// The final signature of session `session`, once it exists.
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`].
    pub async fn final_signature(
        &self,
        session: &SessionId,
    ) -> Result<Option<Signature>, DriverError> {
        let session = *session;
        self.call(move |engine| engine.node.final_signature(&session))
            .await
    }

    /// What the driver did since it started.
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`].
    pub async fn stats(&self) -> Result<DriverStats, DriverError> {
        self.call(|engine| engine.stats).await
    }

    /// Reads the node: its security manager, discovery state, rejection counters, ...
    ///
    /// `read` runs on the driver's task, between two inputs, so it should be quick.
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`].
    ///
    /// # Panics
    ///
    /// A panic in `read` ends the driver's task (and so the driver).
    pub async fn inspect<R, F>(&self, read: F) -> Result<R, DriverError>
    where
        R: Send + 'static,
        F: FnOnce(&Node) -> R + Send + 'static,
    {
        self.call(move |engine| read(&engine.node)).await
    }

    /// Stops the driver; resolves once its transport has been dropped.
    ///
    /// # Errors
    ///
    /// [`DriverError::Stopped`] when it had stopped already.
    pub async fn shutdown(&self) -> Result<(), DriverError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Shutdown(reply))
            .await
            .map_err(|_| DriverError::Stopped)?;
        answer.await.map_err(|_| DriverError::Stopped)
    }
}
