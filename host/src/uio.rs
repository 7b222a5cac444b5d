//! Zynq UIO backend: `/dev/uioN` found by name under `<sysfs>/class/uio/*/name`, map 0 mapped with
//! memmap2 (size from `maps/map0/size`), volatile 32-bit accesses, interrupt wait through the UIO
//! fd (write 1 to re-enable, poll with a timeout, read the 4-byte event count). The node is opened
//! non-blocking, so neither the open nor a read can outlast the caller's timeout.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::backend::{check_access, Backend, Event};
use crate::error::{Error, Result};
use crate::mmio::Mapping;

/// Where to find the UIO device.
#[derive(Debug, Clone)]
pub struct UioConfig {
    /// The UIO name (the device-tree node name for `generic-uio`), or a node like `uio0`.
    pub name: String,
    /// sysfs root, normally `/sys`.
    pub sysfs_root: PathBuf,
    /// device root, normally `/dev`.
    pub dev_root: PathBuf,
    /// Use the interrupt (needs an `interrupts` property on the UIO node).
    pub interrupt: bool,
}

impl UioConfig {
    /// A config with the standard roots and the interrupt on.
    pub fn named(name: impl Into<String>) -> UioConfig {
        UioConfig {
            name: name.into(),
            sysfs_root: PathBuf::from("/sys"),
            dev_root: PathBuf::from("/dev"),
            interrupt: true,
        }
    }
}

/// Finds the `uioN` whose `name` is `name` (or accepts `name` itself if it is a `uioN` entry).
pub fn find(sysfs_root: &Path, name: &str) -> Result<String> {
    let class = sysfs_root.join("class/uio");
    if name.starts_with("uio") && class.join(name).is_dir() {
        return Ok(name.to_string());
    }
    let entries = std::fs::read_dir(&class).map_err(|_| Error::DeviceAbsent {
        what: "UIO class directory (is the uio driver loaded?)".into(),
        path: class.clone(),
    })?;
    let mut seen = Vec::new();
    let mut found: Vec<String> = Vec::new();
    for entry in entries.flatten() {
        let dev = entry.file_name().to_string_lossy().into_owned();
        if let Ok(n) = std::fs::read_to_string(entry.path().join("name")) {
            if n.trim() == name {
                found.push(dev.clone());
            }
            seen.push(format!("{dev}={}", n.trim()));
        }
    }
    found.sort();
    match found.into_iter().next() {
        Some(d) => Ok(d),
        None => {
            seen.sort();
            Err(Error::DeviceAbsent {
                what: format!(
                    "UIO device named `{name}` (present: {})",
                    if seen.is_empty() {
                        "none".into()
                    } else {
                        seen.join(", ")
                    }
                ),
                path: class,
            })
        }
    }
}

/// Parses a sysfs number (`0x00010000` or decimal).
pub(crate) fn parse_sysfs_u64(path: &Path) -> Result<u64> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    let t = text.trim();
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse(),
    };
    v.map_err(|_| Error::Backend {
        backend: "sysfs".into(),
        detail: format!("{}: expected a number, found {t:?}", path.display()),
    })
}

/// An opened UIO device.
#[derive(Debug)]
pub struct UioBackend {
    file: File,
    map: Mapping,
    node: PathBuf,
    space: u64,
    interrupt: bool,
}

impl UioBackend {
    /// Finds and maps the device; `space` is the bundle's address space (4 * window_bytes), which
    /// map 0 must cover.
    pub fn open(cfg: &UioConfig, space: u64) -> Result<UioBackend> {
        let dev = find(&cfg.sysfs_root, &cfg.name)?;
        let size_path = cfg
            .sysfs_root
            .join("class/uio")
            .join(&dev)
            .join("maps/map0/size");
        if !size_path.exists() {
            return Err(Error::DeviceAbsent {
                what: format!("map 0 of {dev} (does the UIO node have a `reg`?)"),
                path: size_path,
            });
        }
        let map_size = parse_sysfs_u64(&size_path)?;
        let node = cfg.dev_root.join(&dev);
        if map_size < space {
            return Err(Error::MapTooSmall {
                path: node,
                size: map_size,
                needed: space,
            });
        }
        let file = open_device_node(&node, true).map_err(|e| Error::io("open", &node, e))?;
        // Map N of a UIO device is at file offset N * page size; map 0 at 0.
        let map = Mapping::new(&file, &node, 0, space)?;
        Ok(UioBackend {
            file,
            map,
            node,
            space,
            interrupt: cfg.interrupt,
        })
    }

