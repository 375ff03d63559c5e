//! A handful of libp2p transports on 127.0.0.1, all driven from the test's own task.

#![allow(dead_code, unreachable_pub)]

use std::future::poll_fn;
use std::task::Poll;
use std::time::Duration;

use chorus_core::node::PeerId;
use chorus_core::transport::{Incoming, Transport};
use chorus_core::wire::Channel;
use chorus_libp2p::{Libp2pConfig, Libp2pTransport, Multiaddr};

/// Every test's overall limit.
pub const TEST_LIMIT: Duration = Duration::from_secs(60);

/// How long one step of a test may take.
pub const STEP_LIMIT: Duration = Duration::from_secs(20);

/// Nodes and everything each has received so far.
pub struct Net {
    pub nodes: Vec<Libp2pTransport>,
    pub inbox: Vec<Vec<Incoming>>,
}

/// How the nodes of a [`Net`] are connected at start.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Node `i` dials every node before it.
    Mesh,
    /// Node `i` dials node `i - 1` only.
    Line,
    /// Nobody dials anybody.
    Isolated,
}

impl Net {
    /// Starts `count` nodes connected as `shape`, each configured by `configure`, and
    /// waits until every expected connection is up.
    pub async fn start(
        count: usize,
        shape: Shape,
        configure: impl Fn(Libp2pConfig) -> Libp2pConfig,
    ) -> Net {
        let mut net = Net {
            nodes: Vec::new(),
            inbox: Vec::new(),
        };
        for _ in 0..count {
            let bootstrap: Vec<Multiaddr> = match shape {
                Shape::Isolated => Vec::new(),
                Shape::Mesh => net.nodes.iter().flat_map(|n| n.listen_addrs()).collect(),
                Shape::Line => net
                    .nodes
                    .last()
                    .map(|n| n.listen_addrs())
                    .unwrap_or_default(),
            };
            let config = configure(Libp2pConfig {
                bootstrap,
                ..Libp2pConfig::default()
            });
            let node = Libp2pTransport::start(config).await.expect("node starts");
            net.nodes.push(node);
            net.inbox.push(Vec::new());
        }
        net.run_until(|net| {
            (0..count).all(|i| {
                let expected = match shape {
                    Shape::Mesh => count - 1,
                    Shape::Line => usize::from(i > 0) + usize::from(i + 1 < count),
                    Shape::Isolated => 0,
                };
                net.nodes[i].connected_peers().len() >= expected
            })
        })
        .await;
        net
    }

    pub fn peer(&self, index: usize) -> PeerId {
        self.nodes[index].local_peer()
    }

    /// Drives every node until `done` holds, failing the test after [`STEP_LIMIT`].
    pub async fn run_until(&mut self, mut done: impl FnMut(&Net) -> bool) {
        let finished = tokio::time::timeout(
            STEP_LIMIT,
            poll_fn(|cx| {
                self.poll_all(cx);
                if done(self) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }),
        )
        .await;
        assert!(finished.is_ok(), "step did not finish in {STEP_LIMIT:?}");
    }

    /// Drives every node for `duration`.
    pub async fn run_for(&mut self, duration: Duration) {
        let _ = tokio::time::timeout(
            duration,
            poll_fn(|cx| {
                self.poll_all(cx);
                Poll::<()>::Pending
            }),
        )
        .await;
    }

    fn poll_all(&mut self, cx: &mut std::task::Context<'_>) {
        for (node, inbox) in self.nodes.iter_mut().zip(self.inbox.iter_mut()) {
            while let Poll::Ready(Some(item)) = node.poll_incoming(cx) {
                inbox.push(item);
            }
        }
    }

    /// The messages node `index` has received on `channel`, as (from, bytes).
    pub fn messages(&self, index: usize, channel: Channel) -> Vec<(PeerId, Vec<u8>)> {
        self.inbox[index]
            .iter()
            .filter_map(|item| match item {
                Incoming::Message {
                    from,
                    channel: got,
                    bytes,
                } if *got == channel => Some((from.clone(), bytes.clone())),
                _ => None,
            })
            .collect()
    }

    /// Whether node `index` has received `bytes` on `channel` from `from`.
    pub fn has_message(&self, index: usize, channel: Channel, from: &PeerId, bytes: &[u8]) -> bool {
        self.inbox[index].iter().any(|item| {
            matches!(item, Incoming::Message { from: f, channel: c, bytes: b }
                if f == from && *c == channel && b == bytes)
        })
    }

    /// The undeliverable reports node `index` has received.
    pub fn undeliverable(&self, index: usize) -> usize {
        self.inbox[index]
            .iter()
            .filter(|item| matches!(item, Incoming::Undeliverable { .. }))
            .count()
    }
}

/// Runs a test body under [`TEST_LIMIT`].
pub async fn within_limit<F: std::future::Future<Output = ()>>(body: F) {
    tokio::time::timeout(TEST_LIMIT, body)
        .await
        .expect("test finished within its limit");
}
