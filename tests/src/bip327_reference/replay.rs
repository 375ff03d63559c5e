//! A byte-replaying generator for driving randomness-drawing APIs with vector inputs.

/// A generator that replays given bytes, to feed NonceGen's `rand'` and `extra_in` through an
/// API that draws them itself.
///
/// It claims `CryptoRng` so the signing API accepts it; it is as predictable as a generator
/// can be and belongs in tests only.
#[derive(Debug, Clone)]
pub struct ReplayRng {
    bytes: Vec<u8>,
    position: usize,
}

impl ReplayRng {
    /// Replays `bytes` once, in order.
    pub fn new(bytes: Vec<u8>) -> Self {
        ReplayRng { bytes, position: 0 }
    }
}

impl rand_core::RngCore for ReplayRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    /// # Panics
    ///
    /// Panics when asked for more bytes than it was given: a test that draws more than it
    /// planned is wrong.
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        let end = self.position + dst.len();
        let source = self
            .bytes
            .get(self.position..end)
            .expect("ReplayRng ran out of bytes");
        dst.copy_from_slice(source);
        self.position = end;
    }
}

impl rand_core::CryptoRng for ReplayRng {}
