//! Discovery messages that arrived before the signing request they refer to.
//!
//! A request travels on a topic and the joins it prompts travel directly, so on a
//! network that does not order messages from different senders (QUIC streams,
//! GossipSub next to request-response) a node can hear a join before the request. The
//! core refuses such a join as `UnknownRequest` and keeps no state; the driver holds the
//! bytes for a short, bounded time and offers them again once the request is known.

use std::collections::VecDeque;
use std::time::Duration;

use chorus_core::discovery::RequestId;
use chorus_core::node::PeerId;
use chorus_core::time::Timestamp;
use chorus_core::wire::Channel;

/// The most early messages held at once; the oldest goes first when it is full.
pub(crate) const MAX_EARLY_MESSAGES: usize = 64;

/// How long an early message waits for its request.
pub(crate) const EARLY_MESSAGE_WINDOW: Duration = Duration::from_secs(10);

/// One held message.
#[derive(Debug)]
pub(crate) struct EarlyMessage {
    pub(crate) request: RequestId,
    pub(crate) from: PeerId,
    pub(crate) channel: Channel,
    pub(crate) bytes: Vec<u8>,
    received_at: Timestamp,
}

/// A bounded, time-limited queue of messages waiting for their request.
#[derive(Debug, Default)]
pub(crate) struct EarlyMessages {
    held: VecDeque<EarlyMessage>,
}

impl EarlyMessages {
    /// Holds `bytes` until `request` is known; returns whether an older message was
    /// dropped to make room.
    pub(crate) fn hold(
        &mut self,
        now: Timestamp,
        request: RequestId,
        from: PeerId,
        channel: Channel,
        bytes: Vec<u8>,
    ) -> bool {
        self.expire(now);
        let dropped = self.held.len() >= MAX_EARLY_MESSAGES;
        if dropped {
            self.held.pop_front();
        }
        self.held.push_back(EarlyMessage {
            request,
            from,
            channel,
            bytes,
            received_at: now,
        });
        dropped
    }

    /// Takes every held message for `request` that has not expired, oldest first.
    pub(crate) fn take(&mut self, now: Timestamp, request: &RequestId) -> Vec<EarlyMessage> {
        self.expire(now);
        let (taken, kept) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|message| message.request == *request);
        self.held = kept;
        taken.into()
    }

    /// How many messages are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.held.len()
    }

    fn expire(&mut self, now: Timestamp) {
        let cutoff = now.saturating_sub(EARLY_MESSAGE_WINDOW);
        self.held.retain(|message| message.received_at >= cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn gives_back_only_the_messages_of_the_request() {
        let mut early = EarlyMessages::default();
        early.hold(
            at(0),
            RequestId([1; 32]),
            PeerId::new([1]),
            Channel::Direct,
            vec![1],
        );
        early.hold(
            at(1),
            RequestId([2; 32]),
            PeerId::new([2]),
            Channel::Direct,
            vec![2],
        );
        let taken = early.take(at(2), &RequestId([1; 32]));
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].bytes, vec![1]);
        assert_eq!(early.len(), 1);
        assert!(early.take(at(3), &RequestId([1; 32])).is_empty());
    }

    #[test]
    fn forgets_messages_older_than_the_window() {
        let mut early = EarlyMessages::default();
        early.hold(
            at(0),
            RequestId([1; 32]),
            PeerId::new([1]),
            Channel::Direct,
            vec![1],
        );
        let late = at(EARLY_MESSAGE_WINDOW.as_millis() as u64 + 1);
        assert!(early.take(late, &RequestId([1; 32])).is_empty());
    }

    #[test]
    fn stays_bounded_dropping_the_oldest() {
        let mut early = EarlyMessages::default();
        for index in 0..MAX_EARLY_MESSAGES {
            let request = RequestId([index as u8; 32]);
            assert!(!early.hold(at(0), request, PeerId::new([0]), Channel::Direct, vec![]));
        }
        assert!(early.hold(
            at(0),
            RequestId([0xff; 32]),
            PeerId::new([0]),
            Channel::Direct,
            vec![]
        ));
        assert_eq!(early.len(), MAX_EARLY_MESSAGES);
        assert!(
            early.take(at(0), &RequestId([0; 32])).is_empty(),
            "the oldest went first"
        );
    }
}
