//! The thread that produces a backup inside the running service: its own OS thread at
//! the lowest CPU priority, so that folding and reading a large log takes the CPU the
//! service leaves idle instead of taking it from sales. It ends with the backup.

use std::io::Write;

use super::BackupError;
use super::format::Header;
use super::write::{backup_header, write_range};
use crate::store::EventLog;

/// Niceness of the backup thread (19: the lowest priority).
const BACKUP_NICE: libc::c_int = 19;

/// Where a produced backup goes; told when it cannot be completed.
pub trait BackupSink: Write {
    fn fail(self, error: &BackupError);
}

/// Folds records `1..=cut` for the header, hands it to `on_header`, then streams the
/// file into the sink `on_header` returns; on a thread of its own, at low priority.
pub fn spawn<S, F>(log: EventLog, cut: u64, created_at_micros: i64, on_header: F) -> std::io::Result<()>
where
    S: BackupSink,
    F: FnOnce(Result<Header, BackupError>) -> Option<S> + Send + 'static,
{
    let run = move || {
        lower_priority();
        let header = backup_header(&log, cut, created_at_micros);
        let streamed = header.as_ref().ok().cloned();
        let (Some(mut out), Some(header)) = (on_header(header), streamed) else { return };
        if let Err(error) = write_range(&log, &header, &mut out) {
            tracing::error!(%error, "backup stream ended early");
            out.fail(&error);
        }
    };
    std::thread::Builder::new().name("qskip-backup".into()).spawn(run).map(drop)
}

/// Lowers this thread's scheduling priority (Linux: per-thread nice value).
fn lower_priority() {
    // SAFETY: gettid and setpriority take plain integers and touch no memory of ours.
    let outcome = unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, BACKUP_NICE)
    };
    if outcome != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "cannot lower the backup thread's priority");
    }
}
