//! `chorus node`: one long-lived signer on the network.
//!
//! It advertises the transaction types it signs, joins by itself every signing request for
//! its key that its policy ([`super::policy`]) allows, takes part in the sessions, and
//! prints every event as one JSON line until Ctrl-C. It does not broadcast transactions
//! itself — that is the wallet's job — so a `should_broadcast` line is for whoever
//! operates it; if nobody confirms, the session's failover moves on to the next signer.

// Only the network transports (the `libp2p` and `quic` features) serve a node.
#![cfg_attr(not(any(feature = "libp2p", feature = "quic")), allow(dead_code))]

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chorus_core::crypto::Keypair;
use chorus_core::discovery::{AdvertisementSpec, DiscoveryEvent, RequestId, SignerCriteria};
use chorus_core::node::Progress;
use chorus_core::transport::Transport;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::event_json::event_json;
use super::node_settings::{
    public_hex, read_key_file, ConfigFile, NodeFlags, NodeSettings, NodeTransport,
};
use super::policy::Policy;
use super::{write_json_line, CliError, EXIT_SUCCESS};
use crate::driver::{spawn, DriverConfig, NodeEvent, NodeHandle};

/// How long an advertisement lives; the node renews it at half that.
const ADVERTISEMENT_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// How long after a new connection the node advertises again, so that the new peer has
/// exchanged topic subscriptions with it first.
const ADVERTISE_SETTLE: Duration = Duration::from_secs(2);

/// The shortest time between two advertisements: the core refuses more than one a
/// minute (SPEC §4), and a second of margin.
const ADVERTISE_INTERVAL: Duration = Duration::from_secs(61);

/// The longest a bootstrapping node waits for its first connection before advertising.
const FIRST_CONNECTION_WAIT: Duration = Duration::from_secs(10);

/// When the node (re-)advertises: at first shortly after its first connection (at once
/// when it has no peers to wait for, and after [`FIRST_CONNECTION_WAIT`] at the latest),
/// then at half the lifetime, and shortly after each new peer connects (no sooner than the
/// rate limit allows), so a peer that arrives after the last advertisement hears of this
/// signer without waiting for the renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AdvertiseSchedule {
    last: Option<Instant>,
    /// `None`: never (the node advertises nothing).
    next: Option<Instant>,
}

impl AdvertiseSchedule {
    fn new(enabled: bool, bootstrapping: bool, now: Instant) -> Self {
        let first = if bootstrapping {
            now + FIRST_CONNECTION_WAIT
        } else {
            now
        };
        AdvertiseSchedule {
            last: None,
            next: enabled.then_some(first),
        }
    }

    fn advertised(&mut self, now: Instant) {
        if self.next.is_some() {
            self.last = Some(now);
            self.next = Some(now + ADVERTISEMENT_LIFETIME / 2);
        }
    }

    fn peer_connected(&mut self, now: Instant) {
        let Some(next) = self.next else {
            return;
        };
        let settled = now + ADVERTISE_SETTLE;
        let allowed = self.last.map_or(settled, |last| last + ADVERTISE_INTERVAL);
        self.next = Some(next.min(settled.max(allowed)));
    }
}

/// Sleeps until `deadline`, or for ever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Arguments of `chorus node`.
#[derive(Debug, clap::Args)]
pub(crate) struct NodeArgs {
    /// A TOML file holding any of these settings; flags given here override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The transport: libp2p (default) or quic.
    #[arg(long, value_name = "TRANSPORT", value_enum)]
    transport: Option<NodeTransport>,
    /// Where to listen: a multiaddr for libp2p (repeatable; default 127.0.0.1, a free TCP
    /// port), IP:PORT for quic (default: the node's own entry in the peers file).
    #[arg(long, value_name = "ADDR")]
    listen: Vec<String>,
    /// A libp2p peer to connect to first, as a multiaddr ending in /p2p/PEER-ID (repeatable).
    #[arg(long, value_name = "ADDR")]
    bootstrap: Vec<String>,
    /// The signer's key file: its 32-byte secret key as 64 hex digits on one line (what
    /// `chorus keygen` prints as "secret").
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Transaction types to advertise, comma-separated (none: the node does not advertise).
    #[arg(long, value_name = "TYPES", value_delimiter = ',')]
    advertise: Vec<String>,
    /// The TOML policy of the requests to join (without one, no request is joined).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The QUIC group's peers file (quic only).
    #[arg(long, value_name = "FILE")]
    peers: Option<PathBuf>,
    /// The nickname to advertise.
    #[arg(long, value_name = "NAME")]
    nickname: Option<String>,
}

