//! The session-independent inbound checks: clock skew, the per-sender replay window, and
//! the per-peer rejection counters.

use std::collections::{BTreeMap, BTreeSet};

use core::time::Duration;

use crate::time::Timestamp;
use crate::wire::Sequence;

use super::error::{Rejection, RejectionKind};
use super::event::PeerId;

/// Refuses a message whose timestamp is more than `max` away from `now`.
pub(crate) fn check_skew(now: Timestamp, got: Timestamp, max: Duration) -> Result<(), Rejection> {
    if now.abs_diff(got) > max {
        Err(Rejection::ClockSkew { now, got, max })
    } else {
        Ok(())
    }
}

/// One sender's sequence numbers in one session: every number is accepted once.
///
/// SPEC §3 asks for strictly increasing sequence numbers. Taken literally, a message
/// overtaken by a later one from the same sender would be refused, and transports
/// (gossip, parallel streams) reorder. So the node keeps, like IPsec and DTLS, the highest
/// number seen and a 64-wide window below it: a number is accepted if it is above the
/// highest (by at most the maximum gap) or inside the window and not seen yet. Replays are
/// refused exactly as before; only honest reordering gets through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReplayWindow {
    highest: u64,
    /// Bit `i` set: `highest - i` was seen.
    seen: u64,
}

impl ReplayWindow {
    const WIDTH: u64 = 64;

    /// Whether `sequence` would be accepted; changes nothing.
    pub(crate) fn check(&self, sequence: Sequence, max_gap: u64) -> Result<(), Rejection> {
        let got = sequence.0;
        if got > self.highest {
            if got - self.highest > max_gap {
                return Err(Rejection::SequenceGap {
                    highest: Sequence(self.highest),
                    got: sequence,
                    max_gap,
                });
            }
            return Ok(());
        }
        let back = self.highest - got;
        if got == 0 || back >= Self::WIDTH || self.seen & (1 << back) != 0 {
            return Err(Rejection::Replay { sequence });
        }
        Ok(())
    }

    /// Marks `sequence` as seen (after [`ReplayWindow::check`] accepted it).
    pub(crate) fn record(&mut self, sequence: Sequence) {
        let got = sequence.0;
        if got > self.highest {
            let shift = got - self.highest;
            self.seen = if shift >= Self::WIDTH {
                0
            } else {
                self.seen << shift
            };
            self.seen |= 1;
            self.highest = got;
        } else {
            let back = self.highest - got;
            if back < Self::WIDTH {
                self.seen |= 1 << back;
            }
        }
    }
}

/// How many messages from one peer were rejected, by kind.
///
/// ```
/// use chorus_core::node::{PeerRejections, RejectionKind};
///
/// let counters = PeerRejections::default();
/// assert_eq!(counters.total(), 0);
/// assert_eq!(counters.count(RejectionKind::BadSignature), 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerRejections {
    total: u64,
    by_kind: BTreeMap<RejectionKind, u64>,
}

impl PeerRejections {
    /// Rejections of every kind.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Rejections of one kind.
    pub fn count(&self, kind: RejectionKind) -> u64 {
        self.by_kind.get(&kind).copied().unwrap_or(0)
    }

    /// Every kind with a non-zero count.
    pub fn iter(&self) -> impl Iterator<Item = (RejectionKind, u64)> + '_ {
        self.by_kind.iter().map(|(kind, count)| (*kind, *count))
    }

    fn record(&mut self, kind: RejectionKind) {
        self.total = self.total.saturating_add(1);
        let count = self.by_kind.entry(kind).or_insert(0);
        *count = count.saturating_add(1);
    }
}

/// Rejection counters for at most `capacity` peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RejectionCounters {
    peers: BTreeMap<PeerId, PeerRejections>,
    /// The same peers by (total, id): the first is the one to forget when the table is
    /// full, found without scanning every peer (a flood from ever new peer ids would
    /// otherwise cost a full scan per rejection).
    by_total: BTreeSet<(u64, PeerId)>,
    capacity: usize,
}

impl RejectionCounters {
    pub(crate) fn new(capacity: usize) -> Self {
        RejectionCounters {
            peers: BTreeMap::new(),
            by_total: BTreeSet::new(),
            capacity: capacity.max(1),
        }
    }

