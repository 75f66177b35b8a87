//! Worker IDs derived without coordination: a hash of what tells this process apart
//! (hostname, pid, MAC addresses, start-up time) reduced to the layout's worker range.
//!
//! This is probabilistic. Two processes pick the same worker ID with probability
//! `1 / 2^worker_bits`; among `k` live processes some pair collides with probability
//! about `1 - exp(-k(k-1) / 2^(worker_bits+1))`. With the default 10 bits that is
//! 1/1024 (0.1 %) for two processes, about 50 % at 38 processes, and 91 % at 70. Two
//! generators sharing a worker ID issue duplicate snowflakes whenever they hit the same
//! millisecond and sequence number, so a derived worker ID suits a handful of processes
//! or IDs whose duplicates a database constraint would catch. For guaranteed uniqueness
//! lease the worker ID from the instance registry instead: a lease holds one worker ID
//! per live instance and fences the generator when it lapses.

use core::fmt::Write as _;
use sha2::{Digest, Sha256};

use super::layout::Layout;
use super::system_now_ns;

/// What distinguishes this process from others, hashed into a worker ID.
///
/// The hash covers the hostname, the pid, the network interfaces' MAC addresses and the
/// time in nanoseconds when the fingerprint was taken, and is reduced to the layout's
/// worker range. That makes the worker ID effectively uniform, but **not unique**: two
/// processes pick the same one with probability `1 / 2^worker_bits`, and among `k` live
/// processes some pair collides with probability about `1 - exp(-k(k-1) / 2^(worker_bits+1))`.
/// With the default 10 bits: 1/1024 (0.1 %) for two processes, about 50 % at 38, 91 % at
/// 70. Two generators sharing a worker ID can issue the same snowflake. Use a derived
/// worker ID for a handful of processes, or where a UNIQUE constraint would catch a
/// duplicate; for a guarantee, lease worker IDs from the instance registry.
///
/// ```
/// use typed_id::generator::{Layout, WorkerFingerprint};
///
/// let fingerprint = WorkerFingerprint::collect();
/// let worker = fingerprint.worker_id(&Layout::DEFAULT);
/// assert!(worker <= 1023);
/// // Log it: when two instances collide, this says why.
/// println!("worker {worker} from {fingerprint:?}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerFingerprint {
    hostname: Option<String>,
    pid: u32,
    macs: Vec<[u8; 6]>,
    started_ns: u128,
}

impl WorkerFingerprint {
    /// Reads the hostname, the process ID, the MAC addresses of the network interfaces
    /// (Linux: `/sys/class/net/*/address`, all-zero addresses skipped) and the current
    /// time in nanoseconds. Missing pieces are left out; this never fails.
    #[must_use]
    pub fn collect() -> Self {
        WorkerFingerprint {
            hostname: hostname(),
            pid: std::process::id(),
            macs: mac_addresses(),
            started_ns: system_now_ns(),
        }
    }

    /// A fingerprint from given parts (to reproduce a derivation from a log line).
    #[must_use]
    pub fn from_parts(
        hostname: Option<&str>,
        pid: u32,
        macs: &[[u8; 6]],
        started_ns: u128,
    ) -> Self {
        let mut macs = macs.to_vec();
        macs.sort_unstable();
        macs.dedup();
        WorkerFingerprint {
            hostname: hostname.map(str::to_owned),
            pid,
            macs,
            started_ns,
        }
    }

    /// The hostname, if one could be read.
    #[must_use]
    pub fn hostname(&self) -> Option<&str> {
        self.hostname.as_deref()
    }

    /// The process ID.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The non-zero MAC addresses found, sorted.
    #[must_use]
    pub fn macs(&self) -> &[[u8; 6]] {
        &self.macs
    }

    /// Nanoseconds since the Unix epoch when the fingerprint was taken.
    #[must_use]
    pub fn started_ns(&self) -> u128 {
        self.started_ns
    }

    /// The first 8 bytes (big-endian) of the SHA-256 of all the parts.
    #[must_use]
    pub fn digest(&self) -> u64 {
        let mut h = Sha256::new();
        h.update(b"typed-id worker v1\0");
        if let Some(name) = &self.hostname {
            h.update((name.len() as u64).to_be_bytes());
            h.update(name.as_bytes());
        } else {
            h.update(u64::MAX.to_be_bytes());
        }
        h.update(self.pid.to_be_bytes());
        h.update((self.macs.len() as u64).to_be_bytes());
        for mac in &self.macs {
            h.update(mac);
        }
        h.update(self.started_ns.to_be_bytes());
        let digest = h.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first)
    }

    /// The worker ID for `layout`: the digest's low bits, uniform over
    /// `0..=layout.max_worker()`.
    #[must_use]
    pub fn worker_id(&self, layout: &Layout) -> u32 {
        (self.digest() & u64::from(layout.max_worker())) as u32
    }

    /// The process ID for layouts with a process field (Discord's), from other bits of
    /// the digest than the worker ID; 0 for layouts without one.
    #[must_use]
    pub fn process_id(&self, layout: &Layout) -> u32 {
        ((self.digest() >> 32) & u64::from(layout.max_process())) as u32
    }
}

