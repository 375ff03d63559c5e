//! DHT records stored and looked up between libp2p transports on 127.0.0.1.

mod support;

use chorus_core::transport::{Outgoing, Transport};
use chorus_core::wire::Channel;
use chorus_libp2p::Libp2pConfig;
use support::{within_limit, Net, Shape};

#[tokio::test]
async fn a_stored_record_is_found_by_another_node_from_its_publisher() {
    within_limit(async {
        let mut net = Net::start(3, Shape::Mesh, |c| c).await;
        let key = [0x42; 32];
        let record = b"signed advertisement".to_vec();
        net.nodes[0].send(Outgoing::PutRecord {
            key,
            bytes: record.clone(),
        });
        // Let the store reach the other nodes before they look.
        net.run_for(std::time::Duration::from_millis(300)).await;
        for reader in [1, 2] {
            net.nodes[reader].send(Outgoing::GetRecord { key });
        }
        net.run_until(|net| {
            [1, 2]
                .iter()
                .all(|&i| !net.messages(i, Channel::Gossip).is_empty())
        })
        .await;
        for reader in [1, 2] {
            assert_eq!(
                net.messages(reader, Channel::Gossip),
                vec![(net.peer(0), record.clone())],
                "reader {reader}"
            );
            assert_eq!(net.nodes[reader].stats().delivered_records, 1);
        }
    })
    .await;
}

#[tokio::test]
async fn a_record_stored_while_alone_is_found_locally_and_a_missing_one_is_counted() {
    within_limit(async {
        let mut net = Net::start(1, Shape::Isolated, |c| c).await;
        net.nodes[0].send(Outgoing::PutRecord {
            key: [1; 32],
            bytes: b"mine".to_vec(),
        });
        net.nodes[0].send(Outgoing::GetRecord { key: [1; 32] });
        net.nodes[0].send(Outgoing::GetRecord { key: [2; 32] });
        net.run_until(|net| {
            let stats = net.nodes[0].stats();
            stats.delivered_records == 1 && stats.records_not_found == 1
        })
        .await;
        assert_eq!(
            net.messages(0, Channel::Gossip),
            vec![(net.peer(0), b"mine".to_vec())]
        );
    })
    .await;
}

#[tokio::test]
async fn records_use_the_configured_kademlia_protocol_and_oversized_ones_are_refused() {
    within_limit(async {
        let custom = |c: Libp2pConfig| Libp2pConfig {
            kad_protocol: "/chorus-test/kad/1.0.0".into(),
            ..c
        };
        let mut net = Net::start(2, Shape::Mesh, custom).await;
        net.nodes[0].send(Outgoing::PutRecord {
            key: [9; 32],
            bytes: vec![1; Channel::Gossip.max_message_len() + 1],
        });
        assert_eq!(net.nodes[0].stats().refused_outgoing, 1);
        let largest = vec![2; Channel::Gossip.max_message_len()];
        net.nodes[0].send(Outgoing::PutRecord {
            key: [9; 32],
            bytes: largest.clone(),
        });
        net.run_for(std::time::Duration::from_millis(300)).await;
        net.nodes[1].send(Outgoing::GetRecord { key: [9; 32] });
        net.run_until(|net| !net.messages(1, Channel::Gossip).is_empty())
            .await;
        assert_eq!(
            net.messages(1, Channel::Gossip),
            vec![(net.peer(0), largest)]
        );
    })
    .await;
}

#[tokio::test]
async fn an_invalid_kademlia_protocol_name_is_an_error() {
    within_limit(async {
        let config = Libp2pConfig {
            kad_protocol: "no-leading-slash".into(),
            ..Libp2pConfig::default()
        };
        let error = chorus_libp2p::Libp2pTransport::start(config)
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            chorus_libp2p::Libp2pError::InvalidProtocol { .. }
        ));
    })
    .await;
}
