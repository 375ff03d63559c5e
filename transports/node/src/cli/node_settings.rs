//! `chorus node`'s settings: flags over an optional TOML config file, and the key file.
//!
//! A config file may hold every flag (relative paths in it are relative to the file):
//!
//! ```toml
//! transport = "libp2p"                    # or "quic"
//! listen = ["/ip4/0.0.0.0/tcp/4001"]      # quic: one "IP:PORT" (default: own entry in peers)
//! bootstrap = ["/ip4/192.0.2.7/tcp/4001/p2p/12D3KooW…"]
//! key = "signer.key"
//! advertise = ["spend", "swap"]
//! policy = "policy.toml"
//! peers = "peers.toml"                    # quic only
//! nickname = "cold wallet 3"
//! ```
//!
//! A flag given on the command line replaces the file's value (a list flag replaces the
//! whole list).

use std::path::{Path, PathBuf};

use chorus_core::crypto::{Keypair, PublicKey, SecretKey};
use serde::Deserialize;

use super::error::CliError;
use super::parse;

/// The transport `chorus node` runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum NodeTransport {
    /// libp2p: TCP/QUIC, Noise, Yamux, GossipSub, Kademlia; peers found through bootstrap
    /// addresses.
    Libp2p,
    /// Raw QUIC between the members of a peers file.
    Quic,
}

/// The config file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    transport: Option<NodeTransport>,
    listen: Option<Vec<String>>,
    bootstrap: Option<Vec<String>>,
    key: Option<PathBuf>,
    advertise: Option<Vec<String>>,
    policy: Option<PathBuf>,
    peers: Option<PathBuf>,
    nickname: Option<String>,
}

impl ConfigFile {
    /// Reads a config file; relative paths in it become relative to its directory.
    pub(crate) fn read(path: &Path) -> Result<Self, CliError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            CliError::invalid(
                "--config",
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        let mut file = ConfigFile::parse(&text)?;
        let base = path.parent().unwrap_or(Path::new(""));
        for slot in [&mut file.key, &mut file.policy, &mut file.peers] {
            if let Some(relative) = slot.as_mut().filter(|path| path.is_relative()) {
                *relative = base.join(&*relative);
            }
        }
        Ok(file)
    }

    /// Parses config TOML.
    pub(crate) fn parse(text: &str) -> Result<Self, CliError> {
        toml::from_str(text).map_err(|error| {
            CliError::invalid(
                "--config",
                format!("not a valid config: {}", error.message()),
            )
        })
    }
}

/// The flags as given (empty lists and `None` for flags not given).
#[derive(Debug, Default, Clone)]
pub(crate) struct NodeFlags {
    pub(crate) transport: Option<NodeTransport>,
    pub(crate) listen: Vec<String>,
    pub(crate) bootstrap: Vec<String>,
    pub(crate) key: Option<PathBuf>,
    pub(crate) advertise: Vec<String>,
    pub(crate) policy: Option<PathBuf>,
    pub(crate) peers: Option<PathBuf>,
    pub(crate) nickname: Option<String>,
}

/// What the node runs with: flags over the config file over the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeSettings {
    pub(crate) transport: NodeTransport,
    pub(crate) listen: Vec<String>,
    pub(crate) bootstrap: Vec<String>,
    pub(crate) key: PathBuf,
    pub(crate) advertise: Vec<String>,
    pub(crate) policy: Option<PathBuf>,
    pub(crate) peers: Option<PathBuf>,
    pub(crate) nickname: Option<String>,
}

impl NodeSettings {
    /// Merges `flags` over `file`.
    pub(crate) fn merge(flags: NodeFlags, file: ConfigFile) -> Result<Self, CliError> {
        let list = |flag: Vec<String>, file: Option<Vec<String>>| {
            if flag.is_empty() {
                file.unwrap_or_default()
            } else {
                flag
            }
        };
        let key = flags.key.or(file.key).ok_or_else(|| {
            CliError::invalid(
                "--key",
                "a key file is required (the flag or `key` in --config)",
            )
        })?;
        let advertise: Vec<String> = list(flags.advertise, file.advertise)
            .into_iter()
            .map(|kind| kind.trim().to_owned())
            .filter(|kind| !kind.is_empty())
            .collect();
        Ok(NodeSettings {
            transport: flags
                .transport
                .or(file.transport)
                .unwrap_or(NodeTransport::Libp2p),
            listen: list(flags.listen, file.listen),
            bootstrap: list(flags.bootstrap, file.bootstrap),
            key,
            advertise,
            policy: flags.policy.or(file.policy),
            peers: flags.peers.or(file.peers),
            nickname: flags.nickname.or(file.nickname),
        })
    }
}

