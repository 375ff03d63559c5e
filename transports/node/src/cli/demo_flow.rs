//! The flow `chorus demo` runs: N driver-backed signers advertise, one discovers the
//! others and requests signatures, everyone joins, signs, elects, broadcasts and confirms.
//!
//! Each signer runs a *wallet* task that acts on its driver's events the way a real wallet
//! would: it joins every request for its key and broadcasts when asked to — unless it is
//! one of the first `--silent-coordinators` in the failover order, in which case it
//! ignores the request and the next coordinator takes over once the broadcast timeout
//! passes ([`super::demo_wallet`]). The wallets report everything to the [`Observer`],
//! which prints progress and times the phases.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::driver::{spawn, DriverConfig, DriverReport, NodeEvent, NodeHandle};
use chorus_core::crypto::{self, Dialect, Keypair, PublicKey, Signature};
use chorus_core::discovery::{
    AdvertisementSpec, DiscoveryEvent, RequestId, RequestMetadata, RequestSpec, SignerCriteria,
    SignerFilter,
};
use chorus_core::node::{Event, PeerId, Progress};
use chorus_core::wire::{SessionId, SessionOptions, Topology};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::demo_print::Printer;
use super::demo_transports::DemoTransports;
use super::demo_wallet::{wallet, Report};
use super::keygen::random_secret_key;
use super::CliError;

/// The transaction type every demo signer advertises and every request names.
const TRANSACTION_TYPE: &str = "spend";

/// What the demo runs.
#[derive(Debug, Clone)]
pub(crate) struct DemoOptions {
    pub(crate) signers: usize,
    pub(crate) dialect: Dialect,
    pub(crate) topology: Topology,
    /// How many coordinators in a row ignore their turn to broadcast.
    pub(crate) silent_coordinators: u32,
    pub(crate) sessions: usize,
    pub(crate) broadcast_timeout_ms: u64,
    /// The longest wait for any one step.
    pub(crate) step_timeout: Duration,
}

/// A coordinator that did not confirm its broadcast in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failover {
    pub(crate) attempt: u32,
    pub(crate) node: usize,
    pub(crate) key: PublicKey,
}

/// One signed and broadcast session.
#[derive(Debug, Clone)]
pub(crate) struct SessionSummary {
    pub(crate) session: SessionId,
    pub(crate) message: [u8; 32],
    pub(crate) aggregate_key: PublicKey,
    pub(crate) signature: Signature,
    pub(crate) coordinator_node: usize,
    pub(crate) broadcaster_node: usize,
    pub(crate) broadcast_attempt: u32,
    pub(crate) failovers: Vec<Failover>,
    pub(crate) transaction_id: Vec<u8>,
    pub(crate) request_join: Duration,
    pub(crate) rounds: Duration,
    pub(crate) broadcast: Duration,
}

/// The whole run.
#[derive(Debug, Clone)]
pub(crate) struct DemoSummary {
    pub(crate) keys: Vec<PublicKey>,
    pub(crate) startup: Duration,
    pub(crate) discover: Duration,
    pub(crate) sessions: Vec<SessionSummary>,
    pub(crate) total: Duration,
}

/// One demo signer.
struct DemoNode {
    handle: NodeHandle,
    task: JoinHandle<DriverReport>,
    wallet: JoinHandle<()>,
}

/// Runs the whole demo over the transports `transports` makes.
pub(crate) async fn run<N: DemoTransports>(
    mut transports: N,
    options: &DemoOptions,
    printer: Printer<'_>,
) -> Result<DemoSummary, CliError> {
    let started = Instant::now();
    let (sender, reports) = mpsc::channel(65_536);
    let mut nodes = Vec::with_capacity(options.signers);
    let mut keys = Vec::with_capacity(options.signers);
    for index in 0..options.signers {
        let identity = Keypair::from_secret_key(&random_secret_key(&mut rand::rng()));
        let transport = transports.start(index, &identity).await?;
        let config = DriverConfig {
            route_unknown_keys_by_key: transports.routes_by_key(),
            ..DriverConfig::new([TRANSACTION_TYPE])
        };
        let running = spawn(identity, transport, config)
            .map_err(|error| CliError::Internal(format!("starting node {index}: {error}")))?;
        let silent = options.silent_coordinators;
        let wallet = tokio::spawn(wallet(
            index,
            silent,
            running.handle.clone(),
            running.events,
            sender.clone(),
        ));
        keys.push(identity.public_key());
        nodes.push(DemoNode {
            handle: running.handle,
            task: running.task,
            wallet,
        });
    }
    drop(sender);
    let mut observer = Observer::new(reports, printer, keys.clone(), options);
    let outcome = observer.drive(&nodes, options, &transports, started).await;
    drop(observer);
    let stopped = stop(nodes).await;
    let mut summary = outcome?;
    stopped?;
    summary.total = started.elapsed();
    Ok(summary)
}

