//! Well-formed envelopes from the small numbers of a [`Crafted`] operation, sealed by a
//! known key so that they pass every check a real peer's message passes.

use std::collections::BTreeMap;

use chorus_core::crypto::{
    aggregate_nonces, Dialect, Keypair, PartialSignature, PublicKey, PublicNonce, SecretKey,
};
use chorus_core::election::ElectionMethod;
use chorus_core::node::{PeerId, SessionSpec};
use chorus_core::time::Timestamp;
use chorus_core::wire::{
    AbortCode, AggregateNonceShare, BroadcastConfirmation, Channel, Envelope, FinalSignature, Join,
    NonceCommit, NonceShare, PartialSignatureShare, Payload, Sequence, SessionAbort,
    SessionAnnounce, SessionId, SessionOptions, SessionReady, SignedEnvelope, Topology,
    MAX_TRANSACTION_ID_LEN,
};

use super::ops::{Crafted, PayloadChoice, SequenceChoice, SessionChoice};
use super::world::World;

/// Crafted timestamps stay within this of the current time, so that about half of them
/// pass the default five-minute clock-skew check.
pub(super) const TEN_MINUTES_MS: i32 = 600_000;

const ABORT_CODES: [AbortCode; 8] = [
    AbortCode::Closed,
    AbortCode::Expired,
    AbortCode::Stuck,
    AbortCode::InvalidPartialSignature,
    AbortCode::NonceCommitmentMismatch,
    AbortCode::Equivocation,
    AbortCode::ProtocolViolation,
    AbortCode::FailoverExhausted,
];

/// A round-1 attempt from a fuzzed byte: 0 to 7, which covers every attempt of a session
/// of up to five signers and a few beyond.
fn attempt_number(byte: u8) -> u32 {
    u32::from(byte % 8)
}

impl SessionChoice {
    /// The keys this choice lists, `creator`'s first (`keys` holds every node's key and the
    /// stranger's).
    fn signers(&self, keys: &[Keypair], creator: usize) -> Vec<PublicKey> {
        let mut signers = vec![keys[creator].public_key()];
        for (index, key) in keys.iter().enumerate() {
            if index != creator && index < 8 && self.others & (1 << index) != 0 {
                signers.push(key.public_key());
            }
        }
        signers
    }

    fn options(&self) -> SessionOptions {
        SessionOptions {
            nonce_commitments: self.nonce_commitments,
            topology: if self.aggregator {
                Topology::Aggregator
            } else {
                Topology::Mesh
            },
            broadcast_timeout_ms: u64::from(self.broadcast_timeout_ms),
        }
    }

    fn dialect(&self) -> Dialect {
        if self.lotus {
            Dialect::Lotus
        } else {
            Dialect::Bip340
        }
    }

    fn election(&self) -> ElectionMethod {
        ElectionMethod::ALL[usize::from(self.election) % ElectionMethod::ALL.len()]
    }

    /// The spec `creator` (a node index) asks for.
    pub(super) fn spec(&self, keys: &[Keypair], creator: usize) -> SessionSpec {
        SessionSpec {
            election: self.election(),
            options: self.options(),
            progress: if self.manual {
                chorus_core::node::Progress::Manual
            } else {
                chorus_core::node::Progress::Automatic
            },
            ..SessionSpec::new(
                self.signers(keys, creator),
                [self.message; 32],
                self.dialect(),
            )
        }
    }

    /// The announcement of this session by `creator`, built field by field so that the
    /// options may be out of range.
    fn announce(&self, keys: &[Keypair], creator: usize) -> SessionAnnounce {
        let mut signers: Vec<[u8; 33]> = self
            .signers(keys, creator)
            .iter()
            .map(PublicKey::serialize)
            .collect();
        signers.sort_unstable();
        SessionAnnounce {
            signers,
            message: [self.message; 32],
            dialect: self.dialect(),
            election: self.election(),
            options: self.options(),
        }
    }
}

/// Builds crafted envelopes; remembers the nonces it made, which cost two point
/// multiplications each.
#[derive(Debug, Default)]
pub(super) struct Crafter {
    nonces: BTreeMap<u8, PublicNonce>,
}

impl Crafter {
    /// A public nonce that `seed` names: two points valid in both dialects.
    fn nonce(&mut self, seed: u8) -> PublicNonce {
        *self.nonces.entry(seed).or_insert_with(|| {
            let point = |fill: u8| {
                let mut scalar = [fill; 32];
                scalar[0] = seed;
                let secret = SecretKey::from_secret_bytes(scalar).expect("a scalar below n");
                PublicKey::from_secret_key(&secret).serialize()
            };
            let mut bytes = [0u8; 66];
            bytes[..33].copy_from_slice(&point(0x11));
            bytes[33..].copy_from_slice(&point(0x22));
            PublicNonce::from_bytes(Dialect::Bip340, &bytes).expect("two points are a nonce")
        })
    }

