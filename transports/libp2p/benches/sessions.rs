//! Warm signing sessions over libp2p on 127.0.0.1, through the node driver: the time from
//! `create_session` to the creator's final signature, for 2 and 5 signers in both
//! topologies.
//!
//! `cargo bench -p chorus-libp2p --bench sessions [-- SESSIONS]` (default 200 sessions in
//! a row per case, after 10 uncounted warm-up sessions). Prints the median, p90 and
//! slowest latency, how many sessions failed (aborted, or no signature in 5 s), and the
//! process CPU time per session (the work of every node together, broadcast confirmation
//! included, which a busy machine does not inflate).

use std::time::{Duration, Instant};

use chorus_core::crypto::{Dialect, Keypair, SecretKey};
use chorus_core::node::{Event, Progress, SessionSpec};
use chorus_core::wire::{SessionId, SessionOptions, Topology};
use chorus_libp2p::{Libp2pConfig, Libp2pTransport};
use chorus_node::driver::{spawn, DriverConfig, NodeEvent, NodeEvents, NodeHandle};
use tokio::sync::mpsc;

/// Sessions run before measuring, so that every connection is up.
const WARM_UP: usize = 10;

/// How long one session may take before it counts as failed.
const SESSION_LIMIT: Duration = Duration::from_secs(5);

/// What a member's responder reports to the benchmark.
enum Report {
    /// The creator has the final signature.
    Signed(SessionId),
    /// A member heard the broadcast confirmed.
    Confirmed(SessionId),
    /// A member gave the session up.
    Failed(SessionId),
}

fn keypair(index: usize) -> Keypair {
    let mut secret = [0x2b; 32];
    secret[24..].copy_from_slice(&(index as u64 + 1).to_be_bytes());
    Keypair::from_secret_key(&SecretKey::from_secret_bytes(secret).expect("a valid key"))
}

/// Joins what it is asked to, confirms the broadcasts it is elected for, and reports.
async fn responder(
    creator: bool,
    handle: NodeHandle,
    mut events: NodeEvents,
    report: mpsc::UnboundedSender<Report>,
) {
    while let Some(event) = events.next().await {
        let NodeEvent::Session(event) = event else {
            continue;
        };
        let message = match event {
            Event::SessionAnnounced { session, .. } => {
                let _ = handle.join_session(&session, Progress::Automatic).await;
                continue;
            }
            Event::ShouldBroadcast { session, .. } => {
                let _ = handle.notify_broadcast_complete(&session, [1; 32]).await;
                continue;
            }
            Event::SessionComplete { session, .. } if creator => Report::Signed(session),
            Event::BroadcastConfirmed { session, .. } => Report::Confirmed(session),
            Event::SessionAborted { session, .. } | Event::SessionExpired { session } => {
                Report::Failed(session)
            }
            _ => continue,
        };
        if report.send(message).is_err() {
            return;
        }
    }
}

/// Starts `count` nodes that all know each other; the first one creates the sessions.
async fn start(count: usize) -> (Vec<NodeHandle>, mpsc::UnboundedReceiver<Report>) {
    let (report, reports) = mpsc::unbounded_channel();
    let mut handles: Vec<NodeHandle> = Vec::new();
    let mut bootstrap = Vec::new();
    for index in 0..count {
        let config = Libp2pConfig {
            bootstrap: bootstrap.clone(),
            ..Libp2pConfig::default()
        };
        let transport = Libp2pTransport::start(config).await.expect("node starts");
        bootstrap.extend(transport.listen_addrs());
        let running =
            spawn(keypair(index), transport, DriverConfig::default()).expect("in a runtime");
        tokio::spawn(responder(
            index == 0,
            running.handle.clone(),
            running.events,
            report.clone(),
        ));
        handles.push(running.handle);
    }
    for (i, handle) in handles.iter().enumerate() {
        for (j, other) in handles.iter().enumerate() {
            if i != j {
                let key = keypair(j).public_key();
                handle
                    .add_peer(key, other.peer_id().clone())
                    .await
                    .expect("driver runs");
            }
        }
    }
    (handles, reports)
}

/// Runs one session; returns its latency to the creator's signature, or `None` if it
/// failed. Waits for every member's broadcast confirmation before returning.
async fn one_session(
    handles: &[NodeHandle],
    reports: &mut mpsc::UnboundedReceiver<Report>,
    topology: Topology,
    round: usize,
) -> Option<Duration> {
    let mut message = [0u8; 32];
    message[..8].copy_from_slice(&(round as u64).to_be_bytes());
    let keys = (0..handles.len())
        .map(|i| keypair(i).public_key())
        .collect();
    let spec = SessionSpec {
        options: SessionOptions {
            topology,
            ..SessionOptions::default()
        },
        ..SessionSpec::new(keys, message, Dialect::Bip340)
    };
    let started = Instant::now();
    let session = handles[0].create_session(spec).await.ok()?;
    let mut signed = None;
    let mut confirmed = 0;
    let deadline = tokio::time::Instant::now() + SESSION_LIMIT;
    while signed.is_none() || confirmed < handles.len() {
        let report = tokio::time::timeout_at(deadline, reports.recv()).await;
        match report {
            Ok(Some(Report::Signed(s))) if s == session => signed = Some(started.elapsed()),
            Ok(Some(Report::Confirmed(s))) if s == session => confirmed += 1,
            Ok(Some(Report::Failed(s))) if s == session => return None,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return None,
        }
    }
    signed
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

async fn bench(signers: usize, topology: Topology, sessions: usize) {
    let (handles, mut reports) = start(signers).await;
    for round in 0..WARM_UP {
        one_session(&handles, &mut reports, topology, round).await;
    }
    let mut latencies = Vec::with_capacity(sessions);
    let mut failures = 0;
    let cpu = cpu_time::ProcessTime::now();
    for round in WARM_UP..WARM_UP + sessions {
        match one_session(&handles, &mut reports, topology, round).await {
            Some(latency) => latencies.push(latency),
            None => failures += 1,
        }
    }
    // Every node, driver and responder runs in this process: its CPU time per session is what
    // one session costs the whole group, whatever else the machine is doing.
    let cpu_per_session = cpu.elapsed() / sessions.max(1) as u32;
    latencies.sort();
    println!(
        "{signers} signers, {topology:?}: median {:.2} ms, p90 {:.2} ms, max {:.2} ms over {} sessions, {failures} failed; {:.2} ms CPU per session (all nodes)",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.9).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        latencies.len(),
        cpu_per_session.as_secs_f64() * 1e3,
    );
    for handle in &handles {
        let _ = handle.shutdown().await;
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a number sets the sessions per case.
    let sessions = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(200);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    println!("warm sessions over libp2p on 127.0.0.1, request to final signature at the creator");
    for (signers, topology) in [
        (2, Topology::Mesh),
        (2, Topology::Aggregator),
        (5, Topology::Mesh),
        (5, Topology::Aggregator),
    ] {
        runtime.block_on(bench(signers, topology, sessions));
    }
}
