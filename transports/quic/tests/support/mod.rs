//! Shared set-up for the QUIC transport tests: keys, groups on 127.0.0.1, waiting for
//! events, and raw quinn endpoints that play impostors.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chorus_core::crypto::{Keypair, SecretKey};
use chorus_core::node::PeerId;
use chorus_core::transport::{Incoming, Transport};
use chorus_core::wire::Channel;
use chorus_quic::{QuicConfig, QuicPeer, QuicTransport, ALPN};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Every test body runs under this limit.
pub const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Runs `body` on a multi-threaded runtime, failing if it takes longer than [`TEST_LIMIT`].
pub fn run<F: Future<Output = ()>>(body: F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(TEST_LIMIT, body)
            .await
            .expect("the test timed out");
    });
}

/// The signer with secret key `[byte; 32]`.
pub fn signer(byte: u8) -> Keypair {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
}

pub fn peer_id(signer: &Keypair) -> PeerId {
    PeerId::from_key(&signer.public_key())
}

/// Settings that notice failures and reconnect quickly on loopback.
pub fn config() -> QuicConfig {
    QuicConfig {
        idle_timeout: Duration::from_secs(5),
        keep_alive: Duration::from_secs(1),
        max_backoff: Duration::from_millis(500),
        ..QuicConfig::default()
    }
}

/// The next item from `transport`.
pub async fn next(transport: &mut QuicTransport) -> Incoming {
    std::future::poll_fn(|cx| transport.poll_incoming(cx))
        .await
        .expect("the transport ended")
}

/// The next item within `wait`, if any.
pub async fn next_within(transport: &mut QuicTransport, wait: Duration) -> Option<Incoming> {
    tokio::time::timeout(wait, next(transport)).await.ok()
}

/// The next message, skipping connection events.
pub async fn next_message(transport: &mut QuicTransport) -> (PeerId, Channel, Vec<u8>) {
    loop {
        if let Incoming::Message {
            from,
            channel,
            bytes,
        } = next(transport).await
        {
            return (from, channel, bytes);
        }
    }
}

/// Waits until `transport` reported `Connected` for every peer in `peers`.
pub async fn wait_connected(transport: &mut QuicTransport, peers: &[PeerId]) {
    let mut missing: BTreeSet<PeerId> = peers.iter().cloned().collect();
    while !missing.is_empty() {
        match next(transport).await {
            Incoming::Connected { peer } => {
                missing.remove(&peer);
            }
            Incoming::Message { .. } => panic!("a message before the group was connected"),
            _ => {}
        }
    }
}

/// Starts one transport per signer on 127.0.0.1 and connects them all to each other.
pub async fn group(signers: &[Keypair]) -> Vec<QuicTransport> {
    let mut transports = Vec::new();
    for signer in signers {
        transports.push(QuicTransport::start(config(), signer).await.unwrap());
    }
    let peers: Vec<QuicPeer> = signers
        .iter()
        .zip(&transports)
        .map(|(signer, transport)| QuicPeer {
            key: signer.public_key(),
            address: transport.local_addr(),
        })
        .collect();
    for transport in &mut transports {
        for peer in &peers {
            transport.add_peer(*peer);
        }
    }
    for (index, transport) in transports.iter_mut().enumerate() {
        let others: Vec<PeerId> = signers
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != index)
            .map(|(_, signer)| peer_id(signer))
            .collect();
        wait_connected(transport, &others).await;
    }
    transports
}

/// The provider the impostor endpoints use.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server verifier that accepts any certificate, but still checks the handshake
/// signature, as a careless implementation would.
#[derive(Debug)]
struct AcceptAnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A verifier that trusts any server certificate (still checking handshake signatures).
pub fn accept_any_server() -> Arc<dyn ServerCertVerifier> {
    Arc::new(AcceptAnyServer(provider()))
}

/// A client endpoint on 127.0.0.1 presenting `certificate`, trusting any server.
pub fn raw_client(
    certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> quinn::Endpoint {
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(accept_any_server())
        .with_client_auth_cert(vec![certificate], key)
        .unwrap();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(quic)));
    endpoint
}

/// A server endpoint on 127.0.0.1 presenting `certificate`, not asking for client
/// certificates.
pub fn raw_server(
    certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> quinn::Endpoint {
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .unwrap();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let quic = quinn::crypto::rustls::QuicServerConfig::try_from(tls).unwrap();
    let config = quinn::ServerConfig::with_crypto(Arc::new(quic));
    quinn::Endpoint::server(config, "127.0.0.1:0".parse().unwrap()).unwrap()
}

/// An Ed25519 certificate with no signer-key binding, and its key.
pub fn unbound_certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let params = rcgen::CertificateParams::new(vec!["chorus".to_owned()]).unwrap();
    let certificate = params.self_signed(&key).unwrap();
    (
        certificate.der().clone(),
        PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
}

/// Connects a raw client to `address`; `Ok` only once the server confirmed the handshake
/// (sent `HANDSHAKE_DONE`), which with TLS 1.3 it does only after accepting the client's
/// certificate: the client's own handshake completes before that.
pub async fn raw_connect(
    client: &quinn::Endpoint,
    address: SocketAddr,
) -> Result<quinn::Connection, quinn::ConnectionError> {
    let connection = client.connect(address, "chorus").unwrap().await?;
    let confirmed = async {
        while connection.stats().frame_rx.handshake_done == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::select! {
        () = confirmed => Ok(connection),
        error = connection.closed() => Err(error),
    }
}

/// Whether `error` is a TLS alert: a certificate check refused the handshake.
pub fn is_tls_refusal(error: &quinn::ConnectionError) -> bool {
    matches!(error, quinn::ConnectionError::ConnectionClosed(close)
        if u64::from(close.error_code) & !0xff == 0x100)
}

/// A direct frame on the direct channel, built from the documented layout.
pub fn direct_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x01];
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// Sends `frame` on a new stream of `connection`.
pub async fn send_raw(connection: &quinn::Connection, frame: &[u8]) -> quinn::SendStream {
    let mut stream = connection.open_uni().await.unwrap();
    stream.write_all(frame).await.unwrap();
    stream.finish().unwrap();
    stream
}
