//! The Lotus dialect of MuSig2 (lotus-lib compatible), on libsecp256k1 point and scalar operations.
