//! Self-signed TLS certificates bound to a signer key.
//!
//! A node's certificate has a fresh Ed25519 key (the *certificate key*, which signs the TLS
//! handshake) and one non-critical extension, [`BINDING_OID`], whose value is the DER
//! `OCTET STRING` of 97 bytes: the signer's 33-byte compressed secp256k1 key followed by a
//! 64-byte BIP340 signature, by that signer key, over [`binding_message`] — a tagged hash
//! (tag [`BINDING_TAG`]) of the signer key and the certificate's `SubjectPublicKeyInfo`.
//! See the crate documentation for why this is sound.

use std::sync::OnceLock;

use chorus_core::crypto::{self, Dialect, Keypair, PublicKey, Signature};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use x509_parser::der_parser::der::parse_der_octetstring;
use x509_parser::der_parser::oid::Oid;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{BindingError, QuicError};

/// The object identifier of the signer-key binding extension: an arc under `2.25` (the
/// ITU-T X.667 arc that needs no registration), picked at random once.
///
/// ```
/// assert_eq!(chorus_quic::identity::BINDING_OID[..2], [2, 25]);
/// ```
pub const BINDING_OID: &[u64] = &[2, 25, 16_109_167_175_318_228_125];

/// The BIP340-style tag that separates binding signatures from every other use of a
/// signer key.
///
/// ```
/// assert!(chorus_quic::identity::BINDING_TAG.starts_with(b"chorus/"));
/// ```
pub const BINDING_TAG: &[u8] = b"chorus/quic-cert/v1";

/// Length of the binding extension's content: a compressed key and a BIP340 signature.
const BINDING_LEN: usize = 33 + 64;

/// The 32-byte message a signer key signs to bind a certificate key to itself:
/// `sha256(sha256(tag) || sha256(tag) || signer_key || spki_der)` with tag [`BINDING_TAG`].
///
/// The signer key is part of the message so that a binding names exactly one compressed
/// key (BIP340 verifies under the x-only key, which two compressed keys share).
///
/// ```
/// use chorus_quic::identity::binding_message;
///
/// assert_ne!(binding_message(&[2; 33], b"spki one"), binding_message(&[2; 33], b"spki two"));
/// assert_ne!(binding_message(&[2; 33], b"spki"), binding_message(&[3; 33], b"spki"));
/// ```
pub fn binding_message(signer_key: &[u8; 33], spki_der: &[u8]) -> [u8; 32] {
    let tag = Sha256::digest(BINDING_TAG);
    let mut hasher = Sha256::new();
    hasher.update(tag);
    hasher.update(tag);
    hasher.update(signer_key);
    hasher.update(spki_der);
    hasher.finalize().into()
}

/// A self-signed certificate bound to a signer key, with its private certificate key.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_quic::identity::{verify_binding, BoundCertificate};
///
/// let signer = Keypair::from_secret_key(&SecretKey::from_secret_bytes([7; 32]).unwrap());
/// let bound = BoundCertificate::generate(&signer).unwrap();
/// assert_eq!(verify_binding(bound.certificate()).unwrap(), signer.public_key());
/// ```
#[derive(Debug)]
pub struct BoundCertificate {
    certificate: CertificateDer<'static>,
    private_key: PrivatePkcs8KeyDer<'static>,
}

