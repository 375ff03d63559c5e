//! Shared helpers for Chorus's conformance, end-to-end and regression tests.
//!
//! The tests themselves live in `tests/tests/`; this library holds what several of
//! them need: locating and reading the conformance vectors.

pub mod bip327_reference;

use std::path::PathBuf;

/// Returns the directory holding the conformance vectors.
///
/// It is `$CHORUS_VECTORS` when set, else `../shared/vectors` next to the checkout,
/// else the copy in `tests/vectors/`.
///
/// # Panics
///
/// Panics when no vector directory exists: a conformance test must never pass by
/// finding nothing to check.
///
/// ```
/// let dir = chorus_tests::vectors_dir();
/// assert!(dir.join("bip327").is_dir());
/// ```
pub fn vectors_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CHORUS_VECTORS") {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        root.join("..").join("..").join("shared").join("vectors"),
        root.join("vectors"),
    ];
    for dir in candidates {
        if dir.join("bip327").is_dir() {
            return dir;
        }
    }
    panic!("conformance vectors not found: set CHORUS_VECTORS or copy them to tests/vectors/");
}

/// Reads one vector file (path relative to [`vectors_dir`]) as JSON.
///
/// # Panics
///
/// Panics when the file is missing or is not JSON.
pub fn read_json(relative: &str) -> serde_json::Value {
    let path = vectors_dir().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Decodes hex (either case) into bytes.
///
/// # Panics
///
/// Panics on malformed hex: vector files are trusted input.
pub fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap_or_else(|e| panic!("bad hex {text:?}: {e}"))
}

/// Decodes hex into a fixed-size array.
///
/// # Panics
///
/// Panics on malformed hex or the wrong length.
pub fn unhex_array<const N: usize>(text: &str) -> [u8; N] {
    let bytes = unhex(text);
    bytes
        .try_into()
        .unwrap_or_else(|b: Vec<u8>| panic!("expected {N} bytes, got {}", b.len()))
}
