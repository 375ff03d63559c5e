//! Impostors are refused during the TLS handshake, in both directions: a certificate must
//! be bound to the signer key the peers file names.

mod support;

use std::time::Duration;

use chorus_core::crypto::Keypair;
use chorus_core::transport::Incoming;
use chorus_core::wire::Channel;
use chorus_quic::identity::BoundCertificate;
use chorus_quic::{QuicConfig, QuicPeer, QuicTransport};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use support::{
    config, direct_frame, is_tls_refusal, next_message, next_within, peer_id, raw_client,
    raw_connect, raw_server, run, send_raw, signer, unbound_certificate,
};

fn bound(signer: &Keypair) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let bound = BoundCertificate::generate(signer).unwrap();
    (bound.certificate().clone(), bound.private_key())
}

/// Asserts that `transport` reports no connection for a while.
async fn assert_never_connects(transport: &mut QuicTransport) {
    let event = next_within(transport, Duration::from_millis(700)).await;
    assert!(
        !matches!(
            event,
            Some(Incoming::Connected { .. } | Incoming::Message { .. })
        ),
        "unexpected {event:?}"
    );
}

/// A transport that believes `expected` listens where a raw server presenting
/// `certificate` does; returns how the server's handshake with it ended and whether the
/// transport reported a connection.
async fn dial_impostor(
    expected: &Keypair,
    certificate: (CertificateDer<'static>, PrivateKeyDer<'static>),
) -> (Result<(), quinn::ConnectionError>, bool) {
    let server = raw_server(certificate.0, certificate.1);
    let peers = vec![QuicPeer {
        key: expected.public_key(),
        address: server.local_addr().unwrap(),
    }];
    let mut dialer = QuicTransport::start(QuicConfig { peers, ..config() }, &signer(1))
        .await
        .unwrap();
    let incoming = server.accept().await.unwrap();
    // Held open until the dialer had its chance to report the connection.
    let accepted = incoming.await;
    let connected = matches!(
        next_within(&mut dialer, Duration::from_millis(700)).await,
        Some(Incoming::Connected { .. })
    );
    (accepted.map(drop), connected)
}

#[test]
fn a_dialer_accepts_a_server_bound_to_the_expected_key() {
    run(async {
        let bob = signer(2);
        let (accepted, connected) = dial_impostor(&bob, bound(&bob)).await;
        assert!(accepted.is_ok() && connected);
    });
}

#[test]
fn a_dialer_refuses_a_server_bound_to_another_key() {
    run(async {
        let (accepted, connected) = dial_impostor(&signer(2), bound(&signer(3))).await;
        assert!(
            is_tls_refusal(&accepted.unwrap_err()),
            "the dialer must abort the handshake"
        );
        assert!(!connected);
    });
}

#[test]
fn a_dialer_refuses_a_server_without_binding() {
    run(async {
        let (accepted, connected) = dial_impostor(&signer(2), unbound_certificate()).await;
        assert!(
            is_tls_refusal(&accepted.unwrap_err()),
            "the dialer must abort the handshake"
        );
        assert!(!connected);
    });
}

/// A transport whose group is `members` (at an address that never answers), listening.
async fn listener(members: &[&Keypair]) -> (QuicTransport, std::net::UdpSocket) {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let peers = members
        .iter()
        .map(|member| QuicPeer {
            key: member.public_key(),
            address: silent.local_addr().unwrap(),
        })
        .collect();
    let transport = QuicTransport::start(QuicConfig { peers, ..config() }, &signer(1))
        .await
        .unwrap();
    (transport, silent)
}

#[test]
fn a_listener_accepts_a_client_bound_to_a_member_key_and_attributes_it() {
    run(async {
        let bob = signer(2);
        let (mut transport, _silent) = listener(&[&bob]).await;
        let (certificate, key) = bound(&bob);
        let client = raw_client(certificate, key);
        let connection = raw_connect(&client, transport.local_addr()).await.unwrap();
        assert_eq!(
            support::next(&mut transport).await,
            Incoming::Connected {
                peer: peer_id(&bob)
            }
        );
        send_raw(&connection, &direct_frame(b"hello")).await;
        assert_eq!(
            next_message(&mut transport).await,
            (peer_id(&bob), Channel::Direct, b"hello".to_vec())
        );
    });
}

#[test]
fn a_listener_refuses_a_client_bound_to_another_key() {
    run(async {
        let (mut transport, _silent) = listener(&[&signer(2)]).await;
        let (certificate, key) = bound(&signer(3));
        let client = raw_client(certificate, key);
        let refused = raw_connect(&client, transport.local_addr())
            .await
            .unwrap_err();
        assert!(is_tls_refusal(&refused), "{refused}");
        assert_never_connects(&mut transport).await;
    });
}

#[test]
fn a_listener_refuses_a_client_without_binding_or_certificate() {
    run(async {
        let (mut transport, _silent) = listener(&[&signer(2)]).await;
        let (certificate, key) = unbound_certificate();
        let client = raw_client(certificate, key);
        let refused = raw_connect(&client, transport.local_addr())
            .await
            .unwrap_err();
        assert!(is_tls_refusal(&refused), "{refused}");

        let mut tls = rustls::ClientConfig::builder_with_provider(support::provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(support::accept_any_server())
            .with_no_client_auth();
        tls.alpn_protocols = vec![chorus_quic::ALPN.to_vec()];
        let quic = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
        let mut anonymous = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
        anonymous.set_default_client_config(quinn::ClientConfig::new(std::sync::Arc::new(quic)));
        let refused = raw_connect(&anonymous, transport.local_addr())
            .await
            .unwrap_err();
        assert!(is_tls_refusal(&refused), "{refused}");
        assert_never_connects(&mut transport).await;
    });
}

#[test]
fn two_transports_with_a_wrong_peers_entry_never_connect() {
    run(async {
        // Alice's peers file says Bob's key is at the address where Mallory listens;
        // Mallory lists Alice correctly. Neither direction may succeed.
        let (alice, bob, mallory) = (signer(1), signer(2), signer(3));
        let mut mallory_transport = QuicTransport::start(config(), &mallory).await.unwrap();
        let peers = vec![QuicPeer {
            key: bob.public_key(),
            address: mallory_transport.local_addr(),
        }];
        let mut alice_transport = QuicTransport::start(QuicConfig { peers, ..config() }, &alice)
            .await
            .unwrap();
        mallory_transport.add_peer(QuicPeer {
            key: alice.public_key(),
            address: alice_transport.local_addr(),
        });
        assert_never_connects(&mut alice_transport).await;
        assert_never_connects(&mut mallory_transport).await;
    });
}
