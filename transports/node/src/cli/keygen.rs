//! `chorus keygen`: fresh key pairs from OS randomness.

use std::io::Write;

use chorus_core::crypto::{PublicKey, SecretKey};
use rand::RngCore;
use serde::Serialize;

use super::{write_json_line, CliError, EXIT_SUCCESS};

/// Arguments of `chorus keygen`.
#[derive(Debug, clap::Args)]
pub(crate) struct KeygenArgs {
    /// How many key pairs to print (1 to 100000).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    count: u32,
}

/// One output line.
#[derive(Serialize)]
struct KeyPairLine {
    secret: String,
    public: String,
}

pub(crate) fn run(args: &KeygenArgs, out: &mut dyn Write) -> Result<i32, CliError> {
    let mut rng = rand::rng();
    for _ in 0..args.count {
        let secret = random_secret_key(&mut rng);
        let line = KeyPairLine {
            secret: hex::encode(secret.to_secret_bytes()),
            public: hex::encode(PublicKey::from_secret_key(&secret).serialize()),
        };
        write_json_line(out, &line)?;
    }
    Ok(EXIT_SUCCESS)
}

/// Draws 32 bytes until they are a valid scalar; a retry happens with probability about
/// 2^-128, so this is uniform over 1..n.
pub(crate) fn random_secret_key<R: RngCore + ?Sized>(rng: &mut R) -> SecretKey {
    loop {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        if let Ok(secret) = SecretKey::from_secret_bytes(bytes) {
            return secret;
        }
    }
}
