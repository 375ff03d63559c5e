//! Timers as data: what is due when, kept in a table the driver polls.
//!
//! The core has no clock. Whatever should happen later is a [`TimerKind`] with a deadline
//! in a [`TimerTable`]; the driver asks for the earliest deadline ([`TimerTable::next`]),
//! sleeps until then, and hands the time back in, where [`TimerTable::expired`] yields
//! what is due. An early wake-up finds nothing due and changes nothing.

use queue::TimerQueue;

use crate::time::Timestamp;
use crate::wire::SessionId;

/// Something the core wants to be woken up for.
///
/// Each kind is also the timer's key: a table holds at most one deadline per kind, so
/// re-arming a kind moves its deadline. Kinds order by variant, then by their fields, which
/// makes the order of timers that share a deadline deterministic.
///
/// ```
/// use chorus_core::timer::TimerKind;
/// use chorus_core::wire::SessionId;
///
/// let session = SessionId([1; 32]);
/// let timeout = TimerKind::BroadcastTimeout { session, attempt: 2 };
/// assert_eq!(timeout.session(), Some(&session));
/// assert_eq!(TimerKind::Cleanup.session(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum TimerKind {
    /// The session reaches the end of its lifetime (default 2 h) and expires.
    SessionExpiry {
        /// The session.
        session: SessionId,
    },
    /// Time to check whether the session has made progress lately (default: none for
    /// 10 min aborts it).
    StuckSessionCheck {
        /// The session.
        session: SessionId,
    },
    /// The coordinator of failover `attempt` had its time (default 5 min) to broadcast
    /// and no confirmation came: move on to the next one.
    BroadcastTimeout {
        /// The session.
        session: SessionId,
        /// Which coordinator in the priority list (0 = the elected one).
        attempt: u32,
    },
    /// The aggregator of round-1 `attempt` (aggregator topology) had its time to return the
    /// final signature and did not: restart round 1 with fresh nonces under the next one.
    AggregatorTimeout {
        /// The session.
        session: SessionId,
        /// Which aggregator in the priority list (0 = the elected one).
        attempt: u32,
    },
    /// The periodic sweep of expired requests, adverts and sessions (default every 60 s).
    Cleanup,
}

impl TimerKind {
    /// The session this timer belongs to, if any.
    ///
    /// ```
    /// use chorus_core::timer::TimerKind;
    /// use chorus_core::wire::SessionId;
    ///
    /// let session = SessionId([3; 32]);
    /// assert_eq!(TimerKind::SessionExpiry { session }.session(), Some(&session));
    /// ```
    pub fn session(&self) -> Option<&SessionId> {
        match self {
            TimerKind::SessionExpiry { session }
            | TimerKind::StuckSessionCheck { session }
            | TimerKind::BroadcastTimeout { session, .. }
            | TimerKind::AggregatorTimeout { session, .. } => Some(session),
            TimerKind::Cleanup => None,
        }
    }
}

/// The table is at its capacity and the timer is a new one.
///
/// ```
/// use chorus_core::time::Timestamp;
/// use chorus_core::timer::{TimerKind, TimerTable, TimerTableFull};
///
/// let mut table = TimerTable::new(0);
/// assert_eq!(
///     table.set(TimerKind::Cleanup, Timestamp::from_millis(1)),
///     Err(TimerTableFull { capacity: 0 })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("timer table is full ({capacity} timers)")]
pub struct TimerTableFull {
    /// The table's capacity.
    pub capacity: usize,
}

