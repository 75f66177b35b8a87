//! [`FileStore`]: display counters in a folder, for tools whose only shared resource is
//! a directory.
//!
//! The protocol is described on [`FileStore`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
#[cfg(not(unix))]
use std::io::{Seek as _, SeekFrom};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use sha2::{Digest, Sha256};

use super::{DisplayIdAllocator, StoreError, check_block, check_observed, check_scope};
use crate::body::Seq;
use crate::trace::event;

/// First line of every counter file.
const MAGIC: &str = "typed-id counter v1";
/// First line of the live record kept in a scope's lock file.
const LIVE_MAGIC: &str = "typed-id live v1";
/// Counter files are a few dozen bytes; anything larger is not ours.
const MAX_FILE: u64 = 512;
/// The live record is always written as exactly this many bytes (padded with spaces), so
/// a shorter record never leaves the tail of a longer one behind.
const LIVE_LEN: usize = 160;
/// Numbers reserved per disk flush unless [`FileStore::with_reserve`] says otherwise.
const DEFAULT_RESERVE: u32 = 1024;

/// Display counters in a directory shared by processes.
///
/// Each scope `s` (its name escaped into a file name) has two files:
///
/// - `s.counter`, the **durable ceiling**: no number above it has ever been handed out.
///   It is only ever replaced whole: write `s.counter.tmp`, `fsync` it, `rename` it over
///   `s.counter`, `fsync` the directory. Readers see the old file or the new one, never
///   a mixture, and once the directory is flushed the new ceiling survives a power loss.
/// - `s.lock`, locked with an OS file lock ([`File::lock`], released by the kernel when
///   the holder dies, so a killed process never leaves the scope locked). It also holds
///   the **live record**: the last number handed out and the ceiling, stamped with the
///   machine's boot ID and a checksum. It is overwritten in place and never flushed.
///
/// One allocation of `n` numbers, under the lock (checked to be the lock file at the
/// path: see below):
///
/// 1. read the live record. If it is intact and was written since the machine last
///    started, it is exact: the kernel's page cache survives any process crash. If it
///    is intact but of an earlier boot, it is no longer exact but its ceiling is still
///    a floor. Otherwise (damaged or missing) fall back to the durable ceiling, which
///    is at least every number ever handed out;
/// 2. if the new numbers would pass the ceiling, reserve a new ceiling `reserve`
///    numbers ahead (default 1 024, see [`FileStore::with_reserve`]) with the
///    write-temp/`fsync`/rename/`fsync` sequence above. This is the only disk flush,
///    once per `reserve` numbers;
/// 3. overwrite the live record (and cut the file to the record's length), unlock, and
///    only then return the numbers.
///
/// What a crash costs:
///
/// - a process killed at any point: nothing. The next allocation continues from the
///   exact last number (a number reserved but not yet returned when the process died
///   is skipped, as with any store);
/// - the machine losing power or crashing: no number is repeated, because every number
///   handed out was below a ceiling already on disk. Up to `reserve` numbers after the
///   last one handed out are skipped. [`FileStore::with_reserve`]`(1)` flushes every
///   allocation and skips none, at the cost of two `fsync`s per allocation.
///
/// The boot ID comes from `/proc/sys/kernel/random/boot_id`. Where there is none (not
/// Linux, or no `/proc`), the live record cannot tell a restart from a crash, so the
/// store flushes every allocation as if `reserve` were 1. Several machines sharing one
/// folder over a network file system stay correct, but each hand-over between machines
/// starts a new reserved block.
///
/// ```
/// use typed_id::store::{DisplayIdAllocator, FileStore};
/// # let dir = std::env::temp_dir().join(format!("typed-id-doc-fs-{}", std::process::id()));
///
/// let store = FileStore::open(&dir)?;
/// assert_eq!(store.allocate("odin/WORK")?, 1);
/// assert_eq!(store.allocate_block("odin/WORK", 10)?, 2..=11);
/// assert_eq!(store.last("odin/WORK")?, 11);
/// assert!(dir.join("odin%2FWORK.counter").exists());
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), typed_id::store::StoreError>(())
/// ```
///
/// Threads of one process share a `FileStore` safely (they queue on an in-process lock
/// before the file lock, which the OS would otherwise grant to both). A store keeps one
/// lock file open per scope it has used.
///
/// # Damage, deletion and restores
///
/// The directory is the store: back it up and clean it up like one. What each fault
/// does (the fault suite `tests/tests/test_faults_folder.rs` injects each of them
/// into processes allocating concurrently):
///
/// - **the lock file deleted or replaced** (a temp cleaner, a hand): after taking the
///   lock, a store checks that the file at the path is the one it locked (device and
///   inode); if not, it reopens the path and locks again. The counter file stays the
///   authority: a new lock file has no record, so it costs a skip to the ceiling,
///   never a repeat. A file replaced during an allocation needs no second check
///   inside a reserved block (its numbers are below the ceiling that anyone opening
///   the new file starts above); a reservation checks, after its flush and right
///   before its rename, that neither file changed under it, and the lock file again
///   after the rename, and starts over (dropping its numbers) if one did.
/// - **a damaged live record** (garbage, another scope's, bytes past its end): a skip
///   to the ceiling; the next write rewrites it and cuts the file to its length.
/// - **a damaged counter file**: [`StoreError::CorruptCounter`] from stores opened
///   afterwards, from [`last`](DisplayIdAllocator::last), and from running stores at
///   their next reservation (inside a reserved block the exact live record is
///   enough, and the file is read before it is replaced), never a silent reset; the
///   damaged file is left for a human. Repair with [`FileStore::repair`].
/// - **the counter file missing while the lock file has content** (the scope was
///   used, in this boot or an earlier one): the same [`StoreError::CorruptCounter`],
///   until [`FileStore::repair`] seeds it. A missing counter never reads as 0 for a
///   scope that shows it was used.
/// - **the machine restarted**: see step 1; the record's ceiling remains a floor even
///   when the counter file was lost with the power.
/// - **the data deleted or an older copy put back** (the folder removed, both files
///   deleted, a backup restored): a store remembers, per scope, the folder it opened
///   (held open, so its inode cannot be reused), the counter value and the last number
///   it has seen. Every call reads the live record and checks the lock file's
///   identity; when the lock file was replaced or the record is not exact, it also
///   looks at the counter file. It reports [`StoreError::Replaced`] when the folder at
///   the path is another one, when the counter file it saw is gone and the lock file
///   is empty, or when the counter or the live record went below what it had seen
///   (legitimate writes only ever raise them). From then on it refuses that scope, for
///   good: it cannot tell which numbers the new data has handed out. Stores opened
///   afterwards work on the data now at the path (a deleted scope starts again at 1).
///   To recover: check the data, seed the counter from the highest number in the
///   items' own table with [`FileStore::repair`], and open the store again.
///
/// Limits, all without a repeated number: a store that did not allocate between a
/// backup and its restore cannot tell the restored copy from the one it knew, and works
/// on it like a store opened afterwards; a deletion that lands in the microseconds
/// between a reservation's last check and its rename, or a restore written over the
/// files in place while an allocation is under way, leaves that allocation's writes at
/// the path, and everyone (old and new stores) goes on above them. Where files have no
/// inode (not Unix), none of the identity checks run.
///
/// To start a scope again at 1, stop its users and delete both its files; a store
/// still running that had used the scope then reports [`StoreError::Replaced`].
/// Leftover `.tmp` files (a process killed while writing) are harmless and overwritten
/// by the next reservation. New directories and lock files are flushed into their
/// parent directory when created.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    /// The folder as the kernel knew it when the store was opened.
    dir_id: Option<FileId>,
    /// The folder, held open so that its inode number cannot be reused by another
    /// folder while the store compares it.
    _dir_handle: Option<File>,
    reserve: u32,
    /// What this store knows per scope; the mutex serialises this process's threads.
    scopes: Mutex<HashMap<Box<str>, Arc<Mutex<ScopeState>>>>,
    counters: FileCounters,
}

