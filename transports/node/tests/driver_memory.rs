//! Node drivers over the in-process network: the whole flow from advertisement to
//! broadcast confirmation for 2, 5 and 10 signers in both dialects, a node killed in the
//! middle of a session, a silent and a dead coordinator, direct sessions through the
//! address book, refused input, and clean shutdown. Every test runs under a deadline, so
//! nothing can hang.

use std::future::Future;
use std::time::{Duration, Instant};

use chorus_core::crypto::{self, Dialect, Keypair, PublicKey, SecretKey, Signature};
use chorus_core::discovery::{
    AdvertisementSpec, DiscoveryEvent, RequestSpec, SignerCriteria, SignerFilter,
};
use chorus_core::node::{AbortReason, Config, Event, PeerId, PhaseKind, Progress, SessionSpec};
use chorus_core::transport::{Outgoing, Transport};
use chorus_core::wire::{Channel, SessionId, SessionOptions, Topology, MIN_BROADCAST_TIMEOUT_MS};
use chorus_memory::MemoryNetwork;
use chorus_node::driver::{
    spawn, DriverConfig, DriverError, DriverReport, NodeEvent, NodeHandle, StopReason,
};
use rand::RngCore;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const TRANSACTION_ID: [u8; 32] = [0x77; 32];
/// Every test finishes well within this, or fails.
const TEST_DEADLINE: Duration = Duration::from_secs(60);

/// Runs `test` under [`TEST_DEADLINE`].
async fn within_deadline<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(TEST_DEADLINE, test)
        .await
        .expect("the test finished before its deadline");
}

fn random_keypair() -> Keypair {
    let mut rng = rand::rng();
    loop {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        if let Ok(secret) = SecretKey::from_secret_bytes(bytes) {
            return Keypair::from_secret_key(&secret);
        }
    }
}

/// What a node's wallet does with the events of its driver.
#[derive(Debug, Clone, Copy)]
struct Behaviour {
    /// How the node moves through the rounds of the requests it joins.
    progress: Progress,
    /// Failover attempts below this are ignored when the node is asked to broadcast.
    silent_attempts: u32,
    /// When asked to broadcast as the elected coordinator, the node dies instead.
    dies_as_coordinator: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            progress: Progress::Automatic,
            silent_attempts: 0,
            dies_as_coordinator: false,
        }
    }
}

/// One driven node and the wallet acting on its events.
struct TestNode {
    handle: NodeHandle,
    key: PublicKey,
    peer: PeerId,
    task: JoinHandle<DriverReport>,
    wallet: JoinHandle<Result<(), DriverError>>,
}

/// Nodes on one in-process network; every event any node emits arrives on `seen`.
struct Cluster {
    network: MemoryNetwork,
    nodes: Vec<TestNode>,
    seen: mpsc::Receiver<(usize, NodeEvent)>,
    /// Every event received so far, by node.
    log: Vec<Vec<NodeEvent>>,
}

impl Cluster {
    fn new(count: usize, behaviour: impl Fn(usize) -> Behaviour, node_config: Config) -> Self {
        let network = MemoryNetwork::new();
        let (report, seen) = mpsc::channel(100_000);
        let nodes = (0..count)
            .map(|index| {
                let config = DriverConfig {
                    node: node_config.clone(),
                    ..DriverConfig::new(["spend"])
                };
                let running = spawn(random_keypair(), network.transport(), config).unwrap();
                let handle = running.handle.clone();
                let wallet = tokio::spawn(wallet(
                    index,
                    behaviour(index),
                    running.handle.clone(),
                    running.events,
                    network.clone(),
                    report.clone(),
                ));
                TestNode {
                    key: handle.public_key(),
                    peer: handle.peer_id().clone(),
                    handle,
                    task: running.task,
                    wallet,
                }
            })
            .collect();
        Cluster {
            network,
            nodes,
            seen,
            log: vec![Vec::new(); count],
        }
    }

    /// Receives events until `done` holds for the log.
    async fn until(&mut self, done: impl Fn(&[Vec<NodeEvent>]) -> bool) {
        while !done(&self.log) {
            let (index, event) = self.seen.recv().await.expect("wallets are running");
            self.log[index].push(event);
        }
    }

