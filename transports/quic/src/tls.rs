//! TLS 1.3 configurations whose verifiers accept a peer by its signer-key binding.

use std::collections::BTreeSet;
use std::sync::{Arc, PoisonError, RwLock};

use chorus_core::crypto::PublicKey;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::error::{BindingError, QuicError};
use crate::identity::{provider, verify_binding, BoundCertificate};
use crate::ALPN;

/// The server name a client sends; it is not checked, the binding is.
pub(crate) const SERVER_NAME: &str = "chorus";

/// The signer keys a server accepts clients for; shared with the transport, which adds
/// peers at run time.
#[derive(Debug, Default)]
pub(crate) struct PeerKeys(RwLock<BTreeSet<[u8; 33]>>);

impl PeerKeys {
    pub(crate) fn insert(&self, key: &PublicKey) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.serialize());
    }

    pub(crate) fn contains(&self, key: &PublicKey) -> bool {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&key.serialize())
    }
}

/// The QUIC server configuration: mutual TLS 1.3, clients accepted by binding.
pub(crate) fn server_config(
    identity: &BoundCertificate,
    peers: Arc<PeerKeys>,
    transport: Arc<quinn::TransportConfig>,
) -> Result<quinn::ServerConfig, QuicError> {
    let verifier = Arc::new(ClientBindingVerifier {
        peers,
        algorithms: provider().signature_verification_algorithms,
    });
    let mut tls = rustls::ServerConfig::builder_with_provider(provider().clone())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![identity.certificate().clone()], identity.private_key())?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    // No resumption: every connection presents and verifies both certificates.
    tls.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    tls.send_tls13_tickets = 0;
    let quic = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
        .map_err(|error| QuicError::QuicTls(error.to_string()))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(quic));
    config.transport_config(transport);
    Ok(config)
}

/// The QUIC client configuration for dialing the peer that holds `expected`.
pub(crate) fn client_config(
    identity: &BoundCertificate,
    expected: PublicKey,
    transport: Arc<quinn::TransportConfig>,
) -> Result<quinn::ClientConfig, QuicError> {
    let verifier = Arc::new(ServerBindingVerifier {
        expected,
        algorithms: provider().signature_verification_algorithms,
    });
    let mut tls = rustls::ClientConfig::builder_with_provider(provider().clone())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(vec![identity.certificate().clone()], identity.private_key())?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    tls.resumption = rustls::client::Resumption::disabled();
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(tls)
        .map_err(|error| QuicError::QuicTls(error.to_string()))?;
    let mut config = quinn::ClientConfig::new(Arc::new(quic));
    config.transport_config(transport);
    Ok(config)
}

/// The signer key of an established connection's peer.
pub(crate) fn connection_peer_key(
    connection: &quinn::Connection,
) -> Result<PublicKey, BindingError> {
    let chain = connection
        .peer_identity()
        .and_then(|identity| identity.downcast::<Vec<CertificateDer<'static>>>().ok())
        .ok_or(BindingError::MissingBinding)?;
    match chain.as_slice() {
        [end_entity] => verify_binding(end_entity),
        _ => Err(BindingError::MalformedCertificate(format!(
            "expected one certificate, got {}",
            chain.len()
        ))),
    }
}

/// The signer key bound to a lone certificate, as a rustls error if there is none.
fn bound_key(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> Result<PublicKey, rustls::Error> {
    if !intermediates.is_empty() {
        return Err(rustls::Error::InvalidCertificate(CertificateError::Other(
            rustls::OtherError(Arc::new(BindingError::MalformedCertificate(
                "a bound certificate comes alone".into(),
            ))),
        )));
    }
    verify_binding(end_entity).map_err(refusal)
}

fn refusal(error: BindingError) -> rustls::Error {
    let kind = match error {
        BindingError::MalformedCertificate(_) => CertificateError::BadEncoding,
        BindingError::BadSignature => CertificateError::BadSignature,
        _ => CertificateError::ApplicationVerificationFailure,
    };
    tracing::debug!(%error, "refusing a peer certificate");
    rustls::Error::InvalidCertificate(kind)
}

fn only_tls13() -> rustls::Error {
    rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls13RequiredForQuic)
}

/// The client's check of the server: bound to the key it dialed.
#[derive(Debug)]
struct ServerBindingVerifier {
    expected: PublicKey,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for ServerBindingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let found = bound_key(end_entity, intermediates)?;
        if found != self.expected {
            return Err(refusal(BindingError::UnexpectedKey {
                expected: hex::encode(self.expected.serialize()),
                found: hex::encode(found.serialize()),
            }));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(only_tls13())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The server's check of a client: bound to a key of the group.
#[derive(Debug)]
struct ClientBindingVerifier {
    peers: Arc<PeerKeys>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for ClientBindingVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let found = bound_key(end_entity, intermediates)?;
        if !self.peers.contains(&found) {
            return Err(refusal(BindingError::UnknownKey(hex::encode(
                found.serialize(),
            ))));
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(only_tls13())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chorus_core::crypto::{Keypair, SecretKey};

    fn signer(byte: u8) -> Keypair {
        Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
    }

    fn server_verifier(expected: &Keypair) -> ServerBindingVerifier {
        ServerBindingVerifier {
            expected: expected.public_key(),
            algorithms: provider().signature_verification_algorithms,
        }
    }

    #[test]
    fn a_server_must_be_bound_to_the_dialed_key() {
        let certificate = BoundCertificate::generate(&signer(1)).unwrap();
        let name = ServerName::try_from(SERVER_NAME).unwrap();
        let check = |verifier: &ServerBindingVerifier, intermediates: &[CertificateDer<'_>]| {
            verifier
                .verify_server_cert(
                    certificate.certificate(),
                    intermediates,
                    &name,
                    &[],
                    UnixTime::now(),
                )
                .is_ok()
        };
        assert!(check(&server_verifier(&signer(1)), &[]));
        assert!(!check(&server_verifier(&signer(2)), &[]));
        assert!(!check(
            &server_verifier(&signer(1)),
            &[certificate.certificate().clone()]
        ));
    }

    #[test]
    fn a_client_must_be_bound_to_a_group_key() {
        let peers = Arc::new(PeerKeys::default());
        peers.insert(&signer(1).public_key());
        let verifier = ClientBindingVerifier {
            peers: peers.clone(),
            algorithms: provider().signature_verification_algorithms,
        };
        let member = BoundCertificate::generate(&signer(1)).unwrap();
        let stranger = BoundCertificate::generate(&signer(2)).unwrap();
        let unbound = rcgen::generate_simple_self_signed(vec![SERVER_NAME.to_owned()]).unwrap();
        let check = |certificate: &CertificateDer<'_>| {
            verifier
                .verify_client_cert(certificate, &[], UnixTime::now())
                .is_ok()
        };
        assert!(check(member.certificate()));
        assert!(!check(stranger.certificate()));
        assert!(!check(unbound.cert.der()));
        peers.insert(&signer(2).public_key());
        assert!(check(stranger.certificate()));
    }

    #[test]
    fn the_certificate_key_scheme_is_supported() {
        assert!(server_verifier(&signer(1))
            .supported_verify_schemes()
            .contains(&SignatureScheme::ED25519));
    }

    #[test]
    fn configurations_build_with_the_explicit_provider() {
        let identity = BoundCertificate::generate(&signer(1)).unwrap();
        let transport = Arc::new(quinn::TransportConfig::default());
        assert!(server_config(&identity, Arc::default(), transport.clone()).is_ok());
        assert!(client_config(&identity, signer(2).public_key(), transport).is_ok());
    }
}