/// What a [`FileStore`] has run into since it was opened: read with
/// [`FileStore::stats`], with or without the `tracing` feature (which reports each as an
/// event on `typed_id::store`).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileStoreStats {
    /// Times a call found a scope's lock file deleted or replaced under it and reopened
    /// it (a temp cleaner, a hand), then ran again.
    pub lock_reopens: u64,
    /// Times a scope's data was found replaced (the folder restored from a backup, the
    /// files deleted): every later call on that scope fails with
    /// [`StoreError::Replaced`].
    pub replaced: u64,
    /// Scopes seeded by [`FileStore::repair`].
    pub repairs: u64,
}

/// The atomics behind [`FileStoreStats`].
#[derive(Debug, Default)]
struct FileCounters {
    lock_reopens: AtomicU64,
    replaced: AtomicU64,
    repairs: AtomicU64,
}

/// What a store holds and remembers about one scope.
#[derive(Debug)]
struct ScopeState {
    /// The scope's lock and counter files.
    lock_path: Arc<Path>,
    counter_path: Arc<Path>,
    /// The open lock file (taken out while a call uses it).
    lock: Option<File>,
    /// Whether the lock file was opened in this call (first use, or reopened because
    /// the one at the path was another): the counter file is then looked at too.
    fresh_lock: bool,
    /// The lock file's identity when it was opened.
    lock_id: Option<FileId>,
    /// The counter file as this store last read or wrote it, and its value: while the
    /// live record is exact it is not looked at again before the next reservation,
    /// and otherwise not read again while a `stat` shows the same file unchanged.
    counter: Option<(Stamp, u64)>,
    /// Whether this store has seen the scope's counter file.
    counter_seen: bool,
    /// The highest counter value this store has seen.
    ceiling_seen: u64,
    /// The highest `last` this store has seen in a record of this boot or handed out.
    last_seen: u64,
    /// Set when the scope's data was found replaced: every later call fails.
    replaced: Option<(PathBuf, &'static str)>,
    /// Set when a reservation found the files changed under its lock: the call runs
    /// again from the start.
    retry: bool,
}

/// How many times one call reopens a lock file that keeps being replaced under it.
const MAX_REOPENS: usize = 16;

/// How closely [`FileStore::counter`] looks at the counter file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Look {
    /// The value this store remembers, if any: the live record is exact and the lock
    /// file is the one this store has been using, so the file only matters at the
    /// next reservation.
    Remembered,
    /// A `stat`, and a read if the file is another or changed.
    Changed,
    /// A read (and so a check), before replacing it or for `last`.
    Read,
}

/// Why a counter file is missing although the scope was used.
const COUNTER_MISSING: &str = "the file is missing, but the lock file shows that numbers were \
                               handed out (seed it with `FileStore::repair`)";

