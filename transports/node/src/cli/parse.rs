//! Parsing of the hex arguments: keys, messages, signatures, session ids.
//!
//! Messages name the argument and say what was wrong, but never repeat the value:
//! a mistyped secret key must not end up in a log.

use chorus_core::crypto::{PublicKey, SecretKey, XOnlyPublicKey};

use super::error::CliError;

/// Decodes hex (either case) that must encode exactly `N` bytes.
pub(crate) fn fixed_hex<const N: usize>(argument: &str, text: &str) -> Result<[u8; N], CliError> {
    let bytes = any_hex(argument, text)?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| {
        CliError::invalid(
            argument,
            format!(
                "expected {N} bytes ({} hex digits), got {}",
                2 * N,
                byte_count(bytes.len())
            ),
        )
    })
}

/// "1 byte", "2 bytes".
pub(crate) fn byte_count(count: usize) -> String {
    if count == 1 {
        "1 byte".to_owned()
    } else {
        format!("{count} bytes")
    }
}

/// Decodes hex (either case) of any even length.
pub(crate) fn any_hex(argument: &str, text: &str) -> Result<Vec<u8>, CliError> {
    hex::decode(text).map_err(|error| {
        let reason = match error {
            hex::FromHexError::OddLength => "odd number of hex digits".to_owned(),
            hex::FromHexError::InvalidHexCharacter { index, .. } => {
                format!("not a hex digit at position {index}")
            }
            hex::FromHexError::InvalidStringLength => "wrong number of hex digits".to_owned(),
        };
        CliError::invalid(argument, reason)
    })
}

/// Parses a 33-byte compressed public key.
pub(crate) fn public_key(argument: &str, text: &str) -> Result<PublicKey, CliError> {
    let bytes = fixed_hex::<33>(argument, text)?;
    compressed_key(argument, bytes)
}

/// Parses 33 bytes already decoded as a compressed public key.
pub(crate) fn compressed_key(argument: &str, bytes: [u8; 33]) -> Result<PublicKey, CliError> {
    if bytes[0] != 0x02 && bytes[0] != 0x03 {
        return Err(CliError::invalid(
            argument,
            "a compressed key starts with 02 or 03",
        ));
    }
    PublicKey::from_byte_array_compressed(bytes)
        .map_err(|_| CliError::invalid(argument, "not a point on the curve"))
}

/// Parses 32 bytes already decoded as a BIP340 x-only public key.
pub(crate) fn xonly_key(argument: &str, bytes: [u8; 32]) -> Result<XOnlyPublicKey, CliError> {
    XOnlyPublicKey::from_byte_array(bytes)
        .map_err(|_| CliError::invalid(argument, "not the x coordinate of a point on the curve"))
}

/// Parses a list of public keys, naming each by its position (counting from 1).
pub(crate) fn public_keys(argument: &str, texts: &[String]) -> Result<Vec<PublicKey>, CliError> {
    if texts.is_empty() {
        return Err(CliError::invalid(argument, "the key list is empty"));
    }
    texts
        .iter()
        .enumerate()
        .map(|(position, text)| public_key(&format!("{argument} #{}", position + 1), text))
        .collect()
}

/// Parses a 32-byte secret key: a scalar in 1..n.
pub(crate) fn secret_key(argument: &str, text: &str) -> Result<SecretKey, CliError> {
    let bytes = fixed_hex::<32>(argument, text)?;
    SecretKey::from_secret_bytes(bytes).map_err(|_| {
        CliError::invalid(
            argument,
            "a secret key must be in 1..n-1 (not zero, below the group order)",
        )
    })
}

/// Parses a list of secret keys, naming each by its position (counting from 1).
pub(crate) fn secret_keys(argument: &str, texts: &[String]) -> Result<Vec<SecretKey>, CliError> {
    texts
        .iter()
        .enumerate()
        .map(|(position, text)| secret_key(&format!("{argument} #{}", position + 1), text))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENERATOR: &str = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
    const ORDER: &str = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

    fn message(result: Result<impl core::fmt::Debug, CliError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn hex_accepts_either_case_and_reports_the_length() {
        assert_eq!(
            fixed_hex::<2>("--x", "aBcD").unwrap(),
            [0xab, 0xcd],
            "mixed case decodes"
        );
        assert!(message(fixed_hex::<2>("--x", "abc")).contains("odd number"));
        assert!(message(fixed_hex::<2>("--x", "abcdef")).contains("got 3 bytes"));
        assert!(message(fixed_hex::<2>("--x", "zzzz")).contains("position 0"));
        assert!(message(fixed_hex::<2>("--x", "")).contains("got 0 bytes"));
        assert!(message(fixed_hex::<2>("--x", "ab")).contains("got 1 byte"));
    }

    #[test]
    fn public_keys_must_be_compressed_points() {
        let generator = public_key("K", GENERATOR).unwrap();
        assert_eq!(hex::encode(generator.serialize()), GENERATOR);
        assert_eq!(
            public_key("K", &GENERATOR.to_uppercase()).unwrap(),
            generator
        );
        let uncompressed_prefix = format!("04{}", &GENERATOR[2..]);
        assert!(message(public_key("K", &uncompressed_prefix)).contains("02 or 03"));
        // x = 5 is not the x coordinate of any point: 5^3 + 7 = 132 is not a square mod p.
        let off_curve = format!("02{:0>64}", "05");
        assert!(message(public_key("K", &off_curve)).contains("not a point"));
        assert!(message(public_keys("PUBKEY", &[])).contains("empty"));
        let second_bad = [GENERATOR.to_owned(), "02".to_owned()];
        assert!(message(public_keys("PUBKEY", &second_bad)).contains("PUBKEY #2"));
    }

    #[test]
    fn secret_keys_must_be_nonzero_and_below_the_order() {
        assert!(secret_key("S", &format!("{:0>64}", "1")).is_ok());
        assert!(message(secret_key("S", &"0".repeat(64))).contains("1..n-1"));
        assert!(message(secret_key("S", ORDER)).contains("1..n-1"));
        let below_order = format!("{}40", &ORDER[..62]);
        assert!(secret_key("S", &below_order).is_ok());
    }

    #[test]
    fn errors_never_repeat_the_value() {
        let secret_like = "ab".repeat(31);
        assert!(!message(secret_key("S", &secret_like)).contains(&secret_like));
    }
}