/// Shuts every node down and waits for its driver and wallet.
async fn stop(nodes: Vec<DemoNode>) -> Result<(), CliError> {
    for node in &nodes {
        // A node whose driver stopped already has nothing left to shut down.
        let _ = node.handle.shutdown().await;
    }
    for (index, node) in nodes.into_iter().enumerate() {
        let ended = node.task.await.is_ok() && node.wallet.await.is_ok();
        if !ended {
            return Err(CliError::Internal(format!(
                "node {index} did not stop cleanly"
            )));
        }
    }
    Ok(())
}

/// What every node reported about the session under way.
#[derive(Debug)]
struct Tracker {
    request: RequestId,
    session: Option<SessionId>,
    ready: BTreeSet<usize>,
    signatures: BTreeMap<usize, Signature>,
    confirmed: BTreeMap<usize, (Vec<u8>, usize)>,
    elected: bool,
    nonce_attempts: BTreeSet<u32>,
    failed: BTreeMap<u32, PublicKey>,
    aggregator_failures: BTreeSet<u32>,
    asked: Vec<(usize, u32)>,
}

impl Tracker {
    fn new(request: RequestId) -> Self {
        Tracker {
            request,
            session: None,
            ready: BTreeSet::new(),
            signatures: BTreeMap::new(),
            confirmed: BTreeMap::new(),
            elected: false,
            nonce_attempts: BTreeSet::new(),
            failed: BTreeMap::new(),
            aggregator_failures: BTreeSet::new(),
            asked: Vec::new(),
        }
    }
}

/// Reads the wallets' reports, prints progress, and waits for each step.
struct Observer<'a> {
    reports: mpsc::Receiver<Report>,
    printer: Printer<'a>,
    keys: Vec<PublicKey>,
    connected: Vec<BTreeSet<PeerId>>,
    tracker: Option<Tracker>,
    step_timeout: Duration,
    broadcast_timeout_ms: u64,
}

impl<'a> Observer<'a> {
    fn new(
        reports: mpsc::Receiver<Report>,
        printer: Printer<'a>,
        keys: Vec<PublicKey>,
        options: &DemoOptions,
    ) -> Self {
        let connected = vec![BTreeSet::new(); keys.len()];
        Observer {
            reports,
            printer,
            keys,
            connected,
            tracker: None,
            step_timeout: options.step_timeout,
            broadcast_timeout_ms: options.broadcast_timeout_ms,
        }
    }

    /// The demo's steps, in order.
    async fn drive<N: DemoTransports>(
        &mut self,
        nodes: &[DemoNode],
        options: &DemoOptions,
        transports: &N,
        started: Instant,
    ) -> Result<DemoSummary, CliError> {
        let count = self.keys.len();
        self.wait("every signer to connect to every other", |observer| {
            observer
                .connected
                .iter()
                .all(|peers| peers.len() + 1 >= count)
        })
        .await?;
        self.drain_for(transports.settle()).await?;
        let startup = started.elapsed();
        self.printer.line(format_args!(
            "started {count} signers; each is connected to the {} others",
            count - 1
        ))?;

        let discover_started = Instant::now();
        let keys = self.discover(nodes).await?;
        let discover = discover_started.elapsed();
        let mut sessions = Vec::with_capacity(options.sessions);
        for number in 1..=options.sessions {
            let creator = nodes
                .first()
                .map(|node| &node.handle)
                .ok_or_else(|| CliError::Internal("no signers".to_owned()))?;
            sessions.push(self.sign(number, creator, &keys, options).await?);
        }
        Ok(DemoSummary {
            keys: self.keys.clone(),
            startup,
            discover,
            sessions,
            total: started.elapsed(),
        })
    }

