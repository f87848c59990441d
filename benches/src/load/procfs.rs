//! What the tool reads from `/proc`: a process's CPU time and memory, the descriptor limit, the local port range.

use std::fs;
use std::io;
use std::sync::OnceLock;
use std::time::Duration;

/// CPU time a process has used, user and system, all its threads (those that exited included).
///
/// # Errors
///
/// When the process is gone or `/proc` is not Linux's.
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    stat_cpu_time(&fs::read_to_string(format!("/proc/{pid}/stat"))?)
}

/// CPU time this process has used.
///
/// # Errors
///
/// When `/proc` is not Linux's.
pub fn own_cpu_time() -> io::Result<Duration> {
    stat_cpu_time(&fs::read_to_string("/proc/self/stat")?)
}

fn stat_cpu_time(stat: &str) -> io::Result<Duration> {
    // The command name (field 2) may hold spaces; fields after it are numbers. utime and stime are fields 14
    // and 15, that is the 12th and 13th after the name.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(bad_proc)?;
    let mut fields = after_name.split_ascii_whitespace().skip(11);
    let mut tick = || -> io::Result<u64> {
        fields
            .next()
            .and_then(|f| f.parse().ok())
            .ok_or_else(bad_proc)
    };
    let ticks = tick()? + tick()?;
    Ok(Duration::from_nanos(ticks * 1_000_000_000 / clock_ticks()))
}

/// The kernel's clock tick for CPU times (`getconf CLK_TCK`, 100 on Linux unless asked otherwise).
#[must_use]
pub fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|out| out.trim().parse().ok())
            .filter(|&ticks| ticks > 0)
            .unwrap_or(100)
    })
}

/// A process's memory, in bytes, from `/proc/<pid>/status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// Resident set size (`VmRSS`): every page of the process in RAM.
    pub rss: u64,
    /// Resident anonymous memory (`RssAnon`): heap, stacks and other private pages, without the mapped
    /// executable and libraries, so it does not depend on binary size or on what the page cache holds.
    pub anon: u64,
    /// Peak resident set size (`VmHWM`).
    pub peak: u64,
}

/// The memory of process `pid`.
///
/// # Errors
///
/// When the process is gone or `/proc` is not Linux's.
pub fn memory(pid: u32) -> io::Result<Memory> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> io::Result<u64> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|value| value.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
            .ok_or_else(bad_proc)
    };
    Ok(Memory {
        rss: field("VmRSS")?,
        anon: field("RssAnon")?,
        peak: field("VmHWM")?,
    })
}

/// This process's limit on open files, soft and hard.
///
/// # Errors
///
/// When `/proc` is not Linux's.
pub fn open_files_limit() -> io::Result<(u64, u64)> {
    let limits = fs::read_to_string("/proc/self/limits")?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .ok_or_else(bad_proc)?;
    let mut values = line["Max open files".len()..]
        .split_ascii_whitespace()
        .map(|v| {
            if v == "unlimited" {
                Some(u64::MAX)
            } else {
                v.parse().ok()
            }
        });
    match (values.next().flatten(), values.next().flatten()) {
        (Some(soft), Some(hard)) => Ok((soft, hard)),
        _ => Err(bad_proc()),
    }
}

/// How many local ports the kernel hands out to outgoing connections.
///
/// # Errors
///
/// When `/proc` is not Linux's.
pub fn local_port_count() -> io::Result<u64> {
    let range = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")?;
    let mut ends = range.split_ascii_whitespace().map(str::parse::<u64>);
    match (ends.next(), ends.next()) {
        (Some(Ok(low)), Some(Ok(high))) if high >= low => Ok(high - low + 1),
        _ => Err(bad_proc()),
    }
}

/// The CPU model, as `/proc/cpuinfo` names it.
#[must_use]
pub fn cpu_model() -> Option<String> {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

/// The kernel release.
#[must_use]
pub fn kernel() -> Option<String> {
    Some(
        fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()?
            .trim()
            .to_owned(),
    )
}

/// The load averages over 1, 5 and 15 minutes.
#[must_use]
pub fn load_average() -> Option<[f64; 3]> {
    let loadavg = fs::read_to_string("/proc/loadavg").ok()?;
    let mut values = loadavg.split_ascii_whitespace().map(str::parse::<f64>);
    Some([
        values.next()?.ok()?,
        values.next()?.ok()?,
        values.next()?.ok()?,
    ])
}

fn bad_proc() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc format")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_itself() {
        let stat = "1234 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1";
        assert_eq!(
            stat_cpu_time(stat).unwrap(),
            Duration::from_nanos(300 * 1_000_000_000 / clock_ticks())
        );
        own_cpu_time().unwrap();
        let memory = memory(std::process::id()).unwrap();
        assert!(memory.rss > 0 && memory.anon > 0 && memory.peak >= memory.rss);
        let (soft, hard) = open_files_limit().unwrap();
        assert!(soft <= hard);
        assert!(local_port_count().unwrap() > 0);
        assert!(kernel().is_some() && load_average().is_some());
    }
}
