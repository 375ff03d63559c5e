//! Full MuSig2 signing sessions between node drivers over the QUIC transport on 127.0.0.1:
//! 2 and 10 signers, 100 sessions in a row, a signer that dies mid-session, a coordinator
//! that dies before broadcasting, and an impostor at a member's address.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use chorus_core::crypto::{self, Dialect, Keypair, SecretKey, Signature};
use chorus_core::discovery::{
    AdvertisementSpec, DiscoveryEvent, RequestSpec, SignerCriteria, SignerFilter,
};
use chorus_core::node::{CommandError, Config, Event, PeerId, Progress, SessionSpec};
use chorus_core::wire::{SessionId, MIN_BROADCAST_TIMEOUT_MS};
use chorus_node::driver::{spawn, DriverConfig, DriverError, NodeEvent, NodeHandle};
use chorus_quic::{QuicConfig, QuicPeer, QuicTransport};
use tokio::sync::mpsc;

/// Every test body runs under this limit.
const TEST_LIMIT: Duration = Duration::from_secs(120);

/// How long a session may go without progress in these tests before it is aborted.
const STUCK_TIMEOUT: Duration = Duration::from_secs(2);

fn run<F: std::future::Future<Output = ()>>(body: F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(TEST_LIMIT, body)
            .await
            .expect("the test timed out");
    });
}

fn signer(byte: u8) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
}

fn quic_config() -> QuicConfig {
    QuicConfig {
        idle_timeout: Duration::from_secs(5),
        keep_alive: Duration::from_secs(1),
        max_backoff: Duration::from_millis(500),
        ..QuicConfig::default()
    }
}

/// What a member's operator does with the session events that need an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Joins every announced session automatically and confirms every broadcast it is
    /// asked for.
    Honest,
    /// Joins with manual progress and never starts round 1.
    Stalls,
    /// Shuts its node down when asked to broadcast.
    DiesBeforeBroadcast,
}

/// Answers `index`'s node's events per `behaviour` and forwards every event to the test.
async fn operator(
    index: usize,
    behaviour: Behaviour,
    handle: NodeHandle,
    mut events: chorus_node::driver::NodeEvents,
    reports: mpsc::UnboundedSender<(usize, NodeEvent)>,
) {
    while let Some(event) = events.next().await {
        match &event {
            NodeEvent::Discovery(DiscoveryEvent::RequestReceived { request, .. }) => {
                handle
                    .join_request(request, Progress::Automatic)
                    .await
                    .unwrap();
            }
            NodeEvent::Session(Event::SessionAnnounced { session, .. }) => {
                let progress = match behaviour {
                    Behaviour::Stalls => Progress::Manual,
                    _ => Progress::Automatic,
                };
                // A session that grew out of a joined request is joined already.
                match handle.join_session(session, progress).await {
                    Ok(()) | Err(DriverError::Command(CommandError::AlreadyDone)) => {}
                    Err(error) => panic!("node {index} cannot join: {error}"),
                }
            }
            NodeEvent::Session(Event::ShouldBroadcast { session, .. }) => {
                if behaviour == Behaviour::DiesBeforeBroadcast {
                    let _ = reports.send((index, event.clone()));
                    handle.shutdown().await.unwrap();
                    return;
                }
                handle
                    .notify_broadcast_complete(session, session.0)
                    .await
                    .unwrap();
            }
            _ => {}
        }
        if reports.send((index, event)).is_err() {
            return;
        }
    }
}

/// Driver nodes over QUIC, fully connected, with their operators.
struct Group {
    signers: Vec<Keypair>,
    handles: Vec<NodeHandle>,
    reports: mpsc::UnboundedReceiver<(usize, NodeEvent)>,
}

impl Group {
    /// Starts one node per signer (the impostor, if any, listens at the last member's
    /// address in everyone else's peer list) and waits until the honest ones are connected.
    async fn start(signers: Vec<Keypair>, behaviours: &[Behaviour]) -> Group {
        let mut transports = Vec::new();
        for signer in &signers {
            transports.push(QuicTransport::start(quic_config(), signer).await.unwrap());
        }
        let peers: Vec<QuicPeer> = signers
            .iter()
            .zip(&transports)
            .map(|(signer, transport)| QuicPeer {
                key: signer.public_key(),
                address: transport.local_addr(),
            })
            .collect();
        for transport in &mut transports {
            for peer in &peers {
                transport.add_peer(*peer);
            }
        }
        let group = Group::spawn_nodes(signers, transports, behaviours);
        group.connected().await
    }

