//! The operations of the `node_ops` fuzz target, drawn from bytes by `arbitrary`.
//!
//! Every field is a small number the world maps onto something that exists (a node, a
//! known session, a recorded message) by taking it modulo the count, so that almost every
//! input means something.

use arbitrary::Arbitrary;

/// One fuzz run of [`node_ops`](super::node_ops): the world's shape, then the operations.
///
/// ```
/// use arbitrary::{Arbitrary, Unstructured};
/// use chorus_harness::fuzz::NodeOps;
///
/// let input = NodeOps::arbitrary_take_rest(Unstructured::new(&[7; 64])).unwrap();
/// assert!(input.ops.len() <= 64);
/// ```
#[derive(Debug, Clone, Arbitrary)]
pub struct NodeOps {
    /// The node under test's limits and the world around it.
    pub setup: Setup,
    /// What happens, in order.
    pub ops: Vec<Op>,
}

/// The world a run starts from: how many honest peers, and the node under test's limits
/// (each mapped into a small range, so that the limits are actually reached).
///
/// ```
/// use arbitrary::{Arbitrary, Unstructured};
/// use chorus_harness::fuzz::Setup;
///
/// let setup = Setup::arbitrary(&mut Unstructured::new(&[0; 16])).unwrap();
/// assert_eq!(setup.peers, 0);
/// ```
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct Setup {
    /// Honest peers next to the node under test: 1 to 3.
    pub peers: u8,
    /// `Config::max_sessions`: 1 to 4.
    pub max_sessions: u8,
    /// `Config::max_held_per_sender`: 0 to 4.
    pub max_held_per_sender: u8,
    /// `Config::max_queued_outputs`: 1 to 64.
    pub max_queued_outputs: u8,
    /// `Config::nonce_memory`: 1 to 16.
    pub nonce_memory: u8,
    /// `Config::max_tracked_peers`: 1 to 4.
    pub max_tracked_peers: u8,
    /// `Config::key_aggregation_cache`: 0 to 2.
    pub key_aggregation_cache: u8,
    /// `Config::max_sequence_gap`: 1 to 128.
    pub max_sequence_gap: u8,
    /// Whether a peer told to broadcast confirms at once (else the failover runs).
    pub peers_confirm_broadcasts: bool,
    /// The node under test's random seed (every byte of it).
    pub rng_seed: u8,
}