    /// Every node but the first advertises; the first finds them all.
    async fn discover(&mut self, nodes: &[DemoNode]) -> Result<Vec<PublicKey>, CliError> {
        for (index, node) in nodes.iter().enumerate().skip(1) {
            let mut spec = AdvertisementSpec::new(
                SignerCriteria::new([TRANSACTION_TYPE]),
                Duration::from_secs(3_600),
            );
            spec.metadata.nickname = format!("demo signer {index}");
            node.handle.advertise(spec).await.map_err(|error| {
                CliError::Internal(format!("node {index} advertising: {error}"))
            })?;
        }
        self.printer.line(format_args!(
            "advertise: nodes 1..={} advertise \"{TRANSACTION_TYPE}\"",
            nodes.len() - 1
        ))?;
        let creator = nodes
            .first()
            .map(|node| node.handle.clone())
            .ok_or_else(|| CliError::Internal("no signers".to_owned()))?;
        let filter = SignerFilter {
            transaction_type: Some(TRANSACTION_TYPE.to_owned()),
            max_results: nodes.len(),
            ..SignerFilter::default()
        };
        let deadline = Instant::now() + self.step_timeout;
        let found = loop {
            let found: Vec<PublicKey> = creator
                .find_signers(filter.clone())
                .await
                .map_err(|error| CliError::Internal(format!("finding signers: {error}")))?
                .iter()
                .filter_map(|advertisement| advertisement.key().ok())
                .collect();
            if found.len() + 1 >= nodes.len() {
                break found;
            }
            if Instant::now() >= deadline {
                return Err(CliError::Internal(format!(
                    "the demo timed out: node 0 discovered {} of {} signers",
                    found.len(),
                    nodes.len() - 1
                )));
            }
            self.drain_for(Duration::from_millis(5)).await?;
        };
        self.printer.line(format_args!(
            "discover: node 0 found {} signers for \"{TRANSACTION_TYPE}\"",
            found.len()
        ))?;
        Ok(found
            .into_iter()
            .chain(std::iter::once(creator.public_key()))
            .collect())
    }

    /// One session: request, join, rounds, election, broadcast, confirmation.
    async fn sign(
        &mut self,
        number: usize,
        creator: &NodeHandle,
        keys: &[PublicKey],
        options: &DemoOptions,
    ) -> Result<SessionSummary, CliError> {
        let count = self.keys.len();
        let transaction =
            format!("demo transaction {number}: pay 0.{number:02} coins").into_bytes();
        let message: [u8; 32] = Sha256::digest(&transaction).into();
        let spec = RequestSpec {
            options: SessionOptions {
                topology: options.topology,
                broadcast_timeout_ms: options.broadcast_timeout_ms,
                ..SessionOptions::default()
            },
            metadata: RequestMetadata {
                transaction,
                amount: Some(
                    u64::try_from(number)
                        .unwrap_or(u64::MAX)
                        .saturating_mul(1_000_000),
                ),
                transaction_type: Some(TRANSACTION_TYPE.to_owned()),
                description: format!("chorus demo session {number}"),
            },
            ..RequestSpec::new(
                keys.to_vec(),
                message,
                options.dialect,
                Duration::from_secs(600),
            )
        };
        let announced = Instant::now();
        let request = creator
            .announce_request(spec, Progress::Automatic)
            .await
            .map_err(|error| CliError::Internal(format!("announcing the request: {error}")))?;
        self.tracker = Some(Tracker::new(request));
        self.printer.line(format_args!(
            "session {number}: node 0 requests a {count}-of-{count} {} signature of {}…",
            options.dialect,
            short(&message)
        ))?;
        self.wait("every signer to join", move |observer| {
            observer.tracked(|tracker| tracker.ready.len() >= count)
        })
        .await?;
        let ready = Instant::now();
        self.wait("the signature", move |observer| {
            observer.tracked(|tracker| tracker.signatures.len() >= count)
        })
        .await?;
        let signed = Instant::now();
        self.wait("the broadcast confirmation", move |observer| {
            observer.tracked(|tracker| tracker.confirmed.len() >= count)
        })
        .await?;
        let confirmed = Instant::now();
        let timings = (ready - announced, signed - ready, confirmed - signed);
        self.summarize(creator, message, timings).await
    }

