//! Writes the seed corpus (`chorus_harness::fuzz::seed_corpus`) to `fuzz/corpus/<target>/`.
//!
//! `cargo run -p chorus-harness --features fuzz --example fuzz_seeds`

use std::fs;
use std::path::Path;

fn main() -> std::io::Result<()> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz")
        .join("corpus");
    let seeds = chorus_harness::fuzz::seed_corpus();
    for seed in &seeds {
        let directory = corpus.join(seed.target);
        fs::create_dir_all(&directory)?;
        fs::write(directory.join(&seed.name), &seed.bytes)?;
    }
    println!("wrote {} seeds under {}", seeds.len(), corpus.display());
    Ok(())
}
