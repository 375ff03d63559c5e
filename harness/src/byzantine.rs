//! Byzantine peers. A byzantine node runs an ordinary engine (so it knows its sessions and
//! can sign), but what it sends passes through here: altered (invalid partial signatures,
//! equivocation, split views) or joined by messages it makes up (replays, stale and
//! wrong-phase messages, floods, forged session messages, advertisements and signing
//! requests). Silent coordinators are the application's doing, in the simulator itself.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use core::time::Duration;

use chorus_core::crypto::{Dialect, Keypair, PartialSignature, PublicKey, SecretKey};
use chorus_core::discovery::{
    AdvertisementContent, DiscoveryMessage, JoinProof, RequestContent, SignerAdvertisement,
    SignerCriteria, SignerMetadata, SigningRequest,
};
use chorus_core::election::ElectionMethod;
use chorus_core::node::PeerId;
use chorus_core::time::Timestamp;
use chorus_core::wire::{
    AbortCode, AggregateNonceShare, Envelope, FinalSignature, Join, NonceCommit, NonceShare,
    PartialSignatureShare, Payload, Sequence, SessionAbort, SessionAnnounce, SessionId,
    SessionOptions, SessionReady, SignedEnvelope, Topology,
};

use crate::peek::peek;
use crate::plan::{MS, SEC};
use crate::rng::SimRng;
use crate::scenario::ByzantineKind;
use crate::trace::Origin;

/// How often a made-up message joins one the byzantine engine sends (per million).
const INJECTION_PPM: u32 = 300_000;
/// How many messages a byzantine node remembers to replay or forge.
const MEMORY: usize = 64;
/// How many sessions a flooding node announces on its own.
pub(crate) const FAKE_ANNOUNCES: usize = 3;
/// How far past its own sequence numbers a made-up message goes (below the gap limit).
const SEQUENCE_OFFSET: u64 = 40;

/// What the simulator knows about a session, for the messages a byzantine peer makes up.
#[derive(Debug, Clone)]
pub(crate) struct SessionFacts {
    /// Node indices of the signers.
    pub(crate) signers: Vec<usize>,
    pub(crate) creator: usize,
    pub(crate) topology: Topology,
    pub(crate) commitments: bool,
}

/// One message for the network.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) to: usize,
    pub(crate) bytes: Rc<[u8]>,
    pub(crate) origin: Origin,
    /// Made up to be refused: accepting it is a violation.
    pub(crate) must_reject: bool,
    /// Extra time before it leaves.
    pub(crate) delay: u64,
}

/// The byzantine node sending, and what it sends.
pub(crate) struct Sending<'a> {
    pub(crate) me: usize,
    pub(crate) kind: ByzantineKind,
    pub(crate) keypair: &'a Keypair,
    pub(crate) now: Timestamp,
    pub(crate) to: usize,
    pub(crate) bytes: Rc<[u8]>,
    pub(crate) facts: Option<&'a SessionFacts>,
    /// Every node's key.
    pub(crate) keys: &'a [PublicKey],
}

/// The byzantine peers' shared memory and randomness.
#[derive(Debug)]
pub(crate) struct Byzantine {
    rng: SimRng,
    /// Messages byzantine nodes saw or sent, newest last.
    seen: VecDeque<Rc<[u8]>>,
    /// The byzantine nodes' own messages, newest last.
    own: VecDeque<Rc<[u8]>>,
    /// Altered messages, so every receiver of one envelope gets the same alteration:
    /// (node, session, sequence, variant).
    altered: BTreeMap<(usize, SessionId, u64, u8), Rc<[u8]>>,
    /// Split view: the second nonce each node shows, per (node, session, attempt).
    second_nonce: BTreeMap<(usize, SessionId, u32), [u8; 66]>,
    fake_announces: BTreeMap<usize, usize>,
}

impl Byzantine {
    pub(crate) fn new(rng: SimRng) -> Self {
        Byzantine {
            rng,
            seen: VecDeque::new(),
            own: VecDeque::new(),
            altered: BTreeMap::new(),
            second_nonce: BTreeMap::new(),
            fake_announces: BTreeMap::new(),
        }
    }

