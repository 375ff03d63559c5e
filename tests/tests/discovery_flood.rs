//! Floods: no peer, and no crowd of peers, can push the pending requests or the directory
//! past their caps; one peer's flood does not displace anyone else's requests.

mod discovery_support;

use chorus_core::crypto::{Keypair, PublicKey};
use chorus_core::discovery::*;
use chorus_core::node::PeerId;
use chorus_core::security::{RejectionKind, SecurityLimits};
use chorus_core::time::Timestamp;
use chorus_core::wire::Channel;
use discovery_support::*;

fn send(
    node: &mut Discovery,
    now: Timestamp,
    from: &PeerId,
    message: DiscoveryMessage,
) -> Result<(), DiscoveryError> {
    let outcome = node.handle_message(now, from, Channel::Gossip, &message.encode());
    while node.poll_event().is_some() {}
    outcome
}

/// `count` distinct, validly signed requests by `creator` for `creator` and `other`.
fn requests(creator: &Keypair, other: &PublicKey, count: u32) -> Vec<SigningRequest> {
    (0..count)
        .map(|index| {
            let mut content = RequestContent::new(
                &[creator.public_key(), *other],
                [0; 32],
                chorus_core::crypto::Dialect::Bip340,
                at(0),
                HOUR,
            );
            content.message[..4].copy_from_slice(&index.to_be_bytes());
            SigningRequest::sign(content, creator, &[0; 32])
        })
        .collect()
}

#[test]
fn one_peer_cannot_exceed_its_pending_quota_nor_displace_others() {
    let limits = SecurityLimits::default();
    let mut node = Discovery::new(limits.clone(), PeerId::new(*b"receiver"));
    let honest: Vec<Keypair> = (1..=5).map(keypair).collect();
    let me = keypair(999).public_key();
    for signer in &honest {
        for request in requests(signer, &me, 3) {
            send(
                &mut node,
                at(0),
                &peer_of(signer),
                DiscoveryMessage::Request(request),
            )
            .unwrap();
        }
    }
    let honest_ids: Vec<RequestId> = node
        .requests_for(at(0), &me)
        .iter()
        .map(|request| request.id())
        .collect();
    assert_eq!(honest_ids.len(), 15);

    let flooder = keypair(666);
    let flooder_peer = peer_of(&flooder);
    let flood = requests(&flooder, &me, 2_000);
    let mut accepted = 0;
    for request in flood {
        if send(
            &mut node,
            at(1),
            &flooder_peer,
            DiscoveryMessage::Request(request),
        )
        .is_ok()
        {
            accepted += 1;
        }
        assert!(node.book().pending_from(&flooder_peer) <= limits.max_pending_requests_per_peer);
        assert!(node.book().len() <= limits.max_pending_requests);
    }
    assert_eq!(accepted, limits.max_pending_requests_per_peer);
    assert_eq!(node.book().len(), 15 + limits.max_pending_requests_per_peer);
    for id in &honest_ids {
        assert!(
            node.book().get(id).is_some(),
            "honest request {id} displaced"
        );
    }
    // The flooder broke its quota, was graylisted for it, and is ignored from then on.
    let metrics = node.security().metrics();
    let refused = 2_000 - accepted as u64;
    assert_eq!(
        metrics.rejections(RejectionKind::PendingQuota),
        u64::from(limits.max_violations)
    );
    assert_eq!(
        metrics.rejections(RejectionKind::Graylisted),
        refused - u64::from(limits.max_violations)
    );
    assert!(node
        .security()
        .graylisted_until(at(1), &flooder_peer)
        .is_some());
    // Honest peers still get through.
    let late = requests(&keypair(7), &me, 1).remove(0);
    assert!(send(
        &mut node,
        at(2),
        &peer_of(&keypair(7)),
        DiscoveryMessage::Request(late)
    )
    .is_ok());
}

#[test]
fn a_crowd_of_peers_cannot_exceed_the_total_cap() {
    let limits = SecurityLimits {
        max_pending_requests: 100,
        ..SecurityLimits::default()
    };
    let mut node = Discovery::new(limits.clone(), PeerId::new(*b"receiver"));
    let me = keypair(999).public_key();
    let mut evicted = 0;
    for sybil in 0..40u16 {
        let creator = keypair(1_000 + sybil);
        for request in requests(&creator, &me, 5) {
            node.handle_message(
                at(0),
                &peer_of(&creator),
                Channel::Gossip,
                &DiscoveryMessage::Request(request).encode(),
            )
            .unwrap();
            evicted += std::iter::from_fn(|| node.poll_event())
                .filter(|event| matches!(event, DiscoveryEvent::RequestEvicted { .. }))
                .count();
            assert!(node.book().len() <= limits.max_pending_requests);
        }
    }
    assert_eq!(node.book().len(), 100);
    assert_eq!(
        evicted,
        40 * 5 - 100,
        "the oldest pending requests made room"
    );
}

#[test]
fn the_directory_stays_within_its_caps() {
    let limits = SecurityLimits {
        max_directory_entries: 50,
        ..SecurityLimits::default()
    };
    let mut node = Discovery::new(limits.clone(), PeerId::new(*b"receiver"));

    // One peer, many keys, as fast as it can: one advertisement, then rate limits, then
    // the graylist.
    let sybil = PeerId::new(*b"sybil");
    for index in 0..200u16 {
        let key = keypair(2_000 + index);
        let content = AdvertisementContent::new(
            sybil.clone(),
            SignerCriteria::new(["spend"]),
            SignerMetadata::default(),
            at(0),
            HOUR,
        );
        let _ = send(
            &mut node,
            at(0),
            &sybil,
            DiscoveryMessage::Advertisement(SignerAdvertisement::sign(content, &key, &[0; 32])),
        );
    }
    assert_eq!(node.directory().len(), 1);
    assert!(node.security().graylisted_until(at(0), &sybil).is_some());

    // One peer, many keys, one a minute: never more than ten.
    let patient = PeerId::new(*b"patient");
    for minute in 0..20u16 {
        let now = at(600 + u64::from(minute) * 60);
        let content = AdvertisementContent::new(
            patient.clone(),
            SignerCriteria::new(["spend"]),
            SignerMetadata::default(),
            now,
            HOUR,
        );
        let _ = send(
            &mut node,
            now,
            &patient,
            DiscoveryMessage::Advertisement(SignerAdvertisement::sign(
                content,
                &keypair(3_000 + minute),
                &[0; 32],
            )),
        );
    }
    let from_patient = node
        .directory()
        .iter()
        .filter(|ad| ad.content.peer == patient)
        .count();
    assert_eq!(from_patient, limits.max_keys_per_peer);

    // Many peers: the directory holds at most its capacity.
    for index in 0..120u16 {
        let signer = keypair(4_000 + index);
        send(
            &mut node,
            at(2_000),
            &peer_of(&signer),
            DiscoveryMessage::Advertisement(advertisement(&signer, at(2_000), HOUR)),
        )
        .unwrap();
        assert!(node.directory().len() <= limits.max_directory_entries);
    }
    assert_eq!(node.directory().len(), limits.max_directory_entries);
}
