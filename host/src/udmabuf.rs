//! The Zynq stream path: the AXI DMA's registers through a second UIO node (found by name like
//! the accelerator's) and its buffer from the `u-dma-buf` driver (`/dev/udmabufN`, physical
//! address and size from `/sys/class/u-dma-buf/udmabufN/{phys_addr,size}`), driven by the one
//! DMA driver ([`crate::dma::AxiDma`]).
//!
//! The buffer is read and written with `pread`/`pwrite` on the device node (no mapping, so no
//! `unsafe` here), and the CPU cache is handled as the u-dma-buf README documents for manual
//! synchronisation: write `sync_offset`, `sync_size` and `sync_direction` (1 to the device, 2
//! from the device), then 1 to `sync_for_device` before the DMA reads or writes, and 1 to
//! `sync_for_cpu` before the CPU reads what the DMA wrote. On a cache-coherent port (ACP, HPC
//! with `dma-coherent`) the driver makes these no-ops.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::backend::Event;
use crate::dma::{AxiDma, DmaBuffer, DmaConfig, DmaRegs};
use crate::error::{Error, Result};
use crate::mmio::Mapping;
use crate::uio::{find, open_device_node, parse_sysfs_u64, wait_fd};

/// Bytes of the AXI DMA's register space that are mapped (PG021: 64 KiB reserved, registers up
/// to 0x58; one page is enough).
pub const DMA_REGS_BYTES: u64 = 0x1000;

/// The AXI DMA's registers through a UIO node.
#[derive(Debug)]
pub struct UioDmaRegs {
    file: File,
    map: Mapping,
    node: PathBuf,
    interrupt: bool,
}

impl UioDmaRegs {
    /// Finds the UIO node named `name` under `sysfs_root` (or `uioN`), maps its map 0 from
    /// `dev_root`, and waits on its interrupt (the DMA's `s2mm_introut`) if `interrupt`.
    pub fn open(sysfs_root: &Path, dev_root: &Path, name: &str, interrupt: bool) -> Result<Self> {
        let dev = find(sysfs_root, name)?;
        let size_path = sysfs_root
            .join("class/uio")
            .join(&dev)
            .join("maps/map0/size");
        let size = parse_sysfs_u64(&size_path)?;
        let node = dev_root.join(&dev);
        if size < DMA_REGS_BYTES {
            return Err(Error::MapTooSmall {
                path: node,
                size,
                needed: DMA_REGS_BYTES,
            });
        }
        let file = open_device_node(&node, true).map_err(|e| Error::io("open", &node, e))?;
        let map = Mapping::new(&file, &node, 0, DMA_REGS_BYTES)?;
        Ok(UioDmaRegs {
            file,
            map,
            node,
            interrupt,
        })
    }
}

impl DmaRegs for UioDmaRegs {
    fn describe(&self) -> String {
        format!("uio {}", self.node.display())
    }
    fn read32(&mut self, offset: u32) -> Result<u32> {
        self.map.read32(offset as u64)
    }
    fn write32(&mut self, offset: u32, value: u32) -> Result<()> {
        self.map.write32(offset as u64, value)
    }
    fn wait_irq(&mut self, timeout: Duration) -> Result<Event> {
        if !self.interrupt {
            return Ok(Event::Unsupported);
        }
        use std::io::Write;
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

/// A u-dma-buf buffer.
#[derive(Debug)]
pub struct UdmaBuf {
    file: File,
    node: PathBuf,
    sysfs: PathBuf,
    phys: u64,
    size: u64,
}

impl UdmaBuf {
    /// Opens `/dev/<name>` (under `dev_root`) with its `phys_addr` and `size` from
    /// `<sysfs_root>/class/u-dma-buf/<name>/`.
    pub fn open(sysfs_root: &Path, dev_root: &Path, name: &str) -> Result<UdmaBuf> {
        let sysfs = sysfs_root.join("class/u-dma-buf").join(name);
        if !sysfs.is_dir() {
            return Err(Error::DeviceAbsent {
                what: format!(
                    "u-dma-buf device `{name}` (is the u-dma-buf module loaded and the \
                     device-tree node present? docs/deploy.md)"
                ),
                path: sysfs,
            });
        }
        let phys = parse_sysfs_u64(&sysfs.join("phys_addr"))?;
        let size = parse_sysfs_u64(&sysfs.join("size"))?;
        let node = dev_root.join(name);
        let file = open_device_node(&node, true).map_err(|e| Error::io("open", &node, e))?;
        Ok(UdmaBuf {
            file,
            node,
            sysfs,
            phys,
            size,
        })
    }

    fn sync(&mut self, what: &'static str, offset: u64, len: u64, direction: u32) -> Result<()> {
        for (attr, value) in [
            ("sync_offset", offset.to_string()),
            ("sync_size", len.to_string()),
            ("sync_direction", direction.to_string()),
            (what, "1".to_string()),
        ] {
            let p = self.sysfs.join(attr);
            std::fs::write(&p, value).map_err(|e| Error::io("write", &p, e))?;
        }
        Ok(())
    }

    fn check(&self, offset: u64, len: usize) -> Result<()> {
        crate::dma::range(offset, len, self.size as usize).map(|_| ())
    }
}

impl DmaBuffer for UdmaBuf {
    fn describe(&self) -> String {
        format!("u-dma-buf {}", self.node.display())
    }
    fn phys_addr(&self) -> u64 {
        self.phys
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        self.check(offset, data.len())?;
        self.file
            .write_all_at(data, offset)
            .map_err(|e| Error::io("write the DMA buffer", &self.node, e))
    }
    fn read(&mut self, offset: u64, out: &mut [u8]) -> Result<()> {
        self.check(offset, out.len())?;
        self.file
            .read_exact_at(out, offset)
            .map_err(|e| Error::io("read the DMA buffer", &self.node, e))
    }
    fn sync_for_device(&mut self, offset: u64, len: u64) -> Result<()> {
        self.sync("sync_for_device", offset, len, 1)
    }
    fn sync_for_cpu(&mut self, offset: u64, len: u64) -> Result<()> {
        self.sync("sync_for_cpu", offset, len, 2)
    }
}

/// The Zynq DMA driver: registers through a UIO node, buffer from u-dma-buf.
pub type ZynqDma = AxiDma<UioDmaRegs, UdmaBuf>;

/// Opens the AXI DMA named `dma_name` (UIO) with the u-dma-buf `udmabuf` as its buffer.
pub fn open_zynq_dma(
    sysfs_root: &Path,
    dev_root: &Path,
    dma_name: &str,
    udmabuf: &str,
    interrupt: bool,
) -> Result<ZynqDma> {
    let regs = UioDmaRegs::open(sysfs_root, dev_root, dma_name, interrupt)?;
    let buf = UdmaBuf::open(sysfs_root, dev_root, udmabuf)?;
    Ok(AxiDma::new(regs, buf, DmaConfig::default()))
}
