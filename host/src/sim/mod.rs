//! The Verilator backend (feature `sim`): the bundle's RTL plus hw/sim/bramble_harness.cpp built
//! into a shared library (cached by content hash, see [`build()`]), loaded with libloading, and
//! driven cycle by cycle over AXI4-Lite exactly as a bus master would.
//!
//! Memory images: the model reads them with $readmemh while it is created. [`SimBackend::new`]
//! passes the bundle's `rtl/` directory, made absolute, to the model as the plusarg
//! `+bramble_mem_dir=<dir>`, and the memory primitives read `<dir>/<image>` (see
//! hw/bramble_ram_sdp.v). The process working directory is never read or changed, so models can
//! be created from any thread and bundles given by relative paths work from anywhere.
//!
//! Streams: the harness models a Xilinx AXI DMA (PG021, simple mode) on the top level's stream
//! ports, with a host-memory buffer at a made-up bus address. [`SimBackend::dma`] returns the
//! crate's one DMA driver ([`crate::dma::AxiDma`]) over [`SimDmaRegs`] and [`SimDmaBuffer`], the
//! same code that drives the DMA of a Zynq board; [`open`] attaches it to the device.

pub mod build;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use build::{build, cache_dir, SimLibrary, SimOptions};

use crate::backend::{check_access, Backend, Event};
use crate::device::Device;
use crate::dma::{AxiDma, DmaBuffer, DmaConfig, DmaRegs};
use crate::error::{Error, Result};
use crate::manifest::Bundle;
use crate::mmio::harness::{Access, Harness};
use bramble_abi::verilog::MAX_MEM_DIR_BYTES;

/// Cycles a single AXI access may take before it is reported as stalled.
pub const ACCESS_BUDGET_CYCLES: u64 = 10_000;
/// Cycles simulated per harness call while waiting for the interrupt (then the clock is checked).
const STEP_CHUNK: u64 = 4096;
/// At most this many cycles per `wait_event`, so STATUS is also polled (a design without irq_o).
const EVENT_CYCLE_BUDGET: u64 = 1 << 16;
/// Reset length after construction.
const RESET_CYCLES: u32 = 10;

/// A simulated accelerator.
pub struct SimBackend {
    /// Shared with the DMA driver's register and buffer sides ([`SimBackend::dma`]): one model,
    /// one clock; the lock is never contended (the device and its stream run on one thread).
    harness: Arc<Mutex<Harness>>,
    /// The design has the stream ports (register map v3).
    streams: bool,
    path: std::path::PathBuf,
    space: u64,
    top: String,
}

fn lock(h: &Mutex<Harness>) -> MutexGuard<'_, Harness> {
    // A panic while holding the lock leaves a model that is still a valid model.
    h.lock().unwrap_or_else(|e| e.into_inner())
}

/// How the harness's DMA model is set up ([`SimBackend::dma`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimStreamConfig {
    /// Bus address of the DMA buffer (nonzero; above 4 GiB needs `dma.addr_bits > 32`).
    pub buffer_base: u64,
    /// Bytes of the DMA buffer: a batch that does not fit is split into several transfers.
    pub buffer_size: u64,
    /// Percent of clocks MM2S presents a beat (100: no gaps).
    pub valid_pct: u32,
    /// Percent of clocks S2MM is ready (100: never stalls; 50: a consumer stalling half the
    /// time; 0: a consumer that never takes anything).
    pub ready_pct: u32,
    /// Seed of the gap and stall choices.
    pub seed: u64,
    /// The DMA core's configuration as the driver sees it.
    pub dma: DmaConfig,
}

impl Default for SimStreamConfig {
    fn default() -> Self {
        SimStreamConfig {
            buffer_base: 0x1F00_0000,
            buffer_size: 1 << 20,
            valid_pct: 100,
            ready_pct: 100,
            seed: 1,
            dma: DmaConfig::default(),
        }
    }
}

/// Cycles simulated per harness call while waiting for the DMA interrupt.
const DMA_STEP_CHUNK: u64 = 4096;

