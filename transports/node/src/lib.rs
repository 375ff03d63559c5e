//! The Chorus node driver and the `chorus` command-line program.
//!
//! [`driver`] runs one [`chorus_core::Node`] on tokio over any
//! [`Transport`](chorus_core::transport::Transport) — real time, OS randomness, an async
//! [`NodeHandle`] for commands and a stream of [`NodeEvent`]s. [`cli`] is the `chorus`
//! program built on it and on the core.
//!
//! # The `chorus` command line
//!
//! `chorus` exposes chorus-core's MuSig2 and election steps to scripts. Every command
//! prints compact JSON objects, one per line, with the fields in a fixed order, and all
//! byte strings as lowercase hex (input hex may use either case). `verify` prints the
//! word `valid` (exit 0) or `invalid` (exit 1). Anything refused — bad hex, a wrong
//! length, a point off the curve, a secret key that is zero or not below the group order,
//! an unknown dialect or method, an empty key list, an unknown flag, a missing argument —
//! prints one line `error: ...` on standard error and exits 2. `--help` and `--version`
//! print to standard output and exit 0.
//!
//! | command | output |
//! |---|---|
//! | `chorus keygen [--count N]` | N lines `{"secret":HEX32,"public":HEX33}` |
//! | `chorus keyagg --dialect D [--no-sort] PUBKEY...` | `{"aggregate_key":HEX33,"xonly_key":HEX32\|null,"sorted_keys":[HEX33...]}` |
//! | `chorus elect [--method M] [--session-id HEX32] PUBKEY...` | `{"coordinator":HEX33,"sorted_index":N,"input_index":N,"priority":[N...],"proof":HEX32}` |
//! | `chorus sign --dialect D --message HEX32 (SECRET... \| --generate N)` | `{"aggregate_key":HEX33,"xonly_key":HEX32\|null,"signature":HEX64,"signers":[HEX33...]}` |
//! | `chorus verify --dialect D --key HEX --message HEX32 --signature HEX64` | `valid` or `invalid` |
//! | `chorus demo [--signers N] [--transport memory\|libp2p\|quic] [--dialect D] [--topology T] [--silent-coordinators K] [--sessions S] [--json]` | progress lines and a result block, or one JSON object with `--json` |
//! | `chorus node --key FILE [--listen ADDR...] [--bootstrap ADDR...] [--advertise TYPES] [--policy FILE] [--config FILE] [--transport libp2p\|quic] [--peers FILE]` (quic: `--peers FILE` required, `--listen IP:PORT` optional) | one JSON object per event, until Ctrl-C |
//!
//! Dialects are `bip340` (BIP327 MuSig2, BIP340 signatures) and `lotus` (lotus-lib's
//! MuSig2 and Schnorr). Keys are aggregated in sorted order; `--no-sort` keeps the given
//! order and exists for `bip340` only. `xonly_key` is the key a BIP340 signature verifies
//! under (null for `lotus`). Election methods are `lexicographic` (the default),
//! `hash-based`, `first-signer`, `last-signer` and `salted` (which needs `--session-id`);
//! indices in `sorted_index` and `priority` are positions in the sorted key list,
//! `input_index` is the coordinator's position in the list as given. `sign` runs both
//! MuSig2 rounds for all signers in one process with fresh OS randomness, checks every
//! partial signature and the final signature, and lists the signers sorted. `verify`
//! takes a 33-byte key in either dialect or a 32-byte x-only key for `bip340`.
//!
//! `demo` and `node` run [`driver`]-backed nodes on a network rather than one pumped loop.
//! `demo` starts N signers in one process (default 5, over the in-memory transport, or
//! libp2p or QUIC on 127.0.0.1) and runs the whole flow — advertise, discover, request, join, two
//! rounds, election, broadcast, confirmation — printing a line per step and, at the end,
//! the signature, the aggregate key, who broadcast, the failovers and the time of each
//! phase. `--silent-coordinators K` makes the first K coordinators in the failover order
//! ignore their turn, so the next takes over after the broadcast timeout
//! (`--broadcast-timeout-ms`, default and minimum 1000).
//!
//! Both log nothing unless `RUST_LOG` is set (`RUST_LOG=chorus_node=debug` shows each
//! driver's spans and events on standard error).
//!
//! `node` runs one long-lived signer. Its **key file** holds the signer's 32-byte secret
//! key as 64 hex digits on one line — what `chorus keygen` prints as `"secret"`:
//! `chorus keygen | sed 's/.*"secret":"\([0-9a-f]*\)".*/\1/' > signer.key`. It advertises
//! `--advertise` (comma-separated transaction types), joins by itself every signing request
//! for its key that its **policy** file allows, and prints every event as a JSON line
//! (`"event"` names it: `started`, `signer_discovered`, `request_received`,
//! `request_accepted` / `request_refused` with a `reason`, `session_complete`,
//! `should_broadcast`, `broadcast_confirmed`, ..., `stopped`). Without a policy it joins
//! nothing. A policy is TOML, every field optional:
//!
//! ```toml
//! transaction_types = ["spend"]      # a request of another type, or of none, is refused
//! max_amount = 5000000               # a request above it, or without an amount, is refused
//! allowed_cosigners = ["02…", "03…"] # every other required key must be listed
//! dialects = ["bip340", "lotus"]     # the default: both
//! max_signers = 20                   # the default: 100
//! ```
//!
//! `--config FILE` is a TOML file that may hold every flag (`transport`, `listen`,
//! `bootstrap`, `key`, `advertise`, `policy`, `peers`, `nickname`; paths relative to the
//! file); flags given on the command line override it. The node does not broadcast
//! transactions itself: a `should_broadcast` line is for its operator, and if nobody
//! confirms, the session's failover moves on to the next signer.
//!
//! With `--transport quic` the node talks raw QUIC to a closed group: `--peers FILE` is
//! required and lists every member as `[[peer]]` tables with `key` (33-byte hex) and
//! `address` (`IP:PORT`). The node's own entry is skipped as a peer, so the whole group
//! can share one file, and it is where the node listens unless `--listen IP:PORT` says
//! otherwise. `--bootstrap` is for libp2p only.
//!
//! An example session (keys and signatures differ on every run):
//!
//! ```text
//! $ chorus keygen --count 2
//! {"secret":"5e3a…c1","public":"02b4…9f"}
//! {"secret":"a07d…3e","public":"03e1…42"}
//! $ chorus keyagg --dialect bip340 03e1…42 02b4…9f
//! {"aggregate_key":"0371…0d","xonly_key":"71…0d","sorted_keys":["02b4…9f","03e1…42"]}
//! $ chorus elect --method hash-based 03e1…42 02b4…9f
//! {"coordinator":"03e1…42","sorted_index":1,"input_index":0,"priority":[1,0],"proof":"6c…8a"}
//! $ MSG=$(printf 'pay Bob 1 coin' | sha256sum | cut -d' ' -f1)
//! $ chorus sign --dialect bip340 --message "$MSG" 5e3a…c1 a07d…3e
//! {"aggregate_key":"0371…0d","xonly_key":"71…0d","signature":"9b…e4","signers":["02b4…9f","03e1…42"]}
//! $ chorus verify --dialect bip340 --key 71…0d --message "$MSG" --signature 9b…e4; echo "exit $?"
//! valid
//! exit 0
//! $ chorus verify --dialect lotus --key 71…0d --message "$MSG" --signature 9b…e4; echo "exit $?"
//! error: a 32-byte x-only --key is not supported in the lotus dialect
//! exit 2
//! ```

pub mod cli;
pub mod driver;

pub use driver::{
    spawn, DriverConfig, DriverError, NodeDriver, NodeEvent, NodeEvents, NodeHandle, RunningNode,
};
