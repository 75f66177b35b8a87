//! [`FileStore`]: display counters in a folder, for tools whose only shared resource is
//! a directory.
//!
//! The protocol is described on [`FileStore`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use sha2::{Digest, Sha256};

use super::{DisplayIdAllocator, StoreError, check_block, check_scope};
use crate::Seq;

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
/// One allocation of `n` numbers, under the lock:
///
/// 1. read the live record. If it is intact and was written since the machine last
///    started, it is exact: the kernel's page cache survives any process crash. If not
///    (the machine restarted, the record is damaged or missing), fall back to the
///    durable ceiling, which is at least every number ever handed out;
/// 2. if the new numbers would pass the ceiling, reserve a new ceiling `reserve`
///    numbers ahead (default 1 024, see [`FileStore::with_reserve`]) with the
///    write-temp/`fsync`/rename/`fsync` sequence above. This is the only disk flush,
///    once per `reserve` numbers;
/// 3. overwrite the live record, unlock, and only then return the numbers.
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
/// To start a scope again at 1, delete both its files while no process uses it: the
/// directory is the store, so back it up and clean it up like one. A damaged counter
/// file is reported as [`StoreError::CorruptCounter`] when it is next read (at the next
/// reservation) and never silently reset; a damaged live record only costs a skip to
/// the ceiling. Leftover `.tmp` files (a process killed while writing) are harmless and
/// overwritten by the next reservation.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    reserve: u32,
    /// Open lock files per scope; the mutex serialises this process's threads.
    locks: Mutex<HashMap<Box<str>, Arc<Mutex<File>>>>,
}

