//! Worker processes for the fault tests: a test binary starts itself again as its
//! ignored `child_process` test, with the job in the environment, and each worker
//! writes an [`IssueLog`] (and, with threads, one per thread: `{log}.t0` … `{log}.t3`)
//! and its stderr to files in the cell's scratch directory. The parent reads those
//! files to know what each worker received, stops it with signals, and tallies.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::fault::{Event, IssueLog, Tally};

/// The prefix a worker writes before each error it prints in full (see
/// [`Workers::error_texts`]).
pub const ERROR_LINE: &str = "worker error: ";

/// How many per-thread logs a worker may write beside its own.
const THREAD_LOGS: usize = 4;

/// A started worker.
#[derive(Debug)]
pub struct Worker {
    /// The process.
    pub child: Child,
    /// Its issue log.
    pub log: PathBuf,
    /// Its stderr.
    pub stderr: PathBuf,
    /// Killed on purpose: a failed exit is expected.
    pub killed: bool,
}

/// The workers of one cell, with their files in `dir`.
#[derive(Debug)]
pub struct Workers {
    dir: PathBuf,
    /// Every worker's stop file: it stops allocating once the file exists.
    stop: PathBuf,
    /// How long a wait may take before it fails the cell.
    patience: Duration,
    list: Vec<Worker>,
    spawned: usize,
}

impl Workers {
    /// No workers yet; files go in `dir`, which must exist. A wait longer than
    /// `patience` fails the cell.
    #[must_use]
    pub fn new(dir: &Path, patience: Duration) -> Workers {
        Workers {
            dir: dir.to_owned(),
            stop: dir.join("stop"),
            patience,
            list: Vec::new(),
            spawned: 0,
        }
    }

    /// The stop file the workers watch.
    #[must_use]
    pub fn stop_file(&self) -> &Path {
        &self.stop
    }

    /// Starts this test binary's `child_process` test; `configure` adds the job's
    /// environment, given the worker's log path. Returns the worker's index.
    ///
    /// # Panics
    /// When the process cannot be started.
    pub fn spawn(&mut self, configure: impl FnOnce(&mut Command, &Path)) -> usize {
        let n = self.spawned;
        self.spawned += 1;
        let log = self.dir.join(format!("w{n}.log"));
        let stderr = self.dir.join(format!("w{n}.err"));
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--ignored",
                "--exact",
                "child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&stderr).unwrap());
        configure(&mut command, &log);
        let child = command.spawn().unwrap();
        self.list.push(Worker {
            child,
            log,
            stderr,
            killed: false,
        });
        self.list.len() - 1
    }

    /// Worker `i`.
    #[must_use]
    pub fn get(&self, i: usize) -> &Worker {
        &self.list[i]
    }

    /// How many were started.
    #[must_use]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether none was started.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The complete events of worker `i`'s own log.
    #[must_use]
    pub fn events(&self, i: usize) -> Vec<Event> {
        IssueLog::read(&self.list[i].log).0
    }

    /// How many numbers worker `i` logged, its threads' logs included.
    #[must_use]
    pub fn issued(&self, i: usize) -> usize {
        self.logs(i)
            .map(|l| count(&IssueLog::read(&l).0, true))
            .sum()
    }

    /// How many errors worker `i` logged, its threads' logs included.
    #[must_use]
    pub fn errors(&self, i: usize) -> usize {
        self.logs(i)
            .map(|l| count(&IssueLog::read(&l).0, false))
            .sum()
    }

