//! Snapshot + tail == full replay: for random legal histories (seeded) and snapshots
//! taken at random log positions (also chained: each folded from the one before, as the
//! snapshotter does), recovery yields exactly the state a full replay of the log does.
//! A corrupt or truncated newest snapshot falls back to the previous one or to a full
//! replay with the same result; `replay` agrees with a good snapshot and reports a
//! snapshot that lies about its window.

use chrono::{DateTime, Utc};
use qskip::replay::{Filter, replay};
use qskip::store::EventLog;
use qskip::store::snapshot::{SnapshotDir, SnapshotState, recover, state_digest};

use crate::snapshot_history::{Rng, history, write_log};

const SEEDS: [u64; 6] = [1, 2, 3, 0x5eed, 0xdead_beef, 20_261_128];
const STEPS: usize = 400;

struct Fixture {
    _dir: tempfile::TempDir,
    log: EventLog,
    snapshots: SnapshotDir,
    /// Commit time of each seq (index 0 unused).
    times: Vec<DateTime<Utc>>,
    end: u64,
    now_end: DateTime<Utc>,
}

fn fixture(seed: u64) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = history(seed, STEPS);
    let log = write_log(dir.path(), &records);
    let end = log.last_seq().expect("last seq");
    assert_eq!(end, records.len() as u64, "seed {seed}: every record is in the log");
    let mut times = vec![records[0].0];
    times.extend(records.iter().map(|(at, _)| *at));
    let now_end = records.last().expect("a venue record at least").0;
    let snapshots = SnapshotDir::of_data_dir(dir.path());
    Fixture { _dir: dir, log, snapshots, times, end, now_end }
}

/// State after record `through`, pruned as a snapshot taken right then would be.
fn state_at(f: &Fixture, through: u64) -> SnapshotState {
    let mut state = SnapshotState::empty();
    let outcome = state.fold_tail(&f.log, through).expect("fold");
    assert!(outcome.bad.is_empty(), "{:?}", outcome.bad);
    state.drop_settled(f.times[through as usize]);
    state
}

fn full(f: &Fixture) -> SnapshotState {
    let mut state = state_at(f, f.end);
    state.drop_settled(f.now_end);
    state
}

fn assert_same(recovered: &SnapshotState, full: &SnapshotState, what: &str) {
    assert_eq!(recovered.last_seq, full.last_seq, "{what}: position");
    assert_eq!(recovered.venues, full.venues, "{what}: venues");
    assert_eq!(recovered.windows, full.windows, "{what}: windows");
}

#[test]
fn snapshot_plus_tail_equals_a_full_replay_at_random_positions() {
    for seed in SEEDS {
        let f = fixture(seed);
        let full = full(&f);
        let mut rng = Rng::new(seed ^ 0xabc);
        for _ in 0..6 {
            let at = rng.below(f.end + 1);
            let _ = std::fs::remove_dir_all(f.snapshots.path());
            f.snapshots.write(&state_at(&f, at)).expect("write snapshot");
            let recovered = recover(&f.log, &f.snapshots, f.now_end).expect("recover");
            assert_eq!(recovered.snapshot_seq, Some(at), "seed {seed}: started from the snapshot");
            assert_eq!(recovered.records_folded, f.end - at, "seed {seed}: folded only the tail");
            assert_same(&recovered.state, &full, &format!("seed {seed}, snapshot at {at}"));
        }
    }
}

#[test]
fn chained_snapshots_as_the_snapshotter_takes_them_equal_a_full_replay() {
    for seed in SEEDS {
        let f = fixture(seed);
        let mut rng = Rng::new(seed ^ 0x123);
        let mut state = SnapshotState::empty();
        let mut at = 0;
        while at < f.end {
            at = (at + 1 + rng.below(60)).min(f.end);
            state.fold_tail(&f.log, at).expect("fold");
            state.drop_settled(f.times[at as usize]);
            f.snapshots.write(&state).expect("write snapshot");
        }
        state.drop_settled(f.now_end);
        assert_same(&state, &full(&f), &format!("seed {seed}, chained"));
        assert_eq!(f.snapshots.list().expect("list").len(), 2, "only the newest two are kept");
    }
}

#[test]
fn a_corrupt_or_truncated_newest_snapshot_falls_back_to_the_same_state() {
    let f = fixture(7);
    let full = full(&f);
    let (older, newer) = (f.end / 3, 2 * f.end / 3);
    f.snapshots.write(&state_at(&f, older)).expect("older");
    let newest = f.snapshots.write(&state_at(&f, newer)).expect("newer");
    let mut bytes = std::fs::read(&newest).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&newest, &bytes).expect("corrupt it");
    let recovered = recover(&f.log, &f.snapshots, f.now_end).expect("recover");
    assert_eq!(recovered.snapshot_seq, Some(older), "the previous snapshot is used");
    assert_same(&recovered.state, &full, "corrupt newest");

    let older_path = f.snapshots.file_of(older);
    let len = std::fs::metadata(&older_path).expect("stat").len();
    std::fs::OpenOptions::new().write(true).open(&older_path).expect("open").set_len(len - 3).expect("truncate");
    let recovered = recover(&f.log, &f.snapshots, f.now_end).expect("recover");
    assert_eq!(recovered.snapshot_seq, None, "no usable snapshot: full replay");
    assert_same(&recovered.state, &full, "both unusable");
}

