//! Bytes → every wire type: nothing may panic, and what decodes must encode back.

use core::fmt::Debug;
use core::str::FromStr;

use chorus_core::crypto::{
    AggregateNonce, Dialect, PartialSignature, PublicKey, PublicNonce, Signature,
};
use chorus_core::discovery::DiscoveryMessage;
use chorus_core::election::ElectionMethod;
use chorus_core::node::Evidence;
use chorus_core::time::Timestamp;
use chorus_core::wire::{
    AbortCode, AggregateNonceShare, BroadcastConfirmation, Channel, DecodedEnvelope, Envelope,
    FinalSignature, Join, NonceCommit, NonceShare, ParsedPayload, PartialSignatureShare, Payload,
    Sequence, SessionAbort, SessionAnnounce, SessionId, SessionOptions, SessionReady,
    SignedEnvelope, Topology,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Feeds `bytes` to every decoder of the wire format and the crypto parsers.
///
/// Whole: as a signed envelope and as a discovery record on both channels (the full inbound
/// decodes), as the postcard form of every wire type, as text for every `FromStr`, as the
/// fixed-size encodings of keys, nonces and signatures. Split in two at the position the
/// first two bytes name: as a pair of envelopes handed to [`Evidence::verify`]. Whatever
/// decodes must encode back to an equal value (to the same bytes, for envelopes and
/// records, which must be canonical).
///
/// # Panics
///
/// When a decoder panics or a round trip fails: either is a bug the fuzzer found.
///
/// ```
/// chorus_harness::fuzz::decode(b"\x01 not an envelope");
/// ```
pub fn decode(bytes: &[u8]) {
    envelopes(bytes);
    discovery_messages(bytes);
    wire_types(bytes);
    crypto_encodings(bytes);
    if let Ok(text) = core::str::from_utf8(bytes) {
        text_forms(text);
    }
    evidence_from_halves(bytes);
}

/// The full inbound decode on both channels, in one step and in the engine's two, and what
/// it promises about its result.
fn envelopes(bytes: &[u8]) {
    let gossip = SignedEnvelope::decode(bytes, Channel::Gossip);
    let direct = SignedEnvelope::decode(bytes, Channel::Direct);
    if let Ok(signed) = &gossip {
        // The gossip limit is the tighter one: what gossip accepts, a stream accepts.
        assert_eq!(
            direct.as_ref(),
            Ok(signed),
            "a gossip message decodes on a stream"
        );
    }
    let two_steps = DecodedEnvelope::decode(bytes, Channel::Direct);
    let Ok(decoded) = two_steps else {
        assert!(
            direct.is_err(),
            "one-step decode took what the first step refuses"
        );
        return;
    };
    assert_eq!(
        decoded.signed.encode(),
        bytes,
        "decode accepts only canonical bytes"
    );
    let parsed = decoded.parse_points();
    assert_eq!(
        parsed.as_ref().map(|parsed| &parsed.signed),
        direct.as_ref(),
        "one-step and two-step decodes disagree"
    );
    let Ok(parsed) = parsed else {
        return;
    };
    let signed = &parsed.signed;
    assert_eq!(
        parsed.sender,
        signed.envelope.sender_key().expect("sender parsed")
    );
    assert_eq!(parsed.signing_digest(), signed.envelope.signing_digest());
    assert_eq!(parsed.verify_signature(), signed.verify_signature());
    assert_eq!(signed.envelope.validate(), Ok(()));
    assert_eq!(signed.envelope.payload.parse().as_ref(), Ok(&parsed.parsed));
    payload_details(&signed.envelope, &parsed.parsed);
}

/// Discovery records (advertisements, withdrawals, signing requests, join proofs) on both
/// channels: what decodes is canonical, valid, and its signature check does not panic.
fn discovery_messages(bytes: &[u8]) {
    let gossip = DiscoveryMessage::decode(bytes, Channel::Gossip);
    let direct = DiscoveryMessage::decode(bytes, Channel::Direct);
    if let Ok(message) = &gossip {
        assert_eq!(
            direct.as_ref(),
            Ok(message),
            "a gossip record decodes on a stream"
        );
    }
    let Ok(message) = direct else {
        return;
    };
    assert_eq!(
        message.encode(),
        bytes,
        "decode accepts only canonical bytes"
    );
    assert_eq!(message.validate(), Ok(()));
    let _ = match &message {
        DiscoveryMessage::Advertisement(advertisement) => advertisement.verify_signature(),
        DiscoveryMessage::Withdrawal(withdrawal) => withdrawal.verify_signature(),
        DiscoveryMessage::Request(request) => request.verify_signature(),
        DiscoveryMessage::Join(proof) => proof.verify_signature(),
    };
}

/// The per-payload parsers the session engine runs once it knows the session.
fn payload_details(envelope: &Envelope, parsed: &ParsedPayload) {
    match &envelope.payload {
        Payload::SessionAnnounce(announce) => {
            let keys = announce.signer_keys().expect("validated announcement");
            assert_eq!(parsed, &ParsedPayload::Signers(keys.clone()));
            for (index, key) in keys.iter().enumerate() {
                assert_eq!(announce.signer_index(&key.serialize()), Some(index));
            }
        }
        Payload::Join(join) => {
            let ParsedPayload::JoinKey(key) = parsed else {
                panic!("a join parses to its key, got {parsed:?}");
            };
            assert_eq!(key.serialize(), join.key);
        }
        Payload::NonceShare(share) => {
            for dialect in [Dialect::Bip340, Dialect::Lotus] {
                if let Ok(nonce) = share.public_nonce(dialect) {
                    assert_eq!(nonce.to_bytes(), share.nonce);
                }
            }
            let commit = NonceCommit {
                attempt: share.attempt,
                commitment: NonceCommit::commitment_for(
                    &envelope.session_id,
                    &envelope.sender,
                    share.attempt,
                    &share.nonce,
                ),
            };
            assert!(commit.matches(&envelope.session_id, &envelope.sender, share));
        }
        Payload::AggregateNonce(share) => {
            for dialect in [Dialect::Bip340, Dialect::Lotus] {
                if let Ok(nonce) = share.aggregate_nonce(dialect) {
                    assert_eq!(nonce.to_bytes(), share.nonce);
                }
            }
        }
        Payload::PartialSignature(share) => {
            let partial = share.partial_signature().expect("validated scalar");
            assert_eq!(partial.to_bytes(), share.partial_signature);
        }
        Payload::FinalSignature(signature) => {
            assert_eq!(signature.signature().to_bytes(), signature.signature);
        }
        _ => {}
    }
}

/// Decodes a postcard-encoded `T` from the front of `bytes`; a value that decodes must
/// encode and decode back to itself.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(bytes: &[u8]) -> Option<T> {
    let (value, _) = postcard::take_from_bytes::<T>(bytes).ok()?;
    let encoded = postcard::to_allocvec(&value).expect("wire types always encode");
    let again: T = postcard::from_bytes(&encoded).expect("an encoding decodes");
    assert_eq!(again, value);
    Some(value)
}

