//! `chorus sign`: a complete n-party MuSig2 signing run inside one process.
//!
//! One session-engine [`Node`] per signer runs the real protocol — announcement, joins,
//! nonce commitments, nonces, partial signatures, the coordinator election — and the bytes
//! every node sends are handed to their recipient's [`Node::handle_message`] in a plain
//! loop, as a network would deliver them. The result is checked the way an outsider
//! checks it: every node holds the same signature, and it verifies under the aggregate key.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use chorus_core::crypto::{
    verify, verify_xonly, Dialect, KeyAggContext, Keypair, SecretKey, Signature,
};
use chorus_core::election::ElectionMethod;
use chorus_core::node::{Config, Event, Node, PeerId, Progress, SessionSpec};
use chorus_core::time::Timestamp;
use chorus_core::wire::{SessionId, SessionOptions, Topology};
use rand::RngCore;
use serde::Serialize;

use super::keygen::random_secret_key;
use super::{parse, write_json_line, CliError, EXIT_SUCCESS};

/// Arguments of `chorus sign`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("signer_keys").required(true).args(["secrets", "generate"]))]
pub(crate) struct SignArgs {
    /// Signature dialect: bip340 or lotus.
    #[arg(long, value_name = "DIALECT")]
    dialect: Dialect,
    /// The 32-byte message to sign, in hex.
    #[arg(long, value_name = "HEX32")]
    message: String,
    /// How round messages travel: aggregator (to and from the elected coordinator) or mesh
    /// (everyone to everyone).
    #[arg(long, value_name = "TOPOLOGY", default_value_t = Topology::Aggregator)]
    topology: Topology,
    /// Election method: lexicographic, hash-based, first-signer, last-signer or salted.
    #[arg(long, value_name = "METHOD", default_value_t = ElectionMethod::Lexicographic)]
    election: ElectionMethod,
    /// Sign with this many fresh random keys (1 to 1000) instead of given secret keys.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    generate: Option<u16>,
    /// The signers' 32-byte secret keys in hex (each key once).
    #[arg(value_name = "SECRET")]
    secrets: Vec<String>,
}

/// The output line; `signers` is the sorted signer list the aggregate key commits to and
/// `coordinator` the key the election chose.
#[derive(Serialize)]
struct SignLine {
    aggregate_key: String,
    xonly_key: Option<String>,
    signature: String,
    signers: Vec<String>,
    coordinator: String,
    topology: String,
}

pub(crate) fn run(args: &SignArgs, out: &mut dyn Write) -> Result<i32, CliError> {
    let message = parse::fixed_hex::<32>("--message", &args.message)?;
    let secrets = match args.generate {
        Some(count) => {
            let mut rng = rand::rng();
            (0..count).map(|_| random_secret_key(&mut rng)).collect()
        }
        None => parse::secret_keys("SECRET", &args.secrets)?,
    };
    let keypairs = distinct_keypairs(&secrets)?;
    let mut spec = SessionSpec::new(
        keypairs.iter().map(Keypair::public_key).collect(),
        message,
        args.dialect,
    );
    spec.election = args.election;
    spec.options = SessionOptions {
        topology: args.topology,
        ..SessionOptions::default()
    };
    let outcome = Network::new(&keypairs).sign(spec)?;

    let context = KeyAggContext::new(args.dialect, &outcome.signers)?;
    check_final_signature(&context, &message, &outcome.signature)?;
    let line = SignLine {
        aggregate_key: hex::encode(context.aggregate_key().serialize()),
        xonly_key: context
            .xonly_key()
            .map(|key| hex::encode(key.to_byte_array())),
        signature: hex::encode(outcome.signature.0),
        signers: outcome
            .signers
            .iter()
            .map(|key| hex::encode(key.serialize()))
            .collect(),
        coordinator: hex::encode(outcome.coordinator.serialize()),
        topology: args.topology.to_string(),
    };
    write_json_line(out, &line)?;
    Ok(EXIT_SUCCESS)
}

/// One key pair per secret; a session lists every signer once.
fn distinct_keypairs(secrets: &[SecretKey]) -> Result<Vec<Keypair>, CliError> {
    let keypairs: Vec<Keypair> = secrets.iter().map(Keypair::from_secret_key).collect();
    let mut seen = BTreeMap::new();
    for (position, keypair) in keypairs.iter().enumerate() {
        if let Some(first) = seen.insert(keypair.public_key().serialize(), position) {
            return Err(CliError::invalid(
                format!("SECRET #{}", position + 1),
                format!(
                    "the same key as SECRET #{} (each signer signs once)",
                    first + 1
                ),
            ));
        }
    }
    Ok(keypairs)
}

/// What the nodes agreed on.
struct Outcome {
    /// The session's signers, sorted.
    signers: Vec<chorus_core::crypto::PublicKey>,
    coordinator: chorus_core::crypto::PublicKey,
    signature: Signature,
}

