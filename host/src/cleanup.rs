//! Leave nothing behind on Ctrl-C: temporary paths and child process groups registered here are
//! removed and killed when the process is interrupted (SIGINT, SIGTERM, SIGHUP), then it exits
//! with 130. Binaries call [`install`] once; libraries only register, so a library user who does
//! not install the handler keeps the default signal behaviour.
//!
//! Children run in their own process group ([`run`]), so an interrupt reaches the whole tree
//! (`make`, the C++ compiler) even when only this process was signalled, as a test or a job
//! runner does.

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

static TEMP_PATHS: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
static CHILD_GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Exit status after an interrupt (128 + SIGINT, as shells report it).
pub const INTERRUPTED_EXIT: i32 = 130;

/// Installs the interrupt handler (idempotent). Call once from `main`.
pub fn install() {
    // A second call fails with MultipleHandlers, which is the idempotence we want.
    let _ = ctrlc::set_handler(|| {
        interrupted();
        std::process::exit(INTERRUPTED_EXIT);
    });
}

fn interrupted() {
    let groups: Vec<i32> = lock(&CHILD_GROUPS).iter().copied().collect();
    for pgid in groups {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pgid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let paths: Vec<PathBuf> = lock(&TEMP_PATHS).iter().cloned().collect();
    for p in paths {
        remove(&p);
    }
    eprintln!("interrupted: removed temporary files and stopped child processes");
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn remove(p: &Path) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// A temporary file or directory removed when dropped (unless [`TempPath::keep`] was called) and
/// when the process is interrupted.
#[derive(Debug)]
pub struct TempPath {
    path: PathBuf,
    keep: bool,
}

impl TempPath {
    /// Registers `path` (which need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> TempPath {
        let path = path.into();
        lock(&TEMP_PATHS).insert(path.clone());
        TempPath { path, keep: false }
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The path has been renamed away or should stay: forget it.
    pub fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        lock(&TEMP_PATHS).remove(&self.path);
        if !self.keep {
            remove(&self.path);
        }
    }
}

/// Runs `cmd` to completion in its own process group, killed (with its children) if this
/// process is interrupted meanwhile. Like [`Command::output`] or, with `capture = false`,
/// [`Command::status`] (standard streams as configured on `cmd`).
pub fn run(cmd: &mut Command, capture: bool) -> std::io::Result<Output> {
    cmd.process_group(0);
    if capture {
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
    }
    let child = cmd.spawn()?;
    let pgid = child.id() as i32;
    lock(&CHILD_GROUPS).insert(pgid);
    let out = child.wait_with_output();
    lock(&CHILD_GROUPS).remove(&pgid);
    out
}
