//! `chorus keyagg`: the MuSig2 aggregate of a list of public keys.

use std::io::Write;

use chorus_core::crypto::{CryptoError, Dialect, KeyAggContext};
use serde::Serialize;

use super::{parse, write_json_line, CliError, EXIT_SUCCESS};

/// Arguments of `chorus keyagg`.
#[derive(Debug, clap::Args)]
pub(crate) struct KeyaggArgs {
    /// Signature dialect: bip340 or lotus.
    #[arg(long, value_name = "DIALECT")]
    dialect: Dialect,
    /// Aggregate in the given order instead of sorting the keys (bip340 only).
    #[arg(long)]
    no_sort: bool,
    /// 33-byte compressed public keys in hex.
    #[arg(value_name = "PUBKEY", required = true)]
    keys: Vec<String>,
}

/// The output line.
#[derive(Serialize)]
struct KeyaggLine {
    aggregate_key: String,
    xonly_key: Option<String>,
    sorted_keys: Vec<String>,
}

pub(crate) fn run(args: &KeyaggArgs, out: &mut dyn Write) -> Result<i32, CliError> {
    if args.no_sort && args.dialect == Dialect::Lotus {
        // Lotus always aggregates the sorted list; say so before looking at the keys.
        return Err(CryptoError::UnsupportedInDialect {
            operation: "aggregating unsorted keys (--no-sort)",
            dialect: Dialect::Lotus,
        }
        .into());
    }
    let keys = parse::public_keys("PUBKEY", &args.keys)?;
    let context = if args.no_sort {
        KeyAggContext::new_unsorted(args.dialect, &keys)?
    } else {
        KeyAggContext::new(args.dialect, &keys)?
    };
    let line = KeyaggLine {
        aggregate_key: hex::encode(context.aggregate_key().serialize()),
        xonly_key: context
            .xonly_key()
            .map(|key| hex::encode(key.to_byte_array())),
        sorted_keys: context
            .signers()
            .iter()
            .map(|key| hex::encode(key.serialize()))
            .collect(),
    };
    write_json_line(out, &line)?;
    Ok(EXIT_SUCCESS)
}
