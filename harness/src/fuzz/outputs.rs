//! What the node under test hands back must be sound: every transmit a well-formed,
//! signed envelope of its own, no sequence number or public nonce used for two different
//! messages, every signature it reports valid, every blame backed by evidence that checks.

use std::collections::BTreeMap;

use chorus_core::crypto::{self, Dialect, PublicKey};
use chorus_core::node::{AbortReason, Event, Node, Transmit};
use chorus_core::wire::{DecodedEnvelope, Payload, SessionId};
use sha2::{Digest, Sha256};

/// Where a message sits in its sender's stream: the session and the sequence number.
type Slot = (SessionId, u64);

/// What the checks need to know of a session, kept after the node forgets it (an event
/// may wait in the queue longer than its session lives).
#[derive(Debug)]
struct SessionFacts {
    dialect: Dialect,
    aggregate_key: PublicKey,
    message: [u8; 32],
    signers: Vec<PublicKey>,
}

/// The node under test's sent messages so far, and the checks on each new output.
#[derive(Debug, Default)]
pub(super) struct OutputChecker {
    /// Every session the node has kept.
    sessions: BTreeMap<SessionId, SessionFacts>,
    /// SHA-256 of the encoded envelope sent under each slot.
    sent: BTreeMap<Slot, [u8; 32]>,
    /// The slot of the message that first carried each public nonce.
    nonces: BTreeMap<[u8; 66], Slot>,
    /// The bytes of the last transmit checked: a fan-out repeats them.
    last_bytes: Vec<u8>,
}

impl OutputChecker {
    /// Notes the sessions `node` keeps (call after every input: a session lives at least
    /// until the next one).
    pub(super) fn observe(&mut self, node: &Node) {
        for id in node.session_ids() {
            if let (false, Some(view)) = (self.sessions.contains_key(&id), node.session(&id)) {
                let facts = SessionFacts {
                    dialect: view.dialect(),
                    aggregate_key: view.aggregate_key(),
                    message: *view.message(),
                    signers: view.signers().to_vec(),
                };
                self.sessions.insert(id, facts);
            }
        }
    }

    /// Checks one transmit of `node`.
    ///
    /// # Panics
    ///
    /// When the transmit is not a well-formed envelope signed by `node`, goes to `node`
    /// itself, reuses a sequence number for other content, or repeats a public nonce.
    pub(super) fn transmit(&mut self, node: &Node, transmit: &Transmit) {
        let own_key = node.public_key();
        assert_ne!(transmit.to, own_key, "a node sent a message to itself");
        if transmit.bytes == self.last_bytes {
            return;
        }
        let decoded = DecodedEnvelope::decode(&transmit.bytes, transmit.channel)
            .and_then(DecodedEnvelope::parse_points)
            .unwrap_or_else(|error| panic!("the node sent bytes peers refuse: {error}"));
        assert_eq!(decoded.sender, own_key, "a transmit names another sender");
        assert!(
            decoded.verify_signature(),
            "a transmit's signature does not verify"
        );
        let envelope = &decoded.signed.envelope;
        assert_eq!(
            envelope.session_id, transmit.session,
            "transmit of another session"
        );
        let slot = (envelope.session_id, envelope.sequence.0);
        let digest: [u8; 32] = Sha256::digest(&transmit.bytes).into();
        let first = *self.sent.entry(slot).or_insert(digest);
        assert_eq!(
            first, digest,
            "sequence {} of session {} used for two different messages",
            slot.1, slot.0
        );
        if let Payload::NonceShare(share) = &envelope.payload {
            let first = *self.nonces.entry(share.nonce).or_insert(slot);
            assert_eq!(
                first, slot,
                "public nonce sent twice: {:?} and {:?}",
                first, slot
            );
        }
        self.last_bytes.clone_from(&transmit.bytes);
    }

    /// Checks one event; `forgeries_accepted` says whether the node took in an envelope
    /// with a bad signature (possible only with `--cfg fuzzing`), which blame evidence
    /// would then contain.
    ///
    /// # Panics
    ///
    /// When the event names a session the node never kept, a reported signature does not
    /// verify, or a blame's evidence does not check.
    pub(super) fn event(&self, event: &Event, forgeries_accepted: bool) {
        let session = event.session();
        let facts = self
            .sessions
            .get(&session)
            .unwrap_or_else(|| panic!("{event:?} for a session the node never kept"));
        match event {
            Event::SessionComplete { signature, .. } | Event::ShouldBroadcast { signature, .. } => {
                assert!(
                    crypto::verify(
                        facts.dialect,
                        &facts.aggregate_key,
                        &facts.message,
                        signature
                    ),
                    "{event:?}: the final signature does not verify"
                );
            }
            Event::SessionAborted {
                reason:
                    AbortReason::Blame {
                        signer,
                        key,
                        evidence,
                    },
                ..
            } => {
                assert_eq!(
                    facts.signers.get(*signer),
                    Some(key),
                    "blamed index and key"
                );
                if !forgeries_accepted {
                    assert_eq!(evidence.verify(), Ok(*key), "blame evidence does not check");
                }
            }
            _ => {}
        }
    }
}
