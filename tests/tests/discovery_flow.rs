//! Five discovery nodes run advertise → discover → request → join → ready over a perfect
//! gossip stand-in, in both dialects, with the creator's keys in unsorted order; every node
//! derives the same session, and that session signs.

mod discovery_support;

use std::time::Duration;

use chorus_core::crypto::{
    aggregate_nonces, generate_nonce, verify, Dialect, KeyAggContext, Keypair, PublicKey,
    SigningSession,
};
use chorus_core::discovery::*;
use chorus_core::election::{elect, ElectionMethod};
use chorus_core::security::RejectionKind;
use discovery_support::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const MESSAGE: [u8; 32] = [0x5a; 32];

/// Phases 0 and 1: nodes 1 to 4 advertise, node 0 finds them.
fn advertise_and_discover(net: &mut Net) -> Vec<PublicKey> {
    for index in 1..5 {
        let mut spec = AdvertisementSpec::new(SignerCriteria::new(["spend", "swap"]), HOUR);
        spec.metadata.nickname = format!("signer {index}");
        let key = net.keys[index];
        net.nodes[index]
            .advertise(net.now, &key, spec, &[index as u8; 32])
            .unwrap();
    }
    net.pump();
    for index in 0..5 {
        let discovered = net
            .events(index)
            .iter()
            .filter(|event| matches!(event, DiscoveryEvent::SignerDiscovered { .. }))
            .count();
        assert_eq!(discovered, if index == 0 { 4 } else { 3 }, "node {index}");
    }
    let filter = SignerFilter {
        transaction_type: Some("spend".into()),
        amount: Some(5_000_000),
        ..SignerFilter::default()
    };
    let found: Vec<PublicKey> = net.nodes[0]
        .find_signers(net.now, &filter)
        .iter()
        .map(|ad| ad.key().unwrap())
        .collect();
    assert_eq!(found.len(), 4);
    found
}

/// Phase 2: node 0 requests a signature from `required` (in that order) and itself.
fn request(
    net: &mut Net,
    mut required: Vec<PublicKey>,
    dialect: Dialect,
    election: ElectionMethod,
) -> RequestId {
    required.insert(2, net.keys[0].public_key());
    required.sort_by_key(PublicKey::serialize);
    required.reverse();
    required.swap(0, 3);
    let mut sorted = required.clone();
    sorted.sort_by_key(PublicKey::serialize);
    assert_ne!(required, sorted, "the creator's order must be unsorted");
    let mut spec = RequestSpec::new(required, MESSAGE, dialect, Duration::from_secs(600));
    spec.election = election;
    spec.metadata = RequestMetadata {
        transaction: vec![0x02, 0x00, 0x00, 0x00],
        amount: Some(5_000_000),
        transaction_type: Some("spend".into()),
        description: "5-of-5 spend".into(),
    };
    let creator = net.keys[0];
    let request = net.nodes[0]
        .announce_request(net.now, &creator, spec, &[9; 32])
        .unwrap();
    net.pump();
    request
}

/// Phase 3: every other node finds the request and joins; returns the session each node
/// derived.
fn join_all(net: &mut Net, request: RequestId) -> Vec<SessionParameters> {
    for index in 1..5 {
        let key = net.keys[index];
        let pending = net.nodes[index].requests_for(net.now, &key.public_key());
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id(), request);
        assert_eq!(pending[0].content.metadata.transaction_hex(), "02000000");
        net.nodes[index]
            .join_request(net.now, &key, &request, &[index as u8; 32])
            .unwrap();
    }
    net.pump();
    (0..5)
        .map(|index| {
            let ready: Vec<SessionParameters> = net
                .events(index)
                .into_iter()
                .filter_map(|event| match event {
                    DiscoveryEvent::SessionReady(parameters) => Some(parameters),
                    _ => None,
                })
                .collect();
            assert_eq!(ready.len(), 1, "node {index} sees exactly one session");
            ready.into_iter().next().unwrap()
        })
        .collect()
}