    fn spawn_nodes(
        signers: Vec<Keypair>,
        transports: Vec<QuicTransport>,
        behaviours: &[Behaviour],
    ) -> Group {
        let (report_tx, reports) = mpsc::unbounded_channel();
        let mut handles = Vec::new();
        for (index, (signer, transport)) in signers.iter().zip(transports).enumerate() {
            let config = DriverConfig {
                node: Config {
                    stuck_timeout: STUCK_TIMEOUT,
                    ..Config::default()
                },
                route_unknown_keys_by_key: true,
                ..DriverConfig::new(["spend"])
            };
            let node = spawn(*signer, transport, config).unwrap();
            let behaviour = behaviours.get(index).copied().unwrap_or(Behaviour::Honest);
            tokio::spawn(operator(
                index,
                behaviour,
                node.handle.clone(),
                node.events,
                report_tx.clone(),
            ));
            handles.push(node.handle);
        }
        Group {
            signers,
            handles,
            reports,
        }
    }

    /// Waits until every node reported a connection to every other one.
    async fn connected(mut self) -> Group {
        let size = self.signers.len();
        let mut connections: BTreeMap<usize, BTreeSet<PeerId>> = BTreeMap::new();
        while (0..size).any(|index| connections.get(&index).map_or(0, BTreeSet::len) < size - 1) {
            let (index, event) = self.reports.recv().await.unwrap();
            if let NodeEvent::PeerConnected { peer } = event {
                connections.entry(index).or_default().insert(peer);
            }
        }
        self
    }

    fn keys(&self) -> Vec<chorus_core::crypto::PublicKey> {
        self.signers.iter().map(Keypair::public_key).collect()
    }

    /// Creates a session from node `creator` signing `message`.
    async fn create(&self, creator: usize, message: [u8; 32]) -> SessionId {
        let mut spec = SessionSpec::new(self.keys(), message, Dialect::Bip340);
        spec.options.broadcast_timeout_ms = MIN_BROADCAST_TIMEOUT_MS;
        self.handles[creator].create_session(spec).await.unwrap()
    }

    /// Waits until every node in `nodes` has the final signature of `session` and a
    /// broadcast confirmation; returns the signature after checking that it verifies.
    async fn completed(
        &mut self,
        session: SessionId,
        message: [u8; 32],
        nodes: &[usize],
    ) -> Signature {
        let mut signatures = BTreeMap::new();
        let mut confirmed = BTreeSet::new();
        while nodes
            .iter()
            .any(|node| !signatures.contains_key(node) || !confirmed.contains(node))
        {
            let (index, event) = self.reports.recv().await.unwrap();
            match event {
                NodeEvent::Session(Event::SessionComplete {
                    session: done,
                    signature,
                }) if done == session => {
                    signatures.insert(index, signature);
                }
                NodeEvent::Session(Event::BroadcastConfirmed { session: done, .. })
                    if done == session =>
                {
                    confirmed.insert(index);
                }
                NodeEvent::Session(Event::SessionAborted {
                    session: done,
                    reason,
                }) if done == session => {
                    panic!("node {index} aborted the session: {reason:?}");
                }
                _ => {}
            }
        }
        let signature = signatures[&nodes[0]];
        assert!(
            nodes.iter().all(|node| signatures[node] == signature),
            "the nodes disagree on the signature"
        );
        let status = self.handles[nodes[0]]
            .session_status(&session)
            .await
            .unwrap()
            .unwrap();
        assert!(crypto::verify(
            Dialect::Bip340,
            &status.aggregate_key,
            &message,
            &signature
        ));
        signature
    }
}

fn message(index: u32) -> [u8; 32] {
    let mut message = [0x5a; 32];
    message[..4].copy_from_slice(&index.to_be_bytes());
    message
}

#[test]
fn two_signers_sign_over_quic() {
    run(async {
        let mut group = Group::start(vec![signer(1), signer(2)], &[]).await;
        let session = group.create(0, message(0)).await;
        group.completed(session, message(0), &[0, 1]).await;
    });
}