/// One step of a run.
///
/// ```
/// use chorus_harness::fuzz::Op;
///
/// let op = Op::Advance { millis: 1_000 };
/// assert!(format!("{op:?}").contains("1000"));
/// ```
#[derive(Debug, Clone, Arbitrary)]
pub enum Op {
    /// Delivers one in-flight message (to its recipient, whoever that is).
    Deliver {
        /// Which one, modulo how many are in flight.
        pick: u8,
    },
    /// Delivers in-flight messages until none is left (or a bound is reached).
    DeliverAll,
    /// Loses one in-flight message.
    Drop {
        /// Which one, modulo how many are in flight.
        pick: u8,
    },
    /// Hands the node under test a message it already received, again.
    Resend {
        /// Which one, modulo how many it received.
        pick: u8,
        /// The transport peer it seems to come from.
        from: u8,
    },
    /// Hands the node under test a message it already received, with bytes changed.
    Mutate {
        /// Which one, modulo how many it received.
        pick: u8,
        /// `(position, xor mask)` pairs, positions modulo the length.
        edits: Vec<(u16, u8)>,
    },
    /// Hands the node under test arbitrary bytes.
    Raw {
        /// The transport peer they seem to come from.
        from: u8,
        /// Gossip (else a direct stream).
        gossip: bool,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Hands the node under test a well-formed envelope built from arbitrary fields and
    /// sealed by a known key.
    Crafted(Box<Crafted>),
    /// The node under test creates a session.
    Create(SessionChoice),
    /// A peer creates a session (which lists the node under test whenever it has other
    /// signers).
    PeerCreate {
        /// Which peer, modulo the number of peers.
        peer: u8,
        /// The session.
        session: SessionChoice,
    },
    /// The node under test joins a known session.
    Join {
        /// Which session, modulo the known ones (224 and up: an unknown id).
        session: u8,
        /// Manual progress (else automatic).
        manual: bool,
    },
    /// The node under test starts round 1 by hand.
    StartRound1 {
        /// Which session, modulo the known ones (224 and up: an unknown id).
        session: u8,
    },
    /// The node under test starts round 2 by hand.
    StartRound2 {
        /// Which session, modulo the known ones (224 and up: an unknown id).
        session: u8,
    },
    /// The node under test reports a broadcast.
    ConfirmBroadcast {
        /// Which session, modulo the known ones (224 and up: an unknown id).
        session: u8,
        /// The transaction id (any length: the node checks it).
        transaction_id: Vec<u8>,
    },
    /// The node under test closes a session.
    Close {
        /// Which session, modulo the known ones (224 and up: an unknown id).
        session: u8,
    },
    /// Time passes; every node runs its due timers.
    Advance {
        /// How long, in milliseconds.
        millis: u32,
    },
    /// Time jumps to the node under test's next deadline; every node runs its due timers.
    NextDeadline,
    /// The node under test is asked to run its timers without time passing.
    EarlyTimeout,
    /// The driver stops (or resumes) draining the node under test's outputs.
    Backlog {
        /// Stop draining (else resume, draining everything queued).
        on: bool,
    },
    /// The node under test (or a peer) advertises its key.
    Advertise {
        /// The advertiser: 0 is the node under test, else a peer (modulo the peers).
        node: u8,
        /// Bit 0: it signs "spend" transactions; bit 1: "swap" ones (neither: none).
        types: u8,
        /// How long the advertisement lives, in seconds.
        lifetime_s: u16,
    },
    /// The node under test withdraws its advertisement.
    Withdraw,
    /// The node under test looks for advertised signers.
    FindSigners {
        /// Bit 0: only "spend" signers; bit 1: only "swap" ones.
        types: u8,
    },
    /// The node under test (or a peer) announces a signing request.
    AnnounceRequest {
        /// The creator: 0 is the node under test, else a peer (modulo the peers).
        node: u8,
        /// The session the request asks for.
        session: SessionChoice,
        /// How long the request stays joinable, in seconds.
        lifetime_s: u16,
    },
    /// The node under test joins a signing request that needs its key.
    JoinRequest {
        /// Which, modulo the requests waiting for it.
        pick: u8,
        /// Manual progress in the session (else automatic).
        manual: bool,
    },
    /// The node under test blacklists a transport peer.
    Blacklist {
        /// The transport peer.
        peer: u8,
    },
    /// The node under test takes a transport peer off its blacklist.
    Unblacklist {
        /// The transport peer.
        peer: u8,
    },
    /// The node under test graylists a transport peer.
    Graylist {
        /// The transport peer.
        peer: u8,
        /// For how long, in seconds.
        seconds: u16,
    },
    /// Hands the node under test a discovery record built from arbitrary fields and
    /// signed by a known key.
    CraftedRecord(Box<CraftedRecord>),
}

/// A discovery record from arbitrary fields, signed by a known key.
///
/// ```
/// use arbitrary::{Arbitrary, Unstructured};
/// use chorus_harness::fuzz::CraftedRecord;
///
/// let record = CraftedRecord::arbitrary(&mut Unstructured::new(&[0; 64])).unwrap();
/// assert!(!record.gossip);
/// ```
#[derive(Debug, Clone, Arbitrary)]
pub struct CraftedRecord {
    /// Whose key signs it (modulo the known keys; key 0 is the node under test's own).
    pub signer: u8,
    /// The transport peer it seems to come from (and, unless `other_peer`, the peer the
    /// record names).
    pub from: u8,
    /// The record names another transport peer than the one delivering it.
    pub other_peer: bool,
    /// Its creation time, relative to the current time, in milliseconds (modulo ten
    /// minutes).
    pub time_offset_ms: i32,
    /// How long it lives, in seconds (beyond a day is refused).
    pub lifetime_s: u32,
    /// The record.
    pub record: RecordChoice,
    /// Gossip (else a direct stream).
    pub gossip: bool,
}

/// The kind of a crafted discovery record.
///
/// ```
/// use chorus_harness::fuzz::RecordChoice;
///
/// let withdrawal = RecordChoice::Withdrawal { types: 1 };
/// assert!(matches!(withdrawal, RecordChoice::Withdrawal { .. }));
/// ```
#[derive(Debug, Clone, Arbitrary)]
pub enum RecordChoice {
    /// An advertisement of the signer's key.
    Advertisement {
        /// Bit 0: "spend"; bit 1: "swap".
        types: u8,
    },
    /// The withdrawal of the advertisement with the same fields.
    Withdrawal {
        /// Bit 0: "spend"; bit 1: "swap".
        types: u8,
    },
    /// A signing request created by the signer.
    Request(SessionChoice),
    /// A join of a known request.
    Join {
        /// Which, modulo the known requests (none known: an unknown id).
        request: u8,
    },
}

/// A session to create, from small numbers.
///
/// ```
/// use arbitrary::{Arbitrary, Unstructured};
/// use chorus_harness::fuzz::SessionChoice;
///
/// let choice = SessionChoice::arbitrary(&mut Unstructured::new(&[1; 16])).unwrap();
/// assert_eq!(choice.others, 1);
/// ```
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct SessionChoice {
    /// Bit `i` lists key `i` besides the creator's (the node under test is key 0, peers
    /// follow, then one stranger key that no node holds).
    pub others: u8,
    /// Every byte of the message to sign.
    pub message: u8,
    /// Lotus (else BIP340).
    pub lotus: bool,
    /// The election method, modulo the number of methods.
    pub election: u8,
    /// Round 0 on.
    pub nonce_commitments: bool,
    /// Aggregator topology (else mesh).
    pub aggregator: bool,
    /// The broadcast timeout; values outside the allowed range test the refusal.
    pub broadcast_timeout_ms: u32,
    /// Manual progress for the creator.
    pub manual: bool,
}

/// A well-formed envelope from arbitrary fields, sealed by a known key.
///
/// ```
/// use arbitrary::{Arbitrary, Unstructured};
/// use chorus_harness::fuzz::Crafted;
///
/// let crafted = Crafted::arbitrary(&mut Unstructured::new(&[0; 64])).unwrap();
/// assert!(!crafted.forge_signature);
/// ```
#[derive(Debug, Clone, Arbitrary)]
pub struct Crafted {
    /// Whose key seals it (modulo the known keys; key 0 is the node under test's own).
    pub sender: u8,
    /// The transport peer it seems to come from.
    pub from: u8,
    /// Which session, modulo the known ones (224 and up, or none known: an unknown id).
    pub session: u8,
    /// The sequence number.
    pub sequence: SequenceChoice,
    /// The timestamp, relative to the current time, in milliseconds (modulo ten minutes).
    pub time_offset_ms: i32,
    /// The payload.
    pub payload: PayloadChoice,
    /// Replace the signature by garbage (refused unless built with `--cfg fuzzing`).
    pub forge_signature: bool,
    /// Gossip (else a direct stream).
    pub gossip: bool,
}

/// The sequence number of a crafted envelope.
///
/// ```
/// use chorus_harness::fuzz::SequenceChoice;
///
/// assert_ne!(SequenceChoice::Next, SequenceChoice::Exact(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum SequenceChoice {
    /// One past the highest the sender has used in the session so far.
    Next,
    /// The highest so far, moved by this much.
    Offset(i8),
    /// Exactly this number.
    Exact(u64),
}