pub(crate) fn run(args: &NodeArgs, out: &mut dyn Write) -> Result<i32, CliError> {
    let file = match &args.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    let flags = NodeFlags {
        transport: args.transport,
        listen: args.listen.clone(),
        bootstrap: args.bootstrap.clone(),
        key: args.key.clone(),
        advertise: args.advertise.clone(),
        policy: args.policy.clone(),
        peers: args.peers.clone(),
        nickname: args.nickname.clone(),
    };
    let settings = NodeSettings::merge(flags, file)?;
    let identity = read_key_file(&settings.key)?;
    let policy = match &settings.policy {
        Some(path) => Policy::read(path)?,
        None => Policy::refuse_all(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Internal(format!("starting the async runtime: {error}")))?;
    let stop = async {
        // Without a Ctrl-C handler the node stops at once rather than run unstoppable.
        let _ = tokio::signal::ctrl_c().await;
    };
    runtime.block_on(start(&settings, identity, policy, out, stop))?;
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(EXIT_SUCCESS)
}

/// Starts the configured transport and serves on it.
async fn start(
    settings: &NodeSettings,
    identity: Keypair,
    policy: Policy,
    out: &mut dyn Write,
    stop: impl Future<Output = ()>,
) -> Result<(), CliError> {
    let serve_settings = ServeSettings {
        advertise: settings.advertise.clone(),
        nickname: settings.nickname.clone().unwrap_or_default(),
        policy,
        route_unknown_keys_by_key: settings.transport == NodeTransport::Quic,
        bootstrapping: !settings.bootstrap.is_empty() || settings.transport == NodeTransport::Quic,
    };
    match settings.transport {
        NodeTransport::Libp2p => start_libp2p(settings, identity, serve_settings, out, stop).await,
        NodeTransport::Quic => start_quic(settings, identity, serve_settings, out, stop).await,
    }
}

#[cfg(feature = "libp2p")]
async fn start_libp2p(
    settings: &NodeSettings,
    identity: Keypair,
    serve_settings: ServeSettings,
    out: &mut dyn Write,
    stop: impl Future<Output = ()>,
) -> Result<(), CliError> {
    let parse = |flag: &str, texts: &[String]| {
        texts
            .iter()
            .map(|text| {
                text.parse()
                    .map_err(|error| CliError::invalid(flag, format!("not a multiaddr: {error}")))
            })
            .collect::<Result<Vec<chorus_libp2p::Multiaddr>, CliError>>()
    };
    let mut config = chorus_libp2p::Libp2pConfig::default();
    if !settings.listen.is_empty() {
        config.listen = parse("--listen", &settings.listen)?;
    }
    config.bootstrap = parse("--bootstrap", &settings.bootstrap)?;
    let transport = chorus_libp2p::Libp2pTransport::start(config)
        .await
        .map_err(|error| CliError::Internal(format!("starting libp2p: {error}")))?;
    let listening = transport
        .listen_addrs()
        .iter()
        .map(ToString::to_string)
        .collect();
    serve(transport, identity, serve_settings, listening, out, stop).await
}

#[cfg(not(feature = "libp2p"))]
async fn start_libp2p(
    _settings: &NodeSettings,
    _identity: Keypair,
    _serve_settings: ServeSettings,
    _out: &mut dyn Write,
    _stop: impl Future<Output = ()>,
) -> Result<(), CliError> {
    Err(CliError::invalid(
        "--transport",
        "libp2p transport not available (built without the libp2p feature)",
    ))
}

#[cfg(feature = "quic")]
async fn start_quic(
    settings: &NodeSettings,
    identity: Keypair,
    serve_settings: ServeSettings,
    out: &mut dyn Write,
    stop: impl Future<Output = ()>,
) -> Result<(), CliError> {
    if !settings.bootstrap.is_empty() {
        return Err(CliError::invalid(
            "--bootstrap",
            "is for libp2p; the quic transport reads its group from --peers",
        ));
    }
    let peers_file = settings
        .peers
        .as_ref()
        .ok_or_else(|| CliError::invalid("--peers", "the quic transport needs a peers file"))?;
    let peers = chorus_quic::read_peers_file(peers_file)
        .map_err(|error| CliError::invalid("--peers", error.to_string()))?;
    let listen = quic_listen(&settings.listen, &peers, &identity)?;
    let config = chorus_quic::QuicConfig {
        listen,
        peers,
        ..chorus_quic::QuicConfig::default()
    };
    let transport = chorus_quic::QuicTransport::start(config, &identity)
        .await
        .map_err(|error| CliError::Internal(format!("starting quic: {error}")))?;
    let listening = vec![transport.local_addr().to_string()];
    serve(transport, identity, serve_settings, listening, out, stop).await
}

/// The address a quic node listens on: `--listen` if given, else its own entry in the
/// peers file (which the whole group shares).
#[cfg(feature = "quic")]
fn quic_listen(
    listen: &[String],
    peers: &[chorus_quic::QuicPeer],
    identity: &Keypair,
) -> Result<std::net::SocketAddr, CliError> {
    match listen {
        [one] => one
            .parse()
            .map_err(|_| CliError::invalid("--listen", "expected IP:PORT for quic")),
        [] => peers
            .iter()
            .find(|peer| peer.key == identity.public_key())
            .map(|peer| peer.address)
            .ok_or_else(|| {
                CliError::invalid(
                    "--listen",
                    "needed for quic when the peers file has no entry for this node's key",
                )
            }),
        _ => Err(CliError::invalid(
            "--listen",
            "quic listens on exactly one IP:PORT",
        )),
    }
}

#[cfg(not(feature = "quic"))]
async fn start_quic(
    _settings: &NodeSettings,
    _identity: Keypair,
    _serve_settings: ServeSettings,
    _out: &mut dyn Write,
    _stop: impl Future<Output = ()>,
) -> Result<(), CliError> {
    Err(CliError::invalid(
        "--transport",
        "quic transport not available (built without the quic feature)",
    ))
}

/// What a serving node does, whatever its transport.
#[derive(Debug, Clone)]
pub(crate) struct ServeSettings {
    pub(crate) advertise: Vec<String>,
    pub(crate) nickname: String,
    pub(crate) policy: Policy,
    pub(crate) route_unknown_keys_by_key: bool,
    /// Whether the node connects to peers at start, so its first advertisement waits for
    /// them.
    pub(crate) bootstrapping: bool,
}

/// Runs a node over `transport` until `stop` resolves or its driver stops, printing
/// every event as a JSON line.
pub(crate) async fn serve<T: Transport>(
    transport: T,
    identity: Keypair,
    settings: ServeSettings,
    listening: Vec<String>,
    out: &mut dyn Write,
    stop: impl Future<Output = ()>,
) -> Result<(), CliError> {
    let config = DriverConfig {
        route_unknown_keys_by_key: settings.route_unknown_keys_by_key,
        ..DriverConfig::new(settings.advertise.iter().cloned())
    };
    let running = spawn(identity, transport, config)
        .map_err(|error| CliError::Internal(format!("starting the node: {error}")))?;
    let (handle, mut events) = (running.handle, running.events);
    emit(
        out,
        &json!({
            "event": "started", "key": public_hex(&identity.public_key()),
            "peer": handle.peer_id().to_string(), "listen": listening,
            "advertise": settings.advertise,
        }),
    )?;
    let mut schedule = AdvertiseSchedule::new(
        !settings.advertise.is_empty(),
        settings.bootstrapping,
        Instant::now(),
    );
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            () = sleep_until(schedule.next) => {
                advertise(&handle, &settings, out).await?;
                schedule.advertised(Instant::now());
            }
            event = events.next() => {
                let Some(event) = event else { break };
                emit(out, &event_json(&event))?;
                match event {
                    NodeEvent::Discovery(DiscoveryEvent::RequestReceived { request, .. }) => {
                        consider(&handle, &settings.policy, &request, out).await?;
                    }
                    NodeEvent::PeerConnected { .. } => schedule.peer_connected(Instant::now()),
                    _ => {}
                }
            }
        }
    }
    let _ = handle.shutdown().await;
    let report = running
        .task
        .await
        .map_err(|error| CliError::Internal(format!("the node task failed: {error}")))?;
    emit(
        out,
        &json!({
            "event": "stopped", "reason": format!("{:?}", report.reason),
            "messages_received": report.stats.messages_received,
            "messages_rejected": report.stats.messages_rejected,
        }),
    )
}

