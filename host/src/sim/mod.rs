//! The Verilator backend (feature `sim`): the bundle's RTL plus hw/sim/bramble_harness.cpp built
//! into a shared library (cached by content hash, see [`build()`]), loaded with libloading, and
//! driven cycle by cycle over AXI4-Lite exactly as a bus master would.
//!
//! Working directory: $readmemh resolves relative paths against the process working directory at
//! the model's first evaluation, which happens while the model is created. [`SimBackend::new`]
//! therefore changes the process working directory to the bundle's `rtl/` for that call only,
//! under a process-wide lock, and restores it. Do not rely on the working directory in other
//! threads while a simulator is being created.

pub mod build;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use build::{build, cache_dir, SimLibrary, SimOptions};

use crate::backend::{check_access, Backend, Event};
use crate::device::Device;
use crate::error::{Error, Result};
use crate::manifest::Bundle;
use crate::mmio::harness::{Access, Harness};

/// Cycles a single AXI access may take before it is reported as stalled.
pub const ACCESS_BUDGET_CYCLES: u64 = 10_000;
/// Cycles simulated per harness call while waiting for the interrupt (then the clock is checked).
const STEP_CHUNK: u64 = 4096;
/// At most this many cycles per `wait_event`, so STATUS is also polled (a design without irq_o).
const EVENT_CYCLE_BUDGET: u64 = 1 << 16;
/// Reset length after construction.
const RESET_CYCLES: u32 = 10;

static CWD_LOCK: Mutex<()> = Mutex::new(());

/// A simulated accelerator.
pub struct SimBackend {
    harness: Harness,
    space: u64,
    top: String,
}

impl SimBackend {
    /// Creates a model from `lib` for `bundle` (trace to `trace` if given), and resets it.
    pub fn new(lib: &SimLibrary, bundle: &Bundle, trace: Option<&Path>) -> Result<SimBackend> {
        if bundle.manifest().addr_bits > 32 {
            return Err(Error::SimLoad {
                path: lib.path.clone(),
                detail: format!(
                    "addr_bits {} > 32 is not supported by the harness",
                    bundle.manifest().addr_bits
                ),
            });
        }
        // Absolute before the directory changes.
        let trace_abs = match trace {
            Some(t) if t.is_relative() => Some(
                std::env::current_dir()
                    .map_err(|e| Error::io("read the working directory", ".", e))?
                    .join(t),
            ),
            Some(t) => Some(t.to_path_buf()),
            None => None,
        };
        let rtl = bundle.rtl_dir();
        let mut harness = {
            let _guard = CWD_LOCK.lock().unwrap_or_else(|p| p.into_inner());
            let old = std::env::current_dir()
                .map_err(|e| Error::io("read the working directory", ".", e))?;
            std::env::set_current_dir(&rtl)
                .map_err(|e| Error::io("change directory to", &rtl, e))?;
            let h = Harness::load(&lib.path, trace_abs.as_deref());
            let back = std::env::set_current_dir(&old);
            let h = h?;
            back.map_err(|e| Error::io("change directory back to", &old, e))?;
            h
        };
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