/// The hostname: `gethostname`, then `/proc/sys/kernel/hostname`, then `$HOSTNAME`.
/// Also used by instance detection (`crate::instance::detect`) for its fallback ID.
pub(crate) fn hostname() -> Option<String> {
    os_hostname()
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|s| s.trim().to_owned())
        })
        .or_else(|| std::env::var("HOSTNAME").ok())
        .filter(|s| !s.is_empty())
}

#[cfg(unix)]
fn os_hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the pointer and length describe `buf`, which gethostname may fill.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    // POSIX does not promise a terminator when the name was truncated.
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    core::str::from_utf8(&buf[..end]).ok().map(str::to_owned)
}

#[cfg(not(unix))]
fn os_hostname() -> Option<String> {
    std::env::var("COMPUTERNAME").ok()
}

/// Non-zero MAC addresses of the network interfaces, sorted (Linux only; empty
/// elsewhere or when `/sys` is not mounted).
fn mac_addresses() -> Vec<[u8; 6]> {
    let mut macs = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/sys/class/net") {
        for entry in entries.flatten() {
            let mut path = entry.path();
            path.push("address");
            if let Some(mac) = std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| parse_mac(s.trim()))
                .filter(|mac| *mac != [0; 6])
            {
                macs.push(mac);
            }
        }
    }
    macs.sort_unstable();
    macs.dedup();
    macs
}

/// Parses `aa:bb:cc:dd:ee:ff`.
fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

impl core::fmt::Display for WorkerFingerprint {
    /// `host=web-1 pid=4242 macs=02:42:ac:11:00:02 started_ns=…`, for start-up logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "host={} pid={} macs=",
            self.hostname().unwrap_or("?"),
            self.pid
        )?;
        if self.macs.is_empty() {
            f.write_char('-')?;
        }
        for (i, mac) in self.macs.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            write!(
                f,
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
            )?;
        }
        write!(f, " started_ns={}", self.started_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_mac_addresses() {
        assert_eq!(
            parse_mac("02:42:ac:11:00:02"),
            Some([0x02, 0x42, 0xac, 0x11, 0x00, 0x02])
        );
        assert_eq!(parse_mac("00:00:00:00:00:00"), Some([0; 6]));
        assert_eq!(parse_mac("02:42:ac:11:00"), None);
        assert_eq!(parse_mac("02:42:ac:11:00:02:03"), None);
        assert_eq!(parse_mac("2:42:ac:11:00:02"), None);
        assert_eq!(parse_mac(""), None);
    }

    #[test]
    fn collected_parts() {
        let f = WorkerFingerprint::collect();
        assert_eq!(f.pid(), std::process::id());
        assert!(f.started_ns() > 0);
        assert!(f.macs().iter().all(|m| *m != [0; 6]));
        if cfg!(target_os = "linux") {
            assert!(f.hostname().is_some_and(|h| !h.is_empty()));
        }
        assert!(f.to_string().contains(&format!("pid={}", f.pid())));
    }

    #[test]
    fn every_part_matters_and_the_result_is_in_range() {
        let mac = [[0x02, 0x42, 0xac, 0x11, 0x00, 0x02]];
        let base = WorkerFingerprint::from_parts(Some("web-1"), 42, &mac, 1);
        let variants = [
            WorkerFingerprint::from_parts(Some("web-2"), 42, &mac, 1),
            WorkerFingerprint::from_parts(None, 42, &mac, 1),
            WorkerFingerprint::from_parts(Some("web-1"), 43, &mac, 1),
            WorkerFingerprint::from_parts(Some("web-1"), 42, &[], 1),
            WorkerFingerprint::from_parts(Some("web-1"), 42, &mac, 2),
        ];
        for v in &variants {
            assert_ne!(v.digest(), base.digest(), "{v:?}");
        }
        assert_eq!(
            base.digest(),
            WorkerFingerprint::from_parts(Some("web-1"), 42, &mac, 1).digest()
        );
        for layout in [Layout::DEFAULT, Layout::DISCORD] {
            assert!(base.worker_id(&layout) <= layout.max_worker());
            assert!(base.process_id(&layout) <= layout.max_process());
        }
        assert_eq!(base.process_id(&Layout::DEFAULT), 0);
    }

    #[test]
    fn derived_ids_spread_over_the_range() {
        // 4096 fingerprints differing only in start time should hit most of 1024 IDs.
        let mut seen = [false; 1024];
        for ns in 0..4096u128 {
            let f = WorkerFingerprint::from_parts(Some("h"), 1, &[], ns);
            seen[f.worker_id(&Layout::DEFAULT) as usize] = true;
        }
        // Expected coverage 1 - e^-4 ≈ 98 %.
        let covered = seen.iter().filter(|&&s| s).count();
        assert!(covered > 950, "{covered}");
    }
}
