use core::time::Duration;

use super::*;
use crate::crypto::{Keypair, PublicKey, SecretKey};
use crate::node::PeerId;
use crate::time::Timestamp;

fn key(byte: u8) -> PublicKey {
    Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap()).public_key()
}

fn at(millis: u64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn peer(byte: u8) -> PeerId {
    PeerId::new([byte])
}

fn drain(security: &mut SecurityManager) -> Vec<SecurityEvent> {
    std::iter::from_fn(|| security.poll_event()).collect()
}

#[test]
fn blacklists_on_the_tenth_invalid_signature_and_not_before() {
    let mut security = SecurityManager::new(SecurityLimits::default());
    let mallory = peer(6);
    for round in 1..=9 {
        security.record_rejection(at(round), &mallory, RejectionKind::ForgedRequest);
        assert!(
            security.check_peer(at(round), &mallory).is_ok(),
            "round {round}"
        );
    }
    assert!(drain(&mut security).is_empty());
    security.record_rejection(at(10), &mallory, RejectionKind::ForgedJoin);
    assert_eq!(
        security.check_peer(at(10), &mallory),
        Err(SecurityError::Blacklisted {
            peer: mallory.clone()
        })
    );
    assert_eq!(
        drain(&mut security),
        vec![SecurityEvent::PeerBlacklisted {
            peer: mallory.clone(),
            reason: BlacklistReason::InvalidSignatures { count: 10 },
        }]
    );
    assert_eq!(
        security.metrics().rejections(RejectionKind::ForgedRequest),
        9
    );
    assert_eq!(security.metrics().rejections(RejectionKind::ForgedJoin), 1);
    assert_eq!(security.metrics().blacklistings(), 1);
    assert_eq!(security.blacklisted_peers().collect::<Vec<_>>(), [&mallory]);

    // Further signature failures neither re-blacklist nor emit again.
    security.record_rejection(at(11), &mallory, RejectionKind::ForgedJoin);
    assert!(drain(&mut security).is_empty());
    assert_eq!(security.metrics().blacklistings(), 1);
}

#[test]
fn graylists_after_the_violation_limit_until_the_duration_passes() {
    let limits = SecurityLimits::default();
    let mut security = SecurityManager::new(limits.clone());
    let spammer = peer(5);
    for round in 1..limits.max_violations {
        security.record_rejection(at(0), &spammer, RejectionKind::RateLimited);
        assert!(
            security.check_peer(at(0), &spammer).is_ok(),
            "round {round}"
        );
    }
    security.record_rejection(at(0), &spammer, RejectionKind::OutOfBounds);
    let until = at(0).saturating_add(limits.graylist_duration);
    assert_eq!(
        security.check_peer(at(1), &spammer),
        Err(SecurityError::Graylisted {
            peer: spammer.clone(),
            until
        })
    );
    assert_eq!(security.graylisted_until(at(1), &spammer), Some(until));
    assert_eq!(
        drain(&mut security),
        vec![SecurityEvent::PeerGraylisted {
            peer: spammer.clone(),
            until
        }]
    );
    assert_eq!(security.standing(&spammer).unwrap().violations, 0);
    // The graylisting lifts by itself.
    assert!(security.check_peer(until, &spammer).is_ok());
    assert_eq!(security.graylisted_until(until, &spammer), None);
    assert!(!security.is_blacklisted(&spammer));
}

#[test]
fn honest_mishaps_only_count() {
    let mut security = SecurityManager::new(SecurityLimits::default());
    let slow = peer(1);
    for _ in 0..100 {
        for kind in [
            RejectionKind::Expired,
            RejectionKind::UnknownRequest,
            RejectionKind::DuplicateRequest,
            RejectionKind::JoinReplayed,
            RejectionKind::StaleAdvertisement,
            RejectionKind::UnknownAdvertisement,
        ] {
            security.record_rejection(at(0), &slow, kind);
        }
    }
    assert!(security.check_peer(at(0), &slow).is_ok());
    assert_eq!(security.metrics().total_rejections(), 600);
    assert_eq!(
        security.reputation(&slow),
        SecurityLimits::default().initial_reputation
    );
}

#[test]
fn manual_blacklist_and_unblacklist() {
    let mut security = SecurityManager::new(SecurityLimits::default());
    let target = peer(9);
    assert!(!security.unblacklist(&target));
    security.blacklist(at(0), &target);
    assert!(security.is_blacklisted(&target));
    assert_eq!(
        security.standing(&target).unwrap().blacklisted,
        Some(BlacklistReason::Manual)
    );
    assert!(security.unblacklist(&target));
    assert!(!security.unblacklist(&target));
    assert_eq!(
        drain(&mut security),
        vec![
            SecurityEvent::PeerBlacklisted {
                peer: target.clone(),
                reason: BlacklistReason::Manual
            },
            SecurityEvent::PeerUnblacklisted {
                peer: target.clone()
            },
        ]
    );
    assert!(security.check_peer(at(0), &target).is_ok());
}

#[test]
fn unblacklisting_forgives_the_invalid_signatures() {
    let mut security = SecurityManager::new(SecurityLimits::default());
    let target = peer(9);
    for _ in 0..10 {
        security.record_rejection(at(0), &target, RejectionKind::ForgedAdvertisement);
    }
    assert!(security.unblacklist(&target));
    security.record_rejection(at(0), &target, RejectionKind::ForgedAdvertisement);
    assert!(!security.is_blacklisted(&target));
    assert_eq!(security.standing(&target).unwrap().invalid_signatures, 1);
}

#[test]
fn reputation_rises_with_accepted_input_and_falls_with_strikes() {
    let limits = SecurityLimits::default();
    let mut security = SecurityManager::new(limits.clone());
    let alice = peer(1);
    assert_eq!(security.reputation(&alice), limits.initial_reputation);
    security.record_accepted(at(0), &alice);
    assert_eq!(security.reputation(&alice), limits.initial_reputation + 1);
    for _ in 0..200 {
        security.record_accepted(at(0), &alice);
    }
    assert_eq!(security.reputation(&alice), MAX_REPUTATION);
    security.record_rejection(at(0), &alice, RejectionKind::Malformed);
    assert_eq!(security.reputation(&alice), MAX_REPUTATION - 2);
    security.record_rejection(at(0), &alice, RejectionKind::ForgedJoin);
    assert_eq!(security.reputation(&alice), MAX_REPUTATION - 7);
    assert_eq!(security.metrics().accepted(), 201);

    let bob = peer(2);
    for _ in 0..9 {
        security.record_rejection(at(0), &bob, RejectionKind::ForgedJoin);
    }
    assert_eq!(security.reputation(&bob), 5);
    security.record_rejection(at(0), &bob, RejectionKind::Malformed);
    security.record_rejection(at(0), &bob, RejectionKind::Malformed);
    security.record_rejection(at(0), &bob, RejectionKind::Malformed);
    assert_eq!(security.reputation(&bob), 0);
}

#[test]
fn rate_limits_advertisements_to_one_per_interval() {
    let mut security = SecurityManager::new(SecurityLimits::default());
    let alice = peer(1);
    security.record_advertisement(at(1_000), &alice, &key(1));
    assert_eq!(
        security.check_advertisement(at(60_999), &alice, &key(1)),
        Err(SecurityError::RateLimited {
            retry_at: at(61_000)
        })
    );
    assert_eq!(
        security.check_advertisement(at(61_000), &alice, &key(1)),
        Ok(())
    );
    // Another peer is not affected.
    assert_eq!(
        security.check_advertisement(at(1_000), &peer(2), &key(1)),
        Ok(())
    );
}

#[test]
fn refuses_the_eleventh_key_but_not_a_known_one() {
    let mut security = SecurityManager::new(SecurityLimits::default());
    let sybil = peer(7);
    let mut now = at(0);
    for byte in 1..=10 {
        assert_eq!(
            security.check_advertisement(now, &sybil, &key(byte)),
            Ok(())
        );
        security.record_advertisement(now, &sybil, &key(byte));
        now = now.saturating_add(Duration::from_secs(60));
    }
    assert_eq!(
        security.check_advertisement(now, &sybil, &key(11)),
        Err(SecurityError::TooManyKeys { limit: 10 })
    );
    assert_eq!(security.check_advertisement(now, &sybil, &key(3)), Ok(()));
    assert_eq!(security.standing(&sybil).unwrap().keys, 10);
}

#[test]
fn session_quotas_per_peer_and_in_total() {
    let limits = SecurityLimits {
        max_sessions: 3,
        max_sessions_per_peer: 2,
        ..SecurityLimits::default()
    };
    let mut security = SecurityManager::new(limits);
    let (alice, bob) = (peer(1), peer(2));
    assert_eq!(security.admit_session(at(0), &alice), Ok(()));
    assert_eq!(security.admit_session(at(0), &alice), Ok(()));
    assert_eq!(
        security.admit_session(at(0), &alice),
        Err(SecurityError::SessionQuota { limit: 2 })
    );
    assert_eq!(security.admit_session(at(0), &bob), Ok(()));
    assert_eq!(
        security.admit_session(at(0), &bob),
        Err(SecurityError::TooManySessions { limit: 3 })
    );
    assert_eq!(security.open_sessions(), 3);
    security.release_session(&alice);
    assert_eq!(security.admit_session(at(0), &bob), Ok(()));
    assert_eq!(security.standing(&bob).unwrap().sessions, 2);
    assert_eq!(security.standing(&alice).unwrap().sessions, 1);
}

#[test]
fn forgets_clean_peers_before_listed_ones() {
    let limits = SecurityLimits {
        max_tracked_peers: 3,
        ..SecurityLimits::default()
    };
    let mut security = SecurityManager::new(limits);
    security.blacklist(at(0), &peer(1));
    security.record_accepted(at(1), &peer(2));
    security.record_accepted(at(2), &peer(3));
    security.record_accepted(at(3), &peer(4));
    assert_eq!(security.tracked_peers(), 3);
    assert!(security.is_blacklisted(&peer(1)));
    assert!(
        security.standing(&peer(2)).is_none(),
        "oldest clean peer forgotten"
    );
    assert!(security.standing(&peer(4)).is_some());
}

#[test]
fn a_flood_of_new_peers_stays_bounded_and_keeps_the_listed_ones() {
    let limit = 64;
    let limits = SecurityLimits {
        max_tracked_peers: limit,
        ..SecurityLimits::default()
    };
    let mut security = SecurityManager::new(limits);
    let flooder = |index: u32| PeerId::new(index.to_be_bytes());
    security.blacklist(at(0), &peer(1));
    security.graylist(at(0), &peer(2), Duration::from_secs(3_600));
    for index in 0..20 * limit as u32 {
        security.record_accepted(at(u64::from(index)), &flooder(index));
        assert!(security.tracked_peers() <= limit);
    }
    assert!(security.is_blacklisted(&peer(1)));
    assert!(security.graylisted_until(at(0), &peer(2)).is_some());
    // The newest peer is always kept; the oldest clean ones went first.
    assert!(security.standing(&flooder(20 * limit as u32 - 1)).is_some());
    assert!(security.standing(&flooder(0)).is_none());
}

#[test]
fn event_queue_is_bounded() {
    let limits = SecurityLimits {
        max_queued_events: 2,
        ..SecurityLimits::default()
    };
    let mut security = SecurityManager::new(limits);
    for byte in 1..=5 {
        security.blacklist(at(0), &peer(byte));
    }
    let events = drain(&mut security);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].peer(), &peer(4));
    assert_eq!(security.metrics().dropped_events(), 3);
}

#[test]
fn graylisting_extends_but_never_shortens() {
    let mut security = SecurityManager::new(SecurityLimits::default());
    let target = peer(3);
    security.graylist(at(0), &target, Duration::from_secs(100));
    security.graylist(at(0), &target, Duration::from_secs(10));
    assert_eq!(security.graylisted_until(at(0), &target), Some(at(100_000)));
}