impl BoundCertificate {
    /// Generates a fresh Ed25519 certificate key and a certificate bound to `signer`.
    ///
    /// # Errors
    ///
    /// [`QuicError::Certificate`] if key generation or certificate signing fails.
    ///
    /// ```
    /// use chorus_core::crypto::{Keypair, SecretKey};
    /// use chorus_quic::identity::BoundCertificate;
    ///
    /// let signer = Keypair::from_secret_key(&SecretKey::from_secret_bytes([7; 32]).unwrap());
    /// let first = BoundCertificate::generate(&signer)?;
    /// let second = BoundCertificate::generate(&signer)?;
    /// assert_ne!(first.certificate(), second.certificate(), "a fresh certificate key each time");
    /// # Ok::<(), chorus_quic::QuicError>(())
    /// ```
    pub fn generate(signer: &Keypair) -> Result<Self, QuicError> {
        let certificate_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)?;
        let spki = rcgen::PublicKeyData::subject_public_key_info(&certificate_key);
        let signer_key = signer.public_key().serialize();
        let mut aux_rand = [0u8; 32];
        provider()
            .secure_random
            .fill(&mut aux_rand)
            .map_err(|_| rcgen::Error::RingUnspecified)?;
        let signature = crypto::sign_single(
            Dialect::Bip340,
            signer,
            &binding_message(&signer_key, &spki),
            &aux_rand,
        );
        let mut params = rcgen::CertificateParams::new(vec!["chorus".to_owned()])?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "chorus signer");
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                BINDING_OID,
                encode_binding(&signer_key, &signature),
            ));
        let certificate = params.self_signed(&certificate_key)?;
        Ok(BoundCertificate {
            certificate: certificate.der().clone(),
            private_key: PrivatePkcs8KeyDer::from(certificate_key.serialize_der()),
        })
    }

    /// The DER certificate, which the TLS handshake presents.
    ///
    /// ```
    /// # use chorus_core::crypto::{Keypair, SecretKey};
    /// # let signer = Keypair::from_secret_key(&SecretKey::from_secret_bytes([7; 32]).unwrap());
    /// let bound = chorus_quic::identity::BoundCertificate::generate(&signer)?;
    /// assert_eq!(bound.certificate()[0], 0x30, "a DER SEQUENCE");
    /// # Ok::<(), chorus_quic::QuicError>(())
    /// ```
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.certificate
    }

    /// The certificate's private key in PKCS#8, which signs the TLS handshake.
    ///
    /// ```
    /// # use chorus_core::crypto::{Keypair, SecretKey};
    /// # let signer = Keypair::from_secret_key(&SecretKey::from_secret_bytes([7; 32]).unwrap());
    /// let bound = chorus_quic::identity::BoundCertificate::generate(&signer)?;
    /// assert!(matches!(bound.private_key(), rustls::pki_types::PrivateKeyDer::Pkcs8(_)));
    /// # Ok::<(), chorus_quic::QuicError>(())
    /// ```
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.private_key.clone_key())
    }
}

/// The signer key a certificate is bound to, if its binding verifies.
///
/// Checks that `certificate` is exactly one X.509 certificate with exactly one
/// [`BINDING_OID`] extension holding a valid compressed key and a BIP340 signature, by
/// that key, over [`binding_message`] of the key and the certificate's
/// `SubjectPublicKeyInfo`. The TLS handshake separately proves that the peer holds the
/// certificate key.
///
/// # Errors
///
/// A [`BindingError`] saying which check failed.
///
/// ```
/// use chorus_core::crypto::{Keypair, SecretKey};
/// use chorus_quic::identity::{verify_binding, BoundCertificate};
/// use chorus_quic::BindingError;
///
/// let unbound = rcgen::generate_simple_self_signed(vec!["chorus".to_owned()]).unwrap();
/// assert_eq!(verify_binding(unbound.cert.der()), Err(BindingError::MissingBinding));
/// ```
pub fn verify_binding(certificate: &CertificateDer<'_>) -> Result<PublicKey, BindingError> {
    let (rest, parsed) = X509Certificate::from_der(certificate)
        .map_err(|error| BindingError::MalformedCertificate(error.to_string()))?;
    if !rest.is_empty() {
        return Err(BindingError::MalformedCertificate(
            "trailing bytes after the certificate".into(),
        ));
    }
    let extension = parsed
        .get_extension_unique(&binding_oid())
        .map_err(|error| BindingError::MalformedBinding(error.to_string()))?
        .ok_or(BindingError::MissingBinding)?;
    let (signer_key, signature) = decode_binding(extension.value)?;
    let key = PublicKey::from_slice(&signer_key).map_err(|_| BindingError::InvalidSignerKey)?;
    let message = binding_message(&signer_key, parsed.public_key().raw);
    if crypto::verify(Dialect::Bip340, &key, &message, &signature) {
        Ok(key)
    } else {
        Err(BindingError::BadSignature)
    }
}

/// The rustls cryptography every configuration in this crate uses.
///
/// Given explicitly, never taken from the process default: a program that links both
/// of rustls's providers has no default, and another library may install a different one.
pub(crate) fn provider() -> &'static std::sync::Arc<CryptoProvider> {
    static PROVIDER: OnceLock<std::sync::Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| std::sync::Arc::new(rustls::crypto::ring::default_provider()))
}

/// [`BINDING_OID`]'s DER content octets (a unit test checks they match).
const BINDING_OID_DER: &[u8] = &[
    0x69, 0x81, 0xdf, 0xc7, 0xd0, 0xc6, 0xa2, 0xc1, 0xe7, 0x99, 0x1d,
];

fn binding_oid() -> Oid<'static> {
    Oid::new(std::borrow::Cow::Borrowed(BINDING_OID_DER))
}

/// The extension's DER content: `OCTET STRING (33-byte key || 64-byte signature)`.
fn encode_binding(signer_key: &[u8; 33], signature: &Signature) -> Vec<u8> {
    let mut content = Vec::with_capacity(2 + BINDING_LEN);
    // Tag OCTET STRING, short-form length (97 < 128).
    content.extend_from_slice(&[0x04, BINDING_LEN as u8]);
    content.extend_from_slice(signer_key);
    content.extend_from_slice(&signature.0);
    content
}

