//! Bytes → a whole simulated run that must keep every invariant
//! (`chorus_harness::fuzz::scenario`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| chorus_harness::fuzz::scenario(data));
