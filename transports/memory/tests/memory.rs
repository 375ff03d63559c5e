//! The in-process network's destination semantics, bounds and departures.

use std::task::{Context, Poll, Waker};
use std::time::Duration;

use chorus_core::node::PeerId;
use chorus_core::transport::{Incoming, Outgoing, Transport};
use chorus_core::wire::{Channel, MAX_DIRECT_MESSAGE, MAX_GOSSIP_MESSAGE};
use chorus_memory::{MemoryConfig, MemoryNetwork, MemoryTransport};

/// Everything in `transport`'s inbox right now; `None` at the end means the transport was
/// taken off the network.
fn drain(transport: &mut MemoryTransport) -> (Vec<Incoming>, bool) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut items = Vec::new();
    loop {
        match transport.poll_incoming(&mut cx) {
            Poll::Ready(Some(incoming)) => items.push(incoming),
            Poll::Ready(None) => return (items, true),
            Poll::Pending => return (items, false),
        }
    }
}

/// The messages (not connection events) in `transport`'s inbox right now.
fn messages(transport: &mut MemoryTransport) -> Vec<(PeerId, Channel, Vec<u8>)> {
    drain(transport)
        .0
        .into_iter()
        .filter_map(|incoming| match incoming {
            Incoming::Message {
                from,
                channel,
                bytes,
            } => Some((from, channel, bytes)),
            _ => None,
        })
        .collect()
}

fn three() -> (MemoryNetwork, [MemoryTransport; 3]) {
    let network = MemoryNetwork::new();
    let peers = [
        network.transport(),
        network.transport(),
        network.transport(),
    ];
    (network, peers)
}

#[test]
fn newcomers_and_old_peers_learn_of_each_other() {
    let network = MemoryNetwork::new();
    let mut alice = network.transport();
    let mut bob = network.transport();
    let (alice_sees, _) = drain(&mut alice);
    let (bob_sees, _) = drain(&mut bob);
    assert_eq!(
        alice_sees,
        [Incoming::Connected {
            peer: bob.local_peer()
        }]
    );
    assert_eq!(
        bob_sees,
        [Incoming::Connected {
            peer: alice.local_peer()
        }]
    );
}

#[test]
fn direct_messages_reach_only_their_recipient_in_order() {
    let (_network, [mut alice, mut bob, mut carol]) = three();
    for byte in 0..5u8 {
        alice.send(Outgoing::Direct {
            to: bob.local_peer(),
            channel: Channel::Direct,
            bytes: vec![byte],
        });
    }
    let received = messages(&mut bob);
    let expected: Vec<_> = (0..5u8)
        .map(|byte| (alice.local_peer(), Channel::Direct, vec![byte]))
        .collect();
    assert_eq!(received, expected);
    assert!(messages(&mut carol).is_empty());
    assert!(messages(&mut alice).is_empty());
}

#[test]
fn a_direct_message_to_a_stranger_comes_back_undeliverable() {
    let (network, [mut alice, _bob, _carol]) = three();
    drain(&mut alice);
    let stranger = PeerId::new(*b"stranger");
    alice.send(Outgoing::Direct {
        to: stranger.clone(),
        channel: Channel::Direct,
        bytes: vec![1],
    });
    let (items, _) = drain(&mut alice);
    assert!(matches!(&items[..], [Incoming::Undeliverable { peer, .. }] if *peer == stranger));
    assert_eq!(network.stats().undeliverable, 1);
}

#[test]
fn publications_reach_every_subscriber_but_their_author() {
    let (network, [mut alice, mut bob, mut carol]) = three();
    let topic = "chorus/requests/v1".to_owned();
    for transport in [&mut alice, &mut bob] {
        transport.send(Outgoing::Subscribe {
            topic: topic.clone(),
        });
    }
    alice.send(Outgoing::Publish {
        topic: topic.clone(),
        bytes: vec![9],
    });
    carol.send(Outgoing::Publish {
        topic: topic.clone(),
        bytes: vec![8],
    });
    carol.send(Outgoing::Publish {
        topic: "elsewhere".into(),
        bytes: vec![7],
    });
    assert_eq!(
        messages(&mut alice),
        [(carol.local_peer(), Channel::Gossip, vec![8])]
    );
    assert_eq!(
        messages(&mut bob),
        [
            (alice.local_peer(), Channel::Gossip, vec![9]),
            (carol.local_peer(), Channel::Gossip, vec![8])
        ]
    );
    assert!(
        messages(&mut carol).is_empty(),
        "carol subscribed to nothing"
    );
    assert_eq!(network.stats().delivered, 3);
}

