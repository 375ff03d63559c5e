//! Full signing sessions between node drivers over the libp2p transport on 127.0.0.1:
//! 2, 5 and 10 parties, 50 sessions in a row, a signer that dies mid-session and a
//! coordinator that dies after aggregation.

use std::time::Duration;

use chorus_core::crypto::{self, Dialect, Keypair, PublicKey, SecretKey, Signature};
use chorus_core::node::{Config, Event, Progress, SessionSpec};
use chorus_core::wire::{SessionId, SessionOptions, Topology};
use chorus_libp2p::{Libp2pConfig, Libp2pTransport};
use chorus_node::driver::{spawn, DriverConfig, DriverReport, NodeEvent, NodeHandle, StopReason};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Every test's overall limit.
const TEST_LIMIT: Duration = Duration::from_secs(120);

/// How long one awaited outcome may take.
const STEP_LIMIT: Duration = Duration::from_secs(30);

/// What one member does besides signing honestly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Joins, signs, and broadcasts when elected.
    Honest,
    /// Joins, shares its nonce, then stops its node before signing.
    DiesBeforeSigning,
    /// Signs, then stops its node instead of broadcasting when it is asked to.
    DiesInsteadOfBroadcasting,
}

/// Something a member's node reported about a session.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Complete(Signature),
    ShouldBroadcast(u32),
    CoordinatorFailed(u32),
    Confirmed,
    Aborted,
    Expired,
    Stopped,
    /// The transport could not deliver a message (kept for the failure report).
    Undeliverable(String),
    /// The node refused a message (kept for the failure report).
    Rejected(String),
}

#[derive(Debug, Clone)]
struct Report {
    member: usize,
    session: Option<SessionId>,
    outcome: Outcome,
}

struct Member {
    key: Keypair,
    handle: NodeHandle,
    task: JoinHandle<DriverReport>,
}

/// Nodes over libp2p, each with a responder task that acts on its events.
struct Group {
    members: Vec<Member>,
    reports: mpsc::UnboundedReceiver<Report>,
    log: Vec<Report>,
}

fn keypair(index: usize) -> Keypair {
    let mut secret = [0x17; 32];
    secret[24..].copy_from_slice(&(index as u64 + 1).to_be_bytes());
    Keypair::from_secret_key(&SecretKey::from_secret_bytes(secret).unwrap())
}

/// How long an honest group's session may go without progress; generous, as a debug
/// build on a busy machine is slow.
const PATIENT: Duration = Duration::from_secs(20);

/// A dead signer stalls its sessions; a short stuck timeout makes the survivors give up
/// fast.
const IMPATIENT: Duration = Duration::from_secs(3);

impl Group {
    /// Starts `count` nodes, each dialing every node started before it, and tells every
    /// driver which peer holds which key.
    async fn start(count: usize, stuck_timeout: Duration, role: impl Fn(usize) -> Role) -> Group {
        let (report, reports) = mpsc::unbounded_channel();
        let mut members = Vec::new();
        let mut bootstrap = Vec::new();
        for index in 0..count {
            let config = Libp2pConfig {
                bootstrap: bootstrap.clone(),
                ..Libp2pConfig::default()
            };
            let transport = Libp2pTransport::start(config).await.unwrap();
            bootstrap.extend(transport.listen_addrs());
            let key = keypair(index);
            let driver_config = DriverConfig {
                node: Config {
                    stuck_timeout,
                    ..Config::default()
                },
                ..DriverConfig::default()
            };
            let running = spawn(key, transport, driver_config).unwrap();
            tokio::spawn(responder(
                index,
                role(index),
                running.handle.clone(),
                running.events,
                report.clone(),
            ));
            members.push(Member {
                key,
                handle: running.handle,
                task: running.task,
            });
        }
        for member in &members {
            for other in &members {
                if other.key.public_key() != member.key.public_key() {
                    let peer = other.handle.peer_id().clone();
                    member
                        .handle
                        .add_peer(other.key.public_key(), peer)
                        .await
                        .unwrap();
                }
            }
        }
        Group {
            members,
            reports,
            log: Vec::new(),
        }
    }

