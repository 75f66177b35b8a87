//! One table of fault classes for every backend, and the tally each cell keeps.
//!
//! Like a Jepsen nemesis list: each fault class is a row of [`FAULTS`], each backend
//! ([`Backend`]) a column, and every cell asserts the same two things: **no number or
//! snowflake issued twice** (within one copy of the data) and **only typed errors** (a
//! panic, an abort or a hang in the code under test fails the cell).
//!
//! A backend's test builds a [`FaultTable`], runs one closure per fault class it applies
//! to (or says why a class does not apply), and finishes the table: the finished table is
//! printed to stderr (past the harness's capture, so CI logs show it) and appended to
//! `fault-table.md` in the directory named by [`report_dir`], and the test fails if any
//! cell saw a duplicate or a failure.
//!
//! Each closure gets a [`Tally`]: every ID a process received goes through
//! [`Tally::issued`], every error it got through [`Tally::error`]. Faults that delete the
//! store's data or put an older copy in its place start a new copy with
//! [`Tally::new_copy`]: numbering may legitimately restart there, and what is checked
//! instead is that processes started before the fault issue nothing after it
//! ([`Tally::issued_after_fault`]).
//!
//! Child processes report through an [`IssueLog`]: fixed-width lines written with one
//! `write` each, so a process killed mid-line leaves a short last line that is dropped,
//! never a line that parses as another number.
//!
//! ```no_run
//! use typed_id_tests::fault::{Backend, FaultTable};
//!
//! let mut table = FaultTable::new(Backend::Folder);
//! table.cell("counter-deleted", |tally| {
//!     tally.issued(1);
//!     tally.issued(2);
//! });
//! table.skip("chattr-immutable", "the filesystem has no immutable flag");
//! table.finish();
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt::{self, Write as _};
use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The stores and leases the fault classes run against: the columns of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Backend {
    /// `FileStore`: a folder shared by processes.
    Folder,
    /// `SqliteStore`: one database file shared by processes.
    Sqlite,
    /// `PgStore`: a PostgreSQL server.
    Postgres,
    /// Worker-ID leases (and the snowflakes their fenced generators issue), on SQLite
    /// or PostgreSQL.
    Lease,
}

impl Backend {
    /// The column's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Backend::Folder => "folder",
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Lease => "lease",
        }
    }
}

/// One row of the table: a fault class.
#[derive(Clone, Copy, Debug)]
pub struct FaultClass {
    /// Short stable name, used by the tests to name their cells.
    pub id: &'static str,
    /// The family: `files`, `processes`, `postgres`, `network`, `sqlite`, `clocks`.
    pub group: &'static str,
    /// What the nemesis does.
    pub what: &'static str,
}

const fn class(id: &'static str, group: &'static str, what: &'static str) -> FaultClass {
    FaultClass { id, group, what }
}

/// Every fault class, in the order the table prints them.
pub const FAULTS: &[FaultClass] = &[
    // Files of a folder store (and SQLite's file where the class says so).
    class("lock-deleted", "files", "the lock file deleted while held"),
    class(
        "lock-replaced",
        "files",
        "the lock file replaced (deleted and recreated) while held",
    ),
    class("counter-deleted", "files", "the counter file deleted"),
    class(
        "counter-truncated",
        "files",
        "the counter file truncated to 0 bytes",
    ),
    class(
        "counter-torn",
        "files",
        "the counter file truncated mid-record",
    ),
    class(
        "counter-garbage",
        "files",
        "the counter file filled with garbage",
    ),
    class(
        "counter-overlong",
        "files",
        "the counter or lock file made over-long",
    ),
    class(
        "counter-unwritable",
        "files",
        "the counter file made immutable (chattr +i)",
    ),
    class("dir-removed", "files", "the store's directory removed"),
    class(
        "reboot",
        "files",
        "a simulated reboot (changed boot ID) with each file fault",
    ),
    class(
        "data-deleted",
        "files",
        "the store's data deleted (a new copy starts)",
    ),
    class(
        "data-restored",
        "files",
        "the store's data replaced by an older backup",
    ),
    // Processes.
    class(
        "kill-9",
        "processes",
        "kill -9 at random points of allocations",
    ),
    class(
        "sigstop",
        "processes",
        "SIGSTOP in the middle of an allocation or renewal",
    ),
    class(
        "two-stores",
        "processes",
        "two stores in one process on the same data",
    ),
    // PostgreSQL.
    class(
        "backend-terminated",
        "postgres",
        "pg_terminate_backend between calls and in a transaction",
    ),
    class(
        "server-restart",
        "postgres",
        "pg_ctl restart -m immediate under load",
    ),
    class(
        "sync-commit-off",
        "postgres",
        "a server with synchronous_commit = off",
    ),
    class(
        "statement-timeout",
        "postgres",
        "a statement_timeout shorter than a call",
    ),
    // Network.
    class(
        "partition",
        "network",
        "the lease holder cut off from PostgreSQL (netns, veth down)",
    ),
    // SQLite.
    class(
        "write-lock-held",
        "sqlite",
        "another process holds the write lock past the busy timeout",
    ),
    class(
        "db-replaced",
        "sqlite",
        "the database file deleted or replaced",
    ),
    // Clocks.
    class(
        "clock-step-small",
        "clocks",
        "the clock steps back within tolerance during renewal",
    ),
    class(
        "clock-step-large",
        "clocks",
        "the clock steps back beyond tolerance during renewal",
    ),
];