fn wire_types(bytes: &[u8]) {
    if let Some(envelope) = round_trip::<Envelope>(bytes) {
        // Validation parses points and bounds; it may refuse, but must not panic.
        let _ = envelope.validate();
        let _ = envelope.signing_digest();
    }
    if let Some(signed) = round_trip::<SignedEnvelope>(bytes) {
        let _ = signed.verify_signature();
    }
    if let Some(payload) = round_trip::<Payload>(bytes) {
        assert_eq!(payload.validate().is_ok(), payload.parse().is_ok());
    }
    if let Some(announce) = round_trip::<SessionAnnounce>(bytes) {
        let _ = announce.signer_keys();
        let _ = Payload::SessionAnnounce(announce).validate();
    }
    if let Some(options) = round_trip::<SessionOptions>(bytes) {
        let _ = options.validate();
    }
    round_trip::<Join>(bytes);
    round_trip::<Topology>(bytes);
    round_trip::<NonceCommit>(bytes);
    round_trip::<NonceShare>(bytes);
    round_trip::<AggregateNonceShare>(bytes);
    round_trip::<PartialSignatureShare>(bytes);
    round_trip::<FinalSignature>(bytes);
    round_trip::<SessionAbort>(bytes);
    round_trip::<SessionReady>(bytes);
    round_trip::<BroadcastConfirmation>(bytes);
    round_trip::<AbortCode>(bytes);
    round_trip::<SessionId>(bytes);
    round_trip::<Sequence>(bytes);
    round_trip::<Timestamp>(bytes);
    round_trip::<Channel>(bytes);
    round_trip::<Dialect>(bytes);
    round_trip::<ElectionMethod>(bytes);
}

