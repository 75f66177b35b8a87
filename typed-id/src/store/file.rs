//! [`FileStore`]: display counters in a folder, for tools whose only shared resource is
//! a directory.
//!
//! The protocol is described on [`FileStore`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

use super::{DisplayIdAllocator, StoreError, check_block, check_scope};
use crate::Seq;

/// First line of every counter file.
const MAGIC: &str = "typed-id counter v1";
/// Counter files are a few dozen bytes; anything larger is not ours.
const MAX_FILE: u64 = 512;

/// How much a [`FileStore`] allocation survives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileDurability {
    /// `fsync` the new counter and the directory before returning a number: survives a
    /// killed process and a power loss. Costs two disk flushes per allocation.
    #[default]
    Full,
    /// Rename without `fsync`: survives a killed or crashed process (the kernel still
    /// holds the data), but after a power loss the counter may be older than numbers
    /// already handed out (which would then repeat), or empty (reported as
    /// [`StoreError::CorruptCounter`]). For scratch data or machines whose disk cache
    /// is battery-backed.
    ProcessCrash,
}

/// Display counters in a directory shared by processes.
///
/// One allocation, for scope `s` (its name escaped into a file name):
///
/// 1. lock `s.lock` (an OS file lock, [`File::lock`]: released by the kernel when the
///    holder dies, so a killed process never leaves the scope locked);
/// 2. read and validate `s.counter`;
/// 3. write the new value to `s.counter.tmp` and `fsync` it;
/// 4. `rename` it over `s.counter` (atomic: readers and the next writer see the old
///    file or the new one, never a mixture);
/// 5. `fsync` the directory, so the rename itself survives a power loss;
/// 6. unlock, and only then return the numbers.
///
/// A process killed before step 4 leaves the old counter (its numbers were never
/// returned); killed after it, the new one. Either way no number is handed out twice.
///
/// ```
/// use typed_id::store::{DisplayIdAllocator, FileStore};
/// # let dir = std::env::temp_dir().join(format!("typed-id-doc-fs-{}", std::process::id()));
///
/// let store = FileStore::open(&dir)?;
/// assert_eq!(store.allocate("odin/WORK")?, 1);
/// assert_eq!(store.allocate_block("odin/WORK", 10)?, 2..=11);
/// assert!(dir.join("odin%2FWORK.counter").exists());
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), typed_id::store::StoreError>(())
/// ```
///
/// Threads of one process share a `FileStore` safely (they queue on an in-process lock
/// before the file lock, which the OS would otherwise grant to both). A store keeps one
/// lock file open per scope it has used.
///
/// Deleting a counter file starts its scope again at 1: the directory is the store, so
/// back it up and clean it up like one. Leftover `.tmp` files (a process killed while
/// writing) are harmless and overwritten by the next allocation.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    durability: FileDurability,
    /// Open lock files per scope; the mutex serialises this process's threads.
    locks: Mutex<HashMap<Box<str>, Arc<Mutex<File>>>>,
}

