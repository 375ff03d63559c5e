//! `chorus node`'s output: one JSON object per driver event, `"event"` naming its kind.

// Only the network transports (the `libp2p` and `quic` features) serve a node.
#![cfg_attr(not(any(feature = "libp2p", feature = "quic")), allow(dead_code))]

use chorus_core::crypto::PublicKey;
use chorus_core::discovery::DiscoveryEvent;
use chorus_core::node::Event;
use serde_json::{json, Value};

use crate::driver::NodeEvent;

fn key(key: &PublicKey) -> String {
    hex::encode(key.serialize())
}

/// The JSON object of one driver event.
pub(crate) fn event_json(event: &NodeEvent) -> Value {
    match event {
        NodeEvent::Session(event) => session_json(event),
        NodeEvent::Discovery(event) => discovery_json(event),
        NodeEvent::Rejected { peer, rejection } => json!({
            "event": "rejected", "peer": peer.to_string(), "reason": rejection.to_string(),
        }),
        NodeEvent::PeerConnected { peer } => {
            json!({"event": "peer_connected", "peer": peer.to_string()})
        }
        NodeEvent::PeerDisconnected { peer } => {
            json!({"event": "peer_disconnected", "peer": peer.to_string()})
        }
        NodeEvent::Undeliverable { peer, reason } => json!({
            "event": "undeliverable", "peer": peer.to_string(), "reason": reason,
        }),
        NodeEvent::Unroutable { session, to } => json!({
            "event": "unroutable", "session": session.to_string(), "to": key(to),
        }),
    }
}

fn session_json(event: &Event) -> Value {
    let session = event.session().to_string();
    match event {
        Event::SessionCreated { .. } => json!({"event": "session_created", "session": session}),
        Event::SessionAnnounced {
            creator, message, ..
        } => json!({
            "event": "session_announced", "session": session, "creator": key(creator),
            "message": hex::encode(message),
        }),
        Event::ParticipantJoined { signer, .. } => {
            json!({"event": "participant_joined", "session": session, "signer": signer})
        }
        Event::SessionReady { .. } => json!({"event": "session_ready", "session": session}),
        Event::CoordinatorElected {
            coordinator,
            signer,
            ..
        } => json!({
            "event": "coordinator_elected", "session": session, "coordinator": key(coordinator),
            "signer": signer,
        }),
        Event::NonceCommitmentsComplete { attempt, .. } => json!({
            "event": "nonce_commitments_complete", "session": session, "attempt": attempt,
        }),
        Event::NoncesComplete { attempt, .. } => {
            json!({"event": "nonces_complete", "session": session, "attempt": attempt})
        }
        Event::PartialSignaturesComplete { .. } => {
            json!({"event": "partial_signatures_complete", "session": session})
        }
        Event::SessionComplete { signature, .. } => json!({
            "event": "session_complete", "session": session, "signature": hex::encode(signature.0),
        }),
        Event::SessionAborted { reason, .. } => json!({
            "event": "session_aborted", "session": session, "reason": format!("{reason:?}"),
        }),
        Event::SessionClosed { .. } => json!({"event": "session_closed", "session": session}),
        Event::SessionExpired { .. } => json!({"event": "session_expired", "session": session}),
        other => failover_json(other, session),
    }
}

/// The events of the broadcast failover (and of the aggregator's restart).
fn failover_json(event: &Event, session: String) -> Value {
    match event {
        Event::ShouldBroadcast {
            attempt, signature, ..
        } => json!({
            "event": "should_broadcast", "session": session, "attempt": attempt,
            "signature": hex::encode(signature.0),
        }),
        Event::CoordinatorFailed {
            attempt,
            coordinator,
            ..
        } => json!({
            "event": "coordinator_failed", "session": session, "attempt": attempt,
            "coordinator": key(coordinator),
        }),
        Event::FailoverExhausted { .. } => {
            json!({"event": "failover_exhausted", "session": session})
        }
        Event::BroadcastConfirmed {
            transaction_id,
            signer,
            ..
        } => json!({
            "event": "broadcast_confirmed", "session": session,
            "transaction_id": hex::encode(transaction_id), "signer": signer,
        }),
        Event::AggregatorFailed {
            attempt,
            aggregator,
            ..
        } => json!({
            "event": "aggregator_failed", "session": session, "attempt": attempt,
            "aggregator": key(aggregator),
        }),
        other => {
            json!({"event": "session_other", "session": session, "detail": format!("{other:?}")})
        }
    }
}