    /// A byzantine node received `bytes`.
    pub(crate) fn observe(&mut self, bytes: &Rc<[u8]>) {
        remember(&mut self.seen, bytes);
    }

    /// The messages that go out when byzantine node `sending.me` sends one.
    pub(crate) fn outgoing(&mut self, sending: &Sending<'_>) -> Vec<Outgoing> {
        remember(&mut self.own, &sending.bytes);
        remember(&mut self.seen, &sending.bytes);
        let original = Outgoing {
            to: sending.to,
            bytes: sending.bytes.clone(),
            origin: Origin::Byzantine,
            must_reject: false,
            delay: 0,
        };
        let Some(signed) = peek(&sending.bytes) else {
            return vec![original];
        };
        match sending.kind {
            ByzantineKind::InvalidPartial => vec![self.invalid_partial(sending, &signed, original)],
            ByzantineKind::Equivocate => self.equivocate(sending, &signed, original),
            ByzantineKind::SplitView => vec![self.split_view(sending, &signed, original)],
            ByzantineKind::Replay
            | ByzantineKind::Stale
            | ByzantineKind::WrongPhase
            | ByzantineKind::Flood
            | ByzantineKind::Forged => {
                let mut out = vec![original];
                if self.rng.chance(INJECTION_PPM) {
                    out.extend(self.inject(sending, &signed));
                }
                out
            }
            ByzantineKind::None | ByzantineKind::Withhold | ByzantineKind::Swarm => {
                vec![original]
            }
        }
    }

    /// The same envelope, altered once by `alter` (cached per `variant`) and re-signed.
    fn alter(
        &mut self,
        sending: &Sending<'_>,
        signed: &SignedEnvelope,
        variant: u8,
        alter: impl FnOnce(&mut SimRng, &mut Envelope),
    ) -> Rc<[u8]> {
        let key = (
            sending.me,
            signed.envelope.session_id,
            signed.envelope.sequence.0,
            variant,
        );
        if let Some(bytes) = self.altered.get(&key) {
            return bytes.clone();
        }
        let mut envelope = signed.envelope.clone();
        alter(&mut self.rng, &mut envelope);
        let bytes = seal(envelope, sending.keypair, &mut self.rng);
        self.altered.insert(key, bytes.clone());
        bytes
    }

    fn invalid_partial(
        &mut self,
        sending: &Sending<'_>,
        signed: &SignedEnvelope,
        original: Outgoing,
    ) -> Outgoing {
        let Payload::PartialSignature(share) = &signed.envelope.payload else {
            return original;
        };
        let attempt = share.attempt;
        let bytes = self.alter(sending, signed, 0, |rng, envelope| {
            envelope.payload = Payload::PartialSignature(PartialSignatureShare {
                attempt,
                partial_signature: random_scalar(rng),
            });
        });
        Outgoing { bytes, ..original }
    }

    /// The original, then a conflicting version of it to the same peer.
    fn equivocate(
        &mut self,
        sending: &Sending<'_>,
        signed: &SignedEnvelope,
        original: Outgoing,
    ) -> Vec<Outgoing> {
        let conflicting: Option<fn(&mut SimRng, &Payload) -> Payload> = match &signed
            .envelope
            .payload
        {
            Payload::NonceShare(_) => Some(|rng, payload| match payload {
                Payload::NonceShare(share) => Payload::NonceShare(NonceShare {
                    attempt: share.attempt,
                    nonce: random_point_pair(rng),
                }),
                other => other.clone(),
            }),
            Payload::NonceCommit(_) => Some(|rng, payload| match payload {
                Payload::NonceCommit(commit) => Payload::NonceCommit(NonceCommit {
                    attempt: commit.attempt,
                    commitment: rng.bytes32(),
                }),
                other => other.clone(),
            }),
            Payload::AggregateNonce(_) => Some(|rng, payload| match payload {
                Payload::AggregateNonce(share) => Payload::AggregateNonce(AggregateNonceShare {
                    attempt: share.attempt,
                    nonce: random_point_pair(rng),
                }),
                other => other.clone(),
            }),
            _ => None,
        };
        let Some(conflicting) = conflicting else {
            return vec![original];
        };
        let bytes = self.alter(sending, signed, 1, |rng, envelope| {
            envelope.payload = conflicting(rng, &envelope.payload);
            envelope.sequence = Sequence(envelope.sequence.0 + SEQUENCE_OFFSET);
        });
        let second = Outgoing {
            bytes,
            delay: MS,
            ..original.clone()
        };
        vec![original, second]
    }

