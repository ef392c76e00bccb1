//! The process's file-descriptor limit. Every connection is a descriptor; with the
//! common soft limit of 1,024, a thousand idle connections used to make `accept` fail
//! ("Too many open files") for everybody. The soft limit may be raised up to the hard
//! limit without privileges, so `serve` does that at start-up.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the limit now in force
/// (`None`: unlimited).
pub fn raise_to_hard_limit() -> std::io::Result<Option<u64>> {
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    if current != maximum {
        setrlimit(Resource::Nofile, Rlimit { current: maximum, maximum })?;
    }
    Ok(getrlimit(Resource::Nofile).current)
}
