//! What a driver is configured with.

use chorus_core::node::Config;

/// How a [`NodeDriver`](super::NodeDriver) runs its node: the core's configuration plus
/// the driver's own bounds.
///
/// The driver overrides [`Config::peer_id`] with its transport's
/// [`local_peer`](chorus_core::transport::Transport::local_peer), so that advertisements
/// and join proofs name the peer the transport delivers to.
///
/// ```
/// use chorus_node::driver::DriverConfig;
///
/// let config = DriverConfig::new(["spend"]);
/// assert_eq!(config.transaction_types, ["spend"]);
/// assert!(config.command_capacity > 0 && config.event_capacity > 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverConfig {
    /// The core's limits and timeouts.
    pub node: Config,
    /// The transaction types whose signer-advertisement topics the node subscribes to at
    /// start ([`signer_topic`](chorus_core::discovery::signer_topic)); the request topic
    /// is always subscribed.
    pub transaction_types: Vec<String>,
    /// How many commands may wait for the driver (default 64); a caller beyond that waits.
    pub command_capacity: usize,
    /// How many events each subscriber may fall behind (default 1,024); a subscriber that
    /// falls further behind misses the oldest ones
    /// ([`NodeEvents::missed`](super::NodeEvents::missed)).
    pub event_capacity: usize,
    /// How many signer keys the address book maps to peers (default 4,096); past that the
    /// entry written longest ago is forgotten.
    pub address_book_capacity: usize,
    /// Whether a session message for a key the address book does not know goes to
    /// [`PeerId::from_key`](chorus_core::node::PeerId::from_key) of that key, as transports
    /// that name peers by their signing key expect (the QUIC one); `false` by default, so
    /// such messages are counted and dropped.
    pub route_unknown_keys_by_key: bool,
}

impl DriverConfig {
    /// The default configuration, subscribed to the advertisements of `transaction_types`.
    pub fn new<I, S>(transaction_types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        DriverConfig {
            transaction_types: transaction_types.into_iter().map(Into::into).collect(),
            ..DriverConfig::default()
        }
    }
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            node: Config::default(),
            transaction_types: Vec::new(),
            command_capacity: 64,
            event_capacity: 1_024,
            address_book_capacity: 4_096,
            route_unknown_keys_by_key: false,
        }
    }
}