/// The payload of a crafted envelope: every kind, with values that parse.
///
/// ```
/// use chorus_harness::fuzz::PayloadChoice;
///
/// let ready = PayloadChoice::Ready { coordinator: None };
/// assert!(matches!(ready, PayloadChoice::Ready { .. }));
/// ```
#[derive(Debug, Clone, Arbitrary)]
pub enum PayloadChoice {
    /// A session announcement.
    Announce(SessionChoice),
    /// A join.
    Join {
        /// Whose key it joins with (modulo the known keys); another key than the
        /// sender's is refused.
        key: u8,
    },
    /// A nonce commitment to the nonce `nonce_seed` makes.
    NonceCommit {
        /// The round-1 attempt (modulo 8).
        attempt: u8,
        /// Which nonce is committed to.
        nonce_seed: u8,
    },
    /// The nonce `nonce_seed` makes.
    NonceShare {
        /// The round-1 attempt (modulo 8).
        attempt: u8,
        /// Which nonce.
        nonce_seed: u8,
    },
    /// An aggregate nonce made from `nonce_seed`.
    AggregateNonce {
        /// The round-1 attempt (modulo 8).
        attempt: u8,
        /// Which nonce.
        nonce_seed: u8,
    },
    /// A partial signature.
    PartialSignature {
        /// The round-1 attempt (modulo 8).
        attempt: u8,
        /// The scalar (one if it is not below the group order).
        scalar: [u8; 32],
    },
    /// A final signature: the session's real one when the node under test has it, else
    /// these bytes.
    FinalSignature {
        /// Use the real signature when there is one.
        real: bool,
        /// Every byte of the other one.
        fill: u8,
    },
    /// An abort.
    Abort {
        /// The abort code, modulo the number of codes.
        reason: u8,
        /// The blamed signer.
        blamed: Option<u16>,
    },
    /// Session ready, naming `coordinator` (the elected one when `None`).
    Ready {
        /// The coordinator index.
        coordinator: Option<u16>,
    },
    /// A broadcast confirmation.
    Confirm {
        /// The transaction id (1 to 64 bytes are kept; empty becomes one byte).
        transaction_id: Vec<u8>,
    },
}