/// The register side of the harness's AXI DMA model.
pub struct SimDmaRegs {
    harness: Arc<Mutex<Harness>>,
    /// Interrupt lines (bit 0 MM2S, bit 1 S2MM) high at the last `wait_irq`: a line already
    /// reported is not an interrupt again until the driver has cleared it.
    reported: u32,
}

impl DmaRegs for SimDmaRegs {
    fn describe(&self) -> String {
        "simulated DMA".into()
    }
    fn read32(&mut self, offset: u32) -> Result<u32> {
        Ok(lock(&self.harness).dma_read32(offset))
    }
    fn write32(&mut self, offset: u32, value: u32) -> Result<()> {
        lock(&self.harness).dma_write32(offset, value);
        Ok(())
    }
    /// Simulates until an interrupt line rises that was not high at the last call (as a board's
    /// interrupt fires once per event), stepping until S2MM's line or an error interrupt, at
    /// most `timeout` of wall-clock time or a cycle budget. Reporting a line that merely stays
    /// high (MM2S's, once the whole batch is sent) would send the driver into its sleeping poll
    /// while the simulation only advanced by its register reads.
    fn wait_irq(&mut self, timeout: Duration) -> Result<Event> {
        let mut h = lock(&self.harness);
        if h.finished() {
            return Err(Error::Stream {
                backend: "simulated DMA".into(),
                detail: format!("the design executed $finish at cycle {}", h.cycles()),
            });
        }
        let fresh = |level: u32, reported: &mut u32| {
            let new = level & !*reported;
            *reported = level;
            new != 0
        };
        if fresh(h.dma_irq(), &mut self.reported) {
            return Ok(Event::Fired);
        }
        let began = Instant::now();
        let mut stepped = 0;
        while stepped < EVENT_CYCLE_BUDGET {
            let n = h.step_until_dma_irq(2, DMA_STEP_CHUNK);
            stepped += n;
            if fresh(h.dma_irq(), &mut self.reported) {
                return Ok(Event::Fired);
            }
            // n == 0: S2MM's line (or an error) is high already and was reported; stepping
            // cannot bring a new one, the driver reads the status registers.
            if n == 0 || began.elapsed() >= timeout {
                break;
            }
        }
        Ok(Event::Quiet)
    }
    fn sim_cycles(&self) -> Option<u64> {
        Some(lock(&self.harness).cycles())
    }
    fn bytes_moved(&self) -> Option<(u64, u64)> {
        let h = lock(&self.harness);
        Some((h.dma_moved(false), h.dma_moved(true)))
    }
}

/// The harness-owned host-memory buffer the DMA model reads and writes.
pub struct SimDmaBuffer {
    harness: Arc<Mutex<Harness>>,
    base: u64,
    size: u64,
}

impl SimDmaBuffer {
    fn check(&self, ok: bool, offset: u64, len: usize) -> Result<()> {
        if ok {
            Ok(())
        } else {
            Err(Error::OutOfRange {
                offset,
                words: len.div_ceil(4),
                limit: self.size,
            })
        }
    }
}

impl DmaBuffer for SimDmaBuffer {
    fn describe(&self) -> String {
        format!(
            "simulated buffer of {} bytes at {:#x}",
            self.size, self.base
        )
    }
    fn phys_addr(&self) -> u64 {
        self.base
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        let ok = lock(&self.harness).dma_buf_write(offset, data);
        self.check(ok, offset, data.len())
    }
    fn read(&mut self, offset: u64, out: &mut [u8]) -> Result<()> {
        let ok = lock(&self.harness).dma_buf_read(offset, out);
        self.check(ok, offset, out.len())
    }
    // The model reads and writes the buffer directly: nothing to flush or invalidate.
    fn sync_for_device(&mut self, _offset: u64, _len: u64) -> Result<()> {
        Ok(())
    }
    fn sync_for_cpu(&mut self, _offset: u64, _len: u64) -> Result<()> {
        Ok(())
    }
}

