//! `chorus elect`: the coordinator of a signer set and its failover order.

use std::io::Write;

use chorus_core::election::{elect, ElectionError, ElectionMethod};
use serde::Serialize;

use super::{parse, write_json_line, CliError, EXIT_SUCCESS};

/// Arguments of `chorus elect`.
#[derive(Debug, clap::Args)]
pub(crate) struct ElectArgs {
    /// Election method: lexicographic, hash-based, first-signer, last-signer or salted.
    #[arg(long, value_name = "METHOD", default_value_t = ElectionMethod::Lexicographic)]
    method: ElectionMethod,
    /// 32-byte session id in hex (required by, and only used by, the salted method).
    #[arg(long, value_name = "HEX32")]
    session_id: Option<String>,
    /// 33-byte compressed public keys in hex, in any order.
    #[arg(value_name = "PUBKEY", required = true)]
    keys: Vec<String>,
}

/// The output line; indices in `priority` are positions in the sorted key list.
#[derive(Serialize)]
struct ElectLine {
    coordinator: String,
    sorted_index: usize,
    input_index: usize,
    priority: Vec<usize>,
    proof: String,
}

pub(crate) fn run(args: &ElectArgs, out: &mut dyn Write) -> Result<i32, CliError> {
    let session_id = args
        .session_id
        .as_deref()
        .map(|text| parse::fixed_hex::<32>("--session-id", text))
        .transpose()?;
    if args.method.needs_session_id() && session_id.is_none() {
        return Err(ElectionError::MissingSessionId.into());
    }
    let keys = parse::public_keys("PUBKEY", &args.keys)?;
    let result = elect(args.method, &keys, session_id.as_ref())?;
    let line = ElectLine {
        coordinator: hex::encode(result.coordinator.serialize()),
        sorted_index: result.sorted_index,
        input_index: result.input_index,
        priority: result.priority.clone(),
        proof: result.proof_hex(),
    };
    write_json_line(out, &line)?;
    Ok(EXIT_SUCCESS)
}