/// Pending timers, at most one per [`TimerKind`], bounded in number.
///
/// Two ordered maps (by kind, and by deadline then kind) make every operation logarithmic
/// and every iteration deterministic.
///
/// ```
/// use chorus_core::time::Timestamp;
/// use chorus_core::timer::{TimerKind, TimerTable};
/// use chorus_core::wire::SessionId;
///
/// let session = SessionId([1; 32]);
/// let mut table = TimerTable::new(16);
/// table.set(TimerKind::Cleanup, Timestamp::from_millis(60_000))?;
/// table.set(TimerKind::SessionExpiry { session }, Timestamp::from_millis(7_200_000))?;
/// table.set(TimerKind::StuckSessionCheck { session }, Timestamp::from_millis(600_000))?;
/// assert_eq!(table.next(), Some((Timestamp::from_millis(60_000), TimerKind::Cleanup)));
///
/// // Closing the session drops its timers; the cleanup sweep stays.
/// assert_eq!(table.cancel_session(&session), 2);
/// assert_eq!(
///     table.expired(Timestamp::from_millis(10_000_000)),
///     vec![(Timestamp::from_millis(60_000), TimerKind::Cleanup)]
/// );
/// assert!(table.is_empty());
/// # Ok::<(), chorus_core::timer::TimerTableFull>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerTable {
    queue: TimerQueue,
    capacity: usize,
}

impl TimerTable {
    /// An empty table that holds at most `capacity` timers.
    ///
    /// ```
    /// use chorus_core::timer::TimerTable;
    ///
    /// let table = TimerTable::new(128);
    /// assert!(table.is_empty());
    /// assert_eq!(table.capacity(), 128);
    /// ```
    pub fn new(capacity: usize) -> Self {
        TimerTable {
            queue: TimerQueue::default(),
            capacity,
        }
    }

