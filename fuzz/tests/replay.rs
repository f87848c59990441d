//! Replays the seed corpus and the saved regressions through every target's checks, on stable Rust:
//! `cargo test --manifest-path fuzz/Cargo.toml`.

use std::fs;
use std::path::Path;

/// Runs `target` over every file in `dir/<target>`; returns how many there were.
fn replay(dir: &str, target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return 0;
    };
    let mut paths: Vec<_> = entries
        .map(|e| e.expect("directory entry").path())
        .collect();
    paths.sort();
    for path in &paths {
        let data = fs::read(path).expect("read an input");
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        eprintln!("{target}: {name}");
        run(&data);
    }
    paths.len()
}

#[test]
fn seed_corpus_passes_every_check() {
    for (target, run) in wslane_fuzz::targets::ALL {
        let n = replay("corpus", target, *run);
        assert!(n > 0, "no seeds for {target}");
    }
}

#[test]
fn regressions_pass_every_check() {
    for (target, run) in wslane_fuzz::targets::ALL {
        replay("regressions", target, *run);
    }
}

#[test]
fn seed_corpus_is_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for seed in wslane_fuzz::seeds::all() {
        let path = root.join(seed.target).join(&seed.name);
        let on_disk = fs::read(&path).unwrap_or_default();
        assert!(
            on_disk == seed.data,
            "{}/{} is out of date: run `cargo run --manifest-path fuzz/Cargo.toml --example make_corpus`",
            seed.target,
            seed.name
        );
    }
}

#[test]
fn seeds_decode_as_intended() {
    use arbitrary::{Arbitrary, Unstructured};
    use wslane_fuzz::targets::{connection, decoder};
    let setup = decoder::Setup {
        flags: 3,
        max_frame: 0x1234,
        max_message: 7,
        chunks: [1, 2, 3, 4, 5, 6, 7, 8],
    };
    let bytes = [setup.to_bytes(), b"stream".to_vec()].concat();
    let input = decoder::Input::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap();
    assert_eq!((input.setup, input.stream), (setup, &b"stream"[..]));
    let setup = connection::Setup {
        flags: 0x3f,
        max_frame: 1,
        max_message: 2,
        max_output: 3,
        fragment_size: 4,
        keepalive_ms: 5,
        close_timeout_ms: 6,
        key_seed: 7,
    };
    let bytes = connection::encode_input(&setup, &[]);
    let input = connection::Input::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap();
    assert_eq!((input.setup, input.script), (setup, &[][..]));
}