/// Advertises (or renews the advertisement of) the configured transaction types.
async fn advertise(
    handle: &NodeHandle,
    settings: &ServeSettings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut spec = AdvertisementSpec::new(
        SignerCriteria::new(settings.advertise.iter().cloned()),
        ADVERTISEMENT_LIFETIME,
    );
    spec.metadata.nickname.clone_from(&settings.nickname);
    if let Err(error) = handle.advertise(spec).await {
        emit(
            out,
            &json!({"event": "advertise_failed", "reason": error.to_string()}),
        )?;
    }
    Ok(())
}

/// Joins `request` if it needs this node's key and the policy allows it.
async fn consider(
    handle: &NodeHandle,
    policy: &Policy,
    request: &RequestId,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let Ok(pending) = handle.requests_for_me().await else {
        return Ok(()); // the driver is stopping
    };
    // A request not listed needs another key, or was joined already.
    let Some(found) = pending.iter().find(|pending| pending.id() == *request) else {
        return Ok(());
    };
    let line = match policy.decide(found, &handle.public_key()) {
        Ok(()) => match handle.join_request(request, Progress::Automatic).await {
            Ok(()) => json!({"event": "request_accepted", "request": request.to_string()}),
            Err(error) => json!({
                "event": "request_join_failed", "request": request.to_string(),
                "reason": error.to_string(),
            }),
        },
        Err(refusal) => json!({
            "event": "request_refused", "request": request.to_string(),
            "reason": refusal.to_string(),
        }),
    };
    emit(out, &line)
}

