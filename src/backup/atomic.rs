//! Files that appear complete or not at all: written under a temporary name in the
//! target's directory, fsynced, renamed into place, and the directory fsynced so the
//! rename itself survives a crash. Dropped without `commit`, the temporary is removed.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// A file being written; visible under its name only after [`AtomicFile::commit`].
pub struct AtomicFile {
    tmp: PathBuf,
    target: PathBuf,
    file: Option<BufWriter<File>>,
}

impl AtomicFile {
    pub fn create(target: &Path) -> std::io::Result<Self> {
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("backup");
        let tmp = target.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let file = BufWriter::with_capacity(1 << 16, File::create(&tmp)?);
        Ok(Self { tmp, target: target.to_owned(), file: Some(file) })
    }

    /// The temporary file's path (to read it back before committing).
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.file.as_mut().expect("the file is only taken by commit, which consumes self")
    }

    /// Flushes and fsyncs the data, renames it into place, fsyncs the directory.
    pub fn commit(mut self) -> std::io::Result<()> {
        let file = self.file.take().expect("commit runs once: it consumes self");
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.tmp, &self.target)?;
        sync_dir(&self.target)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Fsyncs the directory holding `path`, so a rename or creation in it is durable.
pub fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}
