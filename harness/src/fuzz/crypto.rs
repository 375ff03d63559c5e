//! Bytes → every parser and verifier of the crypto and election API.

use chorus_core::crypto::{
    aggregate_nonces, verify, AggregateNonce, Dialect, KeyAggContext, PartialSignature, PublicKey,
    PublicNonce, Signature,
};
use chorus_core::election::{elect, ElectionMethod};

fn array<const N: usize>(data: &[u8], at: usize) -> Option<[u8; N]> {
    data.get(at..at.checked_add(N)?)?.try_into().ok()
}

fn keys_from(data: &[u8]) -> Vec<PublicKey> {
    data.chunks_exact(33)
        .filter_map(|chunk| PublicKey::from_slice(chunk).ok())
        .take(32)
        .collect()
}

/// Feeds `bytes` to every parser and verifier of chorus-core's crypto and election API:
/// nonces, partial signatures, keys, signature verification, key aggregation and every
/// election method. None may panic; a parsed value must encode back to its bytes.
///
/// The first byte picks the dialect; the rest is read at fixed offsets.
///
/// # Panics
///
/// When a parser panics or a round trip fails.
///
/// ```
/// chorus_harness::fuzz::decode_crypto(&[1; 200]);
/// ```
pub fn decode_crypto(data: &[u8]) {
    let dialect = if data.first().is_some_and(|b| b & 1 == 1) {
        Dialect::Lotus
    } else {
        Dialect::Bip340
    };
    if let Some(bytes) = array::<66>(data, 1) {
        if let Ok(nonce) = PublicNonce::from_bytes(dialect, &bytes) {
            assert_eq!(nonce.to_bytes(), bytes);
            let _ = aggregate_nonces(dialect, &[nonce, nonce]);
        }
        if let Ok(nonce) = AggregateNonce::from_bytes(dialect, &bytes) {
            let _ = nonce.to_bytes();
        }
    }
    if let Some(bytes) = array::<32>(data, 1) {
        if let Ok(partial) = PartialSignature::from_bytes(&bytes) {
            assert_eq!(partial.to_bytes(), bytes);
        }
    }
    let keys = keys_from(data.get(1..).unwrap_or_default());
    if let (Some(key), Some(message), Some(signature)) =
        (keys.first(), array::<32>(data, 34), array::<64>(data, 66))
    {
        let _ = verify(dialect, key, &message, &Signature(signature));
    }
    if let Ok(ctx) = KeyAggContext::new(dialect, &keys) {
        let _ = ctx.aggregate_key();
    }
    let session_id = array::<32>(data, 1);
    for method in ElectionMethod::ALL {
        let _ = elect(method, &keys, session_id.as_ref());
    }
}