#[test]
fn signers_discover_each_other_and_sign_a_request_over_quic() {
    run(async {
        let mut group = Group::start(vec![signer(1), signer(2), signer(3)], &[]).await;
        for handle in &group.handles[1..] {
            let criteria = SignerCriteria::new(["spend"]);
            let spec = AdvertisementSpec::new(criteria, Duration::from_secs(600));
            handle.advertise(spec).await.unwrap();
        }
        let filter = SignerFilter {
            transaction_type: Some("spend".into()),
            ..SignerFilter::default()
        };
        let mut keys = Vec::new();
        while keys.len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let found = group.handles[0].find_signers(filter.clone()).await.unwrap();
            keys = found.iter().filter_map(|ad| ad.key().ok()).collect();
        }
        keys.push(group.handles[0].public_key());
        let spec = RequestSpec::new(keys, message(9), Dialect::Bip340, Duration::from_secs(600));
        group.handles[0]
            .announce_request(spec, Progress::Automatic)
            .await
            .unwrap();
        // The session id comes from the request; the first completion names it.
        let session = loop {
            let (_, event) = group.reports.recv().await.unwrap();
            if let NodeEvent::Session(Event::SessionComplete { session, signature }) = event {
                let status = group.handles[0]
                    .session_status(&session)
                    .await
                    .unwrap()
                    .unwrap();
                assert!(crypto::verify(
                    Dialect::Bip340,
                    &status.aggregate_key,
                    &message(9),
                    &signature
                ));
                break session;
            }
        };
        let mut confirmed = BTreeSet::new();
        while confirmed.len() < 3 {
            let (index, event) = group.reports.recv().await.unwrap();
            if let NodeEvent::Session(Event::BroadcastConfirmed { session: done, .. }) = event {
                assert_eq!(done, session);
                confirmed.insert(index);
            }
        }
        for handle in &group.handles {
            let status = handle.session_status(&session).await.unwrap().unwrap();
            assert!(status.final_signature.is_some());
        }
    });
}

#[test]
fn ten_signers_sign_over_quic() {
    run(async {
        let signers = (1..=10).map(signer).collect();
        let mut group = Group::start(signers, &[]).await;
        let session = group.create(3, message(0)).await;
        let everyone: Vec<usize> = (0..10).collect();
        group.completed(session, message(0), &everyone).await;
    });
}

#[test]
fn a_hundred_sessions_in_a_row_all_complete() {
    run(async {
        let mut group = Group::start(vec![signer(1), signer(2), signer(3)], &[]).await;
        let mut signatures = BTreeSet::new();
        for index in 0..100u32 {
            let creator = index as usize % 3;
            let session = group.create(creator, message(index)).await;
            let signature = group.completed(session, message(index), &[0, 1, 2]).await;
            assert!(
                signatures.insert(signature.0),
                "session {index} repeated a signature"
            );
        }
    });
}

#[test]
fn a_signer_killed_mid_session_leaves_the_others_aborting_not_hanging() {
    run(async {
        let behaviours = [Behaviour::Honest, Behaviour::Honest, Behaviour::Stalls];
        let mut group = Group::start(vec![signer(1), signer(2), signer(3)], &behaviours).await;
        let session = group.create(0, message(1)).await;
        // Wait until the stalling signer joined, then kill it.
        loop {
            let (index, event) = group.reports.recv().await.unwrap();
            if index == 0
                && matches!(event, NodeEvent::Session(Event::SessionReady { session: ready }) if ready == session)
            {
                break;
            }
        }
        group.handles[2].shutdown().await.unwrap();
        let victim = PeerId::from_key(&group.signers[2].public_key());
        let mut disconnected = BTreeSet::new();
        let mut aborted = BTreeSet::new();
        while aborted.len() < 2 || disconnected.len() < 2 {
            let (index, event) = group.reports.recv().await.unwrap();
            match event {
                NodeEvent::PeerDisconnected { peer } if peer == victim => {
                    disconnected.insert(index);
                }
                NodeEvent::Session(Event::SessionAborted { session: done, .. })
                    if done == session =>
                {
                    aborted.insert(index);
                }
                NodeEvent::Session(Event::SessionComplete { .. }) => {
                    panic!("a session without a signer completed")
                }
                _ => {}
            }
        }
        // The survivors still sign together.
        let mut survivors = Group {
            signers: group.signers[..2].to_vec(),
            handles: group.handles[..2].to_vec(),
            reports: group.reports,
        };
        let session = survivors.create(1, message(2)).await;
        survivors.completed(session, message(2), &[0, 1]).await;
    });
}

