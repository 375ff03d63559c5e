//! The session engine: one [`Node`] per signing key, a pure state machine.
//!
//! A node takes inputs — bytes from peers ([`Node::handle_message`]), the passage of time
//! ([`Node::handle_timeout`]) and the application's commands ([`Node::create_session`],
//! [`Node::join_session`], …) — and queues outputs: [`Transmit`]s for the driver to
//! deliver, [`Event`]s for the application, and the next deadline
//! ([`Node::poll_timeout`]). It never reads a clock, never touches the network and draws
//! randomness only from the ChaCha20 generator seeded at construction.
//!
//! # The drive loop
//!
//! After every input, drain [`Node::poll_transmit`] and [`Node::poll_event`] — and, when
//! the node takes part in discovery, [`Node::poll_discovery_transmit`] and
//! [`Node::poll_discovery_event`] — then re-read [`Node::poll_timeout`] and call
//! [`Node::handle_timeout`] when that time comes. Three signers in one process, bytes
//! pumped between them in a plain loop:
//!
//! ```
//! use chorus_core::crypto::{self, Dialect, Keypair, SecretKey, Signature};
//! use chorus_core::node::{Config, Event, Node, PeerId, Progress, SessionSpec, Transmit};
//! use chorus_core::time::Timestamp;
//!
//! let now = Timestamp::from_millis(1_700_000_000_000);
//! let keys: Vec<Keypair> = (1..=3u8)
//!     .map(|byte| Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap()))
//!     .collect();
//! let mut nodes: Vec<Node> = keys
//!     .iter()
//!     .zip(0u8..)
//!     .map(|(key, seed)| Node::new(Config::default(), *key, [seed; 32], now))
//!     .collect();
//!
//! let signers = keys.iter().map(|key| key.public_key()).collect();
//! let session = nodes[0].create_session(now, SessionSpec::new(signers, [0x5a; 32], Dialect::Bip340))?;
//!
//! let mut signatures: Vec<Signature> = Vec::new();
//! let mut broadcasters = Vec::new();
//! loop {
//!     let mut idle = true;
//!     for index in 0..nodes.len() {
//!         while let Some(event) = nodes[index].poll_event() {
//!             match event {
//!                 Event::SessionAnnounced { session, .. } => {
//!                     nodes[index].join_session(now, &session, Progress::Automatic)?;
//!                 }
//!                 Event::SessionComplete { signature, .. } => signatures.push(signature),
//!                 Event::ShouldBroadcast { .. } => broadcasters.push(index),
//!                 _ => {}
//!             }
//!         }
//!         let outgoing: Vec<Transmit> = std::iter::from_fn(|| nodes[index].poll_transmit()).collect();
//!         for transmit in outgoing {
//!             idle = false;
//!             let from = PeerId::from_key(&keys[index].public_key());
//!             let to = keys.iter().position(|key| key.public_key() == transmit.to).unwrap();
//!             nodes[to].handle_message(now, from, transmit.channel, &transmit.bytes).unwrap();
//!         }
//!     }
//!     if idle {
//!         break;
//!     }
//! }
//!
//! // Everyone holds the same valid signature; exactly one node is asked to broadcast.
//! let view = nodes[0].session(&session).unwrap();
//! assert_eq!(signatures.len(), 3);
//! assert!(signatures.iter().all(|signature| *signature == signatures[0]));
//! assert!(crypto::verify(Dialect::Bip340, &view.aggregate_key(), &[0x5a; 32], &signatures[0]));
//! assert_eq!(broadcasters.len(), 1);
//! assert_eq!(keys[broadcasters[0]].public_key(), view.election().coordinator);
//! // Every node now waits on a broadcast timer.
//! assert!(nodes.iter().all(|node| node.poll_timeout().is_some()));
//! # Ok::<(), chorus_core::node::CommandError>(())
//! ```
//!
//! # The protocol
//!
//! The creator announces the session to every signer; each signer that wants to sign
//! joins, proving it holds its key, by a message to the creator; when everyone has joined
//! the creator sends *session ready*. Then optional round 0 (nonce commitments), round 1
//! (nonces) and round 2 (partial signatures) run — all-to-all in the mesh topology, through
//! the elected coordinator in the aggregator topology. Messages that arrive before their
//! round are held (bounded) and run when it comes. The completed signature starts the
//! broadcast failover of SPEC §2 on every node.
//!
//! # Discovery
//!
//! Signers that do not know each other yet meet through [`crate::discovery`] (SPEC §4): a
//! node advertises its key ([`Node::advertise`]), a creator finds signers
//! ([`Node::find_signers`]) and announces a signing request ([`Node::announce_request`]),
//! each required signer finds it ([`Node::requests_for_me`]) and joins
//! ([`Node::join_request`]). When the last one has joined, every participant derives the
//! same session id; the creator's node creates the session under it and the others join it
//! by themselves, after checking it is the session the request described. From then on the
//! protocol above runs.
//!
//! Discovery records travel as their own messages ([`crate::discovery::DiscoveryMessage`],
//! first byte [`DISCOVERY_FORMAT`](crate::discovery::DISCOVERY_FORMAT)) to abstract
//! destinations — a topic, a DHT record, a peer — that each transport maps its own way, so
//! they come out of [`Node::poll_discovery_transmit`], not [`Node::poll_transmit`];
//! [`Node::handle_message`] takes both kinds. The node's
//! [`SecurityManager`](crate::security::SecurityManager) ([`Node::security`]) screens every
//! peer: a blacklisted or graylisted peer's session messages are refused too, and an
//! envelope whose signature fails counts towards its sender's blacklisting.

mod checks;
mod config;
mod error;
mod event;
mod evidence;
mod group_cache;
mod matchmaking;
mod node_impl;
mod nonce_tracker;
mod session;
#[cfg(test)]
mod tests;
mod view;

pub use checks::PeerRejections;
#[cfg(feature = "planted-faults")]
pub use config::PlantedFault;
pub use config::{Config, Progress, SessionSpec};
pub use error::{AbortReason, CommandError, Rejection, RejectionKind, RoutingRule};
pub use event::{Event, PeerId, Transmit};
pub use evidence::{Evidence, EvidenceError};
pub use node_impl::Node;
pub use view::{PhaseKind, SessionView};