    /// Odd-numbered peers see a second nonce (with a matching commitment); even ones the
    /// real one. No peer sees both.
    fn split_view(
        &mut self,
        sending: &Sending<'_>,
        signed: &SignedEnvelope,
        original: Outgoing,
    ) -> Outgoing {
        if sending.to.is_multiple_of(2) {
            return original;
        }
        let envelope = &signed.envelope;
        let session = envelope.session_id;
        let Some(attempt) = crate::peek::attempt(&envelope.payload) else {
            return original;
        };
        let rng = &mut self.rng;
        let second = *self
            .second_nonce
            .entry((sending.me, session, attempt))
            .or_insert_with(|| random_point_pair(rng));
        let sender = envelope.sender;
        let payload = match &envelope.payload {
            Payload::NonceCommit(_) => Payload::NonceCommit(NonceCommit {
                attempt,
                commitment: NonceCommit::commitment_for(&session, &sender, attempt, &second),
            }),
            Payload::NonceShare(_) => Payload::NonceShare(NonceShare {
                attempt,
                nonce: second,
            }),
            Payload::AggregateNonce(_) => Payload::AggregateNonce(AggregateNonceShare {
                attempt,
                nonce: second,
            }),
            _ => return original,
        };
        let bytes = self.alter(sending, signed, 2, |_, envelope| envelope.payload = payload);
        Outgoing { bytes, ..original }
    }

    fn inject(&mut self, sending: &Sending<'_>, signed: &SignedEnvelope) -> Vec<Outgoing> {
        match sending.kind {
            ByzantineKind::Replay => self.replay(sending).into_iter().collect(),
            ByzantineKind::Stale => vec![self.stale(sending, signed)],
            ByzantineKind::WrongPhase => self.wrong_phase(sending, signed).into_iter().collect(),
            ByzantineKind::Flood => self.flood(sending),
            ByzantineKind::Forged => self.forge(sending),
            _ => Vec::new(),
        }
    }

    fn other_node(&mut self, sending: &Sending<'_>) -> usize {
        let nodes = sending.keys.len();
        if nodes < 2 {
            return sending.to;
        }
        let pick = self.rng.index(nodes - 1);
        if pick >= sending.me {
            pick + 1
        } else {
            pick
        }
    }

    fn injected(&mut self, to: usize, bytes: Rc<[u8]>, must_reject: bool) -> Outgoing {
        Outgoing {
            to,
            bytes,
            origin: Origin::Injected,
            must_reject,
            delay: self.rng.below(5 * SEC),
        }
    }

    /// An authentic message seen before, to anyone: a relay at worst.
    fn replay(&mut self, sending: &Sending<'_>) -> Option<Outgoing> {
        let bytes = self.seen.get(self.rng.index(self.seen.len()))?.clone();
        let to = self.other_node(sending);
        Some(self.injected(to, bytes, false))
    }

    /// This message with a timestamp far off, or an old message of its own.
    fn stale(&mut self, sending: &Sending<'_>, signed: &SignedEnvelope) -> Outgoing {
        if self.rng.coin() && self.own.len() > 1 {
            let bytes = self.own[self.rng.index(self.own.len())].clone();
            return self.injected(sending.to, bytes, false);
        }
        let skew = self.rng.between(6 * 60 * 1_000, 60 * 60 * 1_000);
        let timestamp = if self.rng.coin() {
            Timestamp::from_millis(sending.now.as_millis().saturating_sub(skew))
        } else {
            Timestamp::from_millis(sending.now.as_millis().saturating_add(skew))
        };
        let mut envelope = signed.envelope.clone();
        envelope.timestamp = timestamp;
        envelope.sequence = Sequence(envelope.sequence.0 + SEQUENCE_OFFSET);
        let bytes = seal(envelope, sending.keypair, &mut self.rng);
        self.injected(sending.to, bytes, true)
    }

