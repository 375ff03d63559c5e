//! `chorus demo`: N local signers run the whole flow — advertise, discover, request, join,
//! two MuSig2 rounds, election, broadcast (with silent coordinators to show failover) and
//! confirmation — each on its own node driver, and the program reports what happened.

use std::io::Write;
use std::time::Duration;

use chorus_core::crypto::Dialect;
use chorus_core::discovery::MAX_REQUIRED_KEYS;
use chorus_core::wire::{Topology, MAX_BROADCAST_TIMEOUT_MS, MIN_BROADCAST_TIMEOUT_MS};
use serde::Serialize;
use tokio::time::Instant;

use super::demo_flow::{self, name, DemoOptions, DemoSummary, SessionSummary};
use super::demo_print::Printer;
use super::demo_transports::{DemoTransportKind, MemoryTransports};
use super::{write_json_line, CliError, EXIT_SUCCESS};

/// Arguments of `chorus demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// How many signers to start (2 to 100).
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u16).range(2..=MAX_REQUIRED_KEYS as i64))]
    signers: u16,
    /// The transport the signers talk over: memory (in-process), libp2p or quic (both on
    /// 127.0.0.1).
    #[arg(long, value_name = "TRANSPORT", value_enum, default_value_t = DemoTransportKind::Memory)]
    transport: DemoTransportKind,
    /// Signature dialect: bip340 or lotus.
    #[arg(long, value_name = "DIALECT", default_value_t = Dialect::Bip340)]
    dialect: Dialect,
    /// How round messages travel: aggregator (through the elected coordinator) or mesh.
    #[arg(long, value_name = "TOPOLOGY", default_value_t = Topology::Aggregator)]
    topology: Topology,
    /// How many coordinators in a row ignore their turn to broadcast (fewer than N), so
    /// the next in the failover order takes over after the broadcast timeout.
    #[arg(long, value_name = "K", default_value_t = 0)]
    silent_coordinators: u16,
    /// How many sessions to sign, one after the other (1 to 100).
    #[arg(long, value_name = "S", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=100))]
    sessions: u16,
    /// How long every signer waits for a coordinator's broadcast before moving on, in ms
    /// (1000 to 3600000; short, so failover shows quickly).
    #[arg(long, value_name = "MS", default_value_t = MIN_BROADCAST_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(MIN_BROADCAST_TIMEOUT_MS..=MAX_BROADCAST_TIMEOUT_MS))]
    broadcast_timeout_ms: u64,
    /// The longest the demo waits for any one step, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    step_timeout: u64,
    /// Print only one JSON object with the results, no progress lines.
    #[arg(long)]
    json: bool,
}

/// The final JSON line.
#[derive(Serialize)]
struct DemoLine {
    signers: usize,
    transport: &'static str,
    dialect: String,
    topology: String,
    silent_coordinators: u32,
    keys: Vec<String>,
    sessions: Vec<SessionLine>,
    timings_ms: RunTimings,
}

#[derive(Serialize)]
struct SessionLine {
    session: String,
    message: String,
    aggregate_key: String,
    signature: String,
    coordinator: usize,
    broadcaster: usize,
    broadcast_attempt: u32,
    failovers: Vec<FailoverLine>,
    transaction_id: String,
    timings_ms: SessionTimings,
}

#[derive(Serialize)]
struct FailoverLine {
    attempt: u32,
    node: usize,
    key: String,
}

#[derive(Serialize)]
struct SessionTimings {
    request_join: f64,
    rounds: f64,
    broadcast: f64,
}

#[derive(Serialize)]
struct RunTimings {
    startup: f64,
    discover: f64,
    total: f64,
}

pub(crate) fn run(args: &DemoArgs, out: &mut dyn Write) -> Result<i32, CliError> {
    let options = options(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| CliError::Internal(format!("starting the async runtime: {error}")))?;
    let summary = runtime.block_on(async {
        let started = Instant::now();
        let mut printer = Printer::new(&mut *out, started, args.json);
        printer.line(header(args, &options))?;
        match args.transport {
            DemoTransportKind::Memory => {
                demo_flow::run(MemoryTransports::default(), &options, printer).await
            }
            DemoTransportKind::Libp2p => run_libp2p(&options, printer).await,
            DemoTransportKind::Quic => run_quic(&options, printer).await,
        }
    })?;
    // The drivers are stopped; nothing left on the runtime needs to finish.
    runtime.shutdown_timeout(Duration::from_secs(1));
    if args.json {
        write_json_line(out, &json_line(args, &options, &summary))?;
    } else {
        write_summary(out, &options, &summary)?;
    }
    Ok(EXIT_SUCCESS)
}

#[cfg(feature = "libp2p")]
async fn run_libp2p(options: &DemoOptions, printer: Printer<'_>) -> Result<DemoSummary, CliError> {
    demo_flow::run(
        super::demo_transports::Libp2pTransports::default(),
        options,
        printer,
    )
    .await
}

#[cfg(not(feature = "libp2p"))]
async fn run_libp2p(
    _options: &DemoOptions,
    _printer: Printer<'_>,
) -> Result<DemoSummary, CliError> {
    Err(CliError::invalid(
        "--transport",
        "libp2p transport not available (built without the libp2p feature)",
    ))
}

#[cfg(feature = "quic")]
async fn run_quic(options: &DemoOptions, printer: Printer<'_>) -> Result<DemoSummary, CliError> {
    demo_flow::run(
        super::demo_transports::QuicTransports::default(),
        options,
        printer,
    )
    .await
}