    fn logs(&self, i: usize) -> impl Iterator<Item = PathBuf> + '_ {
        let log = &self.list[i].log;
        std::iter::once(log.clone())
            .chain((0..THREAD_LOGS).map(move |t| PathBuf::from(format!("{}.t{t}", log.display()))))
    }

    /// Waits until `cond` holds; a failure of the cell if it does not within the
    /// patience.
    pub fn wait(&self, tally: &mut Tally, what: &str, mut cond: impl FnMut(&Self) -> bool) -> bool {
        let started = Instant::now();
        while !cond(self) {
            if started.elapsed() > self.patience {
                tally.fail(format!("timed out waiting until {what}"));
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// Waits until every worker in `which` logged more than `more` numbers beyond what
    /// it had when called.
    pub fn progress(&self, tally: &mut Tally, which: &[usize], more: usize) -> bool {
        let base: Vec<usize> = which.iter().map(|&w| self.issued(w)).collect();
        self.wait(tally, "the workers allocate", |r| {
            which
                .iter()
                .zip(&base)
                .all(|(&w, &b)| r.issued(w) > b + more)
        })
    }

    /// Whether worker `i` has exited (reaping it).
    ///
    /// # Panics
    /// When its status cannot be read.
    pub fn exited(&mut self, i: usize) -> bool {
        self.list[i].child.try_wait().unwrap().is_some()
    }

    /// Sends `sig` to worker `i`.
    pub fn signal(&self, i: usize, sig: libc::c_int) {
        signal(&self.list[i].child, sig);
    }

    /// Kills worker `i` with SIGKILL and reaps it.
    pub fn kill(&mut self, i: usize) {
        self.signal(i, libc::SIGKILL);
        self.list[i].killed = true;
        let _ = self.list[i].child.wait();
    }

    /// Waits until worker `i` is stopped by a signal.
    pub fn wait_stopped(&self, i: usize) {
        wait_stopped(&self.list[i].child, self.patience);
    }

    /// Creates the stop file and waits for every worker: one that does not exit in
    /// time, or fails without having been killed, fails the cell. The stop file is
    /// removed afterwards, so more workers can start.
    ///
    /// # Panics
    /// When the stop file cannot be written.
    pub fn stop_all(&mut self, tally: &mut Tally) {
        File::create(&self.stop).unwrap();
        let deadline = Instant::now() + self.patience;
        for w in &mut self.list {
            let status = loop {
                if let Some(status) = w.child.try_wait().unwrap() {
                    break Some(status);
                }
                if Instant::now() > deadline {
                    signal(&w.child, libc::SIGKILL);
                    let _ = w.child.wait();
                    break None;
                }
                thread::sleep(Duration::from_millis(10));
            };
            match status {
                None => tally.fail(format!("worker {} hung", w.log.display())),
                Some(s) if !s.success() && !w.killed => tally.fail(format!(
                    "worker failed ({s}): {}",
                    tail(&fs::read_to_string(&w.stderr).unwrap_or_default())
                )),
                Some(_) => {}
            }
        }
        let _ = fs::remove_file(&self.stop);
    }

    /// The events of `workers` (their threads' logs included) into `tally`.
    pub fn tally(&self, tally: &mut Tally, workers: impl IntoIterator<Item = usize>) {
        for i in workers {
            for log in self.logs(i) {
                IssueLog::tally_into(&log, tally);
            }
        }
    }

    /// Every worker's events into `tally`.
    pub fn tally_all(&self, tally: &mut Tally) {
        self.tally(tally, 0..self.list.len());
    }

    /// The errors the workers printed in full (lines starting with [`ERROR_LINE`];
    /// their logs keep only the kind), each once, at most `most`: for a failure
    /// message.
    #[must_use]
    pub fn error_texts(&self, most: usize) -> Vec<String> {
        let mut texts: Vec<String> = Vec::new();
        for (i, w) in self.list.iter().enumerate() {
            for line in fs::read_to_string(&w.stderr).unwrap_or_default().lines() {
                if let Some(text) = line.strip_prefix(ERROR_LINE)
                    && !texts.iter().any(|t| t.ends_with(text))
                    && texts.len() < most
                {
                    texts.push(format!("worker {i}: {text}"));
                }
            }
        }
        texts
    }
}

/// How many of `events` are issued numbers (`issued`) or errors (`!issued`).
#[must_use]
pub fn count(events: &[Event], issued: bool) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Issued(_)) == issued)
        .count()
}

/// The last 2 000 bytes of `text` (on a character boundary), for failure messages.
#[must_use]
pub fn tail(text: &str) -> String {
    let mut cut = text.len().saturating_sub(2_000);
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    text[cut..].to_owned()
}

/// Sends `sig` to `child`.
pub fn signal(child: &Child, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on a child we started and have not reaped.
    let _ = unsafe { libc::kill(pid, sig) };
}

/// Waits until the kernel reports `child` stopped (`T` in `/proc/{pid}/stat`): a
/// SIGSTOP takes effect asynchronously. Gives up after `patience`.
pub fn wait_stopped(child: &Child, patience: Duration) {
    let stat = format!("/proc/{}/stat", child.id());
    let deadline = Instant::now() + patience;
    loop {
        let text = fs::read_to_string(&stat).unwrap_or_default();
        // The state follows the parenthesised command name.
        let state = text
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        if state == Some('T') || Instant::now() > deadline {
            return;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// A small xorshift generator for fault timing: random kill and stop points need no
/// statistical quality. Seeded from `TYPED_ID_FAULT_SEED` or the clock and pid, and the
/// seed is printed so a failing run can be repeated.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for the cell `tag`.
    #[must_use]
    pub fn new(tag: &str) -> Rng {
        let seed = std::env::var("TYPED_ID_FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64);
                nanos ^ (u64::from(std::process::id()) << 32)
            })
            | 1;
        eprintln!("fault {tag}: seed {seed} (TYPED_ID_FAULT_SEED)");
        Rng(seed)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }

    /// A duration of `from..=to` milliseconds.
    pub fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to.saturating_sub(from) + 1))
    }
}