impl FileStore {
    /// Opens (creating it if needed) the directory `dir` as a store, with
    /// [`FileDurability::Full`].
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
            durability: FileDurability::Full,
            locks: Mutex::new(HashMap::new()),
        })
    }

    /// The same store with another durability.
    #[must_use]
    pub fn with_durability(mut self, durability: FileDurability) -> Self {
        self.durability = durability;
        self
    }

    /// The store's directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The counter file of `scope` (it may not exist yet).
    ///
    /// # Errors
    /// [`StoreError::InvalidScope`].
    pub fn counter_path(&self, scope: &str) -> Result<PathBuf, StoreError> {
        check_scope(scope)?;
        Ok(self.dir.join(format!("{}.counter", file_stem(scope))))
    }

    /// This process's handle on `scope`'s lock file.
    fn lock_file(&self, scope: &str) -> Result<Arc<Mutex<File>>, StoreError> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(file) = locks.get(scope) {
            return Ok(Arc::clone(file));
        }
        let path = self.dir.join(format!("{}.lock", file_stem(scope)));
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

    /// Steps 2–5 of an allocation, under the lock.
    fn bump(&self, scope: &str, count: u64) -> Result<RangeInclusive<u64>, StoreError> {
        let stem = file_stem(scope);
        let path = self.dir.join(format!("{stem}.counter"));
        let last = read_counter(&path, scope)?;
        let new = last
            .checked_add(count)
            .filter(|&v| v <= Seq::MAX)
            .ok_or_else(|| StoreError::Exhausted {
                key: scope.to_owned(),
                max: Seq::MAX,
            })?;
        let tmp = self.dir.join(format!("{stem}.counter.tmp"));
        let content = render(scope, new);
        let mut file = File::create(&tmp).map_err(|e| StoreError::io("create", &tmp, e))?;
        file.write_all(content.as_bytes())
            .map_err(|e| StoreError::io("write", &tmp, e))?;
        if self.durability == FileDurability::Full {
            // Data and size, which is all the rename needs; the directory entry is
            // flushed after the rename.
            file.sync_data()
                .map_err(|e| StoreError::io("fsync", &tmp, e))?;
        }
        drop(file);
        fs::rename(&tmp, &path).map_err(|e| StoreError::io("rename", &tmp, e))?;
        if self.durability == FileDurability::Full {
            sync_dir(&self.dir)?;
        }
        Ok(last + 1..=new)
    }
}

impl DisplayIdAllocator for FileStore {
    fn allocate_block(&self, scope: &str, count: u64) -> Result<RangeInclusive<u64>, StoreError> {
        check_scope(scope)?;
        check_block(count)?;
        let handle = self.lock_file(scope)?;
        let file = handle.lock().unwrap_or_else(PoisonError::into_inner);
        let lock_path = || self.dir.join(format!("{}.lock", file_stem(scope)));
        file.lock()
            .map_err(|e| StoreError::io("lock", lock_path(), e))?;
        let result = self.bump(scope, count);
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

    fn last(&self, scope: &str) -> Result<u64, StoreError> {
        // No lock needed: the counter is replaced by rename, so a reader sees a whole
        // old or a whole new file.
        let path = self.counter_path(scope)?;
        read_counter(&path, scope)
    }
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

/// The checksum line's value: the first 8 bytes of SHA-256 over scope and value, so a
/// file copied under another scope's name, or edited by hand, is caught.
fn checksum(scope: &str, value: u64) -> String {
    let digest = Sha256::digest(format!("{scope}\n{value}").as_bytes());
    let mut hex = String::with_capacity(16);
    for b in &digest[..8] {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

fn render(scope: &str, value: u64) -> String {
    format!(
        "{MAGIC}\nscope {scope}\nlast {value}\ncheck {}\n",
        checksum(scope, value)
    )
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
    if bytes.is_empty() {
        return Err("the file is empty");
    }
    if bytes.len() as u64 > MAX_FILE {
        return Err("the file is too large to be a counter");
    }
    let text = core::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text")?;
    let mut lines = text.split('\n');
    if lines.next() != Some(MAGIC) {
        return Err("the first line is not `typed-id counter v1`");
    }
    let stored_scope = lines
        .next()
        .and_then(|l| l.strip_prefix("scope "))
        .ok_or("missing `scope` line")?;
    let value = lines
        .next()
        .and_then(|l| l.strip_prefix("last "))
        .ok_or("missing `last` line")?;
    let check = lines
        .next()
        .and_then(|l| l.strip_prefix("check "))
        .ok_or("missing `check` line")?;
    if lines.next() != Some("") || lines.next().is_some() {
        return Err("the file does not end right after the `check` line");
    }
    if stored_scope != scope {
        return Err("the file belongs to another scope");
    }
    // Canonical decimal only: no sign, no leading zero, at most 18 digits.
    let canonical = !value.is_empty()
        && value.len() <= 18
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'));
    if !canonical {
        return Err("the value is not a decimal number in 0..=999999999999999999");
    }
    let value: u64 = value
        .parse()
        .map_err(|_| "the value is not a decimal number")?;
    if check != checksum(scope, value) {
        return Err("the checksum does not match the value");
    }
    Ok(value)
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
