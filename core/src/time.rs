//! Wall-clock time as the core sees it: milliseconds since the Unix epoch, handed in by the
//! caller with every input.
//!
//! The core never reads a clock. A driver passes the current [`Timestamp`] into every call
//! that can change state, and the core compares it with deadlines and message timestamps.
//! Spans of time are [`core::time::Duration`]s, counted in whole milliseconds here.

use core::fmt;
use core::time::Duration;

use serde::{Deserialize, Serialize};

/// A point in time: milliseconds since the Unix epoch (1970-01-01T00:00:00Z).
///
/// The only notion of time in the core. Arithmetic takes [`Duration`]s, which are cut to
/// whole milliseconds (rounded down) before they are applied, and never panics: it either
/// reports an overflow (`checked_*`) or stops at the ends of the range (`saturating_*`).
///
/// On the wire a timestamp is a postcard varint of the millisecond count.
///
/// ```
/// use chorus_core::time::Timestamp;
/// use std::time::Duration;
///
/// let sent = Timestamp::from_millis(1_700_000_000_000);
/// let received = sent.checked_add(Duration::from_secs(2)).unwrap();
/// assert_eq!(received.as_millis(), 1_700_000_002_000);
/// assert_eq!(received.abs_diff(sent), Duration::from_secs(2));
/// assert!(sent < received);
/// assert_eq!(sent.to_string(), "1700000000000ms");
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch itself, millisecond 0.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    ///
    /// assert_eq!(Timestamp::UNIX_EPOCH.as_millis(), 0);
    /// assert_eq!(Timestamp::UNIX_EPOCH, Timestamp::default());
    /// ```
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);

    /// The latest representable time, where saturating arithmetic stops.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use std::time::Duration;
    ///
    /// assert_eq!(Timestamp::MAX.saturating_add(Duration::from_secs(1)), Timestamp::MAX);
    /// ```
    pub const MAX: Timestamp = Timestamp(u64::MAX);

    /// The timestamp `millis` milliseconds after the Unix epoch.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    ///
    /// assert_eq!(Timestamp::from_millis(42).as_millis(), 42);
    /// ```
    pub const fn from_millis(millis: u64) -> Self {
        Timestamp(millis)
    }

    /// Milliseconds since the Unix epoch.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    ///
    /// assert_eq!(Timestamp::from_millis(7).as_millis(), 7);
    /// ```
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The time `span` later, or `None` past [`Timestamp::MAX`].
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use std::time::Duration;
    ///
    /// let now = Timestamp::from_millis(1_000);
    /// assert_eq!(now.checked_add(Duration::from_millis(500)), Some(Timestamp::from_millis(1_500)));
    /// // Sub-millisecond parts are dropped.
    /// assert_eq!(now.checked_add(Duration::from_micros(1_999)), Some(Timestamp::from_millis(1_001)));
    /// assert_eq!(Timestamp::MAX.checked_add(Duration::from_millis(1)), None);
    /// ```
    pub fn checked_add(self, span: Duration) -> Option<Self> {
        let millis = u64::try_from(span.as_millis()).ok()?;
        self.0.checked_add(millis).map(Timestamp)
    }

    /// The time `span` later, stopping at [`Timestamp::MAX`].
    ///
    /// Deadlines use this: a timeout too long to represent never fires, which is what an
    /// absurdly long timeout means anyway.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use std::time::Duration;
    ///
    /// let now = Timestamp::from_millis(1_000);
    /// assert_eq!(now.saturating_add(Duration::from_secs(1)), Timestamp::from_millis(2_000));
    /// assert_eq!(now.saturating_add(Duration::MAX), Timestamp::MAX);
    /// ```
    pub fn saturating_add(self, span: Duration) -> Self {
        self.checked_add(span).unwrap_or(Timestamp::MAX)
    }

    /// The time `span` earlier, or `None` before the Unix epoch.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use std::time::Duration;
    ///
    /// let now = Timestamp::from_millis(1_000);
    /// assert_eq!(now.checked_sub(Duration::from_millis(400)), Some(Timestamp::from_millis(600)));
    /// assert_eq!(now.checked_sub(Duration::from_secs(2)), None);
    /// ```
    pub fn checked_sub(self, span: Duration) -> Option<Self> {
        let millis = u64::try_from(span.as_millis()).ok()?;
        self.0.checked_sub(millis).map(Timestamp)
    }

    /// The time `span` earlier, stopping at the Unix epoch.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use std::time::Duration;
    ///
    /// let now = Timestamp::from_millis(1_000);
    /// assert_eq!(now.saturating_sub(Duration::from_millis(1)), Timestamp::from_millis(999));
    /// assert_eq!(now.saturating_sub(Duration::from_secs(5)), Timestamp::UNIX_EPOCH);
    /// ```
    pub fn saturating_sub(self, span: Duration) -> Self {
        self.checked_sub(span).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// How far apart two times are, whichever comes first.
    ///
    /// Clock-skew checks use this: a message from 5 minutes in the future is as suspect as
    /// one from 5 minutes in the past.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use std::time::Duration;
    ///
    /// let early = Timestamp::from_millis(1_000);
    /// let late = Timestamp::from_millis(4_500);
    /// assert_eq!(early.abs_diff(late), Duration::from_millis(3_500));
    /// assert_eq!(late.abs_diff(early), Duration::from_millis(3_500));
    /// ```
    pub fn abs_diff(self, other: Timestamp) -> Duration {
        Duration::from_millis(self.0.abs_diff(other.0))
    }

    /// How long after `earlier` this time is, or zero if it is not later.
    ///
    /// ```
    /// use chorus_core::time::Timestamp;
    /// use std::time::Duration;
    ///
    /// let start = Timestamp::from_millis(1_000);
    /// let now = Timestamp::from_millis(1_250);
    /// assert_eq!(now.saturating_duration_since(start), Duration::from_millis(250));
    /// assert_eq!(start.saturating_duration_since(now), Duration::ZERO);
    /// ```
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn adding_a_duration_too_large_for_u64_millis_overflows() {
        let huge = Duration::from_secs(u64::MAX);
        assert_eq!(Timestamp::UNIX_EPOCH.checked_add(huge), None);
        assert_eq!(Timestamp::UNIX_EPOCH.checked_sub(huge), None);
        assert_eq!(Timestamp::UNIX_EPOCH.saturating_add(huge), Timestamp::MAX);
        assert_eq!(Timestamp::MAX.saturating_sub(huge), Timestamp::UNIX_EPOCH);
    }

    #[test]
    fn encodes_as_a_postcard_varint_of_the_millis() {
        let stamp = Timestamp::from_millis(300);
        let bytes = postcard::to_allocvec(&stamp).unwrap();
        assert_eq!(bytes, postcard::to_allocvec(&300u64).unwrap());
        assert_eq!(postcard::from_bytes::<Timestamp>(&bytes).unwrap(), stamp);
    }

    proptest! {
        #[test]
        fn add_then_sub_returns_to_the_start(start in any::<u64>(), millis in any::<u64>()) {
            let start = Timestamp::from_millis(start);
            let span = Duration::from_millis(millis);
            match start.checked_add(span) {
                Some(later) => {
                    prop_assert_eq!(later.checked_sub(span), Some(start));
                    prop_assert_eq!(later.abs_diff(start), span);
                    prop_assert_eq!(later.saturating_duration_since(start), span);
                }
                None => prop_assert_eq!(start.saturating_add(span), Timestamp::MAX),
            }
        }

        #[test]
        fn order_matches_the_millisecond_count(a in any::<u64>(), b in any::<u64>()) {
            prop_assert_eq!(Timestamp::from_millis(a).cmp(&Timestamp::from_millis(b)), a.cmp(&b));
            prop_assert_eq!(
                Timestamp::from_millis(a).abs_diff(Timestamp::from_millis(b)),
                Duration::from_millis(a.abs_diff(b))
            );
        }
    }
}
