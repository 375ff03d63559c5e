//! A join that overtakes the signing request it joins (networks do not order messages from
//! different senders) is held by the driver and applied once the request arrives.

use std::collections::VecDeque;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chorus_core::crypto::{Dialect, Keypair, PublicKey, SecretKey};
use chorus_core::discovery::{Destination, DiscoveryEvent, Outbound, RequestSpec};
use chorus_core::node::{Config, Node, PeerId, Progress};
use chorus_core::time::Timestamp;
use chorus_core::transport::{Incoming, Outgoing, Transport};
use chorus_core::wire::Channel;
use chorus_node::driver::{spawn, DriverConfig, NodeEvent};
use tokio::sync::mpsc;

/// A transport whose incoming items the test writes; what the node sends is dropped.
struct ScriptedTransport {
    peer: PeerId,
    incoming: mpsc::UnboundedReceiver<Incoming>,
}

impl Transport for ScriptedTransport {
    fn local_peer(&self) -> PeerId {
        self.peer.clone()
    }

    fn send(&mut self, _outgoing: Outgoing) {}

    fn poll_incoming(&mut self, cx: &mut Context<'_>) -> Poll<Option<Incoming>> {
        self.incoming.poll_recv(cx)
    }
}

fn keypair(byte: u8) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).expect("a valid key"))
}

fn wall_clock() -> Timestamp {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    Timestamp::from_millis(u64::try_from(since_epoch.as_millis()).expect("fits"))
}

/// The records a node wants to send, except DHT copies.
fn sent_records(node: &mut Node) -> VecDeque<Outbound> {
    std::iter::from_fn(|| node.poll_discovery_transmit())
        .filter(|outbound| !matches!(outbound.destination, Destination::DhtRecord { .. }))
        .collect()
}

fn as_incoming(from: &PeerId, outbound: Outbound) -> Incoming {
    let channel = match outbound.destination {
        Destination::Peer(_) => Channel::Direct,
        _ => Channel::Gossip,
    };
    Incoming::Message {
        from: from.clone(),
        channel,
        bytes: outbound.bytes,
    }
}

#[tokio::test]
async fn a_join_that_overtakes_its_request_is_applied_when_the_request_arrives() {
    let (creator_key, joiner_key, own_key) = (keypair(1), keypair(2), keypair(3));
    let now = wall_clock();
    let mut creator = Node::new(Config::default(), creator_key, [1; 32], now);
    let mut joiner = Node::new(Config::default(), joiner_key, [2; 32], now);

    let keys: Vec<PublicKey> = [creator_key, joiner_key, own_key]
        .iter()
        .map(Keypair::public_key)
        .collect();
    let spec = RequestSpec::new(keys, [0x5a; 32], Dialect::Bip340, Duration::from_secs(600));
    let request = creator
        .announce_request(now, spec, Progress::Automatic)
        .expect("the creator announces");
    let mut request_records = sent_records(&mut creator);
    let request_record = request_records
        .pop_front()
        .expect("the request is published");
    let creator_peer = creator.peer_id().clone();
    joiner
        .handle_message(
            now,
            creator_peer.clone(),
            Channel::Gossip,
            &request_record.bytes,
        )
        .expect("the joiner accepts the request");
    joiner
        .join_request(now, &request, Progress::Automatic)
        .expect("the joiner joins");
    let join_record = sent_records(&mut joiner)
        .pop_front()
        .expect("the join is sent");
    let joiner_peer = joiner.peer_id().clone();

    let (script, incoming) = mpsc::unbounded_channel();
    let transport = ScriptedTransport {
        peer: PeerId::from_key(&own_key.public_key()),
        incoming,
    };
    let running = spawn(own_key, transport, DriverConfig::default()).expect("a runtime");
    let mut events = running.events;
    // The join first, then the request it joins.
    script
        .send(as_incoming(&joiner_peer, join_record))
        .expect("the driver listens");
    script
        .send(as_incoming(&creator_peer, request_record))
        .expect("the driver listens");

    let joined = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(event) = events.next().await {
            match event {
                NodeEvent::Discovery(DiscoveryEvent::ParticipantJoined { key, .. })
                    if key == joiner_key.public_key() =>
                {
                    return true;
                }
                NodeEvent::Rejected { rejection, .. } => panic!("refused: {rejection}"),
                _ => {}
            }
        }
        false
    })
    .await
    .expect("the join is applied before the deadline");
    assert!(joined, "the driver reports the joiner");

    let stats = running.handle.stats().await.expect("the driver runs");
    assert_eq!(stats.early_messages_held, 1);
    assert_eq!(stats.early_messages_replayed, 1);
    assert_eq!(stats.messages_rejected, 0);
    running.handle.shutdown().await.expect("the driver stops");
}
