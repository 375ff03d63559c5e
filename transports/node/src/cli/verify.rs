//! `chorus verify`: checks a final Schnorr signature in either dialect.

use std::io::{self, Write};

use chorus_core::crypto::{self, CryptoError, Dialect, PublicKey, Signature, XOnlyPublicKey};

use super::{parse, CliError, EXIT_INVALID, EXIT_SUCCESS};

/// Arguments of `chorus verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// Signature dialect: bip340 or lotus.
    #[arg(long, value_name = "DIALECT")]
    dialect: Dialect,
    /// Public key in hex: 33 bytes compressed, or 32 bytes x-only (bip340 only).
    #[arg(long, value_name = "HEX")]
    key: String,
    /// The signed 32-byte message in hex.
    #[arg(long, value_name = "HEX32")]
    message: String,
    /// The 64-byte signature in hex.
    #[arg(long, value_name = "HEX64")]
    signature: String,
}

pub(crate) fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<i32, CliError> {
    let key = parse::any_hex("--key", &args.key)?;
    let message = parse::fixed_hex::<32>("--message", &args.message)?;
    // Only the length is input validation: 64 bytes that are no valid signature (r >= p,
    // s >= n) are an answer, `invalid`, not a refusal.
    let signature = Signature(parse::fixed_hex::<64>("--signature", &args.signature)?);
    let valid = match verifying_key(args.dialect, &key)? {
        VerifyingKey::Full(key) => crypto::verify(args.dialect, &key, &message, &signature),
        VerifyingKey::XOnly(key) => crypto::verify_xonly(&key, &message, &signature),
    };
    let (word, code) = if valid {
        ("valid", EXIT_SUCCESS)
    } else {
        ("invalid", EXIT_INVALID)
    };
    // The verdict is the exit code; a reader that left early does not change it.
    match writeln!(out, "{word}") {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(code),
    }
}

/// The key a signature is checked under.
enum VerifyingKey {
    /// A 33-byte compressed key (either dialect; BIP340 uses its x coordinate).
    Full(PublicKey),
    /// A 32-byte BIP340 x-only key.
    XOnly(XOnlyPublicKey),
}

fn verifying_key(dialect: Dialect, bytes: &[u8]) -> Result<VerifyingKey, CliError> {
    if let Ok(compressed) = <[u8; 33]>::try_from(bytes) {
        return Ok(VerifyingKey::Full(parse::compressed_key(
            "--key", compressed,
        )?));
    }
    if let Ok(xonly) = <[u8; 32]>::try_from(bytes) {
        if dialect != Dialect::Bip340 {
            // A Lotus signature commits to the full 33-byte key.
            return Err(CryptoError::UnsupportedInDialect {
                operation: "a 32-byte x-only --key",
                dialect,
            }
            .into());
        }
        return Ok(VerifyingKey::XOnly(parse::xonly_key("--key", xonly)?));
    }
    Err(CliError::invalid(
        "--key",
        format!(
            "expected 33 bytes (compressed) or 32 bytes (x-only), got {}",
            parse::byte_count(bytes.len())
        ),
    ))
}