/// The DMA driver over the harness's model.
pub type SimDma = AxiDma<SimDmaRegs, SimDmaBuffer>;

impl SimBackend {
    /// Creates a model from `lib` for `bundle` (trace to `trace` if given), and resets it.
    pub fn new(lib: &SimLibrary, bundle: &Bundle, trace: Option<&Path>) -> Result<SimBackend> {
        if bundle.manifest().addr_bits() > 32 {
            return Err(Error::SimLoad {
                path: lib.path.clone(),
                detail: format!(
                    "addr_bits {} > 32 is not supported by the harness",
                    bundle.manifest().addr_bits()
                ),
            });
        }
        let rtl = bundle.rtl_dir();
        let mem_dir = std::fs::canonicalize(&rtl)
            .map_err(|e| Error::io("resolve the memory image directory", &rtl, e))?;
        let len = mem_dir.as_os_str().len();
        if len > MAX_MEM_DIR_BYTES {
            return Err(Error::SimLoad {
                path: lib.path.clone(),
                detail: format!(
                    "the bundle's rtl/ directory {} is {len} bytes long; the simulation reads \
                     memory images from a path of at most {MAX_MEM_DIR_BYTES} bytes (move the \
                     bundle to a shorter path)",
                    mem_dir.display()
                ),
            });
        }
        let mut harness = Harness::load(&lib.path, &mem_dir, trace)?;
        if harness.finished() {
            return Err(Error::SimLoad {
                path: lib.path.clone(),
                detail: "the design executed $finish while initialising (a failed parameter \
                         check? its $display output is above)"
                    .into(),
            });
        }
        harness.reset(RESET_CYCLES);
        let tdata = bundle.manifest().tdata_bits;
        let streams = harness.beat_bytes() != 0;
        if streams && harness.beat_bytes() * 8 != tdata {
            return Err(Error::SimLoad {
                path: lib.path.clone(),
                detail: format!(
                    "the design's s_axis_tdata_i is {} bits, the manifest says tdata_bits {tdata}",
                    harness.beat_bytes() * 8
                ),
            });
        }
        Ok(SimBackend {
            harness: Arc::new(Mutex::new(harness)),
            streams,
            path: lib.path.clone(),
            space: bundle.address_space(),
            top: bundle.manifest().top.clone(),
        })
    }

    /// Cycles simulated so far.
    pub fn cycles(&self) -> u64 {
        lock(&self.harness).cycles()
    }

    /// Advances the clock without bus activity.
    pub fn step(&mut self, n: u64) {
        lock(&self.harness).step(n);
    }

    /// True when the design has the AXI4-Stream ports (the harness found `s_axis_tdata_i` in the
    /// Verilated model), so [`SimBackend::dma`] can stream.
    pub fn has_streams(&self) -> bool {
        self.streams
    }

    /// Sets up the harness's DMA model as `cfg` says (resetting it) and returns the DMA driver
    /// over it, sharing this model's clock. An error for a design without stream ports.
    pub fn dma(&self, cfg: &SimStreamConfig) -> Result<SimDma> {
        let mut h = lock(&self.harness);
        if !self.streams {
            return Err(Error::Stream {
                backend: self.describe_locked(&h),
                detail: "the design has no AXI4-Stream ports (s_axis_*/m_axis_*): nothing to \
                         stream through"
                    .into(),
            });
        }
        if !h.dma_config(
            cfg.buffer_base,
            cfg.buffer_size,
            cfg.valid_pct,
            cfg.ready_pct,
            cfg.seed,
        ) {
            return Err(Error::Stream {
                backend: self.describe_locked(&h),
                detail: format!(
                    "the DMA model refused a buffer of {} bytes at {:#x}",
                    cfg.buffer_size, cfg.buffer_base
                ),
            });
        }
        let (size, base) = h.dma_buffer();
        drop(h);
        Ok(AxiDma::new(
            SimDmaRegs {
                harness: self.harness.clone(),
                reported: 0,
            },
            SimDmaBuffer {
                harness: self.harness.clone(),
                base,
                size,
            },
            cfg.dma,
        ))
    }