#[cfg(not(feature = "quic"))]
async fn run_quic(_options: &DemoOptions, _printer: Printer<'_>) -> Result<DemoSummary, CliError> {
    Err(CliError::invalid(
        "--transport",
        "quic transport not available (built without the quic feature)",
    ))
}

/// Checks the arguments that clap cannot check on its own.
fn options(args: &DemoArgs) -> Result<DemoOptions, CliError> {
    if args.silent_coordinators >= args.signers {
        return Err(CliError::invalid(
            "--silent-coordinators",
            "must be fewer than --signers (someone has to broadcast)",
        ));
    }
    Ok(DemoOptions {
        signers: usize::from(args.signers),
        dialect: args.dialect,
        topology: args.topology,
        silent_coordinators: u32::from(args.silent_coordinators),
        sessions: usize::from(args.sessions),
        broadcast_timeout_ms: args.broadcast_timeout_ms,
        step_timeout: Duration::from_secs(args.step_timeout).saturating_add(
            Duration::from_millis(args.broadcast_timeout_ms)
                .saturating_mul(u32::from(args.silent_coordinators).saturating_add(1)),
        ),
    })
}

fn header(args: &DemoArgs, options: &DemoOptions) -> String {
    let silent = match options.silent_coordinators {
        0 => String::new(),
        1 => ", 1 silent coordinator".to_owned(),
        count => format!(", {count} silent coordinators"),
    };
    let sessions = match options.sessions {
        1 => String::new(),
        count => format!(", {count} sessions"),
    };
    format!(
        "chorus demo: {} signers over {}, {} dialect, {} topology, broadcast timeout {} ms{silent}{sessions}",
        options.signers,
        args.transport.name(),
        options.dialect,
        options.topology,
        options.broadcast_timeout_ms
    )
}

fn millis(span: Duration) -> f64 {
    (span.as_secs_f64() * 1_000_000.0).round() / 1_000.0
}

fn write_summary(
    out: &mut dyn Write,
    options: &DemoOptions,
    summary: &DemoSummary,
) -> Result<(), CliError> {
    for (number, session) in summary.sessions.iter().enumerate() {
        write_session(
            out,
            &summary.keys,
            number + 1,
            session,
            options.sessions > 1,
        )?;
    }
    writeln!(out, "timings")?;
    writeln!(
        out,
        "  startup {:.1} ms · discover {:.1} ms · total {:.1} ms",
        millis(summary.startup),
        millis(summary.discover),
        millis(summary.total)
    )?;
    Ok(())
}

fn write_session(
    out: &mut dyn Write,
    keys: &[chorus_core::crypto::PublicKey],
    number: usize,
    session: &SessionSummary,
    numbered: bool,
) -> Result<(), CliError> {
    if numbered {
        writeln!(out, "result of session {number}")?;
    } else {
        writeln!(out, "result")?;
    }
    writeln!(out, "  session         {}", session.session)?;
    writeln!(out, "  message         {}", hex::encode(session.message))?;
    writeln!(
        out,
        "  signature       {}",
        hex::encode(session.signature.0)
    )?;
    writeln!(
        out,
        "  aggregate key   {}",
        hex::encode(session.aggregate_key.serialize())
    )?;
    writeln!(
        out,
        "  coordinator     {}",
        name(keys, session.coordinator_node)
    )?;
    writeln!(
        out,
        "  broadcast by    {} at attempt {}, transaction {}",
        name(keys, session.broadcaster_node),
        session.broadcast_attempt,
        hex::encode(&session.transaction_id)
    )?;
    if session.failovers.is_empty() {
        writeln!(out, "  failovers       none")?;
    }
    for failover in &session.failovers {
        writeln!(
            out,
            "  failover        attempt {}: {} stayed silent",
            failover.attempt,
            name(keys, failover.node)
        )?;
    }
    writeln!(
        out,
        "  phases          request/join {:.1} ms · rounds to signature {:.1} ms · broadcast/confirmation {:.1} ms",
        millis(session.request_join),
        millis(session.rounds),
        millis(session.broadcast)
    )?;
    Ok(())
}

fn json_line(args: &DemoArgs, options: &DemoOptions, summary: &DemoSummary) -> DemoLine {
    let key_hex = |key: &chorus_core::crypto::PublicKey| hex::encode(key.serialize());
    DemoLine {
        signers: options.signers,
        transport: args.transport.name(),
        dialect: options.dialect.to_string(),
        topology: options.topology.to_string(),
        silent_coordinators: options.silent_coordinators,
        keys: summary.keys.iter().map(key_hex).collect(),
        sessions: summary
            .sessions
            .iter()
            .map(|session| SessionLine {
                session: session.session.to_string(),
                message: hex::encode(session.message),
                aggregate_key: key_hex(&session.aggregate_key),
                signature: hex::encode(session.signature.0),
                coordinator: session.coordinator_node,
                broadcaster: session.broadcaster_node,
                broadcast_attempt: session.broadcast_attempt,
                failovers: session
                    .failovers
                    .iter()
                    .map(|failover| FailoverLine {
                        attempt: failover.attempt,
                        node: failover.node,
                        key: key_hex(&failover.key),
                    })
                    .collect(),
                transaction_id: hex::encode(&session.transaction_id),
                timings_ms: SessionTimings {
                    request_join: millis(session.request_join),
                    rounds: millis(session.rounds),
                    broadcast: millis(session.broadcast),
                },
            })
            .collect(),
        timings_ms: RunTimings {
            startup: millis(summary.startup),
            discover: millis(summary.discover),
            total: millis(summary.total),
        },
    }
}