fn decode_binding(value: &[u8]) -> Result<([u8; 33], Signature), BindingError> {
    let malformed = |reason: &str| BindingError::MalformedBinding(reason.to_owned());
    let (rest, object) =
        parse_der_octetstring(value).map_err(|_| malformed("not a DER OCTET STRING"))?;
    if !rest.is_empty() {
        return Err(malformed("trailing bytes after the OCTET STRING"));
    }
    let content = object
        .as_slice()
        .map_err(|_| malformed("not a primitive OCTET STRING"))?;
    let (key, signature) = content
        .split_first_chunk::<33>()
        .ok_or_else(|| malformed("shorter than a key"))?;
    let signature: [u8; 64] = signature
        .try_into()
        .map_err(|_| malformed("not a key and a 64-byte signature"))?;
    Ok((*key, Signature(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chorus_core::crypto::SecretKey;

    fn signer(byte: u8) -> Keypair {
        Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
    }

    /// A certificate whose binding extension holds `content`, for a fresh certificate key.
    fn certificate_with_binding(content: Vec<u8>) -> CertificateDer<'static> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["chorus".to_owned()]).unwrap();
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                BINDING_OID,
                content,
            ));
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn the_oid_bytes_encode_the_oid_arcs() {
        assert_eq!(Oid::from(BINDING_OID).unwrap(), binding_oid());
    }

    #[test]
    fn a_generated_certificate_is_bound_to_its_signer() {
        let bound = BoundCertificate::generate(&signer(1)).unwrap();
        assert_eq!(
            verify_binding(bound.certificate()),
            Ok(signer(1).public_key())
        );
        assert_ne!(
            verify_binding(bound.certificate()),
            Ok(signer(2).public_key())
        );
    }

    #[test]
    fn the_signed_spki_is_the_one_in_the_certificate() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
        let params = rcgen::CertificateParams::new(vec!["chorus".to_owned()]).unwrap();
        let certificate = params.self_signed(&key).unwrap();
        let (_, parsed) = X509Certificate::from_der(certificate.der()).unwrap();
        assert_eq!(parsed.public_key().raw, &spki[..]);
    }

    #[test]
    fn a_binding_copied_onto_another_certificate_key_is_refused() {
        let bound = BoundCertificate::generate(&signer(1)).unwrap();
        let (_, parsed) = X509Certificate::from_der(bound.certificate()).unwrap();
        let stolen = parsed
            .get_extension_unique(&binding_oid())
            .unwrap()
            .unwrap();
        let forged = certificate_with_binding(stolen.value.to_vec());
        assert_eq!(verify_binding(&forged), Err(BindingError::BadSignature));
    }

    #[test]
    fn a_binding_signed_by_another_key_is_refused() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
        let claimed = signer(1).public_key().serialize();
        let signature = crypto::sign_single(
            Dialect::Bip340,
            &signer(2),
            &binding_message(&claimed, &spki),
            &[0; 32],
        );
        let mut params = rcgen::CertificateParams::new(vec!["chorus".to_owned()]).unwrap();
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                BINDING_OID,
                encode_binding(&claimed, &signature),
            ));
        let forged = params.self_signed(&key).unwrap();
        assert_eq!(
            verify_binding(forged.der()),
            Err(BindingError::BadSignature)
        );
    }

    #[test]
    fn malformed_bindings_are_refused() {
        let short = certificate_with_binding(vec![0x04, 0x02, 0x02, 0x03]);
        assert!(matches!(
            verify_binding(&short),
            Err(BindingError::MalformedBinding(_))
        ));
        let not_octets = certificate_with_binding(vec![0x05, 0x00]);
        assert!(matches!(
            verify_binding(&not_octets),
            Err(BindingError::MalformedBinding(_))
        ));
        let mut off_curve = vec![0x04, BINDING_LEN as u8, 0x02];
        off_curve.extend_from_slice(&[0xff; BINDING_LEN - 1]);
        assert_eq!(
            verify_binding(&certificate_with_binding(off_curve)),
            Err(BindingError::InvalidSignerKey)
        );
        let mut trailing = encode_binding(&[2; 33], &Signature([0; 64]));
        trailing.push(0);
        assert!(matches!(
            verify_binding(&certificate_with_binding(trailing)),
            Err(BindingError::MalformedBinding(_))
        ));
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        let mut bytes = BoundCertificate::generate(&signer(1))
            .unwrap()
            .certificate()
            .to_vec();
        bytes.push(0);
        assert!(matches!(
            verify_binding(&CertificateDer::from(bytes)),
            Err(BindingError::MalformedCertificate(_))
        ));
        assert!(matches!(
            verify_binding(&CertificateDer::from(vec![0xff; 40])),
            Err(BindingError::MalformedCertificate(_))
        ));
    }
}
