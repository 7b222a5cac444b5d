//! The Verilator backend (feature `sim`): the bundle's RTL plus hw/sim/bramble_harness.cpp built
//! into a shared library (cached by content hash, see [`build()`]), loaded with libloading, and
//! driven cycle by cycle over AXI4-Lite exactly as a bus master would.
//!
//! Memory images: the model reads them with $readmemh while it is created. [`SimBackend::new`]
//! passes the bundle's `rtl/` directory, made absolute, to the model as the plusarg
//! `+bramble_mem_dir=<dir>`, and the memory primitives read `<dir>/<image>` (see
//! hw/bramble_ram_sdp.v). The process working directory is never read or changed, so models can
//! be created from any thread and bundles given by relative paths work from anywhere.

pub mod build;

use std::path::Path;
use std::time::{Duration, Instant};

pub use build::{build, cache_dir, SimLibrary, SimOptions};

use crate::backend::{check_access, Backend, Event};
use crate::device::Device;
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
    harness: Harness,
    space: u64,
    top: String,
}

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
        Ok(SimBackend {
            harness,
            space: bundle.address_space(),
            top: bundle.manifest().top.clone(),
        })
    }

    /// Cycles simulated so far.
    pub fn cycles(&self) -> u64 {
        self.harness.cycles()
    }

    /// Advances the clock without bus activity.
    pub fn step(&mut self, n: u64) {
        self.harness.step(n);
    }

    fn fail(&self, what: String, access: Access) -> Error {
        Error::Backend {
            backend: self.describe(),
            detail: match access {
                Access::Stalled => format!(
                    "{what}: handshake not completed within {ACCESS_BUDGET_CYCLES} cycles (at cycle {})",
                    self.harness.cycles()
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
        format!("verilator {} ({})", self.top, self.harness.path().display())
    }
    fn size(&self) -> u64 {
        self.space
    }
    fn read32(&mut self, offset: u64) -> Result<u32> {
        check_access(offset, 1, self.space)?;
        match self.harness.read32(offset as u32, ACCESS_BUDGET_CYCLES) {
            (Access::Ok, v) => Ok(v),
            (a, _) => Err(self.fail(format!("AXI read at {offset:#x}"), a)),
        }
    }
    fn write32(&mut self, offset: u64, value: u32) -> Result<()> {
        check_access(offset, 1, self.space)?;
        match self
            .harness
            .write32(offset as u32, value, ACCESS_BUDGET_CYCLES)
        {
            Access::Ok => Ok(()),
            a => Err(self.fail(format!("AXI write of {value:#x} at {offset:#x}"), a)),
        }
    }
    fn has_interrupt(&self) -> bool {
        true
    }
    /// Simulates until irq_o, `timeout` of wall-clock time, or a cycle budget, whichever first.
    fn wait_event(&mut self, timeout: Duration) -> Result<Event> {
        if self.harness.finished() {
            return Err(Error::Backend {
                backend: self.describe(),
                detail: format!(
                    "the design executed $finish at cycle {}",
                    self.harness.cycles()
                ),
            });
        }
        let began = Instant::now();
        let mut stepped = 0;
        while stepped < EVENT_CYCLE_BUDGET {
            if self.harness.irq() {
                return Ok(Event::Fired);
            }
            stepped += self.harness.step_until_irq(STEP_CHUNK);
            if began.elapsed() >= timeout {
                break;
            }
        }
        Ok(if self.harness.irq() {
            Event::Fired
        } else {
            Event::Quiet
        })
    }
    fn sim_cycles(&self) -> Option<u64> {
        Some(self.harness.cycles())
    }
}

/// Builds (or reuses) the library for `bundle` and opens it as an identified [`Device`].
pub fn open(bundle: Bundle, opts: &SimOptions) -> Result<Device> {
    let lib = build(&bundle, opts)?;
    let backend = SimBackend::new(&lib, &bundle, opts.trace.as_deref())?;
    Device::open(bundle, Box::new(backend))
}
