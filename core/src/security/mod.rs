//! The security manager: who may talk, how often, and how much they may leave behind.
//!
//! Discovery input comes from strangers, so every peer is accounted for (SPEC §4, §7):
//!
//! - at most one advertisement per peer per [`SecurityLimits::advertisement_interval`]
//!   (60 s) and at most [`SecurityLimits::max_keys_per_peer`] (10) distinct keys;
//! - [`SecurityLimits::max_invalid_signatures`] (10) invalid signatures blacklist a peer,
//!   until [`SecurityManager::unblacklist`]; [`SecurityManager::blacklist`] does it by hand;
//! - [`SecurityLimits::max_violations`] other violations graylist it for
//!   [`SecurityLimits::graylist_duration`];
//! - a reputation score per peer, 0 to [`MAX_REPUTATION`];
//! - session quotas per peer and in total ([`SecurityManager::admit_session`]); the
//!   pending-request quotas are kept by the
//!   [`RequestBook`](crate::discovery::RequestBook), which holds the requests, with the
//!   limits configured here;
//! - a counter for every [`RejectionKind`] ([`SecurityMetrics`]), and
//!   [`SecurityEvent`]s in a bounded queue.
//!
//! The manager never reads a clock: every call that depends on time takes it.
//!
//! ```
//! use chorus_core::crypto::{Keypair, SecretKey};
//! use chorus_core::node::PeerId;
//! use chorus_core::security::{SecurityError, SecurityLimits, SecurityManager};
//! use chorus_core::time::Timestamp;
//! use std::time::Duration;
//!
//! let mut security = SecurityManager::new(SecurityLimits::default());
//! let peer = PeerId::new([1]);
//! let key = Keypair::from_secret_key(&SecretKey::from_secret_bytes([1; 32]).unwrap()).public_key();
//! let now = Timestamp::from_millis(0);
//!
//! security.check_advertisement(now, &peer, &key)?;
//! security.record_advertisement(now, &peer, &key);
//! let soon = now.saturating_add(Duration::from_secs(30));
//! assert!(matches!(
//!     security.check_advertisement(soon, &peer, &key),
//!     Err(SecurityError::RateLimited { .. })
//! ));
//! let later = now.saturating_add(Duration::from_secs(60));
//! security.check_advertisement(later, &peer, &key)?;
//! # Ok::<(), SecurityError>(())
//! ```

mod error;
mod event;
mod limits;
mod manager;
#[cfg(test)]
mod tests;

pub use error::{RejectionKind, SecurityError};
pub use event::{BlacklistReason, SecurityEvent, SecurityMetrics};
pub use limits::SecurityLimits;
pub use manager::{PeerStanding, SecurityManager, MAX_REPUTATION};