impl FileStore {
    /// Opens (creating it if needed) the directory `dir` as a store that reserves 1 024
    /// numbers per disk flush.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the directory cannot be created or is not a directory.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| StoreError::io("create directory", &dir, e))?;
        let meta = fs::metadata(&dir).map_err(|e| StoreError::io("inspect", &dir, e))?;
        if !meta.is_dir() {
            return Err(StoreError::io(
                "open directory",
                &dir,
                io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
            ));
        }
        Ok(FileStore {
            dir,
            reserve: DEFAULT_RESERVE,
            locks: Mutex::new(HashMap::new()),
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

    /// `scope`'s file with the given suffix (`counter`, `lock`), for a checked scope.
    fn file(&self, scope: &str, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", file_stem(scope)))
    }

    /// This process's handle on `scope`'s lock file.
    fn lock_file(&self, scope: &str) -> Result<Arc<Mutex<File>>, StoreError> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(file) = locks.get(scope) {
            return Ok(Arc::clone(file));
        }
        let path = self.file(scope, "lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io("open lock file", &path, e))?;
        let file = Arc::new(Mutex::new(file));
        locks.insert(scope.into(), Arc::clone(&file));
        Ok(file)
    }

    /// Runs `f` holding this process's lock and the OS lock on `scope`.
    fn locked<T>(
        &self,
        scope: &str,
        f: impl FnOnce(&mut File) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        check_scope(scope)?;
        let handle = self.lock_file(scope)?;
        let mut file = handle.lock().unwrap_or_else(PoisonError::into_inner);
        let lock_path = || self.file(scope, "lock");
        file.lock()
            .map_err(|e| StoreError::io("lock", lock_path(), e))?;
        let result = f(&mut file);
        if let Err(e) = file.unlock() {
            // Closing the file releases the lock too: forget this handle.
            drop(file);
            self.locks
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(scope);
            return Err(StoreError::io("unlock", lock_path(), e));
        }
        result
    }

    /// The last number handed out and the ceiling, as the live record or the counter
    /// file tells them (under the lock). The flag says whether the counter file was
    /// read (and so the ceiling is current).
    fn position(&self, scope: &str, lock: &mut File) -> Result<(Live, bool), StoreError> {
        if let Some(boot) = boot_id()
            && let Ok(live) = read_live(lock, scope, boot)
        {
            return Ok((live, false));
        }
        let ceiling = read_counter(&self.file(scope, "counter"), scope)?;
        Ok((
            Live {
                last: ceiling,
                ceiling,
            },
            true,
        ))
    }

    /// Steps 1–3 of an allocation, under the lock.
    fn bump(
        &self,
        scope: &str,
        count: u64,
        lock: &mut File,
    ) -> Result<RangeInclusive<u64>, StoreError> {
        let (mut live, mut counter_read) = self.position(scope, lock)?;
        let last = live.last;
        let new = last
            .checked_add(count)
            .filter(|&v| v <= Seq::MAX)
            .ok_or_else(|| StoreError::Exhausted {
                key: scope.to_owned(),
                max: Seq::MAX,
            })?;
        if new > live.ceiling && !counter_read {
            // The record's ceiling may be behind the file's: a process killed between
            // the rename and its record update, or one on another machine. Reading the
            // file also checks it before a new reservation replaces it.
            let on_disk = read_counter(&self.file(scope, "counter"), scope)?;
            live.ceiling = live.ceiling.max(on_disk);
            counter_read = true;
        }
        debug_assert!(counter_read || new <= live.ceiling);
        if new > live.ceiling {
            let reserve = if boot_id().is_some() { self.reserve } else { 1 };
            let ceiling = new.max(last.saturating_add(u64::from(reserve)).min(Seq::MAX));
            self.write_counter(scope, ceiling)?;
            live.ceiling = ceiling;
        }
        live.last = new;
        if let Some(boot) = boot_id() {
            write_live(lock, scope, boot, live)
                .map_err(|e| StoreError::io("write live record", self.file(scope, "lock"), e))?;
        }
        Ok(last + 1..=new)
    }

    /// Replaces `scope`'s counter file with `ceiling`, durably.
    fn write_counter(&self, scope: &str, ceiling: u64) -> Result<(), StoreError> {
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
        fs::rename(&tmp, &path).map_err(|e| StoreError::io("rename", &tmp, e))?;
        sync_dir(&self.dir)
    }
}

impl DisplayIdAllocator for FileStore {
    fn allocate_block(&self, scope: &str, count: u64) -> Result<RangeInclusive<u64>, StoreError> {
        check_scope(scope)?;
        check_block(count)?;
        self.locked(scope, |lock| self.bump(scope, count, lock))
    }

    /// The last number handed out; after the machine restarted (or where there is no
    /// boot ID), the durable ceiling, the highest number that may have been.
    fn last(&self, scope: &str) -> Result<u64, StoreError> {
        self.locked(scope, |lock| {
            // The counter file is read (and so checked) even when the record is exact.
            let ceiling = read_counter(&self.file(scope, "counter"), scope)?;
            let live = boot_id().and_then(|boot| read_live(lock, scope, boot).ok());
            Ok(live.map_or(ceiling, |live| live.last))
        })
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

fn write_live(lock: &mut File, scope: &str, boot: &str, live: Live) -> io::Result<()> {
    lock.seek(SeekFrom::Start(0))?;
    lock.write_all(&render_live(scope, boot, live))
}

/// Reads the live record from the lock file; the error says why it cannot be trusted.
fn read_live(lock: &mut File, scope: &str, boot: &str) -> Result<Live, &'static str> {
    let mut bytes = Vec::with_capacity(LIVE_LEN);
    lock.seek(SeekFrom::Start(0))
        .and_then(|_| lock.take(MAX_FILE + 1).read_to_end(&mut bytes))
        .map_err(|_| "the lock file cannot be read")?;
    parse_live(&bytes, scope, boot)
}

/// Validates a live record; the error says what is wrong.
fn parse_live(bytes: &[u8], scope: &str, boot: &str) -> Result<Live, &'static str> {
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
    if stored_boot != boot {
        return Err("written before the machine last started");
    }
    if last_value > ceiling_value {
        return Err("the last number is above the ceiling");
    }
    Ok(Live {
        last: last_value,
        ceiling: ceiling_value,
    })
}

/// Reads a counter file: 0 when it does not exist, the validated value otherwise.
fn read_counter(path: &Path, scope: &str) -> Result<u64, StoreError> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(StoreError::io("open", path, e)),
    };
    let mut bytes = Vec::with_capacity(128);
    (&mut file)
        .take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| StoreError::io("read", path, e))?;
    parse(&bytes, scope).map_err(|reason| StoreError::CorruptCounter {
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
        read_counter(&store.counter_path(scope).unwrap(), scope).unwrap()
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
        assert!(matches!(
            store.allocate("s"),
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
        assert_eq!(parse_live(&record, "odin", boot), Ok(live));
        // The longest record still fits.
        let max = Live {
            last: Seq::MAX,
            ceiling: Seq::MAX,
        };
        assert_eq!(
            parse_live(&render_live("odin", boot, max), "odin", boot),
            Ok(max)
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
                parse_live(content.as_bytes(), "odin", boot),
                Err(*reason),
                "{content:?}"
            );
        }
        assert_eq!(
            parse_live(&record, "loki", boot),
            Err("the checksum does not match the record")
        );
        assert_eq!(
            parse_live(&record, "odin", "00000000-0000-4000-8000-000000000000"),
            Err("written before the machine last started")
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
            parse_live(&inverted, "odin", boot),
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
