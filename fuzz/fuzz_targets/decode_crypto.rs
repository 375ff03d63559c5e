//! Feeds arbitrary bytes to every parser and verifier of chorus-core's crypto and election
//! API: none may panic, whatever the input (`chorus_harness::fuzz::decode_crypto`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| chorus_harness::fuzz::decode_crypto(data));