/// The fault class named `id`.
///
/// # Panics
/// When there is no such class: a misspelt cell is a test bug.
#[must_use]
pub fn fault(id: &str) -> &'static FaultClass {
    FAULTS
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no fault class {id:?} in tests/src/fault.rs FAULTS"))
}

/// How many times each cell repeats its fault: `TYPED_ID_FAULT_ROUNDS`, or `default`
/// (the quick pass `cargo test` runs).
///
/// # Panics
/// When the variable is set but is not a positive number.
#[must_use]
pub fn rounds(default: usize) -> usize {
    match std::env::var("TYPED_ID_FAULT_ROUNDS") {
        Ok(v) if !v.trim().is_empty() => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("TYPED_ID_FAULT_ROUNDS must be a positive number, not {v:?}"),
        },
        _ => default,
    }
}

/// The fault classes `TYPED_ID_FAULT_CELLS` (comma-separated) selects, to run a few
/// cells while investigating one; `None` (every cell) when unset.
fn selected_cells() -> Option<Vec<String>> {
    let v = std::env::var("TYPED_ID_FAULT_CELLS").ok()?;
    let cells: Vec<String> = v
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    (!cells.is_empty()).then_some(cells)
}

/// Whether a long soak was asked for (`TYPED_ID_FAULT_ROUNDS` set).
#[must_use]
pub fn soak() -> bool {
    std::env::var_os("TYPED_ID_FAULT_ROUNDS").is_some()
}

/// What one cell saw.
#[derive(Debug, Default)]
pub struct Tally {
    /// Times the fault was injected.
    pub runs: u64,
    /// IDs received by the processes, over every copy of the data.
    pub issued: u64,
    /// IDs received more than once within one copy of the data.
    pub duplicates: u64,
    /// IDs received from a copy of the data that had already been replaced, by a
    /// process started before the replacement (see [`Tally::issued_after_fault`]).
    pub ghost_issues: u64,
    /// Errors by kind (the error's variant name, or a kind the test names).
    pub errors: BTreeMap<String, u64>,
    /// Failures: panics, untyped errors, hangs, broken invariants.
    pub failures: Vec<String>,
    /// The first few duplicate IDs, for the message.
    pub examples: Vec<u64>,
    /// The IDs of the current copy.
    seen: HashSet<u64>,
}

impl Tally {
    /// One more injection of the fault.
    pub fn run(&mut self) {
        self.runs += 1;
    }

    /// A process received `id`.
    pub fn issued(&mut self, id: u64) {
        self.issued += 1;
        if !self.seen.insert(id) {
            self.duplicates += 1;
            if self.examples.len() < 8 {
                self.examples.push(id);
            }
        }
    }

    /// Every ID of `ids` was received.
    pub fn issued_all(&mut self, ids: impl IntoIterator<Item = u64>) {
        for id in ids {
            self.issued(id);
        }
    }