/// One node per signer and the messages in flight between them.
struct Network {
    nodes: Vec<Node>,
    /// Each node's peer id (its key, as an in-memory transport names peers).
    peers: Vec<PeerId>,
    /// Node index by compressed key.
    index: BTreeMap<[u8; 33], usize>,
    in_flight: VecDeque<(usize, chorus_core::node::Transmit)>,
    now: Timestamp,
    signatures: Vec<Option<Signature>>,
    broadcasters: Vec<usize>,
}

impl Network {
    /// Nodes seeded from the operating system's randomness, all on the current time.
    fn new(keypairs: &[Keypair]) -> Self {
        let now = Timestamp::from_millis(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| {
                    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
                }),
        );
        let mut rng = rand::rng();
        let nodes = keypairs
            .iter()
            .map(|keypair| {
                let mut seed = [0u8; 32];
                rng.fill_bytes(&mut seed);
                Node::new(Config::default(), *keypair, seed, now)
            })
            .collect();
        Network {
            nodes,
            peers: keypairs
                .iter()
                .map(|keypair| PeerId::from_key(&keypair.public_key()))
                .collect(),
            index: keypairs
                .iter()
                .enumerate()
                .map(|(i, keypair)| (keypair.public_key().serialize(), i))
                .collect(),
            in_flight: VecDeque::new(),
            now,
            signatures: vec![None; keypairs.len()],
            broadcasters: Vec::new(),
        }
    }

    /// Node 0 creates the session; every node joins what is announced; the bytes flow
    /// until no node has anything left to send.
    fn sign(mut self, spec: SessionSpec) -> Result<Outcome, CliError> {
        let first = self
            .nodes
            .first_mut()
            .ok_or_else(|| CliError::invalid("SECRET", "at least one signer is needed"))?;
        let session = first
            .create_session(self.now, spec)
            .map_err(|error| CliError::Internal(format!("creating the session: {error}")))?;
        self.collect(0)?;
        while let Some((from, transmit)) = self.in_flight.pop_front() {
            let to = *self.index.get(&transmit.to.serialize()).ok_or_else(|| {
                CliError::Internal("a node sent a message to a stranger".to_owned())
            })?;
            self.nodes[to]
                .handle_message(
                    self.now,
                    self.peers[from].clone(),
                    transmit.channel,
                    &transmit.bytes,
                )
                .map_err(|rejection| {
                    CliError::Internal(format!(
                        "node {to} refused node {from}'s message: {rejection}"
                    ))
                })?;
            self.collect(to)?;
        }
        self.outcome(&session)
    }

    /// Moves node `i`'s transmits into flight and acts on its events.
    fn collect(&mut self, i: usize) -> Result<(), CliError> {
        loop {
            let mut any = false;
            while let Some(event) = self.nodes[i].poll_event() {
                any = true;
                match event {
                    Event::SessionAnnounced { session, .. } => self.nodes[i]
                        .join_session(self.now, &session, Progress::Automatic)
                        .map_err(|error| CliError::Internal(format!("joining: {error}")))?,
                    Event::SessionComplete { signature, .. } => {
                        self.signatures[i] = Some(signature);
                    }
                    Event::ShouldBroadcast { .. } => self.broadcasters.push(i),
                    Event::SessionAborted { reason, .. } => {
                        return Err(CliError::Internal(format!(
                            "node {i} aborted the session: {reason:?}"
                        )))
                    }
                    _ => {}
                }
            }
            while let Some(transmit) = self.nodes[i].poll_transmit() {
                any = true;
                self.in_flight.push_back((i, transmit));
            }
            if !any {
                return Ok(());
            }
        }
    }

    /// Every node completed with the same signature; exactly one, the coordinator, was
    /// asked to broadcast it.
    fn outcome(&self, session: &SessionId) -> Result<Outcome, CliError> {
        let view = self
            .nodes
            .first()
            .and_then(|node| node.session(session))
            .ok_or_else(|| CliError::Internal("the session disappeared".to_owned()))?;
        let signature = self.signatures.first().copied().flatten();
        let agreed = signature.filter(|first| {
            self.signatures
                .iter()
                .all(|signature| *signature == Some(*first))
        });
        let signature = agreed.ok_or_else(|| {
            CliError::Internal("the nodes do not all hold the same signature".to_owned())
        })?;
        let coordinator = view.election().coordinator;
        let broadcaster_is_coordinator = matches!(
            self.broadcasters.as_slice(),
            [only] if self.peers[*only].as_bytes() == coordinator.serialize()
        );
        if !broadcaster_is_coordinator {
            return Err(CliError::Internal(
                "the elected coordinator was not (alone) asked to broadcast".to_owned(),
            ));
        }
        Ok(Outcome {
            signers: view.signers().to_vec(),
            coordinator,
            signature,
        })
    }
}

fn check_final_signature(
    context: &KeyAggContext,
    message: &[u8; 32],
    signature: &Signature,
) -> Result<(), CliError> {
    let under_full_key = verify(
        context.dialect(),
        &context.aggregate_key(),
        message,
        signature,
    );
    let under_xonly_key = context
        .xonly_key()
        .is_none_or(|key| verify_xonly(&key, message, signature));
    if under_full_key && under_xonly_key {
        Ok(())
    } else {
        Err(CliError::Internal(
            "the aggregate signature does not verify".to_owned(),
        ))
    }
}
