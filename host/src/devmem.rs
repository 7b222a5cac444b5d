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
    /// Bytes to map; `None` = the bundle's address space.
    pub size: Option<u64>,
}

impl DevMemConfig {
    /// `/dev/mem` at `base`, mapping exactly the bundle's address space.
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
    /// Maps the window; `space` is the bundle's address space, which the window must cover.
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
            .custom_flags(nix::libc::O_SYNC)
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
