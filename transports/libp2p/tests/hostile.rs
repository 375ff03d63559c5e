//! Hostile input against a libp2p transport: oversized and malformed direct messages,
//! garbage on the TCP port, a stream flood. The node must count, drop, and keep working.

mod support;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chorus_core::transport::{Outgoing, Transport};
use chorus_core::wire::Channel;
use chorus_libp2p::{Libp2pConfig, Multiaddr, DIRECT_PROTOCOL};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use libp2p::{noise, tcp, yamux, StreamProtocol};
use rand::RngCore;
use support::{within_limit, Net, Shape};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;

/// A codec that writes whatever bytes it is given and reads any answer up to 1 MiB.
#[derive(Clone, Default)]
struct RawCodec;

impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut out = Vec::new();
        io.take(1 << 20).read_to_end(&mut out).await?;
        Ok(out)
    }

    async fn read_response<T>(&mut self, p: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let answer = self.read_request(p, io).await?;
        if answer.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(answer)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        bytes: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&bytes).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        bytes: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&bytes).await
    }
}

/// A bare libp2p peer that sends raw direct-protocol requests, running in its own task.
struct RawClient {
    requests: mpsc::UnboundedSender<Vec<u8>>,
    acknowledged: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
}

impl RawClient {
    fn spawn(target: Multiaddr) -> RawClient {
        let peer = target
            .iter()
            .find_map(|p| match p {
                Protocol::P2p(peer) => Some(peer),
                _ => None,
            })
            .expect("address names its peer");
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let (requests, mut queue) = mpsc::unbounded_channel::<Vec<u8>>();
        let (acks, fails) = (acknowledged.clone(), failed.clone());
        let mut swarm = libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(tcp::Config::default(), noise::Config::new, || {
                let mut config = yamux::Config::default();
                config.set_max_num_streams(4096);
                config
            })
            .expect("tcp")
            .with_behaviour(|_| {
                request_response::Behaviour::with_codec(
                    RawCodec,
                    [(
                        StreamProtocol::new(DIRECT_PROTOCOL),
                        ProtocolSupport::Outbound,
                    )],
                    request_response::Config::default()
                        .with_max_concurrent_streams(4096)
                        .with_request_timeout(Duration::from_secs(10)),
                )
            })
            .expect("behaviour")
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        swarm.dial(target).expect("dial");
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    request = queue.recv() => match request {
                        Some(bytes) => {
                            swarm.behaviour_mut().send_request(&peer, bytes);
                        }
                        None => return,
                    },
                    event = swarm.select_next_some() => match event {
                        SwarmEvent::Behaviour(request_response::Event::Message { .. }) => {
                            acks.fetch_add(1, Ordering::SeqCst);
                        }
                        SwarmEvent::Behaviour(request_response::Event::OutboundFailure { .. }) => {
                            fails.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => {}
                    },
                }
            }
        });
        RawClient {
            requests,
            acknowledged,
            failed,
        }
    }

    fn send(&self, bytes: Vec<u8>) {
        self.requests.send(bytes).expect("client task runs");
    }

    fn settled(&self) -> usize {
        self.acknowledged.load(Ordering::SeqCst) + self.failed.load(Ordering::SeqCst)
    }
}

fn direct_frame(channel_tag: u8, len: usize) -> Vec<u8> {
    let mut frame = vec![channel_tag];
    frame.resize(len + 1, 0x33);
    frame
}

#[tokio::test]
async fn oversized_and_malformed_direct_messages_are_refused_without_harm() {
    within_limit(async {
        let mut net = Net::start(1, Shape::Isolated, |c| c).await;
        let client = RawClient::spawn(net.nodes[0].listen_addrs()[0].clone());
        client.send(direct_frame(1, Channel::Direct.max_message_len() + 1));
        client.send(direct_frame(1, 2 * Channel::Direct.max_message_len()));
        client.send(direct_frame(0, Channel::Gossip.max_message_len() + 1));
        client.send(direct_frame(7, 10));
        client.send(Vec::new());
        net.run_until(|_| client.settled() == 5).await;
        assert_eq!(client.failed.load(Ordering::SeqCst), 5);
        let stats = net.nodes[0].stats();
        assert_eq!(stats.dropped_oversized, 3);
        assert_eq!(stats.dropped_undecodable, 2);
        assert_eq!(stats.delivered_direct, 0);
        assert!(net.messages(0, Channel::Direct).is_empty());
        // A well-formed message on the same connection still goes through.
        client.send(direct_frame(1, Channel::Direct.max_message_len()));
        net.run_until(|net| net.messages(0, Channel::Direct).len() == 1)
            .await;
        net.run_until(|_| client.acknowledged.load(Ordering::SeqCst) == 1)
            .await;
    })
    .await;
}

