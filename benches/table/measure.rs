//! Time, CPU time and memory of this process, from `/proc` (Linux only).
//!
//! CPU time is `utime + stime` of `/proc/self/stat`, in clock ticks of 1/100 s: Linux
//! reports these fields in `USER_HZ`, which is 100 on every architecture it runs on, so
//! no `sysconf` (and no libc) is needed. Peak memory is `VmHWM` of `/proc/self/status`,
//! the process's high-water mark of resident memory since it started: each case runs in
//! its own process so that this is the case's own peak.

use std::time::Instant;

use anyhow::{Context, bail};

/// Clock ticks per second of `/proc/self/stat` (`USER_HZ`).
const USER_HZ: f64 = 100.0;

/// A started measurement: wall clock and CPU time at the start.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    wall: Instant,
    cpu: f64,
}

/// What a [`Clock`] measured.
#[derive(Clone, Copy, Debug)]
pub struct Elapsed {
    pub seconds: f64,
    pub cpu_seconds: f64,
}

impl Clock {
    /// Starts the clock now.
    pub fn start() -> anyhow::Result<Clock> {
        Ok(Clock {
            wall: Instant::now(),
            cpu: cpu_seconds()?,
        })
    }

    /// Wall and CPU time since the start.
    pub fn stop(self) -> anyhow::Result<Elapsed> {
        let seconds = self.wall.elapsed().as_secs_f64();
        Ok(Elapsed {
            seconds,
            cpu_seconds: cpu_seconds()? - self.cpu,
        })
    }
}

/// CPU time used by this process so far (all threads, user and system).
pub fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")
        .context("cannot read /proc/self/stat (the benchmarks need Linux)")?;
    // The command name, field 2, is in parentheses and may hold spaces: count after it.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("/proc/self/stat has no command name")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime); `fields[0]` is field 3.
    let ticks = |n: usize| -> anyhow::Result<f64> {
        let text = fields
            .get(n - 3)
            .with_context(|| format!("/proc/self/stat has no field {n}"))?;
        let value: u64 = text
            .parse()
            .with_context(|| format!("/proc/self/stat field {n} is {text:?}"))?;
        Ok(value as f64)
    };
    Ok((ticks(14)? + ticks(15)?) / USER_HZ)
}

/// The peak resident memory of this process so far (`VmHWM`), in bytes.
pub fn peak_rss_bytes() -> anyhow::Result<u64> {
    status_kib("VmHWM").map(|kib| kib * 1024)
}

/// The resident memory of this process now (`VmRSS`), in bytes.
pub fn rss_bytes() -> anyhow::Result<u64> {
    status_kib("VmRSS").map(|kib| kib * 1024)
}

fn status_kib(key: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")
        .context("cannot read /proc/self/status (the benchmarks need Linux)")?;
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix(key).and_then(|r| r.strip_prefix(':')) {
            let number = rest.trim().trim_end_matches("kB").trim();
            return number
                .parse()
                .with_context(|| format!("/proc/self/status {key} is {rest:?}"));
        }
    }
    bail!("/proc/self/status has no {key}")
}

/// `/proc/loadavg`'s three load averages, as written.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The CPU model of `/proc/cpuinfo`, when it names one.
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, name)| name.trim().to_owned())
}
