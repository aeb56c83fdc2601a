//! Facts about the machine the instance runs on, in the forms a real
//! instance (a Go program) reports them.

use std::time::Duration;

use crate::types::{BuildInfo, HardwareInfo, Partition, StorageInfo, SystemInfo};

/// The instance's version: the API version its spec describes.
pub(crate) fn version() -> String {
    format!("v{}", crate::facts::API_VERSION)
}

/// A duration as Go's `time.Duration.String` writes a whole number of
/// seconds: `0s`, `42s`, `5m0s`, `72h30m15s`.
pub(crate) fn go_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
    if hours > 0 {
        format!("{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{minutes}m{seconds}s")
    } else {
        format!("{seconds}s")
    }
}

pub(crate) fn system_info(build_date: String) -> SystemInfo {
    let memory = memory();
    let field = |name: &str| memory.as_ref().and_then(|m| m.get(name)).cloned();
    SystemInfo {
        build: BuildInfo {
            version: version(),
            commit: Some("local".to_string()),
            build_date: Some(build_date),
            go_version: None,
        },
        hardware: HardwareInfo {
            os: Some(std::env::consts::OS.to_string()),
            arch: Some(go_arch(std::env::consts::ARCH).to_string()),
            cpu_count: std::thread::available_parallelism()
                .ok()
                .map(|n| n.get() as i64),
            hostname: Some(hostname()),
            kernel: read_trimmed("/proc/sys/kernel/osrelease").map(|r| format!("Linux {r}")),
            mem_total: field("mem_total"),
            mem_used: field("mem_used"),
            mem_free: field("mem_free"),
            swap_total: field("swap_total"),
            swap_used: field("swap_used"),
        },
        storage: StorageInfo {
            devices: Vec::new(),
            partitions: root_partition().into_iter().collect(),
        },
    }
}

/// Go's `GOARCH` name for a Rust target architecture.
fn go_arch(rust: &str) -> &str {
    match rust {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn hostname() -> String {
    read_trimmed("/proc/sys/kernel/hostname")
        .or_else(|| read_trimmed("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "localhost".to_string())
}

/// Memory and swap from `/proc/meminfo` (Linux only), as `free -h` writes
/// sizes. "Free" is what is available to new programs, as `free` means it.
fn memory() -> Option<std::collections::HashMap<&'static str, String>> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib = |key: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        line[key.len()..]
            .trim_start_matches(':')
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let total = kib("MemTotal")?.saturating_mul(1024);
    let available = kib("MemAvailable").unwrap_or(0).saturating_mul(1024);
    let swap_total = kib("SwapTotal").unwrap_or(0).saturating_mul(1024);
    let swap_free = kib("SwapFree").unwrap_or(0).saturating_mul(1024);
    Some(
        [
            ("mem_total", total),
            ("mem_used", total.saturating_sub(available)),
            ("mem_free", available),
            ("swap_total", swap_total),
            ("swap_used", swap_total.saturating_sub(swap_free)),
        ]
        .into_iter()
        .map(|(name, bytes)| (name, human_size(bytes)))
        .collect(),
    )
}

/// `7.5Gi`, `512Mi`, `0B`: one decimal below ten units, none above.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1}{}", UNITS[unit])
    } else {
        format!("{value:.0}{}", UNITS[unit])
    }
}

/// The filesystem mounted at `/`, from `/proc/mounts` (Linux only). Sizes
/// would need `statvfs`, which is not worth unsafe code in a test double.
fn root_partition() -> Option<Partition> {
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    let filesystem = mounts.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let device = fields.next()?;
        (fields.next()? == "/").then(|| device.to_string())
    })?;
    Some(Partition {
        filesystem,
        mountpoint: Some("/".to_string()),
        size: None,
        used: None,
        available: None,
        use_percent: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_go() {
        let d = |s| go_duration(Duration::from_secs(s));
        assert_eq!(d(0), "0s");
        assert_eq!(d(42), "42s");
        assert_eq!(d(300), "5m0s");
        assert_eq!(d(72 * 3600 + 30 * 60 + 15), "72h30m15s");
        assert_eq!(go_duration(Duration::from_millis(1999)), "1s");
    }

    #[test]
    fn sizes_read_like_free() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(512 * 1024 * 1024), "512Mi");
        assert_eq!(human_size(7_864_320 * 1024), "7.5Gi");
        assert_eq!(human_size(u64::MAX), "16Ei");
    }

    #[test]
    fn info_matches_the_host() {
        let info = system_info("2024-01-01T00:00:00Z".into());
        let cpus = std::thread::available_parallelism().unwrap().get() as i64;
        assert_eq!(info.hardware.cpu_count, Some(cpus));
        assert_eq!(info.hardware.os.as_deref(), Some(std::env::consts::OS));
        assert!(info.build.version.starts_with('v'));
    }
}