/// Reads a key file: the 32-byte secret key as 64 hex digits on one line (what
/// `chorus keygen` prints as `"secret"`); surrounding whitespace is ignored.
pub(crate) fn read_key_file(path: &Path) -> Result<Keypair, CliError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        CliError::invalid("--key", format!("cannot read {}: {error}", path.display()))
    })?;
    parse_key(&text)
}

/// Parses a key file's text.
pub(crate) fn parse_key(text: &str) -> Result<Keypair, CliError> {
    let secret: SecretKey = parse::secret_key("--key", text.trim())?;
    Ok(Keypair::from_secret_key(&secret))
}

/// The public key of a key pair, as hex.
pub(crate) fn public_hex(key: &PublicKey) -> String {
    hex::encode(key.serialize())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef";

    #[test]
    fn flags_override_the_file() {
        let file = ConfigFile::parse(
            "transport = \"quic\"\nlisten = [\"127.0.0.1:9000\"]\nkey = \"a.key\"\nadvertise = [\"spend\"]\nnickname = \"n\"\n",
        )
        .unwrap();
        let flags = NodeFlags {
            listen: vec!["127.0.0.1:9001".into()],
            advertise: vec!["swap".into(), " ".into()],
            ..NodeFlags::default()
        };
        let settings = NodeSettings::merge(flags, file).unwrap();
        assert_eq!(settings.transport, NodeTransport::Quic);
        assert_eq!(settings.listen, ["127.0.0.1:9001"]);
        assert_eq!(settings.key, PathBuf::from("a.key"));
        assert_eq!(settings.advertise, ["swap"]);
        assert_eq!(settings.nickname.as_deref(), Some("n"));
        assert_eq!(settings.policy, None);
    }

    #[test]
    fn a_key_is_required_and_libp2p_is_the_default() {
        let error = NodeSettings::merge(NodeFlags::default(), ConfigFile::default()).unwrap_err();
        assert!(error.to_string().starts_with("invalid --key"));
        let flags = NodeFlags {
            key: Some("k".into()),
            ..NodeFlags::default()
        };
        let settings = NodeSettings::merge(flags, ConfigFile::default()).unwrap();
        assert_eq!(settings.transport, NodeTransport::Libp2p);
        assert!(settings.listen.is_empty() && settings.advertise.is_empty());
    }

    #[test]
    fn config_files_refuse_unknown_fields_and_resolve_paths_next_to_them() {
        assert!(ConfigFile::parse("listen_on = []").is_err());
        assert!(ConfigFile::parse("transport = \"carrier-pigeon\"").is_err());
        let directory =
            std::env::temp_dir().join(format!("chorus-node-config-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("node.toml");
        std::fs::write(
            &path,
            "key = \"signer.key\"\npolicy = \"/etc/policy.toml\"\n",
        )
        .unwrap();
        let file = ConfigFile::read(&path).unwrap();
        assert_eq!(file.key, Some(directory.join("signer.key")));
        assert_eq!(file.policy, Some(PathBuf::from("/etc/policy.toml")));
        std::fs::remove_dir_all(&directory).unwrap();
    }

    #[test]
    fn key_files_hold_one_hex_secret() {
        let keypair = parse_key(&format!("  {SECRET}\n")).unwrap();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(SECRET, &mut bytes).unwrap();
        let expected = PublicKey::from_secret_key(&SecretKey::from_secret_bytes(bytes).unwrap());
        assert_eq!(keypair.public_key(), expected);
        for bad in ["", "zz", &SECRET[..62], &"0".repeat(64)] {
            let error = parse_key(bad).unwrap_err().to_string();
            assert!(error.starts_with("invalid --key"), "{error}");
            assert!(
                bad.is_empty() || !error.contains(bad),
                "the secret is never echoed"
            );
        }
    }
}