    /// The envelope `crafted` describes, sealed, with the transport peer and channel it
    /// arrives on; notes its sequence number in the world.
    pub(super) fn craft(
        &mut self,
        world: &mut World,
        crafted: &Crafted,
    ) -> (PeerId, Channel, Vec<u8>) {
        let sender = usize::from(crafted.sender) % world.keys.len();
        let keypair = world.keys[sender];
        let session = world.session(crafted.session);
        let highest = world
            .sequences
            .get(&(sender, session))
            .copied()
            .unwrap_or(0);
        let sequence = match crafted.sequence {
            SequenceChoice::Next => highest.saturating_add(1),
            SequenceChoice::Offset(offset) => highest.saturating_add_signed(i64::from(offset)),
            SequenceChoice::Exact(sequence) => sequence,
        };
        world
            .sequences
            .insert((sender, session), highest.max(sequence));
        let millis = i64::try_from(world.now.as_millis())
            .unwrap_or(i64::MAX)
            .saturating_add(i64::from(crafted.time_offset_ms % TEN_MINUTES_MS))
            .max(0);
        let timestamp = Timestamp::from_millis(millis.unsigned_abs());
        let payload = self.payload(world, &crafted.payload, &keypair, sender, &session);
        let envelope = Envelope::new(
            session,
            &keypair.public_key(),
            Sequence(sequence),
            timestamp,
            payload,
        );
        let mut signed = SignedEnvelope::seal(envelope, &keypair, &[0; 32]);
        if crafted.forge_signature {
            signed.signature = [0x5a; 64];
        }
        let channel = if crafted.gossip {
            Channel::Gossip
        } else {
            Channel::Direct
        };
        (world.peer_id(crafted.from), channel, signed.encode())
    }

    /// An aggregate nonce share made from the nonce `nonce_seed` names.
    fn aggregate_nonce(&mut self, attempt: u8, nonce_seed: u8) -> Payload {
        let nonce = self.nonce(nonce_seed);
        let aggregate =
            aggregate_nonces(Dialect::Bip340, &[nonce]).expect("one nonce aggregates to itself");
        Payload::AggregateNonce(AggregateNonceShare::new(
            attempt_number(attempt),
            &aggregate,
        ))
    }

    fn payload(
        &mut self,
        world: &World,
        choice: &PayloadChoice,
        keypair: &Keypair,
        sender: usize,
        session: &SessionId,
    ) -> Payload {
        let sender_key = keypair.public_key().serialize();
        match choice {
            PayloadChoice::Announce(choice) => {
                Payload::SessionAnnounce(choice.announce(&world.keys, sender))
            }
            PayloadChoice::Join { key } => {
                let joining = &world.keys[usize::from(*key) % world.keys.len()];
                Payload::Join(Join::new(&joining.public_key()))
            }
            PayloadChoice::NonceCommit {
                attempt,
                nonce_seed,
            } => {
                let nonce = self.nonce(*nonce_seed);
                let commit =
                    NonceCommit::new(session, &sender_key, attempt_number(*attempt), &nonce);
                Payload::NonceCommit(commit)
            }
            PayloadChoice::NonceShare {
                attempt,
                nonce_seed,
            } => {
                let nonce = self.nonce(*nonce_seed);
                Payload::NonceShare(NonceShare::new(attempt_number(*attempt), &nonce))
            }
            PayloadChoice::AggregateNonce {
                attempt,
                nonce_seed,
            } => self.aggregate_nonce(*attempt, *nonce_seed),
            PayloadChoice::PartialSignature { attempt, scalar } => {
                partial_signature(*attempt, scalar)
            }
            PayloadChoice::FinalSignature { real, fill } => {
                let signature = world
                    .target()
                    .final_signature(session)
                    .filter(|_| *real)
                    .map_or([*fill; 64], |signature| signature.to_bytes());
                Payload::FinalSignature(FinalSignature { signature })
            }
            PayloadChoice::Abort { reason, blamed } => Payload::SessionAbort(SessionAbort {
                reason: ABORT_CODES[usize::from(*reason) % ABORT_CODES.len()],
                blamed_signer: *blamed,
            }),
            PayloadChoice::Ready { coordinator } => {
                let elected = world.target().session(session).map_or(0, |view| {
                    u16::try_from(view.election().sorted_index).unwrap_or(0)
                });
                Payload::SessionReady(SessionReady {
                    coordinator_index: coordinator.unwrap_or(elected),
                })
            }
            PayloadChoice::Confirm { transaction_id } => {
                let mut transaction_id = transaction_id.clone();
                transaction_id.truncate(MAX_TRANSACTION_ID_LEN);
                if transaction_id.is_empty() {
                    transaction_id.push(0);
                }
                Payload::BroadcastConfirmation(BroadcastConfirmation { transaction_id })
            }
        }
    }
}

/// A partial signature share of `scalar` (one, if `scalar` is not below the group order).
fn partial_signature(attempt: u8, scalar: &[u8; 32]) -> Payload {
    let partial = PartialSignature::from_bytes(scalar)
        .or_else(|_| PartialSignature::from_bytes(&[1; 32]))
        .expect("one is a scalar");
    Payload::PartialSignature(PartialSignatureShare::new(
        attempt_number(attempt),
        &partial,
    ))
}
