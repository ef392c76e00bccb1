//! CPU accounting from /proc (Linux only; zeros elsewhere): per thread of this process,
//! split into the load generator (`bench-client` threads) and everything else, and the
//! whole machine, so noise from other processes is visible beside each result.

use std::collections::BTreeMap;

/// Clock ticks per second of /proc's utime/stime (USER_HZ, 100 on Linux).
pub const TICKS_PER_SEC: f64 = 100.0;

#[derive(Debug, Clone, Default)]
pub struct CpuSample {
    /// Ticks per thread name (digits dropped, so numbered workers add up).
    pub by_thread: BTreeMap<String, u64>,
    /// Ticks used by this process's `bench-client` threads.
    pub client: u64,
    /// Ticks used by every other thread of this process (the servers).
    pub server: u64,
    /// Busy ticks of the whole machine (all processes), and all ticks.
    pub machine_busy: u64,
    pub machine_total: u64,
}

pub fn cpu_sample() -> CpuSample {
    let mut sample = CpuSample::default();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
            let comm = &stat[open + 1..close];
            let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
            let ticks: u64 = fields.get(11..13).map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
            let group: String = comm.chars().filter(|c| !c.is_ascii_digit()).collect();
            *sample.by_thread.entry(group).or_default() += ticks;
            match comm.starts_with("bench-client") {
                true => sample.client += ticks,
                false => sample.server += ticks,
            }
        }
    }
    if let Some(line) = std::fs::read_to_string("/proc/stat").ok().and_then(|s| s.lines().next().map(str::to_owned)) {
        let values: Vec<u64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
        let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
        sample.machine_total = values.iter().take(8).sum();
        sample.machine_busy = sample.machine_total.saturating_sub(idle);
    }
    sample
}
