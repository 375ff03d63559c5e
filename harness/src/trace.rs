//! What happened in a run: a SHA-256 over every transmitted message (its time, ends, length
//! and a 64-bit fingerprint of its bytes), every delivery and every event (the trace hash,
//! always on), and optionally the records themselves, written as JSON lines and rendered as
//! a sequence diagram.

use std::io::{self, Write};

use chorus_core::node::{AbortReason, Event};
use chorus_core::wire::{PayloadKind, SessionId};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::network::DropCause;
use crate::plan::RunPhase;

/// Who put a message on the network.
///
/// ```
/// use chorus_harness::Origin;
///
/// assert_eq!(serde_json::to_string(&Origin::Injected).unwrap(), "\"injected\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// An honest node's engine.
    Honest,
    /// A byzantine node's engine (maybe altered on the way out).
    Byzantine,
    /// A message a byzantine node made up (replays, floods, forgeries, ...).
    Injected,
}

/// One line of a trace. Times are simulated microseconds since the start of the run;
/// sessions are the first 8 hex digits of their id.
///
/// ```
/// use chorus_harness::{FaultPreset, Scenario, Sim, SimOptions, TraceRecord};
///
/// let scenario = Scenario { seed: 2, faults: FaultPreset::None, ..Scenario::default() };
/// let outcome = Sim::new(&scenario, SimOptions { trace: true, ..SimOptions::default() }).run();
/// let records = outcome.records.unwrap();
/// assert!(matches!(records[0], TraceRecord::Create { .. }));
/// assert!(records.iter().any(|record| matches!(record, TraceRecord::Heal { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TraceRecord {
    /// A session was created.
    Create {
        /// Time.
        t_us: u64,
        /// The creator.
        node: usize,
        /// The session.
        session: String,
        /// The signers (node indices).
        signers: Vec<usize>,
        /// `mesh` or `aggregator`.
        topology: String,
        /// The run phase it was created in.
        phase: RunPhase,
    },
    /// A message was sent; its fate follows in a `drop` or `deliver` record.
    Send {
        /// Time.
        t_us: u64,
        /// The message's number in the run.
        id: u64,
        /// The sender.
        from: usize,
        /// The receiver.
        to: usize,
        /// The session.
        session: String,
        /// The payload kind (or `undecodable`).
        kind: String,
        /// The round attempt, for round messages.
        attempt: Option<u32>,
        /// The envelope's sequence number.
        sequence: u64,
        /// The encoded size.
        size: usize,
        /// Who made it.
        origin: Origin,
    },
    /// The network lost a message.
    Drop {
        /// Time.
        t_us: u64,
        /// The message.
        id: u64,
        /// The sender.
        from: usize,
        /// The receiver.
        to: usize,
        /// Why.
        cause: DropCause,
    },
    /// A message arrived.
    Deliver {
        /// Time.
        t_us: u64,
        /// The message.
        id: u64,
        /// The sender.
        from: usize,
        /// The receiver.
        to: usize,
        /// Whether this is the network's duplicate.
        duplicate: bool,
        /// `accepted`, or the rejection kind.
        outcome: String,
    },
    /// A node emitted an event.
    Event {
        /// Time.
        t_us: u64,
        /// The node.
        node: usize,
        /// The session.
        session: String,
        /// The event's name.
        event: String,
        /// Its details.
        detail: String,
    },
    /// A node crashed and lost its memory.
    Crash {
        /// Time.
        t_us: u64,
        /// The node.
        node: usize,
    },
    /// A crashed node restarted as a fresh node with the same key.
    Restart {
        /// Time.
        t_us: u64,
        /// The node.
        node: usize,
    },
    /// The network healed: the liveness phase begins.
    Heal {
        /// Time.
        t_us: u64,
    },
    /// An invariant failed.
    Violation {
        /// Time.
        t_us: u64,
        /// The invariant's name.
        invariant: String,
        /// What was seen.
        detail: String,
    },
}

/// The first 8 hex digits of a session id.
pub(crate) fn short(session: &SessionId) -> String {
    hex::encode(&session.as_bytes()[..4])
}

/// The hash of a run, and its records when asked for.
#[derive(Debug, Clone)]
pub(crate) struct Trace {
    hasher: Sha256,
    records: Option<Vec<TraceRecord>>,
}

impl Trace {
    pub(crate) fn new(keep_records: bool) -> Self {
        Trace {
            hasher: Sha256::new(),
            records: keep_records.then(Vec::new),
        }
    }

    pub(crate) fn recording(&self) -> bool {
        self.records.is_some()
    }

    pub(crate) fn record(&mut self, record: impl FnOnce() -> TraceRecord) {
        if let Some(records) = &mut self.records {
            records.push(record());
        }
    }

    /// A message put on the network, represented by its length and 64-bit fingerprint:
    /// hashing every byte of every message cost more than the rest of the simulator's
    /// bookkeeping in an unoptimised build. The fingerprint changes whenever one word of a
    /// message changes, and otherwise collides as rarely as any 64-bit hash.
    pub(crate) fn hash_transmit(
        &mut self,
        (t_us, id): (u64, u64),
        (from, to): (usize, usize),
        size: usize,
        fingerprint: u64,
    ) {
        self.hasher.update(b"T");
        self.hash_numbers(&[t_us, id, from as u64, to as u64, size as u64, fingerprint]);
    }