    /// A process started before the data was deleted or replaced received `id` after
    /// that: it issued from a ghost copy. Counted, and a failure of the cell.
    pub fn issued_after_fault(&mut self, id: u64) {
        self.issued += 1;
        self.ghost_issues += 1;
        if self.examples.len() < 8 {
            self.examples.push(id);
        }
    }

    /// The data was deleted or replaced: numbering may restart from here.
    pub fn new_copy(&mut self) {
        self.seen.clear();
    }

    /// A process got an error of this kind (a typed error: the kind is its variant).
    pub fn error(&mut self, kind: impl Into<String>) {
        *self.errors.entry(kind.into()).or_insert(0) += 1;
    }

    /// A process got `error`; its kind is the variant name of its `Debug` form
    /// (`Io { op: "lock", .. }` counts as `Io`).
    pub fn error_of(&mut self, error: &impl fmt::Debug) {
        self.error(variant_name(error));
    }

    /// Something that must not happen happened: the cell fails with `what`.
    pub fn fail(&mut self, what: impl Into<String>) {
        self.failures.push(what.into());
    }

    /// Fails the cell unless `ok`.
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.fail(what());
        }
    }

    /// Errors of every kind.
    #[must_use]
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn clean(&self) -> bool {
        self.duplicates == 0 && self.ghost_issues == 0 && self.failures.is_empty()
    }
}

/// The variant name at the start of a `Debug` form: `Io { .. }` → `Io`, `Database(..)`
/// → `Database`.
#[must_use]
pub fn variant_name(value: &impl fmt::Debug) -> String {
    let text = format!("{value:?}");
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    text[..end].to_owned()
}

#[derive(Debug)]
enum Outcome {
    Ran { tally: Tally, seconds: f64 },
    Skipped(String),
}

/// One backend's column of the table, filled cell by cell.
#[derive(Debug)]
pub struct FaultTable {
    backend: Backend,
    cells: Vec<(&'static FaultClass, Outcome)>,
}

impl FaultTable {
    /// An empty column for `backend`.
    #[must_use]
    pub fn new(backend: Backend) -> FaultTable {
        FaultTable {
            backend,
            cells: Vec::new(),
        }
    }

    /// Runs the cell for fault class `id`. A panic inside `run` is a failure of the
    /// cell (the table goes on with the other cells and fails at [`finish`](Self::finish)).
    ///
    /// # Panics
    /// When `id` is not a fault class.
    pub fn cell(&mut self, id: &str, run: impl FnOnce(&mut Tally)) {
        let class = fault(id);
        if let Some(only) = selected_cells()
            && !only.iter().any(|c| c == id)
        {
            self.cells.push((
                class,
                Outcome::Skipped("not selected by TYPED_ID_FAULT_CELLS".to_owned()),
            ));
            return;
        }
        let mut tally = Tally::default();
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| run(&mut tally)));
        if let Err(panic) = result {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic without a message");
            tally.fail(format!("panicked: {msg}"));
        }
        let seconds = started.elapsed().as_secs_f64();
        let _ = writeln!(
            std::io::stderr(),
            "fault {}/{}: {} runs, {} issued, {} duplicates, {} ghost, {} errors, {} failures ({seconds:.1} s)",
            self.backend.name(),
            class.id,
            tally.runs,
            tally.issued,
            tally.duplicates,
            tally.ghost_issues,
            tally.error_count(),
            tally.failures.len()
        );
        self.cells.push((class, Outcome::Ran { tally, seconds }));
    }

    /// Records that fault class `id` does not apply to this backend, or cannot be
    /// injected on this machine, and why (printed in the table).
    ///
    /// # Panics
    /// When `id` is not a fault class.
    pub fn skip(&mut self, id: &str, reason: impl Into<String>) {
        let class = fault(id);
        let reason = reason.into();
        let _ = writeln!(
            std::io::stderr(),
            "fault {}/{}: skipped: {reason}",
            self.backend.name(),
            class.id
        );
        self.cells.push((class, Outcome::Skipped(reason)));
    }

    /// The table as Markdown rows (no header): fault class, runs, IDs issued,
    /// duplicates, errors by kind, seconds.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (class, outcome) in &self.cells {
            match outcome {
                Outcome::Ran { tally, seconds } => {
                    let errors = if tally.errors.is_empty() {
                        "none".to_owned()
                    } else {
                        tally
                            .errors
                            .iter()
                            .map(|(k, n)| format!("{k} ×{n}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    let verdict = if tally.clean() { "ok" } else { "FAILED" };
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {} | {} | {errors} | {seconds:.1} | {verdict} |",
                        class.id,
                        self.backend.name(),
                        tally.runs,
                        tally.issued,
                        tally.duplicates,
                        tally.ghost_issues,
                    );
                }
                Outcome::Skipped(reason) => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | – | – | – | – | skipped: {reason} | – | – |",
                        class.id,
                        self.backend.name()
                    );
                }
            }
        }
        out
    }

    /// Prints the column, appends it to the report file, and fails the test if any cell
    /// saw a duplicate, a ghost issue or a failure.
    ///
    /// # Panics
    /// As described: listing every cell that failed and why.
    pub fn finish(self) {
        let rows = self.render();
        let header = format!(
            "\nFault table, backend {} (TYPED_ID_FAULT_ROUNDS={}):\n{}{}",
            self.backend.name(),
            std::env::var("TYPED_ID_FAULT_ROUNDS").unwrap_or_else(|_| "unset".to_owned()),
            TABLE_HEADER,
            rows
        );
        let _ = writeln!(std::io::stderr(), "{header}");
        let report = report_dir().join("fault-table.md");
        if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(&report) {
            let _ = file.write_all(rows.as_bytes());
        }
        let mut problems = String::new();
        for (class, outcome) in &self.cells {
            if let Outcome::Ran { tally, .. } = outcome
                && !tally.clean()
            {
                let _ = writeln!(
                    problems,
                    "- {}/{}: {} duplicates, {} ghost issues (e.g. {:?}); failures: {:?}",
                    self.backend.name(),
                    class.id,
                    tally.duplicates,
                    tally.ghost_issues,
                    tally.examples,
                    tally.failures
                );
            }
        }
        assert!(problems.is_empty(), "fault cells failed:\n{problems}");
    }
}

