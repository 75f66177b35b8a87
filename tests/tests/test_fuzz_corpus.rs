//! Replays every checked-in fuzz corpus file through its target's check, on the stable
//! toolchain, so `cargo test` (and CI) keeps what the fuzzers found.
//!
//! The checks live in `fuzz/checks/checks.rs`, shared with the cargo-fuzz targets;
//! `fuzz/corpus/<target>/` holds the minimized corpus of each target, crash
//! reproducers included. See `FUZZING.md`.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/checks/checks.rs"]
mod checks;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file_passes_its_target_check() {
    let root = corpus_root();
    let mut replayed = 0;
    let mut failures = Vec::new();
    for &(name, check) in checks::TARGETS {
        let dir = root.join(name);
        let files = files(&dir);
        assert!(!files.is_empty(), "{}: no corpus files", dir.display());
        for path in files {
            let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
                let why = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("panic");
                let file = path.file_name().unwrap_or_default().to_string_lossy();
                failures.push(format!("fuzz/corpus/{name}/{file}: {why}"));
            }
            replayed += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {replayed} corpus files failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_corpus_directory_has_a_target() {
    let names: Vec<&str> = checks::TARGETS.iter().map(|&(name, _)| name).collect();
    for entry in fs::read_dir(corpus_root()).expect("fuzz/corpus") {
        let path = entry.expect("corpus entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(
            names.contains(&name),
            "fuzz/corpus/{name} has no target in fuzz/checks/checks.rs"
        );
        let target = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/fuzz_targets")
            .join(format!("{name}.rs"));
        assert!(target.is_file(), "{} is missing", target.display());
    }
}
