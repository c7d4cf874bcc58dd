//! Files the service writes for its operators.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Write a file only its owner can read (0600 on Unix), creating it anew.
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents).with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Make a SQLite database readable by its owner only (0600 on Unix): create the file so if it does not exist yet,
/// and narrow the file and its companions (`-wal`, `-shm`, `-journal`) if they exist with wider permissions. SQLite
/// creates its companions with the database file's own permissions, so a private database stays private.
///
/// An existing file is never opened here, only changed by path: closing any descriptor of a database file drops
/// every POSIX lock this process holds on it, including those of SQLite connections already open.
pub fn private_database(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(path) {
            Ok(_) => {}
            // Created meanwhile by another connection: narrowed below like any existing file.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("cannot create the database file {}", path.display())),
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut files = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            files.push(name.into());
        }
        for file in &files {
            let Ok(meta) = std::fs::metadata(file) else { continue };
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode & 0o700))
                    .with_context(|| format!("cannot make {} private", file.display()))?;
            }
        }
    }
    Ok(())
}