    /// The finished session's summary, checked: one signature everywhere, valid under the
    /// aggregate key.
    async fn summarize(
        &mut self,
        creator: &NodeHandle,
        message: [u8; 32],
        (request_join, rounds, broadcast): (Duration, Duration, Duration),
    ) -> Result<SessionSummary, CliError> {
        let tracker = self
            .tracker
            .take()
            .ok_or_else(|| CliError::Internal("no session under way".to_owned()))?;
        let session = tracker
            .session
            .ok_or_else(|| CliError::Internal("the session never formed".to_owned()))?;
        let status = creator
            .session_status(&session)
            .await
            .ok()
            .flatten()
            .ok_or_else(|| CliError::Internal("the creator lost the session".to_owned()))?;
        let signature = status
            .final_signature
            .ok_or_else(|| CliError::Internal("the creator holds no signature".to_owned()))?;
        let agreed = tracker.signatures.values().all(|other| *other == signature);
        if !agreed || !crypto::verify(status.dialect, &status.aggregate_key, &message, &signature) {
            return Err(CliError::Internal(
                "the signers do not hold one valid signature".to_owned(),
            ));
        }
        let (transaction_id, confirmer) = tracker
            .confirmed
            .get(&0)
            .cloned()
            .ok_or_else(|| CliError::Internal("the creator saw no confirmation".to_owned()))?;
        let broadcaster_key = status
            .signers
            .get(confirmer)
            .ok_or_else(|| CliError::Internal("a confirmation from a stranger".to_owned()))?;
        let broadcaster_node = self.node_of(broadcaster_key)?;
        let broadcast_attempt = tracker
            .asked
            .iter()
            .filter(|(node, _)| *node == broadcaster_node)
            .map(|(_, attempt)| *attempt)
            .max()
            .unwrap_or_default();
        let failovers = tracker
            .failed
            .iter()
            .map(|(attempt, key)| {
                self.node_of(key).map(|node| Failover {
                    attempt: *attempt,
                    node,
                    key: *key,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(SessionSummary {
            session,
            message,
            aggregate_key: status.aggregate_key,
            signature,
            coordinator_node: self.node_of(&status.election.coordinator)?,
            broadcaster_node,
            broadcast_attempt,
            failovers,
            transaction_id,
            request_join,
            rounds,
            broadcast,
        })
    }

    fn node_of(&self, key: &PublicKey) -> Result<usize, CliError> {
        self.keys
            .iter()
            .position(|known| known == key)
            .ok_or_else(|| CliError::Internal("a key that belongs to no demo signer".to_owned()))
    }

    fn tracked(&self, done: impl Fn(&Tracker) -> bool) -> bool {
        self.tracker.as_ref().is_some_and(done)
    }

    /// Reads reports until `done` holds, for at most the step timeout.
    async fn wait(&mut self, what: &str, done: impl Fn(&Self) -> bool) -> Result<(), CliError> {
        let deadline = Instant::now() + self.step_timeout;
        while !done(self) {
            let report = tokio::time::timeout_at(deadline, self.reports.recv())
                .await
                .map_err(|_| CliError::Internal(format!("the demo timed out waiting for {what}")))?
                .ok_or_else(|| CliError::Internal("every signer stopped".to_owned()))?;
            self.observe(report)?;
        }
        Ok(())
    }

    /// Reads reports for `span`.
    async fn drain_for(&mut self, span: Duration) -> Result<(), CliError> {
        let deadline = Instant::now() + span;
        while let Ok(Some(report)) = tokio::time::timeout_at(deadline, self.reports.recv()).await {
            self.observe(report)?;
        }
        Ok(())
    }

    fn observe(&mut self, report: Report) -> Result<(), CliError> {
        match report {
            Report::Event(node, event) => self.observe_event(node, *event),
            Report::Silent { node, attempt } => {
                let who = name(&self.keys, node);
                self.printer.line(format_args!(
                    "broadcast: {who} is asked to broadcast (attempt {attempt}) and stays silent"
                ))
            }
            Report::Broadcast { node, attempt } => {
                let who = name(&self.keys, node);
                self.printer.line(format_args!(
                    "broadcast: {who} broadcasts the transaction (attempt {attempt})"
                ))
            }
            Report::Failed { node, error } => {
                Err(CliError::Internal(format!("node {node}: {error}")))
            }
        }
    }

    fn observe_event(&mut self, node: usize, event: NodeEvent) -> Result<(), CliError> {
        match event {
            NodeEvent::PeerConnected { peer } => {
                if let Some(peers) = self.connected.get_mut(node) {
                    peers.insert(peer);
                }
                Ok(())
            }
            NodeEvent::PeerDisconnected { peer } => {
                if let Some(peers) = self.connected.get_mut(node) {
                    peers.remove(&peer);
                }
                Ok(())
            }
            NodeEvent::Discovery(DiscoveryEvent::SessionReady(parameters)) => {
                let Some(tracker) = self.tracker.as_mut() else {
                    return Ok(());
                };
                if parameters.request != tracker.request {
                    return Ok(());
                }
                tracker.session = Some(parameters.session);
                let first = tracker.ready.is_empty();
                tracker.ready.insert(node);
                if first {
                    let id = short(&parameters.session.0);
                    let count = self.keys.len();
                    self.printer.line(format_args!(
                        "join: all {count} signers joined; session {id}… is ready"
                    ))?;
                }
                Ok(())
            }
            NodeEvent::Session(event) => self.observe_session(node, event),
            NodeEvent::Rejected { peer, rejection } => {
                let who = name(&self.keys, node);
                self.printer.line(format_args!(
                    "warning: {who} refused a message from peer {peer}: {rejection}"
                ))
            }
            NodeEvent::Unroutable { to, .. } => {
                let who = name(&self.keys, node);
                self.printer.line(format_args!(
                    "warning: {who} has no address for signer {}…",
                    short(&to.serialize())
                ))
            }
            _ => Ok(()),
        }
    }

    fn observe_session(&mut self, node: usize, event: Event) -> Result<(), CliError> {
        let keys = &self.keys;
        let Some(tracker) = self.tracker.as_mut() else {
            return Ok(());
        };
        if tracker.session != Some(event.session()) {
            return Ok(());
        }
        let line = match event {
            Event::FailoverExhausted { .. } => {
                return Err(CliError::Internal(
                    "every coordinator stayed silent: failover exhausted".to_owned(),
                ))
            }
            Event::SessionAborted { reason, .. } => {
                return Err(CliError::Internal(format!(
                    "node {node} aborted the session: {reason:?}"
                )))
            }
            Event::CoordinatorFailed { .. } | Event::BroadcastConfirmed { .. } => {
                tracker.broadcast_line(keys, self.broadcast_timeout_ms, node, event)
            }
            event => tracker.round_line(keys, node, event),
        };
        match line {
            Some(line) => self.printer.line(line),
            None => Ok(()),
        }
    }
}

impl Tracker {
    /// Records a round event of `node`; the progress line, the first time one is due.
    fn round_line(&mut self, keys: &[PublicKey], node: usize, event: Event) -> Option<String> {
        match event {
            Event::CoordinatorElected { coordinator, .. } if !self.elected => {
                self.elected = true;
                let who = name_of(keys, &coordinator);
                Some(format!("election: {who} is the coordinator"))
            }
            Event::NoncesComplete { attempt, .. } if self.nonce_attempts.insert(attempt) => {
                Some(format!("round 1: nonces exchanged (attempt {attempt})"))
            }
            Event::AggregatorFailed {
                attempt,
                aggregator,
                ..
            } if self.aggregator_failures.insert(attempt) => Some(format!(
                "round 1: aggregator {} went silent; restarting with fresh nonces",
                name_of(keys, &aggregator)
            )),
            Event::SessionComplete { signature, .. } => {
                let first = self.signatures.is_empty();
                self.signatures.insert(node, signature);
                first.then(|| {
                    let signature = short(&signature.0);
                    format!("round 2: partial signatures aggregated into {signature}…, verified")
                })
            }
            Event::ShouldBroadcast { attempt, .. } => {
                self.asked.push((node, attempt));
                None
            }
            _ => None,
        }
    }

    /// Records a failover or confirmation event of `node`; the progress line, when due.
    fn broadcast_line(
        &mut self,
        keys: &[PublicKey],
        timeout_ms: u64,
        node: usize,
        event: Event,
    ) -> Option<String> {
        let count = keys.len();
        match event {
            Event::CoordinatorFailed {
                attempt,
                coordinator,
                ..
            } => self
                .failed
                .insert(attempt, coordinator)
                .is_none()
                .then(|| failover_line(keys, &coordinator, timeout_ms)),
            Event::BroadcastConfirmed {
                transaction_id,
                signer,
                ..
            } => {
                self.confirmed.insert(node, (transaction_id, signer));
                (self.confirmed.len() == count).then(|| {
                    format!("confirmation: all {count} signers hold the signature and saw the broadcast")
                })
            }
            _ => None,
        }
    }
}

/// "node 3 (02ab12cd…)".
pub(crate) fn name(keys: &[PublicKey], node: usize) -> String {
    match keys.get(node) {
        Some(key) => format!("node {node} ({}…)", short(&key.serialize())),
        None => format!("node {node}"),
    }
}

/// The progress line of a coordinator that did not confirm in time.
fn failover_line(keys: &[PublicKey], coordinator: &PublicKey, timeout_ms: u64) -> String {
    format!(
        "failover: {} did not confirm within {timeout_ms} ms; the next coordinator takes over",
        name_of(keys, coordinator)
    )
}

/// The name of the node that holds `key`.
fn name_of(keys: &[PublicKey], key: &PublicKey) -> String {
    match keys.iter().position(|known| known == key) {
        Some(node) => name(keys, node),
        None => format!("{}…", short(&key.serialize())),
    }
}

/// The first 4 bytes in hex.
pub(crate) fn short(bytes: &[u8]) -> String {
    hex::encode(bytes.get(..4).unwrap_or(bytes))
}
