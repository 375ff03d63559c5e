//! Bytes → every wire type, on both channels, with round trips
//! (`chorus_harness::fuzz::decode`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| chorus_harness::fuzz::decode(data));