/// The Markdown header of the table's rows.
pub const TABLE_HEADER: &str = "| fault class | backend | runs | IDs issued | duplicates | ghost issues | errors by kind | s | verdict |\n|---|---|---|---|---|---|---|---|---|\n";

/// Where [`FaultTable::finish`] appends its rows: `TYPED_ID_FAULT_REPORT_DIR`, or the
/// system's temporary directory.
#[must_use]
pub fn report_dir() -> PathBuf {
    std::env::var_os("TYPED_ID_FAULT_REPORT_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

/// Width of one [`IssueLog`] line, newline included.
const LINE: usize = 32;

/// What a child process writes about each call: an ID it received, or an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An ID (a display number, a child number or a snowflake) was received.
    Issued(u64),
    /// A call failed with an error of this kind.
    Error(String),
}

/// An append-only log of [`Event`]s written by a child process: each event is one
/// fixed-width line written with a single `write`, so a kill can only leave a short
/// last line, which [`IssueLog::read`] drops.
#[derive(Debug)]
pub struct IssueLog {
    file: File,
}

impl IssueLog {
    /// Creates (or appends to) the log at `path`.
    ///
    /// # Panics
    /// When the file cannot be opened.
    #[must_use]
    pub fn create(path: &Path) -> IssueLog {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
        IssueLog { file }
    }

    /// Records an ID. Written before the caller acts on it, so a process killed right
    /// after receiving the ID may or may not have logged it, never half of it.
    ///
    /// # Panics
    /// When the write fails.
    pub fn issued(&mut self, id: u64) {
        self.line(&format!("N {id:020}"));
    }

    /// Records an error by kind (at most 28 bytes of it are kept).
    ///
    /// # Panics
    /// When the write fails.
    pub fn error(&mut self, kind: &str) {
        let kind: String = kind
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(LINE - 4)
            .collect();
        self.line(&format!("E {kind}"));
    }

    /// Records an error by its variant name (see [`variant_name`]).
    ///
    /// # Panics
    /// When the write fails.
    pub fn error_of(&mut self, error: &impl fmt::Debug) {
        self.error(&variant_name(error));
    }

    fn line(&mut self, text: &str) {
        let mut line = [b' '; LINE];
        line[..text.len()].copy_from_slice(text.as_bytes());
        line[LINE - 1] = b'\n';
        self.file
            .write_all(&line)
            .unwrap_or_else(|e| panic!("cannot write an issue log: {e}"));
    }

    /// The complete events in the log at `path` (a missing file has none), and whether
    /// a torn last line was dropped.
    ///
    /// # Panics
    /// When the file cannot be read, or a complete line is not an event (the log was
    /// damaged by something other than a kill).
    #[must_use]
    pub fn read(path: &Path) -> (Vec<Event>, bool) {
        let mut bytes = Vec::new();
        match File::open(path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), false),
            Err(e) => panic!("cannot open {}: {e}", path.display()),
        }
        let torn = bytes.len() % LINE != 0;
        let events = bytes
            .chunks_exact(LINE)
            .map(|line| {
                let text = std::str::from_utf8(line)
                    .ok()
                    .filter(|t| t.ends_with('\n'))
                    .unwrap_or_else(|| panic!("damaged issue log line {line:?}"));
                let body = text.trim_end();
                if let Some(n) = body.strip_prefix("N ") {
                    assert_eq!(n.len(), 20, "damaged issue log line {body:?}");
                    Event::Issued(n.parse().unwrap_or_else(|_| panic!("bad line {body:?}")))
                } else if let Some(kind) = body.strip_prefix("E ") {
                    Event::Error(kind.to_owned())
                } else {
                    panic!("damaged issue log line {body:?}")
                }
            })
            .collect();
        (events, torn)
    }

    /// Adds the events of the log at `path` to `tally`.
    pub fn tally_into(path: &Path, tally: &mut Tally) {
        for event in Self::read(path).0 {
            match event {
                Event::Issued(id) => tally.issued(id),
                Event::Error(kind) => tally.error(kind),
            }
        }
    }
}