#[test]
fn records_are_stored_and_returned_to_who_asks_from_their_publisher() {
    let (network, [mut alice, mut bob, mut carol]) = three();
    alice.send(Outgoing::PutRecord {
        key: [1; 32],
        bytes: vec![1],
    });
    assert!(
        messages(&mut bob).is_empty(),
        "a stored record is not pushed"
    );
    bob.send(Outgoing::PutRecord {
        key: [1; 32],
        bytes: vec![2],
    });
    carol.send(Outgoing::GetRecord { key: [1; 32] });
    carol.send(Outgoing::GetRecord { key: [2; 32] });
    assert_eq!(
        messages(&mut carol),
        [(bob.local_peer(), Channel::Gossip, vec![2])],
        "the latest record wins; an unknown key gives nothing"
    );
    assert_eq!(network.record(&[1; 32]), Some((bob.local_peer(), vec![2])));
    assert_eq!(network.stats().records_stored, 2);
}

#[test]
fn the_record_store_is_bounded() {
    let network = MemoryNetwork::with_config(MemoryConfig {
        max_records: 2,
        ..MemoryConfig::default()
    });
    let mut alice = network.transport();
    for key in 0..3u8 {
        alice.send(Outgoing::PutRecord {
            key: [key; 32],
            bytes: vec![key],
        });
    }
    alice.send(Outgoing::PutRecord {
        key: [0; 32],
        bytes: vec![9],
    });
    assert_eq!(network.record(&[2; 32]), None);
    assert_eq!(
        network.record(&[0; 32]).map(|record| record.1),
        Some(vec![9])
    );
    assert_eq!(network.stats().records_refused, 1);
}

#[test]
fn oversized_messages_are_dropped_and_counted() {
    let (network, [mut alice, mut bob, _carol]) = three();
    bob.send(Outgoing::Subscribe { topic: "t".into() });
    let to = bob.local_peer();
    let send_direct = |alice: &mut MemoryTransport, channel: Channel, len: usize| {
        alice.send(Outgoing::Direct {
            to: to.clone(),
            channel,
            bytes: vec![0; len],
        });
    };
    send_direct(&mut alice, Channel::Direct, MAX_DIRECT_MESSAGE + 1);
    send_direct(&mut alice, Channel::Gossip, MAX_GOSSIP_MESSAGE + 1);
    send_direct(&mut alice, Channel::Direct, MAX_DIRECT_MESSAGE);
    send_direct(&mut alice, Channel::Gossip, MAX_GOSSIP_MESSAGE);
    alice.send(Outgoing::Publish {
        topic: "t".into(),
        bytes: vec![0; MAX_GOSSIP_MESSAGE + 1],
    });
    alice.send(Outgoing::PutRecord {
        key: [0; 32],
        bytes: vec![0; MAX_GOSSIP_MESSAGE + 1],
    });
    let lengths: Vec<usize> = messages(&mut bob)
        .iter()
        .map(|(_, _, bytes)| bytes.len())
        .collect();
    assert_eq!(lengths, [MAX_DIRECT_MESSAGE, MAX_GOSSIP_MESSAGE]);
    assert_eq!(network.stats().dropped_oversized, 4);
    assert_eq!(network.record(&[0; 32]), None);
}

#[test]
fn a_full_inbox_drops_what_does_not_fit() {
    let network = MemoryNetwork::with_config(MemoryConfig {
        queue_capacity: 3,
        ..MemoryConfig::default()
    });
    let mut alice = network.transport();
    let mut bob = network.transport();
    drain(&mut bob);
    for byte in 0..5u8 {
        alice.send(Outgoing::Direct {
            to: bob.local_peer(),
            channel: Channel::Direct,
            bytes: vec![byte],
        });
    }
    let received: Vec<Vec<u8>> = messages(&mut bob)
        .into_iter()
        .map(|message| message.2)
        .collect();
    assert_eq!(received, [vec![0], vec![1], vec![2]]);
    assert_eq!(network.stats().dropped_queue_full, 2);
    assert_eq!(network.stats().delivered, 3);
}

