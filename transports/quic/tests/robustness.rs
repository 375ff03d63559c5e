//! Oversized and malformed frames, random datagrams, restarts, shutdown and keep-alive.

mod support;

use std::time::Duration;

use chorus_core::transport::{Incoming, Outgoing, Transport};
use chorus_core::wire::Channel;
use chorus_quic::identity::BoundCertificate;
use chorus_quic::{QuicConfig, QuicError, QuicPeer, QuicTransport};
use support::{
    config, direct_frame, group, next, next_message, next_within, peer_id, raw_client, raw_connect,
    run, send_raw, signer,
};

/// Opens a stream on `connection`, writes `bytes` without ending the stream, and returns
/// the error code the receiver stopped it with.
async fn stop_code(connection: &quinn::Connection, bytes: &[u8]) -> Option<u64> {
    let mut stream = connection.open_uni().await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream.stopped().await.unwrap().map(u64::from)
}

#[test]
fn oversized_and_malformed_frames_stop_their_stream_only() {
    run(async {
        let bob = signer(2);
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let peers = vec![QuicPeer {
            key: bob.public_key(),
            address: silent.local_addr().unwrap(),
        }];
        let mut transport = QuicTransport::start(QuicConfig { peers, ..config() }, &signer(1))
            .await
            .unwrap();
        let bound = BoundCertificate::generate(&bob).unwrap();
        let client = raw_client(bound.certificate().clone(), bound.private_key());
        let connection = raw_connect(&client, transport.local_addr()).await.unwrap();

        // A 4 GiB direct message is refused from its length alone.
        assert_eq!(
            stop_code(&connection, &[0x01, 0xff, 0xff, 0xff, 0xff]).await,
            Some(1)
        );
        // One byte over each channel's limit.
        let direct_over = (Channel::Direct.max_message_len() as u32 + 1).to_be_bytes();
        let gossip_over = (Channel::Gossip.max_message_len() as u32 + 1).to_be_bytes();
        assert_eq!(
            stop_code(&connection, &[&[0x01][..], &direct_over].concat()).await,
            Some(1)
        );
        assert_eq!(
            stop_code(&connection, &[&[0x00][..], &gossip_over].concat()).await,
            Some(1)
        );
        let publication = [&[0x02, 1, b't'][..], &gossip_over].concat();
        assert_eq!(stop_code(&connection, &publication).await, Some(1));
        let record = [&[0x03][..], &[0; 32], &gossip_over].concat();
        assert_eq!(stop_code(&connection, &record).await, Some(1));
        // Malformed streams get code 2.
        assert_eq!(stop_code(&connection, &[0x7f]).await, Some(2));
        assert_eq!(stop_code(&connection, &[0x02, 0]).await, Some(2));

        // The connection still carries messages.
        send_raw(&connection, &direct_frame(b"still here")).await;
        assert_eq!(
            next_message(&mut transport).await,
            (peer_id(&bob), Channel::Direct, b"still here".to_vec())
        );
        // A full-size message is accepted.
        let largest = vec![7u8; Channel::Direct.max_message_len()];
        send_raw(&connection, &direct_frame(&largest)).await;
        assert_eq!(next_message(&mut transport).await.2, largest);
        assert!(connection.close_reason().is_none());
    });
}

#[test]
fn random_datagrams_do_not_disturb_a_group() {
    run(async {
        let signers = [signer(1), signer(2)];
        let mut transports = group(&signers).await;
        let random = support::provider().secure_random;
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for index in 0..2000usize {
            let mut datagram = vec![0u8; 1 + index % 1500];
            random.fill(&mut datagram).unwrap();
            if index % 4 == 0 && datagram.len() >= 1200 {
                // Looks like a QUIC v1 Initial packet: long header, version 1.
                datagram[0] = 0xc0 | (datagram[0] & 0x0f);
                datagram[1..5].copy_from_slice(&[0, 0, 0, 1]);
            }
            for transport in &transports {
                socket.send_to(&datagram, transport.local_addr()).unwrap();
            }
        }
        let bob = peer_id(&signers[1]);
        transports[0].send(Outgoing::Direct {
            to: bob,
            channel: Channel::Direct,
            bytes: vec![1],
        });
        assert_eq!(next_message(&mut transports[1]).await.2, vec![1]);
        let alice = peer_id(&signers[0]);
        transports[1].send(Outgoing::Direct {
            to: alice,
            channel: Channel::Direct,
            bytes: vec![2],
        });
        assert_eq!(next_message(&mut transports[0]).await.2, vec![2]);
    });
}

/// Starts `signer`'s transport on `address`, retrying while the port is still held.
async fn restart_on(
    address: std::net::SocketAddr,
    signer: &chorus_core::crypto::Keypair,
) -> QuicTransport {
    let mut attempts = 0;
    loop {
        match QuicTransport::start(
            QuicConfig {
                listen: address,
                ..config()
            },
            signer,
        )
        .await
        {
            Ok(transport) => return transport,
            Err(QuicError::Bind { .. }) if attempts < 50 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("cannot restart: {error}"),
        }
    }
}