    /// A correctly signed message the session's phase or topology does not allow.
    fn wrong_phase(&mut self, sending: &Sending<'_>, signed: &SignedEnvelope) -> Option<Outgoing> {
        let facts = sending.facts?;
        let others: Vec<usize> = facts
            .signers
            .iter()
            .copied()
            .filter(|node| *node != sending.me)
            .collect();
        let session = signed.envelope.session_id;
        let mut choices: Vec<(Payload, bool)> = vec![
            (
                Payload::SessionReady(SessionReady {
                    coordinator_index: 0,
                }),
                false,
            ),
            (
                Payload::NonceShare(NonceShare {
                    attempt: u32::MAX / 2,
                    nonce: random_point_pair(&mut self.rng),
                }),
                false,
            ),
            (
                Payload::Join(Join::new(&sending.keypair.public_key())),
                true,
            ),
        ];
        if facts.topology == Topology::Mesh {
            choices.push((
                Payload::AggregateNonce(AggregateNonceShare {
                    attempt: 0,
                    nonce: random_point_pair(&mut self.rng),
                }),
                false,
            ));
            let mut signature = [0u8; 64];
            signature[..32].copy_from_slice(&random_point_pair(&mut self.rng)[1..33]);
            signature[32..].copy_from_slice(&random_scalar(&mut self.rng));
            choices.push((Payload::FinalSignature(FinalSignature { signature }), false));
        }
        if !facts.commitments {
            choices.push((
                Payload::NonceCommit(NonceCommit {
                    attempt: 0,
                    commitment: self.rng.bytes32(),
                }),
                false,
            ));
        }
        let (payload, avoid_creator) = choices.swap_remove(self.rng.index(choices.len()));
        let receivers: Vec<usize> = others
            .into_iter()
            .filter(|node| !avoid_creator || *node != facts.creator)
            .collect();
        let to = *receivers.get(self.rng.index(receivers.len()))?;
        let envelope = Envelope::new(
            session,
            &sending.keypair.public_key(),
            Sequence(signed.envelope.sequence.0 + SEQUENCE_OFFSET),
            sending.now,
            payload,
        );
        let bytes = seal(envelope, sending.keypair, &mut self.rng);
        Some(self.injected(to, bytes, true))
    }

    /// Junk, oversized messages, unknown sessions and a few sessions of its own.
    fn flood(&mut self, sending: &Sending<'_>) -> Vec<Outgoing> {
        let burst = self.rng.between_usize(1, 16);
        let mut out = Vec::with_capacity(burst);
        for _ in 0..burst {
            let to = self.other_node(sending);
            let (bytes, must_reject): (Vec<u8>, bool) = match self.rng.below(8) {
                0 => (vec![1; chorus_core::wire::MAX_DIRECT_MESSAGE + 1], true),
                1 | 2 => {
                    let length = self.rng.index(200);
                    (
                        (0..length).map(|_| self.rng.below(256) as u8).collect(),
                        true,
                    )
                }
                3 if self.fake_announces.get(&sending.me).copied().unwrap_or(0)
                    < FAKE_ANNOUNCES =>
                {
                    *self.fake_announces.entry(sending.me).or_default() += 1;
                    (self.fake_announce(sending, to), false)
                }
                _ => {
                    let abort = Payload::SessionAbort(SessionAbort {
                        reason: AbortCode::ProtocolViolation,
                        blamed_signer: None,
                    });
                    let envelope = Envelope::new(
                        SessionId(self.rng.bytes32()),
                        &sending.keypair.public_key(),
                        Sequence(1),
                        sending.now,
                        abort,
                    );
                    (
                        seal(envelope, sending.keypair, &mut self.rng).to_vec(),
                        true,
                    )
                }
            };
            out.push(self.injected(to, bytes.into(), must_reject));
        }
        out
    }