fn discovery_json(event: &DiscoveryEvent) -> Value {
    match event {
        DiscoveryEvent::SignerAdvertised { key: advertised } => {
            json!({"event": "signer_advertised", "key": key(advertised)})
        }
        DiscoveryEvent::SignerDiscovered { key: found, peer } => json!({
            "event": "signer_discovered", "key": key(found), "peer": peer.to_string(),
        }),
        DiscoveryEvent::SignerWithdrawn { key: gone } => {
            json!({"event": "signer_withdrawn", "key": key(gone)})
        }
        DiscoveryEvent::SignerExpired { key: gone } => {
            json!({"event": "signer_expired", "key": key(gone)})
        }
        DiscoveryEvent::RequestCreated { request } => {
            json!({"event": "request_created", "request": request.to_string()})
        }
        DiscoveryEvent::RequestReceived { request, creator } => json!({
            "event": "request_received", "request": request.to_string(), "creator": key(creator),
        }),
        DiscoveryEvent::RequestJoined { request } => {
            json!({"event": "request_joined", "request": request.to_string()})
        }
        DiscoveryEvent::ParticipantJoined {
            request,
            key: joined,
            peer,
        } => json!({
            "event": "request_participant_joined", "request": request.to_string(),
            "key": key(joined), "peer": peer.to_string(),
        }),
        DiscoveryEvent::SessionReady(parameters) => json!({
            "event": "request_complete", "request": parameters.request.to_string(),
            "session": parameters.session.to_string(), "creator": key(&parameters.creator),
            "signers": parameters.signers.iter().map(key).collect::<Vec<_>>(),
            "message": hex::encode(parameters.message), "dialect": parameters.dialect.to_string(),
        }),
        DiscoveryEvent::RequestExpired { request } => {
            json!({"event": "request_expired", "request": request.to_string()})
        }
        DiscoveryEvent::RequestEvicted { request } => {
            json!({"event": "request_evicted", "request": request.to_string()})
        }
        DiscoveryEvent::Security(security) => {
            json!({"event": "security", "detail": format!("{security:?}")})
        }
        DiscoveryEvent::SessionNotStarted { request, session } => json!({
            "event": "session_not_started", "request": request.to_string(),
            "session": session.to_string(),
        }),
        DiscoveryEvent::AnnouncementMismatch { request, session } => json!({
            "event": "announcement_mismatch", "request": request.to_string(),
            "session": session.to_string(),
        }),
        other => json!({"event": "discovery_other", "detail": format!("{other:?}")}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chorus_core::node::PeerId;
    use chorus_core::wire::SessionId;

    #[test]
    fn failover_events_have_their_own_names() {
        use chorus_core::crypto::{Keypair, SecretKey, Signature};
        let session = SessionId([2; 32]);
        let key =
            Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap()).public_key();
        let signature = Signature([3; 64]);
        let events = [
            Event::ShouldBroadcast {
                session,
                attempt: 1,
                signature,
            },
            Event::CoordinatorFailed {
                session,
                attempt: 0,
                coordinator: key,
            },
            Event::BroadcastConfirmed {
                session,
                transaction_id: vec![9],
                signer: 2,
            },
            Event::AggregatorFailed {
                session,
                attempt: 0,
                aggregator: key,
            },
            Event::SessionComplete { session, signature },
        ];
        let names: Vec<Value> = events
            .into_iter()
            .map(|event| event_json(&NodeEvent::Session(event))["event"].clone())
            .collect();
        assert_eq!(
            names,
            [
                json!("should_broadcast"),
                json!("coordinator_failed"),
                json!("broadcast_confirmed"),
                json!("aggregator_failed"),
                json!("session_complete")
            ]
        );
    }

    #[test]
    fn every_line_names_its_event() {
        let session = SessionId([1; 32]);
        let events = [
            NodeEvent::Session(Event::SessionReady { session }),
            NodeEvent::Session(Event::FailoverExhausted { session }),
            NodeEvent::Session(Event::SessionClosed { session }),
            NodeEvent::PeerConnected {
                peer: PeerId::new([7]),
            },
        ];
        let names: Vec<Value> = events
            .iter()
            .map(|event| event_json(event)["event"].clone())
            .collect();
        assert_eq!(
            names,
            [
                json!("session_ready"),
                json!("failover_exhausted"),
                json!("session_closed"),
                json!("peer_connected")
            ]
        );
        assert_eq!(
            event_json(&events[0])["session"],
            json!("01".repeat(32)),
            "ids are lowercase hex"
        );
    }
}
