//! Properties of discovery: the request id and the derived session do not depend on the
//! order of the required keys nor of the joins; the codec round-trips and never panics.

mod discovery_support;

use chorus_core::crypto::{Dialect, Keypair, PublicKey};
use chorus_core::discovery::*;
use chorus_core::election::ElectionMethod;
use chorus_core::wire::Channel;
use discovery_support::*;
use proptest::prelude::*;

fn book() -> RequestBook {
    RequestBook::new(100, 100, 1 << 24, std::time::Duration::from_secs(300))
}

/// Builds the request with `order` of the keys, inserts it, joins every key in
/// `join_order`, and returns the session.
fn session_from(
    signers: &[Keypair],
    order: &[usize],
    join_order: &[usize],
    creator: usize,
    dialect: Dialect,
    election: ElectionMethod,
) -> (RequestId, Vec<u8>, SessionParameters) {
    let keys: Vec<PublicKey> = order
        .iter()
        .map(|&index| signers[index].public_key())
        .collect();
    let mut content = RequestContent::new(&keys, [0x42; 32], dialect, at(0), HOUR);
    content.election = election;
    let request = SigningRequest::sign(content, &signers[creator], &[0; 32]);
    let bytes = DiscoveryMessage::Request(request.clone()).encode();
    let mut book = book();
    let admission = book
        .insert(at(0), request, &peer_of(&signers[creator]))
        .expect("valid request");
    let mut ready = admission.ready;
    for &index in join_order.iter().filter(|&&index| index != creator) {
        let signer = &signers[index];
        let proof = JoinProof::sign(
            admission.request,
            signer,
            peer_of(signer),
            &[index as u8; 32],
        );
        match book
            .join(at(1), proof, &peer_of(signer))
            .expect("valid join")
        {
            JoinOutcome::Joined { .. } => assert!(ready.is_none()),
            JoinOutcome::Ready(parameters) => ready = Some(*parameters),
        }
    }
    (admission.request, bytes, ready.expect("every key joined"))
}

fn signers_and_orders(
) -> impl Strategy<Value = (Vec<u16>, Vec<usize>, Vec<usize>, Vec<usize>, usize)> {
    prop::collection::btree_set(1u16..2_000, 1..=8).prop_flat_map(|seeds| {
        let n = seeds.len();
        let seeds: Vec<u16> = seeds.into_iter().collect();
        let indices: Vec<usize> = (0..n).collect();
        (
            Just(seeds),
            Just(indices.clone()).prop_shuffle(),
            Just(indices.clone()).prop_shuffle(),
            Just(indices).prop_shuffle(),
            0..n,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn request_and_session_ignore_key_and_join_order(
        (seeds, order, join_a, join_b, creator) in signers_and_orders(),
        dialect in prop::sample::select(vec![Dialect::Bip340, Dialect::Lotus]),
        election in prop::sample::select(ElectionMethod::ALL.to_vec()),
    ) {
        let signers: Vec<Keypair> = seeds.iter().map(|&seed| keypair(seed)).collect();
        let sorted: Vec<usize> = (0..signers.len()).collect();
        let (id_a, bytes_a, session_a) = session_from(&signers, &order, &join_a, creator, dialect, election);
        let (id_b, bytes_b, session_b) = session_from(&signers, &sorted, &join_b, creator, dialect, election);
        prop_assert_eq!(id_a, id_b);
        prop_assert_eq!(bytes_a, bytes_b);
        prop_assert_eq!(&session_a, &session_b);

        let mut expected: Vec<PublicKey> = signers.iter().map(Keypair::public_key).collect();
        expected.sort_by_key(PublicKey::serialize);
        prop_assert_eq!(&session_a.signers, &expected);
        let compressed: Vec<[u8; 33]> = expected.iter().map(PublicKey::serialize).collect();
        prop_assert_eq!(session_a.session, session_id_for(&id_a, &compressed, election));
        prop_assert_eq!(session_a.creator, signers[creator].public_key());
        prop_assert_eq!((session_a.dialect, session_a.election), (dialect, election));
        for (key, peer) in session_a.signers.iter().zip(&session_a.peers) {
            prop_assert_eq!(peer, &chorus_core::node::PeerId::from_key(key));
        }
    }

    #[test]
    fn decode_never_panics_and_accepts_only_canonical_bytes(tail in prop::collection::vec(any::<u8>(), 0..600), variant in 0u8..5) {
        let mut bytes = vec![DISCOVERY_FORMAT, variant];
        bytes.extend(tail);
        if let Ok(message) = DiscoveryMessage::decode(&bytes, Channel::Direct) {
            prop_assert_eq!(message.encode(), bytes);
        }
    }

    #[test]
    fn requests_round_trip_through_the_codec(
        transaction in prop::collection::vec(any::<u8>(), 0..=MAX_TRANSACTION_LEN),
        amount in any::<Option<u64>>(),
        transaction_type in prop::option::of("[a-z0-9._-]{1,32}"),
        description in "[^\\p{Cc}]{0,100}",
        created in 0u64..1_000_000,
        seconds in 1u64..86_400,
    ) {
        let (alice, bob) = (keypair(1), keypair(2));
        let now = at(created);
        let mut content = RequestContent::new(&[bob.public_key(), alice.public_key()], [7; 32], Dialect::Lotus, now, std::time::Duration::from_secs(seconds));
        content.metadata = RequestMetadata { transaction, amount, transaction_type, description };
        let request = SigningRequest::sign(content, &alice, &[3; 32]);
        let message = DiscoveryMessage::Request(request.clone());
        let decoded = DiscoveryMessage::decode(&message.encode(), Channel::Gossip);
        prop_assert_eq!(decoded, Ok(message));
        prop_assert!(request.verify_signature());
    }
}