/// Runs the three phases; returns the session every node derived.
fn discover_and_join(dialect: Dialect, election: ElectionMethod) -> (Net, SessionParameters) {
    let keys: Vec<Keypair> = (1..=5).map(|seed| keypair(seed * 7)).collect();
    let mut net = Net::new(keys, at(0));
    let found = advertise_and_discover(&mut net);
    let request = request(&mut net, found, dialect, election);
    let sessions = join_all(&mut net, request);
    for session in &sessions {
        assert_eq!(session, &sessions[0]);
    }
    let session = sessions[0].clone();
    let mut sorted: Vec<PublicKey> = net.keys.iter().map(Keypair::public_key).collect();
    sorted.sort_by_key(PublicKey::serialize);
    assert_eq!(session.signers, sorted);
    assert_eq!(session.request, request);
    assert_eq!((session.dialect, session.election), (dialect, election));
    // The only refusals: second copies of advertisements published on two topics.
    for node in &net.nodes {
        let metrics = node.security().metrics();
        assert_eq!(
            metrics.total_rejections(),
            metrics.rejections(RejectionKind::StaleAdvertisement)
        );
    }
    (net, session)
}

/// Signs `session.message` with the session's signers, as the engine's rounds would.
fn sign(net: &Net, session: &SessionParameters) {
    let context = KeyAggContext::new(session.dialect, &session.signers).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    // The context's own signer order (the session's sorted order) is the index space.
    assert_eq!(context.signers(), &session.signers[..]);
    let signers: Vec<&Keypair> = context
        .signers()
        .iter()
        .map(|key| {
            net.keys
                .iter()
                .find(|keypair| keypair.public_key() == *key)
                .unwrap()
        })
        .collect();
    let (secrets, publics): (Vec<_>, Vec<_>) = signers
        .iter()
        .map(|keypair| generate_nonce(&context, keypair, &session.message, &mut rng).unwrap())
        .unzip();
    let aggregate = aggregate_nonces(session.dialect, &publics).unwrap();
    let signing = SigningSession::new(&context, &aggregate, &session.message).unwrap();
    let partials: Vec<_> = secrets
        .into_iter()
        .zip(&signers)
        .enumerate()
        .map(|(index, (secret, keypair))| {
            signing
                .partial_sign(&context, index, secret, keypair)
                .unwrap()
        })
        .collect();
    let signature = signing.aggregate(&context, &partials).unwrap();
    assert!(verify(
        session.dialect,
        &context.aggregate_key(),
        &session.message,
        &signature
    ));
}

#[test]
fn five_nodes_build_the_same_session_in_both_dialects() {
    for (dialect, election) in [
        (Dialect::Bip340, ElectionMethod::Lexicographic),
        (Dialect::Lotus, ElectionMethod::Salted),
    ] {
        let (net, session) = discover_and_join(dialect, election);
        // Every node elects the same coordinator from the derived session alone.
        let coordinators: Vec<PublicKey> = (0..5)
            .map(|_| {
                elect(
                    session.election,
                    &session.signers,
                    Some(session.session.as_bytes()),
                )
                .unwrap()
                .coordinator
            })
            .collect();
        assert!(coordinators.iter().all(|key| *key == coordinators[0]));
        sign(&net, &session);
        println!(
            "{dialect}: session {} ready on 5 nodes and signed",
            session.session
        );
    }
}

#[test]
fn a_withdrawn_signer_disappears_everywhere() {
    let keys: Vec<Keypair> = (1..=3).map(keypair).collect();
    let mut net = Net::new(keys, at(0));
    let key = net.keys[1];
    net.nodes[1]
        .advertise(
            net.now,
            &key,
            AdvertisementSpec::new(SignerCriteria::new(["spend"]), HOUR),
            &[0; 32],
        )
        .unwrap();
    net.pump();
    assert!(net.nodes[0].directory().get(&key.public_key()).is_some());
    net.nodes[1].withdraw(net.now, &key, &[1; 32]).unwrap();
    net.pump();
    for index in [0, 2] {
        assert!(net.nodes[index].directory().is_empty(), "node {index}");
        assert!(net
            .events(index)
            .contains(&DiscoveryEvent::SignerWithdrawn {
                key: key.public_key()
            }));
    }
}
