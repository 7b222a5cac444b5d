//! PCIe XDMA backend (Xilinx's `xdma` driver): registers through the `xdma{N}_user` BAR mapping,
//! bulk input/output through the `xdma{N}_h2c_{C}` / `xdma{N}_c2h_{C}` DMA nodes (pwrite / pread
//! at the accelerator's AXI address), and the done interrupt through `xdma{N}_events_{K}`.
//!
//! In AXI4-Stream mode (`XdmaConfig::stream`, the XDMA core built with AXI4-Stream channels wired
//! to the accelerator's `s_axis`/`m_axis`), the windows go through the user BAR word by word and
//! batches stream through [`XdmaStream`]: the input written to `xdma{N}_h2c_{C}` by a thread while
//! `xdma{N}_c2h_{C}` is read, both bounded by the caller's timeout.
//!
//! Every node is opened non-blocking (a node that is not what it should be, say a FIFO, must not
//! hang the open); the driver's DMA reads and writes are synchronous with its own timeout
//! whatever the flag, and the events node is only read after `poll` reports it readable.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::backend::{check_access, Backend, Event};
use crate::error::{Error, Result};
use crate::mmio::Mapping;
use crate::uio::{open_device_node, wait_fd};

/// Where the accelerator is behind an XDMA core.
#[derive(Debug, Clone)]
pub struct XdmaConfig {
    /// Normally `/dev`.
    pub dev_root: PathBuf,
    /// N in `xdma{N}_*`.
    pub index: u32,
    /// DMA channel C in `h2c_{C}` / `c2h_{C}`.
    pub channel: u32,
    /// Byte offset of the accelerator in the user BAR (AXI-Lite master of the XDMA core).
    pub bar_offset: u64,
    /// AXI address of the accelerator as the DMA engines see it (AXI-MM master of the core).
    pub axi_base: u64,
    /// K in `events_{K}` (the `usr_irq_req` bit irq_o is wired to), or `None` to poll.
    pub event: Option<u32>,
    /// The core's channels are AXI4-Stream (to the accelerator's streams), not AXI-MM: window
    /// accesses use the user BAR, batches use [`XdmaStream`].
    pub stream: bool,
}

impl XdmaConfig {
    /// `xdma{index}` with the accelerator at offset 0 of the BAR and AXI address 0, polling.
    pub fn new(index: u32) -> XdmaConfig {
        XdmaConfig {
            dev_root: PathBuf::from("/dev"),
            index,
            channel: 0,
            bar_offset: 0,
            axi_base: 0,
            event: None,
            stream: false,
        }
    }
}

/// An opened XDMA device.
#[derive(Debug)]
pub struct XdmaBackend {
    user: Mapping,
    h2c: File,
    h2c_path: PathBuf,
    c2h: File,
    c2h_path: PathBuf,
    events: Option<(File, PathBuf)>,
    axi_base: u64,
    space: u64,
    stream: bool,
}

fn open_node(path: &Path, write: bool) -> Result<File> {
    open_device_node(path, write).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::DeviceAbsent {
            what: "XDMA device node (is the xdma driver loaded?)".into(),
            path: path.to_path_buf(),
        },
        _ => Error::io("open", path, e),
    })
}

/// File positions are a signed 64-bit `off_t`: the largest AXI address a DMA node can reach.
const MAX_DMA_ADDRESS: u64 = i64::MAX as u64;

/// The AXI address of byte `offset` of the accelerator, `axi_base + offset`, checked: a base
/// near the top of the address range must be an error naming both numbers, never wrap to a low
/// address and DMA into whatever lives there.
fn axi_address(axi_base: u64, offset: u64) -> Result<u64> {
    axi_base
        .checked_add(offset)
        .filter(|&a| a <= MAX_DMA_ADDRESS)
        .ok_or(Error::AddressOverflow {
            what: "XDMA AXI address (axi_base + offset)",
            base: axi_base,
            offset,
            limit: MAX_DMA_ADDRESS,
        })
}