    /// The most timers the table holds.
    ///
    /// ```
    /// use chorus_core::timer::TimerTable;
    ///
    /// assert_eq!(TimerTable::new(3).capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many timers are pending.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::timer::{TimerKind, TimerTable};
    ///
    /// let mut table = TimerTable::new(3);
    /// table.set(TimerKind::Cleanup, Timestamp::from_millis(1)).unwrap();
    /// assert_eq!(table.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no timer is pending.
    ///
    /// ```
    /// use chorus_core::timer::TimerTable;
    ///
    /// assert!(TimerTable::new(3).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.queue.len() == 0
    }

    /// Arms `kind` to fire at `deadline`, replacing (and returning) its previous deadline.
    ///
    /// Re-arming an existing kind always succeeds, even in a full table.
    ///
    /// # Errors
    ///
    /// [`TimerTableFull`] when `kind` is not pending and the table is at capacity; the
    /// table is unchanged.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::timer::{TimerKind, TimerTable};
    ///
    /// let mut table = TimerTable::new(1);
    /// assert_eq!(table.set(TimerKind::Cleanup, Timestamp::from_millis(5)), Ok(None));
    /// assert_eq!(
    ///     table.set(TimerKind::Cleanup, Timestamp::from_millis(9)),
    ///     Ok(Some(Timestamp::from_millis(5)))
    /// );
    /// assert_eq!(table.deadline(&TimerKind::Cleanup), Some(Timestamp::from_millis(9)));
    /// ```
    pub fn set(
        &mut self,
        kind: TimerKind,
        deadline: Timestamp,
    ) -> Result<Option<Timestamp>, TimerTableFull> {
        if self.queue.deadline(&kind).is_none() && self.queue.len() >= self.capacity {
            return Err(TimerTableFull {
                capacity: self.capacity,
            });
        }
        Ok(self.queue.insert(kind, deadline))
    }

    /// Disarms `kind`, returning the deadline it had.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::timer::{TimerKind, TimerTable};
    ///
    /// let mut table = TimerTable::new(1);
    /// table.set(TimerKind::Cleanup, Timestamp::from_millis(5)).unwrap();
    /// assert_eq!(table.cancel(&TimerKind::Cleanup), Some(Timestamp::from_millis(5)));
    /// assert_eq!(table.cancel(&TimerKind::Cleanup), None);
    /// ```
    pub fn cancel(&mut self, kind: &TimerKind) -> Option<Timestamp> {
        self.queue.remove(kind)
    }

    /// Disarms every timer of `session`, returning how many there were.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::timer::{TimerKind, TimerTable};
    /// use chorus_core::wire::SessionId;
    ///
    /// let (mine, other) = (SessionId([1; 32]), SessionId([2; 32]));
    /// let mut table = TimerTable::new(8);
    /// for attempt in 0..3 {
    ///     let at = Timestamp::from_millis(u64::from(attempt));
    ///     table.set(TimerKind::BroadcastTimeout { session: mine, attempt }, at).unwrap();
    /// }
    /// table.set(TimerKind::SessionExpiry { session: other }, Timestamp::from_millis(9)).unwrap();
    /// assert_eq!(table.cancel_session(&mine), 3);
    /// assert_eq!(table.len(), 1);
    /// ```
    pub fn cancel_session(&mut self, session: &SessionId) -> usize {
        self.queue
            .remove_where(|kind| kind.session() == Some(session))
    }

    /// When `kind` fires, if it is armed.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::timer::{TimerKind, TimerTable};
    ///
    /// let mut table = TimerTable::new(1);
    /// assert_eq!(table.deadline(&TimerKind::Cleanup), None);
    /// table.set(TimerKind::Cleanup, Timestamp::from_millis(5)).unwrap();
    /// assert_eq!(table.deadline(&TimerKind::Cleanup), Some(Timestamp::from_millis(5)));
    /// ```
    pub fn deadline(&self, kind: &TimerKind) -> Option<Timestamp> {
        self.queue.deadline(kind)
    }

    /// The earliest pending timer (ties broken by kind order): when to call back.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::timer::{TimerKind, TimerTable};
    /// use chorus_core::wire::SessionId;
    ///
    /// let session = SessionId([1; 32]);
    /// let mut table = TimerTable::new(2);
    /// assert_eq!(table.next(), None);
    /// table.set(TimerKind::Cleanup, Timestamp::from_millis(9)).unwrap();
    /// table.set(TimerKind::StuckSessionCheck { session }, Timestamp::from_millis(4)).unwrap();
    /// assert_eq!(
    ///     table.next(),
    ///     Some((Timestamp::from_millis(4), TimerKind::StuckSessionCheck { session }))
    /// );
    /// ```
    pub fn next(&self) -> Option<(Timestamp, TimerKind)> {
        self.queue.first()
    }

    /// Removes and returns the earliest timer if it is due at `now` (deadline ≤ `now`).
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::timer::{TimerKind, TimerTable};
    ///
    /// let mut table = TimerTable::new(1);
    /// table.set(TimerKind::Cleanup, Timestamp::from_millis(5)).unwrap();
    /// assert_eq!(table.pop_expired(Timestamp::from_millis(4)), None);
    /// assert_eq!(
    ///     table.pop_expired(Timestamp::from_millis(5)),
    ///     Some((Timestamp::from_millis(5), TimerKind::Cleanup))
    /// );
    /// ```
    pub fn pop_expired(&mut self, now: Timestamp) -> Option<(Timestamp, TimerKind)> {
        match self.queue.first() {
            Some((deadline, kind)) if deadline <= now => {
                self.queue.remove(&kind);
                Some((deadline, kind))
            }
            _ => None,
        }
    }

    /// Removes and returns every timer due at `now`, by deadline, then kind.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::timer::{TimerKind, TimerTable};
    /// use chorus_core::wire::SessionId;
    ///
    /// let session = SessionId([1; 32]);
    /// let mut table = TimerTable::new(4);
    /// table.set(TimerKind::Cleanup, Timestamp::from_millis(30)).unwrap();
    /// table.set(TimerKind::SessionExpiry { session }, Timestamp::from_millis(10)).unwrap();
    /// table.set(TimerKind::StuckSessionCheck { session }, Timestamp::from_millis(99)).unwrap();
    /// let due: Vec<TimerKind> = table
    ///     .expired(Timestamp::from_millis(30))
    ///     .into_iter()
    ///     .map(|(_, kind)| kind)
    ///     .collect();
    /// assert_eq!(due, vec![TimerKind::SessionExpiry { session }, TimerKind::Cleanup]);
    /// assert_eq!(table.len(), 1);
    /// ```
    pub fn expired(&mut self, now: Timestamp) -> Vec<(Timestamp, TimerKind)> {
        core::iter::from_fn(|| self.pop_expired(now)).collect()
    }

    /// Every pending timer, by deadline, then kind.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::timer::{TimerKind, TimerTable};
    ///
    /// let mut table = TimerTable::new(4);
    /// table.set(TimerKind::Cleanup, Timestamp::from_millis(5)).unwrap();
    /// assert_eq!(table.iter().count(), 1);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (Timestamp, TimerKind)> + '_ {
        self.queue.iter()
    }
}

