//! The inverse of `arbitrary` for the fuzz inputs: the bytes from which `arbitrary` draws a
//! given value, so that seed inputs can be written as values and committed as bytes.
//!
//! `arbitrary` 1.x reads integers little-endian, a `bool` from the low bit of a byte, an
//! enum variant from a `u32` scaled to the variant count, an `Option` as a `bool` then the
//! value, and each element of a `Vec` after a `true` byte, with a `false` byte (or the end
//! of the data) closing it.

use super::ops::{
    Crafted, CraftedRecord, NodeOps, Op, PayloadChoice, RecordChoice, SequenceChoice,
    SessionChoice, Setup,
};
use super::scenario::ScenarioInput;
use arbitrary::{Arbitrary, Unstructured};

/// The number of [`Op`] variants.
const OPS: u64 = 27;

#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, value: u8) {
        self.0.push(value);
    }

    fn bool(&mut self, value: bool) {
        self.u8(u8::from(value));
    }

    fn le(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// The smallest `u32` that `arbitrary` maps to variant `index` of `count`.
    fn variant(&mut self, index: u64, count: u64) {
        let scaled = (index << 32).div_ceil(count);
        let scaled = u32::try_from(scaled).expect("a variant index below the count");
        self.le(&scaled.to_le_bytes());
    }

    fn vec<T>(&mut self, items: &[T], mut write: impl FnMut(&mut Self, &T)) {
        for item in items {
            self.bool(true);
            write(self, item);
        }
        self.bool(false);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.vec(bytes, |writer, byte| writer.u8(*byte));
    }

    fn setup(&mut self, setup: &Setup) {
        let Setup {
            peers,
            max_sessions,
            max_held_per_sender,
            max_queued_outputs,
            nonce_memory,
            max_tracked_peers,
            key_aggregation_cache,
            max_sequence_gap,
            peers_confirm_broadcasts,
            rng_seed,
        } = *setup;
        for byte in [
            peers,
            max_sessions,
            max_held_per_sender,
            max_queued_outputs,
            nonce_memory,
            max_tracked_peers,
            key_aggregation_cache,
            max_sequence_gap,
        ] {
            self.u8(byte);
        }
        self.bool(peers_confirm_broadcasts);
        self.u8(rng_seed);
    }

    fn session_choice(&mut self, choice: &SessionChoice) {
        self.u8(choice.others);
        self.u8(choice.message);
        self.bool(choice.lotus);
        self.u8(choice.election);
        self.bool(choice.nonce_commitments);
        self.bool(choice.aggregator);
        self.le(&choice.broadcast_timeout_ms.to_le_bytes());
        self.bool(choice.manual);
    }

    fn op(&mut self, op: &Op) {
        match op {
            Op::Deliver { pick } => {
                self.variant(0, OPS);
                self.u8(*pick);
            }
            Op::DeliverAll => self.variant(1, OPS),
            Op::Drop { pick } => {
                self.variant(2, OPS);
                self.u8(*pick);
            }
            Op::Resend { pick, from } => {
                self.variant(3, OPS);
                self.u8(*pick);
                self.u8(*from);
            }
            Op::Mutate { pick, edits } => {
                self.variant(4, OPS);
                self.u8(*pick);
                self.vec(edits, |writer, (position, mask)| {
                    writer.le(&position.to_le_bytes());
                    writer.u8(*mask);
                });
            }
            Op::Raw {
                from,
                gossip,
                bytes,
            } => {
                self.variant(5, OPS);
                self.u8(*from);
                self.bool(*gossip);
                self.bytes(bytes);
            }
            Op::Crafted(crafted) => {
                self.variant(6, OPS);
                self.crafted(crafted);
            }
            Op::Create(choice) => {
                self.variant(7, OPS);
                self.session_choice(choice);
            }
            Op::PeerCreate { peer, session } => {
                self.variant(8, OPS);
                self.u8(*peer);
                self.session_choice(session);
            }
            Op::Join { session, manual } => {
                self.variant(9, OPS);
                self.u8(*session);
                self.bool(*manual);
            }
            Op::StartRound1 { session } => {
                self.variant(10, OPS);
                self.u8(*session);
            }
            Op::StartRound2 { session } => {
                self.variant(11, OPS);
                self.u8(*session);
            }
            Op::ConfirmBroadcast {
                session,
                transaction_id,
            } => {
                self.variant(12, OPS);
                self.u8(*session);
                self.bytes(transaction_id);
            }
            Op::Close { session } => {
                self.variant(13, OPS);
                self.u8(*session);
            }
            Op::Advance { millis } => {
                self.variant(14, OPS);
                self.le(&millis.to_le_bytes());
            }
            Op::NextDeadline => self.variant(15, OPS),
            Op::EarlyTimeout => self.variant(16, OPS),
            Op::Backlog { on } => {
                self.variant(17, OPS);
                self.bool(*on);
            }
            _ => self.discovery_op(op),
        }
    }

    /// The discovery operations (the others are written by [`Writer::op`]).
    fn discovery_op(&mut self, op: &Op) {
        match op {
            Op::Advertise {
                node,
                types,
                lifetime_s,
            } => {
                self.variant(18, OPS);
                self.u8(*node);
                self.u8(*types);
                self.le(&lifetime_s.to_le_bytes());
            }
            Op::Withdraw => self.variant(19, OPS),
            Op::FindSigners { types } => {
                self.variant(20, OPS);
                self.u8(*types);
            }
            Op::AnnounceRequest {
                node,
                session,
                lifetime_s,
            } => {
                self.variant(21, OPS);
                self.u8(*node);
                self.session_choice(session);
                self.le(&lifetime_s.to_le_bytes());
            }
            Op::JoinRequest { pick, manual } => {
                self.variant(22, OPS);
                self.u8(*pick);
                self.bool(*manual);
            }
            Op::Blacklist { peer } => {
                self.variant(23, OPS);
                self.u8(*peer);
            }
            Op::Unblacklist { peer } => {
                self.variant(24, OPS);
                self.u8(*peer);
            }
            Op::Graylist { peer, seconds } => {
                self.variant(25, OPS);
                self.u8(*peer);
                self.le(&seconds.to_le_bytes());
            }
            Op::CraftedRecord(crafted) => {
                self.variant(26, OPS);
                self.crafted_record(crafted);
            }
            _ => {}
        }
    }

    fn crafted_record(&mut self, crafted: &CraftedRecord) {
        self.u8(crafted.signer);
        self.u8(crafted.from);
        self.bool(crafted.other_peer);
        self.le(&crafted.time_offset_ms.to_le_bytes());
        self.le(&crafted.lifetime_s.to_le_bytes());
        match &crafted.record {
            RecordChoice::Advertisement { types } => {
                self.variant(0, 4);
                self.u8(*types);
            }
            RecordChoice::Withdrawal { types } => {
                self.variant(1, 4);
                self.u8(*types);
            }
            RecordChoice::Request(choice) => {
                self.variant(2, 4);
                self.session_choice(choice);
            }
            RecordChoice::Join { request } => {
                self.variant(3, 4);
                self.u8(*request);
            }
        }
        self.bool(crafted.gossip);
    }

    fn crafted(&mut self, crafted: &Crafted) {
        self.u8(crafted.sender);
        self.u8(crafted.from);
        self.u8(crafted.session);
        match crafted.sequence {
            SequenceChoice::Next => self.variant(0, 3),
            SequenceChoice::Offset(offset) => {
                self.variant(1, 3);
                self.le(&offset.to_le_bytes());
            }
            SequenceChoice::Exact(sequence) => {
                self.variant(2, 3);
                self.le(&sequence.to_le_bytes());
            }
        }
        self.le(&crafted.time_offset_ms.to_le_bytes());
        self.payload(&crafted.payload);
        self.bool(crafted.forge_signature);
        self.bool(crafted.gossip);
    }

    fn payload(&mut self, payload: &PayloadChoice) {
        const KINDS: u64 = 10;
        match payload {
            PayloadChoice::Announce(choice) => {
                self.variant(0, KINDS);
                self.session_choice(choice);
            }
            PayloadChoice::Join { key } => {
                self.variant(1, KINDS);
                self.u8(*key);
            }
            PayloadChoice::NonceCommit {
                attempt,
                nonce_seed,
            } => {
                self.variant(2, KINDS);
                self.u8(*attempt);
                self.u8(*nonce_seed);
            }
            PayloadChoice::NonceShare {
                attempt,
                nonce_seed,
            } => {
                self.variant(3, KINDS);
                self.u8(*attempt);
                self.u8(*nonce_seed);
            }
            PayloadChoice::AggregateNonce {
                attempt,
                nonce_seed,
            } => {
                self.variant(4, KINDS);
                self.u8(*attempt);
                self.u8(*nonce_seed);
            }
            PayloadChoice::PartialSignature { attempt, scalar } => {
                self.variant(5, KINDS);
                self.u8(*attempt);
                self.le(scalar);
            }
            PayloadChoice::FinalSignature { real, fill } => {
                self.variant(6, KINDS);
                self.bool(*real);
                self.u8(*fill);
            }
            PayloadChoice::Abort { reason, blamed } => {
                self.variant(7, KINDS);
                self.u8(*reason);
                self.option(blamed.as_ref(), |writer, index| {
                    writer.le(&index.to_le_bytes());
                });
            }
            PayloadChoice::Ready { coordinator } => {
                self.variant(8, KINDS);
                self.option(coordinator.as_ref(), |writer, index| {
                    writer.le(&index.to_le_bytes());
                });
            }
            PayloadChoice::Confirm { transaction_id } => {
                self.variant(9, KINDS);
                self.bytes(transaction_id);
            }
        }
    }

    fn option<T>(&mut self, value: Option<&T>, write: impl FnOnce(&mut Self, &T)) {
        self.bool(value.is_some());
        if let Some(value) = value {
            write(self, value);
        }
    }
}