impl XdmaBackend {
    /// Opens the nodes and maps the register window; `space` is the bundle's address space.
    pub fn open(cfg: &XdmaConfig, space: u64) -> Result<XdmaBackend> {
        let n = cfg.index;
        let c = cfg.channel;
        let user_path = cfg.dev_root.join(format!("xdma{n}_user"));
        let h2c_path = cfg.dev_root.join(format!("xdma{n}_h2c_{c}"));
        let c2h_path = cfg.dev_root.join(format!("xdma{n}_c2h_{c}"));
        // Every DMA transfer lies inside the address space: checking its last byte here means
        // no transfer can leave the AXI address range later.
        axi_address(cfg.axi_base, space.saturating_sub(1))?;
        let user_file = open_node(&user_path, true)?;
        if cfg.bar_offset % 4 != 0 {
            return Err(Error::Unaligned {
                offset: cfg.bar_offset,
            });
        }
        let user = Mapping::new(&user_file, &user_path, cfg.bar_offset, space)?;
        let h2c = open_node(&h2c_path, true)?;
        let c2h = open_node(&c2h_path, false)?;
        let events = match cfg.event {
            Some(k) => {
                let p = cfg.dev_root.join(format!("xdma{n}_events_{k}"));
                Some((open_node(&p, false)?, p))
            }
            None => None,
        };
        Ok(XdmaBackend {
            user,
            h2c,
            h2c_path,
            c2h,
            c2h_path,
            events,
            axi_base: cfg.axi_base,
            space,
            stream: cfg.stream,
        })
    }
}

fn words_to_bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

impl Backend for XdmaBackend {
    fn describe(&self) -> String {
        format!("xdma {}", self.user.path().display())
    }
    fn size(&self) -> u64 {
        self.space
    }
    fn read32(&mut self, offset: u64) -> Result<u32> {
        check_access(offset, 1, self.space)?;
        self.user.read32(offset)
    }
    fn write32(&mut self, offset: u64, value: u32) -> Result<()> {
        check_access(offset, 1, self.space)?;
        self.user.write32(offset, value)
    }

    /// One DMA read (card to host) of the whole block at the AXI address (stream mode: word by
    /// word through the BAR).
    fn read_words(&mut self, offset: u64, out: &mut [u32]) -> Result<()> {
        check_access(offset, out.len(), self.space)?;
        if self.stream {
            for (i, w) in out.iter_mut().enumerate() {
                *w = self.user.read32(offset + 4 * i as u64)?;
            }
            return Ok(());
        }
        let mut bytes = vec![0u8; out.len() * 4];
        let addr = axi_address(self.axi_base, offset)?;
        let n = self
            .c2h
            .read_at(&mut bytes, addr)
            .map_err(|e| Error::io("DMA-read (c2h) from", &self.c2h_path, e))?;
        if n != bytes.len() {
            return Err(Error::Backend {
                backend: self.describe(),
                detail: format!(
                    "short c2h transfer at AXI address {addr:#x}: {n} of {} bytes",
                    bytes.len()
                ),
            });
        }
        for (w, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        Ok(())
    }

    /// One DMA write (host to card) of the whole block at the AXI address (stream mode: word by
    /// word through the BAR).
    fn write_words(&mut self, offset: u64, data: &[u32]) -> Result<()> {
        check_access(offset, data.len(), self.space)?;
        if self.stream {
            for (i, w) in data.iter().enumerate() {
                self.user.write32(offset + 4 * i as u64, *w)?;
            }
            return Ok(());
        }
        let bytes = words_to_bytes(data);
        let addr = axi_address(self.axi_base, offset)?;
        let n = self
            .h2c
            .write_at(&bytes, addr)
            .map_err(|e| Error::io("DMA-write (h2c) to", &self.h2c_path, e))?;
        if n != bytes.len() {
            return Err(Error::Backend {
                backend: self.describe(),
                detail: format!(
                    "short h2c transfer at AXI address {addr:#x}: {n} of {} bytes",
                    bytes.len()
                ),
            });
        }
        Ok(())
    }

    fn has_interrupt(&self) -> bool {
        self.events.is_some()
    }

    fn wait_event(&mut self, timeout: Duration) -> Result<Event> {
        match &mut self.events {
            // The events node needs no re-arm write: a read consumes the pending events.
            Some((file, path)) => wait_fd(file, path, timeout),
            None => Ok(Event::Unsupported),
        }
    }
}

/// The largest batch transfer [`XdmaStream`] makes, each way (the driver splits nothing; this
/// keeps a host allocation sane and a transfer well inside any driver timeout).
pub const XDMA_STREAM_MAX_BYTES: usize = 64 << 20;

/// Batches through an XDMA core in AXI4-Stream mode: h2c written by a thread while c2h is read.
#[derive(Debug)]
pub struct XdmaStream {
    h2c: File,
    h2c_path: PathBuf,
    c2h: File,
    c2h_path: PathBuf,
}

impl XdmaStream {
    /// Opens `xdma{N}_h2c_{C}` and `xdma{N}_c2h_{C}` (non-blocking, like every node here).
    pub fn open(cfg: &XdmaConfig) -> Result<XdmaStream> {
        let (n, c) = (cfg.index, cfg.channel);
        let h2c_path = cfg.dev_root.join(format!("xdma{n}_h2c_{c}"));
        let c2h_path = cfg.dev_root.join(format!("xdma{n}_c2h_{c}"));
        let h2c = open_node(&h2c_path, true)?;
        let c2h = open_node(&c2h_path, false)?;
        Ok(XdmaStream {
            h2c,
            h2c_path,
            c2h,
            c2h_path,
        })
    }
}

/// Writes all of `data` to `file` before `deadline`, waiting out EAGAIN with short sleeps.
fn write_until(
    file: &File,
    path: &Path,
    data: &[u8],
    deadline: std::time::Instant,
) -> Result<usize> {
    use std::io::Write;
    let mut f = file;
    let mut sent = 0;
    while sent < data.len() {
        match f.write(&data[sent..]) {
            Ok(0) => break,
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if std::time::Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("stream-write (h2c) to", path, e)),
        }
    }
    Ok(sent)
}

