//! Bytes → a sequence of operations against one node among honest peers, with invariants
//! checked after every step (`chorus_harness::fuzz::node_ops`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| chorus_harness::fuzz::node_ops(data));
