//! Discovery messages that arrived before the signing request they refer to.
//!
//! A request travels on a topic and the joins it prompts travel directly, so on a network
//! that does not order messages from different senders (QUIC streams, GossipSub next to
//! request-response) a node can hear a join before the request. The node refuses such a
//! join as [`DiscoveryError::UnknownRequest`](super::DiscoveryError::UnknownRequest) and
//! keeps no state, as it does for every rejection; whoever drives the node keeps the bytes
//! here for a short, bounded time and offers them again once
//! [`DiscoveryEvent::RequestReceived`](super::DiscoveryEvent::RequestReceived) names the
//! request. Sans-IO like the rest of the core: the time is an input.

use core::time::Duration;
use std::collections::VecDeque;

use super::RequestId;
use crate::node::PeerId;
use crate::time::Timestamp;
use crate::wire::Channel;

/// The most early messages [`EarlyMessages::default`] holds at once.
pub const MAX_EARLY_MESSAGES: usize = 64;

/// How long [`EarlyMessages::default`] keeps a message waiting for its request.
pub const EARLY_MESSAGE_WINDOW: Duration = Duration::from_secs(10);

/// One held message, as it came.
///
/// ```
/// use chorus_core::discovery::{EarlyMessages, RequestId};
/// use chorus_core::node::PeerId;
/// use chorus_core::time::Timestamp;
/// use chorus_core::wire::Channel;
///
/// let mut early = EarlyMessages::default();
/// let now = Timestamp::from_millis(5);
/// early.hold(now, RequestId([3; 32]), PeerId::new([9]), Channel::Gossip, vec![1, 2]);
/// let message = early.take(now, &RequestId([3; 32])).remove(0);
/// assert_eq!((message.from, message.channel, message.received_at), (PeerId::new([9]), Channel::Gossip, now));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlyMessage {
    /// The request it refers to.
    pub request: RequestId,
    /// The peer it came from.
    pub from: PeerId,
    /// The channel it came on.
    pub channel: Channel,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// When it came.
    pub received_at: Timestamp,
}

/// A bounded, time-limited queue of messages waiting for their request.
///
/// When it is full the oldest message goes first; a message older than the window is
/// never given back. A flood of made-up request ids therefore costs at most `limit`
/// messages of memory and evicts only other early messages.
///
/// ```
/// use chorus_core::discovery::{DiscoveryError, EarlyMessages, RequestId};
/// use chorus_core::node::{PeerId, Rejection};
/// use chorus_core::time::Timestamp;
/// use chorus_core::wire::Channel;
///
/// let mut early = EarlyMessages::default();
/// let now = Timestamp::from_millis(1_000);
/// // What a driver does with `Node::handle_message`'s refusal of a join that came first:
/// let refusal = Rejection::Discovery(DiscoveryError::UnknownRequest { request: RequestId([7; 32]) });
/// if let Rejection::Discovery(DiscoveryError::UnknownRequest { request }) = refusal {
///     early.hold(now, request, PeerId::new([1]), Channel::Direct, vec![0xde, 0xad]);
/// }
/// // ...and once `DiscoveryEvent::RequestReceived` names the request, it offers them again.
/// let waiting = early.take(Timestamp::from_millis(1_500), &RequestId([7; 32]));
/// assert_eq!(waiting.len(), 1);
/// assert_eq!(waiting[0].bytes, vec![0xde, 0xad]);
/// assert!(early.is_empty());
/// ```
#[derive(Debug)]
pub struct EarlyMessages {
    held: VecDeque<EarlyMessage>,
    limit: usize,
    window: Duration,
}

impl Default for EarlyMessages {
    /// [`MAX_EARLY_MESSAGES`] messages for [`EARLY_MESSAGE_WINDOW`].
    fn default() -> Self {
        EarlyMessages::new(MAX_EARLY_MESSAGES, EARLY_MESSAGE_WINDOW)
    }
}

impl EarlyMessages {
    /// A queue of at most `limit` messages (at least one), each kept for `window`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use chorus_core::discovery::EarlyMessages;
    ///
    /// let early = EarlyMessages::new(8, Duration::from_secs(2));
    /// assert_eq!(early.len(), 0);
    /// ```
    pub fn new(limit: usize, window: Duration) -> Self {
        EarlyMessages {
            held: VecDeque::new(),
            limit: limit.max(1),
            window,
        }
    }