/// Writes one JSON line and flushes it, so a reader sees events as they happen.
fn emit(out: &mut dyn Write, line: &Value) -> Result<(), CliError> {
    write_json_line(out, line)?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chorus_core::crypto::{Dialect, SecretKey};
    use chorus_core::discovery::{RequestMetadata, RequestSpec, SignerFilter};
    use chorus_core::node::Event;
    use chorus_memory::MemoryNetwork;

    fn keypair(byte: u8) -> Keypair {
        Keypair::from_secret_key(&SecretKey::from_secret_bytes([byte; 32]).unwrap())
    }

    /// Standard output that the test can read while the node writes it.
    #[derive(Clone, Default)]
    struct SharedOutput(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl SharedOutput {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    impl Write for SharedOutput {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn request(keys: Vec<chorus_core::crypto::PublicKey>, kind: &str) -> RequestSpec {
        RequestSpec {
            metadata: RequestMetadata {
                transaction_type: Some(kind.into()),
                ..RequestMetadata::default()
            },
            ..RequestSpec::new(keys, [4; 32], Dialect::Bip340, Duration::from_secs(600))
        }
    }

    /// A creator finds the serving node, asks it to sign a "swap" (refused) and a
    /// "spend" (joined and signed), then stops it.
    async fn creator(
        network: MemoryNetwork,
        served: chorus_core::crypto::PublicKey,
        stop: tokio::sync::oneshot::Sender<()>,
    ) {
        let mut creator = spawn(
            keypair(2),
            network.transport(),
            DriverConfig::new(["spend"]),
        )
        .unwrap();
        let filter = SignerFilter {
            transaction_type: Some("spend".into()),
            ..SignerFilter::default()
        };
        while creator
            .handle
            .find_signers(filter.clone())
            .await
            .unwrap()
            .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let keys = vec![served, creator.handle.public_key()];
        for kind in ["swap", "spend"] {
            creator
                .handle
                .announce_request(request(keys.clone(), kind), Progress::Automatic)
                .await
                .unwrap();
        }
        loop {
            if let Some(NodeEvent::Session(Event::SessionComplete { .. })) =
                creator.events.next().await
            {
                break;
            }
        }
        stop.send(()).unwrap();
        creator.handle.shutdown().await.unwrap();
    }

    #[test]
    fn advertises_at_once_then_after_new_peers_within_the_rate_limit() {
        let start = Instant::now();
        let mut waiting = AdvertiseSchedule::new(true, true, start);
        assert_eq!(waiting.next, Some(start + FIRST_CONNECTION_WAIT));
        waiting.peer_connected(start + Duration::from_secs(1));
        assert_eq!(
            waiting.next,
            Some(start + Duration::from_secs(1) + ADVERTISE_SETTLE)
        );

        let mut schedule = AdvertiseSchedule::new(true, false, start);
        assert_eq!(schedule.next, Some(start));
        schedule.advertised(start);
        assert_eq!(schedule.next, Some(start + ADVERTISEMENT_LIFETIME / 2));
        schedule.peer_connected(start + Duration::from_secs(1));
        assert_eq!(
            schedule.next,
            Some(start + ADVERTISE_INTERVAL),
            "not before the rate limit"
        );
        let later = start + Duration::from_secs(600);
        schedule.advertised(later);
        schedule.peer_connected(later + ADVERTISE_INTERVAL);
        assert_eq!(
            schedule.next,
            Some(later + ADVERTISE_INTERVAL + ADVERTISE_SETTLE)
        );

        let mut silent = AdvertiseSchedule::new(false, true, start);
        silent.peer_connected(start);
        silent.advertised(start);
        assert_eq!(
            silent.next, None,
            "a node that advertises nothing never does"
        );
    }

    #[cfg(feature = "quic")]
    #[test]
    fn quic_listens_at_the_flag_or_at_its_own_entry_of_the_peers_file() {
        let me = keypair(1);
        let other = keypair(2);
        let peer = |key: &Keypair, address: &str| chorus_quic::QuicPeer {
            key: key.public_key(),
            address: address.parse().unwrap(),
        };
        let peers = [peer(&other, "127.0.0.1:9002"), peer(&me, "127.0.0.1:9001")];
        let own = quic_listen(&[], &peers, &me).unwrap();
        assert_eq!(own, "127.0.0.1:9001".parse().unwrap());
        let flag = quic_listen(&["0.0.0.0:7000".into()], &peers, &me).unwrap();
        assert_eq!(flag, "0.0.0.0:7000".parse().unwrap());
        let refusals = [
            quic_listen(&[], &peers[..1], &me),
            quic_listen(&["/ip4/127.0.0.1/udp/1".into()], &peers, &me),
            quic_listen(&["127.0.0.1:1".into(), "127.0.0.1:2".into()], &peers, &me),
        ];
        for refusal in refusals {
            let message = refusal.unwrap_err().to_string();
            assert!(message.starts_with("invalid --listen"), "{message}");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn serves_requests_its_policy_allows_and_prints_json_lines() {
        let network = MemoryNetwork::new();
        let identity = keypair(1);
        let settings = ServeSettings {
            advertise: vec!["spend".into()],
            nickname: "test".into(),
            policy: Policy::parse("transaction_types = [\"spend\"]").unwrap(),
            route_unknown_keys_by_key: false,
            bootstrapping: false,
        };
        let (stop_sender, stop) = tokio::sync::oneshot::channel::<()>();
        let output = SharedOutput::default();
        let mut out = output.clone();
        let transport = network.transport();
        // Stop once the creator is done and the served node printed its own signature.
        let watched = output.clone();
        let served = serve(
            transport,
            identity,
            settings,
            Vec::new(),
            &mut out,
            async move {
                let _ = stop.await;
                while !watched.text().contains("\"session_complete\"") {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            },
        );
        let (served, ()) = tokio::time::timeout(Duration::from_secs(30), async {
            tokio::join!(
                served,
                creator(network.clone(), identity.public_key(), stop_sender)
            )
        })
        .await
        .unwrap();
        served.unwrap();
        let lines: Vec<Value> = output
            .text()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let events: Vec<&str> = lines
            .iter()
            .map(|line| line["event"].as_str().unwrap())
            .collect();
        assert_eq!(events.first(), Some(&"started"));
        assert_eq!(events.last(), Some(&"stopped"));
        let refused = lines
            .iter()
            .find(|line| line["event"] == "request_refused")
            .unwrap();
        assert_eq!(
            refused["reason"],
            json!("transaction type \"swap\" is not allowed")
        );
        assert_eq!(
            events
                .iter()
                .filter(|event| **event == "request_accepted")
                .count(),
            1
        );
        assert!(events.contains(&"signer_advertised"));
        assert!(events.contains(&"session_complete"));
    }
}