/// The two indexes of the table, kept in step by the only code that touches them.
mod queue {
    use std::collections::{BTreeMap, BTreeSet};

    use super::TimerKind;
    use crate::time::Timestamp;

    /// Deadlines by kind, and the same entries ordered by (deadline, kind).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub(super) struct TimerQueue {
        by_kind: BTreeMap<TimerKind, Timestamp>,
        by_deadline: BTreeSet<(Timestamp, TimerKind)>,
    }

    impl TimerQueue {
        pub(super) fn len(&self) -> usize {
            self.by_kind.len()
        }

        pub(super) fn deadline(&self, kind: &TimerKind) -> Option<Timestamp> {
            self.by_kind.get(kind).copied()
        }

        pub(super) fn first(&self) -> Option<(Timestamp, TimerKind)> {
            self.by_deadline.first().copied()
        }

        pub(super) fn iter(&self) -> impl Iterator<Item = (Timestamp, TimerKind)> + '_ {
            self.by_deadline.iter().copied()
        }

        pub(super) fn insert(&mut self, kind: TimerKind, deadline: Timestamp) -> Option<Timestamp> {
            let previous = self.by_kind.insert(kind, deadline);
            if let Some(old) = previous {
                self.by_deadline.remove(&(old, kind));
            }
            self.by_deadline.insert((deadline, kind));
            previous
        }

        pub(super) fn remove(&mut self, kind: &TimerKind) -> Option<Timestamp> {
            let deadline = self.by_kind.remove(kind)?;
            self.by_deadline.remove(&(deadline, *kind));
            Some(deadline)
        }

        pub(super) fn remove_where(&mut self, mut doomed: impl FnMut(&TimerKind) -> bool) -> usize {
            let before = self.by_kind.len();
            let by_deadline = &mut self.by_deadline;
            self.by_kind.retain(|kind, deadline| {
                if doomed(kind) {
                    by_deadline.remove(&(*deadline, *kind));
                    false
                } else {
                    true
                }
            });
            before - self.by_kind.len()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn kind_strategy() -> impl Strategy<Value = TimerKind> {
        // Few sessions and attempts, so operations collide on the same kinds often.
        let session = (0u8..4).prop_map(|byte| SessionId([byte; 32]));
        prop_oneof![
            session
                .clone()
                .prop_map(|session| TimerKind::SessionExpiry { session }),
            session
                .clone()
                .prop_map(|session| TimerKind::StuckSessionCheck { session }),
            (session.clone(), 0u32..3)
                .prop_map(|(session, attempt)| TimerKind::BroadcastTimeout { session, attempt }),
            (session.clone(), 0u32..3)
                .prop_map(|(session, attempt)| TimerKind::AggregatorTimeout { session, attempt }),
            Just(TimerKind::Cleanup),
        ]
    }

    #[derive(Debug, Clone)]
    enum Operation {
        Set(TimerKind, u64),
        Cancel(TimerKind),
        CancelSession(u8),
        Expire(u64),
    }

    fn operation_strategy() -> impl Strategy<Value = Operation> {
        prop_oneof![
            4 => (kind_strategy(), 0u64..1_000).prop_map(|(kind, at)| Operation::Set(kind, at)),
            1 => kind_strategy().prop_map(Operation::Cancel),
            1 => (0u8..4).prop_map(Operation::CancelSession),
            1 => (0u64..1_000).prop_map(Operation::Expire),
        ]
    }

    /// The table's behaviour, written the slow and obvious way.
    fn model_expired(
        model: &mut BTreeMap<TimerKind, Timestamp>,
        now: Timestamp,
    ) -> Vec<(Timestamp, TimerKind)> {
        let mut due: Vec<(Timestamp, TimerKind)> = model
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(kind, deadline)| (*deadline, *kind))
            .collect();
        due.sort();
        model.retain(|_, deadline| *deadline > now);
        due
    }

    proptest! {
        #[test]
        fn table_matches_a_sorted_model(
            capacity in 0usize..12,
            operations in proptest::collection::vec(operation_strategy(), 0..80),
        ) {
            let mut table = TimerTable::new(capacity);
            let mut model: BTreeMap<TimerKind, Timestamp> = BTreeMap::new();
            for operation in operations {
                match operation {
                    Operation::Set(kind, at) => {
                        let at = Timestamp::from_millis(at);
                        let result = table.set(kind, at);
                        if model.contains_key(&kind) || model.len() < capacity {
                            prop_assert_eq!(result, Ok(model.insert(kind, at)));
                        } else {
                            prop_assert_eq!(result, Err(TimerTableFull { capacity }));
                        }
                    }
                    Operation::Cancel(kind) => {
                        prop_assert_eq!(table.cancel(&kind), model.remove(&kind));
                    }
                    Operation::CancelSession(byte) => {
                        let session = SessionId([byte; 32]);
                        let before = model.len();
                        model.retain(|kind, _| kind.session() != Some(&session));
                        prop_assert_eq!(table.cancel_session(&session), before - model.len());
                    }
                    Operation::Expire(now) => {
                        let now = Timestamp::from_millis(now);
                        let expected = model_expired(&mut model, now);
                        prop_assert!(expected.iter().all(|(deadline, _)| *deadline <= now));
                        prop_assert_eq!(table.expired(now), expected);
                    }
                }
                let minimum = model.iter().map(|(kind, deadline)| (*deadline, *kind)).min();
                prop_assert_eq!(table.next(), minimum);
                prop_assert_eq!(table.len(), model.len());
                prop_assert!(table.len() <= capacity);
                let mut listed: Vec<_> = model.iter().map(|(kind, at)| (*at, *kind)).collect();
                listed.sort();
                prop_assert_eq!(table.iter().collect::<Vec<_>>(), listed);
            }
        }
    }

    #[test]
    fn timers_sharing_a_deadline_fire_in_kind_order() {
        let at = Timestamp::from_millis(10);
        let session = SessionId([1; 32]);
        let mut table = TimerTable::new(8);
        table.set(TimerKind::Cleanup, at).unwrap();
        table
            .set(
                TimerKind::BroadcastTimeout {
                    session,
                    attempt: 1,
                },
                at,
            )
            .unwrap();
        table.set(TimerKind::SessionExpiry { session }, at).unwrap();
        let kinds: Vec<TimerKind> = table
            .expired(at)
            .into_iter()
            .map(|(_, kind)| kind)
            .collect();
        assert_eq!(
            kinds,
            vec![
                TimerKind::SessionExpiry { session },
                TimerKind::BroadcastTimeout {
                    session,
                    attempt: 1
                },
                TimerKind::Cleanup,
            ]
        );
    }

    #[test]
    fn early_expiry_check_changes_nothing() {
        let mut table = TimerTable::new(2);
        table
            .set(TimerKind::Cleanup, Timestamp::from_millis(100))
            .unwrap();
        let before = table.clone();
        assert!(table.expired(Timestamp::from_millis(99)).is_empty());
        assert_eq!(table, before);
    }

    #[test]
    fn rearming_in_a_full_table_succeeds_and_moves_the_deadline() {
        let mut table = TimerTable::new(1);
        table
            .set(TimerKind::Cleanup, Timestamp::from_millis(100))
            .unwrap();
        let session = SessionId([2; 32]);
        assert_eq!(
            table.set(
                TimerKind::SessionExpiry { session },
                Timestamp::from_millis(1)
            ),
            Err(TimerTableFull { capacity: 1 })
        );
        assert_eq!(
            table.set(TimerKind::Cleanup, Timestamp::from_millis(50)),
            Ok(Some(Timestamp::from_millis(100)))
        );
        assert_eq!(
            table.next(),
            Some((Timestamp::from_millis(50), TimerKind::Cleanup))
        );
        assert_eq!(table.len(), 1);
    }
}
