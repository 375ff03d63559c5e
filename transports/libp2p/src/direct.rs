//! Sending direct messages, including to peers this node cannot dial yet.
//!
//! A driver often learns a peer id (from a signed advertisement or join) before the
//! network knows where that peer is; the peer may even be dialing this node at that very
//! moment. A message for such a peer is parked instead of failing at once: it leaves as
//! soon as the peer connects or the DHT finds its address, and is reported undeliverable
//! only if neither happens within the request timeout.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::time::Duration;

use chorus_core::node::PeerId;
use chorus_core::transport::Incoming;
use chorus_core::wire::Channel;
use tokio::time::{Instant, Sleep};

use crate::codec::DirectFrame;
use crate::transport::Libp2pTransport;
use crate::{chorus_peer_id, libp2p_peer_id, Libp2pPeerId};

/// Peers that may have messages parked at once.
const MAX_PARKED_PEERS: usize = 1024;

/// Messages waiting for their peer to become reachable.
pub(crate) struct Parking {
    waiting: BTreeMap<Libp2pPeerId, VecDeque<(Instant, DirectFrame)>>,
    patience: Duration,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Parking {
    pub(crate) fn new(patience: Duration) -> Self {
        Parking {
            waiting: BTreeMap::new(),
            patience,
            timer: None,
        }
    }

    fn earliest(&self) -> Option<Instant> {
        self.waiting
            .values()
            .filter_map(|queue| queue.front().map(|(parked, _)| *parked + self.patience))
            .min()
    }
}

impl Libp2pTransport {
    pub(crate) fn send_direct(&mut self, to: PeerId, channel: Channel, bytes: Vec<u8>) {
        if bytes.len() > channel.max_message_len() {
            let reason = format!("{} bytes over the {channel} limit", bytes.len());
            return self.refuse(to, reason);
        }
        if to == self.local {
            return self.refuse(to, "addressed to this node");
        }
        let Ok(peer) = libp2p_peer_id(&to) else {
            return self.refuse(to, "not a libp2p peer id");
        };
        let pending = self.pending_direct.entry(peer).or_default();
        if *pending >= self.max_pending_direct {
            return self.refuse(to, "too many messages queued for this peer");
        }
        *pending += 1;
        let frame = DirectFrame { channel, bytes };
        if self.swarm.is_connected(&peer) || self.has_route(&peer) {
            self.swarm.behaviour_mut().direct.send_request(&peer, frame);
        } else {
            self.park(peer, frame);
        }
    }

    fn refuse(&mut self, peer: PeerId, reason: impl Into<String>) {
        self.stats.refused_outgoing += 1;
        self.push_incoming(Incoming::Undeliverable {
            peer,
            reason: reason.into(),
        });
    }

    /// Whether the DHT's routing table holds an address for `peer`.
    fn has_route(&mut self, peer: &Libp2pPeerId) -> bool {
        let kademlia = &mut self.swarm.behaviour_mut().kademlia;
        kademlia
            .kbucket(*peer)
            .is_some_and(|bucket| bucket.iter().any(|entry| entry.node.key.preimage() == peer))
    }

    fn park(&mut self, peer: Libp2pPeerId, frame: DirectFrame) {
        let parking = &mut self.parking;
        if !parking.waiting.contains_key(&peer) && parking.waiting.len() >= MAX_PARKED_PEERS {
            self.settle_direct(peer);
            return self.refuse(chorus_peer_id(&peer), "too many unreachable peers");
        }
        let queue = parking.waiting.entry(peer).or_default();
        let first = queue.is_empty();
        queue.push_back((Instant::now(), frame));
        if parking.timer.is_none() {
            parking.timer = Some(Box::pin(tokio::time::sleep(parking.patience)));
        }
        if first {
            // Ask the DHT where the peer is; if it answers, the messages leave then.
            self.swarm.behaviour_mut().kademlia.get_closest_peers(peer);
        }
    }

    /// Sends whatever was parked for `peer`, which has just become reachable.
    pub(crate) fn unpark(&mut self, peer: &Libp2pPeerId) {
        let Some(queue) = self.parking.waiting.remove(peer) else {
            return;
        };
        for (_, frame) in queue {
            self.swarm.behaviour_mut().direct.send_request(peer, frame);
        }
    }

    /// Whether any message waits for `peer`.
    pub(crate) fn is_parked(&self, peer: &Libp2pPeerId) -> bool {
        self.parking.waiting.contains_key(peer)
    }

    /// Reports the parked messages that have waited too long as undeliverable, and arms
    /// the timer for the next ones.
    pub(crate) fn poll_parking(&mut self, cx: &mut Context<'_>) {
        loop {
            let Some(timer) = self.parking.timer.as_mut() else {
                return;
            };
            if timer.as_mut().poll(cx).is_pending() {
                return;
            }
            self.expire_parked(Instant::now());
            let next = self.parking.earliest();
            match (next, self.parking.timer.as_mut()) {
                (Some(deadline), Some(timer)) => timer.as_mut().reset(deadline),
                _ => self.parking.timer = None,
            }
        }
    }

    fn expire_parked(&mut self, now: Instant) {
        let patience = self.parking.patience;
        let mut expired = Vec::new();
        for (peer, queue) in &mut self.parking.waiting {
            while queue
                .front()
                .is_some_and(|(parked, _)| *parked + patience <= now)
            {
                queue.pop_front();
                expired.push(*peer);
            }
        }
        self.parking.waiting.retain(|_, queue| !queue.is_empty());
        for peer in expired {
            self.stats.failed_direct += 1;
            self.settle_direct(peer);
            self.push_incoming(Incoming::Undeliverable {
                peer: chorus_peer_id(&peer),
                reason: "peer not reachable in time".into(),
            });
        }
    }

    /// One direct message to `peer` has been acknowledged or has failed.
    pub(crate) fn settle_direct(&mut self, peer: Libp2pPeerId) {
        if let Some(pending) = self.pending_direct.get_mut(&peer) {
            *pending = pending.saturating_sub(1);
            if *pending == 0 {
                self.pending_direct.remove(&peer);
            }
        }
    }
}