    /// The session events node `index` has seen so far.
    fn session_events(&self, index: usize) -> impl Iterator<Item = &Event> {
        self.log[index].iter().filter_map(|event| match event {
            NodeEvent::Session(event) => Some(event),
            _ => None,
        })
    }

    fn saw(&self, index: usize, wanted: impl Fn(&Event) -> bool) -> bool {
        self.session_events(index).any(wanted)
    }

    /// Nodes 1.. advertise; node 0 waits until it has discovered all of them, then
    /// requests a signature from everyone; returns the request's session once every node
    /// derived it.
    async fn advertise_and_request(
        &mut self,
        dialect: Dialect,
        options: SessionOptions,
    ) -> SessionId {
        for node in &self.nodes[1..] {
            let spec =
                AdvertisementSpec::new(SignerCriteria::new(["spend"]), Duration::from_secs(600));
            node.handle.advertise(spec).await.unwrap();
        }
        let others = self.nodes.len() - 1;
        let filter = SignerFilter {
            transaction_type: Some("spend".into()),
            max_results: 1_000,
            ..SignerFilter::default()
        };
        let creator = self.nodes[0].handle.clone();
        let mut keys: Vec<PublicKey> = Vec::new();
        while keys.len() < others {
            tokio::time::sleep(Duration::from_millis(2)).await;
            keys = creator
                .find_signers(filter.clone())
                .await
                .unwrap()
                .iter()
                .map(|advertisement| advertisement.key().unwrap())
                .collect();
        }
        keys.push(creator.public_key());
        let mut spec = RequestSpec::new(keys, random_message(), dialect, Duration::from_secs(600));
        spec.options = options;
        creator
            .announce_request(spec, Progress::Automatic)
            .await
            .unwrap();
        let count = self.nodes.len();
        self.until(|log| (0..count).all(|index| ready_session(&log[index]).is_some()))
            .await;
        let session = ready_session(&self.log[0]).unwrap();
        for index in 0..count {
            assert_eq!(
                ready_session(&self.log[index]),
                Some(session),
                "node {index}"
            );
        }
        session
    }

    /// Waits until every node in `nodes` saw the broadcast confirmation of `session`.
    async fn until_confirmed(&mut self, session: SessionId, nodes: &[usize]) {
        self.until(|log| {
            nodes.iter().all(|index| {
                log[*index].iter().any(|event| {
                    matches!(event, NodeEvent::Session(Event::BroadcastConfirmed { session: confirmed, .. }) if *confirmed == session)
                })
            })
        })
        .await;
    }

    /// Every node in `nodes` holds the same signature, valid under the aggregate key, and
    /// its session is confirmed with [`TRANSACTION_ID`].
    async fn check_signed(&self, session: SessionId, nodes: &[usize]) -> Signature {
        let mut signatures = Vec::new();
        for index in nodes {
            let status = self.nodes[*index]
                .handle
                .session_status(&session)
                .await
                .unwrap()
                .expect("the session exists on every node");
            let signature = status.final_signature.expect("signed");
            let message = self.message_of(*index, session).await;
            assert!(crypto::verify(
                status.dialect,
                &status.aggregate_key,
                &message,
                &signature
            ));
            assert_eq!(
                status.confirmed_transaction.as_deref(),
                Some(&TRANSACTION_ID[..])
            );
            signatures.push(signature);
        }
        assert!(signatures
            .iter()
            .all(|signature| *signature == signatures[0]));
        signatures[0]
    }

    async fn message_of(&self, index: usize, session: SessionId) -> [u8; 32] {
        self.nodes[index]
            .handle
            .inspect(move |node| node.session(&session).map(|view| *view.message()))
            .await
            .unwrap()
            .expect("the session exists")
    }