fn prefix<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.get(..N)?.try_into().ok()
}

/// Keys, nonces, partial signatures and signatures from their fixed-size encodings.
fn crypto_encodings(bytes: &[u8]) {
    if let Some(nonce) = prefix::<66>(bytes) {
        for dialect in [Dialect::Bip340, Dialect::Lotus] {
            if let Ok(public) = PublicNonce::from_bytes(dialect, &nonce) {
                assert_eq!(public.to_bytes(), nonce);
                assert_eq!(public.dialect(), dialect);
            }
            if let Ok(aggregate) = AggregateNonce::from_bytes(dialect, &nonce) {
                assert_eq!(aggregate.to_bytes(), nonce);
            }
        }
    }
    if let Some(scalar) = prefix::<32>(bytes) {
        if let Ok(partial) = PartialSignature::from_bytes(&scalar) {
            assert_eq!(partial.to_bytes(), scalar);
        }
    }
    if let Ok(signature) = Signature::from_slice(bytes) {
        assert_eq!(&signature.to_bytes()[..], bytes);
    }
    if let Ok(key) = PublicKey::from_slice(bytes) {
        let encoded = match bytes.len() {
            33 => key.serialize().to_vec(),
            _ => key.serialize_uncompressed().to_vec(),
        };
        // An uncompressed key may be written in the hybrid form (prefix 6 or 7).
        if bytes.first().is_some_and(|prefix| *prefix <= 4) {
            assert_eq!(encoded, bytes);
        }
    }
}

/// Parses `text` as `T`; what parses must print as text that parses back to it.
fn text_round_trip<T>(text: &str)
where
    T: FromStr + ToString + PartialEq + Debug,
{
    if let Ok(value) = text.parse::<T>() {
        assert_eq!(value.to_string().parse::<T>().ok(), Some(value));
    }
}

fn text_forms(text: &str) {
    text_round_trip::<SessionId>(text);
    text_round_trip::<Signature>(text);
    text_round_trip::<Dialect>(text);
    text_round_trip::<ElectionMethod>(text);
}

/// The input split in two at the position its first two bytes name, each half decoded as
/// an envelope, and the pair checked as every kind of blame evidence.
fn evidence_from_halves(bytes: &[u8]) {
    let Some((split, rest)) = bytes.split_first_chunk::<2>() else {
        return;
    };
    let at = usize::from(u16::from_be_bytes(*split)).min(rest.len());
    let (first, second) = rest.split_at(at);
    let (Ok(first), Ok(second)) = (
        SignedEnvelope::decode(first, Channel::Direct),
        SignedEnvelope::decode(second, Channel::Direct),
    ) else {
        return;
    };
    // Whoever the evidence blames signed the envelopes that show it: the second one here.
    let accused = second.envelope.sender;
    let all = [
        Evidence::Equivocation {
            first: first.clone(),
            second: second.clone(),
        },
        Evidence::NonceCommitmentMismatch {
            commitment: first.clone(),
            reveal: second.clone(),
        },
        Evidence::InvalidPartialSignature {
            announce: first.clone(),
            nonces: vec![second.clone()],
            partial: second.clone(),
        },
        Evidence::InvalidPartialSignature {
            announce: first,
            nonces: vec![second.clone(), second.clone()],
            partial: second,
        },
    ];
    for evidence in all {
        if let Ok(blamed) = evidence.verify() {
            assert_eq!(blamed.serialize(), accused, "{evidence:?}");
        }
    }
}
