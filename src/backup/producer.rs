//! The thread that produces a backup inside the running service: its own OS thread at
//! the lowest CPU and I/O priority, so that folding and reading a large log takes the CPU the
//! service leaves idle instead of taking it from sales. It ends with the backup.

use std::io::Write;

use super::BackupError;
use super::format::Header;
use super::pace::Pace;
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
        let mut pace = Pace::for_live_service();
        let header = backup_header(&log, cut, created_at_micros, &mut pace);
        let streamed = header.as_ref().ok().cloned();
        let (Some(mut out), Some(header)) = (on_header(header), streamed) else { return };
        if let Err(error) = write_range(&log, &header, &mut out, &mut pace) {
            tracing::error!(%error, "backup stream ended early");
            out.fail(&error);
        }
    };
    std::thread::Builder::new().name("qskip-backup".into()).spawn(run).map(drop)
}

/// `ioprio_set` class "idle" (`IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT`): disk time
/// only when no one else wants it (honoured by the BFQ and CFQ I/O schedulers).
const IOPRIO_IDLE: libc::c_long = 3 << 13;
/// `ioprio_set` target kind: one thread (`IOPRIO_WHO_PROCESS` with a thread id).
const IOPRIO_WHO_PROCESS: libc::c_long = 1;

/// Lowers this thread's CPU and I/O priority (Linux: both are per thread).
fn lower_priority() {
    // SAFETY: gettid, setpriority and ioprio_set take plain integers and touch no memory
    // of ours; they change only this thread's scheduling.
    let (cpu, io) = unsafe {
        let tid = libc::syscall(libc::SYS_gettid);
        let cpu = libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, BACKUP_NICE);
        let io = libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid, IOPRIO_IDLE);
        (cpu, io)
    };
    if cpu != 0 || io != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "cannot lower the backup thread's priority");
    }
}
