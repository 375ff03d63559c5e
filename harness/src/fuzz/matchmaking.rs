//! Discovery in the `node_ops` world: advertisements, signing requests and their joins,
//! black- and graylists, and the routing of discovery records between the nodes.

use core::time::Duration;

use chorus_core::discovery::{
    AdvertisementContent, AdvertisementSpec, AdvertisementWithdrawal, Destination, DiscoveryEvent,
    DiscoveryMessage, JoinProof, Outbound, RequestContent, RequestId, RequestSpec,
    SignerAdvertisement, SignerCriteria, SignerFilter, SignerMetadata, SigningRequest,
};
use chorus_core::node::{Node, PeerId, Progress};
use chorus_core::time::Timestamp;
use chorus_core::wire::Channel;

use super::craft::TEN_MINUTES_MS;
use super::ops::{CraftedRecord, Op, RecordChoice, SessionChoice};
use super::world::World;

/// The transaction types signers advertise in the fuzz world.
const TRANSACTION_TYPES: [&str; 2] = ["spend", "swap"];

fn transaction_types(bits: u8) -> Vec<&'static str> {
    TRANSACTION_TYPES
        .iter()
        .enumerate()
        .filter(|(bit, _)| bits & (1 << bit) != 0)
        .map(|(_, name)| *name)
        .collect()
}

fn progress(manual: bool) -> Progress {
    if manual {
        Progress::Manual
    } else {
        Progress::Automatic
    }
}

impl World {
    /// The node a discovery operation names: 0 is the node under test, anything else a
    /// peer.
    fn acting_node(&self, pick: u8) -> usize {
        match pick {
            0 => 0,
            _ => 1 + usize::from(pick) % (self.node_count() - 1),
        }
    }

    /// Runs a discovery operation; other operations are left alone.
    pub(super) fn apply_discovery(&mut self, op: &Op) {
        let now = self.now;
        match op {
            Op::Advertise {
                node,
                types,
                lifetime_s,
            } => {
                let node = self.acting_node(*node);
                let criteria = SignerCriteria::new(transaction_types(*types));
                let lifetime = Duration::from_secs(u64::from(*lifetime_s));
                let spec = AdvertisementSpec::new(criteria, lifetime);
                self.node_command(node, |node| node.advertise(now, spec).map(drop));
            }
            Op::Withdraw => {
                self.node_command(0, |node| node.withdraw_advertisement(now).map(drop));
            }
            Op::FindSigners { types } => {
                let filter = SignerFilter {
                    transaction_type: transaction_types(*types)
                        .first()
                        .map(|name| (*name).to_owned()),
                    ..SignerFilter::default()
                };
                let found = self.target().find_signers(now, &filter);
                assert!(
                    found.len() <= filter.max_results,
                    "{} signers found",
                    found.len()
                );
            }
            Op::AnnounceRequest {
                node,
                session,
                lifetime_s,
            } => self.announce_request(*node, session, *lifetime_s),
            Op::JoinRequest { pick, manual } => self.join_request(*pick, *manual),
            Op::Blacklist { peer } => {
                let peer = self.peer_id(*peer);
                self.node_command(0, |node| {
                    node.blacklist(now, &peer);
                    Ok(())
                });
            }
            Op::Unblacklist { peer } => {
                let peer = self.peer_id(*peer);
                self.node_command(0, |node| {
                    node.unblacklist(&peer);
                    Ok(())
                });
            }
            Op::Graylist { peer, seconds } => {
                let peer = self.peer_id(*peer);
                let duration = Duration::from_secs(u64::from(*seconds));
                self.node_command(0, |node| {
                    node.graylist(now, &peer, duration);
                    Ok(())
                });
            }
            Op::CraftedRecord(crafted) => {
                let (from, channel, bytes) = self.craft_record(crafted);
                self.feed_target(from, channel, &bytes);
            }
            _ => {}
        }
    }

    /// Node `node` (0: the node under test) announces a signing request for `session`.
    fn announce_request(&mut self, node: u8, session: &SessionChoice, lifetime_s: u16) {
        let now = self.now;
        let node = self.acting_node(node);
        let spec = session.spec(&self.keys, node);
        let mut request = RequestSpec::new(
            spec.signers,
            spec.message,
            spec.dialect,
            Duration::from_secs(u64::from(lifetime_s)),
        );
        request.election = spec.election;
        request.options = spec.options;
        self.node_command(node, |node| {
            node.announce_request(now, request, spec.progress).map(drop)
        });
    }

