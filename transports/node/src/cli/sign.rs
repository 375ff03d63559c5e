//! `chorus sign`: a complete n-party MuSig2 signing run inside one process.
//!
//! Every signer's steps are the ones a networked signer takes (fresh nonce, partial
//! signature over the aggregate nonce), and the result is checked the way a coordinator
//! checks it: every partial signature against its signer's nonce, the final signature
//! under the aggregate key.

use std::io::Write;

use chorus_core::crypto::{
    aggregate_nonces, generate_nonce, verify, verify_xonly, CryptoError, Dialect, KeyAggContext,
    Keypair, PartialSignature, PublicNonce, SecretKey, SecretNonce, Signature, SigningSession,
};
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
    /// Sign with this many fresh random keys (1 to 1000) instead of given secret keys.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    generate: Option<u16>,
    /// The signers' 32-byte secret keys in hex.
    #[arg(value_name = "SECRET")]
    secrets: Vec<String>,
}

/// The output line; `signers` is the sorted signer list the aggregate key commits to.
#[derive(Serialize)]
struct SignLine {
    aggregate_key: String,
    xonly_key: Option<String>,
    signature: String,
    signers: Vec<String>,
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
    let (context, signature) = sign_locally(args.dialect, &secrets, &message)?;
    let line = SignLine {
        aggregate_key: hex::encode(context.aggregate_key().serialize()),
        xonly_key: context
            .xonly_key()
            .map(|key| hex::encode(key.to_byte_array())),
        signature: hex::encode(signature.0),
        signers: context
            .signers()
            .iter()
            .map(|key| hex::encode(key.serialize()))
            .collect(),
    };
    write_json_line(out, &line)?;
    Ok(EXIT_SUCCESS)
}

/// Runs both MuSig2 rounds for `secrets` and checks the result.
fn sign_locally(
    dialect: Dialect,
    secrets: &[SecretKey],
    message: &[u8; 32],
) -> Result<(KeyAggContext, Signature), CliError> {
    let keypairs = keypairs_in_signer_order(secrets);
    let public_keys: Vec<_> = keypairs.iter().map(Keypair::public_key).collect();
    let context = KeyAggContext::new(dialect, &public_keys)?;
    if context.signers() != public_keys.as_slice() {
        return Err(CliError::Internal(
            "the aggregation order differs from the sorted key order".to_owned(),
        ));
    }

    let mut rng = rand::rng();
    let mut secret_nonces: Vec<SecretNonce> = Vec::with_capacity(keypairs.len());
    let mut public_nonces: Vec<PublicNonce> = Vec::with_capacity(keypairs.len());
    for keypair in &keypairs {
        let (secret_nonce, public_nonce) = generate_nonce(&context, keypair, message, &mut rng)
            .map_err(step("nonce generation"))?;
        secret_nonces.push(secret_nonce);
        public_nonces.push(public_nonce);
    }
    let aggregate_nonce =
        aggregate_nonces(dialect, &public_nonces).map_err(step("nonce aggregation"))?;
    let session =
        SigningSession::new(&context, &aggregate_nonce, message).map_err(step("session setup"))?;

    let mut partials: Vec<PartialSignature> = Vec::with_capacity(keypairs.len());
    for (index, (secret_nonce, keypair)) in secret_nonces.into_iter().zip(&keypairs).enumerate() {
        let partial = session
            .partial_sign(&context, index, secret_nonce, keypair)
            .map_err(step("partial signing"))?;
        partials.push(partial);
    }
    for (index, (partial, public_nonce)) in partials.iter().zip(&public_nonces).enumerate() {
        if !session.partial_verify(&context, index, partial, public_nonce) {
            return Err(CliError::Internal(format!(
                "the partial signature of signer {index} does not verify"
            )));
        }
    }
    let signature = session
        .aggregate(&context, &partials)
        .map_err(step("signature aggregation"))?;
    check_final_signature(&context, message, &signature)?;
    Ok((context, signature))
}

/// Key pairs sorted by their 33-byte compressed public keys: signer index `i` of a sorted
/// key aggregation is then `keypairs[i]`, duplicates included.
fn keypairs_in_signer_order(secrets: &[SecretKey]) -> Vec<Keypair> {
    let mut keypairs: Vec<Keypair> = secrets.iter().map(Keypair::from_secret_key).collect();
    keypairs.sort_by_key(|keypair| keypair.public_key().serialize());
    keypairs
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

/// A failure inside the protocol run, after every input was accepted, is a bug.
fn step(name: &'static str) -> impl Fn(CryptoError) -> CliError {
    move |error| CliError::Internal(format!("{name}: {error}"))
}
