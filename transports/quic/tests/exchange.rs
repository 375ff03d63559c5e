//! Groups of QUIC transports on 127.0.0.1 exchange direct messages, publications and
//! records.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use chorus_core::node::PeerId;
use chorus_core::transport::{Incoming, Outgoing, Transport};
use chorus_core::wire::Channel;
use chorus_quic::{QuicConfig, QuicPeer, QuicTransport};
use support::{group, next_message, next_within, peer_id, run, signer};

/// Every transport sends one direct message to every other; every one publishes once.
async fn everyone_talks_to_everyone(size: u8) {
    let signers: Vec<_> = (1..=size).map(signer).collect();
    let mut transports = group(&signers).await;
    let ids: Vec<PeerId> = signers.iter().map(peer_id).collect();
    for transport in &mut transports {
        transport.send(Outgoing::Subscribe {
            topic: "chorus/test".into(),
        });
    }
    for (from, transport) in transports.iter_mut().enumerate() {
        for (to, id) in ids.iter().enumerate() {
            if to != from {
                let bytes = vec![from as u8, to as u8];
                let channel = if to % 2 == 0 {
                    Channel::Direct
                } else {
                    Channel::Gossip
                };
                transport.send(Outgoing::Direct {
                    to: id.clone(),
                    channel,
                    bytes,
                });
            }
        }
        transport.send(Outgoing::Publish {
            topic: "chorus/test".into(),
            bytes: vec![from as u8, 0xff],
        });
    }
    for (to, transport) in transports.iter_mut().enumerate() {
        let mut direct = BTreeSet::new();
        let mut published = BTreeSet::new();
        while direct.len() + published.len() < 2 * (ids.len() - 1) {
            let (from, channel, bytes) = next_message(transport).await;
            let sender = usize::from(bytes[0]);
            assert_eq!(from, ids[sender], "messages are attributed to their sender");
            if bytes[1] == 0xff {
                assert_eq!(channel, Channel::Gossip);
                assert!(published.insert(sender), "publication from {sender} twice");
            } else {
                assert_eq!(usize::from(bytes[1]), to);
                let expected = if to % 2 == 0 {
                    Channel::Direct
                } else {
                    Channel::Gossip
                };
                assert_eq!(channel, expected);
                assert!(direct.insert(sender), "direct message from {sender} twice");
            }
        }
        let everyone_else: BTreeSet<usize> = (0..ids.len()).filter(|index| *index != to).collect();
        assert_eq!(direct, everyone_else);
        assert_eq!(published, everyone_else);
    }
}

#[test]
fn two_transports_exchange_messages_and_publications() {
    run(everyone_talks_to_everyone(2));
}

#[test]
fn ten_transports_exchange_messages_and_publications() {
    run(everyone_talks_to_everyone(10));
}

#[test]
fn publications_reach_only_subscribers() {
    run(async {
        let signers = [signer(1), signer(2)];
        let mut transports = group(&signers).await;
        transports[1].send(Outgoing::Subscribe {
            topic: "wanted".into(),
        });
        for index in 0..5u8 {
            transports[0].send(Outgoing::Publish {
                topic: "unwanted".into(),
                bytes: vec![index],
            });
        }
        transports[0].send(Outgoing::Publish {
            topic: "wanted".into(),
            bytes: vec![42],
        });
        let (from, channel, bytes) = next_message(&mut transports[1]).await;
        assert_eq!(
            (from, channel, bytes),
            (peer_id(&signers[0]), Channel::Gossip, vec![42])
        );
        let late = next_within(&mut transports[1], Duration::from_millis(300)).await;
        assert!(late.is_none(), "unexpected {late:?}");
        // The publisher does not hear its own publication.
        transports[0].send(Outgoing::Subscribe {
            topic: "wanted".into(),
        });
        transports[0].send(Outgoing::Publish {
            topic: "wanted".into(),
            bytes: vec![1],
        });
        let own = next_within(&mut transports[0], Duration::from_millis(300)).await;
        assert!(own.is_none(), "unexpected {own:?}");
    });
}

#[test]
fn a_hundred_messages_round_trip_without_loss() {
    run(async {
        let signers = [signer(1), signer(2)];
        let mut transports = group(&signers).await;
        let (alice, bob) = (peer_id(&signers[0]), peer_id(&signers[1]));
        let sent: BTreeSet<Vec<u8>> = (0..100u32)
            .map(|index| {
                let mut bytes = index.to_be_bytes().to_vec();
                bytes.resize(4 + (index as usize * 997) % 5000, index as u8);
                bytes
            })
            .collect();
        for bytes in &sent {
            transports[0].send(Outgoing::Direct {
                to: bob.clone(),
                channel: Channel::Direct,
                bytes: bytes.clone(),
            });
        }
        let (first, second) = transports.split_at_mut(1);
        let (sender, echoer) = (&mut first[0], &mut second[0]);
        let mut echoed = BTreeSet::new();
        let mut received = 0;
        while echoed.len() < sent.len() {
            tokio::select! {
                (from, channel, bytes) = next_message(echoer) => {
                    assert_eq!((&from, channel), (&alice, Channel::Direct));
                    received += 1;
                    echoer.send(Outgoing::Direct { to: alice.clone(), channel, bytes });
                }
                (from, _, bytes) = next_message(sender) => {
                    assert_eq!(from, bob);
                    assert!(echoed.insert(bytes), "an echo arrived twice");
                }
            }
        }
        assert_eq!(received, 100);
        assert_eq!(echoed, sent);
    });
}

