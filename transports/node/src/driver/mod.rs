//! A tokio driver for one [`Node`](chorus_core::Node) over one
//! [`Transport`](chorus_core::transport::Transport).
//!
//! The core is sans-IO: it never reads a clock, touches the network or draws OS
//! randomness. [`NodeDriver`] supplies all three — wall-clock time that never goes
//! backwards, a seed from the operating system, and a transport — and runs the drive loop
//! of [`chorus_core::node`]: after every input (a command, a message, a deadline) it drains
//! the node's outputs and waits on the next deadline again. Session messages name a signer
//! key; the driver's [`AddressBook`] turns the key into the transport peer the signer
//! advertised or joined from.
//!
//! The application talks to a running driver through a cloneable [`NodeHandle`] (every
//! command resolves with the node's answer) and reads [`NodeEvent`]s from
//! [`NodeEvents`] subscriptions. Every channel is bounded.
//!
//! Three nodes on an in-process network, from advertisement to broadcast confirmation:
//!
//! ```
//! use std::time::Duration;
//! use chorus_core::crypto::{Dialect, Keypair, SecretKey};
//! use chorus_core::discovery::{AdvertisementSpec, DiscoveryEvent, RequestSpec, SignerCriteria, SignerFilter};
//! use chorus_core::node::{Event, Progress};
//! use chorus_memory::MemoryNetwork;
//! use chorus_node::driver::{spawn, DriverConfig, DriverError, NodeEvent};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let network = MemoryNetwork::new();
//! let (mut handles, mut wallets) = (Vec::new(), Vec::new());
//! for byte in 1..=3u8 {
//!     let identity = Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32])?);
//!     let node = spawn(identity, network.transport(), DriverConfig::new(["spend"]))?;
//!     // Each node joins what asks for its key, and broadcasts when it is asked to.
//!     let (handle, mut events) = (node.handle.clone(), node.events);
//!     wallets.push(tokio::spawn(async move {
//!         while let Some(event) = events.next().await {
//!             match event {
//!                 NodeEvent::Discovery(DiscoveryEvent::RequestReceived { request, .. }) => {
//!                     handle.join_request(&request, Progress::Automatic).await?;
//!                 }
//!                 NodeEvent::Session(Event::ShouldBroadcast { session, .. }) => {
//!                     handle.notify_broadcast_complete(&session, [0x77; 32]).await?;
//!                 }
//!                 NodeEvent::Session(Event::BroadcastConfirmed { session, .. }) => return Ok(session),
//!                 _ => {}
//!             }
//!         }
//!         Err(DriverError::Stopped)
//!     }));
//!     handles.push(node.handle);
//! }
//!
//! // Two signers advertise; the first node finds them and requests a 3-of-3 signature.
//! for handle in &handles[1..] {
//!     let spec = AdvertisementSpec::new(SignerCriteria::new(["spend"]), Duration::from_secs(600));
//!     handle.advertise(spec).await?;
//! }
//! let creator = &handles[0];
//! let filter = SignerFilter { transaction_type: Some("spend".into()), ..SignerFilter::default() };
//! let mut keys = Vec::new();
//! while keys.len() < 2 {
//!     tokio::task::yield_now().await;
//!     keys = creator.find_signers(filter.clone()).await?.iter().filter_map(|ad| ad.key().ok()).collect();
//! }
//! keys.push(creator.public_key());
//! let spec = RequestSpec::new(keys, [0x5a; 32], Dialect::Bip340, Duration::from_secs(600));
//! creator.announce_request(spec, Progress::Automatic).await?;
//!
//! let mut sessions = Vec::new();
//! for wallet in wallets {
//!     sessions.push(tokio::time::timeout(Duration::from_secs(30), wallet).await???);
//! }
//! assert!(sessions.iter().all(|session| *session == sessions[0]));
//! for handle in &handles {
//!     handle.shutdown().await?;
//! }
//! # Ok(())
//! # }
//! ```

mod address_book;
mod clock;
mod config;
mod engine;
mod error;
mod event;
mod handle;
mod task;

pub use address_book::AddressBook;
pub use config::DriverConfig;
pub use engine::{DriverStats, SessionStatus};
pub use error::DriverError;
pub use event::{NodeEvent, NodeEvents};
pub use handle::NodeHandle;
pub use task::{spawn, DriverReport, NodeDriver, RunningNode, StopReason};