    /// Counts a rejection against `peer`; when a new peer finds the table full, the peer
    /// with the fewest rejections (the least suspicious; the smallest id among equals) is
    /// forgotten to make room.
    pub(crate) fn record(&mut self, peer: &PeerId, kind: RejectionKind) {
        let known = self.peers.get(peer).map(PeerRejections::total);
        match known {
            Some(total) => {
                self.by_total.remove(&(total, peer.clone()));
            }
            None if self.peers.len() >= self.capacity => {
                if let Some((_, least)) = self.by_total.pop_first() {
                    self.peers.remove(&least);
                }
            }
            None => {}
        }
        let counters = self.peers.entry(peer.clone()).or_default();
        counters.record(kind);
        self.by_total.insert((counters.total, peer.clone()));
    }

    pub(crate) fn get(&self, peer: &PeerId) -> Option<&PeerRejections> {
        self.peers.get(peer)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_reordered_numbers_once_each() {
        let mut window = ReplayWindow::default();
        for got in [3u64, 1, 2, 5, 4] {
            assert_eq!(window.check(Sequence(got), 100), Ok(()));
            window.record(Sequence(got));
        }
        for got in 1u64..=5 {
            assert_eq!(
                window.check(Sequence(got), 100),
                Err(Rejection::Replay {
                    sequence: Sequence(got)
                })
            );
        }
    }

    #[test]
    fn rejects_sequence_gap_over_limit() {
        let mut window = ReplayWindow::default();
        assert!(window.check(Sequence(100), 100).is_ok());
        assert_eq!(
            window.check(Sequence(101), 100),
            Err(Rejection::SequenceGap {
                highest: Sequence(0),
                got: Sequence(101),
                max_gap: 100
            })
        );
        window.record(Sequence(100));
        assert!(window.check(Sequence(200), 100).is_ok());
    }

    #[test]
    fn rejects_zero_and_numbers_below_the_window() {
        let mut window = ReplayWindow::default();
        assert!(window.check(Sequence(0), 100).is_err());
        window.record(Sequence(70));
        assert!(window.check(Sequence(7), 100).is_ok());
        assert!(window.check(Sequence(6), 100).is_err());
    }

    #[test]
    fn keeps_its_order_index_in_step_with_the_counters() {
        let mut counters = RejectionCounters::new(3);
        for byte in [5u8, 1, 5, 2, 9, 1, 5, 7, 3] {
            counters.record(&PeerId::new([byte]), RejectionKind::Replay);
            assert!(counters.peers.len() <= 3);
            let index: Vec<(u64, PeerId)> = counters
                .peers
                .iter()
                .map(|(peer, counts)| (counts.total(), peer.clone()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            assert_eq!(counters.by_total.iter().cloned().collect::<Vec<_>>(), index);
        }
        // Peer 5 (three rejections) survives every eviction; among peers with one, the
        // smallest id went first each time.
        assert_eq!(
            counters.get(&PeerId::new([5])).map(PeerRejections::total),
            Some(3)
        );
        let kept: Vec<&PeerId> = counters.peers.keys().collect();
        assert_eq!(
            kept,
            [&PeerId::new([3]), &PeerId::new([5]), &PeerId::new([9])]
        );
    }

    #[test]
    fn forgets_the_least_rejected_peer_when_full() {
        let mut counters = RejectionCounters::new(2);
        let (a, b, c) = (PeerId::new([1]), PeerId::new([2]), PeerId::new([3]));
        counters.record(&a, RejectionKind::Replay);
        counters.record(&a, RejectionKind::Replay);
        counters.record(&b, RejectionKind::BadSignature);
        counters.record(&c, RejectionKind::Decode);
        assert_eq!(counters.get(&a).map(PeerRejections::total), Some(2));
        assert!(counters.get(&b).is_none());
        assert_eq!(
            counters
                .get(&c)
                .map(|peer| peer.count(RejectionKind::Decode)),
            Some(1)
        );
    }

    proptest! {
        #[test]
        fn window_matches_a_set_of_seen_numbers(numbers in proptest::collection::vec(1u64..200, 0..60)) {
            let mut window = ReplayWindow::default();
            let mut seen = std::collections::BTreeSet::new();
            let mut highest = 0u64;
            for got in numbers {
                let expected_ok = if got > highest {
                    got - highest <= 100
                } else {
                    highest - got < 64 && !seen.contains(&got)
                };
                let result = window.check(Sequence(got), 100);
                prop_assert_eq!(result.is_ok(), expected_ok);
                if expected_ok {
                    window.record(Sequence(got));
                    seen.insert(got);
                    highest = highest.max(got);
                }
            }
        }
    }
}