    /// A real announcement of a session between the flooder and `to` (which will stall).
    fn fake_announce(&mut self, sending: &Sending<'_>, to: usize) -> Vec<u8> {
        let signers = [sending.keypair.public_key(), sending.keys[to]];
        let Ok(announce) = SessionAnnounce::new(
            &signers,
            self.rng.bytes32(),
            Dialect::Bip340,
            ElectionMethod::Lexicographic,
            SessionOptions::default(),
        ) else {
            return Vec::new();
        };
        let envelope = Envelope::new(
            SessionId(self.rng.bytes32()),
            &sending.keypair.public_key(),
            Sequence(1),
            sending.now,
            Payload::SessionAnnounce(announce),
        );
        seal(envelope, sending.keypair, &mut self.rng).to_vec()
    }

    /// Something in another signer's name, signed by this node: a session message, or a
    /// discovery record (advertisement, signing request, join proof) with a signature that
    /// does not verify or that names another peer than the one delivering it.
    fn forge(&mut self, sending: &Sending<'_>) -> Vec<Outgoing> {
        let to = self.other_node(sending);
        let victim_index = self.other_node(sending);
        let Some(victim) = sending.keys.get(victim_index).copied() else {
            return Vec::new();
        };
        let records = match self.rng.below(5) {
            0 => vec![(self.advertisement_in_the_name_of(sending, &victim), true)],
            1 => vec![(self.advertisement_for_another_peer(sending, &victim), true)],
            2 => vec![(self.request_in_the_name_of(sending, &victim), true)],
            3 => self.join_in_the_name_of(sending, &victim),
            _ => return self.forged_envelope(sending).into_iter().collect(),
        };
        // One departure time, a millisecond apart: a request before the join that needs it.
        let delay = self.rng.below(5 * SEC);
        records
            .into_iter()
            .zip(0..)
            .map(|((record, must_reject), offset)| Outgoing {
                to,
                bytes: record.encode().into(),
                origin: Origin::Injected,
                must_reject,
                delay: delay + offset * MS,
            })
            .collect()
    }

    /// An advertisement of `victim`'s key from this node's own peer, signed with this
    /// node's key: the signature does not verify.
    fn advertisement_in_the_name_of(
        &mut self,
        sending: &Sending<'_>,
        victim: &PublicKey,
    ) -> DiscoveryMessage {
        let own_peer = PeerId::from_key(&sending.keypair.public_key());
        let mut advertisement = self.advertisement(sending, own_peer);
        advertisement.content.key = victim.serialize();
        DiscoveryMessage::Advertisement(advertisement)
    }

    /// An advertisement of this node's own key, correctly signed, that names `victim`'s
    /// peer: the record is bound to another peer than the one delivering it.
    fn advertisement_for_another_peer(
        &mut self,
        sending: &Sending<'_>,
        victim: &PublicKey,
    ) -> DiscoveryMessage {
        DiscoveryMessage::Advertisement(self.advertisement(sending, PeerId::from_key(victim)))
    }

    fn advertisement(&mut self, sending: &Sending<'_>, peer: PeerId) -> SignerAdvertisement {
        let content = AdvertisementContent::new(
            peer,
            SignerCriteria::new(["p2pkh"]),
            SignerMetadata::default(),
            sending.now,
            Duration::from_secs(600),
        );
        SignerAdvertisement::sign(content, sending.keypair, &self.rng.bytes32())
    }

    /// A signing request for `victim` and this node, made in `victim`'s name (it is the
    /// creator) but signed with this node's key.
    fn request_in_the_name_of(
        &mut self,
        sending: &Sending<'_>,
        victim: &PublicKey,
    ) -> DiscoveryMessage {
        let mut request = self.request(sending, victim);
        request.content.creator = victim.serialize();
        DiscoveryMessage::Request(request)
    }