#[test]
fn a_coordinator_killed_before_broadcasting_is_failed_over() {
    run(async {
        let signers = vec![signer(1), signer(2), signer(3)];
        // The default election is lexicographic: the smallest key coordinates first.
        let mut order: Vec<usize> = (0..3).collect();
        order.sort_by_key(|index| signers[*index].public_key().serialize());
        let mut behaviours = [Behaviour::Honest; 3];
        behaviours[order[0]] = Behaviour::DiesBeforeBroadcast;
        let mut group = Group::start(signers, &behaviours).await;
        let session = group.create(order[1], message(3)).await;
        let survivors = [order[1], order[2]];
        let mut confirmed = BTreeSet::new();
        let mut coordinator_died = false;
        while confirmed.len() < 2 {
            let (index, event) = group.reports.recv().await.unwrap();
            match event {
                NodeEvent::Session(Event::ShouldBroadcast { attempt: 0, .. }) => {
                    assert_eq!(index, order[0]);
                    coordinator_died = true;
                }
                NodeEvent::Session(Event::ShouldBroadcast { attempt, .. }) => {
                    assert_eq!(
                        (index, attempt),
                        (order[1], 1),
                        "the next in line takes over"
                    );
                }
                NodeEvent::Session(Event::BroadcastConfirmed {
                    session: done,
                    signer,
                    ..
                }) if done == session => {
                    assert!(survivors.contains(&index));
                    assert_eq!(
                        group.signers[order[1]].public_key(),
                        group.keys_sorted()[signer]
                    );
                    confirmed.insert(index);
                }
                _ => {}
            }
        }
        assert!(coordinator_died);
    });
}

impl Group {
    fn keys_sorted(&self) -> Vec<chorus_core::crypto::PublicKey> {
        let mut keys = self.keys();
        keys.sort_by_key(|key| key.serialize());
        keys
    }
}

#[test]
fn an_impostor_at_a_members_address_is_refused() {
    run(async {
        // Carol is a member, but the address the others have for her is Mallory's.
        let (alice, bob, carol, mallory) = (signer(1), signer(2), signer(3), signer(4));
        let mut transports = Vec::new();
        for signer in [&alice, &bob, &mallory] {
            transports.push(QuicTransport::start(quic_config(), signer).await.unwrap());
        }
        let addresses: Vec<SocketAddr> = transports.iter().map(QuicTransport::local_addr).collect();
        let members = [
            QuicPeer {
                key: alice.public_key(),
                address: addresses[0],
            },
            QuicPeer {
                key: bob.public_key(),
                address: addresses[1],
            },
            QuicPeer {
                key: carol.public_key(),
                address: addresses[2],
            },
        ];
        for transport in &mut transports {
            for peer in &members {
                transport.add_peer(*peer);
            }
        }
        let mut group = Group::spawn_nodes(vec![alice, bob, mallory], transports, &[]);
        let session = {
            let mut spec = SessionSpec::new(
                vec![alice.public_key(), bob.public_key(), carol.public_key()],
                message(4),
                Dialect::Bip340,
            );
            spec.options.broadcast_timeout_ms = MIN_BROADCAST_TIMEOUT_MS;
            group.handles[0].create_session(spec).await.unwrap()
        };
        let (carol_id, mallory_id) = (
            PeerId::from_key(&carol.public_key()),
            PeerId::from_key(&mallory.public_key()),
        );
        let mut aborted = BTreeSet::new();
        let mut alice_bob_connected = 0;
        while aborted.len() < 2 {
            let (index, event) = group.reports.recv().await.unwrap();
            match event {
                NodeEvent::PeerConnected { peer } => {
                    assert!(index != 2, "the impostor connected to {peer}");
                    assert!(
                        peer != carol_id && peer != mallory_id,
                        "node {index} accepted the impostor"
                    );
                    alice_bob_connected += 1;
                }
                NodeEvent::Session(Event::SessionAnnounced { .. }) => {
                    assert!(index != 2, "the impostor heard the session");
                }
                NodeEvent::Session(Event::SessionAborted { session: done, .. })
                    if done == session =>
                {
                    aborted.insert(index);
                }
                NodeEvent::Session(Event::SessionComplete { .. }) => {
                    panic!("a session completed without Carol")
                }
                _ => {}
            }
        }
        assert_eq!(aborted, BTreeSet::from([0, 1]));
        assert_eq!(
            alice_bob_connected, 2,
            "alice and bob connect to each other only"
        );
        let stats = group.handles[2].stats().await.unwrap();
        assert_eq!(stats.messages_received, 0, "the impostor received messages");
    });
}