#[test]
fn a_killed_peer_is_gone_for_everyone() {
    let (network, [mut alice, mut bob, mut carol]) = three();
    for transport in [&mut alice, &mut bob, &mut carol] {
        drain(transport);
        transport.send(Outgoing::Subscribe { topic: "t".into() });
    }
    assert!(network.kill(&bob.local_peer()));
    assert!(!bob.is_connected());
    let (items, ended) = drain(&mut bob);
    assert!(items.is_empty() && ended, "the killed transport ends");
    bob.send(Outgoing::Publish {
        topic: "t".into(),
        bytes: vec![1],
    });
    alice.send(Outgoing::Publish {
        topic: "t".into(),
        bytes: vec![2],
    });
    let (items, ended) = drain(&mut carol);
    assert!(!ended);
    assert_eq!(
        items,
        [
            Incoming::Disconnected {
                peer: bob.local_peer()
            },
            Incoming::Message {
                from: alice.local_peer(),
                channel: Channel::Gossip,
                bytes: vec![2]
            }
        ],
        "the dead peer's publication went nowhere; the live one's still arrives"
    );
    assert!(!network.contains(&bob.local_peer()));
}

#[test]
fn dropping_a_transport_disconnects_it() {
    let (network, [mut alice, bob, _carol]) = three();
    drain(&mut alice);
    let gone = bob.local_peer();
    drop(bob);
    assert_eq!(drain(&mut alice).0, [Incoming::Disconnected { peer: gone }]);
    assert_eq!(network.peers().len(), 2);
}

#[test]
fn a_new_transport_under_a_killed_id_is_not_disturbed_by_the_old_one() {
    let network = MemoryNetwork::new();
    let id = PeerId::new(*b"phoenix");
    let old = network.transport_with_peer(id.clone()).unwrap();
    assert!(network.kill(&id));
    let mut new = network.transport_with_peer(id.clone()).unwrap();
    drop(old);
    assert!(
        new.is_connected(),
        "dropping the killed transport leaves the new one"
    );
    let mut alice = network.transport();
    alice.send(Outgoing::Direct {
        to: id.clone(),
        channel: Channel::Direct,
        bytes: vec![5],
    });
    assert_eq!(
        messages(&mut new),
        [(alice.local_peer(), Channel::Direct, vec![5])]
    );
}

#[test]
fn peer_ids_are_checked() {
    let network = MemoryNetwork::new();
    assert!(network
        .transport_with_peer(PeerId::new(Vec::new()))
        .is_err());
    assert!(network
        .transport_with_peer(PeerId::new(vec![1; 65]))
        .is_err());
    assert!(network
        .transport_with_peer(PeerId::new(vec![1; 64]))
        .is_ok());
    let automatic: Vec<PeerId> = (0..3).map(|_| network.transport().local_peer()).collect();
    assert_ne!(
        automatic[0], automatic[1],
        "an id is never given out twice, even after its transport left"
    );
    assert_ne!(automatic[1], automatic[2]);
}

#[tokio::test]
async fn a_waiting_task_wakes_when_a_message_arrives() {
    let network = MemoryNetwork::new();
    let mut alice = network.transport();
    let mut bob = network.transport();
    drain(&mut bob);
    let bob_peer = bob.local_peer();
    let receiver =
        tokio::spawn(async move { std::future::poll_fn(|cx| bob.poll_incoming(cx)).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    alice.send(Outgoing::Direct {
        to: bob_peer,
        channel: Channel::Direct,
        bytes: vec![3],
    });
    let received = tokio::time::timeout(Duration::from_secs(5), receiver)
        .await
        .expect("woken in time")
        .expect("the task ran");
    assert_eq!(
        received,
        Some(Incoming::Message {
            from: alice.local_peer(),
            channel: Channel::Direct,
            bytes: vec![3]
        })
    );
}

#[tokio::test]
async fn a_waiting_task_wakes_when_its_transport_is_killed() {
    let network = MemoryNetwork::new();
    let mut bob = network.transport();
    let bob_peer = bob.local_peer();
    let receiver =
        tokio::spawn(async move { std::future::poll_fn(|cx| bob.poll_incoming(cx)).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(network.kill(&bob_peer));
    let received = tokio::time::timeout(Duration::from_secs(5), receiver)
        .await
        .expect("woken in time")
        .expect("the task ran");
    assert_eq!(received, None);
}