impl FileStore {
    /// Opens (creating it if needed) the directory `dir` as a store that reserves 1 024
    /// numbers per disk flush.
    ///
    /// Directories it creates are flushed into their parents, so a power loss right
    /// after the first allocation does not take the folder with it.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the directory cannot be created or is not a directory.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        let mut created = Vec::new();
        let mut missing = dir.as_path();
        while !missing.as_os_str().is_empty() && fs::symlink_metadata(missing).is_err() {
            created.push(missing.to_path_buf());
            missing = missing.parent().unwrap_or(Path::new(""));
        }
        fs::create_dir_all(&dir).map_err(|e| StoreError::io("create directory", &dir, e))?;
        for new in created.iter().rev() {
            let parent = new.parent().filter(|p| !p.as_os_str().is_empty());
            sync_dir(parent.unwrap_or(Path::new(".")))?;
        }
        let meta = fs::metadata(&dir).map_err(|e| StoreError::io("inspect", &dir, e))?;
        if !meta.is_dir() {
            return Err(StoreError::io(
                "open directory",
                &dir,
                io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
            ));
        }
        let dir_handle = File::open(&dir).ok();
        Ok(FileStore {
            dir,
            dir_id: file_id(&meta),
            _dir_handle: dir_handle,
            reserve: DEFAULT_RESERVE,
            scopes: Mutex::new(HashMap::new()),
            counters: FileCounters::default(),
        })
    }

    /// The same store, reserving `reserve` numbers per disk flush: the most numbers a
    /// power loss can skip. `1` (or `0`) flushes every allocation (two `fsync`s each,
    /// a few hundred to a thousand allocations per second on an ordinary disk) and a
    /// power loss skips nothing. Processes sharing a folder may use different values.
    #[must_use]
    pub fn with_reserve(mut self, reserve: u32) -> Self {
        self.reserve = reserve.max(1);
        self
    }

    /// The store's directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The counter file (the durable ceiling) of `scope`; it may not exist yet.
    ///
    /// # Errors
    /// [`StoreError::InvalidScope`].
    pub fn counter_path(&self, scope: &str) -> Result<PathBuf, StoreError> {
        check_scope(scope)?;
        Ok(self.file(scope, "counter"))
    }

    /// The lock file of `scope`, which also holds its live record; it may not exist yet.
    ///
    /// # Errors
    /// [`StoreError::InvalidScope`].
    pub fn lock_path(&self, scope: &str) -> Result<PathBuf, StoreError> {
        check_scope(scope)?;
        Ok(self.file(scope, "lock"))
    }

    /// Seeds `scope`'s counter so that the next number handed out is above `at_least`
    /// and above everything the scope's files still show; returns the highest number
    /// now counted as handed out (the next allocation returns one more).
    ///
    /// This is the way back from [`StoreError::CorruptCounter`] (a counter file
    /// damaged, or missing while the lock file shows the scope was used) and the way to
    /// renumber safely after [`StoreError::Replaced`] (the folder restored from a
    /// backup or deleted). Pick `at_least` from the data the numbers went into: the
    /// highest number in the items' own table (`SELECT max(number) FROM work_items
    /// WHERE scope = …`, or the highest `WORK-…` in the files). The store never trusts
    /// a damaged file for the seed, but it does keep the highest of `at_least`, a
    /// readable counter file and an intact live record of any boot, so a repair never
    /// lowers a scope that can still tell how far it went.
    ///
    /// Run it from a store opened for the purpose while the scope's users are stopped
    /// or failing; stores that had seen a higher ceiling than the seed report
    /// [`StoreError::Replaced`] and must be opened again.
    ///
    /// ```
    /// use typed_id::store::{DisplayIdAllocator, FileStore, StoreError};
    /// # let dir = std::env::temp_dir().join(format!("typed-id-doc-repair-{}", std::process::id()));
    ///
    /// let store = FileStore::open(&dir)?;
    /// store.allocate_block("odin", 41)?;
    /// std::fs::remove_file(store.counter_path("odin")?)?; // lost
    /// let later = FileStore::open(&dir)?;
    /// assert!(matches!(later.allocate("odin"), Err(StoreError::CorruptCounter { .. })));
    ///
    /// // The items' table says WORK-041 is the highest in use.
    /// let repairer = FileStore::open(&dir)?;
    /// let seeded = repairer.repair("odin", 41)?;
    /// assert!(seeded >= 41);
    /// assert_eq!(FileStore::open(&dir)?.allocate("odin")?, seeded + 1);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`StoreError::InvalidScope`]; [`StoreError::Exhausted`] when `at_least` is above
    /// [`Seq::MAX`]; [`StoreError::Io`] when a file cannot be read or written;
    /// [`StoreError::Replaced`] when this store had found the scope's data replaced.
    pub fn repair(&self, scope: &str, at_least: u64) -> Result<u64, StoreError> {
        check_scope(scope)?;
        if at_least > Seq::MAX {
            return Err(StoreError::Exhausted {
                key: scope.to_owned(),
                max: Seq::MAX,
            });
        }
        self.locked(scope, |state, lock| {
            let (record, lock_len) = read_live(lock, scope);
            let mut value = at_least;
            if let Ok(record) = record {
                value = value.max(record.live.ceiling);
            }
            let path = self.file(scope, "counter");
            match read_counter(&path, scope) {
                Ok(Some(on_disk)) => value = value.max(on_disk),
                // Missing or damaged: what the repair is for.
                Ok(None) | Err(StoreError::CorruptCounter { .. }) => {}
                Err(e) => return Err(e),
            }
            // The repair replaces whatever is there now.
            let now = fs::metadata(&path).ok();
            state.counter = now.as_ref().and_then(stamp).map(|s| (s, value));
            state.counter_seen = now.is_some();
            self.write_counter(scope, value, state)?;
            state.ceiling_seen = value;
            state.last_seen = value;
            let live = Live {
                last: value,
                ceiling: value,
            };
            if let Some(boot) = boot_id() {
                write_live(lock, scope, boot, live, lock_len).map_err(|e| {
                    StoreError::io("write live record", self.file(scope, "lock"), e)
                })?;
            }
            self.counters.repairs.fetch_add(1, Ordering::Relaxed);
            event!(store, INFO, "file store scope repaired", scope, at = value,);
            Ok(value)
        })
    }

    /// `scope`'s file with the given suffix (`counter`, `lock`), for a checked scope.
    /// Counts a scope found replaced (see [`FileStoreStats::replaced`]).
    fn count_replaced(&self, e: StoreError) -> StoreError {
        self.counters.replaced.fetch_add(1, Ordering::Relaxed);
        e
    }

    /// Counts and reports a lock file found replaced under a call, which then reopens
    /// it and runs again.
    fn reopening(&self, path: &Path) {
        self.counters.lock_reopens.fetch_add(1, Ordering::Relaxed);
        event!(
            store,
            WARN,
            "file store lock file deleted or replaced under a call: reopened",
            path = %path.display(),
        );
    }

    /// What this store has run into: lock files reopened, scopes found replaced,
    /// repairs.
    #[must_use]
    pub fn stats(&self) -> FileStoreStats {
        let c = &self.counters;
        FileStoreStats {
            lock_reopens: c.lock_reopens.load(Ordering::Relaxed),
            replaced: c.replaced.load(Ordering::Relaxed),
            repairs: c.repairs.load(Ordering::Relaxed),
        }
    }

    fn file(&self, scope: &str, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", file_stem(scope)))
    }

    /// What this store holds for `scope`.
    fn state(&self, scope: &str) -> Arc<Mutex<ScopeState>> {
        let mut scopes = self.scopes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(state) = scopes.get(scope) {
            return Arc::clone(state);
        }
        let state = Arc::new(Mutex::new(ScopeState {
            lock_path: self.file(scope, "lock").into(),
            counter_path: self.file(scope, "counter").into(),
            lock: None,
            fresh_lock: false,
            lock_id: None,
            counter: None,
            counter_seen: false,
            ceiling_seen: 0,
            last_seen: 0,
            replaced: None,
            retry: false,
        }));
        scopes.insert(scope.into(), Arc::clone(&state));
        state
    }

    /// Opens `scope`'s lock file, creating it (and flushing the directory) if needed.
    fn open_lock(&self, scope: &str, state: &mut ScopeState) -> Result<File, StoreError> {
        let path = self.file(scope, "lock");
        let mut options = OpenOptions::new();
        options.read(true).write(true);
        let mut opened = Err(StoreError::io(
            "open lock file",
            &path,
            io::Error::other("it kept being deleted"),
        ));
        for _ in 0..MAX_REOPENS {
            opened = match options.clone().create_new(true).open(&path) {
                Ok(file) => sync_dir(&self.dir).map(|()| file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match options.open(&path) {
                    // Deleted between the two opens: create it again.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    other => other.map_err(|e| StoreError::io("open lock file", &path, e)),
                },
                Err(e) => Err(StoreError::io("open lock file", &path, e)),
            };
            break;
        }
        let file = match opened {
            Ok(file) => file,
            Err(e) => {
                // The folder itself may be gone.
                self.check_dir(state)?;
                return Err(e);
            }
        };
        let meta = file
            .metadata()
            .map_err(|e| StoreError::io("inspect", &path, e))?;
        state.lock_id = file_id(&meta);
        Ok(file)
    }

    /// [`StoreError::Replaced`] (for good) when the folder at the store's path is no
    /// longer the one it opened.
    fn check_dir(&self, state: &mut ScopeState) -> Result<(), StoreError> {
        let now = fs::metadata(&self.dir).ok().and_then(|m| file_id(&m));
        if self.dir_id.is_some() && now != self.dir_id {
            return Err(self.count_replaced(replaced(
                state,
                &self.dir,
                "the folder was removed or replaced after this store opened it",
            )));
        }
        Ok(())
    }

    /// Runs `f` holding this process's lock and the OS lock on the lock file that is
    /// at `scope`'s path when `f` starts; a lock file replaced since this store opened
    /// it (deleted and created again) is reopened first. One replaced while `f` runs
    /// needs no check after it: numbers inside the reserved block are below the
    /// ceiling that a store opening the new file starts above, and a reservation
    /// checks again right before and after its rename (and has `f` run again if the
    /// files changed: whatever it did is discarded, skipped numbers at most).
    fn locked<T>(
        &self,
        scope: &str,
        mut f: impl FnMut(&mut ScopeState, &mut File) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        check_scope(scope)?;
        let handle = self.state(scope);
        let mut state = handle.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *state;
        let lock_path = Arc::clone(&state.lock_path);
        for _ in 0..MAX_REOPENS {
            // Found replaced before, or in an attempt that had to start over: for good.
            if let Some((path, reason)) = &state.replaced {
                return Err(StoreError::Replaced {
                    path: path.clone(),
                    reason,
                });
            }
            state.fresh_lock = state.lock.is_none();
            let mut file = match state.lock.take() {
                Some(held) => held,
                None => self.open_lock(scope, state)?,
            };
            let id = state.lock_id;
            file.lock()
                .map_err(|e| StoreError::io("lock", &*lock_path, e))?;
            if !still_at(&lock_path, id)? {
                // Unlocked by closing it.
                drop(file);
                self.check_dir(state)?;
                self.reopening(&lock_path);
                continue;
            }
            state.retry = false;
            let result = f(state, &mut file);
            // Closing the file releases the lock too: keep it only if unlocked fine.
            let unlocked = file.unlock();
            if unlocked.is_ok() && state.replaced.is_none() && !state.retry {
                state.lock = Some(file);
            }
            if state.retry {
                self.check_dir(state)?;
                self.reopening(&lock_path);
                continue;
            }
            unlocked.map_err(|e| StoreError::io("unlock", &*lock_path, e))?;
            return result;
        }
        Err(StoreError::io(
            "lock",
            &*lock_path,
            io::Error::other("the lock file was replaced under every attempt to use it"),
        ))
    }

    /// The counter file's value, checked against what this store has seen, as `look`
    /// says. `lock_used` says whether the lock file has any content (a scope that was
    /// used).
    fn counter(
        &self,
        scope: &str,
        state: &mut ScopeState,
        lock_used: bool,
        look: Look,
    ) -> Result<u64, StoreError> {
        if look == Look::Remembered
            && let Some((_, value)) = state.counter
        {
            return Ok(value);
        }
        let path = Arc::clone(&state.counter_path);
        let stamp = match fs::metadata(&path) {
            Ok(meta) => stamp(&meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(StoreError::io("inspect", &*path, e)),
        };
        if look != Look::Read
            && let (Some(now), Some((seen, value))) = (stamp, state.counter)
            && now == seen
        {
            return Ok(value);
        }
        let Some(value) = read_counter(&path, scope)? else {
            state.counter = None;
            if lock_used {
                return Err(StoreError::CorruptCounter {
                    path: path.to_path_buf(),
                    reason: COUNTER_MISSING,
                });
            }
            if state.counter_seen {
                return Err(self.count_replaced(replaced(
                    state,
                    &path,
                    "the scope's files were deleted after this store had used them",
                )));
            }
            return Ok(0);
        };
        if state.counter_seen && value < state.ceiling_seen {
            return Err(self.count_replaced(replaced(
                state,
                &path,
                "the counter went back below a ceiling this store had seen (an older copy)",
            )));
        }
        state.counter = stamp.map(|s| (s, value));
        state.counter_seen = true;
        state.ceiling_seen = value;
        Ok(value)
    }

    /// The last number handed out and the ceiling, under the lock: the live record
    /// when it is of this boot (exact), otherwise the highest of the counter file and
    /// an intact record of an earlier boot; and the lock file's length.
    fn position(
        &self,
        scope: &str,
        state: &mut ScopeState,
        lock: &mut File,
        force: bool,
    ) -> Result<(Live, u64), StoreError> {
        let (record, lock_len) = read_live(lock, scope);
        let exact = matches!(
            record,
            Ok(Record {
                this_boot: true,
                ..
            })
        );
        let look = if force {
            Look::Read
        } else if exact && !state.fresh_lock {
            Look::Remembered
        } else {
            Look::Changed
        };
        let ceiling = self.counter(scope, state, lock_len > 0, look)?;
        let live = match record {
            Ok(Record {
                live,
                this_boot: true,
            }) => {
                if live.last < state.last_seen {
                    return Err(self.count_replaced(replaced(
                        state,
                        &self.file(scope, "lock"),
                        "the live record went back below a number this store had seen \
                         (an older copy)",
                    )));
                }
                state.last_seen = live.last;
                Live {
                    last: live.last,
                    ceiling: live.ceiling.max(ceiling),
                }
            }
            // Not exact any more, but every number it shows was handed out or reserved.
            Ok(Record { live, .. }) => {
                let floor = ceiling.max(live.ceiling);
                Live {
                    last: floor,
                    ceiling: floor,
                }
            }
            Err(_) => Live {
                last: ceiling,
                ceiling,
            },
        };
        Ok((live, lock_len))
    }

    /// Steps 1–3 of an allocation, under the lock.
    fn bump(
        &self,
        scope: &str,
        count: u64,
        state: &mut ScopeState,
        lock: &mut File,
    ) -> Result<RangeInclusive<u64>, StoreError> {
        let (live, lock_len) = self.position(scope, state, lock, false)?;
        let last = live.last;
        let new = last
            .checked_add(count)
            .filter(|&v| v <= Seq::MAX)
            .ok_or_else(|| StoreError::Exhausted {
                key: scope.to_owned(),
                max: Seq::MAX,
            })?;
        self.advance(scope, live, new, lock_len, state, lock)?;
        Ok(last + 1..=new)
    }

    /// Moves `scope`'s last number from `live.last` up to `new` (at most [`Seq::MAX`]):
    /// raises the durable ceiling first when `new` is above it, then writes the live
    /// record. Under the lock.
    fn advance(
        &self,
        scope: &str,
        mut live: Live,
        new: u64,
        lock_len: u64,
        state: &mut ScopeState,
        lock: &mut File,
    ) -> Result<(), StoreError> {
        let last = live.last;
        if new > live.ceiling {
            // Read (and so check) the file it is about to replace.
            let on_disk = self.counter(scope, state, lock_len > 0, Look::Read)?;
            live.ceiling = live.ceiling.max(on_disk);
        }
        if new > live.ceiling {
            let reserve = if boot_id().is_some() { self.reserve } else { 1 };
            let ceiling = new.max(last.saturating_add(u64::from(reserve)).min(Seq::MAX));
            self.write_counter(scope, ceiling, state)?;
            live.ceiling = ceiling;
        }
        live.last = new;
        if let Some(boot) = boot_id() {
            write_live(lock, scope, boot, live, lock_len)
                .map_err(|e| StoreError::io("write live record", self.file(scope, "lock"), e))?;
        }
        state.last_seen = new;
        Ok(())
    }

    /// Replaces `scope`'s counter file with `ceiling`, durably, and remembers it.
    fn write_counter(
        &self,
        scope: &str,
        ceiling: u64,
        state: &mut ScopeState,
    ) -> Result<(), StoreError> {
        let path = self.file(scope, "counter");
        let tmp = self.file(scope, "counter.tmp");
        let content = render(scope, ceiling);
        let mut file = File::create(&tmp).map_err(|e| StoreError::io("create", &tmp, e))?;
        file.write_all(content.as_bytes())
            .map_err(|e| StoreError::io("write", &tmp, e))?;
        // Data and size, which is all the rename needs; the directory entry is flushed
        // after the rename.
        file.sync_data()
            .map_err(|e| StoreError::io("fsync", &tmp, e))?;
        drop(file);
        // A lock file replaced during the flush no longer excludes anyone, and a
        // counter file deleted or replaced meanwhile is not the one this reservation
        // follows: do not put a ceiling in its place (the caller runs the allocation
        // again, or the next call reports what happened). Only the microseconds between
        // these checks and the rename are left uncovered.
        let lock_path = self.file(scope, "lock");
        let counter_moved = match fs::metadata(&path) {
            Ok(meta) => {
                let now = stamp(&meta);
                now.is_some() && now != state.counter.map(|c| c.0)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => state.counter_seen,
            Err(e) => return Err(StoreError::io("inspect", &path, e)),
        };
        if counter_moved || !still_at(&lock_path, state.lock_id)? {
            state.counter = None;
            state.retry = true;
            return Err(StoreError::io(
                "rename",
                &tmp,
                io::Error::other("the scope's files changed during the reservation"),
            ));
        }
        fs::rename(&tmp, &path).map_err(|e| StoreError::io("rename", &tmp, e))?;
        sync_dir(&self.dir)?;
        // Deleted already (the next call reports that): nothing to remember.
        let meta = fs::metadata(&path).ok();
        state.counter = meta.as_ref().and_then(stamp).map(|s| (s, ceiling));
        state.counter_seen = true;
        state.ceiling_seen = state.ceiling_seen.max(ceiling);
        // A lock file replaced between the check above and the rename: a store under
        // the new one may have started from the ceiling this rename replaced, so the
        // numbers of this attempt are dropped (the allocation runs again).
        if !still_at(&lock_path, state.lock_id)? {
            state.retry = true;
            return Err(StoreError::io(
                "rename",
                &tmp,
                io::Error::other("the lock file was replaced during the reservation"),
            ));
        }
        Ok(())
    }
}

/// Marks `scope`'s data replaced for this store, for good, and says so.
fn replaced(state: &mut ScopeState, path: &Path, reason: &'static str) -> StoreError {
    event!(
        store,
        ERROR,
        "file store data replaced: the scope refuses every later call",
        path = %path.display(),
        reason,
    );
    state.replaced = Some((path.to_path_buf(), reason));
    state.lock = None;
    StoreError::Replaced {
        path: path.to_path_buf(),
        reason,
    }
}

impl DisplayIdAllocator for FileStore {
    fn allocate_block(&self, scope: &str, count: u64) -> Result<RangeInclusive<u64>, StoreError> {
        check_scope(scope)?;
        check_block(count)?;
        self.locked(scope, |state, lock| self.bump(scope, count, state, lock))
    }

    /// The last number handed out; after the machine restarted (or where there is no
    /// boot ID), the durable ceiling, the highest number that may have been.
    fn last(&self, scope: &str) -> Result<u64, StoreError> {
        // The counter file is read (and so checked) even when the record is exact.
        self.locked(scope, |state, lock| {
            self.position(scope, state, lock, true)
                .map(|(live, _)| live.last)
        })
    }

    /// Raises the live record (and the durable ceiling, when `n` is above it) under the
    /// scope's lock, so every process sharing the folder continues above `n`.
    fn observe_display_number(&self, scope: &str, n: u64) -> Result<(), StoreError> {
        check_observed(scope, n)?;
        self.locked(scope, |state, lock| {
            let (live, lock_len) = self.position(scope, state, lock, false)?;
            if n <= live.last {
                return Ok(());
            }
            self.advance(scope, live, n, lock_len, state, lock)
        })
    }
}

/// A file as the kernel knows it: device and inode. Two paths, or one path at two
/// moments, name the same file exactly when these agree (an open file's inode number is
/// not reused while it is open).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

/// A file and when it last changed: the same stamp at two moments means the content
/// was not written in between (up to the timestamp granularity, which the reservation's
/// forced read covers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    id: FileId,
    len: u64,
    changed: (i64, i64),
}

#[cfg(unix)]
fn file_id(meta: &fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt as _;
    Some(FileId {
        dev: meta.dev(),
        ino: meta.ino(),
    })
}

#[cfg(not(unix))]
fn file_id(_meta: &fs::Metadata) -> Option<FileId> {
    // No inode to compare: the identity checks are off, every read goes to the file.
    None
}

#[cfg(unix)]
fn stamp(meta: &fs::Metadata) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt as _;
    Some(Stamp {
        id: file_id(meta)?,
        len: meta.len(),
        changed: (meta.ctime(), meta.ctime_nsec()),
    })
}