    /// Holds `bytes` until `request` is known; returns whether an older message was
    /// dropped to make room.
    ///
    /// ```
    /// use std::time::Duration;
    /// use chorus_core::discovery::{EarlyMessages, RequestId};
    /// use chorus_core::node::PeerId;
    /// use chorus_core::time::Timestamp;
    /// use chorus_core::wire::Channel;
    ///
    /// let mut early = EarlyMessages::new(1, Duration::from_secs(10));
    /// let now = Timestamp::from_millis(0);
    /// assert!(!early.hold(now, RequestId([1; 32]), PeerId::new([1]), Channel::Direct, vec![1]));
    /// assert!(early.hold(now, RequestId([2; 32]), PeerId::new([1]), Channel::Direct, vec![2]));
    /// ```
    pub fn hold(
        &mut self,
        now: Timestamp,
        request: RequestId,
        from: PeerId,
        channel: Channel,
        bytes: Vec<u8>,
    ) -> bool {
        self.expire(now);
        let dropped = self.held.len() >= self.limit;
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
    ///
    /// ```
    /// use chorus_core::discovery::{EarlyMessages, RequestId};
    /// use chorus_core::time::Timestamp;
    ///
    /// let mut early = EarlyMessages::default();
    /// assert!(early.take(Timestamp::from_millis(0), &RequestId([1; 32])).is_empty());
    /// ```
    pub fn take(&mut self, now: Timestamp, request: &RequestId) -> Vec<EarlyMessage> {
        self.expire(now);
        let (taken, kept) = core::mem::take(&mut self.held)
            .into_iter()
            .partition(|message| message.request == *request);
        self.held = kept;
        taken.into()
    }

    /// How many messages are held (expired ones included until the next call that
    /// takes the time).
    ///
    /// ```
    /// use chorus_core::discovery::EarlyMessages;
    ///
    /// assert_eq!(EarlyMessages::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether nothing is held.
    ///
    /// ```
    /// use chorus_core::discovery::EarlyMessages;
    ///
    /// assert!(EarlyMessages::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    fn expire(&mut self, now: Timestamp) {
        let cutoff = now.saturating_sub(self.window);
        self.held.retain(|message| message.received_at >= cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn hold(early: &mut EarlyMessages, ms: u64, request: u8, bytes: Vec<u8>) -> bool {
        early.hold(
            at(ms),
            RequestId([request; 32]),
            PeerId::new([request]),
            Channel::Direct,
            bytes,
        )
    }

    #[test]
    fn gives_back_only_the_messages_of_the_request_oldest_first() {
        let mut early = EarlyMessages::default();
        hold(&mut early, 0, 1, vec![1]);
        hold(&mut early, 1, 2, vec![2]);
        hold(&mut early, 2, 1, vec![3]);
        let taken = early.take(at(3), &RequestId([1; 32]));
        let bytes: Vec<Vec<u8>> = taken.into_iter().map(|message| message.bytes).collect();
        assert_eq!(bytes, vec![vec![1], vec![3]]);
        assert_eq!(early.len(), 1);
        assert!(early.take(at(4), &RequestId([1; 32])).is_empty());
    }

    #[test]
    fn forgets_messages_older_than_the_window() {
        let mut early = EarlyMessages::default();
        hold(&mut early, 0, 1, vec![1]);
        let window = u64::try_from(EARLY_MESSAGE_WINDOW.as_millis()).unwrap();
        assert_eq!(early.take(at(window), &RequestId([1; 32])).len(), 1);
        hold(&mut early, 0, 1, vec![1]);
        assert!(early.take(at(window + 1), &RequestId([1; 32])).is_empty());
        assert!(early.is_empty());
    }

    #[test]
    fn stays_bounded_dropping_the_oldest() {
        let mut early = EarlyMessages::default();
        for index in 0..MAX_EARLY_MESSAGES {
            assert!(!hold(&mut early, 0, index as u8, vec![]));
        }
        assert!(hold(&mut early, 0, 0xff, vec![]));
        assert_eq!(early.len(), MAX_EARLY_MESSAGES);
        assert!(
            early.take(at(0), &RequestId([0; 32])).is_empty(),
            "the oldest went first"
        );
        assert_eq!(early.take(at(0), &RequestId([0xff; 32])).len(), 1);
    }

    #[test]
    fn a_zero_limit_still_holds_one_message() {
        let mut early = EarlyMessages::new(0, EARLY_MESSAGE_WINDOW);
        assert!(!hold(&mut early, 0, 1, vec![1]));
        assert!(hold(&mut early, 0, 2, vec![2]));
        assert_eq!(early.len(), 1);
    }
}
