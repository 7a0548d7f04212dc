//! Process metrics read from `/proc` at scrape time and appended to the exposition: resident
//! and virtual memory, CPU seconds, open and maximum file descriptors, threads, start time.
//! Written directly as text (CPU seconds is a fractional counter, which the `metrics` facade
//! cannot express). On a system without `/proc` nothing is appended.

use std::fmt::Write;

/// Linux reports CPU times in /proc in USER_HZ units, 100 on every supported architecture.
const USER_HZ: f64 = 100.0;

/// One process sample.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Sample {
    pub cpu_seconds: f64,
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub threads: u64,
    pub open_fds: u64,
    pub max_fds: Option<u64>,
    pub start_time_seconds: f64,
}

/// Reads the sample of this process; `None` without a usable `/proc`.
pub fn sample() -> Option<Sample> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields = stat_fields(&stat)?;
    // Fields after the command name, numbered from `state` (field 3 of proc(5)) as 0.
    let field = |n: usize| fields.get(n).and_then(|f| f.parse::<u64>().ok());
    let ticks = field(11)?.saturating_add(field(12)?);
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| btime(&s))
        .unwrap_or(0);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    Some(Sample {
        cpu_seconds: ticks as f64 / USER_HZ,
        resident_bytes: status_kb(&status, "VmRSS:").map_or(0, |kb| kb.saturating_mul(1024)),
        virtual_bytes: field(20).unwrap_or(0),
        threads: field(17).unwrap_or(0),
        open_fds: std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64),
        max_fds: std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|l| max_open_files(&l)),
        start_time_seconds: boot as f64 + field(19).unwrap_or(0) as f64 / USER_HZ,
    })
}

/// The space-separated fields after `(comm)`, which may itself hold spaces and parentheses.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let end = stat.rfind(')')?;
    Some(stat.get(end + 1..)?.split_whitespace().collect())
}

fn btime(proc_stat: &str) -> Option<u64> {
    proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn status_kb(status: &str, key: &str) -> Option<u64> {
    let rest = status.lines().find_map(|l| l.strip_prefix(key))?;
    rest.split_whitespace().next()?.parse().ok()
}

fn max_open_files(limits: &str) -> Option<u64> {
    let rest = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Appends the process metrics to an exposition `text`.
pub fn render(text: &mut String) {
    let Some(s) = sample() else {
        return;
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let mut put = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = write!(
            text,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n\n"
        );
    };
    put(
        "otpgate_process_cpu_seconds_total",
        "counter",
        "User and system CPU time spent, in seconds",
        s.cpu_seconds,
    );
    put(
        "otpgate_process_resident_memory_bytes",
        "gauge",
        "Resident memory size, in bytes",
        s.resident_bytes as f64,
    );
    put(
        "otpgate_process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size, in bytes",
        s.virtual_bytes as f64,
    );
    put(
        "otpgate_process_open_fds",
        "gauge",
        "Open file descriptors (sockets included)",
        s.open_fds as f64,
    );
    if let Some(max) = s.max_fds {
        put(
            "otpgate_process_max_fds",
            "gauge",
            "Most file descriptors the process may open (soft limit)",
            max as f64,
        );
    }
    put(
        "otpgate_process_threads",
        "gauge",
        "Operating-system threads of the process",
        s.threads as f64,
    );
    put(
        "otpgate_process_start_time_seconds",
        "gauge",
        "Start time of the process since the Unix epoch, in seconds",
        s.start_time_seconds,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_formats() {
        let stat = "1234 (tokio (rt) x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 7 0 4200 123456 789";
        let f = stat_fields(stat).unwrap();
        assert_eq!(f[0], "S");
        assert_eq!(
            (f[11], f[12], f[17], f[19], f[20]),
            ("250", "50", "7", "4200", "123456")
        );
        assert_eq!(
            btime("cpu 1 2\nbtime 1700000000\nprocesses 9\n"),
            Some(1_700_000_000)
        );
        assert_eq!(
            status_kb("Name:\tx\nVmRSS:\t  2048 kB\n", "VmRSS:"),
            Some(2048)
        );
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(max_open_files(limits), Some(1024));
        assert_eq!(stat_fields("no parenthesis"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn samples_this_process() {
        let s = sample().expect("/proc is readable");
        assert!(s.resident_bytes > 0 && s.threads >= 1 && s.open_fds >= 1);
        let mut text = String::new();
        render(&mut text);
        assert!(text.contains("# TYPE otpgate_process_cpu_seconds_total counter\n"));
        assert!(text.contains("otpgate_process_start_time_seconds "));
    }
}