#[cfg(not(unix))]
fn stamp(_meta: &fs::Metadata) -> Option<Stamp> {
    None
}

/// Whether the file at `path` is the one with identity `id` (always, where files
/// have no identity).
fn still_at(path: &Path, id: Option<FileId>) -> Result<bool, StoreError> {
    let Some(id) = id else {
        return Ok(true);
    };
    match fs::metadata(path) {
        Ok(meta) => Ok(file_id(&meta) == Some(id)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io("inspect", path, e)),
    }
}
/// What the live record says: the last number handed out and the durable ceiling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Live {
    last: u64,
    ceiling: u64,
}

/// This boot of the machine, once per process: the kernel's random boot ID, which
/// changes at every start. `None` where there is none.
fn boot_id() -> Option<&'static str> {
    static BOOT: LazyLock<Option<String>> = LazyLock::new(|| {
        let text = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let id = text.trim();
        let valid = id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        valid.then(|| id.to_owned())
    });
    BOOT.as_deref()
}

/// `scope` as a file name: letters, digits, `_` and `-` as they are, other bytes
/// (`.`, `:`, `/`) as `%XX`, so no scope can name `..` or a subdirectory.
fn file_stem(scope: &str) -> String {
    let mut out = String::with_capacity(scope.len() * 3);
    for b in scope.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A checksum line's value: the first 8 bytes of SHA-256 over the fields it covers
/// (the scope always among them, so a file copied under another scope's name, or
/// edited by hand, is caught).
fn checksum(fields: &str) -> String {
    let digest = Sha256::digest(fields.as_bytes());
    let mut hex = String::with_capacity(16);
    for b in &digest[..8] {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

fn render(scope: &str, value: u64) -> String {
    format!(
        "{MAGIC}\nscope {scope}\nlast {value}\ncheck {}\n",
        checksum(&format!("{scope}\n{value}"))
    )
}

fn render_live(scope: &str, boot: &str, live: Live) -> [u8; LIVE_LEN] {
    let Live { last, ceiling } = live;
    let text = format!(
        "{LIVE_MAGIC}\nboot {boot}\nlast {last}\nceiling {ceiling}\ncheck {}\n",
        checksum(&format!("{scope}\n{boot}\n{last}\n{ceiling}"))
    );
    let mut record = [b' '; LIVE_LEN];
    // At most 17 + 42 + 24 + 27 + 23 bytes: always fits.
    record[..text.len()].copy_from_slice(text.as_bytes());
    record
}

/// Writes the live record over the start of the lock file, and cuts anything past it
/// (`len` is the length the file was read at), so damage never outlives one write.
fn write_live(lock: &mut File, scope: &str, boot: &str, live: Live, len: u64) -> io::Result<()> {
    write_start(lock, &render_live(scope, boot, live))?;
    if len > LIVE_LEN as u64 {
        lock.set_len(LIVE_LEN as u64)?;
    }
    Ok(())
}

/// An intact live record and whether it was written since the machine last started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Record {
    live: Live,
    this_boot: bool,
}

/// Reads the live record from the lock file (the error says why it cannot be
/// trusted), and how many bytes the file has (up to `MAX_FILE + 1`).
fn read_live(lock: &mut File, scope: &str) -> (Result<Record, &'static str>, u64) {
    let mut bytes = [0; MAX_FILE as usize + 1];
    let Ok(len) = read_start(lock, &mut bytes) else {
        return (Err("the lock file cannot be read"), 0);
    };
    // The record is exactly `LIVE_LEN` bytes: anything after it is not ours, and is cut
    // by the next write.
    let record = &bytes[..len.min(LIVE_LEN)];
    (parse_live(record, scope, boot_id()), len as u64)
}

/// Reads the start of `file` into `buf`: as many bytes as it has, up to `buf`'s length.
/// One `pread` on Unix (a regular file returns everything up to its end at once; a
/// short read would only make the record look damaged, which costs a skip).
#[cfg(unix)]
fn read_start(file: &File, buf: &mut [u8]) -> io::Result<usize> {
    use std::os::unix::fs::FileExt as _;
    file.read_at(buf, 0)
}

#[cfg(not(unix))]
fn read_start(mut file: &File, buf: &mut [u8]) -> io::Result<usize> {
    file.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::with_capacity(buf.len());
    (&mut file).take(buf.len() as u64).read_to_end(&mut bytes)?;
    buf[..bytes.len()].copy_from_slice(&bytes);
    Ok(bytes.len())
}

/// Writes `bytes` over the start of `file` (one `pwrite` on Unix).
#[cfg(unix)]
fn write_start(file: &File, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::FileExt as _;
    file.write_all_at(bytes, 0)
}

#[cfg(not(unix))]
fn write_start(mut file: &File, bytes: &[u8]) -> io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    file.write_all(bytes)
}

/// Validates a live record; the error says what is wrong.
fn parse_live(bytes: &[u8], scope: &str, boot: Option<&str>) -> Result<Record, &'static str> {
    if bytes.is_empty() {
        return Err("no live record yet");
    }
    let end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    let mut fields = Fields::new(&bytes[..end], LIVE_MAGIC)?;
    let stored_boot = fields.next("boot ", "missing `boot` line")?;
    let last = fields.next("last ", "missing `last` line")?;
    let ceiling = fields.next("ceiling ", "missing `ceiling` line")?;
    let check = fields.finish()?;
    let (last_value, ceiling_value) = (decimal(last)?, decimal(ceiling)?);
    if check != checksum(&format!("{scope}\n{stored_boot}\n{last}\n{ceiling}")) {
        return Err("the checksum does not match the record");
    }
    if last_value > ceiling_value {
        return Err("the last number is above the ceiling");
    }
    Ok(Record {
        live: Live {
            last: last_value,
            ceiling: ceiling_value,
        },
        this_boot: boot == Some(stored_boot),
    })
}

