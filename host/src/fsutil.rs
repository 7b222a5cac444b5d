//! Writing outputs so that they never destroy inputs and never leave half a file: an output that
//! is the same file as an input (same device and inode, whatever the path says) is refused, an
//! existing output is replaced only with `--force`, and everything is written to a temporary
//! sibling, then renamed into place. Used by both binaries (`bramble compress -o`,
//! `generate -o`, `sim --trace`, `bramble-host load --bin-out`), and where the build caches live.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::cleanup::TempPath;

/// Why an output was not written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{out}: is the same file as the input {input}; choose another output path", out = out.display(), input = input.display())]
    SameAsInput { out: PathBuf, input: PathBuf },
    #[error("{out}: lies inside the input {input}; choose an output outside it", out = out.display(), input = input.display())]
    InsideInput { out: PathBuf, input: PathBuf },
    #[error("{out}: already exists; pass --force to replace it", out = out.display())]
    Exists { out: PathBuf },
    #[error("{out}: exists and is not {what}; refusing to replace it", out = out.display())]
    NotReplaceable { out: PathBuf, what: &'static str },
    #[error("cannot write {path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, OutputError>;

/// True when `a` and `b` name the same existing file (device and inode, symlinks followed).
/// Where a content-hash build cache lives: `explicit`, else `$<env_var>` (when set and not
/// empty), else `bramble-<name>-cache` in the cargo target directory the running executable was
/// built into (the directory with `CACHEDIR.TAG`), else `~/.cache/bramble/<name>`, else the
/// temporary directory. The Verilator simulation (`sim`) and the HLS C simulation (`csim`) use it.
pub fn cache_dir(explicit: Option<&Path>, env_var: &str, name: &str) -> PathBuf {
    if let Some(d) = explicit {
        return d.to_path_buf();
    }
    if let Some(d) = std::env::var_os(env_var).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let dir_name = format!("bramble-{name}-cache");
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            if dir.join("CACHEDIR.TAG").is_file() {
                return dir.join(&dir_name);
            }
        }
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache/bramble").join(name),
        None => std::env::temp_dir().join(dir_name),
    }
}

pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Refuses `out` if it is one of `inputs` (a file, or for a directory input anything inside
/// it), or if it exists and `force` is not given.
pub fn check_output(out: &Path, inputs: &[&Path], force: bool) -> Result<()> {
    for input in inputs {
        if same_file(out, input) {
            return Err(OutputError::SameAsInput {
                out: out.into(),
                input: input.to_path_buf(),
            });
        }
        if input.is_dir() {
            // Compare the output's existing ancestor with the input directory.
            for a in out.ancestors() {
                let a = if a.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    a
                };
                if same_file(a, input) {
                    return Err(OutputError::InsideInput {
                        out: out.into(),
                        input: input.to_path_buf(),
                    });
                }
            }
        }
    }
    if !force && std::fs::symlink_metadata(out).is_ok() {
        return Err(OutputError::Exists { out: out.into() });
    }
    Ok(())
}

/// A sibling of `path` (same directory, so a rename is atomic) named `.NAME.<tag>-<pid>`.
pub fn sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.join(format!(".{name}.{tag}-{}", std::process::id()))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` through a temporary sibling and a rename (checks are the caller's:
/// see [`check_output`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = TempPath::new(sibling(path, "tmp"));
    std::fs::write(tmp.path(), bytes).map_err(io(path))?;
    std::fs::rename(tmp.path(), path).map_err(io(path))?;
    tmp.keep();
    Ok(())
}

/// Replaces the directory `out` by one holding exactly `files` (paths relative to `out`, `/`
/// separated, already checked to be plain names). An existing `out` is replaced only when
/// `force` is set and `replaceable(out)` says it is ours to replace (`what` names what that is
/// in the error). On any failure the previous `out` is left as it was and no temporary
/// directory remains, also on Ctrl-C (see [`crate::cleanup`]).
pub fn replace_dir(
    out: &Path,
    files: &[(String, Vec<u8>)],
    force: bool,
    replaceable: impl Fn(&Path) -> bool,
    what: &'static str,
) -> Result<()> {
    let exists = std::fs::symlink_metadata(out).is_ok();
    if exists && !force {
        return Err(OutputError::Exists { out: out.into() });
    }
    if exists && !replaceable(out) {
        return Err(OutputError::NotReplaceable {
            out: out.into(),
            what,
        });
    }
    let tmp = TempPath::new(sibling(out, "tmp"));
    let _ = std::fs::remove_dir_all(tmp.path());
    for (rel, bytes) in files {
        let p = tmp.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(io(out))?;
        }
        std::fs::write(&p, bytes).map_err(io(&p))?;
    }
    if !exists {
        std::fs::rename(tmp.path(), out).map_err(io(out))?;
        tmp.keep();
        return Ok(());
    }
    // A stale `.NAME.old-PID` from an earlier crash must not stop the swap.
    let old = sibling(out, "old");
    let _ = std::fs::remove_dir_all(&old);
    std::fs::rename(out, &old).map_err(io(out))?;
    if let Err(e) = std::fs::rename(tmp.path(), out) {
        // Put the previous directory back rather than leave nothing at `out`.
        let _ = std::fs::rename(&old, out);
        return Err(io(out)(e));
    }
    tmp.keep();
    drop(TempPath::new(old));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("bramble-fsutil-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn same_file_through_links_and_dot_paths() {
        let d = scratch("same");
        let a = d.join("a.bit");
        std::fs::write(&a, b"x").unwrap();
        std::fs::hard_link(&a, d.join("hard")).unwrap();
        std::os::unix::fs::symlink(&a, d.join("soft")).unwrap();
        for out in [d.join("hard"), d.join("soft"), d.join(".").join("a.bit")] {
            let e = check_output(&out, &[&a], true).unwrap_err();
            assert!(matches!(e, OutputError::SameAsInput { .. }), "{e}");
        }
        let e = check_output(&d.join("b"), &[&a], false);
        assert!(e.is_ok());
        std::fs::write(d.join("b"), b"y").unwrap();
        let e = check_output(&d.join("b"), &[&a], false).unwrap_err();
        assert!(e.to_string().contains("--force"), "{e}");
        check_output(&d.join("b"), &[&a], true).unwrap();
        let e = check_output(&d.join("sub/x.fst"), &[&d], true).unwrap_err();
        assert!(matches!(e, OutputError::InsideInput { .. }), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn replace_dir_survives_a_stale_old_and_keeps_the_previous_on_refusal() {
        let d = scratch("replace");
        let out = d.join("bundle");
        let files = vec![("rtl/a.v".to_string(), b"a".to_vec())];
        replace_dir(&out, &files, false, |_| true, "a bundle").unwrap();
        assert_eq!(std::fs::read(out.join("rtl/a.v")).unwrap(), b"a");
        // A stale `.bundle.old-PID` holding files from an earlier crash.
        let old = sibling(&out, "old");
        std::fs::create_dir_all(old.join("junk")).unwrap();
        let files2 = vec![("rtl/b.v".to_string(), b"b".to_vec())];
        replace_dir(&out, &files2, true, |_| true, "a bundle").unwrap();
        assert!(out.join("rtl/b.v").is_file() && !out.join("rtl/a.v").exists());
        assert!(!old.exists());
        let e = replace_dir(&out, &files, true, |_| false, "a bundle").unwrap_err();
        assert!(e.to_string().contains("not a bundle"), "{e}");
        assert!(out.join("rtl/b.v").is_file());
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
