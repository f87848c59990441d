//! Writes the seed corpus to `corpus/<target>/<name>`, removing files there that are no longer seeds.
//! With `--check`, changes nothing and fails when the files on disk differ.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example make_corpus [-- --check]
//! ```

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let seeds = wslane_fuzz::seeds::all();
    let mut stale = Vec::new();
    for (target, _) in wslane_fuzz::targets::ALL {
        let dir = root.join(target);
        let wanted: BTreeSet<&str> = seeds
            .iter()
            .filter(|s| s.target == *target)
            .map(|s| s.name.as_str())
            .collect();
        if !check {
            fs::create_dir_all(&dir).expect("create the corpus directory");
        }
        if let Ok(entries) = fs::read_dir(&dir) {
            for entry in entries {
                let entry = entry.expect("read the corpus directory");
                let name = entry.file_name().to_string_lossy().into_owned();
                if !wanted.contains(name.as_str()) {
                    stale.push(format!("{target}/{name} is not a seed"));
                    if !check {
                        fs::remove_file(entry.path()).expect("remove a stale seed");
                    }
                }
            }
        }
    }
    for seed in &seeds {
        let path = root.join(seed.target).join(&seed.name);
        if fs::read(&path).ok().as_deref() != Some(&seed.data[..]) {
            stale.push(format!("{}/{} is out of date", seed.target, seed.name));
            if !check {
                fs::write(&path, &seed.data).expect("write a seed");
            }
        }
    }
    if check && !stale.is_empty() {
        for line in &stale {
            eprintln!("{line}");
        }
        eprintln!(
            "run `cargo run --manifest-path fuzz/Cargo.toml --example make_corpus` to update"
        );
        return ExitCode::FAILURE;
    }
    println!(
        "{} seeds for {} targets ({} files changed)",
        seeds.len(),
        wslane_fuzz::targets::ALL.len(),
        stale.len()
    );
    ExitCode::SUCCESS
}