/// A fresh scratch directory for one cell, removed with the value.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// Creates `$TMPDIR/typed-id-fault-{tag}-{unique}`.
    ///
    /// # Panics
    /// When it cannot be created.
    #[must_use]
    pub fn new(tag: &str) -> Scratch {
        let path =
            crate::pg::make_unique_dir(&std::env::temp_dir(), &format!("typed-id-fault-{tag}"))
                .unwrap_or_else(|e| panic!("cannot create a scratch directory: {e}"));
        Scratch { path }
    }

    /// Its path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_within_a_copy_is_counted_and_across_copies_is_not() {
        let mut tally = Tally::default();
        tally.issued_all([1, 2, 3]);
        tally.issued(2);
        assert_eq!(tally.duplicates, 1);
        tally.new_copy();
        tally.issued_all([1, 2]);
        assert_eq!(tally.duplicates, 1);
        assert_eq!(tally.issued, 6);
        assert!(!tally.clean());
    }

    #[test]
    fn variant_names_come_from_debug() {
        #[derive(Debug)]
        #[allow(dead_code)]
        enum E {
            Io { op: &'static str },
            Database(u8),
            Unit,
        }
        assert_eq!(variant_name(&E::Io { op: "lock" }), "Io");
        assert_eq!(variant_name(&E::Database(1)), "Database");
        assert_eq!(variant_name(&E::Unit), "Unit");
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_events_round_trip() {
        let scratch = Scratch::new("log");
        let path = scratch.path().join("log");
        let mut log = IssueLog::create(&path);
        log.issued(7);
        log.error("CorruptCounter");
        log.issued(u64::MAX);
        drop(log);
        let mut bytes = fs::read(&path).unwrap();
        bytes.extend_from_slice(b"N 0000000");
        fs::write(&path, &bytes).unwrap();
        let (events, torn) = IssueLog::read(&path);
        assert!(torn);
        assert_eq!(
            events,
            [
                Event::Issued(7),
                Event::Error("CorruptCounter".into()),
                Event::Issued(u64::MAX)
            ]
        );
    }

    #[test]
    fn every_fault_class_is_named_once() {
        let mut ids = HashSet::new();
        for class in FAULTS {
            assert!(ids.insert(class.id), "{} twice", class.id);
        }
        assert!(FAULTS.len() >= 10);
    }
}