    fn everyone(&self) -> Vec<usize> {
        (0..self.members.len()).collect()
    }

    async fn create(
        &self,
        creator: usize,
        message: [u8; 32],
        options: SessionOptions,
    ) -> SessionId {
        self.create_among(&self.everyone(), creator, message, options)
            .await
    }

    async fn create_among(
        &self,
        signers: &[usize],
        creator: usize,
        message: [u8; 32],
        options: SessionOptions,
    ) -> SessionId {
        let keys = signers
            .iter()
            .map(|&m| self.members[m].key.public_key())
            .collect();
        let spec = SessionSpec {
            options,
            ..SessionSpec::new(keys, message, Dialect::Bip340)
        };
        self.members[creator]
            .handle
            .create_session(spec)
            .await
            .unwrap()
    }

    /// Reads reports until `done` holds on everything reported so far.
    async fn wait_for(&mut self, what: &str, mut done: impl FnMut(&[Report]) -> bool) {
        let waited = tokio::time::timeout(STEP_LIMIT, async {
            while !done(&self.log) {
                let report = self.reports.recv().await.expect("responders run");
                self.log.push(report);
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "timed out waiting for {what}: {:#?}",
            self.log
        );
    }

    fn reported(&self, member: usize, session: &SessionId, outcome: &Outcome) -> bool {
        self.log.iter().any(|r| {
            r.member == member && r.session.as_ref() == Some(session) && r.outcome == *outcome
        })
    }

    fn signature_of(&self, member: usize, session: &SessionId) -> Option<Signature> {
        self.log
            .iter()
            .find_map(|r| match (&r.outcome, r.session.as_ref()) {
                (Outcome::Complete(signature), Some(s)) if r.member == member && s == session => {
                    Some(*signature)
                }
                _ => None,
            })
    }

    /// Runs one session of every member to its broadcast confirmation everywhere and
    /// checks the signature each member got.
    async fn sign(&mut self, creator: usize, message: [u8; 32], topology: Topology) -> SessionId {
        self.sign_among(&self.everyone(), creator, message, topology)
            .await
    }

    /// [`Group::sign`] with `signers` only.
    async fn sign_among(
        &mut self,
        signers: &[usize],
        creator: usize,
        message: [u8; 32],
        topology: Topology,
    ) -> SessionId {
        let options = SessionOptions {
            topology,
            ..SessionOptions::default()
        };
        let session = self.create_among(signers, creator, message, options).await;
        self.wait_for("every signer to sign and see the broadcast", |log| {
            signers.iter().all(|&member| {
                let mine = |outcome: fn(&Outcome) -> bool| {
                    log.iter().any(|r| {
                        r.member == member && r.session == Some(session) && outcome(&r.outcome)
                    })
                };
                mine(|o| matches!(o, Outcome::Complete(_))) && mine(|o| *o == Outcome::Confirmed)
            })
        })
        .await;
        let status = self.members[creator]
            .handle
            .session_status(&session)
            .await
            .unwrap()
            .expect("the creator keeps its session");
        let signature = self.signature_of(creator, &session).unwrap();
        assert!(crypto::verify(
            Dialect::Bip340,
            &status.aggregate_key,
            &message,
            &signature
        ));
        for &member in signers {
            assert_eq!(self.signature_of(member, &session), Some(signature));
        }
        session
    }

    async fn shutdown(self) {
        for member in &self.members {
            let _ = member.handle.shutdown().await;
        }
        for member in self.members {
            let report = member.task.await.unwrap();
            assert!(matches!(
                report.reason,
                StopReason::Shutdown | StopReason::HandlesDropped
            ));
        }
    }
}

/// Acts on one member's events and reports session outcomes.
async fn responder(
    member: usize,
    role: Role,
    handle: NodeHandle,
    mut events: chorus_node::driver::NodeEvents,
    report: mpsc::UnboundedSender<Report>,
) {
    let send = |session: Option<SessionId>, outcome: Outcome| {
        let _ = report.send(Report {
            member,
            session,
            outcome,
        });
    };
    while let Some(event) = events.next().await {
        let event = match event {
            NodeEvent::Session(event) => event,
            NodeEvent::Undeliverable { peer, reason } => {
                send(None, Outcome::Undeliverable(format!("{peer}: {reason}")));
                continue;
            }
            NodeEvent::Rejected { peer, rejection } => {
                send(None, Outcome::Rejected(format!("{peer}: {rejection}")));
                continue;
            }
            _ => continue,
        };
        match event {
            Event::SessionAnnounced { session, .. } => {
                let progress = match role {
                    Role::DiesBeforeSigning => Progress::Manual,
                    _ => Progress::Automatic,
                };
                let _ = handle.join_session(&session, progress).await;
            }
            Event::SessionReady { session } if role == Role::DiesBeforeSigning => {
                let _ = handle.start_round1(&session).await;
            }
            Event::NoncesComplete { .. } if role == Role::DiesBeforeSigning => {
                let _ = handle.shutdown().await;
                send(None, Outcome::Stopped);
                return;
            }
            Event::SessionComplete { session, signature } => {
                send(Some(session), Outcome::Complete(signature));
            }
            Event::ShouldBroadcast {
                session, attempt, ..
            } => {
                send(Some(session), Outcome::ShouldBroadcast(attempt));
                if role == Role::DiesInsteadOfBroadcasting {
                    // Its own partial signature may still be on its way to the others
                    // (which need it to finish too); once that is out, it dies silent.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let _ = handle.shutdown().await;
                    send(None, Outcome::Stopped);
                    return;
                }
                let transaction = [member as u8; 32];
                let _ = handle
                    .notify_broadcast_complete(&session, transaction)
                    .await;
            }
            Event::CoordinatorFailed {
                session, attempt, ..
            } => send(Some(session), Outcome::CoordinatorFailed(attempt)),
            Event::BroadcastConfirmed { session, .. } => send(Some(session), Outcome::Confirmed),
            Event::SessionAborted { session, .. } => send(Some(session), Outcome::Aborted),
            Event::SessionExpired { session } => send(Some(session), Outcome::Expired),
            _ => {}
        }
    }
}

async fn within_limit(body: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(TEST_LIMIT, body)
        .await
        .expect("test finished within its limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_parties_sign_over_libp2p() {
    within_limit(async {
        let mut group = Group::start(2, PATIENT, |_| Role::Honest).await;
        group.sign(0, [0x21; 32], Topology::Mesh).await;
        group.sign(1, [0x22; 32], Topology::Aggregator).await;
        group.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_parties_sign_over_libp2p() {
    within_limit(async {
        let mut group = Group::start(5, PATIENT, |_| Role::Honest).await;
        group.sign(2, [0x51; 32], Topology::Mesh).await;
        group.sign(4, [0x52; 32], Topology::Aggregator).await;
        group.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_parties_sign_over_libp2p() {
    within_limit(async {
        let mut group = Group::start(10, PATIENT, |_| Role::Honest).await;
        group.sign(7, [0xa1; 32], Topology::Mesh).await;
        group.sign(3, [0xa2; 32], Topology::Aggregator).await;
        group.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_sessions_in_a_row_on_the_same_three_nodes() {
    within_limit(async {
        let mut group = Group::start(3, PATIENT, |_| Role::Honest).await;
        let mut sessions = Vec::new();
        for round in 0..50u8 {
            let topology = if round % 2 == 0 {
                Topology::Mesh
            } else {
                Topology::Aggregator
            };
            let session = group
                .sign(usize::from(round % 3), [round; 32], topology)
                .await;
            sessions.push(session);
        }
        sessions.sort();
        sessions.dedup();
        assert_eq!(sessions.len(), 50);
        for member in &group.members {
            let stats = member.handle.stats().await.unwrap();
            assert_eq!(stats.messages_rejected, 0);
            assert_eq!(stats.unroutable_transmits, 0);
        }
        group.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signer_killed_mid_session_makes_the_others_abort() {
    within_limit(async {
        const VICTIM: usize = 2;
        let role = |index| {
            if index == VICTIM {
                Role::DiesBeforeSigning
            } else {
                Role::Honest
            }
        };
        let mut group = Group::start(4, IMPATIENT, role).await;
        let options = SessionOptions {
            topology: Topology::Mesh,
            ..SessionOptions::default()
        };
        let session = group.create(0, [0x66; 32], options).await;
        group
            .wait_for("the victim to stop", |log| {
                log.iter()
                    .any(|r| r.member == VICTIM && r.outcome == Outcome::Stopped)
            })
            .await;
        group
            .wait_for("every survivor to give the session up", |log| {
                [0, 1, 3].iter().all(|&member| {
                    log.iter().any(|r| {
                        r.member == member
                            && r.session == Some(session)
                            && matches!(r.outcome, Outcome::Aborted | Outcome::Expired)
                    })
                })
            })
            .await;
        for survivor in [0, 1, 3] {
            assert!(group.signature_of(survivor, &session).is_none());
        }
        assert!(!group.members[VICTIM].handle.is_running());
        // Nothing is left hanging: the survivors sign together at once.
        group
            .sign_among(&[0, 1, 3], 1, [0x67; 32], Topology::Aggregator)
            .await;
        group.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_killed_after_aggregation_is_replaced_by_a_backup() {
    within_limit(async {
        // The lexicographic election picks the smallest key; find whose that is.
        let keys: Vec<PublicKey> = (0..4).map(|i| keypair(i).public_key()).collect();
        let coordinator = (0..4)
            .min_by_key(|&i| keys[i].serialize())
            .expect("four keys");
        let role = move |index| {
            if index == coordinator {
                Role::DiesInsteadOfBroadcasting
            } else {
                Role::Honest
            }
        };
        let mut group = Group::start(4, IMPATIENT, role).await;
        let creator = (coordinator + 1) % 4;
        let options = SessionOptions {
            topology: Topology::Mesh,
            broadcast_timeout_ms: 1_000,
            ..SessionOptions::default()
        };
        let message = [0x99; 32];
        let session = group.create(creator, message, options).await;
        let survivors: Vec<usize> = (0..4).filter(|&i| i != coordinator).collect();
        group
            .wait_for(
                "a backup to broadcast and everyone left to hear of it",
                |log| {
                    survivors.iter().all(|&member| {
                        log.iter().any(|r| {
                            r.member == member
                                && r.session == Some(session)
                                && r.outcome == Outcome::Confirmed
                        })
                    })
                },
            )
            .await;
        assert!(group.reported(coordinator, &session, &Outcome::ShouldBroadcast(0)));
        let backups: Vec<usize> = survivors
            .iter()
            .copied()
            .filter(|&m| group.reported(m, &session, &Outcome::ShouldBroadcast(1)))
            .collect();
        assert_eq!(backups.len(), 1, "exactly one backup broadcasts");
        // The backup took over when its broadcast timer fired; the others may have heard
        // of its broadcast before theirs did.
        assert!(group.reported(backups[0], &session, &Outcome::CoordinatorFailed(0)));
        for &member in &survivors {
            let signature = group.signature_of(member, &session).unwrap();
            let status = group.members[member]
                .handle
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
            assert_eq!(
                status.confirmed_transaction,
                Some(vec![backups[0] as u8; 32])
            );
        }
        group.shutdown().await;
    })
    .await;
}
