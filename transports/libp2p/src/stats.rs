//! Counters of what a libp2p node delivered, refused and dropped.

/// Running counts kept by a [`Libp2pTransport`](crate::Libp2pTransport), for logs, metrics
/// and tests: everything dropped is counted somewhere here.
///
/// ```
/// use chorus_libp2p::Libp2pStats;
///
/// let stats = Libp2pStats::default();
/// assert_eq!(stats.delivered(), 0);
/// assert_eq!(stats.dropped_inbound(), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Libp2pStats {
    /// Direct messages handed to the driver.
    pub delivered_direct: u64,
    /// Topic messages handed to the driver.
    pub delivered_gossip: u64,
    /// DHT records found and handed to the driver.
    pub delivered_records: u64,
    /// Inbound messages refused for their size.
    pub dropped_oversized: u64,
    /// Inbound messages that could not be read (bad tag, no author, truncated stream).
    pub dropped_undecodable: u64,
    /// Inbound items dropped because the driver had too many waiting.
    pub dropped_backlog: u64,
    /// Inbound direct exchanges that failed for another reason (timeout, reset stream).
    pub inbound_failures: u64,
    /// Incoming connections that failed before they were up (bad handshake, garbage).
    pub connection_errors: u64,
    /// Outgoing items refused before they reached the network (too big, bad peer id,
    /// too many queued for one peer, too many lookups).
    pub refused_outgoing: u64,
    /// Direct messages the recipient acknowledged.
    pub acknowledged_direct: u64,
    /// Direct messages that could not be delivered (each also reported as
    /// [`Incoming::Undeliverable`](chorus_core::transport::Incoming::Undeliverable)).
    pub failed_direct: u64,
    /// Publications GossipSub refused (no subscriber known, queues full, duplicate).
    pub failed_publish: u64,
    /// DHT stores that reached no other peer (the record is still kept locally).
    pub failed_record_puts: u64,
    /// DHT lookups that found nothing.
    pub records_not_found: u64,
    /// The most incoming items that ever waited for the driver at once.
    pub peak_backlog: usize,
}

impl Libp2pStats {
    /// Messages and records handed to the driver.
    ///
    /// ```
    /// let stats = chorus_libp2p::Libp2pStats::default();
    /// assert_eq!(stats.delivered(), stats.delivered_direct + stats.delivered_gossip + stats.delivered_records);
    /// ```
    pub fn delivered(&self) -> u64 {
        self.delivered_direct + self.delivered_gossip + self.delivered_records
    }

    /// Inbound messages dropped for their size, their form, or a full backlog.
    ///
    /// ```
    /// let stats = chorus_libp2p::Libp2pStats::default();
    /// assert_eq!(stats.dropped_inbound(), stats.dropped_oversized + stats.dropped_undecodable + stats.dropped_backlog);
    /// ```
    pub fn dropped_inbound(&self) -> u64 {
        self.dropped_oversized + self.dropped_undecodable + self.dropped_backlog
    }
}