    /// Bytes the DMA model's MM2S and S2MM channels moved since it was set up.
    pub fn dma_moved(&self) -> (u64, u64) {
        let h = lock(&self.harness);
        (h.dma_moved(false), h.dma_moved(true))
    }

    fn describe_locked(&self, _h: &Harness) -> String {
        format!("verilator {} ({})", self.top, self.path.display())
    }

    fn fail(&self, what: String, access: Access) -> Error {
        Error::Backend {
            backend: self.describe(),
            detail: match access {
                Access::Stalled => format!(
                    "{what}: handshake not completed within {ACCESS_BUDGET_CYCLES} cycles (at cycle {})",
                    self.cycles()
                ),
                Access::ErrorResponse(r) => format!(
                    "{what}: AXI error response {r:#04b} ({})",
                    if r == 2 { "SLVERR" } else { "DECERR" }
                ),
                Access::Ok => what,
            },
        }
    }
}

impl Backend for SimBackend {
    fn describe(&self) -> String {
        format!("verilator {} ({})", self.top, self.path.display())
    }
    fn size(&self) -> u64 {
        self.space
    }
    fn read32(&mut self, offset: u64) -> Result<u32> {
        check_access(offset, 1, self.space)?;
        let r = lock(&self.harness).read32(offset as u32, ACCESS_BUDGET_CYCLES);
        match r {
            (Access::Ok, v) => Ok(v),
            (a, _) => Err(self.fail(format!("AXI read at {offset:#x}"), a)),
        }
    }
    fn write32(&mut self, offset: u64, value: u32) -> Result<()> {
        check_access(offset, 1, self.space)?;
        let r = lock(&self.harness).write32(offset as u32, value, ACCESS_BUDGET_CYCLES);
        match r {
            Access::Ok => Ok(()),
            a => Err(self.fail(format!("AXI write of {value:#x} at {offset:#x}"), a)),
        }
    }
    fn has_interrupt(&self) -> bool {
        true
    }
    /// Simulates until irq_o, `timeout` of wall-clock time, or a cycle budget, whichever first.
    fn wait_event(&mut self, timeout: Duration) -> Result<Event> {
        let describe = self.describe();
        let mut h = lock(&self.harness);
        if h.finished() {
            return Err(Error::Backend {
                backend: describe,
                detail: format!("the design executed $finish at cycle {}", h.cycles()),
            });
        }
        let began = Instant::now();
        let mut stepped = 0;
        while stepped < EVENT_CYCLE_BUDGET {
            if h.irq() {
                return Ok(Event::Fired);
            }
            stepped += h.step_until_irq(STEP_CHUNK);
            if began.elapsed() >= timeout {
                break;
            }
        }
        Ok(if h.irq() { Event::Fired } else { Event::Quiet })
    }
    fn sim_cycles(&self) -> Option<u64> {
        Some(self.cycles())
    }
}

/// Builds (or reuses) the library for `bundle` and opens it as an identified [`Device`] that
/// streams batches through the harness's DMA model (default [`SimStreamConfig`]); a design
/// without stream ports runs batches through the register windows.
pub fn open(bundle: Bundle, opts: &SimOptions) -> Result<Device> {
    open_with_stream(bundle, opts, &SimStreamConfig::default())
}

/// [`open`] with the DMA model set up as `stream` says.
pub fn open_with_stream(
    bundle: Bundle,
    opts: &SimOptions,
    stream: &SimStreamConfig,
) -> Result<Device> {
    let lib = build(&bundle, opts)?;
    let backend = SimBackend::new(&lib, &bundle, opts.trace.as_deref())?;
    let dma = match backend.has_streams() {
        true => Some(backend.dma(stream)?),
        false => None,
    };
    let mut dev = Device::open(bundle, Box::new(backend))?;
    if let Some(dma) = dma {
        dev.attach_stream(Box::new(dma))?;
    }
    Ok(dev)
}