    /// The node under test joins the request `pick` names among those waiting for it.
    fn join_request(&mut self, pick: u8, manual: bool) {
        let now = self.now;
        let waiting: Vec<RequestId> = self
            .target()
            .requests_for_me(now)
            .iter()
            .map(|request| request.id())
            .collect();
        if let Some(request) = waiting.get(usize::from(pick) % waiting.len().max(1)) {
            let request = *request;
            self.node_command(0, |node| node.join_request(now, &request, progress(manual)));
        }
    }

    /// The record `crafted` describes, signed, with the transport peer and channel it
    /// arrives on.
    fn craft_record(&self, crafted: &CraftedRecord) -> (PeerId, Channel, Vec<u8>) {
        let signer = usize::from(crafted.signer) % self.keys.len();
        let keypair = self.keys[signer];
        let from = self.peer_id(crafted.from);
        let named = if crafted.other_peer {
            self.peer_id(crafted.from.wrapping_add(1))
        } else {
            from.clone()
        };
        let millis = i64::try_from(self.now.as_millis())
            .unwrap_or(i64::MAX)
            .saturating_add(i64::from(crafted.time_offset_ms % TEN_MINUTES_MS))
            .max(0);
        let created = Timestamp::from_millis(millis.unsigned_abs());
        let lifetime = Duration::from_secs(u64::from(crafted.lifetime_s));
        let advertisement = |types: u8| {
            let criteria = SignerCriteria::new(transaction_types(types));
            let content = AdvertisementContent::new(
                named.clone(),
                criteria,
                SignerMetadata::default(),
                created,
                lifetime,
            );
            SignerAdvertisement::sign(content, &keypair, &[0; 32])
        };
        let message = match &crafted.record {
            RecordChoice::Advertisement { types } => {
                DiscoveryMessage::Advertisement(advertisement(*types))
            }
            RecordChoice::Withdrawal { types } => DiscoveryMessage::Withdrawal(
                AdvertisementWithdrawal::sign(&advertisement(*types), &keypair, &[0; 32]),
            ),
            RecordChoice::Request(choice) => {
                let spec = choice.spec(&self.keys, signer);
                let mut content = RequestContent::new(
                    &spec.signers,
                    spec.message,
                    spec.dialect,
                    created,
                    lifetime,
                );
                content.election = spec.election;
                content.options = spec.options;
                DiscoveryMessage::Request(SigningRequest::sign(content, &keypair, &[0; 32]))
            }
            RecordChoice::Join { request } => {
                let id = match self.requests.len() {
                    0 => RequestId([*request; 32]),
                    known => self.requests[usize::from(*request) % known],
                };
                DiscoveryMessage::Join(JoinProof::sign(id, &keypair, named.clone(), &[0; 32]))
            }
        };
        let channel = if crafted.gossip {
            Channel::Gossip
        } else {
            Channel::Direct
        };
        (from, channel, message.encode())
    }

    /// Notes the requests a discovery event names.
    pub(super) fn learn_request(&mut self, event: &DiscoveryEvent) {
        let request = match event {
            DiscoveryEvent::RequestCreated { request }
            | DiscoveryEvent::RequestReceived { request, .. } => *request,
            _ => return,
        };
        if !self.requests.contains(&request) {
            self.requests.push(request);
        }
    }

    /// Sends a discovery record from node `from`: a topic reaches every other node, a peer
    /// its node; DHT records are stored nowhere in this world.
    pub(super) fn route_discovery(&mut self, from: usize, outbound: Outbound) {
        let targets: Vec<(usize, Channel)> = match &outbound.destination {
            Destination::Topic(_) => (0..self.node_count())
                .filter(|node| *node != from)
                .map(|node| (node, Channel::Gossip))
                .collect(),
            Destination::Peer(peer) => (0..self.node_count())
                .filter(|node| self.node(*node).peer_id() == peer && *node != from)
                .map(|node| (node, Channel::Direct))
                .collect(),
            _ => Vec::new(),
        };
        for (to, channel) in targets {
            self.send_packet(from, to, channel, outbound.bytes.clone());
        }
    }

    /// An honest peer's reaction to a discovery event: it joins every request that needs
    /// its key.
    pub(super) fn peer_reacts_to_discovery(&mut self, peer: usize, event: &DiscoveryEvent) {
        self.learn_request(event);
        if let DiscoveryEvent::RequestReceived { request, .. } = event {
            let now = self.now;
            let node: &mut Node = self.node_mut(peer);
            let _ = node.join_request(now, request, Progress::Automatic);
        }
    }
}
