//! Real time for the core, which never goes backwards.

use std::time::{SystemTime, UNIX_EPOCH};

use chorus_core::time::Timestamp;
use tokio::time::Instant;

/// The node's notion of "now": wall-clock milliseconds since the Unix epoch, clamped so
/// that it never goes backwards.
///
/// It is the later of the system clock and (the system clock at start + the time tokio's
/// monotonic clock says has passed since), so a system clock stepped back does not stall
/// the node's timers, and tokio's paused test clock moves the node's time too.
#[derive(Debug)]
pub(crate) struct Clock {
    started_at_millis: u64,
    started: Instant,
    last: Timestamp,
}

impl Clock {
    pub(crate) fn new() -> Self {
        let started_at_millis = system_millis();
        Clock {
            started_at_millis,
            started: Instant::now(),
            last: Timestamp::from_millis(started_at_millis),
        }
    }

    /// The current time, never earlier than the last one returned.
    pub(crate) fn now(&mut self) -> Timestamp {
        let elapsed = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let monotonic = self.started_at_millis.saturating_add(elapsed);
        let now = Timestamp::from_millis(system_millis().max(monotonic));
        self.last = self.last.max(now);
        self.last
    }
}

/// Milliseconds since the Unix epoch by the system clock (0 for a clock set before 1970).
fn system_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn follows_the_paused_tokio_clock_and_never_goes_back() {
        let mut clock = Clock::new();
        let first = clock.now();
        tokio::time::advance(Duration::from_secs(3_600)).await;
        let later = clock.now();
        // The system clock runs on while tokio's is paused, so `first` may already be a
        // few milliseconds past the start; the hour counts from the start.
        assert!(later.as_millis() >= clock.started_at_millis + 3_600_000);
        assert!(later >= first);
        clock.last = clock.last.saturating_add(Duration::from_secs(86_400));
        assert_eq!(clock.now(), clock.last, "a later reading is kept");
    }
}
