//! What can go wrong when configuring or starting a QUIC transport, or checking a peer's
//! certificate.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why a QUIC transport could not be configured or started.
///
/// ```
/// use chorus_quic::{parse_peers, QuicError};
///
/// let error = parse_peers("[[peer]]\nkey = \"02\"\naddress = \"127.0.0.1:9001\"").unwrap_err();
/// assert!(matches!(error, QuicError::InvalidPeerKey { index: 0, .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuicError {
    /// The peers file could not be read.
    #[error("cannot read the peers file {path}: {source}")]
    PeersFileUnreadable {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The peers file is not valid TOML of the expected shape.
    #[error("the peers file is not valid: {0}")]
    PeersFileSyntax(#[from] toml::de::Error),
    /// A peer's `key` is not a 33-byte compressed secp256k1 public key in hex.
    #[error("peer {index}: invalid key: {reason}")]
    InvalidPeerKey {
        /// The peer's position in the file, from 0.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A peer's `address` is not an `IP:port` socket address.
    #[error("peer {index}: invalid address {address:?}: expected IP:port")]
    InvalidPeerAddress {
        /// The peer's position in the file, from 0.
        index: usize,
        /// The address as written.
        address: String,
    },
    /// The same key is listed twice.
    #[error("peer {index}: key {key} is listed twice")]
    DuplicatePeer {
        /// The second occurrence's position in the file, from 0.
        index: usize,
        /// The key, in hex.
        key: String,
    },
    /// A configuration value is out of range.
    #[error("invalid QUIC configuration: {0}")]
    InvalidConfig(String),
    /// The UDP socket could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address from the configuration.
        address: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The certificate could not be generated.
    #[error("cannot generate the TLS certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// The TLS configuration was refused.
    #[error("cannot configure TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// The TLS configuration does not suit QUIC (it lacks a QUIC cipher suite).
    #[error("the TLS configuration does not suit QUIC: {0}")]
    QuicTls(String),
}

/// Why a certificate does not prove that its holder owns a signer key.
///
/// ```
/// use chorus_quic::identity::verify_binding;
/// use chorus_quic::BindingError;
/// use rustls::pki_types::CertificateDer;
///
/// let error = verify_binding(&CertificateDer::from(vec![0x30, 0x00])).unwrap_err();
/// assert!(matches!(error, BindingError::MalformedCertificate(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BindingError {
    /// The bytes are not one X.509 certificate.
    #[error("malformed certificate: {0}")]
    MalformedCertificate(String),
    /// The certificate carries no signer-key binding extension.
    #[error("the certificate carries no signer-key binding")]
    MissingBinding,
    /// The binding extension is present more than once or is not the expected
    /// `OCTET STRING` of a 33-byte key and a 64-byte signature.
    #[error("malformed signer-key binding: {0}")]
    MalformedBinding(String),
    /// The bound key is not a valid secp256k1 public key.
    #[error("the bound signer key is not a valid public key")]
    InvalidSignerKey,
    /// The binding signature does not verify under the bound key.
    #[error("the signer-key binding signature does not verify")]
    BadSignature,
    /// The binding is valid but for a key other than the expected one.
    #[error("the certificate is bound to {found}, expected {expected}")]
    UnexpectedKey {
        /// The key the connection was meant to reach, in hex.
        expected: String,
        /// The key the certificate is bound to, in hex.
        found: String,
    },
    /// The binding is valid but for a key that is not in the peer list.
    #[error("the certificate is bound to {0}, which is not a known peer")]
    UnknownKey(String),
}