    /// The device node.
    pub fn node(&self) -> &Path {
        &self.node
    }
}

impl Backend for UioBackend {
    fn describe(&self) -> String {
        format!("uio {}", self.node.display())
    }
    fn size(&self) -> u64 {
        self.space
    }
    fn read32(&mut self, offset: u64) -> Result<u32> {
        check_access(offset, 1, self.space)?;
        self.map.read32(offset)
    }
    fn write32(&mut self, offset: u64, value: u32) -> Result<()> {
        check_access(offset, 1, self.space)?;
        self.map.write32(offset, value)
    }
    fn has_interrupt(&self) -> bool {
        self.interrupt
    }
    fn wait_event(&mut self, timeout: Duration) -> Result<Event> {
        if !self.interrupt {
            return Ok(Event::Unsupported);
        }
        // Re-enable the line. A UIO node without an interrupt answers ENOSYS or EIO: fall back
        // to polling STATUS for the rest of this backend's life instead of failing every wait.
        if let Err(e) = self.file.write_all(&1u32.to_ne_bytes()) {
            if matches!(e.raw_os_error(), Some(code) if code == nix::libc::ENOSYS || code == nix::libc::EIO)
            {
                self.interrupt = false;
                return Ok(Event::Unsupported);
            }
            return Err(Error::io("re-enable the interrupt through", &self.node, e));
        }
        wait_fd(&mut self.file, &self.node, timeout)
    }
}

/// Opens a device node without blocking: `O_NONBLOCK`, so a node that would block the open (a
/// FIFO where a device should be, a driver waiting for something) returns at once instead of
/// hanging before any timeout applies. Reads of interrupt nodes only follow a `poll` that
/// reported them readable (see [`wait_fd`]).
pub(crate) fn open_device_node(path: &Path, write: bool) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
}

/// Polls `file` for input up to `timeout` and, if it became readable, reads the 4-byte event
/// count (UIO and XDMA events nodes both count interrupts this way). Never blocks longer than
/// `timeout`: a signal restarts the poll with the time left, and a read that would block (a
/// wake-up without an event) is [`Event::Quiet`].
pub(crate) fn wait_fd(file: &mut File, path: &Path, timeout: Duration) -> Result<Event> {
    let began = Instant::now();
    let revents = loop {
        let left = timeout.saturating_sub(began.elapsed());
        // Round up so a sub-millisecond remainder still waits instead of returning at once forever.
        let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
        match poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) => return Ok(Event::Quiet),
            Ok(_) => break fds[0].revents().unwrap_or(PollFlags::empty()),
            Err(Errno::EINTR) if began.elapsed() < timeout => continue,
            Err(Errno::EINTR) => return Ok(Event::Quiet),
            Err(e) => {
                return Err(Error::io(
                    "poll",
                    path,
                    std::io::Error::from_raw_os_error(e as i32),
                ))
            }
        }
    };
    if !revents.contains(PollFlags::POLLIN) {
        return Err(Error::Backend {
            backend: format!("interrupt node {}", path.display()),
            detail: format!("poll reported {revents:?} instead of an event"),
        });
    }
    let mut count = [0u8; 4];
    match file.read_exact(&mut count) {
        Ok(()) => Ok(Event::Fired),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(Event::Quiet),
        Err(e) => Err(Error::io("read the interrupt count from", path, e)),
    }
}
