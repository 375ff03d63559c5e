//! Direct messages between libp2p transports on 127.0.0.1.

mod support;

use chorus_core::node::PeerId;
use chorus_core::transport::{Incoming, Outgoing, Transport};
use chorus_core::wire::Channel;
use chorus_libp2p::{chorus_peer_id, Libp2pConfig, Libp2pPeerId, Multiaddr};
use support::{within_limit, Net, Shape};

fn direct(to: PeerId, bytes: Vec<u8>) -> Outgoing {
    Outgoing::Direct {
        to,
        channel: Channel::Direct,
        bytes,
    }
}

/// Every node sends a distinct message to every other node; each arrives once, from its
/// sender, and every exchange is acknowledged.
async fn all_pairs_exchange(net: &mut Net) {
    let count = net.nodes.len();
    for from in 0..count {
        for to in 0..count {
            if from != to {
                let to_peer = net.peer(to);
                net.nodes[from].send(direct(to_peer, vec![from as u8, to as u8, 0xaa]));
            }
        }
    }
    net.run_until(|net| {
        (0..count).all(|i| net.messages(i, Channel::Direct).len() == count - 1)
            && net
                .nodes
                .iter()
                .all(|n| n.stats().acknowledged_direct == (count - 1) as u64)
    })
    .await;
    for to in 0..count {
        for from in 0..count {
            if from != to {
                let bytes = [from as u8, to as u8, 0xaa];
                assert!(net.has_message(to, Channel::Direct, &net.peer(from), &bytes));
            }
        }
        assert_eq!(net.undeliverable(to), 0);
    }
}

#[tokio::test]
async fn two_nodes_exchange_direct_messages_both_ways() {
    within_limit(async {
        let mut net = Net::start(2, Shape::Mesh, |c| c).await;
        all_pairs_exchange(&mut net).await;
        // The largest message the direct channel allows goes through too, and so does a
        // gossip-channel message sent directly.
        let big = vec![0x5a; Channel::Direct.max_message_len()];
        let to = net.peer(0);
        net.nodes[1].send(direct(to.clone(), big.clone()));
        net.nodes[1].send(Outgoing::Direct {
            to,
            channel: Channel::Gossip,
            bytes: vec![9; 3],
        });
        net.run_until(|net| net.messages(0, Channel::Direct).len() == 2)
            .await;
        net.run_until(|net| net.messages(0, Channel::Gossip).len() == 1)
            .await;
        assert!(net.has_message(0, Channel::Direct, &net.peer(1), &big));
        assert!(net.has_message(0, Channel::Gossip, &net.peer(1), &[9, 9, 9]));
    })
    .await;
}

#[tokio::test]
async fn five_nodes_exchange_direct_messages_both_ways() {
    within_limit(async {
        let mut net = Net::start(5, Shape::Mesh, |c| c).await;
        assert!(net.inbox.iter().all(|inbox| inbox
            .iter()
            .filter(|i| matches!(i, Incoming::Connected { .. }))
            .count()
            == 4));
        all_pairs_exchange(&mut net).await;
    })
    .await;
}

#[tokio::test]
async fn quic_nodes_exchange_direct_messages() {
    within_limit(async {
        let quic_only = |c: Libp2pConfig| Libp2pConfig {
            listen: vec!["/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap()],
            ..c
        };
        let mut net = Net::start(2, Shape::Mesh, quic_only).await;
        assert!(net.nodes[0].listen_addrs()[0]
            .to_string()
            .contains("/quic-v1/p2p/"));
        all_pairs_exchange(&mut net).await;
    })
    .await;
}

#[tokio::test]
async fn a_direct_message_to_an_unconnected_peer_dials_its_known_address() {
    within_limit(async {
        let mut net = Net::start(2, Shape::Isolated, |c| c).await;
        assert!(net.nodes[0].connected_peers().is_empty());
        let address: Multiaddr = net.nodes[1].listen_addrs()[0].clone();
        let peer = net.nodes[1].peer_id();
        net.nodes[0].add_address(peer, address);
        let to = net.peer(1);
        net.nodes[0].send(direct(to, b"dial me".to_vec()));
        net.run_until(|net| net.has_message(1, Channel::Direct, &net.peer(0), b"dial me"))
            .await;
        assert_eq!(net.nodes[0].connected_peers(), vec![peer]);
    })
    .await;
}

#[tokio::test]
async fn undeliverable_messages_are_reported_not_lost_silently() {
    within_limit(async {
        let mut net = Net::start(1, Shape::Mesh, |c| Libp2pConfig {
            request_timeout: std::time::Duration::from_millis(500),
            ..c
        })
        .await;
        let nobody = chorus_peer_id(&Libp2pPeerId::random());
        let not_a_peer = PeerId::new([1, 2, 3]);
        let own = net.peer(0);
        net.nodes[0].send(direct(nobody.clone(), b"lost".to_vec()));
        net.nodes[0].send(direct(not_a_peer.clone(), b"lost".to_vec()));
        net.nodes[0].send(direct(own.clone(), b"lost".to_vec()));
        let too_big = vec![0; Channel::Direct.max_message_len() + 1];
        net.nodes[0].send(direct(nobody.clone(), too_big));
        net.run_until(|net| net.undeliverable(0) == 4).await;
        let peers: Vec<&PeerId> = net.inbox[0]
            .iter()
            .filter(|i| matches!(i, Incoming::Undeliverable { .. }))
            .map(Incoming::peer)
            .collect();
        for expected in [&nobody, &not_a_peer, &own] {
            assert!(peers.contains(&expected), "no report for {expected}");
        }
        let stats = net.nodes[0].stats();
        assert_eq!(stats.refused_outgoing, 3);
        assert_eq!(stats.failed_direct, 1);
    })
    .await;
}

#[tokio::test]
async fn a_message_for_a_peer_that_is_still_dialing_in_waits_for_it() {
    within_limit(async {
        // Node 0 has no address for node 1; node 1 dials node 0 only after node 0 sent.
        let mut net = Net::start(2, Shape::Isolated, |c| c).await;
        let to = net.peer(1);
        net.nodes[0].send(direct(to, b"early".to_vec()));
        net.run_for(std::time::Duration::from_millis(200)).await;
        assert!(net.messages(1, Channel::Direct).is_empty());
        let address = net.nodes[0].listen_addrs()[0].clone();
        net.nodes[1].dial(address).unwrap();
        net.run_until(|net| {
            net.has_message(1, Channel::Direct, &net.peer(0), b"early")
                && net.nodes[0].stats().acknowledged_direct == 1
        })
        .await;
        assert_eq!(net.undeliverable(0), 0);
    })
    .await;
}