    /// The nodes that were asked to broadcast `session`, with the attempt.
    fn broadcasters(&self, session: SessionId) -> Vec<(usize, u32)> {
        (0..self.nodes.len())
            .flat_map(|index| {
                self.session_events(index)
                    .filter_map(move |event| match event {
                        Event::ShouldBroadcast {
                            session: asked,
                            attempt,
                            ..
                        } if *asked == session => Some((index, *attempt)),
                        _ => None,
                    })
            })
            .collect()
    }

    fn index_of(&self, key: &PublicKey) -> usize {
        self.nodes
            .iter()
            .position(|node| node.key == *key)
            .expect("a cluster key")
    }

    /// No node refused anything or failed to route a message.
    fn assert_no_trouble(&self) {
        for (index, events) in self.log.iter().enumerate() {
            for event in events {
                assert!(
                    !matches!(
                        event,
                        NodeEvent::Rejected { .. }
                            | NodeEvent::Unroutable { .. }
                            | NodeEvent::Session(Event::SessionAborted { .. })
                    ),
                    "node {index}: {event:?}"
                );
            }
        }
    }

    /// Shuts every node down and checks that each driver and wallet ended cleanly.
    async fn shutdown(self) -> Vec<DriverReport> {
        let mut reports = Vec::new();
        for node in self.nodes {
            match node.handle.shutdown().await {
                Ok(()) | Err(DriverError::Stopped) => {}
                Err(error) => panic!("shutdown: {error}"),
            }
            reports.push(node.task.await.expect("the driver task ended normally"));
            node.wallet
                .await
                .expect("the wallet ended")
                .expect("the wallet had no error");
        }
        reports
    }
}

/// The first event of `events` that `pick` maps to something.
async fn next_matching<T>(
    events: &mut chorus_node::NodeEvents,
    pick: impl Fn(NodeEvent) -> Option<T>,
) -> T {
    loop {
        let event = events.next().await.expect("the driver is running");
        if let Some(picked) = pick(event) {
            return picked;
        }
    }
}

/// Joins `session` when it is announced; returns its signature.
async fn join_and_sign(
    handle: &NodeHandle,
    events: &mut chorus_node::NodeEvents,
    session: SessionId,
) -> Signature {
    loop {
        match events.next().await.expect("the driver is running") {
            NodeEvent::Session(Event::SessionAnnounced {
                session: announced, ..
            }) if announced == session => {
                handle
                    .join_session(&session, Progress::Automatic)
                    .await
                    .unwrap();
            }
            NodeEvent::Session(Event::SessionComplete {
                session: done,
                signature,
            }) if done == session => {
                return signature;
            }
            _ => {}
        }
    }
}

fn random_message() -> [u8; 32] {
    let mut message = [0u8; 32];
    rand::rng().fill_bytes(&mut message);
    message
}

fn ready_session(events: &[NodeEvent]) -> Option<SessionId> {
    events.iter().find_map(|event| match event {
        NodeEvent::Discovery(DiscoveryEvent::SessionReady(parameters)) => Some(parameters.session),
        _ => None,
    })
}

/// Joins every request for its key, broadcasts (or stays silent, or dies) when asked to,
/// and reports every event; ends when the driver's event stream does.
async fn wallet(
    index: usize,
    behaviour: Behaviour,
    handle: NodeHandle,
    mut events: chorus_node::NodeEvents,
    network: MemoryNetwork,
    report: mpsc::Sender<(usize, NodeEvent)>,
) -> Result<(), DriverError> {
    while let Some(event) = events.next().await {
        match &event {
            NodeEvent::Discovery(DiscoveryEvent::RequestReceived { request, .. }) => {
                handle.join_request(request, behaviour.progress).await?;
            }
            NodeEvent::Session(Event::ShouldBroadcast {
                session, attempt, ..
            }) => {
                if behaviour.dies_as_coordinator && *attempt == 0 {
                    network.kill(handle.peer_id());
                } else if *attempt >= behaviour.silent_attempts {
                    handle
                        .notify_broadcast_complete(session, TRANSACTION_ID)
                        .await?;
                }
            }
            _ => {}
        }
        // The test may have stopped listening; the wallet keeps acting regardless.
        let _ = report.send((index, event)).await;
    }
    Ok(())
}