    pub(crate) fn hash_fate(&mut self, t_us: u64, id: u64, outcome: &str) {
        self.hasher.update(b"F");
        self.hash_numbers(&[t_us, id]);
        self.hasher.update(outcome.as_bytes());
    }

    pub(crate) fn hash_event(&mut self, t_us: u64, node: usize, event: &Event) {
        self.hasher.update(b"E");
        self.hash_numbers(&[t_us, node as u64]);
        self.hasher.update(event.session().as_bytes());
        self.hasher.update(event_name(event).as_bytes());
        match event {
            Event::SessionComplete { signature, .. } | Event::ShouldBroadcast { signature, .. } => {
                self.hasher.update(signature.to_bytes());
            }
            Event::CoordinatorElected { coordinator, .. } => {
                self.hasher.update(coordinator.serialize());
            }
            Event::BroadcastConfirmed { transaction_id, .. } => {
                self.hasher.update(transaction_id);
            }
            _ => {}
        }
        self.hasher.update(event_detail(event).as_bytes());
    }

    pub(crate) fn hash_marker(&mut self, t_us: u64, marker: &str, node: usize) {
        self.hasher.update(b"M");
        self.hash_numbers(&[t_us, node as u64]);
        self.hasher.update(marker.as_bytes());
    }

    fn hash_numbers(&mut self, numbers: &[u64]) {
        for number in numbers {
            self.hasher.update(number.to_be_bytes());
        }
    }

    pub(crate) fn finish(self) -> ([u8; 32], Option<Vec<TraceRecord>>) {
        (self.hasher.finalize().into(), self.records)
    }
}

/// Writes `records` as JSON lines.
///
/// # Errors
///
/// Any error of `out`.
///
/// ```
/// use chorus_harness::{write_json_lines, TraceRecord};
///
/// let mut out = Vec::new();
/// write_json_lines(&[TraceRecord::Heal { t_us: 5 }], &mut out).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "{\"type\":\"heal\",\"t_us\":5}\n");
/// ```
pub fn write_json_lines(records: &[TraceRecord], out: &mut dyn Write) -> io::Result<()> {
    for record in records {
        serde_json::to_writer(&mut *out, record)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The event's name in traces.
pub(crate) fn event_name(event: &Event) -> &'static str {
    match event {
        Event::SessionCreated { .. } => "session_created",
        Event::SessionAnnounced { .. } => "session_announced",
        Event::ParticipantJoined { .. } => "participant_joined",
        Event::SessionReady { .. } => "session_ready",
        Event::CoordinatorElected { .. } => "coordinator_elected",
        Event::NonceCommitmentsComplete { .. } => "nonce_commitments_complete",
        Event::NoncesComplete { .. } => "nonces_complete",
        Event::PartialSignaturesComplete { .. } => "partial_signatures_complete",
        Event::SessionComplete { .. } => "session_complete",
        Event::ShouldBroadcast { .. } => "should_broadcast",
        Event::CoordinatorFailed { .. } => "coordinator_failed",
        Event::FailoverExhausted { .. } => "failover_exhausted",
        Event::BroadcastConfirmed { .. } => "broadcast_confirmed",
        Event::AggregatorFailed { .. } => "aggregator_failed",
        Event::SessionAborted { .. } => "session_aborted",
        Event::SessionClosed { .. } => "session_closed",
        Event::SessionExpired { .. } => "session_expired",
        _ => "other",
    }
}

/// The event's details in traces (no secrets exist in events; keys are shortened).
pub(crate) fn event_detail(event: &Event) -> String {
    match event {
        Event::ParticipantJoined { signer, .. } => format!("signer {signer}"),
        Event::CoordinatorElected { signer, .. } => format!("signer {signer}"),
        Event::NonceCommitmentsComplete { attempt, .. }
        | Event::NoncesComplete { attempt, .. }
        | Event::ShouldBroadcast { attempt, .. }
        | Event::CoordinatorFailed { attempt, .. }
        | Event::AggregatorFailed { attempt, .. } => format!("attempt {attempt}"),
        Event::BroadcastConfirmed { signer, .. } => format!("by signer {signer}"),
        Event::SessionAborted { reason, .. } => abort_detail(reason),
        _ => String::new(),
    }
}

fn abort_detail(reason: &AbortReason) -> String {
    match reason {
        AbortReason::Blame { signer, .. } => format!("blame signer {signer} ({})", reason.code()),
        AbortReason::PeerAborted {
            signer,
            code,
            blamed_signer,
        } => match blamed_signer {
            Some(blamed) => format!("signer {signer} aborted: {code}, blames {blamed}"),
            None => format!("signer {signer} aborted: {code}"),
        },
        other => other.code().to_string(),
    }
}

/// A payload kind's name in traces.
pub(crate) fn kind_name(kind: PayloadKind) -> String {
    kind.to_string().replace(' ', "_")
}
