//! CPU time of processes, read from `/proc` (Linux), for the benches' CPU per run.

/// Linux's `USER_HZ`: the unit of the CPU times in `/proc/<pid>/stat`.
const TICKS_PER_S: f64 = 100.0;

/// `(comm, user + system CPU seconds)` of process `pid`; `None` once it has exited.
pub fn process_cpu(pid: u32) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    // After the comm: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((comm, (utime + stime) / TICKS_PER_S))
}

/// CPU seconds used so far by every process named `comm` (e.g. a database server's).
pub fn cpu_of(comm: &str) -> f64 {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(process_cpu)
        .filter(|(name, _)| name == comm)
        .map(|(_, cpu)| cpu)
        .sum()
}
