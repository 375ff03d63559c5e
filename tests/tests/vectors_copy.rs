//! The vectors committed in `tests/vectors/` are the shared conformance vectors, byte for byte.

use std::path::{Path, PathBuf};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("readable vector directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn committed_copy_matches_shared_vectors_when_present() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let committed = root.join("vectors");
    let shared = root.join("..").join("..").join("shared").join("vectors");
    let committed_files = files_under(&committed);
    assert!(
        committed_files.len() >= 12,
        "vector copy is incomplete: {committed_files:?}"
    );
    if !shared.is_dir() {
        println!("no shared vector directory next to the checkout; the committed copy is used");
        return;
    }
    assert_eq!(files_under(&shared), committed_files, "file lists differ");
    for file in &committed_files {
        let a = std::fs::read(committed.join(file)).expect("committed file");
        let b = std::fs::read(shared.join(file)).expect("shared file");
        assert!(a == b, "{} differs from the shared copy", file.display());
    }
    println!(
        "tests/vectors: {} files identical to the shared vectors",
        committed_files.len()
    );
}
