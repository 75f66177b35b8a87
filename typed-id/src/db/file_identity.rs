//! SQLite: noticing that the database file at a session's path is no longer the one
//! it opened.
//!
//! An open SQLite connection keeps using its file after the path was unlinked or renamed
//! over, and keeps using its `-wal` and `-shm` files after those were deleted: a store
//! would go on numbering from a ghost copy while new processes number the new file from
//! its own counter, and both would hand out the same numbers. So the store records the
//! (device, inode) of the three files when it opens and compares them with what the path
//! names after every operation, before returning a result; the first mismatch is kept,
//! and every later call fails with [`DbError::FileReplaced`] at once. Stores and the
//! registry both watch their files this way; a leased generator checks the main file
//! with [`file_identity`] on its own.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use super::error::DbError;

/// Which of the database's files an identity belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Main,
    Wal,
    Shm,
}

/// The files of one SQLite database and their identities when the store opened them.
#[derive(Debug)]
pub(crate) struct FileWatch {
    /// The main database file, as SQLite resolved it.
    path: PathBuf,
    files: Vec<(Role, PathBuf, Identity)>,
    /// The first change seen; set once, never cleared.
    lost: OnceLock<&'static str>,
}

/// (device, inode).
type Identity = (u64, u64);

impl FileWatch {
    /// Watches the database at `path` (an absolute file path from `PRAGMA
    /// database_list`) and, in WAL mode, its `-wal` and `-shm` files as they are now.
    /// `None` where there is nothing to watch (an in-memory database, a platform
    /// without inodes).
    pub(crate) fn new(path: &Path, wal: bool) -> Result<Option<FileWatch>, DbError> {
        let Some(main) = identity(path)? else {
            return Ok(None);
        };
        let mut files = vec![(Role::Main, path.to_owned(), main)];
        if wal {
            for (role, suffix) in [(Role::Wal, "-wal"), (Role::Shm, "-shm")] {
                let mut side = path.as_os_str().to_owned();
                side.push(suffix);
                let side = PathBuf::from(side);
                // In WAL mode both exist while any connection that has read the
                // database is open, and SQLite removes them only when the last one
                // closes: this store's is open and has read. Missing, they were deleted
                // in between, and the connection already works on a ghost.
                let Some(id) = identity(&side)? else {
                    return Err(DbError::FileReplaced {
                        path: path.to_owned(),
                        what: match role {
                            Role::Wal => "its write-ahead log (-wal) was deleted",
                            _ => "its shared-memory index (-shm) was deleted",
                        },
                    });
                };
                files.push((role, side, id));
            }
        }
        Ok(Some(FileWatch {
            path: path.to_owned(),
            files,
            lost: OnceLock::new(),
        }))
    }

    /// Fails if a change was already seen (no file system access).
    pub(crate) fn check_known(&self) -> Result<(), DbError> {
        match self.lost.get() {
            Some(what) => Err(self.error(what)),
            None => Ok(()),
        }
    }

    /// Fails if any watched file at its path is missing or another file; the first such
    /// finding is kept for every later call.
    pub(crate) fn check(&self) -> Result<(), DbError> {
        self.check_known()?;
        for (role, path, recorded) in &self.files {
            let what = match identity(path)? {
                Some(now) if now == *recorded => continue,
                Some(_) => match role {
                    Role::Main => "the database file at the path was replaced by another file",
                    Role::Wal => "its write-ahead log (-wal) was replaced by another file",
                    Role::Shm => "its shared-memory index (-shm) was replaced by another file",
                },
                None => match role {
                    Role::Main => "the database file was deleted",
                    Role::Wal => "its write-ahead log (-wal) was deleted",
                    Role::Shm => "its shared-memory index (-shm) was deleted",
                },
            };
            let what = *self.lost.get_or_init(|| what);
            return Err(self.error(what));
        }
        Ok(())
    }

    /// The main database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Each watched file's path and its identity when the watch began: the main file
    /// first, then the `-wal` and `-shm` in WAL mode.
    pub(crate) fn files(&self) -> Vec<(PathBuf, Identity)> {
        self.files
            .iter()
            .map(|(_, path, id)| (path.clone(), *id))
            .collect()
    }