#[test]
fn replay_agrees_with_a_good_snapshot_and_its_digest_covers_every_window() {
    let f = fixture(11);
    f.snapshots.write(&state_at(&f, f.end / 2)).expect("snapshot");
    let report = replay(&f.log, &f.snapshots, &Filter::default(), |_, _| {}).expect("replay");
    assert!(report.is_clean(), "{:?}", report.violations);
    let check = report.snapshot.as_ref().expect("compared with the snapshot");
    assert!(check.matches && check.seq == f.end / 2, "{check:?}");
    let mut all = SnapshotState::empty();
    all.fold_tail(&f.log, f.end).expect("fold");
    assert_eq!(report.digest, state_digest(all.windows.values()));
    assert_eq!(report.windows.len(), all.windows.len());
}

#[test]
fn replay_reports_a_snapshot_that_differs_from_the_log() {
    let f = fixture(12);
    let at = f.end / 2;
    let mut lying = state_at(&f, at);
    let mut all = SnapshotState::empty();
    all.fold_tail(&f.log, at).expect("fold");
    // Replace one live window by an older picture of itself, or add a settled one back
    // with a wrong capacity: either way the snapshot no longer matches the log.
    let (key, window) = all.windows.iter().next().expect("a window");
    let wrong =
        qskip::domain::Window::restore(key.clone(), window.capacity() + 1, true, window.reservations().cloned())
            .expect("restorable");
    lying.windows.insert(key.clone(), wrong);
    f.snapshots.write(&lying).expect("write the lying snapshot");
    let report = replay(&f.log, &f.snapshots, &Filter::default(), |_, _| {}).expect("replay");
    assert!(!report.is_clean());
    assert_eq!(report.snapshot.as_ref().map(|s| s.matches), Some(false));
    let v = &report.violations[0];
    assert_eq!((v.seq, v.window.clone()), (at, Some(key.to_string())), "{v:?}");
}

/// Issue 11: a snapshot proves it belongs to its log. One anchored to this log is used;
/// one of another history at the same position (the anchor differs), or one ahead of
/// the log's end, is set aside and never loaded, even after the log grows past it.
#[test]
fn a_snapshot_of_another_history_or_ahead_of_the_log_is_set_aside() {
    let f = fixture(7);
    let other = fixture(8);
    let at = f.end / 2;
    // Anchored to its own log: used.
    let own = f.snapshots.write_anchored(&state_at(&f, at), &f.log).expect("write");
    let recovered = recover(&f.log, &f.snapshots, f.now_end).expect("recover");
    assert_eq!(recovered.snapshot_seq, Some(at));
    assert_same(&recovered.state, &full(&f), "anchored snapshot + tail");
    std::fs::remove_file(own).expect("remove");

    // Another log's snapshot at the same position: its anchor is not this log's record.
    let foreign = other.snapshots.write_anchored(&state_at(&other, at), &other.log).expect("write");
    assert_ne!(f.log.record_crc(at).unwrap(), other.log.record_crc(at).unwrap(), "the histories differ at {at}");
    std::fs::copy(&foreign, f.snapshots.file_of(at)).expect("copy the foreign snapshot in");
    let recovered = recover(&f.log, &f.snapshots, f.now_end).expect("recover");
    assert_eq!(recovered.snapshot_seq, None, "a foreign snapshot is not loaded");
    assert_same(&recovered.state, &full(&f), "full replay");
    assert!(!f.snapshots.file_of(at).exists(), "the foreign snapshot is set aside");
    let aside = f.snapshots.file_of(at).with_extension("snap.rejected");
    assert!(aside.exists(), "kept for the operator as {}", aside.display());

    // A snapshot beyond the log's end (the log lost its tail): set aside at once, so it
    // cannot be loaded once the log has grown past it again with different records.
    let ahead = f.end + 5;
    std::fs::copy(&foreign, f.snapshots.file_of(ahead)).expect("copy");
    let recovered = recover(&f.log, &f.snapshots, f.now_end).expect("recover");
    assert_eq!(recovered.snapshot_seq, None);
    assert!(!f.snapshots.file_of(ahead).exists(), "the snapshot ahead of the log is set aside");
    assert!(f.snapshots.list().expect("list").is_empty(), "no snapshot is left to load: {:?}", f.snapshots.list());
}
