//! The simulator's agenda: actions ordered by time, ties broken by insertion order.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::rc::Rc;

use chorus_core::wire::{Channel, SessionId};

use crate::trace::Origin;

/// One message in flight.
#[derive(Debug, Clone)]
pub(crate) struct Packet {
    pub(crate) id: u64,
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) channel: Channel,
    pub(crate) bytes: Rc<[u8]>,
    pub(crate) session: SessionId,
    pub(crate) origin: Origin,
    /// The network's second copy.
    pub(crate) duplicate: bool,
    /// The network made a second copy (set on both).
    pub(crate) duplicated: bool,
    pub(crate) must_reject: bool,
    pub(crate) sent_at: u64,
    pub(crate) fingerprint: u64,
}

/// Something that happens at a time.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Deliver(Packet),
    /// A node's deadline (the node may have moved it since: checked when it comes).
    Timer {
        node: usize,
        epoch: u32,
    },
    /// Create planned session number `n`.
    Create(usize),
    /// The application broadcasts the transaction and tells its node.
    Broadcast {
        node: usize,
        epoch: u32,
        session: SessionId,
    },
    /// The application starts round 1 or 2 by hand.
    Round {
        node: usize,
        epoch: u32,
        session: SessionId,
        round: u8,
    },
    Crash(usize),
    Restart(usize),
    Heal,
}

struct Entry {
    at: u64,
    order: u64,
    action: Action,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

/// The agenda. Timer entries do not count as pending work: nodes always have a timer.
#[derive(Default)]
pub(crate) struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    next_order: u64,
    pending: usize,
}

impl Queue {
    pub(crate) fn push(&mut self, at: u64, action: Action) {
        if !matches!(action, Action::Timer { .. }) {
            self.pending += 1;
        }
        self.heap.push(Reverse(Entry {
            at,
            order: self.next_order,
            action,
        }));
        self.next_order += 1;
    }

    pub(crate) fn pop(&mut self) -> Option<(u64, Action)> {
        let Reverse(entry) = self.heap.pop()?;
        if !matches!(entry.action, Action::Timer { .. }) {
            self.pending -= 1;
        }
        Some((entry.at, entry.action))
    }

    /// Actions other than timers still to run.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }
}