impl crate::stream::Stream for XdmaStream {
    fn describe(&self) -> String {
        format!(
            "xdma streams {} / {}",
            self.h2c_path.display(),
            self.c2h_path.display()
        )
    }

    fn max_vectors(&self, in_bytes: usize, out_bytes: usize) -> usize {
        XDMA_STREAM_MAX_BYTES / in_bytes.max(out_bytes).max(1)
    }

    fn max_send_bytes(&self) -> usize {
        XDMA_STREAM_MAX_BYTES
    }

    /// One h2c write of `input` (non-blocking, bounded by `timeout`); nothing is read.
    fn send(
        &mut self,
        input: &[u8],
        timeout: Duration,
    ) -> std::result::Result<(), crate::stream::StreamFault> {
        let began = std::time::Instant::now();
        let sent = write_until(&self.h2c, &self.h2c_path, input, began + timeout)?;
        if sent == input.len() {
            return Ok(());
        }
        Err(crate::stream::StreamFault::Timeout {
            elapsed: began.elapsed(),
            sent: Some(sent as u64),
            received: None,
            detail: format!(
                "h2c took {sent} of {} bytes before the deadline",
                input.len()
            ),
        })
    }

    fn transfer(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        timeout: Duration,
    ) -> std::result::Result<usize, crate::stream::StreamFault> {
        use crate::stream::StreamFault;
        use std::io::Read;
        let began = std::time::Instant::now();
        let deadline = began + timeout;
        let h2c = self
            .h2c
            .try_clone()
            .map_err(|e| Error::io("duplicate", &self.h2c_path, e))?;
        let h2c_path = self.h2c_path.clone();
        let data = input.to_vec();
        let (tx, rx) = std::sync::mpsc::channel();
        // The writer thread ends by the deadline (non-blocking writes), so it is always joined.
        let writer = std::thread::spawn(move || {
            let _ = tx.send(write_until(&h2c, &h2c_path, &data, deadline));
        });
        let mut got = 0usize;
        let mut eof = false;
        let mut c2h = &self.c2h;
        let mut read_err = None;
        while got < output.len() {
            let now = std::time::Instant::now();
            if now >= deadline {
                break;
            }
            match c2h.read(&mut output[got..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let mut f = &self.c2h;
                    let _ =
                        wait_fd_readable(&mut f, (deadline - now).min(Duration::from_millis(5)));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    read_err = Some(Error::io("stream-read (c2h) from", &self.c2h_path, e));
                    break;
                }
            }
        }
        let sent = rx
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .ok();
        let _ = writer.join();
        if let Some(e) = read_err {
            return Err(StreamFault::Failed(e));
        }
        let sent = match sent {
            Some(Ok(n)) => Some(n as u64),
            Some(Err(e)) => return Err(StreamFault::Failed(e)),
            None => None,
        };
        if got == output.len() || eof {
            if sent != Some(input.len() as u64) {
                return Err(StreamFault::Failed(Error::Stream {
                    backend: self.describe(),
                    detail: format!(
                        "short h2c write: {} of {} bytes",
                        sent.unwrap_or(0),
                        input.len()
                    ),
                }));
            }
            return Ok(got);
        }
        Err(StreamFault::Timeout {
            elapsed: began.elapsed(),
            sent,
            received: Some(got as u64),
            detail: format!(
                "c2h received {got} of {} bytes before the deadline",
                output.len()
            ),
        })
    }
}

/// Polls `file` for input up to `timeout` (a wake-up, not an event: the caller reads).
fn wait_fd_readable(file: &mut &File, timeout: Duration) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)), Ok(n) if n > 0)
}
