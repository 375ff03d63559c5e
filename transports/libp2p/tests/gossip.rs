//! GossipSub publications between libp2p transports on 127.0.0.1.

mod support;

use chorus_core::discovery::REQUEST_TOPIC;
use chorus_core::transport::{Outgoing, Transport};
use chorus_core::wire::Channel;
use support::{within_limit, Net, Shape};

fn subscribe(net: &mut Net, topic: &str) {
    for node in &mut net.nodes {
        node.send(Outgoing::Subscribe {
            topic: topic.into(),
        });
    }
}

fn publish(bytes: Vec<u8>) -> Outgoing {
    Outgoing::Publish {
        topic: REQUEST_TOPIC.into(),
        bytes,
    }
}

#[tokio::test]
async fn a_publication_reaches_every_subscriber_from_its_author() {
    within_limit(async {
        let mut net = Net::start(4, Shape::Mesh, |c| c).await;
        subscribe(&mut net, REQUEST_TOPIC);
        net.run_until(|net| {
            net.nodes
                .iter()
                .all(|n| n.topic_peers(REQUEST_TOPIC).len() == 3)
        })
        .await;
        for author in 0..4 {
            let bytes = vec![author as u8; 64 + author];
            net.nodes[author].send(publish(bytes));
        }
        net.run_until(|net| (0..4).all(|i| net.messages(i, Channel::Gossip).len() == 3))
            .await;
        for receiver in 0..4 {
            for author in (0..4).filter(|a| *a != receiver) {
                let bytes = vec![author as u8; 64 + author];
                let from = net.peer(author);
                assert!(net.has_message(receiver, Channel::Gossip, &from, &bytes));
            }
        }
        // The largest payload the gossip channel allows goes through as well.
        let largest = vec![0x77; Channel::Gossip.max_message_len()];
        net.nodes[0].send(publish(largest.clone()));
        net.run_until(|net| (1..4).all(|i| net.messages(i, Channel::Gossip).len() == 4))
            .await;
        let from = net.peer(0);
        assert!((1..4).all(|i| net.has_message(i, Channel::Gossip, &from, &largest)));
    })
    .await;
}

#[tokio::test]
async fn a_relayed_publication_is_from_its_author_not_the_relay() {
    within_limit(async {
        // 0 - 1 - 2: the author 0 and the reader 2 share no connection.
        let mut net = Net::start(3, Shape::Line, |c| c).await;
        subscribe(&mut net, REQUEST_TOPIC);
        net.run_until(|net| net.nodes[1].topic_peers(REQUEST_TOPIC).len() == 2)
            .await;
        assert!(!net.nodes[0]
            .connected_peers()
            .contains(&net.nodes[2].peer_id()));
        net.nodes[0].send(publish(b"relayed".to_vec()));
        net.run_until(|net| !net.messages(2, Channel::Gossip).is_empty())
            .await;
        assert_eq!(
            net.messages(2, Channel::Gossip),
            vec![(net.peer(0), b"relayed".to_vec())]
        );
        assert_eq!(
            net.messages(1, Channel::Gossip),
            vec![(net.peer(0), b"relayed".to_vec())]
        );
    })
    .await;
}

#[tokio::test]
async fn an_oversized_publication_is_refused_by_its_sender() {
    within_limit(async {
        let mut net = Net::start(2, Shape::Mesh, |c| c).await;
        subscribe(&mut net, REQUEST_TOPIC);
        net.run_until(|net| net.nodes[0].topic_peers(REQUEST_TOPIC).len() == 1)
            .await;
        net.nodes[0].send(publish(vec![1; Channel::Gossip.max_message_len() + 1]));
        net.nodes[0].send(publish(b"after".to_vec()));
        net.run_until(|net| !net.messages(1, Channel::Gossip).is_empty())
            .await;
        assert_eq!(
            net.messages(1, Channel::Gossip),
            vec![(net.peer(0), b"after".to_vec())]
        );
        assert_eq!(net.nodes[0].stats().refused_outgoing, 1);
    })
    .await;
}

#[tokio::test]
async fn a_flood_of_publications_is_bounded_and_the_node_keeps_working() {
    within_limit(async {
        const FLOOD: usize = 10_000;
        const QUEUE: usize = 256;
        const BACKLOG: usize = 64;
        let mut net = Net::start(2, Shape::Mesh, |c| chorus_libp2p::Libp2pConfig {
            max_gossip_queue_per_peer: QUEUE,
            max_buffered_incoming: BACKLOG,
            ..c
        })
        .await;
        subscribe(&mut net, REQUEST_TOPIC);
        net.run_until(|net| net.nodes[0].topic_peers(REQUEST_TOPIC).len() == 1)
            .await;
        for index in 0..FLOOD {
            let mut bytes = vec![0xf1; 200];
            bytes[..8].copy_from_slice(&(index as u64).to_be_bytes());
            net.nodes[0].send(publish(bytes));
        }
        // What the sender could not queue was refused, and counted, at once; what it
        // queued is delivered unless it waited in the queue too long.
        let refused = net.nodes[0].stats().failed_publish as usize;
        assert!(refused + QUEUE >= FLOOD, "only {refused} refused");
        net.run_for(std::time::Duration::from_secs(1)).await;
        let delivered = net.messages(1, Channel::Gossip).len();
        assert!(delivered <= FLOOD - refused);
        let stats = net.nodes[1].stats();
        assert_eq!(stats.delivered_gossip as usize, delivered);
        assert!(stats.peak_backlog <= BACKLOG);
        // The node still answers once the flood has passed.
        net.nodes[0].send(publish(b"still here".to_vec()));
        net.run_until(|net| {
            net.messages(1, Channel::Gossip)
                .iter()
                .any(|(_, b)| b == b"still here")
        })
        .await;
    })
    .await;
}