#[test]
fn a_restarted_peer_is_reconnected_and_gets_what_waited_for_it() {
    run(async {
        let signers = [signer(1), signer(2)];
        let mut transports = group(&signers).await;
        let (alice, bob) = (peer_id(&signers[0]), peer_id(&signers[1]));
        let bob_transport = transports.pop().unwrap();
        let bob_address = bob_transport.local_addr();
        bob_transport.shutdown().await;
        assert_eq!(
            next(&mut transports[0]).await,
            Incoming::Disconnected { peer: bob.clone() }
        );
        transports[0].send(Outgoing::Direct {
            to: bob.clone(),
            channel: Channel::Direct,
            bytes: vec![3],
        });

        // A new process state: same key and address, fresh certificate, no memory.
        let mut restarted = restart_on(bob_address, &signers[1]).await;
        restarted.add_peer(QuicPeer {
            key: signers[0].public_key(),
            address: transports[0].local_addr(),
        });
        assert_eq!(
            next(&mut transports[0]).await,
            Incoming::Connected { peer: bob.clone() }
        );
        assert_eq!(
            next_message(&mut restarted).await,
            (alice.clone(), Channel::Direct, vec![3])
        );
        restarted.send(Outgoing::Direct {
            to: alice,
            channel: Channel::Direct,
            bytes: vec![4],
        });
        assert_eq!(
            next_message(&mut transports[0]).await,
            (bob, Channel::Direct, vec![4])
        );
    });
}

#[test]
fn dropping_a_transport_disconnects_it_and_it_can_come_back() {
    run(async {
        let signers = [signer(1), signer(2)];
        let mut transports = group(&signers).await;
        let bob = peer_id(&signers[1]);
        let bob_address = transports[1].local_addr();
        drop(transports.pop());
        assert_eq!(
            next(&mut transports[0]).await,
            Incoming::Disconnected { peer: bob.clone() }
        );
        let mut restarted = restart_on(bob_address, &signers[1]).await;
        restarted.add_peer(QuicPeer {
            key: signers[0].public_key(),
            address: transports[0].local_addr(),
        });
        assert_eq!(
            next(&mut transports[0]).await,
            Incoming::Connected { peer: bob }
        );
    });
}

#[test]
fn keep_alive_holds_an_idle_connection_open() {
    run(async {
        let short = QuicConfig {
            idle_timeout: Duration::from_millis(1500),
            keep_alive: Duration::from_millis(300),
            ..config()
        };
        let (alice, bob) = (signer(1), signer(2));
        let mut a = QuicTransport::start(short.clone(), &alice).await.unwrap();
        let mut b = QuicTransport::start(short, &bob).await.unwrap();
        a.add_peer(QuicPeer {
            key: bob.public_key(),
            address: b.local_addr(),
        });
        b.add_peer(QuicPeer {
            key: alice.public_key(),
            address: a.local_addr(),
        });
        assert_eq!(
            next(&mut a).await,
            Incoming::Connected {
                peer: peer_id(&bob)
            }
        );
        let quiet = next_within(&mut a, Duration::from_millis(4000)).await;
        assert!(quiet.is_none(), "unexpected {quiet:?}");
    });
}

#[test]
fn without_keep_alive_an_idle_connection_times_out_and_is_redialed() {
    run(async {
        let no_ping = QuicConfig {
            idle_timeout: Duration::from_millis(800),
            keep_alive: Duration::ZERO,
            ..config()
        };
        let (alice, bob) = (signer(1), signer(2));
        let mut a = QuicTransport::start(no_ping.clone(), &alice).await.unwrap();
        let mut b = QuicTransport::start(no_ping, &bob).await.unwrap();
        a.add_peer(QuicPeer {
            key: bob.public_key(),
            address: b.local_addr(),
        });
        b.add_peer(QuicPeer {
            key: alice.public_key(),
            address: a.local_addr(),
        });
        let bob_id = peer_id(&bob);
        assert_eq!(
            next(&mut a).await,
            Incoming::Connected {
                peer: bob_id.clone()
            }
        );
        assert_eq!(
            next(&mut a).await,
            Incoming::Disconnected {
                peer: bob_id.clone()
            }
        );
        assert_eq!(next(&mut a).await, Incoming::Connected { peer: bob_id });
    });
}

#[test]
fn start_refuses_bad_settings_and_a_taken_port() {
    run(async {
        let bad = QuicConfig {
            keep_alive: Duration::from_secs(60),
            ..config()
        };
        assert!(matches!(
            QuicTransport::start(bad, &signer(1)).await,
            Err(QuicError::InvalidConfig(_))
        ));
        let first = QuicTransport::start(config(), &signer(1)).await.unwrap();
        let taken = QuicConfig {
            listen: first.local_addr(),
            ..config()
        };
        assert!(matches!(
            QuicTransport::start(taken, &signer(2)).await,
            Err(QuicError::Bind { .. })
        ));
        assert_eq!(first.local_peer(), peer_id(&signer(1)));
        assert_eq!(first.local_key(), signer(1).public_key());
    });
}