    /// Notes that this process leaves the watched database's connection open for good
    /// (see [`refuse_left_open`]).
    pub(crate) fn leave_open(&self) {
        let main = self.files[0].2;
        let mut left = LEFT_OPEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !left.contains(&main) {
            left.push(main);
        }
    }

    fn error(&self, what: &'static str) -> DbError {
        DbError::FileReplaced {
            path: self.path.clone(),
            what,
        }
    }
}

/// Main database files (device, inode) whose connection this process left open after
/// their `-wal`/`-shm` were deleted or replaced.
static LEFT_OPEN: Mutex<Vec<Identity>> = Mutex::new(Vec::new());

/// Fails if this process left a connection to the database file at `path` open after
/// its files were deleted or replaced: SQLite shares one lock and shared-memory state
/// per file within a process, and a new connection would join the stale connection's
/// deleted `-shm` (SQLite answers "disk I/O error"). Another process opens it fine.
#[cfg(feature = "sqlite")]
pub(crate) fn refuse_left_open(path: &Path) -> Result<(), DbError> {
    let Some(now) = identity(path)? else {
        return Ok(());
    };
    let left = LEFT_OPEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if left.contains(&now) {
        return Err(DbError::FileReplaced {
            path: path.to_owned(),
            what: "this process still holds a connection from before its -wal/-shm were \
                   deleted (closing it would destroy the new ones): open it from another \
                   process, or restart this one",
        });
    }
    Ok(())
}

/// The (device, inode) of the file at `path` now; `None` when it is missing, cannot be
/// looked at, or the platform has no inodes (then nothing is checked).
pub(crate) fn file_identity(path: &Path) -> Option<Identity> {
    identity(path).ok().flatten()
}

/// The file's (device, inode), `None` when it does not exist.
#[cfg(unix)]
fn identity(path: &Path) -> Result<Option<Identity>, DbError> {
    use std::os::unix::fs::MetadataExt as _;
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some((meta.dev(), meta.ino()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(DbError::Io {
            op: "check the identity of",
            path: path.to_owned(),
            source: e,
        }),
    }
}

/// Without inodes there is no identity to compare: nothing is watched.
#[cfg(not(unix))]
fn identity(_path: &Path) -> Result<Option<Identity>, DbError> {
    Ok(None)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "typed-id-watch-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_deleted_or_replaced_file_is_noticed_and_remembered() {
        let dir = scratch("main");
        let db = dir.join("ids.db");
        for name in ["ids.db", "ids.db-wal", "ids.db-shm"] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        let watch = FileWatch::new(&db, true).unwrap().unwrap();
        assert_eq!(watch.files.len(), 3);
        watch.check().unwrap();

        // Rewriting in place keeps the inode: not a replacement.
        std::fs::write(&db, b"yy").unwrap();
        watch.check().unwrap();

        // Replaced by rename.
        std::fs::write(dir.join("other"), b"z").unwrap();
        std::fs::rename(dir.join("other"), &db).unwrap();
        let err = watch.check().unwrap_err();
        assert!(
            matches!(err, DbError::FileReplaced { what, .. } if what.contains("replaced")),
            "{err:?}"
        );
        // Remembered: restoring the name does not make the store trust it again.
        std::fs::remove_file(&db).unwrap();
        assert!(watch.check_known().is_err());
        assert!(watch.check().is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_deleted_wal_is_noticed_and_a_missing_one_refused() {
        let dir = scratch("wal");
        let db = dir.join("ids.db");
        std::fs::write(&db, b"x").unwrap();
        std::fs::write(dir.join("ids.db-wal"), b"x").unwrap();
        let missing = FileWatch::new(&db, true).unwrap_err();
        assert!(
            matches!(missing, DbError::FileReplaced { what, .. } if what.contains("-shm")),
            "{missing:?}"
        );
        std::fs::write(dir.join("ids.db-shm"), b"x").unwrap();
        let watch = FileWatch::new(&db, true).unwrap().unwrap();
        assert_eq!(watch.files.len(), 3);
        std::fs::remove_file(dir.join("ids.db-wal")).unwrap();
        let err = watch.check().unwrap_err();
        assert!(
            matches!(err, DbError::FileReplaced { what, .. } if what.contains("-wal")),
            "{err:?}"
        );
        assert!(
            FileWatch::new(&dir.join("missing"), true)
                .unwrap()
                .is_none()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