    /// A genuine request of this node's that needs `victim`'s key, then a join proof of
    /// `victim`'s key to it from this node's peer, signed with this node's key.
    fn join_in_the_name_of(
        &mut self,
        sending: &Sending<'_>,
        victim: &PublicKey,
    ) -> Vec<(DiscoveryMessage, bool)> {
        let request = self.request(sending, victim);
        let own_peer = PeerId::from_key(&sending.keypair.public_key());
        let mut join =
            JoinProof::sign(request.id(), sending.keypair, own_peer, &self.rng.bytes32());
        join.content.key = victim.serialize();
        vec![
            (DiscoveryMessage::Request(request), false),
            (DiscoveryMessage::Join(join), true),
        ]
    }

    fn request(&mut self, sending: &Sending<'_>, victim: &PublicKey) -> SigningRequest {
        let keys = [*victim, sending.keypair.public_key()];
        let content = RequestContent::new(
            &keys,
            self.rng.bytes32(),
            Dialect::Bip340,
            sending.now,
            Duration::from_secs(600),
        );
        SigningRequest::sign(content, sending.keypair, &self.rng.bytes32())
    }

    /// A session message in another signer's name: its key as sender, this node's
    /// signature.
    fn forged_envelope(&mut self, sending: &Sending<'_>) -> Option<Outgoing> {
        let own_key = sending.keypair.public_key().serialize();
        // From a random place in the memory, the first message another signer sent.
        let start = self.rng.index(self.seen.len());
        let (front, back) = self.seen.as_slices();
        let victim = front
            .iter()
            .chain(back)
            .cycle()
            .skip(start)
            .take(self.seen.len())
            .filter_map(|bytes| peek(bytes))
            .find(|signed| signed.envelope.sender != own_key)?;
        let mut envelope = victim.envelope;
        envelope.sequence = Sequence(envelope.sequence.0 + 1 + self.rng.below(3));
        envelope.timestamp = sending.now;
        envelope.payload = match &envelope.payload {
            Payload::NonceShare(share) => Payload::NonceShare(NonceShare {
                attempt: share.attempt,
                nonce: random_point_pair(&mut self.rng),
            }),
            Payload::PartialSignature(share) => Payload::PartialSignature(PartialSignatureShare {
                attempt: share.attempt,
                partial_signature: random_scalar(&mut self.rng),
            }),
            _ => Payload::SessionAbort(SessionAbort {
                reason: AbortCode::ProtocolViolation,
                blamed_signer: Some(0),
            }),
        };
        let victim_key = envelope.sender;
        let mut forged = SignedEnvelope::seal(envelope, sending.keypair, &self.rng.bytes32());
        forged.envelope.sender = victim_key;
        let to = self.other_node(sending);
        Some(self.injected(to, forged.encode().into(), true))
    }
}

fn remember(memory: &mut VecDeque<Rc<[u8]>>, bytes: &Rc<[u8]>) {
    if memory.len() >= MEMORY {
        memory.pop_front();
    }
    memory.push_back(bytes.clone());
}

fn seal(envelope: Envelope, keypair: &Keypair, rng: &mut SimRng) -> Rc<[u8]> {
    SignedEnvelope::seal(envelope, keypair, &rng.bytes32())
        .encode()
        .into()
}

fn random_scalar(rng: &mut SimRng) -> [u8; 32] {
    loop {
        let bytes = rng.bytes32();
        if PartialSignature::from_bytes(&bytes).is_ok() {
            return bytes;
        }
    }
}

fn random_point(rng: &mut SimRng) -> [u8; 33] {
    loop {
        if let Ok(secret) = SecretKey::from_secret_bytes(rng.bytes32()) {
            return Keypair::from_secret_key(&secret).public_key().serialize();
        }
    }
}

/// Two valid compressed points: a well-formed public or aggregate nonce nobody can sign
/// with.
fn random_point_pair(rng: &mut SimRng) -> [u8; 66] {
    let mut pair = [0u8; 66];
    pair[..33].copy_from_slice(&random_point(rng));
    pair[33..].copy_from_slice(&random_point(rng));
    pair
}