/// Reads a counter file: `None` when it does not exist, the validated value otherwise.
fn read_counter(path: &Path, scope: &str) -> Result<Option<u64>, StoreError> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io("open", path, e)),
    };
    let mut bytes = Vec::with_capacity(128);
    (&mut file)
        .take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| StoreError::io("read", path, e))?;
    parse(&bytes, scope)
        .map(Some)
        .map_err(|reason| StoreError::CorruptCounter {
            path: path.to_path_buf(),
            reason,
        })
}
/// Validates counter file content; the error says what is wrong.
fn parse(bytes: &[u8], scope: &str) -> Result<u64, &'static str> {
    let mut fields = Fields::new(bytes, MAGIC)?;
    let stored_scope = fields.next("scope ", "missing `scope` line")?;
    let value = fields.next("last ", "missing `last` line")?;
    let check = fields.finish()?;
    if stored_scope != scope {
        return Err("the file belongs to another scope");
    }
    let parsed = decimal(value)?;
    if check != checksum(&format!("{scope}\n{value}")) {
        return Err("the checksum does not match the value");
    }
    Ok(parsed)
}

/// The `name value` lines of a record, after its magic line and before its final
/// `check` line.
struct Fields<'a> {
    lines: core::str::Split<'a, char>,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8], magic: &'static str) -> Result<Self, &'static str> {
        if bytes.is_empty() {
            return Err("the file is empty");
        }
        if bytes.len() as u64 > MAX_FILE {
            return Err("the file is too large to be a counter");
        }
        let text = core::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text")?;
        let mut lines = text.split('\n');
        if lines.next() != Some(magic) {
            return Err(if magic == MAGIC {
                "the first line is not `typed-id counter v1`"
            } else {
                "the first line is not `typed-id live v1`"
            });
        }
        Ok(Fields { lines })
    }

    fn next(&mut self, prefix: &str, missing: &'static str) -> Result<&'a str, &'static str> {
        self.lines
            .next()
            .and_then(|l| l.strip_prefix(prefix))
            .ok_or(missing)
    }

    /// The `check` line's value, which must end the record.
    fn finish(mut self) -> Result<&'a str, &'static str> {
        let check = self.next("check ", "missing `check` line")?;
        if self.lines.next() != Some("") || self.lines.next().is_some() {
            return Err("the file does not end right after the `check` line");
        }
        Ok(check)
    }
}