impl NodeOps {
    /// The operations `arbitrary` draws from `bytes`, as the fuzzer does.
    ///
    /// # Errors
    ///
    /// `arbitrary`'s error when the bytes do not make a whole input.
    ///
    /// ```
    /// use chorus_harness::fuzz::{NodeOps, Op};
    ///
    /// let input = NodeOps::from_bytes(&[0; 12]).unwrap();
    /// assert!(input.ops.is_empty());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> arbitrary::Result<Self> {
        Self::arbitrary_take_rest(Unstructured::new(bytes))
    }

    /// The bytes from which [`node_ops`](super::node_ops) draws exactly these operations.
    ///
    /// ```
    /// use chorus_harness::fuzz::NodeOps;
    ///
    /// let input = NodeOps::from_bytes(&[9; 40]).unwrap();
    /// let again = NodeOps::from_bytes(&input.to_bytes()).unwrap();
    /// assert_eq!(format!("{again:?}"), format!("{input:?}"));
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut writer = Writer::default();
        writer.setup(&self.setup);
        for op in &self.ops {
            writer.bool(true);
            writer.op(op);
        }
        writer.0
    }
}

impl ScenarioInput {
    /// The bytes from which [`scenario`](super::scenario) draws exactly these knobs.
    ///
    /// ```
    /// use arbitrary::{Arbitrary, Unstructured};
    /// use chorus_harness::fuzz::ScenarioInput;
    ///
    /// let input = ScenarioInput::arbitrary(&mut Unstructured::new(&[5; 16])).unwrap();
    /// let again = ScenarioInput::arbitrary(&mut Unstructured::new(&input.to_bytes())).unwrap();
    /// assert_eq!(again.scenario(), input.scenario());
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut writer = Writer::default();
        writer.le(&self.seed.to_le_bytes());
        for byte in [
            self.signers_low,
            self.signers_spread,
            self.sessions,
            self.topology,
            self.faults,
            self.byzantine,
        ] {
            writer.u8(byte);
        }
        writer.bool(self.determinism);
        writer.0
    }
}
