//! Wall-clock latency of a warm 2-party MuSig2 session over QUIC on 127.0.0.1.
//!
//! Two node drivers, each over a [`QuicTransport`], connect once; after a warm-up, every
//! measured session runs from the creator's `create_session` call until both signers
//! hold the final signature (the announcement, the join, both MuSig2 rounds and the
//! verification of every message and of the final signature, across real UDP sockets).
//! Sessions run one after another; the figures are the median and the 90th percentile.
//!
//! `cargo bench -p chorus-quic --bench sessions` (add `-- --quick` for a short run).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chorus_core::crypto::{Dialect, Keypair, SecretKey};
use chorus_core::node::{Event, Progress, SessionSpec};
use chorus_core::wire::SessionId;
use chorus_node::driver::{spawn, DriverConfig, NodeEvent, NodeEvents, NodeHandle};
use chorus_quic::{QuicConfig, QuicPeer, QuicTransport};
use tokio::sync::mpsc;

const WARM_UP: usize = 20;
const MEASURED: usize = 300;
const QUICK_MEASURED: usize = 100;

/// Joins what it is asked to, confirms broadcasts, and reports when a session's final
/// signature exists on this node.
async fn respond(
    index: usize,
    handle: NodeHandle,
    mut events: NodeEvents,
    done: mpsc::UnboundedSender<(usize, SessionId, Instant)>,
) {
    while let Some(event) = events.next().await {
        match event {
            NodeEvent::Session(Event::SessionComplete { session, .. }) => {
                // The benchmark stopped listening: nothing left to report to.
                let Ok(()) = done.send((index, session, Instant::now())) else {
                    return;
                };
            }
            NodeEvent::Session(Event::SessionAnnounced { session, .. }) => {
                let _ = handle.join_session(&session, Progress::Automatic).await;
            }
            NodeEvent::Session(Event::ShouldBroadcast { session, .. }) => {
                let _ = handle.notify_broadcast_complete(&session, session.0).await;
            }
            _ => {}
        }
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index]
}

async fn bench(measured: usize) -> Vec<Duration> {
    let signers: Vec<Keypair> = (1..=2u8)
        .map(|byte| Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap()))
        .collect();
    let mut transports = Vec::new();
    for signer in &signers {
        transports.push(
            QuicTransport::start(QuicConfig::default(), signer)
                .await
                .unwrap(),
        );
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
    let (done_tx, mut done) = mpsc::unbounded_channel();
    let mut handles = Vec::new();
    for (index, (signer, transport)) in signers.iter().zip(transports).enumerate() {
        let config = DriverConfig {
            route_unknown_keys_by_key: true,
            ..DriverConfig::default()
        };
        let node = spawn(*signer, transport, config).unwrap();
        tokio::spawn(respond(
            index,
            node.handle.clone(),
            node.events,
            done_tx.clone(),
        ));
        handles.push(node.handle);
    }
    let keys: Vec<_> = signers.iter().map(Keypair::public_key).collect();
    let mut latencies = Vec::with_capacity(measured);
    for round in 0..WARM_UP + measured {
        let mut message = [0x33; 32];
        message[..8].copy_from_slice(&(round as u64).to_be_bytes());
        let spec = SessionSpec::new(keys.clone(), message, Dialect::Bip340);
        let started = Instant::now();
        let session = handles[0].create_session(spec).await.unwrap();
        let mut finished = BTreeMap::new();
        while finished.len() < signers.len() {
            let (index, done_session, at) =
                tokio::time::timeout(Duration::from_secs(30), done.recv())
                    .await
                    .expect("a session took longer than 30 s")
                    .unwrap();
            if done_session == session {
                finished.insert(index, at);
            }
        }
        if round >= WARM_UP {
            let last = finished.values().max().copied().unwrap_or(started);
            latencies.push(last - started);
        }
    }
    for handle in &handles {
        handle.shutdown().await.unwrap();
    }
    latencies
}

fn main() {
    let quick = std::env::args().any(|argument| argument == "--quick");
    let measured = if quick { QUICK_MEASURED } else { MEASURED };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut latencies = runtime.block_on(bench(measured));
    latencies.sort();
    let millis = |duration: Duration| duration.as_secs_f64() * 1e3;
    println!(
        "warm 2-party session over QUIC on 127.0.0.1, request to final signature on both signers"
    );
    println!(
        "sessions: {}  median: {:.3} ms  p90: {:.3} ms  min: {:.3} ms  max: {:.3} ms",
        latencies.len(),
        millis(percentile(&latencies, 0.5)),
        millis(percentile(&latencies, 0.9)),
        millis(latencies[0]),
        millis(latencies[latencies.len() - 1]),
    );
}
