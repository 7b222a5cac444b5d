//! `/dev/mem` backend: the accelerator's AXI GP window mapped at a physical base address (from
//! the user: the address the Vivado block design assigned), opened with `O_SYNC` so the mapping
//! is uncached. No interrupt: the driver polls STATUS with a deadline.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use crate::backend::{check_access, Backend};
use crate::error::{Error, Result};
use crate::mmio::Mapping;

/// Where the accelerator sits in physical memory.
#[derive(Debug, Clone)]
pub struct DevMemConfig {
    /// Normally `/dev/mem`.
    pub path: PathBuf,
    /// Physical base address of the accelerator's address space.
    pub base: u64,
    /// Size in bytes of the accelerator's range at `base` (the Vivado address editor's range),
    /// checked to cover the bundle's address space; `None` = exactly the address space. Only the
    /// bundle's address space is ever mapped, whatever this says.
    pub size: Option<u64>,
}

impl DevMemConfig {
    /// `/dev/mem` at `base`, with a range of exactly the bundle's address space.
    pub fn at(base: u64) -> DevMemConfig {
        DevMemConfig {
            path: PathBuf::from("/dev/mem"),
            base,
            size: None,
        }
    }
}

/// An opened `/dev/mem` window.
#[derive(Debug)]
pub struct DevMemBackend {
    map: Mapping,
    base: u64,
    space: u64,
}

impl DevMemBackend {
    /// Maps `space` bytes (the bundle's address space) at `base`, after checking that the
    /// configured range (`size`) covers them.
    pub fn open(cfg: &DevMemConfig, space: u64) -> Result<DevMemBackend> {
        let size = cfg.size.unwrap_or(space);
        if size < space {
            return Err(Error::MapTooSmall {
                path: cfg.path.clone(),
                size,
                needed: space,
            });
        }
        if cfg.base % 4 != 0 {
            return Err(Error::Unaligned { offset: cfg.base });
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            // O_NONBLOCK: a `--mem` path that is not a memory device must not hang the open.
            .custom_flags(nix::libc::O_SYNC | nix::libc::O_NONBLOCK)
            .open(&cfg.path)
            .map_err(|e| Error::io("open", &cfg.path, e))?;
        let map = Mapping::new(&file, &cfg.path, cfg.base, space)?;
        // The mapping outlives the file descriptor (mmap keeps its own reference).
        Ok(DevMemBackend {
            map,
            base: cfg.base,
            space,
        })
    }
}

impl Backend for DevMemBackend {
    fn describe(&self) -> String {
        format!("devmem {}@{:#x}", self.map.path().display(), self.base)
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
}