#[tokio::test]
async fn a_thousand_requests_at_once_are_bounded_and_the_node_keeps_working() {
    within_limit(async {
        const REQUESTS: usize = 1000;
        const BACKLOG: usize = 32;
        let mut net = Net::start(2, Shape::Mesh, |c| Libp2pConfig {
            max_buffered_incoming: BACKLOG,
            ..c
        })
        .await;
        let client = RawClient::spawn(net.nodes[0].listen_addrs()[0].clone());
        net.run_until(|net| net.nodes[0].connected_peers().len() == 2)
            .await;
        for index in 0..REQUESTS {
            let mut frame = direct_frame(1, 64);
            frame[1..9].copy_from_slice(&(index as u64).to_be_bytes());
            client.send(frame);
        }
        net.run_until(|_| client.settled() == REQUESTS).await;
        let through = net.messages(0, Channel::Direct).len();
        let acknowledged = client.acknowledged.load(Ordering::SeqCst);
        println!("{through} of {REQUESTS} requests got through, {acknowledged} acknowledged");
        let stats = net.nodes[0].stats();
        assert!(through <= REQUESTS);
        assert_eq!(stats.delivered_direct as usize, through);
        assert!(acknowledged <= through);
        assert!(stats.peak_backlog <= BACKLOG);
        // The node still serves its honest peer.
        let to = net.peer(0);
        net.nodes[1].send(Outgoing::Direct {
            to,
            channel: Channel::Direct,
            bytes: b"after the flood".to_vec(),
        });
        net.run_until(|net| net.has_message(0, Channel::Direct, &net.peer(1), b"after the flood"))
            .await;
    })
    .await;
}

fn tcp_port(address: &Multiaddr) -> u16 {
    address
        .iter()
        .find_map(|p| match p {
            Protocol::Tcp(port) => Some(port),
            _ => None,
        })
        .expect("a TCP address")
}

#[tokio::test]
async fn garbage_on_the_tcp_port_does_not_crash_the_node() {
    within_limit(async {
        const CONNECTIONS: usize = 20;
        let mut net = Net::start(2, Shape::Mesh, |c| c).await;
        let port = tcp_port(&net.nodes[0].listen_addrs()[0]);
        let mut writers = Vec::new();
        for round in 0..CONNECTIONS {
            writers.push(tokio::spawn(async move {
                let mut garbage = vec![0u8; 64 * 1024];
                rand::rng().fill_bytes(&mut garbage);
                if round % 2 == 1 {
                    // Get past the first negotiation, then talk nonsense.
                    let header = b"\x13/multistream/1.0.0\n\x07/noise\n";
                    garbage[..header.len()].copy_from_slice(header);
                }
                let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await
                else {
                    return;
                };
                let _ = stream.write_all(&garbage).await;
                let _ = stream.shutdown().await;
            }));
        }
        net.run_until(|net| {
            writers.iter().all(|w| w.is_finished())
                && net.nodes[0].stats().connection_errors as usize == CONNECTIONS
        })
        .await;
        // The node still exchanges messages both ways.
        let (to_0, to_1) = (net.peer(0), net.peer(1));
        net.nodes[1].send(Outgoing::Direct {
            to: to_0,
            channel: Channel::Direct,
            bytes: b"ping".to_vec(),
        });
        net.nodes[0].send(Outgoing::Direct {
            to: to_1,
            channel: Channel::Direct,
            bytes: b"pong".to_vec(),
        });
        net.run_until(|net| {
            net.has_message(0, Channel::Direct, &net.peer(1), b"ping")
                && net.has_message(1, Channel::Direct, &net.peer(0), b"pong")
        })
        .await;
    })
    .await;
}