/// A counter value in canonical decimal: no sign, no leading zero, at most 18 digits.
fn decimal(value: &str) -> Result<u64, &'static str> {
    let canonical = !value.is_empty()
        && value.len() <= 18
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'));
    if !canonical {
        return Err("the value is not a decimal number in 0..=999999999999999999");
    }
    value
        .parse()
        .map_err(|_| "the value is not a decimal number")
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io("fsync directory", dir, e))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), StoreError> {
    // Directories cannot be opened as files here; the rename is as durable as the
    // platform makes it.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_number_once_then_exhausted_for_good() {
        let dir = std::env::temp_dir().join(format!("typed-id-file-end-{}", std::process::id()));
        let store = FileStore::open(&dir).unwrap();
        let path = store.counter_path("end").unwrap();
        fs::write(&path, render("end", Seq::MAX - 1)).unwrap();
        assert!(matches!(
            store.allocate_block("end", 2),
            Err(StoreError::Exhausted { .. })
        ));
        assert_eq!(store.allocate("end").unwrap(), Seq::MAX);
        for _ in 0..2 {
            assert!(matches!(
                store.allocate("end"),
                Err(StoreError::Exhausted { max: Seq::MAX, .. })
            ));
        }
        assert_eq!(store.last("end").unwrap(), Seq::MAX);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A fresh store in a directory of its own.
    fn fresh(name: &str) -> (FileStore, PathBuf) {
        let dir = std::env::temp_dir().join(format!("typed-id-file-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        (FileStore::open(&dir).unwrap(), dir)
    }

    fn ceiling_on_disk(store: &FileStore, scope: &str) -> u64 {
        read_counter(&store.counter_path(scope).unwrap(), scope)
            .unwrap()
            .unwrap()
    }

    fn overwrite_live(store: &FileStore, scope: &str, bytes: &[u8]) {
        fs::write(store.lock_path(scope).unwrap(), bytes).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn one_flush_reserves_a_block_and_the_record_is_exact_in_between() {
        let (store, dir) = fresh("block");
        let store = store.with_reserve(100);
        assert_eq!(store.allocate("s").unwrap(), 1);
        assert_eq!(ceiling_on_disk(&store, "s"), 100);
        for n in 2..=100 {
            assert_eq!(store.allocate("s").unwrap(), n);
        }
        // Not one more flush inside the block.
        assert_eq!(ceiling_on_disk(&store, "s"), 100);
        assert_eq!(store.last("s").unwrap(), 100);
        // The 101st reserves the next block, counted from the last number handed out.
        assert_eq!(store.allocate("s").unwrap(), 101);
        assert_eq!(ceiling_on_disk(&store, "s"), 200);
        // A block bigger than the reserve reserves exactly what it needs.
        assert_eq!(store.allocate_block("s", 500).unwrap(), 102..=601);
        assert_eq!(ceiling_on_disk(&store, "s"), 601);
        // Another process (here: another store) with another reserve continues exactly.
        let strict = FileStore::open(&dir).unwrap().with_reserve(1);
        assert_eq!(strict.allocate("s").unwrap(), 602);
        assert_eq!(ceiling_on_disk(&store, "s"), 602);
        assert_eq!(store.allocate("s").unwrap(), 603);
        assert_eq!(ceiling_on_disk(&store, "s"), 702);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_restart_or_a_damaged_record_skips_to_the_ceiling_never_back() {
        let (store, dir) = fresh("restart");
        assert_eq!(store.allocate_block("s", 5).unwrap(), 1..=5);
        assert_eq!(ceiling_on_disk(&store, "s"), 1024);
        // The record of an earlier boot: the page cache it described may be gone.
        let earlier_boot = "00000000-0000-4000-8000-000000000000";
        let stale = Live {
            last: 5,
            ceiling: 1024,
        };
        overwrite_live(&store, "s", &render_live("s", earlier_boot, stale));
        assert_eq!(store.last("s").unwrap(), 1024);
        assert_eq!(store.allocate("s").unwrap(), 1025);
        assert_eq!(ceiling_on_disk(&store, "s"), 2048);
        // Damaged or foreign records: the same skip, and the record is rewritten.
        let boot = boot_id().unwrap();
        let mut flipped = render_live(
            "s",
            boot,
            Live {
                last: 1025,
                ceiling: 2048,
            },
        );
        flipped[30] ^= 1;
        let damaged: [&[u8]; 5] = [
            b"",
            b"garbage",
            &flipped,
            &render_live(
                "other",
                boot,
                Live {
                    last: 1025,
                    ceiling: 2048,
                },
            ),
            &[0xff; LIVE_LEN + 400],
        ];
        let mut expected = 2049;
        for bytes in damaged {
            overwrite_live(&store, "s", bytes);
            assert_eq!(store.allocate("s").unwrap(), expected, "{bytes:?}");
            expected = ceiling_on_disk(&store, "s") + 1;
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Defect 2 of issue 10: after a restart, the record of the earlier boot was thrown
    /// away whole, so a lost counter file started the scope again at 1.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_record_of_an_earlier_boot_is_still_a_floor() {
        let (store, dir) = fresh("floor");
        let store = store.with_reserve(10);
        assert_eq!(store.allocate_block("s", 25).unwrap(), 1..=25);
        let earlier_boot = "00000000-0000-4000-8000-000000000000";
        let record = Live {
            last: 25,
            ceiling: 35,
        };
        // The machine restarted and the counter file was lost (a new process: a new
        // store). The record is intact: the scope was used, and starting at 1 again
        // would repeat 25 numbers. A typed error until an operator repairs it.
        overwrite_live(&store, "s", &render_live("s", earlier_boot, record));
        fs::remove_file(store.counter_path("s").unwrap()).unwrap();
        let after = FileStore::open(&dir).unwrap().with_reserve(10);
        for _ in 0..3 {
            match after.allocate("s") {
                Err(StoreError::CorruptCounter { path, .. }) => {
                    assert_eq!(path, after.counter_path("s").unwrap());
                }
                other => panic!("expected CorruptCounter, got {other:?}"),
            }
        }
        assert!(matches!(
            after.last("s"),
            Err(StoreError::CorruptCounter { .. })
        ));
        // A counter file behind the record (restored from an older copy): the record's
        // ceiling is the floor, not the file's.
        fs::write(store.counter_path("s").unwrap(), render("s", 12)).unwrap();
        overwrite_live(&store, "s", &render_live("s", earlier_boot, record));
        let after = FileStore::open(&dir).unwrap().with_reserve(10);
        assert_eq!(after.allocate("s").unwrap(), 36);
        for n in 37..=50 {
            assert_eq!(after.allocate("s").unwrap(), n);
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_ceiling_written_by_a_process_killed_before_its_record_is_honoured() {
        let (store, dir) = fresh("killed");
        let store = store.with_reserve(10);
        assert_eq!(store.allocate_block("s", 10).unwrap(), 1..=10);
        // The killed process renamed ceiling 30 in but never updated the record.
        fs::write(store.counter_path("s").unwrap(), render("s", 30)).unwrap();
        assert_eq!(store.allocate("s").unwrap(), 11);
        // No new reservation was needed, none was written: the ceiling stays.
        assert_eq!(ceiling_on_disk(&store, "s"), 30);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_damaged_counter_is_caught_by_last_and_by_the_next_reservation() {
        let (store, dir) = fresh("damaged");
        let store = store.with_reserve(3);
        assert_eq!(store.allocate("s").unwrap(), 1);
        let path = store.counter_path("s").unwrap();
        fs::write(&path, "typed-id counter v1\nscope s\nlast 1\ncheck 0\n").unwrap();
        assert!(matches!(
            store.last("s"),
            Err(StoreError::CorruptCounter { .. })
        ));
        // Inside the reserved block the exact record is enough...
        assert_eq!(store.allocate_block("s", 2).unwrap(), 2..=3);
        // ...the next reservation reads the file first, and refuses to replace it.
        for _ in 0..3 {
            assert!(matches!(
                store.allocate("s"),
                Err(StoreError::CorruptCounter { .. })
            ));
        }
        // So does a store opened now, at once.
        assert!(matches!(
            FileStore::open(&dir).unwrap().allocate("s"),
            Err(StoreError::CorruptCounter { .. })
        ));
        assert!(fs::read_to_string(&path).unwrap().contains("check 0"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn live_records_round_trip_and_damage_is_named() {
        let boot = "d1d75917-6ae7-47b2-b9f3-6a3465a1f74c";
        let live = Live {
            last: 41,
            ceiling: 1065,
        };
        let record = render_live("odin", boot, live);
        let this_boot = |live| {
            Ok(Record {
                live,
                this_boot: true,
            })
        };
        assert_eq!(parse_live(&record, "odin", Some(boot)), this_boot(live));
        // The longest record still fits.
        let max = Live {
            last: Seq::MAX,
            ceiling: Seq::MAX,
        };
        assert_eq!(
            parse_live(&render_live("odin", boot, max), "odin", Some(boot)),
            this_boot(max)
        );
        let text = String::from_utf8(record.to_vec()).unwrap();
        let cases: &[(&str, &str)] = &[
            ("", "no live record yet"),
            ("hello", "the first line is not `typed-id live v1`"),
            (
                &text.replace("last 41", "last 42"),
                "the checksum does not match the record",
            ),
            (&text.replace("ceiling ", "ceil "), "missing `ceiling` line"),
            (
                &text.replace("last 41", "last 041"),
                "the value is not a decimal number in 0..=999999999999999999",
            ),
            (&text.replace("boot ", "boat "), "missing `boot` line"),
        ];
        for (content, reason) in cases {
            assert_eq!(
                parse_live(content.as_bytes(), "odin", Some(boot)),
                Err(*reason),
                "{content:?}"
            );
        }
        assert_eq!(
            parse_live(&record, "loki", Some(boot)),
            Err("the checksum does not match the record")
        );
        assert_eq!(
            parse_live(
                &record,
                "odin",
                Some("00000000-0000-4000-8000-000000000000")
            ),
            Ok(Record {
                live,
                this_boot: false
            })
        );
        // Where there is no boot ID, no record is of this boot.
        assert_eq!(
            parse_live(&record, "odin", None),
            Ok(Record {
                live,
                this_boot: false
            })
        );
        let inverted = render_live(
            "odin",
            boot,
            Live {
                last: 9,
                ceiling: 8,
            },
        );
        assert_eq!(
            parse_live(&inverted, "odin", Some(boot)),
            Err("the last number is above the ceiling")
        );
    }

    #[test]
    fn file_stems_escape_separators() {
        assert_eq!(file_stem("odin"), "odin");
        assert_eq!(file_stem("a/b:c.d"), "a%2Fb%3Ac%2Ed");
        assert_eq!(file_stem(".."), "%2E%2E");
    }

    #[test]
    fn content_round_trips_and_damage_is_named() {
        let good = render("odin", 42);
        assert_eq!(parse(good.as_bytes(), "odin"), Ok(42));
        assert_eq!(parse(render("odin", 0).as_bytes(), "odin"), Ok(0));
        let cases: &[(&str, &str)] = &[
            ("", "the file is empty"),
            ("hello", "the first line is not `typed-id counter v1`"),
            (
                &good.replace("42", "43"),
                "the checksum does not match the value",
            ),
            (
                &good.replace("last 42", "last 042"),
                "the value is not a decimal number in 0..=999999999999999999",
            ),
            (
                &good.replace("last 42", "last -1"),
                "the value is not a decimal number in 0..=999999999999999999",
            ),
            (
                &good[..good.len() - 1],
                "the file does not end right after the `check` line",
            ),
            (
                &format!("{good}x"),
                "the file does not end right after the `check` line",
            ),
            (&good.replace("scope ", "scop "), "missing `scope` line"),
        ];
        for (content, reason) in cases {
            assert_eq!(
                parse(content.as_bytes(), "odin"),
                Err(*reason),
                "{content:?}"
            );
        }
        assert_eq!(
            parse(good.as_bytes(), "loki"),
            Err("the file belongs to another scope")
        );
        assert_eq!(
            parse(&[0xff, 0xfe], "odin"),
            Err("the file is not UTF-8 text")
        );
        assert_eq!(
            parse(&vec![b'a'; 600], "odin"),
            Err("the file is too large to be a counter")
        );
    }
}
