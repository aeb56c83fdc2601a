//! Where contexts are kept and how their files are read and written: the
//! settings apart from the tokens, the tokens file private to its owner,
//! every write whole or not at all.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::exit::Failure;

/// The folder under the configuration folder, named after the command.
const FOLDER: &str = "dployrctl";
/// Contexts and which one is current: nothing secret.
pub const SETTINGS_FILE: &str = "contexts.toml";
/// The tokens, by context: readable by the owner alone.
pub const TOKENS_FILE: &str = "tokens.toml";

/// `$XDG_CONFIG_HOME/dployrctl`, else the platform's configuration folder
/// (`~/.config` on Linux, `~/Library/Application Support` on macOS).
pub fn folder() -> Result<PathBuf, Failure> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(dirs::config_dir)
        .ok_or_else(|| {
            Failure::Setup(
                "no configuration folder: set XDG_CONFIG_HOME or HOME to keep contexts".into(),
            )
        })?;
    Ok(base.join(FOLDER))
}

/// The file at `path` decoded, `None` when it does not exist. A file that
/// does not decode is named with the line it fails at.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, Failure> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Failure::Setup(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    toml::from_str(&text).map(Some).map_err(|e| {
        let line = e.span().map_or(1, |span| {
            text[..span.start.min(text.len())].matches('\n').count() + 1
        });
        Failure::Setup(format!(
            "{}:{line}: malformed: {}; fix or remove that line",
            path.display(),
            e.message().trim()
        ))
    })
}

/// Refuses a tokens file that anyone but its owner may read or write, as
/// ssh refuses such a key: the tokens in it are as good as passwords.
pub fn check_private(path: &Path) -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match fs::metadata(path) {
            Ok(meta) => meta.permissions().mode() & 0o777,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(Failure::Setup(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        };
        if mode & 0o077 != 0 {
            return Err(Failure::Setup(format!(
                "{} holds tokens and other users can access it (mode {mode:o}); nothing was \
                 sent. Make it yours alone with `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    Ok(())
}

/// Writes `text` to `path` whole: into a new file beside it (created
/// `private` to its owner when asked), flushed to disk, then renamed over
/// `path`, so a crash or a full disk leaves the old file or the new one,
/// never half of one.
pub fn write_atomic(path: &Path, text: &str, private: bool) -> Result<(), Failure> {
    let cannot =
        |e: std::io::Error| Failure::Setup(format!("cannot write {}: {e}", path.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    create_folder(dir).map_err(cannot)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(if private { 0o600 } else { 0o644 });
        }
        let mut file = options.open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written.map_err(cannot)
}

/// The folder, private to its owner when this makes it.
fn create_folder(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("dployrctl-files-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[derive(serde::Deserialize, Debug)]
    struct Sample {
        #[allow(dead_code)]
        url: String,
    }

    #[test]
    fn a_malformed_file_is_named_with_its_line() {
        let dir = scratch("malformed");
        let path = dir.join("x.toml");
        write_atomic(&path, "# fine\nurl = \"a\"\nurl = = 3\n", false).unwrap();
        let err = read::<Sample>(&path).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}:3: malformed", path.display())),
            "{err}"
        );
        assert!(read::<Sample>(&dir.join("missing.toml")).unwrap().is_none());
        let _ = fs::remove_dir_all(dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_private_write_is_0600_and_leaves_no_temporary_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("private");
        let path = dir.join(TOKENS_FILE);
        write_atomic(&path, "a = 1\n", true).unwrap();
        write_atomic(&path, "a = 2\n", true).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read_to_string(&path).unwrap(), "a = 2\n");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        check_private(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(check_private(&path)
            .unwrap_err()
            .to_string()
            .contains("chmod 600"));
        let _ = fs::remove_dir_all(dir);
    }
}