async fn whole_flow(count: usize, dialect: Dialect, topology: Topology) {
    let started = Instant::now();
    let mut cluster = Cluster::new(count, |_| Behaviour::default(), Config::default());
    let options = SessionOptions {
        topology,
        ..SessionOptions::default()
    };
    let session = cluster.advertise_and_request(dialect, options).await;
    let everyone: Vec<usize> = (0..count).collect();
    cluster.until_confirmed(session, &everyone).await;
    cluster.check_signed(session, &everyone).await;

    let broadcasters = cluster.broadcasters(session);
    let status = cluster.nodes[0]
        .handle
        .session_status(&session)
        .await
        .unwrap()
        .unwrap();
    let coordinator = cluster.index_of(&status.election.coordinator);
    assert_eq!(
        broadcasters,
        [(coordinator, 0)],
        "the elected coordinator alone broadcasts"
    );
    assert_eq!(status.signers.len(), count);
    cluster.assert_no_trouble();
    for node in &cluster.nodes {
        let stats = node.handle.stats().await.unwrap();
        assert_eq!(stats.unroutable_transmits, 0);
        assert_eq!(stats.messages_rejected, 0);
    }
    let reports = cluster.shutdown().await;
    assert!(reports
        .iter()
        .all(|report| report.reason == StopReason::Shutdown));
    println!(
        "{count} signers, {dialect}, {topology}: signed and confirmed in {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_signers_from_advertisement_to_confirmation() {
    within_deadline(async {
        whole_flow(2, Dialect::Bip340, Topology::Mesh).await;
        whole_flow(2, Dialect::Lotus, Topology::Aggregator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_signers_from_advertisement_to_confirmation() {
    within_deadline(async {
        whole_flow(5, Dialect::Bip340, Topology::Aggregator).await;
        whole_flow(5, Dialect::Lotus, Topology::Mesh).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_signers_from_advertisement_to_confirmation() {
    within_deadline(async {
        whole_flow(10, Dialect::Bip340, Topology::Mesh).await;
        whole_flow(10, Dialect::Lotus, Topology::Aggregator).await;
    })
    .await;
}

/// Failover sessions wait the shortest broadcast timeout the protocol allows.
fn quick_failover(topology: Topology) -> SessionOptions {
    SessionOptions {
        topology,
        broadcast_timeout_ms: MIN_BROADCAST_TIMEOUT_MS,
        ..SessionOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_coordinator_is_replaced_by_the_backup() {
    within_deadline(async {
        let silent = Behaviour {
            silent_attempts: 1,
            ..Behaviour::default()
        };
        let mut cluster = Cluster::new(4, |_| silent, Config::default());
        let session = cluster
            .advertise_and_request(Dialect::Bip340, quick_failover(Topology::Aggregator))
            .await;
        let signed_at = Instant::now();
        let everyone: Vec<usize> = (0..4).collect();
        cluster.until_confirmed(session, &everyone).await;
        assert!(signed_at.elapsed() >= Duration::from_millis(MIN_BROADCAST_TIMEOUT_MS / 2));
        cluster.check_signed(session, &everyone).await;

        let status = cluster.nodes[0].handle.session_status(&session).await.unwrap().unwrap();
        let priority: Vec<usize> = status
            .election
            .priority
            .iter()
            .map(|sorted| cluster.index_of(&status.signers[*sorted]))
            .collect();
        let mut broadcasters = cluster.broadcasters(session);
        broadcasters.sort_by_key(|(_, attempt)| *attempt);
        assert_eq!(broadcasters, [(priority[0], 0), (priority[1], 1)]);
        // Whoever's timer fires first moves on; the backup's confirmation may reach the
        // others before their own timers fire.
        assert!(
            cluster.saw(priority[1], |event| matches!(
                event,
                Event::CoordinatorFailed { attempt: 0, coordinator, .. } if *coordinator == status.election.coordinator
            )),
            "the backup moved on from the silent coordinator"
        );
        cluster.assert_no_trouble();
        cluster.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_that_dies_after_signing_is_replaced() {
    within_deadline(async {
        let dies = Behaviour {
            dies_as_coordinator: true,
            ..Behaviour::default()
        };
        let mut cluster = Cluster::new(5, |_| dies, Config::default());
        let session = cluster
            .advertise_and_request(Dialect::Lotus, quick_failover(Topology::Mesh))
            .await;
        cluster
            .until(|log| {
                log.iter().flatten().any(|event| {
                    matches!(
                        event,
                        NodeEvent::Session(Event::ShouldBroadcast { attempt: 0, .. })
                    )
                })
            })
            .await;
        let (dead, _) = cluster.broadcasters(session)[0];
        let survivors: Vec<usize> = (0..5).filter(|index| *index != dead).collect();
        cluster.until_confirmed(session, &survivors).await;
        cluster.check_signed(session, &survivors).await;
        assert_eq!(cluster.broadcasters(session).len(), 2);
        assert!(!cluster.network.contains(&cluster.nodes[dead].peer));
        let reports = cluster.shutdown().await;
        assert_eq!(reports[dead].reason, StopReason::TransportClosed);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signer_killed_mid_session_leaves_the_others_to_abort_cleanly() {
    within_deadline(async {
        const VICTIM: usize = 2;
        let node_config = Config {
            stuck_timeout: Duration::from_millis(1_500),
            ..Config::default()
        };
        let behaviour = |index| Behaviour {
            // The victim joins but never shares its nonce, so the session is mid-way.
            progress: if index == VICTIM {
                Progress::Manual
            } else {
                Progress::Automatic
            },
            ..Behaviour::default()
        };
        let mut cluster = Cluster::new(4, behaviour, node_config);
        let session = cluster
            .advertise_and_request(Dialect::Bip340, SessionOptions::default())
            .await;
        let victim = cluster.nodes[VICTIM].peer.clone();
        assert!(cluster.network.kill(&victim));
        let survivors: Vec<usize> = (0..4).filter(|index| *index != VICTIM).collect();
        let aborted = |event: &NodeEvent, stuck_only: bool| {
            matches!(
                event,
                NodeEvent::Session(Event::SessionAborted { session: aborted, reason })
                    if *aborted == session && (!stuck_only || *reason == AbortReason::Stuck)
            )
        };
        cluster
            .until(|log| {
                survivors
                    .iter()
                    .all(|index| log[*index].iter().any(|event| aborted(event, false)))
            })
            .await;
        assert!(
            cluster
                .log
                .iter()
                .flatten()
                .any(|event| aborted(event, true)),
            "a survivor found the session stuck (and told the others)"
        );
        for index in &survivors {
            assert!(
                cluster.log[*index].contains(&NodeEvent::PeerDisconnected {
                    peer: victim.clone()
                }),
                "node {index} saw the victim go"
            );
            let status = cluster.nodes[*index]
                .handle
                .session_status(&session)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(status.phase, PhaseKind::Aborted);
            assert_eq!(status.final_signature, None);
        }
        assert_eq!(
            cluster.nodes[VICTIM].handle.stats().await,
            Err(DriverError::Stopped),
            "the victim's driver stopped with its transport"
        );
        let reports = cluster.shutdown().await;
        assert_eq!(reports[VICTIM].reason, StopReason::TransportClosed);
        for index in survivors {
            assert_eq!(reports[index].reason, StopReason::Shutdown);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_sessions_route_through_peers_added_by_hand() {
    within_deadline(async {
        let network = MemoryNetwork::new();
        let alice = spawn(
            random_keypair(),
            network.transport(),
            DriverConfig::default(),
        )
        .unwrap();
        let mut bob = spawn(
            random_keypair(),
            network.transport(),
            DriverConfig::default(),
        )
        .unwrap();
        let mut alice_events = alice.events;
        let signers = vec![alice.handle.public_key(), bob.handle.public_key()];
        let spec = SessionSpec::new(signers.clone(), [3; 32], Dialect::Lotus);

        // Without an address, the announcement cannot go anywhere.
        let lost = alice.handle.create_session(spec.clone()).await.unwrap();
        let unroutable = next_matching(&mut alice_events, |event| match event {
            NodeEvent::Unroutable { session, to } => Some((session, to)),
            _ => None,
        })
        .await;
        assert_eq!(unroutable, (lost, bob.handle.public_key()));
        assert_eq!(alice.handle.stats().await.unwrap().unroutable_transmits, 1);

        assert!(alice
            .handle
            .add_peer(bob.handle.public_key(), bob.handle.peer_id().clone())
            .await
            .unwrap());
        bob.handle
            .add_peer(alice.handle.public_key(), alice.handle.peer_id().clone())
            .await
            .unwrap();
        assert_eq!(
            alice
                .handle
                .address_of(bob.handle.public_key())
                .await
                .unwrap(),
            Some(bob.handle.peer_id().clone())
        );
        let session = alice.handle.create_session(spec).await.unwrap();
        let signature = join_and_sign(&bob.handle, &mut bob.events, session).await;
        // Alice may finish a moment after Bob, whichever of them aggregated.
        let alice_signature = next_matching(&mut alice_events, |event| match event {
            NodeEvent::Session(Event::SessionComplete {
                session: done,
                signature,
            }) if done == session => Some(signature),
            _ => None,
        })
        .await;
        assert_eq!(alice_signature, signature);
        assert_eq!(
            alice.handle.final_signature(&session).await.unwrap(),
            Some(signature)
        );
        let status = alice
            .handle
            .session_status(&session)
            .await
            .unwrap()
            .unwrap();
        assert!(crypto::verify(
            Dialect::Lotus,
            &status.aggregate_key,
            &[3; 32],
            &signature
        ));
        assert_eq!(alice.handle.session_ids().await.unwrap().len(), 2);
        alice.handle.shutdown().await.unwrap();
        bob.handle.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_input_is_reported_with_its_peer() {
    within_deadline(async {
        let network = MemoryNetwork::new();
        let mut node = spawn(
            random_keypair(),
            network.transport(),
            DriverConfig::default(),
        )
        .unwrap();
        let mut mallory = network.transport();
        mallory.send(Outgoing::Direct {
            to: node.handle.peer_id().clone(),
            channel: Channel::Direct,
            bytes: b"not a chorus message".to_vec(),
        });
        let rejected = next_matching(&mut node.events, |event| match event {
            NodeEvent::Rejected { peer, .. } => Some(peer),
            _ => None,
        })
        .await;
        assert_eq!(rejected, mallory.local_peer());
        let stats = node.handle.stats().await.unwrap();
        assert_eq!((stats.messages_received, stats.messages_rejected), (1, 1));
        node.handle.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_clean() {
    within_deadline(async {
        let network = MemoryNetwork::new();
        let mut watcher = spawn(
            random_keypair(),
            network.transport(),
            DriverConfig::default(),
        )
        .unwrap();
        let mut node = spawn(
            random_keypair(),
            network.transport(),
            DriverConfig::default(),
        )
        .unwrap();
        let peer = node.handle.peer_id().clone();
        let second_handle = node.handle.clone();
        let mut late_subscriber = node.handle.subscribe().await.unwrap();

        node.handle.shutdown().await.unwrap();
        assert!(!second_handle.is_running());
        second_handle.stopped().await;
        assert_eq!(second_handle.stats().await, Err(DriverError::Stopped));
        assert_eq!(second_handle.shutdown().await, Err(DriverError::Stopped));
        let report = node.task.await.unwrap();
        assert_eq!(report.reason, StopReason::Shutdown);
        assert!(!network.contains(&peer), "the transport was dropped");
        // Every subscription ends once its events are read.
        while node.events.next().await.is_some() {}
        while late_subscriber.next().await.is_some() {}
        let gone = next_matching(&mut watcher.events, |event| match event {
            NodeEvent::PeerDisconnected { peer } => Some(peer),
            _ => None,
        })
        .await;
        assert_eq!(gone, peer);

        // Dropping every handle stops a driver too.
        drop(watcher.handle);
        assert_eq!(
            watcher.task.await.unwrap().reason,
            StopReason::HandlesDropped
        );
        assert!(network.peers().is_empty());
    })
    .await;
}