#[test]
fn direct_messages_to_strangers_or_oversized_are_undeliverable() {
    run(async {
        let signers = [signer(1), signer(2)];
        let mut transports = group(&signers).await;
        let stranger = peer_id(&signer(9));
        transports[0].send(Outgoing::Direct {
            to: stranger.clone(),
            channel: Channel::Direct,
            bytes: vec![1],
        });
        match support::next(&mut transports[0]).await {
            Incoming::Undeliverable { peer, .. } => assert_eq!(peer, stranger),
            other => panic!("expected undeliverable, got {other:?}"),
        }
        let bob = peer_id(&signers[1]);
        let too_big = vec![0; Channel::Gossip.max_message_len() + 1];
        transports[0].send(Outgoing::Direct {
            to: bob.clone(),
            channel: Channel::Gossip,
            bytes: too_big,
        });
        match support::next(&mut transports[0]).await {
            Incoming::Undeliverable { peer, .. } => assert_eq!(peer, bob),
            other => panic!("expected undeliverable, got {other:?}"),
        }
        // A message to itself loops back.
        let alice = peer_id(&signers[0]);
        transports[0].send(Outgoing::Direct {
            to: alice.clone(),
            channel: Channel::Direct,
            bytes: vec![5],
        });
        assert_eq!(
            next_message(&mut transports[0]).await,
            (alice, Channel::Direct, vec![5])
        );
    });
}

#[test]
fn records_are_stored_by_the_group_and_found_by_late_members() {
    run(async {
        let signers = [signer(1), signer(2), signer(3)];
        let mut transports = group(&signers[..2]).await;
        let alice = peer_id(&signers[0]);
        transports[0].send(Outgoing::PutRecord {
            key: [7; 32],
            bytes: vec![1, 2, 3],
        });
        // Records are stored, not delivered.
        let pushed = next_within(&mut transports[1], Duration::from_millis(300)).await;
        assert!(pushed.is_none(), "unexpected {pushed:?}");
        transports[1].send(Outgoing::GetRecord { key: [7; 32] });
        assert_eq!(
            next_message(&mut transports[1]).await,
            (alice.clone(), Channel::Gossip, vec![1, 2, 3])
        );

        // A member that joins later asks the group.
        let mut carol = QuicTransport::start(support::config(), &signers[2])
            .await
            .unwrap();
        for (signer, transport) in signers.iter().zip(&transports) {
            carol.add_peer(QuicPeer {
                key: signer.public_key(),
                address: transport.local_addr(),
            });
        }
        let carol_peer = QuicPeer {
            key: signers[2].public_key(),
            address: carol.local_addr(),
        };
        for transport in &mut transports {
            transport.add_peer(carol_peer);
        }
        support::wait_connected(&mut carol, &[alice.clone(), peer_id(&signers[1])]).await;
        carol.send(Outgoing::GetRecord { key: [7; 32] });
        let (from, channel, bytes) = next_message(&mut carol).await;
        assert!(from == alice || from == peer_id(&signers[1]));
        assert_eq!((channel, bytes), (Channel::Gossip, vec![1, 2, 3]));
        // The first reply ends the lookup; a second one is not delivered.
        let second = next_within(&mut carol, Duration::from_millis(300)).await;
        assert!(second.is_none(), "unexpected {second:?}");
        // An unknown key finds nothing.
        carol.send(Outgoing::GetRecord { key: [8; 32] });
        let nothing = next_within(&mut carol, Duration::from_millis(300)).await;
        assert!(nothing.is_none(), "unexpected {nothing:?}");
    });
}

#[test]
fn a_group_handle_adds_members_after_the_transport_moved() {
    run(async {
        let (alice, bob) = (signer(1), signer(2));
        let mut first = QuicTransport::start(support::config(), &alice)
            .await
            .unwrap();
        let first_address = first.local_addr();
        let group = first.group();
        // The transport moves away, as it does into a node driver.
        let bob_id = peer_id(&bob);
        let moved = tokio::spawn(async move {
            support::wait_connected(&mut first, &[bob_id]).await;
            next_message(&mut first).await
        });
        let peers = vec![QuicPeer {
            key: alice.public_key(),
            address: first_address,
        }];
        let mut second = QuicTransport::start(
            QuicConfig {
                peers,
                ..support::config()
            },
            &bob,
        )
        .await
        .unwrap();
        group.add_peer(QuicPeer {
            key: bob.public_key(),
            address: second.local_addr(),
        });
        support::wait_connected(&mut second, &[peer_id(&alice)]).await;
        second.send(Outgoing::Direct {
            to: peer_id(&alice),
            channel: Channel::Direct,
            bytes: vec![9],
        });
        assert_eq!(
            moved.await.unwrap(),
            (peer_id(&bob), Channel::Direct, vec![9])
        );
    });
}
