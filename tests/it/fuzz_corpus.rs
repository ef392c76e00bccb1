//! Replays every file of `fuzz/corpus/<target>/` through the fuzz targets' own entry
//! functions, so CI checks the corpus (seeds and past crashes) without a fuzzer.

#[path = "../../fuzz/src/entries.rs"]
mod entries;

use std::path::Path;

fn replay(target: &str, entry: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable corpus entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} has no inputs", dir.display());
    for file in files {
        let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let outcome = std::panic::catch_unwind(|| entry(&data));
        assert!(outcome.is_ok(), "{target}: {} panicked (rerun: cargo fuzz run {target} {0})", file.display());
    }
}

#[test]
fn stripe_signature_corpus() {
    replay("stripe_signature", entries::stripe_signature);
}

#[test]
fn webhook_event_corpus() {
    replay("webhook_event", entries::webhook_event);
}

#[test]
fn request_bodies_corpus() {
    replay("request_bodies", entries::request_bodies);
}

#[test]
fn time_query_corpus() {
    replay("time_query", entries::time_query);
}

#[test]
fn record_decode_corpus() {
    replay("record_decode", entries::record_decode);
}

#[test]
fn snapshot_decode_corpus() {
    replay("snapshot_decode", entries::snapshot_decode);
}
